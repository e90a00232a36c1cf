/* Splitting patch mails with GMime: git format-patch files, mboxes as mail
 * clients save them (CRLF, quoted-printable, RFC 2047, MIME attachments, cover
 * letters), and every refusal with a message naming the mail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../controller/mbox.h"

#define PATCH1                                                                                     \
	"From 3f1c2a0e5d1b2c3d4e5f60718293a4b5c6d7e8f9 Mon Sep 17 00:00:00 2001\n"                 \
	"From: Ada Lovelace <ada@example.org>\n"                                                   \
	"Date: Tue, 3 Oct 2023 14:05:09 +0200\n"                                                   \
	"Subject: [PATCH v2 1/2] xen/sched: fix the credit\n"                                      \
	" accounting\n"                                                                            \
	"\n"                                                                                       \
	"The credit was charged twice.\n"                                                          \
	"\n"                                                                                       \
	"Signed-off-by: Ada Lovelace <ada@example.org>\n"                                          \
	"---\n"                                                                                    \
	" sched.c | 2 +-\n"                                                                        \
	" 1 file changed, 1 insertion(+), 1 deletion(-)\n"                                         \
	"\n"                                                                                       \
	"diff --git a/sched.c b/sched.c\n"                                                         \
	"index 1111111..2222222 100644\n"                                                          \
	"--- a/sched.c\n"                                                                          \
	"+++ b/sched.c\n"                                                                          \
	"@@ -1,3 +1,3 @@\n"                                                                        \
	" int a;\n"                                                                                \
	"-int b;\n"                                                                                \
	"+int c;\n"                                                                                \
	" int d;\n"                                                                                \
	"-- \n"                                                                                    \
	"2.39.2\n"                                                                                 \
	"\n"

#define PATCH2                                                                                     \
	"From 4f1c2a0e5d1b2c3d4e5f60718293a4b5c6d7e8f9 Mon Sep 17 00:00:00 2001\n"                 \
	"From: =?UTF-8?q?J=C3=BCrgen=20Gro=C3=9F?= <jgross@example.com>\n"                         \
	"Date: Wed, 4 Oct 2023 09:00:00 -0700\n"                                                   \
	"Subject: [PATCH v2 2/2] =?UTF-8?q?tools:=20caf=C3=A9?=\n"                                 \
	"MIME-Version: 1.0\n"                                                                      \
	"Content-Type: text/plain; charset=UTF-8\n"                                                \
	"Content-Transfer-Encoding: quoted-printable\n"                                            \
	"\n"                                                                                       \
	"A long line that a mail client wrapped with a soft line break right=\n"                   \
	" here.\n"                                                                                 \
	"---\n"                                                                                    \
	"diff --git a/tools.c b/tools.c\n"                                                         \
	"--- a/tools.c\n"                                                                          \
	"+++ b/tools.c\n"                                                                          \
	"@@ -1 +1 @@\n"                                                                            \
	"-x =3D 1;\n"                                                                              \
	"+x =3D 2;\n"

#define COVER                                                                                      \
	"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"                 \
	"From: Ada Lovelace <ada@example.org>\n"                                                   \
	"Date: Tue, 3 Oct 2023 14:00:00 +0200\n"                                                   \
	"Subject: [PATCH v2 0/2] scheduler fixes\n"                                                \
	"\n"                                                                                       \
	"Two fixes.\n"                                                                             \
	"\n"

static int add(struct patch_series *s, const char *name, const char *text, char *err)
{
	return patch_series_add(s, name, text, strlen(text), err, 256);
}

static void test_format_patch(void **state)
{
	struct patch_series s;
	struct patch_mail *p;
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(add(&s, "0001.patch", PATCH1, err), 0);
	assert_int_equal(s.count, 1);
	p = &s.patches[0];
	assert_string_equal(p->author_name, "Ada Lovelace");
	assert_string_equal(p->author_email, "ada@example.org");
	assert_int_equal(p->time, 1696334709);
	assert_int_equal(p->tz_minutes, 120);
	assert_string_equal(p->subject, "xen/sched: fix the credit accounting");
	assert_int_equal(p->number, 1);
	assert_int_equal(p->total, 2);
	assert_string_equal(p->message, "xen/sched: fix the credit accounting\n\n"
					"The credit was charged twice.\n\n"
					"Signed-off-by: Ada Lovelace <ada@example.org>\n");
	assert_true(strncmp(p->diff, "diff --git a/sched.c b/sched.c\n", 31) == 0);
	assert_non_null(strstr(p->diff, "+int c;\n"));
	/* Patch 1 of 2 alone is not a series. */
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), -1);
	assert_string_equal(err, "the series has 1 of 2 patches: 2/2 is missing");
	patch_series_release(&s);
}

