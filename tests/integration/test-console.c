/* xenci console end to end: a real controller and agent, fake boards
 * (tests/fake-board/fake-board.py, which echoes what it is sent and answers each
 * line with "you typed: LINE"). alice holds con-a; bob has the reserve right too.
 *  - who may: anonymous 401; bob, who does not hold con-a, 403 naming its
 *    holder; an unreserved board 403; no such board 404.
 *  - the round trip through the API: the board's output after `power on`, typed
 *    input answered, detach leaves the board reserved, attach and detach logged.
 *  - the CLI: `xenci console` with its stdin a pipe: a line typed is answered,
 *    `~~` sends one `~`, `~.` detaches (and reaches no board), exit 0.
 *  - the relay ends when the reservation does, and when its holder attaches again.
 *  - bounds: a reader that fell behind 140 KB of output is told how many bytes it
 *    lost and goes on; input the agent has not taken is held up to 16 KiB, then
 *    refused whole (429).
 *  - xenci boot: an attempt booted on a held board, its console judged by the
 *    agent with the attempt's job, ends with the verdict (logged); a boot the
 *    board's policy refuses is refused by the controller (403) and, when the
 *    controller's copy of the policy is edited to let it through, by the agent
 *    (verdict refused); a board whose agent serves nothing (not running) and an
 *    offline one give the user a reason within a bounded time, not a hang. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"
#include "sigkey.h"

static struct harness_controller ctl;
static char agent_tok[128], gone_tok[128], alice[128], bob[128];
static struct harness_fake_lab lab;

static const char job[] = "name: con-smoke\n"
			  "requires: {arch: [x86_64], tags: [conb]}\n"
			  "timeout: 30\n"
			  "boot: {xen_args: 'console=com1 attempt=${attempt}'}\n"
			  "stages:\n"
			  "  - {name: firmware, pattern: 'FAKE-FW', timeout: 10}\n";

static const char panic_job[] = "name: con-panic\n"
				"requires: {arch: [x86_64], tags: [conb]}\n"
				"timeout: 30\n"
				"stages:\n"
				"  - {name: firmware, pattern: 'FAKE-FW', timeout: 10}\n"
				"  - {name: done, pattern: 'XENCI-TESTS-DONE', timeout: 10}\n"
				"failures:\n"
				"  - {name: xen-panic, pattern: 'Panic on CPU'}\n";

static const char quick_job[] = "name: con-quick\n"
				"requires: {arch: [x86_64], tags: [conb]}\n"
				"timeout: 2\n"
				"stages:\n"
				"  - {name: firmware, pattern: 'FAKE-FW', timeout: 2}\n";

static int setup(void **state)
{
	static const struct harness_fake_spec boards[3] = {
	    {"con-a", "line FAKE-FW 1.0\npart => \n", "cona", "policy: {reserve: true}\n"},
	    {"con-b", "line FAKE-FW 1.0\nlong 70000\nlong 70000\nline BIG-DONE\nmark big\n", "conb",
	     "policy: {reserve: true}\n"},
	    {"con-c", NULL, "conc", "policy: {reserve: true, kinds: [push]}\n"}};

	(void)state;
	/* a relay nobody serves is given up after 8 s here (60 s in a real lab) */
	setenv("XENCI_TEST_RELAY_SERVE_MS", "8000", 1);
	if (harness_controller_init(&ctl) < 0 ||
	    harness_write_file(ctl.jobs, "con-smoke.yaml", job) < 0 ||
	    harness_write_file(ctl.jobs, "con-panic.yaml", panic_job) < 0 ||
	    harness_write_file(ctl.jobs, "con-quick.yaml", quick_job) < 0 ||
	    harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-c", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "agent", "lab-gone", gone_tok, sizeof(gone_tok)) < 0 ||
	    harness_user_token(&ctl, "alice", 1, alice, sizeof(alice)) < 0 ||
	    harness_user_token(&ctl, "bob", 1, bob, sizeof(bob)) < 0)
		return -1;
	return harness_fake_lab_start(&ctl, &lab, "lab-c", agent_tok, boards, 3, NULL);
}

static int teardown(void **state)
{
	(void)state;
	harness_fake_lab_stop(&lab);
	harness_controller_stop(&ctl);
	return 0;
}

static long reserve(const char *tok, const char *board)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/reservation", board);
	return harness_call(&ctl, tok, "POST", path, "{\"seconds\": 600}", NULL);
}

