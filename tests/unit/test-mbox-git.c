/* Patch mails as `git am` reads them: every case is a mail (or mbox) made the way
 * a mail client or a mailing list sends it, given both to the real `git am` (in a
 * clone of the base) and to xenci (controller/mbox + controller/git-apply on the
 * base). Both must make the same commits (trees, authors, messages), or both
 * refuse; a refusal from xenci names the patch, file and hunk in valid UTF-8.
 *
 * The kinds: "From " lines in commit messages and mbox separators (mailsplit's
 * rule), a single mail without separator, ">From " quoting, format=flowed with
 * and without DelSp (also under quoted-printable), every transfer encoding with
 * UTF-8 and ISO-8859-1 messages over Latin-1 file contents, RFC 2047 headers, a
 * patch attached in a multipart mail, CRLF mboxes, CRLF inside base64, cover
 * letters that carry a diff, scissors lines (default and --scissors). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../harness/harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controller/git-apply.h"
#include "utf8.h"
#include "buf.h"

static char dir[256];

#define sh(...)		     harness_sh(dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(dir, out, len, __VA_ARGS__)
#define GIT                                                                                        \
	"git -c user.name=Base -c user.email=base@example.org -c init.defaultBranch=master "       \
	"-c core.quotepath=false "

/* How a case's mails are made from `git format-patch --stdout`. */
enum {
	BARE = 1 << 0,	      /* the separator line removed: a single saved mail */
	CRLF = 1 << 1,	      /* every line end CRLF */
	FLOWED = 1 << 2,      /* format=flowed, long lines soft-broken after a space */
	DELSP = 1 << 3,	      /* format=flowed; delsp=yes, lines broken anywhere */
	QP = 1 << 4,	      /* quoted-printable body */
	B64 = 1 << 5,	      /* base64 body */
	LATIN1 = 1 << 6,      /* message and headers in ISO-8859-1 */
	COVER = 1 << 7,	      /* a [PATCH 0/N] cover letter carrying a diff */
	SCISSORS = 1 << 8,    /* xenci and git am both with scissors */
	B64CRLF = 1 << 9,     /* base64 of a body with CRLF line ends */
	ATTACH = 1 << 10,     /* the patch as a base64 ISO-8859-1 attachment */
	FORMATPATCH = 1 << 11 /* as format-patch wrote it */
};

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-test-mbox-git.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* The base: a C file, a Latin-1 text, an indented file, a file with a Latin-1
	 * name. */
	sh(GIT "init -q base && cd base && seq 1 40 | sed 's/^/line /' > sched.c && "
	       "printf 'caf\\351\\nna\\357ve\\n' > latin1.txt && "
	       "printf 'int f(void)\\n{\\n    return 0;\\n}\\n' > indent.c && "
	       "printf 'one\\ntwo\\n' > \"$(printf 'r\\351sum\\351.txt')\" && "
	       "printf 'a\\n        return first_function(argument_one, argument_two) + "
	       "second_function(argument_three);\\nb\\nc\\n' > long.c && " GIT "add -A && " GIT
	       "commit -qm base");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	if (getenv("XENCI_TEST_KEEP")) /* to look at the mails after a failure */
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Reads a file of the test folder into b. */
static void slurp(struct buf *b, const char *name)
{
	assert_int_equal(harness_read_file(b, dir, name), 0);
}

static void spill(const char *name, const struct buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	fclose(f);
}

/* format=flowed as a mail client writes it: lines starting with a space, ">" or
 * "From " are space-stuffed; a line longer than 60 bytes is soft-broken, after a
 * space (the space stays at the end), or anywhere with DelSp=yes (a space is
 * added and deleted by the reader). */
