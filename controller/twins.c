/* The read side (twins.h). */
#include "twins.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-attempts.h"
#include "db-bisections.h"
#include "db-boards.h"
#include "db-events.h"
#include "db-flights.h"
#include "db-records.h"
#include "perf.h"
#include "reservations.h"
#include "triage.h"
#include "db-trees.h"
#include "db-triage.h"
#include "git-repo.h"
#include "json-util.h"
#include "names.h"
#include "trees.h"
#include "utf8.h"
#include "xmalloc.h"

#define OVERVIEW_FLIGHTS 15
/* The window of the overview's queue wait and utilisation: the last 24 hours. */
#define OVERVIEW_USAGE_MS (TWIN_USAGE_HOURS * 3600LL * 1000)

/* usage's row of kind and key (db_board_usage) for `boards` boards (busy: the
 * share of the window they spent claimed or running); every member 0, the waits
 * none, without a row. */
static struct twin_usage usage_of(const json_t *usage, const char *kind, const char *key,
				  size_t boards)
{
	struct twin_usage u = {0, TWIN_NO_WAIT, TWIN_NO_WAIT, 0};
	const json_t *row = NULL, *r;
	size_t i;

	json_array_foreach (usage, i, r)
		if (!strcmp(jstr(r, "kind", ""), kind) && !strcmp(jstr(r, "key", ""), key))
			row = r;
	if (!row)
		return u;
	u.claims = jint(row, "claims", 0);
	u.wait_p50_ms = jint(row, "wait_p50", TWIN_NO_WAIT);
	u.wait_p90_ms = jint(row, "wait_p90", TWIN_NO_WAIT);
	if (boards)
		u.busy =
		    (double)jint(row, "busy_ms", 0) / ((double)OVERVIEW_USAGE_MS * (double)boards);
	if (u.busy > 1)
		u.busy = 1;
	return u;
}

/* The agents' last contact (db_agents_list) of agent, 0 when unknown. */
static long long last_seen_of(const json_t *agents, const char *agent)
{
	const json_t *a;
	long long seen = 0;
	size_t i;

	json_array_foreach (agents, i, a)
		if (!strcmp(jstr(a, "name", ""), agent))
			seen = jint(a, "last_seen", 0);
	return seen;
}

int twin_overview_read(struct twin_overview *o, const struct viewer *v)
{
	json_t *agents, *usage, *claimed, *bis;
	size_t i, j;
	int rc;

	memset(o, 0, sizeof(*o));
	buf_init(&o->text, 0);
	o->now = now_ms();
	rc = db_boards_rows(&o->boards, &o->nboards, &o->text, v);
	if (rc == 0)
		rc = db_flights_rows(&o->flights, &o->nflights, &o->text, OVERVIEW_FLIGHTS, v);
	if (rc < 0) {
		twin_overview_release(o);
		return rc;
	}
	agents = db_agents_list(v);
	usage = db_board_usage(v, o->now, OVERVIEW_USAGE_MS);
	o->board_usage = xcalloc(o->nboards + 1, sizeof(*o->board_usage));
	o->labs = xcalloc(o->nboards + 1, sizeof(*o->labs));
	for (i = 0; i < o->nboards; i++) {
		const struct db_board_row *b = &o->boards[i];
		const char *agent = b->agent ? b->agent : "";
		struct twin_lab *lab = NULL;

		for (j = 0; j < o->nlabs && !lab; j++)
			if (!strcmp(o->labs[j].agent, agent))
				lab = &o->labs[j];
		if (!lab) {
			lab = &o->labs[o->nlabs++];
			lab->agent = agent;
			lab->last_seen = last_seen_of(agents, agent);
			lab->boards = xcalloc(o->nboards, sizeof(*lab->boards));
		}
		lab->boards[lab->n++] = i;
		o->board_usage[i] = usage_of(usage, "board", b->name ? b->name : "", 1);
	}
	for (j = 0; j < o->nlabs; j++)
		o->labs[j].usage = usage_of(usage, "lab", o->labs[j].agent, o->labs[j].n);
	json_decref(usage);
	json_decref(agents);
	o->queue_depth = db_queue_depth(v);
	o->running = db_attempts_list("running", NULL, 50, 0, v);
	claimed = db_attempts_list("claimed", NULL, 50, 0, v);
	json_array_extend(o->running, claimed);
	json_decref(claimed);
	bis = twin_bisections(10, 0);
	twin_bisections_filter(bis, v);
	o->bisections = json_object_get(bis, "bisections");
	o->bisections = o->bisections ? json_incref(o->bisections) : json_array();
	json_decref(bis);
	return 0;
}

/* A wait in ms, or null. */
static void wait_json(struct buf *out, long long ms)
{
	if (ms == TWIN_NO_WAIT)
		buf_puts(out, "null");
	else
		json_text_int(out, ms);
}

static void usage_json(struct buf *out, const struct twin_usage *u)
{
	buf_printf(out, "{\"window_hours\":%d,\"claims\":%lld,\"wait_p50_ms\":", TWIN_USAGE_HOURS,
		   u->claims);
	wait_json(out, u->wait_p50_ms);
	buf_puts(out, ",\"wait_p90_ms\":");
	wait_json(out, u->wait_p90_ms);
	buf_puts(out, ",\"busy\":");
	json_text_real(out, u->busy);
	buf_puts(out, "}");
}

/* A jansson array (running, bisections) as compact JSON text. */
static void array_json(struct buf *out, const json_t *a)
{
	char *s = json_dumps(a, JSON_COMPACT);

	buf_puts(out, s ? s : "[]");
	free(s);
}

