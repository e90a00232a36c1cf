#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

int sha256_init(struct sha256_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	c->md = md;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		sha256_release(c);
		return -ENOMEM;
	}
	return 0;
}

int sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
	return EVP_DigestUpdate(c->md, p, n) == 1 ? 0 : -EIO;
}

int sha256_final(struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	int rc = 0;

	if (EVP_DigestFinal_ex(c->md, md, &len) != 1 || len != 32) {
		rc = -EIO;
		goto out;
	}
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * len] = '\0';
out:
	sha256_release(c);
	return rc;
}

void sha256_release(struct sha256_ctx *c)
{
	if (c && c->md) {
		EVP_MD_CTX_free(c->md);
		c->md = NULL;
	}
}

int sha256_hex(char hex[SHA256_HEX_LEN + 1], const void *p, size_t n)
{
	struct sha256_ctx c;
	int rc = sha256_init(&c);

	if (rc < 0)
		return rc;
	rc = sha256_update(&c, p, n);
	if (rc < 0) {
		sha256_release(&c);
		return rc;
	}
	return sha256_final(&c, hex);
}

int sha256_file(char hex[SHA256_HEX_LEN + 1], const char *path, long long *size)
{
	struct sha256_ctx c;
	char block[65536];
	long long total = 0;
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = sha256_init(&c);
	if (rc < 0)
		goto out;
	while ((n = read(fd, block, sizeof(block))) > 0) {
		sha256_update(&c, block, (size_t)n);
		total += n;
	}
	if (n < 0) {
		rc = -errno;
		sha256_release(&c);
		goto out;
	}
	rc = sha256_final(&c, hex);
	if (size)
		*size = total;
out:
	close(fd);
	return rc;
}

int sha256_is_hex(const char *s)
{
	size_t i;

	for (i = 0; i < SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[SHA256_HEX_LEN] == '\0';
}

int token_generate(char *out, size_t outlen, const char *prefix)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[33]; /* 264 bits: 44 characters of 6 bits, the last one padding-free */
	size_t plen = strlen(prefix), i, o = 0;

	if (outlen < plen + 44 + 1)
		return -ENOSPC;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	memcpy(out, prefix, plen);
	o = plen;
	for (i = 0; i + 3 <= sizeof(raw); i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
