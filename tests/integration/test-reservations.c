/* Reservations end to end: a real controller and agent, two fake boards
 * (tests/fake-board/fake-board.py). res-a's policy allows reservations, res-b has
 * no policy (none). alice and bob have the reserve right, carol not.
 *  - who may: carol (no right) and res-b (its policy) are refused; alice holds
 *    res-a; bob cannot take it, release it nor power it; alice and the admin can
 *    end it (released, broken); every action is in the board's log and page.
 *  - nothing is scheduled on a reserved board: a queued attempt waits until the
 *    release, then runs; a board reserved while it runs an attempt finishes it
 *    (waiting_for) and is then held.
 *  - the holder's power actions and the end of a reservation reach the board
 *    through its agent (the fake board's power script records them).
 *  - expiry releases the board and powers it off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static struct harness_controller ctl;
static char agent_tok[128], alice[128], bob[128], carol[128];
static struct harness_fake_lab lab;
static const struct harness_fake_spec boards[2] = {
    {"res-a", NULL, "res", "policy: {reserve: true}\n"}, {"res-b", NULL, "other", NULL}};

static const char job[] = "name: res-smoke\n"
			  "requires: {arch: [x86_64], tags: [res]}\n"
			  "timeout: 30\n"
			  "stages:\n"
			  "  - {name: firmware, pattern: 'FAKE-FW', timeout: 5}\n"
			  "  - {name: done, pattern: 'XENCI-TESTS-DONE', timeout: 10}\n";

static void put_script(const char *board, const char *script)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", lab.dir, board);
	assert_int_equal(harness_write_file(path, "script", script), 0);
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "res-smoke.yaml", job);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-r", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_user_token(&ctl, "alice", 1, alice, sizeof(alice)) < 0 ||
	    harness_user_token(&ctl, "bob", 1, bob, sizeof(bob)) < 0 ||
	    harness_user_token(&ctl, "carol", 0, carol, sizeof(carol)) < 0)
		return -1;
	return harness_fake_lab_start(&ctl, &lab, "lab-r", agent_tok, boards, 2, NULL);
}

static int teardown(void **state)
{
	(void)state;
	harness_fake_lab_stop(&lab);
	harness_controller_stop(&ctl);
	return 0;
}

static long reserve(const char *tok, const char *board, int seconds, json_t **out)
{
	char path[128], body[64];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/reservation", board);
	snprintf(body, sizeof(body), "{\"seconds\": %d}", seconds);
	return harness_call(&ctl, tok, "POST", path, body, out);
}

static long release(const char *tok, const char *board, json_t **out)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/reservation", board);
	return harness_call(&ctl, tok, "DELETE", path, NULL, out);
}

static long power(const char *tok, const char *board, const char *action)
{
	char path[128], body[64];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/power", board);
	snprintf(body, sizeof(body), "{\"action\": \"%s\"}", action);
	return harness_call(&ctl, tok, "POST", path, body, NULL);
}

/* The board as GET /boards/NAME shows it. New reference. */
static json_t *board(const char *name)
{
	char path[128];
	json_t *b = NULL;

	snprintf(path, sizeof(path), "/api/v1/boards/%s", name);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &b), 200);
	return b;
}

/* How many lines of res-a's power record are `what` ("on", "off"). */
static int actions(const char *what)
{
	return harness_fake_lab_actions(&lab, "res-a", what);
}

/* Waits (20 s at most) until res-a's power record has n lines `what`. */
static void wait_actions(const char *what, int n)
{
	long long end = harness_now_ms() + 20000;

	while (actions(what) < n && harness_now_ms() < end)
		usleep(50 * 1000);
	assert_int_equal(actions(what), n);
}

static long long flight(void)
{
	json_t *j = NULL, *a;
	long long id = 0;
	size_t i;

	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT
				      "\", \"jobs\": [\"res-smoke\"]}",
				      &j),
			 201);
	json_array_foreach (json_object_get(j, "attempts"), i, a)
		if (!strcmp(jstr(a, "board", ""), "res-a"))
			id = jint(a, "id", 0);
	json_decref(j);
	assert_true(id > 0);
	return id;
}

static const char *attempt_state(long long id, json_t **hold)
{
	char path[96];

	json_decref(*hold);
	*hold = NULL;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, hold), 200);
	return jstr(*hold, "state", "");
}

static const char *wait_final(long long id, json_t **hold)
{
	long long end = harness_now_ms() + 30000;
	const char *st;

	while (strcmp(st = attempt_state(id, hold), "pass") && strcmp(st, "fail") &&
	       strcmp(st, "infra") && strcmp(st, "timeout") && harness_now_ms() < end)
		usleep(100 * 1000);
	return st;
}

