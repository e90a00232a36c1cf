/* The SVG badge of a branch, for READMEs: "LABEL | VERDICT". */
#include <string.h>

#include "json-util.h"
#include "page.h"
#include "twins.h"

static const char *badge_colour(const char *v)
{
	if (!strcmp(v, "pass"))
		return "#2e7d32";
	if (!strcmp(v, "fail"))
		return "#c62828";
	if (!strcmp(v, "infra") || !strcmp(v, "timeout"))
		return "#ef6c00";
	if (!strcmp(v, "running") || !strcmp(v, "queued"))
		return "#1565c0";
	return "#616161";
}

/* Text width in the badge's 11px sans font, roughly: 7 px per character. */
static int text_width(const char *s)
{
	size_t n = strlen(s);

	return (int)(n > 40 ? 40 : n) * 7 + 10;
}

int page_badge_render(struct buf *out, const char *label, const char *verdict)
{
	struct html h;
	int lw, vw;

	if (!verdict || !*verdict)
		verdict = "unknown";
	lw = text_width(label);
	vw = text_width(verdict);
	html_init(&h, out);
	html_rawf(&h,
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\" "
		  "role=\"img\" aria-label=\"",
		  lw + vw);
	html_text(&h, label);
	html_raw(&h, ": ");
	html_text(&h, verdict);
	html_raw(&h, "\"><title>");
	html_text(&h, label);
	html_raw(&h, ": ");
	html_text(&h, verdict);
	html_rawf(&h,
		  "</title><rect width=\"%d\" height=\"20\" rx=\"3\" fill=\"#555\"/>"
		  "<rect x=\"%d\" width=\"%d\" height=\"20\" rx=\"3\" fill=\"%s\"/>"
		  "<g fill=\"#fff\" font-family=\"DejaVu Sans,Verdana,sans-serif\" "
		  "font-size=\"11\" text-anchor=\"middle\"><text x=\"%d\" y=\"14\">",
		  lw + vw, lw, vw, badge_colour(verdict), lw / 2);
	html_textn(&h, label, strlen(label) > 40 ? 40 : strlen(label));
	html_rawf(&h, "</text><text x=\"%d\" y=\"14\">", lw + vw / 2);
	html_text(&h, verdict);
	html_raw(&h, "</text></g></svg>\n");
	return h.err;
}

/* Worse verdicts first: a row shows its worst. */
static const char *const badge_order[] = {"fail", "timeout", "infra", "cancelled", "pass", NULL};

const char *page_branch_verdict(const struct twin_matrix *m)
{
	size_t r, x, k;

	for (r = 0; r < m->nrows; r++) {
		size_t worst = 4, seen = 0;
		int finished = 1;

		for (x = 0; x < m->ncols; x++) {
			const struct twin_cell *c = twin_matrix_cell(m, r, x);

			if (c->total == 0)
				continue;
			for (k = 0; badge_order[k]; k++)
				if (!strcmp(c->verdict, badge_order[k]))
					break;
			if (!badge_order[k]) {
				finished = 0; /* queued, running, … */
				break;
			}
			if (k < worst)
				worst = k;
			seen++;
		}
		if (finished && seen)
			return badge_order[worst];
	}
	return "unknown";
}
