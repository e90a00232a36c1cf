#include "vt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

/* The row: one code point per column, the cursor a column. Columns never pass
 * the input's length, so the row is bounded by it. */
struct row {
	uint32_t *cells;
	size_t len, cursor, max;
};

static void row_put(struct row *r, uint32_t cp)
{
	if (r->cursor >= r->max)
		return;
	while (r->len < r->cursor)
		r->cells[r->len++] = ' ';
	r->cells[r->cursor++] = cp;
	if (r->cursor > r->len)
		r->len = r->cursor;
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

/* A complete CSI: its parameter and intermediate bytes p[0..n) and its final
 * byte. Only what moves along or erases the row acts; everything else (SGR
 * colours, scrolling, modes) shows nothing. */
static void csi_do(struct row *r, const unsigned char *p, size_t n, unsigned char final)
{
	size_t v, i;

	if (n && (p[0] == '?' || p[0] == '>' || p[0] == '<' || p[0] == '='))
		return; /* private sequences */
	switch (final) {
	case 'K': /* EL: 0 cursor to end, 1 start to cursor, 2 the whole row */
		v = csi_param(p, n, 0);
		if (v == 0) {
			if (r->cursor < r->len)
				r->len = r->cursor;
		} else if (v == 1 || v == 2) {
			size_t end = v == 2 ? r->len : r->cursor + 1;

			for (i = 0; i < end && i < r->len; i++)
				r->cells[i] = ' ';
		}
		break;
	case 'C': /* CUF */
		v = csi_param(p, n, 1);
		r->cursor = v > r->max - r->cursor ? r->max : r->cursor + v;
		break;
	case 'D': /* CUB */
		v = csi_param(p, n, 1);
		r->cursor = v > r->cursor ? 0 : r->cursor - v;
		break;
	case 'G': /* CHA: columns count from 1 */
		v = csi_param(p, n, 1) - 1;
		r->cursor = v > r->max ? r->max : v;
		break;
	default:
		break;
	}
}

enum vt_state {
	VT_GROUND,
	VT_ESC,	   /* after ESC, maybe intermediates */
	VT_CSI,	   /* after CSI: parameters and intermediates until the final byte */
	VT_STRING, /* OSC, DCS, SOS, PM, APC: until ST (or BEL for OSC) */
};

/* A C0 control in the ground state (or executed inside a sequence, as DEC's
 * parser does). */
static void c0_do(struct row *r, unsigned char c)
{
	if (c == '\r')
		r->cursor = 0;
	else if (c == '\b')
		r->cursor -= r->cursor > 0;
	else if (c == '\t')
		row_put(r, '\t');
	/* NUL, BEL and the rest show nothing */
}

char *vt_line_render(const char *in, size_t n, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	struct row r = {NULL, 0, 0, n};
	enum vt_state st = VT_GROUND;
	size_t i = 0, seq_start = 0, params = 0, o = 0;
	int osc = 0;
	char *out;

	r.cells = xmalloc((n ? n : 1) * sizeof(*r.cells));
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		int invalid = cp == 0xfffd && len == 1;

		if (st != VT_GROUND && i - seq_start >= VT_SEQ_MAX)
			st = VT_GROUND; /* unfinished too long: dropped, what follows shows */
		/* CAN and SUB abort any sequence; ESC starts a new one from anywhere but
		 * a string, where "ESC \" is its end (and any other ESC ends it too) */
		if (st != VT_GROUND && (cp == 0x18 || cp == 0x1a)) {
			st = VT_GROUND;
			i += len;
			continue;
		}
		if (cp == 0x1b) {
			st = VT_ESC;
			seq_start = i;
			i += len;
			continue;
		}
		/* C1 controls, as UTF-8 code points, introduce what their ESC forms do */
		if (cp >= 0x80 && cp <= 0x9f && !invalid) {
			i += len;
			if (st == VT_STRING && cp == 0x9c) {
				st = VT_GROUND;
				continue;
			}
			if (st == VT_STRING)
				continue; /* part of the string */
			seq_start = i - len;
			osc = cp == 0x9d;
			if (cp == 0x9b) {
				st = VT_CSI;
				params = i;
			} else if (cp == 0x9d || cp == 0x90 || cp == 0x98 || cp == 0x9e ||
				   cp == 0x9f) {
				st = VT_STRING;
			} else {
				st = VT_GROUND; /* a single C1 control: shows nothing */
			}
			continue;
		}
		switch (st) {
		case VT_GROUND:
			if (cp < 0x20)
				c0_do(&r, (unsigned char)cp);
			else if (cp != 0x7f)
				row_put(&r, cp);
			break;
		case VT_ESC:
			if (cp < 0x20) {
				c0_do(&r, (unsigned char)cp);
			} else if (cp <= 0x2f) {
				/* intermediate: "ESC ( B" and the like go on */
			} else if (cp == '[' && i == seq_start + 1) {
				st = VT_CSI;
				params = i + 1;
			} else if ((cp == ']' || cp == 'P' || cp == 'X' || cp == '^' ||
				    cp == '_') &&
				   i == seq_start + 1) {
				st = VT_STRING;
				osc = cp == ']';
			} else if (cp < 0x7f) {
				st = VT_GROUND; /* the final byte: "ESC 7", "ESC c", "ESC \" */
			} else if (cp > 0x7f) {
				/* not a sequence after all: the text shows */
				st = VT_GROUND;
				row_put(&r, cp);
			}
			break;
		case VT_CSI:
			if (cp < 0x20) {
				c0_do(&r, (unsigned char)cp);
			} else if (cp >= 0x40 && cp <= 0x7e) {
				csi_do(&r, s + params, i - params, (unsigned char)cp);
				st = VT_GROUND;
			} else if (cp > 0x7f) {
				st = VT_GROUND; /* no CSI holds this: it ends, the text shows */
				row_put(&r, cp);
			}
			break;
		case VT_STRING:
			if (osc && cp == 0x07)
				st = VT_GROUND;
			break;
		}
		i += len;
	}
	for (i = 0; i < r.len; i++) {
		char tmp[4];

		o += utf8_encode(tmp, r.cells[i]);
	}
	out = xmalloc(o + 1);
	o = 0;
	for (i = 0; i < r.len; i++)
		o += utf8_encode(out + o, r.cells[i]);
	out[o] = '\0';
	free(r.cells);
	*outlen = o;
	return out;
}
