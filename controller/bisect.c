/* Flake-aware bisection: see bisect.h for the contract and docs/bisection.md for the
 * decision rule. Memory: one ancestor bitset per candidate (candidates^2 bits). */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "xmalloc.h"

#define NONE_PRIOR	  0.05 /* prior belief that the range holds no regression */
#define FLAKE_PRIOR	  0.1  /* prior mean of each flake rate once one is seen */
#define FLAKE_PRIOR_W	  10.0 /* its weight, in runs */
#define FLAKE_MAX	  0.4  /* an estimate above this says nothing */
#define PLAUSIBLE	  1e-3 /* posterior above which a candidate counts as remaining */
#define MIN_SPLIT	  1e-3 /* a run whose outcome is this sure teaches nothing */
#define REVERT_MAX_RUNS	  5
#define CLASS_FLAKE_FLOOR 0.005 /* a class that never flaked: one confirming run */

struct bisect {
	const struct bisect_graph *g;
	struct bisect_options opt;
	uint32_t bad;
	uint32_t ncand;		    /* candidates; hypothesis ncand is "no regression" */
	int32_t *cand;		    /* node -> candidate index or -1 */
	uint32_t *node;		    /* candidate index -> node */
	size_t words;		    /* 64-bit words per bitset */
	uint64_t *anc;		    /* per candidate x: the candidates x reaches (x included) */
	struct bisect_tally *tally; /* per node */
	unsigned *rev_pass, *rev_fail, *rev_infra, *rev_unbuildable; /* per node (culprit) */
	unsigned boots;
	/* The latest evaluation, refreshed by evaluate(). */
	double *post;	    /* ncand + 1 */
	double *mass;	    /* per candidate: P(it is bad) */
	double alpha, beta; /* P(fail | good), P(pass | bad); 0 while runs agree */
	int flaky;
	/* The end, once reached. */
	int done;
	enum bisect_outcome outcome;
	int culprit;
	const char *reason;
};

static int anc_has(const struct bisect *b, uint32_t x, uint32_t c)
{
	return (b->anc[(size_t)x * b->words + c / 64] >> (c % 64)) & 1;
}

int bisect_graph_init(struct bisect_graph *g, uint32_t n, const uint32_t *nparents,
		      const uint32_t *parents_flat)
{
	uint64_t total = 0;
	uint32_t i;

	memset(g, 0, sizeof(*g));
	if (n == 0 || n > BISECT_MAX_NODES)
		return -EINVAL;
	for (i = 0; i < n; i++)
		total += nparents[i];
	if (total > (uint64_t)n * 64)
		return -E2BIG;
	for (i = 0; i < total; i++)
		if (parents_flat[i] >= n)
			return -EINVAL;
	g->n = n;
	g->first = xcalloc((size_t)n + 1, sizeof(*g->first));
	g->parents = xcalloc(total ? total : 1, sizeof(*g->parents));
	for (i = 0; i < n; i++)
		g->first[i + 1] = g->first[i] + nparents[i];
	if (total)
		memcpy(g->parents, parents_flat, total * sizeof(*g->parents));
	return 0;
}

void bisect_graph_release(struct bisect_graph *g)
{
	if (!g)
		return;
	free(g->first);
	free(g->parents);
	memset(g, 0, sizeof(*g));
}

void bisect_options_init(struct bisect_options *o)
{
	o->confirm_runs = 3;
	o->max_runs_per_commit = 12;
	o->max_infra_per_commit = 6;
	o->max_boots = 0;
	o->search_threshold = 0.8;
	o->confirm_threshold = 0.99;
	o->min_flake_rate = 0.02;
	o->class_flake_rate = -1;
}

/* Marks in seen[] every node reachable from start (start included), not entering
 * nodes already marked in stop[] (may be NULL). */
static void reach(const struct bisect_graph *g, uint32_t start, const uint8_t *stop, uint8_t *seen,
		  uint32_t *stack)
{
	size_t sp = 0;

	if (seen[start] || (stop && stop[start]))
		return;
	seen[start] = 1;
	stack[sp++] = start;
	while (sp) {
		uint32_t v = stack[--sp], k;

		for (k = g->first[v]; k < g->first[v + 1]; k++) {
			uint32_t p = g->parents[k];

			if (seen[p] || (stop && stop[p]))
				continue;
			seen[p] = 1;
			stack[sp++] = p;
		}
	}
}

