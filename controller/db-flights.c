#include "db-flights.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-boards.h"
#include "db-modules.h"
#include "db.h"
#include "json-util.h"
#include "xmalloc.h"

enum {
	Q_JOB_UPSERT,
	Q_JOB_GET,
	Q_JOBS,
	Q_TREE_INS,
	Q_TREE_ID,
	Q_REV_INS,
	Q_REV_ID,
	Q_FLIGHT_INS,
	Q_BUILD_INS,
	Q_BUILD_FINISH,
	Q_BUILD_GET,
	Q_BUILD_WANTS,
	Q_BUILD_FIND,
	Q_BUILD_LINK,
	Q_BUILD_SHAREABLE,
	Q_BUILD_WAITING,
	Q_BUILD_FLIGHTS,
	Q_FLIGHT_REV,
	Q_FLIGHT_GET,
	Q_FLIGHT_BUILDS,
	Q_FLIGHT_ATTEMPTS,
	Q_FLIGHT_TESTCASES,
	Q_FLIGHTS,
	Q_FLIGHTS_ROWS,
	Q_FLIGHT_UPDATE,
	Q_N
};

/* The attempt a (with its board b and the board's agent g) is one viewer ?A (admin: 1)
 * or agent ?G may see (db.h). */
#define VISIBLE_AS(A, G) DB_VISIBLE(b, g, A, G)

/* The flight's tuple of revisions (migration 50); a flight made before it, or
 * with no trees configured, is its own revision alone. */
#define TUPLE_COL                                                                                  \
	"coalesce(f.tuple, json_object(t.name, json_object('commit', r.commit_id, 'moves',"        \
	" json('true')))) AS j_tuple"

/* A flight with its attempts' counts by state, only of those viewer ?8/?9 may see:
 * an admin's and anyone's as stored when the attempts changed (migration 132,
 * flights.counts_all and counts_public); an agent's, its private boards' attempts
 * too, counted here (the view flight_counts counts the same groups). */
#define FLIGHT_COLS                                                                                \
	"f.id, t.name AS tree, r.commit_id AS 'commit', r.describe, r.subject, r.author, f.ref,"   \
	" f.kind, " TUPLE_COL ","                                                                  \
	" CASE f.priority WHEN 0 THEN 'gate' WHEN 1 THEN 'bisect' WHEN 2 THEN 'submission'"        \
	" ELSE 'background' END AS priority, f.state, f.created, f.finished,"                      \
	" CASE WHEN ?8 THEN f.counts_all WHEN ?9 IS NULL THEN f.counts_public ELSE"                \
	" (SELECT json_object('queued', coalesce(sum(a.state IN ('waiting','queued')), 0),"        \
	" 'running', coalesce(sum(a.state IN ('claimed','running')), 0), 'pass', "                 \
	"coalesce(sum(a.state = 'pass'), 0),"                                                      \
	" 'fail', coalesce(sum(a.state IN ('fail','timeout')), 0), 'infra', coalesce(sum(a.state " \
	"= 'infra'), 0),"                                                                          \
	" 'cancelled', coalesce(sum(a.state = 'cancelled'), 0), 'starved',"                        \
	" coalesce(sum(a.state = 'starved'), 0), 'refused', coalesce(sum(a.state = 'refused'),"    \
	" 0)) FROM attempts a"                                                                     \
	" LEFT JOIN boards b ON b.name = a.board LEFT JOIN agents g ON g.id = b.agent_id"          \
	" WHERE a.flight_id = f.id AND " VISIBLE_AS(8, 9) ") END AS j_counts"

/* A flight's verdict from the state and j_counts of FLIGHT_COLS: its state while it
 * is not done; else fail (a fail or timeout), starved, infra, cancelled, none
 * (nothing passed), and pass only when every job ran and passed. */
