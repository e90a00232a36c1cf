/* Simulation of bisections on synthetic histories, for the unit tests and the
 * benchmark: history generators, an oracle that answers runs with flakes and infra
 * errors, a driver for bisect.h and a faithful model of `git bisect run` (one run per
 * commit, every result trusted, git's own choice of the next commit). Pure: no I/O. */
#ifndef XENCI_BISECT_SIM_H
#define XENCI_BISECT_SIM_H

#include <stdint.h>

#include "../../controller/bisect.h"

/* Node 0 is the newest commit (the bad revision), node n-1 the root (the good one);
 * every parent has a higher index than its child, as in `git rev-list` order. */
int bisect_sim_linear(struct bisect_graph *g, uint32_t n);
/* Feature branches forking from the mainline and merged back (about one in six
 * commits is a merge). */
int bisect_sim_merges(struct bisect_graph *g, uint32_t n, uint64_t *rng);

uint64_t bisect_sim_rand(uint64_t *rng);
double bisect_sim_uniform(uint64_t *rng);

enum bisect_sim_flakes {
	BISECT_SIM_SYMMETRIC, /* any run's verdict flips with probability `flake` */
	BISECT_SIM_FAIL_ONLY, /* a good commit's run fails with probability `flake` */
};

struct bisect_sim_oracle {
	const struct bisect_graph *g;
	uint32_t culprit;
	double flake, infra;
	enum bisect_sim_flakes model;
	uint8_t *bad;	      /* per node: reaches the culprit */
	uint8_t *unbuildable; /* per node, may be NULL */
};

void bisect_sim_oracle_init(struct bisect_sim_oracle *o, const struct bisect_graph *g,
			    uint32_t culprit);
void bisect_sim_oracle_release(struct bisect_sim_oracle *o);
/* One run of node (revert: the bad revision with node reverted, good iff node is the
 * culprit). */
enum bisect_run_result bisect_sim_run(const struct bisect_sim_oracle *o, int revert, uint32_t node,
				      uint64_t *rng);

struct bisect_sim_stats {
	unsigned boots;	       /* runs the bisection asked for, infra included */
	unsigned search_boots; /* of which searching (not confirming) */
	int culprit;	       /* -1 when none named */
	enum bisect_outcome outcome;
	const char *reason; /* static storage */
	double posterior;   /* of the named culprit */
};

/* Runs one xenci bisection of (g, bad=0, good=n-1) to its end. The regression's
 * triggering evidence is given first: one failing run of bad, its re-run on another
 * board (drawn from the oracle, not counted in boots) and the good's pass. */
int bisect_sim_xenci(struct bisect_sim_stats *st, const struct bisect_sim_oracle *o,
		     const struct bisect_options *opt, uint64_t *rng);

/* git bisect run on the same history: trace (may be NULL) gets the nodes tested, in
 * order, at most ntrace. Infra results are retried (the run script loops). */
int bisect_sim_git(struct bisect_sim_stats *st, const struct bisect_sim_oracle *o, uint64_t *rng,
		   uint32_t *trace, unsigned ntrace);
/* git's choice of the next commit between bad and the good nodes (marked in good[]):
 * the node, or -1 when bad is the only candidate. */
int bisect_sim_git_next(const struct bisect_graph *g, uint32_t bad, const uint8_t *good);

#endif
