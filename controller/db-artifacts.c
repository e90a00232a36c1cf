#include "db-artifacts.h"

#include <errno.h>

#include "ctl.h"
#include "db-modules.h"
#include "db.h"

enum { Q_GET, Q_INSERT, Q_N };

static const char *const sql[Q_N] = {
    [Q_GET] = "SELECT size FROM artifacts WHERE sha256 = ?",
    [Q_INSERT] = "INSERT OR IGNORE INTO artifacts (sha256, size, created) VALUES (?, ?, ?)",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_artifacts_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_artifacts_finalize(void)
{
	db_finalize(st, Q_N);
}

int db_artifact_get(const char *sha256, long long *size)
{
	sqlite3_stmt *s = db_use(st[Q_GET]);
	int rc = -ENOENT;

	db_bind_text(s, 1, sha256);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*size = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int db_artifact_insert(const char *sha256, long long size)
{
	sqlite3_stmt *s = db_use(st[Q_INSERT]);

	db_bind_text(s, 1, sha256);
	sqlite3_bind_int64(s, 2, size);
	sqlite3_bind_int64(s, 3, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(ctl.db) ? 0 : 1;
}
