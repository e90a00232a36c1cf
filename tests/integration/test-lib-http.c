/* lib/http-client against a real controller: a HEAD request ends at the headers
 * (curl must not wait for a body that never comes), JSON replies are decoded,
 * errors carry the reply's "error", a refused connection is a transport error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "../harness/harness.h"
#include "hash.h"
#include "http-client.h"

static struct harness_controller ctl;

static int setup(void **state)
{
	(void)state;
	return harness_controller_start(&ctl) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_head_ends_at_headers(void **state)
{
	struct http_client c;
	struct http_reply r;
	char path[128], hex[SHA256_HEX_LEN + 1];
	double t0;

	(void)state;
	assert_int_equal(harness_http(&ctl, NULL, &c), 0);
	c.timeout_ms = 10000;
	http_reply_init(&r);
	t0 = now();
	assert_int_equal(http_request(&c, "HEAD", "/api/v1/boards", NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	/* an artifact the controller does not have: 404, still without waiting */
	sha256_hex(hex, "nothing", 7);
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", hex);
	assert_int_equal(http_request(&c, "HEAD", path, NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	/* both well inside the 10 s timeout that a body-waiting HEAD would run into */
	assert_true(now() - t0 < 5.0);
	http_reply_release(&r);
	http_client_release(&c);
}

static void test_json_and_errors(void **state)
{
	struct http_client c;
	struct http_reply r;

	(void)state;
	assert_int_equal(harness_http(&ctl, NULL, &c), 0);
	http_reply_init(&r);
	assert_int_equal(http_json(&c, "GET", "/api/v1/boards", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	/* a write without a token: a 4xx whose "error" member is in r.error */
	assert_int_equal(http_json(&c, "POST", "/api/v1/tokens", NULL, &r), 0);
	assert_true(r.status == 401 || r.status == 403);
	assert_true(strlen(r.error) > 0);
	assert_string_not_equal(r.error, "HTTP 401");
	http_reply_release(&r);
	http_client_release(&c);
}

static void test_refused_connection(void **state)
{
	struct http_client c;
	struct http_reply r;

	(void)state;
	/* port 1 on loopback: nothing listens there */
	assert_int_equal(http_client_init(&c, "http://127.0.0.1:1", NULL), 0);
	c.retries = 2;
	c.backoff_ms = 10;
	http_reply_init(&r);
	assert_int_equal(http_json(&c, "GET", "/api/v1/boards", NULL, &r), -1);
	assert_int_equal(r.status, 0);
	assert_true(strlen(r.error) > 0);
	http_reply_release(&r);
	http_client_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head_ends_at_headers),
	    cmocka_unit_test(test_json_and_errors),
	    cmocka_unit_test(test_refused_connection),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
