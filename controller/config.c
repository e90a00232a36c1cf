#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bisector.h"
#include "http-limits.h"
#include "json-util.h"
#include "validate.h"
#include "watch.h"
#include "xmalloc.h"
#include "yaml-load.h"

static const struct vfield tls_fields[] = {
    {.name = "cert", .type = V_STRING, .flags = V_REQUIRED, .help = "PEM certificate file"},
    {.name = "key", .type = V_STRING, .flags = V_REQUIRED, .help = "PEM private key file"},
    {.name = NULL},
};

static const struct vfield config_fields[] = {
    {.name = "listen", .type = V_STRING, .help = "ADDR:PORT", .min = 3, .max = 64},
    {.name = "data", .type = V_STRING, .help = "data folder", .min = 1, .max = 4000},
    {.name = "jobs_dir", .type = V_STRING, .help = "folder of job files", .min = 1, .max = 4000},
    {.name = "schema_dir", .type = V_STRING, .help = "folder of migrations", .min = 1, .max = 4000},
    {.name = "web_dir", .type = V_STRING, .help = "status page assets", .min = 1, .max = 4000},
    {.name = "lease_seconds", .type = V_INT, .help = "lease length", .min = 1, .max = 86400},
    {.name = "max_attempts",
     .type = V_INT,
     .help = "tries per job and board",
     .min = 1,
     .max = 100},
    {.name = "unhealthy_streak",
     .type = V_INT,
     .help = "infra attempts in a row",
     .min = 1,
     .max = 1000},
    {.name = "health_check_job",
     .type = V_STRING,
     .help = "job run on unhealthy boards",
     .min = 1,
     .max = 127},
    {.name = "claim_max_ms",
     .type = V_INT,
     .help = "longest claim long-poll",
     .min = 0,
     .max = 600000},
    {.name = "priority_age_seconds",
     .type = V_INT,
     .help = "waiting worth one priority class",
     .min = 1,
     .max = 86400},
    {.name = "starve_seconds",
     .type = V_INT,
     .help = "wait for an eligible board",
     .min = 1,
     .max = 604800},
    {.name = "tls", .type = V_OBJECT, .fields = tls_fields, .help = "HTTPS"},
    {.name = "trees",
     .type = V_OBJECT,
     .flags = V_EACH,
     .fields = tree_conf_fields,
     .help = "watched trees, by name"},
    {.name = "bisect", .type = V_OBJECT, .fields = bisect_conf_fields, .help = "bisection reports"},
    {.name = "connections",
     .type = V_OBJECT,
     .fields = http_limits_fields,
     .help = "HTTP connection limits"},
    {.name = NULL},
};

void config_init(struct ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = xstrdup("127.0.0.1:8080");
	c->lease_seconds = 60;
	c->max_attempts = 3;
	c->unhealthy_streak = 3;
	c->claim_max_ms = 60000;
	c->priority_age_ms = 600000;
	c->starve_ms = 3600000;
	c->trees = xcalloc(1, sizeof(*c->trees));
	c->bisect = xcalloc(1, sizeof(*c->bisect));
	bisect_conf_load(c->bisect, NULL);
	c->connections = xcalloc(1, sizeof(*c->connections));
	http_limits_from_json(c->connections, NULL);
}

void config_release(struct ctl_config *c)
{
	free(c->file);
	free(c->listen);
	free(c->data);
	free(c->jobs_dir);
	free(c->schema_dir);
	free(c->web_dir);
	free(c->health_check_job);
	free(c->tls_cert);
	free(c->tls_key);
	trees_conf_release(c->trees);
	free(c->trees);
	bisect_conf_release(c->bisect);
	free(c->bisect);
	free(c->connections);
	memset(c, 0, sizeof(*c));
}

static void set_str(char **dst, const json_t *obj, const char *key)
{
	const char *v = jstr(obj, key, NULL);

	if (v) {
		free(*dst);
		*dst = xstrdup(v);
	}
}

int config_load(struct ctl_config *c, const char *path, struct buf *err)
{
	struct yaml_doc doc;
	struct vctx ctx;
	char msg[512];
	json_t *root, *tls;
	int rc = -1;

	memset(&doc, 0, sizeof(doc));
	vctx_init(&ctx, path, &doc);
	if (yaml_doc_load_file(&doc, path, msg, sizeof(msg)) < 0) {
		buf_printf(err, "%s\n", msg);
		goto out;
	}
	root = doc.root;
	if (json_is_null(root)) {
		rc = 0; /* an empty file: every default */
		goto out;
	}
	if (validate_root(&ctx, config_fields, root) < 0) {
		buf_puts(err, buf_cstr(&ctx.text));
		goto out;
	}
	set_str(&c->listen, root, "listen");
	set_str(&c->data, root, "data");
	set_str(&c->jobs_dir, root, "jobs_dir");
	set_str(&c->schema_dir, root, "schema_dir");
	set_str(&c->web_dir, root, "web_dir");
	set_str(&c->health_check_job, root, "health_check_job");
	c->lease_seconds = (int)jint(root, "lease_seconds", c->lease_seconds);
	c->max_attempts = (int)jint(root, "max_attempts", c->max_attempts);
	c->unhealthy_streak = (int)jint(root, "unhealthy_streak", c->unhealthy_streak);
	c->claim_max_ms = (int)jint(root, "claim_max_ms", c->claim_max_ms);
	c->priority_age_ms = jint(root, "priority_age_seconds", c->priority_age_ms / 1000) * 1000;
	c->starve_ms = jint(root, "starve_seconds", c->starve_ms / 1000) * 1000;
	if ((tls = json_object_get(root, "tls")) != NULL) {
		set_str(&c->tls_cert, tls, "cert");
		set_str(&c->tls_key, tls, "key");
	}
	if (json_object_get(root, "trees")) {
		/* What the table cannot say: a duplicate branch, a gate job the
		 * branch does not run. */
		trees_conf_release(c->trees);
		if (trees_conf_load(c->trees, json_object_get(root, "trees"), msg, sizeof(msg)) <
		    0) {
			buf_printf(err, "%s\n", msg);
			trees_conf_release(c->trees);
			goto out;
		}
	}
	if (json_object_get(root, "connections"))
		http_limits_from_json(c->connections, json_object_get(root, "connections"));
	if (json_object_get(root, "bisect")) {
		bisect_conf_release(c->bisect);
		bisect_conf_load(c->bisect, json_object_get(root, "bisect"));
	}
	free(c->file);
	c->file = xstrdup(path);
	rc = 0;
out:
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return rc;
}
