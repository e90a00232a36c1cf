/* Signed records and the Merkle log against a real controller: agents' keys bound at
 * token creation, presented and approved, rotated; a signed result accepted and
 * logged, its inclusion proof and the tree heads checked here with lib/merkle and the
 * controller's public key; consistency between sizes; refusals: no record from an
 * agent with a key, a record signed by agent B for agent A's attempt, a record naming
 * another agent's board, a record whose log or verdict is not what was sent, a bad
 * signature, a retired key. An agent without a key: shown unsigned and not logged,
 * or, with records.require_signed, given no work and its result refused. Pinned
 * agents' keys (xenci verify --agent-key/--agent-keys) catch a key the controller's
 * admin bound to an agent on its own; the flight's page marks signed and unsigned
 * attempts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "dsse.h"
#include "hash.h"
#include "json-util.h"
#include "merkle.h"
#include "record.h"
#include "sigkey.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static struct harness_controller ctl;
static char tok_a[128], tok_b[128];
static struct sigkey key_a, key_b, ctl_key;

static const char job_fake[] = "name: fake-smoke\n"
			       "requires: {arch: [x86_64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";

/* An agent token with the agent's key bound (POST /api/v1/tokens with agent_key). */
static void token_with_key(const char *agent, const struct sigkey *k, char *out, size_t len)
{
	char *pem = sigkey_public_pem(k);
	json_t *body =
	    json_pack("{s:s, s:s, s:s}", "role", "agent", "agent", agent, "agent_key", pem);
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *j = NULL;

	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/tokens", text, &j),
			 201);
	assert_string_equal(jstr(j, "keyid", ""), k->id);
	snprintf(out, len, "%s", jstr(j, "token", ""));
	json_decref(j);
	json_decref(body);
	free(text);
	free(pem);
}

