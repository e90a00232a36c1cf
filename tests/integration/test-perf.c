/* Issue 20, "How it's performing": a controller watching one branch, two boards of
 * class q35 (qa, qb) and the lab played by this test over the agent protocol, each
 * result with its stage times: firmware 1 s, banner 2 s, dom0 2 s, each with a small
 * spread that repeats. Six pushes build the boards' history; then a revision whose
 * tree holds "slow" reaches dom0 30 % later on qa only; the next revision is back to
 * normal. The slow revision's flight and the branch matrix flag `slower` on qa at
 * that revision, naming the dom0 stage and the revision where it started, and
 * nothing else is flagged: not qb, not the revisions before, not the one after. The
 * board page draws the stage times as a server-rendered SVG trend (no script) with
 * the slower point marked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define GIT "git -c user.name=Dev -c user.email=dev@example.org "

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], extra[1024];

static const char job_smoke[] = "name: smoke\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: firmware, pattern: 'FW', timeout: 10}\n"
				"  - {name: banner, pattern: 'Xen', timeout: 10}\n"
				"  - {name: dom0, pattern: 'login', timeout: 10}\n";

#define sh(...) harness_sh(ctl.dir, __VA_ARGS__)

/* 1 when commit's tree holds file name. */
static int tree_has(const char *commit, const char *name)
{
	return harness_git_has(ctl.dir, "xen", commit, name);
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "smoke.yaml", job_smoke);
	sh("git init -q -b master xen && cd xen && echo base > README && " GIT "add -A && " GIT
	   "commit -qm base && git checkout -q -b staging");
	snprintf(extra, sizeof(extra),
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s/xen\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [smoke]\n",
		 ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	return harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			    "{\"protocol\": 1, \"boards\": ["
			    "{\"name\": \"qa\", \"arch\": \"x86_64\", \"class\": \"q35\"},"
			    "{\"name\": \"qb\", \"arch\": \"x86_64\", \"class\": \"q35\"}]}",
			    NULL) == 200
		   ? 0
		   : -1;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static int runs;

/* The lab's rule: every attempt passes; dom0 takes 30 % longer on qa when the
 * revision holds "slow". Each stage's time moves by up to 2 % from run to run. */
static int lab_rule(struct harness_lab *lab, const json_t *a, char *body, size_t len)
{
	static const double jitter[] = {0, 0.01, -0.01, 0.02, -0.02};
	const char *commit = jstr(json_object_get(a, "revision"), "commit", "");
	const char *board = jstr(a, "board", "");
	double k = 1 + jitter[runs++ % 5];
	double dom0 = 2.0 * k * (!strcmp(board, "qa") && tree_has(commit, "slow") ? 1.3 : 1);

	(void)lab;
	snprintf(body, len,
		 "{\"verdict\": \"pass\", \"stages\": ["
		 "{\"name\": \"firmware\", \"result\": \"pass\", \"seconds\": %.3f},"
		 "{\"name\": \"banner\", \"result\": \"pass\", \"seconds\": %.3f},"
		 "{\"name\": \"dom0\", \"result\": \"pass\", \"seconds\": %.3f}],"
		 " \"testcases\": [{\"name\": \"dom0 boots\", \"result\": \"pass\"}]}",
		 1.0 * k, 2.0 * k, dom0);
	return 0;
}

/* Commits a change (adding or removing file `slow`) on staging, pokes it, runs the
 * lab dry; the push flight. */
static long long push(const char *change)
{
	json_t *j = NULL;
	long long f;
	struct harness_lab lab = {.c = &ctl,
				  .token = agent_tok,
				  .agent = "lab-a",
				  .claim = "{\"boards\": [\"qa\", \"qb\"], \"wait_ms\": 0}",
				  .rule = lab_rule};

	sh("cd xen && %s && " GIT "commit -qam 'change' --allow-empty", change);
	assert_int_equal(
	    harness_call(&ctl, user_tok, "POST", "/api/v1/poke", "{\"branch\": \"staging\"}", &j),
	    200);
	f = jint(j, "flight", 0);
	assert_true(f > 0);
	json_decref(j);
	assert_true(harness_lab_drain(&lab, 100) >= 0);
	return f;
}

