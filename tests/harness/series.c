/* Patch series made to measure the bounds of docs/security.md: a hunk that git
 * apply's outward search finds only far from where it says it is (quadratic for
 * a search that compares the whole context at every line), and a binary patch
 * whose hunk inflates far beyond its size. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"

static void mail_head(struct buf *b, int n, int total, const char *subject)
{
	buf_printf(b,
		   "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
		   "From: Bench <bench@example.org>\nDate: Tue, 1 Aug 2023 10:00:00 +0000\n"
		   "Subject: [PATCH %d/%d] %s\n\n%s\n---\n",
		   n, total, subject, subject);
}

void harness_series_far_hunk(struct buf *b, size_t bytes)
{
	/* Patch 1 adds n lines (n - 1 "x", then "z"); patch 2's hunk has n/2 lines of
	 * context ending in "z" and says it starts at line 1: it applies at n - n/2. */
	size_t n = bytes * 2 / 9, k = n / 2;

	if (n < 4)
		n = 4, k = 2;
	mail_head(b, 1, 2, "add big.txt");
	buf_printf(b,
		   "diff --git a/big.txt b/big.txt\nnew file mode 100644\nindex "
		   "0000000..1111111\n--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,%zu @@\n",
		   n);
	for (size_t i = 0; i + 1 < n; i++)
		buf_puts(b, "+x\n");
	buf_puts(b, "+z\n--\n2.39.2\n\n");
	mail_head(b, 2, 2, "append to big.txt");
	buf_printf(b,
		   "diff --git a/big.txt b/big.txt\nindex 1111111..2222222 100644\n--- "
		   "a/big.txt\n+++ b/big.txt\n@@ -1,%zu +1,%zu @@\n",
		   k, k + 1);
	for (size_t i = 0; i + 1 < k; i++)
		buf_puts(b, " x\n");
	buf_puts(b, " z\n+appended\n--\n2.39.2\n\n");
}

void harness_series_many_hunks(struct buf *b, size_t bytes)
{
	size_t n = bytes / 32, h = n / 4;

	buf_printf(b,
		   "From 0 Mon Sep 17 00:00:00 2001\nFrom: B <b@example.org>\n"
		   "Subject: [PATCH 1/2] add lines.txt\n\n---\ndiff --git a/lines.txt "
		   "b/lines.txt\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n"
		   "+++ b/lines.txt\n@@ -0,0 +1,%zu @@\n",
		   n);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "+line %zu\n", i + 1);
	buf_printf(b, "\nFrom 0 Mon Sep 17 00:00:00 2001\nFrom: B <b@example.org>\n"
		      "Subject: [PATCH 2/2] change lines.txt\n\n---\ndiff --git a/lines.txt "
		      "b/lines.txt\nindex 1111111..2222222 100644\n--- a/lines.txt\n+++ "
		      "b/lines.txt\n");
	for (size_t i = 0; i < h; i++)
		buf_printf(b, "@@ -%zu,1 +%zu,1 @@\n-line %zu\n+LINE %zu\n", 4 * i + 2, 4 * i + 2,
			   4 * i + 2, 4 * i + 2);
	buf_puts(b, "\n");
}

static const char b85[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "!#$%&()*+-;<=>?@^_`{|}~";

/* One line of git's binary patch encoding: a length letter and base85. */
static void b85_line(struct buf *b, const unsigned char *p, size_t n)
{
	buf_putc(b, n <= 26 ? (char)('A' + n - 1) : (char)('a' + n - 27));
	for (size_t i = 0; i < n; i += 4) {
		unsigned long v = 0;
		char out[5];

		for (size_t j = 0; j < 4; j++)
			v = v << 8 | (i + j < n ? p[i + j] : 0);
		for (int j = 4; j >= 0; j--) {
			out[j] = b85[v % 85];
			v /= 85;
		}
		buf_append(b, out, 5);
	}
	buf_putc(b, '\n');
}

int harness_series_bomb(struct buf *b, size_t inflated, size_t declared)
{
	static unsigned char zeros[1 << 16], out[1 << 16];
	unsigned char line[52];
	size_t left = inflated, linelen = 0;
	z_stream z;
	int flush;

	mail_head(b, 1, 1, "add bomb.bin");
	buf_printf(b,
		   "diff --git a/bomb.bin b/bomb.bin\nnew file mode 100644\nindex "
		   "0000000..1111111\nGIT binary patch\nliteral %zu\n",
		   declared);
	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, 9) != Z_OK)
		return -1;
	do {
		size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

		z.next_in = zeros;
		z.avail_in = (uInt)n;
		left -= n;
		flush = left ? Z_NO_FLUSH : Z_FINISH;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			deflate(&z, flush);
			for (size_t i = 0; i < sizeof(out) - z.avail_out; i++) {
				line[linelen++] = out[i];
				if (linelen == sizeof(line)) {
					b85_line(b, line, linelen);
					linelen = 0;
				}
			}
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	if (linelen)
		b85_line(b, line, linelen);
	buf_puts(b, "\nliteral 0\nHcmV?d00001\n\n--\n2.39.2\n\n");
	return 0;
}
