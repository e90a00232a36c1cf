/* A board: its description, health streak and history. */
#include "page-view.h"
#include "policy.h"

#include <stdlib.h>
#include <string.h>

/* The board's commissioning: never, passed (its attempt), or failed and why
 * (the board then takes no other work); and, when an examine is due (a new or
 * changed board), why it takes no other work until one passes. */
static void examine(struct html *h, const json_t *twin)
{
	const char *st = jstr(twin, "examine", NULL), *due = jstr(twin, "examine_due", NULL);
	long long at = jint(twin, "examine_attempt", 0);

	if (due) {
		html_raw(h, "<strong>examine due</strong>: ");
		html_text(h, due);
		html_raw(h, " (it takes no other work until its examine passes)");
		if (st == NULL)
			return;
		html_raw(h, "; last: ");
	}
	if (st == NULL) {
		html_raw(h, "never examined");
		return;
	}
	if (!strcmp(st, "pass")) {
		html_raw(h, "passed");
	} else {
		html_raw(h, "<strong>failed</strong>: ");
		html_text(h, jstr(twin, "examine_reason", ""));
		html_raw(h, " (out of the pool until an examine passes)");
	}
	if (at > 0)
		html_rawf(h, " &mdash; <a href=\"/attempts/%lld\">attempt %lld</a>", at, at);
}

/* What the last passing examine found, which jobs may require. */
static void properties(struct html *h, const json_t *props)
{
	const char *k;
	json_t *v;

	if (!json_object_size(props))
		return;
	html_raw(h, "<section><h2>Properties</h2>\n<dl class=\"facts properties\">");
	json_object_foreach ((json_t *)props, k, v) {
		char *text = json_dumps(v, JSON_ENCODE_ANY);

		html_raw(h, "<dt>");
		html_text(h, k);
		html_raw(h, "</dt><dd>");
		html_text(h, json_is_string(v) ? json_string_value(v) : text ? text : "?");
		html_raw(h, "</dd>");
		free(text);
	}
	html_raw(h, "</dl></section>\n");
}

/* The board's reservation (res: null when none) and its log, newest first. */
static void view_reservation(struct html *h, const json_t *res, const json_t *log)
{
	const json_t *l;
	size_t i;

	html_raw(h, "<section><h2>Reservation</h2>\n<p class=\"reservation\">");
	if (!json_is_object(res)) {
		html_raw(h, "Not reserved.");
	} else {
		html_raw(h, jint(res, "waiting_for", 0) > 0 ? "Reserved for " : "Held for ");
		html_text(h, jstr(res, "user", "?"));
		html_raw(h, " until ");
		html_time(h, jint(res, "expires", 0));
		if (jint(res, "waiting_for", 0) > 0) {
			html_raw(h, "; it finishes ");
			view_attempt_link(h, jint(res, "waiting_for", 0));
			html_raw(h, " first");
		}
		html_raw(h, ". No attempt is scheduled on it meanwhile.");
	}
	html_raw(h, "</p>\n");
	if (json_array_size(log)) {
		html_raw(h, "<div class=\"scroll\"><table><thead><tr><th>when</th><th>who</th>"
			    "<th>what</th></tr></thead><tbody>\n");
		json_array_foreach (log, i, l) {
			html_raw(h, "<tr><td>");
			html_time(h, jint(l, "time", 0));
			html_raw(h, "</td><td>");
			html_text(h, jstr(l, "who", "?"));
			html_raw(h, "</td><td>");
			html_text(h, jstr(l, "action", "?"));
			if (jstr(l, "detail", NULL)) {
				html_raw(h, " ");
				html_text(h, jstr(l, "detail", NULL));
			}
			html_raw(h, "</td></tr>\n");
		}
		html_raw(h, "</tbody></table></div>\n");
	}
	html_raw(h, "</section>\n");
}

/* "How it's performing": per job and branch, the stage times of the board's recent
 * passing attempts as a small SVG trend, drawn here (no script): one line per stage,
 * oldest left; a point perf.h judged slower is marked, each point's title says its
 * attempt, revision and time. */
#define TREND_W	  320
#define TREND_H	  90
#define TREND_PAD 6

static const char *const trend_colours[] = {"#1565c0", "#6a1b9a", "#2e7d32",
					    "#ef6c00", "#00838f", "#5d4037"};

