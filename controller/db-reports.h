/* The flight_reports table (schema/0035): every report and follow-up mailed for
 * a branch, for threading and so that each goes once. Every function expects
 * ctl.lock held (see db.h). */
#ifndef XENCI_DB_REPORTS_H
#define XENCI_DB_REPORTS_H

#include <jansson.h>
#include <sqlite3.h>

/* The statements at open and close: see db-modules.h. */
int db_reports_prepare(sqlite3 *db);
void db_reports_finalize(void);

/* 1 when flight's report (bisection 0) or its follow-up for bisection went to
 * audience ("" the branch's list, or an owner agent), 0 when not, -EIO. */
int db_report_sent(long long flight, long long bisection, const char *audience);
/* The newest message of the thread of (branch, audience): 0 with its id and the
 * thread's root (each without angle brackets, at most n bytes), or -ENOENT. */
int db_report_thread(char *last, char *root, size_t n, long long branch, const char *audience);
/* Records a message (recipients: an array of addresses, borrowed); bisection 0
 * for a flight's report. 0, -EEXIST (already recorded for that audience), -EIO. */
int db_report_insert(long long branch, long long flight, long long bisection, const char *audience,
		     const char *message_id, const char *thread_root, const char *subject,
		     const json_t *recipients);
/* The messages about flight: [{id, bisection, audience, message_id, subject,
 * recipients, created}] in id order (new reference). */
json_t *db_reports_of_flight(long long flight);

#endif
