#include "job-schema.h"

#include <stdio.h>
#include <stdlib.h>
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

int job_check_pattern(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		      const char *path)
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

int job_property_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n &&
	       s[0] != '_';
}

int job_property_value_ok(const json_t *v)
{
	return json_is_boolean(v) || json_is_number(v) ||
	       (json_is_string(v) && strlen(json_string_value(v)) <= 256);
}

/* A property's name (a fact of the examine job, a key of requires): it is a
 * JSON key on the page and in requires, so words only. */
static int check_property(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	if (!job_property_name_ok(json_string_value(value))) {
		vctx_error(ctx, parent, key, 0, path, "must match [a-z0-9][a-z0-9_]*");
		return -1;
	}
	return 0;
}

static int check_scalar(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path)
{
	if (!job_property_value_ok(value)) {
		vctx_error(ctx, parent, key, 0, path,
			   "must be a boolean, a number or a string (at most 256 bytes)");
		return -1;
	}
	return 0;
}

/* requires: the members the table names, and any other is a board property
 * the board's examine found (requires: {iommu: true}). */
static int check_requires(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	static const char *const known[] = {"arch", "tags", "class", "board", NULL};
	const char *k;
	json_t *v;
	char p[160];
	int rc = 0;

	(void)parent;
	(void)key;
	json_object_foreach ((json_t *)value, k, v) {
		size_t i;
		int named = 0;

		for (i = 0; known[i]; i++)
			named |= !strcmp(k, known[i]);
		if (named)
			continue;
		snprintf(p, sizeof(p), "%s.%s", path, k);
		if (!job_property_name_ok(k)) {
			vctx_error(ctx, value, k, 0, p,
				   "unknown requirement: a board property must match "
				   "[a-z0-9][a-z0-9_]* (docs/jobs.md)");
			rc = -1;
		} else if (check_scalar(ctx, value, k, v, p) < 0) {
			rc = -1;
		}
	}
	return rc;
}

static const char *const on_timeout_choices[] = {"timeout", "infra", "fail", NULL};
static const char *const testcase_formats[] = {"tap", "lava", NULL};
/* What a build can make (lab-agent/builder.c, hypervisor/README.md): tools and
 * dom0-rootfs only when a job of the flight asks for them. */
static const char *const artifact_choices[] = {"xen",	      "dom0-kernel", "dom0-initrd", "tools",
					       "dom0-rootfs", "domu-initrd", NULL};
/* The artifacts that can be dom0's initramfs. */
static const char *const initrd_choices[] = {"dom0-initrd", "dom0-rootfs", NULL};

static const struct vfield requires_fields[] = {
    /* V_OPEN: requires also takes board properties, checked by check_requires */
    {.name = "arch", .type = V_ANY, .flags = V_OPEN, .check = check_arch, .help = "board arches"},
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

/* Dom0less domUs in the device tree (arm64, U-Boot): Xen starts them at boot. */
static const struct vfield dom0less_fields[] = {
    {.name = "domus",
     .type = V_INT,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 4,
     .help = "how many domUs (/chosen/domU1..N)"},
    {.name = "memory_mb", .type = V_INT, .min = 32, .max = 4096, .help = "each, default 256"},
    {.name = "cpus", .type = V_INT, .min = 1, .max = 8, .help = "vCPUs each, default 1"},
    {.name = "dom0", .type = V_BOOL, .help = "boot dom0 too (default true)"},
    {.name = NULL},
};

static const struct vfield boot_fields[] = {
    {.name = "xen_args", .type = V_STRING, .max = 4096},
    {.name = "dom0_args", .type = V_STRING, .max = 4096},
    {.name = "arch", .type = V_OBJECT, .help = "per-arch additions"},
    {.name = "dom0less",
     .type = V_OBJECT,
     .fields = dom0less_fields,
     .help = "dom0less domUs started by Xen (U-Boot boards)"},
    {.name = "initrd",
     .type = V_STRING,
     .choices = initrd_choices,
     .help = "the artifact booted as dom0's initramfs (default dom0-initrd)"},
    {.name = NULL},
};

static const struct vfield stage_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "pattern",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 1024,
     .check = job_check_pattern},
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
     .check = job_check_pattern},
    {.name = NULL},
};

/* A fact of a commissioning job: what the board's console says about it. */
static const struct vfield fact_fields[] = {
    {.name = "name",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 64,
     .check = check_property},
    {.name = "pattern",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 1024,
     .check = job_check_pattern,
     .help = "its first group is the value (a number when it is digits)"},
    {.name = "value", .type = V_ANY, .check = check_scalar, .help = "the value when it matches"},
    {.name = "default",
     .type = V_ANY,
     .check = check_scalar,
     .help = "the value when nothing matched (else the examine fails)"},
    {.name = NULL},
};

/* A variant: the same job with more Xen and dom0 arguments (xen-sched/rtds), and
 * its own dom0less domUs, stages and expected test cases where it needs them
 * (xen-dom0less/nodom0). */
