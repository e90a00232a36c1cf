/* Trust policies (lib/policy.h) end to end: a real controller and a real agent
 * with two fake boards (tests/fake-board/fake-board.py). pol-open has no policy;
 * pol-trusted runs only push, bisect and manual flights, manual ones only of
 * alice. The agent builds, but refuses untrusted builds (builder.untrusted:
 * refuse).
 *  - the scheduler: a submission and a manual flight of bob get no attempt on
 *    pol-trusted; a manual flight of alice does.
 *  - the agent: with the board's policy wiped from the controller's database, a
 *    submission is sent to pol-trusted anyway; the agent refuses it (state
 *    refused, the board never powered, not retried, no infra streak).
 *  - the builder: a submission's build is never claimed by the refusing builder;
 *    with the database edited to say it builds untrusted code, it is claimed and
 *    refused, and its tests end cancelled ("build refused"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static struct harness_controller ctl;
static char agent_tok[128], alice_tok[128], bob_tok[128];
static struct harness_fake_lab lab;
static const struct harness_fake_spec boards[2] = {
    {"pol-open", NULL, "pol, built", NULL},
    {"pol-trusted", NULL, "pol", "policy:\n  kinds: [push, bisect, manual]\n  users: [alice]\n"}};

static const char job_smoke[] = "name: pol-smoke\n"
				"requires: {arch: [x86_64], tags: [pol]}\n"
				"timeout: 30\n"
				"stages:\n"
				"  - {name: firmware, pattern: 'FAKE-FW', timeout: 5}\n"
				"  - {name: done, pattern: 'XENCI-TESTS-DONE', timeout: 5}\n";

/* needs a build: only pol-open matches it */
static const char job_built[] = "name: pol-built\n"
				"requires: {arch: [x86_64], tags: [built]}\n"
				"artifacts: [xen]\n"
				"timeout: 30\n"
				"stages:\n"
				"  - {name: done, pattern: 'XENCI-TESTS-DONE', timeout: 5}\n";

/* A named token of role through the admin API. */
static int named_token(const char *role, const char *name, char *out, size_t len)
{
	char body[160];
	json_t *j = NULL;
	long st;

	snprintf(body, sizeof(body), "{\"role\": \"%s\", \"name\": \"%s\"}", role, name);
	st = harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/tokens", body, &j);
	if (st == 201)
		snprintf(out, len, "%s", jstr(j, "token", ""));
	json_decref(j);
	return st == 201 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "max_attempts: 2\n";
	harness_write_file(ctl.jobs, "pol-smoke.yaml", job_smoke);
	harness_write_file(ctl.jobs, "pol-built.yaml", job_built);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-p", agent_tok, sizeof(agent_tok)) < 0 ||
	    named_token("admin", "alice", alice_tok, sizeof(alice_tok)) < 0 ||
	    named_token("admin", "bob", bob_tok, sizeof(bob_tok)) < 0)
		return -1;
	return harness_fake_lab_start(&ctl, &lab, "lab-p", agent_tok, boards, 2,
				      "build: true\nbuilder: {untrusted: refuse}\n");
}

static int teardown(void **state)
{
	(void)state;
	harness_fake_lab_stop(&lab);
	harness_controller_stop(&ctl);
	return 0;
}

/* A flight of kind made with token tok; its id. */
static long long flight(const char *tok, const char *kind, const char *job)
{
	char body[256];
	json_t *j = NULL;
	long long id;

	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"kind\": \"%s\", "
		 "\"priority\": \"submission\", \"jobs\": [\"%s\"]}",
		 kind, job);
	assert_int_equal(harness_call(&ctl, tok, "POST", "/api/v1/flights", body, &j), 201);
	id = jint(j, "id", 0);
	json_decref(j);
	assert_true(id > 0);
	return id;
}

/* The flight once done (30 s at most). New reference. */
static json_t *flight_done(long long id)
{
	char path[96];
	long long end = harness_now_ms() + 30000;
	json_t *f = NULL;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	while (harness_now_ms() < end) {
		json_decref(f);
		f = NULL;
		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &f), 200);
		if (!strcmp(jstr(f, "state", ""), "done"))
			return f;
		usleep(100 * 1000);
	}
	fprintf(stderr, "flight %lld not done\n", id);
	fail();
	return NULL;
}

/* How many of flight f's test attempts are on board, and the last one's state. */
static int on_board(const json_t *f, const char *board, const char **state)
{
	const json_t *a;
	size_t i;
	int n = 0;

	*state = NULL;
	json_array_foreach (json_object_get(f, "attempts"), i, a)
		if (!strcmp(jstr(a, "kind", ""), "test") && !strcmp(jstr(a, "board", ""), board)) {
			n++;
			*state = jstr(a, "state", "");
		}
	return n;
}

