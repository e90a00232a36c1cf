/* The bisection algorithm (controller/bisect.c) on synthetic commit graphs: linear,
 * with merges, with unbuildable ranges, with flakes and infra errors; and the model
 * of git bisect it is benchmarked against (tests/harness/bisect-sim.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/bisect-sim.h"
#include "../../controller/bisect.h"

/* Drives b against the oracle until done; returns the boots it took. */
static unsigned drive(struct bisect *b, const struct bisect_sim_oracle *o, uint64_t *rng,
		      unsigned *search)
{
	struct bisect_result res;
	unsigned start, s = 0;

	bisect_get_result(b, &res);
	start = res.boots;
	for (;;) {
		struct bisect_step step;

		assert_int_equal(bisect_next(b, &step), 0);
		if (step.kind == BISECT_STEP_DONE)
			break;
		s += step.purpose == BISECT_PURPOSE_SEARCH;
		assert_int_equal(bisect_add_run(b, step.kind, step.commit,
						bisect_sim_run(o, step.kind == BISECT_STEP_REVERT,
							       step.commit, rng)),
				 0);
		bisect_get_result(b, &res);
		assert_true(res.boots - start < 500);
	}
	bisect_get_result(b, &res);
	if (search)
		*search = s;
	return res.boots - start;
}

/* A bisection of g from its first node (bad) to its last (good), with the
 * triggering fail and the good pass recorded; opt NULL: the defaults. */
static struct bisect *start_opt(const struct bisect_graph *g, const struct bisect_options *opt)
{
	struct bisect *b = NULL;
	uint32_t good = g->n - 1;

	assert_int_equal(bisect_new(&b, g, 0, &good, 1, opt), 0);
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, 0, BISECT_RUN_FAIL), 0);
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, good, BISECT_RUN_PASS), 0);
	return b;
}

static struct bisect *start(const struct bisect_graph *g)
{
	return start_opt(g, NULL);
}

/* Linear 17 commits (16 candidates), no flakes: every culprit is found and confirmed
 * with log2(16) = 4 search runs, then 2 + 2 confirming runs and the revert. */
static void test_linear_exact(void **state)
{
	struct bisect_graph g;
	uint32_t culprit;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 17), 0);
	for (culprit = 0; culprit < 16; culprit++) {
		struct bisect_sim_oracle o;
		struct bisect_result res;
		struct bisect *b = start(&g);
		uint64_t rng = culprit;
		unsigned boots, search;

		bisect_sim_oracle_init(&o, &g, culprit);
		assert_int_equal(bisect_candidate_count(b), 16);
		boots = drive(b, &o, &rng, &search);
		bisect_get_result(b, &res);
		assert_int_equal(res.outcome, BISECT_CONFIRMED);
		assert_int_equal(res.culprit, (int)culprit);
		assert_true(search <= 4);
		/* The culprit needs 3 fails (the bad revision has 1 already), each
		 * parent 3 passes (the good one has 1), and one revert run. */
		assert_true(boots <= search + 5);
		assert_int_equal(res.revert_pass, 1);
		assert_true(res.culprit_posterior > 0.99);
		assert_true(bisect_get_tally(b, culprit)->fail >= 3);
		if (culprit + 1 < 17)
			assert_true(bisect_get_tally(b, culprit + 1)->pass >= 3);
		assert_int_equal(res.flake_rate, 0);
		bisect_free(b);
		bisect_sim_oracle_release(&o);
	}
	bisect_graph_release(&g);
}

/* A board class whose measured flake rate is known (class_flake_rate): one that never
 * flaked confirms with one run a side (the search's own runs count), so the culprit is
 * confirmed with at most the search, one parent run and the revert; a 10 % class needs
 * three agreeing runs a side ((0.9/0.1)^3 >= 99, the odds of 0.99; two are not). */