void twin_overview_json(const struct twin_overview *o, struct buf *out)
{
	size_t i, j;

	buf_printf(out, "{\"now\":%lld,\"queue_depth\":%lld,\"labs\":[", o->now, o->queue_depth);
	for (i = 0; i < o->nlabs; i++) {
		const struct twin_lab *lab = &o->labs[i];

		buf_puts(out, i ? ",{\"agent\":" : "{\"agent\":");
		json_text_string(out, lab->agent, strlen(lab->agent));
		buf_printf(out, ",\"last_seen\":%lld,\"boards\":[", lab->last_seen);
		for (j = 0; j < lab->n; j++) {
			const struct db_board_row *b = &o->boards[lab->boards[j]];

			if (j)
				buf_puts(out, ",");
			/* the row's object, its '}' replaced by the overview's members */
			buf_append(out, o->text.data + b->text.obj, b->text.len - 1);
			buf_printf(out, ",\"last_seen\":%lld,\"usage\":", lab->last_seen);
			usage_json(out, &o->board_usage[lab->boards[j]]);
			buf_puts(out, "}");
		}
		buf_puts(out, "],\"usage\":");
		usage_json(out, &lab->usage);
		buf_puts(out, "}");
	}
	buf_puts(out, "],\"running\":");
	array_json(out, o->running);
	buf_puts(out, ",\"flights\":[");
	for (i = 0; i < o->nflights; i++) {
		if (i)
			buf_puts(out, ",");
		buf_append(out, o->text.data + o->flights[i].text.obj, o->flights[i].text.len);
	}
	buf_puts(out, "],\"bisections\":");
	array_json(out, o->bisections);
	buf_puts(out, "}");
}

void twin_overview_release(struct twin_overview *o)
{
	size_t i;

	for (i = 0; i < o->nlabs; i++)
		free(o->labs[i].boards);
	free(o->labs);
	free(o->board_usage);
	db_board_rows_free(o->boards, o->nboards);
	db_flight_rows_free(o->flights, o->nflights);
	json_decref(o->running);
	json_decref(o->bisections);
	buf_release(&o->text);
	memset(o, 0, sizeof(*o));
}

json_t *twin_attempt(long long id, const struct viewer *v)
{
	json_t *a = id > 0 ? db_attempt_json(id, v) : NULL, *rec;

	/* Its signed record, checked on submission and logged: where to find it. */
	if (a && (rec = db_record_by_attempt(id)) != NULL) {
		json_object_set_new(a, "record",
				    json_pack("{s:O, s:O, s:O}", "index",
					      json_object_get(rec, "index"), "keyid",
					      json_object_get(rec, "keyid"), "leaf_hash",
					      json_object_get(rec, "leaf_hash")));
		json_decref(rec);
	}
	/* The known issue its failure matched (known-issues.h), as recorded then. */
	if (a && (rec = db_known_issue_of_attempt(id)) != NULL) {
		json_object_set_new(
		    a, "known_issue",
		    json_pack("{s:O, s:O, s:O, s:b}", "id", json_object_get(rec, "issue"), "label",
			      json_object_get(rec, "label"), "link", json_object_get(rec, "link"),
			      "blocks", jint(rec, "blocks", 1) != 0));
		json_decref(rec);
	}
	return a;
}

/* The ids of attempts (a flight's, in id order as db_flight_get gives them),
 * for ids_find; free() it. */
static long long *ids_of(const json_t *attempts, size_t *n)
{
	long long *ids = xcalloc(json_array_size(attempts) + 1, sizeof(*ids));
	const json_t *x;
	size_t k;

	*n = 0;
	json_array_foreach (attempts, k, x)
		ids[(*n)++] = jint(x, "id", 0);
	return ids;
}

/* Where id is in ids (ascending, n of them), or -1. */
static long ids_find(const long long *ids, size_t n, long long id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] == id)
			return (long)mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The verdict classes of flight id as stored (triage.h) whose deciding attempt is
 * one of ids (those v may see): [triage_row_json...]. A row with no attempt (none
 * decided it) is shown when its class has no board. */
static json_t *flight_triage(long long id, const long long *ids, size_t n)
{
	json_t *rows = db_triage_stored(id), *out = json_array(), *row;
	size_t i;

	json_array_foreach (rows, i, row)
		if (!jint(row, "attempt", 0) || ids_find(ids, n, jint(row, "attempt", -1)) >= 0)
			json_array_append(out, row);
	json_decref(rows);
	return out;
}

/* Each attempt's stored `slower` verdict (perf.h) as its member, none when it has
 * none (the store's null). */
static void slower_of(json_t *attempts)
{
	json_t *x;
	size_t k;

	json_array_foreach (attempts, k, x)
		if (json_is_null(json_object_get(x, "slower")))
			json_object_del(x, "slower");
}

json_t *twin_flight(long long id, const struct viewer *v)
{
	json_t *f = id > 0 ? db_flight_get(id, v) : NULL;
	json_t *all, *out, *b, *attempts;
	long long *ids;
	size_t i, n;
	long at;

	if (f == NULL)
		return NULL;
	attempts = json_object_get(f, "attempts");
	ids = ids_of(attempts, &n);
	/* Its failures' baselines that were untested when they failed, of the
	 * attempts v may see (a private board's class stays its owner's). */
	all = db_baselines_of_flight(id);
	out = json_array();
	json_array_foreach (all, i, b)
		if (ids_find(ids, n, jint(b, "attempt", -1)) >= 0)
			json_array_append(out, b);
	json_decref(all);
	json_object_set_new(f, "baselines", out);
	/* Which attempts are signed records in the results log (as twin_attempt says). */
	all = db_records_of_flight(id);
	json_array_foreach (all, i, b)
		if ((at = ids_find(ids, n, jint(b, "attempt", -1))) >= 0)
			json_object_set_new(json_array_get(attempts, (size_t)at), "record",
					    json_pack("{s:O, s:O}", "index",
						      json_object_get(b, "index"), "keyid",
						      json_object_get(b, "keyid")));
	json_decref(all);
	json_object_set_new(f, "triage", flight_triage(id, ids, n));
	free(ids);
	/* A passing test attempt slower than its board's spread, as judged when it
	 * passed (perf.h). */
	slower_of(attempts);
	return f;
}

