/* The SQLite store: opening, migrations, transactions and row helpers.
 *
 * The database lives in DATA/xenci.db in WAL mode with foreign keys on. At open
 * every schema/NNNN-*.sql not yet recorded in schema_migrations is applied in
 * order, each in its own transaction, so an old database upgrades in place.
 * Then every db-*.c module prepares its statements once (db.c lists them).
 *
 * Two kinds of connection (docs/architecture.md): the writer, ctl.db, used under
 * ctl.lock by every thread that holds it; and one read-only connection per read
 * pool thread (http.c's ROUTE_READ handlers), used by that thread alone without
 * ctl.lock. Each db-*.c module keeps one set of prepared statements per
 * connection (DB_STATEMENTS below), so the same db_* functions serve both: a
 * read function runs on whichever connection its thread has, a write on a read
 * connection fails (-EIO: SQLite's SQLITE_READONLY). Unless it says otherwise,
 * every function here and in db-*.c expects ctl.lock held or a read thread.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_DB_H
#define XENCI_DB_H

#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"

/* The visibility rule (twins.h) in SQL, written once: a row whose board is B (an
 * alias of boards; NULL when there is none, as for builds) and that board's agent
 * G (an alias of agents) is one viewer ?A (admin: 1) or agent ?AG may see when
 * there is no board, the board is public, the viewer is an admin, or it is the
 * board's own agent. */
#define DB_VISIBLE(B, G, A, AG)                                                                    \
	"(" #B ".visibility IS NULL OR " #B ".visibility = 'public' OR ?" #A " OR " #G             \
	".name = ?" #AG ")"

/* 1 while the calling thread reads through its own read connection (between
 * db_read_begin and db_read_end), 0 elsewhere: the db_* functions then use that
 * connection's statements, else the writer's (under ctl.lock). */
extern __thread int db_reader;

/* A db-*.c module's prepared statements, one array per connection: the writer's
 * (used under ctl.lock) and each read thread's own. A module declares
 *
 *	DB_STATEMENTS(st, Q_N);
 *	#define st DB_STATEMENTS_OF(st)
 *
 * and then uses st[Q_...] and db_prepare(db, st, ...) as an array. db_use stops
 * the process when a read thread is handed a statement of another connection
 * (a module that does not declare its statements so). */
#define DB_STATEMENTS(name, n)                                                                     \
	static sqlite3_stmt *name##_writer[n];                                                     \
	static __thread sqlite3_stmt *name##_reader[n]
#define DB_STATEMENTS_OF(name) (db_reader ? name##_reader : name##_writer)

/* Opens (creating) path, migrates it from schema_dir, prepares the modules'
 * statements. Returns 0, or a negative errno with one message in err (errlen
 * bytes): -EIO (SQLite), or what reading the migrations met (-ENOENT, ...). */
int db_open(sqlite3 **out, const char *path, const char *schema_dir, char *err, size_t errlen);
void db_close(sqlite3 *db);
/* Applies the migrations not yet applied; *applied gets how many were. Returns
 * 0, or a negative errno with one message in err, as db_open. */
int db_migrate(sqlite3 *db, const char *schema_dir, int *applied, char *err, size_t errlen);

/* Prepares n statements (persistent) into st: 0, or -EIO after finalizing what
 * it made. */
int db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *const *sql, size_t n);
void db_finalize(sqlite3_stmt **st, size_t n);
/* Resets st and clears its bindings: every use of a prepared statement starts here. */
sqlite3_stmt *db_use(sqlite3_stmt *st);

/* The store's generation: a number that changes with every commit to the
 * database, by this controller's writer or by another process (it watches the
 * WAL-index header that SQLite rewrites in each commit), for caches of what was
 * read; -1 when no store is open. Any thread, with or without ctl.lock; no
 * system call. */
long long db_generation(void);

/* Resets every statement of ctl.db still stepping (one read a row and returned):
 * in autocommit mode such a statement holds a read transaction, so the controller
 * would go on reading an old snapshot of the file and every later BEGIN IMMEDIATE
 * would fail (SQLITE_BUSY_SNAPSHOT) once another process wrote it. Called when
 * ctl.lock is let go (db_open makes the writer's settling ctl_unlock's hook: no
 * statement is in use across an unlock). On a read thread, its own connection's
 * (after each handler: a read connection left on a row would pin its snapshot). */
void db_settle(void);

/* Makes the calling thread a read thread: opens its own read-only connection to
 * the open store and prepares every module's statements on it (used from
 * db_read_begin to db_read_end; a public worker also writes under ctl.lock
 * between its reads, through the writer). 0 (also when it is open already), or
 * -EIO (logged). Call db_reader_close on the same thread before db_close.
 * db_settle while reading settles the thread's own connection. */