static int setup(void **state)
{
	struct buf pem = BUF_INIT(0);
	char url[64];

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0 || sigkey_generate(&key_a) < 0 ||
	    sigkey_generate(&key_b) < 0)
		return -1;
	token_with_key("lab-a", &key_a, tok_a, sizeof(tok_a));
	token_with_key("lab-b", &key_b, tok_b, sizeof(tok_b));
	snprintf(url, sizeof(url), "/api/v1/log/key");
	if (harness_call_bytes(&ctl, NULL, "GET", url, NULL, NULL, 0, NULL, &pem) != 200 ||
	    sigkey_from_pem(&ctl_key, pem.data, pem.len) < 0)
		return -1;
	buf_release(&pem);
	if (harness_call(&ctl, tok_a, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"ba\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}]}",
			 NULL) != 200 ||
	    harness_call(&ctl, tok_b, "PUT", "/api/v1/agents/lab-b/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"bb\", \"arch\": \"x86_64\","
			 " \"class\": \"q35\"}]}",
			 NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sigkey_release(&key_a);
	sigkey_release(&key_b);
	sigkey_release(&ctl_key);
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* A flight of fake-smoke on board; claims its attempt as agent (token tok) and sends
 * log. The claimed attempt (new reference). */
static json_t *run_attempt(const char *tok, const char *agent, const char *board, const char *log)
{
	char path[128], body[256];
	json_t *j = NULL, *a;

	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\": [\"fake-smoke\"],"
		 " \"board\": \"%s\"}",
		 board);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/agents/%s/claim", agent);
	snprintf(body, sizeof(body), "{\"boards\": [\"%s\"], \"wait_ms\": 0}", board);
	assert_int_equal(harness_call(&ctl, tok, "POST", path, body, &j), 200);
	a = json_incref(json_object_get(j, "attempt"));
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", jint(a, "id", 0));
	assert_int_equal(harness_call_bytes(&ctl, tok, "PUT", path, "application/octet-stream", log,
					    strlen(log), NULL, NULL),
			 200);
	return a;
}

/* The result body for attempt with verdict and log, signed by k as agent (NULL k: no
 * record). New reference. */
static json_t *signed_result(const json_t *attempt, const char *verdict, const char *log,
			     const struct sigkey *k, const char *agent)
{
	json_t *res =
	    json_pack("{s:s, s:[{s:s, s:s, s:f}], s:[{s:s, s:s}], s:I}", "verdict", verdict,
		      "stages", "name", "hello", "result", "pass", "seconds", 1.5, "testcases",
		      "name", "t1", "result", "pass", "log_length", (json_int_t)strlen(log));
	char hex[65];
	struct record_inputs in = {agent, "q35", hex, NULL, NULL};
	json_t *st;
	char *env;

	sha256_hex(hex, log, strlen(log));
	if (k == NULL)
		return res;
	st = record_statement(attempt, res, &in);
	assert_non_null(st);
	assert_int_equal(record_sign(&env, k, st), 0);
	json_object_set_new(res, "record", json_string(env));
	free(env);
	json_decref(st);
	return res;
}

static long post_result(const char *tok, const json_t *attempt, const json_t *res, json_t **j)
{
	char path[128], *text = json_dumps(res, JSON_COMPACT);
	long st;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", jint(attempt, "id", 0));
	st = harness_call(&ctl, tok, "POST", path, text, j);
	free(text);
	return st;
}

/* Checks a signed tree head's envelope with the controller's key; its size and root. */
static void check_head(const json_t *head, long long *size, uint8_t root[MERKLE_HASH])
{
	const char *env = jstr(head, "envelope", "");
	struct dsse d;
	char err[200];
	json_t *body;

	assert_int_equal(dsse_parse(&d, env, strlen(env), err, sizeof(err)), 0);
	assert_string_equal(d.type, XENCI_TREE_HEAD_TYPE);
	assert_int_equal(dsse_verify(&d, &ctl_key), 0);
	body = json_parse((const char *)d.payload, d.payload_len, err, sizeof(err));
	assert_non_null(body);
	*size = jint(body, "tree_size", -1);
	assert_int_equal(*size, jint(head, "tree_size", -2));
	assert_int_equal(merkle_unhex(root, jstr(body, "root_hash", "")), 0);
	json_decref(body);
	dsse_release(&d);
}

/* attempt's record: signed by k, included in the newest head. Returns its index. */
static long long check_included(long long attempt, const struct sigkey *k)
{
	uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH], root[MERKLE_HASH], leaf[MERKLE_HASH];
	char url[128], err[200];
	struct record rec;
	const char *env;
	json_t *j = NULL, *v;
	long long size, idx;
	size_t i;

	snprintf(url, sizeof(url), "/api/v1/attempts/%lld/record", attempt);
	assert_int_equal(harness_call(&ctl, NULL, "GET", url, NULL, &j), 200);
	env = jstr(j, "envelope", "");
	assert_int_equal(record_parse(&rec, env, strlen(env), err, sizeof(err)), 0);
	assert_int_equal(record_verify(&rec, k), 0);
	assert_int_equal(jint(rec.predicate, "attempt", 0), attempt);
	record_release(&rec);
	check_head(json_object_get(j, "tree_head"), &size, root);
	idx = jint(j, "index", -1);
	assert_int_equal(merkle_leaf_hash(leaf, env, strlen(env)), 0);
	json_array_foreach (json_object_get(j, "path"), i, v)
		assert_int_equal(merkle_unhex(path[i], json_string_value(v)), 0);
	assert_int_equal(merkle_verify_inclusion(leaf, (uint64_t)idx, (uint64_t)size, path,
						 json_array_size(json_object_get(j, "path")), root),
			 0);
	json_decref(j);
	return idx;
}

