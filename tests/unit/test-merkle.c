/* lib/merkle.c against an independent reference (tests/unit/merkle-ref.py: RFC 9162
 * 2.1 written out over hashlib): roots, audit paths and consistency proofs of every
 * tree up to 40 leaves, their verification, and rejection of every altered proof;
 * lib/sigkey.c and lib/dsse.c: DSSE's PAE, signatures checked by `openssl pkeyutl`,
 * key files, envelopes and in-toto statements. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "dsse.h"
#include "fs.h"
#include "merkle.h"
#include "sigkey.h"

#define TOP	  40
#define SIXTYFOUR "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct merkle_mem tree;

static int setup(void **state)
{
	uint8_t h[MERKLE_HASH];
	char leaf[32];
	int i;

	(void)state;
	merkle_mem_init(&tree);
	for (i = 0; i < TOP; i++) {
		snprintf(leaf, sizeof(leaf), "leaf-%d", i);
		if (merkle_leaf_hash(h, leaf, strlen(leaf)) < 0 || merkle_mem_append(&tree, h) < 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	merkle_mem_release(&tree);
	return 0;
}

/* The hashes of "a,b,c" into out; their number. */
static size_t parse_list(char *s, uint8_t out[][MERKLE_HASH])
{
	size_t n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		assert_int_equal(merkle_unhex(out[n], tok), 0);
		n++;
	}
	return n;
}

/* A tree of the first n leaves of tree: the store answers only complete subtrees. */
struct prefix {
	uint64_t n;
};
static int prefix_node(void *arg, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH])
{
	struct prefix *p = arg;

	/* Only subtrees wholly inside the tree may be asked for. */
	if (((index + 1) << level) > p->n)
		return -ERANGE;
	return merkle_mem_store(&tree).node(&tree, level, index, out);
}

static void test_reference_vectors(void **state)
{
	static uint8_t want[MERKLE_MAX_PATH][MERKLE_HASH], got[MERKLE_MAX_PATH][MERKLE_HASH];
	char cmd[600], line[16384], kind[8];
	uint8_t root[MERKLE_HASH], r1[MERKLE_HASH], r2[MERKLE_HASH], leaf[MERKLE_HASH];
	unsigned long long m, n;
	size_t nw, ng, i, roots = 0, paths = 0, proofs = 0;
	FILE *f;

	(void)state;
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/unit/merkle-ref.py %d", harness_root(), TOP);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char list[16000] = "";
		struct prefix p;
		struct merkle_store s = {prefix_node, &p};

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "root %llu %64s", &n, list) == 2) {
			p.n = n;
			assert_int_equal(merkle_root(&s, n, root), 0);
			assert_int_equal(merkle_unhex(r1, list), 0);
			assert_memory_equal(root, r1, MERKLE_HASH);
			roots++;
			continue;
		}
		assert_int_equal(sscanf(line, "%7s %llu %llu %15999s", kind, &m, &n, list) >= 3, 1);
		nw = parse_list(list, want);
		p.n = n;
		assert_int_equal(merkle_root(&s, n, r2), 0);
		if (!strcmp(kind, "path")) {
			assert_int_equal(merkle_inclusion_proof(&s, m, n, got, &ng), 0);
			assert_int_equal(ng, nw);
			assert_memory_equal(got, want, ng * MERKLE_HASH);
			memcpy(leaf, tree.level[0][m], MERKLE_HASH);
			assert_int_equal(merkle_verify_inclusion(leaf, m, n, got, ng, r2), 0);
			/* Every altered proof fails: a flipped bit in any hash, the leaf, the
			 * index, the size, or a hash dropped. */
			for (i = 0; i < ng; i++) {
				got[i][i % MERKLE_HASH] ^= 1;
				assert_int_equal(merkle_verify_inclusion(leaf, m, n, got, ng, r2),
						 -EBADMSG);
				got[i][i % MERKLE_HASH] ^= 1;
			}
			leaf[0] ^= 1;
			assert_int_equal(merkle_verify_inclusion(leaf, m, n, got, ng, r2),
					 -EBADMSG);
			leaf[0] ^= 1;
			if (n > 1) {
				assert_int_not_equal(
				    merkle_verify_inclusion(leaf, (m + 1) % n, n, got, ng, r2), 0);
				assert_int_not_equal(
				    merkle_verify_inclusion(leaf, m, n, got, ng - 1, r2), 0);
			}
			paths++;
		} else {
			uint8_t first[MERKLE_HASH];
			struct prefix q = {m};
			struct merkle_store s1 = {prefix_node, &q};

			assert_string_equal(kind, "proof");
			assert_int_equal(merkle_consistency_proof(&s, m, n, got, &ng), 0);
			assert_int_equal(ng, nw);
			assert_memory_equal(got, want, ng * MERKLE_HASH);
			assert_int_equal(merkle_root(&s1, m, first), 0);
			assert_int_equal(merkle_verify_consistency(m, n, first, r2, got, ng), 0);
			for (i = 0; i < ng; i++) {
				got[i][0] ^= 0x80;
				assert_int_equal(
				    merkle_verify_consistency(m, n, first, r2, got, ng), -EBADMSG);
				got[i][0] ^= 0x80;
			}
			first[5] ^= 1;
			assert_int_equal(merkle_verify_consistency(m, n, first, r2, got, ng),
					 -EBADMSG);
			first[5] ^= 1;
			if (m < n) {
				/* A tree whose old part was rewritten is not consistent. */
				memcpy(r1, r2, MERKLE_HASH);
				r1[31] ^= 1;
				assert_int_equal(
				    merkle_verify_consistency(m, n, first, r1, got, ng), -EBADMSG);
			}
			proofs++;
		}
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(roots, TOP + 1);
	assert_int_equal(paths, TOP * (TOP + 1) / 2);
	assert_int_equal(proofs, TOP * (TOP + 1) / 2);
}