static long release(const char *tok, const char *board)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/reservation", board);
	return harness_call(&ctl, tok, "DELETE", path, NULL, NULL);
}

static long power(const char *tok, const char *board, const char *action)
{
	char path[128], body[64];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/power", board);
	snprintf(body, sizeof(body), "{\"action\": \"%s\"}", action);
	return harness_call(&ctl, tok, "POST", path, body, NULL);
}

/* Attaches tok to board: the session, or -(HTTP status); *detail the error's. */
static long long attach(const char *tok, const char *board, char *detail, size_t len)
{
	char path[128];
	json_t *j = NULL;
	long st;
	long long s;

	snprintf(path, sizeof(path), "/api/v1/boards/%s/console", board);
	st = harness_call(&ctl, tok, "POST", path, NULL, &j);
	if (detail)
		snprintf(detail, len, "%s", jstr(j, "detail", ""));
	s = st == 201 ? jint(j, "session", 0) : -st;
	json_decref(j);
	return s;
}

/* One read of the relay from offset, having seen status_seq (wait_ms 2000): the
 * status, the reply in *out. */
static long console_read_seq(const char *tok, const char *board, long long session,
			     long long offset, long long seq, json_t **out)
{
	char path[200];

	snprintf(path, sizeof(path),
		 "/api/v1/boards/%s/console?session=%lld&offset=%lld&status_seq=%lld&wait_ms=2000",
		 board, session, offset, seq);
	return harness_call(&ctl, tok, "GET", path, NULL, out);
}

static long console_read(const char *tok, const char *board, long long session, long long offset,
			 json_t **out)
{
	return console_read_seq(tok, board, session, offset, 0, out);
}

/* Reads the relay from *offset into got until it holds needle, at most ms: 1 when it did. */
static int read_until(const char *tok, const char *board, long long session, long long *offset,
		      struct buf *got, const char *needle, int ms)
{
	long long end = harness_now_ms() + ms, seq = 0;

	while (harness_now_ms() < end) {
		json_t *j = NULL;
		unsigned char *data = NULL;
		size_t len = 0;
		const char *d;

		if (console_read_seq(tok, board, session, *offset, seq, &j) != 200) {
			json_decref(j);
			return 0;
		}
		d = jstr(j, "data", "");
		if (base64_decode(&data, &len, d, strlen(d)) == 0)
			buf_append(got, data, len);
		free(data);
		*offset = jint(j, "next", *offset);
		seq = jint(j, "status_seq", seq);
		json_decref(j);
		if (memmem(got->data, got->len, needle, strlen(needle)))
			return 1;
	}
	fprintf(stderr, "console of %s: no \"%s\" in \"%s\"\n", board, needle, buf_cstr(got));
	return 0;
}

static long send_input(const char *tok, const char *board, long long session, const void *p,
		       size_t len)
{
	char path[200], *b64 = base64_encode(p, len), *body;
	size_t blen = strlen(b64) + 32;
	long st;

	body = malloc(blen);
	snprintf(path, sizeof(path), "/api/v1/boards/%s/console/input?session=%lld", board,
		 session);
	snprintf(body, blen, "{\"data\": \"%s\"}", b64);
	st = harness_call(&ctl, tok, "POST", path, body, NULL);
	free(body);
	free(b64);
	return st;
}

static long detach(const char *tok, const char *board, long long session)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/boards/%s/console?session=%lld", board, session);
	return harness_call(&ctl, tok, "DELETE", path, NULL, NULL);
}

/* The board's reservation log (newest first), a new reference. */
static json_t *board_log(const char *board, json_t **reservation)
{
	char path[128];
	json_t *b = NULL, *log;

	snprintf(path, sizeof(path), "/api/v1/boards/%s", board);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "GET", path, NULL, &b), 200);
	log = json_incref(json_object_get(b, "reservation_log"));
	if (reservation)
		*reservation = json_incref(json_object_get(b, "reservation"));
	json_decref(b);
	return log;
}

/* Types ~. into a running `xenci console` (its stdin fd) and checks that it
 * ends, at most 10 s later, with status 0. */
static void detach_cli(pid_t pid, int fd)
{
	assert_int_equal(write(fd, "~.", 2), 2);
	assert_int_equal(harness_wait_exit(pid, 10000), 0);
	close(fd);
}

