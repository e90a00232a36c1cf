#include "db-attempts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-modules.h"
#include "db.h"
#include "names.h"
#include "xmalloc.h"

/* The scheduling key: priority class, aged by waiting time. */
/* The scheduling key: priority class, aged by waiting time (:age ms per class). */
#define RANK "(a.priority * :age + a.queued_at)"

#define ATTEMPT_VISIBLE DB_VISIBLE(b, g, 1, 2)
/* Attempts with what ATTEMPT_VISIBLE asks of their board (b) and its agent (g). */
#define VISIBLE_FROM                                                                               \
	" FROM attempts a LEFT JOIN boards b ON b.name = a.board LEFT JOIN agents g ON"            \
	" g.id = b.agent_id"
#define ATTEMPT_FROM                                                                               \
	VISIBLE_FROM " LEFT JOIN flights f ON f.id = a.flight_id LEFT JOIN revisions r"            \
		     " ON r.id = f.revision_id LEFT JOIN trees t ON t.id = r.tree_id"
/* An attempt's members in the API's list (db_attempts_list_text), and with its
 * flight's tuple elsewhere. */
#define ATTEMPT_LIST_COLS                                                                          \
	"a.id, a.flight_id AS flight, a.kind, a.job, a.board, a.arch, a.agent, a.number,"          \
	" a.state, a.reason, a.stage, a.health_check, a.log_length, a.created, a.queued_at,"       \
	" a.claimed_at, a.started_at, a.finished_at, a.lease_expires, t.name AS tree,"             \
	" r.commit_id AS 'commit'"
#define ATTEMPT_COLS ATTEMPT_LIST_COLS ", f.tuple AS j_tuple"

enum {
	Q_INSERT,
	Q_LOAD,
	Q_PICK_BOARD,
	Q_PICK_BUILD,
	Q_RANK,
	Q_CLAIM,
	Q_SET_STATE,
	Q_RENEW,
	Q_LOG_LENGTH,
	Q_BUILD_RAISE,
	Q_FINISH,
	Q_STAGE,
	Q_TESTCASE,
	Q_LAPSED,
	Q_UNPLACED,
	Q_PLACE,
	Q_EXTEND,
	Q_GET,
	Q_STAGES,
	Q_TESTCASES,
	Q_LIST,
	Q_LIST_STATE, /* apart, so that a state's list walks the (state, id) index */
	Q_LIST_TEXT,
	Q_LIST_STATE_TEXT,
	Q_QUEUE,
	Q_QUEUE_DEPTH,
	Q_BY_STATE,
	Q_PERF_HISTORY,
	Q_PERF_BOARD,
	Q_FLIGHT_TEST,
	Q_PERF_SET,
	Q_PERF_UNJUDGED,
	Q_N
};

/* The attempt list's filters but the state (?4): before ?3, board ?5, limit ?6. */
#define LIST_WHERE                                                                                 \
	"a.id < ?3 AND (?5 IS NULL OR a.board = ?5) AND " ATTEMPT_VISIBLE                          \
	" ORDER BY a.id DESC LIMIT ?6"