/* The worse of two verdict-or-states, for a cell holding several jobs. */
static int badness(const char *s)
{
	static const char *const order[] = {"pass",   "refused", "cancelled", "waiting",
					    "queued", "claimed", "running",   "starved",
					    "infra",  "timeout", "fail",      NULL};

	for (int i = 0; order[i]; i++)
		if (!strcmp(s, order[i]))
			return i;
	return 0;
}

/* How much a verdict class tells a maintainer to look (the worst shows in a cell). */
static int class_badness(enum triage_class c)
{
	static const enum triage_class order[] = {
	    TRIAGE_PASS,	  TRIAGE_CANCELLED, TRIAGE_PENDING,    TRIAGE_ALLOWED,
	    TRIAGE_HEISENBUG,	  TRIAGE_STARVED,   TRIAGE_BLOCKED,    TRIAGE_NEVER_PASSED,
	    TRIAGE_STILL_FAILING, TRIAGE_BROKEN,    TRIAGE_REGRESSION,
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == c)
			return (int)i;
	return 0;
}

/* The branch matrix as it is gathered: each flight's row on its own (struct frow:
 * a cell per column, a board or a board class, struct twin_cell), then joined to
 * the matrix's columns and (class, job) pairs, each name once. */
struct mnames {
	char **name;
	size_t n, cap, hint;
};

/* (class, job) pairs, each once. */
struct mpairs {
	struct mpair {
		char *cls, *job;
	} * p;
	size_t n, cap;
};

/* One flight's row as it was gathered, under its own columns. */
struct frow {
	long long flight, changes; /* when remembered (row_memo), else flight 0 */
	int by_class, admin;
	unsigned long long used; /* row_memo_tick when last used (row_memo_slot) */
	struct mnames cols;	 /* its columns */
	struct twin_cell *cells; /* by column index (ncells >= cols.n); its references */
	size_t ncells;
	struct mpairs pairs; /* its (class, job) pairs */
};

struct matrix {
	struct mnames cols;
	struct mpairs pairs; /* the (class, job) pairs shown */
};

/* The index of name in m (added when new); the lookup starts after the last
 * found, since every flight lists its boards in the same order. */
static size_t mnames_index(struct mnames *m, const char *name)
{
	for (size_t k = 0; k < m->n; k++) {
		size_t i = (m->hint + k) % m->n;

		if (!strcmp(m->name[i], name)) {
			m->hint = i + 1;
			return i;
		}
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 32;
		m->name = xrealloc(m->name, m->cap * sizeof(*m->name));
	}
	m->name[m->n] = xstrdup(name);
	m->hint = m->n + 1;
	return m->n++;
}

static void mnames_release(struct mnames *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->name[i]);
	free(m->name);
}

/* Adds (cls, job) to l unless there; the last added is tried first (a flight's
 * attempts come by board, most of one job). */
static void mpairs_add(struct mpairs *l, const char *cls, const char *job)
{
	for (size_t k = l->n; k > 0; k--)
		if (!strcmp(l->p[k - 1].cls, cls) && !strcmp(l->p[k - 1].job, job))
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->p = xrealloc(l->p, l->cap * sizeof(*l->p));
	}
	l->p[l->n++] = (struct mpair){xstrdup(cls), xstrdup(job)};
}

static void mpairs_release(struct mpairs *l)
{
	for (size_t k = 0; k < l->n; k++) {
		free(l->p[k].cls);
		free(l->p[k].job);
	}
	free(l->p);
}

/* By class, then job (strcmp). */
static int mpair_cmp(const void *a, const void *b)
{
	const struct mpair *x = a, *y = b;
	int c = strcmp(x->cls, y->cls);

	return c ? c : strcmp(x->job, y->job);
}

/* The cell of index col in *cells (*n of them), grown to cap (> col) with empty
 * cells when short. */
static struct twin_cell *cells_at(struct twin_cell **cells, size_t *n, size_t cap, size_t col)
{
	if (col >= *n) {
		*cells = xrealloc(*cells, cap * sizeof(**cells));
		memset(*cells + *n, 0, (cap - *n) * sizeof(**cells));
		*n = cap;
	}
	return &(*cells)[col];
}

/* Takes (hold 1) or lets go of (hold 0) the references of n cells. */
static void cells_hold(struct twin_cell *cells, size_t n, int hold)
{
	for (size_t k = 0; k < n; k++) {
		json_t *refs[3] = {cells[k].text, cells[k].known, cells[k].slower};

		for (int i = 0; i < 3; i++)
			if (hold)
				json_incref(refs[i]);
			else
				json_decref(refs[i]);
	}
}

static void frow_release(struct frow *r)
{
	cells_hold(r->cells, r->ncells, 0);
	free(r->cells);
	mnames_release(&r->cols);
	mpairs_release(&r->pairs);
	*r = (struct frow){0};
}

/* A flight's row being gathered (db_flight_newest_tests's context). */
struct gather {
	struct frow *r;
	const struct viewer *v;
	struct mtriage {		    /* the flight's stored triage rows */
		const char *job, *cls;	    /* borrowed from row */
		json_t *text, *known_issue; /* borrowed from row */
		int known;		    /* tcls is the row's verdict class */
		enum triage_class tcls;
	} * tr;
	size_t ntr;
};

