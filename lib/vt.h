/* Console text as a terminal shows it. A board's console is written for a
 * terminal: colours and cursor moves (CSI), titles and context markers (OSC,
 * e.g. systemd's "ESC ] 3008 ; … ESC \"), device strings (DCS, SOS, PM, APC),
 * two-byte escapes ("ESC 7", "ESC c", "ESC ( B"), progress lines redrawn after a
 * bare "\r". What a pattern or a TAP reader must see is the line a terminal would
 * show, not these bytes.
 *
 * vt_line_render() takes one console line (the bytes between two "\n", which may
 * have come in many reads) and returns the text a terminal would show on that row:
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
 *    swallow the bytes after them, and the result is always valid UTF-8.
 *  - Bounds: a control sequence that has not ended after VT_SEQ_MAX bytes is
 *    dropped and the bytes after it are shown; a sequence still open at the end
 *    of the line ends there (a line end ends every sequence, so a stray ESC or an
 *    unterminated OSC can hide at most the rest of its own line).
 * Differences from a terminal, on purpose: a newline inside an OSC or DCS string
 * ends it; CAN and SUB abort a sequence as in DEC's parser; wide characters count
 * as one column. */
#ifndef XENCI_VT_H
#define XENCI_VT_H

#include <stddef.h>

#define VT_SEQ_MAX 1024 /* bytes of one unfinished control sequence before it is dropped */

/* Renders in[0..n) (no "\n" in it; any other bytes) as described above. Returns a
 * new NUL-terminated UTF-8 string of at most 4 * n bytes, which the caller frees,
 * and its length in *outlen. Dies only when memory runs out (xmalloc). */
char *vt_line_render(const char *in, size_t n, size_t *outlen);

#endif
