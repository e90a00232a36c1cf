#include "mbox.h"

#include <ctype.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "errmsg.h"
#include "mail.h"
#include "xmalloc.h"

/* GMime's one initialisation is lib/mail's (a second g_mime_init in another
 * thread would race it). */
void mbox_init(void)
{
	mail_init();
}

void patch_series_init(struct patch_series *s)
{
	memset(s, 0, sizeof(*s));
}

static void patch_mail_release(struct patch_mail *p)
{
	free(p->author_name);
	free(p->author_email);
	free(p->subject);
	free(p->message);
	free(p->diff);
	memset(p, 0, sizeof(*p));
}

void patch_series_release(struct patch_series *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->count; i++)
		patch_mail_release(&s->patches[i]);
	free(s->patches);
	patch_series_init(s);
}

/* ---- Splitting an mbox: git mailsplit's rules, as git am runs it ---- */

/* git mailsplit's is_from_line(): a separator is "From " and, before the line's
 * end, "d?dd:dd" with a year above 90 after it ("From <sha> Mon Sep 17 00:00:00
 * 2001", "From a@b Tue Oct  3 14:05:09 2023"). A sentence that starts with "From "
 * is not one. line has len bytes, its '\n' included when there is one. */
static int is_from_line(const char *line, size_t len)
{
	const char *colon, *after = line + 5;
	char year[24];
	size_t n;

	if (len < 20 || memcmp(line, "From ", 5))
		return 0;
	colon = line + len - 2;
	for (;;) {
		if (colon < after)
			return 0;
		if (*--colon == ':')
			break;
	}
	if (!isdigit((unsigned char)colon[-4]) || !isdigit((unsigned char)colon[-2]) ||
	    !isdigit((unsigned char)colon[-1]) || !isdigit((unsigned char)colon[1]) ||
	    !isdigit((unsigned char)colon[2]))
		return 0;
	n = (size_t)(line + len - (colon + 3));
	if (n >= sizeof(year))
		n = sizeof(year) - 1;
	memcpy(year, colon + 3, n);
	year[n] = '\0';
	return strtol(year, NULL, 10) > 90;
}

struct span {
	size_t start, len;
};

/* Splits a document as `git mailsplit -b` (what git am runs) does: leading white
 * space is skipped; when the first line is not a separator the whole document is
 * one mail, else a mail starts at each separator line (left out of text). A line
 * ending in CRLF ends in LF (git am without --keep-cr); ">From " lines stay as
 * they are (git am's default mbox format, not mboxrd). Appends the mails to text
 * and their places to *spans (the caller frees it); returns their number. */
static size_t mbox_split(struct buf *text, struct span **spans, const char *data, size_t len)
{
	size_t i = 0, n = 0;
	int bare;
	const char *nl;

	*spans = NULL;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (i == len)
		return 0;
	nl = memchr(data + i, '\n', len - i);
	bare = !is_from_line(data + i, nl ? (size_t)(nl - data - i) + 1 : len - i);
	if (bare) {
		*spans = xmalloc(sizeof(**spans));
		(*spans)[0].start = 0;
		n = 1;
	}
	while (i < len) {
		size_t ll;

		nl = memchr(data + i, '\n', len - i);
		ll = nl ? (size_t)(nl - data - i) + 1 : len - i;
		if (!bare && is_from_line(data + i, ll)) {
			if (n)
				(*spans)[n - 1].len = text->len - (*spans)[n - 1].start;
			*spans = xrealloc(*spans, (n + 1) * sizeof(**spans));
			(*spans)[n++].start = text->len;
		} else if (ll > 1 && data[i + ll - 1] == '\n' && data[i + ll - 2] == '\r') {
			buf_append(text, data + i, ll - 2);
			buf_putc(text, '\n');
		} else {
			buf_append(text, data + i, ll);
		}
		i += ll;
	}
	(*spans)[n - 1].len = text->len - (*spans)[n - 1].start;
	return n;
}

/* ---- format=flowed (RFC 3676), undone as git mailinfo does ---- */