static void test_signed_results_logged(void **state)
{
	const char *log = "    0.100 | hello\n    0.200 # verdict pass\n";
	json_t *a, *res, *j = NULL;
	long long i, first_size;
	uint8_t root1[MERKLE_HASH];

	(void)state;
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/log/head", NULL, &j), 200);
	check_head(j, &first_size, root1);
	json_decref(j);
	for (i = 0; i < 5; i++) {
		a = run_attempt(tok_a, "lab-a", "ba", log);
		res = signed_result(a, "pass", log, &key_a, "lab-a");
		assert_int_equal(post_result(tok_a, a, res, &j), 200);
		json_decref(j);
		/* A replay is still 200 and logs nothing more. */
		assert_int_equal(post_result(tok_a, a, res, &j), 200);
		assert_true(jbool(j, "replay", 0));
		json_decref(j);
		assert_int_equal(check_included(jint(a, "id", 0), &key_a), first_size + i);
		json_decref(res);
		json_decref(a);
	}
	/* The tree of 5 more extends the first one, and every size between. */
	{
		uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH], root2[MERKLE_HASH];
		char url[128];
		long long size;
		json_t *v;
		size_t k;

		assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/log/head", NULL, &j),
				 200);
		check_head(j, &size, root2);
		json_decref(j);
		assert_int_equal(size, first_size + 5);
		for (first_size = 1; first_size <= size; first_size++) {
			snprintf(url, sizeof(url), "/api/v1/log/head?size=%lld", first_size);
			assert_int_equal(harness_call(&ctl, NULL, "GET", url, NULL, &j), 200);
			check_head(j, &i, root1);
			json_decref(j);
			snprintf(url, sizeof(url), "/api/v1/log/consistency?first=%lld&second=%lld",
				 first_size, size);
			assert_int_equal(harness_call(&ctl, NULL, "GET", url, NULL, &j), 200);
			json_array_foreach (json_object_get(j, "path"), k, v)
				merkle_unhex(path[k], json_string_value(v));
			assert_int_equal(merkle_verify_consistency(
					     (uint64_t)first_size, (uint64_t)size, root1, root2,
					     path, json_array_size(json_object_get(j, "path"))),
					 0);
			/* Against another first root, the same proof fails. */
			root1[0] ^= 1;
			assert_int_not_equal(merkle_verify_consistency(
						 (uint64_t)first_size, (uint64_t)size, root1, root2,
						 path, json_array_size(json_object_get(j, "path"))),
					     0);
			json_decref(j);
		}
		assert_int_equal(harness_call(&ctl, NULL, "GET",
					      "/api/v1/log/consistency?first=3&second=2", NULL, &j),
				 400);
		json_decref(j);
		assert_int_equal(harness_call(&ctl, NULL, "GET",
					      "/api/v1/log/records?start=0&end=100", NULL, &j),
				 200);
		assert_int_equal(json_array_size(json_object_get(j, "records")), size);
		assert_string_equal(
		    jstr(json_object_get(json_array_get(json_object_get(j, "records"), 0), "shown"),
			 "state", ""),
		    "pass");
		json_decref(j);
	}
}

static void test_refusals(void **state)
{
	const char *log = "    0.100 | hello\n";
	json_t *a, *b, *res, *j = NULL;

	(void)state;
	a = run_attempt(tok_a, "lab-a", "ba", log);
	/* No record from an agent that has a key. */
	res = signed_result(a, "pass", log, NULL, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 422);
	assert_string_equal(jstr(j, "error", ""), "record required");
	json_decref(j);
	json_decref(res);
	/* Agent B's key signing for agent A's attempt (on A's board). */
	res = signed_result(a, "pass", log, &key_b, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 403);
	assert_string_equal(jstr(j, "error", ""), "record signed by another agent");
	json_decref(j);
	json_decref(res);
	/* A verdict other than the signed one. */
	res = signed_result(a, "pass", log, &key_a, "lab-a");
	json_object_set_new(res, "verdict", json_string("fail"));
	assert_int_equal(post_result(tok_a, a, res, &j), 422);
	assert_string_equal(jstr(j, "error", ""), "record does not match the result");
	json_decref(j);
	json_decref(res);
	/* A log other than the stored one (same length). */
	res = signed_result(a, "pass", "    0.100 | hellO\n", &key_a, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 422);
	assert_string_equal(jstr(j, "error", ""), "record does not match the log");
	json_decref(j);
	json_decref(res);
	/* A signature that does not hold: the payload's last byte changed. */
	{
		const char *env;
		char *bad;
		size_t n;

		res = signed_result(a, "pass", log, &key_a, "lab-a");
		env = jstr(res, "record", "");
		bad = strdup(env);
		n = strstr(bad, "\",\"payloadType\"") - bad;
		bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
		json_object_set_new(res, "record", json_string(bad));
		free(bad);
		assert_int_equal(post_result(tok_a, a, res, &j), 422);
		assert_true(!strcmp(jstr(j, "error", ""), "bad signature") ||
			    !strcmp(jstr(j, "error", ""), "invalid record"));
		json_decref(j);
		json_decref(res);
	}
	/* Agent B's own attempt, its record saying it ran on A's board. */
	b = run_attempt(tok_b, "lab-b", "bb", log);
	json_object_set_new(b, "board", json_string("ba"));
	res = signed_result(b, "pass", log, &key_b, "lab-b");
	assert_int_equal(post_result(tok_b, b, res, &j), 403);
	assert_string_equal(jstr(j, "error", ""), "record does not match the attempt");
	json_decref(j);
	json_decref(res);
	/* Nothing of the refused ones was logged; the right one is. */
	res = signed_result(a, "pass", log, &key_a, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 200);
	json_decref(j);
	json_decref(res);
	check_included(jint(a, "id", 0), &key_a);
	json_object_set_new(b, "board", json_string("bb"));
	res = signed_result(b, "fail", log, &key_b, "lab-b");
	assert_int_equal(post_result(tok_b, b, res, &j), 200);
	json_decref(j);
	json_decref(res);
	json_decref(a);
	json_decref(b);
}

