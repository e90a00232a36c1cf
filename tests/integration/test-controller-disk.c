/* A full disk (issue 13, finding 13): the controller's data folder on a small
 * tmpfs (a private mount namespace; root only, skipped otherwise), filled up. A
 * log chunk, an artifact upload and a database write are each answered 507 with
 * a JSON error, the log names the path with "no space left on device", nothing
 * stored is lost or half-written, and once space is back the same requests
 * succeed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "json-util.h"

#define COMMIT	 "00112233445566778899aabbccddeeff00112233"
#define CHUNK	 (64 * 1024)
#define ART_SIZE (256 * 1024)

static const char job_fake[] = "name: fake-smoke\nrequires: {arch: [x86_64]}\n";

/* Fills the file system of dir: writes dir/filler until ENOSPC. */
static void fill(const char *dir)
{
	static char block[CHUNK];
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	memset(block, 'f', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	close(fd);
}

static int log_has(const char *log, const char *needle)
{
	char line[8192];
	FILE *f = fopen(log, "r");
	int found = 0;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void test_full_disk(void **state)
{
	struct harness_controller c;
	char agent_tok[128], builder_tok[128], user_tok[128], path[256], want[512];
	char sha[SHA256_HEX_LEN + 1], oid[64], extra[600];
	static char chunk[CHUNK], art[ART_SIZE];
	struct buf text = BUF_INIT(2 << 20);
	json_t *j = NULL;
	long long attempt;
	long st = 0;
	int i;

	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		print_message("skipped: needs root for a private tmpfs\n");
		skip();
	}
	assert_int_equal(harness_controller_init(&c), 0);
	/* a tree whose one file (1 MiB, incompressible) is a blob to serve */
	harness_sh(c.dir, "git init -q -b main repo && cd repo && head -c 1048576 /dev/urandom > "
			  "big.bin && git add big.bin && git -c user.name=t -c "
			  "user.email=t@xenci.invalid commit -qm big");
	harness_shout(c.dir, oid, sizeof(oid), "git -C repo rev-parse HEAD:big.bin");
	snprintf(extra, sizeof(extra), "trees:\n  xen:\n    source: %s/repo\n    interval: 3600\n",
		 c.dir);
	c.extra_config = extra;
	assert_int_equal(mkdir(c.data, 0755), 0);
	assert_int_equal(mount("xenci-test", c.data, "tmpfs", 0, "size=6m"), 0);
	harness_write_file(c.jobs, "fake-smoke.yaml", job_fake);
	assert_int_equal(harness_controller_start(&c), 0);
	assert_int_equal(harness_token(&c, "user", NULL, user_tok, sizeof(user_tok)), 0);
	assert_int_equal(harness_token(&c, "agent", "lab-a", agent_tok, sizeof(agent_tok)), 0);
	assert_int_equal(harness_token(&c, "agent", "lab-b", builder_tok, sizeof(builder_tok)), 0);
	assert_int_equal(harness_call(&c, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"pub\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
	assert_int_equal(harness_call(&c, builder_tok, "PUT", "/api/v1/agents/lab-b/boards",
				      "{\"protocol\": 1, \"builder\": {\"arches\": [\"x86_64\"]},"
				      " \"boards\": []}",
				      NULL),
			 200);
	assert_int_equal(harness_call(&c, c.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", NULL),
			 201);
	assert_int_equal(harness_call(&c, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
				      "{\"boards\": [\"pub\"], \"wait_ms\": 0}", &j),
			 200);
	attempt = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", attempt);
	assert_int_equal(
	    harness_call_bytes(&c, agent_tok, "PUT", path, "text/plain", "hello\n", 6, NULL, NULL),
	    200);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < ART_SIZE; i++)
		art[i] = (char)(i * 7 + i / 251);
	sha256_hex(sha, art, sizeof(art));

	fill(c.data);
	/* a log chunk: 507, the log says where, the stored log is as it was */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=6", attempt);
	assert_int_equal(harness_call_bytes(&c, agent_tok, "PUT", path, "text/plain", chunk,
					    sizeof(chunk), &j, NULL),
			 507);
	assert_string_equal(jstr(j, "error", ""), "insufficient storage");
	json_decref(j);
	snprintf(want, sizeof(want), "no space left on device: %s/logs/%lld.log", c.data, attempt);
	assert_true(log_has(c.log, want));
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", attempt);
	assert_int_equal(harness_call_bytes(&c, NULL, "GET", path, NULL, NULL, 0, NULL, &text),
			 200);
	assert_int_equal(text.len, 6);
	assert_memory_equal(text.data, "hello\n", 6);
	/* an artifact: 507, nothing kept */
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
	assert_int_equal(harness_call_bytes(&c, builder_tok, "PUT", path,
					    "application/octet-stream", art, sizeof(art), &j, NULL),
			 507);
	assert_string_equal(jstr(j, "error", ""), "insufficient storage");
	json_decref(j);
	snprintf(want, sizeof(want), "no space left on device: %s/tmp/upload-", c.data);
	assert_true(log_has(c.log, want));
	assert_int_equal(harness_call(&c, NULL, "GET", path, NULL, NULL), 404);
	/* a blob: its file cannot be written */
	snprintf(path, sizeof(path), "/api/v1/trees/xen/blobs/%s", oid);
	assert_int_equal(harness_call(&c, NULL, "GET", path, NULL, NULL), 507);
	snprintf(want, sizeof(want), "no space left on device: %s/blobs", c.data);
	assert_true(log_has(c.log, want));
	/* the database: writes (tokens) until one meets the full disk */
	for (i = 0; i < 5000; i++) {
		st = harness_call(&c, c.admin_token, "POST", "/api/v1/tokens",
				  "{\"role\": \"user\", \"name\": \"filler\"}", &j);
		json_decref(j);
		j = NULL;
		if (st != 201)
			break;
	}
	print_message("the database was full after %d token writes\n", i);
	assert_int_equal(st, 507);
	snprintf(want, sizeof(want), "no space left on device: %s/xenci.db", c.data);
	assert_true(log_has(c.log, want));

	/* space again: the same requests succeed, the log goes on from byte 6 */
	snprintf(want, sizeof(want), "%s/filler", c.data);
	assert_int_equal(unlink(want), 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=6", attempt);
	assert_int_equal(harness_call_bytes(&c, agent_tok, "PUT", path, "text/plain", chunk,
					    sizeof(chunk), &j, NULL),
			 200);
	assert_int_equal(jint(j, "length", 0), 6 + CHUNK);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
	assert_int_equal(harness_call_bytes(&c, builder_tok, "PUT", path,
					    "application/octet-stream", art, sizeof(art), NULL,
					    NULL),
			 201);
	assert_int_equal(harness_call(&c, c.admin_token, "POST", "/api/v1/tokens",
				      "{\"role\": \"user\", \"name\": \"after\"}", NULL),
			 201);
	snprintf(path, sizeof(path), "/api/v1/trees/xen/blobs/%s", oid);
	buf_reset(&text);
	assert_int_equal(harness_call_bytes(&c, NULL, "GET", path, NULL, NULL, 0, NULL, &text),
			 200);
	assert_int_equal(text.len, 1048576);
	buf_release(&text);
	/* The controller keeps the detached tmpfs until it exits; the harness then
	 * removes the folder it mounted over. */
	assert_int_equal(umount2(c.data, MNT_DETACH), 0);
	assert_int_equal(harness_controller_stop(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
