/* Commissioning by itself (issue 21): with the controller's examine_job set, a
 * board never examined, or whose board file changed (the sha256 its agent
 * declares), is due for an examine: the controller makes a flight of that job
 * pinned to it (at the head of the tree's tested ref), the
 * board takes no other work until an examine passes, and its page and
 * GET /api/v1/boards say why. The agent is played through the API.
 *  - declared new: due ("never examined"), one examine flight, a queued job of
 *    another flight is not handed out while it is due (the examine cancelled:
 *    still due, nothing to claim);
 *  - declared again: a new examine flight (none under way); it passes, and the
 *    queued job is handed out;
 *  - declared with the same file: nothing; with a changed file: due again
 *    ("its board file changed"), one examine flight however often it is
 *    declared; it fails: out of the pool with the reason, not examined again
 *    until the file changes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "buf.h"
#include "json-util.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct harness_controller ctl;
static char agent_tok[128], repo[320], extra[1024], head[64];

static const char job_examine[] = "name: ex-examine\n"
				  "requires: {arch: [x86_64]}\n"
				  "stages: [{name: up, pattern: 'UP', timeout: 10}]\n"
				  "facts:\n"
				  "  - {name: cpus, pattern: 'Brought up ([0-9]+) CPUs'}\n";
static const char job_plain[] = "name: ex-plain\n"
				"requires: {arch: [x86_64]}\n"
				"stages: [{name: up, pattern: 'UP', timeout: 10}]\n";

static void git(const char *a, const char *b, const char *c, char *out, size_t outlen)
{
	char tmp[256];
	char *argv[] = {"/usr/bin/git", "-C", repo, (char *)a, (char *)b, (char *)c, NULL};

	assert_int_equal(harness_run(argv, out ? out : tmp, out ? outlen : sizeof(tmp)), 0);
}

static int setup(void **state)
{
	char *init[] = {"/usr/bin/git", "init", "-q", "-b", "main", repo, NULL};
	char out[64];

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", ctl.dir);
	if (harness_run(init, out, sizeof(out)) != 0)
		return -1;
	git("config", "user.email", "t@xenci.invalid", NULL, 0);
	git("config", "user.name", "t", NULL, 0);
	git("commit", "--allow-empty", "-qmone", NULL, 0);
	git("rev-parse", "HEAD", NULL, head, sizeof(head));
	head[strcspn(head, "\n")] = '\0';
	snprintf(extra, sizeof(extra),
		 "max_attempts: 1\nexamine_job: ex-examine\n"
		 "trees:\n  xen:\n    source: %s\n    interval: 3600\n    tested: main\n",
		 repo);
	ctl.extra_config = extra;
	harness_write_file(ctl.jobs, "ex-examine.yaml", job_examine);
	harness_write_file(ctl.jobs, "ex-plain.yaml", job_plain);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-e", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_controller_stop(&ctl);
	return 0;
}

/* The agent declares board b1 with its board file's sha256. */
static void declare(const char *sha)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"b1\", \"arch\": "
		 "\"x86_64\", \"class\": \"q\", \"file_sha256\": \"%s\"}]}",
		 sha);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-e/boards", body, NULL), 200);
}

static json_t *board(void)
{
	json_t *j = NULL;

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/boards/b1", NULL, &j), 200);
	return j;
}

static void page_has(const char *what)
{
	struct buf text = BUF_INIT(1 << 20);

	assert_int_equal(
	    harness_call_bytes(&ctl, NULL, "GET", "/boards/b1", NULL, NULL, 0, NULL, &text), 200);
	if (!strstr(buf_cstr(&text), what))
		fail_msg("the page of b1 lacks \"%s\"", what);
	buf_release(&text);
}

/* The ids of b1's attempts of job in every flight, queued or not. */
static int count_attempts(const char *job, const char *state)
{
	json_t *j = NULL, *a;
	size_t i;
	int n = 0;

	assert_int_equal(
	    harness_call(&ctl, NULL, "GET", "/api/v1/attempts?board=b1&limit=100", NULL, &j), 200);
	json_array_foreach (json_is_array(j) ? j : json_object_get(j, "attempts"), i, a)
		if (!strcmp(jstr(a, "job", ""), job) &&
		    (!state || !strcmp(jstr(a, "state", ""), state)))
			n++;
	json_decref(j);
	return n;
}

