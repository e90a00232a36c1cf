#include "boot-quote.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const boot_syntax_names[BOOT_SYNTAX_N] = {"U-Boot", "iPXE", "GRUB", "PXELINUX"};

static int refuse(size_t *at, size_t off, char *why, size_t whylen, const char *msg)
{
	*at = off;
	snprintf(why, whylen, "%s", msg);
	return -EINVAL;
}

/* Control characters (tab included): no command line wants them, and every
 * script language here ends a line or a word at some of them. */
static int check_controls(const char *v, size_t *at, char *why, size_t whylen)
{
	for (size_t i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f)
			return refuse(at, i, why, whylen,
				      "a control character (tab, newline, ...) cannot be part of "
				      "a boot command line");
	}
	return 0;
}

/* Words separated by single spaces (leading and trailing spaces are dropped by
 * every firmware, and mean nothing to Xen or Linux). */
static int check_single_spaces(const char *v, const char *fw, size_t *at, char *why, size_t whylen)
{
	size_t n = strlen(v), first = strspn(v, " "), last = n;
	char msg[160];

	while (last > first && v[last - 1] == ' ')
		last--;
	for (size_t i = first; i + 1 < last; i++) {
		if (v[i] == ' ' && v[i + 1] == ' ') {
			snprintf(msg, sizeof(msg),
				 "%s splits the line at white space and joins the words with one "
				 "space: a run of spaces would not arrive as written",
				 fw);
			return refuse(at, i, why, whylen, msg);
		}
	}
	return 0;
}

static int quote_uboot(struct buf *out, const char *v, size_t *at, char *why, size_t whylen)
{
	const char *bs = strchr(v, '\\');
	struct buf q = BUF_INIT(out->max);
	int rc;

	if (check_controls(v, at, why, whylen) < 0)
		return -EINVAL;
	if (bs)
		return refuse(at, (size_t)(bs - v), why, whylen,
			      "U-Boot's hush drops a backslash even inside quotes (its 2021 "
			      "parser keeps it): no spelling of a backslash works for both");
	if (v[0] == '<' || v[0] == '[')
		return refuse(at, 0, why, whylen,
			      "U-Boot's fdt set reads a value starting with '<' or '[' as cells "
			      "or bytes, not as a string");
	rc = buf_putc(&q, '\'');
	for (; rc == 0 && *v; v++)
		rc = *v == '\'' ? buf_puts(&q, "'\\''") : buf_putc(&q, *v);
	if (rc == 0)
		rc = buf_putc(&q, '\'');
	if (rc == 0)
		rc = buf_append(out, q.data, q.len);
	buf_release(&q);
	return rc;
}

static int quote_ipxe(struct buf *out, const char *v, size_t *at, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (check_controls(v, at, why, whylen) < 0 ||
	    check_single_spaces(v, "iPXE", at, why, whylen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n;) {
		size_t w = strcspn(v + i, " ");

		if (w) {
			const char *word = v + i, *d;

			if ((w == 2 && (!strncmp(word, "||", 2) || !strncmp(word, "&&", 2))) ||
			    (w == 1 && word[0] == ';'))
				return refuse(
				    at, i, why, whylen,
				    "iPXE ends a command at a word \"||\", \"&&\" or \";\"");
			if (word[0] == '#')
				return refuse(
				    at, i, why, whylen,
				    "iPXE reads a word starting with '#' as the start of a "
				    "comment");
			d = strstr(word, "${");
			if (d && d < word + w && memchr(d, '}', (size_t)(word + w - d)))
				return refuse(at, (size_t)(d - v), why, whylen,
					      "iPXE expands ${...} in every word and has no way to "
					      "escape it");
		}
		i += w + 1;
	}
	if (n && v[n - 1] == '\\')
		return refuse(at, n - 1, why, whylen,
			      "iPXE reads a backslash at the end of a line as a continuation");
	return buf_puts(out, v);
}

static int quote_grub(struct buf *out, const char *v, size_t *at, char *why, size_t whylen)
{
	const char *bad = strpbrk(v, "\"'\\");
	struct buf q = BUF_INIT(out->max);
	int rc = 0;

	if (check_controls(v, at, why, whylen) < 0 ||
	    check_single_spaces(v, "GRUB", at, why, whylen) < 0)
		return -EINVAL;
	if (bad)
		return refuse(at, (size_t)(bad - v), why, whylen,
			      "upstream GRUB's multiboot and linux loaders write a double quote, a "
			      "single quote and a backslash back with a backslash before them, "
			      "some distributions' GRUB does not: no spelling works for both");
	for (const char *p = v; rc == 0 && *p;) {
		size_t w = strcspn(p, " ");

		if (w) {
			if (q.len)
				rc = buf_putc(&q, ' ');
			if (rc == 0)
				rc = buf_putc(&q, '\'');
			if (rc == 0)
				rc = buf_append(&q, p, w);
			if (rc == 0)
				rc = buf_putc(&q, '\'');
		}
		p += w;
		p += strspn(p, " ");
	}
	if (rc == 0 && q.len)
		rc = buf_append(out, q.data, q.len);
	buf_release(&q);
	return rc;
}

static int quote_pxelinux(struct buf *out, const char *v, size_t *at, char *why, size_t whylen)
{
	if (check_controls(v, at, why, whylen) < 0)
		return -EINVAL;
	for (size_t i = 0; v[i];) {
		size_t w = strcspn(v + i, " ");

		if (w == 3 && !strncmp(v + i, "---", 3))
			return refuse(at, i, why, whylen,
				      "mboot.c32 splits PXELINUX's APPEND line at a word \"---\"");
		i += w;
		i += strspn(v + i, " ");
	}
	return buf_puts(out, v);
}

int boot_quote(struct buf *out, enum boot_syntax s, const char *value, size_t *at, char *why,
	       size_t whylen)
{
	switch (s) {
	case BOOT_UBOOT:
		return quote_uboot(out, value, at, why, whylen);
	case BOOT_IPXE:
		return quote_ipxe(out, value, at, why, whylen);
	case BOOT_GRUB:
		return quote_grub(out, value, at, why, whylen);
	case BOOT_PXELINUX:
		return quote_pxelinux(out, value, at, why, whylen);
	case BOOT_SYNTAX_N:
		break;
	}
	return -EINVAL;
}
