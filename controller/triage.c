/* Triage: see triage.h and docs/flights.md "Verdict classes". */
#include "triage.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db.h"
#include "db-attempts.h"
#include "db-bisections.h"
#include "db-trees.h"
#include "db-flights.h"
#include "db-triage.h"
#include "git-repo.h"
#include "json-util.h"
#include "names.h"
#include "watch.h"

static const char *const class_names[TRIAGE_CLASS_N] = {
    [TRIAGE_PASS] = "pass",
    [TRIAGE_REGRESSION] = "regression",
    [TRIAGE_STILL_FAILING] = "still-failing",
    [TRIAGE_NEVER_PASSED] = "never-passed",
    [TRIAGE_HEISENBUG] = "heisenbug",
    [TRIAGE_BROKEN] = "broken",
    [TRIAGE_BLOCKED] = "blocked",
    [TRIAGE_STARVED] = "starved",
    [TRIAGE_ALLOWED] = "allowed",
    [TRIAGE_PENDING] = "pending",
    [TRIAGE_CANCELLED] = "cancelled",
};

const char *triage_class_name(enum triage_class c)
{
	return (unsigned)c < TRIAGE_CLASS_N ? class_names[c] : "";
}

int triage_class_of(enum triage_class *c, const char *name)
{
	int i = names_index(class_names, TRIAGE_CLASS_N, name);

	if (i == TRIAGE_CLASS_N)
		return -EINVAL;
	*c = (enum triage_class)i;
	return 0;
}

const char *triage_row_text(char *out, size_t n, const struct triage_row *r)
{
	switch (r->cls) {
	case TRIAGE_REGRESSION:
		snprintf(out, n, "REGR. vs. %lld", r->baseline);
		break;
	case TRIAGE_STILL_FAILING:
		snprintf(out, n, "like %lld", r->baseline);
		break;
	case TRIAGE_NEVER_PASSED:
		snprintf(out, n, "never pass");
		break;
	case TRIAGE_HEISENBUG:
		snprintf(out, n, "pass in %lld-retest", r->retest);
		break;
	default:
		snprintf(out, n, "%s", triage_class_name(r->cls));
	}
	return out;
}

json_t *triage_row_json(const struct triage_row *r)
{
	char text[64];

	json_t *ki =
	    r->known_issue
		? json_pack("{s:s, s:s, s:s, s:b}", "id", r->known_issue, "label", r->known_label,
			    "link", r->known_link ? r->known_link : "", "blocks", r->known_blocks)
		: json_null();

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:b}", "job", r->job,
			 "class", r->board_class, "board", r->board ? r->board : "",
			 "verdict_class", triage_class_name(r->cls), "text",
			 triage_row_text(text, sizeof(text), r), "attempt", (json_int_t)r->attempt,
			 "baseline", (json_int_t)r->baseline, "retest", (json_int_t)r->retest,
			 "known_issue", ki ? ki : json_null(), "blocking", r->blocking);
}

int triage_newest_ancestor(struct gitrepo *repo, const json_t *commits, const char *bad)
{
	const json_t *c;
	size_t i;
	int best = -1;

	json_array_foreach (commits, i, c) {
		const char *hex = jstr(c, "commit", "");

		if (gitrepo_is_ancestor(repo, hex, bad) != 1)
			continue;
		/* Newer: the best so far is its ancestor. */
		if (best >= 0 &&
		    gitrepo_is_ancestor(
			repo, jstr(json_array_get(commits, (size_t)best), "commit", ""), hex) != 1)
			continue;
		best = (int)i;
	}
	return best;
}

void triage_release(struct triage *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i].job);
		free(t->rows[i].board_class);
		free(t->rows[i].board);
		free(t->rows[i].known_issue);
		free(t->rows[i].known_label);
		free(t->rows[i].known_link);
	}
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

/* What the newest attempts of one (job, board class) of a flight add up to. */
struct tally {
	long long fail, pass, infra, open, blocked, cancelled, starved, total;
};

static void tally_add(struct tally *y, const json_t *a)
{
	long long id = jint(a, "id", 0);

	y->total++;
	switch (attempt_state_of(jstr(a, "state", ""))) {
	case ATTEMPT_FAIL:
	case ATTEMPT_TIMEOUT:
		y->fail = y->fail ? y->fail : id;
		break;
	case ATTEMPT_PASS:
		y->pass = y->pass ? y->pass : id;
		break;
	case ATTEMPT_INFRA:
		y->infra = y->infra ? y->infra : id;
		break;
	case ATTEMPT_STARVED:
		y->starved++;
		break;
	case ATTEMPT_CANCELLED:
		/* attempts.c's reason for the tests of a build that failed */
		if (!strcmp(jstr(a, "reason", ""), "build failed"))
			y->blocked = y->blocked ? y->blocked : id;
		else
			y->cancelled = y->cancelled ? y->cancelled : id;
		break;
	default:
		y->open = y->open ? y->open : id;
	}
}

