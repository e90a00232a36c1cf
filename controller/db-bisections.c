/* The bisections and bisection_runs tables: see db-bisections.h. */
#include "db-bisections.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-boards.h"
#include "db.h"
#include "names.h"
#include "xmalloc.h"

enum {
	Q_CLASS,
	Q_PASSES,
	Q_FLAKE,
	Q_RESULT_CHANGES,
	Q_LATEST,
	Q_BASE_INS,
	Q_BASE_PENDING,
	Q_BASE_BY_FLIGHT,
	Q_BASE_SET,
	Q_BASE_OF_FLIGHT,
	Q_FIND_BAD,
	Q_INS,
	Q_RUN_INS,
	Q_RUN_FINISH,
	Q_RUN_REMAINING,
	Q_RUNS_PENDING,
	Q_RUNS,
	Q_GET,
	Q_LIST,
	Q_SET_STATE,
	Q_SET_CANDIDATES,
	Q_RESTART,
	Q_NOTIFIED,
	Q_SET_MOVED,
	Q_SET_GUILTY,
	Q_N
};

/* The search (migration 76): the guilty tree and its range are the regression's
 * own when one tree moved, unknown (null) while several trees' changes are being
 * isolated, and the steps pin the trigger flight's tuple unless set. */
#define BISECT_COLS                                                                                \
	"x.id, t.name AS tree, b.name AS branch, x.job, x.class, x.good, x.bad, x.board,"          \
	" x.state, x.outcome, x.reason, x.culprit, x.candidates, x.remaining, x.restarts,"         \
	" x.trigger_attempt, x.created, x.finished, x.notified, coalesce(x.pins, (SELECT f.tuple"  \
	" FROM attempts ta JOIN flights f ON f.id = ta.flight_id WHERE ta.id ="                    \
	" x.trigger_attempt)) AS j_pins, x.moved AS j_moved, coalesce(gt.name, CASE WHEN x.moved"  \
	" IS NULL THEN t.name END) AS guilty_tree, coalesce(x.guilty_good, CASE WHEN x.moved IS"   \
	" NULL THEN x.good END) AS guilty_good, coalesce(x.guilty_bad, CASE WHEN x.moved IS NULL"  \
	" THEN x.bad END) AS guilty_bad FROM bisections x LEFT JOIN trees t ON t.id = x.tree_id"   \
	" LEFT JOIN trees gt ON gt.id = x.guilty_tree_id LEFT JOIN branches b ON b.id ="           \
	" x.branch_id"