static double trend_x(size_t i, size_t n)
{
	return TREND_PAD + (n > 1 ? (double)i * (TREND_W - 2 * TREND_PAD) / (double)(n - 1)
				  : (TREND_W - 2 * TREND_PAD) / 2.0);
}

static double trend_y(double t, double max)
{
	return TREND_H - TREND_PAD - t * (TREND_H - 2 * TREND_PAD) / max;
}

static void trend_svg(struct html *h, const json_t *g)
{
	const json_t *pts = json_object_get(g, "points"), *names = json_object_get(g, "stages");
	const json_t *p, *name;
	size_t n = json_array_size(pts), i, k;
	double max = 0, t;

	json_array_foreach (pts, i, p)
		json_array_foreach (names, k, name) {
			t = json_number_value(
			    json_object_get(json_object_get(p, "stages"), json_string_value(name)));
			if (t > max)
				max = t;
		}
	if (max <= 0)
		max = 1;
	html_rawf(h,
		  "<svg class=\"trend\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		  "role=\"img\" aria-label=\"stage times, oldest left, up to %.1f s\">",
		  TREND_W, TREND_H, TREND_W, TREND_H, max);
	json_array_foreach (names, k, name) {
		const char *stage = json_string_value(name);
		const char *colour =
		    trend_colours[k % (sizeof(trend_colours) / sizeof(*trend_colours))];

		html_rawf(h, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			  colour);
		json_array_foreach (pts, i, p) {
			const json_t *v = json_object_get(json_object_get(p, "stages"), stage);

			if (!json_is_number(v))
				continue;
			html_rawf(h, "%.1f,%.1f ", trend_x(i, n),
				  trend_y(json_number_value(v), max));
		}
		html_raw(h, "\"/>");
		json_array_foreach (pts, i, p) {
			const json_t *v = json_object_get(json_object_get(p, "stages"), stage), *s;
			size_t m;
			int slow = 0;

			if (!json_is_number(v))
				continue;
			json_array_foreach (json_object_get(p, "slower"), m, s)
				slow |= !strcmp(json_string_value(s), stage);
			html_rawf(h,
				  "<circle class=\"pt%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" "
				  "fill=\"%s\"><title>",
				  slow ? " slower" : "", trend_x(i, n),
				  trend_y(json_number_value(v), max), slow ? 4 : 2,
				  slow ? "#c62828" : colour);
			html_rawf(h, "#%lld ", jint(p, "attempt", 0));
			html_textn(h, jstr(p, "commit", ""), 12);
			html_raw(h, " ");
			html_text(h, stage);
			html_rawf(h, " %.2f s%s</title></circle>", json_number_value(v),
				  slow ? ": slower" : "");
		}
	}
	html_raw(h, "</svg>");
	html_raw(h, "<p class=\"legend\">");
	json_array_foreach (names, k, name) {
		/* a swatch by SVG's fill attribute: the pages' CSP (style-src 'self')
		 * refuses style attributes */
		html_rawf(h,
			  "<svg class=\"swatch\" width=\"10\" height=\"10\" aria-hidden=\"true\">"
			  "<rect width=\"10\" height=\"10\" fill=\"%s\"/></svg> ",
			  trend_colours[k % (sizeof(trend_colours) / sizeof(*trend_colours))]);
		html_text(h, json_string_value(name));
		html_raw(h, " ");
	}
	html_rawf(h, "&middot; %zu attempts, 0 to %.1f s</p>\n", n, max);
}

static void performance(struct html *h, const json_t *groups)
{
	const json_t *g;
	size_t i;

	html_raw(h, "<section><h2>How it's performing</h2>\n");
	if (!json_array_size(groups)) {
		html_raw(h,
			 "<p class=\"empty\">No passing attempt to measure yet.</p></section>\n");
		return;
	}
	html_raw(h, "<p class=\"meta\">Stage times of the recent passing attempts, per job and "
		    "branch; a red point took longer than the board's measured spread "
		    "(<code>slower</code>).</p>\n<div class=\"trends\">\n");
	json_array_foreach (groups, i, g) {
		html_raw(h, "<figure><figcaption>");
		html_text(h, jstr(g, "job", "?"));
		html_raw(h, " on ");
		html_text(h, jstr(g, "branch", "")[0] ? jstr(g, "branch", "") : "no branch");
		html_raw(h, "</figcaption>");
		trend_svg(h, g);
		html_raw(h, "</figure>\n");
	}
	html_raw(h, "</div></section>\n");
}

