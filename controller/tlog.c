#include "tlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-records.h"
#include "db.h"
#include "hash.h"
#include "json-util.h"
#include "logs.h"
#include "merkle.h"
#include "record.h"
#include "sigkey.h"
#include "xmalloc.h"

static struct sigkey key;
static char *key_pem;

/* Signs the head of the tree of size with a timestamp of now and stores it. */
static int head_sign(long long size, long long now)
{
	struct merkle_store s = db_merkle_store();
	uint8_t root[MERKLE_HASH];
	char hex[2 * MERKLE_HASH + 1], *body = NULL, *env = NULL;
	json_t *head;
	int rc;

	if ((rc = merkle_root(&s, (uint64_t)size, root)) < 0)
		return rc;
	merkle_hex(hex, root);
	head = json_pack("{s:s, s:I, s:s, s:I}", "log", "xenci", "tree_size", (json_int_t)size,
			 "root_hash", hex, "timestamp", (json_int_t)now);
	body = dsse_canonical(head);
	json_decref(head);
	if (body == NULL)
		return -ENOMEM;
	rc = dsse_sign(&env, &key, XENCI_TREE_HEAD_TYPE, body, strlen(body));
	if (rc == 0)
		rc = db_tree_head_put(size, hex, now, env);
	free(body);
	free(env);
	return rc;
}

int tlog_open(char *err, size_t errlen)
{
	char *path = xasprintf("%s/controller-key.pem", ctl.cfg.data);
	char *pub = xasprintf("%s/controller-key.pub", ctl.cfg.data);
	json_t *head;
	int rc;

	rc = sigkey_load_or_create(&key, path, pub);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EPERM ? "readable by others than its owner (chmod 600)"
				      : strerror(-rc));
		goto out;
	}
	key_pem = sigkey_public_pem(&key);
	if (key_pem == NULL) {
		snprintf(err, errlen, "%s: cannot write its public key", path);
		rc = -EIO;
		goto out;
	}
	head = db_tree_head(-1);
	rc = 0;
	if (head == NULL || jint(head, "tree_size", -1) != db_record_size())
		rc = head_sign(db_record_size(), now_ms());
	json_decref(head);
	if (rc < 0)
		snprintf(err, errlen, "cannot sign the log's tree head");
out:
	free(path);
	free(pub);
	return rc;
}

void tlog_close(void)
{
	sigkey_release(&key);
	free(key_pem);
	key_pem = NULL;
}

const char *tlog_public_key(void)
{
	return key_pem ? key_pem : "";
}

