#include "job-schema.h"

#include <stdio.h>
#include <string.h>

#include "pattern.h"

static int check_name(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		      const char *path)
{
	const char *s = json_string_value(value);

	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s) || s[0] == '-') {
		vctx_error(ctx, parent, key, 0, path, "must match [a-z0-9-]+");
		return -1;
	}
	return 0;
}

static int check_pattern(struct vctx *ctx, const json_t *parent, const char *key,
			 const json_t *value, const char *path)
{
	struct pattern *p;
	size_t off = 0;
	char msg[256];

	if (pattern_compile(&p, json_string_value(value), &off, msg, sizeof(msg)) < 0) {
		vctx_error(ctx, parent, key, 0, path,
			   "not a valid pattern (PCRE2): %s at offset %zu", msg, off);
		return -1;
	}
	pattern_free(p);
	return 0;
}

static int check_arch(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		      const char *path)
{
	if (json_is_string(value) || json_is_array(value)) {
		size_t i;
		json_t *v;

		json_array_foreach (value, i, v)
			if (!json_is_string(v)) {
				vctx_error(ctx, value, NULL, i, path, "must be a string");
				return -1;
			}
		return 0;
	}
	vctx_error(ctx, parent, key, 0, path, "must be an arch or a list of arches");
	return -1;
}

static const char *const on_timeout_choices[] = {"timeout", "infra", "fail", NULL};
static const char *const testcase_formats[] = {"tap", "lava", NULL};

static const struct vfield requires_fields[] = {
    {.name = "arch", .type = V_ANY, .check = check_arch, .help = "board arches"},
    {.name = "tags", .type = V_ARRAY, .items = V_STRING, .help = "tags the board has"},
    {.name = "class", .type = V_STRING, .min = 1, .max = 64, .help = "one board class"},
    {.name = "board", .type = V_STRING, .min = 1, .max = 64, .help = "one board"},
    {.name = NULL},
};

static const struct vfield boot_arch_fields[] = {
    {.name = "xen_args", .type = V_STRING, .max = 4096},
    {.name = "dom0_args", .type = V_STRING, .max = 4096},
    {.name = NULL},
};

static const struct vfield boot_fields[] = {
    {.name = "xen_args", .type = V_STRING, .max = 4096},
    {.name = "dom0_args", .type = V_STRING, .max = 4096},
    {.name = "arch", .type = V_OBJECT, .help = "per-arch additions"},
    {.name = NULL},
};

static const struct vfield stage_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "pattern",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 1024,
     .check = check_pattern},
    {.name = "timeout", .type = V_INT, .flags = V_REQUIRED, .min = 1, .max = 86400},
    {.name = "on_timeout", .type = V_STRING, .choices = on_timeout_choices},
    {.name = NULL},
};

static const struct vfield pattern_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "pattern",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 1024,
     .check = check_pattern},
    {.name = NULL},
};

const struct vfield job_fields[] = {
    {.name = "name",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 64,
     .check = check_name,
     .help = "the job's name"},
    {.name = "description", .type = V_STRING, .max = 1024},
    {.name = "requires", .type = V_OBJECT, .flags = V_REQUIRED, .fields = requires_fields},
    {.name = "timeout", .type = V_INT, .min = 1, .max = 86400},
    {.name = "artifacts", .type = V_ARRAY, .items = V_STRING, .max = 32},
    {.name = "boot", .type = V_OBJECT, .fields = boot_fields},
    {.name = "stages", .type = V_ARRAY, .items = V_OBJECT, .fields = stage_fields, .max = 64},
    {.name = "failures", .type = V_ARRAY, .items = V_OBJECT, .fields = pattern_fields, .max = 256},
    {.name = "infra", .type = V_ARRAY, .items = V_OBJECT, .fields = pattern_fields, .max = 256},
    {.name = "testcases", .type = V_ARRAY, .items = V_STRING, .choices = testcase_formats},
    {.name = "expected",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = 1000,
     .help = "test case names that must be reported (LAVA's expected)"},
    {.name = NULL},
};

int job_validate(struct vctx *ctx, const json_t *job)
{
	const json_t *arches = json_object_get(json_object_get(job, "boot"), "arch");
	const char *k;
	json_t *v;
	char path[128];
	int rc = validate_root(ctx, job_fields, job);

	json_object_foreach ((json_t *)arches, k, v) {
		snprintf(path, sizeof(path), "boot.arch.%s", k);
		if (!json_is_object(v)) {
			vctx_error(ctx, arches, k, 0, path, "must be a mapping");
			rc = -1;
		} else if (validate_object(ctx, boot_arch_fields, arches, k, 0, v, path) < 0) {
			rc = -1;
		}
	}
	return rc;
}
