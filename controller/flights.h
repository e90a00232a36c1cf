/* The flight model: a revision × the jobs it gets. Creating a flight takes, per
 * arch needed by jobs that list artifacts, one build of each tree of its tuple:
 * the one another flight made for that (tree, commit, arch) when it may be taken
 * (queued, passed or failed; never one that ended infra; docs/flights.md), else a
 * new build attempt; and makes one test attempt per (job × matching online board);
 * tests that need artifacts wait for their arch's builds. C entry point for the
 * watcher, the gate and the bisector. */
#ifndef XENCI_FLIGHTS_H
#define XENCI_FLIGHTS_H

#include <jansson.h>

#include "buf.h"

struct viewer;

struct flight_spec {
	const char *tree;     /* "xen" */
	const char *commit;   /* 40 hex digits */
	const char *ref;      /* or NULL */
	const char *describe; /* or NULL */
	const json_t *jobs;   /* array of job names, or NULL for every job */
	const char *kind;     /* push, submission, bisect, manual */
	int priority;	      /* enum priority (db-attempts.h) */
	const char *board;    /* when set, only this board (bisection steps) */
	const char *user;     /* the user token's name (submission, manual), or NULL */
	/* The whole revision {tree: {commit, kind, ref, moves}} (trees_flight_create()), with
	 * tree/commit as its moving member; NULL: tree/commit alone. */
	const json_t *tuple;
	/* Who asks (NULL: the controller itself): a board by name that it may not see
	 * is as a board that does not exist (no attempt on it). */
	const struct viewer *viewer;
};

/* Returns 0 and the flight id, -ENOENT (an unknown job: err, errlen bytes, names
 * it) or -EIO. Takes a transaction of its own, and offers the queued attempts
 * after it. */
int flight_create(long long *id, const struct flight_spec *spec, char *err, size_t errlen);
/* A flight's job with no eligible board at flight_create() (not for flights
 * pinned to a board) gets one unplaced test attempt (board NULL, waiting), so the
 * flight waits instead of ending with nothing run. */
/* Places the unplaced attempts on every eligible board there is now (after an
 * agent declared its boards): the first takes the attempt, the others get new
 * ones, with builds as flight_create() makes them. Returns how many were placed,
 * or -EIO. Takes a transaction of its own; ctl.lock held. */
int flight_adopt(void);
/* Ends `starved` the unplaced attempts made starve_ms or more before now (through
 * attempt_finish: the observers see them). ctl.lock held. */
void flight_starve(long long now, long long starve_ms);
/* "gate" → PRIO_GATE, ...; -1 when unknown. */
int priority_parse(const char *s);
/* 1 when a board (as db_boards_all() gives it) meets job's requires. */
int job_matches_board(const json_t *job, const json_t *board);
/* 1 when board's policy (as db_boards_all() gives it) allows a flight of kind,
 * tree, ref and user (each may be NULL); else 0 and why (may be NULL). */
struct policy_subject;
int flight_board_allows(const json_t *board, const struct policy_subject *s, char *why,
			size_t whylen);

#endif
