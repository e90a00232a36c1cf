/* The status page's renderers: escaping of hostile input, console log rendering
 * (format, ANSI, control bytes, invalid UTF-8) and every page from its twin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "../../controller/page.h"
#include "../../controller/twins.h"

#define XSS "<script>alert(1)</script>"

/* No tag in out may be a script, an event handler or an iframe: all that a
 * hostile string can do is be shown. */
static void assert_inert(const char *html)
{
	const char ours[] = "<script src=\"/static/xenci.js\" defer>";
	const char *p;

	for (p = strstr(html, "<script"); p; p = strstr(p + 1, "<script"))
		assert_true(!strncmp(p, ours, sizeof(ours) - 1));
	assert_null(strstr(html, "onerror="));
	assert_null(strstr(html, "<iframe"));
	assert_null(strstr(html, "<img src=x"));
}

static char *console(const char *log, size_t len, int final)
{
	struct buf b = BUF_INIT(0);
	size_t used = 0;

	assert_int_equal(console_render(&b, log, len, 0, final, &used), 0);
	return buf_detach(&b, NULL);
}

static void test_escape(void **state)
{
	struct buf b = BUF_INIT(0);
	struct html h;

	(void)state;
	html_init(&h, &b);
	html_text(&h, "a<b>&\"'" XSS);
	assert_string_equal(buf_cstr(&b), "a&lt;b&gt;&amp;&quot;&#39;&lt;script&gt;alert(1)&lt;/"
					  "script&gt;");
	buf_reset(&b);
	html_textn(&h, "x\0y\x1b[31m\xff\xc0\xaf\xe2\x80\xae.", 15);
	/* NUL and ESC as control pictures, invalid bytes and overlongs as U+FFFD,
	 * the right-to-left override neutralised. */
	assert_string_equal(buf_cstr(&b), "x\xe2\x90\x80y\xe2\x90\x9b[31m\xef\xbf\xbd\xef\xbf\xbd"
					  "\xef\xbf\xbd\xef\xbf\xbd.");
	buf_reset(&b);
	html_urlseg(&h, "a b/\"<>x");
	assert_string_equal(buf_cstr(&b), "a%20b%2F%22%3C%3Ex");
	assert_int_equal(h.err, 0);
	buf_release(&b);
}

static void test_bounded(void **state)
{
	struct buf b = BUF_INIT(16);
	struct html h;

	(void)state;
	html_init(&h, &b);
	html_text(&h, "0123456789");
	html_text(&h, "0123456789");
	assert_int_equal(h.err, -ENOSPC);
	html_text(&h, "x"); /* sticky: no effect after the error */
	assert_string_equal(buf_cstr(&b), "0123456789");
	buf_release(&b);
}

static void test_console_format(void **state)
{
	const char log[] = "    1.250 # power on\n"
			   "    2.000 | Xen 4.17 \x1b[1;31mred bold\x1b[0m plain\r\n"
			   "    3.000 # stage xen-banner reached\n"
			   "    4.000 | (XEN) Panic on CPU 0:\n"
			   "    4.100 # failure xen-panic: Panic on CPU 0\n"
			   "    5.000 # testcase boots pass\n"
			   "garbage line\n"
			   "    6.000 | partial";
	char *out = console(log, sizeof(log) - 1, 0);

	(void)state;
	assert_non_null(strstr(out, "<div class=\"l n\" id=\"o0\"><a class=\"t\" href=\"#o0\">1.250"
				    "</a><span class=\"x\">power on</span></div>"));
	assert_non_null(strstr(out, "Xen 4.17 <span class=\"sgr b fg1\">red bold</span> plain"
				    "</span></div>"));
	assert_null(strstr(out, "\x1b"));
	assert_null(strstr(out, "\r"));
	assert_non_null(strstr(out, "class=\"l n stage\""));
	assert_non_null(strstr(out, "class=\"l c fail\""));
	assert_non_null(strstr(out, "class=\"l n fail\""));
	assert_non_null(strstr(out, "<b class=\"mark\">FAIL</b>"));
	assert_non_null(strstr(out, "class=\"l n tc-pass\""));
	assert_non_null(strstr(out, "garbage line"));
	assert_null(strstr(out, "partial")); /* not final: the partial line waits */
	free(out);
	out = console(log, sizeof(log) - 1, 1);
	assert_non_null(strstr(out, "partial"));
	free(out);
}

