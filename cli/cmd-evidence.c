/* xenci evidence FLIGHT | --branch B --since YYYY-MM-DD  --out DIR [--key CONTROLLER.pub]
 * [--with-artifacts [--artifacts-max-mib N]]:
 * a self-contained bundle for an assessor (docs/traceability.md): every record of
 * the flights' attempts and builds as the agents signed them, its inclusion proof
 * under one signed tree head, the head, the agents' and the controller's public
 * keys, the console logs, the job definitions, the artifacts' hashes (and with
 * --with-artifacts the artifacts themselves, at most N MiB in all), and a README
 * on checking it with `xenci verify --bundle DIR` or with openssl and sha256sum
 * (check-with-openssl.sh). Exit 0, 1 when something could not be exported. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dsse.h"
#include "fs.h"
#include "hash.h"
#include "json-util.h"
#include "record.h"
#include "xmalloc.h"

/* --artifacts-max-mib's default: a few Xen builds and dom0 kernels. */
#define EVIDENCE_ARTIFACTS_MAX_MIB 2048

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenci evidence FLIGHT|--branch B --since YYYY-MM-DD --out DIR"
		" [--key CONTROLLER.pub]\n"
		"                      [--with-artifacts [--artifacts-max-mib N]]\n"
		"Exports the flights' signed records, proofs, tree head, keys, console logs,\n"
		"job definitions and artifact hashes into DIR, with a README. Check it with\n"
		"`xenci verify --bundle DIR` (no controller needed). --with-artifacts adds\n"
		"the artifacts the records name, by sha256, at most N MiB in all (%d).\n",
		EVIDENCE_ARTIFACTS_MAX_MIB);
}

static const char readme[] =
    "# Evidence bundle of xenci results\n"
    "\n"
    "Made by `xenci evidence`. Each attempt (a job run on a board) or build here was\n"
    "signed by the lab agent that ran it (Ed25519, an in-toto Statement v1 in a DSSE\n"
    "envelope) and logged by the controller in an append-only Merkle log (RFC 9162)\n"
    "whose tree heads the controller signs with its own Ed25519 key.\n"
    "\n"
    "## Files\n"
    "\n"
    "| file | what |\n"
    "|---|---|\n"
    "| `controller.pub` | the controller's public key: compare it with the one the lab publishes "
    "|\n"
    "| `tree-head.json` | the signed tree head every proof here leads to |\n"
    "| `keys.json`, `keys/KEYID.pem` | the agents' public keys, with their validity |\n"
    "| `attempts.json` | the attempts exported and what the controller showed of them |\n"
    "| `records/N.dsse.json` | attempt N's record: the DSSE envelope as the agent signed it |\n"
    "| `records/N.payload.json` | its signed payload (the statement), decoded |\n"
    "| `records/N.sig`, `records/N.keyid` | its signature (64 raw bytes) and key id |\n"
    "| `records/N.log.sha256` | the console log's sha256 as the statement says, for `sha256sum -c` "
    "|\n"
    "| `proofs/N.json` | the record's leaf index and audit path under `tree-head.json` |\n"
    "| `logs/N.log` | attempt N's console log |\n"
    "| `jobs/NAME.json` | the job definitions as the controller holds them now (canonical JSON: "
    "its sha256 is the statement's `job_sha256` unless the job changed since) |\n"
    "| `artifacts.txt` | every artifact's sha256 the records name (`sha256 name attempt`) |\n"
    "| `artifacts/SHA256`, `artifacts.sha256sum` | made with `--with-artifacts` only: each "
    "artifact the records name, as the file of its sha256, and the list for `sha256sum -c` "
    "(`attempts.json` says `\"artifacts_included\": true`) |\n"
    "\n"
    "## Checking it\n"
    "\n"
    "With the xenci CLI (no controller needed):\n"
    "\n"
    "    xenci verify --bundle . --key controller.pub\n"
    "\n"
    "With standard tools: `sh check-with-openssl.sh` rebuilds each record's DSSE\n"
    "pre-authentication encoding (`DSSEv1 LEN(type) type LEN(payload) payload`),\n"
    "checks the agent's signature with `openssl pkeyutl -verify -rawin`, and checks the\n"
    "console log with `sha256sum -c` against the hash found in the signed payload.\n"
    "The inclusion proofs follow RFC 9162 section 2.1.3.2 (leaf hash SHA-256(0x00 ||\n"
    "envelope file), node hash SHA-256(0x01 || left || right)); `xenci verify` checks\n"
    "them and the tree head's signature.\n";