static const char *const sql[Q_N] = {
    [Q_INSERT] = "INSERT INTO attempts (flight_id, build_id, kind, job, board, arch, number,"
		 " priority, state, health_check, created, queued_at)"
		 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		 " CASE WHEN ?9 = 'queued' THEN ?11 END)",
    [Q_LOAD] = "SELECT id, coalesce(flight_id, 0), coalesce(build_id, 0), kind,"
	       " coalesce(job, ''), coalesce(board, ''), arch, coalesce(agent, ''), state,"
	       " number, priority, health_check, coalesce(lease_expires, 0), log_length, result"
	       " FROM attempts WHERE id = ?",
    [Q_PICK_BOARD] = "SELECT a.id FROM attempts a JOIN boards b ON b.name = a.board"
		     " JOIN agents g ON g.id = b.agent_id WHERE a.state = 'queued' AND"
		     " a.board IN (SELECT value FROM json_each(?2)) AND g.name = ?1 AND"
		     " b.online AND b.attempt_id IS NULL AND (b.healthy OR a.health_check)"
		     /* a board whose examine failed or is due takes only examines (jobs
		      * with facts) */
		     " AND ((b.examine IS NOT 'fail' AND b.examine_due IS NULL) OR"
		     " json_extract((SELECT j.definition FROM jobs j WHERE j.name = a.job),"
		     " '$.facts') IS NOT NULL)"
		     " AND NOT EXISTS (SELECT 1 FROM reservations v WHERE v.board = b.name AND"
		     " v.state = 'active')"
		     " ORDER BY " RANK ", a.id LIMIT 1",
    /* trusted kinds as policy_kind_trusted() (lib/policy.c) names them */
    [Q_PICK_BUILD] = "SELECT a.id FROM attempts a LEFT JOIN flights f ON f.id = a.flight_id"
		     " WHERE a.state = 'queued' AND a.kind = 'build' AND"
		     " a.arch IN (SELECT value FROM json_each(?1)) AND (f.kind IN ('push',"
		     " 'bisect') OR coalesce((SELECT builder_untrusted FROM agents WHERE"
		     " name = ?2), 1)) ORDER BY " RANK ", a.id LIMIT 1",
    [Q_RANK] = "SELECT " RANK " FROM attempts a WHERE a.id = ?",
    [Q_CLAIM] = "UPDATE attempts SET state = 'claimed', agent = ?2, lease_expires = ?3,"
		" claimed_at = ?4 WHERE id = ?1 AND state = 'queued'",
    [Q_SET_STATE] = "UPDATE attempts SET state = ?2, reason = coalesce(?3, reason),"
		    " queued_at = CASE WHEN ?2 = 'queued' THEN ?4 ELSE queued_at END,"
		    " finished_at = CASE WHEN ?2 IN ('pass','fail','infra','timeout',"
		    "'cancelled','starved','refused') THEN ?4 ELSE finished_at END WHERE id = ?1",
    [Q_RENEW] = "UPDATE attempts SET lease_expires = ?3, stage = coalesce(?2, stage),"
		" started_at = coalesce(started_at, ?4), state = 'running'"
		" WHERE id = ?1 AND state IN ('claimed', 'running')",
    [Q_LOG_LENGTH] = "UPDATE attempts SET log_length = ?2 WHERE id = ?1",
    [Q_BUILD_RAISE] = "UPDATE attempts SET priority = ?2 WHERE build_id = ?1 AND kind = 'build'"
		      " AND state = 'queued' AND priority > ?2",
    [Q_FINISH] = "UPDATE attempts SET state = ?2, reason = ?3, result = ?4, finished_at = ?5,"
		 " lease_expires = NULL WHERE id = ?1",
    [Q_STAGE] = "INSERT OR REPLACE INTO stages VALUES (?, ?, ?, ?, ?)",
    [Q_TESTCASE] = "INSERT OR REPLACE INTO testcases VALUES (?, ?, ?)",
    [Q_LAPSED] = "SELECT id FROM attempts WHERE state IN ('claimed', 'running') AND"
		 " lease_expires < ?",
    [Q_UNPLACED] = "SELECT id FROM attempts WHERE board IS NULL AND kind = 'test' AND"
		   " state = 'waiting' AND created < ?1 ORDER BY id LIMIT ?2",
    [Q_PLACE] = "UPDATE attempts SET board = ?2, arch = ?3, build_id = ?4, state = ?5,"
		" queued_at = CASE WHEN ?5 = 'queued' THEN ?6 END WHERE id = ?1 AND"
		" board IS NULL AND kind = 'test' AND state = 'waiting'",
    [Q_EXTEND] = "UPDATE attempts SET lease_expires = ?1 WHERE state IN ('claimed',"
		 " 'running') AND lease_expires < ?1",
    [Q_GET] = "SELECT " ATTEMPT_COLS ", a.result AS j_result" ATTEMPT_FROM
	      " WHERE a.id = ?3 AND " ATTEMPT_VISIBLE,
    [Q_STAGES] = "SELECT name, result, seconds FROM stages WHERE attempt_id = ? ORDER BY seq",
    [Q_TESTCASES] = "SELECT name, result FROM testcases WHERE attempt_id = ? ORDER BY rowid",
    [Q_LIST] = "SELECT " ATTEMPT_COLS ATTEMPT_FROM " WHERE " LIST_WHERE,
    [Q_LIST_STATE] = "SELECT " ATTEMPT_COLS ATTEMPT_FROM " WHERE a.state = ?4 AND " LIST_WHERE,
    [Q_LIST_TEXT] = "SELECT " ATTEMPT_LIST_COLS ATTEMPT_FROM " WHERE " LIST_WHERE,
    [Q_LIST_STATE_TEXT] =
	"SELECT " ATTEMPT_LIST_COLS ATTEMPT_FROM " WHERE a.state = ?4 AND " LIST_WHERE,
    [Q_QUEUE] = "SELECT " ATTEMPT_COLS ATTEMPT_FROM " WHERE a.state IN ('queued', 'waiting')"
		" AND " ATTEMPT_VISIBLE " ORDER BY a.state = 'waiting', " RANK ", a.id LIMIT ?3",
    [Q_QUEUE_DEPTH] = "SELECT count(*)" VISIBLE_FROM " WHERE a.state IN ('queued', 'waiting')"
		      " AND " ATTEMPT_VISIBLE,
    [Q_BY_STATE] =
	"SELECT a.state, count(*)" VISIBLE_FROM " WHERE " ATTEMPT_VISIBLE " GROUP BY a.state",
    /* The stage times of the newest ?2 passing test attempts of ?1's board, job and
     * branch, ?1 itself first when it passed (perf.c). */
    [Q_PERF_HISTORY] =
	"SELECT a.id AS attempt, a.flight_id AS flight, r.commit_id AS 'commit', a.job,"
	" s.name AS stage, s.seconds FROM (SELECT p.id FROM attempts x JOIN flights xf ON"
	" xf.id = x.flight_id JOIN attempts p ON p.board = x.board AND p.job = x.job AND"
	" p.kind = 'test' AND p.state = 'pass' AND p.id <= x.id JOIN flights pf ON pf.id ="
	" p.flight_id AND pf.branch_id IS xf.branch_id WHERE x.id = ?1 AND x.kind = 'test'"
	" ORDER BY p.id DESC LIMIT ?2) k JOIN attempts a ON a.id = k.id JOIN flights f ON"
	" f.id = a.flight_id JOIN revisions r ON r.id = f.revision_id JOIN stages s ON"
	" s.attempt_id = a.id WHERE s.result = 'pass' AND s.seconds >= 0"
	" ORDER BY a.id DESC, s.seq",
    /* The same of the newest ?2 passing test attempts on board ?1, with their branch. */
    [Q_PERF_BOARD] =
	"SELECT a.id AS attempt, a.flight_id AS flight, r.commit_id AS 'commit', a.job,"
	" coalesce(br.name, '') AS branch, s.name AS stage, s.seconds FROM (SELECT id FROM"
	" attempts WHERE board = ?1 AND kind = 'test' AND state = 'pass' ORDER BY id DESC"
	" LIMIT ?2) k JOIN attempts a ON a.id = k.id JOIN flights f ON f.id = a.flight_id"
	" JOIN revisions r ON r.id = f.revision_id LEFT JOIN branches br ON br.id ="
	" f.branch_id JOIN stages s ON s.attempt_id = a.id WHERE s.result = 'pass' AND"
	" s.seconds >= 0 ORDER BY a.id DESC, s.seq",
    /* xenci boot of a flight: its test attempt of arch that has a build, board's first */
    [Q_FLIGHT_TEST] = "SELECT id FROM attempts WHERE flight_id = ?1 AND kind = 'test'"
		      " AND arch = ?2 AND build_id IS NOT NULL"
		      " ORDER BY board IS ?3 DESC, id DESC LIMIT 1",
    /* the stored `slower` verdict (migration 130) */
    [Q_PERF_SET] = "UPDATE attempts SET slower = ?2, perf_judged = 1 WHERE id = ?1",
    /* (INDEXED BY: the planner would take attempts_state_id and walk every pass) */
    [Q_PERF_UNJUDGED] = "SELECT id FROM attempts INDEXED BY attempts_perf_unjudged WHERE"
			" perf_judged = 0 AND kind = 'test' AND"
			" state = 'pass' ORDER BY id DESC LIMIT ?1",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_attempts_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_attempts_finalize(void)
{
	db_finalize(st, Q_N);
}

/* db_use() for a statement ordered by RANK: binds the ageing step. */
static sqlite3_stmt *use_ranked(sqlite3_stmt *s)
{
	db_use(s);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":age"),
			   ctl.cfg.priority_age_ms > 0 ? ctl.cfg.priority_age_ms : PRIORITY_AGE_MS);
	return s;
}