static int refuse(struct tlog_refusal *why, unsigned status, const char *error, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
static int refuse(struct tlog_refusal *why, unsigned status, const char *error, const char *fmt,
		  ...)
{
	va_list ap;

	why->status = status;
	snprintf(why->error, sizeof(why->error), "%s", error);
	va_start(ap, fmt);
	vsnprintf(why->detail, sizeof(why->detail), fmt, ap);
	va_end(ap);
	return -EPERM;
}

static int stored_log_sha256(char hex[65], long long id, long long *len)
{
	size_t n = 0;
	const char *map = logs_map(id, &n);
	int rc = sha256_hex(hex, map ? map : "", map ? n : 0);

	logs_unmap(map, n);
	*len = (long long)n;
	return rc;
}

/* The predicate's string member name, "" when null or absent. */
static const char *pstr(const json_t *p, const char *name)
{
	return jstr(p, name, "");
}

/* The artifacts a build's result lists, as subjects: each must be in the record. */
static int artifacts_match(const json_t *st, const json_t *result, char *which, size_t n)
{
	const char *k;
	json_t *v;
	char name[160];

	json_object_foreach ((json_t *)json_object_get(result, "artifacts"), k, v) {
		const char *sha;

		snprintf(name, sizeof(name), RECORD_ARTIFACT_PREFIX "%s", k);
		sha = intoto_subject_sha256(st, name);
		if (sha == NULL || strcmp(sha, jstr(v, "sha256", ""))) {
			snprintf(which, n, "%s", name);
			return 0;
		}
	}
	return 1;
}

int tlog_agent_refused(const char *agent, struct tlog_refusal *why)
{
	if (!ctl.cfg.require_signed || (agent[0] && db_agent_key_any_active(agent)))
		return 0;
	return refuse(why, 403, "signed records required",
		      "agent %s has no active key and this controller takes only signed results "
		      "(records.require_signed): an admin binds or approves its key",
		      agent[0] ? agent : "-");
}

int tlog_check(const struct attempt *a, const json_t *result, const char *record,
	       struct tlog_refusal *why)
{
	struct db_agent_key k = {0};
	struct sigkey pub = {0};
	struct record rec;
	char err[300], hex[65], which[200];
	const json_t *p;
	long long stored;
	int rc = -EPERM;

	if (!a->agent[0] || !db_agent_key_any_active(a->agent)) {
		if (tlog_agent_refused(a->agent, why) < 0)
			return -EPERM;
		return 1; /* no key bound yet: an unsigned result, not logged */
	}
	if (record == NULL)
		return refuse(why, 422, "record required",
			      "agent %s has a key: its results must be signed records", a->agent);
	if (record_parse(&rec, record, strlen(record), err, sizeof(err)) < 0)
		return refuse(why, 422, "invalid record", "%s", err);
	p = rec.predicate;
	if (db_agent_key_get(&k, rec.env.keyid) < 0) {
		refuse(why, 422, "unknown key", "key %s is no agent's", rec.env.keyid);
		goto out;
	}
	if (strcmp(k.agent, a->agent)) {
		refuse(why, 403, "record signed by another agent",
		       "key %.16s… is agent %s's; attempt %lld runs on agent %s's board %s",
		       rec.env.keyid, k.agent, a->id, a->agent, a->board[0] ? a->board : "-");
		goto out;
	}
	if (k.state != AGENT_KEY_ACTIVE) {
		refuse(why, 422, "key not active", "key %.16s… of agent %s is %s", rec.env.keyid,
		       k.agent, agent_key_state_name(k.state));
		goto out;
	}
	if (sigkey_from_pem(&pub, k.public_key, strlen(k.public_key)) < 0 ||
	    record_verify(&rec, &pub) < 0) {
		refuse(why, 422, "bad signature", "the record is not signed by key %.16s…",
		       rec.env.keyid);
		goto out;
	}
	if (jint(p, "attempt", 0) != a->id || strcmp(pstr(p, "agent"), a->agent) ||
	    strcmp(pstr(p, "board"), a->board) || strcmp(pstr(p, "kind"), a->kind)) {
		refuse(why, 403, "record does not match the attempt",
		       "the record is of attempt %lld, agent %s, board %s (%s); this is attempt "
		       "%lld, agent %s, board %s (%s)",
		       jint(p, "attempt", 0), pstr(p, "agent"), pstr(p, "board"), pstr(p, "kind"),
		       a->id, a->agent, a->board, a->kind);
		goto out;
	}
	if (strcmp(pstr(p, "verdict"), jstr(result, "verdict", "")) ||
	    jint(p, "log_length", -1) != jint(result, "log_length", 0) ||
	    !json_equal(json_object_get(p, "stages"), json_object_get(result, "stages")
							  ? json_object_get(result, "stages")
							  : json_object_get(p, "stages")) ||
	    !json_equal(json_object_get(p, "testcases"), json_object_get(result, "testcases")
							     ? json_object_get(result, "testcases")
							     : json_object_get(p, "testcases"))) {
		refuse(why, 422, "record does not match the result",
		       "verdict, log length, stages and test cases must be the signed ones");
		goto out;
	}
	if (!artifacts_match(rec.statement, result, which, sizeof(which))) {
		refuse(why, 422, "record does not match the result", "artifact %s is not signed",
		       which);
		goto out;
	}
	if (stored_log_sha256(hex, a->id, &stored) < 0) {
		rc = -EIO;
		goto out;
	}
	if (stored != jint(p, "log_length", -1) ||
	    strcmp(hex, intoto_subject_sha256(rec.statement, RECORD_LOG_SUBJECT))) {
		refuse(why, 422, "record does not match the log",
		       "the stored console log (%lld bytes, sha256 %.16s…) is not the signed one",
		       stored, hex);
		goto out;
	}
	rc = 0;
out:
	sigkey_release(&pub);
	db_agent_key_release(&k);
	record_release(&rec);
	return rc;
}

int tlog_append(long long attempt, const char *record)
{
	struct merkle_store s = db_merkle_store();
	uint8_t leaf[MERKLE_HASH], l[MERKLE_HASH], r[MERKLE_HASH], h[MERKLE_HASH];
	long long idx = db_record_size();
	char err[200];
	struct dsse d;
	unsigned level, up;
	int rc;

	/* Checked by tlog_check: parsed again for its keyid. */
	if (dsse_parse(&d, record, strlen(record), err, sizeof(err)) < 0)
		return -EINVAL;
	rc = merkle_leaf_hash(leaf, record, strlen(record)) < 0 ||
		     db_record_insert(idx, attempt, d.keyid, record, leaf) < 0
		 ? -EIO
		 : 0;
	dsse_release(&d);
	if (rc < 0)
		return rc;
	up = merkle_completed_levels((uint64_t)idx);
	for (level = 1; level <= up; level++) {
		uint64_t j = (((uint64_t)idx + 1) >> level) - 1;

		if (s.node(s.arg, level - 1, 2 * j, l) < 0 ||
		    s.node(s.arg, level - 1, 2 * j + 1, r) < 0 || merkle_node_hash(h, l, r) < 0 ||
		    db_merkle_node_put(level, j, h) < 0)
			return -EIO;
	}
	return head_sign(idx + 1, now_ms()) < 0 ? -EIO : 0;
}

void tlog_tick(long long now)
{
	json_t *head = db_tree_head(-1);

	if (head && now - jint(head, "timestamp", 0) >= TLOG_HEAD_INTERVAL_MS && db_begin() == 0) {
		if (head_sign(db_record_size(), now) < 0)
			db_rollback();
		else
			db_commit();
	}
	json_decref(head);
}

json_t *tlog_head(long long size)
{
	return db_tree_head(size);
}

static json_t *hex_array(uint8_t path[][MERKLE_HASH], size_t n)
{
	json_t *a = json_array();
	char hex[2 * MERKLE_HASH + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		merkle_hex(hex, path[i]);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

int tlog_inclusion(json_t **out, long long attempt, long long size)
{
	static uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH];
	struct merkle_store s = db_merkle_store();
	uint8_t leaf[MERKLE_HASH];
	char hex[2 * MERKLE_HASH + 1];
	json_t *rec, *head;
	long long idx;
	size_t n;
	int rc;

	*out = NULL;
	if ((rec = db_record_by_attempt(attempt)) == NULL)
		return -ENOENT;
	if ((head = db_tree_head(size)) == NULL) {
		json_decref(rec);
		return -ENOENT;
	}
	size = jint(head, "tree_size", 0);
	idx = jint(rec, "index", 0);
	if (idx >= size) {
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = s.node(s.arg, 0, (uint64_t)idx, leaf)) < 0 ||
	    (rc = merkle_inclusion_proof(&s, (uint64_t)idx, (uint64_t)size, path, &n)) < 0) {
		rc = -EIO;
		goto fail;
	}
	merkle_hex(hex, leaf);
	json_object_set_new(rec, "leaf_hash", json_string(hex));
	json_object_set_new(rec, "tree_size", json_integer(size));
	json_object_set_new(rec, "path", hex_array(path, n));
	json_object_set_new(rec, "tree_head", head);
	*out = rec;
	return 0;
fail:
	json_decref(rec);
	json_decref(head);
	return rc;
}

int tlog_consistency(json_t **out, long long first, long long second)
{
	static uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH];
	struct merkle_store s = db_merkle_store();
	size_t n;

	*out = NULL;
	if (first <= 0 || first > second || second > db_record_size())
		return -EINVAL;
	if (merkle_consistency_proof(&s, (uint64_t)first, (uint64_t)second, path, &n) < 0)
		return -EIO;
	*out = json_pack("{s:I, s:I, s:o}", "first", (json_int_t)first, "second",
			 (json_int_t)second, "path", hex_array(path, n));
	return 0;
}