/* Candidates in an order where every parent comes before its children. */
static void topo_order(const struct bisect *b, uint32_t *order)
{
	const struct bisect_graph *g = b->g;
	uint8_t *state = xcalloc(b->ncand, 1); /* 0 new, 1 open, 2 done */
	uint32_t *stack = xmalloc(((size_t)g->first[g->n] + b->ncand + 1) * sizeof(*stack));
	uint32_t *iter = xcalloc(b->ncand, sizeof(*iter));
	size_t n = 0;
	uint32_t s;

	for (s = 0; s < b->ncand; s++) {
		size_t sp = 0;

		if (state[s])
			continue;
		stack[sp++] = s;
		state[s] = 1;
		while (sp) {
			uint32_t c = stack[sp - 1], v = b->node[c];

			if (g->first[v] + iter[c] < g->first[v + 1]) {
				uint32_t p = g->parents[g->first[v] + iter[c]++];
				int32_t pc = b->cand[p];

				if (pc >= 0 && !state[pc]) {
					state[pc] = 1;
					stack[sp++] = (uint32_t)pc;
				}
				continue;
			}
			state[c] = 2;
			order[n++] = c;
			sp--;
		}
	}
	assert(n == b->ncand);
	free(state);
	free(stack);
	free(iter);
}

int bisect_new(struct bisect **out, const struct bisect_graph *g, uint32_t bad,
	       const uint32_t *good, size_t ngood, const struct bisect_options *opt)
{
	struct bisect *b = NULL;
	uint8_t *goodside = NULL, *inrange = NULL;
	uint32_t *stack = NULL, *order = NULL, i;
	size_t k;
	int ret = -EINVAL;

	*out = NULL;
	if (!g || bad >= g->n || ngood == 0)
		goto out;
	for (k = 0; k < ngood; k++)
		if (good[k] >= g->n)
			goto out;
	goodside = xcalloc(g->n, 1);
	inrange = xcalloc(g->n, 1);
	stack = xmalloc(((size_t)g->first[g->n] + g->n + 1) * sizeof(*stack));
	for (k = 0; k < ngood; k++)
		reach(g, good[k], NULL, goodside, stack);
	if (goodside[bad])
		goto out;
	reach(g, bad, goodside, inrange, stack);

	b = xcalloc(1, sizeof(*b));
	b->g = g;
	b->bad = bad;
	b->culprit = -1;
	if (opt)
		b->opt = *opt;
	else
		bisect_options_init(&b->opt);
	b->cand = xmalloc(g->n * sizeof(*b->cand));
	for (i = 0; i < g->n; i++) {
		b->cand[i] = inrange[i] ? (int32_t)b->ncand : -1;
		b->ncand += inrange[i];
	}
	if (b->ncand > BISECT_MAX_CANDIDATES) {
		ret = -E2BIG;
		goto out;
	}
	b->node = xmalloc(b->ncand * sizeof(*b->node));
	for (i = 0; i < g->n; i++)
		if (b->cand[i] >= 0)
			b->node[b->cand[i]] = i;
	if (!b->opt.max_boots)
		b->opt.max_boots = (unsigned)(4 * ceil(log2((double)b->ncand + 1))) + 30;

	/* anc(x) = {x} + the union of its parents' sets, parents first. */
	b->words = (b->ncand + 63) / 64;
	b->anc = xcalloc(b->ncand * b->words, sizeof(*b->anc));
	order = xmalloc(b->ncand * sizeof(*order));
	topo_order(b, order);
	for (i = 0; i < b->ncand; i++) {
		uint32_t c = order[i], v = b->node[c], e;
		uint64_t *row = b->anc + (size_t)c * b->words;

		row[c / 64] |= 1ULL << (c % 64);
		for (e = g->first[v]; e < g->first[v + 1]; e++) {
			int32_t pc = b->cand[g->parents[e]];
			const uint64_t *prow;
			size_t w;

			if (pc < 0)
				continue;
			prow = b->anc + (size_t)pc * b->words;
			for (w = 0; w < b->words; w++)
				row[w] |= prow[w];
		}
	}
	b->tally = xcalloc(g->n, sizeof(*b->tally));
	b->rev_pass = xcalloc(g->n, sizeof(unsigned));
	b->rev_fail = xcalloc(g->n, sizeof(unsigned));
	b->rev_infra = xcalloc(g->n, sizeof(unsigned));
	b->rev_unbuildable = xcalloc(g->n, sizeof(unsigned));
	b->post = xcalloc((size_t)b->ncand + 1, sizeof(*b->post));
	b->mass = xcalloc(b->ncand, sizeof(*b->mass));
	*out = b;
	b = NULL;
	ret = 0;
out:
	bisect_free(b);
	free(goodside);
	free(inrange);
	free(stack);
	free(order);
	return ret;
}

