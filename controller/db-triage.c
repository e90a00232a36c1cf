/* The store's side of triage: see db-triage.h. */
#include "db-triage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-boards.h"
#include "db-modules.h"
#include "db.h"
#include "names.h"
#include "xmalloc.h"

enum {
	Q_FLIGHT_TESTS,
	Q_RESULTS,
	Q_RETEST_INS,
	Q_RETEST_STATE,
	Q_RETEST_OF_RUN,
	Q_RETEST_SET,
	Q_RETESTS_OF,
	Q_KI_MATCH,
	Q_KI_OF_FLIGHT,
	Q_KI_OF_ATTEMPT,
	Q_FLAKE_JOBS,
	Q_STALE,
	Q_STORE,
	Q_STORED,
	Q_HEISENBUGS,
	Q_N
};

/* The retests of tree TREE's job JOB's failures on class ?1 that passed, of those
 * where viewer ?3/?4 may see both boards (the heisenbugs). */
#define HEISENBUGS(TREE, JOB)                                                                      \
	"(SELECT count(*) FROM retests x CROSS JOIN flights xf CROSS JOIN revisions xr JOIN"       \
	" attempts xa ON xa.id = x.attempt_id JOIN boards xb ON xb.name = xa.board LEFT JOIN"      \
	" agents xg ON xg.id = xb.agent_id LEFT JOIN attempts ya ON ya.id = x.retest_attempt"      \
	" LEFT JOIN boards yb ON yb.name = ya.board LEFT JOIN agents yg ON yg.id = yb.agent_id"    \
	" WHERE xf.id = x.flight_id AND xr.id = xf.revision_id AND xr.tree_id = " TREE             \
	" AND x.job = " JOB " AND x.class = ?1 AND x.state = 'pass' AND " DB_VISIBLE(              \
	    xb, xg, 3, 4) " AND " DB_VISIBLE(yb, yg, 3, 4) ")"

/* The (tree, job) pairs of the newest ?5 pass/fail results on class ?1 that viewer
 * ?3/?4 may see. */
#define FLAKE_PAIRS                                                                                \
	"(SELECT DISTINCT r.tree_id, n.job FROM (SELECT a.job, a.flight_id FROM attempts a"        \
	" CROSS JOIN boards bo LEFT JOIN agents g ON g.id = bo.agent_id WHERE"                     \
	" " DB_VISIBLE(                                                                            \
	    bo, g, 3,                                                                              \
	    4) " AND bo.name = a.board"                                                            \
	       " AND bo.class = ?1 AND +a.kind = 'test' AND +a.state IN ('pass', 'fail')"          \
	       " ORDER BY a.id DESC LIMIT ?5) n JOIN flights f ON f.id = n.flight_id"              \
	       " JOIN revisions r ON r.id = f.revision_id)"

