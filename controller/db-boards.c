#include "db-boards.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-modules.h"
#include "db.h"
#include "xmalloc.h"

#define BOARD_STATE                                                                                \
	"CASE WHEN b.online = 0 THEN 'offline' WHEN b.attempt_id IS NOT NULL THEN 'busy'"          \
	" WHEN b.healthy = 0 THEN 'unhealthy' ELSE 'idle' END"
#define BOARD_COLS                                                                                 \
	"b.name, a.name AS agent, b.arch, b.class, b.tags AS j_tags, b.visibility,"                \
	" b.description, " BOARD_STATE " AS state, b.healthy, b.infra_streak,"                     \
	" b.attempt_id AS attempt, b.updated, b.policy AS j_policy, b.properties AS j_properties," \
	" b.examine, b.examine_reason, b.examine_attempt, b.examine_due, b.file_sha256"
#define BOARD_VISIBLE DB_VISIBLE(b, a, 1, 2)

enum {
	Q_AGENT_UPSERT,
	Q_AGENT_ID,
	Q_AGENT_BUILDER,
	Q_AGENT_SEEN,
	Q_AGENTS,
	Q_OWNER,
	Q_BOARD_UPSERT,
	Q_EXAMINE_DUE,
	Q_EXAMINE_TODO,
	Q_OFFLINE_EXCEPT,
	Q_OF_AGENT,
	Q_GET,
	Q_LIST,
	Q_ALL,
	Q_SET_ATTEMPT,
	Q_INFRA,
	Q_STREAK,
	Q_PASS,
	Q_BY_STATE,
	Q_EXAMINED,
	Q_USAGE,
	Q_N
};