/* The baseline flight bisector.c made for this failure (no ancestor had
 * passed): 1 with its flight and state ("untested", "pass", "fail"), else 0. */
static int baseline_flight(long long *flight, enum baseline_state *state, const json_t *baselines,
			   const struct triage_row *r)
{
	const json_t *b;
	size_t i;

	json_array_foreach (baselines, i, b)
		if (!strcmp(jstr(b, "job", ""), r->job) &&
		    !strcmp(jstr(b, "class", ""), r->board_class)) {
			*flight = jint(b, "flight", 0);
			*state = baseline_state_of(jstr(b, "state", ""));
			return 1;
		}
	return 0;
}

/* The class of a failure that is not explained in its own flight: against the
 * newest ancestor result known when it failed, else the baseline flight made
 * for it (see triage.h). */
static void against_baseline(struct triage_row *r, const json_t *rev, long long tree_id,
			     const json_t *baselines)
{
	const char *tree = jstr(rev, "tree", ""), *bad = jstr(rev, "commit", "");
	enum baseline_state bstate;
	struct tree_conf *t = trees_conf_find(ctl.cfg.trees, tree);
	json_t *results = NULL, *passes = NULL;
	const json_t *newest;
	long long bflight;
	int i;

	r->cls = TRIAGE_NEVER_PASSED;
	if (!t || !t->repo)
		return;
	results = db_triage_results(tree_id, r->job, r->board_class, bad, r->attempt);
	i = triage_newest_ancestor(t->repo, results, bad);
	if (i < 0) {
		if (!baseline_flight(&bflight, &bstate, baselines, r))
			goto out;
		if (bstate == BASELINE_PASS) {
			r->cls = TRIAGE_REGRESSION;
			r->baseline = bflight;
		} else if (bstate == BASELINE_UNTESTED) {
			r->cls = TRIAGE_PENDING;
		}
		goto out;
	}
	newest = json_array_get(results, (size_t)i);
	/* N names the push flight of that revision when one had the same result, as
	 * OSSTest's reports do, rather than a retest or a bisection step after it. */
	r->baseline = jint(newest, "push_flight", 0) ? jint(newest, "push_flight", 0)
						     : jint(newest, "flight", 0);
	if (attempt_state_of(jstr(newest, "state", "")) == ATTEMPT_PASS) {
		r->cls = TRIAGE_REGRESSION;
		goto out;
	}
	passes = db_bisect_passes(tree_id, r->job, r->board_class, bad);
	if (triage_newest_ancestor(t->repo, passes, bad) >= 0)
		r->cls = TRIAGE_STILL_FAILING;
	else
		r->baseline = 0;
out:
	json_decref(passes);
	json_decref(results);
}

/* The retest of r's failure (bisector.c): 1 with its state and flight, else 0. */
static int retest_of(enum retest_state *state, long long *flight, const json_t *retests,
		     const struct triage_row *r)
{
	const json_t *x;
	size_t i;

	json_array_foreach (retests, i, x)
		if (!strcmp(jstr(x, "job", ""), r->job) &&
		    !strcmp(jstr(x, "class", ""), r->board_class)) {
			*state = retest_state_of(jstr(x, "state", ""));
			*flight = jint(x, "retest_flight", 0);
			return 1;
		}
	return 0;
}

static void classify(struct triage_row *r, const struct tally *y, const json_t *rev,
		     long long tree_id, const json_t *baselines, const json_t *retests)
{
	enum retest_state rs = RETEST_STATE_N;
	long long rf = 0;

	r->attempt = y->fail ? y->fail : y->pass ? y->pass : y->infra ? y->infra : y->open;
	if (y->open)
		r->cls = TRIAGE_PENDING;
	else if (y->starved == y->total)
		r->cls = TRIAGE_STARVED;
	else if (y->blocked)
		r->cls = TRIAGE_BLOCKED, r->attempt = y->blocked;
	else if (y->cancelled && !y->fail && !y->pass)
		r->cls = TRIAGE_CANCELLED, r->attempt = y->cancelled;
	else if (!y->fail)
		r->cls = y->pass ? TRIAGE_PASS : TRIAGE_BROKEN;
	else if (y->pass) {
		/* Another board of the class passed the same revision in this flight. */
		r->cls = TRIAGE_HEISENBUG;
		r->retest = jint(rev, "flight", 0);
	} else if (retest_of(&rs, &rf, retests, r) && rs == RETEST_UNTESTED) {
		r->cls = TRIAGE_PENDING;
	} else if (rs == RETEST_PASS) {
		r->cls = TRIAGE_HEISENBUG;
		r->retest = rf;
	} else
		against_baseline(r, rev, tree_id, baselines);
	r->blocking = r->cls == TRIAGE_REGRESSION || r->cls == TRIAGE_BROKEN;
}

