/* The overview: labs and their boards, the queue, what runs now, recent flights
 * and open bisections. */
#include "page.h"
#include "page-view.h"

/* A wait: milliseconds under a second (a claim is often that quick), else as
 * html_duration. */
static void wait_text(struct html *h, long long ms)
{
	if (ms < 1000)
		html_rawf(h, "%lld ms", ms < 0 ? 0 : ms);
	else
		html_duration(h, ms);
}

/* A lab's or a board's queue wait and utilisation (twin_overview's usage). */
static void usage_line(struct html *h, const json_t *u)
{
	if (!jint(u, "claims", 0) && json_number_value(json_object_get(u, "busy")) <= 0)
		return;
	html_rawf(h, " · busy %.0f %% of %lld h",
		  100 * json_number_value(json_object_get(u, "busy")), jint(u, "window_hours", 24));
	if (jint(u, "claims", 0)) {
		html_rawf(h, " · queue wait (%lld claims) p50 ", jint(u, "claims", 0));
		wait_text(h, jint(u, "wait_p50_ms", 0));
		html_raw(h, ", p90 ");
		wait_text(h, jint(u, "wait_p90_ms", 0));
	}
}

static void boards_section(struct html *h, const json_t *labs, long long now)
{
	const json_t *lab, *board;
	size_t i, j;

	html_raw(h, "<section class=\"labs\"><h2>Labs and boards</h2>\n");
	if (!json_array_size(labs))
		html_raw(h, "<p class=\"empty\">No agent has declared a board yet.</p>\n");
	json_array_foreach (labs, i, lab) {
		html_raw(h, "<div class=\"lab\"><h3>");
		html_text(h, jstr(lab, "agent", "?"));
		html_raw(h, "</h3><p class=\"meta usage\">");
		html_rawf(h, "%zu board%s", json_array_size(json_object_get(lab, "boards")),
			  json_array_size(json_object_get(lab, "boards")) == 1 ? "" : "s");
		usage_line(h, json_object_get(lab, "usage"));
		html_raw(h, "</p><ul class=\"boards\">\n");
		json_array_foreach (json_object_get(lab, "boards"), j, board) {
			const char *name = jstr(board, "name", "?");
			const json_t *at = json_object_get(board, "attempt");

			html_raw(h, "<li class=\"board\"><a href=\"/boards/");
			html_urlseg(h, name);
			html_raw(h, "\">");
			html_text(h, name);
			html_raw(h, "</a> ");
			html_verdict(h, jstr(board, "state", "offline"));
			html_raw(h, " <span class=\"meta\">");
			html_text(h, jstr(board, "arch", ""));
			if (json_is_integer(at)) {
				html_raw(h, " · running ");
				view_attempt_link(h, json_integer_value(at));
			}
			if (jint(board, "last_seen", 0) > 0) {
				html_raw(h, " · seen ");
				html_duration(h, now - jint(board, "last_seen", 0));
				html_raw(h, " ago");
			}
			usage_line(h, json_object_get(board, "usage"));
			html_raw(h, "</span></li>\n");
		}
		html_raw(h, "</ul></div>\n");
	}
	html_raw(h, "</section>\n");
}

static void running_section(struct html *h, const json_t *running, long long queued, long long now)
{
	const json_t *at;
	size_t i;

	html_rawf(h,
		  "<section class=\"running\"><h2>Running <span class=\"count\">%zu</span> · "
		  "queued <span class=\"count\" id=\"queue-depth\">%lld</span></h2>\n",
		  json_array_size(running), queued);
	if (!json_array_size(running)) {
		html_raw(h, "<p class=\"empty\">Nothing is running.</p></section>\n");
		return;
	}
	html_raw(h, "<div class=\"scroll\"><table><thead><tr><th>attempt</th><th>job</th>"
		    "<th>board</th><th>flight</th><th>stage</th><th>elapsed</th></tr></thead>"
		    "<tbody>\n");
	json_array_foreach (running, i, at) {
		long long id = jint(at, "id", 0);

		html_rawf(h, "<tr><td><a href=\"/attempts/%lld\">#%lld</a></td><td>", id, id);
		html_text(h, jstr(at, "job", jstr(at, "kind", "")));
		html_raw(h, "</td><td>");
		view_board_link(h, jstr(at, "board", NULL));
		html_raw(h, "</td><td>");
		view_flight_link(h, jint(at, "flight", 0));
		html_raw(h, "</td><td>");
		html_text(h, jstr(at, "stage", "—"));
		html_raw(h, "</td><td>");
		html_duration(h, now - jint(at, "started_at", jint(at, "claimed_at", now)));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

static void flights_section(struct html *h, const json_t *flights)
{
	const json_t *f;
	size_t i;

	html_raw(h, "<section class=\"flights\"><h2>Recent flights</h2>\n");
	if (!json_array_size(flights)) {
		html_raw(h, "<p class=\"empty\">No flight yet.</p></section>\n");
		return;
	}
	html_raw(h,
		 "<div class=\"scroll\"><table><thead><tr><th>flight</th><th>ref</th>"
		 "<th>commit</th><th>subject</th><th>verdict</th><th>results</th><th>created</th>"
		 "</tr></thead><tbody>\n");
	json_array_foreach (flights, i, f) {
		html_raw(h, "<tr><td>");
		view_flight_link(h, jint(f, "id", 0));
		html_raw(h, "</td><td>");
		html_text(h, jstr(f, "ref", jstr(f, "kind", "")));
		html_raw(h, "</td><td>");
		html_commit(h, jstr(f, "commit", NULL));
		html_raw(h, "</td><td class=\"subject\">");
		html_text(h, jstr(f, "subject", ""));
		html_raw(h, "</td><td>");
		html_verdict(h, view_flight_verdict(f));
		html_raw(h, "</td><td>");
		view_summary(h, json_object_get(f, "counts"));
		html_raw(h, "</td><td>");
		html_time(h, jint(f, "created", 0));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></section>\n");
}

static void bisections_section(struct html *h, const json_t *bisections)
{
	const json_t *b;
	size_t i;

	html_raw(h, "<section class=\"bisections\"><h2>Bisections</h2>\n");
	if (!json_array_size(bisections)) {
		html_raw(h, "<p class=\"empty\">No bisection yet.</p></section>\n");
		return;
	}
	html_raw(h, "<ul>\n");
	json_array_foreach (bisections, i, b) {
		html_rawf(h, "<li><a href=\"/bisections/%lld\">bisection #%lld</a>: ",
			  jint(b, "id", 0), jint(b, "id", 0));
		html_text(h, jstr(b, "job", "?"));
		html_raw(h, " on ");
		html_text(h, jstr(b, "class", "?"));
		html_raw(h, " ");
		html_verdict(h, jstr(b, "state", "running"));
		if (jint(b, "remaining", -1) >= 0)
			html_rawf(h, " <span class=\"meta\">%lld commits left</span>",
				  jint(b, "remaining", 0));
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ul></section>\n");
}

int page_overview_render(struct buf *out, const json_t *twin)
{
	struct html h;
	long long now = jint(twin, "now", 0);

	html_init(&h, out);
	page_begin(&h, "Overview", "/api/v1/events");
	html_raw(&h, "<h1>Xen CI status</h1>\n<div class=\"grid\">\n");
	running_section(&h, json_object_get(twin, "running"), jint(twin, "queue_depth", 0), now);
	boards_section(&h, json_object_get(twin, "labs"), now);
	html_raw(&h, "</div>\n");
	flights_section(&h, json_object_get(twin, "flights"));
	bisections_section(&h, json_object_get(twin, "bisections"));
	page_end(&h);
	return h.err;
}