static void test_who_may(void **state)
{
	char detail[512];

	(void)state;
	assert_int_equal(reserve(alice, "con-a"), 201);
	assert_int_equal(attach(NULL, "con-a", NULL, 0), -401);
	assert_int_equal(attach(bob, "con-a", detail, sizeof(detail)), -403);
	assert_string_equal(detail, "board con-a is reserved by alice: only the holder of its "
				    "reservation can attach to its console");
	assert_int_equal(attach(alice, "con-b", detail, sizeof(detail)), -403);
	assert_string_equal(detail, "board con-b is not reserved: its console is its "
				    "reservation holder's (xenci reserve con-b)");
	assert_int_equal(attach(alice, "con-none", NULL, 0), -404);
}

static void test_round_trip(void **state)
{
	struct buf got = BUF_INIT(0);
	long long s, off = 0;
	json_t *log, *res = NULL, *j = NULL;

	(void)state;
	s = attach(alice, "con-a", NULL, 0);
	assert_true(s > 0);
	/* bob cannot read, type into or detach alice's session */
	assert_int_equal(console_read(bob, "con-a", s, 0, NULL), 403);
	assert_int_equal(send_input(bob, "con-a", s, "x", 1), 403);
	assert_int_equal(detach(bob, "con-a", s), 403);
	assert_int_equal(power(alice, "con-a", "on"), 202);
	assert_true(read_until(alice, "con-a", s, &off, &got, "=> ", 20000));
	assert_non_null(memmem(got.data, got.len, "FAKE-FW 1.0\r\n", 13));
	assert_int_equal(send_input(alice, "con-a", s, "version\r", 8), 202);
	assert_true(read_until(alice, "con-a", s, &off, &got, "you typed: version\r\n=> ", 20000));
	/* the agent says the console is open */
	assert_int_equal(console_read(alice, "con-a", s, off, &j), 200);
	assert_string_equal(jstr(j, "status", ""), "open");
	json_decref(j);
	assert_int_equal(detach(alice, "con-a", s), 200);
	j = NULL;
	assert_int_equal(console_read(alice, "con-a", s, off, &j), 410);
	assert_string_equal(jstr(j, "detail", ""), "detached by its user");
	json_decref(j);
	/* still held; attach and detach logged with who */
	log = board_log("con-a", &res);
	assert_true(json_is_object(res));
	assert_string_equal(jstr(res, "user", ""), "alice");
	assert_string_equal(jstr(json_array_get(log, 0), "action", ""), "console detached");
	assert_string_equal(jstr(json_array_get(log, 0), "who", ""), "alice");
	assert_string_equal(jstr(json_array_get(log, 1), "action", ""), "power on");
	assert_string_equal(jstr(json_array_get(log, 2), "action", ""), "console attached");
	assert_string_equal(jstr(json_array_get(log, 2), "who", ""), "alice");
	assert_true(jint(json_array_get(log, 2), "time", 0) > 0);
	json_decref(log);
	json_decref(res);
	buf_release(&got);
}

static void test_cli(void **state)
{
	char xenci[400], logp[400], inp[400];
	char *argv[] = {xenci, "console", "con-a", NULL};
	struct buf in = BUF_INIT(0);
	int fd;
	pid_t pid;
	json_t *res = NULL, *log;

	(void)state;
	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	snprintf(logp, sizeof(logp), "%s/cli.log", lab.dir);
	snprintf(inp, sizeof(inp), "%s/con-a", lab.dir);
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", alice, 1);
	pid = harness_spawn_input(argv, logp, &fd);
	assert_true(pid > 0);
	assert_true(harness_wait_file_has(logp, "[xenci: open]", 20000));
	assert_int_equal(write(fd, "hello\r", 6), 6);
	assert_true(harness_wait_file_has(logp, "you typed: hello\r\n=> ", 20000));
	/* ~~ at a line's start sends one ~; a ~ inside a line is sent as it is */
	assert_int_equal(write(fd, "~~a~b\r", 6), 6);
	assert_true(harness_wait_file_has(logp, "you typed: ~a~b\r\n", 20000));
	detach_cli(pid, fd);
	assert_true(
	    harness_wait_file_has(logp, "[xenci: detached from con-a; it stays reserved]", 1000));
	/* the escape never reached the board */
	assert_int_equal(harness_read_file(&in, inp, "input"), 0);
	assert_non_null(memmem(in.data, in.len, "hello\r~a~b\r", 11));
	assert_null(memmem(in.data, in.len, "~.", 2));
	buf_release(&in);
	log = board_log("con-a", &res);
	assert_true(json_is_object(res));
	assert_string_equal(jstr(json_array_get(log, 0), "action", ""), "console detached");
	json_decref(log);
	json_decref(res);
}

