/* The bisector's configuration and its reports: a mail through the controller's
 * one mail path (lib/mail: SMTP or sendmail, as the `mail` section says) and/or a
 * webhook (see bisector.h). Mail headers carry outside input (a commit's author
 * and subject): lib/mail cuts every header value at its first CR or LF. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisector.h"
#include "db-bisections.h"
#include "http-client.h"
#include "json-util.h"
#include "log.h"
#include "mail.h"
#include "validate.h"
#include "tuple.h"
#include "xmalloc.h"

#define WEBHOOK_MS  5000 /* the whole webhook call */
#define SUBJECT_MAX 200

/* bisect.owners.AGENT: the reports of that agent's private boards. */
static const struct vfield owner_fields[] = {
    {.name = "notify",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = BISECT_NOTIFY_MAX,
     .check = mail_addresses_check,
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
     .check = mail_addresses_check,
     .help = "mail addresses every report goes to"},
    {.name = "mail_culprit_author", .type = V_BOOL, .help = "mail the culprit's author too"},
    {.name = "sendmail",
     .type = V_STRING,
     .min = 1,
     .max = 4000,
     .help = "sendmail program (when the mail section names none)"},
    {.name = "webhook", .type = V_STRING, .min = 8, .max = 4000, .help = "URL POSTed the report"},
    {.name = "base_url", .type = V_STRING, .min = 1, .max = 1000, .help = "URL of the page"},
    {.name = "owners",
     .type = V_OBJECT,
     .flags = V_EACH,
     .fields = owner_fields,
     .help = "per agent: where its private boards' reports go"},
    {.name = NULL},
};