int page_board_render(struct buf *out, const json_t *twin)
{
	const json_t *tags = json_object_get(twin, "tags");
	const json_t *hist = json_object_get(twin, "attempts"), *t, *a;
	const char *name = jstr(twin, "name", "?");
	struct html h;
	size_t i;

	html_init(&h, out);
	page_begin(&h, name, "/api/v1/events");
	html_raw(&h, "<h1>Board ");
	html_text(&h, name);
	html_raw(&h, " ");
	html_verdict(&h, jstr(twin, "state", "offline"));
	html_raw(&h, "</h1>\n<dl class=\"facts\"><dt>agent</dt><dd>");
	html_text(&h, jstr(twin, "agent", "?"));
	html_raw(&h, "</dd><dt>arch</dt><dd>");
	html_text(&h, jstr(twin, "arch", "?"));
	html_raw(&h, "</dd><dt>class</dt><dd>");
	html_text(&h, jstr(twin, "class", "?"));
	html_raw(&h, "</dd><dt>tags</dt><dd>");
	json_array_foreach (tags, i, t) {
		html_raw(&h, "<span class=\"tagname\">");
		html_text(&h, json_string_value(t));
		html_raw(&h, "</span> ");
	}
	html_raw(&h, "</dd><dt>updated</dt><dd>");
	html_time(&h, jint(twin, "updated", 0));
	html_raw(&h, "</dd><dt>health</dt><dd>");
	html_raw(&h, jint(twin, "healthy", 1) ? "healthy" : "<strong>unhealthy</strong>");
	if (jint(twin, "infra_streak", 0) > 0)
		html_rawf(&h, ", %lld infra in a row", jint(twin, "infra_streak", 0));
	{
		struct buf words = BUF_INIT(4096);

		/* the partner's policy as its agent declared it (lib/policy.h) */
		policy_describe(&words, json_object_get(twin, "policy"));
		html_raw(&h, "</dd><dt>policy</dt><dd class=\"policy\">");
		html_text(&h, buf_cstr(&words));
		buf_release(&words);
	}
	html_raw(&h, "</dd><dt>examine</dt><dd>");
	examine(&h, twin);
	if (jstr(twin, "file_sha256", NULL)) {
		/* what sha256sum of the agent's board file gives */
		html_raw(&h, "</dd><dt>board file</dt><dd class=\"hash\">sha256 ");
		html_text(&h, jstr(twin, "file_sha256", ""));
	}
	html_raw(&h, "</dd></dl>\n");
	properties(&h, json_object_get(twin, "properties"));
	if (jstr(twin, "description", NULL)) {
		html_raw(&h, "<p class=\"description\">");
		html_text(&h, jstr(twin, "description", NULL));
		html_raw(&h, "</p>\n");
	}
	view_reservation(&h, json_object_get(twin, "reservation"),
			 json_object_get(twin, "reservation_log"));
	performance(&h, json_object_get(twin, "performance"));
	view_flake_rates(&h, json_object_get(twin, "flake_rates"), 0);
	html_raw(&h, "<section><h2>History</h2>\n");
	if (!json_array_size(hist)) {
		html_raw(&h, "<p class=\"empty\">Nothing ran on this board yet.</p>\n");
	} else {
		html_raw(&h, "<div class=\"scroll\"><table><thead><tr><th>attempt</th><th>job</th>"
			     "<th>flight</th><th>commit</th><th>verdict</th><th>finished</th></tr>"
			     "</thead><tbody>\n");
		json_array_foreach (hist, i, a) {
			html_raw(&h, "<tr><td>");
			view_attempt_link(&h, jint(a, "id", 0));
			html_raw(&h, "</td><td>");
			html_text(&h, jstr(a, "job", "?"));
			html_raw(&h, "</td><td>");
			view_flight_link(&h, jint(a, "flight", 0));
			html_raw(&h, "</td><td>");
			html_commit(&h, jstr(a, "commit", NULL));
			html_raw(&h, "</td><td>");
			html_verdict(&h, jstr(a, "state", NULL));
			html_raw(&h, "</td><td>");
			html_time(&h, jint(a, "finished_at", 0));
			html_raw(&h, "</td></tr>\n");
		}
		html_raw(&h, "</tbody></table></div>\n");
	}
	html_raw(&h, "</section>\n");
	page_end(&h);
	return h.err;
}
