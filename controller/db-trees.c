#include "db-trees.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "buf.h"
#include "db.h"
#include "xmalloc.h"

enum {
	Q_BRANCH_INS,
	Q_BRANCH_GET,
	Q_BRANCH_HEAD,
	Q_EVENT_INS,
	Q_EVENTS,
	Q_FLIGHT_BRANCH_SET,
	Q_UNSTARTED,
	Q_OPEN_ATTEMPTS,
	Q_FLIGHT_BRANCH,
	Q_SUB_NEXT,
	Q_SUB_INS,
	Q_SUB_GET,
	Q_GATE_HAS,
	Q_GATE_INS,
	Q_GATE_LIST,
	Q_BRANCH_FLIGHTS,
	Q_FLIGHT_TESTS,
	Q_FLIGHT_CHANGES,
	Q_REV_SUBJECT,
	Q_N
};

static const char *const sql[Q_N] = {
    [Q_BRANCH_INS] = "INSERT OR IGNORE INTO branches (tree_id, name) VALUES (?1, ?2)",
    [Q_BRANCH_GET] = "SELECT id, coalesce(head, '') FROM branches WHERE tree_id = ?1 AND"
		     " name = ?2",
    [Q_BRANCH_HEAD] = "UPDATE branches SET head = ?2, head_updated = ?3 WHERE id = ?1",
    [Q_EVENT_INS] = "INSERT INTO branch_events (branch_id, change, old, new, why, flight_id,"
		    " coalesced, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_EVENTS] = "SELECT id, change, old, new, why, flight_id AS flight, coalesced AS"
		 " j_coalesced, time FROM branch_events WHERE branch_id = ?1 ORDER BY id"
		 " DESC LIMIT ?2",
    [Q_FLIGHT_BRANCH_SET] = "UPDATE flights SET branch_id = ?2 WHERE id = ?1",
    [Q_UNSTARTED] = "SELECT f.id FROM flights f WHERE f.branch_id = ?1 AND f.state <> 'done'"
		    " AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.flight_id = f.id AND"
		    " a.state NOT IN ('waiting', 'queued')) ORDER BY f.id",
    /* not a build that another flight's tests wait for too (schema/0075) */
    [Q_OPEN_ATTEMPTS] = "SELECT a.id FROM attempts a WHERE a.flight_id = ?1 AND a.state IN"
			" ('waiting', 'queued') AND NOT (a.kind = 'build' AND EXISTS (SELECT 1"
			" FROM flight_builds x JOIN attempts t ON t.flight_id = x.flight_id AND"
			" t.arch = x.arch WHERE x.build_id = a.build_id AND x.flight_id <> ?1"
			" AND t.kind = 'test' AND t.state = 'waiting' AND t.build_id IS NOT"
			" NULL)) ORDER BY a.kind = 'build', a.id",
    [Q_FLIGHT_BRANCH] = "SELECT b.id AS branch_id, b.name AS branch, t.name AS tree,"
			" r.commit_id AS 'commit' FROM flights f JOIN branches b ON"
			" b.id = f.branch_id JOIN trees t ON t.id = b.tree_id JOIN revisions r"
			" ON r.id = f.revision_id WHERE f.id = ?1",
    [Q_SUB_NEXT] = "SELECT coalesce(max(id), 0) + 1 FROM submissions",
    [Q_SUB_INS] = "INSERT INTO submissions (id, tree_id, base, base_commit, commit_id, ref,"
		  " flight_id, patches, token_id, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		  " ?7, ?8, ?9, ?10)",
    [Q_SUB_GET] = "SELECT s.id, t.name AS tree, s.base, s.base_commit, s.commit_id AS"
		  " 'commit', s.ref, s.flight_id AS flight, s.patches AS j_patches, s.created"
		  " FROM submissions s JOIN trees t ON t.id = s.tree_id WHERE s.id = ?1",
    [Q_GATE_HAS] = "SELECT 1 FROM gate_decisions WHERE flight_id = ?1 AND ref = ?2",
    [Q_GATE_INS] = "INSERT OR IGNORE INTO gate_decisions (branch_id, flight_id, ref,"
		   " commit_id, from_commit, action, reason, time) VALUES (?1, ?2, ?3, ?4,"
		   " ?5, ?6, ?7, ?8)",
    [Q_GATE_LIST] = "SELECT id, flight_id AS flight, ref, commit_id AS 'commit', from_commit"
		    " AS 'from', action, reason, time FROM gate_decisions WHERE branch_id = ?1"
		    " ORDER BY id DESC LIMIT ?2",
    [Q_BRANCH_FLIGHTS] =
	"SELECT f.id AS flight, r.commit_id AS 'commit', r.subject, r.author,"
	" f.created, f.state, f.tuple AS j_tuple, f.changes FROM flights f JOIN revisions r ON"
	" r.id = f.revision_id WHERE f.branch_id = ?1 ORDER BY f.id DESC"
	" LIMIT ?2",
    /* db_flight_newest_tests reads its columns by position (newest_text) */
    [Q_FLIGHT_TESTS] =
	"SELECT a.id, a.job, a.board, coalesce(b.class, a.board) AS class,"
	" coalesce(b.visibility, 'public') AS visibility, a.number, a.state,"
	" a.slower AS j_slower FROM attempts a LEFT JOIN boards b ON b.name = a.board WHERE"
	" a.flight_id = ?1 AND a.kind = 'test' ORDER BY a.id",
    [Q_FLIGHT_CHANGES] = "SELECT changes FROM flights WHERE id = ?1",
    /* revisions belong to db-flights.c; the subject is git's to tell (see
     * db_revision_set_subject). */
    [Q_REV_SUBJECT] = "UPDATE revisions SET subject = coalesce(subject, ?3),"
		      " author = coalesce(author, ?4) WHERE (subject IS NULL OR author IS NULL)"
		      " AND tree_id = (SELECT id FROM trees WHERE name = ?1) AND commit_id = ?2",
};

DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

int db_watch_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

static void newest_memo_release(void);

void db_watch_finalize(void)
{
	newest_memo_release();
	db_finalize(st, Q_N);
}

static json_t *ids_of(sqlite3_stmt *s)
{
	json_t *ids = json_array();

	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(ids, json_integer(sqlite3_column_int64(s, 0)));
	sqlite3_reset(s);
	return ids;
}

int db_branch_id(long long *id, long long tree_id, const char *name, char *head)
{
	sqlite3_stmt *s = db_use(st[Q_BRANCH_INS]);
	int rc = db_reader ? -ENOENT : -EIO;

	/* a read connection only looks (db-trees.h) */
	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, name);
	if (!db_reader && db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_BRANCH_GET]);
	sqlite3_bind_int64(s, 1, tree_id);
	db_bind_text(s, 2, name);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		if (head)
			snprintf(head, 41, "%.40s", (const char *)sqlite3_column_text(s, 1));
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int db_branch_set_head(long long branch_id, const char *head)
{
	sqlite3_stmt *s = db_use(st[Q_BRANCH_HEAD]);

	sqlite3_bind_int64(s, 1, branch_id);
	db_bind_text(s, 2, head);
	sqlite3_bind_int64(s, 3, now_ms());
	return db_step_done(s);
}

int db_branch_event(long long branch_id, const char *change, const char *old, const char *now,
		    const char *why, long long flight_id, const json_t *coalesced)
{
	sqlite3_stmt *s = db_use(st[Q_EVENT_INS]);

	sqlite3_bind_int64(s, 1, branch_id);
	db_bind_text(s, 2, change);
	db_bind_text(s, 3, old && *old ? old : NULL);
	db_bind_text(s, 4, now && *now ? now : NULL);
	db_bind_text(s, 5, why);
	if (flight_id > 0)
		sqlite3_bind_int64(s, 6, flight_id);
	db_bind_json(s, 7, coalesced && json_array_size(coalesced) ? coalesced : NULL);
	sqlite3_bind_int64(s, 8, now_ms());
	return db_step_done(s);
}

json_t *db_branch_events(long long branch_id, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_EVENTS]);

	sqlite3_bind_int64(s, 1, branch_id);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_array(s);
}

int db_flight_set_branch(long long flight_id, long long branch_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_BRANCH_SET]);

	sqlite3_bind_int64(s, 1, flight_id);
	sqlite3_bind_int64(s, 2, branch_id);
	return db_step_done(s);
}

json_t *db_branch_unstarted_flights(long long branch_id)
{
	sqlite3_stmt *s = db_use(st[Q_UNSTARTED]);

	sqlite3_bind_int64(s, 1, branch_id);
	return ids_of(s);
}