static void test_ends(void **state)
{
	long long s1, s2;
	json_t *j = NULL;

	(void)state;
	/* attaching again detaches the earlier session */
	s1 = attach(alice, "con-a", NULL, 0);
	s2 = attach(alice, "con-a", NULL, 0);
	assert_true(s1 > 0 && s2 > s1);
	assert_int_equal(console_read(alice, "con-a", s1, 0, &j), 410);
	assert_string_equal(jstr(j, "detail", ""), "attached again from another client");
	json_decref(j);
	/* the end of the reservation detaches */
	assert_int_equal(release(alice, "con-a"), 200);
	j = NULL;
	assert_int_equal(console_read(alice, "con-a", s2, 0, &j), 410);
	assert_string_equal(jstr(j, "detail", ""), "the reservation ended");
	json_decref(j);
}

static void test_bounds(void **state)
{
	char body[1024], mark[400];
	long long s, end;
	json_t *j = NULL;
	static char big[16 * 1024];
	int dropped = 0;

	(void)state;
	/* 140 KB of output while nobody reads */
	assert_int_equal(reserve(alice, "con-b"), 201);
	s = attach(alice, "con-b", NULL, 0);
	assert_true(s > 0);
	/* the agent's session is there before the board speaks */
	end = harness_now_ms() + 20000;
	while (harness_now_ms() < end) {
		int open;

		j = NULL;
		assert_int_equal(console_read(alice, "con-b", s, 0, &j), 200);
		open = !strcmp(jstr(j, "status", ""), "open");
		json_decref(j);
		if (open)
			break;
	}
	assert_int_equal(power(alice, "con-b", "on"), 202);
	snprintf(mark, sizeof(mark), "%s/con-b/mark-big", lab.dir);
	assert_true(harness_wait_file_has(mark, "\n", 20000));
	/* read from 0 until the whole stream is in: 13 + 2 * 70001 + 10 bytes */
	end = harness_now_ms() + 20000;
	while (!dropped && harness_now_ms() < end) {
		j = NULL;
		assert_int_equal(console_read(alice, "con-b", s, 0, &j), 200);
		/* what the relay no longer keeps is counted, never sent */
		assert_int_equal(jint(j, "dropped", 0), jint(j, "offset", 0));
		if (jint(j, "offset", 0) == 140025 - 64 * 1024) {
			const char *d = jstr(j, "data", "");
			unsigned char *data = NULL;
			size_t len = 0;

			dropped = 1;
			/* it goes on at the oldest byte kept, at most 32 KiB a read */
			assert_int_equal(base64_decode(&data, &len, d, strlen(d)), 0);
			assert_int_equal((long long)len, jint(j, "next", 0) - jint(j, "offset", 0));
			assert_int_equal(len, 32 * 1024);
			assert_int_equal(data[0], 'x');
			free(data);
		}
		json_decref(j);
	}
	assert_true(dropped);
	assert_int_equal(release(alice, "con-b"), 200);

	/* input that no agent takes: a board whose agent is not running */
	{
		char tok[128];

		assert_int_equal(harness_token(&ctl, "agent", "lab-idle", tok, sizeof(tok)), 0);
		snprintf(body, sizeof(body),
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"con-idle\", \"arch\": "
			 "\"x86_64\", \"class\": \"fake\", \"policy\": {\"reserve\": true}}]}");
		assert_int_equal(
		    harness_call(&ctl, tok, "PUT", "/api/v1/agents/lab-idle/boards", body, NULL),
		    200);
	}
	assert_int_equal(reserve(alice, "con-idle"), 201);
	s = attach(alice, "con-idle", NULL, 0);
	assert_true(s > 0);
	j = NULL;
	assert_int_equal(console_read(alice, "con-idle", s, 0, &j), 200);
	assert_string_equal(jstr(j, "status", ""), "waiting for the board's agent");
	json_decref(j);
	memset(big, 'k', sizeof(big));
	assert_int_equal(send_input(alice, "con-idle", s, big, sizeof(big)), 202);
	assert_int_equal(send_input(alice, "con-idle", s, "!", 1), 429);
	assert_int_equal(release(alice, "con-idle"), 200);
}

