/* The HTTP server: libmicrohttpd (epoll), suspend/resume for long polls, a
 * route table, bounded bodies, and one error helper so that every error is
 * {"error": "...", "detail": ...}.
 *
 * With one listener (listen), handlers run on its polling thread with ctl.lock
 * held, unless their route is ROUTE_READ: those run on a read pool thread,
 * without ctl.lock, through the thread's own read-only connection to the store.
 * With agent_listen too, the agents' listener is served that way, and the public
 * one (listen) by workers: each a polling thread of its own, fed connections by
 * an accept thread (the fewest first), on which ROUTE_READ handlers run inline
 * through the worker's own read-only connection, and the others under ctl.lock
 * (docs/architecture.md). A handler parses, calls one domain function and
 * replies through reply_*(); it returns 0 when it replied or parked the request
 * (req_park), negative for a 500. */
#ifndef XENCI_HTTP_H
#define XENCI_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "auth.h"
#include "buf.h"

#define ROUTE_PARAMS_MAX 3
#define ROUTE_PARAM_MAX	 256
#define BODY_MAX_DEFAULT (64 * 1024)
/* A body past this many bytes goes to a spool file as it arrives (never held in
 * memory while a client sends it, however slowly) and is mapped read-only for the
 * handler once complete. */
#define BODY_MEM_MAX (64 * 1024)

#define ROUTE_JSON     0x1u /* the body must be a JSON object: decoded into r->json */
#define ROUTE_LONGPOLL 0x2u /* may park: left out of the latency histogram */
/* A read whose 200 reply depends only on the store: kept and served again until
 * the next write (any change on the connection). Keyed by the URL with its query
 * and by who asks (role, agent). */
#define ROUTE_CACHE 0x4u
/* The handler only reads: the store through db_* read functions, the
 * configuration, and nothing else of the controller's memory (the scheduler's
 * lists, a git repository handle, anything under ctl.lock but the store). It runs
 * on a read pool thread without ctl.lock, beside other reads and beside the
 * writes of the polling thread (agents' heartbeats, claims, results), on a
 * snapshot of the store taken when it starts. It must not park, and a write it
 * tries fails (the connection is read-only). */
#define ROUTE_READ 0x8u

struct req;

struct route {
	const char *method;
	const char *path; /* "{}" matches one path segment, captured into r->param[] */
	int (*handler)(struct req *r);
	size_t body_max; /* 0: BODY_MAX_DEFAULT */
	unsigned flags;
	/* When set, the body is handed over in chunks as it arrives (not buffered):
	 * return 0, or negative to refuse the rest (the handler then sees
	 * r->upload_failed). Called without ctl.lock. */
	int (*upload)(struct req *r, const char *data, size_t len);
};

/* The route table (routes.c), ended by a NULL method. */
extern const struct route routes[];

struct req {
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct route *route;
	char param[ROUTE_PARAMS_MAX][ROUTE_PARAM_MAX];
	int nparam;
	struct auth auth;
	int auth_failed; /* a token was given but is not valid */
	/* The body, NUL-terminated. Up to BODY_MEM_MAX it is held in memory; past
	 * it, body.data is a read-only mapping of its spool file (spool_fd): read
	 * it, never append to it. */
	struct buf body;
	int spool_fd;	  /* -1: none */
	size_t spool_len; /* bytes written to it */
	int spool_error;  /* the errno of a failed write (the body is then lost) */
	int mapped;	  /* body.data is the mapping (spool_len + 1 bytes) */
	int too_big;
	int upload_failed;
	json_t *json; /* ROUTE_JSON: the decoded body */
	long long start_us;
	int replied;
	int parked;
	int retry_after;     /* the reply carries Retry-After (503) */
	int close;	     /* the reply ends the connection (Connection: close) */
	char *cache_key;     /* ROUTE_CACHE: where to keep the reply */
	long long cache_gen; /* ROUTE_CACHE: the store's generation before the read */
	/* ROUTE_READ: the request runs (ran) on a read thread, which leaves its reply
	 * here for the polling thread to send. */
	int pooled;
	unsigned resp_status;
	struct MHD_Response *resp;
	struct req *next; /* the read pool's queue */
	/* The handler's own state across a park, and how to free it. */
	void *state;
	void (*state_free)(void *state);
};

struct http_server;

/* Finds the route for r->method and r->url, filling r->param[]; NULL when none
 * matches, and then *path_known says whether another method would have. */
const struct route *http_route_find(struct req *r, int *path_known);

