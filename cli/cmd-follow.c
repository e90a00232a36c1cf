/* xenci follow FLIGHT: the flight's progress while it runs (builds, then one row
 * per board with its state, stage and elapsed time), redrawn in place on a
 * terminal and as one line per change when piped; then the per-board table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd-flights.h"
#include "json-util.h"
#include "tuple.h"
#include "xmalloc.h"

int flights_client_open(struct http_client *c, const char *url, const char *token)
{
	if (url == NULL)
		url = getenv("XENCI_URL");
	if (url == NULL || *url == '\0')
		url = "http://127.0.0.1:8080";
	if (token == NULL)
		token = getenv("XENCI_TOKEN");
	if (http_client_init(c, url, token && *token ? token : NULL) < 0)
		return -ENOMEM;
	c->retries = 2;
	return 0;
}

/* A time member in seconds, whether the controller sent seconds or ms. */
static double seconds_of(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);
	double t;

	if (v == NULL || json_is_null(v))
		v = json_object_get(o, b);
	if (!json_is_number(v))
		return 0;
	t = json_number_value(v);
	return t > 1e11 ? t / 1000.0 : t;
}

/* The flight's test attempts: "jobs" (docs/api.md Flight) or "attempts". */
static const json_t *flight_attempts(const json_t *flight, int builds)
{
	const json_t *a = json_object_get(flight, builds ? "builds" : "jobs");

	return a ? a : json_object_get(flight, "attempts");
}

static json_t *row_of(const json_t *j)
{
	const char *state = jstr(j, "state", "queued"), *verdict = jstr(j, "verdict", NULL);
	const json_t *tc;
	size_t i;
	int pass = 0, fail = 0;

	if (verdict == NULL && cli_state_final(state))
		verdict = state;
	json_array_foreach (json_object_get(j, "testcases"), i, tc) {
		pass += !strcmp(jstr(tc, "result", ""), "pass");
		fail += !strcmp(jstr(tc, "result", ""), "fail");
	}
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?, s:s?, s:f, s:f, s:i, s:i}",
			 "attempt", (json_int_t)jint(j, "attempt", jint(j, "id", 0)), "job",
			 jstr(j, "job", jstr(j, "arch", "?")), "board", jstr(j, "board", "-"),
			 "arch", jstr(j, "arch", ""), "number", (json_int_t)jint(j, "number", 1),
			 "state", verdict ? "done" : state, "verdict", verdict, "reason",
			 jstr(j, "reason", NULL), "stage", jstr(j, "stage", NULL), "started",
			 seconds_of(j, "started_at", "started"), "finished",
			 seconds_of(j, "finished_at", "finished"), "pass", pass, "fail", fail);
}

json_t *flight_job_rows(const json_t *flight)
{
	const json_t *all = flight_attempts(flight, 0), *j;
	json_t *rows = json_array();
	size_t i;

	json_array_foreach (all, i, j) {
		const char *kind = jstr(j, "kind", "test");
		json_t *row, *r;
		size_t k;
		int replaced = 0;

		if (strcmp(kind, "test"))
			continue;
		row = row_of(j);
		/* Only the newest attempt of a (job, board): infra retries replace it. */
		json_array_foreach (rows, k, r) {
			if (!strcmp(jstr(r, "job", ""), jstr(row, "job", "")) &&
			    !strcmp(jstr(r, "board", ""), jstr(row, "board", ""))) {
				if (jint(row, "number", 1) > jint(r, "number", 1))
					json_array_set(rows, k, row);
				replaced = 1;
				break;
			}
		}
		if (!replaced)
			json_array_append(rows, row);
		json_decref(row);
	}
	return rows;
}

static json_t *build_rows(const json_t *flight)
{
	const json_t *b = json_object_get(flight, "builds"), *j;
	json_t *rows = json_array();
	size_t i;

	if (b == NULL) {
		json_array_foreach (json_object_get(flight, "attempts"), i, j)
			if (!strcmp(jstr(j, "kind", ""), "build"))
				json_array_append_new(rows, row_of(j));
		return rows;
	}
	json_array_foreach (b, i, j) {
		json_t *row = row_of(j);
		const char *st = jstr(j, "state", "queued");

		/* A build row of the core's shape: state pass/fail/queued. */
		if (!strcmp(st, "pass") || !strcmp(st, "fail")) {
			json_object_set_new(row, "state", json_string("done"));
			json_object_set_new(row, "verdict", json_string(st));
		}
		json_array_append_new(rows, row);
	}
	return rows;
}