struct flowed {
	struct buf *prev; /* text of soft-broken lines waiting for their end */
	int on, delsp;
	void (*emit)(void *ctx, const char *line, size_t len);
	void *ctx;
};

/* git mailinfo's handle_filter_flowed(): one line (with its '\n') of a part. The
 * signature separator "-- " stays; a space-stuffed line loses its first space; a
 * line ending in a space is a soft break: it waits in prev (without that space
 * under DelSp=yes) and the next hard line ends it. */
static void flowed_line(struct flowed *f, const char *line, size_t len)
{
	size_t n = len;

	if (!f->on) {
		f->emit(f->ctx, line, len);
		return;
	}
	if (n && line[n - 1] == '\n') {
		n--;
		if (n && line[n - 1] == '\r')
			n--;
	}
	if (n == 3 && !memcmp(line, "-- ", 3)) {
		if (f->prev->len) {
			f->emit(f->ctx, f->prev->data, f->prev->len);
			buf_reset(f->prev);
		}
		f->emit(f->ctx, line, len);
		return;
	}
	if (n && line[0] == ' ') {
		line++;
		len--;
		n--;
	}
	if (n && line[n - 1] == ' ') {
		buf_append(f->prev, line, n - (f->delsp ? 1 : 0));
		return;
	}
	if (f->prev->len) {
		buf_append(f->prev, line, len);
		f->emit(f->ctx, f->prev->data, f->prev->len);
		buf_reset(f->prev);
		return;
	}
	f->emit(f->ctx, line, len);
}

static void unflow_emit(void *ctx, const char *line, size_t len)
{
	buf_append(ctx, line, len);
}

void mbox_unflow(struct buf *out, const char *text, size_t len, int delsp)
{
	struct buf prev = BUF_INIT(0);
	struct flowed f = {&prev, 1, delsp, unflow_emit, out};

	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t ll = nl ? (size_t)(nl - text) + 1 : len;

		flowed_line(&f, text, ll);
		text += ll;
		len -= ll;
	}
	buf_release(&prev); /* git drops soft-broken text that no line ends */
}

/* ---- Reading a mail's body: git mailinfo's rules ---- */

enum { HDR_FROM, HDR_SUBJECT, HDR_DATE, HDR_N };
static const char *const hdr_names[HDR_N] = {"From", "Subject", "Date"};

struct mailinfo {
	int filter_stage; /* 0: the commit message; 1: the patch */
	int header_stage; /* in-body headers may still come */
	int use_scissors;
	struct buf accum;    /* an in-body header and its continuation lines */
	char *inbody[HDR_N]; /* in-body headers, decoded (UTF-8) */
	struct buf log;	     /* the commit message, UTF-8 */
	struct buf patch;    /* from the patch break on, bytes as sent */
	size_t patch_lines;
	const char *charset; /* of the part being read; NULL: taken as it is */
	struct buf prev;     /* a partial decoded line, or soft-broken flowed text */
	char error[160];     /* the first problem ("" when none) */
};

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* git's cmp_header(): "Name:" then white space, the name in any case. */
static int cmp_header(const char *l, size_t len, const char *name)
{
	size_t n = strlen(name);

	return !strncasecmp(l, name, n) && len > n && l[n] == ':' &&
	       isspace((unsigned char)l[n + 1]);
}

/* git's patchbreak(): "diff -", "Index: ", "--- <file>" or "---" and white space. */
static int patchbreak(const char *l, size_t len)
{
	if (starts(l, "diff -") || starts(l, "Index: "))
		return 1;
	if (len < 4 || !starts(l, "---"))
		return 0;
	if (l[3] == ' ' && !isspace((unsigned char)l[4]))
		return 1;
	for (size_t i = 3; i < len; i++) {
		if (l[i] == '\n')
			return 1;
		if (!isspace((unsigned char)l[i]))
			break;
	}
	return 0;
}

/* git's is_scissors_line(): "-- >8 --" and the like ("8<", ">%", "%<"), at least
 * 8 visible bytes, the perforation more than a third of them, dashes and
 * scissors more than half of the perforation. */
