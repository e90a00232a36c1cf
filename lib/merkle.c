#include "merkle.h"

#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* One fetch of the SHA-256 implementation for the process (a fetch per hash would
 * cost more than the hash of a node). */
static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static int hash2(uint8_t out[MERKLE_HASH], uint8_t prefix, const void *a, size_t alen,
		 const void *b, size_t blen)
{
	EVP_MD_CTX *c;
	unsigned int len = 0;
	int ok;

	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL || (c = EVP_MD_CTX_new()) == NULL)
		return -EIO;
	ok = EVP_DigestInit_ex(c, sha256_md, NULL) == 1 && EVP_DigestUpdate(c, &prefix, 1) == 1 &&
	     (alen == 0 || EVP_DigestUpdate(c, a, alen) == 1) &&
	     (blen == 0 || EVP_DigestUpdate(c, b, blen) == 1) &&
	     EVP_DigestFinal_ex(c, out, &len) == 1 && len == MERKLE_HASH;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -EIO;
}

int merkle_leaf_hash(uint8_t out[MERKLE_HASH], const void *p, size_t n)
{
	return hash2(out, 0x00, p, n, NULL, 0);
}

int merkle_node_hash(uint8_t out[MERKLE_HASH], const uint8_t l[MERKLE_HASH],
		     const uint8_t r[MERKLE_HASH])
{
	return hash2(out, 0x01, l, MERKLE_HASH, r, MERKLE_HASH);
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;

	assert(n >= 2);
	while (k < n - k)
		k <<= 1;
	return k;
}

static unsigned log2_exact(uint64_t n)
{
	unsigned l = 0;

	while ((1ULL << l) < n)
		l++;
	return l;
}

/* MTH(D[lo:lo+n]), n >= 1. The recursion only meets ranges whose perfect parts are
 * aligned (a left part starts at a multiple of its size), so those are one lookup. */
static int subtree(const struct merkle_store *s, uint64_t lo, uint64_t n, uint8_t out[MERKLE_HASH])
{
	uint8_t l[MERKLE_HASH], r[MERKLE_HASH];
	uint64_t k;
	int rc;

	assert(n >= 1);
	if ((n & (n - 1)) == 0) {
		assert(lo % n == 0);
		return s->node(s->arg, log2_exact(n), lo / n, out);
	}
	k = split(n);
	if ((rc = subtree(s, lo, k, l)) < 0 || (rc = subtree(s, lo + k, n - k, r)) < 0)
		return rc;
	return merkle_node_hash(out, l, r);
}

int merkle_root(const struct merkle_store *s, uint64_t size, uint8_t out[MERKLE_HASH])
{
	if (size == 0) {
		unsigned int len = 0;

		return EVP_Digest("", 0, out, &len, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
	}
	return subtree(s, 0, size, out);
}

static int path_add(const struct merkle_store *s, uint64_t lo, uint64_t n,
		    uint8_t path[][MERKLE_HASH], size_t *count)
{
	if (*count >= MERKLE_MAX_PATH)
		return -E2BIG;
	return subtree(s, lo, n, path[(*count)++]);
}

static int inclusion(const struct merkle_store *s, uint64_t m, uint64_t lo, uint64_t n,
		     uint8_t path[][MERKLE_HASH], size_t *count)
{
	uint64_t k;
	int rc;

	if (n <= 1)
		return 0;
	k = split(n);
	if (m < k) {
		if ((rc = inclusion(s, m, lo, k, path, count)) < 0)
			return rc;
		return path_add(s, lo + k, n - k, path, count);
	}
	if ((rc = inclusion(s, m - k, lo + k, n - k, path, count)) < 0)
		return rc;
	return path_add(s, lo, k, path, count);
}

int merkle_inclusion_proof(const struct merkle_store *s, uint64_t index, uint64_t size,
			   uint8_t path[][MERKLE_HASH], size_t *count)
{
	*count = 0;
	if (index >= size)
		return -EINVAL;
	return inclusion(s, index, 0, size, path, count);
}

/* SUBPROOF(m, D[lo:lo+n], b) of RFC 9162 2.1.4.1. */
static int subproof(const struct merkle_store *s, uint64_t m, uint64_t lo, uint64_t n, int b,
		    uint8_t path[][MERKLE_HASH], size_t *count)
{
	uint64_t k;
	int rc;

	if (m == n)
		return b ? 0 : path_add(s, lo, n, path, count);
	k = split(n);
	if (m <= k) {
		if ((rc = subproof(s, m, lo, k, b, path, count)) < 0)
			return rc;
		return path_add(s, lo + k, n - k, path, count);
	}
	if ((rc = subproof(s, m - k, lo + k, n - k, 0, path, count)) < 0)
		return rc;
	return path_add(s, lo, k, path, count);
}

int merkle_consistency_proof(const struct merkle_store *s, uint64_t first, uint64_t second,
			     uint8_t path[][MERKLE_HASH], size_t *count)
{
	*count = 0;
	if (first == 0 || first > second)
		return -EINVAL;
	return subproof(s, first, 0, second, 1, path, count);
}

int merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH], uint64_t index, uint64_t size,
			    const uint8_t path[][MERKLE_HASH], size_t count,
			    const uint8_t root[MERKLE_HASH])
{
	uint8_t r[MERKLE_HASH];
	uint64_t fn = index, sn;
	size_t i;

	if (index >= size)
		return -EINVAL;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH);
	for (i = 0; i < count; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(r, path[i], r) < 0)
				return -EIO;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (merkle_node_hash(r, r, path[i]) < 0) {
			return -EIO;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MERKLE_HASH) == 0 ? 0 : -EBADMSG;
}

