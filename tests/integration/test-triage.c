/* Issue 15: triage like OSSTest. A controller watching one branch with a gate,
 * one board of class q35 and the lab played by this test over the agent protocol:
 * a revision whose tree holds "bug" fails the job; one holding "flaky" fails its
 * first run only; "its" and "oops" fail it with the console of a known issue.
 *   - a flaky failure is retested at the same revision before it is reported; the
 *     retest passes: a heisenbug (pass in N-retest), not blocking, not bisected;
 *   - a real regression is confirmed by its retest, then bisected (REGR. vs. N);
 *     the next push that still fails is still failing (like N), not bisected
 *     again;
 *   - a job that always fails, covered by the branch's allow-list (extra@q3*), is
 *     allowed in every flight and never holds the gate;
 *   - a failure whose console log matches a known issue is labelled in the flight's
 *     triage, the attempt and both pages: one that does not block (blocks: false)
 *     holds nothing and is not bisected, one that blocks (the default) is still a
 *     blocking regression and is bisected; an issue scoped to another board class
 *     matches nothing. */
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

#define GIT "git -c user.name=Dev -c user.email=dev@example.org "

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], extra[2048];
static char flaky_done[16][41]; /* the commits whose flaky first run failed */
static int nflaky;

static const char job_smoke[] = "name: smoke\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

static const char job_extra[] = "name: extra\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

#define sh(...)		     harness_sh(ctl.dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(ctl.dir, out, len, __VA_ARGS__)

/* 1 when commit's tree holds file name. */
static int tree_has(const char *commit, const char *name)
{
	return harness_git_has(ctl.dir, "xen", commit, name);
}

static int setup(void **state)
{
	json_t *j = NULL;

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "smoke.yaml", job_smoke);
	harness_write_file(ctl.jobs, "extra.yaml", job_extra);
	sh("git init -q -b master xen && cd xen && echo base > README && " GIT "add -A && " GIT
	   "commit -qm base && git checkout -q -b staging");
	snprintf(extra, sizeof(extra),
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s/xen\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [smoke, extra]\n"
		 "        gate: {jobs: [smoke, extra], advance: refs/heads/tested}\n"
		 "        allow: [extra@q3*]\n"
		 "known_issues:\n"
		 "  - id: its-timeout\n"
		 "    label: ITS command timeout\n"
		 "    link: https://example.org/issues/7\n"
		 "    pattern: '^\\(XEN\\) ITS: timeout waiting for command'\n"
		 "    job: smoke\n"
		 "    class: 'q3*'\n"
		 "    blocks: false\n"
		 "  - id: elsewhere\n"
		 "    label: on another class\n"
		 "    pattern: Assertion\n"
		 "    class: rk3399\n"
		 "  - id: sched-assert\n"
		 "    label: credit2 assertion\n"
		 "    link: xen-devel thread of 2026-11-02\n"
		 "    pattern: \"Assertion '.*' failed at common/sched\"\n"
		 "    tree: xen\n",
		 ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	if (harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"builder\": null, \"boards\": ["
			 "{\"name\": \"qx\", \"arch\": \"x86_64\", \"class\": \"q35\"}]}",
			 &j) != 200)
		return -1;
	json_decref(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* 1 the first time commit's flaky run is asked for. */
static int flaky_first(const char *commit)
{
	for (int i = 0; i < nflaky; i++)
		if (!strcmp(flaky_done[i], commit))
			return 0;
	if (nflaky < 16)
		snprintf(flaky_done[nflaky++], 41, "%s", commit);
	return 1;
}

/* The lab's rule for an attempt on qx: extra always fails (the branch's
 * allow-list covers it), so does a revision holding bug, its or oops, and one
 * holding flaky the first time; its and oops fail with a known issue's console. */
static int lab_rule(struct harness_lab *lab, const json_t *a, char *body, size_t len)
{
	char path[96];
	const char *commit = jstr(json_object_get(a, "revision"), "commit", "");
	int bad = !strcmp(jstr(json_object_get(a, "job"), "name", ""), "extra") ||
		  tree_has(commit, "bug") || tree_has(commit, "its") || tree_has(commit, "oops") ||
		  (tree_has(commit, "flaky") && flaky_first(commit));

	/* the console of a known issue's failure */
	if (bad && (tree_has(commit, "its") || tree_has(commit, "oops"))) {
		const char *log = tree_has(commit, "oops")
				      ? "(XEN) Xen version 4.17\n(XEN) Assertion 'prv->ncpus' "
					"failed at common/sched/credit2.c:1234\n"
				      : "(XEN) Xen version 4.17\n(XEN) ITS: timeout waiting for "
					"command 0x3\n";

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0",
			 jint(a, "id", 0));
		assert_int_equal(harness_call_bytes(lab->c, lab->token, "PUT", path,
						    "application/octet-stream", log, strlen(log),
						    NULL, NULL),
				 200);
	}
	harness_result_body(body, len, !bad);
	return 0;
}