/* The flight's attempt on board (borrowed from f). */
static const json_t *on_board(const json_t *f, const char *board)
{
	const json_t *a;
	size_t i;

	json_array_foreach (json_object_get(f, "attempts"), i, a)
		if (!strcmp(jstr(a, "board", ""), board))
			return a;
	fail_msg("no attempt on %s", board);
	return NULL;
}

static json_t *flight(long long id)
{
	char path[64];
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	return j;
}

/* Number of `slower` chips on page path. */
static int slower_chips(const char *path)
{
	struct buf html = BUF_INIT(1 << 20);
	const char *p;
	int n = 0;

	assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &html),
			 200);
	for (p = buf_cstr(&html); (p = strstr(p, "class=\"v v-slower\"")) != NULL; p++)
		n++;
	buf_release(&html);
	return n;
}

static void test_slower_on_that_revision_and_board(void **state)
{
	long long normal[6], slow, after;
	char path[64], commit[41];
	json_t *f;
	const json_t *s;
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		normal[i] = push("echo change >> README");
		f = flight(normal[i]);
		assert_null(json_object_get(on_board(f, "qa"), "slower"));
		assert_null(json_object_get(on_board(f, "qb"), "slower"));
		json_decref(f);
	}
	slow = push("echo x > slow && git add slow");
	f = flight(slow);
	snprintf(commit, sizeof(commit), "%s", jstr(f, "commit", ""));
	assert_null(json_object_get(on_board(f, "qb"), "slower"));
	s = json_object_get(on_board(f, "qa"), "slower");
	assert_non_null(s);
	assert_string_equal(jstr(s, "stage", ""), "dom0");
	assert_true(json_number_value(json_object_get(s, "percent")) > 20);
	assert_true(json_number_value(json_object_get(s, "percent")) < 40);
	assert_string_equal(jstr(json_object_get(s, "since"), "commit", ""), commit);
	assert_int_equal(jint(json_object_get(s, "since"), "flight", 0), slow);
	json_decref(f);
	/* the flight's page: one chip, and the section naming the stage and revision */
	snprintf(path, sizeof(path), "/flights/%lld", slow);
	assert_int_equal(slower_chips(path), 2); /* the jobs table's and the section's */
	assert_true(harness_page_has(&ctl, path, "<h2>Performance</h2>", "dom0 2."));
	/* back to normal on the next revision */
	after = push("git rm -q slow");
	f = flight(after);
	assert_null(json_object_get(on_board(f, "qa"), "slower"));
	assert_null(json_object_get(on_board(f, "qb"), "slower"));
	json_decref(f);
	snprintf(path, sizeof(path), "/flights/%lld", after);
	assert_int_equal(slower_chips(path), 0);
	snprintf(path, sizeof(path), "/flights/%lld", normal[5]);
	assert_int_equal(slower_chips(path), 0);
	/* the branch matrix: one flagged cell, qa's at the slow revision */
	assert_int_equal(slower_chips("/branches/staging"), 1);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &f),
			 200);
	{
		const json_t *row, *cell, *col;
		size_t r, c;
		int flagged = 0;

		json_array_foreach (json_object_get(f, "rows"), r, row)
			json_array_foreach (json_object_get(row, "cells"), c, cell)
				if (json_object_get(cell, "slower")) {
					flagged++;
					col = json_array_get(json_object_get(f, "columns"), c);
					assert_string_equal(jstr(col, "key", ""), "qa");
					assert_int_equal(jint(row, "flight", 0), slow);
				}
		assert_int_equal(flagged, 1);
	}
	json_decref(f);
	/* the board's trend: an SVG per job and branch, the slower point marked */
	assert_true(harness_page_has(&ctl, "/boards/qa", "How it's performing", "<svg"));
	assert_true(harness_page_has(&ctl, "/boards/qa", "class=\"pt slower\"", "staging"));
	assert_true(harness_page_has(&ctl, "/boards/qb", "<svg", "<polyline"));
	assert_int_equal(slower_chips("/boards/qb"), 0);
}

/* SQL on the controller's live database through sqlite3 (another process, as an
 * admin would): the first row's first column into out. */
static void sql(char *out, size_t len, const char *q)
{
	harness_shout(ctl.dir, out, len, "sqlite3 %s/xenci.db \"%s\"", ctl.data, q);
}