/* g's view of its flight's stored classes (rows: db_triage_stored's, borrowed). */
static void gather_triage(struct gather *g, const json_t *rows)
{
	const json_t *row;
	size_t i;

	g->tr = xrealloc(g->tr, (json_array_size(rows) + 1) * sizeof(*g->tr));
	g->ntr = 0;
	json_array_foreach (rows, i, row) {
		struct mtriage *t = &g->tr[g->ntr++];

		t->job = jstr(row, "job", "?");
		t->cls = jstr(row, "class", "?");
		t->text = json_object_get(row, "text");
		t->known_issue = json_object_get(row, "known_issue");
		t->known = triage_class_of(&t->tcls, jstr(row, "verdict_class", "")) == 0;
	}
}

/* Gives c the verdict class (triage.h) of attempt a's (job, board class) in the
 * flight's stored classes, when it is worse than the one c shows. */
static void mcell_triage(struct twin_cell *c, const struct gather *g, const struct db_newest *a)
{
	for (size_t i = 0; i < g->ntr; i++) {
		const struct mtriage *t = &g->tr[i];

		if (strcmp(t->job, a->job) || strcmp(t->cls, a->cls))
			continue;
		if (!t->known || (c->classed && class_badness(c->tcls) >= class_badness(t->tcls)))
			return;
		c->classed = 1;
		c->tcls = t->tcls;
		c->text = t->text;
		c->known = t->known_issue;
		return;
	}
}

/* One newest attempt into its flight's cell (db_newest_fn). */
static int gather_add(void *ctx, const struct db_newest *a)
{
	struct gather *g = ctx;
	struct frow *r = g->r;
	const char *st = a->state ? a->state : "queued";
	struct twin_cell *c;
	size_t col;
	int bad;

	if (!strcmp(a->visibility, "private") && !twin_board_visible(a->board, g->v))
		return 0;
	col = mnames_index(&r->cols, r->by_class ? a->cls : a->board);
	c = cells_at(&r->cells, &r->ncells, r->cols.cap, col);
	if (*a->cls)
		mpairs_add(&r->pairs, a->cls, a->job);
	bad = badness(st);
	if (c->total == 0 || bad > c->bad) {
		size_t n = strnlen(st, sizeof(c->verdict) - 1);

		memcpy(c->verdict, st, n);
		c->verdict[n] = 0;
		c->bad = bad;
		c->attempt = a->id;
	}
	mcell_triage(c, g, a);
	c->total++;
	if (!strcmp(st, "pass") && !c->slower && a->slower) {
		json_t *slow = json_loadb(a->slower, a->slower_len, 0, NULL);

		if (json_is_object(slow)) {
			json_object_set_new(slow, "attempt", json_integer(a->id));
			c->slower = slow;
			c->slower_first = !c->classed;
		} else {
			json_decref(slow);
		}
	}
	if (!strcmp(st, "pass"))
		c->pass++;
	return 0;
}

/* Gathers flight's row as v sees it into r (empty). 0, or -EIO when the store
 * fails (r holds what was read). */
static int frow_gather(struct frow *r, long long flight, int by_class, const struct viewer *v)
{
	struct gather g = {.r = r, .v = v};
	json_t *triage = db_triage_stored(flight);
	int rc;

	r->by_class = by_class;
	gather_triage(&g, triage);
	rc = db_flight_newest_tests(flight, gather_add, &g);
	/* the cells' text and known issue, borrowed from triage so far, become
	 * their own (their slower is already) */
	for (size_t k = 0; k < r->ncells; k++) {
		json_incref(r->cells[k].text);
		json_incref(r->cells[k].known);
	}
	json_decref(triage);
	free(g.tr);
	return rc < 0 ? -EIO : 0;
}

/* The rows a read thread gathered last, each with its flight's flights.changes as
 * read before its rows (schema/0134-flight-changes.sql): while changes is the
 * same, nothing a row shows has changed. A key (flight, by_class, admin) hashes
 * to one set of ROW_MEMO_WAYS slots and takes the least recently used one (a
 * branch's newest flights are seldom consecutive ids: other branches' and
 * bisections' flights come between). Let go when the thread ends (row_memo_key's
 * destructor). */
#define ROW_MEMO_WAYS 4
#define ROW_MEMO_SETS 32
#define ROW_MEMO      (ROW_MEMO_SETS * ROW_MEMO_WAYS)
static pthread_key_t row_memo_key;
static pthread_once_t row_memo_once = PTHREAD_ONCE_INIT;
static __thread struct frow *row_memo;
static __thread unsigned long long row_memo_tick;

static void row_memo_free(void *memo)
{
	struct frow *rows = memo;

	for (size_t i = 0; i < ROW_MEMO; i++)
		frow_release(&rows[i]);
	free(rows);
}

static void row_memo_key_make(void)
{
	if (pthread_key_create(&row_memo_key, row_memo_free) != 0)
		abort();
}

/* The slot of key (id, by_class, admin) in this thread's memo: the one that holds
 * it (at whatever changes), else the least recently used of its set. */
static struct frow *row_memo_slot(long long id, int by_class, int admin)
{
	/* Fibonacci hashing: the top bits of the key times 2^64 / phi */
	unsigned long long h =
	    ((unsigned long long)id * 4 + (unsigned)by_class * 2 + (unsigned)admin) *
	    0x9E3779B97F4A7C15ull;
	struct frow *set, *lru;

	if (row_memo == NULL) {
		pthread_once(&row_memo_once, row_memo_key_make);
		row_memo = xcalloc(ROW_MEMO, sizeof(*row_memo));
		pthread_setspecific(row_memo_key, row_memo);
	}
	set = &row_memo[(h >> 59) % ROW_MEMO_SETS * ROW_MEMO_WAYS];
	lru = set;
	for (int w = 0; w < ROW_MEMO_WAYS; w++) {
		if (set[w].flight == id && set[w].by_class == by_class && set[w].admin == admin)
			return &set[w];
		if (set[w].used < lru->used)
			lru = &set[w];
	}
	return lru;
}

