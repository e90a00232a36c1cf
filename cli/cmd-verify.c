/* xenci verify ATTEMPT | --flight F | --all | --bundle DIR  [--key CONTROLLER.pub]
 * [--agent-key AGENT=FILE ...] [--agent-keys FILE] [--no-logs]: checks results offline
 * from what the controller (or a bundle) hands over, trusting only the controller's
 * public key (and, when given, the agents' keys pinned, instead of the controller's
 * binding of keys to agents): agents' signatures, inclusion
 * under a signed tree head, consistency with the head seen before (kept in
 * ~/.config/xenci/tree-heads.json), console logs and artifacts against their hashes.
 * Exit 0 when everything checked passed, 1 with one "FAIL" line per problem, 2 for
 * bad usage. docs/traceability.md. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dsse.h"
#include "fs.h"
#include "json-util.h"
#include "verify.h"
#include "xmalloc.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: xenci verify ATTEMPT|--flight F|--all --key CONTROLLER.pub [--no-logs]\n"
		   "       xenci verify --bundle DIR [--key CONTROLLER.pub]\n"
		   "       ... [--agent-key AGENT=PUB.pem]... [--agent-keys PINNED]\n"
		   "Checks signed records offline: the agent's signature, inclusion under a tree\n"
		   "head signed by the controller's key, consistency with the head seen before\n"
		   "(~/.config/xenci/tree-heads.json), console logs and artifacts against their\n"
		   "hashes. One FAIL line per problem; exit 1 when there is any.\n"
		   "--agent-key and --agent-keys (lines 'AGENT PUB.pem') pin agents' keys: the\n"
		   "controller's binding of keys to agents is then not trusted, and each record\n"
		   "must be signed by a key pinned for its agent.\n");
}

static json_t *get(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *get(struct verifier *v, const char *fmt, ...)
{
	struct http_reply r;
	char path[256];
	json_t *out = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	http_reply_init(&r);
	if (http_request(v->h, "GET", path, NULL, NULL, 0, NULL, &r) == 0 && r.status == 200)
		out = json_incref(r.json);
	http_reply_release(&r);
	return out;
}

/* The console log of attempt into *out (malloc'd), or -1. */
static int fetch_log(struct verifier *v, long long attempt, char **out, size_t *len)
{
	struct http_reply r;
	char path[128];
	int rc = -1;

	*out = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", attempt);
	http_reply_init(&r);
	/* 404: no byte of log was stored (an attempt handed back at once). */
	if (http_request(v->h, "GET", path, NULL, NULL, 0, NULL, &r) == 0 &&
	    (r.status == 200 || r.status == 404)) {
		*out = r.status == 200 ? buf_detach(&r.body, len) : NULL;
		if (*out == NULL) {
			*out = xstrdup("");
			*len = 0;
		}
		rc = 0;
	}
	http_reply_release(&r);
	return rc;
}

/* The newest head, checked, then checked against the one seen before: same history
 * (a consistency proof) or a failure. Remembered when it holds. */
static int head_now(struct verifier *v)
{
	json_t *head = get(v, "/api/v1/log/head"), *seen, *proof;
	uint8_t old[MERKLE_HASH], path[MERKLE_MAX_PATH][MERKLE_HASH];
	long long before = v->failures, m;
	size_t n;

	if (head == NULL) {
		verifier_fail(v, "tree head: the controller gives none");
		return -1;
	}
	if (verifier_head(v, head) < 0) {
		json_decref(head);
		return -1;
	}
	seen = verifier_seen_head(v);
	m = jint(seen, "tree_size", 0);
	if (seen && merkle_unhex(old, jstr(seen, "root_hash", "")) == 0) {
		if (m > v->size) {
			verifier_fail(v,
				      "tree head: the log shrank from %lld records (seen before) "
				      "to %lld",
				      m, v->size);
		} else if (m > 0) {
			proof =
			    get(v, "/api/v1/log/consistency?first=%lld&second=%lld", m, v->size);
			if (proof == NULL ||
			    verifier_path(path, &n, json_object_get(proof, "path")) < 0 ||
			    merkle_verify_consistency((uint64_t)m, (uint64_t)v->size, old, v->root,
						      path, n) < 0)
				verifier_fail(
				    v,
				    "tree head: size %lld is not consistent with the head of "
				    "size %lld seen before (history rewritten)",
				    v->size, m);
			json_decref(proof);
		}
	}
	json_decref(seen);
	if (v->failures == before)
		verifier_remember_head(v, head);
	json_decref(head);
	return v->failures == before ? 0 : -1;
}

