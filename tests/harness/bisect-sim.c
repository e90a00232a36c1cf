/* Simulated bisections: see bisect-sim.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bisect-sim.h"
#include "xmalloc.h"

uint64_t bisect_sim_rand(uint64_t *rng)
{
	/* splitmix64 */
	uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double bisect_sim_uniform(uint64_t *rng)
{
	return (double)(bisect_sim_rand(rng) >> 11) / (double)(1ULL << 53);
}

int bisect_sim_linear(struct bisect_graph *g, uint32_t n)
{
	uint32_t *np = xcalloc(n ? n : 1, sizeof(*np)), *flat = xcalloc(n ? n : 1, sizeof(*flat));
	uint32_t i, k = 0;
	int ret;

	for (i = 0; i + 1 < n; i++) {
		np[i] = 1;
		flat[k++] = i + 1;
	}
	ret = bisect_graph_init(g, n, np, flat);
	free(np);
	free(flat);
	return ret;
}

int bisect_sim_merges(struct bisect_graph *g, uint32_t n, uint64_t *rng)
{
	/* Built oldest first (creation index c), renumbered newest first at the end. */
	uint32_t *np = xcalloc(n ? n : 1, sizeof(*np));
	uint32_t *par = xcalloc(2 * (size_t)(n ? n : 1), sizeof(*par)); /* 2 per commit */
	uint32_t *mainline = xcalloc(n ? n : 1, sizeof(*mainline));
	uint32_t *np2 = NULL, *flat = NULL, c = 0, nmain = 0, i, k = 0;
	int ret;

	if (n == 0) {
		ret = -EINVAL;
		goto out;
	}
	mainline[nmain++] = c++; /* the root */
	while (c < n) {
		uint32_t head = mainline[nmain - 1];

		if (n - c >= 3 && bisect_sim_uniform(rng) < 0.06) {
			/* A feature branch of 1..6 commits forked up to 20 mainline
			 * commits back, then its merge. */
			uint32_t back =
			    (uint32_t)(bisect_sim_rand(rng) % (nmain < 20 ? nmain : 20));
			uint32_t len = 1 + (uint32_t)(bisect_sim_rand(rng) % 6), tip, j;

			if (len > n - c - 1)
				len = n - c - 1;
			tip = mainline[nmain - 1 - back];
			for (j = 0; j < len; j++) {
				np[c] = 1;
				par[2 * c] = tip;
				tip = c++;
			}
			np[c] = 2;
			par[2 * c] = head;
			par[2 * c + 1] = tip;
			mainline[nmain++] = c++;
			continue;
		}
		np[c] = 1;
		par[2 * c] = head;
		mainline[nmain++] = c++;
	}
	np2 = xcalloc(n, sizeof(*np2));
	flat = xcalloc(2 * (size_t)n, sizeof(*flat));
	for (i = 0; i < n; i++) {
		uint32_t cr = n - 1 - i, j;

		np2[i] = np[cr];
		for (j = 0; j < np[cr]; j++)
			flat[k++] = n - 1 - par[2 * cr + j];
	}
	ret = bisect_graph_init(g, n, np2, flat);
out:
	free(np);
	free(par);
	free(mainline);
	free(np2);
	free(flat);
	return ret;
}

/* Marks in seen[] the nodes reachable from start, not entering stop[] nodes. */
static void sim_reach(const struct bisect_graph *g, uint32_t start, const uint8_t *stop,
		      uint8_t *seen)
{
	uint32_t *stack, sp = 0;

	if (seen[start] || (stop && stop[start]))
		return;
	stack = xmalloc(((size_t)g->first[g->n] + 1) * sizeof(*stack));
	seen[start] = 1;
	stack[sp++] = start;
	while (sp) {
		uint32_t v = stack[--sp], e;

		for (e = g->first[v]; e < g->first[v + 1]; e++) {
			uint32_t p = g->parents[e];

			if (!seen[p] && !(stop && stop[p])) {
				seen[p] = 1;
				stack[sp++] = p;
			}
		}
	}
	free(stack);
}

void bisect_sim_oracle_init(struct bisect_sim_oracle *o, const struct bisect_graph *g,
			    uint32_t culprit)
{
	uint32_t v;

	memset(o, 0, sizeof(*o));
	o->g = g;
	o->culprit = culprit;
	o->bad = xcalloc(g->n, 1);
	/* v is bad iff it reaches the culprit; parents have higher indices, so one
	 * pass from the culprit downwards in index settles it. */
	o->bad[culprit] = 1;
	for (v = culprit; v-- > 0;) {
		uint32_t e;

		for (e = g->first[v]; e < g->first[v + 1]; e++)
			if (o->bad[g->parents[e]])
				o->bad[v] = 1;
	}
}

void bisect_sim_oracle_release(struct bisect_sim_oracle *o)
{
	free(o->bad);
	free(o->unbuildable);
	memset(o, 0, sizeof(*o));
}

enum bisect_run_result bisect_sim_run(const struct bisect_sim_oracle *o, int revert, uint32_t node,
				      uint64_t *rng)
{
	int bad;

	if (!revert && o->unbuildable && o->unbuildable[node])
		return BISECT_RUN_UNBUILDABLE;
	if (bisect_sim_uniform(rng) < o->infra)
		return BISECT_RUN_INFRA;
	bad = revert ? node != o->culprit : o->bad[node];
	if (o->model == BISECT_SIM_SYMMETRIC || !bad)
		if (bisect_sim_uniform(rng) < o->flake)
			bad = !bad;
	return bad ? BISECT_RUN_FAIL : BISECT_RUN_PASS;
}

