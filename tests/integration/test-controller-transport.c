/* The controller's HTTP transport against clients that do what libcurl would not
 * (issue 13): every reply carries Cache-Control, nosniff and a CSP exactly once
 * (the whole route table walked, anonymous and admin); Range per RFC 9110 14.2
 * (invalid ranges ignored, past-the-end last bytes clamped, 416 only for a first
 * byte past the end); an ambiguous body length is a 400 that closes the
 * connection; an HTTP/1.1 request without Host is 400 (RFC 9112 3.2); an
 * absolute path, or one that climbs, given where an artifact, blob, log or
 * static file is named is refused without reading it. Raw sockets throughout,
 * so that nothing is normalised. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/http.h"
#include "../harness/harness.h"
#include "json-util.h"

#define COMMIT "00112233445566778899aabbccddeeff00112233"
#define LOG    "0123456789"

static struct harness_controller ctl;
static char agent_tok[128];
static long long attempt;
static char reply[1 << 16];

static const char job_fake[] = "name: fake-smoke\nrequires: {arch: [x86_64]}\n";

/* One attempt of a public board, with LOG as its console log. */
static int setup(void **state)
{
	char user_tok[128], path[128];
	json_t *j = NULL;

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	if (harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"pub\", \"arch\":"
			 " \"x86_64\", \"class\": \"q35\"}]}",
			 NULL) != 200 ||
	    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
			 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", NULL) != 201 ||
	    harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
			 "{\"boards\": [\"pub\"], \"wait_ms\": 0}", &j) != 200)
		return -1;
	attempt = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", attempt);
	if (attempt <= 0 || harness_call_bytes(&ctl, agent_tok, "PUT", path, "text/plain", LOG,
					       strlen(LOG), NULL, NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* METHOD path with token (NULL: none) and extra header lines; the reply's head
 * (and what came of the body before the server closed or 10 s passed). */
static int raw(const char *method, const char *path, const char *token, const char *extra)
{
	char req[2048];

	snprintf(req, sizeof(req),
		 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s%s%s\r\n", method, path,
		 token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "",
		 strcmp(method, "GET") ? "Content-Length: 0\r\n" : "", extra ? extra : "");
	return harness_raw(ctl.port, NULL, req, reply, sizeof(reply), 10000);
}

/* Like raw() for a reply that may never end (a long poll, a stream): only the head. */
static int raw_head(const char *method, const char *path, const char *token)
{
	char req[2048];
	int fd = harness_connect(ctl.port, NULL);

	assert_true(fd >= 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s%s\r\n",
		 method, path, token ? "Authorization: Bearer " : "", token ? token : "",
		 token ? "\r\n" : "", strcmp(method, "GET") ? "Content-Length: 0\r\n" : "");
	assert_int_equal(harness_send(fd, req, strlen(req)), 0);
	reply[0] = '\0';
	harness_read_until(fd, reply, sizeof(reply), "\r\n\r\n", 10000);
	close(fd);
	return harness_status(reply);
}

static void assert_headers_once(const char *what)
{
	static const char *const once[] = {"Cache-Control", "X-Content-Type-Options",
					   "Content-Security-Policy"};
	char value[512];
	size_t i;

	if (harness_status(reply) < 0)
		fail_msg("%s: no reply", what);
	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (harness_header_count(reply, once[i], NULL, 0) != 1)
			fail_msg("%s: %d %s headers in\n%s", what,
				 harness_header_count(reply, once[i], NULL, 0), once[i], reply);
	harness_header_count(reply, "X-Content-Type-Options", value, sizeof(value));
	assert_string_equal(value, "nosniff");
	harness_header_count(reply, "Content-Security-Policy", value, sizeof(value));
	assert_non_null(strstr(value, "default-src 'none'"));
}

/* Finding 17: each route of the table (ids that do not exist, then the real
 * attempt), as anonymous and as admin. */
static void test_headers_once(void **state)
{
	const struct route *rt;
	char path[512], what[600];
	const char *tokens[2] = {NULL, ctl.admin_token};
	int n = 0, t;

	(void)state;
	for (t = 0; t < 2; t++) {
		for (rt = routes; rt->method; rt++) {
			const char *ids[2] = {"999999", NULL};
			char id[32];
			int k;

			snprintf(id, sizeof(id), "%lld", attempt);
			if (strstr(rt->path, "attempts/{}"))
				ids[1] = id;
			for (k = 0; k < 2 && ids[k]; k++) {
				const char *p = rt->path;
				size_t len = 0;

				/* DELETE /tokens/{} of a real token is not for this walk */
				while (*p && len < sizeof(path) - 40) {
					if (p[0] == '{' && p[1] == '}') {
						len += (size_t)snprintf(
						    path + len, sizeof(path) - len, "%s", ids[k]);
						p += 2;
					} else {
						path[len++] = *p++;
					}
				}
				path[len] = '\0';
				if (!strcmp(rt->method, "POST") && strstr(path, "/cancel"))
					continue; /* keep the attempt running for the next tests */
				if (rt->flags & ROUTE_LONGPOLL)
					raw_head(rt->method, path, tokens[t]);
				else
					raw(rt->method, path, tokens[t], NULL);
				snprintf(what, sizeof(what), "%s %s (%s)", rt->method, path,
					 t ? "admin" : "anonymous");
				assert_headers_once(what);
				n++;
			}
		}
	}
	/* The replies of a page, a static file, a served file (200, 206, 416) and the
	 * raw log in particular. */
	assert_int_equal(raw("GET", "/", NULL, NULL), 200);
	assert_headers_once("GET /");
	assert_int_equal(raw("GET", "/static/xenci.css", NULL, NULL), 200);
	assert_headers_once("GET /static/xenci.css");
	snprintf(path, sizeof(path), "/attempts/%lld/raw", attempt);
	assert_int_equal(raw("GET", path, NULL, NULL), 200);
	assert_headers_once("raw log");
	harness_header_count(reply, "Content-Type", what, sizeof(what));
	assert_string_equal(what, "text/plain; charset=utf-8");
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=1-2\r\n"), 206);
	assert_headers_once("raw log 206");
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=100-\r\n"), 416);
	assert_headers_once("raw log 416");
	print_message("%d route replies checked\n", n);
}

/* The body of the reply in `reply`. */
static const char *body_of(void)
{
	const char *b = strstr(reply, "\r\n\r\n");

	return b ? b + 4 : "";
}

/* Finding 19 (first half): RFC 9110 14.2 on the raw log (LOG, 10 bytes). */
static void test_range(void **state)
{
	char path[128], value[128];

	(void)state;
	snprintf(path, sizeof(path), "/attempts/%lld/raw", attempt);
	/* a satisfiable range */
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=2-4\r\n"), 206);
	assert_string_equal(body_of(), "234");
	harness_header_count(reply, "Content-Range", value, sizeof(value));
	assert_string_equal(value, "bytes 2-4/10");
	/* a last byte past the end is clamped */
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=5-100\r\n"), 206);
	assert_string_equal(body_of(), "56789");
	harness_header_count(reply, "Content-Range", value, sizeof(value));
	assert_string_equal(value, "bytes 5-9/10");
	/* a suffix longer than the file is the whole file, as a range */
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=-100\r\n"), 206);
	assert_string_equal(body_of(), LOG);
	/* invalid: inverted, garbage, another unit: ignored, the whole file */
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=4-2\r\n"), 200);
	assert_string_equal(body_of(), LOG);
	assert_int_equal(harness_header_count(reply, "Content-Range", NULL, 0), 0);
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=x-y\r\n"), 200);
	assert_string_equal(body_of(), LOG);
	assert_int_equal(raw("GET", path, NULL, "Range: lines=1-2\r\n"), 200);
	assert_string_equal(body_of(), LOG);
	/* several ranges: the whole file */
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=0-1,4-5\r\n"), 200);
	assert_string_equal(body_of(), LOG);
	/* only a first byte past the end is unsatisfiable */
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=10-\r\n"), 416);
	harness_header_count(reply, "Content-Range", value, sizeof(value));
	assert_string_equal(value, "bytes */10");
	assert_int_equal(raw("GET", path, NULL, "Range: bytes=10-20\r\n"), 416);
}

/* Sends req on a new connection; the whole stream until the server closes (the
 * test fails when it does not within 10 s) into reply. */
static void raw_until_closed(const char *req)
{
	int fd = harness_connect(ctl.port, NULL);

	assert_true(fd >= 0);
	assert_int_equal(harness_send(fd, req, strlen(req)), 0);
	reply[0] = '\0';
	if (harness_read_until(fd, reply, sizeof(reply), NULL, 10000) != -1)
		fail_msg("the connection stayed open after\n%s", reply);
	close(fd);
}

static int replies_in(const char *text)
{
	int n = 0;

	for (; (text = strstr(text, "HTTP/1.1 ")) != NULL; text++)
		n++;
	return n;
}

/* Finding 16: a body whose end is ambiguous is refused and the connection closed,
 * so that nothing after it is taken for a second request. */
static void test_content_length(void **state)
{
	static const char smuggled[] = "GET /api/v1/version HTTP/1.1\r\nHost: x\r\n\r\n";
	char req[1024];

	(void)state;
	snprintf(req, sizeof(req),
		 "POST /api/v1/poke HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
		 "Content-Length: %zu\r\n\r\n{}%s",
		 2 + strlen(smuggled), smuggled);
	raw_until_closed(req);
	assert_int_equal(harness_status(reply), 400);
	assert_non_null(strstr(reply, "ambiguous body length"));
	assert_int_equal(replies_in(reply), 1);
	/* the other order */
	snprintf(req, sizeof(req),
		 "POST /api/v1/poke HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
		 "Content-Length: 2\r\n\r\n{}%s",
		 2 + strlen(smuggled), smuggled);
	raw_until_closed(req);
	assert_int_equal(harness_status(reply), 400);
	assert_int_equal(replies_in(reply), 1);
	/* Content-Length with Transfer-Encoding */
	snprintf(req, sizeof(req),
		 "POST /api/v1/poke HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n%s",
		 strlen("2\r\n{}\r\n0\r\n\r\n"), smuggled);
	raw_until_closed(req);
	assert_int_equal(harness_status(reply), 400);
	assert_int_equal(replies_in(reply), 1);
	/* whitespace between a header's name and its colon (RFC 9112 5.1: 400): a
	 * proxy may read "Content-Length : N" as the length, libmicrohttpd did not,
	 * and served the body as a second request */
	snprintf(req, sizeof(req),
		 "POST /api/v1/poke HTTP/1.1\r\nHost: x\r\nContent-Length : %zu\r\n\r\n%s",
		 strlen(smuggled), smuggled);
	raw_until_closed(req);
	assert_int_equal(harness_status(reply), 400);
	assert_non_null(strstr(reply, "whitespace"));
	assert_int_equal(replies_in(reply), 1);
	snprintf(req, sizeof(req),
		 "POST /api/v1/poke HTTP/1.1\r\nHost: x\r\nX-Any\t: 1\r\nContent-Length: "
		 "0\r\n\r\n%s",
		 smuggled);
	raw_until_closed(req);
	assert_int_equal(harness_status(reply), 400);
	assert_int_equal(replies_in(reply), 1);
	/* the same length twice is one length: the request goes on (401: no token) */
	assert_int_equal(raw("POST", "/api/v1/poke", NULL, "Content-Length: 0\r\n"), 401);
}

/* RFC 9112 3.2: a request of HTTP/1.1 without Host is 400, with the house
 * headers (libmicrohttpd served it). */
static void test_no_host(void **state)
{
	(void)state;
	raw_until_closed("GET /api/v1/version HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(harness_status(reply), 400);
	assert_non_null(strstr(reply, "missing Host"));
	assert_headers_once("no Host");
	/* HTTP/1.0 needs none */
	raw_until_closed("GET /api/v1/version HTTP/1.0\r\n\r\n");
	assert_int_equal(harness_status(reply), 200);
}

/* What libmicrohttpd answers itself, before any handler of ours, and closes: a
 * head past its buffer is 431 (documented in docs/security.md: such replies do
 * not carry the house headers, and 0.9.75 cannot be told to add them). */
static void test_server_replies(void **state)
{
	static char req[64 * 1024];
	size_t n;

	(void)state;
	n = (size_t)snprintf(req, sizeof(req),
			     "GET /api/v1/version HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + n, 'a', sizeof(req) - n - 5);
	memcpy(req + sizeof(req) - 5, "\r\n\r\n", 5);
	raw_until_closed(req);
	assert_int_equal(harness_status(reply), 431);
}

/* Paths where the store names a file: percent-encoded absolute paths and climbs
 * never reach the file system (a {} segment holds no '/'; names are checked). */
static void test_absolute_paths(void **state)
{
	static const char *const paths[] = {
	    "/api/v1/artifacts/%2Fetc%2Fpasswd",
	    "/api/v1/artifacts/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
	    "/api/v1/artifacts//etc/passwd",
	    "/api/v1/trees/xen/blobs/%2Fetc%2Fpasswd",
	    "/api/v1/trees/%2Fetc/blobs/" COMMIT,
	    "/api/v1/attempts/%2Fetc%2Fpasswd/log",
	    "/api/v1/attempts/..%2F..%2Fetc%2Fpasswd/log",
	    "/attempts/%2Fetc%2Fpasswd/raw",
	    "/static/%2Fetc%2Fpasswd",
	    "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
	    "/static/..",
	};
	size_t i;
	int st;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		st = raw("GET", paths[i], ctl.admin_token, NULL);
		if (st != 400 && st != 404)
			fail_msg("GET %s: %d\n%s", paths[i], st, reply);
		if (strstr(reply, "root:"))
			fail_msg("GET %s served a file outside the store", paths[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headers_once),   cmocka_unit_test(test_range),
	    cmocka_unit_test(test_content_length), cmocka_unit_test(test_no_host),
	    cmocka_unit_test(test_absolute_paths), cmocka_unit_test(test_server_replies),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
