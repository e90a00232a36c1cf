#include "sigkey.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "hash.h"

#define KEY_FILE_MAX 8192

static int set_id(struct sigkey *k)
{
	unsigned char raw[32];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1 || len != sizeof(raw))
		return -EIO;
	return sha256_hex(k->id, raw, len);
}

int sigkey_generate(struct sigkey *k)
{
	memset(k, 0, sizeof(*k));
	k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k->pkey == NULL)
		return -EIO;
	k->private_part = 1;
	if (set_id(k) < 0) {
		sigkey_release(k);
		return -EIO;
	}
	return 0;
}

static int adopt(struct sigkey *k, EVP_PKEY *p, int private_part)
{
	memset(k, 0, sizeof(*k));
	if (p == NULL)
		return -EINVAL;
	if (EVP_PKEY_get_id(p) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(p);
		return -EINVAL;
	}
	k->pkey = p;
	k->private_part = private_part;
	if (set_id(k) < 0) {
		sigkey_release(k);
		return -EINVAL;
	}
	return 0;
}

int sigkey_from_pem(struct sigkey *k, const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *p;

	memset(k, 0, sizeof(*k));
	if (b == NULL)
		return -ENOMEM;
	p = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (p == NULL) {
		/* A private key's file gives its public half. */
		BIO_free(b);
		if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
			return -ENOMEM;
		p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		if (p != NULL) {
			unsigned char raw[32];
			size_t rl = sizeof(raw);
			EVP_PKEY *pub = NULL;

			if (EVP_PKEY_get_raw_public_key(p, raw, &rl) == 1)
				pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rl);
			EVP_PKEY_free(p);
			p = pub;
		}
	}
	BIO_free(b);
	return adopt(k, p, 0);
}

static char *bio_text(BIO *b)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

char *sigkey_public_pem(const struct sigkey *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;

	if (b != NULL && PEM_write_bio_PUBKEY(b, k->pkey) == 1)
		out = bio_text(b);
	BIO_free(b);
	return out;
}

static char *private_pem(const struct sigkey *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;

	if (b != NULL && PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) == 1)
		out = bio_text(b);
	BIO_free(b);
	return out;
}

int sigkey_load_or_create(struct sigkey *k, const char *path, const char *pub_path)
{
	struct stat st;
	char *text = NULL, *pub = NULL;
	size_t len;
	BIO *b;
	int rc;

	memset(k, 0, sizeof(*k));
	rc = file_read(&text, &len, path, KEY_FILE_MAX);
	if (rc == 0) {
		if (stat(path, &st) == 0 && (st.st_mode & 077)) {
			free(text);
			return -EPERM;
		}
		b = BIO_new_mem_buf(text, (int)len);
		rc = b ? adopt(k, PEM_read_bio_PrivateKey(b, NULL, NULL, NULL), 1) : -ENOMEM;
		BIO_free(b);
		OPENSSL_cleanse(text, len);
		free(text);
		return rc == -EINVAL ? -EIO : rc;
	}
	if (rc != -ENOENT)
		return rc;
	if ((rc = sigkey_generate(k)) < 0)
		return rc;
	text = private_pem(k);
	pub = sigkey_public_pem(k);
	if (text == NULL || pub == NULL) {
		rc = -EIO;
		goto fail;
	}
	if ((rc = file_write_atomic(path, text, strlen(text), 0600, FILE_SYNC)) < 0)
		goto fail;
	if (pub_path && (rc = file_write_atomic(pub_path, pub, strlen(pub), 0644, FILE_SYNC)) < 0)
		goto fail;
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	free(pub);
	return 1;
fail:
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	free(pub);
	sigkey_release(k);
	return rc;
}

int sigkey_sign(const struct sigkey *k, const void *msg, size_t len,
		unsigned char sig[SIGKEY_SIG_LEN])
{
	EVP_MD_CTX *c;
	size_t siglen = SIGKEY_SIG_LEN;
	int ok;

	if (k->pkey == NULL || !k->private_part)
		return -EINVAL;
	if ((c = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(c, sig, &siglen, msg, len) == 1 && siglen == SIGKEY_SIG_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -EIO;
}

int sigkey_verify(const struct sigkey *k, const void *msg, size_t len, const unsigned char *sig,
		  size_t siglen)
{
	EVP_MD_CTX *c;
	int ok;

	if (k->pkey == NULL || siglen != SIGKEY_SIG_LEN)
		return -EBADMSG;
	if ((c = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(c, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -EBADMSG;
}

void sigkey_release(struct sigkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

char *base64_encode(const void *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int base64_decode(unsigned char **out, size_t *outlen, const char *s, size_t len)
{
	size_t i, pad = 0;
	unsigned char *buf;
	int n;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > 0x7ffffff0)
		return -EINVAL;
	if (len > 0 && s[len - 1] == '=')
		pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
	/* EVP_DecodeBlock skips whitespace and takes '=' anywhere: be strict first. */
	for (i = 0; i < len - pad; i++)
		if (!b64_char(s[i]))
			return -EINVAL;
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return -ENOMEM;
	n = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -EINVAL;
	}
	*outlen = (size_t)n - pad;
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}