static int is_scissors_line(const char *line)
{
	const char *c, *first = NULL, *last = NULL;
	int scissors = 0, gap = 0, visible, perforation = 0, in_perforation = 0;

	for (c = line; *c; c++) {
		if (isspace((unsigned char)*c)) {
			if (in_perforation) {
				perforation++;
				gap++;
			}
			continue;
		}
		last = c;
		if (first == NULL)
			first = c;
		if (*c == '-') {
			in_perforation = 1;
			perforation++;
			continue;
		}
		if (!strncmp(c, ">8", 2) || !strncmp(c, "8<", 2) || !strncmp(c, ">%", 2) ||
		    !strncmp(c, "%<", 2)) {
			in_perforation = 1;
			perforation += 2;
			scissors += 2;
			c++;
			continue;
		}
		in_perforation = 0;
	}
	visible = first && last ? (int)(last - first) + 1 : 0;
	return scissors && 8 <= visible && visible < perforation * 3 && gap * 2 < perforation;
}

/* git's is_format_patch_separator(): exactly "From <40 hex> Mon Sep 17 00:00:00 2001". */
static int is_format_patch_separator(const char *l, size_t len)
{
	static const char sample[] =
	    "From e6807f3efca28b30decfecb1732a56c7db1137ee Mon Sep 17 00:00:00 2001\n";

	return len == sizeof(sample) - 1 && starts(l, "From ") &&
	       strspn(l + 5, "0123456789abcdef") == 40 && !strncmp(l + 45, sample + 45, len - 45);
}

static void inbody_flush(struct mailinfo *mi)
{
	if (mi->accum.len == 0)
		return;
	for (int i = 0; i < HDR_N; i++) {
		size_t n = strlen(hdr_names[i]);

		if (mi->inbody[i] == NULL &&
		    cmp_header(mi->accum.data, mi->accum.len, hdr_names[i])) {
			char *v = g_mime_utils_header_decode_text(NULL, mi->accum.data + n + 2);

			mi->inbody[i] = xstrdup(v ? v : "");
			g_free(v);
			break;
		}
	}
	buf_reset(&mi->accum);
}

/* git's check_inbody_header(): 1 while the line belongs to in-body headers. */
static int inbody_header(struct mailinfo *mi, const char *l, size_t len)
{
	if (mi->accum.len && (l[0] == ' ' || l[0] == '\t')) {
		if (mi->use_scissors && is_scissors_line(l)) {
			inbody_flush(mi);
			return 0;
		}
		if (mi->accum.data[mi->accum.len - 1] == '\n')
			mi->accum.data[--mi->accum.len] = '\0';
		buf_append(&mi->accum, l, len);
		return 1;
	}
	inbody_flush(mi);
	if (starts(l, ">From") && isspace((unsigned char)l[5]))
		return is_format_patch_separator(l + 1, len - 1);
	if (starts(l, "[PATCH]") && isspace((unsigned char)l[7])) {
		free(mi->inbody[HDR_SUBJECT]);
		mi->inbody[HDR_SUBJECT] = xstrdup(l);
		return 1;
	}
	for (int i = 0; i < HDR_N; i++) {
		if (mi->inbody[i] == NULL && cmp_header(l, len, hdr_names[i])) {
			buf_append(&mi->accum, l, len);
			return 1;
		}
	}
	return 0;
}

static int charset_is_utf8(const char *cs)
{
	return !g_ascii_strcasecmp(cs, "utf-8") || !g_ascii_strcasecmp(cs, "utf8");
}