static void one(struct verifier *v, long long attempt)
{
	json_t *rec = get(v, "/api/v1/attempts/%lld/record?size=%lld", attempt, v->size);
	char *log = NULL;
	size_t len = 0;

	if (rec == NULL) {
		verifier_fail(v, "attempt %lld: no record in the tree of size %lld", attempt,
			      v->size);
		return;
	}
	if (!v->skip_logs && fetch_log(v, attempt, &log, &len) < 0)
		verifier_fail(v, "attempt %lld: its console log cannot be fetched", attempt);
	verifier_record(v, rec, log, len, NULL);
	free(log);
	json_decref(rec);
}

static int final_run(const json_t *a)
{
	static const char *const run[] = {"pass", "fail", "infra", "timeout", NULL};
	const char *s = jstr(a, "state", "");
	int i;

	for (i = 0; run[i]; i++)
		if (!strcmp(s, run[i]))
			return jstr(a, "agent", NULL) != NULL;
	return 0;
}

static void flight(struct verifier *v, long long id)
{
	json_t *f = get(v, "/api/v1/flights/%lld", id), *a;
	size_t i;

	if (f == NULL) {
		verifier_fail(v, "flight %lld: the controller does not give it", id);
		return;
	}
	json_array_foreach (json_object_get(f, "attempts"), i, a)
		if (final_run(a))
			one(v, jint(a, "id", 0));
	json_decref(f);
}

/* Every record of the log, the tree recomputed from them and compared with the head. */
static void all(struct verifier *v)
{
	struct merkle_mem m;
	struct merkle_store s;
	uint8_t leaf[MERKLE_HASH], root[MERKLE_HASH];
	long long next = 0;

	merkle_mem_init(&m);
	while (next < v->size) {
		json_t *page = get(v, "/api/v1/log/records?start=%lld&end=%lld", next, v->size),
		       *rec;
		size_t i;

		if (page == NULL || json_array_size(json_object_get(page, "records")) == 0) {
			verifier_fail(v, "log: records from %lld cannot be fetched", next);
			json_decref(page);
			break;
		}
		json_array_foreach (json_object_get(page, "records"), i, rec) {
			long long idx = jint(rec, "index", -1);

			while (next < idx) {
				verifier_fail(v, "log: record %lld is missing (removed)", next);
				next++;
			}
			if (jbool(rec, "hidden", 0)) {
				if (merkle_unhex(leaf, jstr(rec, "leaf_hash", "")) < 0)
					verifier_fail(v, "log: record %lld has no leaf hash", idx);
			} else {
				char *log = NULL;
				size_t len = 0;

				if (!v->skip_logs &&
				    fetch_log(v, jint(rec, "attempt", 0), &log, &len) < 0)
					verifier_fail(v,
						      "attempt %lld: its console log cannot be "
						      "fetched",
						      jint(rec, "attempt", 0));
				verifier_record(v, rec, log, len, leaf);
				free(log);
			}
			merkle_mem_append(&m, leaf);
			next = idx + 1;
		}
		json_decref(page);
	}
	s = merkle_mem_store(&m);
	if ((long long)m.size == v->size &&
	    (merkle_root(&s, m.size, root) < 0 || memcmp(root, v->root, MERKLE_HASH)))
		verifier_fail(v, "log: its %lld records do not hash to the signed root", v->size);
	merkle_mem_release(&m);
}

