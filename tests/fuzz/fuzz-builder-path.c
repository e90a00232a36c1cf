/* libFuzzer target: builder_path_ok, the gate between a controller's manifest
 * and the builder's file writes. Whatever it accepts must stay below the work
 * tree: relative, no "." or ".." component, no empty component, no control
 * characters, at most 1024 bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lab-agent/builder-sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1), *c, *save = NULL;
	size_t i;

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	p[size] = '\0';
	if (builder_path_ok(p)) {
		size_t n = strlen(p);

		if (n == 0 || n > 1024 || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				abort();
		for (c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save))
			if (!strcmp(c, ".") || !strcmp(c, ".."))
				abort();
	}
	free(p);
	return 0;
}
