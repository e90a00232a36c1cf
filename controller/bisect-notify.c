/* The bisector's configuration and its reports: a mail through the local sendmail
 * and/or a webhook (see bisector.h). Mail headers carry outside input (a commit's
 * author and subject): every header value is cut at the first CR or LF and bounded. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisector.h"
#include "http-client.h"
#include "json-util.h"
#include "log.h"
#include "proc.h"
#include "validate.h"
#include "xmalloc.h"

#define WEBHOOK_MS   5000 /* the whole webhook call */
#define HEADER_MAX   200  /* a header value, after sanitising */
#define DEFAULT_MAIL "/usr/sbin/sendmail"
#define SENDMAIL_MS  (120 * 1000)

static int address_ok(const char *a);

/* Every notify entry is a plain mail address, reported at its own line:col. */
static int notify_check(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	(void)parent;
	(void)key;
	json_array_foreach (value, i, v) {
		if (!address_ok(json_string_value(v))) {
			char at[256];

			snprintf(at, sizeof(at), "%s[%zu]", path, i);
			vctx_error(ctx, value, NULL, i, at, "not a mail address");
			rc = -1;
		}
	}
	return rc;
}

/* bisect.owners.AGENT: the reports of that agent's private boards. */
static const struct vfield owner_fields[] = {
    {.name = "notify",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = BISECT_NOTIFY_MAX,
     .check = notify_check,
     .help = "mail addresses the owner's reports go to"},
    {.name = "mail_culprit_author",
     .type = V_BOOL,
     .help = "mail the culprit's author too (default false)"},
    {.name = NULL},
};

const struct vfield bisect_conf_fields[] = {
    {.name = "notify",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = BISECT_NOTIFY_MAX,
     .check = notify_check,
     .help = "mail addresses every report goes to"},
    {.name = "mail_culprit_author", .type = V_BOOL, .help = "mail the culprit's author too"},
    {.name = "sendmail", .type = V_STRING, .min = 1, .max = 4000, .help = "sendmail program"},
    {.name = "webhook", .type = V_STRING, .min = 8, .max = 4000, .help = "URL POSTed the report"},
    {.name = "base_url", .type = V_STRING, .min = 1, .max = 1000, .help = "URL of the page"},
    {.name = "owners",
     .type = V_OBJECT,
     .flags = V_EACH,
     .fields = owner_fields,
     .help = "per agent: where its private boards' reports go"},
    {.name = NULL},
};

/* Copies s into out with CR, LF and other controls replaced by spaces. */
static void header_clean(char *out, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < len; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[i] = '\0';
}

/* A plausible mail address: no spaces, quotes, angle brackets or commas, one @. */
static int address_ok(const char *a)
{
	const char *at = strchr(a, '@');

	return at && at != a && at[1] && !strchr(at + 1, '@') && strlen(a) < HEADER_MAX &&
	       !strpbrk(a, " \t\r\n\"<>,;()\\");
}

void bisect_conf_load(struct bisect_conf *c, const json_t *section)
{
	const char *s;
	const json_t *v;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->mail_author = 1;
	if (section) {
		json_array_foreach (json_object_get(section, "notify"), i, v)
			if (c->nnotify < BISECT_NOTIFY_MAX && address_ok(json_string_value(v)))
				c->notify[c->nnotify++] = xstrdup(json_string_value(v));
		c->mail_author = jbool(section, "mail_culprit_author", 1);
		if ((s = jstr(section, "sendmail", NULL)) != NULL)
			c->sendmail = xstrdup(s);
		if ((s = jstr(section, "webhook", NULL)) != NULL)
			c->webhook = xstrdup(s);
		if ((s = jstr(section, "base_url", NULL)) != NULL)
			c->base_url = xstrdup(s);
		if (json_is_object(json_object_get(section, "owners")))
			c->owners = json_deep_copy(json_object_get(section, "owners"));
	}
	if (!c->sendmail && access(DEFAULT_MAIL, X_OK) == 0)
		c->sendmail = xstrdup(DEFAULT_MAIL);
}

void bisect_conf_release(struct bisect_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nnotify; i++)
		free(c->notify[i]);
	free(c->sendmail);
	free(c->webhook);
	free(c->base_url);
	json_decref(c->owners);
	memset(c, 0, sizeof(*c));
}

