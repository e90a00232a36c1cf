/* An attempt: state, stages, test cases and the console log, with a live tail
 * while it runs. */
#include <stdio.h>
#include <string.h>

#include "db-attempts.h" /* the state names only */
#include "page-view.h"

/* Whether the attempt's result is a signed record in the results log
 * (docs/traceability.md): its leaf, the agent's key, links to the record with its
 * inclusion proof, and how to check it without trusting this page. */
static void record_line(struct html *h, const json_t *twin, int live)
{
	const json_t *rec = json_object_get(twin, "record");
	long long id = jint(twin, "id", 0);

	if (live)
		return;
	if (rec == NULL) {
		if (jstr(twin, "agent", NULL))
			html_raw(h,
				 "<p class=\"record unsigned\">unsigned result: its agent had no "
				 "bound key</p>\n");
		return;
	}
	html_raw(h, "<p class=\"record verified\">&#10003; signed by agent ");
	html_text(h, jstr(twin, "agent", "?"));
	html_raw(h, " (key ");
	html_textn(h, jstr(rec, "keyid", ""), 16);
	html_rawf(h,
		  "&hellip;), checked on submission, leaf %lld of the results log &middot; "
		  "<a href=\"/api/v1/attempts/%lld/record\">record and inclusion proof</a> "
		  "&middot; check it yourself: <code>xenci verify %lld --key "
		  "controller.pub</code></p>\n",
		  jint(rec, "index", 0), id, id);
}

static int attempt_is_live(const char *state)
{
	return attempt_state_open(attempt_state_of(state));
}

static void stages_section(struct html *h, const json_t *stages)
{
	const json_t *s;
	size_t i;

	if (!json_array_size(stages))
		return;
	html_raw(h, "<section><h2>Stages</h2><ol class=\"stages\">\n");
	json_array_foreach (stages, i, s) {
		json_t *sec = json_object_get(s, "seconds");

		html_raw(h, "<li>");
		html_verdict(h, jstr(s, "result", NULL));
		html_raw(h, " ");
		html_text(h, jstr(s, "name", "?"));
		if (json_is_number(sec))
			html_rawf(h, " <span class=\"meta\">%.1f s</span>", json_number_value(sec));
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ol></section>\n");
}

/* The log: all of it when small; else its head and its tail around a marker. The
 * tail always ends where the live stream resumes. */
static int log_section(struct html *h, long long id, const char *log, size_t len, int live,
		       size_t *used)
{
	size_t head_used = 0, tail_from = 0;
	int rc = 0;

	html_rawf(h,
		  "<section class=\"console\"><h2>Console <a class=\"raw\" "
		  "href=\"/attempts/%lld/raw\" download>raw log</a></h2>\n"
		  "<div id=\"log\" class=\"log\" role=\"log\">",
		  id);
	*used = 0;
	if (h->err)
		return h->err;
	if (len > PAGE_LOG_HEAD + PAGE_LOG_TAIL) {
		const char *nl;

		rc = console_render(h->out, log, PAGE_LOG_HEAD, 0, 0, &head_used);
		if (rc < 0)
			return h->err = rc;
		nl = memchr(log + len - PAGE_LOG_TAIL, '\n', PAGE_LOG_TAIL);
		tail_from = nl ? (size_t)(nl - log) + 1 : len;
		html_rawf(h,
			  "<div class=\"skip\">… %zu bytes not shown: see the "
			  "<a href=\"/attempts/%lld/raw\">raw log</a> …</div>\n",
			  tail_from - head_used, id);
	}
	if (!h->err && tail_from < len) {
		rc = console_render(h->out, log + tail_from, len - tail_from, (long long)tail_from,
				    !live, used);
		if (rc < 0)
			return h->err = rc;
	}
	*used += tail_from;
	if (!len)
		html_raw(h, "<div class=\"empty\">No console output yet.</div>");
	html_raw(h, "</div></section>\n");
	return h->err;
}

int page_attempt_render(struct buf *out, const json_t *twin, const char *log, size_t log_len)
{
	long long id = jint(twin, "id", 0), started = jint(twin, "started_at", 0);
	long long finished = jint(twin, "finished_at", 0);

	if (!started)
		started = jint(twin, "claimed_at", 0);
	const char *state = jstr(twin, "state", "queued");
	const char *verdict = NULL; /* the state is the verdict once final */
	int live = attempt_is_live(state);
	char title[160], stream[96];
	struct html h;
	size_t used = 0;

	html_init(&h, out);
	snprintf(title, sizeof(title), "Attempt %lld", id);
	/* The stream resumes at the end of what this page shows; the tail route
	 * needs the offset up front since EventSource sends no header at first. */
	snprintf(stream, sizeof(stream), "/attempts/%lld/tail?from=", id);
	if (!log)
		log_len = 0;
	if (live) {
		const char *nl = log_len ? memrchr(log, '\n', log_len) : NULL;

		snprintf(stream + strlen(stream), sizeof(stream) - strlen(stream), "%zu",
			 nl ? (size_t)(nl - log) + 1 : 0);
	}
	page_begin(&h, title, live ? stream : NULL);
	html_rawf(&h, "<h1>Attempt %lld <span id=\"state\">", id);
	html_verdict(&h, verdict ? verdict : state);
	html_raw(&h, "</span></h1>\n<p class=\"meta\">");
	if (!strcmp(jstr(twin, "kind", "test"), "build")) {
		html_raw(&h, "build for ");
		html_text(&h, jstr(twin, "arch", "?"));
	} else {
		html_raw(&h, "job ");
		html_text(&h, jstr(twin, "job", "?"));
		html_raw(&h, " on ");
		view_board_link(&h, jstr(twin, "board", NULL));
	}
	html_raw(&h, " · ");
	view_flight_link(&h, jint(twin, "flight", 0));
	if (jint(twin, "number", 1) > 1)
		html_rawf(&h, " · try %lld", jint(twin, "number", 1));
	html_raw(&h, " · started ");
	html_time(&h, started);
	if (finished > 0 && started > 0) {
		html_raw(&h, " · took ");
		html_duration(&h, finished - started);
	}
	if (live && jstr(twin, "stage", NULL)) {
		html_raw(&h, " · waiting for stage <span id=\"stage\">");
		html_text(&h, jstr(twin, "stage", NULL));
		html_raw(&h, "</span>");
	}
	html_raw(&h, "</p>\n");
	if (jstr(twin, "reason", NULL)) {
		html_raw(&h, "<p class=\"reason\">");
		html_text(&h, jstr(twin, "reason", NULL));
		html_raw(&h, "</p>\n");
	}
	if (json_is_object(json_object_get(twin, "known_issue"))) {
		html_raw(&h, "<p class=\"known-issue\">");
		view_known_issue(&h, json_object_get(twin, "known_issue"));
		html_raw(&h, "</p>\n");
	}
	record_line(&h, twin, live);
	if (json_is_object(json_object_get(json_object_get(twin, "result"), "repro")))
		html_rawf(&h,
			  "<p class=\"repro\">Run it again on your machine: <code>xenci repro "
			  "%lld</code></p>\n",
			  id);
	view_revision(&h, twin);
	stages_section(&h, json_object_get(twin, "stages"));
	if (json_array_size(json_object_get(twin, "testcases"))) {
		html_raw(&h, "<section><h2>Test cases</h2>\n");
		view_testcases(&h, json_object_get(twin, "testcases"));
		html_raw(&h, "</section>\n");
	}
	log_section(&h, id, log, log_len, live, &used);
	page_end(&h);
	return h.err;
}