json_t *db_flight_open_attempts(long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_OPEN_ATTEMPTS]);

	sqlite3_bind_int64(s, 1, flight_id);
	return ids_of(s);
}

json_t *db_flight_branch(long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_BRANCH]);
	json_t *row = NULL;

	sqlite3_bind_int64(s, 1, flight_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		row = db_row_object(s);
	sqlite3_reset(s);
	return row;
}

long long db_submission_next(void)
{
	sqlite3_stmt *s = db_use(st[Q_SUB_NEXT]);
	long long id = 1;

	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return id;
}

int db_submission_insert(long long id, long long tree_id, const char *base, const char *base_commit,
			 const char *commit, const char *ref, long long flight_id,
			 const json_t *patches, long long token_id)
{
	sqlite3_stmt *s = db_use(st[Q_SUB_INS]);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, tree_id);
	db_bind_text(s, 3, base);
	db_bind_text(s, 4, base_commit);
	db_bind_text(s, 5, commit);
	db_bind_text(s, 6, ref);
	if (flight_id > 0)
		sqlite3_bind_int64(s, 7, flight_id);
	db_bind_json(s, 8, patches);
	if (token_id > 0)
		sqlite3_bind_int64(s, 9, token_id);
	sqlite3_bind_int64(s, 10, now_ms());
	return db_step_done(s);
}

json_t *db_submission_get(long long id)
{
	sqlite3_stmt *s = db_use(st[Q_SUB_GET]);
	json_t *row = NULL;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		row = db_row_object(s);
	sqlite3_reset(s);
	return row;
}

int db_gate_decided(long long flight_id, const char *ref)
{
	sqlite3_stmt *s = db_use(st[Q_GATE_HAS]);
	int has;

	sqlite3_bind_int64(s, 1, flight_id);
	db_bind_text(s, 2, ref);
	has = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return has;
}

int db_gate_record(long long branch_id, long long flight_id, const char *ref, const char *commit,
		   const char *from, const char *action, const char *reason)
{
	sqlite3_stmt *s = db_use(st[Q_GATE_INS]);

	sqlite3_bind_int64(s, 1, branch_id);
	sqlite3_bind_int64(s, 2, flight_id);
	db_bind_text(s, 3, ref);
	db_bind_text(s, 4, commit);
	db_bind_text(s, 5, from && *from ? from : NULL);
	db_bind_text(s, 6, action);
	db_bind_text(s, 7, reason);
	sqlite3_bind_int64(s, 8, now_ms());
	return db_step_done(s);
}

json_t *db_gate_decisions(long long branch_id, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_GATE_LIST]);

	sqlite3_bind_int64(s, 1, branch_id);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_array(s);
}

json_t *db_branch_flights(long long branch_id, int limit)
{
	sqlite3_stmt *s = db_use(st[Q_BRANCH_FLIGHTS]);

	sqlite3_bind_int64(s, 1, branch_id);
	sqlite3_bind_int(s, 2, limit);
	return db_rows_array(s);
}

json_t *db_flight_test_attempts(long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_TESTS]);

	sqlite3_bind_int64(s, 1, flight_id);
	return db_rows_array(s);
}

/* Q_FLIGHT_TESTS's columns that db_flight_newest_tests copies: job, board, class,
 * visibility, state, slower; id is column 0, number 5. */
static const int newest_text[6] = {1, 2, 3, 4, 6, 7};

/* One attempt of db_flight_newest_tests, its texts at offsets of one arena
 * (SIZE_MAX: NULL). */
struct newest_row {
	long long id, number;
	size_t text[6], len[6]; /* job, board, class, visibility, state, slower */
};

/* Whether column c of x and y holds the same text (NULL as ""). */
static int same_text(const struct buf *arena, const struct newest_row *x,
		     const struct newest_row *y, int c)
{
	return x->len[c] == y->len[c] &&
	       (x->len[c] == 0 ||
		!memcmp(arena->data + x->text[c], arena->data + y->text[c], x->len[c]));
}

/* A read thread's memo of flights' newest test attempts, each with flights.changes
 * as it was read before its rows (schema/0134-flight-changes.sql): while changes is
 * the same, nothing db_flight_newest_tests reads of that flight has changed. One
 * slot per flight id modulo NEWEST_MEMO (a branch's flights have consecutive ids
 * mostly). */
