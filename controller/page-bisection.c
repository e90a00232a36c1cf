/* A bisection: the range shrinking step by step, each step's runs, the verdict
 * and its evidence. */
#include <stdio.h>
#include <string.h>

#include "page-view.h"

static void step_runs(struct html *h, const json_t *runs)
{
	const json_t *r;
	size_t i;

	json_array_foreach (runs, i, r) {
		html_raw(h, i ? " · " : "");
		view_attempt_link(h, jint(r, "attempt", 0));
		html_raw(h, " ");
		html_text(h, jstr(r, "board", ""));
		html_raw(h, " ");
		html_verdict(h, jstr(r, "verdict", "queued")); /* null: not run yet */
	}
}

int page_bisection_render(struct buf *out, const json_t *twin)
{
	const json_t *steps = json_object_get(twin, "steps"), *culprit, *s;
	long long id = jint(twin, "id", 0);
	struct html h;
	char title[48];
	size_t i;

	html_init(&h, out);
	snprintf(title, sizeof(title), "Bisection %lld", id);
	page_begin(&h, title, "/api/v1/events");
	html_rawf(&h, "<h1>Bisection %lld ", id);
	html_verdict(&h, jstr(twin, "state", "running"));
	html_raw(&h, "</h1>\n<p class=\"meta\">job ");
	html_text(&h, jstr(twin, "job", "?"));
	html_raw(&h, " on board class ");
	html_text(&h, jstr(twin, "class", "?"));
	html_raw(&h, " · branch ");
	view_branch_link(&h, jstr(twin, "branch", NULL));
	html_raw(&h, " · tree ");
	html_text(&h, jstr(twin, "tree", "?"));
	html_raw(&h, "</p>\n<p>last good ");
	html_commit(&h, jstr(twin, "good", NULL));
	html_raw(&h, " · first known bad ");
	html_commit(&h, jstr(twin, "bad", NULL));
	html_raw(&h, "</p>\n");
	if (json_object_size(json_object_get(twin, "moved")) > 1) {
		/* several trees moved: which one's change fails alone (schema/0076) */
		const json_t *m;
		const char *name;
		int n = 0;

		html_raw(&h, "<p>trees that moved since the baseline: ");
		json_object_foreach (json_object_get(twin, "moved"), name, m) {
			html_raw(&h, n++ ? " · " : "");
			html_text(&h, name);
			html_raw(&h, " ");
			html_commit(&h, jstr(m, "good", NULL));
			html_raw(&h, "..");
			html_commit(&h, jstr(m, "bad", NULL));
		}
		html_raw(&h, "</p>\n<p class=\"guilty\">");
		if (jstr(twin, "guilty_tree", NULL)) {
			html_raw(&h, "guilty tree ");
			html_text(&h, jstr(twin, "guilty_tree", ""));
			html_raw(&h, ": its change alone fails; searched from ");
			html_commit(&h, jstr(twin, "guilty_good", NULL));
			html_raw(&h, " to ");
			html_commit(&h, jstr(twin, "guilty_bad", NULL));
		} else if (!strcmp(jstr(twin, "state", ""), "running")) {
			html_raw(&h, "running each tree's change alone to find the guilty one");
		} else {
			html_raw(&h, "no tree is guilty alone");
		}
		html_raw(&h, "</p>\n");
	}
	if (json_object_size(json_object_get(twin, "pins")) > 1) {
		html_raw(&h, "<p class=\"meta\">other trees, pinned at every step: ");
		view_tuple(&h, json_object_get(twin, "pins"), 1);
		html_raw(&h, "</p>\n");
	}
	culprit = json_object_get(twin, "culprit");
	if (json_is_object(culprit)) {
		html_raw(&h, "<section class=\"culprit\"><h2>First bad commit</h2>\n");
		view_revision(&h, culprit);
		html_raw(&h, "</section>\n");
	}
	if (jstr(twin, "verdict", NULL) || jstr(twin, "evidence", NULL)) {
		html_raw(&h, "<section class=\"evidence\"><h2>Verdict</h2><p>");
		html_text(&h, jstr(twin, "verdict", ""));
		html_raw(&h, "</p><p class=\"reason\">");
		html_text(&h, jstr(twin, "evidence", ""));
		if (jstr(twin, "reason", NULL)) { /* why it ended so (cannot isolate, …) */
			html_raw(&h, "</p><p class=\"reason\">");
			html_text(&h, jstr(twin, "reason", ""));
		}
		html_raw(&h, "</p></section>\n");
	}
	html_raw(&h, "<section><h2>Steps</h2>\n");
	if (!json_array_size(steps))
		html_raw(&h, "<p class=\"empty\">No step yet.</p>\n");
	else
		html_raw(&h, "<div class=\"scroll\"><table class=\"steps\"><thead><tr><th>step</th>"
			     "<th>commit</th><th>subject</th><th>result</th><th>commits left</th>"
			     "<th>runs</th></tr></thead><tbody>\n");
	json_array_foreach (steps, i, s) {
		html_rawf(&h, "<tr><td>%zu</td><td>", i + 1);
		if (json_object_size(json_object_get(twin, "moved")) > 1) {
			html_text(&h, jstr(s, "tree", ""));
			html_raw(&h, " ");
		}
		html_commit(&h, jstr(s, "commit", NULL));
		html_raw(&h, "</td><td class=\"subject\">");
		html_text(&h, jstr(s, "subject", ""));
		if (*jstr(s, "purpose", "")) {
			html_raw(&h, " <span class=\"meta\">(");
			html_text(&h, jstr(s, "purpose", ""));
			html_raw(&h, ")</span>");
		}
		html_raw(&h, "</td><td>");
		html_verdict(&h, jstr(s, "result", NULL));
		html_rawf(&h, "</td><td>%lld</td><td>", jint(s, "remaining", 0));
		step_runs(&h, json_object_get(s, "runs"));
		html_raw(&h, "</td></tr>\n");
	}
	if (json_array_size(steps))
		html_raw(&h, "</tbody></table></div>\n");
	html_raw(&h, "</section>\n");
	page_end(&h);
	return h.err;
}
