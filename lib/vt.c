#include "vt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

enum vt_state {
	VT_GROUND = 0,
	VT_ESC,	   /* after ESC, maybe intermediates */
	VT_CSI,	   /* after CSI: parameters and intermediates until the final byte */
	VT_STRING, /* OSC, DCS, SOS, PM, APC: until ST (or BEL for OSC) */
};

void vt_init(struct vt *v, size_t columns)
{
	memset(v, 0, sizeof(*v));
	v->max = columns;
	v->cells = xmalloc((columns ? columns : 1) * sizeof(*v->cells));
}

void vt_release(struct vt *v)
{
	if (v == NULL)
		return;
	free(v->cells);
	v->cells = NULL;
}

static void row_put(struct vt *v, uint32_t cp)
{
	if (v->cursor >= v->max) {
		v->dropped++;
		return;
	}
	while (v->len < v->cursor)
		v->cells[v->len++] = ' ';
	v->cells[v->cursor++] = cp;
	if (v->cursor > v->len)
		v->len = v->cursor;
}

/* The first numeric parameter of a CSI, or def when it is absent or 0. */
static size_t csi_param(const unsigned char *p, size_t n, size_t def)
{
	size_t v = 0, i;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		if (v < 100000)
			v = v * 10 + (size_t)(p[i] - '0');
	return v ? v : def;
}

/* A complete CSI with its parameter and intermediate bytes and its final byte.
 * Only what moves along or erases the row acts; everything else (SGR colours,
 * scrolling, modes) shows nothing. */
static void csi_do(struct vt *v, unsigned char final)
{
	const unsigned char *p = v->par;
	size_t n = v->npar, k, i;

	if (n && (p[0] == '?' || p[0] == '>' || p[0] == '<' || p[0] == '='))
		return; /* private sequences */
	switch (final) {
	case 'K': /* EL: 0 cursor to end, 1 start to cursor, 2 the whole row */
		k = csi_param(p, n, 0);
		if (k == 0) {
			if (v->cursor < v->len)
				v->len = v->cursor;
		} else if (k == 1 || k == 2) {
			size_t end = k == 2 ? v->len : v->cursor + 1;

			for (i = 0; i < end && i < v->len; i++)
				v->cells[i] = ' ';
		}
		break;
	case 'C': /* CUF */
		k = csi_param(p, n, 1);
		v->cursor = k > v->max - v->cursor ? v->max : v->cursor + k;
		break;
	case 'D': /* CUB */
		k = csi_param(p, n, 1);
		v->cursor = k > v->cursor ? 0 : v->cursor - k;
		break;
	case 'G': /* CHA: columns count from 1 */
		k = csi_param(p, n, 1) - 1;
		v->cursor = k > v->max ? v->max : k;
		break;
	default:
		break;
	}
}

/* A C0 control in the ground state, or inside a sequence (DEC's parser executes
 * them there too). */
static void c0_do(struct vt *v, uint32_t c)
{
	if (c == '\r')
		v->cursor = 0;
	else if (c == '\b')
		v->cursor -= v->cursor > 0;
	else if (c == '\t')
		row_put(v, '\t');
	/* NUL, BEL and the rest show nothing */
}

/* One code point (or, with invalid set, one byte that is not UTF-8, shown as
 * U+FFFD) of len input bytes. */