#define SLOWER_ALL "SELECT group_concat(id || ':' || coalesce(slower, '-'), ' ') FROM attempts"
#define TRIAGE_ALL "SELECT group_concat(id || ':' || coalesce(triage, '-'), ' ') FROM flights"

/* The verdicts are judged once, when what they depend on is written, and the
 * pages read them (migration 130): the `slower` verdict with the result, the
 * flight's classes with every change of its attempts. A value written into the
 * store from outside is what the flight shows (the page judges nothing per
 * request: before, it ran the history query of each passing attempt and showed
 * its own verdict), and the bounded pass that judges what was stored before the
 * migration gives back exactly what was stored at write time. */
static void test_verdicts_stored_once(void **state)
{
	char slower_before[16384], triage_before[65536], after[65536], out[256], q[1024];
	long long slow_attempt, other, fl;
	json_t *f;
	int i;

	(void)state;
	/* every passing test attempt was judged when it passed; one is slower */
	sql(out, sizeof(out),
	    "SELECT count(*) FROM attempts WHERE kind = 'test' AND state = 'pass' AND"
	    " perf_judged = 0");
	assert_string_equal(out, "0");
	sql(out, sizeof(out), "SELECT count(*) FROM attempts WHERE slower IS NOT NULL");
	assert_string_equal(out, "1");
	sql(out, sizeof(out),
	    "SELECT id FROM attempts WHERE slower IS NOT NULL AND json_extract(slower,"
	    " '$.stage') = 'dom0'");
	slow_attempt = atoll(out);
	assert_true(slow_attempt > 0);
	sql(out, sizeof(out),
	    "SELECT count(*) FROM flights WHERE triage_stale <> 0 OR triage IS NULL");
	assert_string_equal(out, "0");
	sql(slower_before, sizeof(slower_before), SLOWER_ALL);
	sql(triage_before, sizeof(triage_before), TRIAGE_ALL);

	/* what the store says is what the flight shows */
	sql(out, sizeof(out),
	    "SELECT id || ' ' || flight_id FROM attempts WHERE kind = 'test' AND state ="
	    " 'pass' AND slower IS NULL ORDER BY id DESC LIMIT 1");
	assert_int_equal(sscanf(out, "%lld %lld", &other, &fl), 2);
	snprintf(q, sizeof(q),
		 "UPDATE attempts SET slower = json_object('stage', 'banner', 'seconds', 9.5,"
		 " 'median', 2.0, 'spread', 0.1, 'percent', 375.0, 'since', json_object("
		 "'attempt', %lld, 'flight', %lld, 'commit', 'c0ffee')) WHERE id = %lld;"
		 " UPDATE flights SET triage = json_array(json_object('job', 'smoke', 'class',"
		 " 'q35', 'board', 'qa', 'verdict_class', 'never-passed', 'text', 'never pass',"
		 " 'attempt', 0, 'baseline', 0, 'retest', 0, 'known_issue', NULL, 'blocking',"
		 " json('false'))) WHERE id = %lld",
		 other, fl, other, fl);
	sql(out, sizeof(out), q);
	f = flight(fl);
	{
		const json_t *a, *s = NULL;
		size_t k;

		json_array_foreach (json_object_get(f, "attempts"), k, a)
			if (jint(a, "id", 0) == other)
				s = json_object_get(a, "slower");
		assert_non_null(s);
		assert_string_equal(jstr(s, "stage", ""), "banner");
		assert_string_equal(jstr(json_object_get(s, "since"), "commit", ""), "c0ffee");
		assert_int_equal(json_array_size(json_object_get(f, "triage")), 1);
		assert_string_equal(
		    jstr(json_array_get(json_object_get(f, "triage"), 0), "verdict_class", ""),
		    "never-passed");
	}
	json_decref(f);

	/* as from before the migration: nothing judged; the timer's bounded pass
	 * judges it all again, newest first, to what was stored at write time */
	sql(out, sizeof(out),
	    "UPDATE attempts SET slower = NULL, perf_judged = 0; UPDATE flights SET triage ="
	    " NULL, triage_stale = 2");
	for (i = 0; i < 600; i++) {
		sql(out, sizeof(out),
		    "SELECT (SELECT count(*) FROM attempts WHERE kind = 'test' AND state = 'pass'"
		    " AND perf_judged = 0) + (SELECT count(*) FROM flights WHERE triage_stale"
		    " <> 0)");
		if (!strcmp(out, "0"))
			break;
		usleep(100 * 1000);
	}
	assert_string_equal(out, "0");
	sql(after, sizeof(after), SLOWER_ALL);
	assert_string_equal(after, slower_before);
	sql(after, sizeof(after), TRIAGE_ALL);
	assert_string_equal(after, triage_before);
	f = flight(fl);
	assert_null(json_object_get(on_board(f, "qa"), "slower"));
	json_decref(f);
	(void)slow_attempt;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Issue 20: queue wait and board utilisation per lab on the overview. The
 * overview's figures for lab-a and its boards are those computed here from the
 * attempts' own times in the store: the nearest-rank median and 90th percentile of
 * queued (or created) to claimed, and the claimed-to-finished time over 24 hours. */
static void test_queue_wait_and_busy(void **state)
{
	static const char *const boards[] = {"qa", "qb", NULL};
	long long waits[256] = {0}, lab_waits[512] = {0}, busy_ms = 0, lab_busy = 0;
	size_t n, nlab = 0;
	char out[16384], q[512], *p, *end;
	json_t *o = NULL, *lab = NULL, *b;
	const json_t *u;
	size_t i, k;

	(void)state;
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/overview", NULL, &o), 200);
	json_array_foreach (json_object_get(o, "labs"), i, b)
		if (!strcmp(jstr(b, "agent", ""), "lab-a"))
			lab = b;
	assert_non_null(lab);
	for (int bi = 0; boards[bi]; bi++) {
		snprintf(q, sizeof(q),
			 "SELECT group_concat(claimed_at - coalesce(queued_at, created), ' ') ||"
			 " ' | ' || sum(finished_at - claimed_at) FROM attempts WHERE board = '%s'"
			 " AND claimed_at IS NOT NULL",
			 boards[bi]);
		sql(out, sizeof(out), q);
		for (n = 0, p = out; n < 256 && *p && *p != '|'; n++) {
			waits[n] = strtoll(p, &end, 10);
			lab_waits[nlab++] = waits[n];
			p = end + strspn(end, " ");
		}
		assert_true(n >= 8);
		busy_ms = strtoll(strchr(out, '|') + 1, NULL, 10);
		lab_busy += busy_ms;
		qsort(waits, n, sizeof(*waits), cmp_ll);
		u = NULL;
		json_array_foreach (json_object_get(lab, "boards"), k, b)
			if (!strcmp(jstr(b, "name", ""), boards[bi]))
				u = json_object_get(b, "usage");
		assert_non_null(u);
		assert_int_equal(jint(u, "window_hours", 0), 24);
		assert_int_equal(jint(u, "claims", 0), (long long)n);
		assert_int_equal(jint(u, "wait_p50_ms", -1), waits[(n + 1) / 2 - 1]);
		assert_int_equal(jint(u, "wait_p90_ms", -1), waits[(9 * n + 9) / 10 - 1]);
		assert_true(fabs(json_number_value(json_object_get(u, "busy")) -
				 (double)busy_ms / (24.0 * 3600 * 1000)) < 1e-9);
	}
	qsort(lab_waits, nlab, sizeof(*lab_waits), cmp_ll);
	u = json_object_get(lab, "usage");
	assert_int_equal(jint(u, "claims", 0), (long long)nlab);
	assert_int_equal(jint(u, "wait_p50_ms", -1), lab_waits[(nlab + 1) / 2 - 1]);
	assert_int_equal(jint(u, "wait_p90_ms", -1), lab_waits[(9 * nlab + 9) / 10 - 1]);
	assert_true(fabs(json_number_value(json_object_get(u, "busy")) -
			 (double)lab_busy / (2 * 24.0 * 3600 * 1000)) < 1e-9);
	json_decref(o);
	snprintf(q, sizeof(q), "queue wait (%zu claims) p50 ", nlab);
	assert_true(harness_page_has(&ctl, "/", "2 boards", q));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slower_on_that_revision_and_board),
	    cmocka_unit_test(test_verdicts_stored_once),
	    cmocka_unit_test(test_queue_wait_and_busy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