static void test_key_rotation(void **state)
{
	const char *log = "    0.100 | hello\n";
	struct sigkey k2;
	char *pem, url[200];
	json_t *a, *res, *body, *j = NULL, *keys;
	long long old_attempt;

	(void)state;
	/* A record under the first key. */
	a = run_attempt(tok_a, "lab-a", "ba", log);
	res = signed_result(a, "pass", log, &key_a, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 200);
	json_decref(j);
	json_decref(res);
	old_attempt = jint(a, "id", 0);
	json_decref(a);
	/* The agent presents a new key when it declares: pending until approved. */
	assert_int_equal(sigkey_generate(&k2), 0);
	pem = sigkey_public_pem(&k2);
	body = json_pack("{s:i, s:s, s:[{s:s, s:s, s:s}]}", "protocol", 1, "key", pem, "boards",
			 "name", "ba", "arch", "x86_64", "class", "q35");
	free(pem);
	pem = json_dumps(body, JSON_COMPACT);
	assert_int_equal(harness_call(&ctl, tok_a, "PUT", "/api/v1/agents/lab-a/boards", pem, NULL),
			 200);
	/* Another agent cannot present it as its own. */
	json_object_set_new(json_array_get(json_object_get(body, "boards"), 0), "name",
			    json_string("bb"));
	free(pem);
	pem = json_dumps(body, JSON_COMPACT);
	assert_int_equal(harness_call(&ctl, tok_b, "PUT", "/api/v1/agents/lab-b/boards", pem, &j),
			 409);
	json_decref(j);
	free(pem);
	json_decref(body);
	a = run_attempt(tok_a, "lab-a", "ba", log);
	res = signed_result(a, "pass", log, &k2, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 422);
	assert_string_equal(jstr(j, "error", ""), "key not active");
	json_decref(j);
	/* An agent cannot approve its own key; the admin does. */
	snprintf(url, sizeof(url), "/api/v1/agents/lab-a/keys/%s/approve", k2.id);
	assert_int_equal(harness_call(&ctl, tok_a, "POST", url, "{}", NULL), 403);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", url, "{}", NULL), 200);
	assert_int_equal(post_result(tok_a, a, res, &j), 200);
	json_decref(j);
	json_decref(res);
	check_included(jint(a, "id", 0), &k2);
	json_decref(a);
	/* The old key is retired with its validity; its record stays verifiable. */
	assert_int_equal(harness_call(&ctl, tok_a, "GET", "/api/v1/agents/lab-a/keys", NULL, &j),
			 200);
	keys = json_object_get(j, "keys");
	assert_int_equal(json_array_size(keys), 2);
	assert_string_equal(jstr(json_array_get(keys, 0), "state", ""), "retired");
	assert_true(jint(json_array_get(keys, 0), "valid_until", 0) > 0);
	assert_string_equal(jstr(json_array_get(keys, 1), "state", ""), "active");
	json_decref(j);
	check_included(old_attempt, &key_a);
	/* A result signed with the retired key is refused now. */
	a = run_attempt(tok_a, "lab-a", "ba", log);
	res = signed_result(a, "pass", log, &key_a, "lab-a");
	assert_int_equal(post_result(tok_a, a, res, &j), 422);
	assert_string_equal(jstr(j, "error", ""), "key not active");
	json_decref(j);
	json_decref(res);
	json_decref(a);
	sigkey_release(&k2);
}

