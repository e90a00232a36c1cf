/* Traceable results (docs/traceability.md): what signing and logging cost per attempt,
 * what a proof costs at 1M records, and `xenci verify --all` over 100k records.
 *
 *  1. sign: an attempt's statement built, canonicalised and signed (lib/record.c,
 *     Ed25519 through OpenSSL), and its size; median of 2001.
 *  2. log: tlog_append (leaf, completed subtrees, a new signed head, in SQLite) on a
 *     store of 1M records; median of 501 appends, one transaction each as the result
 *     handler does, and the bytes the store grew by per record.
 *  3. proofs at 1M: inclusion (random leaves) and consistency (random first sizes)
 *     through the stored subtrees: median and max time, hashes and bytes.
 *  4. verify: a real controller holding 100k signed records (one agent key), timed
 *     `xenci verify --all --key` with and without --no-logs.
 * The 1M store's leaves are bulk-built (small envelopes: a proof reads hashes only). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "../../controller/ctl.h"
#include "../../controller/db.h"
#include "../../controller/tlog.h"
#include "../harness/harness.h"
#include "json-util.h"
#include "merkle.h"
#include "record.h"
#include "sigkey.h"

#define BIG    1000000
#define MID    100000
#define RUNS   2001
#define PROOFS 1001

static double ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU seconds (user + system) the reaped children used so far. */
static double child_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

static json_t *sample_attempt(long long id)
{
	return json_pack(
	    "{s:I, s:s, s:s, s:s, s:i, s:i, s:{s:s, s:s}, s:{s:s, s:[{s:s, s:s, s:i}]},"
	    " s:{s:{s:s, s:i}}}",
	    "id", (json_int_t)id, "kind", "test", "board", "qemu-x86_64", "arch", "x86_64",
	    "flight", 3, "number", 1, "revision", "tree", "xen", "commit",
	    "0123456789abcdef0123456789abcdef01234567", "job", "name", "xen-smoke", "stages",
	    "name", "banner", "pattern", "Xen version", "timeout", 10, "artifacts", "xen", "sha256",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size", 1);
}

static json_t *sample_result(void)
{
	json_t *tc = json_array();
	int i;

	for (i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "test case %d", i);
		json_array_append_new(tc, json_pack("{s:s, s:s}", "name", name, "result", "pass"));
	}
	return json_pack("{s:s, s:s, s:[{s:s, s:s, s:f}, {s:s, s:s, s:f}], s:o, s:i}", "verdict",
			 "pass", "reason", "all stages reached", "stages", "name", "firmware",
			 "result", "pass", "seconds", 2.1, "name", "banner", "result", "pass",
			 "seconds", 6.3, "testcases", tc, "log_length", 12345);
}