static void flow_line(struct buf *o, const char *l, size_t n, int delsp)
{
	int first = 1;

	for (;;) {
		size_t cut = n;

		if (first || (n && l[0] == ' '))
			if (n && (l[0] == ' ' || l[0] == '>' || (n >= 5 && !memcmp(l, "From ", 5))))
				buf_putc(o, ' ');
		first = 0;
		if (n > 60) {
			if (delsp) {
				cut = 60;
			} else {
				cut = 0;
				for (size_t k = 60; k > 0; k--)
					if (l[k - 1] == ' ') {
						cut = k;
						break;
					}
				if (cut == 0)
					cut = n;
			}
		}
		buf_append(o, l, cut);
		if (cut == n)
			break;
		if (delsp)
			buf_putc(o, ' ');
		buf_putc(o, '\n');
		l += cut;
		n -= cut;
	}
	buf_putc(o, '\n');
}

static void qp_encode(struct buf *o, const char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int enc = c == '=' || c > 126 || (c < 32 && c != '\n' && c != '\t') ||
			  ((c == ' ' || c == '\t') && (i + 1 == n || s[i + 1] == '\n'));

		if (c == '\n') {
			buf_putc(o, '\n');
			col = 0;
			continue;
		}
		if (col + (enc ? 3 : 1) > 75) {
			buf_puts(o, "=\n");
			col = 0;
		}
		if (enc)
			buf_printf(o, "=%02X", c);
		else
			buf_putc(o, (char)c);
		col += enc ? 3 : 1;
	}
}

static void b64_encode(struct buf *o, const char *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned char)s[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)s[i + 2];
		buf_putc(o, t[(v >> 18) & 63]);
		buf_putc(o, t[(v >> 12) & 63]);
		buf_putc(o, left > 1 ? t[(v >> 6) & 63] : '=');
		buf_putc(o, left > 2 ? t[v & 63] : '=');
		col += 4;
		if (col >= 76) {
			buf_putc(o, '\n');
			col = 0;
		}
	}
	if (col)
		buf_putc(o, '\n');
}

/* UTF-8 é, ï, ü, ß in s[0..n) become ISO-8859-1 bytes. */
static void to_latin1(struct buf *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] == 0xc3 && i + 1 < n) {
			buf_putc(o, (char)((unsigned char)s[i + 1] + 0x40));
			i++;
		} else {
			buf_putc(o, s[i]);
		}
	}
}

