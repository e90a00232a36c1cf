/* The power backends against what a lab runs: Debian's pdudaemon (its HTTP
 * listener on 127.0.0.1, the localcmdline driver running a script that starts
 * and stops a stand-in board process by PID file) for on, off, reboot and its
 * errors; and the `command` backend running a real script
 * (tests/fake-board/board-power.sh) for on, off, cycle, a failing relay and a
 * hung one, with no process left behind. The pdudaemon tests skip only when
 * pdudaemon is not installed; CI installs it (debian-packages.txt). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../lab-agent/board.h"
#include "../../lab-agent/power.h"
#include "../harness/harness.h"
#include "fs.h"
#include "json-util.h"
#include "proc.h"
#include "xmalloc.h"

#define PDUDAEMON "/usr/sbin/pdudaemon"

static char dir[256];
static char script[512];
static struct proc pdud;
static int pdu_port;

/* The PID in DIR/name, or 0. */
static pid_t pid_in(const char *name)
{
	struct buf b = BUF_INIT(0);
	pid_t pid = 0;

	if (harness_read_file(&b, dir, name) == 0)
		pid = (pid_t)atoi(buf_cstr(&b));
	buf_release(&b);
	return pid;
}

/* 1 while pid runs. A killed process whose parent is gone may stay a zombie
 * for a while (this machine's init reaps late): that is not running. */
static int running(pid_t pid)
{
	char path[64], *text = NULL, *paren;
	size_t len;
	int rc;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read(&text, &len, path, 4096) < 0)
		return 0;
	paren = strrchr(text, ')');
	rc = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
	free(text);
	return rc;
}

/* 1 once pid has stopped: a SIGTERM is not instantaneous, allow it 5 s. */
static int gone(pid_t pid)
{
	long long end = harness_now_ms() + 5000;

	while (running(pid) && harness_now_ms() < end)
		usleep(10 * 1000);
	return !running(pid);
}

/* The stand-in board, if one was left on, is stopped by its PID. */
static void board_kill(void)
{
	pid_t pid = pid_in("board.pid");

	if (running(pid))
		kill(pid, SIGKILL);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(harness_tmpdir(dir, sizeof(dir), "power"), 0);
	snprintf(script, sizeof(script), "%s/tests/fake-board/board-power.sh", harness_root());
	memset(&pdud, 0, sizeof(pdud));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (pdud.pid > 0)
		proc_kill(&pdud);
	board_kill();
	harness_rmdir(dir);
	return 0;
}

/* A board whose power section is power (YAML flow text), loaded and
 * validated like a board file. */
static void load_board(struct board *b, const char *power)
{
	struct buf errors = BUF_INIT(0);

	if (harness_board_file(b, dir, "pw", power, "{backend: tcp, host: 127.0.0.1, port: 9}",
			       "{backend: ipxe}", &errors) < 0)
		fail_msg("%s", buf_cstr(&errors));
	buf_release(&errors);
}

static void actions_are(const char *want)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(harness_read_file(&b, dir, "actions"), 0);
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);
}