/* git's handle_commit_msg(): 1 when the line starts the patch. */
static int commit_line(struct mailinfo *mi, const char *l, size_t len)
{
	char *conv = NULL;

	if (mi->header_stage && (len == 0 || (len == 1 && l[0] == '\n'))) {
		if (mi->accum.len) {
			inbody_flush(mi);
			mi->header_stage = 0;
		}
		return 0;
	}
	if (mi->header_stage) {
		mi->header_stage = inbody_header(mi, l, len);
		if (mi->header_stage)
			return 0;
	}
	/* The commit message in UTF-8, from the part's charset (GMime's iconv). */
	if (mi->charset && *mi->charset && !charset_is_utf8(mi->charset)) {
		iconv_t cd = g_mime_iconv_open("UTF-8", mi->charset);

		if (cd != (iconv_t)-1) {
			conv = g_mime_iconv_strndup(cd, l, len);
			g_mime_iconv_close(cd);
		}
		if (conv == NULL) {
			if (mi->error[0] == '\0')
				snprintf(mi->error, sizeof(mi->error),
					 "the message cannot be converted from %.40s to UTF-8",
					 mi->charset);
			return 0;
		}
		l = conv;
		len = strlen(conv);
	}
	if (mi->use_scissors && is_scissors_line(l)) {
		buf_reset(&mi->log);
		mi->header_stage = 1;
		for (int i = 0; i < HDR_N; i++) {
			free(mi->inbody[i]);
			mi->inbody[i] = NULL;
		}
		g_free(conv);
		return 0;
	}
	if (patchbreak(l, len)) {
		g_free(conv);
		return 1;
	}
	buf_append(&mi->log, l, len);
	g_free(conv);
	return 0;
}

/* git's handle_filter(): the message until the patch break, then the patch. */
static void mi_filter(void *ctx, const char *line, size_t len)
{
	struct mailinfo *mi = ctx;

	if (mi->filter_stage == 0) {
		/* The line as a C string, as git reads it. */
		char *l = xstrndup(line, len);
		int brk = commit_line(mi, l, strlen(l));

		free(l);
		if (!brk)
			return;
		mi->filter_stage = 1;
	}
	if (buf_append(&mi->patch, line, len) == 0)
		mi->patch_lines++;
}

static const char *ct_param(GMimeObject *obj, const char *name)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct ? g_mime_content_type_get_parameter(ct, name) : NULL;
}

/* Whether a leaf part is read: text, a patch or diff, or an octet-stream (as
 * mail clients attach a .patch). git reads every part; xenci leaves out images
 * and other binary attachments, which cannot be part of a text patch. */
static int part_is_candidate(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *type, *sub;

	if (ct == NULL)
		return 1;
	type = g_mime_content_type_get_media_type(ct);
	sub = g_mime_content_type_get_media_subtype(ct);
	if (type && !g_ascii_strcasecmp(type, "text"))
		return 1;
	if (sub && (strstr(sub, "patch") || strstr(sub, "diff")))
		return 1;
	return type && sub && !g_ascii_strcasecmp(type, "application") &&
	       !g_ascii_strcasecmp(sub, "octet-stream");
}

/* The bytes of a part's content: as sent (encoded), or decoded. */
static GByteArray *part_bytes(GMimePart *part, int decoded, GMimeStream **mem)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);

	*mem = g_mime_stream_mem_new();
	if (w == NULL)
		return g_mime_stream_mem_get_byte_array((GMimeStreamMem *)*mem);
	if (decoded) {
		g_mime_data_wrapper_write_to_stream(w, *mem);
	} else {
		GMimeStream *raw = g_mime_data_wrapper_get_stream(w);

		g_mime_stream_reset(raw);
		g_mime_stream_write_to_stream(raw, *mem);
		g_mime_stream_reset(raw);
	}
	return g_mime_stream_mem_get_byte_array((GMimeStreamMem *)*mem);
}

/* git mailinfo's handle_body() for one leaf part: each line as sent is decoded
 * (quoted-printable, base64) with GMime, a partial decoded line waits for the
 * next, and format=flowed is undone. inner: a part of a multipart (git flushes
 * what waits at its boundary; at the end of a single-part body it drops it). */