void attempt_release(struct attempt *a)
{
	if (a == NULL)
		return;
	free(a->result);
	a->result = NULL;
}

static const char *const state_names[ATTEMPT_STATE_N] = {
    [ATTEMPT_WAITING] = "waiting", [ATTEMPT_QUEUED] = "queued",	  [ATTEMPT_CLAIMED] = "claimed",
    [ATTEMPT_RUNNING] = "running", [ATTEMPT_PASS] = "pass",	  [ATTEMPT_FAIL] = "fail",
    [ATTEMPT_INFRA] = "infra",	   [ATTEMPT_TIMEOUT] = "timeout", [ATTEMPT_CANCELLED] = "cancelled",
    [ATTEMPT_STARVED] = "starved", [ATTEMPT_REFUSED] = "refused",
};

const char *attempt_state_name(enum attempt_state s)
{
	return (unsigned)s < ATTEMPT_STATE_N ? state_names[s] : "";
}

enum attempt_state attempt_state_of(const char *name)
{
	return (enum attempt_state)names_index(state_names, ATTEMPT_STATE_N, name);
}

int attempt_state_final(enum attempt_state s)
{
	return s >= ATTEMPT_PASS && s < ATTEMPT_STATE_N;
}

int attempt_state_open(enum attempt_state s)
{
	return s < ATTEMPT_PASS;
}