static void test_mbox_crlf_qp_cover(void **state)
{
	struct patch_series s;
	struct buf b = BUF_INIT(0);
	char err[256];

	(void)state;
	/* A thread saved by a mail client: CRLF line ends, cover letter first, the
	 * patches out of order. */
	for (const char *p = COVER PATCH2 PATCH1; *p; p++) {
		if (*p == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, *p);
	}
	patch_series_init(&s);
	assert_int_equal(patch_series_add(&s, "thread.mbox", b.data, b.len, err, sizeof(err)), 0);
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), 0);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.skipped_covers, 1);
	assert_string_equal(s.patches[0].subject, "xen/sched: fix the credit accounting");
	assert_string_equal(s.patches[1].author_name, "J\xc3\xbcrgen Gro\xc3\x9f");
	assert_string_equal(s.patches[1].subject, "tools: caf\xc3\xa9");
	assert_int_equal(s.patches[1].tz_minutes, -420);
	assert_string_equal(s.patches[1].message, "tools: caf\xc3\xa9\n\nA long line that a mail "
						  "client wrapped with a soft line break "
						  "right here.\n");
	assert_non_null(strstr(s.patches[1].diff, "+x = 2;\n"));
	assert_null(strchr(s.patches[1].diff, '\r'));
	assert_null(strchr(s.patches[0].diff, '\r'));
	buf_release(&b);
	patch_series_release(&s);
}

static void test_several_files_and_gaps(void **state)
{
	struct patch_series s;
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(add(&s, "0002.patch", PATCH2, err), 0);
	assert_int_equal(add(&s, "0001.patch", PATCH1, err), 0);
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), 0);
	assert_int_equal(s.patches[0].number, 1);
	patch_series_release(&s);

	patch_series_init(&s);
	assert_int_equal(add(&s, "0002.patch", PATCH2, err), 0);
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), -1);
	assert_string_equal(err, "patch 1/2 of the series is missing");
	patch_series_release(&s);
}

static void test_inbody_from_and_attachment(void **state)
{
	const char *mail =
	    "From: Sender <sender@example.org>\n"
	    "Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
	    "Subject: [PATCH] arm: enable the thing\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"BOUND\"\n"
	    "\n"
	    "--BOUND\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "From: Real Author <author@example.org>\n"
	    "\n"
	    "Enable it on arm.\n"
	    "--BOUND\n"
	    "Content-Type: text/x-patch; name=\"0001.patch\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "ZGlmZiAtLWdpdCBhL2YgYi9mCi0tLSBhL2YKKysrIGIvZgpAQCAtMSArMSBAQAotYQorYgo=\n"
	    "--BOUND--\n";
	struct patch_series s;
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(add(&s, "saved.eml", mail, err), 0);
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), 0);
	assert_string_equal(s.patches[0].author_name, "Real Author");
	assert_string_equal(s.patches[0].author_email, "author@example.org");
	assert_string_equal(s.patches[0].message, "arm: enable the thing\n\nEnable it on arm.\n");
	/* The line end git mailinfo gives a multipart's end boundary stays. */
	assert_string_equal(s.patches[0].diff,
			    "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n\n");
	patch_series_release(&s);
}

/* ">From " lines stay as they are, as git am reads an mbox by default (mboxrd
 * unquoting is `git am --patch-format=mboxrd`); a quoted format-patch separator
 * opening the body is dropped, as mailinfo drops it. */
static void test_mbox_escaping(void **state)
{
	const char *mbox =
	    "From nobody Mon Sep 17 00:00:00 2001\n"
	    "From: A <a@example.org>\n"
	    "Subject: [PATCH] quote\n"
	    "\n"
	    ">From 3f1c2a0e5d1b2c3d4e5f60718293a4b5c6d7e8f9 Mon Sep 17 00:00:00 2001\n"
	    ">From the start, this was wrong.\n"
	    ">>From here too.\n"
	    "---\n"
	    "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
	struct patch_series s;
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(add(&s, "q.mbox", mbox, err), 0);
	assert_string_equal(s.patches[0].message,
			    "quote\n\n>From the start, this was wrong.\n>>From here too.\n");
	patch_series_release(&s);
}

/* git mailsplit's separator rule: "From " and a time and year; anything else that
 * starts with "From " is a line of the mail. A document without a separator is
 * one mail, whatever "From " lines it holds. */
static void test_mbox_separators(void **state)
{
	static const char *const body =
	    "From: A <a@example.org>\nSubject: [PATCH] x\n\n"
	    "From the second line on, the credit is charged once.\n"
	    "From Monday: 10:30 it runs.\n"
	    "From a@b Tue Oct  3 14:05:09 90\n"
	    "---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
	struct patch_series s;
	struct buf b = BUF_INIT(0);
	char err[256];

	(void)state;
	/* Not separators: no time, a year of 90 or less. */
	patch_series_init(&s);
	buf_puts(&b, "From a@b Tue Oct  3 14:05:09 2023\n");
	buf_puts(&b, body);
	assert_int_equal(patch_series_add(&s, "m", b.data, b.len, err, sizeof(err)), 0);
	assert_int_equal(s.count, 1);
	assert_non_null(strstr(s.patches[0].message, "From Monday: 10:30 it runs.\n"
						     "From a@b Tue Oct  3 14:05:09 90\n"));
	patch_series_release(&s);
	/* Without a separator line: one mail. */
	patch_series_init(&s);
	assert_int_equal(add(&s, "one.eml", body, err), 0);
	assert_int_equal(s.count, 1);
	patch_series_release(&s);
	/* "From <who> <date>" in the middle of a mail of an mbox splits it, as git
	 * mailsplit splits it: the rest has no author. */
	patch_series_init(&s);
	buf_reset(&b);
	buf_puts(&b, "From a@b Tue Oct  3 14:05:09 2023\nFrom: A <a@example.org>\n"
		     "Subject: [PATCH] y\n\nFrom me at 10:30:00 2023, on.\n---\n"
		     "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n");
	assert_int_equal(patch_series_add(&s, "m", b.data, b.len, err, sizeof(err)), -1);
	assert_string_equal(err, "m, mail 2: \"\": no author (a From: header with an address)");
	buf_release(&b);
	patch_series_release(&s);
}

