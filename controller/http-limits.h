/* The HTTP server's connection policy (issue 13, finding 5): how many connections
 * in all and from one address, how long an unauthenticated connection may idle,
 * how long a request's head may take to arrive whatever its pace, 503 when full,
 * and the dropped connections counted and logged once per interval (never one
 * line per connection). Used by http.c only; every function runs on
 * libmicrohttpd's polling thread unless said otherwise. */
#ifndef XENCI_HTTP_LIMITS_H
#define XENCI_HTTP_LIMITS_H

#include <jansson.h>
#include <microhttpd.h>
#include <sys/socket.h>

#include "validate.h"

struct http_limits {
	unsigned max;		      /* open connections past which a request gets 503 */
	unsigned per_address;	      /* open connections from one address (more: refused) */
	unsigned idle_seconds;	      /* idle time of a connection before it authenticates */
	unsigned auth_idle_seconds;   /* ... and after a request with a valid token */
	unsigned retry_after_seconds; /* the 503's Retry-After */
	unsigned log_seconds;	      /* one summary of dropped connections per this long */
	/* A request's head (request line and headers) must be in within this long of
	 * the connection's start, or of the previous request's end (for one that
	 * authenticated: auth_idle_seconds), however often bytes arrive; libmicrohttpd's
	 * timeout counts idle time only, so one byte every few seconds kept it open. */
	unsigned head_seconds;
};

/* The defaults that the configuration's `connections` section overrides. */
#define HTTP_LIMITS_DEFAULT                                                                        \
	{                                                                                          \
		2000, 64, 15, 120, 10, 60, 15                                                      \
	}

/* The configuration's `connections` section (config.c validates it with these). */
extern const struct vfield http_limits_fields[];
/* Fills *out with the defaults, overridden by the members of section (validated
 * with http_limits_fields; NULL: the defaults only). */
void http_limits_from_json(struct http_limits *out, const json_t *section);

/* Takes the limits (copied), resets the counters and starts the thread that
 * closes connections whose head is overdue; before the server starts. Returns 0
 * or a negative errno (no thread). */
int http_limits_start(const struct http_limits *l);
/* Stops that thread; after the server stopped. */
void http_limits_stop(void);
/* libmicrohttpd's hard connection limit: max and a reserve through which 503
 * replies still get out. */
unsigned http_limits_hard_max(void);
/* MHD_AcceptPolicyCallback: refuses a connection from an address that has
 * per_address open already (counted as dropped). */
enum MHD_Result http_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* An accept thread's http_limits_accept (connections it hands to a daemon with
 * MHD_add_connection, which asks no accept policy): 0 and the connection counted
 * as pending for its address until its daemon starts it, or -1 (refused and
 * counted as dropped) when the address has per_address open or pending already.
 * http_limits_admit_undo: the daemon did not take it. */
int http_limits_admit(const struct sockaddr *addr);
void http_limits_admit_undo(const struct sockaddr *addr);
/* The NOTIFY_CONNECTION cls of the daemons fed by http_limits_admit. */
extern int http_limits_admitted;
/* MHD_NotifyConnectionCallback: counts open connections, in all and by address
 * (one pending of a daemon whose cls is &http_limits_admitted becomes open), and
 * gives each the deadline of its first request's head. */
void http_limits_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code);
/* conn's request head is in: no deadline until the request ends. */
void http_limits_head_done(struct MHD_Connection *conn);
/* conn's request ended: the next head is due within head_seconds, or
 * auth_idle_seconds when authenticated is set (a client that proved who it is
 * may keep its connection idle that long). */
void http_limits_head_next(struct MHD_Connection *conn, int authenticated);
/* 1 when more than max connections are open: the caller replies 503 (counted). */
int http_limits_full(void);
/* The 503's Retry-After, in seconds. */
unsigned http_limits_retry_after(void);
/* A message of libmicrohttpd's error log: logged, but at most a few lines per
 * interval (the rest counted into the summary). Any thread. */
void http_limits_log_mhd(const char *msg);
/* Logs the summary of what was dropped since the last one, when there is any
 * (force: even before the interval is over). Any thread. */
void http_limits_log_flush(int force);

#endif
