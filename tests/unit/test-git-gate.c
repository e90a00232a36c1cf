/* controller/gate: judging a flight's gating jobs (retried infra attempts count
 * by their newest attempt) and fast-forwarding the gate ref only on an all-pass
 * flight, on a repository made here with the git command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controller/gate.h"
#include "json-util.h"

static char dir[256];

static void sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
	if (system(full) != 0)
		fail_msg("command failed: %s", full);
}

static json_t *J(const char *text)
{
	char err[128];
	json_t *j = json_parse(text, strlen(text), err, sizeof(err));

	if (j == NULL)
		fail_msg("%s", err);
	return j;
}

static const char *const gating[] = {"smoke", "boot"};

static enum gate_outcome judge(const char *jobs, struct gate_decision *d)
{
	json_t *j = J(jobs);
	enum gate_outcome o = gate_judge(d, j, gating, 2);

	json_decref(j);
	return o;
}

static void test_judge(void **state)
{
	struct gate_decision d;

	(void)state;
	assert_int_equal(
	    judge("[{\"job\":\"smoke\",\"board\":\"a\",\"number\":1,\"verdict\":\"pass\"},"
		  "{\"job\":\"boot\",\"board\":\"b\",\"number\":1,\"verdict\":\"pass\"},"
		  "{\"job\":\"other\",\"board\":\"b\",\"number\":1,\"verdict\":\"fail\"}]",
		  &d),
	    GATE_PASS);
	assert_string_equal(d.reason, "all 2 gating jobs passed");
	/* An infra attempt retried into a pass does not hold the gate. */
	assert_int_equal(
	    judge("[{\"job\":\"smoke\",\"board\":\"a\",\"number\":1,\"verdict\":\"infra\"},"
		  "{\"job\":\"smoke\",\"board\":\"a\",\"number\":2,\"verdict\":\"pass\"},"
		  "{\"job\":\"boot\",\"board\":\"b\",\"number\":1,\"verdict\":\"pass\"}]",
		  &d),
	    GATE_PASS);
	/* ... but one whose retries ran out does. */
	assert_int_equal(
	    judge("[{\"job\":\"smoke\",\"board\":\"a\",\"number\":3,\"verdict\":\"infra\","
		  "\"reason\":\"power\"},"
		  "{\"job\":\"boot\",\"board\":\"b\",\"number\":1,\"verdict\":\"pass\"}]",
		  &d),
	    GATE_HOLD);
	assert_string_equal(d.reason,
			    "gating job smoke was not tested on a: infra after 3 attempts (power)");
	assert_int_equal(
	    judge("[{\"job\":\"smoke\",\"board\":\"a\",\"number\":1,\"state\":\"running\"},"
		  "{\"job\":\"boot\",\"board\":\"b\",\"number\":1,\"verdict\":\"pass\"}]",
		  &d),
	    GATE_WAIT);
	assert_string_equal(d.reason, "gating job smoke has not finished on a");
	/* A failure holds at once, even while another job still runs. */
	assert_int_equal(
	    judge("[{\"job\":\"smoke\",\"board\":\"a\",\"number\":1,\"state\":\"running\"},"
		  "{\"job\":\"boot\",\"board\":\"b\",\"number\":1,\"attempt\":9,"
		  "\"verdict\":\"fail\",\"reason\":\"Xen panic\"}]",
		  &d),
	    GATE_HOLD);
	assert_string_equal(d.reason, "gating job boot: fail on b (attempt 9): Xen panic");
	assert_int_equal(
	    judge("[{\"job\":\"smoke\",\"board\":\"a\",\"number\":1,\"verdict\":\"pass\"}]", &d),
	    GATE_HOLD);
	assert_string_equal(d.reason, "gating job boot did not run in this flight (no matching "
				      "board)");
	assert_int_equal(judge("[]", &d), GATE_HOLD);
}

static void test_apply(void **state)
{
	struct gitrepo *r;
	struct gate_decision d;
	char path[300], err[256], tip[GITREPO_HEX], side[GITREPO_HEX], hex[GITREPO_HEX];
	json_t *pass = J("[{\"job\":\"smoke\",\"board\":\"a\",\"verdict\":\"pass\"},"
			 "{\"job\":\"boot\",\"board\":\"a\",\"verdict\":\"pass\"}]");
	json_t *fail = J("[{\"job\":\"smoke\",\"board\":\"a\",\"verdict\":\"pass\"},"
			 "{\"job\":\"boot\",\"board\":\"a\",\"verdict\":\"fail\"}]");

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-test-git-gate.XXXXXX");
	assert_non_null(mkdtemp(dir));
	sh("git init -q -b staging t && cd t && git -c user.name=a -c user.email=a@b commit -q "
	   "--allow-empty -m one && git branch master && git -c user.name=a -c user.email=a@b "
	   "commit -q --allow-empty -m two && git branch side master && git checkout -q side && "
	   "git -c user.name=a -c user.email=a@b commit -q --allow-empty -m side && git checkout "
	   "-q staging");
	snprintf(path, sizeof(path), "%s/t", dir);
	assert_int_equal(gitrepo_open(&r, path, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_resolve(r, "staging", tip, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_resolve(r, "side", side, err, sizeof(err)), 0);

	/* A failing flight holds: master stays. */
	assert_int_equal(gate_apply(&d, r, "refs/heads/master", tip, fail, gating, 2), 0);
	assert_string_equal(d.action, "held");
	assert_int_equal(gitrepo_branch_head(r, "master", hex), 0);
	assert_string_equal(hex, d.from);
	assert_string_not_equal(hex, tip);
	/* An all-pass one advances it, once. */
	assert_int_equal(gate_apply(&d, r, "refs/heads/master", tip, pass, gating, 2), 0);
	assert_string_equal(d.action, "advanced");
	assert_int_equal(gitrepo_branch_head(r, "master", hex), 0);
	assert_string_equal(hex, tip);
	assert_int_equal(gate_apply(&d, r, "refs/heads/master", tip, pass, gating, 2), 0);
	assert_string_equal(d.action, "already");
	/* A pass on a commit that is not a fast-forward is held, never forced. */
	assert_int_equal(gate_apply(&d, r, "refs/heads/master", side, pass, gating, 2), 0);
	assert_string_equal(d.action, "held");
	assert_non_null(strstr(d.reason, "all 2 gating jobs passed, but not a fast-forward"));
	assert_int_equal(gitrepo_branch_head(r, "master", hex), 0);
	assert_string_equal(hex, tip);
	/* A gate whose ref does not exist yet makes it at the first passing commit
	 * (the demo's fresh clone has no xenci-tested); a failing flight does not. */
	assert_int_equal(gate_apply(&d, r, "refs/heads/tested", tip, fail, gating, 2), 0);
	assert_string_equal(d.action, "held");
	assert_int_equal(gitrepo_branch_head(r, "tested", hex), -ENOENT);
	assert_int_equal(gate_apply(&d, r, "refs/heads/tested", tip, pass, gating, 2), 0);
	assert_string_equal(d.action, "advanced");
	assert_non_null(strstr(d.reason, "refs/heads/tested created at"));
	assert_int_equal(gitrepo_branch_head(r, "tested", hex), 0);
	assert_string_equal(hex, tip);
	gitrepo_free(r);
	json_decref(pass);
	json_decref(fail);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_judge),
	    cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