struct http_limits;
/* listen: "ADDR:PORT" (port 0 picks one). agent_listen: the agents' own
 * listener, "ADDR:PORT", or NULL for one listener serving everyone (either
 * listener serves every route; the split keeps the agents' requests off the
 * threads that run the public reads). cert/key: PEM files, or NULL for HTTP.
 * limits: the connection policy (http-limits.h), copied. spool: the folder in
 * which bodies past BODY_MEM_MAX are kept while they arrive (as unnamed files,
 * gone with their request; copied). Returns 0, or a
 * negative errno with one message in err (errlen bytes): -EINVAL (listen, or an
 * empty PEM file), the errno of opening a PEM file, -EADDRINUSE (the daemon did
 * not start: in use, or TLS setup failed). */
int http_start(struct http_server **out, const char *listen, const char *agent_listen,
	       const char *cert, const char *key, const struct http_limits *limits,
	       const char *spool, char *err, size_t errlen);
/* The bound port of listen, and of agent_listen (0: none). */
int http_port(const struct http_server *s);
int http_agent_port(const struct http_server *s);
/* The number of read pool threads serving ROUTE_READ routes of the polling
 * thread's listener (0: they run on it under ctl.lock, like every other route). */
int http_read_threads(const struct http_server *s);
/* The number of public workers (0: one listener). XENCI_READ_THREADS sets how
 * many workers and how many read pool threads (0: one worker, and no pool: the
 * pool's reads run under ctl.lock); by default one per processor, 2 to 8. */
int http_workers(const struct http_server *s);
/* Stops accepting, lets in-flight requests finish, and frees s. */
void http_stop(struct http_server *s);

/* Replies. Each consumes the json it is given. */
int reply_json(struct req *r, unsigned status, json_t *body);
int reply_error(struct req *r, unsigned status, const char *error, json_t *detail);
/* A JSON document already serialised in b, whose text the response takes (b is
 * left empty, to be released as usual): no copy of a list's tens of KiB. */
int reply_json_buf(struct req *r, unsigned status, struct buf *b);
int reply_errorf(struct req *r, unsigned status, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int reply_data(struct req *r, unsigned status, const char *content_type, const void *data,
	       size_t len);
/* Takes the response (and destroys its reference). Adds Cache-Control: no-store,
 * X-Content-Type-Options: nosniff and Content-Security-Policy: HTTP_CSP_NONE
 * where the response does not carry its own, so that each appears once. */
int reply_response(struct req *r, unsigned status, struct MHD_Response *resp);
/* The policy of every reply that is not one of the status page's HTML pages. */
#define HTTP_CSP_NONE "default-src 'none'; frame-ancestors 'none'"

/* The query parameter key, or the request header name (case-insensitive), as
 * the client sent it (URL-decoded for the query); borrowed from the request, or
 * NULL when absent. */
const char *req_query(struct req *r, const char *key);
const char *req_header(struct req *r, const char *name);
/* Parses a query parameter as a non-negative integer within [0, max]; def when absent.
 * Returns -1 (after replying 400) when it is not one. */
int req_query_int(struct req *r, const char *key, long long def, long long max, long long *out);

/* Auth helpers: each replies 401/403 and returns -1 when the caller may not go on. */
int req_need_role(struct req *r, enum role min);
/* An agent token of agent `name`, or admin. */
int req_need_agent(struct req *r, const char *name);

/* http-params.c: what a request says beyond its route. */
struct viewer;
struct vfield;
/* Fills v with who asks (admin; the agent of an agent token; else anonymous or a
 * user, who see the same). v->agent borrows r's. */
void req_viewer(const struct req *r, struct viewer *v);
/* The {} parameter i as a positive decimal id (no sign, no leading zero, no
 * overflow), or 0 when it is not one. */
long long req_param_id(const struct req *r, int i);
/* The same into *id; replies 404 and returns -1 when it is not one. */
int req_need_id(struct req *r, int i, long long *id);
/* Validates r->json against fields; replies 400 with the validator's list and
 * returns negative when it does not hold. */
int req_validate(struct req *r, const struct vfield *fields);

/* Suspends the request until req_wake(); the handler is then called again.
 * Not on a ROUTE_READ route (logged; the request then gets a 500). */
void req_park(struct req *r);
void req_wake(struct req *r);

/* Request latency histogram for /metrics (microseconds). */
#define HTTP_LAT_BUCKETS 12
extern const double http_lat_bounds[HTTP_LAT_BUCKETS];
struct http_stats {
	unsigned long long count;
	unsigned long long bucket[HTTP_LAT_BUCKETS];
	double sum_seconds;
	unsigned long long by_class[6]; /* 1xx..5xx by first digit */
};
void http_stats_get(struct http_stats *out);

#endif
