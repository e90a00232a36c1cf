/* The scheduler's parked requests: long-poll claims, log followers and event
 * streams, woken when their thing happens, and a timer thread that ends them
 * when they run out (and sweeps lapsed leases). Everything here runs with
 * ctl.lock held, except sched_start/sched_stop. */
#ifndef XENCI_SCHED_H
#define XENCI_SCHED_H

#include <jansson.h>

#include "http.h"

enum park_kind { PARK_CLAIM, PARK_LOG, PARK_EVENTS };

struct park {
	struct req *r;
	enum park_kind kind;
	long long key;	    /* PARK_LOG: the attempt id */
	long long deadline; /* ms; 0: none */
	int woken;
	/* PARK_CLAIM */
	char agent[65];
	json_t *boards;	 /* the agent's free boards */
	json_t *arches;	 /* builder arches when it takes builds, else NULL */
	json_t *payload; /* the claimed attempt, once there is one */
	struct park *prev, *next;
};

/* Parks r (the handler then returns 0); the park is r->state and is freed with r.
 * Returns NULL (and parks nothing) once the server is stopping: reply at once.
 * A request that was woken may park again (event streams): its park is reused. */
struct park *sched_park(struct req *r, enum park_kind kind, long long key, long long deadline);

/* A test attempt was queued for board: offer it to a waiting claim. */
void sched_kick_board(const char *board);
/* A build attempt for arch was queued. */
void sched_kick_build(const char *arch);
/* Offer every queued attempt to every waiting claim (after bulk changes). */
void sched_kick_all(void);
/* Wake the log followers of an attempt, and the event streams. */
void sched_wake_log(long long attempt);
void sched_wake_events(void);
/* Ends every park, and refuses new ones (shutdown). */
void sched_wake_all(void);
/* How many requests are parked now. */
int sched_parked(void);
/* The number of parked claims (for /metrics). */
int sched_waiting_claims(void);

int sched_start(void);
void sched_stop(void);

#endif
