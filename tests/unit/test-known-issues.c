/* controller/known-issues.c without a server: loading a list, the scope (tree,
 * branch, job and class globs), the texts a pattern is tried on (the log's last
 * lines, the reason, failed test cases), the first match in list order, and the
 * bound on what a pathological pattern costs over a log as large as the store
 * keeps (16 MiB: only its tail is read). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../controller/known-issues.h"
#include "../../controller/logs.h"
#include "json-util.h"

static const char list_json[] =
    "[{\"id\": \"its\", \"label\": \"ITS timeout\", \"pattern\": \"^\\\\(XEN\\\\) ITS: "
    "timeout\", \"class\": \"rk*\", \"job\": \"xen-*\", \"blocks\": false},"
    " {\"id\": \"staging-only\", \"label\": \"s\", \"pattern\": \"Assertion\", \"tree\": "
    "\"xen\", \"branch\": \"staging\"},"
    " {\"id\": \"any-assert\", \"label\": \"a\", \"pattern\": \"Assertion '.*' failed\"},"
    " {\"id\": \"tc\", \"label\": \"t\", \"pattern\": \"^guest (create|destroy) x10$\"}]";

static struct known_issues list;

static int setup(void **state)
{
	json_t *j = json_loads(list_json, 0, NULL);
	char err[256];
	int rc;

	(void)state;
	if (!j)
		return -1;
	rc = known_issues_load(&list, j, err, sizeof(err));
	json_decref(j);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	known_issues_release(&list);
	return 0;
}

static int find(const char *tree, const char *branch, const char *job, const char *cls,
		const char *log, const char *reason, const json_t *tcs)
{
	struct known_issue_subject s = {
	    .tree = tree,
	    .branch = branch,
	    .job = job,
	    .board_class = cls,
	    .log = log,
	    .log_len = log ? strlen(log) : 0,
	    .reason = reason,
	    .testcases = tcs,
	};

	return known_issues_find(&list, &s);
}

static void test_load(void **state)
{
	(void)state;
	assert_int_equal(list.n, 4);
	assert_string_equal(list.v[0].id, "its");
	assert_int_equal(list.v[0].blocks, 0);
	assert_int_equal(list.v[1].blocks, 1); /* the default: a label only */
	assert_string_equal(list.v[0].link, "");
	assert_null(list.v[2].tree);
}

static void test_scope_and_texts(void **state)
{
	const char *its = "(XEN) Xen 4.17\n(XEN) ITS: timeout waiting for command 0x3\n";
	const char *as = "(XEN) Assertion 'prv->ncpus' failed at credit2.c:12\n";
	json_t *tcs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "guest create x10", "result",
				"pass", "name", "guest destroy x10", "result", "fail");

	(void)state;
	/* ^ is a line's start; the job and class globs */
	assert_int_equal(find("xen", "staging", "xen-smoke", "rk3399", its, NULL, NULL), 0);
	assert_int_equal(find("xen", "staging", "xen-smoke", "q35", its, NULL, NULL), -1);
	assert_int_equal(find("xen", "staging", "smoke", "rk3399", its, NULL, NULL), -1);
	/* tree and branch: a flight with no branch (a retest) is not staging's */
	assert_int_equal(find("xen", "staging", "smoke", "q35", as, NULL, NULL), 1);
	assert_int_equal(find("xen", NULL, "smoke", "q35", as, NULL, NULL), 2);
	assert_int_equal(find("linux", "staging", "smoke", "q35", as, NULL, NULL), 2);
	/* the reason, and a failed test case (not a passed one) */
	assert_int_equal(find("xen", NULL, "smoke", "q35", "", "Assertion 'x' failed", NULL), 2);
	assert_int_equal(find("xen", NULL, "smoke", "q35", NULL, NULL, tcs), 3);
	json_object_set_new(json_array_get(tcs, 1), "result", json_string("pass"));
	assert_int_equal(find("xen", NULL, "smoke", "q35", NULL, NULL, tcs), -1);
	json_decref(tcs);
}

/* Only the log's last KNOWN_ISSUE_LOG_TAIL bytes are read, from a whole line. */
static void test_tail(void **state)
{
	size_t n = 2 * KNOWN_ISSUE_LOG_TAIL, o = 0;
	char *log = malloc(n + 1);
	const char *line = "(XEN) Assertion 'early' failed\n";

	(void)state;
	assert_non_null(log);
	o += (size_t)snprintf(log, n + 1, "%s", line);
	for (; o < n; o++)
		log[o] = o % 80 ? 'x' : '\n';
	log[n] = '\0';
	assert_int_equal(find("xen", NULL, "smoke", "q35", log, NULL, NULL), -1);
	memcpy(log + n - strlen(line), line, strlen(line));
	assert_int_equal(find("xen", NULL, "smoke", "q35", log, NULL, NULL), 2);
	free(log);
}

/* Patterns that backtrack without end over a log as large as the store keeps: each
 * gives up at PCRE2's bounds or ends on the tail; the time is printed, not asserted
 * (the machine is shared). */
static void test_pathological(void **state)
{
	static const char *const pats[] = {".*.*.*=1", "(a|aa)+b$", "(\\w+\\s?)+!$", "([^x]*)*y",
					   NULL};
	size_t n = (size_t)LOG_MAX, o = 0;
	char *log = malloc(n + 1);
	int line = 0;

	(void)state;
	assert_non_null(log);
	while (o + 100 < n)
		o +=
		    (size_t)snprintf(log + o, n + 1 - o,
				     "(XEN) [%8d] aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
				     line++);
	for (size_t i = 0; pats[i]; i++) {
		json_t *j =
		    json_pack("[{s:s, s:s, s:s}]", "id", "p", "label", "p", "pattern", pats[i]);
		struct known_issues k;
		struct known_issue_subject s = {.job = "smoke", .log = log, .log_len = o};
		struct timespec a, b;
		char err[256];

		assert_int_equal(known_issues_load(&k, j, err, sizeof(err)), 0);
		clock_gettime(CLOCK_MONOTONIC, &a);
		assert_int_equal(known_issues_find(&k, &s), -1);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("known issue %-14s over a %zu-byte log: %.1f ms\n", pats[i], o,
		       (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
		known_issues_release(&k);
		json_decref(j);
	}
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_scope_and_texts),
	    cmocka_unit_test(test_tail),
	    cmocka_unit_test(test_pathological),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