static void lab_drain(void)
{
	struct harness_lab lab = {.c = &ctl,
				  .token = agent_tok,
				  .agent = "lab-a",
				  .claim = "{\"boards\": [\"qx\"], \"wait_ms\": 0}",
				  .rule = lab_rule};

	assert_true(harness_lab_drain(&lab, 400) >= 0);
}

/* Commits `what` ("bug", "flaky", or "" for a harmless change) on staging, pokes
 * it, runs the lab dry and returns the push flight. */
static long long push(const char *what, const char *msg)
{
	json_t *j = NULL;
	long long f;

	if (what[0] == '-')
		sh("cd xen && git rm -q %s && " GIT "commit -qm '%s'", what + 1, msg);
	else if (what[0])
		sh("cd xen && echo x > %s && git add %s && " GIT "commit -qm '%s'", what, what,
		   msg);
	else
		sh("cd xen && echo change >> README && " GIT "commit -qam '%s'", msg);
	assert_int_equal(
	    harness_call(&ctl, user_tok, "POST", "/api/v1/poke", "{\"branch\": \"staging\"}", &j),
	    200);
	f = jint(j, "flight", 0);
	assert_true(f > 0);
	json_decref(j);
	lab_drain();
	return f;
}

/* The triage row of job on q35 of flight f (a new reference). */
static json_t *row_of(long long f, const char *job)
{
	char path[64];
	json_t *j, *r = NULL, *x;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", f);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "triage")), 2);
	json_array_foreach (json_object_get(j, "triage"), i, x)
		if (!strcmp(jstr(x, "job", ""), job))
			r = json_incref(x);
	json_decref(j);
	assert_non_null(r);
	assert_string_equal(jstr(r, "class", ""), "q35");
	return r;
}

static json_t *row(long long f)
{
	json_t *x = row_of(f, "extra");

	/* extra fails in every flight: allowed, never blocking */
	assert_string_equal(jstr(x, "verdict_class", ""), "allowed");
	assert_string_equal(jstr(x, "text", ""), "allowed");
	assert_false(json_is_true(json_object_get(x, "blocking")));
	json_decref(x);
	return row_of(f, "smoke");
}

/* The commit of flight f into out (64 bytes); returns out. */
static const char *flight_commit(long long f, char *out)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", f);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	snprintf(out, 64, "%s", jstr(j, "commit", ""));
	json_decref(j);
	assert_true(out[0]);
	return out;
}

static long long bisections(void)
{
	json_t *j;
	long long n;

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/bisections", NULL, &j), 200);
	n = (long long)json_array_size(json_object_get(j, "bisections"));
	json_decref(j);
	return n;
}

/* The newest gate decision of staging: its action into action (16 bytes). */
static void gate_last(char action[16], char *reason, size_t n)
{
	json_t *j, *d;

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &j),
			 200);
	d = json_array_get(json_object_get(json_object_get(j, "gate"), "decisions"), 0);
	snprintf(action, 16, "%s", jstr(d, "action", ""));
	snprintf(reason, n, "%s", jstr(d, "reason", ""));
	json_decref(j);
}

/* xen's smoke on q35 in the flake rates of the JSON at path as token sees it:
 * its rate into rate (-1 while null) and its heisenbugs. */