/* xenci boot: what an attempt on con-b booted, staged on con-a and booted there,
 * its console attached. */
static void test_boot(void **state)
{
	char xenci[400], logp[400], id_s[32], script[400], want[64];
	char *argv[] = {xenci, "boot", "con-a", id_s, NULL};
	struct buf got = BUF_INIT(0);
	json_t *j = NULL, *log;
	long long id = 0, s, end;
	int fd, ons;
	pid_t pid;

	(void)state;
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": "
				      "\"0123456789abcdef0123456789abcdef01234567\", \"jobs\": "
				      "[\"con-smoke\"]}",
				      &j),
			 201);
	id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	end = harness_now_ms() + 30000;
	for (;;) {
		char path[64];
		int over;

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
		j = NULL;
		assert_int_equal(harness_call(&ctl, alice, "GET", path, NULL, &j), 200);
		over = !strcmp(jstr(j, "state", ""), "pass");
		json_decref(j);
		if (over || harness_now_ms() > end)
			break;
		usleep(100 * 1000);
	}
	assert_true(harness_now_ms() <= end);
	assert_int_equal(reserve(alice, "con-a"), 201);

	/* through the API: refusals first */
	s = attach(alice, "con-a", NULL, 0);
	assert_true(s > 0);
	{
		char path[128], body[64];

		snprintf(path, sizeof(path), "/api/v1/boards/con-a/console/boot?session=%lld", s);
		assert_int_equal(harness_call(&ctl, alice, "POST", path, "{}", NULL), 400);
		assert_int_equal(
		    harness_call(&ctl, alice, "POST", path, "{\"attempt\": 99999}", NULL), 404);
		/* the flight's attempt has no build: nothing to boot of it */
		assert_int_equal(harness_call(&ctl, alice, "POST", path, "{\"flight\": 1}", NULL),
				 404);
		snprintf(body, sizeof(body), "{\"attempt\": %lld}", id);
		assert_int_equal(harness_call(&ctl, bob, "POST", path, body, NULL), 403);
	}
	assert_int_equal(detach(alice, "con-a", s), 200);

	/* the CLI: staged on con-a (its boot script names the attempt), power-cycled,
	 * the console attached and judged by the agent with con-smoke's rules: it
	 * ends with the verdict, exit 0 on pass */
	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	snprintf(logp, sizeof(logp), "%s/boot.log", lab.dir);
	snprintf(id_s, sizeof(id_s), "%lld", id);
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", alice, 1);
	ons = harness_fake_lab_actions(&lab, "con-a", "on");
	pid = harness_spawn_input(argv, logp, &fd);
	assert_true(pid > 0);
	/* (the status lines are the newest word: a fake board's verdict can outrun
	 * "boot: powered on") */
	assert_true(harness_wait_file_has(logp, "FAKE-FW 1.0", 20000));
	assert_int_equal(harness_wait_exit(pid, 20000), 0);
	close(fd);
	assert_int_equal(harness_fake_lab_actions(&lab, "con-a", "on"), ons + 1);
	assert_true(harness_wait_file_has(logp, "verdict: pass: ", 1000));
	snprintf(script, sizeof(script), "%s/work/boards/con-a/tftp/boot.ipxe", lab.dir);
	snprintf(want, sizeof(want), "attempt=%lld", id);
	assert_true(harness_wait_file_has(script, want, 1000));
	log = board_log("con-a", NULL);
	/* newest first: detached, boot ended, boot, attached */
	assert_string_equal(jstr(json_array_get(log, 0), "action", ""), "console detached");
	assert_string_equal(jstr(json_array_get(log, 1), "action", ""), "boot ended");
	snprintf(want, sizeof(want), "attempt %lld: pass: ", id);
	assert_true(!strncmp(jstr(json_array_get(log, 1), "detail", ""), want, strlen(want)));
	assert_string_equal(jstr(json_array_get(log, 1), "who", ""), "lab-c");
	assert_string_equal(jstr(json_array_get(log, 2), "action", ""), "boot");
	snprintf(want, sizeof(want), "attempt %lld", id);
	assert_string_equal(jstr(json_array_get(log, 2), "detail", ""), want);
	assert_string_equal(jstr(json_array_get(log, 2), "who", ""), "alice");
	json_decref(log);
	assert_int_equal(release(alice, "con-a"), 200);
	buf_release(&got);
}

