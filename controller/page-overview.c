/* The overview: labs and their boards, the queue, what runs now, recent flights
 * and open bisections. */
#include "page.h"
#include "page-view.h"
#include "twins.h"

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
static void usage_line(struct html *h, const struct twin_usage *u)
{
	if (!u->claims && u->busy <= 0)
		return;
	html_rawf(h, " · busy %.0f %% of %d h", 100 * u->busy, TWIN_USAGE_HOURS);
	if (u->claims) {
		html_rawf(h, " · queue wait (%lld claims) p50 ", u->claims);
		wait_text(h, u->wait_p50_ms == TWIN_NO_WAIT ? 0 : u->wait_p50_ms);
		html_raw(h, ", p90 ");
		wait_text(h, u->wait_p90_ms == TWIN_NO_WAIT ? 0 : u->wait_p90_ms);
	}
}

static void boards_section(struct html *h, const struct twin_overview *o)
{
	size_t i, j;

	html_raw(h, "<section class=\"labs\"><h2>Labs and boards</h2>\n");
	if (!o->nlabs)
		html_raw(h, "<p class=\"empty\">No agent has declared a board yet.</p>\n");
	for (i = 0; i < o->nlabs; i++) {
		const struct twin_lab *lab = &o->labs[i];

		html_raw(h, "<div class=\"lab\"><h3>");
		html_text(h, lab->agent);
		html_raw(h, "</h3><p class=\"meta usage\">");
		html_rawf(h, "%zu board%s", lab->n, lab->n == 1 ? "" : "s");
		usage_line(h, &lab->usage);
		html_raw(h, "</p><ul class=\"boards\">\n");
		for (j = 0; j < lab->n; j++) {
			const struct db_board_row *board = &o->boards[lab->boards[j]];
			const char *name = board->name ? board->name : "?";

			html_raw(h, "<li class=\"board\"><a href=\"/boards/");
			html_urlseg(h, name);
			html_raw(h, "\">");
			html_text(h, name);
			html_raw(h, "</a> ");
			html_verdict(h, board->state ? board->state : "offline");
			html_raw(h, " <span class=\"meta\">");
			html_text(h, board->arch);
			if (board->attempt > 0) {
				html_raw(h, " · running ");
				view_attempt_link(h, board->attempt);
			}
			if (lab->last_seen > 0) {
				html_raw(h, " · seen ");
				html_duration(h, o->now - lab->last_seen);
				html_raw(h, " ago");
			}
			usage_line(h, &o->board_usage[lab->boards[j]]);
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

static void flights_section(struct html *h, const struct twin_overview *o)
{
	size_t i;

	html_raw(h, "<section class=\"flights\"><h2>Recent flights</h2>\n");
	if (!o->nflights) {
		html_raw(h, "<p class=\"empty\">No flight yet.</p></section>\n");
		return;
	}
	html_raw(h,
		 "<div class=\"scroll\"><table><thead><tr><th>flight</th><th>ref</th>"
		 "<th>commit</th><th>subject</th><th>verdict</th><th>results</th><th>created</th>"
		 "</tr></thead><tbody>\n");
	for (i = 0; i < o->nflights; i++) {
		const struct db_flight_row *f = &o->flights[i];

		html_raw(h, "<tr><td>");
		view_flight_link(h, f->id);
		html_raw(h, "</td><td>");
		html_text(h, f->ref ? f->ref : f->kind);
		html_raw(h, "</td><td>");
		html_commit(h, f->commit);
		html_raw(h, "</td><td class=\"subject\">");
		html_text(h, f->subject);
		html_raw(h, "</td><td>");
		html_verdict(h, f->verdict ? f->verdict : "running");
		html_raw(h, "</td><td>");
		view_summary_counts(h, db_flight_count_names, f->counts, DB_FLIGHT_COUNTS);
		html_raw(h, "</td><td>");
		html_time(h, f->created);
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

int page_overview_render(struct buf *out, const struct twin_overview *o)
{
	struct html h;

	html_init(&h, out);
	page_begin(&h, "Overview", "/api/v1/events");
	html_raw(&h, "<h1>Xen CI status</h1>\n<div class=\"grid\">\n");
	running_section(&h, o->running, o->queue_depth, o->now);
	boards_section(&h, o);
	html_raw(&h, "</div>\n");
	flights_section(&h, o);
	bisections_section(&h, o->bisections);
	page_end(&h);
	return h.err;
}
