#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisector.h"
#include "http-limits.h"
#include "known-issues.h"
#include "mail.h"
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

/* An SMTP relay URL: smtp:// or smtps://, a host, no spaces. */
static int check_smtp_url(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	const char *u = json_string_value(value);

	if ((strncmp(u, "smtp://", 7) && strncmp(u, "smtps://", 8)) || strpbrk(u, " \t\r\n") ||
	    strlen(u) <= strlen("smtps://")) {
		vctx_error(ctx, parent, key, 0, path, "not an smtp:// or smtps:// URL");
		return -1;
	}
	return 0;
}

static int check_address(struct vctx *ctx, const json_t *parent, const char *key,
			 const json_t *value, const char *path)
{
	if (!mail_address_ok(json_string_value(value))) {
		vctx_error(ctx, parent, key, 0, path, "not a mail address");
		return -1;
	}
	return 0;
}

/* The `mail` section: the one mail path of bisection and flight reports. */
static const struct vfield mail_fields[] = {
    {.name = "smtp",
     .type = V_STRING,
     .min = 8,
     .max = 1000,
     .check = check_smtp_url,
     .help = "relay URL: smtp://host:port or smtps://host:port"},
    {.name = "starttls", .type = V_BOOL, .help = "require STARTTLS on smtp:// (default false)"},
    {.name = "user", .type = V_STRING, .min = 1, .max = 256, .help = "SMTP AUTH user"},
    {.name = "password", .type = V_STRING, .max = 256, .help = "SMTP AUTH password"},
    {.name = "password_file",
     .type = V_STRING,
     .min = 1,
     .max = 4000,
     .help = "file whose first line is the SMTP AUTH password"},
    {.name = "cafile",
     .type = V_STRING,
     .min = 1,
     .max = 4000,
     .help = "CA bundle for the relay's certificate"},
    {.name = "from",
     .type = V_STRING,
     .min = 3,
     .max = MAIL_ADDR_MAX - 1,
     .check = check_address,
     .help = "the sender address"},
    {.name = "sendmail",
     .type = V_STRING,
     .min = 1,
     .max = 4000,
     .help = "sendmail program, when there is no smtp relay"},
    {.name = "timeout_seconds",
     .type = V_INT,
     .min = 1,
     .max = 3600,
     .help = "the longest exchange with the relay"},
    {.name = NULL},
};

/* The `records` section: signed results (docs/traceability.md). */
static const struct vfield records_fields[] = {
    {.name = "require_signed",
     .type = V_BOOL,
     .help = "take results only as records signed by their agent's active key"},
    {.name = NULL},
};

