/* The terminal renderer of console lines (lib/vt.h) over arbitrary bytes.
 * Invariants: the result is valid UTF-8 with no ESC, no C0 control but tab and
 * no C1 control, at most 4 bytes per input byte; rendering it again gives it back
 * unchanged (what a terminal shows has nothing left to interpret). */
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
	free(out);
	return 0;
}
