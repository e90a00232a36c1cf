/* xenci repro end to end with fake boards (tests/fake-board/fake-board.py): a real
 * controller and agent run a failing attempt (a Xen panic) and a passing one; the
 * agent reports what repro needs (the job as judged, the boot script as staged);
 * `xenci repro` fetches it into a folder (the artifacts by sha256, verified: one is
 * given to the failing attempt through the database, as a build would), and that
 * folder's run.sh --recorded judges the recorded logs with the agent's rules: fail
 * with the same reason, and pass. `xenci-agent --judge JOB -- CMD` judges a
 * command's console live the same way, and kills its process group when stopped.
 * (The real QEMU run of repro is in tests/e2e/test-xen-e2e.sh.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "json-util.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define XEN    "a fake hypervisor\n"

static struct harness_controller ctl;
static char agent_tok[128];
static struct harness_fake_lab lab;
static const struct harness_fake_spec boards[2] = {
    {"rp-fail",
     "line FAKE-FW 1.0\nline (XEN) Xen version 4.17.3\nline (XEN) Panic on CPU 0:\n"
     "sleep 3000\nline XENCI-TESTS-DONE\n",
     "rp", NULL},
    {"rp-pass",
     "line FAKE-FW 1.0\nline (XEN) Xen version 4.17.3\nline ok 1 - dom0 is up\n"
     "line XENCI-TESTS-DONE\n",
     "rp", NULL}};

static const char job[] = "name: rp-smoke\n"
			  "requires: {arch: [x86_64], tags: [rp]}\n"
			  "timeout: 30\n"
			  "stages:\n"
			  "  - {name: firmware, pattern: 'FAKE-FW', timeout: 5}\n"
			  "  - {name: banner, pattern: 'Xen version [0-9]', timeout: 5}\n"
			  "  - {name: done, pattern: '^XENCI-TESTS-DONE$', timeout: 5}\n"
			  "failures:\n"
			  "  - {name: xen-panic, pattern: 'Panic on CPU'}\n"
			  "testcases: [tap]\n";

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "max_attempts: 1\n";
	harness_write_file(ctl.jobs, "rp-smoke.yaml", job);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-rp", agent_tok, sizeof(agent_tok)) < 0)
		return -1;
	return harness_fake_lab_start(&ctl, &lab, "lab-rp", agent_tok, boards, 2, NULL);
}

static int teardown(void **state)
{
	(void)state;
	harness_fake_lab_stop(&lab);
	harness_controller_stop(&ctl);
	return 0;
}

/* The flight's attempt on board, once it ended (30 s at most). New reference. */
static json_t *ended(long long fid, const char *board)
{
	char path[96];
	long long end = harness_now_ms() + 30000;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", fid);
	while (harness_now_ms() < end) {
		json_t *f = NULL, *a;
		size_t i;
		long long id = 0;

		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &f), 200);
		json_array_foreach (json_object_get(f, "attempts"), i, a)
			if (!strcmp(jstr(a, "board", ""), board) && jint(a, "finished_at", 0) > 0)
				id = jint(a, "id", 0);
		json_decref(f);
		if (id) {
			json_t *at = NULL;

			snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
			assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &at), 200);
			return at;
		}
		usleep(100 * 1000);
	}
	fail_msg("no end on %s", board);
	return NULL;
}

/* Runs `xenci repro ID --out OUT` (and fails the test unless it succeeds). */
static void repro(long long id, const char *out)
{
	char xenci[400], ids[32], text[1024];
	char *argv[] = {xenci, "repro", ids, "--out", (char *)out, NULL};

	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	snprintf(ids, sizeof(ids), "%lld", id);
	assert_int_equal(harness_run(argv, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "run.sh"));
}

/* Runs the shell command cmd, its stdout into out; its exit status. */
static int sh(const char *cmd, char *out, size_t len)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

	return harness_run(argv, out, len);
}