/* A bundle made by `xenci evidence`: the same checks on its files alone. */
static void bundle(struct verifier *v, const char *dir)
{
	char *path, *text = NULL, err[200];
	json_t *j, *a;
	size_t len, i;

	path = xasprintf("%s/tree-head.json", dir);
	j = file_read(&text, &len, path, 1 << 20) == 0 ? json_parse(text, len, err, sizeof(err))
						       : NULL;
	free(text);
	free(path);
	if (j == NULL || verifier_head(v, j) < 0) {
		if (j == NULL)
			verifier_fail(v, "bundle: no tree-head.json");
		json_decref(j);
		return;
	}
	json_decref(j);
	path = xasprintf("%s/keys.json", dir);
	j = file_read(&text, &len, path, 1 << 22) == 0 ? json_parse(text, len, err, sizeof(err))
						       : NULL;
	free(text);
	free(path);
	verifier_add_keys(v, json_object_get(j, "keys"));
	json_decref(j);
	path = xasprintf("%s/attempts.json", dir);
	j = file_read(&text, &len, path, 1 << 26) == 0 ? json_parse(text, len, err, sizeof(err))
						       : NULL;
	free(text);
	free(path);
	if (j == NULL)
		verifier_fail(v, "bundle: no attempts.json");
	/* Made --with-artifacts: every artifact a record names must be in it. */
	if (jbool(j, "artifacts_included", 0))
		v->artifacts_dir = xasprintf("%s/artifacts", dir);
	json_array_foreach (json_object_get(j, "attempts"), i, a) {
		long long id = jint(a, "attempt", 0);
		char *env = NULL, *log = NULL;
		json_t *rec = NULL;

		path = xasprintf("%s/proofs/%lld.json", dir, id);
		if (file_read(&text, &len, path, 1 << 20) == 0)
			rec = json_parse(text, len, err, sizeof(err));
		free(text);
		free(path);
		path = xasprintf("%s/records/%lld.dsse.json", dir, id);
		if (rec == NULL || file_read(&env, &len, path, DSSE_MAX) < 0) {
			verifier_fail(v, "attempt %lld: its record or proof is not in the bundle",
				      id);
		} else {
			json_object_set_new(rec, "envelope", json_string(env));
			json_object_set(rec, "shown", json_object_get(a, "shown"));
			free(path);
			path = xasprintf("%s/logs/%lld.log", dir, id);
			if (file_read(&log, &len, path, 1LL << 30) < 0) {
				verifier_fail(
				    v, "attempt %lld: its console log is not in the bundle", id);
				log = NULL;
			}
			verifier_record(v, rec, log, log ? len : 0, NULL);
		}
		free(path);
		free(env);
		free(log);
		json_decref(rec);
	}
	json_decref(j);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"flight", required_argument, NULL, 'f'},
	    {"all", no_argument, NULL, 'a'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"no-logs", no_argument, NULL, 'n'},
	    {"agent-key", required_argument, NULL, 'p'},
	    {"agent-keys", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key = NULL, *bundle_dir = NULL;
	long long flight_id = 0, attempt = 0;
	struct http_client c;
	struct verifier v;
	int ch, every = 0, skip_logs = 0, rc, npins = 0;
	char *def_key = NULL, *eq;
	struct {
		int file; /* --agent-keys FILE, else --agent-key AGENT=FILE */
		const char *arg;
	} pins[64];
	int i;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			key = optarg;
			break;
		case 'f':
			flight_id = strtoll(optarg, NULL, 10);
			break;
		case 'a':
			every = 1;
			break;
		case 'b':
			bundle_dir = optarg;
			break;
		case 'n':
			skip_logs = 1;
			break;
		case 'p':
		case 'P':
			/* pinned once the verifier is up, in the order given */
			eq = strchr(optarg, '=');
			if (npins == 64 || (ch == 'p' && (eq == NULL || eq == optarg || !eq[1]))) {
				usage(stderr);
				return 2;
			}
			pins[npins].file = ch == 'P';
			pins[npins++].arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && cli_id_parse(&attempt, argv[optind], "verify", "an attempt id") < 0)
		return 2;
	if ((!!attempt + !!flight_id + every + !!bundle_dir) != 1 || (!key && !bundle_dir)) {
		usage(stderr);
		return 2;
	}
	verifier_init(&v, stdout);
	v.skip_logs = skip_logs;
	if (!key) {
		def_key = xasprintf("%s/controller.pub", bundle_dir);
		key = def_key;
		fprintf(stderr,
			"using the bundle's %s: compare it with the key the lab publishes\n", key);
	}
	if (verifier_key_file(&v, key) < 0)
		goto done;
	for (i = 0; i < npins; i++) {
		char *agent = xstrdup(pins[i].arg);

		eq = strchr(agent, '=');
		if (pins[i].file)
			verifier_pin_file(&v, pins[i].arg);
		else if (eq) {
			*eq = '\0';
			verifier_pin_key(&v, agent, eq + 1);
		}
		free(agent);
	}
	if (v.failures)
		goto done;
	if (bundle_dir) {
		bundle(&v, bundle_dir);
		goto done;
	}
	if (cli_client(&c) < 0) {
		verifier_release(&v);
		free(def_key);
		return 1;
	}
	v.h = &c;
	if (head_now(&v) == 0) {
		json_t *keys = get(&v, "/api/v1/keys");

		verifier_add_keys(&v, json_object_get(keys, "keys"));
		json_decref(keys);
		if (attempt)
			one(&v, attempt);
		else if (flight_id)
			flight(&v, flight_id);
		else
			all(&v);
	}
	http_client_release(&c);
done:
	printf("%lld record%s verified under the tree head of size %lld, %lld failure%s\n",
	       v.verified, v.verified == 1 ? "" : "s", v.size, v.failures,
	       v.failures == 1 ? "" : "s");
	rc = v.failures ? 1 : 0;
	verifier_release(&v);
	free(def_key);
	return rc;
}
