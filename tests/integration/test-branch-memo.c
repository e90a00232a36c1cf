/* Issue 20: a read thread remembers each flight's newest test attempts and each
 * flight's row of the branch matrix while flights.changes stands
 * (schema/0134-flight-changes.sql; db_flight_newest_tests, twins.c's frow_of).
 * Every change that the matrix's row of a flight shows must move that counter,
 * whoever makes it: here each is made from another SQLite connection, as someone
 * with the controller's disk would (so the controller's own code paths cannot
 * hide a missing trigger), with the reply cache off, and the matrix read often
 * enough before each change that every read thread holds the flight's rows
 * (anyone's by board, an admin's by class). After each change every read must
 * show it: an attempt taken by a board and passed; the flight's stored triage
 * rewritten (the cell's verdict class); its `slower`; a rerun (a higher number)
 * that fails; the rerun's number lowered; a job renamed; the rerun made a build;
 * the board moved to another class, made private (anyone's matrix leaves it out,
 * an admin's and its agent's keep it), deleted (its class is its name) and made
 * again; an attempt moved to another flight and back, and deleted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"
#include <sqlite3.h>

#define GIT "git -c user.name=Dev -c user.email=dev@example.org "

/* Reads per check: more than the read threads, so that each serves some. */
#define READS 12

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], extra[1024];
static long long flight, attempt;

static const char job_smoke[] = "name: smoke\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

static const char boards_q35[] =
    "{\"protocol\": 1, \"builder\": null, \"boards\": ["
    "{\"name\": \"qa\", \"arch\": \"x86_64\", \"class\": \"q35\", \"tags\": []}]}";

#define sh(...) harness_sh(ctl.dir, __VA_ARGS__)

static long long poke(void)
{
	json_t *j = NULL;
	long long f;

	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/poke",
				      "{\"tree\": \"xen\", \"branch\": \"staging\"}", &j),
			 200);
	f = jint(j, "flight", 0);
	json_decref(j);
	/* the watcher's own scan may have made it first: the matrix's newest row */
	for (int n = 0; f == 0 && n < 100; n++) {
		assert_int_equal(
		    harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &j), 200);
		f = jint(json_array_get(json_object_get(j, "rows"), 0), "flight", 0);
		json_decref(j);
		if (f == 0)
			usleep(50 * 1000);
	}
	assert_true(f > 0);
	return f;
}

static void sql(const char *fmt, ...)
{
	char q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	assert_int_equal(harness_db_exec(&ctl, q), 0);
}

