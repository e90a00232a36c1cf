#include "db-reservations.h"

#include <errno.h>
#include <stdio.h>

#include "db-modules.h"
#include "db.h"

enum {
	Q_ACTIVE,
	Q_INSERT,
	Q_END,
	Q_DUE,
	Q_LOG,
	Q_LOG_LIST,
	Q_CMD_INSERT,
	Q_CMD_PICK,
	Q_CMD_SENT,
	Q_N
};

static const char *const sql[Q_N] = {
    [Q_ACTIVE] = "SELECT id, board, token_id, user, created, expires FROM reservations"
		 " WHERE board = ?1 AND state = 'active'",
    [Q_INSERT] = "INSERT INTO reservations (board, token_id, user, state, created, expires)"
		 " VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
    [Q_END] = "UPDATE reservations SET state = ?2, ended = ?3 WHERE id = ?1 AND state = 'active'",
    [Q_DUE] = "SELECT id, board, user FROM reservations WHERE state = 'active' AND expires <= ?1"
	      " ORDER BY id",
    [Q_LOG] = "INSERT INTO reservation_log (reservation_id, board, time, who, action, detail)"
	      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_LOG_LIST] = "SELECT time, who, action, detail FROM reservation_log WHERE board = ?1"
		   " ORDER BY id DESC LIMIT ?2",
    [Q_CMD_INSERT] = "INSERT INTO board_commands (board, action, reason, created)"
		     " VALUES (?1, ?2, ?3, ?4)",
    [Q_CMD_PICK] = "SELECT id, board, action, reason FROM board_commands WHERE sent IS NULL"
		   " AND board IN (SELECT value FROM json_each(?1)) ORDER BY id LIMIT 1",
    [Q_CMD_SENT] = "UPDATE board_commands SET sent = ?2 WHERE id = ?1",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_reservations_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_reservations_finalize(void)
{
	db_finalize(st, Q_N);
}

/* The first row of s as an object (or NULL), s reset. */
static json_t *first_row(sqlite3_stmt *s)
{
	json_t *o = sqlite3_step(s) == SQLITE_ROW ? db_row_object(s) : NULL;

	sqlite3_reset(s);
	return o;
}

/* Every row of s as an array, s reset. */
static json_t *all_rows(sqlite3_stmt *s)
{
	json_t *a = json_array();

	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(a, db_row_object(s));
	sqlite3_reset(s);
	return a;
}

json_t *db_reservation_active(const char *board)
{
	sqlite3_stmt *s = db_use(st[Q_ACTIVE]);

	db_bind_text(s, 1, board);
	return first_row(s);
}

int db_reservation_insert(long long *id, const char *board, long long token_id, const char *user,
			  long long created, long long expires)
{
	sqlite3_stmt *s = db_use(st[Q_INSERT]);
	int rc;

	db_bind_text(s, 1, board);
	sqlite3_bind_int64(s, 2, token_id);
	db_bind_text(s, 3, user);
	sqlite3_bind_int64(s, 4, created);
	sqlite3_bind_int64(s, 5, expires);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return -EIO;
	*id = sqlite3_last_insert_rowid(sqlite3_db_handle(s));
	return 0;
}

int db_reservation_end(long long id, const char *state, long long t)
{
	sqlite3_stmt *s = db_use(st[Q_END]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, t);
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(sqlite3_db_handle(s)) ? 0 : -ENOENT;
}

json_t *db_reservations_due(long long t)
{
	sqlite3_stmt *s = db_use(st[Q_DUE]);

	sqlite3_bind_int64(s, 1, t);
	return all_rows(s);
}

int db_reservation_log(long long id, const char *board, long long t, const char *who,
		       const char *action, const char *detail)
{
	sqlite3_stmt *s = db_use(st[Q_LOG]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, board);
	sqlite3_bind_int64(s, 3, t);
	db_bind_text(s, 4, who);
	db_bind_text(s, 5, action);
	db_bind_text(s, 6, detail);
	return db_step_done(s);
}

json_t *db_reservation_log_list(const char *board, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_LOG_LIST]);

	db_bind_text(s, 1, board);
	sqlite3_bind_int(s, 2, limit);
	return all_rows(s);
}

int db_board_command_insert(const char *board, const char *action, const char *reason, long long t)
{
	sqlite3_stmt *s = db_use(st[Q_CMD_INSERT]);

	db_bind_text(s, 1, board);
	db_bind_text(s, 2, action);
	db_bind_text(s, 3, reason);
	sqlite3_bind_int64(s, 4, t);
	return db_step_done(s);
}

json_t *db_board_command_take(const json_t *boards, long long t)
{
	sqlite3_stmt *s = db_use(st[Q_CMD_PICK]);
	json_t *c;

	db_bind_json(s, 1, boards);
	c = first_row(s);
	if (c == NULL)
		return NULL;
	s = db_use(st[Q_CMD_SENT]);
	sqlite3_bind_int64(s, 1, json_integer_value(json_object_get(c, "id")));
	sqlite3_bind_int64(s, 2, t);
	if (db_step_done(s) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}
