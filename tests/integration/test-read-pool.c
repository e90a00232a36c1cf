/* The read pool (docs/architecture.md): reads run on threads of their own,
 * each through its own read-only connection, beside the agents' writes on the
 * polling thread. Against a real controller, without the reply cache (every read
 * reaches the pool), with one listener and again with the agents' own
 * (agent_listen: the agents' requests there, the reads on the public listener's
 * workers, inline):
 *  - reads of every ROUTE_READ route and an agent's claim, heartbeats, log chunks
 *    and result at once: every reply right, each reader sees the attempt's log
 *    grow and never shrink (a snapshot per read), and the result read back at once
 *    (run under `make SANITIZE=thread` too: tests/README.md);
 *  - a slow reader: with reads held (XENCI_TEST_READ_GATE), an agent's heartbeat
 *    and log chunk are answered (before the pool, a held read held ctl.lock and the
 *    polling thread, and the heartbeat was not answered until it let go). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define COMMIT	"89abcdef0123456789abcdef0123456789abcdef"
#define READERS 4
#define CHUNKS	150

static struct harness_controller ctl;
/* where the agent's requests go: ctl, or a copy of it for the agents' listener */
static struct harness_controller agents;
static char agent_tok[128], gate[400];

static const char job_fake[] = "name: fake-smoke\n"
			       "requires: {arch: [x86_64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 60}\n";

static long long claim(const char *board)
{
	char body[128];
	json_t *j = NULL;
	long st;
	long long id;

	snprintf(body, sizeof(body), "{\"boards\": [\"%s\"], \"wait_ms\": 0}", board);
	st = harness_call(&agents, agent_tok, "POST", "/api/v1/agents/lab-a/claim", body, &j);
	id = st == 200 ? jint(json_object_get(j, "attempt"), "id", 0) : -st;
	json_decref(j);
	return id;
}

/* split: with an agents' listener, which the agent's requests then use. */
static int setup(int split)
{
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = split ? "agent_listen: 127.0.0.1:0\n" : NULL;
	if (!split) /* one listener, even when the suite runs with two */
		unsetenv("XENCI_TEST_AGENT_LISTEN");
	/* every read reaches the pool, none is answered from the cache */
	setenv("XENCI_NO_CACHE", "1", 1);
	snprintf(gate, sizeof(gate), "%s/read-gate", ctl.dir);
	setenv("XENCI_TEST_READ_GATE", gate, 1);
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	agents = ctl;
	if (split) {
		if (!ctl.agent_url[0] || !strcmp(ctl.agent_url, ctl.url))
			return -1;
		snprintf(agents.url, sizeof(agents.url), "%s", ctl.agent_url);
	}
	if (harness_call(&agents, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"qx\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}, {\"name\": \"qy\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}]}",
			 NULL) != 200)
		return -1;
	return 0;
}

static int setup_one(void **state)
{
	(void)state;
	return setup(0);
}

static int setup_split(void **state)
{
	(void)state;
	return setup(1);
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("XENCI_NO_CACHE");
	unsetenv("XENCI_TEST_READ_GATE");
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

struct reader {
	pthread_t tid;
	long long flight, attempt;
	atomic_int *stop;
	int reads, bad; /* replies that were not 200 with the right body */
	int shrunk;	/* the attempt's log_length read lower than before */
	long long seen; /* the largest log_length read */
	char what[256]; /* the first bad reply */
};

static void *reader_main(void *p)
{
	struct reader *rd = p;
	char paths[10][96];
	int i = 0;

	snprintf(paths[0], sizeof(paths[0]), "/api/v1/attempts/%lld", rd->attempt);
	snprintf(paths[1], sizeof(paths[1]), "/api/v1/attempts?limit=50");
	snprintf(paths[2], sizeof(paths[2]), "/api/v1/flights/%lld", rd->flight);
	snprintf(paths[3], sizeof(paths[3]), "/api/v1/flights");
	snprintf(paths[4], sizeof(paths[4]), "/api/v1/boards/qx");
	snprintf(paths[5], sizeof(paths[5]), "/api/v1/overview");
	snprintf(paths[6], sizeof(paths[6]), "/flights/%lld", rd->flight);
	snprintf(paths[7], sizeof(paths[7]), "/");
	snprintf(paths[8], sizeof(paths[8]), "/boards/qx");
	snprintf(paths[9], sizeof(paths[9]), "/api/v1/bisections");
	while (!atomic_load(rd->stop)) {
		const char *path = paths[i % 10];
		struct buf text = BUF_INIT(4 << 20);
		json_t *j = NULL;
		long st = path[1] == 'a' ? harness_call(&ctl, NULL, "GET", path, NULL, &j)
					 : harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL,
							      0, NULL, &text);
		int ok = st == 200 && (path[1] != 'a' || j != NULL);

		if (ok && i % 10 == 0) {
			long long len = jint(j, "log_length", -1);

			ok = jint(j, "id", 0) == rd->attempt && len >= 0;
			if (len < rd->seen)
				rd->shrunk++;
			if (len > rd->seen)
				rd->seen = len;
		}
		if (ok && i % 10 == 6)
			ok = strstr(buf_cstr(&text), "fake-smoke") != NULL;
		if (ok && i % 10 == 8)
			ok = strstr(buf_cstr(&text), "qx") != NULL;
		if (!ok && rd->bad++ == 0)
			snprintf(rd->what, sizeof(rd->what), "GET %s: %ld", path, st);
		rd->reads++;
		json_decref(j);
		buf_release(&text);
		i++;
	}
	return NULL;
}