void bisect_free(struct bisect *b)
{
	if (!b)
		return;
	free(b->cand);
	free(b->node);
	free(b->anc);
	free(b->tally);
	free(b->rev_pass);
	free(b->rev_fail);
	free(b->rev_infra);
	free(b->rev_unbuildable);
	free(b->post);
	free(b->mass);
	free(b);
}

int bisect_add_run(struct bisect *b, enum bisect_step_kind kind, uint32_t commit,
		   enum bisect_run_result r)
{
	struct bisect_tally *t;

	if (commit >= b->g->n || (kind != BISECT_STEP_RUN && kind != BISECT_STEP_REVERT))
		return -EINVAL;
	if (r != BISECT_RUN_PASS && r != BISECT_RUN_FAIL && r != BISECT_RUN_INFRA &&
	    r != BISECT_RUN_UNBUILDABLE)
		return -EINVAL;
	b->boots++;
	if (kind == BISECT_STEP_REVERT) {
		unsigned *slot[] = {b->rev_pass, b->rev_fail, b->rev_infra, b->rev_unbuildable};

		slot[r][commit]++;
		return 0;
	}
	t = &b->tally[commit];
	switch (r) {
	case BISECT_RUN_PASS:
		t->pass++;
		break;
	case BISECT_RUN_FAIL:
		t->fail++;
		break;
	case BISECT_RUN_INFRA:
		t->infra++;
		break;
	case BISECT_RUN_UNBUILDABLE:
		t->unbuildable = 1;
		break;
	}
	return 0;
}

/* Per hypothesis: fails and passes where it predicts good, passes and fails where it
 * predicts bad. */
struct counts {
	unsigned gf, gp, bp, bf;
};

static void count_hypotheses(const struct bisect *b, struct counts *cnt)
{
	uint32_t x, h;

	memset(cnt, 0, ((size_t)b->ncand + 1) * sizeof(*cnt));
	for (x = 0; x < b->g->n; x++) {
		const struct bisect_tally *t = &b->tally[x];
		int32_t xc = b->cand[x];

		if (!t->pass && !t->fail)
			continue;
		for (h = 0; h <= b->ncand; h++) {
			int isbad = 0;

			if (xc >= 0 && h < b->ncand)
				isbad = anc_has(b, (uint32_t)xc, h);
			if (isbad) {
				cnt[h].bp += t->pass;
				cnt[h].bf += t->fail;
			} else {
				cnt[h].gf += t->fail;
				cnt[h].gp += t->pass;
			}
		}
	}
	/* A revert run of x: good under "x is the culprit" (and under "no
	 * regression"), bad under any other culprit. */
	for (x = 0; x < b->g->n; x++) {
		int32_t xc = b->cand[x];

		if (xc < 0 || (!b->rev_pass[x] && !b->rev_fail[x]))
			continue;
		for (h = 0; h <= b->ncand; h++) {
			if (h == (uint32_t)xc || h == b->ncand) {
				cnt[h].gf += b->rev_fail[x];
				cnt[h].gp += b->rev_pass[x];
			} else {
				cnt[h].bp += b->rev_pass[x];
				cnt[h].bf += b->rev_fail[x];
			}
		}
	}
}

static double loglik(const struct counts *k, double a, double bt)
{
	return k->gf * log(a) + k->gp * log1p(-a) + k->bp * log(bt) + k->bf * log1p(-bt);
}

static void posterior_from(struct bisect *b, const struct counts *cnt)
{
	double *lp = b->post, mx = -INFINITY, sum = 0;
	double lprior = log((1 - NONE_PRIOR) / b->ncand);
	uint32_t h;

	for (h = 0; h <= b->ncand; h++) {
		lp[h] =
		    (h == b->ncand ? log(NONE_PRIOR) : lprior) + loglik(&cnt[h], b->alpha, b->beta);
		if (lp[h] > mx)
			mx = lp[h];
	}
	for (h = 0; h <= b->ncand; h++) {
		lp[h] = exp(lp[h] - mx);
		sum += lp[h];
	}
	for (h = 0; h <= b->ncand; h++)
		lp[h] /= sum;
}

