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
	assert_string_equal(s.patches[0].diff,
			    "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n");
	patch_series_release(&s);
}

/* A mail client escaped a body line starting with "From " (mboxrd). */
static void test_mbox_escaping(void **state)
{
	const char *mbox = "From nobody Mon Sep 17 00:00:00 2001\n"
			   "From: A <a@example.org>\n"
			   "Subject: [PATCH] quote\n"
			   "\n"
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
			    "quote\n\nFrom the start, this was wrong.\n>From here too.\n");
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
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
