/* The status page's live tail (SSE framing, resume offsets), static asset names
 * and the branch badge's verdict. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "../../controller/page.h"
#include "../../controller/twins.h"

static void test_tail_start(void **state)
{
	long long from = -1;

	(void)state;
	assert_int_equal(page_tail_start(&from, NULL, NULL), 0);
	assert_int_equal(from, 0);
	assert_int_equal(page_tail_start(&from, NULL, "120"), 0);
	assert_int_equal(from, 120);
	assert_int_equal(page_tail_start(&from, "300", "120"), 0); /* a reconnect wins */
	assert_int_equal(from, 300);
	assert_int_equal(page_tail_start(&from, "-1", NULL), -EINVAL);
	assert_int_equal(page_tail_start(&from, NULL, "12x"), -EINVAL);
	assert_int_equal(page_tail_start(&from, NULL, " 12"), -EINVAL);
	assert_int_equal(page_tail_start(&from, "99999999999999999999", NULL), -EINVAL);
}

static void test_tail_event(void **state)
{
	const char log[] =
	    "    1.000 | a\x1b[31m<b>\r\n    2.000 # stage x reached\n    3.000 | par";
	struct buf b = BUF_INIT(0);
	long long next = -1;
	const char *s;

	(void)state;
	assert_int_equal(page_tail_event(&b, log, sizeof(log) - 1, 0, &next), 0);
	assert_int_equal(next, 51);
	s = buf_cstr(&b);
	assert_true(!strncmp(s, "event: line\ndata: <div class=\"l c\" id=\"o0\">", 43));
	assert_non_null(strstr(s, "<span class=\"sgr fg1\">&lt;b&gt;</span>"));
	assert_non_null(strstr(s, "\ndata: <div class=\"l n stage\" id=\"o23\">"));
	assert_true(strlen(s) > 12 && !strcmp(s + strlen(s) - 9, "\nid: 51\n\n"));
	assert_null(strchr(s, '\r'));
	assert_null(strstr(s, "par"));
	/* Nothing complete after 50 yet: no event, the offset stays. */
	buf_reset(&b);
	assert_int_equal(page_tail_event(&b, log, sizeof(log) - 1, 51, &next), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(next, 51);
	/* Past the end, or negative: nothing. */
	assert_int_equal(page_tail_event(&b, log, sizeof(log) - 1, 500, &next), 0);
	assert_int_equal(next, 500);
	assert_int_equal(page_tail_state_event(&b, "done", "fail"), 0);
	assert_string_equal(buf_cstr(&b),
			    "event: state\ndata: {\"state\":\"done\",\"verdict\":\"fail\"}\n\n");
	buf_release(&b);
}

/* A long log goes out in bounded chunks that together cover every line once. */
static void test_tail_chunks(void **state)
{
	size_t n = 3 * PAGE_TAIL_CHUNK / 100 * 100, i; /* whole lines */
	char *log = malloc(n);
	struct buf b = BUF_INIT(0);
	long long from = 0, next = 0;
	int events = 0;

	(void)state;
	for (i = 0; i < n; i++)
		log[i] = i % 100 == 99 ? '\n' : 'x';
	while (from < (long long)n) {
		buf_reset(&b);
		assert_int_equal(page_tail_event(&b, log, n, from, &next), 0);
		assert_true(next > from);
		assert_true(next - from <= (long long)PAGE_TAIL_CHUNK);
		events++;
		from = next;
	}
	assert_int_equal(from, n);
	assert_int_equal(events, 4); /* a chunk holds whole lines only */
	buf_release(&b);
	free(log);
}

static void test_static(void **state)
{
	(void)state;
	assert_string_equal(page_static_type("xenci.css"), "text/css; charset=utf-8");
	assert_string_equal(page_static_type("xenci.js"), "text/javascript; charset=utf-8");
	assert_null(page_static_type("../etc/passwd"));
	assert_null(page_static_type("..css"));
	assert_null(page_static_type(".css"));
	assert_null(page_static_type("a/b.css"));
	assert_null(page_static_type("a.css.js"));
	assert_null(page_static_type("x.html"));
	assert_null(page_static_type("x%2e.css"));
}

/* A cell of the badge's matrices: its verdict, or none. */
#define CELL(v)                                                                                    \
	{                                                                                          \
		.total = 1, .verdict = v                                                           \
	}

static void test_badge_verdict(void **state)
{
	/* rows: running, pass | none, pass, infra | fail (column x at its index) */
	struct twin_cell r0[] = {CELL("running"), CELL("pass")},
			 r1[] = {{.total = 0}, CELL("pass"), CELL("infra")}, r2[] = {CELL("fail")},
			 *rows[] = {r0, r1, r2}, *rows_no_1[] = {r0, r2};
	size_t rown[] = {2, 3, 1}, rown_no_1[] = {2, 1}, col[] = {0, 1, 2};
	struct twin_matrix m = {.nrows = 3, .ncols = 3, .rows = rows, .rown = rown, .col = col};
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_string_equal(page_branch_verdict(&m), "infra");
	m = (struct twin_matrix){
	    .nrows = 2, .ncols = 3, .rows = rows_no_1, .rown = rown_no_1, .col = col};
	assert_string_equal(page_branch_verdict(&m), "fail");
	m.nrows = 0;
	assert_string_equal(page_branch_verdict(&m), "unknown");
	assert_int_equal(page_badge_render(&b, "master", "unknown"), 0);
	assert_non_null(strstr(buf_cstr(&b), "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(buf_cstr(&b), "master: unknown"));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tail_start),	  cmocka_unit_test(test_tail_event),
	    cmocka_unit_test(test_tail_chunks),	  cmocka_unit_test(test_static),
	    cmocka_unit_test(test_badge_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
