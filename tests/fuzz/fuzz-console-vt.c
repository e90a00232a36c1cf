/* The terminal renderer of console lines (lib/vt.h) over arbitrary bytes.
 * Invariants: the result is valid UTF-8 with no ESC, no C0 control but tab and
 * no C1 control, at most 4 bytes per input byte; rendering it again gives it back
 * unchanged (what a terminal shows has nothing left to interpret); feeding the
 * same bytes in reads of any size (the first byte chooses it) gives the same row. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "vt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, len2, i = 0;
	char *out, *again;

	out = vt_line_render((const char *)data, size, &len);
	assert(len <= 4 * size);
	assert(strlen(out) == len);
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)out + i, len - i, &cp);

		assert(!(cp == 0xfffd && n == 1));
		assert(cp >= 0x20 || cp == '\t');
		assert(cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
		i += n;
	}
	again = vt_line_render(out, len, &len2);
	assert(len2 == len && memcmp(again, out, len) == 0);
	free(again);
	if (size) {
		struct vt v;
		size_t step = 1 + data[0] % 7, off;

		vt_init(&v, size);
		for (off = 0; off < size; off += step)
			vt_feed(&v, data + off, size - off < step ? size - off : step);
		vt_line_end(&v);
		again = vt_row(&v, &len2);
		assert(len2 == len && memcmp(again, out, len) == 0);
		free(again);
		vt_release(&v);
	}
	free(out);
	return 0;
}