/* 1 when the allow-list of bc (NULL: none) covers job on class cls. */
static int allowed(const struct branch_conf *bc, const char *job, const char *cls)
{
	for (size_t i = 0; bc && i < bc->nallow; i++) {
		char glob[512];
		char *at;

		snprintf(glob, sizeof(glob), "%s", bc->allow[i]);
		at = strrchr(glob, '@');
		if (at)
			*at++ = '\0';
		if (fnmatch(glob, job, 0) == 0 && (!at || fnmatch(at, cls, 0) == 0))
			return 1;
	}
	return 0;
}

/* The row of (job, cls) in t, added when new; NULL on ENOMEM. */
static struct triage_row *row_of(struct triage *t, size_t *cap, const char *job, const char *cls)
{
	struct triage_row *r;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].job, job) && !strcmp(t->rows[i].board_class, cls))
			return &t->rows[i];
	if (t->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 8;
		struct triage_row *nr = realloc(t->rows, ncap * sizeof(*nr));

		if (!nr)
			return NULL;
		t->rows = nr;
		*cap = ncap;
	}
	r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	r->job = strdup(job);
	r->board_class = strdup(cls);
	if (!r->job || !r->board_class) {
		free(r->job);
		free(r->board_class);
		return NULL;
	}
	t->n++;
	return r;
}

/* Labels r with the known issue its deciding attempt matched (of known, the
 * flight's matches); a failure matching one that does not block holds nothing.
 * 0, or -ENOMEM. */
static int known_issue_of(struct triage_row *r, const json_t *known)
{
	const json_t *k;
	size_t i;

	json_array_foreach (known, i, k) {
		if (jint(k, "attempt", 0) != r->attempt || !r->attempt)
			continue;
		r->known_issue = strdup(jstr(k, "issue", ""));
		r->known_label = strdup(jstr(k, "label", ""));
		r->known_link = strdup(jstr(k, "link", ""));
		r->known_blocks = jint(k, "blocks", 1) != 0;
		if (!r->known_issue || !r->known_label || !r->known_link)
			return -ENOMEM;
		if (!r->known_blocks)
			r->blocking = 0;
		break;
	}
	return 0;
}

