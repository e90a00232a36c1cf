/* The bisections and bisection_runs tables (schema/0020). Every function expects
 * ctl.lock held (see db.h); commit ids are 40 hex digits.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_BISECT_DB_H
#define XENCI_BISECT_DB_H

#include <jansson.h>
#include <sqlite3.h>

struct viewer; /* db-boards.h */

/* The statements at open and close: see db-modules.h. */
int db_bisect_prepare(sqlite3 *db);
void db_bisect_finalize(void);

/* The class of board name into cls (65 bytes); 0 or -ENOENT. */
int db_bisect_board_class(char *cls, const char *board);
/* The revisions of tree_id but `not` on which job passed on a board of class cls, in
 * any flight (push, manual, submission, bisection step): [{commit, attempt}] with
 * the newest passing attempt of each, newest first, at most BISECT_PASSES_MAX of
 * them (infra, timeout and starved results are not passes). New reference. */
#define BISECT_PASSES_MAX 64
json_t *db_bisect_passes(long long tree_id, const char *job, const char *cls, const char * not );
/* The measured flake rate of job on board class cls in tree_id, for the bisector's
 * confirmation (bisect_options.class_flake_rate): over the newest
 * BISECT_FLAKE_WINDOW pass/fail results of the job on the class, the revisions that
 * ran it at least twice, the share of their runs that disagree with their
 * revision's majority (min(passes, fails) / runs; infra, timeout and starved results
 * are no verdict). Only the runs of boards v may see count (twins.h's visibility
 * rule: NULL is anonymous, and a private board's runs are its agent's and admins'
 * figure); the bisector, which runs on every board of the class, asks as admin.
 * *rate in 0..0.5; 0, -ENOENT when no revision ran it twice (the rate is unknown),
 * -EIO. A read thread remembers the last 256 it measured with the store's
 * result_changes.n (schema/0133-result-changes.sql) and gives one again, without
 * the walk, while n is the same: no result, board, agent, flight or revision
 * that the walk reads has changed since. */
#define BISECT_FLAKE_WINDOW 500
int db_bisect_flake_rate(double *rate, long long tree_id, const char *job, const char *cls,
			 const struct viewer *v);
/* A baseline flight's state (table baselines): its candidate not run yet, passed
 * (a bisection follows), or failed (the job is still failing: no bisection). */
enum baseline_state { BASELINE_UNTESTED, BASELINE_PASS, BASELINE_FAIL, BASELINE_STATE_N };
/* "untested", "pass", "fail": a static string; "" for BASELINE_STATE_N. */
const char *baseline_state_name(enum baseline_state s);
/* The state named name; BASELINE_STATE_N for an unknown name. */
enum baseline_state baseline_state_of(const char *name);
/* Records that flight tests `tested` as the baseline of (job, class) failing at bad
 * (trigger_attempt of trigger_flight): 0 or -EIO. */
int db_baseline_insert(long long tree_id, const char *job, const char *cls, const char *bad,
		       long long trigger_attempt, long long trigger_flight, const char *tested,
		       long long flight);
/* 0 when a baseline of (job, class, bad) is untested still, else -ENOENT. */
int db_baseline_pending(const char *job, const char *cls, const char *bad);
/* The untested baseline that flight runs for (job, class): 0 with its id and
 * trigger attempt, or -ENOENT. */
int db_baseline_of_run(long long *id, long long *trigger, long long flight, const char *job,
		       const char *cls);
int db_baseline_set(long long id, enum baseline_state state);
/* The baselines of the failures of flight: [{attempt (the failure), job, class, bad,
 * tested, flight, state, created, finished}] (new reference). */
json_t *db_baselines_of_flight(long long flight);
/* The newest bisection of (job, class) that was not cancelled: 0 with its id, good
 * and bad commits, or -ENOENT. */
int db_bisect_latest(long long *id, char good[41], char bad[41], const char *job, const char *cls);
/* A bisection of (job, class) whose bad revision is bad, not cancelled: 0 with its
 * id and restart count, or -ENOENT. */