int attempt_state_leased(enum attempt_state s)
{
	return s == ATTEMPT_CLAIMED || s == ATTEMPT_RUNNING;
}

int db_attempt_insert(long long *id, const struct attempt *a)
{
	sqlite3_stmt *s = db_use(st[Q_INSERT]);

	if (a->flight)
		sqlite3_bind_int64(s, 1, a->flight);
	if (a->build_id)
		sqlite3_bind_int64(s, 2, a->build_id);
	db_bind_text(s, 3, a->kind);
	db_bind_text(s, 4, a->job[0] ? a->job : NULL);
	db_bind_text(s, 5, a->board[0] ? a->board : NULL);
	db_bind_text(s, 6, a->arch);
	sqlite3_bind_int(s, 7, a->number ? a->number : 1);
	sqlite3_bind_int(s, 8, a->priority);
	db_bind_text(s, 9, attempt_state_name(a->state));
	sqlite3_bind_int(s, 10, a->health_check);
	sqlite3_bind_int64(s, 11, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	*id = sqlite3_last_insert_rowid(ctl.db);
	return 0;
}

static void col_copy(char *out, size_t n, sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	snprintf(out, n, "%s", v ? v : "");
}

int db_attempt_load(struct attempt *a, long long id)
{
	sqlite3_stmt *s = db_use(st[Q_LOAD]);
	int rc = -ENOENT;

	memset(a, 0, sizeof(*a));
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	a->id = sqlite3_column_int64(s, 0);
	a->flight = sqlite3_column_int64(s, 1);
	a->build_id = sqlite3_column_int64(s, 2);
	col_copy(a->kind, sizeof(a->kind), s, 3);
	col_copy(a->job, sizeof(a->job), s, 4);
	col_copy(a->board, sizeof(a->board), s, 5);
	col_copy(a->arch, sizeof(a->arch), s, 6);
	col_copy(a->agent, sizeof(a->agent), s, 7);
	a->state = attempt_state_of((const char *)sqlite3_column_text(s, 8));
	a->number = sqlite3_column_int(s, 9);
	a->priority = sqlite3_column_int(s, 10);
	a->health_check = sqlite3_column_int(s, 11);
	a->lease_expires = sqlite3_column_int64(s, 12);
	a->log_length = sqlite3_column_int64(s, 13);
	if (sqlite3_column_type(s, 14) == SQLITE_TEXT)
		a->result = xstrdup((const char *)sqlite3_column_text(s, 14));
	rc = 0;
out:
	sqlite3_reset(s);
	return rc;
}

static int first_id(long long *id, sqlite3_stmt *s)
{
	int rc = -ENOENT;

	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int db_attempt_pick_board(long long *id, const char *agent, const json_t *boards)
{
	sqlite3_stmt *s = use_ranked(st[Q_PICK_BOARD]);

	db_bind_text(s, 1, agent);
	db_bind_json(s, 2, boards);
	return first_id(id, s);
}

int db_attempt_flight_test(long long *id, long long flight, const char *arch, const char *board)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_TEST]);

	sqlite3_bind_int64(s, 1, flight);
	db_bind_text(s, 2, arch);
	db_bind_text(s, 3, board);
	return first_id(id, s);
}