static void test_repro(void **state)
{
	json_t *j = NULL, *fa, *pa;
	char sha[SHA256_HEX_LEN + 1], path[512], sql[512], out[4096], cmd[2400], agent[400];
	struct buf got = BUF_INIT(0), staged = BUF_INIT(0);
	long long fid;

	(void)state;
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", &j),
			 201);
	fid = jint(j, "id", 0);
	json_decref(j);
	fa = ended(fid, "rp-fail");
	pa = ended(fid, "rp-pass");
	assert_string_equal(jstr(fa, "state", ""), "fail");
	assert_string_equal(jstr(pa, "state", ""), "pass");
	/* what the agent reported for repro */
	{
		const json_t *r = json_object_get(json_object_get(fa, "result"), "repro");

		assert_string_equal(jstr(json_object_get(r, "job"), "name", ""), "rp-smoke");
		assert_string_equal(jstr(r, "boot_file", ""), "boot.ipxe");
		assert_true(strlen(jstr(r, "boot_script", "")) > 8);
		assert_null(json_object_get(r, "qemu_argv")); /* not a QEMU board */
	}
	/* an artifact, as a build would have given it */
	assert_int_equal(sha256_hex(sha, XEN, strlen(XEN)), 0);
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
	assert_int_equal(harness_call_bytes(&ctl, ctl.admin_token, "PUT", path,
					    "application/octet-stream", XEN, strlen(XEN), NULL,
					    NULL),
			 201);
	snprintf(sql, sizeof(sql),
		 "UPDATE attempts SET result = json_set(result, '$.repro.artifacts',"
		 " json('{\"xen\": {\"sha256\": \"%s\", \"size\": %zu}}')) WHERE id = %lld",
		 sha, strlen(XEN), jint(fa, "id", 0));
	assert_int_equal(harness_db_exec(&ctl, sql), 0);

	setenv("XENCI_URL", ctl.url, 1);
	unsetenv("XENCI_TOKEN");
	snprintf(agent, sizeof(agent), "%s/xenci-agent", harness_build_dir());
	setenv("XENCI_AGENT", agent, 1);
	snprintf(path, sizeof(path), "%s/repro-fail", ctl.dir);
	repro(jint(fa, "id", 0), path);
	/* the layout */
	snprintf(cmd, sizeof(cmd), "%s/tftp", path);
	assert_int_equal(harness_read_file(&got, cmd, "xen"), 0);
	assert_string_equal(buf_cstr(&got), XEN);
	assert_int_equal(harness_read_file(&got, cmd, "boot.ipxe"), 0);
	snprintf(cmd, sizeof(cmd), "%s/work/boards/rp-fail/tftp", lab.dir);
	assert_int_equal(harness_read_file(&staged, cmd, "boot.ipxe"), 0);
	assert_true(got.len > 0 && got.len == staged.len &&
		    !memcmp(got.data, staged.data, got.len)); /* the same script */
	assert_int_equal(harness_read_file(&got, path, "job.json"), 0);
	assert_non_null(strstr(buf_cstr(&got), "Panic on CPU"));
	assert_int_equal(harness_read_file(&got, path, "console.log"), 0);
	assert_non_null(strstr(buf_cstr(&got), "| (XEN) Panic on CPU 0:"));
	snprintf(cmd, sizeof(cmd), "%s/run.sh", path);
	assert_int_equal(access(cmd, X_OK), 0);
	/* judged again: the same failure */
	snprintf(cmd, sizeof(cmd), "%s/run.sh --recorded", path);
	assert_int_equal(sh(cmd, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "verdict: fail: "));
	assert_non_null(strstr(out, jstr(fa, "reason", "?")));
	/* not a QEMU board: run.sh itself judges the recording too */
	snprintf(cmd, sizeof(cmd), "%s/run.sh 2>/dev/null", path);
	assert_int_equal(sh(cmd, out, sizeof(out)), 1);

	snprintf(path, sizeof(path), "%s/repro-pass", ctl.dir);
	repro(jint(pa, "id", 0), path);
	snprintf(cmd, sizeof(cmd), "%s/run.sh --recorded", path);
	assert_int_equal(sh(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "verdict: pass: "));

	/* the live judge: a command's console, as run.sh runs QEMU */
	snprintf(cmd, sizeof(cmd),
		 "'%s' --judge '%s/job.json' -- /bin/sh -c 'echo FAKE-FW; echo \"(XEN) Xen "
		 "version 4.17\"; echo \"(XEN) Panic on CPU 0:\"; sleep 0.5; "
		 "echo \"(XEN) the panic says why\"; sleep 30'",
		 agent, path);
	assert_int_equal(sh(cmd, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "FAKE-FW\n")); /* the console on the terminal */
	assert_non_null(strstr(out, "verdict: fail: "));
	/* what follows the failure pattern is shown, as the agent keeps it in the
	 * attempt's log (JUDGE_FAIL_TAIL_MS): before, the judge stopped the command
	 * at the matching line and the panic's message never reached the terminal */
	assert_non_null(strstr(out, "(XEN) the panic says why\n"));
	snprintf(cmd, sizeof(cmd),
		 "'%s' --judge '%s/job.json' -- /bin/sh -c 'echo FAKE-FW; echo \"Xen "
		 "version 4\"; echo XENCI-TESTS-DONE'",
		 agent, path);
	assert_int_equal(sh(cmd, out, sizeof(out)), 0);
	/* silent after the banner: the stage times out as on the board */
	snprintf(cmd, sizeof(cmd),
		 "'%s' --judge '%s/job.json' -- /bin/sh -c 'echo FAKE-FW; echo \"Xen "
		 "version 4\"'",
		 agent, path);
	assert_int_equal(sh(cmd, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "verdict: timeout: "));
	/* stopped (a developer's Ctrl-C, a kill): the command's process group goes
	 * too, as a QEMU must (before, the judge died and left it running) */
	snprintf(cmd, sizeof(cmd),
		 "o='%s/judge-stop.out'; '%s' --judge '%s/job.json' -- /bin/sh -c 'echo FAKE-FW; "
		 "sleep $((987000 + 654))' >\"$o\" & p=$!; for i in $(seq 300); do grep -q FAKE-FW "
		 "\"$o\" && "
		 "break; sleep 0.1; done; kill -TERM $p; wait $p; echo \"rc=$?\"; cat \"$o\"; "
		 "sleep 0.3; pgrep -f 'sleep 98765[4]' >/dev/null && echo left || echo none-left",
		 ctl.dir, agent, path);
	sh(cmd, out, sizeof(out));
	if (strstr(out, "none-left") == NULL)
		fprintf(stderr, "%s\n", out);
	assert_non_null(strstr(out, "rc=1\n"));
	assert_non_null(strstr(out, "verdict: infra: stopped by signal 15"));
	assert_non_null(strstr(out, "none-left"));

	/* the attempt page says how */
	{
		struct buf page = BUF_INIT(0);

		snprintf(path, sizeof(path), "/attempts/%lld", jint(fa, "id", 0));
		assert_int_equal(
		    harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &page), 200);
		snprintf(cmd, sizeof(cmd), "<code>xenci repro %lld</code>", jint(fa, "id", 0));
		assert_non_null(strstr(buf_cstr(&page), cmd));
		buf_release(&page);
	}
	buf_release(&got);
	buf_release(&staged);
	json_decref(fa);
	json_decref(pa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_repro),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