static void mi_part(struct mailinfo *mi, GMimeObject *obj, int inner)
{
	GMimePart *part = (GMimePart *)obj;
	GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
	GMimeStream *mem = NULL;
	GByteArray *ba;
	GMimeEncoding st;
	const char *fmt = ct_param(obj, "format"), *delsp = ct_param(obj, "delsp");
	struct flowed f = {&mi->prev, fmt && !g_ascii_strcasecmp(fmt, "flowed"),
			   delsp && !g_ascii_strcasecmp(delsp, "yes"), mi_filter, mi};
	int decode =
	    enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	const char *p;
	size_t left;

	if (!part_is_candidate(obj))
		return;
	/* A part whose decoded bytes hold a NUL is binary, not a patch. */
	ba = part_bytes(part, 1, &mem);
	if (ba->len && memchr(ba->data, '\0', ba->len)) {
		g_object_unref(mem);
		return;
	}
	g_object_unref(mem);
	ba = part_bytes(part, 0, &mem);
	if (inner && ba->len && ba->data[ba->len - 1] != '\n')
		g_byte_array_append(ba, (const guint8 *)"\n", 1);
	mi->charset = ct_param(obj, "charset");
	if (decode)
		g_mime_encoding_init_decode(&st, enc);
	p = (const char *)ba->data;
	left = ba->len;
	while (left) {
		const char *nl = memchr(p, '\n', left);
		size_t ll = nl ? (size_t)(nl - p) + 1 : left;

		if (!decode) {
			flowed_line(&f, p, ll);
		} else {
			char *out = xmalloc(g_mime_encoding_outlen(&st, ll) + 1);
			size_t n = g_mime_encoding_step(&st, p, ll, out);
			const char *q;

			/* What waits is put in front; each whole line goes on. */
			buf_append(&mi->prev, out, n);
			free(out);
			out = buf_detach(&mi->prev, &n);
			q = out;
			while (n) {
				const char *e = memchr(q, '\n', n);

				if (e == NULL) {
					buf_append(&mi->prev, q, n);
					break;
				}
				flowed_line(&f, q, (size_t)(e - q) + 1);
				n -= (size_t)(e - q) + 1;
				q = e + 1;
			}
			free(out);
		}
		p += ll;
		left -= ll;
	}
	if (inner && mi->prev.len)
		mi_filter(mi, mi->prev.data, mi->prev.len);
	buf_reset(&mi->prev);
	mi->charset = NULL;
	g_object_unref(mem);
}

/* Every leaf part in order, as git reads a multipart body from boundary to
 * boundary. */
static void mi_walk(struct mailinfo *mi, GMimeObject *obj, int inner)
{
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = (GMimeMultipart *)obj;
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			mi_walk(mi, g_mime_multipart_get_part(mp, i), 1);
		/* git's end boundary gives one line end. */
		mi_filter(mi, "\n", 1);
	} else if (GMIME_IS_PART(obj)) {
		mi_part(mi, obj, inner);
	}
}

static void mi_release(struct mailinfo *mi)
{
	buf_release(&mi->accum);
	buf_release(&mi->log);
	buf_release(&mi->patch);
	buf_release(&mi->prev);
	for (int i = 0; i < HDR_N; i++)
		free(mi->inbody[i]);
}

/* git's cleanup_subject() and cleanup_space(): "Re:", ':', blanks and every
 * "[...]" group in front go; white space runs become one space. The last "n/m"
 * in those groups gives number and total. Returns a new string. */