static const char *const sql[Q_N] = {
    [Q_CLASS] = "SELECT class FROM boards WHERE name = ?1",
    [Q_PASSES] = "SELECT r.commit_id AS 'commit', max(a.id) AS attempt FROM attempts a JOIN"
		 " flights f ON f.id = a.flight_id JOIN revisions r ON r.id = f.revision_id"
		 " JOIN boards bo ON bo.name = a.board WHERE r.tree_id = ?1 AND a.kind ="
		 " 'test' AND a.job = ?2 AND bo.class = ?3 AND a.state = 'pass' AND"
		 " r.commit_id <> ?4 GROUP BY r.commit_id ORDER BY max(a.id) DESC LIMIT ?5",
    /* (attempts walked newest first until the window is full: CROSS JOIN and the
     * unary + keep SQLite from gathering every result by the state's index to sort
     * them, 50 ms at 100,000 attempts against 0.5) */
    [Q_FLAKE] = "SELECT coalesce(sum(min(p, f)), 0), coalesce(sum(p + f), 0) FROM (SELECT"
		" sum(state = 'pass') AS p, sum(state = 'fail') AS f FROM (SELECT a.state AS"
		" state, r.commit_id AS c FROM attempts a CROSS JOIN boards bo JOIN flights fl ON"
		" fl.id = a.flight_id JOIN revisions r ON r.id = fl.revision_id"
		" LEFT JOIN agents g ON g.id = bo.agent_id"
		" WHERE bo.name = a.board AND r.tree_id = ?1 AND +a.kind = 'test' AND +a.job = ?2"
		" AND bo.class = ?3 AND +a.state IN ('pass', 'fail') AND " DB_VISIBLE(
		    bo, g, 5, 6) " ORDER BY a.id"
				 " DESC LIMIT ?4) GROUP BY c HAVING p + f >= 2)",
    [Q_RESULT_CHANGES] = "SELECT n FROM result_changes",
    [Q_BASE_INS] = "INSERT INTO baselines (tree_id, job, class, bad, trigger_attempt,"
		   " trigger_flight, tested, flight_id, state, created) VALUES (?1, ?2, ?3, ?4,"
		   " ?5, ?6, ?7, ?8, 'untested', ?9)",
    [Q_BASE_PENDING] = "SELECT id FROM baselines WHERE job = ?1 AND class = ?2 AND bad = ?3"
		       " AND state = 'untested'",
    [Q_BASE_BY_FLIGHT] = "SELECT id, trigger_attempt FROM baselines WHERE flight_id = ?1 AND"
			 " job = ?2 AND class = ?3 AND state = 'untested'",
    [Q_BASE_SET] = "UPDATE baselines SET state = ?2, finished = ?3 WHERE id = ?1",
    [Q_BASE_OF_FLIGHT] = "SELECT trigger_attempt AS attempt, job, class, bad, tested, flight_id AS"
			 " flight, state, created,"
			 " finished FROM baselines WHERE trigger_flight = ?1 ORDER BY id",
    [Q_LATEST] = "SELECT id, good, bad FROM bisections WHERE job = ?1 AND class = ?2 AND"
		 " state <> 'cancelled' ORDER BY id DESC LIMIT 1",
    [Q_FIND_BAD] = "SELECT id, restarts FROM bisections WHERE job = ?1 AND class = ?2 AND bad ="
		   " ?3 AND state <> 'cancelled' ORDER BY id DESC LIMIT 1",
    [Q_INS] = "INSERT INTO bisections (tree_id, branch_id, job, class, good, bad, board,"
	      " trigger_attempt, state, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	      " ?8, 'running', ?9, ?9)",
    [Q_RUN_INS] = "INSERT INTO bisection_runs (bisection_id, restart, purpose, commit_id,"
		  " revert, tested, flight_id, attempt_id, board, verdict, created, finished,"
		  " tree) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, CASE WHEN ?10 IS"
		  " NULL THEN NULL ELSE ?11 END, ?12)",
    [Q_RUN_FINISH] = "UPDATE bisection_runs SET attempt_id = ?2, board = ?3, verdict = ?4,"
		     " finished = ?5 WHERE id = ?1 AND verdict IS NULL",
    [Q_RUN_REMAINING] = "UPDATE bisection_runs SET remaining = ?2 WHERE id = ?1",
    [Q_RUNS_PENDING] = "SELECT id, bisection_id AS bisection, purpose, commit_id AS 'commit',"
		       " revert, restart, tree FROM bisection_runs WHERE flight_id = ?1 AND"
		       " verdict IS NULL ORDER BY id",
    [Q_RUNS] = "SELECT id, purpose, commit_id AS 'commit', revert, tested, flight_id AS"
	       " flight, attempt_id AS attempt, board, verdict, remaining, restart, created,"
	       " finished, tree FROM bisection_runs WHERE bisection_id = ?1 AND (?2 < 0 OR"
	       " restart = ?2) ORDER BY id",
    [Q_GET] = "SELECT " BISECT_COLS " WHERE x.id = ?1",
    [Q_LIST] = "SELECT " BISECT_COLS " WHERE ?2 = 0 OR x.id < ?2 ORDER BY x.id DESC LIMIT ?1",
    [Q_SET_STATE] = "UPDATE bisections SET state = ?2, outcome = ?3, reason = ?4, culprit ="
		    " ?5, remaining = ?6, finished = CASE WHEN ?7 THEN ?8 ELSE NULL END,"
		    " updated = ?8 WHERE id = ?1",
    [Q_SET_CANDIDATES] = "UPDATE bisections SET candidates = ?2 WHERE id = ?1",
    [Q_RESTART] = "UPDATE bisections SET restarts = restarts + 1, state = 'running', outcome"
		  " = NULL, reason = NULL, culprit = NULL, finished = NULL, notified = NULL,"
		  " updated = ?2 WHERE id = ?1",
    [Q_NOTIFIED] = "UPDATE bisections SET notified = ?2 WHERE id = ?1",
    [Q_SET_MOVED] = "UPDATE bisections SET moved = ?2 WHERE id = ?1",
    [Q_SET_GUILTY] = "UPDATE bisections SET guilty_tree_id = (SELECT id FROM trees WHERE name ="
		     " ?2), guilty_good = ?3, guilty_bad = ?4, pins = ?5, updated = ?6 WHERE id"
		     " = ?1",
};

DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

/* The rates a read thread measured, each with result_changes.n as it was read in
 * the same snapshot (schema/0133-result-changes.sql): while n is the same, nothing
 * the walk reads has changed. */
