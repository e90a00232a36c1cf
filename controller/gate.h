/* The push gate: when no gating job of a flight on a gated branch regressed or
 * broke (its verdict classes, triage.h), the gate ref is fast-forwarded to the
 * flight's commit; on anything else it is held.
 * Each decision says why, for the record and the page.
 *
 * gate_judge() is the older pure part, over attempts alone: it reads a flight's jobs (the "jobs"
 * array of the flight JSON, docs/api.md "Flight": {job, board, number, state, verdict}) where
 * retried infra attempts appear once per attempt number; only the newest attempt of each (job,
 * board) counts, so an infra failure that a retry fixed does not hold the gate. */
#ifndef XENCI_GATE_H
#define XENCI_GATE_H

#include <jansson.h>
#include <stddef.h>

#include "git-repo.h"

enum gate_outcome {
	GATE_WAIT = 0, /* a gating job has not finished yet: no decision */
	GATE_PASS,     /* every gating job passed: advance */
	GATE_HOLD,     /* a gating job failed, or did not run */
};

#define GATE_REASON_MAX 512

struct gate_decision {
	enum gate_outcome outcome;
	const char *action; /* after gate_apply: "advanced", "already", "held", "waiting" */
	char reason[GATE_REASON_MAX];
	char from[GITREPO_HEX]; /* the ref's commit before; "" when unknown */
};

/* Judges jobs (the flight's) against the gating job names. */
enum gate_outcome gate_judge(struct gate_decision *d, const json_t *jobs, const char *const *gating,
			     size_t ngating);

/* Judges a flight's verdict classes (triage.h) against the gating job names, as
 * the gate does (gate_check): a gating job's row still pending waits; a row that
 * blocks (regression, broken, unless a known issue that does not block matched)
 * or that was not tested (starved, blocked by its build, cancelled), or a gating
 * job with no row, holds, the reason naming the class, OSSTest's words and the
 * board; pass, still failing, never passed, heisenbug and allowed rows let it
 * advance. t is borrowed. */
struct triage;
enum gate_outcome gate_judge_triage(struct gate_decision *d, const struct triage *t,
				    const char *const *gating, size_t ngating);

/* Judges, then on GATE_PASS fast-forwards ref (a full ref name) to commit in r.
 * A ref that does not exist yet is created at commit (the first tested commit,
 * like a first push to a new branch). A ref that would not fast-forward is
 * held, never forced. Returns 0 when a
 * decision was made or it is to wait (d says which), negative on a git error. */
int gate_apply(struct gate_decision *d, struct gitrepo *r, const char *ref, const char *commit,
	       const json_t *jobs, const char *const *gating, size_t ngating);

/* The gate of the watched trees: gate.c observes finished test attempts and
 * re-evaluates their flight's gate, recording each decision (ctl.lock held). */
struct trees_conf;
/* Starts observing, with trees (borrowed until gate_stop). 0 or -ENOSPC. */
int gate_start(const struct trees_conf *trees);
/* Forgets the trees: no gate is evaluated until the next gate_start. */
void gate_stop(void);
/* While on, finished attempts leave gates alone (the watcher cancelling the
 * flights it coalesces: they were replaced, not failed). */
void gate_pause(int on);
/* Re-evaluates the gate of a flight (the observer calls it; tests may too). */
void gate_check(long long flight_id);

#endif
