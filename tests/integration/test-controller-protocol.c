/* The agent protocol end to end against a real controller: declare, long-poll
 * claim woken by a new flight, heartbeat, log chunks (replays, overlaps, gaps),
 * results (replay, conflict), builds with artifact upload and the tests they
 * release, reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "json-util.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
/* Builds are per (tree, commit, arch) and shared by the flights that need them
 * (schema/0075): a test that needs a build of its own takes a commit of its own. */
#define COMMIT_FAILS	"1123456789abcdef0123456789abcdef01234567"
#define COMMIT_WANTS	"2%d23456789abcdef0123456789abcdef01234567"
#define COMMIT_VARIANTS "3123456789abcdef0123456789abcdef01234567"
#define COMMIT_INFRA	"4123456789abcdef0123456789abcdef01234567"

static struct harness_controller ctl;
static char agent_tok[128], other_tok[128], user_tok[128];

static const char job_fake[] = "name: fake-smoke\n"
			       "requires: {arch: [x86_64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";
static const char job_xen[] = "name: xen-smoke\n"
			      "requires: {arch: [x86_64, arm64], tags: [qemu]}\n"
			      "artifacts: [xen]\n"
			      "stages:\n"
			      "  - {name: banner, pattern: 'Xen version', timeout: 10}\n";
static const char job_guest[] = "name: xen-guest\n"
				"requires: {arch: [x86_64], tags: [qemu]}\n"
				"artifacts: [xen, dom0-kernel, dom0-rootfs]\n"
				"boot: {initrd: dom0-rootfs}\n"
				"stages:\n"
				"  - {name: banner, pattern: 'Xen version', timeout: 10}\n";

static const char job_variants[] = "name: vjob\n"
				   "requires: {arch: [x86_64], tags: [qemu]}\n"
				   "boot: {xen_args: base}\n"
				   "variants:\n"
				   "  - {name: a, xen_args: sched=a}\n"
				   "  - {name: b, xen_args: sched=b}\n"
				   "stages:\n"
				   "  - {name: banner, pattern: 'Xen version', timeout: 10}\n";

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	harness_write_file(ctl.jobs, "xen-smoke.yaml", job_xen);
	harness_write_file(ctl.jobs, "xen-guest.yaml", job_guest);
	harness_write_file(ctl.jobs, "vjob.yaml", job_variants);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", other_tok, sizeof(other_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void test_declare(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
				      "{\"protocol\": 2, \"boards\": []}", &j),
			 409);
	assert_string_equal(jstr(j, "error", ""), "protocol version mismatch");
	json_decref(j);
	assert_int_equal(
	    harness_call(
		&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
		"{\"protocol\": 1, \"agent_version\": \"t\", \"builder\": {\"arches\":"
		" [\"x86_64\"]}, \"boards\": [{\"name\": \"qx\", \"arch\": \"x86_64\","
		" \"class\": \"q35\", \"tags\": [\"qemu\"]}, {\"name\": \"gone\", \"arch\":"
		" \"x86_64\", \"class\": \"q35\"}]}",
		&j),
	    200);
	assert_int_equal(json_array_size(json_object_get(j, "boards")), 2);
	json_decref(j);
	/* Re-declared without "gone": it goes offline. */
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"builder\": {\"arches\": [\"x86_64\"]}, \"boards\":"
			 " [{\"name\": \"qx\", \"arch\": \"x86_64\", \"class\": \"q35\","
			 " \"tags\": [\"qemu\"]}]}",
			 NULL),
	    200);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/boards/gone", NULL, &j), 200);
	assert_string_equal(jstr(j, "state", ""), "offline");
	json_decref(j);
	/* Another agent cannot take the board. */
	assert_int_equal(harness_call(&ctl, other_tok, "PUT", "/api/v1/agents/lab-b/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"qx\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      &j),
			 409);
	json_decref(j);
	/* Unknown fields are refused. */
	assert_int_equal(harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
				      "{\"protocol\": 1, \"boards\": [], \"colour\": 1}", &j),
			 400);
	assert_string_equal(jstr(j, "error", ""), "invalid body");
	json_decref(j);
}

struct claimer {
	long status;
	json_t *reply;
	long long ms;
	const char *body;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;
	long long t0 = harness_now_ms();

	c->status =
	    harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim", c->body, &c->reply);
	c->ms = harness_now_ms() - t0;
	return NULL;
}

static long long claim_now(const char *body, json_t **attempt)
{
	json_t *j = NULL;
	long st = harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim", body, &j);
	long long id = 0;

	if (st == 200) {
		id = jint(json_object_get(j, "attempt"), "id", 0);
		if (attempt)
			*attempt = json_incref(json_object_get(j, "attempt"));
	}
	json_decref(j);
	return st == 200 ? id : -st;
}