/* xenci verify ID with extra arguments (NULL-terminated); its exit status, its
 * output in out. */
static int verify_run(char *out, size_t len, const char *id, ...)
{
	char cli[600], key[400], state_dir[400], *argv[16], *abs;
	va_list ap;
	int n = 0, rc;

	abs = realpath(harness_build_dir(), NULL);
	snprintf(cli, sizeof(cli), "%s/xenci", abs ? abs : harness_build_dir());
	free(abs);
	snprintf(key, sizeof(key), "%s/controller-key.pub", ctl.data);
	snprintf(state_dir, sizeof(state_dir), "%s/state", ctl.dir);
	setenv("XENCI_URL", ctl.url, 1);
	setenv("XENCI_STATE_DIR", state_dir, 1);
	argv[n++] = cli;
	argv[n++] = "verify";
	argv[n++] = (char *)id;
	argv[n++] = "--key";
	argv[n++] = key;
	va_start(ap, id);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	rc = harness_run(argv, out, len);
	return rc;
}

/* An attempt that ended before any console byte (an agent's hand-back): the
 * controller stored no log (its GET is 200 empty, or 404); its record signs the
 * empty log, and xenci verify takes it as empty. */
static void test_verify_empty_log(void **state)
{
	json_t *a, *res, *j = NULL;
	char id[32], out[4096], path[128], body[256];

	(void)state;
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\": [\"fake-smoke\"],"
		 " \"board\": \"bb\"}");
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, tok_b, "POST", "/api/v1/agents/lab-b/claim",
				      "{\"boards\": [\"bb\"], \"wait_ms\": 0}", &j),
			 200);
	a = json_incref(json_object_get(j, "attempt"));
	json_decref(j);
	res = signed_result(a, "infra", "", &key_b, "lab-b");
	assert_int_equal(post_result(tok_b, a, res, &j), 200);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", jint(a, "id", 0));
	assert_int_not_equal(harness_call(&ctl, NULL, "GET", path, NULL, NULL), 0);
	snprintf(id, sizeof(id), "%lld", jint(a, "id", 0));
	assert_int_equal(verify_run(out, sizeof(out), id, (char *)NULL), 0);
	assert_non_null(strstr(out, "1 record verified"));
	/* an id with something after it is refused (exit 2, a usage error), not read
	 * as its leading digits */
	snprintf(id, sizeof(id), "%lldx", jint(a, "id", 0));
	assert_int_equal(verify_run(out, sizeof(out), id, (char *)NULL), 2);
	json_decref(res);
	json_decref(a);
}

/* Pinned agents' keys (--agent-key AGENT=FILE, --agent-keys FILE): the controller's
 * binding of keys to agents is not trusted. A controller whose admin binds a key of
 * its own to lab-b (what a compromised controller can do) gets its forged record
 * past a verify that trusts the binding, and not past one that pins lab-b's key as
 * the lab gave it; a record of an agent with no pinned key is named too. */