json_t *tlog_records(long long start, long long end)
{
	long long size = db_record_size();

	if (end > size)
		end = size;
	return json_pack("{s:I, s:o}", "tree_size", (json_int_t)size, "records",
			 db_records_range(start, end, 1000));
}

static int key_parse(struct sigkey *k, const char *pem)
{
	return pem && sigkey_from_pem(k, pem, strlen(pem)) == 0 ? 0 : -EINVAL;
}

int tlog_agent_key_present(const char *agent, const char *pem)
{
	struct db_agent_key known;
	struct sigkey k;
	char *clean;
	int rc;

	if (pem == NULL)
		return 0;
	if (key_parse(&k, pem) < 0)
		return -EINVAL;
	if (db_agent_key_get(&known, k.id) == 0) {
		rc = strcmp(known.agent, agent) ? -EEXIST : 0;
		db_agent_key_release(&known);
		sigkey_release(&k);
		return rc;
	}
	clean = sigkey_public_pem(&k);
	rc = clean ? db_agent_key_insert(agent, k.id, clean, AGENT_KEY_PENDING) : -ENOMEM;
	free(clean);
	sigkey_release(&k);
	return rc;
}

int tlog_agent_key_bind(const char *agent, const char *pem, char keyid[65])
{
	struct db_agent_key known;
	struct sigkey k;
	char *clean = NULL;
	int rc;

	if (key_parse(&k, pem) < 0)
		return -EINVAL;
	snprintf(keyid, 65, "%s", k.id);
	if (db_begin() < 0) {
		sigkey_release(&k);
		return -EIO;
	}
	if (db_agent_key_get(&known, k.id) == 0) {
		rc = strcmp(known.agent, agent) ? -EEXIST : 0;
		db_agent_key_release(&known);
	} else {
		clean = sigkey_public_pem(&k);
		rc = clean ? db_agent_key_insert(agent, k.id, clean, AGENT_KEY_PENDING) : -ENOMEM;
	}
	if (rc == 0)
		rc = db_agent_key_activate(agent, k.id);
	if (rc == 0)
		rc = db_commit();
	else
		db_rollback();
	free(clean);
	sigkey_release(&k);
	return rc;
}

int tlog_agent_key_approve(const char *agent, const char *keyid)
{
	struct db_agent_key k;
	int rc = db_agent_key_get(&k, keyid);

	if (rc < 0 || strcmp(k.agent, agent)) {
		db_agent_key_release(&k);
		return -ENOENT;
	}
	db_agent_key_release(&k);
	if (db_begin() < 0)
		return -EIO;
	if ((rc = db_agent_key_activate(agent, keyid)) < 0) {
		db_rollback();
		return rc;
	}
	return db_commit();
}