int db_reader_open(void);
void db_reader_close(void);
/* 1 when the calling thread has its read connection (db_reader_open). */
int db_reader_ready(void);
/* A read thread's request in one read transaction (deferred BEGIN: SQLite takes
 * its snapshot at the first statement; https://www.sqlite.org/lang_transaction.html):
 * every statement of the request sees the same snapshot of the store, and the
 * WAL read lock is taken once a request instead of once a statement.
 * db_read_end settles the thread's statements (db_settle) and ends it (COMMIT;
 * ROLLBACK if that fails). db_reader is 1 from one to the other. Both do
 * nothing on a thread without its read connection.
 * db_read_release ends the transaction early, before the thread waits for
 * something else (a repository's lock): the rest of the request's statements
 * each see the last commit, as outside a transaction. It leaves the statements
 * as they are; a COMMIT that SQLite refuses leaves the transaction as it was. */
void db_read_begin(void);
void db_read_end(void);
void db_read_release(void);

/* A transaction on ctl.db: 0, or -EIO (db_commit then rolls back). A full disk
 * is noted (ctl_store_failed) first. */
int db_begin(void);
int db_commit(void);
void db_rollback(void);
/* 1 when a transaction is open on ctl.db (ctl.lock held). */
int db_in_transaction(void);
/* fn (NULL: none) runs on the writer, ctl.lock held, in every db_commit before it
 * commits, and when ctl.lock is let go outside a transaction (for writes made
 * without one): what must be derived from a change before anyone reads it (the
 * stored verdict classes, triage.h). It may write, and begin and commit its own
 * transaction when none is open; it is not run again from inside itself. */
void db_on_commit(void (*fn)(void));

/* Runs a statement that returns no rows; 0 or -EIO. */
int db_step_done(sqlite3_stmt *st);

/* Binds text or NULL. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Binds a JSON value as compact text, or NULL. */
void db_bind_json(sqlite3_stmt *st, int i, const json_t *v);

/* The current row as an object keyed by column name. A column named "j_NAME" is
 * decoded as JSON text into member NAME; NULL columns become null. */
json_t *db_row_object(sqlite3_stmt *st);
/* Every row of st as such objects. */
json_t *db_rows_array(sqlite3_stmt *st);
/* Every row of st appended to out as the JSON text of db_rows_array's array,
 * without making it (a hot list's reply: jansson's objects, made and dumped,
 * were most of its cost). The same members in the same order: INTEGER and REAL
 * columns as numbers (a non-finite REAL as null), TEXT as a string (RFC 8259
 * §7: '"', '\\' and controls escaped as jansson does; text that is not UTF-8 as
 * null, as json_stringn refuses it), NULL as null. A "j_NAME" column's text is
 * copied as it is into member NAME, so it must hold JSON the controller wrote
 * (json_dumps, SQLite's json_object); text that does not begin like JSON comes
 * out null. Steps st to its end and resets it. 0, or -EIO when a step failed
 * (out then holds an unfinished array: drop it). */
int db_rows_json(sqlite3_stmt *st, struct buf *out);
/* The same, a row at a time, for readers that take other columns of the row too:
 * db_json_row_init names the first ncols columns of st (all when ncols < 0 or
 * more than st has), db_json_row_write appends st's current row as one object of
 * them (db_rows_json's rules), db_json_row_release frees what init made. */
struct db_json_row {
	int n;
	struct buf keys;
	size_t *at;
	char *raw;
};
void db_json_row_init(struct db_json_row *w, sqlite3_stmt *st, int ncols);
void db_json_row_write(const struct db_json_row *w, sqlite3_stmt *st, struct buf *out);
void db_json_row_release(struct db_json_row *w);
/* Every row of st read into an array of C elements of `size` bytes (*rows, *n of
 * them; the caller frees it, and what take put in each, with drop): take fills
 * an element from the row, and the row's first ncols columns are appended to
 * text as one object (db_json_row_write) whose offset and length go to the
 * element's struct db_row_text at byte text_at. Steps st to its end and resets
 * it. 0, or -EIO when a step failed (drop has freed what was read; *rows NULL). */
struct db_row_text {
	size_t obj, len;
};
int db_rows_read(sqlite3_stmt *st, int ncols, struct buf *text, void **rows, size_t *n, size_t size,
		 size_t text_at, void (*take)(void *elem, sqlite3_stmt *st),
		 void (*drop)(void *rows, size_t n));
/* Column i of st's row as a new string (xstrdup), or NULL when it is NULL or not
 * UTF-8 (as db_row_object makes it null: jansson refuses such a string). */
char *db_column_dup(sqlite3_stmt *st, int i);

#endif