static void test_class_flake_rate(void **state)
{
	struct bisect_graph g;
	uint32_t culprit;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 17), 0);
	for (culprit = 0; culprit < 16; culprit++) {
		static const double rates[] = {0, 0.10};
		size_t i;

		for (i = 0; i < 2; i++) {
			struct bisect_options opt;
			struct bisect_sim_oracle o;
			struct bisect_result res;
			struct bisect *b;
			uint64_t rng = culprit;
			unsigned boots, search, need = i ? 3 : 1;

			bisect_options_init(&opt);
			opt.class_flake_rate = rates[i];
			b = start_opt(&g, &opt);
			bisect_sim_oracle_init(&o, &g, culprit);
			boots = drive(b, &o, &rng, &search);
			bisect_get_result(b, &res);
			assert_int_equal(res.outcome, BISECT_CONFIRMED);
			assert_int_equal(res.culprit, (int)culprit);
			assert_int_equal(bisect_get_tally(b, culprit)->fail, need);
			if (culprit + 1 < 17)
				assert_int_equal(bisect_get_tally(b, culprit + 1)->pass, need);
			if (!i)
				assert_true(boots <= search + 2);
			bisect_free(b);
			bisect_sim_oracle_release(&o);
		}
	}
	bisect_graph_release(&g);
}

/* The first step on a linear range is the middle, like git bisect. */
static void test_first_split(void **state)
{
	struct bisect_graph g;
	struct bisect_step step;
	struct bisect *b;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 17), 0);
	b = start(&g);
	assert_int_equal(bisect_next(b, &step), 0);
	assert_int_equal(step.kind, BISECT_STEP_RUN);
	assert_int_equal(step.purpose, BISECT_PURPOSE_SEARCH);
	assert_int_equal(step.commit, 8); /* 8 of the 16 candidates reach it */
	/* Infra results are retried: the same step comes again. */
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, 8, BISECT_RUN_INFRA), 0);
	assert_int_equal(bisect_next(b, &step), 0);
	assert_int_equal(step.commit, 8);
	assert_int_equal(bisect_get_tally(b, 8)->infra, 1);
	/* A pass moves the range to the newer half. */
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, 8, BISECT_RUN_PASS), 0);
	assert_int_equal(bisect_next(b, &step), 0);
	assert_int_equal(step.commit, 4);
	assert_true(fabs((bisect_get_posterior(b, 12)) - (0)) < 1e-12);
	assert_true(fabs((bisect_get_posterior(b, 3)) - (1.0 / 8)) < 1e-9);
	bisect_free(b);
	bisect_graph_release(&g);
}

/* Histories with merges: every culprit, merges and side-branch commits included. */
static void test_merges_exact(void **state)
{
	struct bisect_graph g;
	uint64_t seed = 7;
	uint32_t culprit, merges = 0, v;

	(void)state;
	assert_int_equal(bisect_sim_merges(&g, 80, &seed), 0);
	for (v = 0; v < g.n; v++)
		merges += g.first[v + 1] - g.first[v] > 1;
	assert_true(merges >= 2);
	for (culprit = 0; culprit + 1 < g.n; culprit++) {
		struct bisect_sim_oracle o;
		struct bisect_result res;
		struct bisect *b = start(&g);
		uint64_t rng = culprit;
		unsigned search;

		bisect_sim_oracle_init(&o, &g, culprit);
		drive(b, &o, &rng, &search);
		bisect_get_result(b, &res);
		assert_int_equal(res.outcome, BISECT_CONFIRMED);
		assert_int_equal(res.culprit, (int)culprit);
		assert_true(search <= 8); /* ceil(log2(79)) = 7, merges may cost one */
		bisect_free(b);
		bisect_sim_oracle_release(&o);
	}
	bisect_graph_release(&g);
}

/* A merge whose parents are both good but which is bad itself (a semantic conflict):
 * the merge is the culprit and both parents are confirmed. */