static void test_console_hostile(void **state)
{
	const char log[] =
	    "    1.000 | " XSS "\x1b[2J\x1b]0;title\x07\x1b[31;<m\n"
	    "    2.000 | nul\0byte \xff\xfe \xe2\x80\xae evil \xc2\x9b\x1b[38;5;200mx\n"
	    "    3.000 | \x1b[999999999999999999999;31mbig\n"
	    "    4.000 # " XSS "\n";
	char *out = console(log, sizeof(log) - 1, 1);

	(void)state;
	assert_inert(out);
	assert_non_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	/* Non-SGR sequences: an inert ESC, the rest as text. */
	assert_non_null(strstr(out, "<span class=\"ctl\">^[</span>[2J"));
	assert_non_null(strstr(out, "title<span class=\"ctl\">^G^[</span>[31;"));
	assert_non_null(strstr(out, "[31;&lt;m"));
	assert_non_null(strstr(out, "nul<span class=\"ctl\">^@</span>byte"));
	assert_non_null(strstr(out, "\xef\xbf\xbd\xef\xbf\xbd"));
	assert_non_null(strstr(out, "&lt;U+202E&gt;"));
	assert_non_null(strstr(out, "&lt;U+009B&gt;"));
	assert_null(strstr(out, "\xe2\x80\xae"));
	assert_null(strstr(out, "\x1b"));
	assert_null(memchr(out, 0x07, strlen(out)));
	assert_non_null(strstr(out, "<span class=\"sgr fg1\">big</span>"));
	free(out);
}

static void test_console_resume(void **state)
{
	const char log[] = "    1.000 | one\n    2.000 | two\n    3.000 | thr";
	struct buf b = BUF_INIT(0);
	size_t used = 0;

	(void)state;
	assert_int_equal(console_render(&b, log, sizeof(log) - 1, 0, 0, &used), 0);
	assert_int_equal(used, 32);
	buf_reset(&b);
	/* Resuming at byte 16 gives the ids of the whole log's offsets. */
	assert_int_equal(console_render(&b, log + 16, sizeof(log) - 1 - 16, 16, 1, &used), 0);
	assert_non_null(strstr(buf_cstr(&b), "id=\"o16\""));
	assert_non_null(strstr(buf_cstr(&b), "id=\"o32\""));
	assert_int_equal(used, sizeof(log) - 1 - 16);
	buf_release(&b);
}

static json_t *twin(const char *text)
{
	char err[256];
	json_t *j = json_parse(text, strlen(text), err, sizeof(err));

	if (!j)
		fail_msg("bad twin: %s", err);
	return j;
}