#define FLIGHT_VERDICT                                                                             \
	"CASE WHEN state IS NOT 'done' THEN coalesce(state, 'running')"                            \
	" WHEN json_extract(j_counts, '$.fail') > 0 THEN 'fail'"                                   \
	" WHEN json_extract(j_counts, '$.starved') > 0 THEN 'starved'"                             \
	" WHEN json_extract(j_counts, '$.infra') > 0 THEN 'infra'"                                 \
	" WHEN json_extract(j_counts, '$.cancelled') > 0 THEN 'cancelled'"                         \
	" WHEN coalesce(json_extract(j_counts, '$.pass'), 0) = 0 THEN 'none' ELSE 'pass' END"
/* Flights (FLIGHT_COLS, then `verdict`) of FROM_WHERE: the columns made once (a
 * materialised view: an agent's counts are a subquery), the verdict read from them. */
#define FLIGHT_SELECT(FROM_WHERE) FLIGHT_SELECT_X("", FROM_WHERE)
/* The same with EXTRA columns after `verdict` (", expr, ..."). */
#define FLIGHT_SELECT_X(EXTRA, FROM_WHERE)                                                         \
	"WITH x AS MATERIALIZED (SELECT " FLIGHT_COLS FROM_WHERE ") SELECT *, " FLIGHT_VERDICT     \
	" AS verdict" EXTRA " FROM x"
/* FLIGHT_SELECT's columns, and the positions db_flights_rows reads */
enum {
	FC_ID,
	FC_COMMIT = 2,
	FC_SUBJECT = 4,
	FC_REF = 6,
	FC_KIND,
	FC_CREATED = 11,
	FC_VERDICT = 14,
	FC_N
};
/* The counts db_flights_rows reads, after FLIGHT_SELECT's columns: one array of
 * them in db_flight_count_names' order (one json_extract: SQLite parses the
 * counts once), null for a count the store lacks. */
#define FLIGHTS_LIST_FROM                                                                          \
	" FROM flights f JOIN revisions r ON r.id = f.revision_id JOIN trees t ON t.id ="          \
	" r.tree_id WHERE f.id < ?1 ORDER BY f.id DESC LIMIT ?2"
#define COUNTS_COL                                                                                 \
	", json_extract(j_counts, '$.queued', '$.running', '$.pass', '$.fail', '$.infra',"         \
	" '$.cancelled', '$.starved', '$.refused')"
const char *const db_flight_count_names[DB_FLIGHT_COUNTS] = {
    "queued", "running", "pass", "fail", "infra", "cancelled", "starved", "refused"};