int db_attempt_pick_build(long long *id, const char *agent, const json_t *arches)
{
	sqlite3_stmt *s = use_ranked(st[Q_PICK_BUILD]);

	db_bind_json(s, 1, arches);
	db_bind_text(s, 2, agent);
	return first_id(id, s);
}

long long db_attempt_rank(long long id)
{
	sqlite3_stmt *s = use_ranked(st[Q_RANK]);
	long long r = 0;

	sqlite3_bind_int64(s, 1, id);
	first_id(&r, s);
	return r;
}

int db_attempt_claim(long long id, const char *agent, long long lease_expires)
{
	sqlite3_stmt *s = db_use(st[Q_CLAIM]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, agent);
	sqlite3_bind_int64(s, 3, lease_expires);
	sqlite3_bind_int64(s, 4, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(ctl.db) ? 0 : -ENOENT;
}

int db_build_attempt_raise(long long build_id, int priority)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_RAISE]);

	sqlite3_bind_int64(s, 1, build_id);
	sqlite3_bind_int(s, 2, priority);
	return db_step_done(s);
}

int db_attempt_set_state(long long id, enum attempt_state state, const char *reason)
{
	sqlite3_stmt *s = db_use(st[Q_SET_STATE]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, attempt_state_name(state));
	db_bind_text(s, 3, reason);
	sqlite3_bind_int64(s, 4, now_ms());
	return db_step_done(s);
}

