/* A branch: the commit × board matrix and the push gate. */
#include "page-view.h"
#include "twins.h"

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

static void cell(struct html *h, const struct twin_cell *c)
{
	if (c->total == 0) {
		html_raw(h, "<td class=\"cell none\"><span class=\"sr\">not run</span></td>");
		return;
	}
	if (c->attempt > 0) {
		html_raw(h, "<td class=\"cell\"><a href=\"/attempts/");
		html_int(h, c->attempt);
		html_raw(h, "\">");
	} else {
		html_raw(h, "<td class=\"cell\">");
	}
	/* the verdict class against the baseline (triage.h) when there is one */
	if (c->classed)
		view_triage_class(h, c->tcls, json_string_value(c->text), c->known);
	else
		html_verdict(h, c->verdict);
	if (c->total > 1) {
		html_raw(h, " <span class=\"meta\">");
		html_int(h, c->pass);
		html_raw(h, "/");
		html_int(h, c->total);
		html_raw(h, "</span>");
	}
	if (c->attempt > 0)
		html_raw(h, "</a>");
	view_slower(h, c->slower);
	html_raw(h, "</td>");
}

int page_branch_render(struct buf *out, const struct twin_matrix *m)
{
	const json_t *twin = m->twin, *cols = json_object_get(twin, "columns"),
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
		for (j = 0; j < m->ncols; j++)
			cell(&h, twin_matrix_cell(m, i, j));
		html_raw(&h, "</tr>\n");
	}
	html_raw(&h, "</tbody></table></div>\n");
	view_flake_rates(&h, json_object_get(twin, "flake_rates"), 1);
	page_end(&h);
	return h.err;
}
