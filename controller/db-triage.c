/* The store's side of triage: see db-triage.h. */
#include "db-triage.h"

#include "db-modules.h"
#include "db.h"

enum { Q_FLIGHT_TESTS, Q_RESULTS, Q_N };

static const char *const sql[Q_N] = {
    [Q_FLIGHT_TESTS] = "SELECT a.id, a.job, coalesce(b.class, '') AS class, a.board, a.arch,"
		       " a.number, a.state, a.reason FROM attempts a LEFT JOIN boards b ON"
		       " b.name = a.board WHERE a.flight_id = ?1 AND a.kind = 'test' AND NOT"
		       " EXISTS (SELECT 1 FROM attempts n WHERE n.flight_id = a.flight_id AND"
		       " n.kind = 'test' AND n.job = a.job AND n.board IS a.board AND n.arch ="
		       " a.arch AND n.number > a.number) ORDER BY a.id",
    /* SQLite takes the bare columns of a max() aggregate from the row of the
     * maximum: each revision's newest result. */
    [Q_RESULTS] =
	"SELECT r.commit_id AS 'commit', max(a.id) AS attempt, a.flight_id AS"
	" flight, a.state FROM attempts a JOIN flights f ON f.id = a.flight_id JOIN"
	" revisions r ON r.id = f.revision_id JOIN boards bo ON bo.name = a.board"
	" WHERE r.tree_id = ?1 AND a.kind = 'test' AND a.job = ?2 AND bo.class = ?3"
	" AND a.state IN ('pass', 'fail', 'timeout') AND r.commit_id <> ?4 AND a.id < ?6 GROUP BY"
	" r.commit_id ORDER BY max(a.id) DESC LIMIT ?5",
};

static sqlite3_stmt *st[Q_N];

int db_triage_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_triage_finalize(void)
{
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
