/* The store's side of triage (triage.h): the results a flight's classes are
 * judged from. Every function expects ctl.lock held (see db.h). Every json_t *
 * a function here returns is a new reference that the caller owns. */
#ifndef XENCI_DB_TRIAGE_H
#define XENCI_DB_TRIAGE_H

#include <jansson.h>
#include <sqlite3.h>

int db_triage_prepare(sqlite3 *db);
void db_triage_finalize(void);

/* The newest attempt of each (job, board) of flight's tests, in id order:
 * [{id, job, class ("" without a board), board, arch, number, state, reason}]. */
json_t *db_triage_flight_tests(long long flight);
/* The results of job on boards of class cls in tree_id at revisions other than
 * `not`, in any flight, of attempts older than attempt `before` (what was known
 * when it ended: not the bisection its failure started): [{commit, attempt,
 * flight, state}] with the newest result (pass, fail or timeout) of each
 * revision, newest first, at most TRIAGE_RESULTS_MAX. */
#define TRIAGE_RESULTS_MAX 64
json_t *db_triage_results(long long tree_id, const char *job, const char *cls, const char * not,
			  long long before);

#endif