static void test_claim_wakes_and_runs(void **state)
{
	struct claimer c = {0, NULL, 0,
			    "{\"boards\": [\"qx\"], \"build\": false, \"wait_ms\": 20000}"};
	pthread_t t;
	json_t *j = NULL, *a;
	char path[128], body[256];
	long long id;

	(void)state;
	/* Nothing queued: a short poll gets 204. */
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
				      "{\"boards\": [\"qx\"], \"wait_ms\": 200}", NULL),
			 204);
	pthread_create(&t, NULL, claim_thread, &c);
	usleep(300 * 1000);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\":"
				      " [\"fake-smoke\"]}",
				      &j),
			 201);
	json_decref(j);
	pthread_join(t, NULL);
	assert_int_equal(c.status, 200);
	assert_true(c.ms < 5000); /* woken by the flight, not by the timeout */
	a = json_object_get(c.reply, "attempt");
	id = jint(a, "id", 0);
	assert_true(id > 0);
	assert_string_equal(jstr(a, "board", ""), "qx");
	assert_string_equal(jstr(json_object_get(a, "job"), "name", ""), "fake-smoke");
	assert_string_equal(jstr(json_object_get(a, "revision"), "commit", ""), COMMIT);
	json_decref(c.reply);

	/* Another agent may not touch it. */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	assert_int_equal(harness_call(&ctl, other_tok, "POST", path, "{}", NULL), 403);
	assert_int_equal(harness_call(&ctl, NULL, "POST", path, "{}", NULL), 401);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, "{\"stage\": \"hello\"}", &j),
			 200);
	assert_string_equal(jstr(j, "state", ""), "running");
	json_decref(j);

	/* Log: append, replay, overlap, gap. */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "hello ", 6, &j, NULL),
			 200);
	assert_int_equal(jint(j, "length", -1), 6);
	json_decref(j);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "hello ", 6, &j, NULL),
			 200); /* replay */
	assert_int_equal(jint(j, "length", -1), 6);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=3", id);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "lo world\n", 9, &j, NULL),
			 200); /* overlap */
	assert_int_equal(jint(j, "length", -1), 12);
	json_decref(j);
	/* an overlap, or a replay, whose bytes differ from the stored ones: 409, nothing
	 * stored (the GET below still reads "hello world\n") */
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "lo WORLD\nmore", 13, &j,
					    NULL),
			 409);
	assert_string_equal(jstr(j, "error", ""), "log conflict");
	assert_int_equal(jint(json_object_get(j, "detail"), "length", -1), 12);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "hellO ", 6, NULL, NULL),
			 409);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=20", id);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "x", 1, &j, NULL),
			 409);
	assert_int_equal(jint(json_object_get(j, "detail"), "length", -1), 12);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=12", id);
	assert_int_equal(harness_call_bytes(&ctl, other_tok, "PUT", path,
					    "application/octet-stream", "evil", 4, NULL, NULL),
			 403);
	{
		struct http_client h;
		struct http_reply r;

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", id);
		harness_http(&ctl, NULL, &h);
		http_reply_init(&r);
		assert_int_equal(http_request(&h, "GET", path, NULL, NULL, 0, NULL, &r), 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body.len, 12);
		assert_memory_equal(r.body.data, "hello world\n", 12);
		http_reply_release(&r);
		http_client_release(&h);
	}

	/* Result, its replay, a different one. */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	snprintf(body, sizeof(body),
		 "{\"verdict\": \"pass\", \"stages\": [{\"name\": \"hello\", \"result\": \"pass\","
		 " \"seconds\": 0.5}], \"testcases\": [{\"name\": \"zz\", \"result\": \"skip\"},"
		 " {\"name\": \"t1\", \"result\": \"pass\"}], \"log_length\": 12}");
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"maybe\"}", NULL), 400);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, body, &j), 200);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, body, &j), 200);
	assert_true(jbool(j, "replay", 0));
	json_decref(j);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"fail\"}", NULL), 409);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, "{}", NULL), 410);

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_string_equal(jstr(j, "state", ""), "pass");
	assert_int_equal(json_array_size(json_object_get(j, "testcases")), 2);
	assert_int_equal(jint(j, "log_length", 0), 12);
	/* the flight's twin: each attempt's test cases, in the order reported */
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", jint(j, "flight", 0));
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	{
		json_t *x, *tcs = NULL;
		size_t i;

		json_array_foreach (json_object_get(j, "attempts"), i, x)
			if (jint(x, "id", 0) == id)
				tcs = json_object_get(x, "testcases");
			else
				assert_int_equal(json_array_size(json_object_get(x, "testcases")),
						 0);
		assert_int_equal(json_array_size(tcs), 2);
		assert_string_equal(jstr(json_array_get(tcs, 0), "name", ""), "zz");
		assert_string_equal(jstr(json_array_get(tcs, 0), "result", ""), "skip");
		assert_string_equal(jstr(json_array_get(tcs, 1), "name", ""), "t1");
		assert_string_equal(jstr(json_array_get(tcs, 1), "result", ""), "pass");
	}
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/boards/qx", NULL, &j), 200);
	assert_string_equal(jstr(j, "state", ""), "idle");
	json_decref(j);
}

