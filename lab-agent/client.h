/* The controller client (docs/api.md, agent protocol v1): declare, claim, and
 * per attempt a sender thread that streams the spooled log, heartbeats the
 * lease and posts the result. Every call is idempotent, so every failure is
 * retried with exponential backoff and full jitter; nothing is dropped until
 * the controller acknowledged it (or said the attempt is no longer ours). */
#ifndef XENCI_AGENT_CLIENT_H
#define XENCI_AGENT_CLIENT_H

#include <jansson.h>
#include <pthread.h>

#include "board.h"
#include "http-client.h"
#include "spool.h"

#define CLIENT_PROTOCOL	 1
#define CLIENT_LOG_CHUNK (1024 * 1024)
/* The log is sent in batches: the first unsent byte waits at most
 * CLIENT_LOG_LINGER_MS for others, unless CLIENT_LOG_BATCH bytes are pending or
 * the attempt ended. Sending each console read as it came made one PUT per few
 * bytes (2,354 for a 32 KB U-Boot + Xen boot log, mostly TFTP's progress marks),
 * whose CPU on the agent's and the controller's side slowed the board's TFTP
 * under QEMU; a viewer's live log is at most this much later. 100 ms, not 50:
 * with 32 consoles streaming, each PUT (the sender's wakeups, curl, the reply)
 * was a third of the agent's CPU. */
#define CLIENT_LOG_LINGER_MS 100
#define CLIENT_LOG_BATCH     (64 * 1024)

/* Outcomes of client calls. */
#define CLIENT_OK    0
#define CLIENT_RETRY (-1) /* transport error or 5xx: try again later */
#define CLIENT_FATAL (-2) /* the controller refuses (4xx): retrying will not help */

int client_init(struct http_client *h, const struct agent_config *cfg);
/* PUT /agents/AGENT/boards with body (agent_declare_body; borrowed). */
int client_declare(struct http_client *h, const char *agent, json_t *body, char *err,
		   size_t errlen);
/* POST /agents/NAME/claim: 1 with *attempt, 0 when no work came. build: take
 * a build attempt too (the agent builds and is not building now). *attempt is
 * the ATTEMPT document, or {"command": {board, action, reason}} when the
 * controller sent a power action for one of the free boards. */
int client_claim(struct http_client *h, const struct agent_config *cfg, const char *const *boards,
		 size_t nboards, int build, json_t **attempt, char *err, size_t errlen);
/* POST /attempts/ID/result without a spool (handing an attempt back). */
int client_post_result(struct http_client *h, long long id, const json_t *result, char *err,
		       size_t errlen);

struct sender {
	const struct agent_config *cfg;
	struct spool_attempt *sa;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	long long written;	 /* log bytes the runner has spooled */
	long long pending_since; /* monotonic ms of the first byte not yet sent; 0: none */
	long long pending_base;	 /* written then */
	int finished;		 /* result.json is stored */
	int stopping;		 /* the agent stops: end once nothing more can be sent */
	int lapsed;		 /* the controller said 410: the attempt is not ours */
	int done;		 /* the thread ended */
	int log_full;		 /* 413: the controller keeps no more */
	int lease_seconds;
	char stage[64];
	long long acked; /* the controller's stored length */
};

/* Starts the sender of a spooled attempt (finished: its result is stored). */
int sender_start(struct sender **out, const struct agent_config *cfg, struct spool_attempt *sa,
		 int finished);
void sender_wrote(struct sender *s, long long written);
void sender_set_stage(struct sender *s, const char *stage);
void sender_finish(struct sender *s);
/* Waits until the sender's thread has ended or *stop is set (looked at every
 * 100 ms: the signal thread sets it without the sender's lock). */
void sender_wait_done(struct sender *s, _Atomic int *stop);
int sender_lapsed(struct sender *s);
/* Asks it to end once it cannot send more; waits up to wait_ms, then leaves
 * the rest in the spool for the next start. Frees s and its spool handle. */
void sender_stop_free(struct sender *s, int wait_ms);
/* Waits until it has delivered everything (or lapsed), then frees it. */
void sender_join_free(struct sender *s);

#endif
