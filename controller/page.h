/* The public status page: server-side HTML rendered from the same JSON documents
 * that the /api/v1 read routes serve (the "JSON twins", see docs/api.md "Pages").
 *
 * Every renderer takes a twin it only borrows and appends HTML to a caller-owned
 * buffer. Everything that came from outside (names, subjects, console bytes) goes
 * through the escaping writers below; the only raw markup is the renderers' own.
 * Renderers return 0, or -ENOSPC when the page would pass the buffer's maximum
 * (the buffer then holds a truncated page that must not be served). */
#ifndef XENCI_PAGE_H
#define XENCI_PAGE_H

#include <jansson.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"

/* A rendered page is at most this big; the attempt page renders at most
 * PAGE_LOG_HEAD + PAGE_LOG_TAIL bytes of a console log and links the raw log. */
#define PAGE_MAX      (48u << 20)
#define PAGE_LOG_HEAD (128u << 10)
#define PAGE_LOG_TAIL (768u << 10)

/* A writer with a sticky error: after the first failed append every later call
 * is a no-op and err says why. */
struct html {
	struct buf *out;
	int err;
};

void html_init(struct html *h, struct buf *out);
/* Trusted markup (the renderers' own literals): n bytes of s; html_raw the
 * string s (inline, so that a literal's length is the compiler's, not a strlen
 * per call: a page's cells make thousands of these calls). */
void html_rawn(struct html *h, const char *s, size_t n);
static inline void html_raw(struct html *h, const char *s)
{
	html_rawn(h, s, strlen(s));
}
void html_rawf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A number in decimal (buf_decimal: no printf in the pages' hot cells). */
void html_int(struct html *h, long long v);
/* Outside text: HTML-escaped (& < > " '), invalid UTF-8 shown as U+FFFD, control
 * characters, C1 controls and bidirectional overrides shown as inert visible
 * symbols. Safe in element content and in quoted attribute values. NULL is "". */
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);
/* A path segment percent-encoded (everything but A-Z a-z 0-9 - . _ ~), for hrefs. */
void html_urlseg(struct html *h, const char *s);
/* <time datetime="…Z">YYYY-MM-DD HH:MM</time> of t in Unix milliseconds (the
 * store's unit, so every twin's), or "—" when t <= 0. */
void html_time(struct html *h, long long t_ms);
/* "3h 05m", "4m 07s", "12s" of a span in milliseconds. */
void html_duration(struct html *h, long long ms);
/* A verdict or state chip that carries text as well as colour. */
void html_verdict(struct html *h, const char *verdict);
/* A short commit id (12 hex digits) with the whole id as title. */
void html_commit(struct html *h, const char *commit);

/* Opens a page: doctype, head (title "TITLE · xenci"), the site header. stream:
 * the page's live URL (its EventSource), or NULL for a page that never changes. */
void page_begin(struct html *h, const char *title, const char *stream);
void page_end(struct html *h);

/* Console log rendering (docs/api.md "Console log"). Renders the complete lines
 * of log[0..len) - a partial last line only when `final` - each as one <div>
 * whose id is "o" + its byte offset (base + position in log). ANSI SGR colours
 * become classes (state resets at each line), every other escape sequence and
 * control byte is shown inert. *used gets the number of bytes rendered (the end
 * of the last complete line), which is where a live tail resumes. */
int console_render(struct buf *out, const char *log, size_t len, long long base, int final,
		   size_t *used);

/* The pages. Each takes its JSON twin (docs/api.md "Pages"). */
struct twin_overview;
/* The overview from its twin read into C (twins.h: the document the API's
 * GET /api/v1/overview serialises). */
int page_overview_render(struct buf *out, const struct twin_overview *o);
struct twin_matrix;
/* A branch's matrix from its twin and cells (twins.h's twin_matrix_read). */
int page_branch_render(struct buf *out, const struct twin_matrix *m);
int page_flight_render(struct buf *out, const json_t *twin);
/* log: the stored console log (may be NULL); log_len its length. */
int page_attempt_render(struct buf *out, const json_t *twin, const char *log, size_t log_len);
int page_board_render(struct buf *out, const json_t *twin);
int page_bisection_render(struct buf *out, const json_t *twin);
/* A small page for 404 and friends. */
int page_error_render(struct buf *out, int status, const char *message);

/* The live tail of an attempt page (docs/api.md "Live pages"). */

/* Where a tail stream starts: the Last-Event-ID header when a browser reconnects
 * (it wins), else the ?from= parameter, else 0. Each must be a decimal byte
 * offset; anything else is -EINVAL. */
int page_tail_start(long long *from, const char *last_event_id, const char *from_param);
/* Appends one SSE "line" event for the complete lines of log[from..len) to out
 * and sets *next to the offset after them (the event's id). Appends nothing and
 * sets *next = from when no complete line is there yet. A chunk of log bigger
 * than PAGE_TAIL_CHUNK is sent in several events. */
#define PAGE_TAIL_CHUNK (256u << 10)
int page_tail_event(struct buf *out, const char *log, size_t len, long long from, long long *next);
/* The "state" event that ends a tail: {"state": …, "verdict": …}. */
int page_tail_state_event(struct buf *out, const char *state, const char *verdict);

/* Static assets of web/: the file name is checked (letters, digits, '-', '_' and
 * one '.' before a known extension; no path) and its content type returned, or
 * NULL when the name is not one the page serves. */
const char *page_static_type(const char *name);

/* The verdict a branch's badge shows: that of the newest row whose cells all
 * finished ("pass" when every cell passed, else the worst), or "unknown". */
const char *page_branch_verdict(const struct twin_matrix *m);

/* The SVG badge of a branch: "xenci | VERDICT" coloured by verdict. */
int page_badge_render(struct buf *out, const char *label, const char *verdict);

#endif