static void test_bounds(void **state)
{
	uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH], h[MERKLE_HASH] = {0};
	struct merkle_store s = merkle_mem_store(&tree);
	size_t n;

	(void)state;
	assert_int_equal(merkle_inclusion_proof(&s, 5, 5, path, &n), -EINVAL);
	assert_int_equal(merkle_consistency_proof(&s, 0, 5, path, &n), -EINVAL);
	assert_int_equal(merkle_consistency_proof(&s, 6, 5, path, &n), -EINVAL);
	assert_int_equal(merkle_verify_inclusion(h, 3, 3, path, 0, h), -EINVAL);
	assert_int_equal(merkle_verify_consistency(0, 3, h, h, path, 1), -EINVAL);
	assert_int_equal(merkle_completed_levels(0), 0);
	assert_int_equal(merkle_completed_levels(1), 1);
	assert_int_equal(merkle_completed_levels(7), 3);
	assert_int_equal(merkle_unhex(h, "zz"), -EINVAL);
}

static void test_pae_and_signatures(void **state)
{
	unsigned char *pae, sig[SIGKEY_SIG_LEN];
	struct sigkey k, other, pub;
	char dir[256], path[400], cmd[1400], *pem;
	size_t len;
	FILE *f;

	(void)state;
	/* The DSSE specification's own example. */
	assert_int_equal(dsse_pae(&pae, &len, "http://example.com/HelloWorld", "hello world", 11),
			 0);
	assert_int_equal(len, strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
	assert_memory_equal(pae, "DSSEv1 29 http://example.com/HelloWorld 11 hello world", len);

	assert_int_equal(sigkey_generate(&k), 0);
	assert_int_equal(sigkey_generate(&other), 0);
	assert_string_not_equal(k.id, other.id);
	assert_int_equal(sigkey_sign(&k, pae, len, sig), 0);
	assert_int_equal(sigkey_verify(&k, pae, len, sig, sizeof(sig)), 0);
	assert_int_equal(sigkey_verify(&other, pae, len, sig, sizeof(sig)), -EBADMSG);
	pae[3] ^= 1;
	assert_int_equal(sigkey_verify(&k, pae, len, sig, sizeof(sig)), -EBADMSG);
	pae[3] ^= 1;

	/* openssl's own command verifies what we signed, with the public PEM we wrote. */
	assert_int_equal(harness_tmpdir(dir, sizeof(dir), "sigkey"), 0);
	pem = sigkey_public_pem(&k);
	assert_non_null(pem);
	assert_int_equal(sigkey_from_pem(&pub, pem, strlen(pem)), 0);
	assert_string_equal(pub.id, k.id);
	assert_int_equal(sigkey_sign(&pub, "x", 1, sig), -EINVAL); /* no private half */
	harness_write_file(dir, "k.pub", pem);
	free(pem);
	snprintf(path, sizeof(path), "%s/pae", dir);
	assert_int_equal(file_write_atomic(path, pae, len, 0644, 0), 0);
	assert_int_equal(sigkey_sign(&k, pae, len, sig), 0);
	snprintf(path, sizeof(path), "%s/sig", dir);
	assert_int_equal(file_write_atomic(path, sig, sizeof(sig), 0644, 0), 0);
	harness_sh(dir, "openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in pae -sigfile sig");
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf x >>pae && openssl pkeyutl -verify -pubin -inkey k.pub -rawin "
		 "-in pae -sigfile sig >/dev/null 2>&1",
		 dir);
	assert_int_not_equal(system(cmd), 0);
	free(pae);

	/* A key file: made once at 0600, loaded again as the same key; a readable one is
	 * refused. */
	sigkey_release(&pub);
	snprintf(path, sizeof(path), "%s/agent.key", dir);
	snprintf(cmd, sizeof(cmd), "%s/agent.pub", dir);
	assert_int_equal(sigkey_load_or_create(&pub, path, cmd), 1);
	{
		struct stat st;
		struct sigkey again;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(sigkey_load_or_create(&again, path, cmd), 0);
		assert_string_equal(again.id, pub.id);
		sigkey_release(&again);
		f = fopen(cmd, "r");
		assert_non_null(f);
		fclose(f);
		chmod(path, 0640);
		assert_int_equal(sigkey_load_or_create(&again, path, cmd), -EPERM);
	}
	sigkey_release(&pub);
	sigkey_release(&k);
	sigkey_release(&other);
	harness_rmdir(dir);
}