static void test_merge_culprit(void **state)
{
	/* 0 <- 1 (merge of 2 and 3) ; 2 <- 4 ; 3 <- 4 ; 4 is good. */
	static const uint32_t np[] = {1, 2, 1, 1, 0};
	static const uint32_t par[] = {1, 2, 3, 4, 4};
	struct bisect_graph g;
	struct bisect_sim_oracle o;
	struct bisect_result res;
	struct bisect *b;
	uint64_t rng = 1;

	(void)state;
	assert_int_equal(bisect_graph_init(&g, 5, np, par), 0);
	b = start(&g);
	assert_int_equal(bisect_candidate_count(b), 4);
	bisect_sim_oracle_init(&o, &g, 1);
	drive(b, &o, &rng, NULL);
	bisect_get_result(b, &res);
	assert_int_equal(res.outcome, BISECT_CONFIRMED);
	assert_int_equal(res.culprit, 1);
	assert_true(bisect_get_tally(b, 2)->pass >= 3);
	assert_true(bisect_get_tally(b, 3)->pass >= 3);
	bisect_free(b);
	bisect_sim_oracle_release(&o);
	bisect_graph_release(&g);
}

/* Unbuildable commits are skipped: a culprit next to them is still found; a culprit
 * inside an unbuildable range leaves the range, and the outcome is inconclusive. */
static void test_unbuildable(void **state)
{
	struct bisect_graph g;
	struct bisect_sim_oracle o;
	struct bisect_result res;
	struct bisect *b;
	uint32_t plaus[8];
	uint64_t rng = 3;
	size_t n, i;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 33), 0);
	/* Culprit 20 (buildable); 8..12 do not build (the first split, 16, does). */
	bisect_sim_oracle_init(&o, &g, 20);
	o.unbuildable = calloc(g.n, 1);
	for (i = 8; i <= 12; i++)
		o.unbuildable[i] = 1;
	b = start(&g);
	drive(b, &o, &rng, NULL);
	bisect_get_result(b, &res);
	assert_int_equal(res.outcome, BISECT_CONFIRMED);
	assert_int_equal(res.culprit, 20);
	bisect_free(b);
	bisect_sim_oracle_release(&o);

	/* Culprit 10 (0..10 fail, 11.. pass) and 9..11 do not build: 8 fails, 12
	 * passes, and any of 8..11 may be the first bad commit. */
	bisect_sim_oracle_init(&o, &g, 10);
	o.unbuildable = calloc(g.n, 1);
	for (i = 9; i <= 11; i++)
		o.unbuildable[i] = 1;
	b = start(&g);
	drive(b, &o, &rng, NULL);
	bisect_get_result(b, &res);
	assert_int_equal(res.outcome, BISECT_INCONCLUSIVE);
	assert_int_equal(res.culprit, -1);
	n = bisect_get_plausible(b, plaus, 8);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++)
		assert_true(plaus[i] >= 8 && plaus[i] <= 11);
	assert_true(bisect_get_tally(b, 8)->fail == 1);
	assert_true(bisect_get_tally(b, 12)->pass == 1);
	assert_int_equal(bisect_get_tally(b, 10)->unbuildable, 1);
	bisect_free(b);
	bisect_sim_oracle_release(&o);
	bisect_graph_release(&g);
}

/* The bad revision with the culprit reverted still fails (two culprits, or the
 * revert does not apply): found, not confirmed. */