/* Claims on b1: the attempt's id and job into job (or 0 when none). */
static long long claim(char *job, size_t joblen)
{
	json_t *j = NULL, *a;
	long long id = 0;

	long st = harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-e/claim",
			       "{\"boards\": [\"b1\"], \"wait_ms\": 0}", &j);

	assert_true(st == 200 || st == 204); /* 204: nothing to run */
	a = json_object_get(j, "attempt");
	if (json_is_object(a)) {
		id = jint(a, "id", 0);
		snprintf(job, joblen, "%s", jstr(json_object_get(a, "job"), "name", ""));
	}
	json_decref(j);
	return id;
}

static void finish(long long id, const char *result)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, result, NULL), 200);
}

/* b1's examine_due is want (NULL: not due). */
static void due_is(const char *want)
{
	json_t *b = board();

	if (want)
		assert_string_equal(jstr(b, "examine_due", ""), want);
	else
		assert_null(jstr(b, "examine_due", NULL));
	json_decref(b);
}

/* The next attempt on b1 is the examine; it ends with result, and b1 is no
 * longer due and its examine is want. */
static void examine_ends(const char *result, const char *want)
{
	char job[64];
	long long id = claim(job, sizeof(job));
	json_t *b;

	assert_true(id > 0);
	assert_string_equal(job, "ex-examine");
	finish(id, result);
	due_is(NULL);
	b = board();
	assert_string_equal(jstr(b, "examine", ""), want);
	json_decref(b);
}

static void test_examine_by_itself(void **state)
{
	char job[64], body[256];
	long long id, examine_id;
	json_t *b, *j = NULL;

	(void)state;
	/* a new board: due, and an examine is scheduled at the tested revision */
	declare(HASH_A);
	b = board();
	assert_string_equal(jstr(b, "examine_due", ""), "never examined");
	assert_string_equal(jstr(b, "file_sha256", ""), HASH_A);
	json_decref(b);
	page_has("examine due</strong>: never examined");
	page_has("sha256 " HASH_A);
	assert_int_equal(count_attempts("ex-examine", NULL), 1);

	/* another flight's job waits on b1; the examine is cancelled: b1 is still
	 * due and hands out nothing */
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"ex-plain\"]}", head);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	json_decref(j);
	assert_int_equal(count_attempts("ex-plain", "queued"), 1);
	examine_id = claim(job, sizeof(job));
	assert_true(examine_id > 0);
	assert_string_equal(job, "ex-examine");
	snprintf(body, sizeof(body), "/api/v1/attempts/%lld/cancel", examine_id);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", body, "{}", NULL), 200);
	due_is("never examined");
	assert_int_equal(claim(job, sizeof(job)), 0);

	/* declared again (the agent restarted): a new examine; it passes and the
	 * waiting job is handed out */
	declare(HASH_A);
	assert_int_equal(count_attempts("ex-examine", NULL), 2);
	examine_ends("{\"verdict\": \"pass\", \"reason\": \"all stages reached\", \"facts\": "
		     "{\"cpus\": 4}}",
		     "pass");
	id = claim(job, sizeof(job));
	assert_true(id > 0);
	assert_string_equal(job, "ex-plain");
	finish(id, "{\"verdict\": \"pass\", \"reason\": \"all stages reached\"}");

	/* the same file again: nothing to do */
	declare(HASH_A);
	assert_int_equal(count_attempts("ex-examine", NULL), 2);
	due_is(NULL);

	/* its board file changed: due again, one examine however often declared */
	declare(HASH_B);
	declare(HASH_B);
	due_is("its board file changed since its last examine");
	page_has("its board file changed since its last examine");
	assert_int_equal(count_attempts("ex-examine", NULL), 3);

	/* it fails: out of the pool with the reason, and not examined again for
	 * the same file */
	examine_ends("{\"verdict\": \"fail\", \"reason\": \"examine: nothing on the console gave "
		     "fact cpus\", \"facts\": {}}",
		     "fail");
	page_has("fact cpus");
	declare(HASH_B);
	assert_int_equal(count_attempts("ex-examine", NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examine_by_itself),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