int db_bisect_find_bad(long long *id, int *restart, const char *job, const char *cls,
		       const char *bad);
int db_bisect_insert(long long *id, long long tree_id, long long branch_id, const char *job,
		     const char *cls, const char *good, const char *bad, const char *board,
		     long long trigger_attempt);
/* A run: verdict NULL while it is to come. flight, attempt: 0 for none. tree: the
 * tree of commit (NULL: the tree the bisection searches). */
int db_bisect_run_add(long long *id, long long bisection, int restart, const char *purpose,
		      const char *commit, int revert, const char *tested, long long flight,
		      long long attempt, const char *board, const char *verdict, const char *tree);
/* Records the trees that moved between the regression's baseline and its failing
 * flight, {tree: {good, bad}} (several: the guilty one is to be isolated first;
 * schema/0076). 0 or -EIO. */
int db_bisect_set_moved(long long id, const json_t *moved);
/* The tree whose change is guilty, the range searched in it and the tuple its
 * steps pin (the baseline's revisions of the other trees). 0 or -EIO. */
int db_bisect_set_guilty(long long id, const char *tree, const char *good, const char *bad,
			 const json_t *pins);
int db_bisect_run_finish(long long run, long long attempt, const char *board, const char *verdict);
int db_bisect_run_remaining(long long run, long long remaining);
/* The runs still to come of flight: [{id, bisection, purpose, commit, revert,
 * restart, tree}]. */
json_t *db_bisect_runs_pending(long long flight);
/* Every run of a bisection (restart < 0: of every restart), in order:
 * [{id, purpose, commit, revert, tested, flight, attempt, board, verdict, remaining,
 *   restart, created, finished, tree (null: the tree searched)}]. */
json_t *db_bisect_runs(long long bisection, int restart);
/* {id, tree, branch, job, class, good, bad, board, state, outcome, reason, culprit,
 *  candidates, remaining, restarts, trigger_attempt, created, finished, notified,
 *  pins, moved, guilty_tree, guilty_good, guilty_bad}: tree, good and bad are the
 *  regression's (its branch's tree); moved {tree: {good, bad}} when several trees
 *  moved (else null); guilty_* the tree searched and its range (the regression's
 *  own when one tree moved; null while isolating or when no tree alone fails);
 *  pins the tuple its steps take the other trees from. */
json_t *db_bisect_get(long long id);
/* The newest bisections (before: ids below it; 0 from the newest). */
json_t *db_bisect_list(int limit, long long before);
/* A bisection's state (bisections.state, docs/bisection.md): running until it
 * ends confirmed, found (not confirmed), not-reproducible, inconclusive, or is
 * cancelled by an admin. */
enum bisection_state {
	BISECTION_RUNNING,
	BISECTION_CONFIRMED,
	BISECTION_FOUND,
	BISECTION_NOT_REPRODUCIBLE,
	BISECTION_INCONCLUSIVE,
	BISECTION_CANCELLED,
	BISECTION_STATE_N
};
/* "running", "confirmed", "found", "not-reproducible", "inconclusive",
 * "cancelled": a static string; "" for BISECTION_STATE_N. */
const char *bisection_state_name(enum bisection_state s);
/* The state named name; BISECTION_STATE_N for an unknown name (or NULL). */
enum bisection_state bisection_state_of(const char *name);
/* Sets bisection id's state with its outcome's words, reason, culprit (NULL:
 * none) and the runs remaining; finished: its end time is now. 0 or -EIO. */
int db_bisect_set_state(long long id, enum bisection_state state, const char *outcome,
			const char *reason, const char *culprit, long long remaining, int finished);
int db_bisect_set_candidates(long long id, long long candidates);
/* Back to running under restart count + 1; the earlier runs stay as evidence. */
int db_bisect_restart(long long id);
int db_bisect_set_notified(long long id);

#endif