static const char *const sql[Q_N] = {
    [Q_JOB_UPSERT] = "INSERT INTO jobs (name, definition, updated) VALUES (?1, ?2, ?3)"
		     " ON CONFLICT (name) DO UPDATE SET definition = ?2, updated = ?3"
		     " WHERE definition <> ?2",
    [Q_JOB_GET] = "SELECT definition FROM jobs WHERE name = ?",
    [Q_JOBS] = "SELECT name, definition AS j_definition, updated FROM jobs ORDER BY name",
    [Q_TREE_INS] = "INSERT OR IGNORE INTO trees (name) VALUES (?)",
    [Q_TREE_ID] = "SELECT id FROM trees WHERE name = ?",
    [Q_REV_INS] = "INSERT INTO revisions (tree_id, commit_id, describe) VALUES (?1, ?2, ?3)"
		  " ON CONFLICT DO UPDATE SET describe = coalesce(?3, describe)",
    [Q_REV_ID] = "SELECT id FROM revisions WHERE tree_id = ? AND commit_id = ?",
    [Q_FLIGHT_INS] = "INSERT INTO flights (revision_id, ref, kind, priority, created, user, tuple)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [Q_BUILD_INS] = "INSERT INTO builds (flight_id, arch, tree_id, commit_id, kind) VALUES (?1,"
		    " ?2, ?3, ?4, ?5)",
    [Q_BUILD_FINISH] = "UPDATE builds SET state = ?2, artifacts = ?3, build_info = ?4"
		       " WHERE id = ?1",
    [Q_BUILD_GET] = "SELECT b.id, b.flight_id AS flight, b.arch, b.state, b.artifacts AS"
		    " j_artifacts, b.build_info AS j_build_info, b.wants AS j_wants, t.name AS"
		    " tree, b.commit_id AS 'commit', b.kind FROM builds b LEFT JOIN trees t ON"
		    " t.id = b.tree_id WHERE b.id = ?",
    [Q_BUILD_WANTS] = "UPDATE builds SET wants = ?2 WHERE id = ?1",
    /* the flight's builds on an arch, the one made first first */
    [Q_BUILD_FIND] = "SELECT build_id AS id FROM flight_builds WHERE flight_id = ?1 AND arch = ?2"
		     " ORDER BY build_id",
    [Q_BUILD_LINK] = "INSERT OR IGNORE INTO flight_builds (flight_id, arch, build_id) VALUES (?1,"
		     " ?2, ?3)",
    /* what a flight may take: the newest first; infra builds are never taken */
    [Q_BUILD_SHAREABLE] = "SELECT b.id, b.state, b.wants AS j_wants, f.kind AS flight_kind,"
			  " (SELECT a.state FROM attempts a WHERE a.build_id = b.id AND a.kind ="
			  " 'build' ORDER BY a.id DESC LIMIT 1) AS attempt_state FROM builds b"
			  " JOIN flights f ON f.id = b.flight_id JOIN trees t ON t.id = b.tree_id"
			  " WHERE t.name = ?1 AND b.commit_id = ?2 AND b.arch = ?3 AND b.kind = ?4"
			  " AND b.state IN ('queued', 'pass', 'fail') ORDER BY b.id DESC LIMIT 8",
    /* the tests waiting for build ?1: a flight's tests on its arch wait for every
     * build of the flight there (state: fail when one ended without passing,
     * pass when all passed, else queued); a health check for its own build */
    [Q_BUILD_WAITING] = "SELECT t.id, (SELECT CASE WHEN sum(b.state NOT IN ('queued', 'pass'))"
			" THEN 'fail' WHEN sum(b.state = 'queued') THEN 'queued' ELSE 'pass' END"
			" FROM flight_builds x JOIN builds b ON b.id = x.build_id WHERE"
			" x.flight_id = t.flight_id AND x.arch = t.arch) AS state FROM attempts t"
			" JOIN flight_builds fb ON fb.flight_id = t.flight_id AND fb.arch ="
			" t.arch WHERE fb.build_id = ?1 AND t.kind = 'test' AND t.state ="
			" 'waiting' AND t.build_id IS NOT NULL UNION ALL SELECT t.id, (SELECT"
			" b.state FROM builds b WHERE b.id = ?1) FROM attempts t WHERE"
			" t.build_id = ?1 AND t.flight_id IS NULL AND t.kind = 'test' AND"
			" t.state = 'waiting' ORDER BY 1",
    [Q_BUILD_FLIGHTS] = "SELECT flight_id AS id FROM flight_builds WHERE build_id = ?1 ORDER BY"
			" flight_id",
    [Q_FLIGHT_REV] = "SELECT t.name AS tree, r.commit_id AS 'commit', r.describe, f.kind,"
		     " f.ref, f.user, " TUPLE_COL " FROM flights f"
		     " JOIN revisions r ON r.id = f.revision_id JOIN trees t ON t.id = r.tree_id"
		     " WHERE f.id = ?",
    [Q_FLIGHT_GET] = FLIGHT_SELECT(" FROM flights f JOIN revisions r ON r.id = f.revision_id"
				   " JOIN trees t ON t.id = r.tree_id WHERE f.id = ?1"),
    [Q_FLIGHT_BUILDS] = "SELECT b.id, b.arch, b.state, b.artifacts AS j_artifacts,"
			" b.build_info AS j_build_info, t.name AS tree, b.commit_id AS 'commit',"
			" b.kind, b.flight_id AS made_by FROM flight_builds x JOIN builds b ON"
			" b.id = x.build_id LEFT JOIN trees t ON t.id = b.tree_id WHERE"
			" x.flight_id = ? ORDER BY b.arch, b.id",
    [Q_FLIGHT_ATTEMPTS] =
	"SELECT a.id, a.kind, a.job, a.board, a.arch, a.number, a.state,"
	" a.reason, a.stage, a.agent, a.log_length, a.created, a.claimed_at,"
	" a.finished_at, a.build_id AS build, a.slower AS j_slower FROM attempts a"
	" LEFT JOIN boards b"
	" ON b.name = a.board"
	" LEFT JOIN agents g ON g.id = b.agent_id WHERE a.flight_id = ?1 AND"
	" " VISIBLE_AS(8, 9) " ORDER BY a.id",
    /* every attempt's of a flight at once (db_flight_get) */
    [Q_FLIGHT_TESTCASES] = "SELECT t.attempt_id, t.name, t.result FROM attempts a JOIN"
			   " testcases t ON t.attempt_id = a.id WHERE a.flight_id = ?1"
			   " ORDER BY a.id, t.rowid",
    [Q_FLIGHTS] = FLIGHT_SELECT(FLIGHTS_LIST_FROM) " ORDER BY id DESC",
    [Q_FLIGHTS_ROWS] = FLIGHT_SELECT_X(COUNTS_COL, FLIGHTS_LIST_FROM) " ORDER BY id DESC",
    [Q_FLIGHT_UPDATE] = "UPDATE flights SET state = 'done', finished = ?2 WHERE id = ?1 AND"
			" state <> 'done' AND NOT EXISTS (SELECT 1 FROM attempts WHERE"
			" flight_id = ?1 AND state IN ('waiting','queued','claimed','running'))",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_flights_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_flights_finalize(void)
{
	db_finalize(st, Q_N);
}

int db_job_upsert(const char *name, const json_t *definition)
{
	sqlite3_stmt *s = db_use(st[Q_JOB_UPSERT]);

	db_bind_text(s, 1, name);
	db_bind_json(s, 2, definition);
	sqlite3_bind_int64(s, 3, now_ms());
	return db_step_done(s);
}

json_t *db_job_get(const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_JOB_GET]);
	json_t *v = NULL;

	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = json_parse((const char *)sqlite3_column_text(s, 0),
			       (size_t)sqlite3_column_bytes(s, 0), NULL, 0);
	sqlite3_reset(s);
	return v;
}