static void smoke_rate_as(const char *token, const char *path, double *rate, long long *heis)
{
	json_t *j = NULL, *x;
	size_t i;
	int seen = 0;

	assert_int_equal(harness_call(&ctl, token, "GET", path, NULL, &j), 200);
	json_array_foreach (json_object_get(j, "flake_rates"), i, x)
		if (!strcmp(jstr(x, "job", ""), "smoke") && !strcmp(jstr(x, "class", ""), "q35")) {
			assert_string_equal(jstr(x, "tree", ""), "xen");
			*rate = json_is_number(json_object_get(x, "rate"))
				    ? json_number_value(json_object_get(x, "rate"))
				    : -1;
			*heis = jint(x, "heisenbugs", 0);
			seen++;
		}
	assert_int_equal(seen, 1);
	json_decref(j);
}

/* The JSON at path has one flake rate of xen's smoke on q35: 0.5, one heisenbug. */
static void smoke_flake_rate(const char *path)
{
	double rate;
	long long heis;

	smoke_rate_as(NULL, path, &rate, &heis);
	assert_true(rate == 0.5);
	assert_int_equal(heis, 1);
}

static void test_heisenbug(void **state)
{
	long long f;
	json_t *r;
	char text[64], action[16], reason[512];

	(void)state;
	f = push("", "good start");
	r = row(f);
	assert_string_equal(jstr(r, "verdict_class", ""), "pass");
	json_decref(r);

	f = push("flaky", "a flaky test");
	r = row(f);
	assert_string_equal(jstr(r, "verdict_class", ""), "heisenbug");
	assert_true(jint(r, "retest", 0) > f);
	snprintf(text, sizeof(text), "pass in %lld-retest", jint(r, "retest", 0));
	assert_string_equal(jstr(r, "text", ""), text);
	assert_false(json_is_true(json_object_get(r, "blocking")));
	json_decref(r);
	assert_int_equal(bisections(), 0);
	/* The flake rate of smoke on q35: the flaky revision ran twice, failed then
	 * passed (min(1, 1) / 2 runs = 0.5), one heisenbug; in the board's JSON and page. */
	smoke_flake_rate("/api/v1/boards/qx");
	assert_true(harness_page_has(&ctl, "/boards/qx", "<h2>Flake rates</h2>", "50.0 %"));
	/* and in the branch's JSON and page, by board class */
	smoke_flake_rate("/api/v1/branches/staging");
	assert_true(harness_page_has(&ctl, "/branches/staging", "<th>board class</th>", "50.0 %"));
	/* Not blocking: the gate advanced to it. */
	gate_last(action, reason, sizeof(reason));
	assert_string_equal(action, "advanced");
}

static void test_regression_then_still_failing(void **state)
{
	long long f, g;
	json_t *r;
	char text[64], action[16], action2[64], reason[512];

	(void)state;
	f = push("bug", "the bug");
	r = row(f);
	assert_string_equal(jstr(r, "verdict_class", ""), "regression");
	snprintf(text, sizeof(text), "REGR. vs. %lld", jint(r, "baseline", 0));
	assert_string_equal(jstr(r, "text", ""), text);
	assert_true(jint(r, "baseline", 0) > 0 && jint(r, "baseline", 0) < f);
	assert_true(json_is_true(json_object_get(r, "blocking")));
	json_decref(r);
	assert_int_equal(bisections(), 1);
	gate_last(action, reason, sizeof(reason));
	assert_string_equal(action, "held");
	assert_non_null(strstr(reason, "regression"));

	/* The next push fails too: like the last one, not bisected again, not
	 * blocking. */
	g = push("", "unrelated");
	r = row(g);
	assert_string_equal(jstr(r, "verdict_class", ""), "still-failing");
	/* like f, the push flight of that revision: not its retest nor a step of its
	 * bisection there, which failed after it */
	assert_int_equal(jint(r, "baseline", 0), f);
	assert_string_equal(flight_commit(jint(r, "baseline", 0), text), flight_commit(f, action2));
	snprintf(text, sizeof(text), "like %lld", jint(r, "baseline", 0));
	assert_string_equal(jstr(r, "text", ""), text);
	assert_false(json_is_true(json_object_get(r, "blocking")));
	json_decref(r);
	assert_int_equal(bisections(), 1);
	/* The branch's matrix shows the classes, not only fail: its cells of g and f */
	assert_true(harness_page_has(&ctl, "/branches/staging", "class=\"v t-still-failing\"",
				     "class=\"v t-regression\""));
	snprintf(text, sizeof(text), ">like %lld<", f);
	assert_true(harness_page_has(&ctl, "/branches/staging", text, ">REGR. vs. "));
}

