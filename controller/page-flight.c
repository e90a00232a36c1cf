/* A flight: its revision, builds, and the jobs per board with their test cases. */
#include <stdio.h>
#include <string.h>

#include "page-view.h"

/* The newest attempt of build build_id among the flight's attempts (none when
 * another flight made the build: its attempts are that flight's), or NULL. */
static const json_t *build_attempt(const json_t *attempts, long long build_id)
{
	const json_t *a, *found = NULL;
	size_t i;

	json_array_foreach (attempts, i, a)
		if (!strcmp(jstr(a, "kind", ""), "build") && jint(a, "build", 0) == build_id &&
		    (found == NULL || jint(a, "id", 0) > jint(found, "id", 0)))
			found = a;
	return found;
}

/* One build per (tree, revision, arch), shared by the flights that need it: each
 * says its tree and commit, and the flight that made it when that is another. */
static void builds_section(struct html *h, const json_t *builds, const json_t *attempts,
			   long long flight)
{
	const json_t *b, *a;
	size_t i;

	html_raw(h, "<section><h2>Builds</h2>\n");
	if (!json_array_size(builds)) {
		html_raw(h, "<p class=\"empty\">No build.</p></section>\n");
		return;
	}
	html_raw(h, "<ul class=\"builds\">\n");
	json_array_foreach (builds, i, b) {
		html_raw(h, "<li>");
		html_text(h, jstr(b, "arch", "?"));
		html_raw(h, " ");
		if (jstr(b, "tree", NULL)) {
			html_text(h, jstr(b, "tree", ""));
			html_raw(h, " ");
			html_commit(h, jstr(b, "commit", NULL));
			html_raw(h, " ");
		}
		html_verdict(h, jstr(b, "state", NULL));
		if ((a = build_attempt(attempts, jint(b, "id", 0))) != NULL) {
			html_raw(h, " ");
			view_attempt_link(h, jint(a, "id", 0));
			view_record_mark(h, a);
		}
		if (jint(b, "made_by", flight) != flight)
			html_rawf(
			    h,
			    " <span class=\"meta\">shared: build %lld of <a href=\"/flights/%lld\">"
			    "flight %lld</a></span>",
			    jint(b, "id", 0), jint(b, "made_by", 0), jint(b, "made_by", 0));
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ul></section>\n");
}

static void jobs_section(struct html *h, const json_t *jobs)
{
	const json_t *j;
	size_t i;

	html_raw(h, "<section><h2>Jobs</h2>\n");
	if (!json_array_size(jobs)) {
		html_raw(h, "<p class=\"empty\">No job.</p></section>\n");
		return;
	}
	html_raw(h, "<div class=\"scroll\"><table class=\"jobs\"><thead><tr><th>attempt</th>"
		    "<th>job</th><th>board</th><th>verdict</th><th>reason</th><th>test cases</th>"
		    "</tr></thead><tbody>\n");
	json_array_foreach (jobs, i, j) {
		const json_t *tcs = json_object_get(j, "testcases"), *tc;
		size_t k;

		if (strcmp(jstr(j, "kind", "test"), "test"))
			continue; /* builds are listed above */
		html_raw(h, "<tr><td>");
		view_attempt_link(h, jint(j, "id", 0));
		if (jint(j, "number", 1) > 1)
			html_rawf(h, " <span class=\"meta\">try %lld</span>", jint(j, "number", 1));
		html_raw(h, "</td><td>");
		html_text(h, jstr(j, "job", "?"));
		html_raw(h, "</td><td>");
		view_board_link(h, jstr(j, "board", NULL));
		html_raw(h, "</td><td>");
		html_verdict(h, jstr(j, "state", NULL));
		view_slower(h, json_object_get(j, "slower"));
		view_record_mark(h, j);
		html_raw(h, "</td><td class=\"reason\">");
		html_text(h, jstr(j, "reason", ""));
		html_raw(h, "</td><td><ul class=\"tcs\">");
		json_array_foreach (tcs, k, tc) {
			html_raw(h, "<li>");
			html_verdict(h, jstr(tc, "result", NULL));
			html_raw(h, " ");
			html_text(h, jstr(tc, "name", "?"));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul></td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

/* The attempts slower than their board's spread (perf.h): by how much, and the
 * revision where it started. */
static void performance_section(struct html *h, const json_t *attempts)
{
	const json_t *a, *slow, *since;
	size_t i;
	int any = 0;

	json_array_foreach (attempts, i, a) {
		if ((slow = json_object_get(a, "slower")) == NULL)
			continue;
		since = json_object_get(slow, "since");
		if (!any++)
			html_raw(h, "<section><h2>Performance</h2>\n<ul class=\"slower\">\n");
		html_raw(h, "<li>");
		view_attempt_link(h, jint(a, "id", 0));
		html_raw(h, " ");
		html_text(h, jstr(a, "job", "?"));
		html_raw(h, " on ");
		view_board_link(h, jstr(a, "board", NULL));
		html_raw(h, ": <span class=\"v v-slower\">slower</span> ");
		html_text(h, jstr(slow, "stage", "?"));
		html_rawf(h,
			  " %.2f s, +%.0f%% over the board's median %.2f s (spread %.2f s), since ",
			  json_number_value(json_object_get(slow, "seconds")),
			  json_number_value(json_object_get(slow, "percent")),
			  json_number_value(json_object_get(slow, "median")),
			  json_number_value(json_object_get(slow, "spread")));
		html_commit(h, jstr(since, "commit", NULL));
		html_raw(h, " (");
		view_flight_link(h, jint(since, "flight", 0));
		html_raw(h, ")</li>\n");
	}
	if (any)
		html_raw(h, "</ul></section>\n");
}

/* Counts of the attempts this viewer sees: the twin's "counts" are over every
 * attempt, private boards' included, and must not hint at them. */
static json_t *visible_counts(const json_t *attempts)
{
	json_t *c = json_object(), *a;
	size_t i;

	json_array_foreach (attempts, i, a) {
		const char *st = jstr(a, "state", "queued"), *bucket = st;

		if (!strcmp(st, "waiting"))
			bucket = "queued";
		else if (!strcmp(st, "claimed"))
			bucket = "running";
		else if (!strcmp(st, "timeout"))
			bucket = "fail";
		if (strcmp(jstr(a, "kind", "test"), "test"))
			continue;
		json_object_set_new(c, bucket, json_integer(jint(c, bucket, 0) + 1));
	}
	return c;
}

/* Failures whose baseline was untested: the flight that tests one, and its result. */
static void baselines_section(struct html *h, const json_t *baselines)
{
	const json_t *b;
	size_t i;

	if (!json_array_size(baselines))
		return;
	html_raw(h, "<h2>Baselines</h2>\n<ul class=\"baselines\">\n");
	json_array_foreach (baselines, i, b) {
		const char *st = jstr(b, "state", "untested");

		html_raw(h, "<li>");
		html_text(h, jstr(b, "job", ""));
		html_raw(h, " on ");
		html_text(h, jstr(b, "class", ""));
		html_raw(h, ": baseline untested; ");
		html_commit(h, jstr(b, "tested", ""));
		html_rawf(h, " runs in <a href=\"/flights/%lld\">flight %lld</a>: ",
			  jint(b, "flight", 0), jint(b, "flight", 0));
		html_verdict(h, !strcmp(st, "untested") ? "running"
				: !strcmp(st, "pass")	? "pass"
							: "still failing");
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ul>\n");
}

/* The verdict class of each (job, board class) against its baseline (triage.h),
 * in OSSTest's words, with the known issue a failure matched. */
static void triage_section(struct html *h, const json_t *rows)
{
	const json_t *r;
	size_t i;

	if (!json_array_size(rows))
		return;
	html_raw(h, "<section><h2>Triage</h2>\n<div class=\"scroll\"><table class=\"triage\">"
		    "<thead><tr><th>job</th><th>board class</th><th>board</th><th>verdict</th>"
		    "<th>attempt</th><th>gate</th></tr></thead><tbody>\n");
	json_array_foreach (rows, i, r) {
		html_raw(h, "<tr><td>");
		html_text(h, jstr(r, "job", "?"));
		html_raw(h, "</td><td>");
		html_text(h, *jstr(r, "class", "") ? jstr(r, "class", "") : "(no board)");
		html_raw(h, "</td><td>");
		view_board_link(h, jstr(r, "board", NULL));
		html_raw(h, "</td><td>");
		view_triage(h, jstr(r, "verdict_class", NULL), jstr(r, "text", NULL),
			    json_object_get(r, "known_issue"));
		html_raw(h, "</td><td>");
		view_attempt_link(h, jint(r, "attempt", 0));
		html_raw(h, "</td><td>");
		html_raw(h, json_is_true(json_object_get(r, "blocking")) ? "<strong>blocks</strong>"
									 : "—");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

int page_flight_render(struct buf *out, const json_t *twin)
{
	struct html h;
	char title[48];
	long long id = jint(twin, "id", 0);
	json_t *counts;

	html_init(&h, out);
	snprintf(title, sizeof(title), "Flight %lld", id);
	page_begin(&h, title, "/api/v1/events");
	html_rawf(&h, "<h1>Flight %lld ", id);
	html_verdict(&h, view_flight_verdict(twin));
	html_raw(&h, "</h1>\n<p class=\"meta\">");
	html_text(&h, jstr(twin, "kind", "flight"));
	if (jstr(twin, "ref", NULL)) {
		html_raw(&h, " of ");
		html_text(&h, jstr(twin, "ref", NULL));
	}
	html_raw(&h, " · created ");
	html_time(&h, jint(twin, "created", 0));
	html_raw(&h, " · ");
	counts = visible_counts(json_object_get(twin, "attempts"));
	view_summary(&h, counts);
	json_decref(counts);
	html_raw(&h, "</p>\n");
	view_revision(&h, twin);
	triage_section(&h, json_object_get(twin, "triage"));
	builds_section(&h, json_object_get(twin, "builds"), json_object_get(twin, "attempts"),
		       jint(twin, "id", 0));
	jobs_section(&h, json_object_get(twin, "attempts"));
	performance_section(&h, json_object_get(twin, "attempts"));
	baselines_section(&h, json_object_get(twin, "baselines"));
	page_end(&h);
	return h.err;
}