static const char script[] =
    "#!/bin/sh\n"
    "# Checks each record's agent signature (openssl) and console log (sha256sum).\n"
    "set -eu\n"
    "cd \"$(dirname \"$0\")\"\n"
    "type=application/vnd.in-toto+json\n"
    "n=0\n"
    "for p in records/*.payload.json; do\n"
    "\tid=${p#records/}; id=${id%.payload.json}\n"
    "\tlen=$(wc -c <\"$p\")\n"
    "\t{ printf 'DSSEv1 %d %s %d ' ${#type} \"$type\" \"$len\"; cat \"$p\"; } "
    ">\"records/$id.pae\"\n"
    "\topenssl pkeyutl -verify -pubin -inkey \"keys/$(cat records/$id.keyid).pem\" -rawin \\\n"
    "\t\t-in \"records/$id.pae\" -sigfile \"records/$id.sig\" >/dev/null\n"
    "\trm -f \"records/$id.pae\"\n"
    "\tgrep -qF \"$(cut -d' ' -f1 \"records/$id.log.sha256\")\" \"$p\"\n"
    "\tsha256sum --quiet -c \"records/$id.log.sha256\"\n"
    "\tn=$((n + 1))\n"
    "done\n"
    "echo \"$n records: signatures and console logs check\"\n"
    "if [ -f artifacts.sha256sum ]; then\n"
    "\tsha256sum --quiet -c artifacts.sha256sum\n"
    "\techo \"$(wc -l <artifacts.sha256sum) artifacts check\"\n"
    "fi\n";

struct bundle {
	struct http_client *h;
	const char *dir;
	json_t *attempts, *artifacts, *head, *jobs;
	int failures;
	int with_artifacts;
	long long artifacts_max; /* bytes, in all */
};

static int put(struct bundle *b, const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", b->dir, name);
	int rc = file_write_atomic(path, data, len, 0644, 0);

	if (rc < 0) {
		fprintf(stderr, "xenci: cannot write %s\n", path);
		b->failures++;
	}
	free(path);
	return rc;
}

static int put_json(struct bundle *b, const char *name, const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = put(b, name, text, strlen(text));

	free(text);
	return rc;
}

