/* The xenci CLI against a real controller: token create, boards, jobs, flights,
 * attempt show/log/cancel, `attempt log --follow` while the log grows, --json,
 * the config file, and errors. */
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

#define COMMIT "fedcba9876543210fedcba9876543210fedcba98"

static struct harness_controller ctl;
static char agent_tok[128], cli[512];

static const char job_fake[] = "name: fake-smoke\n"
			       "description: no artifacts\n"
			       "requires: {arch: [x86_64]}\n";

static int xenci(char *out, size_t n, const char *a1, const char *a2, const char *a3,
		 const char *a4)
{
	char *argv[] = {cli, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};

	return harness_run(argv, out, n);
}

static int setup(void **state)
{
	(void)state;
	snprintf(cli, sizeof(cli), "%s/xenci", harness_build_dir());
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0)
		return -1;
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", ctl.admin_token, 1);
	unsetenv("XENCI_CONFIG");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void test_token_boards_jobs(void **state)
{
	char out[8192];
	json_t *j;

	(void)state;
	assert_int_equal(
	    xenci(out, sizeof(out), "token", "create", "--role=agent", "--agent=lab-c"), 0);
	out[strcspn(out, "\n")] = '\0';
	assert_true(!strncmp(out, "xci_", 4));
	assert_true(strlen(out) < sizeof(agent_tok));
	memcpy(agent_tok, out, strlen(out) + 1);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-c/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"bx\", \"arch\":"
			 " \"x86_64\", \"class\": \"q35\", \"tags\": [\"qemu\", \"fast\"]}]}",
			 NULL),
	    200);
	assert_int_equal(xenci(out, sizeof(out), "boards", NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "BOARD"));
	assert_non_null(strstr(out, "bx "));
	assert_non_null(strstr(out, "lab-c"));
	assert_non_null(strstr(out, "qemu,fast"));
	assert_int_equal(xenci(out, sizeof(out), "boards", "--json", NULL, NULL), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(jstr(json_array_get(j, 0), "state", ""), "idle");
	json_decref(j);
	assert_int_equal(xenci(out, sizeof(out), "jobs", NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "fake-smoke"));
	assert_non_null(strstr(out, "no artifacts"));
	/* A user token may not make tokens: the CLI says why and fails. */
	assert_int_equal(xenci(out, sizeof(out), "--token=xci_nope", "boards", NULL, NULL), 1);
	assert_int_equal(xenci(out, sizeof(out), "nosuch", NULL, NULL, NULL), 2);
}

static void test_flights_and_follow(void **state)
{
	char out[8192], path[128], cmd[1024];
	json_t *j = NULL;
	long long id;
	FILE *follow;
	size_t n;

	(void)state;
	{
		char *argv[] = {cli,	  "flights", "create", "--tree=xen", "--commit=" COMMIT,
				"--json", NULL};

		assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
		j = json_loads(out, 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_array_size(json_object_get(j, "attempts")), 1);
		id = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
		json_decref(j);
	}
	assert_int_equal(xenci(out, sizeof(out), "flights", NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "fedcba987654"));
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-c/claim",
				      "{\"boards\": [\"bx\"], \"wait_ms\": 0}", NULL),
			 200);
	/* Follow the log while it is written. */
	snprintf(cmd, sizeof(cmd), "%s attempt log %lld --follow", cli, id);
	follow = popen(cmd, "r");
	assert_non_null(follow);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", id);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "    0.100 | first line\n",
					    strlen("    0.100 | first line\n"), NULL, NULL),
			 200);
	usleep(300 * 1000);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=23", id);
	assert_int_equal(harness_call_bytes(&ctl, agent_tok, "PUT", path,
					    "application/octet-stream", "    0.200 | second line\n",
					    strlen("    0.200 | second line\n"), NULL, NULL),
			 200);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "POST", path,
			 "{\"verdict\": \"pass\", \"testcases\": [{\"name\": \"tc\", \"result\":"
			 " \"pass\"}]}",
			 NULL),
	    200);
	n = fread(out, 1, sizeof(out) - 1, follow);
	out[n] = '\0';
	assert_int_equal(pclose(follow), 0);
	assert_string_equal(out, "    0.100 | first line\n    0.200 | second line\n");
	snprintf(cmd, sizeof(cmd), "%lld", id);
	assert_int_equal(xenci(out, sizeof(out), "attempt", "show", cmd, NULL), 0);
	assert_non_null(strstr(out, "pass"));
	assert_non_null(strstr(out, "TESTCASE"));
	assert_int_equal(xenci(out, sizeof(out), "attempt", "cancel", cmd, NULL), 1);
}

static void test_config_file(void **state)
{
	char out[4096], yaml[512], path[400];

	(void)state;
	snprintf(yaml, sizeof(yaml), "url: %s\ntoken: %s\n", ctl.url, ctl.admin_token);
	harness_write_file(ctl.dir, "cli.yaml", yaml);
	snprintf(path, sizeof(path), "%s/cli.yaml", ctl.dir);
	unsetenv("XENCI_URL");
	unsetenv("XENCI_TOKEN");
	setenv("XENCI_CONFIG", path, 1);
	assert_int_equal(xenci(out, sizeof(out), "token", "create", "--role=user", NULL), 0);
	assert_true(!strncmp(out, "xci_", 4));
	harness_write_file(ctl.dir, "cli.yaml", "url: [1]\n");
	assert_int_equal(xenci(out, sizeof(out), "boards", NULL, NULL, NULL), 1);
	unsetenv("XENCI_CONFIG");
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_TOKEN", ctl.admin_token, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_boards_jobs),
	    cmocka_unit_test(test_flights_and_follow),
	    cmocka_unit_test(test_config_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