static double clamp_rate(const struct bisect *b, double r)
{
	if (r < b->opt.min_flake_rate)
		r = b->opt.min_flake_rate;
	return r > FLAKE_MAX ? FLAKE_MAX : r;
}

/* Recomputes the posterior and, per candidate, the belief that it is bad. */
static void evaluate(struct bisect *b)
{
	struct counts *cnt = xmalloc(((size_t)b->ncand + 1) * sizeof(*cnt));
	uint32_t h, x, nlive = 0, *live;
	unsigned consistent = 0;

	count_hypotheses(b, cnt);
	for (h = 0; h <= b->ncand; h++)
		consistent += (cnt[h].gf == 0 && cnt[h].bp == 0);
	b->flaky = consistent == 0;
	if (!b->flaky) {
		/* Runs agree: trust them, as git bisect does. The "no regression"
		 * hypothesis keeps its prior weight against the candidates. */
		double each = (1 - NONE_PRIOR) / b->ncand, sum = 0;

		b->alpha = b->beta = 0;
		for (h = 0; h <= b->ncand; h++) {
			int ok = cnt[h].gf == 0 && cnt[h].bp == 0;

			b->post[h] = ok ? (h == b->ncand ? NONE_PRIOR : each) : 0;
			sum += b->post[h];
		}
		for (h = 0; h <= b->ncand; h++)
			b->post[h] /= sum;
	} else {
		/* A few rounds of expectation-maximisation for the two flake rates,
		 * each with a prior worth FLAKE_PRIOR_W runs. */
		int round;

		b->alpha = b->beta = FLAKE_PRIOR;
		for (round = 0; round < 4; round++) {
			double gf = 0, gn = 0, bp = 0, bn = 0;

			posterior_from(b, cnt);
			for (h = 0; h <= b->ncand; h++) {
				gf += b->post[h] * cnt[h].gf;
				gn += b->post[h] * (cnt[h].gf + cnt[h].gp);
				bp += b->post[h] * cnt[h].bp;
				bn += b->post[h] * (cnt[h].bp + cnt[h].bf);
			}
			b->alpha = clamp_rate(b, (gf + FLAKE_PRIOR * FLAKE_PRIOR_W) /
						     (gn + FLAKE_PRIOR_W));
			b->beta = clamp_rate(b, (bp + FLAKE_PRIOR * FLAKE_PRIOR_W) /
						    (bn + FLAKE_PRIOR_W));
		}
		posterior_from(b, cnt);
	}
	free(cnt);

	/* mass(x) = sum of the posterior of the candidates x reaches; only the
	 * candidates with some weight are worth summing. */
	live = xmalloc(b->ncand * sizeof(*live));
	for (h = 0; h < b->ncand; h++)
		if (b->post[h] > 1e-12)
			live[nlive++] = h;
	for (x = 0; x < b->ncand; x++) {
		const uint64_t *row = b->anc + (size_t)x * b->words;
		double m = 0;
		uint32_t i;

		for (i = 0; i < nlive; i++)
			if ((row[live[i] / 64] >> (live[i] % 64)) & 1)
				m += b->post[live[i]];
		b->mass[x] = m;
	}
	free(live);
}

static int testable(const struct bisect *b, uint32_t node)
{
	const struct bisect_tally *t = &b->tally[node];

	return !t->unbuildable && t->infra < b->opt.max_infra_per_commit &&
	       t->pass + t->fail < b->opt.max_runs_per_commit;
}

/* The best hypothesis; ties go to the lower node index. */
static uint32_t top_hypothesis(const struct bisect *b)
{
	uint32_t h, best = b->ncand;

	for (h = 0; h < b->ncand; h++) {
		if (best == b->ncand || b->post[h] > b->post[best] + 1e-12 ||
		    (fabs(b->post[h] - b->post[best]) <= 1e-12 && b->node[h] < b->node[best]))
			best = h;
	}
	if (b->post[b->ncand] > b->post[best] + 1e-12)
		best = b->ncand;
	return best;
}

static void finish(struct bisect *b, enum bisect_outcome o, int culprit, const char *reason)
{
	b->done = 1;
	b->outcome = o;
	b->culprit = culprit;
	b->reason = reason;
}