/* alice holds board and attaches to its console: the session. */
static long long hold_attach(const char *board)
{
	long long s;

	assert_int_equal(reserve(alice, board), 201);
	s = attach(alice, board, NULL, 0);
	assert_true(s > 0);
	return s;
}

/* A boot con-c's policy (push flights only) refuses: the controller says so at
 * once (403); with the controller's copy of the policy edited to let it through,
 * con-c's agent refuses it itself (verdict refused, nothing staged or powered). */
static void test_boot_refused(void **state)
{
	char xenci[400], ids[32], out[4096], path[128], body[64], detail[512];
	char *argv[] = {xenci, "boot", "con-c", ids, "--no-input", NULL};
	json_t *j = NULL, *log;
	long long id, s;
	int ons;

	(void)state;
	/* a manual flight's attempt (any will do: con-c refuses its kind) */
	assert_int_equal(harness_call(&ctl, alice, "GET", "/api/v1/attempts?board=con-b", NULL, &j),
			 200);
	id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	s = hold_attach("con-c");
	snprintf(path, sizeof(path), "/api/v1/boards/con-c/console/boot?session=%lld", s);
	snprintf(body, sizeof(body), "{\"attempt\": %lld}", id);
	j = NULL;
	assert_int_equal(harness_call(&ctl, alice, "POST", path, body, &j), 403);
	snprintf(detail, sizeof(detail), "%s", jstr(j, "detail", ""));
	json_decref(j);
	assert_non_null(strstr(detail, "board con-c's policy refuses attempt"));
	assert_int_equal(detach(alice, "con-c", s), 200);

	/* the controller's copy edited: con-c's agent refuses it */
	assert_int_equal(harness_db_exec(&ctl, "UPDATE boards SET policy = '{\"reserve\": true}'"
					       " WHERE name = 'con-c'"),
			 0);
	ons = harness_fake_lab_actions(&lab, "con-c", "on");
	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	snprintf(ids, sizeof(ids), "%lld", id);
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", alice, 1);
	assert_int_equal(harness_run(argv, out, sizeof(out)), 1);
	if (strstr(out, "verdict: refused: ") == NULL)
		fprintf(stderr, "%s\n", out);
	assert_non_null(strstr(out, "verdict: refused: "));
	assert_int_equal(harness_fake_lab_actions(&lab, "con-c", "on"), ons);
	log = board_log("con-c", NULL);
	assert_string_equal(jstr(json_array_get(log, 1), "action", ""), "boot ended");
	assert_non_null(strstr(jstr(json_array_get(log, 1), "detail", ""), ": refused: "));
	json_decref(log);
	assert_int_equal(release(alice, "con-c"), 200);
}

/* con-gone's agent (lab-gone) declared it and is not running: `xenci console`
 * and `xenci boot` end with the reason once the relay went unserved for the
 * controller's bound (8 s here), exit 1; once lab-gone declares without it (the
 * board offline), attach and power are refused at once (409). */