static void test_envelopes(void **state)
{
	const char *body = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{\"verdict"
			   "\":\"pass\"},\"predicateType\":\"https://xenci.dev/attempt/v1\","
			   "\"subject\":[{\"digest\":{\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb9"
			   "2427ae41e4649b934ca495991b7852b855\"},\"name\":\"console.log\"}]}";
	struct sigkey k, other;
	struct dsse d;
	char *env, err[200];
	json_t *st;

	(void)state;
	assert_int_equal(sigkey_generate(&k), 0);
	assert_int_equal(sigkey_generate(&other), 0);
	assert_int_equal(dsse_sign(&env, &k, DSSE_INTOTO_TYPE, body, strlen(body)), 0);
	assert_int_equal(dsse_parse(&d, env, strlen(env), err, sizeof(err)), 0);
	assert_string_equal(d.keyid, k.id);
	assert_int_equal(d.payload_len, strlen(body));
	assert_memory_equal(d.payload, body, strlen(body));
	assert_int_equal(dsse_verify(&d, &k), 0);
	assert_int_equal(dsse_verify(&d, &other), -EKEYREJECTED);
	assert_int_equal(intoto_statement_parse(&st, &d, err, sizeof(err)), 0);
	assert_string_equal(intoto_subject_sha256(st, "console.log"),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_null(intoto_subject_sha256(st, "xen"));
	json_decref(st);
	/* The payload changed: the signature no longer holds. */
	d.payload[10] ^= 1;
	assert_int_equal(dsse_verify(&d, &k), -EBADMSG);
	dsse_release(&d);
	free(env);

	/* Refusals, each with its reason. */
	assert_int_equal(dsse_parse(&d, "[]", 2, err, sizeof(err)), -EINVAL);
	assert_int_equal(dsse_parse(&d,
				    "{\"payload\":\"e30=\",\"payloadType\":\"x\","
				    "\"signatures\":[]}",
				    46, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
	    dsse_parse(&d,
		       "{\"payload\":\"e3 0=\",\"payloadType\":\"x\","
		       "\"signatures\":[{\"keyid\":\"" SIXTYFOUR "\",\"sig\":\"\"}]}",
		       strlen("{\"payload\":\"e3 0=\",\"payloadType\":\"x\","
			      "\"signatures\":[{\"keyid\":\"" SIXTYFOUR "\",\"sig\":\"\"}]}"),
		       err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "base64"));
	assert_int_equal(dsse_sign(&env, &k, "text/plain", "[1]", 3), 0);
	assert_int_equal(dsse_parse(&d, env, strlen(env), err, sizeof(err)), 0);
	assert_int_equal(intoto_statement_parse(&st, &d, err, sizeof(err)), -EINVAL);
	dsse_release(&d);
	free(env);
	sigkey_release(&k);
	sigkey_release(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_vectors),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_pae_and_signatures),
	    cmocka_unit_test(test_envelopes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