static void bench_sign(struct sigkey *k)
{
	static double t[RUNS];
	json_t *a = sample_attempt(17), *res = sample_result();
	struct record_inputs in = {
	    "lab-a", "qemu-x86_64-q35",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL, NULL};
	size_t bytes = 0;
	int i;

	for (i = 0; i < RUNS; i++) {
		double t0 = ms();
		json_t *st = record_statement(a, res, &in);
		char *env;

		record_sign(&env, k, st);
		t[i] = ms() - t0;
		bytes = strlen(env);
		free(env);
		json_decref(st);
	}
	printf("sign: %.1f us median per attempt (statement, canonical JSON, Ed25519, DSSE); "
	       "envelope %zu bytes (2 stages, 10 test cases)\n",
	       median(t, RUNS) * 1e3, bytes);
	json_decref(a);
	json_decref(res);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* The 1M store: leaves and subtrees bulk-inserted, then appends and proofs through
 * the controller's own functions. */
static void bench_log(const char *dir, struct sigkey *k)
{
	static double t[PROOFS];
	char err[300], path[400], *schema = NULL, *env = NULL;
	struct merkle_mem m;
	sqlite3_stmt *leaf, *node;
	uint8_t h[MERKLE_HASH];
	long long i, before;
	double t0;
	int n, maxpath = 0;
	json_t *a, *res, *st, *out;
	struct record_inputs in = {
	    "lab-a", "q35", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    NULL, NULL};

	schema = realpath(harness_root(), NULL);
	snprintf(path, sizeof(path), "%s/schema", schema ? schema : ".");
	free(schema);
	ctl.cfg.data = (char *)dir;
	snprintf(err, sizeof(err), "%s/xenci.db", dir);
	if (db_open(&ctl.db, err, path, err, sizeof(err)) < 0) {
		printf("log: cannot open the store: %s\n", err);
		return;
	}
	t0 = ms();
	merkle_mem_init(&m);
	sqlite3_exec(ctl.db, "PRAGMA foreign_keys = OFF; BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(
	    ctl.db,
	    "INSERT INTO records (idx, attempt_id, keyid, envelope, leaf_hash, created)"
	    " VALUES (?, ?, 'k', 'e', ?, 0)",
	    -1, &leaf, NULL);
	sqlite3_prepare_v2(ctl.db, "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
			   -1, &node, NULL);
	for (i = 0; i < BIG; i++) {
		unsigned l;

		merkle_leaf_hash(h, &i, sizeof(i));
		merkle_mem_append(&m, h);
		sqlite3_reset(leaf);
		sqlite3_bind_int64(leaf, 1, i);
		sqlite3_bind_int64(leaf, 2, i + 1000000000LL);
		sqlite3_bind_blob(leaf, 3, h, MERKLE_HASH, SQLITE_STATIC);
		sqlite3_step(leaf);
		for (l = 1; l <= merkle_completed_levels((uint64_t)i); l++) {
			uint64_t j = m.len[l] - 1;

			sqlite3_reset(node);
			sqlite3_bind_int(node, 1, (int)l);
			sqlite3_bind_int64(node, 2, (sqlite3_int64)j);
			sqlite3_bind_blob(node, 3, m.level[l][j], MERKLE_HASH, SQLITE_STATIC);
			sqlite3_step(node);
		}
	}
	sqlite3_finalize(leaf);
	sqlite3_finalize(node);
	sqlite3_exec(ctl.db, "COMMIT; PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	merkle_mem_release(&m);
	printf("log: a store of %d records built in %.1f s\n", BIG, (ms() - t0) / 1e3);
	if (tlog_open(err, sizeof(err)) < 0) {
		printf("log: %s\n", err);
		return;
	}
	/* Appends: real records of real attempts rows. */
	a = sample_attempt(1);
	res = sample_result();
	sqlite3_exec(ctl.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	snprintf(path, sizeof(path), "%s/xenci.db", dir);
	before = file_size(path);
	for (n = 0; n < 501; n++) {
		long long id;

		sqlite3_exec(ctl.db,
			     "INSERT INTO attempts (kind, arch, priority, state, created) VALUES "
			     "('test', 'x86_64', 0, 'pass', 0)",
			     NULL, NULL, NULL);
		id = sqlite3_last_insert_rowid(ctl.db);
		json_object_set_new(a, "id", json_integer(id));
		st = record_statement(a, res, &in);
		record_sign(&env, k, st);
		json_decref(st);
		t0 = ms();
		db_begin();
		tlog_append(id, env);
		db_commit();
		t[n] = ms() - t0;
		free(env);
	}
	sqlite3_exec(ctl.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	printf("log: %.2f ms median per append at %d records (leaf, subtrees, signed head, one "
	       "transaction); store +%lld bytes per record\n",
	       median(t, 501), BIG, (file_size(path) - before) / 501);
	json_decref(a);
	json_decref(res);
	/* Proofs at 1M. */
	srand(7);
	for (n = 0; n < PROOFS; n++) {
		long long att = 1000000000LL + (long long)(rand() % BIG);

		t0 = ms();
		if (tlog_inclusion(&out, att, -1) < 0) {
			printf("proofs: no proof for %lld\n", att);
			return;
		}
		t[n] = ms() - t0;
		if ((int)json_array_size(json_object_get(out, "path")) > maxpath)
			maxpath = (int)json_array_size(json_object_get(out, "path"));
		json_decref(out);
	}
	printf("inclusion proof at %lld records: %.3f ms median, %.3f ms max (with its signed "
	       "head); %d hashes = %d bytes\n",
	       (long long)BIG + 501, median(t, PROOFS), t[PROOFS - 1], maxpath,
	       maxpath * MERKLE_HASH);
	maxpath = 0;
	for (n = 0; n < PROOFS; n++) {
		long long first = 1 + rand() % BIG;

		t0 = ms();
		tlog_consistency(&out, first, BIG + 501);
		t[n] = ms() - t0;
		if ((int)json_array_size(json_object_get(out, "path")) > maxpath)
			maxpath = (int)json_array_size(json_object_get(out, "path"));
		json_decref(out);
	}
	printf("consistency proof to %d records: %.3f ms median, %.3f ms max; at most %d "
	       "hashes = %d bytes\n",
	       BIG + 501, median(t, PROOFS), t[PROOFS - 1], maxpath, maxpath * MERKLE_HASH);
	tlog_close();
	db_close(ctl.db);
	ctl.db = NULL;
}

/* 100k signed records in a real controller's store, then xenci verify --all. */
static void bench_verify(struct sigkey *k)
{
	struct harness_controller c;
	char err[300], path[600], key[400], out[4096], *pem;
	sqlite3 *db;
	sqlite3_stmt *att, *rec, *node;
	struct merkle_mem m;
	uint8_t h[MERKLE_HASH];
	json_t *a = sample_attempt(1), *res = sample_result();
	struct record_inputs in = {
	    "lab-a", "q35", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    NULL, NULL};
	long long i;
	double t0;

	if (harness_controller_init(&c) < 0 || harness_controller_start(&c) < 0)
		return;
	harness_controller_kill(&c);
	snprintf(path, sizeof(path), "%s/xenci.db", c.data);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return;
	t0 = ms();
	pem = sigkey_public_pem(k);
	sqlite3_exec(db, "PRAGMA foreign_keys = OFF; BEGIN; DELETE FROM tree_heads", NULL, NULL,
		     NULL);
	snprintf(err, sizeof(err),
		 "INSERT INTO agent_keys (agent, keyid, public_key, state, created, valid_from) "
		 "VALUES ('lab-a', '%s', ?, 'active', 0, 0)",
		 k->id);
	sqlite3_prepare_v2(db, err, -1, &att, NULL);
	sqlite3_bind_text(att, 1, pem, -1, SQLITE_TRANSIENT);
	sqlite3_step(att);
	sqlite3_finalize(att);
	free(pem);
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO attempts (id, kind, board, arch, agent, priority, state, "
	    "created) VALUES (?, 'test', 'qemu-x86_64', 'x86_64', 'lab-a', 0, 'pass', 0)",
	    -1, &att, NULL);
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO records (idx, attempt_id, keyid, envelope, leaf_hash, created)"
	    " VALUES (?, ?, ?, ?, ?, 0)",
	    -1, &rec, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)", -1,
			   &node, NULL);
	merkle_mem_init(&m);
	json_object_set_new(res, "log_length", json_integer(0));
	/* No artifact: the store holds none to fetch (verify would name each missing). */
	json_object_del(a, "artifacts");
	for (i = 0; i < MID; i++) {
		json_t *st;
		char *env;
		unsigned l;

		json_object_set_new(a, "id", json_integer(i + 1));
		st = record_statement(a, res, &in);
		record_sign(&env, k, st);
		json_decref(st);
		merkle_leaf_hash(h, env, strlen(env));
		merkle_mem_append(&m, h);
		sqlite3_reset(att);
		sqlite3_bind_int64(att, 1, i + 1);
		sqlite3_step(att);
		sqlite3_reset(rec);
		sqlite3_bind_int64(rec, 1, i);
		sqlite3_bind_int64(rec, 2, i + 1);
		sqlite3_bind_text(rec, 3, k->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(rec, 4, env, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(rec, 5, h, MERKLE_HASH, SQLITE_STATIC);
		sqlite3_step(rec);
		for (l = 1; l <= merkle_completed_levels((uint64_t)i); l++) {
			uint64_t j = m.len[l] - 1;

			sqlite3_reset(node);
			sqlite3_bind_int(node, 1, (int)l);
			sqlite3_bind_int64(node, 2, (sqlite3_int64)j);
			sqlite3_bind_blob(node, 3, m.level[l][j], MERKLE_HASH, SQLITE_STATIC);
			sqlite3_step(node);
		}
		free(env);
	}
	sqlite3_finalize(att);
	sqlite3_finalize(rec);
	sqlite3_finalize(node);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	merkle_mem_release(&m);
	printf("verify: %d signed records stored in %.1f s\n", MID, (ms() - t0) / 1e3);
	if (harness_controller_start(&c) < 0)
		return;
	setenv("XENCI_URL", c.url, 1);
	snprintf(path, sizeof(path), "%s/state", c.dir);
	setenv("XENCI_STATE_DIR", path, 1);
	snprintf(key, sizeof(key), "%s/controller-key.pub", c.data);
	snprintf(path, sizeof(path), "%s/xenci", harness_build_dir());
	{
		char *argv[] = {path, "verify", "--all", "--no-logs", "--key", key, NULL};
		int rc;

		double cpu = child_cpu();

		t0 = ms();
		rc = harness_run(argv, out, sizeof(out));
		printf("verify --all --no-logs over %d records: %.1f s wall, %.1f s CPU (exit %d: "
		       "%s)\n",
		       MID, (ms() - t0) / 1e3, child_cpu() - cpu, rc, out);
	}
	{
		char *argv[] = {path, "verify", "--all", "--key", key, NULL};
		int rc;

		double cpu = child_cpu();

		t0 = ms();
		rc = harness_run(argv, out, sizeof(out));
		printf("verify --all (each console log fetched and hashed) over %d records: %.1f s "
		       "wall, %.1f s CPU (exit %d: %s)\n",
		       MID, (ms() - t0) / 1e3, child_cpu() - cpu, rc, out);
	}
	harness_controller_stop(&c);
	json_decref(a);
	json_decref(res);
}

int main(void)
{
	struct sigkey k;
	char dir[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sigkey_generate(&k) < 0 || harness_tmpdir(dir, sizeof(dir), "bench-records") < 0)
		return 1;
	/* BENCH_RECORDS=verify: only the last part. */
	if (!getenv("BENCH_RECORDS") || strcmp(getenv("BENCH_RECORDS"), "verify")) {
		bench_sign(&k);
		bench_log(dir, &k);
	}
	harness_rmdir(dir);
	bench_verify(&k);
	sigkey_release(&k);
	return 0;
}
