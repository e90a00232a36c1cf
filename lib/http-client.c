#include "http-client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "json-util.h"
#include "xmalloc.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int http_client_init(struct http_client *c, const char *base, const char *token)
{
	size_t n;

	pthread_once(&curl_once, curl_global);
	memset(c, 0, sizeof(*c));
	c->base = xstrdup(base);
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	c->token = token ? xstrdup(token) : NULL;
	c->connect_timeout_ms = 5000;
	c->timeout_ms = 60000;
	c->retries = 0;
	c->backoff_ms = 200;
	c->backoff_max_ms = 10000;
	c->curl = curl_easy_init();
	return c->curl ? 0 : -ENOMEM;
}

void http_client_release(struct http_client *c)
{
	if (c == NULL)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->token);
	free(c->cafile);
	memset(c, 0, sizeof(*c));
}

void http_client_set_token(struct http_client *c, const char *token)
{
	free(c->token);
	c->token = token ? xstrdup(token) : NULL;
}

void http_reply_init(struct http_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, HTTP_REPLY_MAX);
}

void http_reply_release(struct http_reply *r)
{
	if (r == NULL)
		return;
	buf_release(&r->body);
	json_decref(r->json);
	r->json = NULL;
}

static void http_reply_reset(struct http_reply *r)
{
	buf_reset(&r->body);
	json_decref(r->json);
	r->json = NULL;
	r->status = 0;
	r->content_type[0] = '\0';
	r->error[0] = '\0';
}

long http_backoff_ms(long base_ms, long max_ms, int n)
{
	unsigned int rnd = 0;
	long cap = base_ms;

	while (n-- > 0 && cap < max_ms)
		cap *= 2;
	if (cap > max_ms)
		cap = max_ms;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (unsigned int)rand();
	return cap > 0 ? (long)(rnd % (unsigned long)(cap + 1)) : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct sink {
	struct buf *body;
	FILE *file;
	int overflow;
};

static size_t write_cb(char *p, size_t size, size_t n, void *user)
{
	struct sink *s = user;
	size_t len = size * n;

	if (s->file)
		return fwrite(p, 1, len, s->file);
	if (buf_append(s->body, p, len) < 0) {
		s->overflow = 1;
		return 0;
	}
	return len;
}

/* One try. Returns the CURLcode. */
static int http_once(struct http_client *c, const char *method, const char *url,
		     struct curl_slist *hdrs, const void *body, size_t len, FILE *upload,
		     long long upload_len, struct sink *sink, struct http_reply *r)
{
	CURL *h = c->curl;
	CURLcode cc;
	char *ct = NULL;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "xenci/1");
	if (c->cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cafile);
	if (upload) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_len);
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L); /* no body follows the headers */
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
	} else {
		snprintf(r->error, sizeof(r->error), "%s%s", curl_easy_strerror(cc),
			 sink->overflow ? " (reply too large)" : "");
	}
	return (int)cc;
}

/* Bodies above this many bytes are sent after the server's 100 (Continue). */
#define EXPECT_MIN (64 * 1024)

/* The size of a request's body: the buffer's, or the upload file's (0 when it
 * cannot be read: the request loop reports that). */
static long long body_size(const void *body, size_t len, const char *upload_path)
{
	struct stat st;

	if (upload_path)
		return stat(upload_path, &st) == 0 ? (long long)st.st_size : 0;
	return body ? (long long)len : 0;
}

