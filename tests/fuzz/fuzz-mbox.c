/* libFuzzer target: splitting patch mails (mbox or one mail) with GMime, then
 * finishing the series (ordering, gaps). */
#include <stddef.h>
#include <stdint.h>

#include "../../controller/mbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct patch_series s;
	char err[256];

	patch_series_init(&s);
	if (patch_series_add(&s, "fuzz.mbox", (const char *)data, size, err, sizeof(err)) == 0)
		patch_series_finish(&s, err, sizeof(err));
	patch_series_release(&s);
	return 0;
}
