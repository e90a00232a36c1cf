/* Pieces that several pages show the same way. */
#include <stdio.h>
#include <string.h>

#include "db-attempts.h" /* the state names only */
#include "page-view.h"
#include "triage.h"

void view_board_link(struct html *h, const char *board)
{
	if (!board || !*board) {
		html_raw(h, "—");
		return;
	}
	html_raw(h, "<a href=\"/boards/");
	html_urlseg(h, board);
	html_raw(h, "\">");
	html_text(h, board);
	html_raw(h, "</a>");
}

void view_branch_link(struct html *h, const char *branch)
{
	if (!branch || !*branch) {
		html_raw(h, "—");
		return;
	}
	html_raw(h, "<a href=\"/branches/");
	html_urlseg(h, branch);
	html_raw(h, "\">");
	html_text(h, branch);
	html_raw(h, "</a>");
}

void view_flight_link(struct html *h, long long id)
{
	if (id > 0) {
		html_raw(h, "<a href=\"/flights/");
		html_int(h, id);
		html_raw(h, "\">flight ");
		html_int(h, id);
		html_raw(h, "</a>");
	} else
		html_raw(h, "—");
}

void view_attempt_link(struct html *h, long long id)
{
	if (id > 0) {
		html_raw(h, "<a href=\"/attempts/");
		html_int(h, id);
		html_raw(h, "\">#");
		html_int(h, id);
		html_raw(h, "</a>");
	} else
		html_raw(h, "—");
}

void view_record_mark(struct html *h, const json_t *a)
{
	const json_t *rec = json_object_get(a, "record");

	if (rec) {
		html_raw(h, " <span class=\"record verified\" title=\"signed by agent ");
		html_text(h, jstr(a, "agent", "?"));
		html_rawf(h, ", leaf %lld of the results log\">&#10003; signed</span>",
			  jint(rec, "index", 0));
	} else if (jstr(a, "agent", NULL) &&
		   attempt_state_final(attempt_state_of(jstr(a, "state", NULL)))) {
		html_raw(h, " <span class=\"record unsigned\" title=\"its agent had no bound "
			    "key\">unsigned</span>");
	}
}

void view_slower(struct html *h, const json_t *slow)
{
	const json_t *since = json_object_get(slow, "since");
	char what[256];

	if (slow == NULL)
		return;
	snprintf(what, sizeof(what),
		 "%.60s %.2f s: +%.0f%% over the board's median %.2f s (spread %.2f s); since "
		 "%.12s",
		 jstr(slow, "stage", "?"), json_number_value(json_object_get(slow, "seconds")),
		 json_number_value(json_object_get(slow, "percent")),
		 json_number_value(json_object_get(slow, "median")),
		 json_number_value(json_object_get(slow, "spread")), jstr(since, "commit", "?"));
	html_raw(h, " <span class=\"v v-slower\" title=\"");
	html_text(h, what);
	html_raw(h, "\">slower</span>");
}

/* The states a summary shows, in its order. */
static const char *const summary_order[] = {"pass",    "fail",	 "timeout",   "infra",
					    "running", "queued", "cancelled", NULL};

/* The summary of n[i] attempts in each state, 0 for a state not given. */
static void summary_of(struct html *h, const long long *n)
{
	int first = 1;
	size_t i;

	for (i = 0; summary_order[i]; i++) {
		if (n[i] <= 0)
			continue;
		html_rawf(h, "%s<span class=\"n n-%s\">%lld %s</span>", first ? "" : " · ",
			  summary_order[i], n[i], summary_order[i]);
		first = 0;
	}
	if (first)
		html_raw(h, "—");
}

void view_summary(struct html *h, const json_t *summary)
{
	long long n[sizeof(summary_order) / sizeof(summary_order[0])] = {0};
	size_t i;

	for (i = 0; summary_order[i]; i++)
		n[i] = jint(summary, summary_order[i], 0);
	summary_of(h, n);
}

void view_summary_counts(struct html *h, const char *const *names, const long long *counts,
			 size_t ncounts)
{
	long long n[sizeof(summary_order) / sizeof(summary_order[0])] = {0};
	size_t i, j;

	for (i = 0; summary_order[i]; i++)
		for (j = 0; j < ncounts; j++)
			if (!strcmp(names[j], summary_order[i]))
				n[i] = counts[j];
	summary_of(h, n);
}

const char *view_flight_verdict(const json_t *f)
{
	/* the store judges (db_flight_get, db_flights_list_text); the page only shows it */
	return jstr(f, "verdict", jstr(f, "state", "running"));
}