static const char *const sql[Q_N] = {
    [Q_AGENT_UPSERT] = "INSERT INTO agents (name, version, builder_arches, last_seen, created,"
		       " builder_untrusted) VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (name)"
		       " DO UPDATE SET version = ?2, builder_arches = ?3, last_seen = ?4,"
		       " builder_untrusted = ?5",
    [Q_AGENT_ID] = "SELECT id FROM agents WHERE name = ?",
    [Q_AGENT_BUILDER] = "SELECT builder_arches FROM agents WHERE name = ?",
    [Q_AGENT_SEEN] = "UPDATE agents SET last_seen = ? WHERE name = ?",
    [Q_AGENTS] = "SELECT a.name, a.version, a.builder_arches AS j_builder, a.last_seen,"
		 " (SELECT count(*) FROM boards b WHERE b.agent_id = a.id AND b.online AND"
		 " " BOARD_VISIBLE ") AS boards_online FROM agents a ORDER BY a.name",
    [Q_OWNER] = "SELECT a.name FROM boards b JOIN agents a ON a.id = b.agent_id"
		" WHERE b.name = ?",
    [Q_BOARD_UPSERT] = "INSERT INTO boards (name, agent_id, arch, class, tags, visibility,"
		       " description, online, updated, policy, file_sha256) VALUES (?1, ?2, ?3, ?4,"
		       " ?5, ?6, ?7, 1, ?8, ?9, ?10) ON CONFLICT (name) DO UPDATE SET arch = ?3,"
		       " class = ?4, tags = ?5, visibility = ?6, description = ?7, online = 1,"
		       " updated = ?8, policy = ?9, file_sha256 = ?10 WHERE agent_id = ?2",
    /* ?2: examines are automatic (examine_job set) */
    [Q_EXAMINE_DUE] = "UPDATE boards SET examine_due = CASE WHEN NOT ?2 THEN NULL"
		      " WHEN examine IS NULL THEN 'never examined'"
		      " WHEN examined_sha256 IS NOT file_sha256 THEN"
		      " 'its board file changed since its last examine' END WHERE name = ?1",
    /* the boards of agent ?1 due for an examine with none of job ?2 under way */
    [Q_EXAMINE_TODO] = "SELECT b.name FROM boards b WHERE b.agent_id = ?1 AND b.online AND"
		       " b.examine_due IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attempts a"
		       " WHERE a.board = b.name AND a.job = ?2 AND a.state IN ('waiting',"
		       " 'queued', 'claimed', 'running')) ORDER BY b.name",
    [Q_OFFLINE_EXCEPT] = "UPDATE boards SET online = 0, updated = ?3 WHERE agent_id = ?1 AND"
			 " online AND name NOT IN (SELECT value FROM json_each(?2))",
    [Q_OF_AGENT] = "SELECT b.name, " BOARD_STATE " AS state FROM boards b"
		   " WHERE b.agent_id = ? AND b.online ORDER BY b.name",
    [Q_GET] = "SELECT " BOARD_COLS " FROM boards b JOIN agents a ON a.id = b.agent_id"
	      " WHERE b.name = ?3 AND " BOARD_VISIBLE,
    [Q_LIST] = "SELECT " BOARD_COLS " FROM boards b JOIN agents a ON a.id = b.agent_id"
	       " WHERE " BOARD_VISIBLE " ORDER BY b.name",
    [Q_ALL] = "SELECT " BOARD_COLS " FROM boards b JOIN agents a ON a.id = b.agent_id"
	      " ORDER BY b.name",
    [Q_SET_ATTEMPT] = "UPDATE boards SET attempt_id = ?2, updated = ?3 WHERE name = ?1",
    [Q_INFRA] = "UPDATE boards SET infra_streak = infra_streak + 1,"
		" healthy = CASE WHEN infra_streak + 1 >= ?2 THEN 0 ELSE healthy END,"
		" updated = ?3 WHERE name = ?1",
    [Q_STREAK] = "SELECT infra_streak, healthy FROM boards WHERE name = ?",
    [Q_PASS] = "UPDATE boards SET infra_streak = 0, healthy = 1, updated = ?2 WHERE name = ?1",
    [Q_EXAMINED] = "UPDATE boards SET examine = ?2, examine_reason = ?3, examine_attempt = ?4,"
		   " properties = CASE WHEN ?2 = 'pass' THEN ?5 ELSE properties END, updated = ?6,"
		   " examined_sha256 = file_sha256, examine_due = NULL WHERE name = ?1",
    [Q_BY_STATE] = "SELECT " BOARD_STATE " AS state, count(*) FROM boards b LEFT JOIN agents a"
		   " ON a.id = b.agent_id WHERE " BOARD_VISIBLE " GROUP BY 1",
    /* Queue wait and busy time per board and per lab (db_board_usage): the newest
     * ?5 attempts claimed since ?4 on boards the viewer (?1, ?2) may see; waits over
     * those claimed since ?6 (nearest-rank p50 and p90 by window functions), busy
     * time their overlap with [?6, ?3]. */
    [Q_USAGE] =
	"WITH c AS (SELECT x.board, x.claimed_at - coalesce(x.queued_at, x.created) AS wait,"
	" x.claimed_at AS t0, coalesce(x.finished_at, ?3) AS t1 FROM attempts x WHERE"
	" x.claimed_at >= ?4 AND x.board IS NOT NULL ORDER BY x.claimed_at DESC LIMIT ?5),"
	" v AS (SELECT c.*, a.name AS agent, c.t0 >= ?6 AS recent FROM c JOIN boards b ON"
	" b.name = c.board JOIN agents a ON a.id = b.agent_id WHERE " BOARD_VISIBLE "),"
	" g AS (SELECT 'board' AS kind, board AS key, wait, t0, t1, recent FROM v UNION ALL"
	" SELECT 'lab', agent, wait, t0, t1, recent FROM v),"
	" r AS (SELECT *, row_number() OVER (PARTITION BY kind, key, recent ORDER BY wait) AS"
	" n, count(*) OVER (PARTITION BY kind, key, recent) AS cnt FROM g)"
	" SELECT kind, key, sum(recent) AS claims, min(CASE WHEN recent AND n >= (cnt + 1) / 2"
	" THEN wait END) AS wait_p50, min(CASE WHEN recent AND n >= (9 * cnt + 9) / 10 THEN"
	" wait END) AS wait_p90, sum(max(0, min(t1, ?3) - max(t0, ?6))) AS busy_ms FROM r"
	" GROUP BY kind, key ORDER BY kind, key",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_boards_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_boards_finalize(void)
{
	db_finalize(st, Q_N);
}

int db_agent_upsert(long long *id, const char *name, const char *version, const json_t *arches,
		    int untrusted)
{
	sqlite3_stmt *s = db_use(st[Q_AGENT_UPSERT]);
	int rc = -EIO;

	db_bind_text(s, 1, name);
	db_bind_text(s, 2, version);
	db_bind_json(s, 3, arches);
	sqlite3_bind_int64(s, 4, now_ms());
	sqlite3_bind_int(s, 5, untrusted != 0);
	if (db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_AGENT_ID]);
	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

json_t *db_agent_builder(const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_AGENT_BUILDER]);
	json_t *v = NULL;

	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT)
		v = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
	sqlite3_reset(s);
	return v ? v : json_null();
}