int db_attempt_renew(long long id, const char *stage, long long lease_expires)
{
	sqlite3_stmt *s = db_use(st[Q_RENEW]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, stage);
	sqlite3_bind_int64(s, 3, lease_expires);
	sqlite3_bind_int64(s, 4, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(ctl.db) ? 0 : -ENOENT;
}

int db_attempt_set_log_length(long long id, long long len)
{
	sqlite3_stmt *s = db_use(st[Q_LOG_LENGTH]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, len);
	return db_step_done(s);
}

int db_attempt_finish(long long id, enum attempt_state verdict, const char *reason,
		      const char *result)
{
	sqlite3_stmt *s = db_use(st[Q_FINISH]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, attempt_state_name(verdict));
	db_bind_text(s, 3, reason);
	db_bind_text(s, 4, result);
	sqlite3_bind_int64(s, 5, now_ms());
	return db_step_done(s);
}

int db_attempt_stage(long long id, int seq, const char *name, const char *result, double secs)
{
	sqlite3_stmt *s = db_use(st[Q_STAGE]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, seq);
	db_bind_text(s, 3, name);
	db_bind_text(s, 4, result);
	if (secs >= 0)
		sqlite3_bind_double(s, 5, secs);
	return db_step_done(s);
}

int db_attempt_testcase(long long id, const char *name, const char *result)
{
	sqlite3_stmt *s = db_use(st[Q_TESTCASE]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, name);
	db_bind_text(s, 3, result);
	return db_step_done(s);
}

static json_t *ids(sqlite3_stmt *s)
{
	json_t *a = json_array();

	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(a, json_integer(sqlite3_column_int64(s, 0)));
	sqlite3_reset(s);
	return a;
}

json_t *db_attempts_lapsed(long long t)
{
	sqlite3_stmt *s = db_use(st[Q_LAPSED]);

	sqlite3_bind_int64(s, 1, t);
	return ids(s);
}

json_t *db_attempts_unplaced(long long t)
{
	sqlite3_stmt *s = db_use(st[Q_UNPLACED]);

	sqlite3_bind_int64(s, 1, t);
	sqlite3_bind_int(s, 2, UNPLACED_MAX);
	return ids(s);
}

int db_attempt_place(long long id, const char *board, const char *arch, long long build_id,
		     enum attempt_state state)
{
	sqlite3_stmt *s = db_use(st[Q_PLACE]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, board);
	db_bind_text(s, 3, arch);
	if (build_id)
		sqlite3_bind_int64(s, 4, build_id);
	db_bind_text(s, 5, attempt_state_name(state));
	sqlite3_bind_int64(s, 6, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(ctl.db) ? 0 : -ENOENT;
}

int db_attempts_extend_leases(long long t)
{
	sqlite3_stmt *s = db_use(st[Q_EXTEND]);

	sqlite3_bind_int64(s, 1, t);
	return db_step_done(s);
}

static void bind_viewer(sqlite3_stmt *s, const struct viewer *v)
{
	sqlite3_bind_int(s, 1, v && v->admin);
	db_bind_text(s, 2, v && v->agent ? v->agent : NULL);
}

json_t *db_attempt_json(long long id, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_GET]);
	json_t *o = NULL;

	bind_viewer(s, v);
	sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = db_row_object(s);
	sqlite3_reset(s);
	if (o == NULL)
		return NULL;
	s = db_use(st[Q_STAGES]);
	sqlite3_bind_int64(s, 1, id);
	json_object_set_new(o, "stages", db_rows_array(s));
	s = db_use(st[Q_TESTCASES]);
	sqlite3_bind_int64(s, 1, id);
	json_object_set_new(o, "testcases", db_rows_array(s));
	return o;
}

json_t *db_attempts_list(const char *state, const char *board, int limit, long long before,
			 const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[state ? Q_LIST_STATE : Q_LIST]);

	bind_viewer(s, v);
	sqlite3_bind_int64(s, 3, before > 0 ? before : (1LL << 62));
	db_bind_text(s, 4, state);
	db_bind_text(s, 5, board);
	sqlite3_bind_int(s, 6, limit);
	return db_rows_array(s);
}

int db_attempts_list_text(struct buf *out, const char *state, const char *board, int limit,
			  long long before, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[state ? Q_LIST_STATE_TEXT : Q_LIST_TEXT]);

	bind_viewer(s, v);
	sqlite3_bind_int64(s, 3, before > 0 ? before : (1LL << 62));
	db_bind_text(s, 4, state);
	db_bind_text(s, 5, board);
	sqlite3_bind_int(s, 6, limit);
	return db_rows_json(s, out);
}

json_t *db_queue(const struct viewer *v, int limit)
{
	sqlite3_stmt *s = use_ranked(st[Q_QUEUE]);

	bind_viewer(s, v);
	sqlite3_bind_int(s, 3, limit);
	return db_rows_array(s);
}

long long db_queue_depth(const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_QUEUE_DEPTH]);
	long long n = 0;

	bind_viewer(s, v);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

json_t *db_attempts_by_state(const struct viewer *v)
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

json_t *db_perf_history(long long attempt, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_PERF_HISTORY]);

	sqlite3_bind_int64(s, 1, attempt);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_array(s);
}

json_t *db_perf_board(const char *board, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_PERF_BOARD]);

	sqlite3_bind_text(s, 1, board, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_array(s);
}

int db_perf_set(long long attempt, const json_t *slower)
{
	sqlite3_stmt *s = db_use(st[Q_PERF_SET]);

	sqlite3_bind_int64(s, 1, attempt);
	db_bind_json(s, 2, slower);
	return db_step_done(s);
}

json_t *db_perf_unjudged(int limit)
{
	sqlite3_stmt *s = db_use(st[Q_PERF_UNJUDGED]);
	json_t *ids = json_array();

	sqlite3_bind_int(s, 1, limit);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(ids, json_integer(sqlite3_column_int64(s, 0)));
	sqlite3_reset(s);
	return ids;
}
