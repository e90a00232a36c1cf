/* The tcp console's telnet decoder (lab-agent/telnet.c) on any bytes a
 * server sends, cut at any point: the data out is never longer than the
 * input, the same bytes give the same data whole or in pieces, the replies
 * stay within their buffer, and data without 0xFF or CR passes unchanged. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lab-agent/telnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct telnet whole, cut;
	unsigned char *a, *b, enc[8];
	size_t na, nb = 0, i, step;

	if (size < 1)
		return 0;
	a = malloc(size);
	b = malloc(size);
	telnet_init(&whole, data[0] & 1);
	telnet_init(&cut, data[0] & 1);
	na = telnet_decode(&whole, data + 1, size - 1, a);
	assert(na <= size - 1);
	step = (data[0] >> 1) % 7 + 1;
	for (i = 1; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;

		nb += telnet_decode(&cut, data + i, n, b + nb);
		assert(cut.outlen <= sizeof(cut.out));
		cut.outlen = 0; /* drained, as the console does after each read */
	}
	assert(na == nb && memcmp(a, b, na) == 0);
	assert(whole.outlen <= sizeof(whole.out));
	for (i = 0; i < na; i++) {
		struct telnet t;
		unsigned char back[2];
		size_t n = telnet_encode(&whole, a + i, 1, enc);

		/* what we send decodes back to itself at a peer in the same mode */
		telnet_init(&t, 0);
		t.him[TELNET_OPT_BINARY] = whole.us[TELNET_OPT_BINARY];
		assert(telnet_decode(&t, enc, n, back) == 1 && back[0] == a[i]);
	}
	free(a);
	free(b);
	return 0;
}
