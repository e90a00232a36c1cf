/* Patch mails: a series of `git format-patch` files or an mbox as a mail client
 * saves it, read as `git am` reads them by default (git mailsplit -b, then git
 * mailinfo without --scissors): an mbox is split only at separator lines that
 * look like "From <who> <date>" (mailsplit's rule), a document without one is a
 * single mail, CRLF line ends become LF, ">From " lines are kept (mbox, not
 * mboxrd). Each mail is parsed with GMime (MIME parts, RFC 2047 headers); each
 * part's lines are decoded (quoted-printable, base64) and format=flowed is undone
 * (RFC 3676, DelSp) as mailinfo does; the commit message runs to the patch break
 * ("---", "diff -", "Index: ") and is converted to UTF-8 from the part's charset,
 * while the patch keeps the bytes as sent. Each patch keeps what `git am` would
 * take from it: the author, the date, the subject (without "[PATCH v2 3/7]") and
 * the message, and the diff text for libgit2. Cover letters ("[PATCH 0/N]", even
 * with a diff, or a first mail without a diff among several) are skipped.
 *
 * Everything here is outside input: sizes are bounded and every refusal says
 * which document and which mail. Thread-safe once mbox_init() ran (it is called
 * by every entry point). */
#ifndef XENCI_MBOX_H
#define XENCI_MBOX_H

#include <stddef.h>

#define MBOX_MAX_SIZE	 (32 * 1024 * 1024) /* all documents of one series together */
#define MBOX_MAX_PATCHES 200		    /* a longer series is refused */
#define MBOX_MAX_HEADER	 1024		    /* author name, e-mail, subject: longer is refused */

struct patch_mail {
	char *author_name;  /* UTF-8, never NULL ("" when the mail has none) */
	char *author_email; /* never NULL */
	long long time;	    /* seconds since the epoch */
	int tz_minutes;	    /* the author's offset from UTC */
	char *subject;	    /* one line, prefix stripped */
	char *message;	    /* "subject\n\nbody\n" as git am makes it */
	char *diff;	    /* from the first "diff --git" (or "--- ") line to the end */
	size_t diff_len;
	int number, total; /* from "[PATCH n/m]"; 0 when the subject has none */
	char source[96];   /* "series.mbox, mail 3" for messages */
};

struct patch_series {
	struct patch_mail *patches;
	size_t count;
	size_t bytes; /* input consumed so far, against MBOX_MAX_SIZE */
	int skipped_covers;
	int scissors; /* 1: honour scissors lines ("-- >8 --") as `git am --scissors`;
		       * 0 (patch_series_init) as `git am` by default */
};

/* GMime's one initialisation (lib/mail.h's mail_init): call once before any
 * thread parses a mail. */
void mbox_init(void);

/* An empty series (scissors off); patch_series_release frees its patches and
 * leaves it empty again (s may be NULL). */
void patch_series_init(struct patch_series *s);
void patch_series_release(struct patch_series *s);

/* Adds the patches of one document to s, in order: an mbox (one or more mails,
 * each starting with a "From " line, as `git format-patch --stdout` or a mail
 * client writes) or a single mail file. name names the document in messages.
 * Returns 0, or -1 with a message in err and s unchanged: no mails, a mail with
 * no diff that is not a cover letter, a message in a charset that does not
 * convert, a patch without an author, too large or too many. */
int patch_series_add(struct patch_series *s, const char *name, const char *data, size_t len,
		     char *err, size_t errlen);

/* Undoes format=flowed (RFC 3676) in text as git mailinfo does, appending the
 * result to out: space-stuffing removed, soft-broken lines joined (their last
 * space dropped when delsp), "-- " kept; soft-broken text that no line ends is
 * dropped, as git drops it. */
struct buf;
void mbox_unflow(struct buf *out, const char *text, size_t len, int delsp);

/* After the last document: refuses an empty series (-1 with err). */
int patch_series_finish(struct patch_series *s, char *err, size_t errlen);

#endif