int bisect_sim_xenci(struct bisect_sim_stats *st, const struct bisect_sim_oracle *o,
		     const struct bisect_options *opt, uint64_t *rng)
{
	const struct bisect_graph *g = o->g;
	uint32_t good = g->n - 1;
	struct bisect *b = NULL;
	struct bisect_result res;
	enum bisect_run_result r;
	unsigned base;
	int ret;

	memset(st, 0, sizeof(*st));
	st->culprit = -1;
	ret = bisect_new(&b, g, 0, &good, 1, opt);
	if (ret < 0)
		return ret;
	/* The evidence that triggered the bisection. */
	bisect_add_run(b, BISECT_STEP_RUN, 0, BISECT_RUN_FAIL);
	do
		r = bisect_sim_run(o, 0, 0, rng);
	while (r == BISECT_RUN_INFRA);
	bisect_add_run(b, BISECT_STEP_RUN, 0, r);
	bisect_add_run(b, BISECT_STEP_RUN, good, BISECT_RUN_PASS);
	bisect_get_result(b, &res);
	base = res.boots;
	for (;;) {
		struct bisect_step step;

		bisect_next(b, &step);
		if (step.kind == BISECT_STEP_DONE)
			break;
		r = bisect_sim_run(o, step.kind == BISECT_STEP_REVERT, step.commit, rng);
		bisect_add_run(b, step.kind, step.commit, r);
		if (step.purpose == BISECT_PURPOSE_SEARCH)
			st->search_boots++;
	}
	bisect_get_result(b, &res);
	st->boots = res.boots - base;
	st->culprit = res.culprit;
	st->outcome = res.outcome;
	st->reason = res.reason;
	st->posterior = res.culprit_posterior;
	bisect_free(b);
	return 0;
}

/* One of git's bisect.c halfway(): 2 * weight - nr in -1..1. */
static int halfway(long w, long nr)
{
	long d = 2 * w - nr;

	return d >= -1 && d <= 1;
}

int bisect_sim_git_next(const struct bisect_graph *g, uint32_t bad, const uint8_t *good)
{
	uint8_t *goodside = xcalloc(g->n, 1), *cand = xcalloc(g->n, 1), *seen;
	long *w = xcalloc(g->n, sizeof(*w)), nr = 0, counted = 0, bestd = -1;
	int best = -1;
	uint32_t v;

	for (v = 0; v < g->n; v++)
		if (good[v])
			sim_reach(g, v, NULL, goodside);
	sim_reach(g, bad, goodside, cand);
	/* find_bisection() reverses rev-list's newest-first list: oldest first here. */
	for (v = g->n; v-- > 0;) {
		uint32_t e, ni = 0;

		if (!cand[v])
			continue;
		nr++;
		for (e = g->first[v]; e < g->first[v + 1]; e++)
			ni += cand[g->parents[e]];
		w[v] = ni == 0 ? 1 : ni == 1 ? -1 : -2;
		counted += ni == 0;
	}
	seen = xcalloc(g->n, 1);
	for (v = g->n; v-- > 0;) {
		uint32_t u;

		if (!cand[v] || w[v] != -2)
			continue;
		memset(seen, 0, g->n);
		sim_reach(g, v, goodside, seen);
		w[v] = 0;
		for (u = 0; u < g->n; u++)
			w[v] += seen[u];
		if (halfway(w[v], nr)) {
			best = (int)v;
			goto out;
		}
		counted++;
	}
	while (counted < nr) {
		for (v = g->n; v-- > 0;) {
			uint32_t e;
			long q = -1;

			if (!cand[v] || w[v] >= 0)
				continue;
			for (e = g->first[v]; e < g->first[v + 1]; e++) {
				uint32_t p = g->parents[e];

				if (cand[p] && w[p] >= 0) {
					q = w[p];
					break;
				}
			}
			if (q < 0)
				continue;
			w[v] = q + 1;
			counted++;
			if (halfway(w[v], nr)) {
				best = (int)v;
				goto out;
			}
		}
	}
	for (v = g->n; v-- > 0;) {
		long d;

		if (!cand[v])
			continue;
		d = nr - w[v] < w[v] ? nr - w[v] : w[v];
		if (d > bestd) {
			bestd = d;
			best = (int)v;
		}
	}
out:
	free(goodside);
	free(cand);
	free(w);
	free(seen);
	return best == (int)bad ? -1 : best;
}

int bisect_sim_git(struct bisect_sim_stats *st, const struct bisect_sim_oracle *o, uint64_t *rng,
		   uint32_t *trace, unsigned ntrace)
{
	const struct bisect_graph *g = o->g;
	uint8_t *good = xcalloc(g->n, 1);
	uint32_t bad = 0;
	int next;

	memset(st, 0, sizeof(*st));
	good[g->n - 1] = 1;
	while ((next = bisect_sim_git_next(g, bad, good)) >= 0) {
		enum bisect_run_result r;

		if (trace && st->search_boots < ntrace)
			trace[st->search_boots] = (uint32_t)next;
		st->search_boots++;
		do {
			r = bisect_sim_run(o, 0, (uint32_t)next, rng);
			st->boots++;
		} while (r == BISECT_RUN_INFRA);
		if (r == BISECT_RUN_UNBUILDABLE) {
			/* Unbuildable commits are for bisect.c; the benchmark has none. */
			st->culprit = -1;
			st->outcome = BISECT_INCONCLUSIVE;
			free(good);
			return -ENOTSUP;
		}
		if (r == BISECT_RUN_FAIL)
			bad = (uint32_t)next;
		else
			good[next] = 1;
	}
	st->culprit = (int)bad;
	st->outcome = BISECT_FOUND_NOT_CONFIRMED;
	st->reason = "git bisect named it";
	free(good);
	return 0;
}
