#include "perf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db-attempts.h"
#include "json-util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static int has_string(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach (a, i, v)
		if (!strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int perf_judge(double *base, size_t n, double x, double *median, double *spread, int *slower)
{
	double *dev, mad, floor;
	size_t i;

	*slower = 0;
	if (n < PERF_MIN_POINTS)
		return -1;
	*median = median_of(base, n);
	dev = malloc(n * sizeof(*dev));
	if (dev == NULL)
		return -1;
	for (i = 0; i < n; i++)
		dev[i] = fabs(base[i] - *median);
	mad = median_of(dev, n);
	free(dev);
	floor = *median * PERF_MIN_PERCENT / 100;
	if (floor < PERF_MIN_SECONDS)
		floor = PERF_MIN_SECONDS;
	*spread = 3 * 1.4826 * mad;
	if (*spread < floor)
		*spread = floor;
	*slower = x > *median + *spread;
	return 0;
}

/* Flat rows {attempt, flight, commit, job, branch?, stage, seconds} (newest attempt
 * first) into points {attempt, flight, commit, job, branch, stages: {name: s},
 * order: [names]}, in the same order. */
static json_t *points_of(const json_t *rows)
{
	json_t *points = json_array(), *p = NULL, *r;
	size_t i;

	json_array_foreach (rows, i, r) {
		const char *stage = jstr(r, "stage", "");

		if (p == NULL || jint(p, "attempt", 0) != jint(r, "attempt", -1)) {
			p = json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o}", "attempt",
				      (json_int_t)jint(r, "attempt", 0), "flight",
				      (json_int_t)jint(r, "flight", 0), "commit",
				      jstr(r, "commit", ""), "job", jstr(r, "job", ""), "branch",
				      jstr(r, "branch", ""), "stages", json_object(), "order",
				      json_array());
			json_array_append_new(points, p);
		}
		if (json_object_get(json_object_get(p, "stages"), stage))
			continue;
		json_object_set(json_object_get(p, "stages"), stage, json_object_get(r, "seconds"));
		json_array_append_new(json_object_get(p, "order"), json_string(stage));
	}
	return points;
}

/* The time of stage in point p; 0 and *t when it has one. */
static int stage_time(const json_t *p, const char *stage, double *t)
{
	const json_t *v = json_object_get(json_object_get(p, "stages"), stage);

	if (!json_is_number(v))
		return -1;
	*t = json_number_value(v);
	return 0;
}

/* Every slower stage of points[i] against points[i+1 .. i+PERF_WINDOW] (newest
 * first): [{stage, seconds, median, spread, percent, since}]. */
static json_t *judge_at(const json_t *points, size_t i)
{
	const json_t *p = json_array_get(points, i), *name;
	json_t *out = json_array();
	double base[PERF_WINDOW], x, median, spread, t;
	size_t k, j, n;
	int slower;

	json_array_foreach (json_object_get(p, "order"), k, name) {
		const char *stage = json_string_value(name);
		const json_t *since = p;

		if (stage_time(p, stage, &x) < 0)
			continue;
		for (n = 0, j = i + 1; j < json_array_size(points) && n < PERF_WINDOW; j++)
			if (stage_time(json_array_get(points, j), stage, &t) == 0)
				base[n++] = t;
		if (perf_judge(base, n, x, &median, &spread, &slower) < 0 || !slower)
			continue;
		/* back through the slower run that ends here */
		for (j = i + 1; j < json_array_size(points); j++) {
			if (stage_time(json_array_get(points, j), stage, &t) < 0 ||
			    t <= median + spread)
				break;
			since = json_array_get(points, j);
		}
		json_array_append_new(
		    out, json_pack("{s:s, s:f, s:f, s:f, s:f, s:{s:I, s:I, s:s}}", "stage", stage,
				   "seconds", x, "median", median, "spread", spread, "percent",
				   median > 0 ? (x - median) * 100 / median : 0.0, "since",
				   "attempt", (json_int_t)jint(since, "attempt", 0), "flight",
				   (json_int_t)jint(since, "flight", 0), "commit",
				   jstr(since, "commit", "")));
	}
	return out;
}

json_t *perf_attempt_slower(long long attempt)
{
	json_t *rows = db_perf_history(attempt, PERF_WINDOW + 1), *points = points_of(rows);
	json_t *all, *s, *worst = NULL;
	size_t i;

	json_decref(rows);
	if (jint(json_array_get(points, 0), "attempt", 0) != attempt) {
		json_decref(points);
		return NULL; /* it did not pass */
	}
	all = judge_at(points, 0);
	json_array_foreach (all, i, s)
		if (worst == NULL || num(s, "percent") > num(worst, "percent"))
			worst = s;
	json_incref(worst);
	json_decref(all);
	json_decref(points);
	return worst;
}

json_t *perf_board_trends(const char *board)
{
	json_t *rows = db_perf_board(board, PERF_BOARD_POINTS), *points = points_of(rows);
	json_t *groups = json_object(), *out = json_array(), *p, *g;
	const char *key;
	size_t i;

	json_decref(rows);
	/* newest first, by (job, branch) */
	json_array_foreach (points, i, p) {
		char k[512];

		snprintf(k, sizeof(k), "%s\n%s", jstr(p, "job", ""), jstr(p, "branch", ""));
		if ((g = json_object_get(groups, k)) == NULL) {
			g = json_array();
			json_object_set_new(groups, k, g);
		}
		json_array_append(g, p);
	}
	json_object_foreach (groups, key, g) {
		json_t *names = json_array(), *oldest_first = json_array(), *n;
		size_t j, k;

		for (j = json_array_size(g); j-- > 0;) {
			json_t *q = json_array_get(g, j), *slow = judge_at(g, j), *s,
			       *list = json_array();

			json_array_foreach (slow, k, s)
				json_array_append(list, json_object_get(s, "stage"));
			json_decref(slow);
			json_array_foreach (json_object_get(q, "order"), k, n)
				if (!has_string(names, json_string_value(n)))
					json_array_append(names, n);
			json_array_append_new(
			    oldest_first, json_pack("{s:O, s:O, s:O, s:O, s:o}", "attempt",
						    json_object_get(q, "attempt"), "flight",
						    json_object_get(q, "flight"), "commit",
						    json_object_get(q, "commit"), "stages",
						    json_object_get(q, "stages"), "slower", list));
		}
		p = json_array_get(g, 0);
		json_array_append_new(out, json_pack("{s:O, s:O, s:o, s:o}", "job",
						     json_object_get(p, "job"), "branch",
						     json_object_get(p, "branch"), "stages", names,
						     "points", oldest_first));
	}
	json_decref(groups);
	json_decref(points);
	return out;
}

int perf_attempt_store(long long attempt)
{
	json_t *slow = perf_attempt_slower(attempt);
	int rc = db_perf_set(attempt, slow);

	json_decref(slow);
	return rc;
}

int perf_backfill(int limit)
{
	json_t *ids = db_perf_unjudged(limit), *v;
	int n = 0;
	size_t i;

	if (json_array_size(ids) && db_begin() == 0) {
		json_array_foreach (ids, i, v)
			if (perf_attempt_store(json_integer_value(v)) == 0)
				n++;
		if (db_commit() < 0)
			n = -EIO;
	}
	json_decref(ids);
	return n;
}
