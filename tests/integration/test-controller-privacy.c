/* Private boards leave no trace on the views of those who may not see them.
 * A flight runs on a public board (lab-a's "pub": pass) and a private one (lab-b's
 * "secret": fail). Anonymous and user viewers get, in the flight list, the flight's
 * twin, the overview twin and the overview and flight pages, neither the board's
 * name nor its failure in the counts; the admin and lab-b see both. The same rule
 * holds for /metrics and the agent list (their counts), for what another agent is
 * told when it reaches for the board or its attempt, and for a flight asked for
 * on the board by name, for the event stream (no private board's name), and a
 * revoked token's open live tail ends at the next event (docs/security.md
 * "Visibility"). The counts an admin and anyone see are stored when the attempts
 * change (migration 132): a board its agent declares public again, then private,
 * changes what anyone's flight list counts, and an agent's own count (its private
 * board's too) stays counted per read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define COMMIT "00112233445566778899aabbccddeeff00112233"

static struct harness_controller ctl;
static char extra[512];

enum who { ANON, USER, AGENT_A, AGENT_B, ADMIN, NWHO };
static const char *const who_name[NWHO] = {"anonymous", "user", "lab-a", "lab-b", "admin"};
static char tok[NWHO][128];

/* w's token (NULL: anonymous). */
static const char *as(enum who w)
{
	return w == ANON ? NULL : tok[w];
}
static long long flight;

static const char job_fake[] = "name: fake-smoke\nrequires: {arch: [x86_64]}\n";

/* Claims the board for agent w and posts verdict. */
static void run_on(enum who w, const char *agent, const char *board, const char *verdict)
{
	char path[128], body[128];
	json_t *j = NULL;
	long long id;

	snprintf(path, sizeof(path), "/api/v1/agents/%s/claim", agent);
	snprintf(body, sizeof(body), "{\"boards\": [\"%s\"], \"wait_ms\": 0}", board);
	assert_int_equal(harness_call(&ctl, as(w), "POST", path, body, &j), 200);
	id = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	snprintf(body, sizeof(body), "{\"verdict\": \"%s\", \"reason\": \"by %s\"}", verdict,
		 board);
	assert_int_equal(harness_call(&ctl, as(w), "POST", path, body, NULL), 200);
}

