/* The checks of `xenci verify` and `xenci evidence` (docs/traceability.md), the same
 * whether the material comes from a controller or from an evidence bundle: a signed
 * tree head against the controller's key, a record's agent signature against the
 * agent's key, its inclusion under the head, what the controller shows against what
 * was signed, the console log and artifacts against their hashes. Each failure is
 * one line "FAIL ..." on v->out and counts in v->failures; nothing here exits. */
#ifndef XENCI_CLI_VERIFY_H
#define XENCI_CLI_VERIFY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "http-client.h"
#include "merkle.h"
#include "sigkey.h"

struct verifier {
	struct http_client *h; /* the controller, or NULL (a bundle) */
	struct sigkey ctl;     /* the controller's key */
	json_t *keys;	       /* keyid -> {agent, public_key, state, valid_from, valid_until} */
	/* Keys the user pinned (--agent-key, --agent-keys): keyid -> {agent, public_key}.
	 * NULL: none, and the controller's binding of keys to agents is trusted; else it
	 * is not, and every record must be signed by a key pinned for its agent. */
	json_t *pinned;
	json_t *artifacts_ok; /* sha256 -> true: artifacts already hashed */
	long long size;	      /* the verified head's tree size (-1: none yet) */
	uint8_t root[MERKLE_HASH];
	int skip_logs; /* --no-logs: do not fetch and hash console logs and artifacts */
	/* A bundle's artifacts/ folder (files named by their sha256), when it holds the
	 * artifacts (xenci evidence --with-artifacts): each is hashed there. NULL: none. */
	char *artifacts_dir;
	long long failures, verified;
	FILE *out;
	/* Agents' keys parsed once (a log holds few keys and many records). */
	struct sigkey cache[8];
	unsigned ncache;
};

void verifier_init(struct verifier *v, FILE *out);
void verifier_release(struct verifier *v);
/* Prints one failure line. */
void verifier_fail(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Loads the controller's key from a PEM file. 0, or -1 after a failure line. */
int verifier_key_file(struct verifier *v, const char *path);
/* Pins path's public key (PEM) as one of agent's keys. 0, or -1 after a failure
 * line (unreadable, not an Ed25519 public key). */
int verifier_pin_key(struct verifier *v, const char *agent, const char *path);
/* Pins the keys a pinned keys file lists: one "AGENT PEM-FILE" a line (a relative
 * PEM-FILE is of the file's folder; blank lines and '#' lines are skipped). 0, or -1
 * after a failure line per bad line. */
int verifier_pin_file(struct verifier *v, const char *path);
/* Adds agents' keys: an array of {agent, keyid, public_key, state, valid_from,
 * valid_until} (GET /api/v1/keys, or a bundle's keys.json). */
void verifier_add_keys(struct verifier *v, const json_t *keys);
/* Checks a signed head {tree_size, root_hash, timestamp, envelope} with the
 * controller's key; on success it becomes v's head (size and root). 0 or -1. */
int verifier_head(struct verifier *v, const json_t *head);
/* Checks one record {index, attempt, envelope, path?, shown?} (path: its audit path
 * under v's head; without one, the caller checks the tree itself). log: the console
 * log's bytes (NULL: not checked). leaf (may be NULL) gets the envelope's leaf hash.
 * Returns 0 when it passed every check, -1 otherwise. */
int verifier_record(struct verifier *v, const json_t *rec, const char *log, size_t loglen,
		    uint8_t leaf[MERKLE_HASH]);
/* Hashes the artifacts a record's statement names (each sha256 once per run): from
 * v->artifacts_dir when set (a missing file is a failure), else downloaded from the
 * controller; neither (a bundle of hashes only): not checked. */
void verifier_artifacts(struct verifier *v, const json_t *statement, long long attempt);

/* The state of tree heads seen earlier: $XENCI_STATE_DIR/tree-heads.json, else
 * ~/.config/xenci/tree-heads.json, keyed by the controller key's id. The head stored
 * for v's key (new reference) or NULL. */
json_t *verifier_seen_head(struct verifier *v);
/* Stores head as the one seen for v's key. 0 or -1. */
int verifier_remember_head(struct verifier *v, const json_t *head);

/* Parses an array of hex hashes into path (at most MERKLE_MAX_PATH). -1 when bad. */
int verifier_path(uint8_t path[][MERKLE_HASH], size_t *n, const json_t *hexes);

#endif