/* RFC 3676 as git mailinfo undoes it. */
static void test_unflow(void **state)
{
	struct buf b = BUF_INIT(0);
	static const char text[] = "a soft \nbreak\n  stuffed\n>quoted\n-- \nsig\nlast ";

	(void)state;
	mbox_unflow(&b, text, strlen(text), 0);
	assert_string_equal(b.data, "a soft break\n stuffed\n>quoted\n-- \nsig\n");
	buf_reset(&b);
	mbox_unflow(&b, text, strlen(text), 1);
	assert_string_equal(b.data, "a softbreak\n stuffed\n>quoted\n-- \nsig\n");
	/* A soft break before the signature separator ends at it. */
	buf_reset(&b);
	mbox_unflow(&b, "x \r\n-- \r\n", 10, 1);
	assert_string_equal(b.data, "x-- \r\n");
	buf_release(&b);
}

/* A [PATCH 0/N] cover letter is skipped even when it carries a diff. */
static void test_cover_with_diff(void **state)
{
	struct patch_series s;
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(
	    add(&s, "c.mbox",
		"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
		"From: Ada Lovelace <ada@example.org>\n"
		"Subject: [PATCH v2 0/1] cover\n\nInterdiff:\n"
		"diff --git a/g b/g\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-a\n+b\n" PATCH2,
		err),
	    0);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.skipped_covers, 1);
	assert_int_equal(s.patches[0].number, 2);
	patch_series_release(&s);
}

/* Scissors: kept as a message line by default (git am), honoured on demand. */
static void test_scissors(void **state)
{
	static const char mail[] = "From: A <a@example.org>\nSubject: [PATCH] above\n\n"
				   "Above.\n-- >8 --\nSubject: below\n\nBelow.\n---\n"
				   "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
	struct patch_series s;
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(add(&s, "m", mail, err), 0);
	assert_string_equal(s.patches[0].message,
			    "above\n\nAbove.\n-- >8 --\nSubject: below\n\nBelow.\n");
	patch_series_release(&s);
	patch_series_init(&s);
	s.scissors = 1;
	assert_int_equal(add(&s, "m", mail, err), 0);
	assert_string_equal(s.patches[0].message, "below\n\nBelow.\n");
	patch_series_release(&s);
}

static void test_refusals(void **state)
{
	struct patch_series s;
	struct buf big = BUF_INIT(0);
	char err[256];

	(void)state;
	patch_series_init(&s);
	assert_int_equal(add(&s, "empty.patch", "", err), -1);
	assert_string_equal(err, "empty.patch: empty file, not a patch");
	assert_int_equal(add(&s, "notes.txt", "just some notes\nno diff here\n", err), -1);
	assert_non_null(strstr(err, "notes.txt"));
	assert_non_null(strstr(err, "not a patch"));
	assert_int_equal(patch_series_add(&s, "bin", "\0\1\2\3", 4, err, sizeof(err)), -1);
	/* A mail of an mbox that is not the first and has no diff. */
	assert_int_equal(add(&s, "x.mbox",
			     PATCH1 "From nobody Mon Sep 17 00:00:00 2001\n"
				    "From: a <a@b>\nSubject: [PATCH 2/2] oops\n\nno diff\n",
			     err),
			 -1);
	assert_string_equal(err, "x.mbox, mail 2 (\"oops\"): no diff in this mail, not a patch");
	assert_int_equal(s.count, 0);
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), -1);
	assert_string_equal(err, "no patches in the series");

	/* A huge series. */
	for (int i = 0; i <= MBOX_MAX_PATCHES; i++)
		buf_puts(&big, PATCH1);
	assert_int_equal(patch_series_add(&s, "huge.mbox", big.data, big.len, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "huge.mbox: more than 200 patches in one series");
	assert_int_equal(s.count, 0);
	buf_release(&big);
	patch_series_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_patch),
	    cmocka_unit_test(test_mbox_crlf_qp_cover),
	    cmocka_unit_test(test_several_files_and_gaps),
	    cmocka_unit_test(test_inbody_from_and_attachment),
	    cmocka_unit_test(test_mbox_escaping),
	    cmocka_unit_test(test_mbox_separators),
	    cmocka_unit_test(test_unflow),
	    cmocka_unit_test(test_cover_with_diff),
	    cmocka_unit_test(test_scissors),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
