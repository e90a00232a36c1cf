/* The console judge: stages, timeouts, failure and infra patterns, test cases,
 * whole-line matching, partial lines, cuts, and the log format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json-util.h"
#include "../../lab-agent/judge.h"

static const char job_text[] =
    "{\"name\": \"xen-smoke\", \"timeout\": 600,"
    " \"stages\": ["
    "  {\"name\": \"firmware\", \"pattern\": \"iPXE|U-Boot\", \"timeout\": 60, \"on_timeout\": "
    "\"infra\"},"
    "  {\"name\": \"xen-banner\", \"pattern\": \"Xen version [0-9]\", \"timeout\": 120},"
    "  {\"name\": \"dom0-up\", \"pattern\": \"XENCI-DOM0-UP\", \"timeout\": 300},"
    "  {\"name\": \"tests-done\", \"pattern\": \"^XENCI-TESTS-DONE$\", \"timeout\": 120}],"
    " \"failures\": ["
    "  {\"name\": \"xen-panic\", \"pattern\": \"Panic on CPU\"},"
    "  {\"name\": \"linux-panic\", \"pattern\": \"Kernel panic\"},"
    "  {\"name\": \"linux-oops\", \"pattern\": \"Oops\"}],"
    " \"infra\": [{\"name\": \"no-boot\", \"pattern\": \"No bootable device\"}],"
    " \"testcases\": [\"tap\", \"lava\"]}";

struct fixture {
	struct judge j;
	struct buf log;
};

static void sink(void *arg, const void *p, size_t n)
{
	struct buf *b = arg;

	assert_int_equal(buf_append(b, p, n), 0);
}

static struct fixture *fx_new_job(const char *text, size_t line_max, long long log_max)
{
	struct fixture *f = calloc(1, sizeof(*f));
	json_t *job = json_loads(text, 0, NULL);
	char err[256];

	assert_non_null(job);
	buf_init(&f->log, 0);
	assert_int_equal(judge_init(&f->j, job, line_max, log_max, err, sizeof(err)), 0);
	f->j.log = sink;
	f->j.arg = &f->log;
	json_decref(job);
	judge_start(&f->j, 1000);
	return f;
}

static struct fixture *fx_new(size_t line_max, long long log_max)
{
	return fx_new_job(job_text, line_max, log_max);
}

static void fx_free(struct fixture *f)
{
	judge_release(&f->j);
	buf_release(&f->log);
	free(f);
}

static void feed(struct fixture *f, const char *s, long long t)
{
	judge_feed(&f->j, s, strlen(s), t);
}

static const char *result_of(const struct judge *j, size_t stage)
{
	return stage < j->nstages ? (j->stages[stage].result == STAGE_PASS	? "pass"
				     : j->stages[stage].result == STAGE_TIMEOUT ? "timeout"
				     : j->stages[stage].result == STAGE_FAIL	? "fail"
				     : j->stages[stage].result == STAGE_SKIPPED ? "skipped"
										: "waiting")
				  : "none";
}

static void test_pass(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);
	json_t *res;

	(void)state;
	feed(f, "iPXE 1.21\r\n", 1500);
	feed(f, "(XEN) Xen version 4.17.3 (Debian)\n", 7000);
	feed(f, "ok 1 - hypervisor type is xen\n", 9000);
	feed(f, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=xl-list RESULT=pass>\n", 9100);
	feed(f, "ok 2 - balloon # SKIP no balloon\n", 9200);
	feed(f, "XENCI-DOM0-UP\n", 10000);
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	feed(f, "XENCI-TESTS-DONE\n", 12000);
	assert_int_equal(f->j.verdict, VERDICT_PASS);
	assert_int_equal(f->j.tc_pass, 2);
	assert_int_equal(f->j.tc_skip, 1);
	res = judge_result(&f->j);
	assert_string_equal(jstr(res, "verdict", ""), "pass");
	assert_int_equal(json_array_size(json_object_get(res, "stages")), 4);
	assert_int_equal(json_array_size(json_object_get(res, "testcases")), 3);
	assert_string_equal(jstr(json_array_get(json_object_get(res, "testcases"), 1), "name", ""),
			    "xl-list");
	/* the stage's seconds count from the previous stage: 7.0 - 1.5 s after power-on */
	assert_true(json_real_value(json_object_get(
			json_array_get(json_object_get(res, "stages"), 1), "seconds")) == 5.5);
	json_decref(res);
	/* the log: timestamps from power-on, "|" console lines without "\r\n", "#" notes */
	assert_non_null(strstr(buf_cstr(&f->log), "    0.500 | iPXE 1.21\n"));
	assert_non_null(strstr(buf_cstr(&f->log), "    0.500 # stage firmware reached\n"));
	assert_non_null(strstr(buf_cstr(&f->log), "   11.000 # verdict pass: all stages"));
	assert_null(strchr(buf_cstr(&f->log), '\r'));
	fx_free(f);
}

