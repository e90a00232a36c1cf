#include "mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "validate.h"
#include "xmalloc.h"

#define MAIL_TIMEOUT_MS 60000

static pthread_once_t mail_once = PTHREAD_ONCE_INIT;

static void mail_init_once(void)
{
	g_mime_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mail_init(void)
{
	pthread_once(&mail_once, mail_init_once);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void mail_transport_copy(struct mail_transport *dst, const struct mail_transport *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src == NULL)
		return;
	dst->smtp_url = dup_or_null(src->smtp_url);
	dst->starttls = src->starttls;
	dst->user = dup_or_null(src->user);
	dst->password = dup_or_null(src->password);
	dst->cafile = dup_or_null(src->cafile);
	dst->sendmail = dup_or_null(src->sendmail);
	dst->from = dup_or_null(src->from);
	dst->timeout_ms = src->timeout_ms;
}

void mail_transport_release(struct mail_transport *t)
{
	if (t == NULL)
		return;
	free(t->smtp_url);
	free(t->user);
	if (t->password)
		memset(t->password, 0, strlen(t->password));
	free(t->password);
	free(t->cafile);
	free(t->sendmail);
	free(t->from);
	memset(t, 0, sizeof(*t));
}

int mail_transport_ready(const struct mail_transport *t)
{
	return t && ((t->smtp_url && *t->smtp_url) || (t->sendmail && *t->sendmail));
}

int mail_address_ok(const char *a)
{
	const char *at, *p;

	if (a == NULL || (at = strchr(a, '@')) == NULL || at == a || !at[1] ||
	    strchr(at + 1, '@') || strlen(a) >= MAIL_ADDR_MAX || a[0] == '-')
		return 0;
	for (p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("\"<>,;()\\[]:", *p))
			return 0;
	return 1;
}

int mail_addresses_check(struct vctx *ctx, const json_t *parent, const char *key,
			 const json_t *value, const char *path)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	(void)parent;
	(void)key;
	json_array_foreach (value, i, v) {
		if (!mail_address_ok(json_string_value(v))) {
			char at[256];

			snprintf(at, sizeof(at), "%s[%zu]", path, i);
			vctx_error(ctx, value, NULL, i, at, "not a mail address");
			rc = -1;
		}
	}
	return rc;
}

void mail_message_id(char *out, size_t n, const char *domain)
{
	char *id;

	mail_init();
	id = g_mime_utils_generate_message_id(domain && *domain ? domain : "localhost");
	snprintf(out, n, "%s", id);
	g_free(id);
}

/* s with every control (CR and LF included) as a space, bounded. */
static char *header_clean(const char *s)
{
	size_t i, n = s ? strnlen(s, MAIL_HEADER_MAX) : 0;
	char *out = xmalloc(n + 1);

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[n] = '\0';
	return out;
}

/* A header name: printable ASCII but the colon (RFC 5322 2.2). */
static int header_name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 76)
		return 0;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == ':')
			return 0;
	return 1;
}

