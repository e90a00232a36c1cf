/* Flake-aware bisection over an abstract commit graph (pure: no I/O, no SQL, no git).
 *
 * The caller describes the commits reachable from the bad revision (merges included)
 * as nodes 0..n-1 with parent lists, names the bad node and the good node(s), then
 * alternates bisect_next() (which revision to run next) and bisect_add_run() (what a
 * run of it gave), until bisect_next() says BISECT_STEP_DONE; bisect_get_result() then
 * gives the outcome, the culprit and the evidence. The decision rule is documented in
 * docs/bisection.md; in short:
 *   - hypotheses: "commit c is the first bad commit" for every candidate c (reachable
 *     from bad, not from any good), plus "nothing in the range is bad" (the failure
 *     was a flake). A commit x is bad under hypothesis c iff x reaches c.
 *   - while no run has contradicted another, runs are trusted (flake rate 0): this is
 *     git bisect's candidate elimination, and each commit is run once;
 *   - once runs disagree, the flake rates are estimated from the runs and the
 *     posterior over the hypotheses decides; commits are re-run only when the best
 *     split of that posterior says so;
 *   - the next commit to run is the testable one that splits the posterior mass most
 *     evenly (uniform prior and no flakes: git bisect's best split); unbuildable
 *     commits are skipped;
 *   - confirmation: the culprit fails and each of its parents passes confirm_runs
 *     times (runs made during the search count), interleaved, then the bad revision
 *     with the culprit reverted passes; when the board class's flake rate is known
 *     (class_flake_rate), the number of runs follows it instead (a sequential test).
 * Node order matters only for ties: the lower index wins, so give nodes newest first
 * (as `git rev-list` does) to break ties like git. Not thread-safe; one struct bisect
 * per bisection. */
#ifndef XENCI_BISECT_H
#define XENCI_BISECT_H

#include <stddef.h>
#include <stdint.h>

/* The largest candidate set bisect_new() accepts (memory is candidates^2 / 8 bytes). */
#define BISECT_MAX_CANDIDATES 16384
#define BISECT_MAX_NODES      65536

enum bisect_run_result {
	BISECT_RUN_PASS,
	BISECT_RUN_FAIL,
	BISECT_RUN_INFRA,	/* lab problem: retried, never counted */
	BISECT_RUN_UNBUILDABLE, /* the revision does not build: skipped for good */
};

enum bisect_step_kind {
	BISECT_STEP_RUN,    /* run `commit` */
	BISECT_STEP_REVERT, /* run the bad revision with `commit` (the culprit) reverted */
	BISECT_STEP_DONE,
};

enum bisect_purpose {
	BISECT_PURPOSE_SEARCH,
	BISECT_PURPOSE_CONFIRM_CULPRIT,
	BISECT_PURPOSE_CONFIRM_PARENT,
	BISECT_PURPOSE_CONFIRM_REVERT,
};

enum bisect_outcome {
	BISECT_RUNNING,
	BISECT_CONFIRMED,
	BISECT_FOUND_NOT_CONFIRMED,
	BISECT_NOT_REPRODUCIBLE,
	BISECT_INCONCLUSIVE,
};

/* A commit graph in compressed rows: the parents of node i are
 * parents[first[i]] .. parents[first[i + 1] - 1]. Parents outside the graph are
 * simply left out (they are on the good side). */
struct bisect_graph {
	uint32_t n;
	uint32_t *first; /* n + 1 entries */
	uint32_t *parents;
};

/* Builds a graph from per-node parent counts and a flat list; copies everything. */
int bisect_graph_init(struct bisect_graph *g, uint32_t n, const uint32_t *nparents,
		      const uint32_t *parents_flat);
void bisect_graph_release(struct bisect_graph *g);