static void elapsed(char *out, size_t len, const json_t *row, double now)
{
	double s = json_real_value(json_object_get(row, "started"));
	double f = json_real_value(json_object_get(row, "finished"));
	long t;

	if (s <= 0) {
		snprintf(out, len, "-");
		return;
	}
	t = (long)((f > 0 ? f : now) - s);
	if (t < 0)
		t = 0;
	snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

static const char *row_state(const json_t *row)
{
	const char *v = jstr(row, "verdict", NULL);

	return v ? v : jstr(row, "state", "queued");
}

void follow_render(struct buf *out, const json_t *flight, double now, int final,
		   const char *base_url)
{
	json_t *builds = build_rows(flight), *jobs = flight_job_rows(flight);
	const json_t *rev = json_object_get(flight, "revision"), *row;
	const char *commit = jstr(rev, "commit", jstr(flight, "commit", ""));
	char t[32];
	size_t i;

	buf_printf(out, "flight %lld  %s%s%.12s  %s\n", jint(flight, "id", 0),
		   jstr(flight, "branch", ""), *jstr(flight, "branch", "") ? " " : "", commit,
		   jstr(flight, "state", ""));
	if (json_object_size(json_object_get(flight, "tuple")) > 1) {
		buf_puts(out, "  trees: ");
		tuple_text(out, json_object_get(flight, "tuple"), 0);
		buf_puts(out, "\n");
	}
	json_array_foreach (builds, i, row) {
		elapsed(t, sizeof(t), row, now);
		buf_printf(out, "  build %-10s %-9s %6s\n", jstr(row, "arch", jstr(row, "job", "")),
			   row_state(row), t);
	}
	if (!final) {
		json_array_foreach (jobs, i, row) {
			elapsed(t, sizeof(t), row, now);
			buf_printf(out, "  %-20s %-16s %-9s %-14s %6s\n", jstr(row, "board", "-"),
				   jstr(row, "job", ""), row_state(row), jstr(row, "stage", "-"),
				   t);
		}
	} else {
		buf_printf(out, "  %-20s %-16s %-9s %5s %5s  %s\n", "BOARD", "JOB", "VERDICT",
			   "PASS", "FAIL", "LOG");
		json_array_foreach (jobs, i, row) {
			buf_printf(out, "  %-20s %-16s %-9s %5lld %5lld  ", jstr(row, "board", "-"),
				   jstr(row, "job", ""), row_state(row), jint(row, "pass", 0),
				   jint(row, "fail", 0));
			if (base_url)
				buf_printf(out, "%s/attempts/%lld\n", base_url,
					   jint(row, "attempt", 0));
			else
				buf_printf(out, "attempt %lld\n", jint(row, "attempt", 0));
		}
	}
	json_decref(builds);
	json_decref(jobs);
}

int follow_finished(const json_t *flight)
{
	json_t *jobs, *builds;
	const json_t *row;
	size_t i;
	int open = 0;

	if (!strcmp(jstr(flight, "state", ""), "done"))
		return 1;
	jobs = flight_job_rows(flight);
	builds = build_rows(flight);
	json_array_foreach (jobs, i, row)
		open |= jstr(row, "verdict", NULL) == NULL;
	json_array_foreach (builds, i, row)
		open |= jstr(row, "verdict", NULL) == NULL;
	open |= json_array_size(jobs) + json_array_size(builds) == 0;
	json_decref(jobs);
	json_decref(builds);
	return !open;
}

int follow_exit_status(const json_t *flight)
{
	json_t *jobs = flight_job_rows(flight), *builds = build_rows(flight);
	const json_t *row;
	size_t i;
	int bad = json_array_size(jobs) == 0;

	json_array_foreach (jobs, i, row)
		bad |= strcmp(jstr(row, "verdict", ""), "pass") != 0;
	json_array_foreach (builds, i, row)
		bad |= strcmp(jstr(row, "verdict", ""), "pass") != 0;
	json_decref(jobs);
	json_decref(builds);
	return bad ? 1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Piped output: one line per row whose state or stage changed. */
static void print_changes(FILE *out, json_t *last, const json_t *flight)
{
	json_t *rows = flight_job_rows(flight), *builds = build_rows(flight);
	const json_t *row;
	size_t i;

	json_array_extend(rows, builds);
	json_array_foreach (rows, i, row) {
		char key[300], now[300];
		const char *was;

		snprintf(key, sizeof(key), "%s/%s", jstr(row, "board", "-"), jstr(row, "job", ""));
		snprintf(now, sizeof(now), "%s %s", row_state(row), jstr(row, "stage", ""));
		was = jstr(last, key, NULL);
		if (was && !strcmp(was, now))
			continue;
		json_object_set_new(last, key, json_string(now));
		if (!strcmp(jstr(row, "board", "-"), "-"))
			fprintf(out, "build %s: %s\n", jstr(row, "arch", jstr(row, "job", "")),
				row_state(row));
		else
			fprintf(out, "%s %s: %s%s%s\n", jstr(row, "board", ""),
				jstr(row, "job", ""), row_state(row),
				jstr(row, "stage", NULL) ? " at " : "", jstr(row, "stage", ""));
	}
	fflush(out);
	json_decref(rows);
	json_decref(builds);
}

int flight_follow(struct http_client *c, long long id, FILE *out, int tty, long interval_ms)
{
	struct http_reply r;
	json_t *last = json_object(), *flight = NULL;
	char path[64];
	int lines = 0, failures = 0, rc = 1;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	for (;;) {
		http_reply_init(&r);
		if (http_json(c, "GET", path, NULL, &r) < 0 || r.status != 200 || !r.json) {
			if (r.status == 404) {
				fprintf(stderr, "xenci: flight %lld: no such flight\n", id);
				http_reply_release(&r);
				goto out;
			}
			if (++failures > 20) {
				fprintf(stderr, "xenci: %s\n", r.error[0] ? r.error : "no reply");
				http_reply_release(&r);
				goto out;
			}
			http_reply_release(&r);
			usleep((useconds_t)interval_ms * 1000);
			continue;
		}
		failures = 0;
		json_decref(flight);
		flight = json_incref(r.json);
		http_reply_release(&r);
		if (tty) {
			struct buf b = BUF_INIT(0);

			follow_render(&b, flight, now_s(), 0, NULL);
			/* Back over the last drawing, then draw again, clearing each line. */
			if (lines)
				fprintf(out, "\033[%dA", lines);
			lines = 0;
			for (char *p = b.data, *nl; p && *p; p = nl + 1) {
				nl = strchr(p, '\n');
				fprintf(out, "%.*s\033[K\n", (int)(nl - p), p);
				lines++;
			}
			fflush(out);
			buf_release(&b);
		} else {
			print_changes(out, last, flight);
		}
		if (follow_finished(flight))
			break;
		usleep((useconds_t)interval_ms * 1000);
	}
	{
		struct buf b = BUF_INIT(0);

		follow_render(&b, flight, now_s(), 1, c->base);
		fputs(buf_cstr(&b), out);
		buf_release(&b);
	}
	rc = follow_exit_status(flight);
out:
	json_decref(flight);
	json_decref(last);
	return rc;
}

static void follow_usage(FILE *f)
{
	fprintf(f, "usage: xenci follow [--url URL] [--token TOKEN] [--interval MS] FLIGHT\n");
}

int cmd_follow(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 't'},
	    {"interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *token = NULL;
	struct http_client c;
	long interval = 500;
	char *end;
	long long id;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:t:i:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'i':
			interval = strtol(optarg, &end, 10);
			if (*end || interval < 10 || interval > 60000) {
				fprintf(stderr, "xenci follow: --interval: 10 to 60000 ms\n");
				return 2;
			}
			break;
		case 'h':
			follow_usage(stdout);
			return 0;
		default:
			follow_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		follow_usage(stderr);
		return 2;
	}
	if (cli_id_parse(&id, argv[optind], "follow", "a flight number") < 0)
		return 2;
	if (flights_client_open(&c, url, token) < 0)
		return 1;
	rc = flight_follow(&c, id, stdout, isatty(STDOUT_FILENO), interval);
	http_client_release(&c);
	return rc;
}