static void test_scheduler_follows_policies(void **state)
{
	json_t *f, *b = NULL;
	const char *st;

	(void)state;
	/* a submission: pol-open only */
	f = flight_done(flight(ctl.admin_token, "submission", "pol-smoke"));
	assert_int_equal(on_board(f, "pol-open", &st), 1);
	assert_string_equal(st, "pass");
	assert_int_equal(on_board(f, "pol-trusted", &st), 0);
	json_decref(f);
	/* a manual flight of bob: not on pol-trusted; of alice: on both */
	f = flight_done(flight(bob_tok, "manual", "pol-smoke"));
	assert_int_equal(on_board(f, "pol-trusted", &st), 0);
	assert_int_equal(on_board(f, "pol-open", &st), 1);
	json_decref(f);
	f = flight_done(flight(alice_tok, "manual", "pol-smoke"));
	assert_int_equal(on_board(f, "pol-trusted", &st), 1);
	assert_string_equal(st, "pass");
	json_decref(f);
	/* the board's policy as declared, in the API and in words on its page */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/boards/pol-trusted", NULL, &b),
			 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(b, "policy"), "kinds")),
			 3);
	json_decref(b);
	{
		struct buf page = BUF_INIT(0);

		assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", "/boards/pol-trusted", NULL,
						    NULL, 0, NULL, &page),
				 200);
		assert_non_null(
		    strstr(buf_cstr(&page), "Runs only push, bisect or manual flights."));
		assert_non_null(
		    strstr(buf_cstr(&page), "Submissions and manual flights only of alice."));
		buf_release(&page);
	}
}

static void test_agent_refuses_what_the_controller_should_not_send(void **state)
{
	json_t *f, *b = NULL;
	const char *st;
	const json_t *a;
	size_t i;

	(void)state;
	/* as if the controller's store were edited (or the controller lied) */
	assert_int_equal(
	    harness_db_exec(&ctl, "UPDATE boards SET policy = NULL WHERE name = 'pol-trusted'"), 0);
	f = flight_done(flight(ctl.admin_token, "submission", "pol-smoke"));
	assert_int_equal(on_board(f, "pol-trusted", &st), 1); /* not handed to it again */
	assert_string_equal(st, "refused");
	json_array_foreach (json_object_get(f, "attempts"), i, a)
		if (!strcmp(jstr(a, "board", ""), "pol-trusted"))
			assert_non_null(strstr(jstr(a, "reason", ""), "does not run submission"));
	assert_int_equal(on_board(f, "pol-open", &st), 1);
	assert_string_equal(st, "pass");
	assert_string_equal(jstr(f, "verdict", ""), "pass");
	json_decref(f);
	/* the refusal is no lab problem, and the board was never powered for it */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/boards/pol-trusted", NULL, &b),
			 200);
	assert_int_equal(jint(b, "infra_streak", -1), 0);
	assert_int_equal(jint(b, "healthy", 0), 1);
	json_decref(b);
	/* on only for alice's manual flight of the first test */
	assert_int_equal(harness_fake_lab_actions(&lab, "pol-trusted", "on"), 1);
}

static void test_builder_refuses_untrusted_builds(void **state)
{
	json_t *f = NULL, *a = NULL;
	char path[96];
	long long id, build = 0;
	const json_t *x;
	size_t i;

	(void)state;
	id = flight(ctl.admin_token, "submission", "pol-built");
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	/* the agent claims again and again (claim_wait_ms 500); the build stays queued */
	sleep(3);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &f), 200);
	json_array_foreach (json_object_get(f, "attempts"), i, x)
		if (!strcmp(jstr(x, "kind", ""), "build")) {
			build = jint(x, "id", 0);
			assert_string_equal(jstr(x, "state", ""), "queued");
		}
	assert_true(build > 0);
	json_decref(f);
	/* the store now says the builder takes untrusted code: it refuses the build */
	assert_int_equal(
	    harness_db_exec(&ctl, "UPDATE agents SET builder_untrusted = 1 WHERE name = 'lab-p'"),
	    0);
	f = flight_done(id);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", build);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &a), 200);
	assert_string_equal(jstr(a, "state", ""), "refused");
	assert_non_null(strstr(jstr(a, "reason", ""), "does not build untrusted"));
	json_decref(a);
	json_array_foreach (json_object_get(f, "attempts"), i, x)
		if (!strcmp(jstr(x, "kind", ""), "test")) {
			assert_string_equal(jstr(x, "state", ""), "cancelled");
			assert_string_equal(jstr(x, "reason", ""), "build refused");
		}
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scheduler_follows_policies),
	    cmocka_unit_test(test_agent_refuses_what_the_controller_should_not_send),
	    cmocka_unit_test(test_builder_refuses_untrusted_builds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
