/* SHA-256 and secrets, from OpenSSL's libcrypto. */
#ifndef XENCI_HASH_H
#define XENCI_HASH_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx {
	void *md; /* EVP_MD_CTX */
};

/* A streaming hash: sha256_init (0, or -ENOMEM), sha256_update per piece (0, or
 * -EIO from libcrypto), then sha256_final, or sha256_release to give up. */
int sha256_init(struct sha256_ctx *c);
int sha256_update(struct sha256_ctx *c, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL into hex, and releases the context. */
int sha256_final(struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1]);
void sha256_release(struct sha256_ctx *c);

/* The hash of n bytes of p into hex (64 lowercase digits and a NUL): 0, or
 * sha256_init's or sha256_update's error. */
int sha256_hex(char hex[SHA256_HEX_LEN + 1], const void *p, size_t n);
/* Hashes a whole file; returns -errno when it cannot be read. */
int sha256_file(char hex[SHA256_HEX_LEN + 1], const char *path, long long *size);
/* 1 when s is 64 lowercase hex digits. */
int sha256_is_hex(const char *s);

/* A fresh random token: prefix followed by 44 base64url characters (264 random bits). */
int token_generate(char *out, size_t outlen, const char *prefix);
/* Constant-time comparison of two equal-length byte strings: 1 when equal. */
int secret_equal(const void *a, const void *b, size_t n);

#endif