/* The conf one report goes by (the report thread's own copy): c itself for a
 * bisection anyone may see; for one on owner's private board, owner's addresses
 * only (none when c names no such owner), the culprit's author only when the
 * owner asks for it, and no webhook. */
static void report_conf(struct bisect_conf *out, const struct bisect_conf *c, const char *owner)
{
	const json_t *o = owner ? json_object_get(c->owners, owner) : NULL, *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->sendmail = c->sendmail ? xstrdup(c->sendmail) : NULL;
	out->base_url = c->base_url ? xstrdup(c->base_url) : NULL;
	if (owner) {
		json_array_foreach (json_object_get(o, "notify"), i, v)
			if (out->nnotify < BISECT_NOTIFY_MAX && address_ok(json_string_value(v)))
				out->notify[out->nnotify++] = xstrdup(json_string_value(v));
		out->mail_author = jbool(o, "mail_culprit_author", 0);
		return;
	}
	for (i = 0; i < c->nnotify; i++)
		out->notify[i] = xstrdup(c->notify[i]);
	out->nnotify = c->nnotify;
	out->mail_author = c->mail_author;
	out->webhook = c->webhook ? xstrdup(c->webhook) : NULL;
}

/* The plain-text report. */
static void report_text(struct buf *b, const json_t *twin, const char *link)
{
	const json_t *c = json_object_get(twin, "culprit"), *s;
	size_t i;

	buf_printf(b, "Bisection %lld of job %s on board class %s (branch %s, tree %s)\n\n",
		   jint(twin, "id", 0), jstr(twin, "job", "?"), jstr(twin, "class", "?"),
		   jstr(twin, "branch", "?"), jstr(twin, "tree", "?"));
	buf_printf(b, "Outcome:  %s\n", jstr(twin, "verdict", "?"));
	if (json_is_object(c)) {
		buf_printf(b, "Culprit:  %s\n", jstr(c, "commit", ""));
		buf_printf(b, "          %s\n", jstr(c, "subject", ""));
		buf_printf(b, "Author:   %s\n", jstr(c, "author", ""));
	}
	buf_printf(b, "Good:     %s\nBad:      %s\n", jstr(twin, "good", ""),
		   jstr(twin, "bad", ""));
	buf_printf(b, "Evidence: %s\nWhy:      %s\n", jstr(twin, "evidence", ""),
		   jstr(twin, "reason", ""));
	if (link)
		buf_printf(b, "Details:  %s\n", link);
	buf_puts(b, "\nSteps:\n");
	json_array_foreach (json_object_get(twin, "steps"), i, s) {
		const json_t *r;
		size_t k;

		buf_printf(b, "  %-15s %.12s%s %-8s", jstr(s, "purpose", ""), jstr(s, "commit", ""),
			   jbool(s, "revert", 0) ? " (reverted)" : "", jstr(s, "result", ""));
		json_array_foreach (json_object_get(s, "runs"), k, r) {
			buf_printf(b, " %s:%s", jstr(r, "board", "?"), jstr(r, "verdict", "-"));
		}
		buf_puts(b, "\n");
	}
}