#define FLAKE_MEMO 256
static __thread struct flake_memo {
	long long changes, tree_id, minority, runs;
	int admin;
	char *job, *cls, *agent; /* agent: NULL for none */
} flake_memo[FLAKE_MEMO];
static __thread unsigned flake_memo_next;

int db_bisect_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_bisect_finalize(void)
{
	for (int i = 0; i < FLAKE_MEMO; i++) {
		free(flake_memo[i].job);
		free(flake_memo[i].cls);
		free(flake_memo[i].agent);
		flake_memo[i] = (struct flake_memo){0};
	}
	db_finalize(st, Q_N);
}

int db_bisect_board_class(char *cls, const char *board)
{
	sqlite3_stmt *s = db_use(st[Q_CLASS]);
	int rc = -ENOENT;

	db_bind_text(s, 1, board);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(cls, 65, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	}
	/* reset: a statement left on its row keeps a read transaction open */
	sqlite3_reset(s);
	return rc;
}

json_t *db_bisect_passes(long long tree_id, const char *job, const char *cls, const char * not )
{
	sqlite3_stmt *s = db_use(st[Q_PASSES]);

	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	db_bind_text(s, 4, not );
	sqlite3_bind_int(s, 5, BISECT_PASSES_MAX);
	return db_rows_array(s);
}

static int str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The memo of (tree_id, job, cls, admin, agent) at changes, or NULL. */
static struct flake_memo *flake_memo_find(long long changes, long long tree_id, const char *job,
					  const char *cls, int admin, const char *agent)
{
	for (int i = 0; i < FLAKE_MEMO; i++) {
		struct flake_memo *m = &flake_memo[i];

		if (m->job && m->changes == changes && m->tree_id == tree_id && m->admin == admin &&
		    !strcmp(m->job, job) && !strcmp(m->cls, cls) && str_same(m->agent, agent))
			return m;
	}
	return NULL;
}

/* result_changes.n, or -1 when it cannot be read (no memo then). */
static long long result_changes(void)
{
	sqlite3_stmt *s = db_use(st[Q_RESULT_CHANGES]);
	long long n = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

int db_bisect_flake_rate(double *rate, long long tree_id, const char *job, const char *cls,
			 const struct viewer *v)
{
	sqlite3_stmt *s;
	long long minority = 0, runs = 0, changes = -1;
	int rc, admin = v && v->admin;
	const char *agent = v && v->agent ? v->agent : NULL;
	struct flake_memo *m = NULL;

	/* Remembered on read threads only: their snapshots are of committed data
	 * (a transaction rolled back could give its n again to other rows), and
	 * each lets go of its memo with its connection (db_bisect_finalize). */
	if (db_reader)
		changes = result_changes();
	if (changes >= 0 && (m = flake_memo_find(changes, tree_id, job, cls, admin, agent))) {
		minority = m->minority;
		runs = m->runs;
		goto out;
	}
	s = db_use(st[Q_FLAKE]);
	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	sqlite3_bind_int(s, 4, BISECT_FLAKE_WINDOW);
	sqlite3_bind_int(s, 5, admin);
	db_bind_text(s, 6, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		minority = sqlite3_column_int64(s, 0);
		runs = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return -EIO;
	if (changes >= 0) {
		m = &flake_memo[flake_memo_next++ % FLAKE_MEMO];
		free(m->job);
		free(m->cls);
		free(m->agent);
		*m = (struct flake_memo){
		    changes, tree_id,	   minority,	 runs,
		    admin,   xstrdup(job), xstrdup(cls), agent ? xstrdup(agent) : NULL};
	}
out:
	if (runs == 0)
		return -ENOENT;
	*rate = (double)minority / (double)runs;
	return 0;
}

static const char *const baseline_names[BASELINE_STATE_N] = {
    [BASELINE_UNTESTED] = "untested",
    [BASELINE_PASS] = "pass",
    [BASELINE_FAIL] = "fail",
};

const char *baseline_state_name(enum baseline_state s)
{
	return (unsigned)s < BASELINE_STATE_N ? baseline_names[s] : "";
}

enum baseline_state baseline_state_of(const char *name)
{
	return (enum baseline_state)names_index(baseline_names, BASELINE_STATE_N, name);
}

int db_baseline_insert(long long tree_id, const char *job, const char *cls, const char *bad,
		       long long trigger_attempt, long long trigger_flight, const char *tested,
		       long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_BASE_INS]);

	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	db_bind_text(s, 4, bad);
	sqlite3_bind_int64(s, 5, trigger_attempt);
	sqlite3_bind_int64(s, 6, trigger_flight);
	db_bind_text(s, 7, tested);
	sqlite3_bind_int64(s, 8, flight);
	sqlite3_bind_int64(s, 9, now_ms());
	return db_step_done(s) < 0 ? -EIO : 0;
}