static void test_failure_pattern_ends_at_once(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);
	json_t *res;

	(void)state;
	feed(f, "U-Boot 2023.01\n(XEN) Xen version 4.17\n", 2000);
	feed(f, "(XEN) ****************************************\n(XEN) Panic on CPU 0:\n", 3000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_non_null(strstr(f->j.reason, "xen-panic"));
	assert_string_equal(result_of(&f->j, 2), "fail");
	assert_string_equal(result_of(&f->j, 3), "skipped");
	/* nothing after the verdict changes it */
	feed(f, "XENCI-DOM0-UP\nXENCI-TESTS-DONE\n", 4000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	res = judge_result(&f->j);
	assert_string_equal(jstr(res, "verdict", ""), "fail");
	json_decref(res);
	fx_free(f);
}

static void test_stage_timeout_and_infra_timeout(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);

	(void)state;
	judge_tick(&f->j, 1000 + 59999);
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	judge_tick(&f->j, 1000 + 60000);
	/* firmware says on_timeout: infra */
	assert_int_equal(f->j.verdict, VERDICT_INFRA);
	assert_string_equal(result_of(&f->j, 0), "timeout");
	fx_free(f);

	f = fx_new(4096, 1 << 20);
	feed(f, "iPXE\n", 2000);
	assert_int_equal(judge_next_deadline_ms(&f->j, 2000) <= 1000, 1);
	judge_tick(&f->j, 2000 + 120000);
	assert_int_equal(f->j.verdict, VERDICT_TIMEOUT);
	assert_non_null(strstr(f->j.reason, "xen-banner timed out after 120 s"));
	assert_non_null(strstr(buf_cstr(&f->log), "# stage xen-banner timed out"));
	fx_free(f);
}

static void test_whole_lines_only(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);

	(void)state;
	/* a partial line is logged at once but not matched until its end */
	feed(f, "iP", 1100);
	feed(f, "XE", 1200);
	assert_string_equal(result_of(&f->j, 0), "waiting");
	assert_non_null(strstr(buf_cstr(&f->log), "    0.100 | iPXE"));
	feed(f, " ready\n", 1300);
	assert_string_equal(result_of(&f->j, 0), "pass");
	/* "Kernel pa" + "nic" split across reads is still one line: fail */
	feed(f, "[  1.0] Kernel pa", 1400);
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	feed(f, "nic - not syncing\n", 1500);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	fx_free(f);
}

static void test_anchored_pattern_and_escapes(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);

	(void)state;
	feed(f, "iPXE\nXen version 4\nXENCI-DOM0-UP\n", 2000);
	/* ^XENCI-TESTS-DONE$ must not match inside another line */
	feed(f, "echo XENCI-TESTS-DONE > /dev/null\n", 3000);
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	/* ANSI colours and a CR are removed before matching */
	feed(f, "\x1b[1;32mXENCI-TESTS-DONE\x1b[0m\r\n", 4000);
	assert_int_equal(f->j.verdict, VERDICT_PASS);
	fx_free(f);
}

static void test_failed_testcase_fails(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);

	(void)state;
	feed(f, "iPXE\nXen version 4\nXENCI-DOM0-UP\n", 2000);
	feed(f, "not ok 3 - xl create works\n", 2500);
	feed(f, "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=net RESULT=fail>\n", 2600);
	feed(f, "XENCI-TESTS-DONE\n", 3000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_non_null(strstr(f->j.reason, "xl create works"));
	assert_int_equal(f->j.tc_fail, 2);
	fx_free(f);
}

