#include "verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dsse.h"
#include "fs.h"
#include "hash.h"
#include "json-util.h"
#include "record.h"
#include "xmalloc.h"

void verifier_init(struct verifier *v, FILE *out)
{
	memset(v, 0, sizeof(*v));
	v->keys = json_object();
	v->artifacts_ok = json_object();
	v->size = -1;
	v->out = out;
}

void verifier_release(struct verifier *v)
{
	unsigned i;

	for (i = 0; i < sizeof(v->cache) / sizeof(v->cache[0]); i++)
		sigkey_release(&v->cache[i]);
	sigkey_release(&v->ctl);
	json_decref(v->keys);
	json_decref(v->pinned);
	free(v->artifacts_dir);
	json_decref(v->artifacts_ok);
}

void verifier_fail(struct verifier *v, const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL ", v->out);
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
	v->failures++;
}

int verifier_key_file(struct verifier *v, const char *path)
{
	char *pem = NULL;
	size_t len;

	if (file_read(&pem, &len, path, 16384) < 0 || sigkey_from_pem(&v->ctl, pem, len) < 0) {
		free(pem);
		verifier_fail(v, "controller key %s: not an Ed25519 public key", path);
		return -1;
	}
	free(pem);
	return 0;
}

int verifier_pin_key(struct verifier *v, const char *agent, const char *path)
{
	struct sigkey k = {0};
	char *pem = NULL, *pub = NULL;
	size_t len;
	int rc = -1;

	if (file_read(&pem, &len, path, 16384) < 0 || sigkey_from_pem(&k, pem, len) < 0 ||
	    (pub = sigkey_public_pem(&k)) == NULL) {
		verifier_fail(v, "agent %s's pinned key %s: not an Ed25519 public key", agent,
			      path);
		goto out;
	}
	if (v->pinned == NULL)
		v->pinned = json_object();
	json_object_set_new(v->pinned, k.id,
			    json_pack("{s:s, s:s}", "agent", agent, "public_key", pub));
	rc = 0;
out:
	free(pub);
	free(pem);
	sigkey_release(&k);
	return rc;
}