static void test_pinned_keys(void **state)
{
	const char *log = "    0.100 | hello\n";
	char out[8192], id[32], forged_id[32], pin_b[400], pin_a[400], pins[400];
	char *pem, tok_forged[128];
	json_t *a, *res, *j = NULL;
	struct sigkey kf;

	(void)state;
	pem = sigkey_public_pem(&key_b);
	harness_write_file(ctl.dir, "lab-b.pub", pem);
	free(pem);
	pem = sigkey_public_pem(&key_a);
	harness_write_file(ctl.dir, "lab-a.pub", pem);
	free(pem);
	harness_write_file(ctl.dir, "pinned-a",
			   "# the labs' keys as they gave them\nlab-a lab-a.pub\n");
	harness_write_file(ctl.dir, "pinned-b", "\nlab-b lab-b.pub\n");
	snprintf(pin_b, sizeof(pin_b), "lab-b=%s/lab-b.pub", ctl.dir);
	snprintf(pin_a, sizeof(pin_a), "lab-b=%s/lab-a.pub", ctl.dir);
	a = run_attempt(tok_b, "lab-b", "bb", log);
	res = signed_result(a, "pass", log, &key_b, "lab-b");
	assert_int_equal(post_result(tok_b, a, res, &j), 200);
	json_decref(j);
	json_decref(res);
	snprintf(id, sizeof(id), "%lld", jint(a, "id", 0));
	json_decref(a);
	assert_int_equal(verify_run(out, sizeof(out), id, "--agent-key", pin_b, (char *)NULL), 0);
	assert_non_null(strstr(out, "1 record verified"));
	/* Another key pinned for lab-b. */
	assert_int_equal(verify_run(out, sizeof(out), id, "--agent-key", pin_a, (char *)NULL), 1);
	assert_non_null(strstr(out, "which is not a key pinned for agent lab-b"));
	/* Only lab-a pinned: lab-b's record is not taken on the controller's word. */
	snprintf(pins, sizeof(pins), "%s/pinned-a", ctl.dir);
	assert_int_equal(verify_run(out, sizeof(out), id, "--agent-keys", pins, (char *)NULL), 1);
	assert_non_null(strstr(out, "agent lab-b has no pinned key"));
	/* A pin that is no key, and a malformed one. */
	assert_int_equal(
	    verify_run(out, sizeof(out), id, "--agent-key", "lab-b=/nonexistent", (char *)NULL), 1);
	assert_non_null(strstr(out, "not an Ed25519 public key"));
	assert_int_equal(verify_run(out, sizeof(out), id, "--agent-key", "lab-b", (char *)NULL), 2);

	/* The controller's admin binds a key of its own to lab-b and signs with it. */
	assert_int_equal(sigkey_generate(&kf), 0);
	token_with_key("lab-b", &kf, tok_forged, sizeof(tok_forged));
	a = run_attempt(tok_forged, "lab-b", "bb", log);
	res = signed_result(a, "fail", log, &kf, "lab-b");
	assert_int_equal(post_result(tok_forged, a, res, &j), 200);
	json_decref(j);
	json_decref(res);
	snprintf(forged_id, sizeof(forged_id), "%lld", jint(a, "id", 0));
	json_decref(a);
	assert_int_equal(verify_run(out, sizeof(out), forged_id, (char *)NULL), 0);
	snprintf(pins, sizeof(pins), "%s/pinned-b", ctl.dir);
	assert_int_equal(
	    verify_run(out, sizeof(out), forged_id, "--agent-keys", pins, (char *)NULL), 1);
	assert_non_null(strstr(out, "which is not a key pinned for agent lab-b"));
	assert_non_null(strstr(out, "0 records verified"));
	/* The genuine record still verifies against the pin. */
	assert_int_equal(verify_run(out, sizeof(out), id, "--agent-keys", pins, (char *)NULL), 0);
	sigkey_release(&kf);
}

