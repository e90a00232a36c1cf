/* Power through PDUDaemon's HTTP API, as LAVA labs run it:
 *   GET URL/power/control/{on,off,reboot}?hostname=PDU&port=N[&delay=S]
 * answered 200 when the request was queued. */
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
    {.name = "timeout_s", .type = V_INT, .min = 1, .max = 600},
    {.name = NULL},
};

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
		snprintf(err, errlen, "pdudaemon %s%s: HTTP %ld %.200s", url, path, r.status,
			 buf_cstr(&r.body));
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

const struct power_ops power_pdudaemon_ops = {
    .name = "pdudaemon",
    .fields = pdudaemon_fields,
    .on = pdu_on,
    .off = pdu_off,
};
