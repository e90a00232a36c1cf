#include "db-records.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-modules.h"
#include "db.h"

enum {
	Q_KEY_INSERT,
	Q_KEY_GET,
	Q_KEY_RETIRE,
	Q_KEY_ACTIVATE,
	Q_KEYS_OF,
	Q_KEYS_ALL,
	Q_KEY_ACTIVE,
	Q_REC_SIZE,
	Q_REC_INSERT,
	Q_REC_ATTEMPT,
	Q_REC_RANGE,
	Q_REC_FLIGHT,
	Q_LEAF,
	Q_NODE_GET,
	Q_NODE_PUT,
	Q_HEAD_PUT,
	Q_HEAD_LAST,
	Q_HEAD_SIZE,
	Q_N
};

#define KEY_COLS "keyid, public_key, state, created, valid_from, valid_until"
#define REC_COLS                                                                                   \
	"idx AS \"index\", attempt_id AS attempt, keyid, envelope, lower(hex(leaf_hash)) AS "      \
	"leaf_hash, "                                                                              \
	"r.created"
/* What the controller shows of the record's attempt now (a verifier compares). */
#define SHOWN                                                                                      \
	"json_object('state', a.state, 'reason', a.reason, 'board', a.board, 'agent', a.agent, "   \
	"'log_length', a.log_length) AS j_shown"
#define HEAD_COLS "size AS tree_size, root AS root_hash, timestamp, envelope"

static const char *const sql[Q_N] = {
    [Q_KEY_INSERT] = "INSERT INTO agent_keys (agent, keyid, public_key, state, created, "
		     "valid_from) VALUES (?, ?, ?, ?, ?, CASE WHEN ?4 = 'active' THEN ?5 END)",
    [Q_KEY_GET] = "SELECT agent, keyid, state, valid_from, valid_until, public_key "
		  "FROM agent_keys WHERE keyid = ?",
    [Q_KEY_RETIRE] = "UPDATE agent_keys SET state = 'retired', valid_until = ?2 "
		     "WHERE agent = ?1 AND state = 'active'",
    [Q_KEY_ACTIVATE] = "UPDATE agent_keys SET state = 'active', valid_from = ?3, "
		       "valid_until = NULL WHERE agent = ?1 AND keyid = ?2",
    [Q_KEYS_OF] = "SELECT " KEY_COLS " FROM agent_keys WHERE agent = ? ORDER BY id",
    [Q_KEYS_ALL] = "SELECT agent, " KEY_COLS " FROM agent_keys ORDER BY id",
    [Q_KEY_ACTIVE] = "SELECT 1 FROM agent_keys WHERE agent = ? AND state = 'active'",
    [Q_REC_SIZE] = "SELECT COALESCE(MAX(idx) + 1, 0) FROM records",
    [Q_REC_INSERT] = "INSERT INTO records (idx, attempt_id, keyid, envelope, leaf_hash, created) "
		     "VALUES (?, ?, ?, ?, ?, ?)",
    [Q_REC_ATTEMPT] = "SELECT " REC_COLS ", a.board, " SHOWN " FROM records r "
		      "LEFT JOIN attempts a ON a.id = r.attempt_id WHERE attempt_id = ?",
    [Q_REC_RANGE] =
	"SELECT " REC_COLS ", " SHOWN " FROM records r LEFT JOIN attempts a ON a.id = r.attempt_id "
	"WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?",
    [Q_REC_FLIGHT] = "SELECT r.attempt_id AS attempt, r.idx AS \"index\", r.keyid FROM attempts a "
		     "JOIN records r ON r.attempt_id = a.id WHERE a.flight_id = ?",
    [Q_LEAF] = "SELECT leaf_hash FROM records WHERE idx = ?",
    [Q_NODE_GET] = "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?",
    [Q_NODE_PUT] = "INSERT OR REPLACE INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
    [Q_HEAD_PUT] = "INSERT OR REPLACE INTO tree_heads (size, root, timestamp, envelope) "
		   "VALUES (?, ?, ?, ?)",
    [Q_HEAD_LAST] = "SELECT " HEAD_COLS " FROM tree_heads ORDER BY size DESC LIMIT 1",
    [Q_HEAD_SIZE] = "SELECT " HEAD_COLS " FROM tree_heads WHERE size = ?",
};
DB_STATEMENTS(st, Q_N);
#define st DB_STATEMENTS_OF(st)