int db_baseline_pending(const char *job, const char *cls, const char *bad)
{
	sqlite3_stmt *s = db_use(st[Q_BASE_PENDING]);

	db_bind_text(s, 1, job);
	db_bind_text(s, 2, cls);
	db_bind_text(s, 3, bad);
	return sqlite3_step(s) == SQLITE_ROW ? 0 : -ENOENT;
}

int db_baseline_of_run(long long *id, long long *trigger, long long flight, const char *job,
		       const char *cls)
{
	sqlite3_stmt *s = db_use(st[Q_BASE_BY_FLIGHT]);

	sqlite3_bind_int64(s, 1, flight);
	db_bind_text(s, 2, job);
	db_bind_text(s, 3, cls);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -ENOENT;
	*id = sqlite3_column_int64(s, 0);
	*trigger = sqlite3_column_int64(s, 1);
	return 0;
}

int db_baseline_set(long long id, enum baseline_state state)
{
	sqlite3_stmt *s = db_use(st[Q_BASE_SET]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, baseline_state_name(state));
	sqlite3_bind_int64(s, 3, now_ms());
	return db_step_done(s) < 0 ? -EIO : 0;
}

json_t *db_baselines_of_flight(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_BASE_OF_FLIGHT]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}

int db_bisect_latest(long long *id, char good[41], char bad[41], const char *job, const char *cls)
{
	sqlite3_stmt *s = db_use(st[Q_LATEST]);

	db_bind_text(s, 1, job);
	db_bind_text(s, 2, cls);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -ENOENT;
	*id = sqlite3_column_int64(s, 0);
	snprintf(good, 41, "%s", (const char *)sqlite3_column_text(s, 1));
	snprintf(bad, 41, "%s", (const char *)sqlite3_column_text(s, 2));
	return 0;
}

int db_bisect_find_bad(long long *id, int *restart, const char *job, const char *cls,
		       const char *bad)
{
	sqlite3_stmt *s = db_use(st[Q_FIND_BAD]);

	db_bind_text(s, 1, job);
	db_bind_text(s, 2, cls);
	db_bind_text(s, 3, bad);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -ENOENT;
	*id = sqlite3_column_int64(s, 0);
	*restart = sqlite3_column_int(s, 1);
	return 0;
}

int db_bisect_insert(long long *id, long long tree_id, long long branch_id, const char *job,
		     const char *cls, const char *good, const char *bad, const char *board,
		     long long trigger_attempt)
{
	sqlite3_stmt *s = db_use(st[Q_INS]);

	sqlite3_bind_int64(s, 1, tree_id);
	if (branch_id > 0)
		sqlite3_bind_int64(s, 2, branch_id);
	db_bind_text(s, 3, job);
	db_bind_text(s, 4, cls);
	db_bind_text(s, 5, good);
	db_bind_text(s, 6, bad);
	db_bind_text(s, 7, board);
	if (trigger_attempt > 0)
		sqlite3_bind_int64(s, 8, trigger_attempt);
	sqlite3_bind_int64(s, 9, now_ms());
	if (db_step_done(s) < 0)
		return -EIO;
	*id = sqlite3_last_insert_rowid(ctl.db);
	return 0;
}