void db_agent_seen(const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_AGENT_SEEN]);

	sqlite3_bind_int64(s, 1, now_ms());
	db_bind_text(s, 2, name);
	db_step_done(s);
}

/* Binds viewer v (NULL: anonymous) to ?1 (admin) and ?2 (its agent) of s. */
static void bind_viewer(sqlite3_stmt *s, const struct viewer *v)
{
	sqlite3_bind_int(s, 1, v && v->admin);
	db_bind_text(s, 2, v && v->agent ? v->agent : NULL);
}

json_t *db_agents_list(const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_AGENTS]);

	bind_viewer(s, v);
	return db_rows_array(s);
}

int db_board_owner(char *out, size_t outlen, const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_OWNER]);
	int rc = -ENOENT;

	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int db_board_upsert(long long agent_id, const json_t *b, int examine_auto)
{
	sqlite3_stmt *s = db_use(st[Q_BOARD_UPSERT]);
	json_t *tags = json_object_get(b, "tags");
	json_t *empty = json_array();
	const char *vis = json_string_value(json_object_get(b, "visibility"));

	db_bind_text(s, 1, json_string_value(json_object_get(b, "name")));
	sqlite3_bind_int64(s, 2, agent_id);
	db_bind_text(s, 3, json_string_value(json_object_get(b, "arch")));
	db_bind_text(s, 4, json_string_value(json_object_get(b, "class")));
	db_bind_json(s, 5, tags ? tags : empty);
	db_bind_text(s, 6, vis ? vis : "public");
	db_bind_text(s, 7, json_string_value(json_object_get(b, "description")));
	sqlite3_bind_int64(s, 8, now_ms());
	db_bind_json(s, 9, json_object_get(b, "policy"));
	db_bind_text(s, 10, json_string_value(json_object_get(b, "file_sha256")));
	json_decref(empty);
	if (db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_EXAMINE_DUE]);
	db_bind_text(s, 1, json_string_value(json_object_get(b, "name")));
	sqlite3_bind_int(s, 2, examine_auto);
	return db_step_done(s);
}

json_t *db_boards_examine_todo(long long agent_id, const char *job)
{
	sqlite3_stmt *s = db_use(st[Q_EXAMINE_TODO]);
	json_t *names = json_array();

	sqlite3_bind_int64(s, 1, agent_id);
	db_bind_text(s, 2, job);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(names, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_reset(s);
	return names;
}

int db_boards_offline_except(long long agent_id, const json_t *names)
{
	sqlite3_stmt *s = db_use(st[Q_OFFLINE_EXCEPT]);

	sqlite3_bind_int64(s, 1, agent_id);
	db_bind_json(s, 2, names);
	sqlite3_bind_int64(s, 3, now_ms());
	return db_step_done(s);
}

json_t *db_boards_of_agent(long long agent_id)
{
	sqlite3_stmt *s = db_use(st[Q_OF_AGENT]);

	sqlite3_bind_int64(s, 1, agent_id);
	return db_rows_array(s);
}

json_t *db_board_get(const char *name, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_GET]);
	json_t *o = NULL;

	bind_viewer(s, v);
	db_bind_text(s, 3, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = db_row_object(s);
	sqlite3_reset(s);
	return o;
}