#define NEWEST_MEMO 128
static __thread struct newest_memo {
	long long flight, changes; /* flight 0: empty */
	struct newest_row *rows;
	size_t n;
	struct buf arena;
} newest_memo[NEWEST_MEMO];

/* Empties m (what it holds freed). */
static void newest_clear(struct newest_memo *m)
{
	free(m->rows);
	buf_release(&m->arena);
	*m = (struct newest_memo){0};
}

static void newest_memo_release(void)
{
	for (int i = 0; i < NEWEST_MEMO; i++)
		newest_clear(&newest_memo[i]);
}

/* flights.changes of flight_id, or -1 when it cannot be read (no memo then). */
static long long flight_changes(long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_CHANGES]);
	long long n = -1;

	sqlite3_bind_int64(s, 1, flight_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

/* Reads the newest attempt of each (job, board) of flight_id into m's rows and
 * arena (m's own, replaced). 0, or -EIO when the store fails (m empty then). */
static int newest_read(struct newest_memo *m, long long flight_id)
{
	sqlite3_stmt *s = db_use(st[Q_FLIGHT_TESTS]);
	struct newest_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	newest_clear(m);
	buf_init(&m->arena, 0);
	sqlite3_bind_int64(s, 1, flight_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct newest_row r = {.id = sqlite3_column_int64(s, 0),
				       .number = sqlite3_column_int64(s, 5)};
		size_t k;

		for (int c = 0; c < 6; c++) {
			const char *t = (const char *)sqlite3_column_text(s, newest_text[c]);

			r.len[c] = (size_t)sqlite3_column_bytes(s, newest_text[c]);
			r.text[c] = t ? m->arena.len : SIZE_MAX;
			if (t &&
			    (buf_append(&m->arena, t, r.len[c]) < 0 || buf_putc(&m->arena, 0) < 0))
				rc = SQLITE_NOMEM;
		}
		if (rc != SQLITE_ROW)
			break;
		/* the newest of its (job, board) in place of the first's */
		for (k = 0; k < n; k++)
			if (same_text(&m->arena, &rows[k], &r, 1) &&
			    same_text(&m->arena, &rows[k], &r, 0))
				break;
		if (k < n) {
			if (r.number >= rows[k].number)
				rows[k] = r;
			continue;
		}
		if (n == cap)
			rows = xrealloc(rows, (cap = cap ? 2 * cap : 32) * sizeof(*rows));
		rows[n++] = r;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(rows);
		newest_clear(m);
		return -EIO;
	}
	m->rows = rows;
	m->n = n;
	return 0;
}

int db_flight_newest_tests(long long flight_id, db_newest_fn fn, void *ctx)
{
	struct newest_memo own = {0}, *m = &own;
	long long changes = -1;
	int stop = 0;

	/* Remembered on read threads only: their snapshots are of committed data
	 * (a transaction rolled back could give its changes again to other rows),
	 * and each lets go of its memo with its connection (db_watch_finalize).
	 * changes is read before the rows: rows read later are as new or newer,
	 * and a newer row moved changes past the value they are kept with. */
	if (db_reader && flight_id > 0 && (changes = flight_changes(flight_id)) >= 0)
		m = &newest_memo[flight_id % NEWEST_MEMO];
	if (m == &own || m->flight != flight_id || m->changes != changes) {
		if (newest_read(m, flight_id) < 0)
			return -EIO;
		m->flight = m == &own ? 0 : flight_id;
		m->changes = changes;
	}
	for (size_t i = 0; i < m->n && !stop; i++) {
		const struct newest_row *r = &m->rows[i];
		const char *t[6];

		for (int c = 0; c < 6; c++)
			t[c] = r->text[c] == SIZE_MAX ? NULL : m->arena.data + r->text[c];
		stop = fn(ctx, &(struct db_newest){r->id, t[0] ? t[0] : "", t[1] ? t[1] : "",
						   t[2] ? t[2] : "", t[3] ? t[3] : "", t[4], t[5],
						   r->len[5]});
	}
	if (m == &own)
		newest_clear(&own);
	return stop;
}

int db_revision_set_subject(const char *tree, const char *commit, const char *subject,
			    const char *author)
{
	sqlite3_stmt *s = db_use(st[Q_REV_SUBJECT]);

	db_bind_text(s, 1, tree);
	db_bind_text(s, 2, commit);
	db_bind_text(s, 3, subject);
	db_bind_text(s, 4, author);
	return db_step_done(s);
}