/* pdudaemon with one PDU, "lab-pdu", whose outlets run board-power.sh. */
static void start_pdudaemon(void)
{
	char conf[400], log[400], out[400], *text;
	const char *argv[] = {PDUDAEMON, "--conf",     conf,	"--logfile",
			      log,	 "--loglevel", "DEBUG", NULL};
	long long end;

	pdu_port = harness_free_port();
	assert_true(pdu_port > 0);
	/* localcmdline runs cmd_on % port: the outlet number lands in %s */
	text = xasprintf(
	    "{\"daemon\": {\"hostname\": \"127.0.0.1\", \"port\": %d, \"listener\": \"http\","
	    " \"logging_level\": \"DEBUG\"},\n"
	    " \"pdus\": {\"lab-pdu\": {\"driver\": \"localcmdline\",\n"
	    "   \"cmd_on\": \"echo outlet %%s >> %s/outlets; %s %s on\",\n"
	    "   \"cmd_off\": \"echo outlet %%s >> %s/outlets; %s %s off\"}}}\n",
	    pdu_port, dir, script, dir, dir, script, dir);
	assert_int_equal(harness_write_file(dir, "pdudaemon.conf", text), 0);
	free(text);
	snprintf(conf, sizeof(conf), "%s/pdudaemon.conf", dir);
	snprintf(log, sizeof(log), "%s/pdudaemon.log", dir);
	snprintf(out, sizeof(out), "%s/pdudaemon.out", dir);
	proc_init(&pdud);
	pdud.argv = argv;
	pdud.out_path = out;
	pdud.die_with_parent = 1;
	assert_int_equal(proc_start(&pdud), 0);
	/* it listens once Python has loaded its drivers: wait for the port */
	end = harness_now_ms() + 30000;
	for (;;) {
		int fd = harness_connect(pdu_port, NULL);

		if (fd >= 0) {
			close(fd);
			break;
		}
		assert_true(proc_alive(&pdud));
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
}

static void pdu_board(struct board *b, const char *host, int port, const char *extra)
{
	char power[512];

	snprintf(power, sizeof(power),
		 "{backend: pdudaemon, url: 'http://127.0.0.1:%d', hostname: %s, port: %d%s}",
		 pdu_port, host, port, extra);
	load_board(b, power);
}

static void test_pdudaemon_on_off_reboot(void **state)
{
	struct board b;
	char err[512];
	pid_t first, second;
	int cycled;

	(void)state;
	if (access(PDUDAEMON, X_OK) != 0) {
		print_message("pdudaemon is not installed (apt-get install pdudaemon): skipped\n");
		skip();
	}
	start_pdudaemon();
	pdu_board(&b, "lab-pdu", 7, "");
	/* without reboot: true, an attempt starts by on */
	assert_int_equal(power_start(&b, &cycled, err, sizeof(err)), 0);
	assert_int_equal(cycled, 0);
	first = pid_in("board.pid");
	assert_true(running(first));
	assert_int_equal(b.power->off(&b, err, sizeof(err)), 0);
	assert_true(gone(first));
	board_release(&b);

	/* reboot: true: pdudaemon's reboot (off, delay, on) starts the attempt */
	pdu_board(&b, "lab-pdu", 7, ", reboot: true, delay: 1");
	assert_int_equal(b.power->on(&b, err, sizeof(err)), 0);
	first = pid_in("board.pid");
	assert_true(running(first));
	assert_int_equal(power_start(&b, &cycled, err, sizeof(err)), 0);
	assert_int_equal(cycled, 1);
	second = pid_in("board.pid");
	assert_true(running(second));
	assert_int_not_equal(first, second);
	assert_true(gone(first));
	assert_int_equal(b.power->off(&b, err, sizeof(err)), 0);
	assert_true(gone(second));
	board_release(&b);
	actions_are("on\noff\non\noff\non\noff\n");
	{
		struct buf o = BUF_INIT(0);

		assert_int_equal(harness_read_file(&o, dir, "outlets"), 0);
		assert_string_equal(buf_cstr(&o), "outlet 7\noutlet 7\noutlet 7\noutlet 7\noutlet "
						  "7\noutlet 7\n");
		buf_release(&o);
	}
}

static void test_pdudaemon_errors(void **state)
{
	struct board b;
	char err[512];
	int port;

	(void)state;
	if (access(PDUDAEMON, X_OK) != 0) {
		print_message("pdudaemon is not installed (apt-get install pdudaemon): skipped\n");
		skip();
	}
	start_pdudaemon();
	/* a PDU that is not in pdudaemon.conf: pdudaemon's own words, and a hint */
	pdu_board(&b, "no-such-pdu", 7, "");
	assert_int_equal(b.power->on(&b, err, sizeof(err)), -1);
	print_message("unknown PDU: %s\n", err);
	assert_non_null(strstr(err, "HTTP 500 Invalid request (is the hostname in"));
	board_release(&b);
	{
		char actions[400];

		snprintf(actions, sizeof(actions), "%s/actions", dir);
		assert_int_equal(access(actions, F_OK), -1); /* nothing was run */
	}

	/* pdudaemon down: nothing listens on its port any more */
	port = pdu_port;
	proc_kill(&pdud);
	pdu_port = port;
	pdu_board(&b, "lab-pdu", 7, ", timeout_s: 2");
	assert_int_equal(b.power->off(&b, err, sizeof(err)), -1);
	print_message("pdudaemon down: %s\n", err);
	assert_non_null(strstr(err, "/power/control/off?hostname=lab-pdu&port=7"));
	assert_non_null(strstr(err, "onnect")); /* curl: "Couldn't connect to server" */
	board_release(&b);
}

static void cmd_board(struct board *b, const char *extra)
{
	char *power = xasprintf(
	    "{backend: command, on: '%s ${dir} on', off: '%s ${dir} off'%s, vars: {dir: '%s'}, "
	    "timeout_s: 2}",
	    script, script, extra, dir);

	load_board(b, power);
	free(power);
}

static void test_command_on_off_cycle(void **state)
{
	struct board b;
	char err[512], cycle[600];
	pid_t first;
	int cycled;

	(void)state;
	/* no cycle configured: an attempt starts by on */
	cmd_board(&b, "");
	assert_int_equal(power_start(&b, &cycled, err, sizeof(err)), 0);
	assert_int_equal(cycled, 0);
	first = pid_in("board.pid");
	assert_true(running(first));
	board_release(&b);
	/* cycle configured: used instead of on; the board is a new process */
	snprintf(cycle, sizeof(cycle), ", cycle: '%s ${dir} cycle'", script);
	cmd_board(&b, cycle);
	assert_int_equal(power_start(&b, &cycled, err, sizeof(err)), 0);
	assert_int_equal(cycled, 1);
	assert_true(gone(first));
	first = pid_in("board.pid");
	assert_true(running(first));
	assert_int_equal(b.power->off(&b, err, sizeof(err)), 0);
	assert_true(gone(first));
	board_release(&b);
	actions_are("on\ncycle\noff\n");
}

static void test_command_failures(void **state)
{
	struct board b;
	char err[512], cycle[600];
	pid_t hung;
	long long t0;
	int cycled;

	(void)state;
	snprintf(cycle, sizeof(cycle), ", cycle: '%s ${dir} cycle'", script);
	cmd_board(&b, cycle);
	/* a relay that does not answer: the exit code and the script's last words */
	assert_int_equal(harness_write_file(dir, "fail", "relay 4 does not answer"), 0);
	assert_int_equal(power_start(&b, &cycled, err, sizeof(err)), -1);
	assert_int_equal(cycled, 1);
	print_message("failing: %s\n", err);
	assert_non_null(strstr(err, "exited with 3: board-power: relay 4 does not answer"));
	assert_int_equal(b.power->off(&b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, " off` exited with 3: board-power: relay 4"));
	snprintf(cycle, sizeof(cycle), "%s/fail", dir);
	assert_int_equal(unlink(cycle), 0);
	/* a hung one: killed at timeout_s with what it started, none left */
	assert_int_equal(harness_write_file(dir, "hang", ""), 0);
	t0 = harness_now_ms();
	assert_int_equal(b.power->on(&b, err, sizeof(err)), -1);
	print_message("hung: %s (%lld ms)\n", err, harness_now_ms() - t0);
	assert_non_null(strstr(err, "did not finish within 2 s"));
	hung = pid_in("hang.pid");
	assert_true(hung > 0);
	assert_true(gone(hung));
	board_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pdudaemon_on_off_reboot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pdudaemon_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_on_off_cycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_failures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