static void test_build_then_tests(void **state)
{
	static const char blob[] = "pretend this is xen.gz";
	char sha[SHA256_HEX_LEN + 1], path[160], body[512];
	json_t *j = NULL, *a = NULL;
	long long build, test, flight;

	(void)state;
	sha256_hex(sha, blob, sizeof(blob) - 1);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\":"
				      " [\"xen-smoke\"], \"priority\": \"gate\"}",
				      &j),
			 201);
	flight = jint(j, "id", 0);
	assert_int_equal(json_array_size(json_object_get(j, "builds")), 1);
	json_decref(j);
	/* The test waits for its build: a board-only claim finds nothing. */
	assert_int_equal(claim_now("{\"boards\": [\"qx\"], \"wait_ms\": 0}", NULL), -204);
	build = claim_now("{\"boards\": [], \"build\": true, \"wait_ms\": 0}", &a);
	assert_true(build > 0);
	assert_string_equal(jstr(a, "kind", ""), "build");
	assert_true(json_is_null(json_object_get(a, "board")));
	json_decref(a);

	/* Upload: a wrong hash is refused and nothing is stored. */
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "not the bytes", 13, &j,
					    NULL),
			 422);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, NULL), 404);
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "PUT", path, "application/octet-stream",
					    blob, sizeof(blob) - 1, NULL, NULL),
			 403);
	/* A result naming an artifact not uploaded yet. */
	snprintf(body, sizeof(body),
		 "{\"verdict\": \"pass\", \"artifacts\": {\"xen\": {\"sha256\": \"%s\", \"size\":"
		 " %zu}}, \"build_info\": {\"xen_version\": \"4.17\"}}",
		 sha, sizeof(blob) - 1);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", build);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, body, NULL), 422);
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", blob, sizeof(blob) - 1,
					    NULL, NULL),
			 201);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", blob, sizeof(blob) - 1,
					    NULL, NULL),
			 200);
	/* An empty artifact from a builder agent (a build that wrote an empty file):
	 * stored, and the controller still answers (it once took its own lock again
	 * for an empty body and froze every thread). */
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT",
					    "/api/v1/artifacts/e3b0c44298fc1c149afbf4c8996fb924"
					    "27ae41e4649b934ca495991b7852b855",
					    "application/octet-stream", "", 0, NULL, NULL),
			 201);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/version", NULL, NULL), 200);
	{
		struct http_client h;
		struct http_reply r;
		const char *range[] = {"Range: bytes=8-11", NULL};

		harness_http(&ctl, NULL, &h);
		http_reply_init(&r);
		assert_int_equal(http_request(&h, "GET", path, NULL, NULL, 0, range, &r), 0);
		assert_int_equal(r.status, 206);
		assert_int_equal(r.body.len, 4);
		assert_memory_equal(r.body.data, "this", 4);
		http_reply_release(&r);
		http_reply_init(&r);
		range[0] = "Range: bytes=100-";
		assert_int_equal(http_request(&h, "GET", path, NULL, NULL, 0, range, &r), 0);
		assert_int_equal(r.status, 416);
		assert_string_equal(jstr(r.json, "error", ""), "range not satisfiable");
		http_reply_release(&r);
		http_client_release(&h);
	}
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", build);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, body, NULL), 200);

	/* The build passed: the test is queued with the artifacts attached. */
	test = claim_now("{\"boards\": [\"qx\"], \"wait_ms\": 0}", &a);
	assert_true(test > 0);
	assert_string_equal(
	    jstr(json_object_get(json_object_get(a, "artifacts"), "xen"), "sha256", ""), sha);
	assert_string_equal(jstr(json_object_get(a, "build_info"), "xen_version", ""), "4.17");
	json_decref(a);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", test);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"fail\"}", NULL), 200);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", flight);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_string_equal(jstr(j, "state", ""), "done");
	assert_int_equal(jint(json_object_get(j, "counts"), "fail", 0), 1);
	json_decref(j);
}