/* Declares agent's one board (token tok), presenting key k (NULL: none). */
static void declare(const char *tok, const char *agent, const char *board, const struct sigkey *k)
{
	char *pem = k ? sigkey_public_pem(k) : NULL, *text, path[128];
	json_t *body = json_pack("{s:i, s:[{s:s, s:s, s:s}]}", "protocol", 1, "boards", "name",
				 board, "arch", "x86_64", "class", "q35");

	if (pem)
		json_object_set_new(body, "key", json_string(pem));
	text = json_dumps(body, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/agents/%s/boards", agent);
	assert_int_equal(harness_call(&ctl, tok, "PUT", path, text, NULL), 200);
	free(text);
	free(pem);
	json_decref(body);
}

static long long log_size(void)
{
	json_t *j = NULL;
	long long size;

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/log/head", NULL, &j), 200);
	size = jint(j, "tree_size", -1);
	json_decref(j);
	return size;
}

/* An agent with no key: while records.require_signed is off (a configuration that
 * does not name it) its result is taken unsigned, shown "unsigned" on the attempt's
 * page and never logged. With it on (restarted), the agent gets no work (claim 403),
 * the result of an attempt it already held is refused (403), and a key it presents
 * changes nothing until an admin approves it; then it works, signed. Runs last: it
 * leaves the controller requiring signed records. */
static void test_require_signed(void **state)
{
	const char *log = "    0.100 | hello\n";
	char tok_u[128], path[160], body[256];
	json_t *a, *held, *res, *j = NULL;
	long long size;
	struct sigkey ku;

	(void)state;
	assert_int_equal(harness_token(&ctl, "agent", "lab-u", tok_u, sizeof(tok_u)), 0);
	declare(tok_u, "lab-u", "bu", NULL);
	size = log_size();
	a = run_attempt(tok_u, "lab-u", "bu", log);
	res = signed_result(a, "pass", log, NULL, "lab-u");
	assert_int_equal(post_result(tok_u, a, res, &j), 200);
	json_decref(j);
	json_decref(res);
	snprintf(path, sizeof(path), "/attempts/%lld", jint(a, "id", 0));
	assert_true(harness_page_has(&ctl, path, "record unsigned", "unsigned result"));
	snprintf(path, sizeof(path), "/flights/%lld", jint(a, "flight", 0));
	assert_true(harness_page_has(&ctl, path, "record unsigned", ">unsigned</span>"));
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/record", jint(a, "id", 0));
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, NULL), 404);
	assert_int_equal(log_size(), size);
	json_decref(a);
	held = run_attempt(tok_u, "lab-u", "bu", log);

	assert_int_equal(harness_controller_kill(&ctl), 0);
	ctl.extra_config = "records: {require_signed: true}\n";
	assert_int_equal(harness_controller_start(&ctl), 0);
	res = signed_result(held, "pass", log, NULL, "lab-u");
	assert_int_equal(post_result(tok_u, held, res, &j), 403);
	assert_string_equal(jstr(j, "error", ""), "signed records required");
	assert_non_null(strstr(jstr(j, "detail", ""), "lab-u"));
	json_decref(j);
	json_decref(res);
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\": [\"fake-smoke\"],"
		 " \"board\": \"bu\"}");
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, tok_u, "POST", "/api/v1/agents/lab-u/claim",
				      "{\"boards\": [\"bu\"], \"wait_ms\": 0}", &j),
			 403);
	assert_string_equal(jstr(j, "error", ""), "signed records required");
	json_decref(j);
	/* A presented key is pending: still no work. */
	assert_int_equal(sigkey_generate(&ku), 0);
	declare(tok_u, "lab-u", "bu", &ku);
	assert_int_equal(harness_call(&ctl, tok_u, "POST", "/api/v1/agents/lab-u/claim",
				      "{\"boards\": [\"bu\"], \"wait_ms\": 0}", &j),
			 403);
	json_decref(j);
	/* Approved: the held attempt's signed result is taken and logged. */
	snprintf(path, sizeof(path), "/api/v1/agents/lab-u/keys/%s/approve", ku.id);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", path, "{}", NULL), 200);
	res = signed_result(held, "pass", log, &ku, "lab-u");
	assert_int_equal(post_result(tok_u, held, res, &j), 200);
	json_decref(j);
	json_decref(res);
	check_included(jint(held, "id", 0), &ku);
	/* The flight's page and twin mark it signed, with its leaf. */
	snprintf(path, sizeof(path), "/flights/%lld", jint(held, "flight", 0));
	assert_true(harness_page_has(&ctl, path, "record verified", "&#10003; signed</span>"));
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", jint(held, "flight", 0));
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_true(
	    jint(json_object_get(json_array_get(json_object_get(j, "attempts"), 0), "record"),
		 "index", -1) >= 0);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, tok_u, "POST", "/api/v1/agents/lab-u/claim",
				      "{\"boards\": [\"bu\"], \"wait_ms\": 0}", &j),
			 200);
	json_decref(j);
	json_decref(held);
	sigkey_release(&ku);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signed_results_logged), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_key_rotation),	  cmocka_unit_test(test_verify_empty_log),
	    cmocka_unit_test(test_pinned_keys),		  cmocka_unit_test(test_require_signed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
