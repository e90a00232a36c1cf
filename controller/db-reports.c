#include "db-reports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "db.h"

enum { Q_SENT, Q_THREAD, Q_INSERT, Q_OF_FLIGHT, Q_N };

static const char *const sql[Q_N] = {
    [Q_SENT] = "SELECT 1 FROM flight_reports WHERE flight_id = ?1 AND coalesce(bisection_id,"
	       " 0) = ?2 AND audience = ?3",
    [Q_THREAD] = "SELECT message_id, thread_root FROM flight_reports WHERE branch_id = ?1"
		 " AND audience = ?2 ORDER BY id DESC LIMIT 1",
    [Q_INSERT] = "INSERT OR IGNORE INTO flight_reports (branch_id, flight_id, bisection_id,"
		 " audience, message_id, thread_root, subject, recipients, created) VALUES"
		 " (?1, ?2, nullif(?3, 0), ?4, ?5, ?6, ?7, ?8, ?9)",
    [Q_OF_FLIGHT] = "SELECT id, coalesce(bisection_id, 0) AS bisection, audience, message_id,"
		    " subject, recipients AS j_recipients, created FROM flight_reports WHERE"
		    " flight_id = ?1 ORDER BY id",
};

DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_reports_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_reports_finalize(void)
{
	db_finalize(st, Q_N);
}

int db_report_sent(long long flight, long long bisection, const char *audience)
{
	sqlite3_stmt *s = db_use(st[Q_SENT]);
	int rc;

	sqlite3_bind_int64(s, 1, flight);
	sqlite3_bind_int64(s, 2, bisection);
	db_bind_text(s, 3, audience);
	rc = sqlite3_step(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

int db_report_thread(char *last, char *root, size_t n, long long branch, const char *audience)
{
	sqlite3_stmt *s = db_use(st[Q_THREAD]);

	sqlite3_bind_int64(s, 1, branch);
	db_bind_text(s, 2, audience);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -ENOENT;
	snprintf(last, n, "%s", (const char *)sqlite3_column_text(s, 0));
	snprintf(root, n, "%s", (const char *)sqlite3_column_text(s, 1));
	return 0;
}

int db_report_insert(long long branch, long long flight, long long bisection, const char *audience,
		     const char *message_id, const char *thread_root, const char *subject,
		     const json_t *recipients)
{
	sqlite3_stmt *s = db_use(st[Q_INSERT]);
	int rc;

	sqlite3_bind_int64(s, 1, branch);
	sqlite3_bind_int64(s, 2, flight);
	sqlite3_bind_int64(s, 3, bisection);
	db_bind_text(s, 4, audience);
	db_bind_text(s, 5, message_id);
	db_bind_text(s, 6, thread_root);
	db_bind_text(s, 7, subject);
	db_bind_json(s, 8, recipients);
	sqlite3_bind_int64(s, 9, now_ms());
	if ((rc = db_step_done(s)) < 0)
		return rc;
	return sqlite3_changes(sqlite3_db_handle(s)) ? 0 : -EEXIST;
}

json_t *db_reports_of_flight(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_OF_FLIGHT]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}