static void test_revert_fails(void **state)
{
	struct bisect_graph g;
	struct bisect_result res;
	struct bisect_step step;
	struct bisect *b;
	unsigned guard = 0;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 9), 0);
	b = start(&g);
	/* Culprit 5: nodes 0..5 fail, 6..8 pass; the revert always fails. */
	while (bisect_next(b, &step) == 0 && step.kind != BISECT_STEP_DONE && guard++ < 100)
		bisect_add_run(b, step.kind, step.commit,
			       step.kind == BISECT_STEP_REVERT || step.commit <= 5
				   ? BISECT_RUN_FAIL
				   : BISECT_RUN_PASS);
	bisect_get_result(b, &res);
	assert_int_equal(res.outcome, BISECT_FOUND_NOT_CONFIRMED);
	assert_int_equal(res.culprit, 5);
	assert_true(res.revert_fail >= 2);
	assert_int_equal(res.revert_pass, 0);
	assert_non_null(strstr(res.reason, "reverted"));
	bisect_free(b);

	/* A revert that does not apply. */
	b = start(&g);
	guard = 0;
	while (bisect_next(b, &step) == 0 && step.kind != BISECT_STEP_DONE && guard++ < 100)
		bisect_add_run(b, step.kind, step.commit,
			       step.kind == BISECT_STEP_REVERT ? BISECT_RUN_UNBUILDABLE
			       : step.commit <= 5	       ? BISECT_RUN_FAIL
							       : BISECT_RUN_PASS);
	bisect_get_result(b, &res);
	assert_int_equal(res.outcome, BISECT_FOUND_NOT_CONFIRMED);
	assert_non_null(strstr(res.reason, "apply"));
	bisect_free(b);
	bisect_graph_release(&g);
}

/* The failure does not come back: the bad revision passes whenever it is run again. */
static void test_not_reproducible(void **state)
{
	struct bisect_graph g;
	struct bisect_result res;
	struct bisect_step step;
	struct bisect *b;
	unsigned guard = 0;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 65), 0);
	b = start(&g);
	/* The re-run on another board passed. */
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, 0, BISECT_RUN_PASS), 0);
	while (bisect_next(b, &step) == 0 && step.kind != BISECT_STEP_DONE && guard++ < 200)
		bisect_add_run(b, step.kind, step.commit, BISECT_RUN_PASS);
	bisect_get_result(b, &res);
	assert_int_equal(res.outcome, BISECT_NOT_REPRODUCIBLE);
	assert_int_equal(res.culprit, -1);
	assert_true(res.boots < 20);
	assert_true(bisect_get_tally(b, 0)->pass >= 2);
	bisect_free(b);
	bisect_graph_release(&g);
}

/* Flaky runs (10 %, both directions) and infra errors (5 %): the right culprit in
 * at least 95 % of 300 bisections on linear and merged histories, and never a
 * confirmed wrong one more often than 2 %. */
static void test_flaky_accuracy(void **state)
{
	unsigned right = 0, wrong_confirmed = 0, t, trials = 300;
	double boots = 0;

	(void)state;
	for (t = 0; t < trials; t++) {
		uint64_t rng = 1000 + t;
		struct bisect_graph g;
		struct bisect_sim_oracle o;
		struct bisect_sim_stats st;
		uint32_t culprit;

		if (t % 2)
			assert_int_equal(bisect_sim_merges(&g, 128, &rng), 0);
		else
			assert_int_equal(bisect_sim_linear(&g, 128), 0);
		culprit = (uint32_t)(bisect_sim_rand(&rng) % 127);
		bisect_sim_oracle_init(&o, &g, culprit);
		o.flake = 0.10;
		o.infra = 0.05;
		o.model = BISECT_SIM_SYMMETRIC;
		assert_int_equal(bisect_sim_xenci(&st, &o, NULL, &rng), 0);
		right += st.culprit == (int)culprit;
		wrong_confirmed += st.outcome == BISECT_CONFIRMED && st.culprit != (int)culprit;
		boots += st.boots;
		bisect_sim_oracle_release(&o);
		bisect_graph_release(&g);
	}
	print_message("flaky: %u/%u right, %u wrongly confirmed, %.1f boots\n", right, trials,
		      wrong_confirmed, boots / trials);
	assert_true(right * 100 >= trials * 95);
	assert_true(wrong_confirmed * 100 <= trials * 2);
	assert_true(boots / trials < 4 * 7);
}