/* One mail of format-patch's output made as the flags say. */
static void make_mail(struct buf *o, const char *m, size_t n, int flags)
{
	const char *body = strstr(m, "\n\n");
	size_t hlen = body ? (size_t)(body - m) + 1 : n;
	struct buf b = BUF_INIT(0), h = BUF_INIT(0);
	const char *charset = flags & LATIN1 ? "ISO-8859-1" : "UTF-8";
	const char *l;

	/* Headers without format-patch's MIME ones. */
	for (l = m; l < m + hlen;) {
		const char *e = memchr(l, '\n', (size_t)(m + hlen - l));
		size_t ll = e ? (size_t)(e - l) + 1 : (size_t)(m + hlen - l);

		if (strncmp(l, "Content-", 8) && strncmp(l, "MIME-Version", 12)) {
			if ((flags & LATIN1) && !strncmp(l, "Subject:", 8)) {
				/* An RFC 2047 subject in ISO-8859-1. */
				buf_puts(&h, "Subject: =?ISO-8859-1?Q?");
				for (const char *c = l + 9; c < l + ll - 1; c++) {
					if ((unsigned char)*c == 0xc3) {
						buf_printf(&h, "=%02X", (unsigned char)c[1] + 0x40);
						c++;
					} else if (*c == ' ') {
						buf_putc(&h, '_');
					} else if (*c == '?' || *c == '=' || *c == '_') {
						buf_printf(&h, "=%02X", (unsigned char)*c);
					} else {
						buf_putc(&h, *c);
					}
				}
				buf_puts(&h, "?=\n");
			} else {
				buf_append(&h, l, ll);
			}
		}
		l += ll;
	}
	body = body ? body + 2 : m + n;
	if (flags & LATIN1) {
		/* The message converted, the diff's bytes left as they are. */
		const char *brk = strstr(body, "\n---\n");
		size_t mlen = brk ? (size_t)(brk - body) + 1 : strlen(body);

		to_latin1(&b, body, mlen);
		buf_append(&b, body + mlen, (size_t)(m + n - body) - mlen);
	} else {
		buf_append(&b, body, (size_t)(m + n - body));
	}
	if (flags & (FLOWED | DELSP)) {
		struct buf f = BUF_INIT(0);

		for (l = b.data; l < b.data + b.len;) {
			const char *e = memchr(l, '\n', (size_t)(b.data + b.len - l));
			size_t ll = e ? (size_t)(e - l) : (size_t)(b.data + b.len - l);

			if (ll == 3 && !memcmp(l, "-- ", 3))
				buf_puts(&f, "-- \n");
			else
				flow_line(&f, l, ll, flags & DELSP);
			l += ll + (e ? 1 : 0);
		}
		buf_release(&b);
		b = f;
	}
	if (flags & B64CRLF) {
		struct buf c = BUF_INIT(0);

		for (size_t i = 0; i < b.len; i++) {
			if (b.data[i] == '\n')
				buf_putc(&c, '\r');
			buf_putc(&c, b.data[i]);
		}
		buf_release(&b);
		b = c;
	}
	buf_append(o, h.data, h.len);
	if (flags & ATTACH) {
		/* The message inline, the patch (from "---" on) attached. */
		const char *brk = strstr(b.data, "\n---\n");
		size_t mlen = (size_t)(brk - b.data) + 1;

		buf_puts(o, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n"
			    "This is a multi-part message in MIME format.\n--XX\n"
			    "Content-Type: text/plain; charset=ISO-8859-1; format=flowed\n"
			    "Content-Transfer-Encoding: 8bit\n\n");
		to_latin1(o, b.data, mlen);
		buf_puts(o, "\n--XX\nContent-Type: text/x-patch; charset=ISO-8859-1; "
			    "name=\"0001.patch\"\nContent-Transfer-Encoding: base64\n"
			    "Content-Disposition: attachment; filename=\"0001.patch\"\n\n");
		b64_encode(o, brk + 1, b.len - mlen);
		buf_puts(o, "--XX--\n");
	} else if (!(flags & FORMATPATCH)) {
		buf_printf(o, "MIME-Version: 1.0\nContent-Type: text/plain; charset=%s%s%s\n",
			   charset, flags & (FLOWED | DELSP) ? "; format=flowed" : "",
			   flags & DELSP ? "; delsp=yes" : "");
		buf_printf(o, "Content-Transfer-Encoding: %s\n\n",
			   flags & QP		     ? "quoted-printable"
			   : flags & (B64 | B64CRLF) ? "base64"
						     : "8bit");
		if (flags & QP)
			qp_encode(o, b.data, b.len);
		else if (flags & (B64 | B64CRLF))
			b64_encode(o, b.data, b.len);
		else
			buf_append(o, b.data, b.len);
	} else {
		buf_puts(o, "\n");
		buf_append(o, b.data, b.len);
	}
	buf_release(&b);
	buf_release(&h);
}

/* format-patch's mbox made as the flags say, mail by mail. */
static void make_mbox(struct buf *o, const struct buf *raw, int flags)
{
	const char *m = raw->data, *end = raw->data + raw->len;

	while (m < end) {
		const char *sep = m;
		const char *next = strstr(m + 1, "\nFrom ");
		const char *nl = strchr(m, '\n');

		/* Only format-patch's own separators split (its mails have no others). */
		while (next && !(strlen(next + 1) > 60 && !memcmp(next + 46, " Mon Sep 17", 11)))
			next = strstr(next + 1, "\nFrom ");
		next = next ? next + 1 : end;
		if (!(flags & BARE))
			buf_append(o, sep, (size_t)(nl - sep) + 1);
		make_mail(o, nl + 1, (size_t)(next - nl - 1), flags);
		m = next;
	}
	if (flags & CRLF) {
		struct buf c = BUF_INIT(0);

		for (size_t i = 0; i < o->len; i++) {
			if (o->data[i] == '\n')
				buf_putc(&c, '\r');
			buf_putc(&c, o->data[i]);
		}
		buf_release(o);
		*o = c;
	}
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096], out[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	return harness_run(argv, out, sizeof(out));
}