static void test_reads_beside_writes(void **state)
{
	struct reader rd[READERS];
	atomic_int stop = 0;
	char path[96], chunk[64], body[256];
	long long f, id, off = 0;
	json_t *j = NULL;
	int i, reads = 0;

	(void)state;
	f = harness_flight(&ctl, COMMIT);
	assert_true(f > 0);
	id = claim("qx");
	assert_true(id > 0);
	for (i = 0; i < READERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].flight = f;
		rd[i].attempt = id;
		rd[i].stop = &stop;
		assert_int_equal(pthread_create(&rd[i].tid, NULL, reader_main, &rd[i]), 0);
	}
	/* the agent's side meanwhile: heartbeats and log chunks, then the result */
	for (i = 0; i < CHUNKS; i++) {
		int n = snprintf(chunk, sizeof(chunk), "hello line %d\n", i);

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
		assert_int_equal(
		    harness_call(&agents, agent_tok, "POST", path, "{\"stage\": \"hello\"}", NULL),
		    200);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=%lld", id, off);
		assert_int_equal(harness_call_bytes(&agents, agent_tok, "PUT", path,
						    "application/octet-stream", chunk, (size_t)n,
						    NULL, NULL),
				 200);
		off += n;
	}
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	snprintf(body, sizeof(body),
		 "{\"verdict\": \"pass\", \"stages\": [{\"name\": \"hello\", \"result\": \"pass\","
		 " \"seconds\": 0.5}], \"log_length\": %lld}",
		 off);
	assert_int_equal(harness_call(&agents, agent_tok, "POST", path, body, NULL), 200);
	/* read back at once, through the pool (or a public worker) */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_string_equal(jstr(j, "state", ""), "pass");
	assert_int_equal(jint(j, "log_length", -1), off);
	json_decref(j);
	atomic_store(&stop, 1);
	for (i = 0; i < READERS; i++) {
		pthread_join(rd[i].tid, NULL);
		if (rd[i].bad)
			fail_msg("reader %d: %d bad replies of %d, the first %s", i, rd[i].bad,
				 rd[i].reads, rd[i].what);
		assert_int_equal(rd[i].shrunk, 0);
		reads += rd[i].reads;
	}
	print_message("%d reads beside %d heartbeats and log chunks\n", reads, CHUNKS);
	assert_true(reads > 0);
	/* a write where reads ran (a public worker writes through the writer) */
	assert_true(harness_flight(&ctl, "0123456789abcdef0123456789abcdef01234567") > 0);
	/* no read route tried to write */
	harness_sh(ctl.dir, "! grep -q 'write through a read' '%s'", ctl.log);
}

struct held {
	pthread_t tid;
	long st;
};

static void *held_main(void *p)
{
	struct held *h = p;

	h->st = harness_call(&ctl, NULL, "GET", "/api/v1/flights", NULL, NULL);
	return NULL;
}

static void test_slow_reader(void **state)
{
	struct harness_controller agent;
	struct held h[3];
	char mark[420], path[96];
	long long id, deadline;
	long hb, lg;
	json_t *j = NULL;
	int i, still;

	(void)state;
	id = claim("qy");
	assert_true(id > 0);
	harness_write_file(ctl.dir, "read-gate", "");
	snprintf(mark, sizeof(mark), "%s.held", gate);
	for (i = 0; i < 3; i++) {
		h[i].st = -1;
		assert_int_equal(pthread_create(&h[i].tid, NULL, held_main, &h[i]), 0);
	}
	/* a guard, not a timing: the reads get to their handlers */
	deadline = harness_now_ms() + 30000;
	while (access(mark, F_OK) != 0) {
		if (harness_now_ms() > deadline) {
			unlink(gate);
			fail_msg("no read was held within 30 s");
		}
		usleep(10 * 1000);
	}
	/* While they are held, the agent is answered (a copy of the controller's
	 * handle with a bound, read by the held threads meanwhile). */
	agent = agents;
	agent.http_timeout_ms = 20000;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	hb = harness_call(&agent, agent_tok, "POST", path, "{\"stage\": \"hello\"}", &j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	lg = harness_call_bytes(&agent, agent_tok, "PUT", path, "application/octet-stream",
				"hello\n", 6, NULL, NULL);
	/* the reads were still held when the agent got its answers */
	still = access(gate, F_OK) == 0;
	unlink(gate);
	for (i = 0; i < 3; i++)
		pthread_join(h[i].tid, NULL);
	assert_int_equal(hb, 200);
	assert_int_equal(lg, 200);
	assert_true(still);
	for (i = 0; i < 3; i++)
		assert_int_equal(h[i].st, 200);
	unlink(mark);
	assert_non_null(j);
	assert_string_equal(jstr(j, "state", ""), "running");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_beside_writes),
	    cmocka_unit_test(test_slow_reader),
	};

	int failed = cmocka_run_group_tests_name("one listener", tests, setup_one, teardown);

	return failed + cmocka_run_group_tests_name("the agents' own listener", tests, setup_split,
						    teardown);
}
