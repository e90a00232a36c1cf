/* libFuzzer target: console bytes → HTML. Whatever the bytes, the output must be
 * valid UTF-8 with no control byte but newline and tab, no ESC, and no markup
 * but the renderer's own: every '<' opens one of its tags. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../controller/page.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = {
    "<div class=\"l ",
    "</div>",
    "<a class=\"t\" href=\"#o",
    "</a>",
    "<span class=\"x\">",
    "<span class=\"sgr",
    "<span class=\"ctl\">",
    "<span class=\"cut\">",
    "</span>",
    "<b class=\"mark\">",
    "</b>",
    NULL,
};

static void check(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode((const unsigned char *)s + i, n - i, &cp);

		if (cp == 0xfffd && len == 1 && (unsigned char)s[i] != 0xef)
			abort(); /* invalid UTF-8 in the output */
		if (cp < 0x20 && cp != '\n' && cp != '\t')
			abort();
		if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x202e || cp == 0x2066)
			abort();
		if (cp == '<') {
			for (k = 0; tags[k]; k++)
				if (!strncmp(s + i, tags[k], strlen(tags[k])))
					break;
			if (!tags[k])
				abort(); /* markup that is not ours */
		}
		i += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	size_t used = 0;

	if (console_render(&b, (const char *)data, size, 0, size & 1, &used) == 0) {
		if (used > size)
			abort();
		check(buf_cstr(&b), b.len);
	}
	buf_release(&b);
	return 0;
}