/* The known issue of row r: its id, or "" (borrowed from r). */
static const char *issue_of(const json_t *r)
{
	return jstr(json_object_get(r, "known_issue"), "id", "");
}

static void test_known_issues(void **state)
{
	long long f, g, at;
	json_t *r, *j;
	char action[16], reason[512], path[64];

	(void)state;
	/* the bug and the flaky test of the previous cases are mended */
	f = push("-bug flaky", "the fixes");
	r = row(f);
	assert_string_equal(jstr(r, "verdict_class", ""), "pass");
	assert_true(json_is_null(json_object_get(r, "known_issue")));
	json_decref(r);

	/* A regression that matches a known issue that does not block: labelled, the
	 * gate advances, no bisection. */
	f = push("its", "an ITS change");
	r = row(f);
	assert_string_equal(jstr(r, "verdict_class", ""), "regression");
	assert_string_equal(issue_of(r), "its-timeout");
	assert_string_equal(jstr(json_object_get(r, "known_issue"), "label", ""),
			    "ITS command timeout");
	assert_string_equal(jstr(json_object_get(r, "known_issue"), "link", ""),
			    "https://example.org/issues/7");
	assert_false(json_is_true(json_object_get(r, "blocking")));
	at = jint(r, "attempt", 0);
	json_decref(r);
	assert_int_equal(bisections(), 1);
	gate_last(action, reason, sizeof(reason));
	assert_string_equal(action, "advanced");
	/* the attempt says it, and both pages show its label */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", at);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_string_equal(jstr(json_object_get(j, "known_issue"), "id", ""), "its-timeout");
	json_decref(j);
	snprintf(path, sizeof(path), "/attempts/%lld", at);
	assert_true(harness_page_has(&ctl, path,
				     "known issue: <a rel=\"noreferrer\" "
				     "href=\"https://example.org/issues/7\">ITS command "
				     "timeout</a>",
				     "<span class=\"v v-fail\">fail</span>"));
	snprintf(path, sizeof(path), "/flights/%lld", f);
	assert_true(harness_page_has(&ctl, path, "<h2>Triage</h2>", "ITS command timeout"));
	/* the branch matrix's cell of that flight: its class and the issue */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &j),
			 200);
	{
		json_t *row = NULL, *x, *cell;
		size_t i;

		json_array_foreach (json_object_get(j, "rows"), i, x)
			if (jint(x, "flight", 0) == f)
				row = x;
		assert_non_null(row);
		cell = json_array_get(json_object_get(row, "cells"), 0);
		assert_string_equal(jstr(cell, "verdict_class", ""), "regression");
		assert_string_equal(issue_of(cell), "its-timeout");
	}
	json_decref(j);

	/* Mended again; then a regression that matches an issue that blocks (the
	 * default: a label only) holds the gate and is bisected; the issue scoped to
	 * rk3399 does not match on q35. */
	r = row(push("-its", "ITS mended"));
	assert_string_equal(jstr(r, "verdict_class", ""), "pass");
	json_decref(r);
	g = push("oops", "a credit2 change");
	r = row(g);
	assert_string_equal(jstr(r, "verdict_class", ""), "regression");
	assert_string_equal(issue_of(r), "sched-assert");
	assert_true(json_is_true(json_object_get(r, "blocking")));
	assert_true(json_is_true(json_object_get(json_object_get(r, "known_issue"), "blocks")));
	json_decref(r);
	assert_int_equal(bisections(), 2);
	gate_last(action, reason, sizeof(reason));
	assert_string_equal(action, "held");
	snprintf(path, sizeof(path), "/flights/%lld", g);
	assert_true(harness_page_has(&ctl, path, "known issue: credit2 assertion",
				     "(xen-devel thread of 2026-11-02)"));
}

