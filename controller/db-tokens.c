#include "db-tokens.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "db-modules.h"
#include "db.h"
#include "hash.h"

enum { Q_INSERT, Q_LOOKUP, Q_REVOKE, Q_LIVE, Q_NAME, Q_RESERVE, Q_N };

static const char *const sql[Q_N] = {
    [Q_INSERT] = "INSERT INTO tokens (hash, role, agent, name, created) VALUES (?, ?, ?, ?, ?)",
    [Q_LOOKUP] = "SELECT id, role, agent, hash, name, reserve FROM tokens WHERE hash = ? AND"
		 " revoked IS NULL",
    [Q_REVOKE] = "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
    [Q_LIVE] = "SELECT 1 FROM tokens WHERE id = ? AND revoked IS NULL",
    [Q_NAME] = "SELECT name FROM tokens WHERE id = ?",
    [Q_RESERVE] = "UPDATE tokens SET reserve = ?2 WHERE id = ?1",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_tokens_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_tokens_finalize(void)
{
	db_finalize(st, Q_N);
}

int db_token_insert(long long *id, const char *hash, enum role role, const char *agent,
		    const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_INSERT]);

	db_bind_text(s, 1, hash);
	db_bind_text(s, 2, role_name(role));
	db_bind_text(s, 3, agent);
	db_bind_text(s, 4, name);
	sqlite3_bind_int64(s, 5, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	*id = sqlite3_last_insert_rowid(ctl.db);
	return 0;
}

int db_token_lookup(struct db_token *t, const char *hash)
{
	sqlite3_stmt *s = db_use(st[Q_LOOKUP]);
	const char *stored, *agent;
	int rc = -ENOENT;

	memset(t, 0, sizeof(*t));
	db_bind_text(s, 1, hash);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	/* The row was found by its hash; compare again in constant time so that no
	 * code path's timing depends on how much of a guess matched. */
	stored = (const char *)sqlite3_column_text(s, 3);
	if (stored == NULL || strlen(stored) != SHA256_HEX_LEN ||
	    !secret_equal(stored, hash, SHA256_HEX_LEN))
		goto out;
	t->id = sqlite3_column_int64(s, 0);
	t->role = role_parse((const char *)sqlite3_column_text(s, 1));
	agent = (const char *)sqlite3_column_text(s, 2);
	snprintf(t->agent, sizeof(t->agent), "%s", agent ? agent : "");
	agent = (const char *)sqlite3_column_text(s, 4);
	snprintf(t->name, sizeof(t->name), "%s", agent ? agent : "");
	t->reserve = sqlite3_column_int(s, 5);
	rc = t->role == ROLE_NONE ? -ENOENT : 0;
	if (rc < 0)
		memset(t, 0, sizeof(*t));
out:
	sqlite3_reset(s);
	return rc;
}

int db_token_name(char *out, size_t outlen, long long id)
{
	sqlite3_stmt *s = db_use(st[Q_NAME]);
	const char *n = NULL;
	int rc = -ENOENT;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = (const char *)sqlite3_column_text(s, 0);
		rc = 0;
	}
	snprintf(out, outlen, "%s", n ? n : "");
	sqlite3_reset(s);
	return rc;
}

int db_token_set_reserve(long long id, int on)
{
	sqlite3_stmt *s = db_use(st[Q_RESERVE]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, on != 0);
	return db_step_done(s);
}

int db_token_revoke(long long id)
{
	sqlite3_stmt *s = db_use(st[Q_REVOKE]);

	sqlite3_bind_int64(s, 1, now_ms());
	sqlite3_bind_int64(s, 2, id);
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(ctl.db) ? 0 : -ENOENT;
}

int db_token_live(long long id)
{
	sqlite3_stmt *s = db_use(st[Q_LIVE]);
	int live;

	sqlite3_bind_int64(s, 1, id);
	live = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return live;
}