static void test_infra_pattern(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);

	(void)state;
	feed(f, "No bootable device.\n", 2000);
	assert_int_equal(f->j.verdict, VERDICT_INFRA);
	fx_free(f);
}

static void test_long_line_cut(void **state)
{
	struct fixture *f = fx_new(100, 1 << 20);
	char big[1000];

	(void)state;
	memset(big, 'x', sizeof(big));
	judge_feed(&f->j, big, sizeof(big), 1500);
	feed(f, " Kernel panic\n", 1600); /* past the cut: not seen */
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	assert_non_null(strstr(buf_cstr(&f->log),
			       "log cut: console line longer than 100 bytes, 913 bytes dropped"));
	feed(f, "iPXE\n", 1700);
	assert_string_equal(result_of(&f->j, 0), "pass");
	fx_free(f);
}

static void test_log_bound(void **state)
{
	struct fixture *f = fx_new(4096, 16384);
	char line[101];
	int i;

	(void)state;
	memset(line, 'y', 100);
	line[100] = '\n';
	for (i = 0; i < 1000; i++)
		judge_feed(&f->j, line, sizeof(line), 1000 + i);
	assert_true(f->log.len <= 16384);
	assert_int_equal(f->j.log_cut, 1);
	assert_non_null(strstr(buf_cstr(&f->log), "log cut: console log reached"));
	/* the judge still sees lines after the cut */
	feed(f, "Oops: 0000 [#1]\n", 5000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_non_null(strstr(buf_cstr(&f->log), "verdict fail"));
	assert_true(f->log.len <= 16384);
	fx_free(f);
}

static void test_binary_and_empty_lines(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);
	static const char bin[] = "\x00\x01\xff\xfe iPXE\x00\n\n";

	(void)state;
	judge_feed(&f->j, bin, sizeof(bin) - 1, 1200);
	assert_string_equal(result_of(&f->j, 0), "pass");
	/* the log has the raw bytes, and the empty line too */
	assert_int_equal(memcmp(f->log.data, "    0.200 | \x00\x01\xff\xfe iPXE\x00\n", 22), 0);
	assert_non_null(strstr(f->log.data + 22, "    0.200 | \n"));
	fx_free(f);
}

static void test_external_end_and_attempt_timeout(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);
	json_t *res;

	(void)state;
	judge_end(&f->j, 1500, VERDICT_INFRA, "power on: exited with 3");
	assert_int_equal(f->j.verdict, VERDICT_INFRA);
	res = judge_result(&f->j);
	assert_string_equal(jstr(res, "reason", ""), "power on: exited with 3");
	assert_string_equal(jstr(json_array_get(json_object_get(res, "stages"), 0), "result", ""),
			    "fail");
	json_decref(res);
	fx_free(f);

	f = fx_new(4096, 1 << 20);
	f->j.stages[0].timeout_s = 100000;
	judge_tick(&f->j, 1000 + 600000);
	assert_int_equal(f->j.verdict, VERDICT_TIMEOUT);
	assert_non_null(strstr(f->j.reason, "attempt timed out"));
	fx_free(f);
}

static void test_testcase_parser(void **state)
{
	char name[128];
	const char *r = NULL;

	(void)state;
	assert_int_equal(judge_parse_testcase("ok 1 - a b", 1, 0, name, sizeof(name), &r), 1);
	assert_string_equal(name, "a b");
	assert_string_equal(r, "pass");
	assert_int_equal(
	    judge_parse_testcase("not ok 12 x # TODO later", 1, 0, name, sizeof(name), &r), 1);
	assert_string_equal(name, "x");
	assert_string_equal(r, "skip");
	assert_int_equal(judge_parse_testcase("ok 3", 1, 0, name, sizeof(name), &r), 1);
	assert_string_equal(name, "unnamed");
	assert_int_equal(judge_parse_testcase("okay 1 - no", 1, 0, name, sizeof(name), &r), 0);
	/* TAP: a test line need not have a number ("ok x - no" is test "x - no"); it
	 * must start the line (an indented one belongs to a subtest) */
	assert_int_equal(judge_parse_testcase("ok x - no", 1, 0, name, sizeof(name), &r), 1);
	assert_string_equal(name, "x - no");
	assert_int_equal(judge_parse_testcase("    ok 1 - sub", 1, 0, name, sizeof(name), &r), 0);
	assert_int_equal(judge_parse_testcase("ok 1 - tap off", 0, 1, name, sizeof(name), &r), 0);
	assert_int_equal(judge_parse_testcase("[ 3.1] <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=t1 "
					      "RESULT=skip>",
					      0, 1, name, sizeof(name), &r),
			 1);
	assert_string_equal(name, "t1");
	assert_string_equal(r, "skip");
	assert_int_equal(judge_parse_testcase("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=t1 RESULT=maybe>",
					      0, 1, name, sizeof(name), &r),
			 0);
	assert_int_equal(judge_parse_testcase("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=t1", 0, 1, name,
					      sizeof(name), &r),
			 0);
}