json_t *db_boards_list(const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_LIST]);

	bind_viewer(s, v);
	return db_rows_array(s);
}

/* BOARD_COLS' positions db_boards_rows reads */
enum { BC_NAME, BC_AGENT, BC_ARCH, BC_STATE = 7, BC_ATTEMPT = 10 };

/* A row of Q_LIST into a struct db_board_row (db_rows_read). */
static void board_take(void *elem, sqlite3_stmt *s)
{
	struct db_board_row *r = elem;

	r->name = db_column_dup(s, BC_NAME);
	r->agent = db_column_dup(s, BC_AGENT);
	r->arch = db_column_dup(s, BC_ARCH);
	r->state = db_column_dup(s, BC_STATE);
	r->attempt = sqlite3_column_int64(s, BC_ATTEMPT);
}

static void board_drop(void *rows, size_t n)
{
	db_board_rows_free(rows, n);
}

int db_boards_rows(struct db_board_row **rows, size_t *n, struct buf *text, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_LIST]);

	bind_viewer(s, v);
	return db_rows_read(s, -1, text, (void **)rows, n, sizeof(**rows),
			    offsetof(struct db_board_row, text), board_take, board_drop);
}

void db_board_rows_free(struct db_board_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].agent);
		free(rows[i].arch);
		free(rows[i].state);
	}
	free(rows);
}

json_t *db_boards_all(void)
{
	return db_rows_array(db_use(st[Q_ALL]));
}

int db_board_set_attempt(const char *name, long long attempt)
{
	sqlite3_stmt *s = db_use(st[Q_SET_ATTEMPT]);

	db_bind_text(s, 1, name);
	if (attempt)
		sqlite3_bind_int64(s, 2, attempt);
	sqlite3_bind_int64(s, 3, now_ms());
	return db_step_done(s);
}

int db_board_infra(const char *name, int streak, int *unhealthy_now)
{
	sqlite3_stmt *s;
	int was_healthy = 0, healthy = 0;

	*unhealthy_now = 0;
	s = db_use(st[Q_STREAK]);
	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		was_healthy = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	s = db_use(st[Q_INFRA]);
	db_bind_text(s, 1, name);
	sqlite3_bind_int(s, 2, streak);
	sqlite3_bind_int64(s, 3, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_STREAK]);
	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		healthy = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	*unhealthy_now = was_healthy && !healthy;
	return 0;
}

int db_board_pass(const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_PASS]);

	db_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, now_ms());
	return db_step_done(s);
}

int db_board_examined(const char *name, long long attempt, const json_t *facts, const char *reason)
{
	sqlite3_stmt *s = db_use(st[Q_EXAMINED]);
	char *text = facts ? json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc;

	db_bind_text(s, 1, name);
	db_bind_text(s, 2, facts ? "pass" : "fail");
	db_bind_text(s, 3, reason);
	sqlite3_bind_int64(s, 4, attempt);
	db_bind_text(s, 5, text);
	sqlite3_bind_int64(s, 6, now_ms());
	rc = db_step_done(s);
	free(text);
	return rc;
}

json_t *db_boards_by_state(const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_BY_STATE]);
	json_t *o = json_object();

	bind_viewer(s, v);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(s, 0),
				    json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_reset(s);
	return o;
}

json_t *db_board_usage(const struct viewer *v, long long now, long long window_ms)
{
	sqlite3_stmt *s = db_use(st[Q_USAGE]);

	bind_viewer(s, v);
	sqlite3_bind_int64(s, 3, now);
	/* an attempt claimed up to BOARD_USAGE_LONGEST before the window may still
	 * have been busy in it */
	sqlite3_bind_int64(s, 4, now - window_ms - BOARD_USAGE_LONGEST_MS);
	sqlite3_bind_int(s, 5, BOARD_USAGE_MAX);
	sqlite3_bind_int64(s, 6, now - window_ms);
	return db_rows_array(s);
}