json_t *db_jobs_list(void)
{
	return db_rows_array(db_use(st[Q_JOBS]));
}

static int last_id(long long *id, sqlite3_stmt *s)
{
	int rc = -ENOENT;

	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int db_tree_id(long long *id, const char *name)
{
	sqlite3_stmt *s = db_use(st[Q_TREE_INS]);

	/* a read connection only looks (db-flights.h) */
	db_bind_text(s, 1, name);
	if (!db_reader && db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_TREE_ID]);
	db_bind_text(s, 1, name);
	return last_id(id, s);
}

int db_revision_id(long long *id, long long tree_id, const char *commit, const char *describe)
{
	sqlite3_stmt *s = db_use(st[Q_REV_INS]);

	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, commit);
	db_bind_text(s, 3, describe);
	if (db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_REV_ID]);
	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, commit);
	return last_id(id, s);
}

int db_flight_insert(long long *id, long long revision_id, const char *ref, const char *kind,
		     int priority, const char *user, const json_t *tuple)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_INS]);

	sqlite3_bind_int64(s, 1, revision_id);
	db_bind_text(s, 2, ref);
	db_bind_text(s, 3, kind);
	sqlite3_bind_int(s, 4, priority);
	sqlite3_bind_int64(s, 5, now_ms());
	db_bind_text(s, 6, user);
	db_bind_json(s, 7, tuple);
	if (db_step_done(s) < 0)
		return -EIO;
	*id = sqlite3_last_insert_rowid(ctl.db);
	return 0;
}

