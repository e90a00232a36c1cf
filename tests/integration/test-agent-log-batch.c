/* The agent's log sender sends the console in batches (client.h,
 * CLIENT_LOG_LINGER_MS), not one PUT per console read: against a real controller,
 * 2,000 small writes spooled half a millisecond apart (a firmware's TFTP progress
 * marks come so) reach the controller whole and in order in far fewer requests
 * than writes: at most one PUT a linger (before: 336 here, whose CPU slowed a QEMU board's TFTP). A
 * count, not a timing. */
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
#include "../../lab-agent/board.h"
#include "../../lab-agent/client.h"
#include "../../lab-agent/spool.h"

#define COMMIT "89abcdef0123456789abcdef0123456789abcdef"
#define WRITES 2000

static struct harness_controller ctl;
static char agent_tok[128];

static const char job_fake[] = "name: fake-smoke\n"
			       "requires: {arch: [x86_64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 60}\n";

/* The controller's 2xx replies so far (/metrics). */
static long long replies_2xx(void)
{
	struct buf text = BUF_INIT(1 << 20);
	const char *p;
	long long n = -1;

	if (harness_call_bytes(&ctl, NULL, "GET", "/metrics", NULL, NULL, 0, NULL, &text) == 200 &&
	    (p = strstr(buf_cstr(&text), "xenci_http_responses{code=\"2xx\"} ")) != NULL)
		n = strtoll(p + strlen("xenci_http_responses{code=\"2xx\"} "), NULL, 10);
	buf_release(&text);
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	if (harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"qx\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}]}",
			 NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void test_log_in_batches(void **state)
{
	struct agent_config cfg;
	struct spool_attempt *sa = NULL;
	struct sender *s = NULL;
	struct buf want = BUF_INIT(1 << 20), got = BUF_INIT(1 << 20);
	char spool[400], path[96], line[32];
	json_t *j = NULL, *attempt;
	long long id, before, after, deadline, t0, elapsed, bound;
	int i, polls = 0;

	(void)state;
	assert_true(harness_flight(&ctl, COMMIT) > 0);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
				      "{\"boards\": [\"qx\"], \"wait_ms\": 0}", &j),
			 200);
	attempt = json_object_get(j, "attempt");
	id = jint(attempt, "id", 0);
	assert_true(id > 0);
	snprintf(spool, sizeof(spool), "%s/spool", ctl.dir);
	harness_sh(ctl.dir, "mkdir -p spool");
	assert_int_equal(spool_open(&sa, spool, id, attempt, 0), 0);
	json_decref(j);

	memset(&cfg, 0, sizeof(cfg));
	cfg.controller = ctl.url;
	cfg.token = agent_tok;
	cfg.agent = (char *)"lab-a";
	before = replies_2xx();
	assert_true(before > 0);
	t0 = harness_now_ms();
	assert_int_equal(sender_start(&s, &cfg, sa, 0), 0);
	for (i = 0; i < WRITES; i++) {
		int n = snprintf(line, sizeof(line), i % 50 == 49 ? "#\n" : "#");

		assert_int_equal(spool_append(sa, line, (size_t)n), 0);
		buf_append(&want, line, (size_t)n);
		sender_wrote(s, sa->written);
		usleep(500);
	}
	/* the whole log arrives (a guard, not a timing) */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", id);
	deadline = harness_now_ms() + 30000;
	do {
		buf_reset(&got);
		harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &got);
		polls++;
		if (got.len == want.len || harness_now_ms() > deadline)
			break;
		usleep(20 * 1000);
	} while (1);
	elapsed = harness_now_ms() - t0;
	after = replies_2xx();
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	/* At most one PUT a linger (2,000 bytes make no full batch), the sender's first
	 * heartbeat, and this test's own GETs: a count, whatever the machine's speed. */
	bound = elapsed / CLIENT_LOG_LINGER_MS + 1 + 1 + polls + 1;
	print_message("%d writes of the console reached the controller in %lld requests"
		      " (%lld of them this test's; at most %lld in %lld ms)\n",
		      WRITES, after - before, (long long)polls + 1, bound, elapsed);
	assert_true(after - before <= bound);
	sender_stop_free(s, 0);
	buf_release(&want);
	buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_in_batches),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
