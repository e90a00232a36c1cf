/* Outgoing mail, one path for every report: a plain-text message composed with
 * GMime (RFC 5322 headers, RFC 2047 encoded-words for non-ASCII values, a
 * Message-ID) and handed to a relay by SMTP through libcurl (smtp:// with
 * optional STARTTLS, smtps://, AUTH with a user and password, a timeout), or to a
 * local sendmail program through lib/proc (no shell; the recipients on its
 * command line).
 *
 *	struct mail_msg m = {.from = "ci@example.org", .to = to, .nto = 2,
 *			     .subject = "[staging test] 12: all pass - PUSHED",
 *			     .body = text};
 *	char id[MAIL_ID_MAX];
 *	mail_message_id(id, sizeof(id), "example.org");
 *	m.message_id = id;
 *	mail_compose(&msg, &m);
 *	mail_send(&transport, to, 2, msg.data, msg.len, err, sizeof(err));
 *
 * Nothing here logs. Every header value is cut at its first CR or LF (a commit's
 * author or subject is outside input) and bounded (MAIL_HEADER_MAX). */
#ifndef XENCI_MAIL_H
#define XENCI_MAIL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define MAIL_HEADER_MAX 998 /* a header value's bytes, after cleaning */
#define MAIL_ADDR_MAX	254 /* an address (RFC 5321 path limit) */
#define MAIL_ID_MAX	256 /* a Message-ID without its angle brackets */
#define MAIL_BODY_MAX	(4 << 20)
/* The From: of a transport that names none. */
#define MAIL_FROM_DEFAULT "xenci@localhost"

/* Where mail goes. Either smtp_url or sendmail (smtp_url wins when both are set);
 * neither: no mail. Strings are owned by the struct (mail_transport_release). */
struct mail_transport {
	char *smtp_url;	 /* "smtp://relay:587" or "smtps://relay:465" */
	int starttls;	 /* smtp://: STARTTLS required (the send fails without it) */
	char *user;	 /* AUTH user; NULL: no AUTH */
	char *password;	 /* AUTH password */
	char *cafile;	 /* CA bundle for the relay's certificate; NULL: the system's */
	char *sendmail;	 /* a sendmail program (-oi -f FROM -- RCPT...) */
	char *from;	 /* the envelope sender (MAIL FROM) and the From: address */
	long timeout_ms; /* the whole exchange; 0: 60 s */
};

/* Copies src into dst (every string duplicated); release dst with
 * mail_transport_release (NULL-safe). */
void mail_transport_copy(struct mail_transport *dst, const struct mail_transport *src);
void mail_transport_release(struct mail_transport *t);
/* 1 when t says where mail goes (an SMTP URL or a sendmail program). */
int mail_transport_ready(const struct mail_transport *t);

/* One extra header (name and a value; the value is encoded as needed). */
struct mail_header {
	const char *name;
	const char *value;
};

/* A message. Every string is borrowed and UTF-8. */
struct mail_msg {
	const char *from;      /* an address (mail_address_ok) */
	const char *from_name; /* a display name, or NULL */
	const char *const *to; /* addresses, nto of them (at least one) */
	size_t nto;
	const char *subject;	 /* encoded-words when it is not ASCII */
	const char *message_id;	 /* without <>; NULL: none */
	const char *in_reply_to; /* without <>; NULL: none */
	const char *references;	 /* ids without <>, separated by spaces; NULL: in_reply_to */
	const struct mail_header *headers;
	size_t nheaders;
	const char *body; /* the plain text (LF line ends) */
};

/* Initialises GMime once per process (any thread; also what controller/mbox.c
 * uses). */
void mail_init(void);

/* 1 when a is a plain address: one @, no spaces, quotes, angle brackets, commas,
 * semicolons, parentheses or backslashes, no controls, shorter than MAIL_ADDR_MAX. */
int mail_address_ok(const char *a);

/* A validator check (lib/validate.h's vfield.check) for an array of addresses:
 * each element mail_address_ok refuses is reported at its own line:col as
 * PATH[i]: not a mail address. */
struct vctx;
int mail_addresses_check(struct vctx *ctx, const json_t *parent, const char *key,
			 const json_t *value, const char *path);

/* A fresh, unique Message-ID (no angle brackets) at domain ("localhost" when
 * NULL) into out (n bytes, at least MAIL_ID_MAX). */
void mail_message_id(char *out, size_t n, const char *domain);

/* Appends message m to out (LF line ends; Date now, MIME-Version, a text/plain
 * UTF-8 part in 7bit or quoted-printable). Returns 0, -EINVAL (no sender, no
 * recipient, or an address mail_address_ok refuses) or -ENOSPC (out's maximum). */
int mail_compose(struct buf *out, const struct mail_msg *m);

/* Sends msg (len bytes, LF or CRLF line ends) from t->from to the nrcpt
 * addresses rcpt, through t: SMTP (the line ends made CRLF) or sendmail. Returns
 * 0; -EINVAL (no transport, no recipient, a bad address); -EIO (the relay or the
 * program refused or failed), -ETIMEDOUT; with one message in err (errlen bytes)
 * on failure. Blocks for up to t->timeout_ms: never call it with a lock held. */
int mail_send(const struct mail_transport *t, const char *const *rcpt, size_t nrcpt,
	      const char *msg, size_t len, char *err, size_t errlen);

#endif