static void test_pages(void **state)
{
	/* the overview's twin in C (twins.h), with markup where the store gives text */
	char bname[] = "qemu \"x\"<script>alert(1)</script>", agent[] = "lab<a>", arch[] = "x86_64",
	     bstate[] = "busy", ref[] = "refs/heads/master", commit[] = "0123456789abcdef",
	     subject[] = "x86: <script>alert(1)</script>", verdict[] = "fail";
	struct db_board_row brow = {bname, agent, arch, bstate, 7, {0, 0}};
	struct twin_usage busy = {2, 400, 1500, 0.25};
	size_t lab_boards[] = {0};
	struct twin_lab lab = {agent, 990000, lab_boards, 1, {0, TWIN_NO_WAIT, TWIN_NO_WAIT, 0}};
	struct db_flight_row frow = {.id = 3,
				     .created = 900000,
				     .ref = ref,
				     .commit = commit,
				     .subject = subject,
				     .verdict = verdict};
	struct twin_overview ov = {
	    .now = 1000000,
	    .queue_depth = 4,
	    .boards = &brow,
	    .board_usage = &busy,
	    .nboards = 1,
	    .labs = &lab,
	    .nlabs = 1,
	    .flights = &frow,
	    .nflights = 1,
	    .running = twin("[{\"id\": 7, \"job\": \"smoke\", \"board\": \"b1\", \"flight\": 3, "
			    "\"started_at\": 875000}]"),
	    .bisections = json_array(),
	};
	json_t *br =
	    twin("{\"name\": \"ma<i>n\", \"tree\": \"xen\", \"columns\": [{\"key\": \"b1\"}, "
		 "{\"key\": \"b2\"}], \"rows\": [{\"commit\": \"abc\", \"subject\": "
		 "\"<script>alert(1)</script>\", \"author\": \"A <a@x>\", \"flight\": 3, "
		 "\"cells\": null}]}");
	/* b1's cell as gathered second, b2 none */
	struct twin_cell cells[2] = {{.total = 0}, {.total = 1, .verdict = "pass", .attempt = 7}},
			 *rows[1] = {cells};
	size_t rown[1] = {2}, col[2] = {1, 2};
	struct twin_matrix mat = {
	    .twin = br, .nrows = 1, .ncols = 2, .rows = rows, .rown = rown, .col = col};
	json_t *at = twin(
	    "{\"id\": 9, \"kind\": \"test\", \"job\": \"smoke\", \"board\": \"b1\", \"flight\": 3, "
	    "\"state\": \"running\", \"stage\": \"dom0\", \"started_at\": 100000, \"reason\": "
	    "\"<script>alert(1)</script>\", \"commit\": \"abc\", \"testcases\": [{\"name\": "
	    "\"<script>alert(1)</script>\", \"result\": \"fail\"}]}");
	json_t *bd = twin("{\"name\": \"b1\", \"agent\": \"lab\", \"arch\": \"arm64\", \"tags\": "
			  "[\"<script>alert(1)</script>\"], \"description\": "
			  "\"<script>alert(1)</script>\", \"healthy\": 0, \"infra_streak\": 2, "
			  "\"attempts\": [{\"id\": 9, \"job\": \"smoke\", \"state\": \"infra\"}]}");
	json_t *bi = twin(
	    "{\"id\": 4, \"job\": \"smoke\", \"class\": \"c\", \"state\": \"found\", \"good\": "
	    "\"aaa\", \"bad\": \"bbb\", \"culprit\": {\"commit\": \"ccc\", \"subject\": "
	    "\"<script>alert(1)</script>\"}, \"evidence\": \"<script>alert(1)</script>\", "
	    "\"steps\": [{\"commit\": \"ccc\", \"result\": \"bad\", \"remaining\": 0, \"runs\": "
	    "[{\"attempt\": 9, \"verdict\": \"fail\"}]}]}");
	json_t *fl =
	    twin("{\"id\": 3, \"kind\": \"push\", \"ref\": \"refs/heads/master\", \"commit\": "
		 "\"abc\", \"subject\": \"<script>alert(1)</script>\", \"state\": \"done\", "
		 "\"counts\": {\"pass\": 1, \"fail\": 1}, \"builds\": [{\"id\": 1, \"arch\": "
		 "\"x86_64\", \"state\": \"pass\"}], \"attempts\": [{\"id\": 1, \"kind\": "
		 "\"build\", \"arch\": \"x86_64\", \"state\": \"pass\"}, {\"id\": 9, \"kind\": "
		 "\"test\", \"job\": \"<script>alert(1)</script>\", \"board\": \"b1\", \"state\": "
		 "\"fail\", \"testcases\": [{\"name\": \"t1\", \"result\": \"pass\"}]}]}");
	const char log[] = "    1.000 | hello " XSS "\n    2.000 | half";
	struct buf b = BUF_INIT(PAGE_MAX);

	(void)state;
	frow.counts[2] = 2; /* db_flight_count_names: pass */
	frow.counts[3] = 1; /* fail */
	assert_int_equal(page_overview_render(&b, &ov), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "<title>Overview · xenci</title>"));
	assert_non_null(strstr(buf_cstr(&b), "href=\"/boards/qemu%20%22x%22%3Cscript%3E"));
	assert_non_null(strstr(buf_cstr(&b), "<span class=\"v v-busy\">busy</span>"));
	assert_non_null(strstr(buf_cstr(&b), "2m 05s")); /* elapsed of attempt 7 */
	assert_non_null(strstr(buf_cstr(&b), "2 pass"));
	assert_non_null(strstr(buf_cstr(&b), "1 fail"));
	assert_non_null(strstr(buf_cstr(&b), "<span class=\"v v-fail\">fail</span>"));
	assert_non_null(
	    strstr(buf_cstr(&b), "busy 25 % of 24 h · queue wait (2 claims) p50 400 ms, p90 1s"));
	assert_non_null(strstr(buf_cstr(&b), "seen 10s ago"));
	json_decref(ov.running);
	json_decref(ov.bisections);
	buf_reset(&b);
	assert_int_equal(page_branch_render(&b, &mat), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "<title>ma&lt;i&gt;n · xenci</title>"));
	assert_non_null(strstr(buf_cstr(&b), "/badge/ma%3Ci%3En.svg"));
	assert_non_null(strstr(buf_cstr(&b), "<a href=\"/attempts/7\"><span class=\"v v-pass\">"));
	assert_non_null(strstr(buf_cstr(&b), "not run"));
	buf_reset(&b);
	assert_int_equal(page_attempt_render(&b, at, log, sizeof(log) - 1), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "data-stream=\"/attempts/9/tail?from=44\""));
	assert_non_null(strstr(buf_cstr(&b), "hello &lt;script&gt;"));
	assert_null(strstr(buf_cstr(&b), "half")); /* running: the tail brings it */
	assert_non_null(strstr(buf_cstr(&b), "href=\"/attempts/9/raw\""));
	buf_reset(&b);
	json_object_set_new(at, "state", json_string("done"));
	json_object_set_new(at, "verdict", json_string("fail"));
	assert_int_equal(page_attempt_render(&b, at, log, sizeof(log) - 1), 0);
	assert_null(strstr(buf_cstr(&b), "data-stream"));
	assert_non_null(strstr(buf_cstr(&b), "half"));
	assert_non_null(strstr(buf_cstr(&b), "<span class=\"v v-fail\">fail</span>"));
	buf_reset(&b);
	assert_int_equal(page_board_render(&b, bd), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "2 infra in a row"));
	buf_reset(&b);
	assert_int_equal(page_bisection_render(&b, bi), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "First bad commit"));
	buf_reset(&b);
	assert_int_equal(page_flight_render(&b, fl), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "<title>Flight 3 · xenci</title>"));
	buf_reset(&b);
	assert_int_equal(page_badge_render(&b, "main" XSS, "pass"), 0);
	assert_inert(buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "#2e7d32"));
	buf_reset(&b);
	/* the badge is SVG, an XML document: U+FFFE and U+FFFF are no XML characters
	 * (issue 14) and come out as U+FFFD */
	assert_int_equal(page_badge_render(&b, "br\xef\xbf\xbe\xef\xbf\xbf", "pass"), 0);
	assert_non_null(strstr(buf_cstr(&b), "br\xef\xbf\xbd\xef\xbf\xbd"));
	assert_null(strstr(buf_cstr(&b), "\xef\xbf\xbe"));
	assert_null(strstr(buf_cstr(&b), "\xef\xbf\xbf"));
	buf_reset(&b);
	assert_int_equal(page_error_render(&b, 404, XSS), 0);
	assert_inert(buf_cstr(&b));
	buf_release(&b);
	json_decref(br);
	json_decref(at);
	json_decref(bd);
	json_decref(bi);
	json_decref(fl);
}