/* The row of flight f (a row of db_branch_flights) as v sees it: remembered, or
 * gathered into own (empty; the caller releases it) or into a slot of the memo.
 * Borrowed. */
static const struct frow *frow_of(struct frow *own, const json_t *f, int by_class,
				  const struct viewer *v)
{
	long long id = jint(f, "flight", 0), changes = jint(f, "changes", -1);
	int admin = v && v->admin;
	struct frow *r = own;

	/* Remembered on read threads only (their snapshots are of committed data),
	 * for admins and for those who see public boards only (an agent sees its
	 * own private boards too: gathered each time). changes was read before
	 * the rows: rows read later are as new or newer, and a newer one moved
	 * changes past the value they are kept with. */
	if (db_reader && id > 0 && changes >= 0 && (admin || !(v && v->agent))) {
		r = row_memo_slot(id, by_class, admin);
		r->used = ++row_memo_tick;
		if (r->flight == id && r->changes == changes && r->by_class == by_class &&
		    r->admin == admin)
			return r;
		frow_release(r);
		r->used = row_memo_tick;
	}
	if (frow_gather(r, id, by_class, v) == 0 && r != own) {
		r->flight = id;
		r->changes = changes;
		r->admin = admin;
	}
	return r;
}

/* Joins row r to m: its cells under m's columns into *cells (*n of them, none
 * before; their references taken), and its pairs. */
static void matrix_join(struct matrix *m, const struct frow *r, struct twin_cell **cells, size_t *n)
{
	for (size_t k = 0; k < r->cols.n; k++) {
		size_t col = mnames_index(&m->cols, r->cols.name[k]);
		struct twin_cell *c = cells_at(cells, n, m->cols.cap, col);

		*c = r->cells[k];
		cells_hold(c, 1, 1);
	}
	for (size_t k = 0; k < r->pairs.n; k++)
		mpairs_add(&m->pairs, r->pairs.p[k].cls, r->pairs.p[k].job);
}

/* The gate decisions' reasons as v may read them: a reason that names a board of
 * its flight that v may not see (the board, its attempt, the lab's words) says
 * only that a gating job did not pass on a private board. */
static void gate_reasons_for(json_t *decisions, const struct viewer *v)
{
	json_t *d, *tests, *a;
	size_t i, k;

	json_array_foreach (decisions, i, d) {
		const char *reason = jstr(d, "reason", NULL);

		if (reason == NULL)
			continue;
		tests = db_flight_test_attempts(jint(d, "flight", 0));
		json_array_foreach (tests, k, a) {
			const char *board = jstr(a, "board", "");

			if (*board && strstr(reason, board) && !twin_board_visible(board, v)) {
				json_object_set_new(d, "reason",
						    json_sprintf("%s: a gating job did not pass on "
								 "a private board",
								 jstr(d, "action", "held")));
				break;
			}
		}
		json_decref(tests);
	}
}

int twin_matrix_read(struct twin_matrix *out, const char *tree, const char *branch, int limit,
		     int by_class, int whole, const struct viewer *v)
{
	struct tree_conf *t = trees_find(tree);
	struct branch_conf *b = t ? tree_conf_branch(t, branch) : NULL;
	struct matrix m = {0};
	json_t *doc, *flights, *rows, *f, *columns, *flakes;
	size_t i;
	long long tree_id, bid;

	*out = (struct twin_matrix){0};
	if (b == NULL || db_tree_id(&tree_id, t->name) < 0 ||
	    db_branch_id(&bid, tree_id, b->name, NULL) < 0)
		return -ENOENT;
	rows = json_array();
	flakes = json_array();
	flights = db_branch_flights(bid, limit);
	out->rows = xcalloc(json_array_size(flights) + 1, sizeof(*out->rows));
	out->rown = xcalloc(json_array_size(flights) + 1, sizeof(*out->rown));
	/* First pass: each flight's cells by the index of their column. */
	json_array_foreach (flights, i, f) {
		struct frow own = {0};
		struct gitrepo_commit c = {0};
		char who[600] = "";
		json_t *row;

		matrix_join(&m, frow_of(&own, f, by_class, v), &out->rows[i], &out->rown[i]);
		frow_release(&own);
		/* The revision's subject and author as stored when its flight was made
		 * (trees_revision_subject); git only for a revision that has none (no
		 * lookup under the repository's lock on every read). */
		if (jstr(f, "subject", NULL) && jstr(f, "author", NULL))
			snprintf(who, sizeof(who), "%s", jstr(f, "author", ""));
		else if (gitrepo_commit_info(&c, t->repo, jstr(f, "commit", "")) == 0)
			snprintf(who, sizeof(who), "%s <%s>", c.author, c.email);
		/* cells: twin_matrix_json's place for them, in the members' order */
		row = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:n}", "commit",
				jstr(f, "commit", ""), "author", who, "subject",
				jstr(f, "subject", NULL) ? jstr(f, "subject", "") : c.summary,
				"flight", (json_int_t)jint(f, "flight", 0), "created_at",
				(json_int_t)(jint(f, "created", 0) / 1000), "state",
				jstr(f, "state", ""), "cells");
		if (json_is_object(json_object_get(f, "tuple")))
			json_object_set(row, "tuple", json_object_get(f, "tuple"));
		json_array_append_new(rows, row);
	}
	/* Columns in name order; each row's cells in that order. */
	columns = json_array();
	out->nrows = json_array_size(rows);
	out->ncols = m.cols.n;
	out->col = xcalloc(m.cols.n + 1, sizeof(*out->col));
	{
		char **sorted = xcalloc(m.cols.n + 1, sizeof(*sorted));

		for (size_t x = 0; x < m.cols.n; x++)
			sorted[x] = m.cols.name[x];
		names_sort(sorted, m.cols.n);
		for (size_t x = 0; x < m.cols.n; x++) {
			out->col[x] = mnames_index(&m.cols, sorted[x]);
			json_array_append_new(columns,
					      json_pack("{s:s, s:s, s:b}", "key", sorted[x],
							"label", sorted[x], "class", by_class));
		}
		free(sorted);
	}
	/* The measured flake rates of the jobs shown on their classes, in this tree
	 * (not of every job of the class: a query per job shown, not a walk of the
	 * class's newest results per class), by class then job. */
	if (m.pairs.n)
		qsort(m.pairs.p, m.pairs.n, sizeof(*m.pairs.p), mpair_cmp);
	for (size_t x = 0; x < m.pairs.n; x++)
		json_array_append_new(
		    flakes,
		    triage_flake_rates_of(tree_id, t->name, m.pairs.p[x].job, m.pairs.p[x].cls, v));
	mpairs_release(&m.pairs);
	mnames_release(&m.cols);
	doc = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", b->name, "tree", t->name, "columns",
			columns, "rows", rows, "flake_rates", flakes);
	if (whole) {
		char head[GITREPO_HEX] = "";

		if (gitrepo_branch_head(t->repo, b->name, head) == 0)
			json_object_set_new(doc, "head", json_string(head));
	}
	if (b->gate_ref && !whole) {
		/* the page's: the gate's ref, commit, last action and its flight */
		json_t *dec = db_gate_decisions(bid, 1), *last = json_array_get(dec, 0);
		char gh[GITREPO_HEX] = "";

		gitrepo_ref_head(t->repo, b->gate_ref, gh);
		json_object_set_new(doc, "gate",
				    json_pack("{s:s, s:s, s:s, s:I}", "ref", b->gate_ref, "commit",
					      gh, "state", last ? jstr(last, "action", "") : "none",
					      "flight",
					      (json_int_t)(last ? jint(last, "flight", 0) : 0)));
		json_decref(dec);
	} else if (b->gate_ref) {
		json_t *dec = db_gate_decisions(bid, 10), *last;
		char gh[GITREPO_HEX] = "";

		gate_reasons_for(dec, v);
		last = json_array_get(dec, 0);
		gitrepo_ref_head(t->repo, b->gate_ref, gh);
		json_object_set_new(
		    doc, "gate",
		    json_pack("{s:s, s:s, s:s, s:s?, s:I, s:o}", "ref", b->gate_ref, "commit", gh,
			      "state", last ? jstr(last, "action", "") : "none", "reason",
			      last ? jstr(last, "reason", NULL) : NULL, "flight",
			      (json_int_t)(last ? jint(last, "flight", 0) : 0), "decisions", dec));
	} else {
		json_object_set_new(doc, "gate", json_null());
	}
	if (whole)
		json_object_set_new(doc, "events", db_branch_events(bid, 20));
	json_decref(flights);
	out->twin = doc;
	return 0;
}

