/* The store's side of triage (triage.h): the results a flight's classes are
 * judged from. Every function expects ctl.lock held (see db.h). Every json_t *
 * a function here returns is a new reference that the caller owns. */
#ifndef XENCI_DB_TRIAGE_H
#define XENCI_DB_TRIAGE_H

#include <jansson.h>
#include <sqlite3.h>

struct viewer; /* db-boards.h */

/* The statements at open and close: see db-modules.h. */
int db_triage_prepare(sqlite3 *db);
void db_triage_finalize(void);

/* The newest attempt of each (job, board) of flight's tests, in id order:
 * [{id, job, class ("" without a board), board, arch, number, state, reason}]. */
json_t *db_triage_flight_tests(long long flight);
/* The results of job on boards of class cls in tree_id at revisions other than
 * `not`, in any flight, of attempts older than attempt `before` (what was known
 * when it ended: not the bisection its failure started): [{commit, attempt,
 * flight, state, push_flight}] with the newest result (pass, fail or timeout) of
 * each revision, newest first, at most TRIAGE_RESULTS_MAX; push_flight is the
 * newest push flight that had the same result (pass or failure) there, or null. */
#define TRIAGE_RESULTS_MAX 64
json_t *db_triage_results(long long tree_id, const char *job, const char *cls, const char * not,
			  long long before);

/* A retest's state (table retests): its run to come, passed (the failure was
 * a heisenbug), failed (confirmed), or none (it ended infra or cancelled: the
 * failure stands unconfirmed). */
enum retest_state { RETEST_UNTESTED, RETEST_PASS, RETEST_FAIL, RETEST_NONE, RETEST_STATE_N };
/* "untested", "pass", "fail", "none" (static); "" for RETEST_STATE_N. */
const char *retest_state_name(enum retest_state s);
/* The state named name; RETEST_STATE_N for an unknown name. */
enum retest_state retest_state_of(const char *name);
/* Records that retest_flight retests job on class cls, failed by attempt of
 * flight (on board), once per (flight, job, cls): 0, or -EIO (also when that
 * failure has a retest: ask db_retest_state first). */
int db_retest_insert(long long flight, const char *job, const char *cls, long long attempt,
		     long long retest_flight, const char *board);
/* The retest of (flight, job, cls): 0 with its state, or -ENOENT. */
int db_retest_state(enum retest_state *state, long long flight, const char *job, const char *cls);
/* The untested retest that retest_flight runs for (job, cls): 0 with its id and
 * the failure's attempt and flight, or -ENOENT. */
int db_retest_of_run(long long *id, long long *attempt, long long *flight, long long retest_flight,
		     const char *job, const char *cls);
/* Ends retest id with state and the retest's attempt (0: none); 0 or -EIO. */
int db_retest_set(long long id, enum retest_state state, long long retest_attempt);
/* The retests of flight's failures: [{job, class, attempt, retest_flight,
 * retest_attempt, board, state, created, finished}] (new reference). */
json_t *db_retests_of_flight(long long flight);

/* Records that attempt matched known issue `issue` (known-issues.h), with its
 * label, link ("" for none) and whether it blocks as they are now: 0, or -EIO. */
int db_known_issue_match(long long attempt, const char *issue, const char *label, const char *link,
			 int blocks);
/* The known issues matched by flight's attempts: [{attempt, issue, label, link,
 * blocks}] (new reference). */
json_t *db_known_issues_of_flight(long long flight);
/* The known issue attempt matched: {issue, label, link, blocks} (new reference),
 * or NULL when none did. */
json_t *db_known_issue_of_attempt(long long attempt);
/* The (tree, job) pairs with a pass or fail on a board of class cls that v (NULL:
 * anonymous) may see among the newest FLAKE_JOBS_SCAN such results (a page's cost
 * bounded, whatever the store holds), by tree and job name, at most FLAKE_JOBS_MAX: [{tree_id,
 * tree, job, heisenbugs}], heisenbugs the retests of its failures on the class
 * that passed, where v may see both boards (twins.h's visibility rule). New
 * reference. A read: safe on the read pool's connections. */
#define FLAKE_JOBS_MAX	64
#define FLAKE_JOBS_SCAN 2000
json_t *db_flake_jobs(const char *cls, const struct viewer *v);
/* The heisenbugs of db_flake_jobs for one tree, job and class: the retests of its
 * failures on class cls that passed, where v may see both boards. A read. */
long long db_heisenbugs(long long tree_id, const char *job, const char *cls,
			const struct viewer *v);

/* A flight's verdict classes as stored (flights.triage, migration 130): the writer
 * judges them again whenever something they read changed (triage_store_stale). */
/* The ids of at most limit flights whose stored classes are stale at level (1: a
 * change in this transaction; 2: never judged since the migration), newest first
 * (new reference). */
json_t *db_triage_stale(int level, int limit);
/* Stores rows (borrowed; an array of triage_row_json, or NULL: none could be
 * judged) as flight's classes and marks them fresh: 0 or -EIO. The writer only. */
int db_triage_store(long long flight, const json_t *rows);
/* flight's stored classes: the array (new reference), or NULL when it has none
 * (no such flight, never judged). A read: safe on the read pool's connections.
 * On a read thread the array is shared with that thread's cache of the same
 * stored text (parsed once while it is unchanged): read it, never change it. */
json_t *db_triage_stored(long long flight);

#endif