static void test_unserved(void **state)
{
	char xenci[400], logp[400], ids[32], detail[512];
	char *con[] = {xenci, "console", "con-gone", "--no-input", NULL};
	char *boot[] = {xenci, "boot", "con-gone", ids, "--no-input", NULL};
	struct buf got = BUF_INIT(0);
	json_t *j = NULL;
	long long id, t0;
	pid_t pid;

	(void)state;
	assert_int_equal(
	    harness_call(&ctl, gone_tok, "PUT", "/api/v1/agents/lab-gone/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"con-gone\", \"arch\": "
			 "\"x86_64\", \"class\": \"gone\", \"policy\": {\"reserve\": true}}]}",
			 NULL),
	    200);
	assert_int_equal(reserve(alice, "con-gone"), 201);
	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", alice, 1);
	snprintf(logp, sizeof(logp), "%s/unserved-console.log", lab.dir);
	t0 = harness_now_ms();
	pid = harness_spawn(con, logp);
	assert_true(pid > 0);
	assert_int_equal(harness_wait_exit(pid, 20000), 1);
	assert_true(harness_now_ms() - t0 < 20000);
	assert_true(harness_wait_file_has(
	    logp, "board con-gone's agent lab-gone did not serve its console in 8 s", 1000));

	assert_int_equal(harness_call(&ctl, alice, "GET", "/api/v1/attempts?board=con-b", NULL, &j),
			 200);
	id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
	json_decref(j);
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(logp, sizeof(logp), "%s/unserved-boot.log", lab.dir);
	pid = harness_spawn(boot, logp);
	assert_true(pid > 0);
	assert_int_equal(harness_wait_exit(pid, 20000), 1);
	assert_true(harness_wait_file_has(logp, "did not serve its console in 8 s", 1000));

	/* offline: refused at once */
	assert_int_equal(
	    harness_call(&ctl, gone_tok, "PUT", "/api/v1/agents/lab-gone/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"con-other\", \"arch\": "
			 "\"x86_64\", \"class\": \"gone\"}]}",
			 NULL),
	    200);
	assert_int_equal(power(alice, "con-gone", "cycle"), 409);
	assert_int_equal(release(alice, "con-gone"), 200);
	/* the right to reserve from the controller's own token command, as the demo's
	 * user token gets it */
	{
		char bin[400], cfg[400], out[512], *nl;
		char *tc[] = {bin,     "token",	    "create",	"--role", "user", "--name",
			      "carol", "--reserve", "--config", cfg,	  NULL};
		char *bad[] = {bin,	    "token",	"create", "--role", "admin",
			       "--reserve", "--config", cfg,	  NULL};

		snprintf(bin, sizeof(bin), "%s/xenci-controller", harness_build_dir());
		snprintf(cfg, sizeof(cfg), "%s/controller.yaml", ctl.dir);
		assert_int_equal(harness_run(bad, out, sizeof(out)), 2);
		assert_int_equal(harness_run(tc, out, sizeof(out)), 0);
		nl = strchr(out, '\n');
		if (nl)
			*nl = '\0';
		assert_int_equal(reserve(out, "con-gone"), 201);
		assert_int_equal(release(out, "con-gone"), 200);
	}
	assert_int_equal(reserve(alice, "con-gone"), 201);
	assert_int_equal(attach(alice, "con-gone", detail, sizeof(detail)), -409);
	assert_string_equal(detail, "board con-gone is offline: its agent lab-gone does not "
				    "declare it now, so nothing can serve its console");
	assert_int_equal(release(alice, "con-gone"), 200);
	buf_release(&got);
}

/* The flight's attempt of job on con-b once it ended: its id; *reason its reason. */
static long long flight_attempt(const char *jobname, char *reason, size_t len)
{
	char body[256], path[64];
	json_t *j = NULL;
	long long id, end = harness_now_ms() + 30000;

	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"0123456789abcdef0123456789abcdef01234567\", "
		 "\"jobs\": [\"%s\"]}",
		 jobname);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	for (;;) {
		const char *st;

		j = NULL;
		assert_int_equal(harness_call(&ctl, ctl.admin_token, "GET", path, NULL, &j), 200);
		st = jstr(j, "state", "");
		if (!strcmp(st, "pass") || !strcmp(st, "fail")) {
			snprintf(reason, len, "%s", jstr(j, "reason", ""));
			json_decref(j);
			return id;
		}
		json_decref(j);
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
}

/* xenci repro ATTEMPT --board con-a of a failed and a passed attempt of con-b:
 * the same failure (verdict and reason), and pass; the board stays held and its
 * console is detached after each. */
static void test_repro_board(void **state)
{
	static const char panic[] = "line FAKE-FW 1.0\nline (XEN) Panic on CPU 0:\nline (XEN) "
				    "oops\n";
	char xenci[400], agentp[400], out[8192], reason[512], ids[32], folder[400], want[600];
	char *argv[] = {xenci, "repro", ids, "--board", "con-a", "--out", folder, NULL};
	char st_a[400], st_b[400];
	long long id;
	json_t *log;

	(void)state;
	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	snprintf(agentp, sizeof(agentp), "%s/xenci-agent", harness_build_dir());
	snprintf(st_a, sizeof(st_a), "%s/con-a", lab.dir);
	snprintf(st_b, sizeof(st_b), "%s/con-b", lab.dir);
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", alice, 1);
	setenv("XENCI_AGENT", agentp, 1);
	assert_int_equal(harness_write_file(st_b, "script", panic), 0);
	id = flight_attempt("con-panic", reason, sizeof(reason));
	assert_non_null(strstr(reason, "xen-panic"));
	assert_int_equal(reserve(alice, "con-a"), 201);
	assert_int_equal(harness_write_file(st_a, "script", panic), 0);
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(folder, sizeof(folder), "%s/repro-fail", lab.dir);
	assert_int_equal(harness_run(argv, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "verdict: fail: %s\n", reason);
	if (strstr(out, want) == NULL)
		fprintf(stderr, "%s\n", out);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "Panic on CPU 0"));

	/* a pass passes */
	assert_int_equal(harness_write_file(st_b, "script", "line FAKE-FW 1.0\n"), 0);
	id = flight_attempt("con-smoke", reason, sizeof(reason));
	assert_int_equal(harness_write_file(st_a, "script", "line FAKE-FW 1.0\npart => \n"), 0);
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(folder, sizeof(folder), "%s/repro-pass", lab.dir);
	assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "verdict: pass"));
	log = board_log("con-a", NULL);
	assert_string_equal(jstr(json_array_get(log, 0), "action", ""), "console detached");
	json_decref(log);
	assert_int_equal(release(alice, "con-a"), 200);
	unsetenv("XENCI_AGENT");
}

