#include "dsse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "json-util.h"

int dsse_pae(unsigned char **out, size_t *outlen, const char *type, const void *body, size_t len)
{
	struct buf b = BUF_INIT(0);

	if (buf_printf(&b, "DSSEv1 %zu %s %zu ", strlen(type), type, len) < 0 ||
	    buf_append(&b, body, len) < 0) {
		buf_release(&b);
		return -ENOMEM;
	}
	*out = (unsigned char *)buf_detach(&b, outlen);
	return 0;
}

char *dsse_canonical(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
}

int dsse_sign(char **out, const struct sigkey *k, const char *type, const void *body, size_t len)
{
	unsigned char sig[SIGKEY_SIG_LEN], *pae = NULL;
	char *p64 = NULL, *s64 = NULL;
	size_t plen;
	json_t *env = NULL;
	int rc;

	*out = NULL;
	if ((rc = dsse_pae(&pae, &plen, type, body, len)) < 0)
		return rc;
	if ((rc = sigkey_sign(k, pae, plen, sig)) < 0)
		goto out;
	p64 = base64_encode(body, len);
	s64 = base64_encode(sig, sizeof(sig));
	env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payload", p64 ? p64 : "", "payloadType",
			type, "signatures", "keyid", k->id, "sig", s64 ? s64 : "");
	if (p64 == NULL || s64 == NULL || env == NULL || (*out = dsse_canonical(env)) == NULL)
		rc = -ENOMEM;
out:
	json_decref(env);
	free(pae);
	free(p64);
	free(s64);
	return rc;
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

int dsse_parse(struct dsse *d, const char *text, size_t len, char *err, size_t errlen)
{
	char jerr[160];
	json_t *env, *sigs, *s0;
	const char *payload, *type, *keyid, *sig;
	int rc = -EINVAL;

	memset(d, 0, sizeof(*d));
	if (len > DSSE_MAX)
		return fail(err, errlen, "envelope too large");
	env = json_parse(text, len, jerr, sizeof(jerr));
	if (env == NULL) {
		snprintf(err, errlen, "envelope: %s", jerr);
		return -EINVAL;
	}
	payload = jstr(env, "payload", NULL);
	type = jstr(env, "payloadType", NULL);
	sigs = json_object_get(env, "signatures");
	if (!json_is_object(env) || payload == NULL || type == NULL || !json_is_array(sigs) ||
	    json_array_size(sigs) == 0) {
		rc = fail(err, errlen, "envelope: payload, payloadType and signatures needed");
		goto out;
	}
	s0 = json_array_get(sigs, 0);
	keyid = jstr(s0, "keyid", NULL);
	sig = jstr(s0, "sig", NULL);
	if (keyid == NULL || sig == NULL || strlen(keyid) != SIGKEY_ID_LEN ||
	    !sha256_is_hex(keyid)) {
		rc = fail(err, errlen, "envelope: a signature needs a keyid (64 hex) and a sig");
		goto out;
	}
	if (base64_decode(&d->payload, &d->payload_len, payload, strlen(payload)) < 0) {
		rc = fail(err, errlen, "envelope: payload is not base64");
		goto out;
	}
	if (base64_decode(&d->sig, &d->sig_len, sig, strlen(sig)) < 0 ||
	    d->sig_len != SIGKEY_SIG_LEN) {
		rc = fail(err, errlen, "envelope: sig is not 64 bytes of base64");
		goto out;
	}
	d->type = strdup(type);
	d->keyid = strdup(keyid);
	d->nsigs = json_array_size(sigs);
	rc = d->type && d->keyid ? 0 : -ENOMEM;
out:
	json_decref(env);
	if (rc < 0)
		dsse_release(d);
	return rc;
}

int dsse_verify(const struct dsse *d, const struct sigkey *k)
{
	unsigned char *pae;
	size_t plen;
	int rc;

	if (strcmp(d->keyid, k->id) != 0)
		return -EKEYREJECTED;
	if ((rc = dsse_pae(&pae, &plen, d->type, d->payload, d->payload_len)) < 0)
		return rc;
	rc = sigkey_verify(k, pae, plen, d->sig, d->sig_len);
	free(pae);
	return rc;
}

void dsse_release(struct dsse *d)
{
	if (d == NULL)
		return;
	free(d->type);
	free(d->payload);
	free(d->keyid);
	free(d->sig);
	memset(d, 0, sizeof(*d));
}

int intoto_statement_parse(json_t **out, const struct dsse *d, char *err, size_t errlen)
{
	char jerr[160];
	json_t *st, *subj, *v;
	size_t i;

	*out = NULL;
	if (strcmp(d->type, DSSE_INTOTO_TYPE) != 0)
		return fail(err, errlen, "payloadType is not " DSSE_INTOTO_TYPE);
	st = json_parse((const char *)d->payload, d->payload_len, jerr, sizeof(jerr));
	if (st == NULL) {
		snprintf(err, errlen, "statement: %s", jerr);
		return -EINVAL;
	}
	subj = json_object_get(st, "subject");
	if (!json_is_object(st) || strcmp(jstr(st, "_type", ""), INTOTO_STATEMENT_V1) != 0 ||
	    !json_is_array(subj) || !json_is_string(json_object_get(st, "predicateType")) ||
	    !json_is_object(json_object_get(st, "predicate"))) {
		json_decref(st);
		return fail(err, errlen,
			    "statement: _type " INTOTO_STATEMENT_V1
			    ", subject, predicateType and predicate needed");
	}
	json_array_foreach (subj, i, v) {
		if (!json_is_string(json_object_get(v, "name")) ||
		    !sha256_is_hex(jstr(json_object_get(v, "digest"), "sha256", ""))) {
			json_decref(st);
			return fail(err, errlen,
				    "statement: each subject needs a name and a sha256 digest");
		}
	}
	*out = st;
	return 0;
}

const char *intoto_subject_sha256(const json_t *st, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach (json_object_get(st, "subject"), i, v)
		if (!strcmp(jstr(v, "name", ""), name))
			return jstr(json_object_get(v, "digest"), "sha256", NULL);
	return NULL;
}