struct mcase {
	const char *name;
	const char *work; /* commands in a fresh clone of base that make the commits */
	int flags;
	int refused;	   /* what git am (and so xenci) is expected to do: 1 refuses */
	const char *range; /* what format-patch takes; NULL: origin/master */
	const char *says;  /* NULL, or what xenci's refusal must hold */
};

/* Gives the case's mail to git am and to xenci and compares. */
static void check_case(const struct mcase *c)
{
	struct buf raw = BUF_INIT(0), mail = BUF_INIT(0), gitmail = BUF_INIT(0);
	struct patch_series s;
	struct apply_error e;
	struct gitrepo *r;
	char path[600], err[800], out[GITREPO_HEX], want[8192], got[8192], ref[128];
	int am, xrc;

	print_message("case %s\n", c->name);
	sh(GIT "clone -q base w-%s && cd w-%s && %s && " GIT "format-patch -q --stdout %s "
	       "%s > ../%s.raw",
	   c->name, c->name, c->work, c->flags & COVER ? "--cover-letter" : "",
	   c->range ? c->range : "origin/master", c->name);
	snprintf(path, sizeof(path), "%s.raw", c->name);
	slurp(&raw, path);
	if (c->flags & COVER) {
		/* The cover letter carries an interdiff, a diff of its own. */
		char *blurb = strstr(raw.data, "*** BLURB HERE ***");
		struct buf w = BUF_INIT(0);

		assert_non_null(blurb);
		buf_append(&w, raw.data, (size_t)(blurb - raw.data));
		buf_puts(&w, "Interdiff against v1:\ndiff --git a/sched.c b/sched.c\n"
			     "--- a/sched.c\n+++ b/sched.c\n@@ -1 +1 @@\n-line 1\n+line one\n");
		buf_append(&w, blurb, raw.len - (size_t)(blurb - raw.data));
		buf_release(&raw);
		raw = w;
	}
	make_mbox(&mail, &raw, c->flags);
	snprintf(path, sizeof(path), "%s.mbox", c->name);
	spill(path, &mail);
	if (c->flags & COVER) {
		/* git am has no notion of a cover letter: it gets the patches alone. */
		sh("cd w-%s && " GIT "format-patch -q --stdout origin/master > ../%s.nocover",
		   c->name, c->name);
		snprintf(path, sizeof(path), "%s.nocover", c->name);
		slurp(&raw, path);
		make_mbox(&gitmail, &raw, c->flags & ~COVER);
		snprintf(path, sizeof(path), "%s.git.mbox", c->name);
		spill(path, &gitmail);
	} else {
		snprintf(path, sizeof(path), "%s.mbox", c->name);
	}
	am = run("cd %s && " GIT "clone -q base am-%s && cd am-%s && " GIT
		 "am -q %s ../%s >/dev/null 2>&1",
		 dir, c->name, c->name, c->flags & SCISSORS ? "--scissors" : "", path);

	snprintf(path, sizeof(path), "%s/base", dir);
	assert_int_equal(gitrepo_open(&r, path, err, sizeof(err)), 0);
	patch_series_init(&s);
	s.scissors = !!(c->flags & SCISSORS);
	snprintf(ref, sizeof(ref), "refs/xenci/%s", c->name);
	memset(&e, 0, sizeof(e));
	xrc = patch_series_add(&s, c->name, mail.data, mail.len, err, sizeof(err));
	if (xrc == 0)
		xrc = patch_series_finish(&s, err, sizeof(err));
	if (xrc == 0) {
		xrc = gitrepo_apply_series(out, r, "master", &s, ref, &e);
		if (xrc < 0)
			snprintf(err, sizeof(err), "%s", e.message);
	}
	print_message("  git am: %s; xenci: %s%s\n", am == 0 ? "applied" : "refused",
		      xrc == 0 ? "applied" : "refused: ", xrc == 0 ? "" : err);
	assert_int_equal(am == 0, xrc == 0);
	assert_int_equal(am != 0, c->refused);
	if (xrc == 0) {
		/* The same trees, authors and messages. */
		shout(want, sizeof(want),
		      "git -C am-%s log --format='%%T %%an <%%ae>%%n%%B' "
		      "origin/master..",
		      c->name);
		shout(got, sizeof(got),
		      "git -C base log --format='%%T %%an <%%ae>%%n%%B' master..%s", out);
		assert_string_equal(got, want);
	} else {
		assert_true(utf8_valid(err, strlen(err)));
		if (c->says)
			assert_non_null(strstr(err, c->says));
	}
	patch_series_release(&s);
	gitrepo_free(r);
	buf_release(&raw);
	buf_release(&mail);
	buf_release(&gitmail);
}