/* The testable candidate that splits the posterior most evenly, or -1. */
static int best_split(const struct bisect *b)
{
	double best = -1;
	int pick = -1;
	uint32_t c;

	for (c = 0; c < b->ncand; c++) {
		uint32_t v = b->node[c];
		double m = b->mass[c], s = m < 1 - m ? m : 1 - m;

		if (!testable(b, v))
			continue;
		if (s > best + 1e-12 ||
		    (fabs(s - best) <= 1e-12 && pick >= 0 && v < (uint32_t)pick)) {
			best = s;
			pick = (int)v;
		}
	}
	return best < MIN_SPLIT ? -1 : pick;
}

/* The confirming runs the culprit and each parent need (see class_flake_rate in
 * bisect.h): with a known class flake rate f, the fewest k such that k agreeing runs
 * have a likelihood ratio ((1-f)/f)^k of at least confirm_threshold's odds. */
static unsigned confirm_need(const struct bisect *b)
{
	double f = b->opt.class_flake_rate, odds, k;

	if (f < 0)
		return b->opt.confirm_runs;
	if (b->flaky) {
		if (b->alpha > f)
			f = b->alpha;
		if (b->beta > f)
			f = b->beta;
	}
	if (f < CLASS_FLAKE_FLOOR)
		f = CLASS_FLAKE_FLOOR;
	if (f > FLAKE_MAX)
		f = FLAKE_MAX;
	if (b->opt.confirm_threshold >= 1)
		return b->opt.max_runs_per_commit;
	odds = b->opt.confirm_threshold / (1 - b->opt.confirm_threshold);
	k = ceil(log(odds) / log((1 - f) / f) - 1e-9);
	if (k < 1)
		k = 1;
	return k > b->opt.max_runs_per_commit ? b->opt.max_runs_per_commit : (unsigned)k;
}

/* Confirmation of culprit node v: the next run it needs, 1 when it needs none, 0
 * when it can get no further (a run is impossible), with *step filled on -1. */
static int confirm_next(const struct bisect *b, uint32_t v, struct bisect_step *step)
{
	const struct bisect_graph *g = b->g;
	unsigned need = confirm_need(b), have = b->tally[v].fail;
	int pick = -1, stuck = 0;
	uint32_t e;

	/* Interleave: whichever side has fewer confirming runs goes next. */
	for (e = g->first[v]; e < g->first[v + 1]; e++) {
		uint32_t p = g->parents[e];

		if (b->tally[p].pass >= need)
			continue;
		if (!testable(b, p)) {
			stuck = 1;
			continue;
		}
		if (pick < 0 || b->tally[p].pass < b->tally[pick].pass)
			pick = (int)p;
	}
	if (have < need) {
		if (!testable(b, v))
			stuck = 1;
		else if (pick < 0 || have <= b->tally[pick].pass)
			pick = (int)v;
	}
	if (pick >= 0) {
		step->kind = BISECT_STEP_RUN;
		step->commit = (uint32_t)pick;
		step->purpose = (uint32_t)pick == v ? BISECT_PURPOSE_CONFIRM_CULPRIT
						    : BISECT_PURPOSE_CONFIRM_PARENT;
		return -1;
	}
	return stuck ? 0 : 1;
}

