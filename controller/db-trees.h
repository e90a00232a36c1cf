/* The git side of flights in the store (schema/0010): the head each watched
 * branch was last seen at and every change, patch submissions, and the push
 * gate's decisions; plus the branch matrix read. ctl.lock held (see db.h).
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_WATCH_DB_H
#define XENCI_WATCH_DB_H

#include <jansson.h>
#include <sqlite3.h>

/* The statements at open and close: see db-modules.h. */
int db_watch_prepare(sqlite3 *db);
void db_watch_finalize(void);

/* Finds or creates the branch row; *head gets the recorded head (or "") when
 * head is not NULL (at least 41 bytes). Returns 0, or -EIO. On a read connection
 * it only finds it (-ENOENT when there is none). */
int db_branch_id(long long *id, long long tree_id, const char *name, char *head);
int db_branch_set_head(long long branch_id, const char *head);
int db_branch_event(long long branch_id, const char *change, const char *old, const char *now,
		    const char *why, long long flight_id, const json_t *coalesced);
/* The branch's latest events, newest first. */
json_t *db_branch_events(long long branch_id, int limit);
int db_flight_set_branch(long long flight_id, long long branch_id);
/* Flights of the branch that have not started: every attempt waiting or queued. */
json_t *db_branch_unstarted_flights(long long branch_id);
/* Ids of a flight's attempts that are waiting or queued, tests first, but
 * not a build another flight's tests wait for too (its builds are shared:
 * cancelling this flight leaves them to the others). */
json_t *db_flight_open_attempts(long long flight_id);
/* {branch_id, branch, tree, commit} of a push flight; NULL for other flights. */
json_t *db_flight_branch(long long flight_id);

/* The next free submission number. */
long long db_submission_next(void);
int db_submission_insert(long long id, long long tree_id, const char *base, const char *base_commit,
			 const char *commit, const char *ref, long long flight_id,
			 const json_t *patches, long long token_id);
/* {id, tree, base, base_commit, commit, ref, flight, patches, created}, or NULL. */
json_t *db_submission_get(long long id);

/* 1 when a decision for (flight, ref) is recorded. */
int db_gate_decided(long long flight_id, const char *ref);
int db_gate_record(long long branch_id, long long flight_id, const char *ref, const char *commit,
		   const char *from, const char *action, const char *reason);
/* The branch's decisions, newest first. */
json_t *db_gate_decisions(long long branch_id, int limit);

/* The newest push flights of a branch: [{flight, commit, subject, author, created,
 * state, tuple, changes}] (changes: schema/0134-flight-changes.sql). */
json_t *db_branch_flights(long long branch_id, int limit);
/* The test attempts of a flight with their board's class and visibility:
 * [{id, job, board, class, visibility, number, state}] in id order. */
json_t *db_flight_test_attempts(long long flight_id);
/* The newest attempt (highest number, then id) of each (job, board) of a
 * flight's test attempts, as db_flight_newest_tests hands it to its callback:
 * every string is a copy of the row's, valid only during the call; job, board, cls (the
 * board's class, else its name) and visibility ("public" when the board is
 * unknown) are never NULL, state is NULL only when stored so, slower is the
 * stored `slower` JSON text (slower_len bytes) or NULL. */
struct db_newest {
	long long id;
	const char *job, *board, *cls, *visibility, *state, *slower;
	size_t slower_len;
};
typedef int (*db_newest_fn)(void *ctx, const struct db_newest *a);
/* Calls fn(ctx, a) for the newest attempt of each (job, board) of flight_id's
 * test attempts, in the order each pair first appeared (its lowest id): the
 * rows without a JSON object each (the branch matrix reads 20 flights' at
 * every view). Stops at fn's first nonzero return and returns it; else 0, or
 * -EIO when the store fails. A read thread remembers the rows of its last flights
 * while their flights.changes stands (schema/0134-flight-changes.sql): fn must not
 * call db_flight_newest_tests itself. */
int db_flight_newest_tests(long long flight_id, db_newest_fn fn, void *ctx);

/* Fills the subject of a revision that has none (the flight model records
 * revisions without one; the watcher and submissions know it from git). */
int db_revision_set_subject(const char *tree, const char *commit, const char *subject,
			    const char *author);

#endif
