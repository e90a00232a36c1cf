#include "db.h"

#include <dirent.h>
#include <math.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "db-modules.h"
#include "fs.h"
#include "json-util.h"
#include "names.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

/* A migration file is small SQL: anything larger is not one. */
#define MIGRATION_MAX (4 << 20)

/* The modules that own statements. Adding a db-*.c file is adding a line. */
static const struct db_module {
	const char *name;
	int (*prepare)(sqlite3 *db);
	void (*finalize)(void);
} db_modules[] = {
    {"tokens", db_tokens_prepare, db_tokens_finalize},
    {"boards", db_boards_prepare, db_boards_finalize},
    {"flights", db_flights_prepare, db_flights_finalize},
    {"attempts", db_attempts_prepare, db_attempts_finalize},
    {"events", db_events_prepare, db_events_finalize},
    {"artifacts", db_artifacts_prepare, db_artifacts_finalize},
    {"watch", db_watch_prepare, db_watch_finalize},
    {"bisect", db_bisect_prepare, db_bisect_finalize},
    {"triage", db_triage_prepare, db_triage_finalize},
    {"records", db_records_prepare, db_records_finalize},
    {"reports", db_reports_prepare, db_reports_finalize},
    {"reservations", db_reservations_prepare, db_reservations_finalize},
    {NULL, NULL, NULL},
};

static sqlite3 *tx_db;

__thread int db_reader;
static __thread sqlite3 *reader_db; /* a read pool thread's own connection */
/* its BEGIN and COMMIT (db_read_begin, db_read_end) */
static __thread sqlite3_stmt *reader_begin, *reader_commit;

/* -1 and *msg (sqlite3_malloc'd) when a foreign key of the open transaction
 * points nowhere; 0 when all hold. */
static int fk_check(sqlite3 *db, char **msg)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*msg = sqlite3_mprintf("a foreign key of %s row %lld points nowhere",
				       (const char *)sqlite3_column_text(s, 0),
				       sqlite3_column_int64(s, 1));
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

