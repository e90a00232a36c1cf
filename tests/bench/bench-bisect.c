/* bench-bisect: simulated bisections of synthetic histories (linear, with merges),
 * culprit at random, flake rates 0/5/10/20 %, infra rate 5 %; boots used (mean,
 * median, max) and the share of right culprits for xenci's bisector, side by side
 * with a faithful model of `git bisect run` on the same histories (bisect-sim.c).
 *   bench-bisect [-t TRIALS] [-n MAXN] [-m symmetric|fail-only|both] [-s SEED] [-v]
 *                [-f FLAKE%] [-S SEARCH_THRESHOLD] [-C CONFIRM_THRESHOLD] [-H RUNS]
 *   -H RUNS: the board class's flake rate is measured over RUNS past runs and given to
 *   the bisector (class_flake_rate; default 100); -H 0: unknown to it (fixed
 *   confirm_runs, as before).
 *   bench-bisect -g N:SEED:FLAKE%   (a case for the real git bisect, see emit_git_case)
 * Figures, not pass/fail; the last column says whether the targets hold:
 * 0 % flakes: mean boots <= ceil(log2 N) + 4; 10 %: >= 99 % right culprits (issue 20). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../harness/bisect-sim.h"
#include "../../controller/bisect.h"
#include "xmalloc.h"

static int verbose;
/* Past runs of the board class the bisector learns its flake rate from (-H; 0: the
 * rate is unknown to it, and it confirms with a fixed confirm_runs). */
static unsigned history = 100;
static double only_flake = -1;
static struct bisect_options options;

struct agg {
	unsigned *boots;
	unsigned n, right, confirmed, max;
	double sum, search;
};

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static double median(struct agg *a)
{
	if (!a->n)
		return 0;
	qsort(a->boots, a->n, sizeof(*a->boots), cmp_unsigned);
	return a->n % 2 ? a->boots[a->n / 2] : (a->boots[a->n / 2 - 1] + a->boots[a->n / 2]) / 2.0;
}

static void add(struct agg *a, const struct bisect_sim_stats *st, uint32_t culprit)
{
	a->boots[a->n++] = st->boots;
	a->sum += st->boots;
	a->search += st->search_boots;
	if (st->boots > a->max)
		a->max = st->boots;
	a->right += st->culprit == (int)culprit;
	a->confirmed += st->outcome == BISECT_CONFIRMED && st->culprit == (int)culprit;
}

static void run_config(uint32_t n, int merges, double flake, enum bisect_sim_flakes model,
		       unsigned trials, uint64_t seed)
{
	struct agg x = {0}, g = {0};
	struct bisect_options opt;
	double l2 = log2((double)n), secs;
	const char *verdict = "";
	clock_t t0 = clock();
	unsigned t;

	opt = options;
	x.boots = xcalloc(trials, sizeof(unsigned));
	g.boots = xcalloc(trials, sizeof(unsigned));
	for (t = 0; t < trials; t++) {
		uint64_t rng = seed ^ ((uint64_t)n << 32) ^ t, rng2;
		struct bisect_graph gr;
		struct bisect_sim_oracle o;
		struct bisect_sim_stats st;
		uint32_t culprit;

		if (merges)
			bisect_sim_merges(&gr, n, &rng);
		else
			bisect_sim_linear(&gr, n);
		culprit = (uint32_t)(bisect_sim_rand(&rng) % (n - 1)); /* never the good root */
		bisect_sim_oracle_init(&o, &gr, culprit);
		o.flake = flake;
		o.infra = 0.05;
		o.model = model;
		rng2 = rng; /* the same results stream for both */
		opt.class_flake_rate = -1;
		if (history) {
			/* The class's measured rate: wrong verdicts among its past runs
			 * (their own stream, so the bisections see the same results). */
			uint64_t hrng = seed ^ 0x9e3779b97f4a7c15ULL ^ ((uint64_t)t << 20) ^ n;
			unsigned h, wrong = 0;

			for (h = 0; h < history; h++)
				wrong += bisect_sim_uniform(&hrng) < flake;
			opt.class_flake_rate = (double)wrong / history;
		}
		bisect_sim_xenci(&st, &o, &opt, &rng);
		add(&x, &st, culprit);
		if (verbose && st.culprit != (int)culprit)
			printf("  wrong: N %u trial %u culprit %u named %d (%s, p %.4f): %s, %u "
			       "boots\n",
			       n, t, culprit, st.culprit, bisect_outcome_name(st.outcome),
			       st.posterior, st.reason, st.boots);
		bisect_sim_git(&st, &o, &rng2, NULL, 0);
		add(&g, &st, culprit);
		bisect_sim_oracle_release(&o);
		bisect_graph_release(&gr);
	}
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (flake == 0)
		verdict = x.sum / trials <= ceil(l2) + 4 ? "target met" : "target MISSED";
	else if (fabs(flake - 0.10) < 1e-9)
		verdict = 100.0 * x.right / trials >= 99 ? "target met" : "target MISSED";
	printf("%5u %-7s %-9s %3.0f%% | %6.1f %5.1f %4u %5.1f %6.1f%% %6.1f%% | %6.1f %5.1f %4u "
	       "%6.1f%% | %5.1fs %s\n",
	       n, merges ? "merges" : "linear",
	       model == BISECT_SIM_SYMMETRIC ? "symmetric" : "fail-only", flake * 100,
	       x.sum / trials, median(&x), x.max, x.search / trials, 100.0 * x.right / trials,
	       100.0 * x.confirmed / trials, g.sum / trials, median(&g), g.max,
	       100.0 * g.right / trials, secs, verdict);
	fflush(stdout);
	free(x.boots);
	free(g.boots);
}