/* The private board's rule: every attempt passes. */
static int pass_rule(struct harness_lab *lab, const json_t *a, char *body, size_t len)
{
	(void)lab;
	(void)a;
	harness_result_body(body, len, 1);
	return 0;
}

/* A class's flake rate counts the runs of the boards the viewer may see: a
 * private board of q35 (lab-p's qp) that runs the head twice moves the figure for
 * admins and its agent, and leaves it as it was for anyone else (twins.h: every
 * count that would tell of a private board is its owner's and admins'). */
static void test_flake_rates_private(void **state)
{
	static const char *const paths[] = {"/api/v1/boards/qx", "/api/v1/branches/staging"};
	char tok_p[128], head[48], body[192];
	struct harness_lab lab = {.c = &ctl,
				  .token = tok_p,
				  .agent = "lab-p",
				  .claim = "{\"boards\": [\"qp\"], \"wait_ms\": 0}",
				  .rule = pass_rule};
	double before[2], admin_before[2], after[2], mine, now;
	long long hb[2], h;
	json_t *j = NULL;

	(void)state;
	/* read often enough that every read thread remembers the figures (a read
	 * thread gives a rate again while nothing it reads changed:
	 * db_bisect_flake_rate) */
	for (int k = 0; k < 2; k++)
		for (int n = 0; n < 8; n++) {
			smoke_rate_as(NULL, paths[k], &before[k], &hb[k]);
			smoke_rate_as(ctl.admin_token, paths[k], &admin_before[k], &h);
		}
	assert_int_equal(harness_token(&ctl, "agent", "lab-p", tok_p, sizeof(tok_p)), 0);
	assert_int_equal(harness_call(&ctl, tok_p, "PUT", "/api/v1/agents/lab-p/boards",
				      "{\"protocol\": 1, \"builder\": null, \"boards\": ["
				      "{\"name\": \"qp\", \"arch\": \"x86_64\", \"class\": "
				      "\"q35\", \"visibility\": \"private\"}]}",
				      &j),
			 200);
	json_decref(j);
	shout(head, sizeof(head), "git -C xen rev-parse HEAD");
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"smoke\"], \"board\": "
		 "\"qp\"}",
		 head);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(
		    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j), 201);
		json_decref(j);
		assert_int_equal(harness_lab_drain(&lab, 10), 1);
	}
	for (int k = 0; k < 2; k++) {
		/* anyone: as before */
		smoke_rate_as(NULL, paths[k], &now, &h);
		assert_true(now == before[k]);
		assert_int_equal(h, hb[k]);
		/* an admin and the board's agent: with qp's two passes */
		smoke_rate_as(ctl.admin_token, paths[k], &after[k], &h);
		assert_true(after[k] != admin_before[k]);
		smoke_rate_as(tok_p, paths[k], &mine, &h);
		assert_true(mine == after[k]);
	}
	/* qp made public: anyone's figure now counts its runs too */
	for (int k = 0; k < 2; k++)
		for (int n = 0; n < 8; n++)
			smoke_rate_as(NULL, paths[k], &now, &h);
	assert_int_equal(harness_call(&ctl, tok_p, "PUT", "/api/v1/agents/lab-p/boards",
				      "{\"protocol\": 1, \"builder\": null, \"boards\": ["
				      "{\"name\": \"qp\", \"arch\": \"x86_64\", \"class\": "
				      "\"q35\", \"visibility\": \"public\"}]}",
				      &j),
			 200);
	json_decref(j);
	for (int k = 0; k < 2; k++)
		for (int n = 0; n < 8; n++) {
			smoke_rate_as(NULL, paths[k], &now, &h);
			assert_true(now == after[k]);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heisenbug),
	    cmocka_unit_test(test_regression_then_still_failing),
	    cmocka_unit_test(test_known_issues),
	    cmocka_unit_test(test_flake_rates_private),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
