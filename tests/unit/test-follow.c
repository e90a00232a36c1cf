/* cli/cmd-follow: the rows of a flight (newest attempt per job and board, both
 * JSON shapes the controller may send), the progress and closing tables, and
 * the exit status (0 only when every build and job passed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../cli/cli.h"
#include "../../cli/cmd-bisect.h"
#include "../../cli/cmd-flights.h"
#include "json-util.h"

static json_t *J(const char *text)
{
	char err[128];
	json_t *j = json_parse(text, strlen(text), err, sizeof(err));

	if (j == NULL)
		fail_msg("%s", err);
	return j;
}

/* A cell from the controller (a test case's name, a reason, a commit's subject:
 * anyone's text) reaches the terminal without its controls: C0, DEL and C1 as
 * UTF-8 (U+009B CSI, U+009D OSC), while other UTF-8 stays. */
static void test_cell_controls(void **state)
{
	json_t *o =
	    J("{\"s\": \"a\\u001b[2Jb\\u009b2Jc\\u009d52;c;eA==\\u009cd\\u007f\\u00e9\\u00a0\"}");
	char out[64];

	(void)state;
	cli_cell(out, sizeof(out), o, "s");
	assert_string_equal(out, "a?[2Jb?2Jc?52;c;eA==?d?\xc3\xa9\xc2\xa0");
	json_decref(o);
}

/* The same for the bisection's text (a culprit's subject and author are a
 * committer's; the lines stay lines) and every table cell. */
static void test_bisection_controls(void **state)
{
	json_t *b = J("{\"id\": 4, \"state\": \"found\", \"culprit\": {\"commit\": \"c\","
		      " \"subject\": \"s\\u009d52;c;eA==\\u0007x\", \"author\": \"a\\u001b[2J\"},"
		      " \"steps\": [{\"commit\": \"d\", \"subject\": \"t\\u009b2J\"}]}");
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 16);
	bisection_render(&out, b);
	assert_null(strchr(buf_cstr(&out), '\x1b'));
	assert_null(strchr(buf_cstr(&out), '\x07'));
	assert_null(strstr(buf_cstr(&out), "\xc2\x9b"));
	assert_null(strstr(buf_cstr(&out), "\xc2\x9d"));
	assert_non_null(strstr(buf_cstr(&out), "culprit c s?52;c;eA==?x\n          by a?[2J\n"));
	assert_non_null(strstr(buf_cstr(&out), "  t?2J\n"));
	buf_release(&out);
	json_decref(b);
}

/* A bisection with trees pinned (issue 17): the text names the culprit's tree
 * and where the other trees were; when two trees moved, each one's range and
 * the guilty tree. A bisection of one tree alone prints neither. */
static void test_bisection_trees(void **state)
{
	json_t *b = J("{\"id\": 7, \"state\": \"confirmed\", \"tree\": \"linux\","
		      " \"culprit\": {\"tree\": \"linux\", \"commit\": \"c1\", \"subject\": \"s\"},"
		      " \"pins\": {\"xen\": {\"commit\": \"0123456789abcdef\", \"ref\":"
		      " \"refs/heads/xenci-tested\", \"moves\": false},"
		      " \"linux\": {\"commit\": \"c0\", \"moves\": true}}, \"steps\": []}");
	json_t *two = J("{\"id\": 8, \"state\": \"confirmed\", \"tree\": \"linux\","
			" \"guilty_tree\": \"xen\", \"moved\": {\"linux\": {\"good\": \"l0\","
			" \"bad\": \"l1\"}, \"xen\": {\"good\": \"x0\", \"bad\": \"x1\"}}}");
	json_t *one =
	    J("{\"id\": 9, \"state\": \"confirmed\", \"tree\": \"xen\","
	      " \"culprit\": {\"tree\": \"xen\", \"commit\": \"c1\", \"subject\": \"s\"}}");
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 16);
	bisection_render(&out, b);
	assert_non_null(strstr(buf_cstr(&out), "  culprit in tree linux\n  culprit c1 s\n"));
	assert_non_null(
	    strstr(buf_cstr(&out), "  pinned xen=0123456789ab (pinned at xenci-tested)\n"));
	assert_null(strstr(buf_cstr(&out), "guilty"));
	buf_reset(&out);
	bisection_render(&out, two);
	assert_non_null(strstr(buf_cstr(&out), "  moved linux l0..l1\n  moved xen x0..x1\n"));
	assert_non_null(strstr(buf_cstr(&out), "  guilty xen\n"));
	buf_reset(&out);
	bisection_render(&out, one);
	assert_null(strstr(buf_cstr(&out), "in tree"));
	assert_null(strstr(buf_cstr(&out), "pinned"));
	assert_null(strstr(buf_cstr(&out), "moved"));
	buf_release(&out);
	json_decref(b);
	json_decref(two);
	json_decref(one);
}

