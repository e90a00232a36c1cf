/* The TAP reader (lab-agent/tap.h) over arbitrary lines: the input is split at
 * "\n" into lines read as one stream. Invariants: a test line always has a name
 * (valid where the input was: never a cut UTF-8 sequence made by the reader) and
 * a result; errors are counted; the missing numbers at the end are increasing,
 * within the plan and not seen. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lab-agent/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tap t;
	char *text = malloc(size + 1), *line, *save = NULL;
	long n = 0, prev = 0, errors = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	tap_init(&t);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct tap_line l;
		enum tap_kind k = tap_read(&t, line, &l);

		if (l.error[0])
			errors++;
		if (k == TAP_TEST) {
			assert(l.name[0] != '\0' && strlen(l.name) < TAP_NAME_MAX);
			assert(l.result != NULL);
			assert(l.number >= 0);
		}
	}
	assert(t.errors == errors);
	assert(t.plan <= TAP_NUM_MAX);
	while ((n = tap_missing_next(&t, n)) > 0) {
		assert(n > prev && n <= t.plan);
		assert(!(t.seen[n / 8] & (1u << (n % 8))));
		prev = n;
	}
	free(text);
	return 0;
}