struct bisect_options {
	unsigned confirm_runs;	       /* fails of the culprit, passes of each parent: 3 */
	unsigned max_runs_per_commit;  /* verdict-bearing runs of one commit: 12 */
	unsigned max_infra_per_commit; /* infra results before a commit counts as skipped: 4 */
	unsigned max_boots;	       /* every run, infra included; 0: 4 * log2(N) + 30 */
	double search_threshold;       /* posterior at which confirmation starts: 0.8 */
	double confirm_threshold;      /* posterior the culprit needs to be found: 0.99 */
	double min_flake_rate;	       /* floor of the estimate once a flake is seen: 0.05 */
	/* The board class's measured per-run flake rate (0..1: the share of runs whose
	 * verdict is wrong, from the class's history), or < 0 when unknown (the
	 * default). Known, it sets how many confirming runs the culprit and each
	 * parent need — a sequential test: the fewest k with ((1-f)/f)^k reaching the
	 * odds of confirm_threshold, f being the larger of this rate and the rate the
	 * runs themselves show (0.005 at least); a class that never flaked needs one.
	 * Unknown, confirm_runs each. */
	double class_flake_rate;
};

/* Fills o with the defaults each member's comment gives. */
void bisect_options_init(struct bisect_options *o);

struct bisect_step {
	enum bisect_step_kind kind;
	enum bisect_purpose purpose;
	uint32_t commit; /* a node; for REVERT, the culprit to revert from bad */
};

/* Per-commit tallies, for the evidence and the report. */
struct bisect_tally {
	unsigned pass, fail, infra;
	int unbuildable;
};

struct bisect_result {
	enum bisect_outcome outcome;
	int culprit;		  /* node, or -1 */
	double culprit_posterior; /* the belief that it is the first bad commit */
	double flake_rate;	  /* estimated; 0 while no run disagreed */
	unsigned boots;		  /* every run so far, infra included */
	unsigned revert_pass, revert_fail;
	unsigned remaining; /* candidates still plausible (posterior > 1e-3) */
	const char *reason; /* one line, static storage: why it ended so */
};

struct bisect;

/* Starts a bisection of g (borrowed: it must outlive *out) between node bad and the
 * good nodes. Returns 0, -EINVAL (bad node out of range, bad reachable from a good
 * one, no good node) or -E2BIG (too many candidates). */
int bisect_new(struct bisect **out, const struct bisect_graph *g, uint32_t bad,
	       const uint32_t *good, size_t ngood, const struct bisect_options *opt);
void bisect_free(struct bisect *b);

/* Records one run. kind is BISECT_STEP_RUN or BISECT_STEP_REVERT (commit: the culprit
 * reverted). Runs of any node are accepted (the triggering runs of bad and good, runs
 * the caller made on its own). Returns 0 or -EINVAL. */
int bisect_add_run(struct bisect *b, enum bisect_step_kind kind, uint32_t commit,
		   enum bisect_run_result r);

/* What to run next; deterministic for a given history of runs. Once it returns a
 * DONE step, it keeps doing so. Returns 0. */
int bisect_next(struct bisect *b, struct bisect_step *step);

/* The outcome so far into res (BISECT_RUNNING and culprit -1 until a DONE step);
 * res->reason is a static string. */
void bisect_get_result(const struct bisect *b, struct bisect_result *res);
/* The runs counted at node, borrowed from b (valid until bisect_free); NULL when
 * node is not in the graph. */
const struct bisect_tally *bisect_get_tally(const struct bisect *b, uint32_t node);
/* The posterior belief that node is the first bad commit (0 outside the candidates). */
double bisect_get_posterior(const struct bisect *b, uint32_t node);
/* Candidates still plausible, best first (at most max); returns how many were written. */
size_t bisect_get_plausible(const struct bisect *b, uint32_t *out, size_t max);
uint32_t bisect_candidate_count(const struct bisect *b);

/* Names as docs/bisection.md, the JSON and the page spell them ("found, not
 * confirmed", "confirm parent"): static strings, "?" for a value out of range. */
const char *bisect_outcome_name(enum bisect_outcome o);
const char *bisect_purpose_name(enum bisect_purpose p);

#endif
