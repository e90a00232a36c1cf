/* Render time of the status page's heaviest pages on the server: the branch
 * matrix (50 revisions × 24 boards) and an attempt page with a 896 KiB console
 * log full of ANSI colour. Prints the median and the worst of 51 runs each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json-util.h"
#include "../../controller/page.h"
#include "../../controller/twins.h"

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

/* The matrix's twin and cells as twin_matrix_read gives them (m's own). */
static void matrix_twin(struct twin_matrix *m, int nrows, int ncols)
{
	static const char *const verdicts[] = {"pass", "pass", "pass", "fail", "infra", "running"};
	json_t *t = json_object(), *cols = json_array(), *rows = json_array();
	int r, c;

	m->nrows = (size_t)nrows;
	m->ncols = (size_t)ncols;
	m->rows = calloc(m->nrows, sizeof(*m->rows));
	m->rown = calloc(m->nrows, sizeof(*m->rown));
	m->col = calloc(m->ncols, sizeof(*m->col));
	for (c = 0; c < ncols; c++)
		m->col[c] = (size_t)c;
	for (c = 0; c < ncols; c++)
		json_array_append_new(
		    cols, json_pack("{s:s+}", "key", "board-", c % 2 ? "arm64" : "x86"));
	for (r = 0; r < nrows; r++) {
		char commit[41];

		snprintf(commit, sizeof(commit), "%040d", r);
		m->rows[r] = calloc(m->ncols, sizeof(*m->rows[r]));
		m->rown[r] = m->ncols;
		for (c = 0; c < ncols; c++) {
			struct twin_cell *x = &m->rows[r][c];

			snprintf(x->verdict, sizeof(x->verdict), "%s", verdicts[(r + c) % 6]);
			x->attempt = r * ncols + c + 1;
			x->pass = 3;
			x->total = 4;
		}
		json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:i,s:n}", "commit", commit,
						      "author", "Ann Author <ann@example.org>",
						      "subject", "x86/mm: fix <something> & more",
						      "flight", r + 1, "cells"));
	}
	json_object_set_new(t, "name", json_string("master"));
	json_object_set_new(t, "columns", cols);
	json_object_set_new(t, "rows", rows);
	m->twin = t;
}

static void report(const char *what, double *ms, size_t bytes)
{
	qsort(ms, RUNS, sizeof(*ms), cmp_double);
	printf("bench-page: %-28s median %7.3f ms  max %7.3f ms  (%zu bytes)\n", what, ms[RUNS / 2],
	       ms[RUNS - 1], bytes);
}

int main(void)
{
	struct twin_matrix matrix;
	json_t *at = json_pack("{s:i,s:s,s:s,s:s}", "id", 1, "state", "done", "verdict", "pass",
			       "job", "smoke");
	size_t loglen = PAGE_LOG_HEAD + PAGE_LOG_TAIL, i = 0, bytes = 0;
	char *log = malloc(loglen + 128);
	struct buf b = BUF_INIT(PAGE_MAX);
	double ms[RUNS];
	int k;

	matrix_twin(&matrix, 50, 24);
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
		if (page_branch_render(&b, &matrix) < 0)
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
	for (size_t r = 0; r < matrix.nrows; r++)
		free(matrix.rows[r]);
	free(matrix.rows);
	free(matrix.rown);
	free(matrix.col);
	json_decref(matrix.twin);
	json_decref(at);
	return 0;
}
