/* Ed25519 keys through OpenSSL's EVP: the agents' and the controller's signing
 * keys. Private keys are PKCS#8 PEM files, public keys SubjectPublicKeyInfo PEM
 * (what `openssl pkey -pubout` writes and `openssl pkeyutl -verify -rawin` reads).
 * A key's id is the SHA-256 of its 32 raw public bytes, in lowercase hex. */
#ifndef XENCI_SIGKEY_H
#define XENCI_SIGKEY_H

#include <stddef.h>

#define SIGKEY_ID_LEN  64
#define SIGKEY_SIG_LEN 64

struct sigkey {
	void *pkey; /* EVP_PKEY */
	int private_part;
	char id[SIGKEY_ID_LEN + 1];
};

/* A fresh key pair. 0 or -EIO. Release with sigkey_release. */
int sigkey_generate(struct sigkey *k);
/* Loads path's private key when it exists; otherwise makes one and writes it there
 * (mode 0600, atomically) and its public half to pub_path (0644; NULL: none). An
 * existing key file that is group- or world-accessible is refused: -EPERM. Returns 0
 * (1 when the key was just made) or -errno / -EIO (a file that is not an Ed25519
 * key). */
int sigkey_load_or_create(struct sigkey *k, const char *path, const char *pub_path);
/* Parses a public (or private: its public half is kept) key from PEM text. 0, or
 * -EINVAL when it is not an Ed25519 key. */
int sigkey_from_pem(struct sigkey *k, const char *pem, size_t len);
/* The public key as PEM text, NUL-terminated, malloc'd (the caller frees). NULL on
 * failure. */
char *sigkey_public_pem(const struct sigkey *k);
/* sig (64 bytes) over msg. 0, -EINVAL for a key without its private half, -EIO. */
int sigkey_sign(const struct sigkey *k, const void *msg, size_t len,
		unsigned char sig[SIGKEY_SIG_LEN]);
/* 0 when sig is k's signature of msg, else -EBADMSG. */
int sigkey_verify(const struct sigkey *k, const void *msg, size_t len, const unsigned char *sig,
		  size_t siglen);
void sigkey_release(struct sigkey *k);

/* Standard base64 with padding (RFC 4648 section 4), NUL-terminated, malloc'd. */
char *base64_encode(const void *p, size_t n);
/* Decodes standard base64 (padding required, no whitespace) into a malloc'd buffer
 * (*out, *outlen; NUL-terminated for convenience). 0, -EINVAL or -ENOMEM. */
int base64_decode(unsigned char **out, size_t *outlen, const char *s, size_t len);

#endif