static char *subject_clean(const char *subj, int *number, int *total)
{
	const char *p = subj ? subj : "";
	struct buf b = BUF_INIT(0);

	*number = *total = 0;
	for (;;) {
		if ((p[0] == 'r' || p[0] == 'R') && (p[1] == 'e' || p[1] == 'E') && p[2] == ':' &&
		    p[3] != '\0') {
			p += 3;
		} else if (*p == ' ' || *p == '\t' || *p == ':') {
			p++;
		} else if (*p == '[' && strchr(p, ']')) {
			const char *end = strchr(p, ']');

			for (const char *q = p + 1; q < end; q++) {
				int n, m, used = 0;

				if ((q == p + 1 || q[-1] == ' ') &&
				    sscanf(q, "%d/%d%n", &n, &m, &used) == 2 && q + used <= end &&
				    n >= 0 && m > 0 && n <= m) {
					*number = n;
					*total = m;
				}
			}
			p = end + 1;
		} else {
			break;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	for (; *p; p++) {
		if (isspace((unsigned char)*p)) {
			while (isspace((unsigned char)p[1]))
				p++;
			if (p[1] == '\0')
				break;
			buf_putc(&b, ' ');
			continue;
		}
		buf_putc(&b, *p);
	}
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

/* Where the diff starts in a patch: the first "diff --git " line, or a "--- "
 * line followed by a "+++ " line. NULL when there is none. */
static const char *find_diff(const char *text)
{
	const char *l = text;

	while (l && *l) {
		const char *next = strchr(l, '\n');

		if (starts(l, "diff --git "))
			return l;
		if (starts(l, "--- ") && next && starts(next + 1, "+++ "))
			return l;
		l = next ? next + 1 : NULL;
	}
	return NULL;
}

/* git's strbuf_stripspace(): trailing white space off every line, no blank line
 * at either end, runs of blank lines made one. */
static void stripspace(struct buf *out, const char *s)
{
	int any = 0, empties = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t ll = nl ? (size_t)(nl - s) : strlen(s), n = ll;

		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (n == 0) {
			empties += any;
		} else {
			if (empties)
				buf_putc(out, '\n');
			empties = 0;
			any = 1;
			buf_append(out, s, n);
			buf_putc(out, '\n');
		}
		s += ll + (nl ? 1 : 0);
	}
}

static int date_from(GDateTime *dt, struct patch_mail *p)
{
	if (dt == NULL)
		return -1;
	p->time = g_date_time_to_unix(dt);
	p->tz_minutes = (int)(g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE);
	return 0;
}

/* The first mailbox of list as the author; git's get_sane_name(): a name under
 * 3 or over 60 bytes, or with '@', '<' or '>', gives way to the address. */
static int author_from(InternetAddressList *list, struct patch_mail *p)
{
	InternetAddress *ia;
	const char *name, *addr;
	size_t nl;

	if (list == NULL || internet_address_list_length(list) < 1)
		return -1;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return -1;
	addr = internet_address_mailbox_get_addr((InternetAddressMailbox *)ia);
	name = internet_address_get_name(ia);
	if (addr == NULL || *addr == '\0')
		return -1;
	nl = name ? strlen(name) : 0;
	if (nl < 3 || nl > 60 || strpbrk(name, "@<>"))
		name = addr;
	free(p->author_email);
	free(p->author_name);
	p->author_email = xstrdup(addr);
	p->author_name = xstrdup(name);
	return 0;
}

enum mail_kind { MAIL_PATCH, MAIL_NODIFF };

/* Turns one parsed message into p as git mailinfo and git am would: the body's
 * in-body headers, the commit message up to the patch break (in UTF-8) and the
 * patch after it (bytes as sent). Returns MAIL_PATCH, MAIL_NODIFF (p then has
 * its subject only), or -1 with err. */
static int mail_take(GMimeMessage *msg, struct patch_mail *p, int scissors, char *err,
		     size_t errlen)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	struct mailinfo mi;
	struct buf m = BUF_INIT(0), msgbuf = BUF_INIT(0);
	const char *subject, *diff;
	int ret = -1;

	memset(&mi, 0, sizeof(mi));
	mi.header_stage = 1;
	mi.use_scissors = scissors;
	buf_init(&mi.log, 4 * (size_t)MBOX_MAX_SIZE);
	buf_init(&mi.patch, MBOX_MAX_SIZE);
	if (top)
		mi_walk(&mi, top, 0);
	inbody_flush(&mi);

	if (mi.patch_lines && mi.inbody[HDR_SUBJECT])
		subject = mi.inbody[HDR_SUBJECT];
	else
		subject = g_mime_message_get_subject(msg);
	p->subject = subject_clean(subject, &p->number, &p->total);
	if (mi.patch_lines && mi.inbody[HDR_FROM]) {
		InternetAddressList *list = internet_address_list_parse(NULL, mi.inbody[HDR_FROM]);

		if (list == NULL || author_from(list, p) < 0) {
			p->author_name = xstrdup("");
			p->author_email = xstrdup("");
		}
		if (list)
			g_object_unref(list);
	} else if (author_from(g_mime_message_get_from(msg), p) < 0) {
		p->author_name = xstrdup("");
		p->author_email = xstrdup("");
	}
	if (mi.patch_lines && mi.inbody[HDR_DATE]) {
		GDateTime *dt = g_mime_utils_header_decode_date(mi.inbody[HDR_DATE]);

		if (date_from(dt, p) < 0)
			p->time = (long long)time(NULL);
		if (dt)
			g_date_time_unref(dt);
	} else if (date_from(g_mime_message_get_date(msg), p) < 0) {
		p->time = (long long)time(NULL);
		p->tz_minutes = 0;
	}
	if (strlen(p->subject) > MBOX_MAX_HEADER || strlen(p->author_name) > MBOX_MAX_HEADER ||
	    strlen(p->author_email) > MBOX_MAX_HEADER) {
		errmsg_set(err, errlen, "a header is longer than %d bytes", MBOX_MAX_HEADER);
		goto out;
	}
	diff = mi.patch_lines ? find_diff(buf_cstr(&mi.patch)) : NULL;
	if (diff == NULL) {
		ret = MAIL_NODIFF;
		goto out;
	}
	if (mi.error[0]) {
		errmsg_set(err, errlen, "\"%s\": %s", p->subject, mi.error);
		goto out;
	}
	if (*p->author_email == '\0') {
		errmsg_set(err, errlen, "\"%s\": no author (a From: header with an address)",
			   p->subject);
		goto out;
	}
	/* git am: the subject, a blank line, the message; stripspace. */
	buf_puts(&m, p->subject);
	buf_puts(&m, "\n\n");
	buf_puts(&m, buf_cstr(&mi.log));
	stripspace(&msgbuf, buf_cstr(&m));
	p->message = msgbuf.data ? buf_detach(&msgbuf, NULL) : xstrdup("\n");
	p->diff_len = mi.patch.len - (size_t)(diff - mi.patch.data);
	p->diff = xmalloc(p->diff_len + 2);
	memcpy(p->diff, diff, p->diff_len);
	if (p->diff_len && diff[p->diff_len - 1] != '\n')
		p->diff[p->diff_len++] = '\n';
	p->diff[p->diff_len] = '\0';
	ret = MAIL_PATCH;
out:
	mi_release(&mi);
	buf_release(&m);
	buf_release(&msgbuf);
	return ret;
}

/* git mailinfo's is_rfc2822_header() on a mail's first line: an mbox "From "
 * line, or a field name (printable ASCII but ':') and a colon. */
static int is_rfc2822_header(const char *l, size_t len)
{
	if ((len >= 5 && !memcmp(l, "From ", 5)) || (len >= 6 && !memcmp(l, ">From ", 6)))
		return 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == ':')
			return 1;
		if (c < 33 || c > 126)
			return 0;
	}
	return 0;
}

