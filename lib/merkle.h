/* RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, section 2.1:
 * leaf hash SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right), the
 * split at the largest power of two below n, audit paths and consistency proofs
 * (2.1.3, 2.1.4) and their verification algorithms (2.1.3.2, 2.1.4.2).
 *
 * The tree's hashes come from a store: node(arg, level, index) gives the hash of
 * the perfect subtree of 2^level leaves starting at leaf index << level (level 0:
 * the leaf hashes). Only perfect subtrees that are complete in the tree are asked
 * for; every other node is computed from them, so a proof costs O(log^2 n)
 * lookups at most. SHA-256 is OpenSSL's. */
#ifndef XENCI_MERKLE_H
#define XENCI_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH 32
/* A path or proof is at most 2 * 64 hashes (a 2^64 tree). */
#define MERKLE_MAX_PATH 128

struct merkle_store {
	/* Returns 0 with the hash in out, or negative (passed on by the callers). */
	int (*node)(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH]);
	void *arg;
};

/* SHA-256(0x00 || p[0..n)). Returns 0 or -EIO. */
int merkle_leaf_hash(uint8_t out[MERKLE_HASH], const void *p, size_t n);
/* SHA-256(0x01 || l || r). Returns 0 or -EIO. */
int merkle_node_hash(uint8_t out[MERKLE_HASH], const uint8_t l[MERKLE_HASH],
		     const uint8_t r[MERKLE_HASH]);

/* MTH(D[0:size]); the empty tree's root is SHA-256(""). Returns 0 or negative. */
int merkle_root(const struct merkle_store *s, uint64_t size, uint8_t out[MERKLE_HASH]);
/* PATH(index, D[0:size]): the audit path of leaf index, nearest sibling first, into
 * path (room for MERKLE_MAX_PATH); *count set. -EINVAL when index >= size. */
int merkle_inclusion_proof(const struct merkle_store *s, uint64_t index, uint64_t size,
			   uint8_t path[][MERKLE_HASH], size_t *count);
/* PROOF(first, D[0:second]), 0 < first <= second (first == second: empty). -EINVAL
 * otherwise. */
int merkle_consistency_proof(const struct merkle_store *s, uint64_t first, uint64_t second,
			     uint8_t path[][MERKLE_HASH], size_t *count);

/* RFC 9162 2.1.3.2: 0 when leaf (a leaf hash) at index is in the tree of size with
 * root, -EBADMSG when the path does not prove it, -EINVAL for index >= size. */
int merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH], uint64_t index, uint64_t size,
			    const uint8_t path[][MERKLE_HASH], size_t count,
			    const uint8_t root[MERKLE_HASH]);
/* RFC 9162 2.1.4.2: 0 when the tree of size second and root second_root extends the
 * one of size first and root first_root; -EBADMSG when the proof does not show it,
 * -EINVAL for first > second or first == 0. */
int merkle_verify_consistency(uint64_t first, uint64_t second,
			      const uint8_t first_root[MERKLE_HASH],
			      const uint8_t second_root[MERKLE_HASH],
			      const uint8_t path[][MERKLE_HASH], size_t count);

/* An in-memory store (tests, the CLI's recomputation of a whole log): leaf hashes
 * appended in order; the perfect subtrees are kept per level. */
struct merkle_mem {
	uint8_t (*level[64])[MERKLE_HASH];
	uint64_t len[64], cap[64];
	uint64_t size;
};
void merkle_mem_init(struct merkle_mem *m);
void merkle_mem_release(struct merkle_mem *m);
/* Appends one leaf hash and the subtrees it completes. Returns 0, -ENOMEM or -EIO. */
int merkle_mem_append(struct merkle_mem *m, const uint8_t leaf[MERKLE_HASH]);
/* A store view of m (borrowed: valid while m lives). */
struct merkle_store merkle_mem_store(struct merkle_mem *m);

/* The subtrees that appending a leaf at index completes: for each level l >= 1 with
 * (index + 1) a multiple of 2^l, the node (l, (index + 1) / 2^l - 1). Their number. */
unsigned merkle_completed_levels(uint64_t index);

/* Lowercase hex of a hash (65 bytes with the NUL), and back (0, or -EINVAL). */
void merkle_hex(char out[2 * MERKLE_HASH + 1], const uint8_t h[MERKLE_HASH]);
int merkle_unhex(uint8_t out[MERKLE_HASH], const char *hex);

#endif