/* Commit commands. */
#define C(msg) GIT "commit -qam " msg " --author='D\xc3\xa9v Eloper <dev@example.org>'"
#define FROM_MSG                                                                                   \
	"'sched: the credit' -m 'From the second line on, the credit is charged once.' -m "        \
	"'>From a quoted line, and\nFrom here too.'"
#define LONG_LINE                                                                                  \
	"echo '    return f(g(h(1), 2), 3) + first_argument_of_many + second_argument_of_many "    \
	"+ third;' >> indent.c && echo "                                                           \
	"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' >> "      \
	"indent.c && sed -i 's/^    return 0;/    return 1;/' indent.c"
#define LATIN1_EDIT                                                                                \
	"printf 'caf\\351\\nna\\357ve \\374ber\\n' > latin1.txt && sed -i 's/^line 7$/line "       \
	"seven/' sched.c"

static const struct mcase cases[] = {
    /* Input 1 and its kind: "From " at the start of a message line. */
    {"from-line", "sed -i 's/^line 3$/line three/' sched.c && " C(FROM_MSG), FORMATPATCH, 0, NULL,
     NULL},
    {"from-line-2",
     "sed -i 's/^line 3$/line three/' sched.c && " C(
	 FROM_MSG) " && sed -i 's/^line 9$/line nine/' sched.c && " C("'second' -m 'From 10:30:00 "
								      "2023 on, "
								      "the counter was reset.'"),
     FORMATPATCH, 1, NULL, NULL},
    {"bare", "sed -i 's/^line 3$/line three/' sched.c && " C(FROM_MSG), BARE | FORMATPATCH, 0, NULL,
     NULL},
    {"crlf", "sed -i 's/^line 3$/line three/' sched.c && " C(FROM_MSG), CRLF | FORMATPATCH, 0, NULL,
     NULL},
    /* Input 2 and its kind: format=flowed. */
    {"flowed-delsp",
     LONG_LINE " && " C("'indent: a long line' -m 'A message line that is "
			"long enough to be wrapped by a mail client that "
			"sends format=flowed.'"),
     DELSP, 0, NULL, NULL},
    {"flowed",
     LONG_LINE " && " C("'indent: a long line' -m 'A message line that is long "
			"enough to be wrapped by a mail client that sends "
			"format=flowed.'"),
     FLOWED, 0, NULL, NULL},
    {"flowed-qp", LONG_LINE " && " C("'indent: caf\xc3\xa9'"), DELSP | QP, 0, NULL, NULL},
    {"flowed-crlf", LONG_LINE " && " C("'indent: crlf'"), DELSP | CRLF, 0, NULL, NULL},
    /* A long context line soft-broken: git joins it back, and under
     * quoted-printable it also loses the context line's leading space (git reads
     * the joined line as stuffed again) and refuses; xenci does the same. */
    {"flowed-context", "sed -i 's/^b$/B/' long.c && " C("'long: context'"), DELSP, 0, NULL, NULL},
    {"flowed-context-qp", "sed -i 's/^b$/B/' long.c && " C("'long: context'"), DELSP | QP, 1, NULL,
     "long.c: hunk #1"},
    {"flowed-context-nodelsp", "sed -i 's/^b$/B/' long.c && " C("'long: context'"), FLOWED, 0, NULL,
     NULL},
    /* Transfer encodings and charsets: the message to UTF-8, the diff as sent. */
    {"utf8-8bit", LATIN1_EDIT " && " C("'caf\xc3\xa9: na\xc3\xafve' -m 'Gr\xc3\xbc\xc3\x9f'"), 0, 0,
     NULL, NULL},
    {"utf8-qp", LATIN1_EDIT " && " C("'caf\xc3\xa9: na\xc3\xafve' -m 'Gr\xc3\xbc\xc3\x9f'"), QP, 0,
     NULL, NULL},
    {"utf8-b64", LATIN1_EDIT " && " C("'caf\xc3\xa9: na\xc3\xafve' -m 'Gr\xc3\xbc\xc3\x9f'"), B64,
     0, NULL, NULL},
    {"latin1-8bit", LATIN1_EDIT " && " C("'caf\xc3\xa9: na\xc3\xafve' -m 'Gr\xc3\xbc\xc3\x9f'"),
     LATIN1, 0, NULL, NULL},
    {"latin1-qp", LATIN1_EDIT " && " C("'caf\xc3\xa9: na\xc3\xafve' -m 'Gr\xc3\xbc\xc3\x9f'"),
     LATIN1 | QP, 0, NULL, NULL},
    {"latin1-b64", LATIN1_EDIT " && " C("'caf\xc3\xa9: na\xc3\xafve' -m 'Gr\xc3\xbc\xc3\x9f'"),
     LATIN1 | B64, 0, NULL, NULL},
    {"latin1-attach", LATIN1_EDIT " && " C("'caf\xc3\xa9: attached' -m 'Gr\xc3\xbc\xc3\x9f'"),
     ATTACH, 0, NULL, NULL},
    /* Quoted CRLF: git am keeps the CRs base64 carries, and the patch does not
     * apply. */
    {"b64-crlf", "sed -i 's/^line 3$/line three/' sched.c && " C("'sched: b64 crlf'"), B64CRLF, 1,
     NULL, "sched.c: hunk #1 (@@ -1,6 +1,6 @@) does not apply"},
    /* A cover letter with a diff is skipped (git am is given the patches alone). */
    {"cover-diff",
     "sed -i 's/^line 3$/line three/' sched.c && " C(
	 "'one'") " && sed -i "
		  "'s/^line 30$/line thirty/' sched.c && " C("'two'"),
     COVER | FORMATPATCH, 0, NULL, NULL},
    /* Scissors: git am keeps the whole message by default; --scissors cuts. */
    {"scissors-default",
     "sed -i 's/^line 3$/line three/' sched.c && " C(
	 "'sched: above' -m 'Above the cut.' -m '-- >8 --' -m "
	 "'Subject: [PATCH] sched: below\n\nBelow the cut.'"),
     FORMATPATCH, 0, NULL, NULL},
    {"scissors",
     "sed -i 's/^line 3$/line three/' sched.c && " C(
	 "'sched: above' -m 'Above the cut.' -m '-- >8 --' -m "
	 "'Subject: [PATCH] sched: below\n\nBelow the cut.'"),
     SCISSORS | FORMATPATCH, 0, NULL, NULL},
    /* A patch that does not apply, on a file with a Latin-1 name: both refuse, and
     * xenci's refusal is valid UTF-8. */
    {"refused-latin1-name",
     "f=$(printf 'r\\351sum\\351.txt') && echo zero > \"$f\" && " GIT
     "commit -qam hidden && echo three >> \"$f\" && " C("'r\xc3\xa9sum\xc3\xa9'"),
     FORMATPATCH, 1, "HEAD~1",
     "patch 1 of 1 (\"r\xc3\xa9sum\xc3\xa9\", refused-latin1-name, mail 1): r\\xe9sum\\xe9.txt: "
     "hunk #1 (@@ -1 +1,2 @@) does not apply"},
};

static void test_like_git_am(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_like_git_am, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
