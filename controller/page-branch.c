/* A branch: the commit × board matrix and the push gate. */
#include "page-view.h"

static void gate_section(struct html *h, const json_t *gate)
{
	if (!json_is_object(gate))
		return;
	html_raw(h, "<p class=\"gate\">Push gate ");
	html_text(h, jstr(gate, "ref", ""));
	html_raw(h, ": ");
	html_verdict(h, jstr(gate, "state", NULL));
	html_raw(h, " at ");
	html_commit(h, jstr(gate, "commit", NULL));
	if (jint(gate, "flight", 0) > 0) {
		html_raw(h, " (");
		view_flight_link(h, jint(gate, "flight", 0));
		html_raw(h, ")");
	}
	html_raw(h, "</p>\n");
}

static void cell(struct html *h, const json_t *c)
{
	const char *v = jstr(c, "verdict", NULL);
	long long at = jint(c, "attempt", 0), total = jint(c, "total", 0);

	if (!json_is_object(c) || !v) {
		html_raw(h, "<td class=\"cell none\"><span class=\"sr\">not run</span></td>");
		return;
	}
	html_raw(h, "<td class=\"cell\">");
	if (at > 0) {
		html_raw(h, "<a href=\"/attempts/");
		html_int(h, at);
		html_raw(h, "\">");
	}
	/* the verdict class against the baseline (triage.h) when there is one */
	if (jstr(c, "verdict_class", NULL))
		view_triage(h, jstr(c, "verdict_class", NULL), jstr(c, "text", NULL),
			    json_object_get(c, "known_issue"));
	else
		html_verdict(h, v);
	if (total > 1) {
		html_raw(h, " <span class=\"meta\">");
		html_int(h, jint(c, "pass", 0));
		html_raw(h, "/");
		html_int(h, total);
		html_raw(h, "</span>");
	}
	if (at > 0)
		html_raw(h, "</a>");
	view_slower(h, json_object_get(c, "slower"));
	html_raw(h, "</td>");
}

int page_branch_render(struct buf *out, const json_t *twin)
{
	const json_t *cols = json_object_get(twin, "columns"),
		     *rows = json_object_get(twin, "rows");
	const json_t *col, *row;
	const char *name = jstr(twin, "name", "?");
	struct html h;
	size_t i, j;

	html_init(&h, out);
	page_begin(&h, name, "/api/v1/events");
	html_raw(&h, "<h1>Branch ");
	html_text(&h, name);
	html_raw(&h, "</h1>\n<p class=\"meta\">tree ");
	html_text(&h, jstr(twin, "tree", "?"));
	html_raw(&h, " · badge: <img class=\"badge\" alt=\"status badge\" src=\"/badge/");
	html_urlseg(&h, name);
	html_raw(&h, ".svg\"></p>\n");
	gate_section(&h, json_object_get(twin, "gate"));
	if (!json_array_size(rows)) {
		html_raw(&h, "<p class=\"empty\">No revision of this branch was tested yet.</p>\n");
		page_end(&h);
		return h.err;
	}
	html_raw(&h, "<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>revision</th>");
	json_array_foreach (cols, i, col) {
		html_raw(&h, "<th scope=\"col\">");
		if (json_is_true(json_object_get(col, "class")))
			html_text(&h, jstr(col, "label", jstr(col, "key", "?")));
		else
			view_board_link(&h, jstr(col, "key", NULL));
		html_raw(&h, "</th>");
	}
	html_raw(&h, "</tr></thead><tbody>\n");
	json_array_foreach (rows, i, row) {
		const json_t *cells = json_object_get(row, "cells");

		html_raw(&h, "<tr><th scope=\"row\" class=\"rev\">");
		html_commit(&h, jstr(row, "commit", NULL));
		html_raw(&h, " ");
		view_flight_link(&h, jint(row, "flight", 0));
		if (json_object_size(json_object_get(row, "tuple")) > 1) {
			html_raw(&h, "<div class=\"meta\">");
			view_tuple(&h, json_object_get(row, "tuple"), 1);
			html_raw(&h, "</div>");
		}
		html_raw(&h, "<div class=\"subject\">");
		html_text(&h, jstr(row, "subject", ""));
		html_raw(&h, "</div><div class=\"meta\">");
		html_text(&h, jstr(row, "author", ""));
		html_raw(&h, "</div></th>");
		for (j = 0; j < json_array_size(cols); j++)
			cell(&h, json_array_get(cells, j));
		html_raw(&h, "</tr>\n");
	}
	html_raw(&h, "</tbody></table></div>\n");
	view_flake_rates(&h, json_object_get(twin, "flake_rates"), 1);
	page_end(&h);
	return h.err;
}