static json_t *get(struct bundle *b, struct http_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *get(struct bundle *b, struct http_reply *r, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	http_reply_init(r);
	if (http_request(b->h, "GET", path, NULL, NULL, 0, NULL, r) < 0 || r->status != 200) {
		fprintf(stderr, "xenci: GET %s: %ld %s\n", path, r->status, r->error);
		return NULL;
	}
	return r->json ? r->json : json_null();
}

static void export_attempt(struct bundle *b, const json_t *a, long long flight)
{
	long long id = jint(a, "id", 0);
	struct http_reply r, lr;
	struct record rec;
	json_t *j, *proof, *s;
	char name[128], err[200], line[300];
	const char *env;
	size_t i;

	j = get(b, &r, "/api/v1/attempts/%lld/record?size=%lld", id, jint(b->head, "tree_size", 0));
	env = jstr(j, "envelope", NULL);
	if (env == NULL || record_parse(&rec, env, strlen(env), err, sizeof(err)) < 0) {
		fprintf(stderr, "xenci: attempt %lld: no record to export\n", id);
		b->failures++;
		http_reply_release(&r);
		return;
	}
	snprintf(name, sizeof(name), "records/%lld.dsse.json", id);
	put(b, name, env, strlen(env));
	snprintf(name, sizeof(name), "records/%lld.payload.json", id);
	put(b, name, rec.env.payload, rec.env.payload_len);
	snprintf(name, sizeof(name), "records/%lld.sig", id);
	put(b, name, rec.env.sig, rec.env.sig_len);
	snprintf(name, sizeof(name), "records/%lld.keyid", id);
	put(b, name, rec.env.keyid, strlen(rec.env.keyid));
	snprintf(name, sizeof(name), "records/%lld.log.sha256", id);
	snprintf(line, sizeof(line), "%s  logs/%lld.log\n",
		 intoto_subject_sha256(rec.statement, RECORD_LOG_SUBJECT), id);
	put(b, name, line, strlen(line));
	proof =
	    json_pack("{s:O, s:I, s:O, s:O, s:O}", "index", json_object_get(j, "index"), "attempt",
		      (json_int_t)id, "tree_size", json_object_get(j, "tree_size"), "leaf_hash",
		      json_object_get(j, "leaf_hash"), "path", json_object_get(j, "path"));
	snprintf(name, sizeof(name), "proofs/%lld.json", id);
	put_json(b, name, proof);
	json_decref(proof);
	json_array_append_new(
	    b->attempts, json_pack("{s:I, s:I, s:s?, s:s?, s:s, s:O}", "attempt", (json_int_t)id,
				   "flight", (json_int_t)flight, "job", jstr(a, "job", NULL),
				   "board", jstr(a, "board", NULL), "kind", jstr(a, "kind", ""),
				   "shown", json_object_get(j, "shown")));
	json_array_foreach (json_object_get(rec.statement, "subject"), i, s) {
		const char *n = jstr(s, "name", "");

		if (!strncmp(n, RECORD_ARTIFACT_PREFIX, strlen(RECORD_ARTIFACT_PREFIX)))
			json_array_append_new(
			    b->artifacts,
			    json_pack("{s:s, s:s, s:I}", "sha256",
				      jstr(json_object_get(s, "digest"), "sha256", ""), "name",
				      n + strlen(RECORD_ARTIFACT_PREFIX), "attempt",
				      (json_int_t)id));
	}
	if (jstr(rec.predicate, "job", NULL))
		json_object_set(b->jobs, jstr(rec.predicate, "job", ""),
				json_object_get(rec.predicate, "job_sha256"));
	record_release(&rec);
	http_reply_release(&r);
	http_reply_init(&lr);
	snprintf(name, sizeof(name), "/api/v1/attempts/%lld/log", id);
	if (http_request(b->h, "GET", name, NULL, NULL, 0, NULL, &lr) == 0 &&
	    (lr.status == 200 || lr.status == 404)) {
		snprintf(name, sizeof(name), "logs/%lld.log", id);
		put(b, name, lr.status == 200 && lr.body.data ? lr.body.data : "",
		    lr.status == 200 ? lr.body.len : 0);
	} else {
		fprintf(stderr, "xenci: attempt %lld: its console log cannot be fetched\n", id);
		b->failures++;
	}
	http_reply_release(&lr);
}

static void export_flight(struct bundle *b, long long id)
{
	static const char *const ran[] = {"pass", "fail", "infra", "timeout", NULL};
	struct http_reply r;
	json_t *f = get(b, &r, "/api/v1/flights/%lld", id), *a;
	size_t i;
	int k;

	if (f == NULL)
		b->failures++;
	json_array_foreach (json_object_get(f, "attempts"), i, a)
		for (k = 0; ran[k]; k++)
			if (!strcmp(jstr(a, "state", ""), ran[k]) && jstr(a, "agent", NULL))
				export_attempt(b, a, id);
	http_reply_release(&r);
}

/* The flights of branch (its ref, or refs/heads/branch) created since `since` (ms). */
static void export_branch(struct bundle *b, const char *branch, long long since)
{
	struct http_reply r;
	json_t *list = get(b, &r, "/api/v1/flights?limit=1000"), *f;
	size_t i, bl = strlen(branch);

	json_array_foreach (json_object_get(list, "flights"), i, f) {
		const char *ref = jstr(f, "ref", "");
		size_t rl = strlen(ref);

		if (jint(f, "created", 0) < since)
			continue;
		if (strcmp(ref, branch) &&
		    !(rl > bl && ref[rl - bl - 1] == '/' && !strcmp(ref + rl - bl, branch)))
			continue;
		export_flight(b, jint(f, "id", 0));
	}
	if (list == NULL)
		b->failures++;
	http_reply_release(&r);
}

static void export_jobs(struct bundle *b)
{
	struct http_reply r;
	json_t *list = get(b, &r, "/api/v1/jobs"), *j;
	size_t i;

	json_array_foreach (json_object_get(list, "jobs"), i, j) {
		const char *name = jstr(j, "name", "");
		char *text, path[200];

		if (!json_object_get(b->jobs, name) || strchr(name, '/') || name[0] == '.')
			continue;
		text = dsse_canonical(json_object_get(j, "definition"));
		snprintf(path, sizeof(path), "jobs/%s.json", name);
		put(b, path, text, strlen(text));
		free(text);
	}
	http_reply_release(&r);
}

/* --with-artifacts: each artifact the records name, once, as artifacts/SHA256,
 * checked against its hash, within b->artifacts_max bytes in all; the list for
 * sha256sum -c. An artifact past the bound is removed and the export fails. */
static void export_artifacts(struct bundle *b)
{
	struct buf sums = BUF_INIT(0);
	json_t *done = json_object(), *a;
	long long total = 0;
	size_t i;

	json_array_foreach (b->artifacts, i, a) {
		const char *sha = jstr(a, "sha256", "");
		char *part, *file, path[128], hex[SHA256_HEX_LEN + 1];
		struct http_reply r;
		long long size = 0;
		FILE *f;
		int ok;

		if (!sha256_is_hex(sha) || json_object_get(done, sha))
			continue;
		json_object_set_new(done, sha, json_true());
		part = xasprintf("%s/artifacts/%s.part", b->dir, sha);
		file = xasprintf("%s/artifacts/%s", b->dir, sha);
		snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
		http_reply_init(&r);
		f = fopen(part, "w");
		ok = f && http_download(b->h, path, f, 0, &r) == 0 && r.status == 200;
		if (f && fclose(f) != 0)
			ok = 0;
		http_reply_release(&r);
		if (!ok) {
			fprintf(stderr, "xenci: %s of attempt %lld (%s) cannot be fetched\n",
				jstr(a, "name", ""), jint(a, "attempt", 0), sha);
			b->failures++;
		} else if (sha256_file(hex, part, &size) < 0 || strcmp(hex, sha)) {
			fprintf(stderr,
				"xenci: %s of attempt %lld: the controller's copy does not hash to "
				"%s: not exported\n",
				jstr(a, "name", ""), jint(a, "attempt", 0), sha);
			b->failures++;
		} else if ((total += size) > b->artifacts_max) {
			fprintf(
			    stderr,
			    "xenci: the artifacts pass --artifacts-max-mib %lld at %s of attempt "
			    "%lld (%lld bytes): the bundle holds the artifacts before it only; "
			    "raise the bound or export without --with-artifacts\n",
			    b->artifacts_max >> 20, jstr(a, "name", ""), jint(a, "attempt", 0),
			    size);
			b->failures++;
			unlink(part);
			free(part);
			free(file);
			break;
		} else if (rename(part, file) < 0) {
			fprintf(stderr, "xenci: cannot write %s\n", file);
			b->failures++;
		} else {
			buf_printf(&sums, "%s  artifacts/%s\n", sha, sha);
		}
		unlink(part);
		free(part);
		free(file);
	}
	put(b, "artifacts.sha256sum", sums.data ? sums.data : "", sums.len);
	buf_release(&sums);
	json_decref(done);
}

static void export_keys(struct bundle *b, const char *key_file)
{
	struct http_reply r;
	json_t *keys = get(b, &r, "/api/v1/keys"), *k;
	char name[200], *pem = NULL;
	size_t i, len;

	json_array_foreach (json_object_get(keys, "keys"), i, k) {
		if (!sha256_is_hex(jstr(k, "keyid", "")))
			continue;
		snprintf(name, sizeof(name), "keys/%s.pem", jstr(k, "keyid", ""));
		put(b, name, jstr(k, "public_key", ""), strlen(jstr(k, "public_key", "")));
	}
	put_json(b, "keys.json", keys ? keys : json_null());
	http_reply_release(&r);
	if (key_file && file_read(&pem, &len, key_file, 16384) == 0) {
		put(b, "controller.pub", pem, len);
	} else {
		struct http_reply kr;

		http_reply_init(&kr);
		if (http_request(b->h, "GET", "/api/v1/log/key", NULL, NULL, 0, NULL, &kr) == 0 &&
		    kr.status == 200)
			put(b, "controller.pub", kr.body.data, kr.body.len);
		else
			b->failures++;
		http_reply_release(&kr);
	}
	free(pem);
}

int cmd_evidence(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"branch", required_argument, NULL, 'b'},
	    {"since", required_argument, NULL, 's'},
	    {"out", required_argument, NULL, 'o'},
	    {"key", required_argument, NULL, 'k'},
	    {"with-artifacts", no_argument, NULL, 'A'},
	    {"artifacts-max-mib", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *branch = NULL, *since = NULL, *key = NULL;
	struct bundle b = {0};
	struct http_client c;
	struct http_reply hr;
	long long flight = 0, since_ms = 0, max_mib = EVIDENCE_ARTIFACTS_MAX_MIB;
	char *end;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			branch = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'o':
			b.dir = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'A':
			b.with_artifacts = 1;
			break;
		case 'M':
			max_mib = strtoll(optarg, &end, 10);
			if (*end || max_mib < 0 || max_mib > (1LL << 30)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && cli_id_parse(&flight, argv[optind], "evidence", "a flight number") < 0)
		return 2;
	if (since) {
		struct tm tm = {0};

		if (strptime(since, "%Y-%m-%d", &tm) == NULL) {
			usage(stderr);
			return 2;
		}
		since_ms = (long long)timegm(&tm) * 1000;
	}
	if (b.dir == NULL || (!flight == !branch) || (branch && !since)) {
		usage(stderr);
		return 2;
	}
	if (cli_client(&c) < 0)
		return 1;
	b.h = &c;
	{
		const char *sub[] = {"",
				     "/records",
				     "/proofs",
				     "/logs",
				     "/keys",
				     "/jobs",
				     b.with_artifacts ? "/artifacts" : NULL,
				     NULL};
		int i;

		for (i = 0; sub[i]; i++) {
			char *p = xasprintf("%s%s", b.dir, sub[i]);

			if (mkdir_p(p) < 0) {
				fprintf(stderr, "xenci: cannot make %s\n", p);
				free(p);
				http_client_release(&c);
				return 1;
			}
			free(p);
		}
	}
	b.artifacts_max = max_mib << 20;
	b.attempts = json_array();
	b.artifacts = json_array();
	b.jobs = json_object();
	b.head = json_incref(get(&b, &hr, "/api/v1/log/head"));
	http_reply_release(&hr);
	if (b.head == NULL) {
		b.failures++;
	} else {
		put_json(&b, "tree-head.json", b.head);
		export_keys(&b, key);
		if (flight)
			export_flight(&b, flight);
		else
			export_branch(&b, branch, since_ms);
		export_jobs(&b);
		if (b.with_artifacts)
			export_artifacts(&b);
		{
			json_t *list = json_pack("{s:O, s:b}", "attempts", b.attempts,
						 "artifacts_included", b.with_artifacts);

			put_json(&b, "attempts.json", list);
			json_decref(list);
		}
		{
			struct buf t = BUF_INIT(0);
			json_t *a;
			size_t i;

			json_array_foreach (b.artifacts, i, a)
				buf_printf(&t, "%s  %s  attempt %lld\n", jstr(a, "sha256", ""),
					   jstr(a, "name", ""), jint(a, "attempt", 0));
			put(&b, "artifacts.txt", t.data ? t.data : "", t.len);
			buf_release(&t);
		}
		put(&b, "README.md", readme, strlen(readme));
		put(&b, "check-with-openssl.sh", script, strlen(script));
		printf("%zu records exported to %s under the tree head of size %lld\n",
		       json_array_size(b.attempts), b.dir, jint(b.head, "tree_size", 0));
	}
	json_decref(b.attempts);
	json_decref(b.artifacts);
	json_decref(b.jobs);
	json_decref(b.head);
	http_client_release(&c);
	return b.failures ? 1 : 0;
}