void bisect_conf_load(struct bisect_conf *c, const json_t *section)
{
	const char *s;
	const json_t *v;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->mail_author = 1;
	if (section) {
		json_array_foreach (json_object_get(section, "notify"), i, v)
			if (c->nnotify < BISECT_NOTIFY_MAX && mail_address_ok(json_string_value(v)))
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
	out->base_url = c->base_url ? xstrdup(c->base_url) : NULL;
	if (owner) {
		json_array_foreach (json_object_get(o, "notify"), i, v)
			if (out->nnotify < BISECT_NOTIFY_MAX &&
			    mail_address_ok(json_string_value(v)))
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
	/* several trees moved since the baseline (schema/0076) */
	if (tuple_moved_lines(b, json_object_get(twin, "moved"), "Moved:    ") > 0) {
		if (jstr(twin, "guilty_tree", NULL))
			buf_printf(b, "Guilty:   tree %s (its change alone fails)\n",
				   jstr(twin, "guilty_tree", ""));
		else
			buf_puts(b, "Guilty:   no tree alone\n");
	}
	if (json_is_object(c)) {
		buf_printf(b, "Culprit:  %s %s\n", jstr(c, "tree", jstr(twin, "tree", "")),
			   jstr(c, "commit", ""));
		buf_printf(b, "          %s\n", jstr(c, "subject", ""));
		buf_printf(b, "Author:   %s\n", jstr(c, "author", ""));
	}
	buf_printf(b, "Good:     %s\nBad:      %s\n", jstr(twin, "good", ""),
		   jstr(twin, "bad", ""));
	if (json_object_size(json_object_get(twin, "pins")) > 1) {
		struct buf pinned = BUF_INIT(256);

		tuple_text(&pinned, json_object_get(twin, "pins"), 1);
		buf_printf(b, "Pinned:   %s\n", buf_cstr(&pinned));
		buf_release(&pinned);
	}
	buf_printf(b, "Evidence: %s\nWhy:      %s\n", jstr(twin, "evidence", ""),
		   jstr(twin, "reason", ""));
	if (link)
		buf_printf(b, "Details:  %s\n", link);
	buf_puts(b, "\nSteps:\n");
	json_array_foreach (json_object_get(twin, "steps"), i, s) {
		const json_t *r;
		size_t k;

		buf_printf(
		    b, "  %-15s %s%s%.12s%s %-8s", jstr(s, "purpose", ""),
		    json_object_size(json_object_get(twin, "moved")) > 1 ? jstr(s, "tree", "") : "",
		    json_object_size(json_object_get(twin, "moved")) > 1 ? " " : "",
		    jstr(s, "commit", ""), jbool(s, "revert", 0) ? " (reverted)" : "",
		    jstr(s, "result", ""));
		json_array_foreach (json_object_get(s, "runs"), k, r) {
			buf_printf(b, " %s:%s", jstr(r, "board", "?"), jstr(r, "verdict", "-"));
		}
		buf_puts(b, "\n");
	}
}

/* A report on its way: the thread's own copies of the twin and the conf. */
struct report {
	struct bisect_conf conf;
	struct mail_transport mail;
	json_t *twin;
};

static int send_mail(const struct report *rp, const json_t *twin, const char *body)
{
	const struct bisect_conf *conf = &rp->conf;
	const json_t *c = json_object_get(twin, "culprit");
	const char *author = json_is_object(c) ? jstr(c, "email", NULL) : NULL;
	const char *to[BISECT_NOTIFY_MAX + 1];
	char subject[SUBJECT_MAX + 100], id[MAIL_ID_MAX], err[512];
	struct buf msg = BUF_INIT(MAIL_BODY_MAX);
	struct mail_msg m = {0};
	size_t nto = 0, i;
	int rc;

	for (i = 0; i < conf->nnotify; i++)
		to[nto++] = conf->notify[i];
	if (conf->mail_author && author && mail_address_ok(author))
		to[nto++] = author;
	if (!nto || !mail_transport_ready(&rp->mail))
		return 0;
	snprintf(subject, sizeof(subject), "[xenci] bisection %lld: %s: %.*s", jint(twin, "id", 0),
		 jstr(twin, "verdict", "?"), SUBJECT_MAX,
		 json_is_object(c) ? jstr(c, "subject", "") : jstr(twin, "reason", ""));
	m.from = rp->mail.from ? rp->mail.from : MAIL_FROM_DEFAULT;
	mail_message_id(id, sizeof(id), strchr(m.from, '@') + 1);
	m.from_name = "xenci";
	m.to = to;
	m.nto = nto;
	m.subject = subject;
	m.message_id = id;
	m.headers = (const struct mail_header[]){{"Auto-Submitted", "auto-generated"}};
	m.nheaders = 1;
	m.body = body;
	rc = mail_compose(&msg, &m);
	if (rc == 0)
		rc = mail_send(&rp->mail, to, nto, msg.data, msg.len, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot compose the report: %s", strerror(-rc));
	buf_release(&msg);
	if (rc < 0) {
		log_warnx("bisection %lld: %s", jint(twin, "id", 0), err);
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
	send_mail(rp, twin, buf_cstr(&body));
	send_webhook(conf, twin, buf_cstr(&body), link);
	free(link);
	buf_release(&body);
	json_decref(twin);
	bisect_conf_release(&rp->conf);
	mail_transport_release(&rp->mail);
	free(rp);
	return NULL;
}

int bisect_notify(const struct bisect_conf *conf, const json_t *twin, const char *owner)
{
	pthread_attr_t attr;
	pthread_t t;
	struct report *rp;
	int rc;

	if (bisection_state_of(jstr(twin, "state", NULL)) == BISECTION_CANCELLED)
		return 0;
	if (conf == NULL) /* no bisector_start(): a program without reports */
		return 0;
	/* sendmail and the webhook may take seconds: never with ctl.lock held. */
	rp = xcalloc(1, sizeof(*rp));
	report_conf(&rp->conf, conf, owner);
	mail_transport_copy(&rp->mail, conf->mail);
	if (!rp->conf.webhook &&
	    (!mail_transport_ready(&rp->mail) || (!rp->conf.nnotify && !rp->conf.mail_author))) {
		mail_transport_release(&rp->mail);
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
		mail_transport_release(&rp->mail);
		free(rp);
		return -EAGAIN;
	}
	return 1;
}