void view_testcases(struct html *h, const json_t *testcases)
{
	const json_t *tc;
	size_t i;

	if (!json_array_size(testcases)) {
		html_raw(h, "<p class=\"empty\">No test case reported.</p>\n");
		return;
	}
	html_raw(h, "<table class=\"testcases\"><thead><tr><th>test case</th><th>result</th></tr>"
		    "</thead><tbody>\n");
	json_array_foreach (testcases, i, tc) {
		html_raw(h, "<tr><td>");
		html_text(h, jstr(tc, "name", "?"));
		html_raw(h, "</td><td>");
		html_verdict(h, jstr(tc, "result", NULL));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
}

void view_tuple(struct html *h, const json_t *tuple, int pinned_only)
{
	const json_t *m;
	const char *name;
	int first = 1;

	if (!json_is_object(tuple) || json_object_size(tuple) < 2)
		return;
	html_raw(h, "<span class=\"tuple\">");
	json_object_foreach ((json_t *)tuple, name, m) {
		int moves = json_is_true(json_object_get(m, "moves"));

		if (pinned_only && moves)
			continue;
		html_raw(h, first ? "" : " · ");
		first = 0;
		html_text(h, name);
		html_raw(h, "=");
		html_commit(h, jstr(m, "commit", NULL));
		html_raw(h, " <span class=\"meta\">");
		if (moves) {
			html_raw(h, "moves");
		} else {
			const char *ref = jstr(m, "ref", NULL);

			html_raw(h, "pinned");
			if (ref) {
				html_raw(h, " at ");
				html_text(h, !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref);
			}
		}
		html_raw(h, "</span>");
	}
	html_raw(h, "</span>");
}

void view_revision(struct html *h, const json_t *rev)
{
	if (!json_is_object(rev))
		return;
	html_raw(h, "<dl class=\"rev\"><dt>commit</dt><dd>");
	html_commit(h, jstr(rev, "commit", NULL));
	if (jstr(rev, "describe", NULL)) {
		html_raw(h, " <span class=\"meta\">");
		html_text(h, jstr(rev, "describe", NULL));
		html_raw(h, "</span>");
	}
	html_raw(h, "</dd>");
	if (json_object_size(json_object_get(rev, "tuple")) > 1) {
		html_raw(h, "<dt>trees</dt><dd>");
		view_tuple(h, json_object_get(rev, "tuple"), 0);
		html_raw(h, "</dd>");
	}
	if (jstr(rev, "subject", NULL)) {
		html_raw(h, "<dt>subject</dt><dd>");
		html_text(h, jstr(rev, "subject", NULL));
		html_raw(h, "</dd>");
	}
	if (jstr(rev, "author", NULL)) {
		html_raw(h, "<dt>author</dt><dd>");
		html_text(h, jstr(rev, "author", NULL));
		html_raw(h, "</dd>");
	}
	html_raw(h, "</dl>\n");
}

void view_known_issue(struct html *h, const json_t *ki)
{
	const char *link = jstr(ki, "link", "");

	if (!json_is_object(ki))
		return;
	html_raw(h, " <span class=\"ki\" title=\"known issue ");
	html_text(h, jstr(ki, "id", ""));
	html_raw(h, "\">known issue: ");
	if (!strncmp(link, "https://", 8) || !strncmp(link, "http://", 7)) {
		html_raw(h, "<a rel=\"noreferrer\" href=\"");
		html_text(h, link);
		html_raw(h, "\">");
		html_text(h, jstr(ki, "label", ""));
		html_raw(h, "</a>");
	} else {
		html_text(h, jstr(ki, "label", ""));
		if (*link) {
			html_raw(h, " (");
			html_text(h, link);
			html_raw(h, ")");
		}
	}
	html_raw(h, "</span>");
}

void view_triage_class(struct html *h, enum triage_class c, const char *text,
		       const json_t *known_issue)
{
	const char *name = triage_class_name(c); /* a name of ours: nothing to escape */

	html_raw(h, "<span class=\"v t-");
	html_raw(h, name);
	html_raw(h, "\" title=\"");
	html_raw(h, name);
	html_raw(h, "\">");
	html_text(h, text && *text ? text : name);
	html_raw(h, "</span>");
	view_known_issue(h, known_issue);
}

void view_triage(struct html *h, const char *cls, const char *text, const json_t *known_issue)
{
	enum triage_class c;

	if (cls && triage_class_of(&c, cls) == 0) {
		view_triage_class(h, c, text, known_issue);
		return;
	}
	html_raw(h, "<span class=\"v t-other\" title=\"");
	html_text(h, cls ? cls : "");
	html_raw(h, "\">");
	html_text(h, text && *text ? text : cls ? cls : "none");
	html_raw(h, "</span>");
	view_known_issue(h, known_issue);
}

void view_flake_rates(struct html *h, const json_t *rates, int by_class)
{
	const json_t *r;
	size_t i;

	if (!json_array_size(rates))
		return;
	html_rawf(h,
		  "<section><h2>Flake rates</h2>\n<div class=\"scroll\"><table class=\"flakes\">"
		  "<thead><tr><th>%s</th><th>job</th><th>flake rate</th><th>heisenbugs</th>"
		  "</tr></thead><tbody>\n",
		  by_class ? "board class" : "tree");
	json_array_foreach (rates, i, r) {
		const json_t *rate = json_object_get(r, "rate");

		html_raw(h, "<tr><td>");
		html_text(h, jstr(r, by_class ? "class" : "tree", "?"));
		html_raw(h, "</td><td>");
		html_text(h, jstr(r, "job", "?"));
		html_raw(h, "</td><td>");
		if (json_is_number(rate))
			html_rawf(h, "%.1f %%", json_number_value(rate) * 100);
		else
			html_raw(h, "<span class=\"meta\">unknown: no revision ran twice</span>");
		html_rawf(h, "</td><td>%lld</td></tr>\n", jint(r, "heisenbugs", 0));
	}
	html_rawf(h,
		  "</tbody></table></div><p class=\"meta\">Over the newest %lld pass/fail "
		  "results of each job on the class: the share of runs that disagree with "
		  "their revision's majority, among revisions run at least twice.</p>"
		  "</section>\n",
		  jint(json_array_get(rates, 0), "window", 0));
}
