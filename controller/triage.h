/* Triage: the verdict class of each (job, board class) of a flight against its
 * baseline, in OSSTest's words (its sg-report-flight: "REGR. vs. N", "like N",
 * "never pass", "pass in N-retest", "broken", "blocked", "starved"; its allow.*
 * files for "allowed"). The gate, the flight twin, the branch matrix and the
 * flight reports read the classes from here and nowhere else.
 *
 * The rule, per (job, board class) of the flight (the newest attempt of each
 * (job, board); a test no board took has the class ""):
 *   - an attempt still to run: pending;
 *   - every attempt starved: starved; a test cancelled because its build failed:
 *     blocked; else cancelled (a flight replaced by a newer one);
 *   - no failure (fail, timeout): pass when one passed, else broken (infra);
 *   - a failure and a pass on another board of the class in the same flight, or
 *     a retest of the same revision that passed: pass in retest (a heisenbug);
 *   - a failure whose retest (bisector.c makes one for each failure of a push
 *     flight, table retests) has not ended: pending;
 *   - else against the newest ancestor revision on which the job had a result on
 *     the class, in any flight, before the failure (what was known then: not the
 *     steps of the bisection it started): it passed there: regression (baseline:
 *     that flight); it failed there: still failing (like that flight) when an
 *     ancestor passed, never passed when none did; no ancestor result: the
 *     baseline flight bisector.c made for it decides (untested: pending; pass:
 *     regression vs. it; fail: never passed), and never passed without one.
 * A failure the branch's allow-list covers is allowed. Only regression and broken
 * block the gate, and not when a known issue that does not block matches
 * (known-issues.h: the row keeps its class and carries the issue's label).
 *
 * Every function expects ctl.lock held. */
#ifndef XENCI_TRIAGE_H
#define XENCI_TRIAGE_H

#include <jansson.h>
#include <stddef.h>

struct viewer; /* db-boards.h */

struct gitrepo;

enum triage_class {
	TRIAGE_PASS,
	TRIAGE_REGRESSION,    /* "REGR. vs. N": failed where the baseline N passed */
	TRIAGE_STILL_FAILING, /* "like N": failed in the newest ancestor's flight N too */
	TRIAGE_NEVER_PASSED,  /* "never pass": no ancestor passed it on the class */
	TRIAGE_HEISENBUG,     /* "pass in N-retest": failed, then passed at the same revision */
	TRIAGE_BROKEN,	      /* "broken": infra (the lab), after every retry */
	TRIAGE_BLOCKED,	      /* "blocked": its build failed */
	TRIAGE_STARVED,	      /* "starved": no eligible board in time */
	TRIAGE_ALLOWED,	      /* "allowed": a failure the branch's allow-list covers */
	TRIAGE_PENDING,	      /* not decided yet: running, retest or baseline to come */
	TRIAGE_CANCELLED,     /* cancelled (its flight was replaced) */
	TRIAGE_CLASS_N
};

/* The class's name in the API, the page and X-Xenci-Failures: "pass",
 * "regression", "still-failing", "never-passed", "heisenbug", "broken", "blocked",
 * "starved", "allowed", "pending", "cancelled" (a static string; "" out of range). */
const char *triage_class_name(enum triage_class c);
/* The name's class: 0 and *c, or -EINVAL. */
int triage_class_of(enum triage_class *c, const char *name);

/* One row: a (job, board class) of a flight. */
struct triage_row {
	char *job;	   /* owned; the job's name (a variant is part of it: xen-sched/rtds) */
	char *board_class; /* owned; "" for a test no board took */
	char *board;	   /* owned; the board of `attempt` ("" for none) */
	enum triage_class cls;
	long long attempt;  /* the attempt that decided the class (a failure first) */
	long long baseline; /* regression: the flight that passed; still failing: the
			     * flight that failed too; else 0 */
	long long retest;   /* heisenbug: the flight that passed on retest; else 0 */
	/* The known issue (known-issues.h) the deciding attempt matched, as it was
	 * recorded then: its id, label and link (owned; all NULL when none matched). */
	char *known_issue, *known_label, *known_link;
	int known_blocks; /* that issue blocks (its blocks: true) */
	int blocking;	  /* 1 when it holds the gate */
};

