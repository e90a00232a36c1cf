/* Issue 15, the demo's case: baselines from any evidence. A controller whose
 * watcher made its first push flight before any board was declared (that flight
 * waits, then starves: it is not pass); a manual flight of the same commit passes
 * on two board classes; then a push whose head fails on both: a bisection starts
 * on each class, with the manual flight's revision as its good one, and finds the
 * culprit. The lab is this test, over the agent protocol: a revision whose tree
 * holds a file "bug" fails the job. And with no passing ancestor anywhere (a job
 * that never ran), the failure's baseline is untested: a flight of the failing
 * revision's first parent is made, passes, and the bisection follows. */
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

#define GIT	"git -c user.name=Dev -c user.email=dev@example.org "
#define CULPRIT 5
#define PUSHED	8

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], extra[2048];
static char commits[PUSHED + 1][48]; /* [0]: the base; [1..PUSHED] the push */

static const char job_smoke[] = "name: smoke\n"
				"requires: {arch: [x86_64, arm64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

static const char job_boot[] = "name: boot\n"
			       "requires: {arch: [x86_64, arm64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";

#define sh(...)		     harness_sh(ctl.dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(ctl.dir, out, len, __VA_ARGS__)

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
	harness_write_file(ctl.jobs, "boot.yaml", job_boot);
	sh("git init -q -b master xen && cd xen && echo base > README && " GIT "add -A && " GIT
	   "commit -qm base && git checkout -q -b staging");
	shout(commits[0], sizeof(commits[0]), "git -C xen rev-parse HEAD");
	snprintf(extra, sizeof(extra),
		 "starve_seconds: 1\n"
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s/xen\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [smoke]\n"
		 "      - name: dev\n"
		 "        jobs: [boot]\n",
		 ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* The lab's rule for an attempt on qx or qa: a revision holding bug fails. */
static int lab_rule(struct harness_lab *lab, const json_t *a, char *body, size_t len)
{
	(void)lab;
	harness_result_body(body, len,
			    !tree_has(jstr(json_object_get(a, "revision"), "commit", ""), "bug"));
	return 0;
}

static void lab_drain(void)
{
	struct harness_lab lab = {.c = &ctl,
				  .token = agent_tok,
				  .agent = "lab-a",
				  .claim = "{\"boards\": [\"qx\", \"qa\"], \"wait_ms\": 0}",
				  .bisector_idle = 1,
				  .rule = lab_rule};

	assert_true(harness_lab_drain(&lab, 400) >= 0);
}

static json_t *flight_get(long long id)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	return j;
}

/* Asserts that flight f's triage (its `triage` rows) has exactly one row per
 * class of classes (a NULL-terminated list), each of job with verdict class vc,
 * OSSTest's words text and blocking as said. */
static void triage_expect(const json_t *f, const char *job, const char *const *classes,
			  const char *vc, const char *text, int blocking)
{
	const json_t *rows = json_object_get(f, "triage"), *r;
	size_t i, n = 0, k;

	for (k = 0; classes[k]; k++) {
		int seen = 0;

		json_array_foreach (rows, i, r) {
			if (strcmp(jstr(r, "job", ""), job) ||
			    strcmp(jstr(r, "class", ""), classes[k]))
				continue;
			seen++;
			assert_string_equal(jstr(r, "verdict_class", ""), vc);
			assert_string_equal(jstr(r, "text", ""), text);
			assert_int_equal(json_is_true(json_object_get(r, "blocking")), blocking);
		}
		assert_int_equal(seen, 1);
		n++;
	}
	assert_int_equal(json_array_size(rows), n);
}

