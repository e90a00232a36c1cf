/* The trees, revisions, flights, builds and jobs tables.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_DB_FLIGHTS_H
#define XENCI_DB_FLIGHTS_H

#include <jansson.h>

#include "db.h"

/* Stores job name's definition (the validated job file as JSON), replacing the
 * one stored: 0, or -EIO. */
int db_job_upsert(const char *name, const json_t *definition);
/* The job's definition (new reference), or NULL. */
json_t *db_job_get(const char *name);
json_t *db_jobs_list(void);

/* Finds or creates tree `name`: 0 and *id, or -EIO. On a read connection it only
 * finds it (-ENOENT when there is none). */
int db_tree_id(long long *id, const char *name);
int db_revision_id(long long *id, long long tree_id, const char *commit, const char *describe);
/* user: the name of the user token that made it (submission, manual), or NULL;
 * tuple: the flight's revisions {tree: {commit, kind, ref, moves}} (migration 50;
 * not taken), or NULL for the flight's own revision alone. */
int db_flight_insert(long long *id, long long revision_id, const char *ref, const char *kind,
		     int priority, const char *user, const json_t *tuple);
/* A build made by flight_id for arch (schema/0075): of tree at commit with its
 * kind's recipe, or of the flight's whole tuple when tree is NULL (commit and kind
 * then unused); linked to the flight (db_build_link). 0 and *id, or -EIO. */
int db_build_insert(long long *id, long long flight_id, const char *arch, const char *tree,
		    const char *commit, const char *kind);
/* Makes build_id one of flight_id's builds on arch (its tests there wait for it);
 * linking twice is a no-op. 0 or -EIO. */
int db_build_link(long long flight_id, const char *arch, long long build_id);
/* The builds another flight may take for (tree, commit, arch, kind), newest first,
 * at most 8: queued, passed or failed ones, never those that ended infra.
 * [{id, state, wants, flight_kind (of the flight that made it), attempt_state (its
 * newest build attempt's)}]; new reference. */
json_t *db_build_shareable(const char *tree, const char *commit, const char *arch,
			   const char *kind);
/* The test attempts waiting for build_id, each with the state of all the builds it
 * waits for (its flight's on its arch; a health check's own): [{id, state: "pass" |
 * "fail" | "queued"}]; new reference. */
json_t *db_build_waiting(long long build_id);
/* The ids of the flights that take build_id (the one that made it and those that
 * share it), a JSON array; new reference. */
json_t *db_build_flights(long long build_id);
/* The ids of flight_id's builds on arch, in the order they were made (a JSON
 * array; empty when none); new reference. */
json_t *db_flight_arch_builds(long long flight_id, const char *arch);
/* state: "pass", "fail" (the recipe failed) or "infra" (no verdict of the code);
 * artifacts and build_info may be NULL. */
int db_build_finish(long long build_id, const char *state, const json_t *artifacts,
		    const json_t *build_info);
/* Stores the artifact names (a JSON array) the build must make for its tests. */
int db_build_set_wants(long long build_id, const json_t *wants);
/* {id, flight (that made it), arch, state, artifacts, build_info, wants, tree,
 * commit, kind (the three null for a build of a whole tuple)}, or NULL. */
json_t *db_build_get(long long build_id);
/* {tree, commit, describe, kind, ref, user, tuple} of a flight (ref and user null
 * when none; new reference), or NULL: what a claim says of its code, and what
 * policies judge. The tuple is {tree: {commit, kind, ref, moves}}; {tree: {commit,
 * moves: true}} for a flight of one tree. */
json_t *db_flight_revision(long long flight_id);
struct viewer;
struct buf;
/* The flight with its revision, its `verdict` (its state while it is not done;
 * else fail (a fail or timeout), starved, infra, cancelled, none (nothing passed),
 * and pass only when every job ran and passed), builds and attempts (with test
 * cases), or NULL. Attempts on boards viewer v (NULL: anonymous) may not see are
 * left out, of the attempts, the counts and the verdict alike. */
json_t *db_flight_get(long long id, const struct viewer *v);
/* Flights newest first, below id before (0: all), with their counts and verdicts
 * as v sees them, appended to out as a JSON array's text (db_rows_json: no objects
 * made, the API's hot read). 0, or -EIO (out unfinished). */
int db_flights_list_text(struct buf *out, int limit, long long before, const struct viewer *v);
/* The newest `limit` flights of db_flights_list_text read into C (the overview's page
 * and its JSON): each row's id, created, ref, kind, commit, subject (NULL when the
 * store has none or it is not UTF-8: db_column_dup), verdict, its counts by state
 * (db_flight_count_names' order: a count the store does not give is 0), and the whole row as
 * db_flights_list_text's object in text (text.obj, text.len: db_json_row_write). *rows (*n of them,
 * newest first) is the caller's: db_flight_rows_free; text is appended to. 0, or
 * -EIO (nothing in *rows). */
#define DB_FLIGHT_COUNTS 8
extern const char *const db_flight_count_names[DB_FLIGHT_COUNTS];
struct db_flight_row {
	long long id, created;
	char *ref, *kind, *commit, *subject, *verdict;
	long long counts[DB_FLIGHT_COUNTS];
	struct db_row_text text;
};
int db_flights_rows(struct db_flight_row **rows, size_t *n, struct buf *text, int limit,
		    const struct viewer *v);
void db_flight_rows_free(struct db_flight_row *rows, size_t n);
/* Marks the flight done when no attempt of it is still to run. */
int db_flight_update(long long flight_id);

#endif