int db_bisect_set_moved(long long id, const json_t *moved)
{
	sqlite3_stmt *s = db_use(st[Q_SET_MOVED]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_json(s, 2, moved);
	return db_step_done(s);
}

int db_bisect_set_guilty(long long id, const char *tree, const char *good, const char *bad,
			 const json_t *pins)
{
	sqlite3_stmt *s = db_use(st[Q_SET_GUILTY]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, tree);
	db_bind_text(s, 3, good);
	db_bind_text(s, 4, bad);
	db_bind_json(s, 5, pins);
	sqlite3_bind_int64(s, 6, now_ms());
	return db_step_done(s);
}

int db_bisect_run_add(long long *id, long long bisection, int restart, const char *purpose,
		      const char *commit, int revert, const char *tested, long long flight,
		      long long attempt, const char *board, const char *verdict, const char *tree)
{
	sqlite3_stmt *s = db_use(st[Q_RUN_INS]);

	sqlite3_bind_int64(s, 1, bisection);
	sqlite3_bind_int(s, 2, restart);
	db_bind_text(s, 3, purpose);
	db_bind_text(s, 4, commit);
	sqlite3_bind_int(s, 5, revert);
	db_bind_text(s, 6, tested);
	if (flight > 0)
		sqlite3_bind_int64(s, 7, flight);
	if (attempt > 0)
		sqlite3_bind_int64(s, 8, attempt);
	db_bind_text(s, 9, board);
	db_bind_text(s, 10, verdict);
	sqlite3_bind_int64(s, 11, now_ms());
	db_bind_text(s, 12, tree);
	if (db_step_done(s) < 0)
		return -EIO;
	if (id)
		*id = sqlite3_last_insert_rowid(ctl.db);
	return 0;
}

int db_bisect_run_finish(long long run, long long attempt, const char *board, const char *verdict)
{
	sqlite3_stmt *s = db_use(st[Q_RUN_FINISH]);

	sqlite3_bind_int64(s, 1, run);
	if (attempt > 0)
		sqlite3_bind_int64(s, 2, attempt);
	db_bind_text(s, 3, board);
	db_bind_text(s, 4, verdict);
	sqlite3_bind_int64(s, 5, now_ms());
	return db_step_done(s) < 0 ? -EIO : 0;
}

int db_bisect_run_remaining(long long run, long long remaining)
{
	sqlite3_stmt *s = db_use(st[Q_RUN_REMAINING]);

	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int64(s, 2, remaining);
	return db_step_done(s) < 0 ? -EIO : 0;
}

json_t *db_bisect_runs_pending(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_RUNS_PENDING]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}

json_t *db_bisect_runs(long long bisection, int restart)
{
	sqlite3_stmt *s = db_use(st[Q_RUNS]);

	sqlite3_bind_int64(s, 1, bisection);
	sqlite3_bind_int(s, 2, restart);
	return db_rows_array(s);
}

json_t *db_bisect_get(long long id)
{
	sqlite3_stmt *s = db_use(st[Q_GET]);

	sqlite3_bind_int64(s, 1, id);
	return sqlite3_step(s) == SQLITE_ROW ? db_row_object(s) : NULL;
}

json_t *db_bisect_list(int limit, long long before)
{
	sqlite3_stmt *s = db_use(st[Q_LIST]);

	sqlite3_bind_int(s, 1, limit);
	sqlite3_bind_int64(s, 2, before);
	return db_rows_array(s);
}

static const char *const bisection_names[BISECTION_STATE_N] = {
    [BISECTION_RUNNING] = "running",
    [BISECTION_CONFIRMED] = "confirmed",
    [BISECTION_FOUND] = "found",
    [BISECTION_NOT_REPRODUCIBLE] = "not-reproducible",
    [BISECTION_INCONCLUSIVE] = "inconclusive",
    [BISECTION_CANCELLED] = "cancelled",
};

const char *bisection_state_name(enum bisection_state s)
{
	return (unsigned)s < BISECTION_STATE_N ? bisection_names[s] : "";
}

enum bisection_state bisection_state_of(const char *name)
{
	return (enum bisection_state)names_index(bisection_names, BISECTION_STATE_N, name);
}

int db_bisect_set_state(long long id, enum bisection_state state, const char *outcome,
			const char *reason, const char *culprit, long long remaining, int finished)
{
	sqlite3_stmt *s = db_use(st[Q_SET_STATE]);

	sqlite3_bind_int64(s, 1, id);
	db_bind_text(s, 2, bisection_state_name(state));
	db_bind_text(s, 3, outcome);
	db_bind_text(s, 4, reason);
	db_bind_text(s, 5, culprit);
	sqlite3_bind_int64(s, 6, remaining);
	sqlite3_bind_int(s, 7, finished);
	sqlite3_bind_int64(s, 8, now_ms());
	return db_step_done(s) < 0 ? -EIO : 0;
}

int db_bisect_set_candidates(long long id, long long candidates)
{
	sqlite3_stmt *s = db_use(st[Q_SET_CANDIDATES]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, candidates);
	return db_step_done(s) < 0 ? -EIO : 0;
}

int db_bisect_restart(long long id)
{
	sqlite3_stmt *s = db_use(st[Q_RESTART]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ms());
	return db_step_done(s) < 0 ? -EIO : 0;
}

int db_bisect_set_notified(long long id)
{
	sqlite3_stmt *s = db_use(st[Q_NOTIFIED]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ms());
	return db_step_done(s) < 0 ? -EIO : 0;
}
