/* The bisection's commit graph from a real git repository (controller/bisect-git.c):
 * a history with a merge and a side branch, the range bad ^good, the good-side
 * parents, a bisection on it, and the culprit reverted on a scratch ref. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../harness/harness.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/bisect-git.h"
#include "../../controller/git-repo.h"

static char dir[256];

#define sh(...) harness_sh(dir, __VA_ARGS__)

static void rev(char out[GITREPO_HEX], const char *what)
{
	char cmd[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "cd %s && git rev-parse %s", dir, what);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, GITREPO_HEX, f));
	out[40] = '\0';
	pclose(f);
}

#define GIT "git -c user.name=Test -c user.email=t@example.org -c init.defaultBranch=master "

/* root(good) - a - b ---------- m - c(bad)
 *               \              /
 *                s1 - s2(culprit)            each commit one second newer */
static int setup(void **state)
{
	int t = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-test-bisect-graph.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
#define C(msg, file)                                                                               \
	do {                                                                                       \
		t++;                                                                               \
		sh("echo %s > %s && " GIT "add %s && GIT_AUTHOR_DATE='%d +0000' "                  \
		   "GIT_COMMITTER_DATE='%d +0000' " GIT "commit -q -m %s",                         \
		   msg, file, file, 1700000000 + t, 1700000000 + t, msg);                          \
	} while (0)
	sh(GIT "init -q .");
	C("root", "f0");
	C("a", "f1");
	sh(GIT "branch side");
	C("b", "f2");
	sh(GIT "checkout -q side");
	C("s1", "f3");
	C("s2", "bug");
	sh(GIT "checkout -q master");
	t++;
	sh("GIT_AUTHOR_DATE='%d +0000' GIT_COMMITTER_DATE='%d +0000' " GIT
	   "merge -q --no-ff -m m side",
	   1700000000 + t, 1700000000 + t);
	C("c", "f4");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_graph(void **state)
{
	struct gitrepo *r = NULL;
	struct bisect_git_graph gg;
	char err[256], good[GITREPO_HEX], bad[GITREPO_HEX], m[GITREPO_HEX], b[GITREPO_HEX],
	    s2[GITREPO_HEX];
	int nm, nb, ns2;
	uint32_t e;

	(void)state;
	assert_int_equal(gitrepo_open(&r, dir, err, sizeof(err)), 0);
	rev(good, "master~3"); /* a: master~1 is m, ~2 b, ~3 a */
	rev(bad, "master");
	rev(m, "master~1");
	rev(b, "master~2");
	rev(s2, "side");
	/* a is good: the range is c, m, b, s2, s1 (5 commits); a is their good-side
	 * parent (of b and of s1). */
	assert_int_equal(bisect_git_graph(&gg, r, bad, good, err, sizeof(err)), 0);
	assert_int_equal(gg.ncand, 5);
	assert_int_equal(gg.g.n, 6);
	assert_string_equal(gg.ids[gg.bad], bad);
	assert_string_equal(gg.ids[gg.good], good);
	assert_int_equal(gg.good, 5);
	nm = bisect_git_node(&gg, m);
	nb = bisect_git_node(&gg, b);
	ns2 = bisect_git_node(&gg, s2);
	assert_true(nm > 0 && nb > 0 && ns2 > 0);
	assert_int_equal(gg.g.first[nm + 1] - gg.g.first[nm], 2);
	e = gg.g.first[nm];
	assert_int_equal(gg.g.parents[e], (uint32_t)nb);
	assert_int_equal(gg.g.parents[e + 1], (uint32_t)ns2);
	/* Newest first: every parent after its child. */
	for (uint32_t v = 0; v < gg.ncand; v++)
		for (e = gg.g.first[v]; e < gg.g.first[v + 1]; e++)
			assert_true(gg.g.parents[e] > v);
	assert_int_equal(bisect_git_node(&gg, "0000000000000000000000000000000000000000"), -1);
	bisect_git_graph_release(&gg);

	/* Nothing to bisect, unknown commits, bad input. */
	assert_int_equal(bisect_git_graph(&gg, r, good, bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nothing to bisect"));
	assert_int_equal(bisect_git_graph(&gg, r, "1111111111111111111111111111111111111111", good,
					  err, sizeof(err)),
			 -ENOENT);
	assert_int_equal(bisect_git_graph(&gg, r, "master", good, err, sizeof(err)), -EINVAL);
	gitrepo_free(r);
}

/* A bisection over the real graph: the culprit is s2 (it adds "bug"), so exactly the
 * commits whose tree has the file fail; then the revert of s2 on bad, made with
 * gitrepo_revert on a scratch ref, has no "bug". */
static void test_bisect_real_history(void **state)
{
	struct gitrepo *r = NULL;
	struct bisect_git_graph gg;
	struct bisect *bs = NULL;
	struct bisect_step step;
	struct bisect_result res;
	char err[256], good[GITREPO_HEX], bad[GITREPO_HEX], s2[GITREPO_HEX], reverted[GITREPO_HEX];
	unsigned guard = 0;

	(void)state;
	assert_int_equal(gitrepo_open(&r, dir, err, sizeof(err)), 0);
	rev(good, "master~3");
	rev(bad, "master");
	rev(s2, "side");
	assert_int_equal(bisect_git_graph(&gg, r, bad, good, err, sizeof(err)), 0);
	assert_int_equal(bisect_new(&bs, &gg.g, gg.bad, &gg.good, 1, NULL), 0);
	bisect_add_run(bs, BISECT_STEP_RUN, gg.bad, BISECT_RUN_FAIL);
	bisect_add_run(bs, BISECT_STEP_RUN, gg.good, BISECT_RUN_PASS);
	while (bisect_next(bs, &step) == 0 && step.kind != BISECT_STEP_DONE && guard++ < 50) {
		char cmd[600], out[8] = "";
		const char *tested = gg.ids[step.commit];
		FILE *f;

		if (step.kind == BISECT_STEP_REVERT) {
			assert_int_equal(gitrepo_revert(reverted, r, bad, gg.ids[step.commit],
							"refs/xenci/bisect/1/revert", err,
							sizeof(err)),
					 0);
			tested = reverted;
		}
		/* The test: does the revision's tree hold the file "bug"? */
		snprintf(cmd, sizeof(cmd), "cd %s && git cat-file -e %s:bug 2>/dev/null && echo y",
			 dir, tested);
		f = popen(cmd, "r");
		assert_non_null(f);
		if (!fgets(out, sizeof(out), f))
			out[0] = '\0';
		pclose(f);
		bisect_add_run(bs, step.kind, step.commit,
			       out[0] == 'y' ? BISECT_RUN_FAIL : BISECT_RUN_PASS);
	}
	bisect_get_result(bs, &res);
	assert_int_equal(res.outcome, BISECT_CONFIRMED);
	assert_string_equal(gg.ids[res.culprit], s2);
	assert_int_equal(res.revert_pass, 1);
	bisect_free(bs);
	bisect_git_graph_release(&gg);
	gitrepo_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_graph),
	    cmocka_unit_test(test_bisect_real_history),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
