#include "jobs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-flights.h"
#include "db.h"
#include "job-schema.h"
#include "json-util.h"
#include "names.h"
#include "xmalloc.h"
#include "yaml-load.h"

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
	names_sort(names, n);
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
			/* a job with variants is one job per variant, JOB/VARIANT */
			json_t *all = job_expand(doc.root), *one;
			size_t vi;

			json_array_foreach (all, vi, one) {
				name = jstr(one, "name", "");
				if (json_object_get(jobs, name)) {
					buf_printf(err, "%s: job \"%s\" is defined twice\n",
						   names[i], name);
					bad++;
				} else {
					json_object_set(jobs, name, one);
				}
			}
			json_decref(all);
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
