/* lib/mail: what mail_compose writes (headers, encoded-words, threading, a header
 * value that tries to add a header) and which addresses pass. The transport is
 * tested against a real SMTP server in tests/integration/test-mail-report.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mail.h"

static void test_addresses(void **state)
{
	(void)state;
	assert_true(mail_address_ok("ci@example.org"));
	assert_true(mail_address_ok("a.b+c@x.example"));
	assert_false(mail_address_ok(NULL));
	assert_false(mail_address_ok("nobody"));
	assert_false(mail_address_ok("@example.org"));
	assert_false(mail_address_ok("a@"));
	assert_false(mail_address_ok("a@b@c"));
	assert_false(mail_address_ok("a b@example.org"));
	assert_false(mail_address_ok("a@example.org\nBcc: x@evil.example"));
	assert_false(mail_address_ok("<a@example.org>"));
	assert_false(mail_address_ok("a@example.org,b@example.org"));
	assert_false(mail_address_ok("-oQ/tmp@example.org")); /* an option to sendmail */
}

/* The head of msg (up to the blank line) into head. */
static void head_of(char *head, size_t n, const char *msg)
{
	const char *end = strstr(msg, "\n\n");

	assert_non_null(end);
	snprintf(head, n, "\n%.*s\n", (int)(end - msg), msg); /* every line after a \n */
}

static void test_compose(void **state)
{
	const char *to[] = {"list@example.org", "owner@example.org"};
	const struct mail_header h[] = {
	    {"X-Xenci-Failures", "staging:smoke:q35:regression"},
	    {"X-Xenci-Failures", "staging:boot:virt:broken"},
	    {"X-Evil", "x\r\nBcc: victim@example.org"},
	    {"Bad Name", "dropped"},
	};
	struct mail_msg m = {
	    .from = "ci@example.org",
	    .from_name = "xenci",
	    .to = to,
	    .nto = 2,
	    .subject = "[staging test] 12: régressions - FAIL",
	    .message_id = "abc@ci.example.org",
	    .in_reply_to = "prev@ci.example.org",
	    .references = "root@ci.example.org prev@ci.example.org",
	    .headers = h,
	    .nheaders = 4,
	    .body = "Line one\n.\nnon-ASCII: ü\n",
	};
	struct buf b = BUF_INIT(0);
	char head[4096], id[MAIL_ID_MAX], id2[MAIL_ID_MAX];

	(void)state;
	assert_int_equal(mail_compose(&b, &m), 0);
	head_of(head, sizeof(head), b.data);
	assert_non_null(strstr(head, "\nTo: list@example.org, owner@example.org\n"));
	assert_non_null(strstr(head, "From: xenci <ci@example.org>\n"));
	assert_non_null(strstr(head, "\nMessage-Id: <abc@ci.example.org>\n"));
	assert_non_null(strstr(head, "\nIn-Reply-To: <prev@ci.example.org>\n"));
	assert_non_null(
	    strstr(head, "\nReferences: <root@ci.example.org> <prev@ci.example.org>\n"));
	assert_non_null(strstr(head, "\nX-Xenci-Failures: staging:smoke:q35:regression\n"));
	assert_non_null(strstr(head, "\nX-Xenci-Failures: staging:boot:virt:broken\n"));
	/* an encoded-word for the non-ASCII subject, none of its raw bytes */
	assert_non_null(strstr(head, "\nSubject: [staging test] 12: =?"));
	assert_null(strstr(head, "régressions"));
	/* the CR LF became spaces: no header of its own */
	assert_null(strstr(head, "\nBcc:"));
	assert_null(strstr(head, "Bad Name"));
	assert_non_null(strstr(head, "\nDate: "));
	assert_non_null(strstr(head, "charset=utf-8"));
	assert_non_null(strstr(head, "Content-Transfer-Encoding: quoted-printable"));
	/* the body stays UTF-8 (not converted to ISO-8859-1, where =FC would fit) */
	assert_non_null(strstr(b.data, "non-ASCII: =C3=BC\n"));
	buf_release(&b);

	/* no recipient, a bad one */
	m.nto = 0;
	assert_int_equal(mail_compose(&b, &m), -EINVAL);
	m.nto = 1;
	m.to = (const char *[]){"a@b\nc"};
	assert_int_equal(mail_compose(&b, &m), -EINVAL);
	buf_release(&b);

	mail_message_id(id, sizeof(id), "ci.example.org");
	mail_message_id(id2, sizeof(id2), "ci.example.org");
	assert_non_null(strstr(id, "@ci.example.org"));
	assert_string_not_equal(id, id2);
}

static void test_transport(void **state)
{
	struct mail_transport t = {0}, c;
	const char *to[] = {"a@example.org"};
	char err[256];

	(void)state;
	assert_false(mail_transport_ready(&t));
	assert_int_equal(mail_send(&t, to, 1, "x\n", 2, err, sizeof(err)), -EINVAL);
	t.sendmail = "/bin/false";
	t.from = "ci@example.org";
	assert_true(mail_transport_ready(&t));
	mail_transport_copy(&c, &t);
	assert_string_equal(c.sendmail, "/bin/false");
	/* a program that fails is -EIO with why */
	assert_int_equal(mail_send(&c, to, 1, "x\n", 2, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "exited with 1"));
	/* an address that would be an option is refused before anything runs */
	to[0] = "-X/tmp/log@example.org";
	assert_int_equal(mail_send(&c, to, 1, "x\n", 2, err, sizeof(err)), -EINVAL);
	mail_transport_release(&c);
	mail_transport_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_compose),
	    cmocka_unit_test(test_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
