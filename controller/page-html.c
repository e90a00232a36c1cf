/* The HTML writer of the status page: escaping, links, times, verdict chips and
 * the page frame. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "page.h"
#include "utf8.h"

void html_init(struct html *h, struct buf *out)
{
	h->out = out;
	h->err = 0;
}

static void html_append(struct html *h, const char *s, size_t n)
{
	if (!h->err)
		h->err = buf_append(h->out, s, n);
}

void html_rawn(struct html *h, const char *s, size_t n)
{
	html_append(h, s, n);
}

void html_int(struct html *h, long long v)
{
	if (!h->err)
		h->err = buf_decimal(h->out, v);
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	va_list ap;

	if (h->err)
		return;
	va_start(ap, fmt);
	h->err = buf_vprintf(h->out, fmt, ap);
	va_end(ap);
}

/* The entity for a byte that must be escaped, or NULL. */
static const char *html_entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

void html_textn(struct html *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n && !h->err) {
		unsigned char c = p[i];
		const char *ent = html_entity(c);
		char pic[8];
		uint32_t cp;
		size_t len;

		if (c >= 0x20 && c < 0x7f && !ent) {
			i++;
			continue;
		}
		html_append(h, s + run, i - run);
		if (ent) {
			html_raw(h, ent);
			run = ++i;
			continue;
		}
		if (c == '\t' || c == '\n') {
			html_append(h, s + i, 1);
			run = ++i;
			continue;
		}
		len = utf8_decode(p + i, n - i, &cp);
		if (utf8_is_inert(cp)) {
			/* A control character as its visible picture; other invisible
			 * or reordering code points as U+FFFD. No markup: this text may
			 * sit in an attribute. */
			cp = cp < 0x20 ? 0x2400 + cp : cp == 0x7f ? 0x2421 : 0xfffd;
		} else if (!utf8_is_xml_char(cp)) {
			cp = 0xfffd; /* U+FFFE, U+FFFF: the badge is SVG, an XML document */
		}
		html_append(h, pic, utf8_encode(pic, cp));
		i += len;
		run = i;
	}
	html_append(h, s + run, i - run);
}

void html_text(struct html *h, const char *s)
{
	if (s)
		html_textn(h, s, strlen(s));
}

void html_urlseg(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s && !h->err; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			html_append(h, s, 1);
		else
			html_append(h, esc, 3);
	}
}

void html_time(struct html *h, long long t)
{
	time_t tt = (time_t)(t / 1000);
	struct tm tm;
	char iso[32], shown[32];

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		html_raw(h, "—");
		return;
	}
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(shown, sizeof(shown), "%Y-%m-%d %H:%M", &tm);
	html_rawf(h, "<time datetime=\"%s\">%s</time>", iso, shown);
}

void html_duration(struct html *h, long long ms)
{
	long long s = ms < 0 ? 0 : ms / 1000;

	if (s >= 3600)
		html_rawf(h, "%lldh %02lldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		html_rawf(h, "%lldm %02llds", s / 60, s % 60);
	else
		html_rawf(h, "%llds", s);
}

/* Verdicts and states the stylesheet knows; anything else is shown as text with
 * the neutral colour. */
static const char *const known_verdicts[] = {
    "pass",    "fail",	  "infra",   "timeout",	 "cancelled", "running",   "queued",
    "claimed", "waiting", "idle",    "busy",	 "offline",   "unhealthy", "good",
    "bad",     "skip",	  "flaky",   "done",	 "open",      "blocked",   "found",
    "mixed",   "none",	  "skipped", "building", "starved",   "refused",   NULL,
};

void html_verdict(struct html *h, const char *v)
{
	const char *cls = "other";
	size_t i;

	if (!v || !*v)
		v = "none";
	for (i = 0; known_verdicts[i]; i++)
		if (!strcmp(v, known_verdicts[i]))
			cls = known_verdicts[i];
	html_raw(h, "<span class=\"v v-");
	html_raw(h, cls);
	html_raw(h, "\">");
	html_text(h, v);
	html_raw(h, "</span>");
}

void html_commit(struct html *h, const char *commit)
{
	size_t n;

	if (!commit || !*commit) {
		html_raw(h, "—");
		return;
	}
	n = strlen(commit);
	html_raw(h, "<code class=\"commit\" title=\"");
	html_text(h, commit);
	html_raw(h, "\">");
	html_textn(h, commit, n > 12 ? 12 : n);
	html_raw(h, "</code>");
}

void page_begin(struct html *h, const char *title, const char *stream)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<title>");
	html_text(h, title);
	html_raw(h, " · xenci</title>"
		    "<link rel=\"stylesheet\" href=\"/static/xenci.css\">"
		    "<script src=\"/static/xenci.js\" defer></script></head>\n<body");
	if (stream) {
		html_raw(h, " data-stream=\"");
		html_text(h, stream);
		html_raw(h, "\"");
	}
	html_raw(h, ">\n<header class=\"site\"><a class=\"home\" href=\"/\">xenci</a>"
		    "<span class=\"tag\">Xen on real boards</span>"
		    "<span id=\"live\" class=\"live\" hidden>live</span></header>\n<main>\n");
}

void page_end(struct html *h)
{
	html_raw(h, "</main>\n<footer class=\"site\">xenci · <a href=\"/api/v1/overview\">JSON</a>"
		    "</footer>\n</body></html>\n");
}

int page_error_render(struct buf *out, int status, const char *message)
{
	struct html h;
	char title[32];

	html_init(&h, out);
	snprintf(title, sizeof(title), "%d", status);
	page_begin(&h, title, NULL);
	html_rawf(&h, "<h1>%d</h1><p>", status);
	html_text(&h, message);
	html_raw(&h, "</p><p><a href=\"/\">Back to the overview</a></p>\n");
	page_end(&h);
	return h.err;
}
