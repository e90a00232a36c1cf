/* The tables of traceable results (schema/0045-records.sql): agents' keys, records
 * (the Merkle log's leaves), the log's stored subtrees and its signed tree heads.
 * ctl.lock held, like every db-*.c function. json_t * returned: new references. */
#ifndef XENCI_DB_RECORDS_H
#define XENCI_DB_RECORDS_H

#include <jansson.h>
#include <stdint.h>

#include "merkle.h"

enum agent_key_state { AGENT_KEY_PENDING, AGENT_KEY_ACTIVE, AGENT_KEY_RETIRED };

struct db_agent_key {
	char agent[65];
	char keyid[65];
	enum agent_key_state state;
	long long valid_from, valid_until; /* 0: not set */
	char *public_key;		   /* PEM, malloc'd: agent_key_release */
};
void db_agent_key_release(struct db_agent_key *k);

/* A new key of agent in state. 0, -EEXIST when keyid is known, -EIO. */
int db_agent_key_insert(const char *agent, const char *keyid, const char *pem,
			enum agent_key_state state);
/* 0 and *k filled, or -ENOENT. */
int db_agent_key_get(struct db_agent_key *k, const char *keyid);
/* keyid becomes agent's active key from now; its earlier active key is retired
 * (valid_until now). 0, -ENOENT (no such key of agent), -EIO. */
int db_agent_key_activate(const char *agent, const char *keyid);
/* [{keyid, public_key, state, created, valid_from, valid_until}] of agent (NULL: every
 * agent's, with "agent"), oldest first. */
json_t *db_agent_keys(const char *agent);
/* 1 when agent has an active key, 0 when not. */
int db_agent_key_any_active(const char *agent);

/* The log's size: the highest leaf index + 1 (0 when empty). */
long long db_record_size(void);
int db_record_insert(long long idx, long long attempt, const char *keyid, const char *envelope,
		     const uint8_t leaf[MERKLE_HASH]);
/* {index, attempt, keyid, envelope, created} of attempt's record; NULL when none. */
json_t *db_record_by_attempt(long long attempt);
/* [{attempt, index, keyid}]: the records of flight's attempts (tests and builds). */
json_t *db_records_of_flight(long long flight);
/* Records with start <= index < end, at most limit, each {index, attempt, keyid,
 * envelope, shown: {state, reason, board, agent, log_length}} (shown: what the
 * controller says of the attempt now). */
json_t *db_records_range(long long start, long long end, long long limit);
/* A store over the log: level 0 reads records.leaf_hash, the others merkle_nodes;
 * -ENOENT for a node that is not stored. */
struct merkle_store db_merkle_store(void);
int db_merkle_node_put(unsigned level, uint64_t idx, const uint8_t hash[MERKLE_HASH]);

/* Replaces the tree head of size. */
int db_tree_head_put(long long size, const char *root, long long timestamp, const char *envelope);
/* {tree_size, root_hash, timestamp, envelope} of the largest tree (size: of that
 * size, -1: the largest); NULL when none. */
json_t *db_tree_head(long long size);

/* "pending", "active" or "retired", as the table stores it (a static string). */
const char *agent_key_state_name(enum agent_key_state s);

#endif
