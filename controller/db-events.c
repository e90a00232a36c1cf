#include "db-events.h"

#include <errno.h>

#include "ctl.h"
#include "db-modules.h"
#include "db.h"

enum { Q_INSERT, Q_AFTER, Q_LAST, Q_N };

static const char *const sql[Q_N] = {
    [Q_INSERT] = "INSERT INTO events (time, type, attempt_id, board, data)"
		 " VALUES (?, ?, ?, ?, ?)",
    /* Events about private boards stay out of the public stream. */
    [Q_AFTER] = "SELECT e.id, e.type, e.time, e.data AS j_data FROM events e LEFT JOIN boards b"
		" ON b.name = e.board WHERE e.id > ? AND (b.visibility IS NULL OR"
		" b.visibility = 'public') ORDER BY e.id LIMIT ?",
    [Q_LAST] = "SELECT coalesce(max(id), 0) FROM events",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_events_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_events_finalize(void)
{
	db_finalize(st, Q_N);
}

int db_event_insert(long long *id, const char *type, long long attempt, const char *board,
		    const json_t *data)
{
	sqlite3_stmt *s = db_use(st[Q_INSERT]);

	sqlite3_bind_int64(s, 1, now_ms());
	db_bind_text(s, 2, type);
	if (attempt)
		sqlite3_bind_int64(s, 3, attempt);
	db_bind_text(s, 4, board && *board ? board : NULL);
	db_bind_json(s, 5, data);
	if (db_step_done(s) < 0)
		return -EIO;
	*id = sqlite3_last_insert_rowid(ctl.db);
	return 0;
}

json_t *db_events_after(long long after, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_AFTER]);

	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_array(s);
}

long long db_events_last(void)
{
	sqlite3_stmt *s = db_use(st[Q_LAST]);
	long long v = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}