int bisect_next(struct bisect *b, struct bisect_step *step)
{
	uint32_t top;
	int c;

	memset(step, 0, sizeof(*step));
	step->kind = BISECT_STEP_DONE;
	if (b->done)
		return 0;
	evaluate(b);
	top = top_hypothesis(b);
	if (b->boots >= b->opt.max_boots) {
		if (top < b->ncand && b->post[top] >= b->opt.search_threshold)
			finish(b, BISECT_FOUND_NOT_CONFIRMED, (int)b->node[top],
			       "run budget spent before the culprit was confirmed");
		else
			finish(b, BISECT_INCONCLUSIVE, -1,
			       "run budget spent before the range narrowed to one commit");
		return 0;
	}
	if (top == b->ncand) {
		if (b->post[top] >= b->opt.confirm_threshold) {
			finish(b, BISECT_NOT_REPRODUCIBLE, -1,
			       "the bad revision passes: its failure was not reproduced");
			return 0;
		}
	} else if (b->post[top] >= b->opt.search_threshold) {
		uint32_t v = b->node[top];
		int r = confirm_next(b, v, step);

		if (r < 0)
			return 0;
		if (r == 0 && b->post[top] >= b->opt.confirm_threshold) {
			finish(b, BISECT_FOUND_NOT_CONFIRMED, (int)v,
			       "the culprit or its parent cannot be run often enough to "
			       "confirm");
			return 0;
		}
		if (r == 1 && b->post[top] >= b->opt.confirm_threshold) {
			unsigned rp = b->rev_pass[v], rf = b->rev_fail[v];
			unsigned need = b->flaky ? 2 : 1;

			if (rp >= need && rp > rf) {
				finish(b, BISECT_CONFIRMED, (int)v,
				       "culprit fails, parents pass, and reverting it fixes "
				       "the bad revision");
				return 0;
			}
			if (b->rev_unbuildable[v]) {
				finish(b, BISECT_FOUND_NOT_CONFIRMED, (int)v,
				       "the revert of the culprit does not apply or build");
				return 0;
			}
			if (rp + rf >= REVERT_MAX_RUNS || rf >= rp + 2 ||
			    b->rev_infra[v] >= b->opt.max_infra_per_commit) {
				finish(b, BISECT_FOUND_NOT_CONFIRMED, (int)v,
				       "the bad revision with the culprit reverted still "
				       "fails");
				return 0;
			}
			step->kind = BISECT_STEP_REVERT;
			step->purpose = BISECT_PURPOSE_CONFIRM_REVERT;
			step->commit = v;
			return 0;
		}
	}
	c = best_split(b);
	if (c < 0) {
		if (top < b->ncand && b->post[top] >= b->opt.search_threshold)
			finish(b, BISECT_FOUND_NOT_CONFIRMED, (int)b->node[top],
			       "no run left that could confirm the culprit");
		else
			finish(b, BISECT_INCONCLUSIVE, -1,
			       "only commits that cannot be tested are left");
		return 0;
	}
	step->kind = BISECT_STEP_RUN;
	step->purpose = BISECT_PURPOSE_SEARCH;
	step->commit = (uint32_t)c;
	return 0;
}

void bisect_get_result(const struct bisect *b, struct bisect_result *res)
{
	uint32_t h;

	memset(res, 0, sizeof(*res));
	res->outcome = b->done ? b->outcome : BISECT_RUNNING;
	res->culprit = b->done ? b->culprit : -1;
	res->reason = b->done ? b->reason : "running";
	res->boots = b->boots;
	res->flake_rate = b->flaky ? (b->alpha > b->beta ? b->alpha : b->beta) : 0;
	for (h = 0; h < b->ncand; h++)
		res->remaining += b->post[h] > PLAUSIBLE;
	if (res->culprit >= 0) {
		res->culprit_posterior = bisect_get_posterior(b, (uint32_t)res->culprit);
		res->revert_pass = b->rev_pass[res->culprit];
		res->revert_fail = b->rev_fail[res->culprit];
	}
}

const struct bisect_tally *bisect_get_tally(const struct bisect *b, uint32_t node)
{
	return node < b->g->n ? &b->tally[node] : NULL;
}

double bisect_get_posterior(const struct bisect *b, uint32_t node)
{
	if (node >= b->g->n || b->cand[node] < 0)
		return 0;
	return b->post[b->cand[node]];
}

uint32_t bisect_candidate_count(const struct bisect *b)
{
	return b->ncand;
}

size_t bisect_get_plausible(const struct bisect *b, uint32_t *out, size_t max)
{
	size_t n = 0, i;
	uint32_t h;

	/* Insertion into a short best-first list. */
	for (h = 0; h < b->ncand; h++) {
		if (b->post[h] <= PLAUSIBLE)
			continue;
		for (i = n; i > 0 && b->post[b->cand[out[i - 1]]] < b->post[h]; i--)
			if (i < max)
				out[i] = out[i - 1];
		if (i < max) {
			out[i] = b->node[h];
			if (n < max)
				n++;
		}
	}
	return n;
}

const char *bisect_outcome_name(enum bisect_outcome o)
{
	static const char *const names[] = {
	    [BISECT_RUNNING] = "running",
	    [BISECT_CONFIRMED] = "confirmed",
	    [BISECT_FOUND_NOT_CONFIRMED] = "found, not confirmed",
	    [BISECT_NOT_REPRODUCIBLE] = "not reproducible",
	    [BISECT_INCONCLUSIVE] = "inconclusive",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

const char *bisect_purpose_name(enum bisect_purpose p)
{
	static const char *const names[] = {
	    [BISECT_PURPOSE_SEARCH] = "search",
	    [BISECT_PURPOSE_CONFIRM_CULPRIT] = "confirm culprit",
	    [BISECT_PURPOSE_CONFIRM_PARENT] = "confirm parent",
	    [BISECT_PURPOSE_CONFIRM_REVERT] = "confirm revert",
	};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}
