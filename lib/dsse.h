/* DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1) holding in-toto
 * Statements v1: the signed records of attempts and builds, and the controller's
 * signed tree heads.
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *   envelope = {"payload": base64(body), "payloadType": type,
 *               "signatures": [{"keyid": KEYID, "sig": base64(SIG)}]}
 *
 * The signed bytes are the payload as its writer made them (canonical JSON here:
 * jansson's compact output with sorted keys); they travel base64-encoded, so an
 * envelope's text may be re-serialised without touching what was signed. */
#ifndef XENCI_DSSE_H
#define XENCI_DSSE_H

#include <jansson.h>
#include <stddef.h>

#include "sigkey.h"

#define DSSE_INTOTO_TYPE    "application/vnd.in-toto+json"
#define INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
/* The predicate types of xenci's statements. */
#define XENCI_PREDICATE_ATTEMPT "https://xenci.dev/attempt/v1"
#define XENCI_PREDICATE_BUILD	"https://xenci.dev/build/v1"
#define XENCI_TREE_HEAD_TYPE	"application/vnd.xenci.tree-head+json"
/* An envelope's text is at most this long (a record with 10000 test cases fits). */
#define DSSE_MAX (4 * 1024 * 1024)

/* PAE(type, body) appended into a malloc'd buffer (*out, *outlen). 0 or -ENOMEM. */
int dsse_pae(unsigned char **out, size_t *outlen, const char *type, const void *body, size_t len);
/* Canonical JSON of v: compact, keys sorted, non-ASCII escaped; malloc'd, NUL-ended. */
char *dsse_canonical(const json_t *v);

/* Signs body (len bytes) of type with k: the envelope's canonical text, malloc'd,
 * into *out. 0, or negative (sigkey_sign's codes, -ENOMEM). */
int dsse_sign(char **out, const struct sigkey *k, const char *type, const void *body, size_t len);

/* A parsed envelope. Strings borrowed from nothing: the struct owns them. */
struct dsse {
	char *type;
	unsigned char *payload; /* decoded, NUL-terminated */
	size_t payload_len;
	char *keyid; /* the first signature's */
	unsigned char *sig;
	size_t sig_len;
	size_t nsigs;
};
/* Parses an envelope's text (at most DSSE_MAX bytes): strict JSON, the three members
 * with their types, base64 that decodes, at least one signature whose keyid is a key
 * id (64 hex) and whose sig is 64 bytes. 0, or -EINVAL with why in err. */
int dsse_parse(struct dsse *d, const char *text, size_t len, char *err, size_t errlen);
/* 0 when d's first signature is k's over PAE(d->type, d->payload); -EBADMSG when not,
 * -EKEYREJECTED when the signature names another key. */
int dsse_verify(const struct dsse *d, const struct sigkey *k);
void dsse_release(struct dsse *d);

/* Parses d's payload as an in-toto Statement v1 (strict JSON, _type, subject array of
 * {name, digest: {sha256: 64 hex}}, predicateType, predicate object): new reference in
 * *out, or -EINVAL with why in err. */
int intoto_statement_parse(json_t **out, const struct dsse *d, char *err, size_t errlen);
/* The subject's sha256 named name in statement st, or NULL. Borrowed. */
const char *intoto_subject_sha256(const json_t *st, const char *name);

#endif
