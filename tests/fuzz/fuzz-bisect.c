/* libFuzzer target: the bisection algorithm on any commit graph (cycles, self
 * parents and all) and any stream of run results. It must neither crash nor loop:
 * every input ends with a DONE step within a bounded number of runs.
 * Input: n (2..64 nodes), then per node a parent count (0..3) and the parents, one
 * byte each (mod n); a byte naming the good node; then one byte per run result. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../controller/bisect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t np[64], flat[64 * 3], n, i, k = 0, good;
	struct bisect_graph g;
	struct bisect *b = NULL;
	struct bisect_step step;
	struct bisect_result res;
	size_t p = 0;
	unsigned guard = 0;

	if (size < 2)
		return 0;
	n = 2 + data[p++] % 63;
	for (i = 0; i < n; i++) {
		uint32_t c = p < size ? data[p++] % 4 : 0, j;

		np[i] = c;
		for (j = 0; j < c; j++)
			flat[k++] = p < size ? data[p++] % n : (i + 1) % n;
	}
	good = p < size ? data[p++] % n : n - 1;
	if (bisect_graph_init(&g, n, np, flat) < 0)
		return 0;
	if (bisect_new(&b, &g, 0, &good, 1, NULL) == 0) {
		bisect_add_run(b, BISECT_STEP_RUN, 0, BISECT_RUN_FAIL);
		while (bisect_next(b, &step) == 0 && step.kind != BISECT_STEP_DONE) {
			enum bisect_run_result r =
			    (enum bisect_run_result)(p < size ? data[p++] % 4 : 0);

			if (step.commit >= n || ++guard > 1000)
				abort(); /* a step outside the graph, or no end */
			bisect_add_run(b, step.kind, step.commit, r);
		}
		bisect_get_result(b, &res);
		if (res.outcome == BISECT_RUNNING ||
		    (res.culprit >= 0 && (uint32_t)res.culprit >= n))
			abort();
		bisect_free(b);
	}
	bisect_graph_release(&g);
	return 0;
}
