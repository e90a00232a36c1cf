/* Power through PDUDaemon's HTTP API, as LAVA labs run it:
 *   GET URL/power/control/{on,off,reboot}?hostname=PDU&port=N[&delay=S]
 * Debian's pdudaemon (0.0.8) answers 200 "OK - accepted request" once its
 * driver has run the request, and 500 "Invalid request" for a hostname that is
 * not in its pdudaemon.conf (or a missing port): its log says which. With
 * `reboot: true` an attempt starts by `reboot` (off, delay, on) instead of
 * `on`. */
#include "power.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-client.h"
#include "json-util.h"
#include "xmalloc.h"

static int check_url(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		     const char *path)
{
	const char *s = json_string_value(v);

	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
		vctx_error(ctx, parent, key, 0, path,
			   "\"%s\" is not an http:// URL (PDUDaemon listens on :16421)", s);
		return -1;
	}
	return 0;
}

static const struct vfield pdudaemon_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "url",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "PDUDaemon, e.g. http://pdu-host:16421",
     .min = 1,
     .check = check_url},
    {.name = "hostname",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the PDU's name in pdudaemon.conf",
     .min = 1,
     .max = 255},
    {.name = "port",
     .type = V_INT,
     .flags = V_REQUIRED,
     .help = "the PDU outlet",
     .min = 0,
     .max = 4096},
    {.name = "delay", .type = V_INT, .min = 0, .max = 600},
    {.name = "reboot",
     .type = V_BOOL,
     .help = "start each attempt by PDUDaemon's reboot (off, delay, on), not on"},
    {.name = "timeout_s", .type = V_INT, .min = 1, .max = 600},
    {.name = NULL},
};

/* The length of a reply's text without its line end, for one-line messages. */
static int trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	return n > 200 ? 200 : (int)n;
}

static int pdu_request(struct board *b, const char *action, char *err, size_t errlen)
{
	struct http_client c;
	struct http_reply r;
	const char *url = jstr(b->power_cfg, "url", "");
	char *host, *path;
	int rc = -1;

	if (http_client_init(&c, url, NULL) < 0) {
		snprintf(err, errlen, "pdudaemon: cannot set up a client for %s", url);
		return -1;
	}
	c.timeout_ms = jint(b->power_cfg, "timeout_s", 30) * 1000;
	c.retries = 2;
	http_reply_init(&r);
	host = curl_easy_escape(NULL, jstr(b->power_cfg, "hostname", ""), 0);
	if (json_object_get(b->power_cfg, "delay"))
		path = xasprintf("/power/control/%s?hostname=%s&port=%lld&delay=%lld", action, host,
				 jint(b->power_cfg, "port", 0), jint(b->power_cfg, "delay", 0));
	else
		path = xasprintf("/power/control/%s?hostname=%s&port=%lld", action, host,
				 jint(b->power_cfg, "port", 0));
	curl_free(host);
	if (http_request(&c, "GET", path, NULL, NULL, 0, NULL, &r) < 0)
		snprintf(err, errlen, "pdudaemon %s%s: %s", url, path, r.error);
	else if (r.status != 200)
		snprintf(err, errlen, "pdudaemon %s%s: HTTP %ld %.*s%s", url, path, r.status,
			 trimmed_len(buf_cstr(&r.body)), buf_cstr(&r.body),
			 r.status == 500 ? " (is the hostname in pdudaemon.conf's \"pdus\"? "
					   "pdudaemon's log says why)"
					 : "");
	else
		rc = 0;
	free(path);
	http_reply_release(&r);
	http_client_release(&c);
	return rc;
}

static int pdu_on(struct board *b, char *err, size_t errlen)
{
	return pdu_request(b, "on", err, errlen);
}

static int pdu_off(struct board *b, char *err, size_t errlen)
{
	return pdu_request(b, "off", err, errlen);
}

static int pdu_cycle(struct board *b, char *err, size_t errlen)
{
	if (!json_is_true(json_object_get(b->power_cfg, "reboot")))
		return 1;
	return pdu_request(b, "reboot", err, errlen);
}

const struct power_ops power_pdudaemon_ops = {
    .name = "pdudaemon",
    .fields = pdudaemon_fields,
    .on = pdu_on,
    .off = pdu_off,
    .cycle = pdu_cycle,
};