int db_build_insert(long long *id, long long flight_id, const char *arch, const char *tree,
		    const char *commit, const char *kind)
{
	sqlite3_stmt *s;
	long long tree_id = 0;

	if (tree && db_tree_id(&tree_id, tree) < 0)
		return -EIO;
	s = db_use(st[Q_BUILD_INS]);
	sqlite3_bind_int64(s, 1, flight_id);
	db_bind_text(s, 2, arch);
	if (tree_id)
		sqlite3_bind_int64(s, 3, tree_id);
	else
		sqlite3_bind_null(s, 3);
	db_bind_text(s, 4, tree ? commit : NULL);
	db_bind_text(s, 5, tree ? kind : NULL);
	if (db_step_done(s) < 0)
		return -EIO;
	*id = sqlite3_last_insert_rowid(ctl.db);
	return db_build_link(flight_id, arch, *id);
}

int db_build_link(long long flight_id, const char *arch, long long build_id)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_LINK]);

	sqlite3_bind_int64(s, 1, flight_id);
	db_bind_text(s, 2, arch);
	sqlite3_bind_int64(s, 3, build_id);
	return db_step_done(s);
}

json_t *db_build_shareable(const char *tree, const char *commit, const char *arch, const char *kind)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_SHAREABLE]);

	db_bind_text(s, 1, tree);
	db_bind_text(s, 2, commit);
	db_bind_text(s, 3, arch);
	db_bind_text(s, 4, kind);
	return db_rows_array(s);
}

json_t *db_build_waiting(long long build_id)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_WAITING]);

	sqlite3_bind_int64(s, 1, build_id);
	return db_rows_array(s);
}

int db_build_set_wants(long long build_id, const json_t *wants)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_WANTS]);

	sqlite3_bind_int64(s, 1, build_id);
	db_bind_json(s, 2, wants);
	return db_step_done(s);
}

int db_build_finish(long long build_id, const char *state, const json_t *artifacts,
		    const json_t *build_info)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_FINISH]);

	sqlite3_bind_int64(s, 1, build_id);
	db_bind_text(s, 2, state);
	db_bind_json(s, 3, artifacts);
	db_bind_json(s, 4, build_info);
	return db_step_done(s);
}

static json_t *one_row(sqlite3_stmt *s)
{
	json_t *o = NULL;

	if (sqlite3_step(s) == SQLITE_ROW)
		o = db_row_object(s);
	sqlite3_reset(s);
	return o;
}

json_t *db_build_get(long long build_id)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_GET]);

	sqlite3_bind_int64(s, 1, build_id);
	return one_row(s);
}

json_t *db_flight_revision(long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_REV]);

	sqlite3_bind_int64(s, 1, flight_id);
	return one_row(s);
}

/* Binds viewer v (NULL: anonymous) to ?8 and ?9 of s. */
static void bind_viewer(sqlite3_stmt *s, const struct viewer *v)
{
	sqlite3_bind_int(s, 8, v && v->admin);
	if (v && v->agent)
		db_bind_text(s, 9, v->agent);
	else
		sqlite3_bind_null(s, 9);
}

json_t *db_flight_get(long long id, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_GET]);
	json_t *f, *attempts, *a;
	size_t i;

	sqlite3_bind_int64(s, 1, id);
	bind_viewer(s, v);
	f = one_row(s);
	if (f == NULL)
		return NULL;
	s = db_use(st[Q_FLIGHT_BUILDS]);
	sqlite3_bind_int64(s, 1, id);
	json_object_set_new(f, "builds", db_rows_array(s));
	s = db_use(st[Q_FLIGHT_ATTEMPTS]);
	sqlite3_bind_int64(s, 1, id);
	bind_viewer(s, v);
	attempts = db_rows_array(s);
	json_array_foreach (attempts, i, a)
		json_object_set_new(a, "testcases", json_array());
	/* the test cases of the attempts v sees: both lists in id order */
	s = db_use(st[Q_FLIGHT_TESTCASES]);
	sqlite3_bind_int64(s, 1, id);
	i = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		long long at = sqlite3_column_int64(s, 0);

		while (i < json_array_size(attempts) &&
		       jint(json_array_get(attempts, i), "id", 0) < at)
			i++;
		a = json_array_get(attempts, i);
		if (a == NULL)
			break;
		if (jint(a, "id", 0) == at)
			json_array_append_new(
			    json_object_get(a, "testcases"),
			    json_pack("{s:s, s:s}", "name", (const char *)sqlite3_column_text(s, 1),
				      "result", (const char *)sqlite3_column_text(s, 2)));
	}
	sqlite3_reset(s);
	json_object_set_new(f, "attempts", attempts);
	return f;
}

