/* The HTTP Range header parser of artifact and log downloads: whatever it is
 * given, a range it accepts lies inside the file, and it refuses (416) only a
 * single byte range of the bytes unit (RFC 9110 14.2: anything else is ignored). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../controller/http-files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char h[256];
	long long fsize, from = -1, to = -1;
	int rc;

	if (size < 2 || size - 2 >= sizeof(h))
		return 0;
	fsize = (long long)data[0] << 8 | data[1];
	memcpy(h, data + 2, size - 2);
	h[size - 2] = '\0';
	rc = http_files_range(h, fsize, &from, &to);
	if (rc == 0 && (from < 0 || to < from || to >= fsize))
		abort();
	if (rc == 0 && h[6] != '-' && from != strtoll(h + 6, NULL, 10))
		abort(); /* A-B starts at A */
	if (rc == -1 && (strncasecmp(h, "bytes=", 6) || strchr(h, ',')))
		abort();
	if (rc != 0 && rc != 1 && rc != -1)
		abort();
	return 0;
}