static const char *const sql[Q_N] = {
    [Q_FLIGHT_TESTS] = "SELECT a.id, a.job, coalesce(b.class, '') AS class, a.board, a.arch,"
		       " a.number, a.state, a.reason FROM attempts a LEFT JOIN boards b ON"
		       " b.name = a.board WHERE a.flight_id = ?1 AND a.kind = 'test' AND NOT"
		       " EXISTS (SELECT 1 FROM attempts n WHERE n.flight_id = a.flight_id AND"
		       " n.kind = 'test' AND n.job = a.job AND n.board IS a.board AND n.arch ="
		       " a.arch AND n.number > a.number) ORDER BY a.id",
    /* SQLite takes the bare columns of a max() aggregate from the row of the
     * maximum: each revision's newest result. */
    /* push_flight: the newest push flight of that revision whose result there was
     * the same (a pass, or a failure) before ?6, which a report names before a
     * retest or bisection step that only repeated it. */
    [Q_RESULTS] =
	"SELECT r.commit_id AS 'commit', max(a.id) AS attempt, a.flight_id AS"
	" flight, a.state, (SELECT max(pf.id) FROM attempts pa JOIN flights pf ON pf.id ="
	" pa.flight_id JOIN revisions pr ON pr.id = pf.revision_id JOIN boards pb ON pb.name ="
	" pa.board WHERE pf.kind = 'push' AND pr.tree_id = ?1 AND pr.commit_id = r.commit_id"
	" AND pa.kind = 'test' AND pa.job = ?2 AND pb.class = ?3 AND pa.id < ?6 AND"
	" pa.state IN ('pass', 'fail', 'timeout') AND (pa.state = 'pass') = (a.state ="
	" 'pass')) AS push_flight FROM attempts a JOIN flights f ON f.id = a.flight_id JOIN"
	" revisions r ON r.id = f.revision_id JOIN boards bo ON bo.name = a.board"
	" WHERE r.tree_id = ?1 AND a.kind = 'test' AND a.job = ?2 AND bo.class = ?3"
	" AND a.state IN ('pass', 'fail', 'timeout') AND r.commit_id <> ?4 AND a.id < ?6 GROUP BY"
	" r.commit_id ORDER BY max(a.id) DESC LIMIT ?5",
    [Q_RETEST_INS] = "INSERT INTO retests (flight_id, job, class, attempt_id, retest_flight, board,"
		     " state, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'untested', ?7)",
    [Q_RETEST_STATE] = "SELECT state FROM retests WHERE flight_id = ?1 AND job = ?2 AND class = ?3",
    [Q_RETEST_OF_RUN] = "SELECT id, attempt_id, flight_id FROM retests WHERE retest_flight = ?1 AND"
			" job = ?2 AND class = ?3 AND state = 'untested'",
    [Q_RETEST_SET] = "UPDATE retests SET state = ?2, retest_attempt = nullif(?3, 0), finished = ?4"
		     " WHERE id = ?1",
    [Q_RETESTS_OF] = "SELECT job, class, attempt_id AS attempt, retest_flight, retest_attempt,"
		     " board, state, created, finished FROM retests WHERE flight_id = ?1 ORDER BY"
		     " id",
    [Q_KI_MATCH] = "INSERT OR REPLACE INTO known_issue_matches (attempt_id, issue, label, link,"
		   " blocks, matched) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_KI_OF_FLIGHT] = "SELECT k.attempt_id AS attempt, k.issue, k.label, k.link, k.blocks FROM"
		       " known_issue_matches k JOIN attempts a ON a.id = k.attempt_id WHERE"
		       " a.flight_id = ?1 ORDER BY k.attempt_id",
    [Q_KI_OF_ATTEMPT] = "SELECT issue, label, link, blocks FROM known_issue_matches WHERE"
			" attempt_id = ?1",
    /* (the pairs of the newest ?5 results on the class: attempts walked newest first,
     * CROSS JOIN keeping SQLite from gathering every attempt of the class's boards
     * to sort them, so a page's cost does not grow with the store; heisenbugs from
     * the retests, not from every flight of the tree through an automatic index) */
    [Q_FLAKE_JOBS] = "SELECT t.id AS tree_id, t.name AS tree, k.job, " HEISENBUGS(
	"t.id", "k.job") " AS heisenbugs FROM " FLAKE_PAIRS
			 " k JOIN trees t ON t.id = k.tree_id ORDER BY t.name, k.job LIMIT ?2",
    /* the flights whose stored classes are stale at level ?1, newest first
     * (flights_triage_stale, migration 130) */
    /* (triage_stale > 0: what lets SQLite take the partial index for a bound level) */
    [Q_STALE] = "SELECT id FROM flights WHERE triage_stale = ?1 AND triage_stale > 0 ORDER BY"
		" id DESC LIMIT ?2",
    [Q_STORE] = "UPDATE flights SET triage = ?2, triage_stale = 0 WHERE id = ?1",
    [Q_STORED] = "SELECT triage FROM flights WHERE id = ?1",
    [Q_HEISENBUGS] = "SELECT " HEISENBUGS("?5", "?6"),
};

DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_triage_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

/* A read thread's parsed stored classes of the flights it read last, each with
 * the text it was parsed from, so that the same text is parsed once: the branch
 * matrix reads its 20 flights' classes at every view, and parsing them was a
 * quarter of its cost. Its own thread's only (jansson's objects are not shared
 * between threads), emptied when its connection closes. */
#define STORED_CACHE 32
static __thread struct stored {
	long long flight;
	char *text;
	size_t len;
	json_t *rows;
} stored_cache[STORED_CACHE];
static __thread unsigned stored_next;

static void stored_clear(void)
{
	for (int i = 0; i < STORED_CACHE; i++) {
		free(stored_cache[i].text);
		json_decref(stored_cache[i].rows);
		stored_cache[i] = (struct stored){0};
	}
	stored_next = 0;
}

void db_triage_finalize(void)
{
	stored_clear();
	db_finalize(st, Q_N);
}

json_t *db_triage_flight_tests(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_TESTS]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}

json_t *db_triage_results(long long tree_id, const char *job, const char *cls, const char * not,
			  long long before)
{
	sqlite3_stmt *s = db_use(st[Q_RESULTS]);

	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	db_bind_text(s, 4, not );
	sqlite3_bind_int(s, 5, TRIAGE_RESULTS_MAX);
	sqlite3_bind_int64(s, 6, before);
	return db_rows_array(s);
}

static const char *const retest_names[RETEST_STATE_N] = {
    [RETEST_UNTESTED] = "untested",
    [RETEST_PASS] = "pass",
    [RETEST_FAIL] = "fail",
    [RETEST_NONE] = "none",
};

const char *retest_state_name(enum retest_state s)
{
	return (unsigned)s < RETEST_STATE_N ? retest_names[s] : "";
}

enum retest_state retest_state_of(const char *name)
{
	return (enum retest_state)names_index(retest_names, RETEST_STATE_N, name);
}

int db_retest_insert(long long flight, const char *job, const char *cls, long long attempt,
		     long long retest_flight, const char *board)
{
	sqlite3_stmt *s = db_use(st[Q_RETEST_INS]);

	sqlite3_bind_int64(s, 1, flight);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	sqlite3_bind_int64(s, 4, attempt);
	sqlite3_bind_int64(s, 5, retest_flight);
	db_bind_text(s, 6, board);
	sqlite3_bind_int64(s, 7, now_ms());
	return db_step_done(s);
}