const struct twin_cell *twin_matrix_cell(const struct twin_matrix *m, size_t r, size_t x)
{
	static const struct twin_cell none;

	return m->col[x] < m->rown[r] ? &m->rows[r][m->col[x]] : &none;
}

void twin_matrix_release(struct twin_matrix *m)
{
	for (size_t r = 0; r < m->nrows; r++) {
		cells_hold(m->rows[r], m->rown[r], 0);
		free(m->rows[r]);
	}
	free(m->rows);
	free(m->rown);
	free(m->col);
	json_decref(m->twin);
	*m = (struct twin_matrix){0};
}

/* v as jansson's json_dumps(JSON_COMPACT) writes it, any value (strings and
 * integers without a dump of their own). */
static void value_json(struct buf *out, const json_t *v)
{
	char *s;

	/* (a string json_stringn_nocheck made may not be UTF-8: dumped as it is) */
	if (json_is_string(v) &&
	    json_text_string(out, json_string_value(v), json_string_length(v)) == 0)
		return;
	if (json_is_integer(v)) {
		json_text_int(out, json_integer_value(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	buf_puts(out, s ? s : "null");
	free(s);
}

/* ,"key":v (a jansson object's member as its dump writes it); nothing when v is
 * NULL (json_object_set refuses it). */
static void member_json(struct buf *out, const char *key, const json_t *v)
{
	if (v == NULL)
		return;
	buf_putc(out, ',');
	json_text_string(out, key, strlen(key));
	buf_putc(out, ':');
	value_json(out, v);
}

/* A cell as the twin's JSON gives it (null when c has no attempt): its members
 * in the order the cell met them. */
static void cell_text(struct buf *out, const struct twin_cell *c)
{
	const char *cls = triage_class_name(c->tcls);

	if (c->total == 0) {
		buf_puts(out, "null");
		return;
	}
	buf_putc(out, '{');
	/* a state's name; one that is not UTF-8 is left out, as json_string does */
	if (utf8_valid(c->verdict, strlen(c->verdict))) {
		buf_puts(out, "\"verdict\":");
		json_text_string(out, c->verdict, strlen(c->verdict));
		buf_putc(out, ',');
	}
	buf_puts(out, "\"attempt\":");
	json_text_int(out, c->attempt);
	buf_puts(out, ",\"pass\":");
	json_text_int(out, c->pass);
	buf_puts(out, ",\"total\":");
	json_text_int(out, c->total);
	if (c->slower && c->slower_first)
		member_json(out, "slower", c->slower);
	if (c->classed) {
		buf_puts(out, ",\"verdict_class\":");
		json_text_string(out, cls, strlen(cls));
		member_json(out, "text", c->text);
		member_json(out, "known_issue", c->known);
	}
	if (c->slower && !c->slower_first)
		member_json(out, "slower", c->slower);
	buf_putc(out, '}');
}

/* obj as its dump writes it, but the value of its member `key` written by
 * fn(out, ctx). */
static void object_json_with(struct buf *out, const json_t *obj, const char *key,
			     void (*fn)(struct buf *out, const void *ctx), const void *ctx)
{
	const char *k;
	const json_t *v;
	int first = 1;

	buf_putc(out, '{');
	json_object_foreach ((json_t *)obj, k, v) {
		if (!first)
			buf_putc(out, ',');
		first = 0;
		json_text_string(out, k, strlen(k));
		buf_putc(out, ':');
		if (strcmp(k, key))
			value_json(out, v);
		else
			fn(out, ctx);
	}
	buf_putc(out, '}');
}

/* Row r of matrix m (row_cells_json's context). */
struct matrix_row {
	const struct twin_matrix *m;
	size_t r;
};

/* A row's cells in the columns' order. */
static void row_cells_json(struct buf *out, const void *ctx)
{
	const struct matrix_row *mr = ctx;

	buf_putc(out, '[');
	for (size_t x = 0; x < mr->m->ncols; x++) {
		if (x)
			buf_putc(out, ',');
		cell_text(out, twin_matrix_cell(mr->m, mr->r, x));
	}
	buf_putc(out, ']');
}

/* The matrix's rows, each with its cells. */
static void rows_json(struct buf *out, const void *ctx)
{
	const struct twin_matrix *m = ctx;
	const json_t *row;
	size_t i;

	buf_putc(out, '[');
	json_array_foreach (json_object_get(m->twin, "rows"), i, row) {
		if (i)
			buf_putc(out, ',');
		object_json_with(out, row, "cells", row_cells_json, &(struct matrix_row){m, i});
	}
	buf_putc(out, ']');
}

void twin_matrix_json(const struct twin_matrix *m, struct buf *out)
{
	object_json_with(out, m->twin, "rows", rows_json, m);
}

json_t *twin_trees(void)
{
	struct trees_conf *trees = trees_conf_get();
	json_t *list = json_array();

	for (size_t i = 0; trees && i < trees->count; i++) {
		struct tree_conf *t = &trees->trees[i];
		json_t *branches = json_array();

		for (size_t k = 0; k < t->nbranches; k++) {
			struct branch_conf *b = &t->branches[k];
			char head[GITREPO_HEX] = "";
			json_t *jb;

			gitrepo_branch_head(t->repo, b->name, head);
			jb = json_pack("{s:s, s:s}", "name", b->name, "head", head);
			if (b->gate_ref)
				json_object_set_new(jb, "gate",
						    json_pack("{s:s, s:i}", "advance", b->gate_ref,
							      "jobs", (int)b->ngate_jobs));
			json_array_append_new(branches, jb);
		}
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:I, s:o}", "name", t->name, "source", t->source,
				    "interval", (json_int_t)t->interval, "branches", branches));
	}
	return list;
}
/* Seconds from milliseconds, null for null. */
static json_t *secs(const json_t *ms)
{
	return json_is_integer(ms) ? json_integer(json_integer_value(ms) / 1000) : json_null();
}