static const struct vfield variant_fields[] = {
    {.name = "name",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 32,
     .check = check_name,
     .help = "the variant's name: results are named JOB/NAME"},
    {.name = "description", .type = V_STRING, .max = 1024},
    {.name = "requires",
     .type = V_OBJECT,
     .fields = requires_fields,
     .check = check_requires,
     .help = "added to the job's requires (a key named replaces the job's)"},
    {.name = "xen_args", .type = V_STRING, .max = 4096, .help = "appended to boot.xen_args"},
    {.name = "dom0_args", .type = V_STRING, .max = 4096, .help = "appended to boot.dom0_args"},
    {.name = "initrd", .type = V_STRING, .choices = initrd_choices, .help = "replaces boot.initrd"},
    {.name = "dom0less",
     .type = V_OBJECT,
     .fields = dom0less_fields,
     .help = "replaces boot.dom0less"},
    {.name = "stages",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = stage_fields,
     .max = 64,
     .help = "replaces the job's stages"},
    {.name = "expected",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = 1000,
     .help = "replaces the job's expected"},
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
    {.name = "requires",
     .type = V_OBJECT,
     .flags = V_REQUIRED,
     .fields = requires_fields,
     .check = check_requires},
    {.name = "timeout", .type = V_INT, .min = 1, .max = 86400},
    {.name = "artifacts",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = 32,
     .choices = artifact_choices},
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
    {.name = "variants",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = variant_fields,
     .max = 32,
     .help = "the job once per variant, named JOB/VARIANT"},
    {.name = "facts",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = fact_fields,
     .max = 64,
     .help = "a commissioning job: what it finds becomes the board's properties"},
    {.name = NULL},
};

/* Two variants of one name would make two jobs of one name. */
static int variants_unique(struct vctx *ctx, const json_t *vs)
{
	const json_t *v, *name;
	size_t i, k;
	int rc = 0;

	json_array_foreach (vs, i, v) {
		name = json_object_get(v, "name");
		for (k = 0; k < i && json_is_string(name); k++)
			if (json_equal(name, json_object_get(json_array_get(vs, k), "name"))) {
				char path[48];

				snprintf(path, sizeof(path), "variants[%zu].name", i);
				vctx_error(ctx, v, "name", 0, path, "variant \"%s\" twice",
					   json_string_value(name));
				rc = -1;
				break;
			}
	}
	return rc;
}

int job_validate(struct vctx *ctx, const json_t *job)
{
	const json_t *arches = json_object_get(json_object_get(job, "boot"), "arch");
	const char *k;
	json_t *v;
	char path[128];
	int rc = validate_root(ctx, job_fields, job);
	const json_t *boot = json_object_get(job, "boot"), *a;
	const char *initrd = json_string_value(json_object_get(boot, "initrd"));
	size_t i;
	int listed = 0;

	/* the initramfs named must be staged, i.e. one of the job's artifacts */
	json_array_foreach (json_object_get(job, "artifacts"), i, a)
		listed |= initrd && json_is_string(a) && !strcmp(json_string_value(a), initrd);
	if (initrd && !listed) {
		vctx_error(ctx, boot, "initrd", 0, "boot.initrd",
			   "is not one of the job's artifacts");
		rc = -1;
	}
	if (json_is_array(json_object_get(job, "variants")) &&
	    !json_array_size(json_object_get(job, "variants"))) {
		vctx_error(ctx, job, "variants", 0, "variants", "must list at least one variant");
		rc = -1;
	}
	if (variants_unique(ctx, json_object_get(job, "variants")) < 0)
		rc = -1;

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

/* base's string at key, then add's, with a space between when both have text */
static void join_arg(json_t *obj, const char *key, const char *add)
{
	const char *base = json_string_value(json_object_get(obj, key));
	char *s;
	size_t n;

	if (add == NULL || !add[0])
		return;
	if (base == NULL || !base[0]) {
		json_object_set_new(obj, key, json_string(add));
		return;
	}
	n = strlen(base) + strlen(add) + 2;
	s = malloc(n);
	if (s == NULL)
		return;
	snprintf(s, n, "%s %s", base, add);
	json_object_set_new(obj, key, json_string(s));
	free(s);
}

json_t *job_expand(const json_t *job)
{
	const json_t *vs = json_object_get(job, "variants"), *v;
	json_t *out = json_array(), *one, *boot;
	const char *name = json_string_value(json_object_get(job, "name"));
	char full[128];
	size_t i;

	if (!json_array_size(vs)) {
		json_array_append_new(out, json_deep_copy(job));
		return out;
	}
	json_array_foreach (vs, i, v) {
		one = json_deep_copy(job);
		json_object_del(one, "variants");
		snprintf(full, sizeof(full), "%s/%s", name ? name : "",
			 json_string_value(json_object_get(v, "name")));
		json_object_set_new(one, "name", json_string(full));
		json_object_set_new(one, "job", json_string(name ? name : ""));
		json_object_set(one, "variant", json_object_get(v, "name"));
		if (json_object_get(v, "description"))
			json_object_set(one, "description", json_object_get(v, "description"));
		if (json_is_object(json_object_get(v, "requires"))) {
			json_t *req = json_object_get(one, "requires");

			if (!json_is_object(req)) {
				req = json_object();
				json_object_set_new(one, "requires", req);
			}
			json_object_update(req, json_object_get(v, "requires"));
		}
		boot = json_object_get(one, "boot");
		if (!json_is_object(boot)) {
			boot = json_object();
			json_object_set_new(one, "boot", boot);
		}
		join_arg(boot, "xen_args", json_string_value(json_object_get(v, "xen_args")));
		join_arg(boot, "dom0_args", json_string_value(json_object_get(v, "dom0_args")));
		if (json_object_get(v, "initrd"))
			json_object_set(boot, "initrd", json_object_get(v, "initrd"));
		if (json_object_get(v, "dom0less"))
			json_object_set(boot, "dom0less", json_object_get(v, "dom0less"));
		if (json_object_get(v, "stages"))
			json_object_set(one, "stages", json_object_get(v, "stages"));
		if (json_object_get(v, "expected"))
			json_object_set(one, "expected", json_object_get(v, "expected"));
		json_array_append_new(out, one);
	}
	return out;
}