static void test_demo_regression_bisected(void **state)
{
	char body[256], text[64];
	long long first = 0, manual, push;
	json_t *j = NULL, *b, *one;
	size_t i;
	int k, found = 0, classes = 0;

	(void)state;
	/* The watcher's first flight, made before any board: it starves. */
	for (k = 0; k < 600; k++) {
		json_decref(j);
		assert_int_equal(
		    harness_call(&ctl, NULL, "GET", "/api/v1/flights?limit=1", NULL, &j), 200);
		first = jint(json_array_get(json_object_get(j, "flights"), 0), "id", 0);
		if (first &&
		    !strcmp(jstr(json_array_get(json_object_get(j, "flights"), 0), "verdict", ""),
			    "starved"))
			break;
		usleep(50 * 1000);
	}
	json_decref(j);
	j = flight_get(first);
	assert_string_equal(jstr(j, "kind", ""), "push");
	assert_string_equal(jstr(j, "verdict", ""), "starved");
	/* Its triage: smoke starved with no board (its class ""), not pass. */
	triage_expect(j, "smoke", (const char *const[]){"", NULL}, "starved", "starved", 0);
	json_decref(j);

	/* The boards come; a manual flight of the same commit passes on both classes. */
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"builder\": null, \"boards\": ["
			 "{\"name\": \"qx\", \"arch\": \"x86_64\", \"class\": \"q35\"},"
			 "{\"name\": \"qa\", \"arch\": \"arm64\", \"class\": \"virt\"}]}",
			 NULL),
	    200);
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"smoke\"]}", commits[0]);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights", body, &j), 201);
	manual = jint(j, "id", 0);
	json_decref(j);
	lab_drain();
	j = flight_get(manual);
	assert_string_equal(jstr(j, "verdict", ""), "pass");
	assert_int_equal(jint(json_object_get(j, "counts"), "pass", 0), 2);
	json_decref(j);

	/* A push whose head fails on both boards. */
	for (k = 1; k <= PUSHED; k++) {
		sh("cd xen && %s && " GIT "commit -qam 'change %d'",
		   k == CULPRIT ? "echo x > bug && git add bug" : "echo change >> README", k);
		shout(commits[k], sizeof(commits[k]), "git -C xen rev-parse HEAD");
	}
	assert_int_equal(
	    harness_call(&ctl, user_tok, "POST", "/api/v1/poke", "{\"branch\": \"staging\"}", &j),
	    200);
	assert_string_equal(jstr(j, "change", ""), "advanced");
	push = jint(j, "flight", 0);
	json_decref(j);
	lab_drain();
	/* Its triage: a regression on each class against the manual flight, blocking. */
	snprintf(text, sizeof(text), "REGR. vs. %lld", manual);
	j = flight_get(push);
	triage_expect(j, "smoke", (const char *const[]){"q35", "virt", NULL}, "regression", text,
		      1);
	json_decref(j);

	/* One bisection per class, from the manual flight's revision, each finding
	 * the culprit. */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/bisections", NULL, &j), 200);
	json_array_foreach (json_object_get(j, "bisections"), i, b) {
		classes |= !strcmp(jstr(b, "class", ""), "q35") ? 1 : 0;
		classes |= !strcmp(jstr(b, "class", ""), "virt") ? 2 : 0;
		assert_string_equal(jstr(b, "good", ""), commits[0]);
		assert_string_equal(jstr(b, "bad", ""), commits[PUSHED]);
		assert_true(!strcmp(jstr(b, "state", ""), "confirmed") ||
			    !strcmp(jstr(b, "state", ""), "found"));
		snprintf(body, sizeof(body), "/api/v1/bisections/%lld", jint(b, "id", 0));
		assert_int_equal(harness_call(&ctl, NULL, "GET", body, NULL, &one), 200);
		assert_string_equal(jstr(json_object_get(one, "culprit"), "commit", ""),
				    commits[CULPRIT]);
		json_decref(one);
		found++;
	}
	json_decref(j);
	assert_int_equal(found, 2);
	assert_int_equal(classes, 3);
}

/* boot never ran anywhere: its first failure's baseline is untested. */
static void test_untested_baseline(void **state)
{
	char d[3][48];
	long long f, base = 0;
	json_t *j, *b, *one;
	size_t i;
	int k, found = 0;

	(void)state;
	/* dev from the base: two good commits, then the culprit at its head. */
	sh("cd xen && git checkout -q -b dev %s", commits[0]);
	for (k = 0; k < 3; k++) {
		sh("cd xen && %s && " GIT "commit -qam 'dev %d'",
		   k == 2 ? "echo x > bug && git add bug" : "echo dev >> README", k);
		shout(d[k], sizeof(d[k]), "git -C xen rev-parse HEAD");
	}
	assert_int_equal(
	    harness_call(&ctl, user_tok, "POST", "/api/v1/poke", "{\"branch\": \"dev\"}", &j), 200);
	assert_string_equal(jstr(j, "change", ""), "new");
	f = jint(j, "flight", 0);
	json_decref(j);
	lab_drain();
	/* The failing flight says so, per class: the first parent was tested, passed. */
	j = flight_get(f);
	assert_string_equal(jstr(j, "verdict", ""), "fail");
	assert_int_equal(json_array_size(json_object_get(j, "baselines")), 2);
	json_array_foreach (json_object_get(j, "baselines"), i, b) {
		assert_string_equal(jstr(b, "job", ""), "boot");
		assert_string_equal(jstr(b, "tested", ""), d[1]);
		assert_string_equal(jstr(b, "state", ""), "pass");
		base = jint(b, "flight", 0);
	}
	/* Once its baseline passed, the failure is a regression against it. Both
	 * classes' baselines ran in flights of their own; the rows name theirs. */
	json_array_foreach (json_object_get(j, "triage"), i, b) {
		assert_string_equal(jstr(b, "verdict_class", ""), "regression");
		assert_true(jint(b, "baseline", 0) > f);
	}
	assert_int_equal(json_array_size(json_object_get(j, "triage")), 2);
	assert_true(base > f);
	json_decref(j);
	/* And a bisection per class between it and the head. */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/bisections", NULL, &j), 200);
	json_array_foreach (json_object_get(j, "bisections"), i, b) {
		char bp[64];

		if (strcmp(jstr(b, "job", ""), "boot"))
			continue;
		assert_string_equal(jstr(b, "good", ""), d[1]);
		assert_string_equal(jstr(b, "bad", ""), d[2]);
		snprintf(bp, sizeof(bp), "/api/v1/bisections/%lld", jint(b, "id", 0));
		assert_int_equal(harness_call(&ctl, NULL, "GET", bp, NULL, &one), 200);
		assert_string_equal(jstr(json_object_get(one, "culprit"), "commit", ""), d[2]);
		json_decref(one);
		found++;
	}
	json_decref(j);
	assert_int_equal(found, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_regression_bisected),
	    cmocka_unit_test(test_untested_baseline),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
