/* Console log → HTML. The log is data a board printed: every byte is escaped,
 * ANSI SGR colours become classes, every other escape sequence and control
 * character is shown as an inert visible symbol. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "page.h"
#include "utf8.h"

/* A line's text past this many bytes is cut on the page (the raw log has it). */
#define LINE_SHOWN_MAX (64u << 10)

struct sgr {
	unsigned bold : 1, faint : 1, italic : 1, underline : 1, inverse : 1;
	int fg, bg; /* -1 default, else 0..15 */
};

static void sgr_reset(struct sgr *s)
{
	memset(s, 0, sizeof(*s));
	s->fg = -1;
	s->bg = -1;
}

static int sgr_plain(const struct sgr *s)
{
	return !s->bold && !s->faint && !s->italic && !s->underline && !s->inverse && s->fg < 0 &&
	       s->bg < 0;
}

/* Applies one SGR parameter list ("1;31", "" = reset). 38/48 (256 and true colour)
 * are consumed and ignored: only the 16 classes of the stylesheet exist. */
static void sgr_apply(struct sgr *s, const char *p, size_t n)
{
	long v[32];
	size_t nv = 0, i;

	v[0] = 0;
	nv = 1;
	for (i = 0; i < n; i++) {
		if (p[i] == ';') {
			if (nv == 32)
				return;
			v[nv++] = 0;
		} else if (v[nv - 1] < 1000) {
			v[nv - 1] = v[nv - 1] * 10 + (p[i] - '0');
		}
	}
	for (i = 0; i < nv; i++) {
		long c = v[i];

		if (c == 0)
			sgr_reset(s);
		else if (c == 1)
			s->bold = 1;
		else if (c == 2)
			s->faint = 1;
		else if (c == 3)
			s->italic = 1;
		else if (c == 4)
			s->underline = 1;
		else if (c == 7)
			s->inverse = 1;
		else if (c == 22)
			s->bold = s->faint = 0;
		else if (c == 23)
			s->italic = 0;
		else if (c == 24)
			s->underline = 0;
		else if (c == 27)
			s->inverse = 0;
		else if (c >= 30 && c <= 37)
			s->fg = (int)(c - 30);
		else if (c == 39)
			s->fg = -1;
		else if (c >= 40 && c <= 47)
			s->bg = (int)(c - 40);
		else if (c == 49)
			s->bg = -1;
		else if (c >= 90 && c <= 97)
			s->fg = (int)(c - 90 + 8);
		else if (c >= 100 && c <= 107)
			s->bg = (int)(c - 100 + 8);
		else if (c == 38 || c == 48)
			i += (i + 1 < nv && v[i + 1] == 5)   ? 2
			     : (i + 1 < nv && v[i + 1] == 2) ? 4
							     : 0;
	}
}

static void sgr_open(struct html *h, const struct sgr *s)
{
	html_raw(h, "<span class=\"sgr");
	if (s->bold)
		html_raw(h, " b");
	if (s->faint)
		html_raw(h, " dim");
	if (s->italic)
		html_raw(h, " it");
	if (s->underline)
		html_raw(h, " ul");
	if (s->inverse)
		html_raw(h, " inv");
	if (s->fg >= 0)
		html_rawf(h, " fg%d", s->fg);
	if (s->bg >= 0)
		html_rawf(h, " bg%d", s->bg);
	html_raw(h, "\">");
}

/* An inert symbol for a code point that must not act: caret notation for C0
 * controls and DEL (^[ for ESC, as `cat -v` shows them; every font has these
 * glyphs), "<U+XXXX>" for C1 controls and invisible or reordering ones. A run
 * of them shares one span (*ctl says whether one is open), which bounds the
 * page's growth per byte. */
static void inert(struct html *h, uint32_t cp, int *ctl)
{
	char caret[3] = {'^', cp == 0x7f ? '?' : (char)(cp + 0x40), 0};

	if (!*ctl)
		html_raw(h, "<span class=\"ctl\">");
	*ctl = 1;
	if (cp < 0x20 || cp == 0x7f)
		html_text(h, caret);
	else
		html_rawf(h, "&lt;U+%04X&gt;", (unsigned)cp);
}

static void inert_end(struct html *h, int *ctl)
{
	if (*ctl)
		html_raw(h, "</span>");
	*ctl = 0;
}

static int sgr_params_ok(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ';' && (p[i] < '0' || p[i] > '9'))
			return 0;
	return 1;
}

