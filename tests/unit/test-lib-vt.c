/* Console text as a terminal shows it (lib/vt.h): every kind of ECMA-48
 * sequence, C1 controls as UTF-8 code points, "\r" and erase-in-line, invalid
 * UTF-8, and the bound on unfinished sequences. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vt.h"

static void check(const char *in, size_t n, const char *want)
{
	size_t len;
	char *out = vt_line_render(in, n, &len);

	if (strcmp(out, want) != 0)
		fail_msg("rendered \"%s\", want \"%s\"", out, want);
	assert_int_equal(len, strlen(want));
	assert_true(len <= 4 * n);
	free(out);
	/* the same bytes one read each: sequences and characters split over reads
	 * are whole again */
	{
		struct vt v;
		size_t i;

		vt_init(&v, n);
		for (i = 0; i < n; i++)
			vt_feed(&v, in + i, 1);
		vt_line_end(&v);
		out = vt_row(&v, &len);
		if (strcmp(out, want) != 0)
			fail_msg("byte by byte: rendered \"%s\", want \"%s\"", out, want);
		free(out);
		vt_release(&v);
	}
}

#define CHECK(in, want) check(in, sizeof(in) - 1, want)

static void test_sequences(void **state)
{
	(void)state;
	CHECK("plain text", "plain text");
	/* CSI: colours, cursor, private modes, intermediates */
	CHECK("\x1b[1;32mok\x1b[0m 1", "ok 1");
	CHECK("\x1b[?25l\x1b[?2004hnot ok\x1b[38;2;255;0;0m 2", "not ok 2");
	CHECK("a\x1b[1 qb", "ab");
	/* OSC ended by ST and by BEL: systemd's context markers, a window title */
	CHECK("\x1b]3008;start=4f0c;user=root;type=service\x1b\\not ok 1 - a", "not ok 1 - a");
	CHECK("\x1b]0;root@dom0: ~\x07not ok 2 - b", "not ok 2 - b");
	CHECK("\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\", "link");
	/* DCS, SOS, PM, APC: ST only (a BEL inside is part of the string) */
	CHECK("\x1bP1$r0m\x1b\\x", "x");
	CHECK("\x1bXsos\x07still\x1b\\y", "y");
	CHECK("\x1b^pm\x1b\\\x1b_apc\x1b\\z", "z");
	/* lone escapes: ESC 7 / ESC 8, ESC c, ESC = , ESC ( B, ESC # 8 */
	CHECK("\x1b"
	      "7a\x1b"
	      "8\x1b"
	      "cb\x1b=\x1b(Bc\x1b#8d",
	      "abcd");
	/* C1 controls as UTF-8 code points: U+009B CSI, U+009D OSC … U+009C ST */
	CHECK("\xc2\x9b"
	      "31mred\xc2\x9b"
	      "0m",
	      "red");
	CHECK("\xc2\x9dtitle\xc2\x9cnot ok 3", "not ok 3");
	CHECK("a\xc2\x85"
	      "b",
	      "ab"); /* NEL shows nothing on the row */
	/* text in strings that holds UTF-8 (U+011C ends in the byte 0x9C) */
	CHECK("\x1b]0;\xc4\x9c t\x07ok", "ok");
	/* CAN and SUB abort a sequence */
	CHECK("\x1b[12\x18x", "x");
	CHECK("\x1b]0;t\x1ay", "y");
	/* ESC inside a CSI starts anew; ESC ending a string starts an escape */
	CHECK("\x1b[1\x1b[2mq", "q");
	CHECK("\x1b]0;t\x1b"
	      "7r",
	      "r");
}

static void test_carriage_return(void **state)
{
	(void)state;
	/* a progress line redrawn: what the terminal shows at the end */
	CHECK(" 10%\r 50%\r100%", "100%");
	CHECK("abcdef\rXY", "XYcdef");
	CHECK("long progress 1/9\r\x1b[Kok 1 - done", "ok 1 - done");
	CHECK("aaaa\r\x1b[2Kb", "b   ");
	CHECK("aaaa\x1b[2D\x1b[1Kb", "  ba");
	CHECK("ok 1\r", "ok 1"); /* the "\r" of "\r\n" */
	CHECK("ab\bc", "ac");
	CHECK("x\x1b[5Gy", "x   y");
	CHECK("\x1b[3Cz", "   z");
	/* overwriting keeps code points whole */
	CHECK("\xc3\xa9t\xc3\xa9\rE", "Et\xc3\xa9");
	/* NUL, BEL and DEL show nothing; a tab stays */
	CHECK("a\0b\x07"
	      "c\x7f\td",
	      "abc\td");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* one U+FFFD per invalid byte; nothing after it is swallowed */
	CHECK("\xff\xfe not ok 1", "\xef\xbf\xbd\xef\xbf\xbd not ok 1");
	CHECK("\xe2\x82not ok", "\xef\xbf\xbd\xef\xbf\xbdnot ok");
	CHECK("\xf0not", "\xef\xbf\xbdnot");
	/* a raw 0x9B is invalid UTF-8, not a CSI: "not" stays */
	CHECK("\x9bnot ok", "\xef\xbf\xbdnot ok");
	CHECK("\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"); /* a surrogate */
	/* after ESC, bytes that cannot be a sequence show */
	CHECK("\x1b\xffok", "\xef\xbf\xbdok");
	CHECK("\x1b[1\xc3\xa9t", "\xc3\xa9t");
}

static void test_bounds(void **state)
{
	char *in = malloc(VT_SEQ_MAX + 64), *want;
	size_t n;

	(void)state;
	/* an unterminated OSC: dropped at the end of its line */
	CHECK("text \x1b]0;never ended", "text ");
	CHECK("text \x1b", "text ");
	CHECK("", "");
	/* longer than VT_SEQ_MAX: the sequence is dropped and the rest shows */
	memcpy(in, "\x1b]0;", 4);
	memset(in + 4, 'x', VT_SEQ_MAX - 4);
	memcpy(in + VT_SEQ_MAX, "not ok 9", 8);
	n = VT_SEQ_MAX + 8;
	want = "not ok 9";
	check(in, n, want);
	free(in);
}

/* A row keeps its columns: a progress line redrawn many times after "\r" is
 * what the terminal ends with, however many bytes it took; text past the last
 * column is dropped and counted; a new line starts empty with no sequence open. */
static void test_row_stream(void **state)
{
	struct vt v;
	char *out;
	size_t len, i;

	(void)state;
	vt_init(&v, 16);
	for (i = 0; i < 10000; i++)
		vt_feed(&v, "\rprogress 42%\x1b[K", 16);
	vt_feed(&v, "\rok 1 - done\x1b[K", 15);
	vt_line_end(&v);
	out = vt_row(&v, &len);
	assert_string_equal(out, "ok 1 - done");
	free(out);
	vt_newline(&v);
	vt_feed(&v, "0123456789abcdefXYZ\x1b]0;open", 27);
	vt_line_end(&v);
	out = vt_row(&v, &len);
	assert_string_equal(out, "0123456789abcdef");
	assert_int_equal(v.dropped, 3);
	free(out);
	vt_newline(&v);
	vt_feed(&v, "next \xe2\x82", 7); /* a character the line end cuts */
	vt_line_end(&v);
	out = vt_row(&v, &len);
	assert_string_equal(out, "next \xef\xbf\xbd\xef\xbf\xbd");
	free(out);
	vt_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequences),	 cmocka_unit_test(test_carriage_return),
	    cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_row_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