static int http_do(struct http_client *c, const char *method, const char *path,
		   const char *content_type, const void *body, size_t len, const char *const *extra,
		   const char *upload_path, FILE *out, long long from, struct http_reply *r)
{
	struct curl_slist *hdrs = NULL;
	struct sink sink = {&r->body, out, 0};
	char *url = xasprintf("%s%s", c->base, path);
	int tries, rc = -1;

	if (c->token) {
		char *h = xasprintf("Authorization: Bearer %s", c->token);

		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (content_type) {
		char *h = xasprintf("Content-Type: %s", content_type);

		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (out && from > 0) {
		char *h = xasprintf("Range: bytes=%lld-", from);

		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	/* RFC 9110 10.1.1: a large body waits for the server's 100 (Continue), so a
	 * server that refuses the request from its headers (413, 401, 403) answers
	 * before any of the body is sent, and its reply is not lost to a reset of a
	 * connection closed with unread bytes; a small body goes at once. */
	hdrs = curl_slist_append(hdrs, body_size(body, len, upload_path) > EXPECT_MIN
					   ? "Expect: 100-continue"
					   : "Expect:");
	for (; extra && *extra; extra++)
		hdrs = curl_slist_append(hdrs, *extra);

	for (tries = 0; tries <= c->retries; tries++) {
		FILE *up = NULL;
		long long up_len = 0;
		int cc;

		if (tries)
			sleep_ms(http_backoff_ms(c->backoff_ms, c->backoff_max_ms, tries - 1));
		http_reply_reset(r);
		sink.overflow = 0;
		if (out && (fflush(out) != 0 || fseeko(out, from, SEEK_SET) != 0 ||
			    ftruncate(fileno(out), from) != 0)) {
			snprintf(r->error, sizeof(r->error), "cannot rewind the output file");
			break;
		}
		if (upload_path) {
			struct stat st;

			up = fopen(upload_path, "rb");
			if (up == NULL || fstat(fileno(up), &st) < 0) {
				snprintf(r->error, sizeof(r->error), "%s: %s", upload_path,
					 strerror(errno));
				if (up)
					fclose(up);
				break;
			}
			up_len = st.st_size;
		}
		cc = http_once(c, method, url, hdrs, body, len, up, up_len, &sink, r);
		if (up)
			fclose(up);
		if (cc == CURLE_OK && r->status < 500) {
			rc = 0;
			break;
		}
		if (cc == CURLE_OK && tries == c->retries)
			rc = 0; /* a 5xx after the last try is still a reply */
	}
	if (rc == 0 && !out && r->body.len && !strncmp(r->content_type, "application/json", 16)) {
		r->json = json_parse(r->body.data, r->body.len, NULL, 0);
		if (r->status >= 400 && json_is_string(json_object_get(r->json, "error")))
			snprintf(r->error, sizeof(r->error), "%s",
				 json_string_value(json_object_get(r->json, "error")));
	}
	if (rc == 0 && r->status >= 400 && !r->error[0])
		snprintf(r->error, sizeof(r->error), "HTTP %ld", r->status);
	curl_slist_free_all(hdrs);
	free(url);
	return rc;
}

int http_request(struct http_client *c, const char *method, const char *path,
		 const char *content_type, const void *body, size_t len,
		 const char *const *extra_headers, struct http_reply *r)
{
	return http_do(c, method, path, content_type, body, len, extra_headers, NULL, NULL, 0, r);
}

int http_json(struct http_client *c, const char *method, const char *path, const json_t *body,
	      struct http_reply *r)
{
	char *text = body ? json_compact(body) : NULL;
	int rc;

	rc = http_do(c, method, path, body ? "application/json" : NULL, text,
		     text ? strlen(text) : 0, NULL, NULL, NULL, 0, r);
	free(text);
	return rc;
}

int http_download(struct http_client *c, const char *path, FILE *out, long long from,
		  struct http_reply *r)
{
	int rc = http_do(c, "GET", path, NULL, NULL, 0, NULL, NULL, out, from, r);

	if (rc < 0)
		return -1;
	if (fflush(out) != 0)
		return -1;
	if (r->status == 200 && from > 0) {
		/* the server ignored the range: it sent the whole file from byte 0 */
		return -1;
	}
	return r->status == 200 || r->status == 206 ? 0 : -1;
}

int http_upload_file(struct http_client *c, const char *path, const char *file,
		     struct http_reply *r)
{
	return http_do(c, "PUT", path, "application/octet-stream", NULL, 0, NULL, file, NULL, 0, r);
}