/* A flight's rows, in the order of their first attempt. */
struct triage {
	long long flight;
	struct triage_row *rows; /* owned, n of them */
	size_t n;
};

/* Classifies every (job, board class) of flight into t (which the caller
 * releases with triage_release, also on error). Returns 0; -ENOENT (no such
 * flight); -ENOMEM; -EIO (the store). The ancestry comes from the flight's tree
 * (the configuration's, ctl.cfg.trees: its repository, opened by trees_start); a
 * tree no longer configured, or not yet opened, leaves failures never passed. */
int triage_flight(struct triage *t, long long flight);
void triage_release(struct triage *t);

/* 1 when the failure of job on class cls in flight is to be bisected: its class
 * is regression, or not decided yet (pending); 0 when it is still failing, never
 * passed, a heisenbug, allowed or matched a known issue that does not block (a bisection only
 * starts on a confirmed regression, and a job that failed in its baseline too is not bisected
 * again). */
int triage_bisects(long long flight, const char *job, const char *cls);

/* OSSTest's words for row r into out (n bytes; "REGR. vs. 12", "like 12",
 * "never pass", "pass in 14-retest", "broken", "blocked", "starved", "allowed",
 * "pass", "pending", "cancelled"). Returns out. */
const char *triage_row_text(char *out, size_t n, const struct triage_row *r);
/* A row as JSON: {job, class (its board class), board, verdict_class, text,
 * attempt, baseline, retest, known_issue, blocking}, known_issue null or {id, label,
 * link, blocks} (a new reference; NULL on ENOMEM). */
json_t *triage_row_json(const struct triage_row *r);

/* The measured flake rates of board class cls, per (tree, job) that ran on it:
 * [{tree, job, class, rate, heisenbugs, window}], rate db_bisect_flake_rate's
 * (the share of runs that disagree with their revision's majority among revisions
 * run at least twice in the newest `window` pass/fail results; null while no
 * revision ran twice), heisenbugs the failures whose retest passed; both counted
 * over the boards v (NULL: anonymous) may see, so that a public figure tells
 * nothing of a private board (twins.h). A new reference; reads only (the read
 * pool may call it without ctl.lock). */
json_t *triage_flake_rates(const char *cls, const struct viewer *v);
/* One such row for tree's (id tree_id) job on class cls, whether or not it ran
 * there lately (the branch matrix asks for the jobs and classes it shows). */
json_t *triage_flake_rates_of(long long tree_id, const char *tree, const char *job, const char *cls,
			      const struct viewer *v);

/* Stored classes (flights.triage, migration 130): the pages and the twins read a
 * flight's rows from the store (db_triage_stored) rather than judging them per
 * request, which on the read pool they could not (the ancestry walks a git
 * repository, db_tree_id writes). Triggers mark a flight stale (1) whenever a row
 * its classes read changes (its attempts, their known issues, its retests and
 * baselines); the writer judges it again before that change commits
 * (triage_store_start), so a reader never sees the change without its classes.
 *
 * triage_store_stale judges again at most limit of the flights stale at level (1:
 * changed; 2: from before the migration, which the timer judges a few at a time,
 * newest first) and stores their rows, inside the open transaction or in one of
 * its own: how many it stored, or -EIO. ctl.lock held, on the writer. */
int triage_store_stale(int level, int limit);
/* From now on, every commit and every release of ctl.lock first stores the classes
 * of the flights stale at level 1 (db_on_commit). Called once the trees are open
 * (the ancestry needs their repositories). */
void triage_store_start(void);

/* The newest of the revisions in `commits` (an array of objects with a "commit"
 * member; borrowed) that is an ancestor of bad in repo: its index, or -1. When
 * several are, the one that descends from the others (the closest to bad).
 * Bounded by the array: at most 2 · its size ancestry checks. */
int triage_newest_ancestor(struct gitrepo *repo, const json_t *commits, const char *bad);

#endif
