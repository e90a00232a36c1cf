-- Migration 45: traceable results (docs/traceability.md). Agents' signing keys, the
-- signed records of attempts and builds as leaves of an append-only Merkle log
-- (RFC 9162), its stored subtrees and the controller's signed tree heads.

-- An agent's Ed25519 public keys. A key is 'pending' until an admin approves it (or
-- bound at once by `xenci token create --agent-key`), 'active' while it signs, and
-- 'retired' (valid_until set) once another replaced it: its old records stay
-- verifiable.
CREATE TABLE agent_keys (
	id INTEGER PRIMARY KEY,
	agent TEXT NOT NULL,
	keyid TEXT NOT NULL UNIQUE,		-- sha256 of the 32 raw public bytes, hex
	public_key TEXT NOT NULL,		-- SubjectPublicKeyInfo PEM
	state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
	created INTEGER NOT NULL,
	valid_from INTEGER,
	valid_until INTEGER
);
CREATE INDEX agent_keys_agent ON agent_keys (agent, state);

-- One leaf per accepted record, in log order: idx is the leaf's index (0-based,
-- without gaps). envelope is the DSSE envelope's text exactly as the leaf hashes it
-- (leaf_hash = SHA-256(0x00 || envelope)).
CREATE TABLE records (
	idx INTEGER PRIMARY KEY,
	attempt_id INTEGER NOT NULL UNIQUE REFERENCES attempts(id),
	keyid TEXT NOT NULL,
	envelope TEXT NOT NULL,
	leaf_hash BLOB NOT NULL,
	created INTEGER NOT NULL
);

-- The complete perfect subtrees above the leaves: (level, idx) covers leaves
-- [idx << level, (idx + 1) << level). Written as the leaf that completes them is
-- appended, so a proof needs O(log^2 n) lookups, never a walk of the leaves.
CREATE TABLE merkle_nodes (
	level INTEGER NOT NULL,
	idx INTEGER NOT NULL,
	hash BLOB NOT NULL,
	PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed tree heads: the newest of each size (the interval re-signs the same size
-- with a newer timestamp). envelope: DSSE of application/vnd.xenci.tree-head+json.
CREATE TABLE tree_heads (
	size INTEGER PRIMARY KEY,
	root TEXT NOT NULL,
	timestamp INTEGER NOT NULL,
	envelope TEXT NOT NULL
);