int db_retest_state(enum retest_state *state, long long flight, const char *job, const char *cls)
{
	sqlite3_stmt *s = db_use(st[Q_RETEST_STATE]);

	sqlite3_bind_int64(s, 1, flight);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -ENOENT;
	*state = retest_state_of((const char *)sqlite3_column_text(s, 0));
	return 0;
}

int db_retest_of_run(long long *id, long long *attempt, long long *flight, long long retest_flight,
		     const char *job, const char *cls)
{
	sqlite3_stmt *s = db_use(st[Q_RETEST_OF_RUN]);

	sqlite3_bind_int64(s, 1, retest_flight);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -ENOENT;
	*id = sqlite3_column_int64(s, 0);
	*attempt = sqlite3_column_int64(s, 1);
	*flight = sqlite3_column_int64(s, 2);
	return 0;
}

int db_retest_set(long long id, enum retest_state state, long long retest_attempt)
{
	sqlite3_stmt *s = db_use(st[Q_RETEST_SET]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, retest_state_name(state));
	sqlite3_bind_int64(s, 3, retest_attempt);
	sqlite3_bind_int64(s, 4, now_ms());
	return db_step_done(s);
}

json_t *db_retests_of_flight(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_RETESTS_OF]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}

int db_known_issue_match(long long attempt, const char *issue, const char *label, const char *link,
			 int blocks)
{
	sqlite3_stmt *s = db_use(st[Q_KI_MATCH]);

	sqlite3_bind_int64(s, 1, attempt);
	db_bind_text(s, 2, issue);
	db_bind_text(s, 3, label);
	db_bind_text(s, 4, link ? link : "");
	sqlite3_bind_int(s, 5, blocks ? 1 : 0);
	sqlite3_bind_int64(s, 6, now_ms());
	return db_step_done(s);
}

json_t *db_known_issues_of_flight(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_KI_OF_FLIGHT]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}

json_t *db_known_issue_of_attempt(long long attempt)
{
	sqlite3_stmt *s = db_use(st[Q_KI_OF_ATTEMPT]);
	json_t *rows;
	json_t *one;

	sqlite3_bind_int64(s, 1, attempt);
	rows = db_rows_array(s);
	one = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return one;
}

json_t *db_flake_jobs(const char *cls, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_FLAKE_JOBS]);

	db_bind_text(s, 1, cls);
	sqlite3_bind_int(s, 2, FLAKE_JOBS_MAX);
	sqlite3_bind_int(s, 3, v && v->admin);
	db_bind_text(s, 4, v && v->agent ? v->agent : NULL);
	sqlite3_bind_int(s, 5, FLAKE_JOBS_SCAN);
	return db_rows_array(s);
}

long long db_heisenbugs(long long tree_id, const char *job, const char *cls, const struct viewer *v)
{
	sqlite3_stmt *s = db_use(st[Q_HEISENBUGS]);
	long long n = 0;

	db_bind_text(s, 1, cls);
	sqlite3_bind_int(s, 3, v && v->admin);
	db_bind_text(s, 4, v && v->agent ? v->agent : NULL);
	sqlite3_bind_int64(s, 5, tree_id);
	db_bind_text(s, 6, job);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

json_t *db_triage_stale(int level, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_STALE]);
	json_t *ids = json_array();

	sqlite3_bind_int(s, 1, level);
	sqlite3_bind_int(s, 2, limit);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(ids, json_integer(sqlite3_column_int64(s, 0)));
	sqlite3_reset(s);
	return ids;
}

int db_triage_store(long long flight, const json_t *rows)
{
	sqlite3_stmt *s = db_use(st[Q_STORE]);

	sqlite3_bind_int64(s, 1, flight);
	db_bind_json(s, 2, rows);
	return db_step_done(s);
}

json_t *db_triage_stored(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_STORED]);
	json_t *rows = NULL;
	struct stored *c = NULL;
	const char *text;
	size_t len;

	sqlite3_bind_int64(s, 1, flight);
	if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_type(s, 0) != SQLITE_TEXT)
		goto out;
	text = (const char *)sqlite3_column_text(s, 0);
	len = (size_t)sqlite3_column_bytes(s, 0);
	if (db_reader) {
		for (int i = 0; i < STORED_CACHE && !c; i++)
			if (stored_cache[i].flight == flight && stored_cache[i].len == len &&
			    !memcmp(stored_cache[i].text, text, len))
				c = &stored_cache[i];
		if (c) {
			rows = json_incref(c->rows);
			goto out;
		}
	}
	rows = json_loadb(text, len, 0, NULL);
	if (rows && !json_is_array(rows)) {
		json_decref(rows);
		rows = NULL;
	}
	if (rows && db_reader) {
		c = &stored_cache[stored_next++ % STORED_CACHE];
		free(c->text);
		json_decref(c->rows);
		*c = (struct stored){flight, xmalloc(len ? len : 1), len, json_incref(rows)};
		memcpy(c->text, text, len);
	}
out:
	sqlite3_reset(s);
	return rows;
}
