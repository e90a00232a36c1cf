/* Commissioning (issue 21): a job with facts (jobs/examine.yaml) is run when
 * named, not by every flight; when it passes on a board its facts become the
 * board's properties, shown on the board's page and met by jobs that require
 * them (requires: {iommu: true} runs only where an IOMMU was found); when it
 * fails the board takes no other work and its page says why. The agent is
 * played through the API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "json-util.h"

static struct harness_controller ctl;
static char agent_tok[128];

static const char job_examine[] = "name: examine\n"
				  "requires: {arch: [x86_64]}\n"
				  "stages: [{name: up, pattern: 'UP', timeout: 10}]\n"
				  "facts:\n"
				  "  - {name: cpus, pattern: 'Brought up ([0-9]+) CPUs'}\n"
				  "  - {name: iommu, pattern: 'I/O virt.* enabled', value: true}\n";
static const char job_plain[] = "name: plain\n"
				"requires: {arch: [x86_64]}\n"
				"stages: [{name: up, pattern: 'UP', timeout: 10}]\n";
static const char job_iommu[] = "name: needs-iommu\n"
				"requires: {arch: [x86_64], iommu: true}\n"
				"stages: [{name: up, pattern: 'UP', timeout: 10}]\n";

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "examine.yaml", job_examine);
	harness_write_file(ctl.jobs, "plain.yaml", job_plain);
	harness_write_file(ctl.jobs, "needs-iommu.yaml", job_iommu);
	ctl.extra_config = "max_attempts: 1\n";
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	return harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			    "{\"protocol\": 1, \"builder\": null, \"boards\": ["
			    "{\"name\": \"b1\", \"arch\": \"x86_64\", \"class\": \"q\"},"
			    "{\"name\": \"b2\", \"arch\": \"x86_64\", \"class\": \"q\"}]}",
			    NULL) == 200
		   ? 0
		   : -1;
}

static int teardown(void **state)
{
	(void)state;
	harness_controller_stop(&ctl);
	return 0;
}

static long long flight(const char *jobs, const char *board)
{
	char body[256];
	json_t *j = NULL;
	long long id;

	snprintf(body, sizeof(body), "{\"tree\": \"xen\", \"commit\": \"%040d\"%s%s%s%s%s}", 1,
		 jobs ? ", \"jobs\": " : "", jobs ? jobs : "", board ? ", \"board\": \"" : "",
		 board ? board : "", board ? "\"" : "");
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	id = jint(j, "id", 0);
	json_decref(j);
	return id;
}

/* Claims the next attempt on board and ends it with result (JSON text). */
static void run_on(const char *board, const char *want_job, const char *result)
{
	char body[128], path[96];
	json_t *j = NULL;
	long long id;

	snprintf(body, sizeof(body), "{\"boards\": [\"%s\"], \"wait_ms\": 0}", board);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim", body, &j), 200);
	assert_string_equal(jstr(json_object_get(json_object_get(j, "attempt"), "job"), "name", ""),
			    want_job);
	id = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, result, NULL), 200);
}

static json_t *board(const char *name)
{
	char path[64];
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/boards/%s", name);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	return j;
}

static void page_has(const char *name, const char *what)
{
	struct buf text = BUF_INIT(1 << 20);
	char path[64];

	snprintf(path, sizeof(path), "/boards/%s", name);
	assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &text),
			 200);
	if (!strstr(buf_cstr(&text), what))
		fail_msg("the page of %s lacks \"%s\"", name, what);
	buf_release(&text);
}

static void test_examine(void **state)
{
	json_t *b, *f, *a;
	char path[64];
	size_t i;
	int plain_b1 = 0, plain_b2 = 0, iommu_b1 = 0, iommu_b2 = 0, examine = 0;

	(void)state;
	/* never examined: in the pool, no properties */
	b = board("b1");
	assert_null(jstr(b, "examine", NULL));
	json_decref(b);

	/* b1 passes its examine: an IOMMU, 4 CPUs */
	flight("[\"examine\"]", "b1");
	run_on("b1", "examine",
	       "{\"verdict\": \"pass\", \"reason\": \"all stages reached\", \"facts\": {\"cpus\": "
	       "4, \"iommu\": true}}");
	b = board("b1");
	assert_string_equal(jstr(b, "examine", ""), "pass");
	assert_int_equal(jint(json_object_get(b, "properties"), "cpus", 0), 4);
	assert_true(json_is_true(json_object_get(json_object_get(b, "properties"), "iommu")));
	json_decref(b);
	page_has("b1", "<dt>iommu</dt><dd>true</dd>");
	page_has("b1", "<dt>cpus</dt><dd>4</dd>");

	/* b2's fails: out of the pool, the reason shown */
	flight("[\"examine\"]", "b2");
	run_on("b2", "examine",
	       "{\"verdict\": \"fail\", \"reason\": \"examine: nothing on the console gave fact "
	       "cpus\", \"facts\": {}}");
	b = board("b2");
	assert_string_equal(jstr(b, "examine", ""), "fail");
	assert_non_null(strstr(jstr(b, "examine_reason", ""), "fact cpus"));
	assert_true(json_object_size(json_object_get(b, "properties")) == 0);
	json_decref(b);
	page_has("b2", "<strong>failed</strong>: examine: nothing on the console gave fact cpus");

	/* a flight of every job: no examine; plain only on b1 (b2 is out of the
	 * pool); needs-iommu only on b1 (b2 never showed one) */
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", flight(NULL, NULL));
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &f), 200);
	json_array_foreach (json_object_get(f, "attempts"), i, a) {
		const char *job = jstr(a, "job", ""), *on = jstr(a, "board", "");

		examine += !strcmp(job, "examine");
		plain_b1 += !strcmp(job, "plain") && !strcmp(on, "b1");
		plain_b2 += !strcmp(job, "plain") && !strcmp(on, "b2");
		iommu_b1 += !strcmp(job, "needs-iommu") && !strcmp(on, "b1");
		iommu_b2 += !strcmp(job, "needs-iommu") && !strcmp(on, "b2");
	}
	json_decref(f);
	assert_int_equal(examine, 0);
	assert_int_equal(plain_b1, 1);
	assert_int_equal(plain_b2, 0);
	assert_int_equal(iommu_b1, 1);
	assert_int_equal(iommu_b2, 0);

	/* b2 passes a new examine: back in the pool, its properties stored */
	flight("[\"examine\"]", "b2");
	run_on("b2", "examine",
	       "{\"verdict\": \"pass\", \"reason\": \"ok\", \"facts\": {\"cpus\": 1, \"iommu\": "
	       "false}}");
	b = board("b2");
	assert_string_equal(jstr(b, "examine", ""), "pass");
	assert_true(json_is_false(json_object_get(json_object_get(b, "properties"), "iommu")));
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examine),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