static int setup(void **state)
{
	json_t *j = NULL;

	(void)state;
	/* every read computed by a read thread, none answered from the reply cache */
	setenv("XENCI_NO_CACHE", "1", 1);
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "smoke.yaml", job_smoke);
	sh("git init -q -b staging xen && cd xen && echo base > README && " GIT "add -A && " GIT
	   "commit -qm base");
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
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0 ||
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards", boards_q35, &j) !=
		200)
		return -1;
	json_decref(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("XENCI_NO_CACHE");
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* The cell of column col in flight's row of the matrix (by class when by_class)
 * as token sees it (new reference), or NULL when the row has no such column. */
static json_t *cell_of(const char *token, int by_class, const char *col)
{
	json_t *j = NULL, *cols, *row = NULL, *r, *c = NULL, *cell = NULL;
	size_t i, k;

	assert_int_equal(harness_call(&ctl, token, "GET",
				      by_class ? "/api/v1/branches/staging?by=class"
					       : "/api/v1/branches/staging",
				      NULL, &j),
			 200);
	json_array_foreach (json_object_get(j, "rows"), i, r)
		if (jint(r, "flight", 0) == flight)
			row = r;
	assert_non_null(row);
	cols = json_object_get(j, "columns");
	json_array_foreach (cols, k, c)
		if (!strcmp(jstr(c, "key", ""), col)) {
			cell = json_incref(json_array_get(json_object_get(row, "cells"), k));
			break;
		}
	json_decref(j);
	return cell;
}

/* Reads the matrix READS times, enough for every read thread to hold the flight's
 * rows. */
static void warm(void)
{
	for (int n = 0; n < READS; n++) {
		json_decref(cell_of(NULL, 0, "qa"));
		json_decref(cell_of(ctl.admin_token, 1, "q35"));
	}
}

/* Every one of READS reads shows col's cell with verdict (NULL: no cell or no
 * column), attempt id (0: any), pass/total. */
static void cell_is(const char *token, int by_class, const char *col, const char *verdict,
		    long long id, int pass, int total)
{
	for (int n = 0; n < READS; n++) {
		json_t *c = cell_of(token, by_class, col);

		if (verdict == NULL) {
			assert_true(c == NULL || json_is_null(c));
			json_decref(c);
			continue;
		}
		assert_non_null(c);
		assert_string_equal(jstr(c, "verdict", ""), verdict);
		if (id)
			assert_int_equal(jint(c, "attempt", 0), id);
		assert_int_equal(jint(c, "pass", -1), pass);
		assert_int_equal(jint(c, "total", -1), total);
		json_decref(c);
	}
}

static void test_every_change_shows(void **state)
{
	long long rerun, other;
	json_t *c, *j = NULL;

	(void)state;
	flight = poke();
	/* the flight's one test attempt, waiting for a board of its class */
	sql("UPDATE attempts SET state = 'queued' WHERE flight_id = %lld AND kind = 'test'",
	    flight);
	warm();
	/* taken by qa and passed */
	sql("UPDATE attempts SET board = 'qa', state = 'pass' WHERE flight_id = %lld AND"
	    " kind = 'test'",
	    flight);
	cell_is(NULL, 0, "qa", "pass", 0, 1, 1);
	c = cell_of(NULL, 0, "qa");
	attempt = jint(c, "attempt", 0);
	assert_true(attempt > 0);
	assert_null(json_object_get(c, "slower"));
	json_decref(c);
	warm();
	/* the flight's stored triage rewritten: the cell shows its verdict class */
	sql("UPDATE flights SET triage = json_array(json_object('job', 'smoke', 'class', 'q35',"
	    " 'board', 'qa', 'verdict_class', 'regression', 'text', 'REGR. vs. 1', 'attempt',"
	    " %lld, 'baseline', 1, 'retest', 0, 'known_issue', NULL, 'blocking', 1)),"
	    " triage_stale = 0 WHERE id = %lld",
	    attempt, flight);
	for (int n = 0; n < READS; n++) {
		c = cell_of(NULL, 0, "qa");
		assert_string_equal(jstr(c, "verdict_class", ""), "regression");
		assert_string_equal(jstr(c, "text", ""), "REGR. vs. 1");
		json_decref(c);
	}
	sql("UPDATE flights SET triage = '[]', triage_stale = 0 WHERE id = %lld", flight);
	for (int n = 0; n < READS; n++) {
		c = cell_of(NULL, 0, "qa");
		assert_null(json_object_get(c, "verdict_class"));
		json_decref(c);
	}
	warm();
	/* its slower, set by the boot-time judge */
	sql("UPDATE attempts SET slower = '{\"stage\": \"dom0\", \"ratio\": 1.3}' WHERE id = %lld",
	    attempt);
	for (int n = 0; n < READS; n++) {
		c = cell_of(NULL, 0, "qa");
		assert_string_equal(jstr(json_object_get(c, "slower"), "stage", ""), "dom0");
		json_decref(c);
	}
	warm();
	/* a rerun (number 2) that fails: the newest of (smoke, qa) */
	sql("INSERT INTO attempts (flight_id, build_id, kind, job, board, arch, number, priority,"
	    " state, created) SELECT flight_id, build_id, kind, job, board, arch, number + 1,"
	    " priority, 'fail', created FROM attempts WHERE id = %lld",
	    attempt);
	cell_is(NULL, 0, "qa", "fail", 0, 0, 1);
	c = cell_of(NULL, 0, "qa");
	rerun = jint(c, "attempt", 0);
	json_decref(c);
	assert_true(rerun > attempt);
	warm();
	/* the rerun's number lowered: the first is the newest again */
	sql("UPDATE attempts SET number = 0 WHERE id = %lld", rerun);
	cell_is(NULL, 0, "qa", "pass", attempt, 1, 1);
	warm();
	/* the rerun's job renamed: two (job, board) pairs in qa's cell */
	sql("UPDATE attempts SET job = 'smoke-2' WHERE id = %lld", rerun);
	cell_is(NULL, 0, "qa", "fail", rerun, 1, 2);
	warm();
	/* the rerun made a build: not in the matrix */
	sql("UPDATE attempts SET kind = 'build' WHERE id = %lld", rerun);
	cell_is(NULL, 0, "qa", "pass", attempt, 1, 1);
	warm();
	/* qa moved to another class */
	cell_is(ctl.admin_token, 1, "q35", "pass", attempt, 1, 1);
	sql("UPDATE boards SET class = 'q99' WHERE name = 'qa'");
	cell_is(ctl.admin_token, 1, "q35", NULL, 0, 0, 0);
	cell_is(ctl.admin_token, 1, "q99", "pass", attempt, 1, 1);
	sql("UPDATE boards SET class = 'q35' WHERE name = 'qa'");
	warm();
	/* qa made private: anyone's row leaves it out, an admin's keeps it */
	sql("UPDATE boards SET visibility = 'private' WHERE name = 'qa'");
	cell_is(NULL, 0, "qa", NULL, 0, 0, 0);
	cell_is(ctl.admin_token, 0, "qa", "pass", attempt, 1, 1);
	cell_is(agent_tok, 0, "qa", "pass", attempt, 1, 1); /* its own agent */
	sql("UPDATE boards SET visibility = 'public' WHERE name = 'qa'");
	warm();
	/* qa deleted: its class is its name; made again, q35 */
	sql("DELETE FROM boards WHERE name = 'qa'");
	cell_is(ctl.admin_token, 1, "qa", "pass", attempt, 1, 1);
	cell_is(ctl.admin_token, 1, "q35", NULL, 0, 0, 0);
	warm();
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards", boards_q35, &j),
	    200);
	json_decref(j);
	cell_is(ctl.admin_token, 1, "q35", "pass", attempt, 1, 1);
	warm();
	/* the attempt moved to another flight, then back, then deleted */
	sh("cd xen && echo 2 > README && " GIT "commit -qam two");
	other = poke();
	assert_true(other != flight);
	sql("UPDATE attempts SET flight_id = %lld WHERE id = %lld", other, attempt);
	cell_is(NULL, 0, "qa", NULL, 0, 0, 0);
	sql("UPDATE attempts SET flight_id = %lld WHERE id = %lld", flight, attempt);
	cell_is(NULL, 0, "qa", "pass", attempt, 1, 1);
	warm();
	sql("DELETE FROM attempts WHERE id = %lld", attempt);
	cell_is(NULL, 0, "qa", NULL, 0, 0, 0);
}