static void test_build_failure_cancels(void **state)
{
	json_t *j = NULL;
	char path[128];
	long long build, flight;
	size_t i;
	json_t *a;

	(void)state;
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT_FAILS
				      "\", \"jobs\":"
				      " [\"xen-smoke\"]}",
				      &j),
			 201);
	flight = jint(j, "id", 0);
	json_decref(j);
	build = claim_now("{\"boards\": [], \"build\": true, \"wait_ms\": 0}", NULL);
	assert_true(build > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", build);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"fail\"}", NULL), 200);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", flight);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	json_array_foreach (json_object_get(j, "attempts"), i, a) {
		if (strcmp(jstr(a, "kind", ""), "test"))
			continue;
		assert_string_equal(jstr(a, "state", ""), "cancelled");
		assert_string_equal(jstr(a, "reason", ""), "build failed");
	}
	assert_string_equal(jstr(j, "state", ""), "done");
	json_decref(j);
}

/* The build attempt carries what its flight's tests on its arch need ("wants",
 * the union of their jobs' artifacts): a flight of xen-smoke only never asks
 * the builder for the tools; one with xen-guest asks for dom0-rootfs. */
static void test_build_wants(void **state)
{
	static const char *const flights[] = {"[\"xen-smoke\"]", "[\"xen-smoke\", \"xen-guest\"]"};
	static const char *const wants[] = {"[\"xen\"]",
					    "[\"xen\", \"dom0-kernel\", \"dom0-rootfs\"]"};
	char body[256], path[128];
	json_t *j = NULL, *a = NULL, *want;
	long long build;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		snprintf(body, sizeof(body),
			 "{\"tree\": \"xen\", \"commit\": \"" COMMIT_WANTS "\", \"jobs\": %s}", k,
			 flights[k]);
		assert_int_equal(
		    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j), 201);
		json_decref(j);
		build = claim_now("{\"boards\": [], \"build\": true, \"wait_ms\": 0}", &a);
		assert_true(build > 0);
		want = json_loads(wants[k], 0, NULL);
		assert_true(json_equal(json_object_get(a, "wants"), want));
		json_decref(want);
		json_decref(a);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", build);
		assert_int_equal(
		    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"fail\"}", NULL),
		    200);
	}
}

/* A job with variants is one job per variant, named JOB/VARIANT: a flight of
 * the job runs every variant, a flight of JOB/VARIANT that one; each attempt
 * gets its variant's boot arguments; GET /jobs lists them. */
static void test_job_variants(void **state)
{
	static const char *const flights[] = {"[\"vjob\"]", "[\"vjob/b\"]"};
	static const char *const want[] = {"vjob/a vjob/b ", "vjob/b "};
	char body[256], names[128], path[128];
	json_t *j = NULL, *a, *att = NULL;
	size_t i;
	int k;
	long long id;

	(void)state;
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/jobs", NULL, &j), 200);
	names[0] = '\0';
	json_array_foreach (json_object_get(j, "jobs"), i, a)
		if (!strncmp(jstr(a, "name", ""), "vjob", 4))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s ",
				 jstr(a, "name", ""));
	assert_string_equal(names, "vjob/a vjob/b ");
	json_decref(j);
	for (k = 0; k < 2; k++) {
		snprintf(body, sizeof(body),
			 "{\"tree\": \"xen\", \"commit\": \"" COMMIT_VARIANTS "\", \"jobs\": %s}",
			 flights[k]);
		assert_int_equal(
		    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j), 201);
		names[0] = '\0';
		json_array_foreach (json_object_get(j, "attempts"), i, a)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s ",
				 jstr(a, "job", ""));
		assert_string_equal(names, want[k]);
		json_decref(j);
	}
	/* the attempt carries its variant's definition */
	id = claim_now("{\"boards\": [\"qx\"], \"wait_ms\": 0}", &att);
	assert_true(id > 0);
	assert_string_equal(jstr(json_object_get(att, "job"), "variant", ""), "a");
	assert_string_equal(
	    jstr(json_object_get(json_object_get(att, "job"), "boot"), "xen_args", ""),
	    "base sched=a");
	json_decref(att);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL), 200);
}

/* A flight of xen-smoke at commit: its id; its build attempt's id into *build (0:
 * none of its own) and its test's state into tstate (its reason into why). */
