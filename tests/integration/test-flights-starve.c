/* Issue 15: no flight ends without running. A controller started before any
 * agent declared a board makes its watcher's first flight with no eligible
 * board: that flight waits (one unplaced attempt per job), then its jobs end
 * `starved` after starve_seconds; the flight is not pass and the gate holds.
 * A flight that waits is placed on the boards an agent declares later, and
 * runs. */
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

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], repo[400], extra[2048];

#define GIT		     "git -c user.name=Dev -c user.email=dev@example.org "
#define sh(...)		     harness_sh(ctl.dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(ctl.dir, out, len, __VA_ARGS__)

static const char job_smoke[] = "name: fake-smoke\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

/* Starts a controller watching staging (gated on fake-smoke, advancing master)
 * with starve_seconds: starve; no board is declared. */
static int start(int starve)
{
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_smoke);
	snprintf(repo, sizeof(repo), "%s/xen", ctl.dir);
	sh("git init -q -b master xen && cd xen && echo readme > README && " GIT "add -A && " GIT
	   "commit -qm 'base' && git checkout -q -b staging && echo one >> README && " GIT
	   "commit -qam one");
	snprintf(extra, sizeof(extra),
		 "starve_seconds: %d\n"
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [fake-smoke]\n"
		 "        gate: {jobs: [fake-smoke], advance: master}\n",
		 starve, repo);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	return 0;
}

static int setup_short(void **state)
{
	(void)state;
	return start(1);
}

static int setup_long(void **state)
{
	(void)state;
	return start(3600);
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static json_t *flight_get(long long id)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	return j;
}

/* The newest flight's id (the watcher's first, made at start). */
static long long newest_flight(void)
{
	json_t *j;
	long long id;

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/flights?limit=1", NULL, &j), 200);
	id = jint(json_array_get(json_object_get(j, "flights"), 0), "id", 0);
	json_decref(j);
	return id;
}

static void declare(void)
{
	assert_int_equal(harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
				      "{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\":"
				      " \"qx\", \"arch\": \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
}

static void test_starves_not_pass(void **state)
{
	char master[64], base[64];
	long long f = 0;
	json_t *j = NULL, *a;
	int i;

	(void)state;
	shout(base, sizeof(base), "git -C xen rev-parse master");
	for (i = 0; i < 100 && f == 0; i++) { /* the watcher's first scan, at start */
		f = newest_flight();
		if (f == 0)
			usleep(100 * 1000);
	}
	assert_true(f > 0);
	/* Its job has one attempt, on no board; it ends starved (waiting before). */
	for (i = 0; i < 600; i++) {
		json_decref(j);
		j = flight_get(f);
		if (!strcmp(jstr(j, "state", ""), "done"))
			break;
		assert_string_not_equal(jstr(j, "verdict", ""), "pass");
		usleep(50 * 1000);
	}
	assert_string_equal(jstr(j, "state", ""), "done");
	assert_string_equal(jstr(j, "verdict", ""), "starved");
	assert_int_equal(json_array_size(json_object_get(j, "attempts")), 1);
	a = json_array_get(json_object_get(j, "attempts"), 0);
	assert_string_equal(jstr(a, "state", ""), "starved");
	assert_string_equal(jstr(a, "job", ""), "fake-smoke");
	assert_true(json_is_null(json_object_get(a, "board")) || !*jstr(a, "board", ""));
	assert_non_null(strstr(jstr(a, "reason", ""), "no eligible board"));
	assert_int_equal(jint(json_object_get(j, "counts"), "starved", 0), 1);
	json_decref(j);
	/* The attempt list filters by the new state; the page shows it. */
	assert_int_equal(
	    harness_call(&ctl, NULL, "GET", "/api/v1/attempts?state=starved", NULL, &j), 200);
	assert_true(json_array_size(json_object_get(j, "attempts")) == 1 ||
		    json_array_size(j) == 1);
	json_decref(j);
	/* The gate holds, naming why; master did not move. */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &j),
			 200);
	assert_string_equal(jstr(json_object_get(j, "gate"), "state", ""), "held");
	assert_non_null(strstr(jstr(json_object_get(j, "gate"), "reason", ""), "starved"));
	json_decref(j);
	shout(master, sizeof(master), "git -C xen rev-parse master");
	assert_string_equal(master, base);
}

static void test_waits_then_placed(void **state)
{
	long long f = 0, id;
	json_t *j = NULL, *a;
	char path[96];
	int i;

	(void)state;
	for (i = 0; i < 100 && f == 0; i++) {
		f = newest_flight();
		if (f == 0)
			usleep(100 * 1000);
	}
	assert_true(f > 0);
	j = flight_get(f);
	assert_string_equal(jstr(j, "state", ""), "running"); /* not done with nothing run */
	assert_string_equal(jstr(j, "verdict", ""), "running");
	a = json_array_get(json_object_get(j, "attempts"), 0);
	assert_string_equal(jstr(a, "state", ""), "waiting");
	json_decref(j);
	/* The agent declares a matching board: the waiting job takes it. */
	declare();
	j = flight_get(f);
	assert_int_equal(json_array_size(json_object_get(j, "attempts")), 1);
	a = json_array_get(json_object_get(j, "attempts"), 0);
	assert_string_equal(jstr(a, "board", ""), "qx");
	assert_string_equal(jstr(a, "state", ""), "queued");
	json_decref(j);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
				      "{\"boards\": [\"qx\"], \"wait_ms\": 0}", &j),
			 200);
	id = jint(json_object_get(j, "attempt"), "id", 0);
	assert_int_equal(jint(json_object_get(j, "attempt"), "flight", 0), f);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path,
				      "{\"verdict\": \"pass\", \"stages\": [], \"testcases\": []}",
				      NULL),
			 200);
	j = flight_get(f);
	assert_string_equal(jstr(j, "state", ""), "done");
	assert_string_equal(jstr(j, "verdict", ""), "pass");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_starves_not_pass, setup_short, teardown),
	    cmocka_unit_test_setup_teardown(test_waits_then_placed, setup_long, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