int merkle_verify_consistency(uint64_t first, uint64_t second,
			      const uint8_t first_root[MERKLE_HASH],
			      const uint8_t second_root[MERKLE_HASH],
			      const uint8_t path[][MERKLE_HASH], size_t count)
{
	uint8_t fr[MERKLE_HASH], sr[MERKLE_HASH];
	uint64_t fn, sn;
	size_t i = 0;

	if (first == 0 || first > second)
		return -EINVAL;
	if (first == second)
		return count == 0 && memcmp(first_root, second_root, MERKLE_HASH) == 0 ? 0
										       : -EBADMSG;
	if (count == 0)
		return -EBADMSG;
	/* A power-of-two first tree is itself the proof's first node. */
	if ((first & (first - 1)) == 0) {
		memcpy(fr, first_root, MERKLE_HASH);
	} else {
		memcpy(fr, path[0], MERKLE_HASH);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH);
	fn = first - 1;
	sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(fr, path[i], fr) < 0 ||
			    merkle_node_hash(sr, path[i], sr) < 0)
				return -EIO;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (merkle_node_hash(sr, sr, path[i]) < 0) {
			return -EIO;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, first_root, MERKLE_HASH) == 0 &&
		       memcmp(sr, second_root, MERKLE_HASH) == 0
		   ? 0
		   : -EBADMSG;
}

void merkle_mem_init(struct merkle_mem *m)
{
	memset(m, 0, sizeof(*m));
}

void merkle_mem_release(struct merkle_mem *m)
{
	unsigned l;

	if (m == NULL)
		return;
	for (l = 0; l < 64; l++)
		free(m->level[l]);
	memset(m, 0, sizeof(*m));
}

static int mem_push(struct merkle_mem *m, unsigned l, const uint8_t h[MERKLE_HASH])
{
	if (m->len[l] == m->cap[l]) {
		uint64_t cap = m->cap[l] ? 2 * m->cap[l] : 64;
		void *p = realloc(m->level[l], cap * MERKLE_HASH);

		if (p == NULL)
			return -ENOMEM;
		m->level[l] = p;
		m->cap[l] = cap;
	}
	memcpy(m->level[l][m->len[l]++], h, MERKLE_HASH);
	return 0;
}

unsigned merkle_completed_levels(uint64_t index)
{
	unsigned n = 0;

	while (n < 63 && ((index + 1) & ((2ULL << n) - 1)) == 0)
		n++;
	return n;
}

int merkle_mem_append(struct merkle_mem *m, const uint8_t leaf[MERKLE_HASH])
{
	unsigned l, up = merkle_completed_levels(m->size);
	uint8_t h[MERKLE_HASH];
	int rc;

	if ((rc = mem_push(m, 0, leaf)) < 0)
		return rc;
	for (l = 1; l <= up; l++) {
		uint64_t j = m->len[l - 1] - 2;

		if ((rc = merkle_node_hash(h, m->level[l - 1][j], m->level[l - 1][j + 1])) < 0 ||
		    (rc = mem_push(m, l, h)) < 0)
			return rc;
	}
	m->size++;
	return 0;
}

static int mem_node(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH])
{
	struct merkle_mem *m = arg;

	if (level >= 64 || index >= m->len[level])
		return -ENOENT;
	memcpy(out, m->level[level][index], MERKLE_HASH);
	return 0;
}

struct merkle_store merkle_mem_store(struct merkle_mem *m)
{
	struct merkle_store s = {mem_node, m};

	return s;
}

void merkle_hex(char out[2 * MERKLE_HASH + 1], const uint8_t h[MERKLE_HASH])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < MERKLE_HASH; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[2 * MERKLE_HASH] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int merkle_unhex(uint8_t out[MERKLE_HASH], const char *hex)
{
	size_t i;

	if (hex == NULL || strlen(hex) != 2 * MERKLE_HASH)
		return -EINVAL;
	for (i = 0; i < MERKLE_HASH; i++) {
		int a = nibble(hex[2 * i]), b = nibble(hex[2 * i + 1]);

		if (a < 0 || b < 0)
			return -EINVAL;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}