static long long smoke_flight(const char *commit, long long *build, char *tstate, char *why)
{
	char body[256];
	json_t *j = NULL, *a;
	long long id;
	size_t i;

	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"xen-smoke\"]}", commit);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	id = jint(j, "id", 0);
	*build = 0;
	json_array_foreach (json_object_get(j, "attempts"), i, a) {
		if (!strcmp(jstr(a, "kind", ""), "build")) {
			*build = jint(a, "id", 0);
		} else {
			snprintf(tstate, 32, "%s", jstr(a, "state", ""));
			snprintf(why, 64, "%s", jstr(a, "reason", ""));
		}
	}
	json_decref(j);
	return id;
}

/* Builds are per (tree, commit, arch) and shared (schema/0075): a later flight
 * of a commit whose build passed takes it (no build, its test queued at once);
 * whose build failed takes the failure (the same commit fails again: its test is
 * cancelled at once, no build); whose build ended infra after its tries (lab
 * trouble says nothing of the code) makes a build of its own. */
static void test_build_sharing(void **state)
{
	char st[32], why[64], path[128];
	long long build, b, f;
	json_t *a = NULL;
	int k;

	(void)state;
	/* COMMIT's build passed (test_build_then_tests) */
	smoke_flight(COMMIT, &build, st, why);
	assert_int_equal(build, 0);
	assert_string_equal(st, "queued");
	/* COMMIT_FAILS's failed (test_build_failure_cancels) */
	smoke_flight(COMMIT_FAILS, &build, st, why);
	assert_int_equal(build, 0);
	assert_string_equal(st, "cancelled");
	assert_string_equal(why, "build failed");
	/* COMMIT_INFRA: every try ends infra */
	f = smoke_flight(COMMIT_INFRA, &build, st, why);
	assert_true(build > 0);
	for (k = 0; k < 3; k++) { /* max_attempts */
		b = claim_now("{\"boards\": [], \"build\": true, \"wait_ms\": 0}", &a);
		assert_true(b > 0);
		assert_int_equal(jint(a, "flight", 0), f);
		json_decref(a);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", b);
		assert_int_equal(harness_call(&ctl, agent_tok, "POST", path,
					      "{\"verdict\": \"infra\", \"reason\": \"disk\"}",
					      NULL),
				 200);
	}
	assert_int_equal(claim_now("{\"boards\": [], \"build\": true, \"wait_ms\": 0}", NULL),
			 -204);
	f = smoke_flight(COMMIT_INFRA, &build, st, why);
	assert_true(build > 0); /* a build of its own */
	assert_string_equal(st, "waiting");
	b = claim_now("{\"boards\": [], \"build\": true, \"wait_ms\": 0}", &a);
	assert_int_equal(b, build);
	assert_int_equal(jint(a, "flight", 0), f);
	json_decref(a);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", b);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"fail\"}", NULL), 200);
}

static void test_bad_input(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(
	    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", "{\"tree\": ", &j), 400);
	assert_string_equal(jstr(j, "error", ""), "malformed JSON");
	json_decref(j);
	assert_int_equal(
	    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", "[1]", NULL), 400);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"xyz\"}", &j),
			 400);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT
				      "\", \"jobs\": [\"nope\"]}",
				      &j),
			 422);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": 7, \"commit\": \"" COMMIT "\"}", NULL),
			 400);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/nothing", NULL, &j), 404);
	assert_string_equal(jstr(j, "error", ""), "not found");
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "DELETE", "/api/v1/boards", NULL, NULL), 405);
	assert_int_equal(harness_call(&ctl, "xci_wrong", "GET", "/api/v1/boards", NULL, NULL), 401);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/attempts/abc", NULL, NULL), 404);
	assert_int_equal(
	    harness_call(&ctl, NULL, "GET", "/api/v1/attempts?state=bogus", NULL, NULL), 400);
	{
		char *big = malloc(200000);

		memset(big, ' ', 199999);
		big[0] = '{';
		big[199998] = '}';
		big[199999] = '\0';
		assert_int_equal(
		    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", big, &j), 413);
		assert_string_equal(jstr(j, "error", ""), "body too large");
		json_decref(j);
		free(big);
	}
	/* Nothing above made a flight. */
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/flights", NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "flights")), 3);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_declare),
	    cmocka_unit_test(test_claim_wakes_and_runs),
	    cmocka_unit_test(test_build_then_tests),
	    cmocka_unit_test(test_build_failure_cancels),
	    cmocka_unit_test(test_bad_input),
	    /* after test_bad_input, which counts the flights */
	    cmocka_unit_test(test_build_wants),
	    cmocka_unit_test(test_job_variants),
	    cmocka_unit_test(test_build_sharing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