/* "<a> <b>" from "a b" (ids without their brackets), bounded. */
static char *ids_bracketed(const char *ids)
{
	char *clean = header_clean(ids), *tok, *save = NULL;
	GString *s = g_string_new(NULL);
	char *out;

	for (tok = strtok_r(clean, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		g_string_append_printf(s, "%s<%s>", s->len ? " " : "", tok);
	free(clean);
	out = xstrdup(s->str);
	g_string_free(s, TRUE);
	return out;
}

int mail_compose(struct buf *out, const struct mail_msg *m)
{
	GMimeMessage *msg;
	GMimeTextPart *part;
	GMimeFormatOptions *fo;
	GMimeDataWrapper *content;
	GMimeStream *stream;
	GDateTime *now;
	char *text, *v;
	size_t i;
	int rc = 0;

	if (!m->from || !mail_address_ok(m->from) || m->nto == 0)
		return -EINVAL;
	for (i = 0; i < m->nto; i++)
		if (!mail_address_ok(m->to[i]))
			return -EINVAL;
	mail_init();
	msg = g_mime_message_new(TRUE);
	v = header_clean(m->from_name);
	internet_address_list_add(g_mime_message_get_from(msg),
				  internet_address_mailbox_new(*v ? v : NULL, m->from));
	free(v);
	for (i = 0; i < m->nto; i++)
		internet_address_list_add(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
					  internet_address_mailbox_new(NULL, m->to[i]));
	v = header_clean(m->subject);
	g_mime_message_set_subject(msg, v, "utf-8");
	free(v);
	now = g_date_time_new_now_utc();
	g_mime_message_set_date(msg, now);
	g_date_time_unref(now);
	if (m->message_id) {
		v = header_clean(m->message_id);
		g_mime_message_set_message_id(msg, v);
		free(v);
	}
	if (m->in_reply_to) {
		v = ids_bracketed(m->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", v, NULL);
		free(v);
		v = ids_bracketed(m->references ? m->references : m->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", v, NULL);
		free(v);
	}
	for (i = 0; i < m->nheaders; i++) {
		if (!header_name_ok(m->headers[i].name))
			continue;
		v = header_clean(m->headers[i].value);
		/* append: a header that repeats (X-Xenci-Failures) keeps every line */
		g_mime_object_append_header(GMIME_OBJECT(msg), m->headers[i].name, v, "utf-8");
		free(v);
	}
	/* The body's bytes as they are (UTF-8): g_mime_text_part_set_text would
	 * convert them to the "best" charset, ISO-8859-1 where it fits. */
	part = g_mime_text_part_new_with_subtype("plain");
	stream = g_mime_stream_mem_new_with_buffer(m->body ? m->body : "",
						   m->body ? strlen(m->body) : 0);
	content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(part), content);
	g_object_unref(content);
	g_object_unref(stream);
	g_mime_text_part_set_charset(part, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part),
					 g_mime_part_get_best_content_encoding(
					     GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
	g_object_unref(part);
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
	text = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
	g_mime_format_options_free(fo);
	if (buf_puts(out, text) < 0)
		rc = -ENOSPC;
	g_free(text);
	g_object_unref(msg);
	return rc;
}

/* The SMTP upload: the message with every line ending CRLF (a bare LF gets its
 * CR; libcurl stuffs the dots and ends the data). */
struct upload {
	const char *p, *end;
	char last; /* the last byte handed to libcurl */
};

static size_t upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t room = size * nmemb, n = 0;

	while (n < room && u->p < u->end) {
		char c = *u->p == '\n' && u->last != '\r' ? '\r' : *u->p++;

		dst[n++] = c;
		u->last = c;
	}
	return n;
}

static int send_smtp(const struct mail_transport *t, const char *const *rcpt, size_t nrcpt,
		     const char *msg, size_t len, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", from[MAIL_ADDR_MAX + 2];
	struct curl_slist *to = NULL;
	struct upload u = {msg, msg + len, 0};
	CURL *c;
	CURLcode cc;
	size_t i;
	int rc = 0;

	mail_init();
	c = curl_easy_init();
	if (c == NULL) {
		snprintf(err, errlen, "cannot make a curl handle");
		return -ENOMEM;
	}
	for (i = 0; i < nrcpt; i++) {
		char one[MAIL_ADDR_MAX + 2];

		snprintf(one, sizeof(one), "<%s>", rcpt[i]);
		to = curl_slist_append(to, one);
	}
	snprintf(from, sizeof(from), "<%s>", t->from ? t->from : "");
	curl_easy_setopt(c, CURLOPT_URL, t->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 t->timeout_ms > 0 ? t->timeout_ms : MAIL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 t->timeout_ms > 0 && t->timeout_ms < 10000 ? t->timeout_ms : 10000L);
	if (t->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (t->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, t->cafile);
	if (t->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, t->password ? t->password : "");
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", t->smtp_url,
			 cerr[0] ? cerr : curl_easy_strerror(cc));
		rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	return rc;
}

static int send_sendmail(const struct mail_transport *t, const char *const *rcpt, size_t nrcpt,
			 const char *msg, size_t len, char *err, size_t errlen)
{
	const char **argv = xcalloc(nrcpt + 6, sizeof(*argv));
	struct proc p;
	size_t n = 0, i;
	int rc;

	/* No shell; -oi: a line of one dot does not end the message; the
	 * recipients are the envelope's, after --. */
	argv[n++] = t->sendmail;
	argv[n++] = "-oi";
	if (t->from) {
		argv[n++] = "-f";
		argv[n++] = t->from;
	}
	argv[n++] = "--";
	for (i = 0; i < nrcpt; i++)
		argv[n++] = rcpt[i];
	argv[n] = NULL;
	proc_init(&p);
	p.argv = argv;
	p.in = msg;
	p.in_len = len;
	p.timeout_ms = (int)(t->timeout_ms > 0 ? t->timeout_ms : MAIL_TIMEOUT_MS);
	rc = proc_run(&p);
	free(argv);
	if (rc < 0) {
		snprintf(err, errlen, "cannot run %s: %s", t->sendmail, strerror(-rc));
		return rc == -ETIMEDOUT ? rc : -EIO;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s exited with %d", t->sendmail, rc);
		return -EIO;
	}
	return 0;
}

int mail_send(const struct mail_transport *t, const char *const *rcpt, size_t nrcpt,
	      const char *msg, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (!mail_transport_ready(t) || nrcpt == 0) {
		snprintf(err, errlen, "%s", nrcpt ? "no mail transport" : "no recipient");
		return -EINVAL;
	}
	for (i = 0; i < nrcpt; i++)
		if (!mail_address_ok(rcpt[i])) {
			snprintf(err, errlen, "not a mail address: %.100s", rcpt[i]);
			return -EINVAL;
		}
	if (t->from && !mail_address_ok(t->from)) {
		snprintf(err, errlen, "not a mail address: %.100s", t->from);
		return -EINVAL;
	}
	if (t->smtp_url && *t->smtp_url)
		return send_smtp(t, rcpt, nrcpt, msg, len, err, errlen);
	return send_sendmail(t, rcpt, nrcpt, msg, len, err, errlen);
}