static void test_bad_pattern(void **state)
{
	struct judge j;
	json_t *job = json_pack("{s:[{s:s, s:s}]}", "stages", "name", "s1", "pattern", "([a");
	char err[256];

	(void)state;
	assert_int_equal(judge_init(&j, job, 0, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "s1"));
	judge_release(&j);
	json_decref(job);
}

/* Patterns are PCRE2, as LAVA and labgrid users write them (issue 14, input 7:
 * under POSIX ERE "\d" was the letter d and a Xen panic ended as timeout). */
static void test_pcre2_patterns(void **state)
{
	struct fixture *f = fx_new_job(
	    "{\"stages\": [{\"name\": \"banner\", \"pattern\": "
	    "\"(?i)xen\\\\s+version\\\\s\\\\d+\\\\.\\\\d+\","
	    " \"timeout\": 60}, {\"name\": \"done\", \"pattern\": \"^DONE$\", \"timeout\": 60}],"
	    " \"failures\": [{\"name\": \"xen-panic\", \"pattern\": \"\\\\(XEN\\\\) Panic on CPU "
	    "\\\\d+:\"},"
	    " {\"name\": \"lazy\", \"pattern\": \"<<.*?>>(?=!)\"}]}",
	    4096, 1 << 20);

	(void)state;
	feed(f, "(XEN) XEN  Version 4.17.3\n", 1500);
	assert_string_equal(result_of(&f->j, 0), "pass");
	feed(f, "<<a>> <<b>>?\n", 1600);
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	feed(f, "(XEN) Panic on CPU d:\n", 1700); /* the letter d is not a digit */
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	feed(f, "(XEN) Panic on CPU 12:\n", 1800);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_non_null(strstr(f->j.reason, "xen-panic"));
	fx_free(f);
}

/* A catastrophic pattern on a long line gives up at its bound (docs/security.md)
 * instead of stalling the agent; the log says so and later lines are judged. */
static void test_pattern_match_bound(void **state)
{
	struct fixture *f = fx_new_job(
	    "{\"stages\": [{\"name\": \"done\", \"pattern\": \"^DONE$\", \"timeout\": 60}],"
	    " \"failures\": [{\"name\": \"evil\", \"pattern\": \"^(a|aa)+$\"}]}",
	    4096, 1 << 20);
	char line[4002];

	(void)state;
	memset(line, 'a', 4000);
	line[4000] = 'b';
	line[4001] = '\n';
	judge_feed(&f->j, line, sizeof(line), 1500);
	assert_int_equal(f->j.verdict, VERDICT_NONE);
	assert_non_null(
	    strstr(buf_cstr(&f->log), "pattern evil gave up on a line (its match limit)"));
	feed(f, "DONE\n", 1600);
	assert_int_equal(f->j.verdict, VERDICT_PASS);
	fx_free(f);
}

/* Issue 14, input 3: an init system's OSC 3008 context markers and a terminal
 * title in front of two "not ok" lines; the failures must be seen, also when
 * every byte comes in its own read. */