/* Console text with ANSI: SGR → classes, anything else inert. */
static void console_text(struct html *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct sgr cur;
	int open = 0, ctl = 0;
	size_t i = 0, run = 0;

	sgr_reset(&cur);
	if (n && p[n - 1] == '\r')
		n--; /* a CRLF console: the CR is the line end, not content */
	while (i < n && !h->err) {
		uint32_t cp;
		size_t len;

		if (p[i] >= 0x20 && p[i] < 0x7f && !ctl) {
			i++;
			continue;
		}
		html_textn(h, s + run, i - run);
		run = i;
		if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '[') {
			size_t j = i + 2, params;

			while (j < n && p[j] >= 0x30 && p[j] <= 0x3f)
				j++;
			params = j;
			while (j < n && p[j] >= 0x20 && p[j] <= 0x2f)
				j++;
			if (j < n && p[j] == 'm' && params == j &&
			    sgr_params_ok(p + i + 2, j - i - 2)) {
				sgr_apply(&cur, s + i + 2, params - i - 2);
				inert_end(h, &ctl);
				if (open)
					html_raw(h, "</span>");
				open = !sgr_plain(&cur);
				if (open)
					sgr_open(h, &cur);
				run = i = j + 1;
				continue;
			}
			/* Any other sequence: its ESC inert, its rest shown as text. */
		}
		len = utf8_decode(p + i, n - i, &cp);
		if (utf8_is_inert(cp) || cp == '\n') {
			inert(h, cp, &ctl);
		} else {
			inert_end(h, &ctl);
			html_textn(h, s + i, len); /* text, a tab, or U+FFFD */
		}
		i += len;
		run = i;
	}
	html_textn(h, s + run, i - run);
	inert_end(h, &ctl);
	if (open)
		html_raw(h, "</span>");
}

static int has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

static int contains(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

/* The class of an agent note, from its documented prefixes. */
static const char *note_class(const char *t, size_t n)
{
	if (has_prefix(t, n, "stage ") && contains(t, n, " reached"))
		return "stage";
	if (has_prefix(t, n, "stage ") || has_prefix(t, n, "failure ") ||
	    has_prefix(t, n, "log cut"))
		return "fail";
	if (has_prefix(t, n, "testcase ")) {
		if (n >= 5 && !memcmp(t + n - 5, " pass", 5))
			return "tc-pass";
		if (n >= 5 && !memcmp(t + n - 5, " skip", 5))
			return "tc-skip";
		return "tc-fail";
	}
	if (has_prefix(t, n, "verdict "))
		return has_prefix(t, n, "verdict pass") ? "vd-pass" : "vd-fail";
	return "";
}

/* Console lines worth a highlight even before the judge's note: hypervisor and
 * kernel crashes. */
static const char *const crash_words[] = {
    "Panic on CPU", "Kernel panic", "Oops:", "BUG: ", "Assertion '", "FATAL TRAP", NULL,
};

static const char *console_class(const char *t, size_t n)
{
	size_t i;

	for (i = 0; crash_words[i]; i++)
		if (contains(t, n, crash_words[i]))
			return "fail";
	return "";
}

/* One line (without its '\n') at byte offset off. */
static void console_line(struct html *h, const char *s, size_t n, long long off)
{
	size_t i = 0, ts, te;
	const char *text, *cls;
	size_t tn, cut = 0;
	char kind;

	while (i < n && s[i] == ' ')
		i++;
	ts = i;
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
		i++;
	te = i;
	if (te > ts && te + 2 <= n && s[te] == ' ' && (s[te + 1] == '|' || s[te + 1] == '#') &&
	    (te + 2 == n || s[te + 2] == ' ')) {
		kind = s[te + 1];
		text = s + te + 2 + (te + 2 < n);
		tn = n - (size_t)(text - s);
	} else {
		kind = '?'; /* not in the log format: shown whole, as console text */
		ts = te = 0;
		text = s;
		tn = n;
	}
	if (tn > LINE_SHOWN_MAX) {
		cut = tn - LINE_SHOWN_MAX;
		tn = LINE_SHOWN_MAX;
	}
	cls = kind == '#' ? note_class(text, tn) : console_class(text, tn);
	html_rawf(h, "<div class=\"l %s%s%s\" id=\"o%lld\"><a class=\"t\" href=\"#o%lld\">",
		  kind == '#' ? "n" : "c", *cls ? " " : "", cls, off, off);
	html_textn(h, s + ts, te - ts);
	html_raw(h, "</a>");
	if (!strcmp(cls, "fail") || !strcmp(cls, "tc-fail") || !strcmp(cls, "vd-fail"))
		html_raw(h, "<b class=\"mark\">FAIL</b>");
	html_raw(h, "<span class=\"x\">");
	if (kind == '#')
		html_textn(h, text, tn); /* notes are the agent's own text: no ANSI */
	else
		console_text(h, text, tn);
	if (cut)
		html_rawf(h, "<span class=\"cut\"> … %zu bytes more in the raw log</span>", cut);
	html_raw(h, "</span></div>\n");
}

int console_render(struct buf *out, const char *log, size_t len, long long base, int final,
		   size_t *used)
{
	struct html h;
	size_t pos = 0;

	html_init(&h, out);
	*used = 0;
	while (pos < len && !h.err) {
		const char *nl = memchr(log + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - log) : len;

		if (!nl && !final)
			break;
		console_line(&h, log + pos, end - pos, base + (long long)pos);
		pos = nl ? end + 1 : end;
		if (!h.err)
			*used = pos;
	}
	return h.err;
}
