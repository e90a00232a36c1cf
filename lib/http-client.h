/* The HTTP client of the agent and the CLI: libcurl with timeouts, JSON in and
 * out, a bearer token, and retries with exponential backoff and full jitter on
 * transport errors and 5xx replies (every xenci protocol call is idempotent).
 *
 * One struct http_client is one reused curl handle (keep-alive): use it from one
 * thread at a time. */
#ifndef XENCI_HTTP_CLIENT_H
#define XENCI_HTTP_CLIENT_H

#include <jansson.h>
#include <stdio.h>

#include "buf.h"

#define HTTP_REPLY_MAX (64 * 1024 * 1024)

struct http_client {
	char *base;   /* "http://127.0.0.1:8080", no trailing slash */
	char *token;  /* bearer token, or NULL */
	char *cafile; /* extra CA bundle for HTTPS, or NULL */
	long connect_timeout_ms;
	long timeout_ms; /* the whole request; 0 = none */
	int retries;	 /* further tries after the first */
	long backoff_ms; /* first wait; doubles up to backoff_max_ms */
	long backoff_max_ms;
	void *curl; /* CURL * */
};

struct http_reply {
	long status;	 /* 0 when no reply arrived */
	struct buf body; /* bounded by HTTP_REPLY_MAX */
	char content_type[128];
	char error[256]; /* transport error text, or the reply's "error" member */
	json_t *json;	 /* the body decoded, when it is JSON; else NULL */
};

/* A client of base ("https://host:port", copied without trailing slashes) with
 * bearer token (copied; NULL: none), a 5 s connect and 60 s whole-request timeout
 * and no retries, which the caller may change in c. 0, or -ENOMEM when curl gave
 * no handle (c is still safe to release). */
int http_client_init(struct http_client *c, const char *base, const char *token);
/* Frees the handle and the copies; c may be NULL. */
void http_client_release(struct http_client *c);
/* Replaces the bearer token with a copy of token (NULL: none). */
void http_client_set_token(struct http_client *c, const char *token);

/* An empty reply, its body bounded by HTTP_REPLY_MAX; released (body and json
 * freed) by http_reply_release, which accepts NULL. */
void http_reply_init(struct http_reply *r);
void http_reply_release(struct http_reply *r);

/* Sends a request (body may be NULL) and fills r. Returns 0 when a reply arrived,
 * whatever its status (retried first if 5xx), or -1 on a transport failure after
 * the retries (r->error says why). extra_headers: NULL-terminated, or NULL. */
int http_request(struct http_client *c, const char *method, const char *path,
		 const char *content_type, const void *body, size_t len,
		 const char *const *extra_headers, struct http_reply *r);

/* The same with a JSON body (or NULL) and a JSON reply decoded into r->json. */
int http_json(struct http_client *c, const char *method, const char *path, const json_t *body,
	      struct http_reply *r);

/* GETs path into the open file out, appending from byte `from` with a Range
 * request. Returns 0 on 200/206 (r->status says which), -1 otherwise. */
int http_download(struct http_client *c, const char *path, FILE *out, long long from,
		  struct http_reply *r);

/* Uploads a file as the body of a PUT. */
int http_upload_file(struct http_client *c, const char *path, const char *file,
		     struct http_reply *r);

/* Backoff before try n (0-based): a random time in [0, min(max, base * 2^n)]. */
long http_backoff_ms(long base_ms, long max_ms, int n);

#endif