static void test_console_as_terminal(void **state)
{
	static const char console[] =
	    "iPXE\r\nXen version 4\r\nXENCI-DOM0-UP\r\n"
	    "\x1b]3008;start=6b1c;user=root;hostname=dom0;type=service;unit=xenci.service\x1b\\"
	    "\x1b]0;root@dom0:~\x07not ok 1 - xenstore read\r\n"
	    "\x1b[1;31mnot ok 2 - xl list\x1b[0m\r\n"
	    "\x1b]3008;end=6b1c;exit=failure\x1b\\XENCI-TESTS-DONE\r\n";
	struct fixture *f = fx_new(4096, 1 << 20);
	size_t i;

	(void)state;
	feed(f, console, 2000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_int_equal(f->j.tc_fail, 2);
	assert_non_null(strstr(f->j.reason, "xenstore read"));
	/* the raw log keeps what the board wrote */
	assert_non_null(strstr(buf_cstr(&f->log), "\x1b]0;root@dom0:~\x07not ok 1"));
	fx_free(f);

	f = fx_new(4096, 1 << 20);
	for (i = 0; i < sizeof(console) - 1; i++)
		judge_feed(&f->j, console + i, 1, 2000 + (long long)i);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_int_equal(f->j.tc_fail, 2);
	fx_free(f);
}

/* "\r" as a terminal: a progress row overwritten by the result; invalid UTF-8
 * hides nothing after it; a stray ESC or unterminated OSC hides at most the rest
 * of its own line. */
static void test_console_rows(void **state)
{
	struct fixture *f = fx_new(4096, 1 << 20);
	json_t *res;

	(void)state;
	feed(f, "iPXE\nXen version 4\nXENCI-DOM0-UP\n", 2000);
	feed(f, "running 1/2 ...\r\x1b[Kok 1 - boots\r\n", 2100);
	feed(f, "pending\rok 2 - net\n", 2200);
	/* a progress line far longer than line_max (4096), then the result */
	for (int k = 0; k < 2000; k++)
		feed(f, "\rloading module 1234 of 5678", 2210);
	feed(f, "\r\x1b[2Kok 3 - modules\n", 2220);
	feed(f, "junk \xe2\x82\n\xf0\xff\n", 2250);
	feed(f, "not ok 3 - \xff\xfename\n", 2300);
	feed(f, "half \x1b]0;title never ended\nnot ok 4 - after\n", 2400);
	feed(f, "XENCI-TESTS-DONE\n", 2500);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_int_equal(f->j.tc_pass, 3);
	assert_int_equal(f->j.tc_fail, 2);
	res = judge_result(&f->j);
	assert_string_equal(jstr(json_array_get(json_object_get(res, "testcases"), 0), "name", ""),
			    "boots");
	assert_string_equal(jstr(json_array_get(json_object_get(res, "testcases"), 2), "name", ""),
			    "modules");
	assert_string_equal(jstr(json_array_get(json_object_get(res, "testcases"), 3), "name", ""),
			    "\xef\xbf\xbd\xef\xbf\xbdname");
	json_decref(res);
	fx_free(f);
}

/* A TAP job: one stage after the tests, optional expected test cases. */
static struct fixture *fx_tap(const char *expected)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"stages\": [{\"name\": \"done\", \"pattern\": \"^DONE$\", \"timeout\": 60}],"
		 " \"testcases\": [\"tap\", \"lava\"]%s%s}",
		 expected ? ", \"expected\": " : "", expected ? expected : "");
	return fx_new_job(text, 4096, 1 << 20);
}

/* Feeds the lines and DONE; returns the verdict and the test case results in
 * order ("pass fail skip ..."). */
static enum verdict tap_run(const char *expected, const char *console, char *results, size_t len)
{
	struct fixture *f = fx_tap(expected);
	enum verdict v;
	const json_t *tc;
	size_t i, o = 0;

	feed(f, console, 2000);
	feed(f, "DONE\n", 3000);
	v = f->j.verdict;
	results[0] = '\0';
	json_array_foreach (f->j.testcases, i, tc)
		o += (size_t)snprintf(results + o, len - o, "%s%s=%s", o ? " " : "",
				      jstr(tc, "name", ""), jstr(tc, "result", ""));
	fx_free(f);
	return v;
}