/* The flights whose stored classes the controller has still to judge again. */
static int stale_flights(void)
{
	char path[400];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	snprintf(path, sizeof(path), "%s/xenci.db", ctl.data);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM flights WHERE triage_stale", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(n >= 0);
	return n;
}

/* The branch's matrix as token sees it (its JSON text, sorted keys; new). */
static char *matrix_text(const char *token, const char *query)
{
	char path[128], *text;
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/branches/staging?%s", query);
	assert_int_equal(harness_call(&ctl, token, "GET", path, NULL, &j), 200);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_non_null(text);
	return text;
}

/* Many flights, more rows than a read thread's memo holds: its slots are taken
 * and given back within one request (limit=200), by board and by class, and every
 * read must be what a viewer the memo does not serve sees (the board's own agent:
 * gathered at every read, and with no private board it sees what anyone sees),
 * before and after the flights' attempts change. */
static void test_memo_churn(void **state)
{
	static const char *const queries[] = {"limit=200", "limit=200&by=class", "limit=20"};

	(void)state;
	for (int k = 0; k < 60; k++) {
		sh("cd xen && echo churn-%d > README && " GIT "commit -qam churn-%d", k, k);
		poke();
	}
	{
		json_t *j = NULL;

		assert_int_equal(
		    harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging?limit=200", NULL, &j),
		    200);
		assert_true(json_array_size(json_object_get(j, "rows")) >= 60);
		json_decref(j);
	}
	for (int round = 0; round < 3; round++) {
		/* every flight's test attempts on qa, in a state of this round's */
		sql("UPDATE attempts SET board = 'qa', state = CASE (id + %d) %% 3 WHEN 0 THEN"
		    " 'pass' WHEN 1 THEN 'fail' ELSE 'infra' END WHERE kind = 'test'",
		    round);
		/* the controller judges the flights' classes again (a few a tick) */
		while (stale_flights() > 0)
			usleep(100 * 1000);
		for (int n = 0; n < READS; n++)
			for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
				char *anyone = matrix_text(NULL, queries[q]),
				     *agent = matrix_text(agent_tok, queries[q]);

				assert_string_equal(anyone, agent);
				free(anyone);
				free(agent);
			}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_change_shows),
	    cmocka_unit_test(test_memo_churn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