static void commit_info(json_t *o, struct tree_conf *t, const char *hex)
{
	struct gitrepo_commit ci;

	if (t && hex && gitrepo_commit_info(&ci, t->repo, hex) == 0) {
		json_object_set_new(o, "subject", json_string(ci.summary));
		json_object_set_new(o, "author", json_sprintf("%s <%s>", ci.author, ci.email));
		json_object_set_new(o, "email", json_string(ci.email));
		json_object_set_new(o, "parent", json_string(ci.parent));
	}
}

static const char *step_result(unsigned pass, unsigned fail, unsigned skip, unsigned pending)
{
	if (pending)
		return "running";
	if (skip)
		return "skip";
	if (pass && fail)
		return "flaky";
	if (fail)
		return "bad";
	if (pass)
		return "good";
	return "infra";
}

json_t *twin_bisection(long long id)
{
	json_t *bs = db_bisect_get(id), *runs, *r, *steps = json_array(), *step = NULL, *culprit;
	struct tree_conf *t;
	const char *cul, *parent = NULL;
	unsigned cf = 0, cp = 0, pp = 0, pf = 0, rp = 0, rf = 0, nruns = 0, ninfra = 0;
	unsigned sp = 0, sf = 0, ss = 0, sw = 0;
	long long cur_flight = -1;
	size_t i;

	if (!bs) {
		json_decref(steps);
		return NULL;
	}
	/* the culprit is in the guilty tree (the regression's own when one tree
	 * moved; schema/0076) */
	t = trees_find(jstr(bs, "guilty_tree", jstr(bs, "tree", "")));
	cul = jstr(bs, "culprit", NULL);
	culprit = json_null();
	if (cul) {
		culprit = json_pack("{s:s, s:s}", "commit", cul, "tree",
				    jstr(bs, "guilty_tree", jstr(bs, "tree", "")));
		commit_info(culprit, t, cul);
		parent = jstr(culprit, "parent", NULL);
	}
	runs = db_bisect_runs(id, (int)jint(bs, "restarts", 0));
	json_array_foreach (runs, i, r) {
		const char *v = jstr(r, "verdict", NULL), *c = jstr(r, "commit", "");
		long long f = jint(r, "flight", 0);
		int rev = (int)jint(r, "revert", 0);

		/* One step per flight (its infra retries are runs of the same step). */
		if (!step || f <= 0 || f != cur_flight) {
			/* a run's tree (several trees moved), else the tree searched */
			const char *rt =
			    jstr(r, "tree", jstr(bs, "guilty_tree", jstr(bs, "tree", "")));

			if (step)
				json_object_set_new(step, "result",
						    json_string(step_result(sp, sf, ss, sw)));

			step = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:[]}", "commit", c,
					 "tree", rt, "purpose", jstr(r, "purpose", ""), "revert",
					 rev, "tested", json_string(jstr(r, "tested", c)), "flight",
					 f > 0 ? json_integer(f) : json_null(), "runs");
			commit_info(step, trees_find(rt), c);
			json_object_del(step, "parent");
			json_object_del(step, "email");
			json_array_append_new(steps, step);
			cur_flight = f;
			sp = sf = ss = sw = 0;
		}
		json_object_set(step, "remaining", json_object_get(r, "remaining"));
		json_array_append_new(json_object_get(step, "runs"),
				      json_pack("{s:o, s:o, s:o}", "attempt",
						jint(r, "attempt", 0) > 0
						    ? json_integer(jint(r, "attempt", 0))
						    : json_null(),
						"board", json_string(jstr(r, "board", "")),
						"verdict", v ? json_string(v) : json_null()));
		sw += !v;
		sp += v && !strcmp(v, "pass");
		sf += v && !strcmp(v, "fail");
		ss += v && !strcmp(v, "unbuildable");
		nruns += v != NULL;
		ninfra += v && !strcmp(v, "infra");
		if (!v)
			continue;
		if (rev) {
			rp += !strcmp(v, "pass");
			rf += !strcmp(v, "fail");
		} else if (cul && !strcmp(c, cul)) {
			cf += !strcmp(v, "fail");
			cp += !strcmp(v, "pass");
		} else if (parent && !strcmp(c, parent)) {
			pp += !strcmp(v, "pass");
			pf += !strcmp(v, "fail");
		}
	}
	if (step)
		json_object_set_new(step, "result", json_string(step_result(sp, sf, ss, sw)));
	json_object_set_new(bs, "verdict", json_incref(json_object_get(bs, "outcome")));
	if (cul)
		json_object_set_new(bs, "evidence",
				    json_sprintf("culprit fails %u/%u, its parent passes %u/%u, "
						 "the bad revision with it reverted passes %u/%u; "
						 "%u runs (%u infra, not counted)",
						 cf, cf + cp, pp, pp + pf, rp, rp + rf, nruns,
						 ninfra));
	else
		json_object_set_new(bs, "evidence",
				    json_sprintf("%u runs (%u infra, not counted)", nruns, ninfra));
	json_object_set_new(bs, "culprit", culprit);
	json_object_set_new(bs, "created_at", secs(json_object_get(bs, "created")));
	json_object_set_new(bs, "finished_at", secs(json_object_get(bs, "finished")));
	json_object_set_new(bs, "steps", steps);
	json_decref(runs);
	return bs;
}