/* Feeds console (which says DONE) to a TAP job: the verdict is fail, for reason. */
static void tap_fails_with(const char *console, const char *reason)
{
	struct fixture *f = fx_tap(NULL);

	feed(f, console, 2000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	if (strstr(f->j.reason, reason) == NULL)
		fail_msg("reason \"%s\", want \"%s\"", f->j.reason, reason);
	fx_free(f);
}

/* Issue 14, input 4 and the rest of TAP 13/14's rules. */
static void test_tap_rules(void **state)
{
	char r[1024];
	struct fixture *f;

	(void)state;
	/* Bail out! fails at once; the planned tests not run are missing, failed */
	f = fx_tap(NULL);
	feed(f, "TAP version 14\n1..5\nok 1 - a\nok 2 - b\nBail out! xenstored did not start\n",
	     2000);
	assert_int_equal(f->j.verdict, VERDICT_FAIL);
	assert_non_null(strstr(f->j.reason, "bail out: xenstored did not start"));
	assert_int_equal(f->j.tc_fail, 3);
	assert_string_equal(jstr(json_array_get(f->j.testcases, 4), "name", ""),
			    "test 5 (missing)");
	fx_free(f);
	/* a plan the results do not match: missing numbers fail */
	assert_int_equal(tap_run(NULL, "1..4\nok 1 - a\nok 3 - c\n", r, sizeof(r)), VERDICT_FAIL);
	assert_string_equal(r, "a=pass c=pass test 2 (missing)=fail test 4 (missing)=fail");
	/* the plan at the end; test lines without numbers are counted */
	assert_int_equal(tap_run(NULL, "ok - a\nok\nnot ok 3 # TODO later\n1..3\n", r, sizeof(r)),
			 VERDICT_PASS);
	assert_string_equal(r, "a=pass unnamed=pass unnamed=skip");
	/* TODO and SKIP: "not ok # TODO" is no failure, "ok # TODO" a pass (a bonus),
	 * "ok # SKIP" a skip, "not ok # SKIP" a failure; "\#" is not a directive */
	assert_int_equal(tap_run(NULL,
				 "1..4\nnot ok 1 - a # todo bend time\nok 2 b # TODO\n"
				 "ok 3 - c # skipped: no net\nok 4 - issue \\#12 fixed\n",
				 r, sizeof(r)),
			 VERDICT_PASS);
	assert_string_equal(r, "a=skip b=pass c=skip issue #12 fixed=pass");
	assert_int_equal(tap_run(NULL, "1..1\nnot ok 1 - a # SKIP why\n", r, sizeof(r)),
			 VERDICT_FAIL);
	/* 1..0 # skip: nothing planned, nothing missing */
	assert_int_equal(tap_run(NULL, "1..0 # skip no translator\n", r, sizeof(r)), VERDICT_PASS);
	/* errors: a second plan, a duplicate, out of sequence, past the plan, after a
	 * trailing plan */
	tap_fails_with("1..2\nok 1\nok 2\n1..2\nDONE\n", "TAP: a second plan 1..2");
	tap_fails_with("1..2\nok 1\nok 1\nok 2\nDONE\n", "TAP: test 1 is reported twice");
	tap_fails_with("ok 2\nok 1\n1..2\nDONE\n", "TAP: test 2 is out of sequence (expected 1)");
	tap_fails_with("1..1\nok 1\nok 2\nDONE\n", "TAP: test 2 is out of the plan 1..1");
	tap_fails_with("ok 1\n1..1\nok 2\nDONE\n", "TAP: test 2 after the trailing plan 1..1");
	/* indented lines are a subtest's (its parent's line counts); YAML blocks and
	 * comments are no test lines */
	assert_int_equal(tap_run(NULL,
				 "1..1\n# Subtest: s\n    1..1\n    not ok 1 - inner\n"
				 "not ok 1 - s\n  ---\n  message: x\n  ...\n",
				 r, sizeof(r)),
			 VERDICT_FAIL);
	assert_string_equal(r, "s=fail");
}

/* The job's expected test cases (LAVA's expected:): one not reported fails. */
static void test_expected_testcases(void **state)
{
	char r[1024];

	(void)state;
	assert_int_equal(
	    tap_run("[\"a\", \"net\"]",
		    "1..1\nok 1 - a\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=net RESULT=pass>\n", r,
		    sizeof(r)),
	    VERDICT_PASS);
	assert_int_equal(
	    tap_run("[\"a\", \"b\", \"c\"]", "1..2\nok 1 - a\nok 2 - c\n", r, sizeof(r)),
	    VERDICT_FAIL);
	assert_string_equal(r, "a=pass c=pass b=fail");
}

/* A commissioning job's facts: the first line a fact's pattern matches gives
 * its value (value, the first group, a number when digits), a default fills
 * what nothing matched, and a fact left without a value fails the examine. */
static const char job_facts[] =
    "{\"stages\": [{\"name\": \"up\", \"pattern\": \"DOM0-UP\", \"timeout\": 10}],"
    " \"facts\": [{\"name\": \"cpus\", \"pattern\": \"Brought up ([0-9]+) CPUs\"},"
    "  {\"name\": \"iommu\", \"pattern\": \"I/O virtualisation enabled\", \"value\": true},"
    "  {\"name\": \"iommu\", \"pattern\": \"I/O virtualisation disabled\", \"value\": false},"
    "  {\"name\": \"virt\", \"pattern\": \"HVM: (VMX|SVM) enabled\"},"
    "  {\"name\": \"virt\", \"pattern\": \"Exception Levels: .*(EL2):64\", \"default\": \"none\"},"
    "  {\"name\": \"memory\", \"pattern\": \"System RAM: ([0-9]+MB)\"}]}";

static void test_facts(void **state)
{
	struct fixture *f = fx_new_job(job_facts, 0, 0);
	json_t *res, *facts;

	(void)state;
	feed(f, "(XEN) Brought up 4 CPUs\r\n(XEN) Brought up 9 CPUs\r\n", 1100);
	feed(f, "(XEN) I/O virtualisation disabled\r\n(XEN) System RAM: 1023MB (1048056kB)\n",
	     1200);
	feed(f, "XENCI-DOM0-UP\n", 1300);
	res = judge_result(&f->j);
	assert_string_equal(jstr(res, "verdict", ""), "pass");
	facts = json_object_get(res, "facts");
	assert_int_equal(jint(facts, "cpus", 0), 4); /* the first line that said it */
	assert_true(json_is_false(json_object_get(facts, "iommu")));
	assert_string_equal(jstr(facts, "virt", ""), "none");
	assert_string_equal(jstr(facts, "memory", ""), "1023MB");
	assert_non_null(strstr(buf_cstr(&f->log), "# fact cpus: 4\n"));
	json_decref(res);
	fx_free(f);

	/* no line gave the memory: the examine fails and says which */
	f = fx_new_job(job_facts, 0, 0);
	feed(f, "(XEN) Brought up 1 CPUs\n(XEN) HVM: SVM enabled\n", 1100);
	feed(f, "(XEN) I/O virtualisation enabled\nXENCI-DOM0-UP\n", 1200);
	res = judge_result(&f->j);
	assert_string_equal(jstr(res, "verdict", ""), "fail");
	assert_non_null(strstr(jstr(res, "reason", ""), "fact memory"));
	facts = json_object_get(res, "facts");
	assert_true(json_is_true(json_object_get(facts, "iommu")));
	assert_string_equal(jstr(facts, "virt", ""), "SVM");
	json_decref(res);
	fx_free(f);

	/* a job without facts reports none */
	f = fx_new(0, 0);
	res = judge_result(&f->j);
	assert_null(json_object_get(res, "facts"));
	json_decref(res);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pass),
	    cmocka_unit_test(test_failure_pattern_ends_at_once),
	    cmocka_unit_test(test_stage_timeout_and_infra_timeout),
	    cmocka_unit_test(test_whole_lines_only),
	    cmocka_unit_test(test_anchored_pattern_and_escapes),
	    cmocka_unit_test(test_failed_testcase_fails),
	    cmocka_unit_test(test_infra_pattern),
	    cmocka_unit_test(test_long_line_cut),
	    cmocka_unit_test(test_log_bound),
	    cmocka_unit_test(test_binary_and_empty_lines),
	    cmocka_unit_test(test_external_end_and_attempt_timeout),
	    cmocka_unit_test(test_testcase_parser),
	    cmocka_unit_test(test_bad_pattern),
	    cmocka_unit_test(test_pcre2_patterns),
	    cmocka_unit_test(test_facts),
	    cmocka_unit_test(test_pattern_match_bound),
	    cmocka_unit_test(test_console_as_terminal),
	    cmocka_unit_test(test_console_rows),
	    cmocka_unit_test(test_tap_rules),
	    cmocka_unit_test(test_expected_testcases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