int verifier_pin_file(struct verifier *v, const char *path)
{
	char *text = NULL, *line, *save = NULL, *slash, *dir;
	long long before = v->failures;
	size_t len;
	int n = 0;

	if (file_read(&text, &len, path, 1 << 20) < 0) {
		verifier_fail(v, "pinned keys %s: cannot be read", path);
		return -1;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[1] = '\0';
	else
		dir[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char agent[128], file[4096], *full;

		n++;
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if (sscanf(line, "%127s %4095s", agent, file) != 2) {
			verifier_fail(v, "pinned keys %s: line %d is not AGENT PEM-FILE", path, n);
			continue;
		}
		full = file[0] == '/' ? xstrdup(file) : xasprintf("%s%s", dir, file);
		verifier_pin_key(v, agent, full);
		free(full);
	}
	free(dir);
	free(text);
	if (v->pinned == NULL && v->failures == before)
		verifier_fail(v, "pinned keys %s: it pins no key", path);
	return v->failures == before ? 0 : -1;
}

void verifier_add_keys(struct verifier *v, const json_t *keys)
{
	json_t *k;
	size_t i;

	json_array_foreach (keys, i, k)
		if (jstr(k, "keyid", NULL))
			json_object_set(v->keys, jstr(k, "keyid", ""), k);
}

int verifier_path(uint8_t path[][MERKLE_HASH], size_t *n, const json_t *hexes)
{
	json_t *h;
	size_t i;

	*n = 0;
	if (!json_is_array(hexes) || json_array_size(hexes) > MERKLE_MAX_PATH)
		return -1;
	json_array_foreach (hexes, i, h)
		if (merkle_unhex(path[i], json_string_value(h)) < 0)
			return -1;
	*n = json_array_size(hexes);
	return 0;
}

int verifier_head(struct verifier *v, const json_t *head)
{
	const char *env = jstr(head, "envelope", "");
	struct dsse d;
	char err[200];
	json_t *body = NULL;
	int rc = -1;

	if (dsse_parse(&d, env, strlen(env), err, sizeof(err)) < 0) {
		verifier_fail(v, "tree head: %s", err);
		return -1;
	}
	if (strcmp(d.type, XENCI_TREE_HEAD_TYPE) || dsse_verify(&d, &v->ctl) < 0) {
		verifier_fail(v, "tree head of size %lld: not signed by the controller's key",
			      jint(head, "tree_size", -1));
		goto out;
	}
	body = json_parse((const char *)d.payload, d.payload_len, err, sizeof(err));
	if (body == NULL || merkle_unhex(v->root, jstr(body, "root_hash", "")) < 0 ||
	    jint(body, "tree_size", -1) < 0) {
		verifier_fail(v, "tree head: its signed body is not a tree head");
		goto out;
	}
	if (jint(body, "tree_size", -1) != jint(head, "tree_size", -2) ||
	    strcmp(jstr(body, "root_hash", ""), jstr(head, "root_hash", ""))) {
		verifier_fail(v, "tree head: the size or root shown is not the signed one");
		goto out;
	}
	v->size = jint(body, "tree_size", 0);
	rc = 0;
out:
	json_decref(body);
	dsse_release(&d);
	return rc;
}

/* Whether the user pinned any key for agent. */
static int pinned_agent(const struct verifier *v, const char *agent)
{
	const char *id;
	json_t *e;

	json_object_foreach ((json_t *)v->pinned, id, e)
		if (!strcmp(jstr(e, "agent", ""), agent))
			return 1;
	return 0;
}

/* The key of keyid (borrowed from v's cache): its agent must be the record's, and
 * with pinned keys, one the user pinned for that agent. */
static int agent_key(struct verifier *v, struct sigkey **out, const char *keyid, const char *agent,
		     long long attempt)
{
	json_t *e = json_object_get(v->pinned ? v->pinned : v->keys, keyid);
	const char *pem = jstr(e, "public_key", NULL);
	unsigned i, n = sizeof(v->cache) / sizeof(v->cache[0]);
	struct sigkey *k;

	if (v->pinned && (e == NULL || strcmp(jstr(e, "agent", ""), agent))) {
		if (pinned_agent(v, agent))
			verifier_fail(v,
				      "attempt %lld: signed by key %.16s…, which is not a key "
				      "pinned for agent %s",
				      attempt, keyid, agent);
		else
			verifier_fail(v, "attempt %lld: agent %s has no pinned key", attempt,
				      agent);
		return -1;
	}
	if (e == NULL || pem == NULL) {
		verifier_fail(v, "attempt %lld: signed by key %.16s…, which no agent has", attempt,
			      keyid);
		return -1;
	}
	if (strcmp(jstr(e, "agent", ""), agent)) {
		verifier_fail(v,
			      "attempt %lld: signed by agent %s's key but the record says agent %s",
			      attempt, jstr(e, "agent", "?"), agent);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (v->cache[i].pkey && !strcmp(v->cache[i].id, keyid)) {
			*out = &v->cache[i];
			return 0;
		}
	k = &v->cache[v->ncache++ % n];
	sigkey_release(k);
	if (sigkey_from_pem(k, pem, strlen(pem)) < 0 || strcmp(k->id, keyid)) {
		sigkey_release(k);
		verifier_fail(v, "attempt %lld: agent %s's key %.16s… is not that key", attempt,
			      agent, keyid);
		return -1;
	}
	*out = k;
	return 0;
}

void verifier_artifacts(struct verifier *v, const json_t *st, long long attempt)
{
	json_t *s;
	size_t i;

	if ((v->h == NULL && v->artifacts_dir == NULL) || v->skip_logs)
		return;
	json_array_foreach (json_object_get(st, "subject"), i, s) {
		const char *name = jstr(s, "name", "");
		const char *sha = jstr(json_object_get(s, "digest"), "sha256", "");
		struct http_reply r;
		char path[128], hex[SHA256_HEX_LEN + 1];

		if (strncmp(name, RECORD_ARTIFACT_PREFIX, strlen(RECORD_ARTIFACT_PREFIX)) ||
		    json_object_get(v->artifacts_ok, sha))
			continue;
		if (v->artifacts_dir) {
			char *file = xasprintf("%s/%s", v->artifacts_dir, sha);
			long long size = 0;

			if (!sha256_is_hex(sha) || access(file, F_OK) < 0)
				verifier_fail(v, "attempt %lld: %s (%.16s…) is not in the bundle",
					      attempt, name, sha);
			else if (sha256_file(hex, file, &size) < 0 || strcmp(hex, sha))
				verifier_fail(v,
					      "attempt %lld: %s does not hash to what the record "
					      "says",
					      attempt, name);
			else
				json_object_set_new(v->artifacts_ok, sha, json_true());
			free(file);
			continue;
		}
		snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
		http_reply_init(&r);
		if (http_request(v->h, "GET", path, NULL, NULL, 0, NULL, &r) < 0 || r.status != 200)
			verifier_fail(v, "attempt %lld: %s (%.16s…) cannot be fetched", attempt,
				      name, sha);
		else if (sha256_hex(hex, r.body.data ? r.body.data : "", r.body.len) < 0 ||
			 strcmp(hex, sha))
			verifier_fail(v, "attempt %lld: %s does not hash to what the record says",
				      attempt, name);
		else
			json_object_set_new(v->artifacts_ok, sha, json_true());
		http_reply_release(&r);
	}
}

int verifier_record(struct verifier *v, const json_t *rec, const char *log, size_t loglen,
		    uint8_t leaf[MERKLE_HASH])
{
	uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH], lh[MERKLE_HASH];
	long long attempt = jint(rec, "attempt", -1), idx = jint(rec, "index", -1);
	const char *env = jstr(rec, "envelope", NULL);
	const json_t *shown = json_object_get(rec, "shown"), *p;
	struct sigkey *k;
	struct record r;
	char err[300], hex[SHA256_HEX_LEN + 1];
	long long before = v->failures;
	size_t n;

	if (env == NULL) {
		verifier_fail(v, "record %lld: no envelope", idx);
		return -1;
	}
	merkle_leaf_hash(lh, env, strlen(env));
	if (leaf)
		memcpy(leaf, lh, MERKLE_HASH);
	if (record_parse(&r, env, strlen(env), err, sizeof(err)) < 0) {
		verifier_fail(v, "attempt %lld: the record does not parse: %s", attempt, err);
		return -1;
	}
	p = r.predicate;
	if (jint(p, "attempt", 0) != attempt)
		verifier_fail(v, "attempt %lld: the record is of attempt %lld", attempt,
			      jint(p, "attempt", 0));
	if (agent_key(v, &k, r.env.keyid, jstr(p, "agent", ""), attempt) == 0 &&
	    record_verify(&r, k) < 0)
		verifier_fail(v, "attempt %lld: agent %s's signature does not verify", attempt,
			      jstr(p, "agent", ""));
	if (json_object_get(rec, "path")) {
		if (verifier_path(path, &n, json_object_get(rec, "path")) < 0 || v->size < 0 ||
		    merkle_verify_inclusion(lh, (uint64_t)idx, (uint64_t)v->size, path, n,
					    v->root) < 0)
			verifier_fail(v,
				      "attempt %lld: not included in the signed tree head of size "
				      "%lld",
				      attempt, v->size);
	}
	if (shown) {
		if (strcmp(jstr(shown, "state", ""), jstr(p, "verdict", "")))
			verifier_fail(v,
				      "attempt %lld: the controller shows verdict %s, the agent "
				      "signed %s",
				      attempt, jstr(shown, "state", "?"), jstr(p, "verdict", "?"));
		if (jstr(shown, "board", NULL) &&
		    strcmp(jstr(shown, "board", ""), jstr(p, "board", "")))
			verifier_fail(v,
				      "attempt %lld: the controller shows board %s, the agent "
				      "signed %s",
				      attempt, jstr(shown, "board", "?"), jstr(p, "board", "?"));
	}
	if (log) {
		sha256_hex(hex, log, loglen);
		if (strcmp(hex, intoto_subject_sha256(r.statement, RECORD_LOG_SUBJECT)))
			verifier_fail(v,
				      "attempt %lld: the console log (%zu bytes) does not hash to "
				      "what the record says",
				      attempt, loglen);
	}
	verifier_artifacts(v, r.statement, attempt);
	record_release(&r);
	if (v->failures == before)
		v->verified++;
	return v->failures == before ? 0 : -1;
}

static char *state_path(void)
{
	const char *dir = getenv("XENCI_STATE_DIR"), *home = getenv("HOME");

	if (dir && *dir)
		return xasprintf("%s/tree-heads.json", dir);
	return xasprintf("%s/.config/xenci/tree-heads.json", home ? home : ".");
}

static json_t *state_load(void)
{
	char *path = state_path(), *text = NULL, err[160];
	json_t *all = NULL;
	size_t len;

	if (file_read(&text, &len, path, 1024 * 1024) == 0)
		all = json_parse(text, len, err, sizeof(err));
	free(text);
	free(path);
	return json_is_object(all) ? all : (json_decref(all), json_object());
}

json_t *verifier_seen_head(struct verifier *v)
{
	json_t *all = state_load(), *h = json_incref(json_object_get(all, v->ctl.id));

	json_decref(all);
	return h;
}

int verifier_remember_head(struct verifier *v, const json_t *head)
{
	json_t *all = state_load();
	char *path = state_path(), *slash, *text;
	int rc;

	json_object_set_new(all, v->ctl.id,
			    json_pack("{s:O, s:O, s:O, s:O}", "tree_size",
				      json_object_get(head, "tree_size"), "root_hash",
				      json_object_get(head, "root_hash"), "timestamp",
				      json_object_get(head, "timestamp"), "envelope",
				      json_object_get(head, "envelope")));
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		mkdir_p(path);
		*slash = '/';
	}
	text = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS);
	rc = text ? file_write_atomic(path, text, strlen(text), 0600, 0) : -ENOMEM;
	free(text);
	free(path);
	json_decref(all);
	return rc < 0 ? -1 : 0;
}