/* -g N:SEED:FLAKE%: prints a history with merges and one result per commit, then the
 * commits the git bisect model tests, for tests/unit/test-bisect-model.sh to replay
 * with the real `git bisect run`. Node i is commit "c<i>"; parents follow. */
static int emit_git_case(const char *spec)
{
	unsigned n = 0, flake = 0;
	unsigned long long seed = 0;
	struct bisect_graph g;
	struct bisect_sim_oracle o;
	uint8_t *good, *result;
	uint64_t rng;
	uint32_t v, bad = 0;
	int next;

	if (sscanf(spec, "%u:%llu:%u", &n, &seed, &flake) != 3 || n < 2 || n > 4096 ||
	    flake > 100) {
		fprintf(stderr, "bench-bisect: -g wants N:SEED:FLAKE%%\n");
		return 2;
	}
	rng = seed;
	if (bisect_sim_merges(&g, n, &rng) < 0)
		return 1;
	bisect_sim_oracle_init(&o, &g, (uint32_t)(bisect_sim_rand(&rng) % (n - 1)));
	good = xcalloc(n, 1);
	result = xcalloc(n, 1);
	for (v = 0; v < n; v++) {
		int isbad = o.bad[v];

		if (v != 0 && v != n - 1 && bisect_sim_uniform(&rng) < flake / 100.0)
			isbad = !isbad;
		result[v] = (uint8_t)isbad;
		printf("node %u %s", v, isbad ? "bad" : "good");
		for (uint32_t e = g.first[v]; e < g.first[v + 1]; e++)
			printf(" %u", g.parents[e]);
		printf("\n");
	}
	good[n - 1] = 1;
	printf("trace");
	while ((next = bisect_sim_git_next(&g, bad, good)) >= 0) {
		printf(" %d", next);
		if (result[next])
			bad = (uint32_t)next;
		else
			good[next] = 1;
	}
	printf("\nculprit %u\n", bad);
	free(good);
	free(result);
	bisect_sim_oracle_release(&o);
	bisect_graph_release(&g);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = {16, 64, 256, 1024, 4096};
	static const double flakes[] = {0, 0.05, 0.10, 0.20};
	unsigned trials = 400, maxn = 4096, i, j, shape, m;
	uint64_t seed = 20261124;
	const char *models = "both";
	int c;

	bisect_options_init(&options);
	while ((c = getopt(argc, argv, "t:n:m:s:vf:S:C:g:H:")) != -1) {
		switch (c) {
		case 't':
			trials = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			maxn = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			models = optarg;
			break;
		case 'f':
			only_flake = strtod(optarg, NULL) / 100;
			break;
		case 'S':
			options.search_threshold = strtod(optarg, NULL);
			break;
		case 'C':
			options.confirm_threshold = strtod(optarg, NULL);
			break;
		case 'g':
			return emit_git_case(optarg);
		case 'H':
			history = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			verbose = 1;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-t trials] [-n maxN] [-m symmetric|fail-only|both] "
				"[-s seed] [-H history]\n",
				argv[0]);
			return 2;
		}
	}
	if (trials == 0)
		trials = 1;
	printf("bench-bisect: %u trials per row, infra rate 5 %%, seed %llu, class flake rate "
	       "%s\n",
	       trials, (unsigned long long)seed,
	       history ? "measured over past runs (-H)" : "unknown (-H 0)");
	printf("boots: runs the bisection made after the triggering fail and its re-run "
	       "(infra retries and confirmation included)\n");
	printf("%5s %-7s %-9s %4s | %6s %5s %4s %5s %7s %7s | %6s %5s %4s %7s |\n", "N", "shape",
	       "flakes", "rate", "mean", "med", "max", "srch", "right", "confrm", "git", "med",
	       "max", "right");
	for (m = 0; m < 2; m++) {
		enum bisect_sim_flakes model = m ? BISECT_SIM_SYMMETRIC : BISECT_SIM_FAIL_ONLY;

		if (strcmp(models, "both") && strcmp(models, m ? "symmetric" : "fail-only"))
			continue;
		for (shape = 0; shape < 2; shape++)
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				unsigned tr = trials;

				if (sizes[i] > maxn)
					continue;
				if (sizes[i] >= 1024)
					tr = trials / 4 ? trials / 4 : 1;
				for (j = 0; j < sizeof(flakes) / sizeof(flakes[0]); j++)
					if (only_flake < 0 || fabs(only_flake - flakes[j]) < 1e-9)
						run_config(sizes[i], (int)shape, flakes[j], model,
							   tr, seed);
			}
	}
	return 0;
}