/* A page past its buffer's maximum fails whole rather than being served cut. */
/* The branch twin's text (twin_matrix_json, the API's reply) is byte for byte what
 * jansson dumps of the same document with its cells as objects (twins.c's
 * the API's cells before the C writer): the members in the order they were set, a cell's slower
 * before or after its class as it came, a class's text left out when the row has none, null cells,
 * the column map, text that is not ASCII and reals. */
static void test_matrix_json(void **state)
{
	json_t *doc = twin("{\"name\": \"staging\", \"tree\": \"xen\", \"columns\": [{\"key\": "
			   "\"a\", \"label\": \"a\", \"class\": false}, {\"key\": \"b\", "
			   "\"label\": \"b\", \"class\": false}, {\"key\": \"c\", \"label\": "
			   "\"c\", \"class\": false}], \"rows\": [{\"commit\": \"abc\", "
			   "\"author\": \"Ann \\\"A\\\" <a@x>\", \"subject\": "
			   "\"\xc3\xbc"
			   "n\xc3\xaf"
			   "code \xe2\x9c\x93"
			   " \\u2028 \\t\", \"flight\": 3, "
			   "\"created_at\": 1700000000, \"state\": \"done\", \"cells\": null, "
			   "\"tuple\": {\"xen\": {\"commit\": \"abc\", \"moves\": true}}}, "
			   "{\"commit\": \"def\", \"author\": \"B\", \"subject\": \"s\", "
			   "\"flight\": 2, \"created_at\": 1690000000, \"state\": \"running\", "
			   "\"cells\": null}], \"flake_rates\": [{\"rate\": 0.125}], \"head\": "
			   "\"abc\", \"gate\": null, \"events\": []}");
	json_t *known = twin("{\"id\": \"ki\", \"label\": \"l\\u00e9\", \"link\": \"\"}");
	json_t *slow0 = twin("{\"stage\": \"dom0\", \"seconds\": 2.574, \"attempt\": 7}");
	json_t *slow1 = twin("{\"percent\": 28.699999999999992, \"attempt\": 8}");
	json_t *text0 = json_string("REGR. vs. 3"), *expect, *rows, *cells, *o;
	/* row 0 gathered b, c, a (col: a at 2, b at 0, c at 1); row 1 only b */
	struct twin_cell r0[3] = {{.total = 2,
				   .pass = 1,
				   .verdict = "fail",
				   .attempt = 7,
				   .classed = 1,
				   .tcls = TRIAGE_REGRESSION,
				   .text = text0,
				   .known = known,
				   .slower = slow0,
				   .slower_first = 1},
				  {.total = 1,
				   .pass = 1,
				   .verdict = "pass",
				   .attempt = 8,
				   .classed = 1,
				   .tcls = TRIAGE_HEISENBUG,
				   .known = json_null(),
				   .slower = slow1}},
			 r1[1] = {{.total = 1, .verdict = "queued", .attempt = 9}},
			 *mrows[2] = {r0, r1};
	size_t rown[2] = {3, 1}, col[3] = {2, 0, 1};
	struct twin_matrix m = {

	    .twin = doc, .nrows = 2, .ncols = 3, .rows = mrows, .rown = rown, .col = col};
	struct buf b = BUF_INIT(0);
	char *want;

	(void)state;
	twin_matrix_json(&m, &b);
	/* the same document with its cells as jansson objects */
	expect = json_deep_copy(doc);
	rows = json_object_get(expect, "rows");
	cells = json_array();
	json_array_append_new(cells, json_null()); /* a: r0[2], empty */
	o = json_pack("{s:s, s:i, s:i, s:i, s:O, s:s, s:O, s:O}", "verdict", "fail", "attempt", 7,
		      "pass", 1, "total", 2, "slower", slow0, "verdict_class", "regression", "text",
		      text0, "known_issue", known);
	json_array_append_new(cells, o); /* b: r0[0] */
	o = json_pack("{s:s, s:i, s:i, s:i, s:s, s:n, s:O}", "verdict", "pass", "attempt", 8,
		      "pass", 1, "total", 1, "verdict_class", "heisenbug", "known_issue", "slower",
		      slow1);
	json_array_append_new(cells, o); /* c: r0[1] */
	json_object_set_new(json_array_get(rows, 0), "cells", cells);
	cells = json_array();
	json_array_append_new(cells, json_null());
	json_array_append_new(cells, json_pack("{s:s, s:i, s:i, s:i}", "verdict", "queued",
					       "attempt", 9, "pass", 0, "total", 1));
	json_array_append_new(cells, json_null());
	json_object_set_new(json_array_get(rows, 1), "cells", cells);
	want = json_dumps(expect, JSON_COMPACT);
	assert_non_null(want);
	assert_string_equal(buf_cstr(&b), want);
	free(want);
	buf_release(&b);
	json_decref(expect);
	json_decref(doc);
	json_decref(known);
	json_decref(slow0);
	json_decref(slow1);
	json_decref(text0);
}

static void test_page_too_big(void **state)
{
	json_t *at = twin("{\"id\": 1, \"state\": \"done\", \"verdict\": \"pass\"}");
	size_t n = 4u << 20, i;
	char *log = malloc(n);
	struct buf b = BUF_INIT(1u << 20);

	(void)state;
	assert_non_null(log);
	for (i = 0; i < n; i++)
		log[i] = (i % 64 == 63) ? '\n' : '\x01';
	assert_int_equal(page_attempt_render(&b, at, log, n), -ENOSPC);
	buf_release(&b);
	/* With room, a big log shows its head and tail around a marker. */
	buf_init(&b, PAGE_MAX);
	assert_int_equal(page_attempt_render(&b, at, log, n), 0);
	assert_non_null(strstr(buf_cstr(&b), "bytes not shown"));
	assert_true(b.len < PAGE_MAX);
	buf_release(&b);
	free(log);
	json_decref(at);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),	   cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_console_format), cmocka_unit_test(test_console_hostile),
	    cmocka_unit_test(test_console_resume), cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_page_too_big),   cmocka_unit_test(test_matrix_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