json_t *twin_bisections(int limit, long long before)
{
	json_t *list = db_bisect_list(limit, before), *b;
	size_t i;

	json_array_foreach (list, i, b) {
		json_object_set_new(b, "created_at", secs(json_object_get(b, "created")));
		json_object_set_new(b, "finished_at", secs(json_object_get(b, "finished")));
		json_object_set(b, "verdict", json_object_get(b, "outcome"));
	}
	return json_pack("{s:o}", "bisections", list);
}

json_t *twin_board(const char *name, int nattempts, const struct viewer *v)
{
	json_t *b = db_board_get(name, v), *res;

	if (b == NULL)
		return NULL;
	json_object_set_new(b, "attempts", db_attempts_list(NULL, name, nattempts, 0, v));
	json_object_set_new(b, "flake_rates", triage_flake_rates(jstr(b, "class", ""), v));
	res = reservation_twin(name);
	json_object_set(b, "reservation", json_object_get(res, "reservation"));
	json_object_set(b, "reservation_log", json_object_get(res, "log"));
	json_decref(res);
	return b;
}

int twin_board_visible(const char *name, const struct viewer *v)
{
	static const struct viewer anonymous = {0, NULL};
	char owner[128];
	json_t *b;

	if (!name || !*name || db_board_owner(owner, sizeof(owner), name) == -ENOENT)
		return 1;
	b = db_board_get(name, v ? v : &anonymous);
	json_decref(b);
	return b != NULL;
}

int twin_bisection_visible(const json_t *twin, const struct viewer *v)
{
	const json_t *s, *r;
	size_t i, j;

	if (!twin_board_visible(jstr(twin, "board", NULL), v))
		return 0;
	json_array_foreach (json_object_get(twin, "steps"), i, s) {
		json_array_foreach (json_object_get(s, "runs"), j, r) {
			if (!twin_board_visible(jstr(r, "board", NULL), v))
				return 0;
		}
	}
	return 1;
}

/* 1 with its agent in owner when board name exists and is private. */
static int board_private_owner(char *owner, size_t n, const char *name)
{
	return name && *name && !twin_board_visible(name, NULL) &&
	       db_board_owner(owner, n, name) == 0;
}

int twin_bisection_owner(char *owner, size_t n, const json_t *twin)
{
	const json_t *s, *r;
	size_t i, j;

	if (board_private_owner(owner, n, jstr(twin, "board", NULL)))
		return 1;
	json_array_foreach (json_object_get(twin, "steps"), i, s) {
		json_array_foreach (json_object_get(s, "runs"), j, r) {
			if (board_private_owner(owner, n, jstr(r, "board", NULL)))
				return 1;
		}
	}
	return 0;
}

void twin_bisections_filter(json_t *list, const struct viewer *v)
{
	json_t *a = json_object_get(list, "bisections");
	size_t i = 0;

	while (i < json_array_size(a)) {
		if (twin_bisection_visible(json_array_get(a, i), v))
			i++;
		else
			json_array_remove(a, i);
	}
}

json_t *twin_events(long long after, int limit)
{
	json_t *evs = db_events_after(after, limit), *e;
	size_t i;

	json_array_foreach (evs, i, e) {
		json_t *boards = json_object_get(json_object_get(e, "data"), "boards");
		size_t k = 0;

		while (k < json_array_size(boards)) {
			if (twin_board_visible(json_string_value(json_array_get(boards, k)), NULL))
				k++;
			else
				json_array_remove(boards, k);
		}
	}
	return evs;
}