static const struct vfield config_fields[] = {
    {.name = "listen", .type = V_STRING, .help = "ADDR:PORT", .min = 3, .max = 64},
    {.name = "agent_listen",
     .type = V_STRING,
     .help = "ADDR:PORT of the agents' own listener",
     .min = 3,
     .max = 64},
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
    {.name = "examine_job",
     .type = V_STRING,
     .help = "job run on new or changed boards before they take work",
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
    {.name = "mail", .type = V_OBJECT, .fields = mail_fields, .help = "outgoing mail"},
    {.name = "bisect", .type = V_OBJECT, .fields = bisect_conf_fields, .help = "bisection reports"},
    {.name = "connections",
     .type = V_OBJECT,
     .fields = http_limits_fields,
     .help = "HTTP connection limits"},
    {.name = "records", .type = V_OBJECT, .fields = records_fields, .help = "signed results"},
    {.name = "known_issues",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = known_issue_fields,
     .max = KNOWN_ISSUES_MAX,
     .check = known_issues_check,
     .help = "failures already known: a label, a link, a pattern"},
    {.name = NULL},
};

static void set_str(char **dst, const json_t *obj, const char *key)
{
	const char *v = jstr(obj, key, NULL);

	if (v) {
		free(*dst);
		*dst = xstrdup(v);
	}
}

#define DEFAULT_SENDMAIL "/usr/sbin/sendmail"

/* Where mail goes when the mail section names no relay nor program: the bisect
 * section's sendmail (as configured before the mail section existed), else
 * DEFAULT_SENDMAIL when it exists. The bisector then mails through c->mail. */
static void mail_fold(struct ctl_config *c)
{
	if (!c->mail_configured) {
		free(c->mail->sendmail);
		c->mail->sendmail = NULL;
		if (c->bisect->sendmail)
			c->mail->sendmail = xstrdup(c->bisect->sendmail);
		else if (access(DEFAULT_SENDMAIL, X_OK) == 0)
			c->mail->sendmail = xstrdup(DEFAULT_SENDMAIL);
	}
	c->bisect->mail = c->mail;
}

/* The mail section into t (released first). Returns 0, or -1 with a message in
 * err (the password file cannot be read). */
static int mail_load(struct mail_transport *t, const json_t *m, const char *path, struct buf *err)
{
	const char *pf = jstr(m, "password_file", NULL);

	mail_transport_release(t);
	set_str(&t->smtp_url, m, "smtp");
	t->starttls = jbool(m, "starttls", 0);
	set_str(&t->user, m, "user");
	set_str(&t->password, m, "password");
	set_str(&t->cafile, m, "cafile");
	set_str(&t->from, m, "from");
	set_str(&t->sendmail, m, "sendmail");
	t->timeout_ms = jint(m, "timeout_seconds", 60) * 1000;
	if (pf) {
		char line[257] = "";
		FILE *f = fopen(pf, "r");

		if (f == NULL || (!fgets(line, sizeof(line), f) && ferror(f))) {
			buf_printf(err, "%s: mail.password_file: cannot read %s: %s\n", path, pf,
				   strerror(f ? EIO : errno));
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		free(t->password);
		t->password = xstrdup(line);
		memset(line, 0, sizeof(line));
	}
	return 0;
}

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
	c->mail = xcalloc(1, sizeof(*c->mail));
	c->bisect = xcalloc(1, sizeof(*c->bisect));
	bisect_conf_load(c->bisect, NULL);
	mail_fold(c);
	c->connections = xcalloc(1, sizeof(*c->connections));
	http_limits_from_json(c->connections, NULL);
	c->known_issues = xcalloc(1, sizeof(*c->known_issues));
}

void config_release(struct ctl_config *c)
{
	free(c->file);
	free(c->listen);
	free(c->agent_listen);
	free(c->data);
	free(c->jobs_dir);
	free(c->schema_dir);
	free(c->web_dir);
	free(c->health_check_job);
	free(c->examine_job);
	free(c->tls_cert);
	free(c->tls_key);
	trees_conf_release(c->trees);
	free(c->trees);
	bisect_conf_release(c->bisect);
	free(c->bisect);
	mail_transport_release(c->mail);
	free(c->mail);
	free(c->connections);
	known_issues_release(c->known_issues);
	free(c->known_issues);
	memset(c, 0, sizeof(*c));
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
	set_str(&c->agent_listen, root, "agent_listen");
	set_str(&c->data, root, "data");
	set_str(&c->jobs_dir, root, "jobs_dir");
	set_str(&c->schema_dir, root, "schema_dir");
	set_str(&c->web_dir, root, "web_dir");
	set_str(&c->health_check_job, root, "health_check_job");
	set_str(&c->examine_job, root, "examine_job");
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
	c->require_signed =
	    jbool(json_object_get(root, "records"), "require_signed", c->require_signed);
	if (json_object_get(root, "known_issues")) {
		known_issues_release(c->known_issues);
		if (known_issues_load(c->known_issues, json_object_get(root, "known_issues"), msg,
				      sizeof(msg)) < 0) {
			buf_printf(err, "%s: %s\n", path, msg);
			goto out;
		}
	}
	if (json_object_get(root, "connections"))
		http_limits_from_json(c->connections, json_object_get(root, "connections"));
	if (json_object_get(root, "mail") &&
	    mail_load(c->mail, json_object_get(root, "mail"), path, err) < 0)
		goto out;
	c->mail_configured = mail_transport_ready(c->mail);
	if (json_object_get(root, "bisect")) {
		bisect_conf_release(c->bisect);
		bisect_conf_load(c->bisect, json_object_get(root, "bisect"));
	}
	mail_fold(c);
	free(c->file);
	c->file = xstrdup(path);
	rc = 0;
out:
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return rc;
}
