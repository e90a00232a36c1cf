/* Render time of the status page's heaviest pages on the server: the branch
 * matrix (50 revisions × 24 boards) and an attempt page with a 896 KiB console
 * log full of ANSI colour. Prints the median and the worst of 51 runs each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json-util.h"
#include "../../controller/page.h"

#define RUNS 51

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static json_t *matrix_twin(int nrows, int ncols)
{
	static const char *const verdicts[] = {"pass", "pass", "pass", "fail", "infra", "running"};
	json_t *t = json_object(), *cols = json_array(), *rows = json_array();
	int r, c;

	for (c = 0; c < ncols; c++)
		json_array_append_new(
		    cols, json_pack("{s:s+}", "key", "board-", c % 2 ? "arm64" : "x86"));
	for (r = 0; r < nrows; r++) {
		json_t *cells = json_array();
		char commit[41];

		snprintf(commit, sizeof(commit), "%040d", r);
		for (c = 0; c < ncols; c++)
			json_array_append_new(
			    cells, json_pack("{s:s,s:i,s:i,s:i}", "verdict", verdicts[(r + c) % 6],
					     "attempt", r * ncols + c + 1, "pass", 3, "total", 4));
		json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:i,s:o}", "commit", commit,
						      "author", "Ann Author <ann@example.org>",
						      "subject", "x86/mm: fix <something> & more",
						      "flight", r + 1, "cells", cells));
	}
	json_object_set_new(t, "name", json_string("master"));
	json_object_set_new(t, "columns", cols);
	json_object_set_new(t, "rows", rows);
	return t;
}

static void report(const char *what, double *ms, size_t bytes)
{
	qsort(ms, RUNS, sizeof(*ms), cmp_double);
	printf("bench-page: %-28s median %7.3f ms  max %7.3f ms  (%zu bytes)\n", what, ms[RUNS / 2],
	       ms[RUNS - 1], bytes);
}

int main(void)
{
	json_t *matrix = matrix_twin(50, 24);
	json_t *at = json_pack("{s:i,s:s,s:s,s:s}", "id", 1, "state", "done", "verdict", "pass",
			       "job", "smoke");
	size_t loglen = PAGE_LOG_HEAD + PAGE_LOG_TAIL, i = 0, bytes = 0;
	char *log = malloc(loglen + 128);
	struct buf b = BUF_INIT(PAGE_MAX);
	double ms[RUNS];
	int k;

	while (i < loglen) {
		int n =
		    snprintf(log + i, 128, "%9.3f | (XEN) \x1b[32mCPU%zu\x1b[0m: <ok> & \"fine\"\n",
			     i / 1000.0, i % 64);

		i += (size_t)n;
	}
	loglen = i;
	for (k = 0; k < RUNS; k++) {
		double t0 = now_ms();

		buf_reset(&b);
		if (page_branch_render(&b, matrix) < 0)
			return 1;
		ms[k] = now_ms() - t0;
	}
	bytes = b.len;
	report("branch matrix 50x24", ms, bytes);
	for (k = 0; k < RUNS; k++) {
		double t0 = now_ms();

		buf_reset(&b);
		if (page_attempt_render(&b, at, log, loglen) < 0)
			return 1;
		ms[k] = now_ms() - t0;
	}
	report("attempt, 896 KiB log", ms, b.len);
	buf_release(&b);
	free(log);
	json_decref(matrix);
	json_decref(at);
	return 0;
}