/* A flake seen once switches the rule: the disagreeing commit is run again. */
static void test_flake_repeats(void **state)
{
	struct bisect_graph g;
	struct bisect_step step;
	struct bisect_result res;
	struct bisect *b;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 17), 0);
	b = start(&g);
	assert_int_equal(bisect_next(b, &step), 0);
	assert_int_equal(step.commit, 8);
	bisect_add_run(b, BISECT_STEP_RUN, 8, BISECT_RUN_PASS);
	bisect_add_run(b, BISECT_STEP_RUN, 8, BISECT_RUN_FAIL);
	assert_int_equal(bisect_next(b, &step), 0);
	bisect_get_result(b, &res);
	assert_true(res.flake_rate > 0);
	assert_int_equal(res.outcome, BISECT_RUNNING);
	/* 8 is now a coin toss: it is the best split again. */
	assert_int_equal(step.commit, 8);
	bisect_free(b);
	bisect_graph_release(&g);
}

static void test_bad_input(void **state)
{
	struct bisect_graph g;
	struct bisect *b = (struct bisect *)1;
	uint32_t good = 0, bad_parent[] = {7};
	uint32_t np1[] = {1};

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 5), 0);
	/* bad reachable from good */
	good = 0;
	assert_int_equal(bisect_new(&b, &g, 2, &good, 1, NULL), -EINVAL);
	assert_null(b);
	assert_int_equal(bisect_new(&b, &g, 9, &good, 1, NULL), -EINVAL);
	assert_int_equal(bisect_new(&b, &g, 0, &good, 0, NULL), -EINVAL);
	good = 4;
	assert_int_equal(bisect_new(&b, &g, 0, &good, 1, NULL), 0);
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, 5, BISECT_RUN_PASS), -EINVAL);
	assert_int_equal(bisect_add_run(b, BISECT_STEP_DONE, 1, BISECT_RUN_PASS), -EINVAL);
	assert_int_equal(bisect_add_run(b, BISECT_STEP_RUN, 1, (enum bisect_run_result)9), -EINVAL);
	bisect_free(b);
	bisect_graph_release(&g);
	assert_int_equal(bisect_graph_init(&g, 1, np1, bad_parent), -EINVAL);
	assert_int_equal(bisect_graph_init(&g, 0, np1, bad_parent), -EINVAL);
	bisect_free(NULL);
	bisect_graph_release(NULL);
}

/* The git bisect model: linear ranges split like git (the lower of two middles for
 * an odd count), and with no flakes it names the culprit. */
static void test_git_model(void **state)
{
	struct bisect_graph g;
	uint8_t good[17] = {0};
	uint32_t culprit;

	(void)state;
	assert_int_equal(bisect_sim_linear(&g, 17), 0);
	good[16] = 1;
	/* 16 candidates: weight 8 is node 8. */
	assert_int_equal(bisect_sim_git_next(&g, 0, good), 8);
	/* 15 candidates (good 15): nodes 8 and 7 (weights 7 and 8) are both
	 * halfway; git takes the first it finds, oldest first: 8. */
	good[15] = 1;
	assert_int_equal(bisect_sim_git_next(&g, 0, good), 8);
	for (culprit = 0; culprit < 16; culprit++) {
		struct bisect_sim_oracle o;
		struct bisect_sim_stats st;
		uint64_t rng = 5;

		bisect_sim_oracle_init(&o, &g, culprit);
		assert_int_equal(bisect_sim_git(&st, &o, &rng, NULL, 0), 0);
		assert_int_equal(st.culprit, (int)culprit);
		assert_true(st.boots <= 4);
		bisect_sim_oracle_release(&o);
	}
	bisect_graph_release(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linear_exact),   cmocka_unit_test(test_class_flake_rate),
	    cmocka_unit_test(test_first_split),	   cmocka_unit_test(test_merges_exact),
	    cmocka_unit_test(test_merge_culprit),  cmocka_unit_test(test_unbuildable),
	    cmocka_unit_test(test_revert_fails),   cmocka_unit_test(test_not_reproducible),
	    cmocka_unit_test(test_flaky_accuracy), cmocka_unit_test(test_flake_repeats),
	    cmocka_unit_test(test_bad_input),	   cmocka_unit_test(test_git_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
