/* Bounded buffers, SHA-256, tokens and strict JSON parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "http-client.h"
#include "json-util.h"

static void test_buf_bounded(void **state)
{
	struct buf b = BUF_INIT(8);

	(void)state;
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_puts(&b, "6789"), -ENOSPC);
	assert_string_equal(buf_cstr(&b), "12345"); /* unchanged by the refused append */
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_string_equal(buf_cstr(&b), "12345678");
	/* fits the room buf_printf made, not the max: refused, nothing written */
	assert_int_equal(buf_printf(&b, "%s", "9"), -ENOSPC);
	assert_string_equal(buf_cstr(&b), "12345678");
	/* the same room, met by buf_append's inline way: refused too */
	assert_true(b.cap > b.len + 1);
	assert_int_equal(buf_putc(&b, '9'), -ENOSPC);
	assert_int_equal(buf_append(&b, "9", 1), -ENOSPC);
	assert_int_equal(buf_decimal(&b, 9), -ENOSPC);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_consume(&b, 3);
	assert_string_equal(buf_cstr(&b), "45678");
	buf_release(&b);
	assert_string_equal(buf_cstr(&b), "");
}

/* buf_decimal: every sign and width, the ends of long long's range. */
static void test_buf_decimal(void **state)
{
	static const struct {
		long long v;
		const char *text;
	} cases[] = {{0, "0"},
		     {7, "7"},
		     {-7, "-7"},
		     {10, "10"},
		     {-1000000, "-1000000"},
		     {LLONG_MAX, "9223372036854775807"},
		     {LLONG_MIN, "-9223372036854775808"}};
	struct buf b = BUF_INIT(0);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		assert_int_equal(buf_putc(&b, '<'), 0);
		assert_int_equal(buf_decimal(&b, cases[i].v), 0);
		assert_int_equal(buf_putc(&b, '>'), 0);
		assert_int_equal(b.len, strlen(cases[i].text) + 2);
		assert_memory_equal(b.data + 1, cases[i].text, strlen(cases[i].text));
		assert_string_equal(b.data + b.len - 1, ">");
	}
	buf_release(&b);
}

/* buf_printf prints into the room it has and again when that was short: every
 * length around the room and its doubling comes out whole. */
static void test_buf_printf_lengths(void **state)
{
	char big[5000];
	struct buf b = BUF_INIT(0);

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t n = 0; n < sizeof(big); n += 37) {
		buf_reset(&b);
		assert_int_equal(buf_puts(&b, "<"), 0);
		assert_int_equal(buf_printf(&b, "%.*s|%d", (int)n, big, 42), 0);
		assert_int_equal(b.len, 1 + n + 3);
		assert_int_equal(strlen(buf_cstr(&b)), b.len);
		assert_memory_equal(buf_cstr(&b) + 1, big, n);
		assert_string_equal(buf_cstr(&b) + 1 + n, "|42");
	}
	buf_release(&b);
}

static void test_sha256(void **state)
{
	char hex[SHA256_HEX_LEN + 1], hex2[SHA256_HEX_LEN + 1];
	char path[] = "/tmp/xenci-test-XXXXXX";
	long long size = 0;
	int fd;

	(void)state;
	assert_int_equal(sha256_hex(hex, "abc", 3), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(sha256_is_hex(hex));
	assert_false(sha256_is_hex("BA7816bf"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(sha256_file(hex2, path, &size), 0);
	assert_string_equal(hex, hex2);
	assert_int_equal(size, 3);
	unlink(path);
	assert_int_equal(sha256_file(hex2, path, &size), -ENOENT);
}

static void test_tokens(void **state)
{
	char a[64], b[64];

	(void)state;
	assert_int_equal(token_generate(a, sizeof(a), "xci_"), 0);
	assert_int_equal(token_generate(b, sizeof(b), "xci_"), 0);
	assert_int_equal(strlen(a), 4 + 44);
	assert_memory_equal(a, "xci_", 4);
	assert_string_not_equal(a, b);
	assert_true(secret_equal(a, a, strlen(a)));
	assert_false(secret_equal(a, b, strlen(a)));
	assert_int_equal(token_generate(a, 20, "xci_"), -ENOSPC);
}

static void test_json_parse(void **state)
{
	char err[200];
	json_t *v;

	(void)state;
	v = json_parse("{\"a\": 1}", 8, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(jint(v, "a", 0), 1);
	assert_string_equal(jstr(v, "a", "def"), "def");
	json_decref(v);
	assert_null(json_parse("{\"a\": 1, \"a\": 2}", 16, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate"));
	assert_null(json_parse("{\"a\": 1} x", 10, err, sizeof(err)));
	assert_null(json_parse("{\"a\": ", 6, err, sizeof(err)));
}

static void test_backoff(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		long ms = http_backoff_ms(100, 1000, i % 8);
		long cap = 100L << (i % 8);

		assert_true(ms >= 0);
		assert_true(ms <= (cap < 1000 ? cap : 1000));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_bounded),
	    cmocka_unit_test(test_buf_decimal),
	    cmocka_unit_test(test_buf_printf_lengths),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_json_parse),
	    cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
