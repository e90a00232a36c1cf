#include "mbox.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "xmalloc.h"

static pthread_once_t mbox_once = PTHREAD_ONCE_INIT;

static void mbox_init_once(void)
{
	g_mime_init();
}

void mbox_init(void)
{
	pthread_once(&mbox_once, mbox_init_once);
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

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A copy of data with every CRLF turned into LF, when the document's first line
 * ends with CRLF (a mail client saved it so); else a plain copy. */
static char *crlf_normalise(const char *data, size_t len, size_t *outlen)
{
	const char *nl = memchr(data, '\n', len);
	char *out = xmalloc(len + 1);
	size_t o = 0;

	if (nl == NULL || nl == data || nl[-1] != '\r') {
		memcpy(out, data, len);
		out[len] = '\0';
		*outlen = len;
		return out;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		out[o++] = data[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Strips "Re:" and every leading "[...]" group from a subject, reading "n/m" from
 * the groups; collapses white space. Returns a new string. */
static char *subject_clean(const char *subj, int *number, int *total)
{
	const char *p = subj ? subj : "";
	struct buf b = BUF_INIT(0);
	int space = 0;

	*number = *total = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!strncasecmp(p, "re:", 3)) {
			p += 3;
			continue;
		}
		if (*p == '[') {
			const char *end = strchr(p, ']');
			const char *q;

			if (end == NULL)
				break;
			/* The last "n/m" inside the brackets. */
			for (q = p + 1; q < end; q++) {
				int n, m, used = 0;

				if ((q == p + 1 || q[-1] == ' ') &&
				    sscanf(q, "%d/%d%n", &n, &m, &used) == 2 && q + used <= end &&
				    n >= 0 && m > 0 && n <= m) {
					*number = n;
					*total = m;
				}
			}
			p = end + 1;
			continue;
		}
		break;
	}
	for (; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			space = 1;
			continue;
		}
		if (space && b.len)
			buf_putc(&b, ' ');
		space = 0;
		buf_putc(&b, *p);
	}
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

/* The decoded bytes of one leaf part (transfer encoding undone; text parts
 * converted to UTF-8). Returns NULL for a part with NUL bytes. */
static char *part_text(GMimeObject *obj, size_t *len)
{
	GMimePart *part = (GMimePart *)obj;
	GMimeDataWrapper *w;
	GMimeStream *mem;
	GByteArray *ba;
	char *out = NULL, *raw;
	size_t rawlen;

	if (GMIME_IS_TEXT_PART(obj)) {
		const char *cs = g_mime_text_part_get_charset((GMimeTextPart *)obj);

		if (cs && g_ascii_strcasecmp(cs, "utf-8") && g_ascii_strcasecmp(cs, "us-ascii")) {
			char *t = g_mime_text_part_get_text((GMimeTextPart *)obj);

			if (t == NULL)
				return NULL;
			raw = crlf_normalise(t, strlen(t), len);
			g_free(t);
			return raw;
		}
	}
	w = g_mime_part_get_content(part);
	if (w == NULL) {
		*len = 0;
		return xstrdup("");
	}
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, mem);
	ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
	raw = (char *)ba->data;
	rawlen = ba->len;
	if (rawlen == 0 || memchr(raw, '\0', rawlen) == NULL)
		out = crlf_normalise(rawlen ? raw : "", rawlen, len);
	g_object_unref(mem);
	return out;
}

static int part_is_candidate(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *type, *sub;

	if (!GMIME_IS_PART(obj) || ct == NULL)
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

static int line_starts(const char *line, const char *prefix)
{
	return !strncmp(line, prefix, strlen(prefix));
}

/* Where the diff starts in text: the first "diff --git " line, or a "--- " line
 * followed by a "+++ " line. NULL when there is none. */
static const char *find_diff(const char *text)
{
	const char *l = text;

	while (l && *l) {
		const char *next = strchr(l, '\n');

		if (line_starts(l, "diff --git "))
			return l;
		if (line_starts(l, "--- ") && next && line_starts(next + 1, "+++ "))
			return l;
		l = next ? next + 1 : NULL;
	}
	return NULL;
}

/* The end of the commit message in a body: the "---" line before the diffstat,
 * or the diff itself. */
static const char *find_message_end(const char *body, const char *diff)
{
	const char *l = body;

	while (l && *l && (diff == NULL || l < diff)) {
		const char *next = strchr(l, '\n');
		size_t n = next ? (size_t)(next - l) : strlen(l);

		while (n > 3 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
			n--;
		if (n == 3 && !strncmp(l, "---", 3))
			return l;
		l = next ? next + 1 : NULL;
	}
	return diff ? diff : body + strlen(body);
}

static void trim_trailing(struct buf *b)
{
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' ' ||
			  b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
}

static int date_from(GDateTime *dt, struct patch_mail *p)
{
	if (dt == NULL)
		return -1;
	p->time = g_date_time_to_unix(dt);
	p->tz_minutes = (int)(g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE);
	return 0;
}

static int author_from(InternetAddressList *list, struct patch_mail *p)
{
	InternetAddress *ia;
	const char *name, *addr;

	if (list == NULL || internet_address_list_length(list) < 1)
		return -1;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return -1;
	addr = internet_address_mailbox_get_addr((InternetAddressMailbox *)ia);
	name = internet_address_get_name(ia);
	if (addr == NULL || *addr == '\0')
		return -1;
	free(p->author_email);
	free(p->author_name);
	p->author_email = xstrdup(addr);
	p->author_name = xstrdup(name && *name ? name : addr);
	return 0;
}

/* In-body headers ("From:", "Date:", "Subject:" lines opening the body, then a
 * blank line), as git am honours them when the sender is not the author.
 * Returns where the real body starts. */
static const char *inbody_headers(const char *body, struct patch_mail *p, char **subject)
{
	const char *l = body;
	int seen = 0;

	while (*l == '\n')
		l++;
	for (;;) {
		const char *next = strchr(l, '\n');
		char *val;
		size_t n;

		if (next == NULL)
			return body;
		n = (size_t)(next - l);
		if (!line_starts(l, "From: ") && !line_starts(l, "Date: ") &&
		    !line_starts(l, "Subject: "))
			break;
		val = xstrndup(strchr(l, ' ') + 1, n - (size_t)(strchr(l, ' ') + 1 - l));
		if (line_starts(l, "From: ")) {
			InternetAddressList *list = internet_address_list_parse(NULL, val);

			if (list) {
				author_from(list, p);
				g_object_unref(list);
			}
		} else if (line_starts(l, "Date: ")) {
			GDateTime *dt = g_mime_utils_header_decode_date(val);

			if (dt) {
				date_from(dt, p);
				g_date_time_unref(dt);
			}
		} else {
			free(*subject);
			*subject = xstrdup(val);
		}
		free(val);
		seen = 1;
		l = next + 1;
	}
	if (!seen)
		return body;
	return l;
}

enum mail_kind { MAIL_PATCH, MAIL_NODIFF };

/* Turns one parsed message into p. Returns MAIL_PATCH, MAIL_NODIFF (p then has
 * its subject only), or -1 with err. */
/* Undoes a mail client's mbox escaping in place: a body line ">From " (or
 * ">>From ", mboxrd) loses one '>'. A diff line never starts with '>'. */
static void mbox_unescape(char *text)
{
	char *r = text, *w = text;
	int bol = 1;

	while (*r) {
		if (bol && *r == '>') {
			const char *q = r;

			while (*q == '>')
				q++;
			if (!strncmp(q, "From ", 5))
				r++;
		}
		bol = *r == '\n';
		*w++ = *r++;
	}
	*w = '\0';
}

static int mail_take(GMimeMessage *msg, struct patch_mail *p, int mbox, char *err, size_t errlen)
{
	GMimePartIter *it = NULL;
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	char *body = NULL, *diffsrc = NULL, *subject = NULL;
	const char *diff, *start, *end, *s;
	struct buf m = BUF_INIT(0);
	size_t len;
	int ret = -1;

	s = g_mime_message_get_subject(msg);
	subject = xstrdup(s ? s : "");
	if (author_from(g_mime_message_get_from(msg), p) < 0) {
		p->author_name = xstrdup("");
		p->author_email = xstrdup("");
	}
	if (date_from(g_mime_message_get_date(msg), p) < 0) {
		p->time = (long long)time(NULL);
		p->tz_minutes = 0;
	}
	if (top == NULL) {
		body = xstrdup("");
	} else if (!GMIME_IS_MULTIPART(top)) {
		body = part_text(top, &len);
		if (body == NULL) {
			seterr(err, errlen, "the mail's body is binary, not a patch");
			goto out;
		}
	} else {
		it = g_mime_part_iter_new(top);
		do {
			GMimeObject *o = g_mime_part_iter_get_current(it);
			char *t;

			if (o == NULL || GMIME_IS_MULTIPART(o) || !part_is_candidate(o))
				continue;
			t = part_text(o, &len);
			if (t == NULL)
				continue;
			if (body == NULL) {
				body = t;
			} else if (diffsrc == NULL && find_diff(body) == NULL && find_diff(t)) {
				diffsrc = t;
			} else {
				free(t);
			}
		} while (g_mime_part_iter_next(it));
		if (body == NULL)
			body = xstrdup("");
	}

	if (mbox)
		mbox_unescape(body);
	start = inbody_headers(body, p, &subject);
	diff = find_diff(diffsrc ? diffsrc : start);
	p->subject = subject_clean(subject, &p->number, &p->total);
	if (strlen(p->subject) > MBOX_MAX_HEADER || strlen(p->author_name) > MBOX_MAX_HEADER ||
	    strlen(p->author_email) > MBOX_MAX_HEADER) {
		seterr(err, errlen, "a header is longer than %d bytes", MBOX_MAX_HEADER);
		goto out;
	}
	if (diff == NULL) {
		ret = MAIL_NODIFF;
		goto out;
	}
	if (*p->author_email == '\0') {
		seterr(err, errlen, "\"%s\": no author (a From: header with an address)",
		       p->subject);
		goto out;
	}
	end = find_message_end(start, diffsrc ? NULL : diff);
	while (*start == '\n')
		start++;
	buf_puts(&m, p->subject);
	buf_puts(&m, "\n");
	if (end > start) {
		buf_puts(&m, "\n");
		buf_append(&m, start, (size_t)(end - start));
		trim_trailing(&m);
		buf_putc(&m, '\n');
	}
	p->message = buf_detach(&m, NULL);
	/* In an mbox the line end before the next "From " line belongs to it. */
	p->diff_len = strlen(diff);
	p->diff = xmalloc(p->diff_len + 2);
	memcpy(p->diff, diff, p->diff_len);
	if (p->diff_len && diff[p->diff_len - 1] != '\n')
		p->diff[p->diff_len++] = '\n';
	p->diff[p->diff_len] = '\0';
	ret = MAIL_PATCH;
out:
	if (ret != MAIL_PATCH && p->subject == NULL)
		p->subject = subject_clean(subject, &p->number, &p->total);
	free(subject);
	free(body);
	free(diffsrc);
	if (it)
		g_mime_part_iter_free(it);
	buf_release(&m);
	return ret;
}

int patch_series_add(struct patch_series *s, const char *name, const char *data, size_t len,
		     char *err, size_t errlen)
{
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	struct patch_mail *got = NULL;
	size_t ngot = 0, nmails = 0, textlen, skip = 0;
	char *text = NULL;
	int mbox, cover_pending = 0, ret = -1;
	char cover_subject[128] = "";

	mbox_init();
	if (len > MBOX_MAX_SIZE - s->bytes) {
		seterr(err, errlen, "%s: the series is larger than %d MiB", name,
		       MBOX_MAX_SIZE >> 20);
		return -1;
	}
	while (skip < len && (data[skip] == '\n' || data[skip] == '\r'))
		skip++;
	if (skip == len) {
		seterr(err, errlen, "%s: empty file, not a patch", name);
		return -1;
	}
	text = crlf_normalise(data + skip, len - skip, &textlen);
	mbox = textlen > 5 && !strncmp(text, "From ", 5);
	stream = g_mime_stream_mem_new_with_buffer(text, textlen);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, mbox ? GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
	while (!g_mime_parser_eos(parser)) {
		GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
		struct patch_mail p;
		char merr[256];
		int kind;

		if (msg == NULL)
			break;
		nmails++;
		memset(&p, 0, sizeof(p));
		kind = mail_take(msg, &p, mbox, merr, sizeof(merr));
		g_object_unref(msg);
		snprintf(p.source, sizeof(p.source), "%.64s, mail %zu", name, nmails);
		if (kind < 0) {
			seterr(err, errlen, "%s: %s", p.source, merr);
			patch_mail_release(&p);
			goto out;
		}
		if (kind == MAIL_NODIFF) {
			/* A cover letter: "[PATCH 0/N]", or the first mail of several. */
			if (p.number == 0 && p.total > 0) {
				s->skipped_covers++;
			} else if (nmails == 1 && mbox) {
				cover_pending = 1;
				snprintf(cover_subject, sizeof(cover_subject), "%s", p.subject);
			} else {
				seterr(err, errlen,
				       "%s (\"%s\"): no diff in this mail, not a patch", p.source,
				       p.subject);
				patch_mail_release(&p);
				goto out;
			}
			patch_mail_release(&p);
			continue;
		}
		if (s->count + ngot >= MBOX_MAX_PATCHES) {
			seterr(err, errlen, "%s: more than %d patches in one series", name,
			       MBOX_MAX_PATCHES);
			patch_mail_release(&p);
			goto out;
		}
		got = xrealloc(got, (ngot + 1) * sizeof(*got));
		got[ngot++] = p;
		if (!mbox)
			break;
	}
	if (ngot == 0) {
		if (nmails == 0)
			seterr(err, errlen, "%s: no mail found, not a patch", name);
		else
			seterr(err, errlen, "%s (\"%s\"): no diff found, not a patch", name,
			       cover_subject[0] ? cover_subject : "");
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
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	free(text);
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
		seterr(err, errlen, "no patches in the series");
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
			seterr(err, errlen, "patch %zu/%d of the series is missing", i + 1, total);
			return -1;
		}
	}
	if ((size_t)total != s->count) {
		seterr(err, errlen, "the series has %zu of %d patches: %zu/%d is missing", s->count,
		       total, s->count + 1, total);
		return -1;
	}
	return 0;
}