static void vt_step(struct vt *v, uint32_t cp, size_t len, int invalid)
{
	if (v->state != VT_GROUND) {
		v->seq_len += len;
		if (v->seq_len > VT_SEQ_MAX)
			v->state = VT_GROUND; /* too long: dropped, what follows shows */
	}
	/* CAN and SUB abort any sequence; ESC starts a new one from anywhere (in a
	 * string "ESC \" is its end, and any other ESC ends it too) */
	if (v->state != VT_GROUND && (cp == 0x18 || cp == 0x1a)) {
		v->state = VT_GROUND;
		return;
	}
	if (cp == 0x1b) {
		v->state = VT_ESC;
		v->seq_len = len;
		return;
	}
	/* C1 controls, as UTF-8 code points, introduce what their ESC forms do */
	if (cp >= 0x80 && cp <= 0x9f && !invalid) {
		if (v->state == VT_STRING) {
			if (cp == 0x9c)
				v->state = VT_GROUND;
			return;
		}
		v->seq_len = len;
		v->osc = cp == 0x9d;
		v->npar = 0;
		if (cp == 0x9b)
			v->state = VT_CSI;
		else if (cp == 0x9d || cp == 0x90 || cp == 0x98 || cp == 0x9e || cp == 0x9f)
			v->state = VT_STRING;
		else
			v->state = VT_GROUND; /* a single C1 control: shows nothing */
		return;
	}
	switch (v->state) {
	case VT_GROUND:
		if (cp < 0x20)
			c0_do(v, cp);
		else if (cp != 0x7f)
			row_put(v, invalid ? 0xfffd : cp);
		break;
	case VT_ESC:
		if (cp < 0x20) {
			c0_do(v, cp);
		} else if (cp <= 0x2f) {
			/* intermediate: "ESC ( B" and the like go on */
		} else if (cp == '[' && v->seq_len == 2) {
			v->state = VT_CSI;
			v->npar = 0;
		} else if ((cp == ']' || cp == 'P' || cp == 'X' || cp == '^' || cp == '_') &&
			   v->seq_len == 2) {
			v->state = VT_STRING;
			v->osc = cp == ']';
		} else if (cp < 0x7f) {
			v->state = VT_GROUND; /* the final byte: "ESC 7", "ESC c", "ESC \" */
		} else if (cp > 0x7f) {
			v->state = VT_GROUND; /* not a sequence after all: the text shows */
			row_put(v, invalid ? 0xfffd : cp);
		}
		break;
	case VT_CSI:
		if (cp < 0x20) {
			c0_do(v, cp);
		} else if (cp >= 0x40 && cp <= 0x7e) {
			csi_do(v, (unsigned char)cp);
			v->state = VT_GROUND;
		} else if (cp < 0x40) {
			if (v->npar < sizeof(v->par))
				v->par[v->npar++] = (unsigned char)cp;
		} else if (cp > 0x7f) {
			v->state = VT_GROUND; /* no CSI holds this: it ends, the text shows */
			row_put(v, invalid ? 0xfffd : cp);
		}
		break;
	case VT_STRING:
		if (v->osc && cp == 0x07)
			v->state = VT_GROUND;
		break;
	}
}

/* When s[0..n) (n < 4) is the valid start of a longer UTF-8 sequence, its whole
 * length; otherwise 0. */
static size_t utf8_prefix(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (n == 0)
		return 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n >= need)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return need;
}

void vt_feed(struct vt *v, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;

	/* a code point split over two feeds: its start waits in pend */
	while (v->npend && n) {
		unsigned char tmp[4], rest[3];
		size_t k = v->npend, take = 0, len, nrest;
		uint32_t cp;

		memcpy(tmp, v->pend, k);
		while (k < 4 && take < n)
			tmp[k++] = s[take++];
		if (utf8_prefix(tmp, k)) {
			memcpy(v->pend, tmp, k); /* still not whole: n bytes all taken */
			v->npend = k;
			return;
		}
		len = utf8_decode(tmp, k, &cp);
		if (len > v->npend) {
			s += len - v->npend;
			n -= len - v->npend;
			v->npend = 0;
			vt_step(v, cp, len, 0);
			continue;
		}
		/* not UTF-8 after all: its first byte shows as U+FFFD, the rest again */
		nrest = v->npend - 1;
		memcpy(rest, v->pend + 1, nrest);
		v->npend = 0;
		vt_step(v, 0xfffd, 1, 1);
		vt_feed(v, rest, nrest);
	}
	while (i < n) {
		uint32_t cp;
		size_t len;

		if (n - i < 4 && utf8_prefix(s + i, n - i)) {
			memcpy(v->pend, s + i, n - i);
			v->npend = n - i;
			return;
		}
		len = utf8_decode(s + i, n - i, &cp);
		vt_step(v, cp, len, cp == 0xfffd && len == 1);
		i += len;
	}
}

char *vt_row(const struct vt *v, size_t *outlen)
{
	size_t o = 0, i;
	char tmp[4], *out;

	for (i = 0; i < v->len; i++)
		o += utf8_encode(tmp, v->cells[i]);
	out = xmalloc(o + 1);
	o = 0;
	for (i = 0; i < v->len; i++)
		o += utf8_encode(out + o, v->cells[i]);
	out[o] = '\0';
	*outlen = o;
	return out;
}

void vt_line_end(struct vt *v)
{
	size_t i;

	/* a code point the line end cut: its bytes were no UTF-8 */
	for (i = 0; i < v->npend; i++)
		vt_step(v, 0xfffd, 1, 1);
	v->npend = 0;
}

void vt_newline(struct vt *v)
{
	v->npend = 0;
	v->state = VT_GROUND;
	v->len = v->cursor = v->dropped = 0;
}

char *vt_line_render(const char *in, size_t n, size_t *outlen)
{
	struct vt v;
	char *out;

	vt_init(&v, n);
	vt_feed(&v, in, n);
	vt_line_end(&v);
	out = vt_row(&v, outlen);
	vt_release(&v);
	return out;
}
