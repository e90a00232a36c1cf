/* The attempt state machine:
 *   waiting → queued → claimed → running → pass | fail | infra | timeout | cancelled
 * and, for a test no board took (board NULL, flights.h): waiting → starved.
 * Every transition is one transaction that also writes one row into events.
 * All functions expect ctl.lock held.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_ATTEMPTS_H
#define XENCI_ATTEMPTS_H

#include <jansson.h>

#include "db-attempts.h"

/* Observers of finished attempts (the push gate, the bisector): called after the
 * transaction committed, with the lock held. verdict: the final state. */
typedef void (*attempt_observer_fn)(const struct attempt *a, enum attempt_state verdict,
				    void *user);
/* Registers an observer (at most 16); 0 or -ENOSPC. */
int attempt_observe(attempt_observer_fn fn, void *user);

/* Records a state-change event inside the caller's transaction. */
int attempt_event(const char *type, const struct attempt *a, enum attempt_state state,
		  const char *reason);

/* Inserts attempt a (state "queued" or "waiting"), writes its event; the caller
 * holds a transaction and calls attempt_offer() after committing. */
int attempt_insert(long long *id, struct attempt *a);
/* Offers a queued attempt to the waiting claims (after the commit). */
void attempt_offer(long long id);

/* What this module offers to the parked claims (park.h, PARK_CLAIM): a queued
 * test for board, or a queued build for arch; both NULL: whatever is queued.
 * A claim's offer callback takes it by calling attempt_claim(). */
struct claim_offer {
	const char *board;
	const char *arch;
};

/* Claims the best queued attempt for agent's free boards and, when arches is not
 * NULL, builds of those arches. *payload gets the ATTEMPT document, or NULL when
 * there is no work. boards must be the agent's own (checked by the caller). */
int attempt_claim(json_t **payload, const char *agent, const json_t *boards, const json_t *arches);
/* The ATTEMPT document of docs/api.md (claim reply). */
json_t *attempt_payload(const struct attempt *a);

/* Ends attempt a with verdict. result: the result body as stored (NULL for a
 * lapse or a cancel). Releases the board, updates health, queues a retry after
 * infra, releases or cancels the tests that wait for a build. */
int attempt_finish(struct attempt *a, enum attempt_state verdict, const char *reason,
		   const json_t *result);
/* The same, running extra(ctx) first inside the same transaction (the result's
 * stages and test cases): one transition, one transaction. */
/* A test attempt's result on its board's commissioning: when the attempt's job
 * is an examine (a job with facts, docs/jobs.md), its facts become the board's
 * properties (verdict pass) or the board leaves the pool with the reason
 * (any other verdict). Nothing for other jobs. Called inside
 * attempt_finish_with's transaction. 0 or -EIO. */
int attempt_examine_settle(const struct attempt *a, enum attempt_state verdict, const char *reason,
			   const json_t *result);
int attempt_finish_with(struct attempt *a, enum attempt_state verdict, const char *reason,
			const json_t *result, int (*extra)(void *ctx), void *ctx);
/* Before a's agent reports on a: an attempt whose lease ran out but that the
 * sweep has not reached yet is lapsed now, so that the answer does not depend
 * on the sweep's timing. Returns 0 when a's lease is live (claimed or running,
 * not run out), -ESTALE otherwise (a->state says what a is now). */
int attempt_lease_check(struct attempt *a);
/* A heartbeat from a's agent (stage: where it is, or NULL). After
 * attempt_lease_check(), in one transaction:
 * renews the lease, moves claimed -> running the first time, records the stage
 * (event attempt.stage). Returns 0; -ESTALE when the lease is not live (a->state
 * says what the attempt is now); -EIO. */
int attempt_heartbeat(struct attempt *a, const char *stage);
/* Appends len bytes of console log that start at offset to a's log (logs.c)
 * for its agent (data is borrowed): a replay of bytes already stored is
 * accepted as is; new bytes
 * need a live lease (attempt_lease_check()). After new bytes the log's
 * length is recorded, the attempt moves claimed -> running the first time (the
 * lease renewed) and the log's followers are woken. Returns 0 and *length the
 * stored length; -ERANGE (a gap: offset past *length), -EEXIST (the bytes
 * that overlap the stored ones differ from them: nothing stored), -ESTALE (no live lease),
 * -EFBIG (the log would outgrow LOG_MAX; *length stored); -EIO or another
 * -errno of the store. */
int attempt_log_append(struct attempt *a, long long offset, const void *data, size_t len,
		       long long *length);
/* Lapses every lease that ended before now. */
void attempt_sweep_leases(long long now);
/* Cancels an attempt that has not finished: 0, -ENOENT, or -EALREADY. */
int attempt_cancel(long long id, const char *reason);

#endif