/* con-mute's agent (lab-gone, played by the test) serves the relay and takes the
 * boot but never judges it, as an agent from before judged boots would: the
 * controller ends the boot infra once the job's timeout (2 s) and its bound (8 s
 * here) have passed, so the user is not left waiting. */
static void test_no_verdict(void **state)
{
	char path[200], body[128];
	json_t *j = NULL;
	long long id, s, end;
	char verdict[32] = "", reason[400] = "";

	(void)state;
	assert_int_equal(
	    harness_call(&ctl, gone_tok, "PUT", "/api/v1/agents/lab-gone/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"con-mute\", \"arch\": "
			 "\"x86_64\", \"class\": \"gone\", \"policy\": {\"reserve\": true}}]}",
			 NULL),
	    200);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": "
				      "\"0123456789abcdef0123456789abcdef01234567\", \"jobs\": "
				      "[\"con-quick\"]}",
				      &j),
			 201);
	id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	s = hold_attach("con-mute");
	/* the agent's side: it serves the relay, then takes the boot in its claim */
	snprintf(path, sizeof(path), "/api/v1/agents/lab-gone/console/con-mute?session=%lld", s);
	assert_int_equal(harness_call(&ctl, gone_tok, "GET", path, NULL, NULL), 204);
	snprintf(path, sizeof(path), "/api/v1/boards/con-mute/console/boot?session=%lld", s);
	snprintf(body, sizeof(body), "{\"attempt\": %lld}", id);
	assert_int_equal(harness_call(&ctl, alice, "POST", path, body, NULL), 202);
	j = NULL;
	assert_int_equal(harness_call(&ctl, gone_tok, "POST", "/api/v1/agents/lab-gone/claim",
				      "{\"boards\": [\"con-mute\"], \"wait_ms\": 0}", &j),
			 200);
	assert_string_equal(jstr(json_object_get(j, "command"), "action", ""), "boot");
	json_decref(j);
	/* it keeps serving, and says nothing of the boot */
	end = harness_now_ms() + 40000;
	while (!verdict[0] && harness_now_ms() < end) {
		const json_t *v;

		snprintf(path, sizeof(path),
			 "/api/v1/agents/lab-gone/console/con-mute?session=%lld", s);
		harness_call(&ctl, gone_tok, "GET", path, NULL, NULL);
		j = NULL;
		assert_int_equal(console_read(alice, "con-mute", s, 0, &j), 200);
		v = json_object_get(j, "verdict");
		if (v) {
			snprintf(verdict, sizeof(verdict), "%s", jstr(v, "verdict", ""));
			snprintf(reason, sizeof(reason), "%s", jstr(v, "reason", ""));
		}
		json_decref(j);
	}
	assert_string_equal(verdict, "infra");
	snprintf(body, sizeof(body), "board con-mute's agent gave no verdict for attempt %lld", id);
	assert_true(!strncmp(reason, body, strlen(body)));
	assert_int_equal(release(alice, "con-mute"), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_who_may),	cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_cli),		cmocka_unit_test(test_ends),
	    cmocka_unit_test(test_bounds),	cmocka_unit_test(test_boot),
	    cmocka_unit_test(test_repro_board), cmocka_unit_test(test_boot_refused),
	    cmocka_unit_test(test_unserved),	cmocka_unit_test(test_no_verdict),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