static int setup(void **state)
{
	json_t *j = NULL;

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	/* A watched tree: a user's flight is of a commit in one. */
	harness_sh(ctl.dir,
		   "git init -q -b master xen && cd xen && echo a > README && git add "
		   "README && git -c user.name=t -c user.email=t@example.org commit -qm base");
	snprintf(extra, sizeof(extra), "trees:\n  xen:\n    source: %s/xen\n    interval: 3600\n",
		 ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0)
		return -1;
	snprintf(tok[ADMIN], sizeof(tok[ADMIN]), "%s", ctl.admin_token);
	if (harness_token(&ctl, "user", NULL, tok[USER], sizeof(tok[USER])) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", tok[AGENT_A], sizeof(tok[AGENT_A])) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", tok[AGENT_B], sizeof(tok[AGENT_B])) < 0)
		return -1;
	if (harness_call(&ctl, as(AGENT_A), "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"pub\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}]}",
			 NULL) != 200 ||
	    harness_call(
		&ctl, as(AGENT_B), "PUT", "/api/v1/agents/lab-b/boards",
		"{\"protocol\": 1, \"boards\": [{\"name\": \"secret\", \"arch\": \"x86_64\","
		" \"class\": \"q35\", \"visibility\": \"private\"}]}",
		NULL) != 200)
		return -1;
	if (harness_call(&ctl, as(ADMIN), "POST", "/api/v1/flights",
			 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", &j) != 201)
		return -1;
	flight = jint(j, "id", 0);
	json_decref(j);
	return flight > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* The counts of flight f as seen: "pass/fail". */
static void counts_of(const json_t *f, long long *pass, long long *fail)
{
	const json_t *c = json_object_get(f, "counts");

	assert_non_null(c);
	*pass = jint(c, "pass", -1);
	*fail = jint(c, "fail", -1);
}

static void test_views(void **state)
{
	long long pass, fail;
	enum who w;
	char path[128];

	(void)state;
	run_on(AGENT_A, "lab-a", "pub", "pass");
	run_on(AGENT_B, "lab-b", "secret", "fail");
	for (w = ANON; w < NWHO; w++) {
		int sees = w == ADMIN || w == AGENT_B;
		json_t *j = NULL, *f;
		struct buf body = BUF_INIT(HTTP_REPLY_MAX);
		const char *text;
		size_t i;

		/* The flight list (the API and the overview twin) and its counts. */
		assert_int_equal(harness_call_bytes(&ctl, as(w), "GET", "/api/v1/flights", NULL,
						    NULL, 0, &j, &body),
				 200);
		text = buf_cstr(&body);
		f = NULL;
		json_array_foreach (json_object_get(j, "flights"), i, f) {
			if (jint(f, "id", 0) == flight)
				break;
		}
		assert_non_null(f);
		counts_of(f, &pass, &fail);
		assert_int_equal(pass, 1);
		assert_int_equal(fail, sees ? 1 : 0);
		assert_int_equal(strstr(text, "secret") != NULL, 0); /* lists carry no boards */
		json_decref(j);
		buf_reset(&body);

		assert_int_equal(harness_call_bytes(&ctl, as(w), "GET", "/api/v1/overview", NULL,
						    NULL, 0, &j, &body),
				 200);
		text = buf_cstr(&body);
		f = json_array_get(json_object_get(j, "flights"), 0);
		assert_int_equal(jint(f, "id", 0), flight);
		counts_of(f, &pass, &fail);
		assert_int_equal(fail, sees ? 1 : 0);
		if (!sees && strstr(text, "secret"))
			fail_msg("%s: the overview twin names the private board: %s", who_name[w],
				 text);
		json_decref(j);
		buf_reset(&body);

		/* The flight's twin: the private attempt and its count. */
		snprintf(path, sizeof(path), "/api/v1/flights/%lld", flight);
		assert_int_equal(
		    harness_call_bytes(&ctl, as(w), "GET", path, NULL, NULL, 0, &j, &body), 200);
		text = buf_cstr(&body);
		counts_of(j, &pass, &fail);
		assert_int_equal(pass, 1);
		assert_int_equal(fail, sees ? 1 : 0);
		assert_int_equal(json_array_size(json_object_get(j, "attempts")), sees ? 2 : 1);
		assert_int_equal(strstr(text, "secret") != NULL, sees);
		json_decref(j);
		buf_reset(&body);

		/* The pages. */
		assert_int_equal(
		    harness_call_bytes(&ctl, as(w), "GET", "/", NULL, NULL, 0, NULL, &body), 200);
		text = buf_cstr(&body);
		assert_non_null(strstr(text, "1 pass"));
		if (sees ? !strstr(text, "1 fail") : strstr(text, "fail") || strstr(text, "secret"))
			fail_msg("%s: overview page %s the private failure", who_name[w],
				 sees ? "lacks" : "shows");
		buf_reset(&body);
		snprintf(path, sizeof(path), "/flights/%lld", flight);
		assert_int_equal(
		    harness_call_bytes(&ctl, as(w), "GET", path, NULL, NULL, 0, NULL, &body), 200);
		text = buf_cstr(&body);
		assert_non_null(strstr(text, "pub"));
		if ((strstr(text, "secret") != NULL) != sees ||
		    (strstr(text, "by secret") != NULL) != sees)
			fail_msg("%s: flight page %s the private board", who_name[w],
				 sees ? "lacks" : "shows");
		if (!sees && strstr(text, "1 fail"))
			fail_msg("%s: flight page counts the private failure", who_name[w]);
		buf_release(&body);
	}
}

/* The sum of the samples of metric (lines "NAME{...} N") in text. */
static long long metric_sum(const char *text, const char *metric, const char *label)
{
	long long sum = 0;
	size_t n = strlen(metric);
	const char *p;

	for (p = text; (p = strstr(p, metric)) != NULL; p += n) {
		const char *end = strchr(p, '\n');

		if ((p == text || p[-1] == '\n') && p[n] == '{' &&
		    (!label || (strstr(p, label) && strstr(p, label) < end)))
			sum += strtoll(strchr(p, '}') + 1, NULL, 10);
	}
	return sum;
}

/* Finding 10: /metrics and /api/v1/agents count only the boards and attempts the
 * asker may see. */
static void test_counts(void **state)
{
	enum who w;

	(void)state;
	for (w = ANON; w < NWHO; w++) {
		int sees = w == ADMIN || w == AGENT_B;
		struct buf body = BUF_INIT(HTTP_REPLY_MAX);
		json_t *j = NULL, *a;
		size_t i;
		long long online = -1;

		assert_int_equal(
		    harness_call_bytes(&ctl, as(w), "GET", "/metrics", NULL, NULL, 0, NULL, &body),
		    200);
		if (metric_sum(buf_cstr(&body), "xenci_boards", NULL) != (sees ? 2 : 1) ||
		    metric_sum(buf_cstr(&body), "xenci_attempts", "\"fail\"") != (sees ? 1 : 0))
			fail_msg("%s: /metrics counts %s the private board: %s", who_name[w],
				 sees ? "without" : "with", buf_cstr(&body));
		buf_release(&body);
		assert_int_equal(harness_call(&ctl, as(w), "GET", "/api/v1/agents", NULL, &j), 200);
		json_array_foreach (json_object_get(j, "agents"), i, a) {
			if (!strcmp(jstr(a, "name", ""), "lab-b"))
				online = jint(a, "boards_online", -1);
		}
		json_decref(j);
		assert_int_equal(online, sees ? 1 : 0);
	}
}

/* status and body of a request as w, the body's text kept in out (bounded). */
static long call_text(enum who w, const char *method, const char *path, const char *ctype,
		      const char *body, char *out, size_t outlen)
{
	struct buf b = BUF_INIT(HTTP_REPLY_MAX);
	long st = harness_call_bytes(&ctl, as(w), method, path, ctype, body,
				     body ? strlen(body) : 0, NULL, &b);

	snprintf(out, outlen, "%s", buf_cstr(&b));
	buf_release(&b);
	return st;
}

/* Finding 11: another agent reaching for the private board (a claim, a
 * declaration of the same name) or for its attempt learns neither its owner nor,
 * where it can be helped, that it exists: the answers are those for a board or an
 * attempt that does not exist. */
static void test_other_agent(void **state)
{
	char secret[1024], nosuch[1024], path[128];
	json_t *j = NULL;
	long long id;
	long st;

	(void)state;
	/* A claim naming the board: as for an unknown board, no owner named. */
	st = call_text(AGENT_A, "POST", "/api/v1/agents/lab-a/claim", "application/json",
		       "{\"boards\": [\"secret\"], \"wait_ms\": 0}", secret, sizeof(secret));
	assert_int_equal(call_text(AGENT_A, "POST", "/api/v1/agents/lab-a/claim",
				   "application/json", "{\"boards\": [\"nosuch\"], \"wait_ms\": 0}",
				   nosuch, sizeof(nosuch)),
			 st);
	assert_int_equal(st, 404);
	assert_null(strstr(secret, "lab-b"));
	assert_non_null(strstr(secret, "board secret was not declared"));
	/* Declaring the same name: refused, without the owner. */
	st = call_text(AGENT_A, "PUT", "/api/v1/agents/lab-a/boards", "application/json",
		       "{\"protocol\": 1, \"boards\": [{\"name\": \"pub\", \"arch\": \"x86_64\","
		       " \"class\": \"q35\"}, {\"name\": \"secret\", \"arch\": \"x86_64\","
		       " \"class\": \"q35\"}]}",
		       secret, sizeof(secret));
	assert_int_equal(st, 409);
	if (strstr(secret, "lab-b"))
		fail_msg("the 409 names the private board's owner: %s", secret);
	/* The private board's attempt: as an attempt that does not exist. */
	assert_int_equal(
	    harness_call(&ctl, as(ADMIN), "GET", "/api/v1/attempts?board=secret", NULL, &j), 200);
	id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	st = call_text(AGENT_A, "PUT", path, "text/plain", "x", secret, sizeof(secret));
	assert_int_equal(call_text(AGENT_A, "PUT", "/api/v1/attempts/999999/log?offset=0",
				   "text/plain", "x", nosuch, sizeof(nosuch)),
			 404);
	assert_int_equal(st, 404);
}

/* Finding 9: a user's flight on the private board by name is a flight on a board
 * that does not exist: no attempt anywhere, the same answer. */
static void test_flight_by_name(void **state)
{
	const char *names[] = {"secret", "nosuch"};
	long long ids[2];
	json_t *j = NULL;
	char body[256], path[64], head[64];
	int i;

	(void)state;
	harness_shout(ctl.dir, head, sizeof(head), "git -C xen rev-parse HEAD");
	for (i = 0; i < 2; i++) {
		snprintf(body, sizeof(body),
			 "{\"tree\": \"xen\", \"commit\": \"%.40s\", \"board\": \"%s\"}", head,
			 names[i]);
		assert_int_equal(harness_call(&ctl, as(USER), "POST", "/api/v1/flights", body, &j),
				 201);
		ids[i] = jint(j, "id", 0);
		assert_int_equal(json_array_size(json_object_get(j, "attempts")), 0);
		json_decref(j);
		/* As the admin sees it: nothing was queued on the private board. */
		snprintf(path, sizeof(path), "/api/v1/flights/%lld", ids[i]);
		assert_int_equal(harness_call(&ctl, as(ADMIN), "GET", path, NULL, &j), 200);
		if (json_array_size(json_object_get(j, "attempts")) != 0)
			fail_msg("a user's flight on board %s queued an attempt", names[i]);
		json_decref(j);
	}
}

/* Opens a raw stream GET path as token (NULL: anonymous); returns the fd. */
static int stream_open(const char *path, const char *token, long long last_event)
{
	char req[512];
	int fd = harness_connect(ctl.port, NULL);

	assert_true(fd >= 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", path);
	if (token)
		snprintf(req + strlen(req), sizeof(req) - strlen(req),
			 "Authorization: Bearer %s\r\n", token);
	if (last_event >= 0)
		snprintf(req + strlen(req), sizeof(req) - strlen(req), "Last-Event-ID: %lld\r\n",
			 last_event);
	snprintf(req + strlen(req), sizeof(req) - strlen(req), "\r\n");
	assert_int_equal(harness_send(fd, req, strlen(req)), 0);
	return fd;
}

/* Finding 8: the anonymous event stream names no private board (lab-b's
 * declaration of "secret" is there, without the name). */
static void test_event_stream(void **state)
{
	static char acc[1 << 16];
	int fd;

	(void)state;
	acc[0] = '\0';
	fd = stream_open("/api/v1/events", NULL, 0);
	/* flight.created comes after both agents' declarations. */
	assert_int_equal(harness_read_until(fd, acc, sizeof(acc), "event: flight.created", 30000),
			 1);
	close(fd);
	assert_non_null(strstr(acc, "\"lab-b\""));
	if (strstr(acc, "secret"))
		fail_msg("the anonymous event stream names the private board: %s", acc);
}

/* Finding 12: a live tail opened with a token ends at the next event once the
 * token is revoked; the lines after it are not sent. */
static void test_revoked_tail(void **state)
{
	static char acc[1 << 16];
	char tail_tok[128], path[128], rpath[64];
	const char *first = "first private line\n", *second = "second private line\n";
	json_t *j = NULL;
	long long tok_id, id;
	int fd;

	(void)state;
	assert_int_equal(
	    harness_call(&ctl, as(ADMIN), "POST", "/api/v1/tokens",
			 "{\"role\": \"agent\", \"agent\": \"lab-b\", \"name\": \"tail\"}", &j),
	    201);
	snprintf(tail_tok, sizeof(tail_tok), "%s", jstr(j, "token", ""));
	tok_id = jint(j, "id", 0);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, as(ADMIN), "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", NULL),
			 201);
	assert_int_equal(harness_call(&ctl, as(AGENT_B), "POST", "/api/v1/agents/lab-b/claim",
				      "{\"boards\": [\"secret\"], \"wait_ms\": 0}", &j),
			 200);
	id = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	assert_int_equal(harness_call_bytes(&ctl, as(AGENT_B), "PUT", path, "text/plain", first,
					    strlen(first), NULL, NULL),
			 200);

	acc[0] = '\0';
	snprintf(rpath, sizeof(rpath), "/attempts/%lld/tail", id);
	fd = stream_open(rpath, tail_tok, -1);
	assert_int_equal(harness_read_until(fd, acc, sizeof(acc), "first private line", 30000), 1);
	snprintf(path, sizeof(path), "/api/v1/tokens/%lld", tok_id);
	assert_true(harness_call(&ctl, as(ADMIN), "DELETE", path, NULL, NULL) / 100 == 2);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=%zu", id, strlen(first));
	assert_int_equal(harness_call_bytes(&ctl, as(AGENT_B), "PUT", path, "text/plain", second,
					    strlen(second), NULL, NULL),
			 200);
	/* The stream ends (the server closes it) without the second line. */
	if (harness_read_until(fd, acc, sizeof(acc), NULL, 30000) != -1)
		fail_msg("the tail of a revoked token is still open: %s", acc);
	close(fd);
	if (strstr(acc, "second private line"))
		fail_msg("the tail of a revoked token sent a new line: %s", acc);
}

/* The flight's pass/fail counts in w's flight list. */
static void listed_counts(enum who w, long long *pass, long long *fail)
{
	json_t *j = NULL, *f = NULL;
	size_t i;

	assert_int_equal(harness_call(&ctl, as(w), "GET", "/api/v1/flights", NULL, &j), 200);
	json_array_foreach (json_object_get(j, "flights"), i, f)
		if (jint(f, "id", 0) == flight)
			break;
	assert_true(i < json_array_size(json_object_get(j, "flights")));
	counts_of(f, pass, fail);
	json_decref(j);
}

static void declare_secret(const char *visibility)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"protocol\": 1, \"boards\": [{\"name\": \"secret\", \"arch\":"
		 " \"x86_64\", \"class\": \"q35\", \"visibility\": \"%s\"}]}",
		 visibility);
	assert_int_equal(
	    harness_call(&ctl, as(AGENT_B), "PUT", "/api/v1/agents/lab-b/boards", body, NULL), 200);
}

static void test_visibility_changes(void **state)
{
	long long pass, fail;

	(void)state;
	declare_secret("public");
	listed_counts(ANON, &pass, &fail);
	assert_int_equal(pass, 1);
	assert_int_equal(fail, 1); /* the board's failure is anyone's now */
	declare_secret("private");
	listed_counts(ANON, &pass, &fail);
	assert_int_equal(fail, 0);
	listed_counts(ADMIN, &pass, &fail);
	assert_int_equal(fail, 1);
	listed_counts(AGENT_B, &pass, &fail);
	assert_int_equal(fail, 1);
	listed_counts(AGENT_A, &pass, &fail);
	assert_int_equal(pass, 1);
	assert_int_equal(fail, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_views),	 cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_other_agent),	 cmocka_unit_test(test_flight_by_name),
	    cmocka_unit_test(test_event_stream), cmocka_unit_test(test_revoked_tail),
	    cmocka_unit_test(test_visibility_changes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