int db_flights_list_text(struct buf *out, int limit, long long before, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHTS]);

	bind_viewer(s, v);
	sqlite3_bind_int64(s, 1, before > 0 ? before : (1LL << 62));
	sqlite3_bind_int(s, 2, limit);
	return db_rows_json(s, out);
}

/* COUNTS_COL's array ("[0,3,null,...]", SQLite's json_extract) into counts: a
 * null, or what is not an integer, is 0. */
static void counts_of(long long counts[DB_FLIGHT_COUNTS], const char *a)
{
	int i;

	for (i = 0; i < DB_FLIGHT_COUNTS; i++) {
		char *end;

		counts[i] = 0;
		if (!a || (*a != '[' && *a != ','))
			continue;
		counts[i] = strtoll(++a, &end, 10);
		a = end + strcspn(end, ",]");
	}
}

/* A row of Q_FLIGHTS_ROWS into a struct db_flight_row (db_rows_read). */
static void flight_take(void *elem, sqlite3_stmt *s)
{
	struct db_flight_row *r = elem;

	r->id = sqlite3_column_int64(s, FC_ID);
	r->created = sqlite3_column_int64(s, FC_CREATED);
	r->ref = db_column_dup(s, FC_REF);
	r->kind = db_column_dup(s, FC_KIND);
	r->commit = db_column_dup(s, FC_COMMIT);
	r->subject = db_column_dup(s, FC_SUBJECT);
	r->verdict = db_column_dup(s, FC_VERDICT);
	counts_of(r->counts, (const char *)sqlite3_column_text(s, FC_N));
}

static void flight_drop(void *rows, size_t n)
{
	db_flight_rows_free(rows, n);
}

int db_flights_rows(struct db_flight_row **rows, size_t *n, struct buf *text, int limit,
		    const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHTS_ROWS]);

	bind_viewer(s, v);
	sqlite3_bind_int64(s, 1, 1LL << 62);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_read(s, FC_N, text, (void **)rows, n, sizeof(**rows),
			    offsetof(struct db_flight_row, text), flight_take, flight_drop);
}

void db_flight_rows_free(struct db_flight_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].ref);
		free(rows[i].kind);
		free(rows[i].commit);
		free(rows[i].subject);
		free(rows[i].verdict);
	}
	free(rows);
}

/* The "id" column of the rows of s, as a JSON array of integers. */
static json_t *id_list(sqlite3_stmt *s)
{
	json_t *rows = db_rows_array(s), *ids = json_array(), *r;
	size_t i;

	json_array_foreach (rows, i, r)
		json_array_append_new(ids, json_integer(jint(r, "id", 0)));
	json_decref(rows);
	return ids;
}

json_t *db_build_flights(long long build_id)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_FLIGHTS]);

	sqlite3_bind_int64(s, 1, build_id);
	return id_list(s);
}

json_t *db_flight_arch_builds(long long flight_id, const char *arch)
{
	sqlite3_stmt *s = db_use(st[Q_BUILD_FIND]);

	sqlite3_bind_int64(s, 1, flight_id);
	db_bind_text(s, 2, arch);
	return id_list(s);
}

int db_flight_update(long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_UPDATE]);

	sqlite3_bind_int64(s, 1, flight_id);
	sqlite3_bind_int64(s, 2, now_ms());
	return db_step_done(s);
}