int patch_series_add(struct patch_series *s, const char *name, const char *data, size_t len,
		     char *err, size_t errlen)
{
	struct buf text = BUF_INIT(0);
	struct span *spans = NULL;
	struct patch_mail *got = NULL;
	size_t ngot = 0, nmails;
	int cover_pending = 0, ret = -1;
	char cover_subject[128] = "";

	mbox_init();
	if (len > MBOX_MAX_SIZE - s->bytes) {
		errmsg_set(err, errlen, "%s: the series is larger than %d MiB", name,
			   MBOX_MAX_SIZE >> 20);
		return -1;
	}
	nmails = mbox_split(&text, &spans, data, len);
	if (nmails == 0) {
		errmsg_set(err, errlen, "%s: empty file, not a patch", name);
		return -1;
	}
	for (size_t i = 0; i < nmails; i++) {
		const char *mail = text.data ? text.data + spans[i].start : "";
		GMimeStream *stream = g_mime_stream_mem_new();
		GMimeParser *parser;
		GMimeMessage *msg;
		struct patch_mail p;
		char merr[256];
		int kind;

		/* A mail that does not open with a header is all body (git mailinfo). */
		if (!is_rfc2822_header(mail, spans[i].len))
			g_mime_stream_write(stream, "\n", 1);
		g_mime_stream_write(stream, mail, spans[i].len);
		g_mime_stream_reset(stream);
		parser = g_mime_parser_new_with_stream(stream);
		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		msg = g_mime_parser_construct_message(parser, NULL);
		g_object_unref(parser);
		g_object_unref(stream);
		memset(&p, 0, sizeof(p));
		snprintf(p.source, sizeof(p.source), "%.64s, mail %zu", name, i + 1);
		if (msg == NULL) {
			errmsg_set(err, errlen, "%s: not a mail, not a patch", p.source);
			goto out;
		}
		kind = mail_take(msg, &p, s->scissors, merr, sizeof(merr));
		g_object_unref(msg);
		if (kind < 0) {
			errmsg_set(err, errlen, "%s: %s", p.source, merr);
			patch_mail_release(&p);
			goto out;
		}
		/* A cover letter: "[PATCH 0/N]" (even one that carries a diff, such as
		 * an interdiff), or a first mail without a diff among several. */
		if (p.number == 0 && p.total > 0) {
			s->skipped_covers++;
			patch_mail_release(&p);
			continue;
		}
		if (kind == MAIL_NODIFF) {
			if (i == 0 && nmails > 1) {
				cover_pending = 1;
				snprintf(cover_subject, sizeof(cover_subject), "%s", p.subject);
			} else if (nmails > 1) {
				errmsg_set(err, errlen,
					   "%s (\"%s\"): no diff in this mail, not a patch",
					   p.source, p.subject);
				patch_mail_release(&p);
				goto out;
			} else {
				snprintf(cover_subject, sizeof(cover_subject), "%s", p.subject);
			}
			patch_mail_release(&p);
			continue;
		}
		if (s->count + ngot >= MBOX_MAX_PATCHES) {
			errmsg_set(err, errlen, "%s: more than %d patches in one series", name,
				   MBOX_MAX_PATCHES);
			patch_mail_release(&p);
			goto out;
		}
		got = xrealloc(got, (ngot + 1) * sizeof(*got));
		got[ngot++] = p;
	}
	if (ngot == 0) {
		errmsg_set(err, errlen, "%s (\"%s\"): no diff found, not a patch", name,
			   cover_subject);
		goto out;
	}
	if (cover_pending)
		s->skipped_covers++;
	s->patches = xrealloc(s->patches, (s->count + ngot) * sizeof(*s->patches));
	memcpy(s->patches + s->count, got, ngot * sizeof(*got));
	s->count += ngot;
	s->bytes += len;
	ngot = 0;
	ret = 0;
out:
	for (size_t i = 0; i < ngot; i++)
		patch_mail_release(&got[i]);
	free(got);
	free(spans);
	buf_release(&text);
	return ret;
}

static int patch_cmp(const void *a, const void *b)
{
	const struct patch_mail *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

int patch_series_finish(struct patch_series *s, char *err, size_t errlen)
{
	int total;

	if (s->count == 0) {
		errmsg_set(err, errlen, "no patches in the series");
		return -1;
	}
	/* A numbered series ("[PATCH n/m]" on every patch, one m) is put in its order,
	 * as a mail client may have saved the thread in another; a gap is refused. */
	total = s->patches[0].total;
	for (size_t i = 0; i < s->count; i++)
		if (s->patches[i].number == 0 || s->patches[i].total != total)
			return 0;
	qsort(s->patches, s->count, sizeof(*s->patches), patch_cmp);
	for (size_t i = 0; i < s->count; i++) {
		if (s->patches[i].number != (int)i + 1) {
			errmsg_set(err, errlen, "patch %zu/%d of the series is missing", i + 1,
				   total);
			return -1;
		}
	}
	if ((size_t)total != s->count) {
		errmsg_set(err, errlen, "the series has %zu of %d patches: %zu/%d is missing",
			   s->count, total, s->count + 1, total);
		return -1;
	}
	return 0;
}
