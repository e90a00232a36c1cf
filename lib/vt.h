/* Console text as a terminal shows it. A board's console is written for a
 * terminal: colours and cursor moves (CSI), titles and context markers (OSC,
 * e.g. systemd's "ESC ] 3008 ; … ESC \"), device strings (DCS, SOS, PM, APC),
 * two-byte escapes ("ESC 7", "ESC c", "ESC ( B"), progress lines redrawn after a
 * bare "\r". What a pattern or a TAP reader must see is the line a terminal would
 * show, not these bytes.
 *
 * A struct vt is one terminal row, fed the console's bytes as they come (a
 * sequence or a UTF-8 character split over two reads is whole again); at each
 * "\n" the caller takes the row (vt_line_end, vt_row) and starts a new one
 * (vt_newline). vt_line_render() does the same for one line held whole.
 *  - ECMA-48 control sequences are removed whole: CSI (ESC [ … final byte
 *    0x40–0x7E), OSC (ESC ] … ended by BEL or ST), DCS (ESC P), SOS (ESC X),
 *    PM (ESC ^), APC (ESC _) … ended by ST (ESC \), and ESC with intermediates
 *    and a final byte. C1 controls count as UTF-8 code points (U+009B is CSI,
 *    U+009D OSC, U+009C ST, …), as UTF-8 terminals read them; a raw byte
 *    0x80–0x9F outside a valid sequence is invalid UTF-8, not a control.
 *  - "\r" returns to the start of the row and later text overwrites what was
 *    there; backspace steps back; CSI K (erase in line) and the cursor moves
 *    CSI C, D and G act on the row. Other C0 controls (NUL, BEL, …) show nothing;
 *    a tab is kept.
 *  - Bytes that are not valid UTF-8 become U+FFFD, one per byte: they never
 *    swallow the bytes after them, and the row is always valid UTF-8.
 *  - Bounds: the row has `columns` columns (text past the last is dropped and
 *    counted, a progress line redrawn after "\r" stays within them however many
 *    bytes it took); a control sequence that has not ended after VT_SEQ_MAX
 *    bytes is dropped and the bytes after it are shown; a line end ends every
 *    sequence, so a stray ESC or an unterminated OSC hides at most the rest of
 *    its own line.
 * Differences from a terminal, on purpose: a newline inside an OSC or DCS string
 * ends it; CAN and SUB abort a sequence as in DEC's parser; wide characters count
 * as one column. */
#ifndef XENCI_VT_H
#define XENCI_VT_H

#include <stddef.h>
#include <stdint.h>

#define VT_SEQ_MAX 1024 /* bytes of one unfinished control sequence before it is dropped */

struct vt {
	uint32_t *cells; /* the row, one code point per column */
	size_t len, cursor, max;
	size_t dropped;	       /* code points that fell past the last column */
	int state, osc;	       /* the sequence being read */
	size_t seq_len;	       /* its bytes so far */
	unsigned char par[32]; /* a CSI's parameter bytes (more are ignored) */
	size_t npar;
	unsigned char pend[4]; /* the start of a UTF-8 character cut by a read */
	size_t npend;
};

/* A row of `columns` columns (the caller's line bound). Dies only when memory
 * runs out (xmalloc); vt_release() frees it (NULL accepted). */
void vt_init(struct vt *v, size_t columns);
void vt_release(struct vt *v);
/* Console bytes of the current line, any size, no "\n" among them. */
void vt_feed(struct vt *v, const void *p, size_t n);
/* The line ends: a UTF-8 character it cut shows as U+FFFD per byte. */
void vt_line_end(struct vt *v);
/* The row as a new NUL-terminated UTF-8 string (the caller frees it) of at most
 * 4 bytes per column, its length in *outlen. */
char *vt_row(const struct vt *v, size_t *outlen);
/* Starts the next line: an empty row, no sequence open. */
void vt_newline(struct vt *v);

/* One whole line in[0..n) (no "\n" in it): its row (n columns), as vt_row(). */
char *vt_line_render(const char *in, size_t n, size_t *outlen);

#endif