int triage_flight(struct triage *t, long long flight)
{
	json_t *rev = db_flight_revision(flight), *tests = NULL, *baselines = NULL, *retests = NULL;
	json_t *a, *fb = NULL, *known = NULL;
	struct tree_conf *tc;
	struct branch_conf *bc = NULL;
	struct tally *tallies = NULL;
	size_t i, cap = 0;
	long long tree_id = 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->flight = flight;
	if (!rev)
		return -ENOENT;
	json_object_set_new(rev, "flight", json_integer(flight));
	if (db_tree_id(&tree_id, jstr(rev, "tree", "")) < 0) {
		rc = -EIO;
		goto out;
	}
	tests = db_triage_flight_tests(flight);
	if (!tests) {
		rc = -EIO;
		goto out;
	}
	tallies = calloc(json_array_size(tests) + 1, sizeof(*tallies));
	if (!tallies) {
		rc = -ENOMEM;
		goto out;
	}
	json_array_foreach (tests, i, a) {
		struct triage_row *r = row_of(t, &cap, jstr(a, "job", ""), jstr(a, "class", ""));

		if (!r) {
			rc = -ENOMEM;
			goto out;
		}
		tally_add(&tallies[r - t->rows], a);
	}
	fb = db_flight_branch(flight);
	tc = fb ? trees_conf_find(ctl.cfg.trees, jstr(fb, "tree", "")) : NULL;
	bc = tc ? tree_conf_branch(tc, jstr(fb, "branch", "")) : NULL;
	baselines = db_baselines_of_flight(flight);
	retests = db_retests_of_flight(flight);
	known = db_known_issues_of_flight(flight);
	for (i = 0; i < t->n; i++) {
		struct triage_row *r = &t->rows[i];
		const char *board = "";
		size_t k;

		classify(r, &tallies[i], rev, tree_id, baselines, retests);
		if ((r->cls == TRIAGE_REGRESSION || r->cls == TRIAGE_STILL_FAILING ||
		     r->cls == TRIAGE_NEVER_PASSED || r->cls == TRIAGE_BROKEN) &&
		    allowed(bc, r->job, r->board_class)) {
			r->cls = TRIAGE_ALLOWED;
			r->blocking = 0;
		}
		json_array_foreach (tests, k, a)
			if (jint(a, "id", 0) == r->attempt)
				board = jstr(a, "board", "");
		r->board = strdup(board);
		if (!r->board || known_issue_of(r, known) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	json_decref(known);
	free(tallies);
	json_decref(fb);
	json_decref(retests);
	json_decref(baselines);
	json_decref(tests);
	json_decref(rev);
	return rc;
}

int triage_bisects(long long flight, const char *job, const char *cls)
{
	struct triage t;
	int rc = 1;

	if (triage_flight(&t, flight) == 0)
		for (size_t i = 0; i < t.n; i++)
			if (!strcmp(t.rows[i].job, job) && !strcmp(t.rows[i].board_class, cls))
				rc = (t.rows[i].cls == TRIAGE_REGRESSION ||
				      t.rows[i].cls == TRIAGE_PENDING) &&
				     !(t.rows[i].known_issue && !t.rows[i].known_blocks);
	triage_release(&t);
	return rc;
}

/* One row of triage_flake_rates: tree's job on class cls. */
static json_t *flake_rate(long long tree_id, const char *tree, const char *job, const char *cls,
			  long long heisenbugs, const struct viewer *v)
{
	double rate = 0;
	int known = db_bisect_flake_rate(&rate, tree_id, job, cls, v) == 0;

	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:i}", "tree", tree, "job", job, "class", cls,
			 "rate", known ? json_real(rate) : json_null(), "heisenbugs",
			 (json_int_t)heisenbugs, "window", BISECT_FLAKE_WINDOW);
}

json_t *triage_flake_rates(const char *cls, const struct viewer *v)
{
	json_t *jobs = db_flake_jobs(cls, v), *out = json_array(), *j;
	size_t i;

	json_array_foreach (jobs, i, j)
		json_array_append_new(out, flake_rate(jint(j, "tree_id", 0), jstr(j, "tree", ""),
						      jstr(j, "job", ""), cls,
						      jint(j, "heisenbugs", 0), v));
	json_decref(jobs);
	return out;
}

json_t *triage_flake_rates_of(long long tree_id, const char *tree, const char *job, const char *cls,
			      const struct viewer *v)
{
	return flake_rate(tree_id, tree, job, cls, db_heisenbugs(tree_id, job, cls, v), v);
}

/* The rows of t as JSON: [triage_row_json...] (new reference). */
static json_t *rows_json(const struct triage *t)
{
	json_t *rows = json_array();

	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(rows, triage_row_json(&t->rows[i]));
	return rows;
}

/* Set by triage_store_start: before it, the trees' repositories may not be open
 * and nothing is judged (the flights stay stale). ctl.lock held. */
static int store_started;

int triage_store_stale(int level, int limit)
{
	json_t *ids, *v;
	int own = 0, n = 0;
	size_t i;

	if (!store_started)
		return 0;
	ids = db_triage_stale(level, limit);
	if (json_array_size(ids) == 0)
		goto out;
	if (!db_in_transaction()) {
		if (db_begin() < 0) {
			n = -EIO;
			goto out;
		}
		own = 1;
	}
	json_array_foreach (ids, i, v) {
		struct triage t;
		json_t *rows = NULL;

		/* a flight that cannot be judged (gone, no revision) is stored without
		 * classes rather than tried again at every commit */
		if (triage_flight(&t, json_integer_value(v)) == 0)
			rows = rows_json(&t);
		triage_release(&t);
		if (db_triage_store(json_integer_value(v), rows) < 0)
			n = -EIO;
		else if (n >= 0)
			n++;
		json_decref(rows);
	}
	if (own && db_commit() < 0)
		n = -EIO;
out:
	json_decref(ids);
	return n;
}

/* db_on_commit's function: the flights this change made stale, at most
 * TRIAGE_STORE_BATCH of them (one commit of the controller's own touches one or
 * two; an outside write that touched more is worked off over the next commits and
 * the timer's ticks, newest first, rather than holding ctl.lock for all of it). */
#define TRIAGE_STORE_BATCH 16
static void store_changed(void)
{
	triage_store_stale(1, TRIAGE_STORE_BATCH);
}

void triage_store_start(void)
{
	store_started = 1;
	db_on_commit(store_changed);
	store_changed();
}
