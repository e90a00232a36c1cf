/* libFuzzer target: undoing format=flowed (RFC 3676) as git mailinfo does. The
 * first byte chooses DelSp; the decoder only removes bytes, so the output is
 * never longer than the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "../../controller/mbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(0);

	if (size == 0)
		return 0;
	mbox_unflow(&out, (const char *)data + 1, size - 1, data[0] & 1);
	if (out.len > size - 1)
		abort();
	buf_release(&out);
	return 0;
}