static void test_rows_and_render(void **state)
{
	json_t *f =
	    J("{\"id\": 5, \"branch\": \"staging\", \"state\": \"running\","
	      " \"revision\": {\"commit\": \"0123456789abcdef\"},"
	      " \"attempts\": ["
	      "  {\"id\": 1, \"kind\": \"build\", \"arch\": \"x86_64\", \"state\": \"pass\","
	      "   \"started_at\": 1764000000000, \"finished_at\": 1764000060000},"
	      "  {\"id\": 2, \"kind\": \"test\", \"job\": \"smoke\", \"board\": \"qemu-x86_64\","
	      "   \"number\": 1, \"state\": \"infra\"},"
	      "  {\"id\": 3, \"kind\": \"test\", \"job\": \"smoke\", \"board\": \"qemu-x86_64\","
	      "   \"number\": 2, \"state\": \"running\", \"stage\": \"dom0-up\","
	      "   \"started_at\": 1764000100},"
	      "  {\"id\": 4, \"kind\": \"test\", \"job\": \"smoke\", \"board\": \"qemu-arm64\","
	      "   \"number\": 1, \"state\": \"pass\","
	      "   \"testcases\": [{\"name\": \"a\", \"result\": \"pass\"},"
	      "                   {\"name\": \"b\", \"result\": \"pass\"}]}]}");
	json_t *rows = flight_job_rows(f);
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(jint(json_array_get(rows, 0), "attempt", 0), 3);
	assert_int_equal(jint(json_array_get(rows, 1), "pass", 0), 2);
	follow_render(&b, f, 1764000165.0, 0, NULL);
	assert_string_equal(
	    buf_cstr(&b),
	    "flight 5  staging 0123456789ab  running\n"
	    "  build x86_64     pass        1:00\n"
	    "  qemu-x86_64          smoke            running   dom0-up          1:05\n"
	    "  qemu-arm64           smoke            pass      -                   -\n");
	assert_false(follow_finished(f));
	/* The retry passes: finished, and all passed. */
	json_object_set_new(json_array_get(json_object_get(f, "attempts"), 2), "state",
			    json_string("pass"));
	assert_true(follow_finished(f));
	assert_int_equal(follow_exit_status(f), 0);
	buf_reset(&b);
	follow_render(&b, f, 1764000165.0, 1, "http://ci");
	assert_non_null(strstr(buf_cstr(&b),
			       "  qemu-arm64           smoke            pass          2     "
			       "0  http://ci/attempts/4\n"));
	/* A failed job makes the exit status 1. */
	json_object_set_new(json_array_get(json_object_get(f, "attempts"), 3), "state",
			    json_string("fail"));
	assert_int_equal(follow_exit_status(f), 1);
	/* A flight of two trees: its tuple under the header. */
	json_object_set_new(
	    f, "tuple",
	    J("{\"linux\": {\"commit\": \"0123456789abcdef\", \"moves\": true},"
	      " \"xen\": {\"commit\": \"fedcba9876543210\", \"ref\": \"refs/heads/master\","
	      " \"moves\": false}}"));
	buf_reset(&b);
	follow_render(&b, f, 1764000165.0, 0, NULL);
	assert_non_null(strstr(buf_cstr(&b), "running\n  trees: linux=0123456789ab (moves), "
					     "xen=fedcba987654 (pinned at master)\n  build"));
	json_decref(rows);
	json_decref(f);
	buf_release(&b);

	/* docs/api.md's shape: jobs with verdicts, builds by arch. */
	f = J("{\"id\": 6, \"state\": \"done\", \"builds\": [{\"attempt\": 1, \"arch\": \"arm64\","
	      " \"state\": \"done\", \"verdict\": \"pass\"}], \"jobs\": [{\"attempt\": 9, \"job\": "
	      "\"smoke\", \"board\": \"b\", \"number\": 1, \"state\": \"done\", \"verdict\": "
	      "\"pass\"}]}");
	assert_true(follow_finished(f));
	assert_int_equal(follow_exit_status(f), 0);
	json_decref(f);
	f = J("{\"id\": 7, \"state\": \"done\", \"jobs\": []}");
	assert_int_equal(follow_exit_status(f), 1); /* nothing ran: not a pass */
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cell_controls),
	    cmocka_unit_test(test_bisection_controls),
	    cmocka_unit_test(test_bisection_trees),
	    cmocka_unit_test(test_rows_and_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