static const char *const key_states[] = {
    [AGENT_KEY_PENDING] = "pending",
    [AGENT_KEY_ACTIVE] = "active",
    [AGENT_KEY_RETIRED] = "retired",
};

const char *agent_key_state_name(enum agent_key_state s)
{
	return key_states[s];
}

static enum agent_key_state key_state_of(const char *s)
{
	if (s && !strcmp(s, "active"))
		return AGENT_KEY_ACTIVE;
	if (s && !strcmp(s, "retired"))
		return AGENT_KEY_RETIRED;
	return AGENT_KEY_PENDING;
}

int db_records_prepare(sqlite3 *db)
{
	return db_prepare(db, st, sql, Q_N);
}

void db_records_finalize(void)
{
	db_finalize(st, Q_N);
}

void db_agent_key_release(struct db_agent_key *k)
{
	if (k == NULL)
		return;
	free(k->public_key);
	memset(k, 0, sizeof(*k));
}

int db_agent_key_insert(const char *agent, const char *keyid, const char *pem,
			enum agent_key_state state)
{
	sqlite3_stmt *s = db_use(st[Q_KEY_INSERT]);
	int rc;

	db_bind_text(s, 1, agent);
	db_bind_text(s, 2, keyid);
	db_bind_text(s, 3, pem);
	db_bind_text(s, 4, key_states[state]);
	sqlite3_bind_int64(s, 5, now_ms());
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int db_agent_key_get(struct db_agent_key *k, const char *keyid)
{
	sqlite3_stmt *s = db_use(st[Q_KEY_GET]);
	const char *p;
	int rc = -ENOENT;

	memset(k, 0, sizeof(*k));
	db_bind_text(s, 1, keyid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(k->agent, sizeof(k->agent), "%s", sqlite3_column_text(s, 0));
		snprintf(k->keyid, sizeof(k->keyid), "%s", sqlite3_column_text(s, 1));
		k->state = key_state_of((const char *)sqlite3_column_text(s, 2));
		k->valid_from = sqlite3_column_int64(s, 3);
		k->valid_until = sqlite3_column_int64(s, 4);
		p = (const char *)sqlite3_column_text(s, 5);
		k->public_key = strdup(p ? p : "");
		rc = k->public_key ? 0 : -ENOMEM;
	}
	sqlite3_reset(s);
	return rc;
}

int db_agent_key_activate(const char *agent, const char *keyid)
{
	sqlite3_stmt *s;
	long long now = now_ms();

	s = db_use(st[Q_KEY_RETIRE]);
	db_bind_text(s, 1, agent);
	sqlite3_bind_int64(s, 2, now);
	if (db_step_done(s) < 0)
		return -EIO;
	s = db_use(st[Q_KEY_ACTIVATE]);
	db_bind_text(s, 1, agent);
	db_bind_text(s, 2, keyid);
	sqlite3_bind_int64(s, 3, now);
	if (db_step_done(s) < 0)
		return -EIO;
	return sqlite3_changes(ctl.db) == 1 ? 0 : -ENOENT;
}

json_t *db_agent_keys(const char *agent)
{
	sqlite3_stmt *s = db_use(st[agent ? Q_KEYS_OF : Q_KEYS_ALL]);

	if (agent)
		db_bind_text(s, 1, agent);
	return db_rows_array(s);
}

int db_agent_key_any_active(const char *agent)
{
	sqlite3_stmt *s = db_use(st[Q_KEY_ACTIVE]);
	int yes;

	db_bind_text(s, 1, agent);
	yes = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return yes;
}

long long db_record_size(void)
{
	sqlite3_stmt *s = db_use(st[Q_REC_SIZE]);
	long long n = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

int db_record_insert(long long idx, long long attempt, const char *keyid, const char *envelope,
		     const uint8_t leaf[MERKLE_HASH])
{
	sqlite3_stmt *s = db_use(st[Q_REC_INSERT]);

	sqlite3_bind_int64(s, 1, idx);
	sqlite3_bind_int64(s, 2, attempt);
	db_bind_text(s, 3, keyid);
	db_bind_text(s, 4, envelope);
	sqlite3_bind_blob(s, 5, leaf, MERKLE_HASH, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now_ms());
	return db_step_done(s);
}

json_t *db_record_by_attempt(long long attempt)
{
	sqlite3_stmt *s = db_use(st[Q_REC_ATTEMPT]);
	json_t *row = NULL;

	sqlite3_bind_int64(s, 1, attempt);
	if (sqlite3_step(s) == SQLITE_ROW)
		row = db_row_object(s);
	sqlite3_reset(s);
	return row;
}

json_t *db_records_of_flight(long long flight)
{
	sqlite3_stmt *s = db_use(st[Q_REC_FLIGHT]);

	sqlite3_bind_int64(s, 1, flight);
	return db_rows_array(s);
}

json_t *db_records_range(long long start, long long end, long long limit)
{
	sqlite3_stmt *s = db_use(st[Q_REC_RANGE]);

	sqlite3_bind_int64(s, 1, start);
	sqlite3_bind_int64(s, 2, end);
	sqlite3_bind_int64(s, 3, limit);
	return db_rows_array(s);
}

static int blob_hash(sqlite3_stmt *s, uint8_t out[MERKLE_HASH])
{
	int rc = -ENOENT;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == MERKLE_HASH) {
		memcpy(out, sqlite3_column_blob(s, 0), MERKLE_HASH);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

static int store_node(void *arg, unsigned level, uint64_t idx, uint8_t out[MERKLE_HASH])
{
	sqlite3_stmt *s;

	(void)arg;
	if (level == 0) {
		s = db_use(st[Q_LEAF]);
		sqlite3_bind_int64(s, 1, (sqlite3_int64)idx);
	} else {
		s = db_use(st[Q_NODE_GET]);
		sqlite3_bind_int(s, 1, (int)level);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)idx);
	}
	return blob_hash(s, out);
}

struct merkle_store db_merkle_store(void)
{
	struct merkle_store m = {store_node, NULL};

	return m;
}

int db_merkle_node_put(unsigned level, uint64_t idx, const uint8_t hash[MERKLE_HASH])
{
	sqlite3_stmt *s = db_use(st[Q_NODE_PUT]);

	sqlite3_bind_int(s, 1, (int)level);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)idx);
	sqlite3_bind_blob(s, 3, hash, MERKLE_HASH, SQLITE_STATIC);
	return db_step_done(s);
}

int db_tree_head_put(long long size, const char *root, long long timestamp, const char *envelope)
{
	sqlite3_stmt *s = db_use(st[Q_HEAD_PUT]);

	sqlite3_bind_int64(s, 1, size);
	db_bind_text(s, 2, root);
	sqlite3_bind_int64(s, 3, timestamp);
	db_bind_text(s, 4, envelope);
	return db_step_done(s);
}

json_t *db_tree_head(long long size)
{
	sqlite3_stmt *s = db_use(st[size < 0 ? Q_HEAD_LAST : Q_HEAD_SIZE]);
	json_t *row = NULL;

	if (size >= 0)
		sqlite3_bind_int64(s, 1, size);
	if (sqlite3_step(s) == SQLITE_ROW)
		row = db_row_object(s);
	sqlite3_reset(s);
	return row;
}
