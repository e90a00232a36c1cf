/* xenci console on the QEMU arm64 board (boards/qemu-arm64.yaml, U-Boot as its
 * firmware), through a real controller and agent: alice reserves it and runs
 * `xenci console` (stdin a pipe); `xenci power on` starts QEMU, whose console
 * socket the agent's session connects; at U-Boot's countdown a key stops the
 * autoboot, and at its prompt `version` is sent and U-Boot's answer (its
 * toolchain lines, which the boot banner does not print) read back. bob, who
 * has the reserve right but not the board, is refused (403 naming alice). `~.`
 * detaches: the CLI ends 0 and the board stays reserved; the release powers it
 * off and no QEMU is left. Skips when QEMU or U-Boot for arm64 is missing. */
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

#define UBOOT "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
#define QEMU  "/usr/bin/qemu-system-aarch64"
#define BOARD "con-arm64"

static struct harness_controller ctl;
static char agent_tok[128], alice[128], bob[128], dir[300];
static pid_t agent_pid;

static int setup(void **state)
{
	char path[400], text[2048];

	(void)state;
	if (access(UBOOT, R_OK) != 0 || access(QEMU, X_OK) != 0) {
		fprintf(stderr, "skipped: no %s or %s\n", QEMU, UBOOT);
		return 0;
	}
	if (harness_controller_init(&ctl) < 0 || harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-q", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_user_token(&ctl, "alice", 1, alice, sizeof(alice)) < 0 ||
	    harness_user_token(&ctl, "bob", 1, bob, sizeof(bob)) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/agent", ctl.dir);
	mkdir(dir, 0755);
	/* the demo's arm64 board as it is (its policy lets users hold it) */
	{
		struct buf b = BUF_INIT(0);
		char *p;

		snprintf(text, sizeof(text), "%s/boards", harness_root());
		if (harness_read_file(&b, text, "qemu-arm64.yaml") < 0)
			return -1;
		p = strstr(buf_cstr(&b), "name: qemu-arm64\n");
		if (p == NULL)
			return -1;
		snprintf(text, sizeof(text), "%.*sname: " BOARD "\n%s", (int)(p - b.data), b.data,
			 p + strlen("name: qemu-arm64\n"));
		buf_release(&b);
	}
	harness_write_file(dir, BOARD ".yaml", text);
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-q\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [" BOARD ".yaml]\nlimits: {claim_wait_ms: 500, heartbeat_s: 1}\n",
		 ctl.url, agent_tok, dir);
	harness_write_file(dir, "agent.yaml", text);
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	snprintf(text, sizeof(text), "%s/agent.log", dir);
	agent_pid = harness_agent_start(&ctl, path, text, BOARD);
	return agent_pid > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (!ctl.inited)
		return 0;
	harness_stop_pid(&agent_pid, SIGTERM); /* it powers the board off */
	harness_controller_stop(&ctl);
	return 0;
}

static void test_uboot_version(void **state)
{
	char xenci[400], logp[400], path[128];
	char *argv[] = {xenci, "console", BOARD, NULL};
	struct buf log = BUF_INIT(0);
	json_t *j = NULL;
	long long t0;
	int fd, k;
	pid_t pid;
	const char *after;

	(void)state;
	if (!ctl.inited)
		skip();
	snprintf(path, sizeof(path), "/api/v1/boards/" BOARD "/reservation");
	assert_int_equal(harness_call(&ctl, alice, "POST", path, "{\"seconds\": 900}", NULL), 201);
	/* a second user is refused, and told who holds it */
	snprintf(path, sizeof(path), "/api/v1/boards/" BOARD "/console");
	assert_int_equal(harness_call(&ctl, bob, "POST", path, NULL, &j), 403);
	assert_string_equal(jstr(j, "detail", ""),
			    "board " BOARD " is reserved by alice: only the holder of its "
			    "reservation can attach to its console");
	json_decref(j);

	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	snprintf(logp, sizeof(logp), "%s/console.log", dir);
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", alice, 1);
	pid = harness_spawn_input(argv, logp, &fd);
	assert_true(pid > 0);
	assert_true(harness_wait_file_has(logp, "[xenci: attached to " BOARD, 20000));
	t0 = harness_now_ms();
	assert_int_equal(harness_call(&ctl, alice, "POST", "/api/v1/boards/" BOARD "/power",
				      "{\"action\": \"on\"}", NULL),
			 202);
	/* U-Boot's countdown: any key stops it (again, until the prompt shows) */
	assert_true(harness_wait_file_has(logp, "Hit any key to stop autoboot", 120000));
	for (k = 0; k < 20; k++) {
		assert_int_equal(write(fd, "\r", 1), 1);
		if (harness_wait_file_has(logp, "=> ", 3000))
			break;
	}
	assert_true(k < 20);
	fprintf(stderr, "U-Boot prompt %lld ms after power on\n", harness_now_ms() - t0);
	t0 = harness_now_ms();
	assert_int_equal(write(fd, "version\r", 8), 8);
	assert_true(harness_wait_file_has(logp, "GNU ld", 30000));
	fprintf(stderr, "version answered in %lld ms\n", harness_now_ms() - t0);
	/* the answer follows the command's echo */
	assert_int_equal(harness_read_file(&log, dir, "console.log"), 0);
	after = strstr(buf_cstr(&log), "=> version");
	assert_non_null(after);
	assert_non_null(strstr(after, "U-Boot 20"));
	assert_non_null(strstr(after, "aarch64-linux-gnu-gcc"));
	buf_release(&log);

	assert_int_equal(write(fd, "\r~.", 3), 3);
	assert_int_equal(harness_wait_exit(pid, 10000), 0);
	close(fd);
	/* still held, by alice */
	j = NULL;
	assert_int_equal(harness_call(&ctl, alice, "GET", "/api/v1/boards/" BOARD, NULL, &j), 200);
	assert_string_equal(jstr(json_object_get(j, "reservation"), "user", ""), "alice");
	assert_string_equal(
	    jstr(json_array_get(json_object_get(j, "reservation_log"), 0), "action", ""),
	    "console detached");
	json_decref(j);
	/* the release powers it off: no QEMU of this lab is left */
	snprintf(path, sizeof(path), "/api/v1/boards/" BOARD "/reservation");
	assert_int_equal(harness_call(&ctl, alice, "DELETE", path, NULL, NULL), 200);
	for (k = 0; k < 200 && harness_count_procs("qemu-system-aarch64", dir) > 0; k++)
		usleep(50 * 1000);
	assert_int_equal(harness_count_procs("qemu-system-aarch64", dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uboot_version),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
