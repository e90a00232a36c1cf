/* Leases, retries, board health, priorities, crash recovery and migrations,
 * against a real controller with short leases. */
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

#define COMMIT "89abcdef0123456789abcdef0123456789abcdef"

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128];

static const char job_fake[] = "name: fake-smoke\n"
			       "requires: {arch: [x86_64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";

static json_t *get(const char *path)
{
	json_t *j = NULL;

	if (harness_call(&ctl, NULL, "GET", path, NULL, &j) != 200)
		fail_msg("GET %s", path);
	return j;
}

static long long claim(json_t **attempt)
{
	json_t *j = NULL;
	long st = harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
			       "{\"boards\": [\"qx\"], \"wait_ms\": 0}", &j);
	long long id = st == 200 ? jint(json_object_get(j, "attempt"), "id", 0) : -st;

	if (attempt && st == 200)
		*attempt = json_incref(json_object_get(j, "attempt"));
	json_decref(j);
	return id;
}

static long long flight(const char *priority)
{
	char body[256];
	json_t *j = NULL;
	long long id;

	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"priority\": \"%s\"}", priority);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	id = jint(j, "id", 0);
	json_decref(j);
	return id;
}

static const char *attempt_state(long long id, char *out, size_t n)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	j = get(path);
	snprintf(out, n, "%s", jstr(j, "state", ""));
	json_decref(j);
	return out;
}

static void wait_state(long long id, const char *state, int ms)
{
	char s[32];
	long long deadline = harness_now_ms() + ms;

	while (strcmp(attempt_state(id, s, sizeof(s)), state)) {
		if (harness_now_ms() > deadline)
			fail_msg("attempt %lld is %s, not %s after %d ms", id, s, state, ms);
		usleep(50 * 1000);
	}
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "lease_seconds: 1\nmax_attempts: 2\nunhealthy_streak: 2\n"
			   "priority_age_seconds: 1\n";
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	if (harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"qx\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}]}",
			 NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void test_lapse_requeue_and_health(void **state)
{
	json_t *j, *a = NULL;
	char path[96];
	long long a1, a2, hc, f;

	(void)state;
	f = flight("submission");
	a1 = claim(NULL);
	assert_true(a1 > 0);
	/* No heartbeat: the lease lapses, the attempt is infra, a retry is queued. */
	wait_state(a1, "infra", 4000);
	j = get("/api/v1/boards/qx");
	assert_string_equal(jstr(j, "state", ""), "idle"); /* released */
	assert_int_equal(jint(j, "infra_streak", 0), 1);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", a1);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, "{}", NULL), 410);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", a1);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 410);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", a1);
	j = get(path);
	assert_string_equal(jstr(j, "reason", ""), "lease lapsed");
	json_decref(j);

	a2 = claim(&a);
	assert_true(a2 > a1);
	assert_int_equal(jint(a, "number", 0), 2);
	assert_int_equal(jint(a, "flight", 0), f);
	json_decref(a);
	wait_state(a2, "infra", 4000);
	/* Second infra in a row: unhealthy, and a health check is queued (no third try). */
	j = get("/api/v1/boards/qx");
	assert_string_equal(jstr(j, "state", ""), "unhealthy");
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", f);
	j = get(path);
	assert_int_equal(json_array_size(json_object_get(j, "attempts")), 2);
	json_decref(j);

	/* An unhealthy board gets only its health check, even with other work queued. */
	flight("gate");
	hc = claim(&a);
	assert_true(hc > 0);
	assert_true(jbool(a, "health_check", 0));
	json_decref(a);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", hc);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 200);
	j = get("/api/v1/boards/qx");
	assert_string_equal(jstr(j, "state", ""), "idle");
	assert_int_equal(jint(j, "infra_streak", -1), 0);
	json_decref(j);
	/* Healthy again: the gate flight's attempt runs. */
	a1 = claim(NULL);
	assert_true(a1 > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", a1);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 200);
}

static void test_priorities(void **state)
{
	long long bg, sub, gate, id;
	json_t *a = NULL;
	char path[96];

	(void)state;
	bg = flight("background");
	sub = flight("submission");
	gate = flight("gate");
	/* One board, one attempt at a time: gate, then submission, then background. */
	for (int i = 0; i < 3; i++) {
		long long want = i == 0 ? gate : i == 1 ? sub : bg;

		id = claim(&a);
		assert_true(id > 0);
		assert_int_equal(jint(a, "flight", 0), want);
		json_decref(a);
		assert_int_equal(claim(NULL), -204); /* the board is busy */
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
		assert_int_equal(
		    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL),
		    200);
	}
}

/* No starvation: background work that waited longer than its classes are worth
 * (priority_age_seconds: 1 here) runs before a newer gate flight. */
static void test_ageing(void **state)
{
	long long bg, gate, id;
	json_t *a = NULL;
	char path[96];

	(void)state;
	bg = flight("background");
	usleep(3500 * 1000);
	gate = flight("gate");
	id = claim(&a);
	assert_true(id > 0);
	assert_int_equal(jint(a, "flight", 0), bg);
	json_decref(a);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 200);
	id = claim(&a);
	assert_int_equal(jint(a, "flight", 0), gate);
	json_decref(a);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 200);
}

static void test_cancel(void **state)
{
	json_t *j = NULL;
	char path[96], tok[128];
	long long id;

	(void)state;
	flight("submission");
	id = claim(NULL);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/cancel", id);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", path, NULL, NULL), 403);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", path, NULL, &j), 200);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", path, NULL, NULL), 409);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, "{}", NULL), 410);
	/* A revoked token stops working at once. */
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/tokens",
				      "{\"role\": \"user\", \"name\": \"temp\"}", &j),
			 201);
	snprintf(tok, sizeof(tok), "%s", jstr(j, "token", ""));
	snprintf(path, sizeof(path), "/api/v1/tokens/%lld", jint(j, "id", 0));
	json_decref(j);
	assert_int_equal(harness_call(&ctl, tok, "POST", "/api/v1/flights", "{}", NULL), 400);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "DELETE", path, NULL, NULL), 200);
	assert_int_equal(harness_call(&ctl, tok, "POST", "/api/v1/flights", "{}", NULL), 401);
}

static void test_kill9_resumes(void **state)
{
	json_t *j = NULL;
	char path[96];
	long long id;
	int i;

	(void)state;
	flight("submission");
	id = claim(NULL);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	{
		struct http_client h;
		struct http_reply r;

		harness_http(&ctl, agent_tok, &h);
		http_reply_init(&r);
		assert_int_equal(http_request(&h, "PUT", path, "application/octet-stream",
					      "console bytes\n", 14, NULL, &r),
				 0);
		assert_int_equal(r.status, 200); /* acknowledged: must survive kill -9 */
		http_reply_release(&r);
		http_client_release(&h);
	}
	harness_controller_kill(&ctl);
	assert_int_equal(harness_controller_start(&ctl), 0);
	/* The lease resumes: heartbeats keep it alive past its old end. */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	for (i = 0; i < 4; i++) {
		assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, "{}", NULL), 200);
		usleep(400 * 1000);
	}
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	j = get(path);
	assert_string_equal(jstr(j, "state", ""), "running");
	assert_int_equal(jint(j, "log_length", 0), 14);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lapse_requeue_and_health),
	    cmocka_unit_test(test_priorities),
	    cmocka_unit_test(test_ageing),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_kill9_resumes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
