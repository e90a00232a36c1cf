/* libFuzzer target: lib/boot-quote on any value and firmware (the first byte
 * chooses). What it accepts must come back unchanged when read by the
 * firmware's rules (as tests/integration/test-netboot-firmware.c sees the real
 * U-Boot and iPXE read them): U-Boot's hush words ('...' literal, a backslash
 * outside quotes taking the next character), iPXE's words joined by one space,
 * GRUB's '...' words joined by one space, PXELINUX's line as it is. A refusal
 * must point inside the value. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot-quote.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value without leading and trailing spaces, words joined by one space. */
static void words(struct buf *out, const char *v)
{
	while (*v) {
		size_t w;

		v += strspn(v, " ");
		w = strcspn(v, " ");
		if (w) {
			if (out->len)
				buf_putc(out, ' ');
			buf_append(out, v, w);
		}
		v += w;
	}
}

/* One hush word: '...' literal, outside quotes "\x" is x. */
static void hush_word(struct buf *out, const char *q)
{
	while (*q) {
		if (*q == '\'') {
			const char *e = strchr(q + 1, '\'');

			if (e == NULL)
				abort();
			buf_append(out, q + 1, (size_t)(e - q - 1));
			q = e + 1;
		} else if (*q == '\\' && q[1]) {
			buf_putc(out, q[1]);
			q += 2;
		} else {
			abort(); /* nothing unquoted but \' */
		}
	}
}

/* GRUB's '...' words separated by one space, joined by one space. */
static void grub_words(struct buf *out, const char *q)
{
	while (*q) {
		const char *e;

		if (*q != '\'')
			abort();
		e = strchr(q + 1, '\'');
		if (e == NULL)
			abort();
		if (out->len)
			buf_putc(out, ' ');
		buf_append(out, q + 1, (size_t)(e - q - 1));
		q = e + 1;
		if (*q == ' ')
			q++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(1 << 16), back = BUF_INIT(0), want = BUF_INIT(0);
	enum boot_syntax s;
	char *v, why[256];
	size_t at = 0;
	int rc;

	if (size == 0)
		return 0;
	s = (enum boot_syntax)(data[0] % BOOT_SYNTAX_N);
	v = malloc(size);
	memcpy(v, data + 1, size - 1);
	v[size - 1] = '\0';
	rc = boot_quote(&out, s, v, &at, why, sizeof(why));
	if (rc < 0) {
		if (rc == -EINVAL && (at >= strlen(v) + (strlen(v) == 0) || why[0] == '\0'))
			abort();
		goto out;
	}
	switch (s) {
	case BOOT_UBOOT:
		hush_word(&back, buf_cstr(&out));
		if (strcmp(buf_cstr(&back), v))
			abort();
		break;
	case BOOT_GRUB:
		grub_words(&back, buf_cstr(&out));
		words(&want, v);
		if (strcmp(buf_cstr(&back), buf_cstr(&want)) || strpbrk(v, "\"'\\"))
			abort();
		break;
	case BOOT_IPXE:
		words(&want, v);
		words(&back, buf_cstr(&out));
		if (strcmp(buf_cstr(&out), v) || strcmp(buf_cstr(&back), buf_cstr(&want)))
			abort();
		break;
	case BOOT_PXELINUX:
	case BOOT_SYNTAX_N:
		if (strcmp(buf_cstr(&out), v))
			abort();
		break;
	}
out:
	buf_release(&out);
	buf_release(&back);
	buf_release(&want);
	free(v);
	return 0;
}
