/* The runner reads a streaming console in few reads (lab-agent/runner.h,
 * RUNNER_READ_EVERY_MS), not one per arrival: a real controller, a real agent and
 * a fake board that writes its console one byte at a time, a millisecond apart
 * (a UART at 115,200 baud hands the agent a few bytes per wakeup). The attempt
 * passes with every byte in its log, and its "console: N bytes in M reads" note
 * counts at most one read per RUNNER_READ_EVERY_MS of the attempt (before: about
 * one per byte). A count, not a timing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "json-util.h"
#include "../../lab-agent/runner.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define BYTES  1000

static struct harness_controller ctl;
static char agent_tok[128];
static struct harness_fake_lab lab;
static struct buf script = BUF_INIT(1 << 20);
static struct harness_fake_spec boards[1] = {{"trickle", NULL, "trickle", NULL}};

static const char job[] = "name: trickle\n"
			  "requires: {arch: [x86_64], tags: [trickle]}\n"
			  "timeout: 60\n"
			  "stages:\n"
			  "  - {name: firmware, pattern: 'FAKE-FW', timeout: 10}\n"
			  "  - {name: done, pattern: '^XENCI-TESTS-DONE$', timeout: 40}\n";

static int setup(void **state)
{
	int i;

	(void)state;
	buf_puts(&script, "line FAKE-FW 1.0\n");
	for (i = 0; i < BYTES; i++)
		buf_puts(&script, i % 100 == 99 ? "line x\nsleep 1\n" : "part x\nsleep 1\n");
	buf_puts(&script, "line XENCI-TESTS-DONE\n");
	boards[0].script = buf_cstr(&script);
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "trickle.yaml", job);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-t", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	return harness_fake_lab_start(&ctl, &lab, "lab-t", agent_tok, boards, 1, NULL);
}

static int teardown(void **state)
{
	(void)state;
	harness_fake_lab_stop(&lab);
	harness_controller_stop(&ctl);
	buf_release(&script);
	return 0;
}

/* The seconds of the first log line of kind '#' whose text starts with what, or -1. */
static double note_at(const char *log, const char *what)
{
	const char *p;

	for (p = log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strlen(p) > 12 && !strncmp(p + 10, "# ", 2) &&
		    !strncmp(p + 12, what, strlen(what)))
			return strtod(p, NULL);
	return -1;
}

static void test_console_read_in_batches(void **state)
{
	struct buf log = BUF_INIT(1 << 20);
	long long fid, bytes = -1, reads = -1, bound;
	const char *note;
	char path[96];
	double on, verdict;
	json_t *a;
	size_t xs = 0, i;

	(void)state;
	fid = harness_flight(&ctl, COMMIT);
	assert_true(fid > 0);
	a = harness_wait_attempt(&ctl, fid, "trickle", 60000);
	assert_non_null(a);
	assert_string_equal(harness_verdict(a), "pass");
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", jint(a, "id", 0));
	assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &log),
			 200);
	json_decref(a);
	/* every byte is there, in its lines */
	for (i = 0; i < log.len; i++)
		xs += log.data[i] == 'x';
	assert_true(xs >= BYTES);
	note = strstr(buf_cstr(&log), "# console: ");
	assert_non_null(note);
	assert_int_equal(sscanf(note, "# console: %lld bytes in %lld reads", &bytes, &reads), 2);
	on = note_at(buf_cstr(&log), "power on");
	verdict = note_at(buf_cstr(&log), "verdict pass");
	assert_true(on >= 0 && verdict > on);
	assert_true(bytes >= BYTES);
	/* one read at once (the quiet console's first bytes), then one per
	 * RUNNER_READ_EVERY_MS at most, and the last */
	bound = (long long)((verdict - on) * 1000) / RUNNER_READ_EVERY_MS + 2;
	print_message("%lld console bytes in %lld reads over %.3f s (at most %lld)\n", bytes, reads,
		      verdict - on, bound);
	assert_true(reads <= bound);
	buf_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_console_read_in_batches),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
