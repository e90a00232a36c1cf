/* controller/reports.c's rendering: the subject in each case, the three sections,
 * the grid, the machine-readable headers, and what an audience sees of private
 * rows. (The whole path, to a real SMTP server: integration/test-mail-report.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "../../controller/reports.h"

static struct report_row rows[] = {
    {"smoke", "q35", "pass", "pass", 0, NULL, 0, NULL, NULL, NULL, NULL},
    {"boot", "q35", "still-failing", "like 9", 0, NULL, 0, NULL, "its-timeout",
     "ITS command timeout", "https://example.org/issues/7"},
    {"xen-sched/rtds", "virt", "allowed", "allowed", 0, NULL, 0, NULL, NULL, NULL, NULL},
    {"smoke", "virt", "heisenbug", "pass in 14-retest", 0, NULL, 0, NULL, NULL, NULL, NULL},
    {"smoke", "secret", "regression", "REGR. vs. 11", 1, "lab-p", 4, "0123456789abcdef", NULL, NULL,
     NULL},
    {"boot", "other", "pass", "pass", 0, "lab-q", 0, NULL, NULL, NULL, NULL},
};

static const char *const people[] = {"Ann Example <ann@example.org>"};

static struct report report = {
    .tree = "xen",
    .branch = "staging",
    .flight = 12,
    .commit = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2",
    .baseline = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1",
    .gate_ref = "refs/heads/master",
    .gate_action = "advanced",
    .rows = rows,
    .nrows = sizeof(rows) / sizeof(rows[0]),
    .people = people,
    .npeople = 1,
};

static void test_subject(void **state)
{
	char s[200];

	(void)state;
	/* the list does not see lab-p's regression: tolerable, pushed */
	report_subject(s, sizeof(s), &report, NULL);
	assert_string_equal(s, "[staging test] 12: tolerable FAIL - PUSHED");
	/* lab-p does */
	report_subject(s, sizeof(s), &report, "lab-p");
	assert_string_equal(s, "[staging test] 12: regressions - FAIL");
	/* only passes, no gate */
	report.nrows = 1;
	report.gate_action = NULL;
	report_subject(s, sizeof(s), &report, NULL);
	assert_string_equal(s, "[staging test] 12: all pass");
	report.gate_action = "already";
	report_subject(s, sizeof(s), &report, NULL);
	assert_string_equal(s, "[staging test] 12: all pass - PUSHED");
	report.gate_action = "advanced";
	report.nrows = sizeof(rows) / sizeof(rows[0]);
}

static void test_body(void **state)
{
	struct buf b = BUF_INIT(0);
	const char *blocking, *notb, *allow;

	(void)state;
	report_render(&b, &report, NULL);
	assert_null(strstr(b.data, "Regressions which are regarded as blocking"));
	notb = strstr(b.data, "Tests which did not succeed, but are not blocking:\n");
	allow = strstr(b.data, "Tests which did not succeed, but are allowable:\n");
	assert_non_null(notb);
	assert_non_null(allow);
	assert_true(notb < allow);
	assert_non_null(strstr(notb, "boot"));
	assert_non_null(strstr(notb, "like 9\n   known issue its-timeout: ITS command timeout "
				     "https://example.org/issues/7\n"));
	assert_non_null(strstr(notb, "pass in 14-retest"));
	assert_true(strstr(b.data, "xen-sched/rtds") > allow);
	assert_non_null(strstr(b.data, "Results from private boards were omitted"));
	assert_null(strstr(b.data, "secret"));
	assert_null(strstr(b.data, "other"));
	assert_non_null(strstr(b.data, "Ann Example <ann@example.org>"));
	assert_non_null(strstr(b.data, "baseline version:\n xen                  b1b1"));
	/* the grid: a job per line, a class per column, "-" where the job has no row */
	assert_non_null(strstr(b.data, "jobs:"));
	assert_non_null(strstr(b.data, "\n smoke                                    pass        "
				       "     heisenbug\n"));
	assert_non_null(strstr(b.data, "\n xen-sched/rtds                           -           "
				       "     allowed\n"));
	buf_release(&b);

	/* lab-p: its regression blocks; lab-q's row stays out */
	report_render(&b, &report, "lab-p");
	blocking = strstr(b.data, "Regressions which are regarded as blocking:\n");
	assert_non_null(blocking);
	assert_non_null(strstr(blocking, "secret"));
	assert_non_null(
	    strstr(blocking, "REGR. vs. 11\n   bisection 4: culprit 0123456789abcdef\n"));
	assert_null(strstr(b.data, "other"));
	assert_non_null(strstr(b.data, "omitted"));
	buf_release(&b);
}

static void test_headers(void **state)
{
	json_t *h;
	size_t i, failures = 0, known = 0;
	const json_t *p;

	(void)state;
	h = report_headers(&report, NULL);
	json_array_foreach (h, i, p) {
		const char *name = json_string_value(json_array_get(p, 0));
		const char *v = json_string_value(json_array_get(p, 1));

		if (!strcmp(name, "X-Xenci-Failures")) {
			failures++;
			assert_null(strstr(v, "secret"));
			assert_true(!strcmp(v, "staging:boot:q35:still-failing") ||
				    !strcmp(v, "staging:xen-sched/rtds:virt:allowed") ||
				    !strcmp(v, "staging:smoke:virt:heisenbug"));
		} else if (!strcmp(name, "X-Xenci-Known-Issues")) {
			known++;
			assert_string_equal(v, "staging:boot:q35:its-timeout");
		} else if (!strcmp(name, "X-Xenci-Versions-This")) {
			assert_string_equal(v, "xen=c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2");
		} else {
			assert_string_equal(name, "X-Xenci-Versions-That");
			assert_string_equal(v, "xen=b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1");
		}
	}
	assert_int_equal(failures, 3);
	assert_int_equal(known, 1);
	json_decref(h);
	h = report_headers(&report, "lab-p");
	assert_int_equal(json_array_size(h), 4 + 1 + 2);
	json_decref(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_subject),
	    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