static void test_rights(void **state)
{
	json_t *r = NULL, *b;

	(void)state;
	assert_int_equal(reserve(carol, "res-a", 600, NULL), 403); /* no right */
	assert_int_equal(reserve(alice, "res-b", 600, NULL), 403); /* its policy */
	assert_int_equal(reserve(NULL, "res-a", 600, NULL), 401);
	assert_int_equal(reserve(alice, "res-none", 600, NULL), 404);
	assert_int_equal(reserve(alice, "res-a", 600, &r), 201);
	assert_string_equal(jstr(r, "user", ""), "alice");
	json_decref(r);
	assert_int_equal(reserve(bob, "res-a", 600, NULL), 409);
	assert_int_equal(release(bob, "res-a", NULL), 403);
	assert_int_equal(power(bob, "res-a", "on"), 403);
	assert_int_equal(release(carol, "res-a", NULL), 403);
	b = board("res-a");
	assert_string_equal(jstr(json_object_get(b, "reservation"), "user", ""), "alice");
	json_decref(b);
	r = NULL;
	assert_int_equal(release(alice, "res-a", &r), 200);
	assert_string_equal(jstr(r, "state", ""), "released");
	json_decref(r);
	assert_int_equal(release(alice, "res-a", NULL), 404);
	/* the admin breaks bob's */
	assert_int_equal(reserve(bob, "res-a", 600, NULL), 201);
	r = NULL;
	assert_int_equal(release(ctl.admin_token, "res-a", &r), 200);
	assert_string_equal(jstr(r, "state", ""), "broken");
	json_decref(r);
	/* who, when and what, newest first */
	b = board("res-a");
	{
		const json_t *log = json_object_get(b, "reservation_log");
		const char *want[][2] = {{"controller", "power off"}, {"admin", "broken"},
					 {"bob", "reserved"},	      {"controller", "power off"},
					 {"alice", "released"},	      {"alice", "reserved"}};
		size_t i;

		assert_true(json_is_null(json_object_get(b, "reservation")));
		assert_int_equal(json_array_size(log), 6);
		for (i = 0; i < 6; i++) {
			const json_t *l = json_array_get(log, i);

			assert_non_null(strstr(jstr(l, "who", ""), want[i][0]));
			assert_string_equal(jstr(l, "action", ""), want[i][1]);
			assert_true(jint(l, "time", 0) > 0);
		}
	}
	json_decref(b);
}

static void test_nothing_scheduled_while_reserved(void **state)
{
	json_t *a = NULL, *r = NULL, *b;
	struct buf page = BUF_INIT(0);
	long long id;

	(void)state;
	assert_int_equal(reserve(alice, "res-a", 600, NULL), 201);
	id = flight();
	/* the agent claims for res-a every half second: nothing comes */
	sleep(3);
	assert_string_equal(attempt_state(id, &a), "queued");
	assert_int_equal(
	    harness_call_bytes(&ctl, NULL, "GET", "/boards/res-a", NULL, NULL, 0, NULL, &page),
	    200);
	assert_non_null(strstr(buf_cstr(&page), "Held for alice until"));
	buf_release(&page);
	assert_int_equal(release(alice, "res-a", NULL), 200);
	assert_string_equal(wait_final(id, &a), "pass");

	/* reserved while it runs: the attempt finishes, then the board is held */
	put_script("res-a", "line FAKE-FW 1.0\nsleep 2000\nline XENCI-TESTS-DONE\n");
	id = flight();
	{
		long long end = harness_now_ms() + 20000;

		while (strcmp(attempt_state(id, &a), "running") && harness_now_ms() < end)
			usleep(50 * 1000);
		assert_string_equal(jstr(a, "state", ""), "running");
	}
	assert_int_equal(reserve(alice, "res-a", 600, &r), 201);
	assert_int_equal(jint(r, "waiting_for", 0), id);
	json_decref(r);
	assert_string_equal(wait_final(id, &a), "pass");
	b = board("res-a");
	assert_true(
	    json_is_null(json_object_get(json_object_get(b, "reservation"), "waiting_for")));
	json_decref(b);
	{
		int off = actions("off");

		assert_int_equal(release(alice, "res-a", NULL), 200);
		wait_actions("off", off + 1); /* the end's power off, through the agent */
	}
	put_script("res-a", "line FAKE-FW 1.0\nline XENCI-TESTS-DONE\n");
	json_decref(a);
}

static void test_power_and_expiry(void **state)
{
	int on, off;
	json_t *b;

	(void)state;
	assert_int_equal(reserve(alice, "res-a", 600, NULL), 201);
	on = actions("on");
	off = actions("off");
	assert_int_equal(power(alice, "res-a", "on"), 202);
	wait_actions("on", on + 1);
	assert_int_equal(power(alice, "res-a", "cycle"), 202);
	wait_actions("on", on + 2);
	wait_actions("off", off + 1);
	assert_int_equal(power(alice, "res-a", "sideways"), 400);
	assert_int_equal(release(alice, "res-a", NULL), 200);
	wait_actions("off", off + 2);
	/* one second: the controller's tick ends it and the agent powers it off */
	assert_int_equal(reserve(alice, "res-a", 1, NULL), 201);
	wait_actions("off", off + 3);
	b = board("res-a");
	assert_true(json_is_null(json_object_get(b, "reservation")));
	assert_string_equal(
	    jstr(json_array_get(json_object_get(b, "reservation_log"), 0), "action", ""),
	    "power off");
	assert_string_equal(
	    jstr(json_array_get(json_object_get(b, "reservation_log"), 1), "action", ""),
	    "expired");
	json_decref(b);
	/* through the CLI: reserve for 2h, release */
	{
		char xenci[400], out[512];
		char *argv1[] = {xenci, "reserve", "res-a", "--for", "2h", NULL};
		char *argv2[] = {xenci, "release", "res-a", NULL};

		snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
		setenv("XENCI_URL", ctl.url, 1);
		setenv("XENCI_TOKEN", alice, 1);
		assert_int_equal(harness_run(argv1, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "res-a: held for alice until"));
		b = board("res-a");
		{
			const json_t *res = json_object_get(b, "reservation");

			assert_true(jint(res, "expires", 0) - jint(res, "created", 0) ==
				    2 * 3600 * 1000LL);
		}
		json_decref(b);
		assert_int_equal(harness_run(argv2, out, sizeof(out)), 0);
		assert_string_equal(out, "res-a: released\n");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rights),
	    cmocka_unit_test(test_nothing_scheduled_while_reserved),
	    cmocka_unit_test(test_power_and_expiry),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