static int send_mail(const struct bisect_conf *conf, const json_t *twin, const char *body)
{
	const json_t *c = json_object_get(twin, "culprit");
	char subject[HEADER_MAX], to[HEADER_MAX * (BISECT_NOTIFY_MAX + 1)] = "";
	const char *argv[] = {conf->sendmail, "-oi", "-t", NULL};
	const char *author = json_is_object(c) ? jstr(c, "email", NULL) : NULL;
	struct buf msg = BUF_INIT(0);
	struct proc p;
	size_t i;
	int rc;

	for (i = 0; i < conf->nnotify; i++)
		snprintf(to + strlen(to), sizeof(to) - strlen(to), "%s%s", i ? ", " : "",
			 conf->notify[i]);
	if (conf->mail_author && author && address_ok(author))
		snprintf(to + strlen(to), sizeof(to) - strlen(to), "%s%s", to[0] ? ", " : "",
			 author);
	if (!to[0] || !conf->sendmail)
		return 0;
	header_clean(subject, sizeof(subject),
		     json_is_object(c) ? jstr(c, "subject", "") : jstr(twin, "reason", ""));
	buf_printf(&msg, "To: %s\nSubject: [xenci] bisection %lld: %s: %s\n", to,
		   jint(twin, "id", 0), jstr(twin, "verdict", "?"), subject);
	buf_puts(&msg,
		 "Content-Type: text/plain; charset=utf-8\nAuto-Submitted: auto-generated\n\n");
	buf_puts(&msg, body);
	/* The configured program with -oi -t, without a shell: the recipients
	 * travel in the message. A sendmail that hangs is killed after SENDMAIL_MS. */
	proc_init(&p);
	p.argv = argv;
	p.in = msg.data;
	p.in_len = msg.len;
	p.timeout_ms = SENDMAIL_MS;
	rc = proc_run(&p);
	buf_release(&msg);
	if (rc < 0) {
		log_warnx("bisection %lld: cannot run %s: %s", jint(twin, "id", 0), conf->sendmail,
			  strerror(-rc));
		return -EIO;
	}
	if (rc != 0) {
		log_warnx("bisection %lld: %s exited with %d", jint(twin, "id", 0), conf->sendmail,
			  rc);
		return -EIO;
	}
	return 1;
}

static int send_webhook(const struct bisect_conf *conf, const json_t *twin, const char *body,
			const char *link)
{
	struct http_client c;
	struct http_reply r;
	json_t *doc;
	int rc = 0;

	if (!conf->webhook)
		return 0;
	if (http_client_init(&c, conf->webhook, NULL) < 0)
		return -EIO;
	c.timeout_ms = WEBHOOK_MS;
	c.connect_timeout_ms = WEBHOOK_MS;
	c.retries = 1;
	http_reply_init(&r);
	doc = json_pack("{s:s, s:O, s:s, s:o}", "event", "bisection", "bisection", twin, "text",
			body, "url", link ? json_string(link) : json_null());
	if (http_json(&c, "POST", "", doc, &r) < 0 || r.status < 200 || r.status > 299) {
		log_warnx("bisection %lld: webhook %s: %ld %s", jint(twin, "id", 0), conf->webhook,
			  r.status, r.error);
		rc = -EIO;
	} else {
		rc = 1;
	}
	json_decref(doc);
	http_reply_release(&r);
	http_client_release(&c);
	return rc;
}

/* A report on its way: the thread's own copies of the twin and the conf. */
struct report {
	struct bisect_conf conf;
	json_t *twin;
};

/* The report thread: owns its report. */
static void *notify_main(void *arg)
{
	struct report *rp = arg;
	const struct bisect_conf *conf = &rp->conf;
	json_t *twin = rp->twin;
	struct buf body = BUF_INIT(0);
	char *link = NULL;

	if (conf->base_url)
		link = xasprintf("%s/bisections/%lld", conf->base_url, jint(twin, "id", 0));
	report_text(&body, twin, link);
	send_mail(conf, twin, buf_cstr(&body));
	send_webhook(conf, twin, buf_cstr(&body), link);
	free(link);
	buf_release(&body);
	json_decref(twin);
	bisect_conf_release(&rp->conf);
	free(rp);
	return NULL;
}

int bisect_notify(const struct bisect_conf *conf, const json_t *twin, const char *owner)
{
	pthread_attr_t attr;
	pthread_t t;
	struct report *rp;
	int rc;

	if (!strcmp(jstr(twin, "state", ""), "cancelled"))
		return 0;
	if (conf == NULL) /* no bisector_start(): a program without reports */
		return 0;
	/* sendmail and the webhook may take seconds: never with ctl.lock held. */
	rp = xcalloc(1, sizeof(*rp));
	report_conf(&rp->conf, conf, owner);
	if (!rp->conf.webhook &&
	    (!rp->conf.sendmail || (!rp->conf.nnotify && !rp->conf.mail_author))) {
		bisect_conf_release(&rp->conf);
		free(rp);
		return 0;
	}
	rp->twin = json_deep_copy(twin);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, notify_main, rp);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warnx("bisection %lld: cannot start the report thread", jint(twin, "id", 0));
		json_decref(rp->twin);
		bisect_conf_release(&rp->conf);
		free(rp);
		return -EAGAIN;
	}
	return 1;
}
