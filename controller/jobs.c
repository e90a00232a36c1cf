#include "jobs.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-flights.h"
#include "db.h"
#include "json-util.h"
#include "xmalloc.h"
#include "yaml-load.h"

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

static int check_regex(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		       const char *path)
{
	regex_t re;
	int rc = regcomp(&re, json_string_value(value), REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		char msg[256];

		regerror(rc, &re, msg, sizeof(msg));
		vctx_error(ctx, parent, key, 0, path, "not a POSIX extended regex: %s", msg);
		return -1;
	}
	regfree(&re);
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
static const char *const stage_results[] = {"timeout", "infra", "fail", NULL};
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
     .check = check_regex},
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
     .check = check_regex},
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
    {.name = NULL},
};

int job_validate(struct vctx *ctx, const json_t *job)
{
	const json_t *arches = json_object_get(json_object_get(job, "boot"), "arch");
	const char *k;
	json_t *v;
	char path[128];
	int rc = validate_root(ctx, job_fields, job);

	(void)stage_results;
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

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int jobs_load_dir(const char *dir, int store, struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	json_t *jobs = json_object(), *v;
	const char *k;
	size_t n = 0, cap = 0, i;
	int bad = 0, count = -1;

	if (d == NULL) {
		buf_printf(err, "%s: %s\n", dir, strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		struct yaml_doc doc;
		struct vctx ctx;
		char msg[512];
		const char *name;

		memset(&doc, 0, sizeof(doc));
		vctx_init(&ctx, names[i], &doc);
		if (yaml_doc_load_file(&doc, names[i], msg, sizeof(msg)) < 0) {
			buf_printf(err, "%s\n", msg);
			bad++;
		} else if (!json_is_object(doc.root)) {
			buf_printf(err, "%s:1:1: a job file is a mapping\n", names[i]);
			bad++;
		} else if (job_validate(&ctx, doc.root) < 0) {
			buf_puts(err, buf_cstr(&ctx.text));
			bad++;
		} else {
			name = jstr(doc.root, "name", "");
			if (json_object_get(jobs, name)) {
				buf_printf(err, "%s: job \"%s\" is defined twice\n", names[i],
					   name);
				bad++;
			} else {
				json_object_set(jobs, name, doc.root);
			}
		}
		vctx_release(&ctx);
		yaml_doc_release(&doc);
	}
	if (bad)
		goto out;
	if (store) {
		if (db_begin() < 0) {
			buf_printf(err, "jobs: cannot write the store\n");
			goto out;
		}
		json_object_foreach (jobs, k, v) {
			if (db_job_upsert(k, v) < 0) {
				db_rollback();
				buf_printf(err, "jobs: cannot store %s\n", k);
				goto out;
			}
		}
		if (db_commit() < 0) {
			buf_printf(err, "jobs: cannot write the store\n");
			goto out;
		}
	}
	count = (int)json_object_size(jobs);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	json_decref(jobs);
	return count;
}