int db_migrate(sqlite3 *db, const char *schema_dir, int *applied, char *err, size_t errlen)
{
	DIR *d = NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *has = NULL, *rec = NULL;
	char *sql = NULL, *msg = NULL;
	int rc = -EIO;

	*applied = 0;
	if (sqlite3_exec(
		db,
		"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
		" name TEXT NOT NULL, applied INTEGER NOT NULL)",
		NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "schema_migrations: %s", msg);
		goto out;
	}
	d = opendir(schema_dir);
	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", schema_dir, strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 10 || strspn(e->d_name, "0123456789") != 4 || e->d_name[4] != '-' ||
		    strcmp(e->d_name + len - 4, ".sql"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	names_sort(names, n);
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &has,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO schema_migrations VALUES (?, ?, ?)", -1, &rec,
			       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "schema_migrations: %s", sqlite3_errmsg(db));
		goto out;
	}
	for (i = 0; i < n; i++) {
		int version = (int)strtol(names[i], NULL, 10);
		char path[4096];
		int r;

		sqlite3_reset(has);
		sqlite3_bind_int(has, 1, version);
		if (sqlite3_step(has) == SQLITE_ROW)
			continue;
		snprintf(path, sizeof(path), "%s/%s", schema_dir, names[i]);
		free(sql);
		if ((r = file_read(&sql, NULL, path, MIGRATION_MAX)) < 0) {
			rc = r;
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
			goto out;
		}
		/* Foreign keys off while a migration runs (SQLite's way to rebuild a
		 * table that others reference), checked before it commits. */
		if (sqlite3_exec(db, "PRAGMA foreign_keys=OFF; BEGIN IMMEDIATE", NULL, NULL,
				 NULL) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
		    fk_check(db, &msg) < 0) {
			snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		sqlite3_reset(rec);
		sqlite3_bind_int(rec, 1, version);
		sqlite3_bind_text(rec, 2, names[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(rec, 3, now_ms());
		if (sqlite3_step(rec) != SQLITE_DONE ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		(*applied)++;
	}
	rc = 0;
out:
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	sqlite3_free(msg);
	sqlite3_finalize(has);
	sqlite3_finalize(rec);
	free(sql);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	return rc;
}

static char db_file[4096]; /* the open database's path, for db_full */

/* Notes a full disk (ctl_store_failed) when code says SQLITE_FULL, or an I/O
 * error whose system errno is ENOSPC or EDQUOT (growing the WAL index, say);
 * returns code. */
static int db_full(int code)
{
	if ((code & 0xff) == SQLITE_FULL)
		ctl_store_failed(ENOSPC, db_file);
	else if ((code & 0xff) == SQLITE_IOERR && tx_db)
		ctl_store_failed(sqlite3_system_errno(tx_db), db_file);
	return code;
}

/* SQLite's error log: a statement that aborts says why here, whichever db-*.c
 * function ran it. (A commit that fails is not logged: db_step_done, db_begin and
 * db_commit look at their own codes.) */
static void db_log(void *cls, int code, const char *msg)
{
	(void)cls;
	/* a read thread's connection is read-only: a ROUTE_READ handler that writes */
	if ((code & 0xff) == SQLITE_READONLY && db_reader)
		log_warnx("a write through a read connection (a ROUTE_READ handler that writes:"
			  " docs/architecture.md): %s",
			  msg);
	db_full(code);
}

/* The statements db_use handed out since the connection was last settled: the
 * writer's (under ctl.lock, whichever thread holds it) and a read thread's own.
 * Settling resets those still on a row, not every statement of the connection
 * (a walk of some hundreds at each unlock and after each read). Statements reach
 * a connection's work only through db_use (DB_STATEMENTS); past USED_MAX
 * distinct ones the whole connection is walked. */
#define USED_MAX 32
struct used {
	sqlite3_stmt *st[USED_MAX];
	int n, all;
};
static struct used writer_used;
static __thread struct used reader_used;

static void used_add(struct used *u, sqlite3_stmt *st)
{
	for (int i = 0; i < u->n; i++)
		if (u->st[i] == st)
			return;
	if (u->n < USED_MAX)
		u->st[u->n++] = st;
	else
		u->all = 1;
}

static void settle(sqlite3 *db, struct used *u)
{
	sqlite3_stmt *st = NULL;

	if (!db)
		return;
	if (u->all) {
		while ((st = sqlite3_next_stmt(db, st)) != NULL)
			if (sqlite3_stmt_busy(st))
				sqlite3_reset(st);
	} else {
		for (int i = 0; i < u->n; i++)
			if (sqlite3_stmt_busy(u->st[i]))
				sqlite3_reset(u->st[i]);
	}
	u->n = 0;
	u->all = 0;
}

/* db_on_commit's function, and whether it is running (it commits too). */
static void (*commit_hook)(void);
static int in_commit_hook;

void db_on_commit(void (*fn)(void))
{
	commit_hook = fn;
}

int db_in_transaction(void)
{
	return tx_db && !sqlite3_get_autocommit(tx_db);
}

/* ctl_unlock's hook: whichever thread lets the lock go, the writer's statements;
 * and what a write outside a transaction left for the commit hook. */
static void settle_writer(void)
{
	static sqlite3_int64 changes_seen = -1;
	sqlite3_int64 changes;

	settle(tx_db, &writer_used);
	if (!tx_db || !commit_hook || in_commit_hook || db_in_transaction())
		return;
	/* only after a write: the rows this connection changed, triggers' too */
	changes = sqlite3_total_changes64(tx_db);
	if (changes == changes_seen)
		return;
	in_commit_hook = 1;
	commit_hook();
	in_commit_hook = 0;
	settle(tx_db, &writer_used);
	changes_seen = sqlite3_total_changes64(tx_db);
}

/* The generation: a counter moved whenever the database's WAL-index header
 * changed since it was last looked at. SQLite rewrites that header (the first 48
 * bytes of the -shm file, https://www.sqlite.org/walformat.html) in every commit,
 * whichever connection or process makes it, and every reader compares it to
 * know whether its cache is stale: so any commit, the writer's (ctl.db) as much
 * as another process's (sqlite3 on the live file, a restore), moves it. Mapped
 * read-only, it costs a 48-byte compare and no system call (PRAGMA data_version
 * took a read transaction: two fcntl locks, about 12 us here under load, which
 * a cached reply of 16 us could not afford). Where the file cannot be mapped,
 * PRAGMA data_version on a connection of its own that never writes (the probe)
 * serves instead. */
#define WAL_HDR_BYTES 48

static struct {
	pthread_mutex_t lock;
	const unsigned char *hdr; /* the mapped -shm's first page, or NULL */
	/* the -shm's descriptor, open as long as the store: closing any descriptor
	 * of a file drops every POSIX lock the process holds on it (fcntl(2)), and
	 * with them SQLite's own on the -shm, after which another process opening
	 * the store believes itself alone and truncates the -shm under our maps
	 * (SIGBUS) and the live writer's wal-index */
	int shm_fd;
	unsigned char last[WAL_HDR_BYTES];
	long long gen;
	sqlite3 *db; /* the probe, when hdr is NULL */
	sqlite3_stmt *version;
} probe = {.lock = PTHREAD_MUTEX_INITIALIZER, .shm_fd = -1};

static int probe_open(const char *path)
{
	char *shm = xasprintf("%s-shm", path);
	int fd = open(shm, O_RDONLY | O_CLOEXEC);
	void *map = MAP_FAILED;
	struct stat sb;

	if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size >= WAL_HDR_BYTES)
		map = mmap(NULL, WAL_HDR_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	probe.shm_fd = fd; /* closed only with the store (probe_close) */
	free(shm);
	probe.gen = 0;
	if (map != MAP_FAILED) {
		probe.hdr = map;
		memcpy(probe.last, probe.hdr, WAL_HDR_BYTES);
		return 0;
	}
	if (sqlite3_open_v2(path, &probe.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v3(probe.db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
			       &probe.version, NULL) != SQLITE_OK) {
		sqlite3_close(probe.db);
		probe.db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(probe.db, 5000);
	return 0;
}

static void probe_close(void)
{
	pthread_mutex_lock(&probe.lock);
	if (probe.hdr)
		munmap((void *)probe.hdr, WAL_HDR_BYTES);
	probe.hdr = NULL;
	sqlite3_finalize(probe.version);
	sqlite3_close(probe.db);
	probe.version = NULL;
	probe.db = NULL;
	if (probe.shm_fd >= 0)
		close(probe.shm_fd);
	probe.shm_fd = -1;
	pthread_mutex_unlock(&probe.lock);
}

int db_open(sqlite3 **out, const char *path, const char *schema_dir, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	const struct db_module *m;
	char *msg = NULL;
	int applied, rc = -EIO;

	*out = NULL;
	snprintf(db_file, sizeof(db_file), "%s", path);
	/* Before SQLite initialises; a later call (a second open) fails harmlessly. */
	sqlite3_config(SQLITE_CONFIG_LOG, db_log, NULL);
	/* No memory statistics: their counters take one process-wide mutex at every
	 * allocation, which the read pool's threads met at each row (nothing here
	 * reads sqlite3_status). */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
			 " PRAGMA synchronous=NORMAL;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto fail;
	}
	rc = db_migrate(db, schema_dir, &applied, err, errlen);
	if (rc < 0)
		goto fail;
	rc = -EIO;
	for (m = db_modules; m->name; m++) {
		if (m->prepare(db) < 0) {
			snprintf(err, errlen, "db-%s: %s", m->name, sqlite3_errmsg(db));
			for (; m > db_modules; m--)
				m[-1].finalize();
			goto fail;
		}
	}
	if (probe_open(path) < 0) {
		snprintf(err, errlen, "%s: cannot open a second connection to it", path);
		for (m = db_modules; m->name; m++)
			m->finalize();
		goto fail;
	}
	tx_db = db;
	ctl_on_unlock(settle_writer);
	*out = db;
	return 0;
fail:
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

long long db_generation(void)
{
	long long gen = -1;

	pthread_mutex_lock(&probe.lock);
	if (probe.hdr) {
		/* A torn read (a commit writing it meanwhile) only moves it once more. */
		if (memcmp(probe.last, probe.hdr, WAL_HDR_BYTES)) {
			memcpy(probe.last, probe.hdr, WAL_HDR_BYTES);
			probe.gen++;
		}
		gen = probe.gen;
	} else if (probe.version) {
		if (sqlite3_step(probe.version) == SQLITE_ROW)
			gen = sqlite3_column_int64(probe.version, 0);
		sqlite3_reset(probe.version);
	}
	pthread_mutex_unlock(&probe.lock);
	return gen;
}

void db_settle(void)
{
	if (db_reader)
		settle(reader_db, &reader_used);
	else
		settle(tx_db, &writer_used);
}

int db_reader_open(void)
{
	const struct db_module *m;
	sqlite3 *db = NULL;

	if (reader_db)
		return 0;
	if (!tx_db)
		return -ENOENT; /* no store open */
	if (sqlite3_open_v2(db_file, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: a read connection: %s", db_file,
			  db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "BEGIN", -1, &reader_begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &reader_commit, NULL) != SQLITE_OK) {
		log_warnx("%s: a read connection: %s", db_file, sqlite3_errmsg(db));
		goto fail;
	}
	db_reader = 1;
	for (m = db_modules; m->name; m++) {
		if (m->prepare(db) < 0) {
			log_warnx("db-%s on a read connection: %s", m->name, sqlite3_errmsg(db));
			for (; m > db_modules; m--)
				m[-1].finalize();
			goto fail;
		}
	}
	reader_db = db;
	db_reader = 0; /* its statements are used between db_read_begin and db_read_end */
	return 0;
fail:
	sqlite3_finalize(reader_begin);
	sqlite3_finalize(reader_commit);
	reader_begin = reader_commit = NULL;
	sqlite3_close(db);
	db_reader = 0;
	return -EIO;
}

int db_reader_ready(void)
{
	return reader_db != NULL;
}

void db_read_begin(void)
{
	if (!reader_db)
		return;
	db_reader = 1;
	if (sqlite3_get_autocommit(reader_db)) {
		sqlite3_step(reader_begin);
		sqlite3_reset(reader_begin);
	}
}

void db_read_release(void)
{
	if (reader_db && !sqlite3_get_autocommit(reader_db)) {
		sqlite3_step(reader_commit);
		sqlite3_reset(reader_commit);
	}
}

void db_read_end(void)
{
	if (!reader_db)
		return;
	settle(reader_db, &reader_used);
	db_read_release();
	if (!sqlite3_get_autocommit(reader_db))
		sqlite3_exec(reader_db, "ROLLBACK", NULL, NULL, NULL);
	db_reader = 0;
}

void db_reader_close(void)
{
	const struct db_module *m;

	if (!reader_db)
		return;
	db_reader = 1; /* the modules finalize the thread's own statements */
	for (m = db_modules; m->name; m++)
		m->finalize();
	sqlite3_finalize(reader_begin);
	sqlite3_finalize(reader_commit);
	reader_begin = reader_commit = NULL;
	sqlite3_close(reader_db);
	reader_db = NULL;
	reader_used = (struct used){0};
	db_reader = 0;
}

void db_close(sqlite3 *db)
{
	const struct db_module *m;

	if (db == NULL)
		return;
	for (m = db_modules; m->name; m++)
		m->finalize();
	sqlite3_close(db);
	if (tx_db == db) {
		probe_close(); /* after SQLite let go of its locks (see shm_fd) */
		tx_db = NULL;
		writer_used = (struct used){0};
	}
}

int db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *const *sql, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) !=
		    SQLITE_OK) {
			db_finalize(st, i);
			return -EIO;
		}
	}
	return 0;
}

void db_finalize(sqlite3_stmt **st, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
}

sqlite3_stmt *db_use(sqlite3_stmt *st)
{
	/* A module whose statements are not DB_STATEMENTS would hand a read pool
	 * thread the writer's statement, used without ctl.lock: stop at once. */
	if (db_reader && sqlite3_db_handle(st) != reader_db) {
		log_warnx("a statement of the writer's connection used on a read thread: its "
			  "db-*.c module must declare its statements with DB_STATEMENTS");
		abort();
	}
	used_add(db_reader ? &reader_used : &writer_used, st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int db_begin(void)
{
	int rc = db_full(sqlite3_exec(tx_db, "BEGIN IMMEDIATE", NULL, NULL, NULL));

	return rc == SQLITE_OK ? 0 : -EIO;
}

int db_commit(void)
{
	if (commit_hook && !in_commit_hook && db_in_transaction()) {
		in_commit_hook = 1;
		commit_hook();
		in_commit_hook = 0;
	}
	if (db_full(sqlite3_exec(tx_db, "COMMIT", NULL, NULL, NULL)) == SQLITE_OK)
		return 0;
	db_rollback();
	return -EIO;
}

void db_rollback(void)
{
	if (!sqlite3_get_autocommit(tx_db))
		sqlite3_exec(tx_db, "ROLLBACK", NULL, NULL, NULL);
}

int db_step_done(sqlite3_stmt *st)
{
	int rc = db_full(sqlite3_step(st));

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

void db_bind_json(sqlite3_stmt *st, int i, const json_t *v)
{
	char *s;

	if (v == NULL || json_is_null(v)) {
		sqlite3_bind_null(st, i);
		return;
	}
	s = json_compact(v);
	sqlite3_bind_text(st, i, s, -1, free);
}

/* Column i of st, JSON text, parsed (json_null() when it is not JSON). The
 * empty array and object, most stored lists and maps (a board's tags, policy,
 * properties), without jansson's parser: its set-up costs more than they do. */
static json_t *json_column(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	json_t *v;

	if (n == 2 && !memcmp(t, "[]", 2))
		return json_array();
	if (n == 2 && !memcmp(t, "{}", 2))
		return json_object();
	v = json_parse(t, n, NULL, 0);
	return v ? v : json_null();
}

json_t *db_row_object(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int i, n = sqlite3_column_count(st);

	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		json_t *v;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			if (!strncmp(name, "j_", 2)) {
				v = json_column(st, i);
			} else {
				v = json_stringn((const char *)sqlite3_column_text(st, i),
						 (size_t)sqlite3_column_bytes(st, i));
				if (v == NULL) /* not UTF-8: never expected from our writes */
					v = json_null();
			}
			break;
		default:
			v = json_null();
		}
		/* the names are the statements' own (ASCII): no UTF-8 check */
		json_object_set_new_nocheck(o, !strncmp(name, "j_", 2) ? name + 2 : name, v);
	}
	return o;
}

json_t *db_rows_array(sqlite3_stmt *st)
{
	json_t *a = json_array();

	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, db_row_object(st));
	sqlite3_reset(st);
	return a;
}

void db_json_row_init(struct db_json_row *w, sqlite3_stmt *st, int ncols)
{
	int i, n = sqlite3_column_count(st);

	w->n = ncols >= 0 && ncols < n ? ncols : n;
	buf_init(&w->keys, 0);
	w->at = xcalloc((size_t)w->n + 1, sizeof(*w->at));
	w->raw = xcalloc((size_t)w->n + 1, 1);
	/* each member's `"name":` once, not per row */
	for (i = 0; i < w->n; i++) {
		const char *name = sqlite3_column_name(st, i);

		w->raw[i] = !strncmp(name, "j_", 2);
		w->at[i] = w->keys.len;
		json_text_string(&w->keys, name + (w->raw[i] ? 2 : 0),
				 strlen(name) - (w->raw[i] ? 2 : 0));
		buf_append(&w->keys, ":", 1);
	}
	w->at[w->n] = w->keys.len;
}

void db_json_row_write(const struct db_json_row *w, sqlite3_stmt *st, struct buf *out)
{
	int i;

	buf_append(out, "{", 1);
	for (i = 0; i < w->n; i++) {
		/* the column's value once: each sqlite3_column_* call checks the
		 * statement and the column and takes the connection's mutex */
		sqlite3_value *v = sqlite3_column_value(st, i);
		const char *text;
		size_t len, skip;

		if (i)
			buf_append(out, ",", 1);
		buf_append(out, w->keys.data + w->at[i], w->at[i + 1] - w->at[i]);
		switch (sqlite3_value_type(v)) {
		case SQLITE_INTEGER:
			json_text_int(out, sqlite3_value_int64(v));
			continue;
		case SQLITE_FLOAT:
			json_text_real(out, sqlite3_value_double(v));
			continue;
		case SQLITE_TEXT:
			text = (const char *)sqlite3_value_text(v);
			len = (size_t)sqlite3_value_bytes(v);
			if (!w->raw[i] && json_text_string(out, text, len) == 0)
				continue;
			/* a JSON column as it is, when it begins like JSON */
			skip = w->raw[i] ? strspn(text, " \t\r\n") : len;
			if (skip < len && strchr("{[\"-0123456789tfn", text[skip])) {
				buf_append(out, text, len);
				continue;
			}
			break;
		default:
			break;
		}
		buf_append(out, "null", 4);
	}
	buf_append(out, "}", 1);
}

void db_json_row_release(struct db_json_row *w)
{
	buf_release(&w->keys);
	free(w->at);
	free(w->raw);
}

int db_rows_read(sqlite3_stmt *st, int ncols, struct buf *text, void **rows, size_t *n, size_t size,
		 size_t text_at, void (*take)(void *elem, sqlite3_stmt *st),
		 void (*drop)(void *rows, size_t n))
{
	struct db_json_row w;
	size_t cap = 0;
	char *a = NULL;
	int rc;

	*n = 0;
	db_json_row_init(&w, st, ncols);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_row_text t;
		char *elem;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			a = xrealloc(a, cap * size);
		}
		elem = a + (*n)++ * size;
		memset(elem, 0, size);
		take(elem, st);
		t.obj = text->len;
		db_json_row_write(&w, st, text);
		t.len = text->len - t.obj;
		memcpy(elem + text_at, &t, sizeof(t));
	}
	sqlite3_reset(st);
	db_json_row_release(&w);
	if (rc != SQLITE_DONE) {
		drop(a, *n);
		a = NULL;
		*n = 0;
	}
	*rows = a;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

char *db_column_dup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t && utf8_valid(t, (size_t)sqlite3_column_bytes(st, i)) ? xstrdup(t) : NULL;
}

int db_rows_json(sqlite3_stmt *st, struct buf *out)
{
	struct db_json_row w;
	int rc, rows = 0;

	db_json_row_init(&w, st, -1);
	buf_append(out, "[", 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows++)
			buf_append(out, ",", 1);
		db_json_row_write(&w, st, out);
	}
	sqlite3_reset(st);
	buf_append(out, "]", 1);
	db_json_row_release(&w);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
