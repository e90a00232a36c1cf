/* The transparency log of results (docs/traceability.md): every accepted record (an
 * agent's signed statement of an attempt or a build) is a leaf of an append-only
 * Merkle tree (RFC 9162, lib/merkle.c) whose heads the controller signs with its own
 * Ed25519 key, DATA/controller-key.pem (made at first start, 0600; its public half in
 * DATA/controller-key.pub). A head is signed on every append and again every
 * TLOG_HEAD_INTERVAL_MS (a fresh timestamp on the same tree).
 *
 * ctl.lock held for every call. json_t * returned: new references. */
#ifndef XENCI_TLOG_H
#define XENCI_TLOG_H

#include <jansson.h>

#include "db-attempts.h"

#define TLOG_HEAD_INTERVAL_MS (10 * 60 * 1000LL)

/* Loads or makes the controller's key; signs a head when there is none. 0, or
 * negative with why in err. */
int tlog_open(char *err, size_t errlen);
void tlog_close(void);

/* Why a record was refused: the HTTP status, error and detail of the reply. */
struct tlog_refusal {
	unsigned status;
	char error[64];
	char detail[400];
};

/* Whether agent may take work: 0, or -EPERM with why filled (403 "signed records
 * required") when records.require_signed is on and agent has no active key. */
int tlog_agent_refused(const char *agent, struct tlog_refusal *why);
/* Checks the record text (NULL: none came) that agent a->agent sent with result for
 * attempt a, against the agent's keys, the attempt, the result and the stored
 * console log. 0 when it is to be appended; 1 when the agent has no active key and
 * records.require_signed is off (its result is taken unsigned, any record ignored: a
 * presented key awaits approval); -EPERM with why filled when it is refused (with
 * require_signed, a result of an agent without an active key is 403 "signed records
 * required"); -EIO. */
int tlog_check(const struct attempt *a, const json_t *result, const char *record,
	       struct tlog_refusal *why);
/* Appends record (checked) for attempt as the next leaf, stores the subtrees it
 * completes and signs the new head. Inside the caller's transaction. 0 or -EIO. */
int tlog_append(long long attempt, const char *record);
/* The timer: signs the current tree again when its head is older than the interval. */
void tlog_tick(long long now);

/* The signed head {tree_size, root_hash, timestamp, envelope} of the tree of size
 * (-1: the newest); NULL when there is none. */
json_t *tlog_head(long long size);
/* The controller's public key, PEM (borrowed, valid while the controller runs). */
const char *tlog_public_key(void);
/* attempt's record with its inclusion proof in the tree of size (-1: the newest
 * head): {index, attempt, keyid, envelope, leaf_hash, tree_size, path, tree_head}.
 * 0, -ENOENT (no record, or no head of that size), -EINVAL (size too small), -EIO. */
int tlog_inclusion(json_t **out, long long attempt, long long size);
/* {first, second, path} proving the tree of size second extends that of first.
 * 0, -EINVAL (not 0 < first <= second <= size), -EIO. */
int tlog_consistency(json_t **out, long long first, long long second);
/* {tree_size, records: [...]} with start <= index < end (db_records_range). */
json_t *tlog_records(long long start, long long end);

/* Agents' keys. The key an agent presents when it declares (PEM; NULL: none): kept
 * pending unless it is known. 0, -EINVAL (not an Ed25519 key), -EEXIST (another
 * agent's key), -EIO. */
int tlog_agent_key_present(const char *agent, const char *pem);
/* An admin binds pem as agent's active key (the one before is retired): 0, -EINVAL,
 * -EEXIST (another agent's), -EIO. keyid (65 bytes) gets its id. */
int tlog_agent_key_bind(const char *agent, const char *pem, char keyid[65]);
/* An admin approves a pending key: it becomes active. 0, -ENOENT, -EIO. */
int tlog_agent_key_approve(const char *agent, const char *keyid);

#endif
