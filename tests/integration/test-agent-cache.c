/* The agent's artifact cache against a real controller: a download verified by
 * sha256, a partial download resumed with Range, a corrupt partial download
 * refused (and the next try clean), an artifact the controller does not have,
 * the size bound evicting the least recently used, and staging by hard link. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "xmalloc.h"
#include "../../lab-agent/cache.h"

#define SIZE (300 * 1024)

static struct harness_controller ctl;
static char dir[300];
static char sha[3][SHA256_HEX_LEN + 1];
static char *data[3];

static int setup(void **state)
{
	int i, k;

	(void)state;
	if (harness_controller_start(&ctl) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/agent", ctl.dir);
	mkdir(dir, 0755);
	for (i = 0; i < 3; i++) {
		char name[16], *path;
		struct http_client h;
		struct http_reply r;
		FILE *f;

		data[i] = xmalloc(SIZE);
		for (k = 0; k < SIZE; k++)
			data[i][k] = (char)((k * 131 + i * 7 + k / 1000) & 0xff);
		sha256_hex(sha[i], data[i], SIZE);
		snprintf(name, sizeof(name), "art%d", i);
		path = xasprintf("%s/%s", dir, name);
		f = fopen(path, "wb");
		fwrite(data[i], 1, SIZE, f);
		fclose(f);
		harness_http(&ctl, ctl.admin_token, &h);
		http_reply_init(&r);
		{
			char p[128];

			snprintf(p, sizeof(p), "/api/v1/artifacts/%s", sha[i]);
			if (http_upload_file(&h, p, path, &r) < 0 ||
			    (r.status != 200 && r.status != 201))
				return -1;
		}
		http_reply_release(&r);
		http_client_release(&h);
		free(path);
	}
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		free(data[i]);
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void assert_file(const char *path, const char *want, size_t n)
{
	char *got = xmalloc(n + 1);
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fread(got, 1, n + 1, f), n);
	fclose(f);
	assert_memory_equal(got, want, n);
	free(got);
}

static void write_part(const char *cdir, const char *hex, const char *p, size_t n)
{
	char *path = xasprintf("%s/%s.part", cdir, hex);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fwrite(p, 1, n, f);
	fclose(f);
	free(path);
}

static void test_cache(void **state)
{
	struct cache c;
	struct http_client h;
	char err[512], *path = NULL, *cdir = xasprintf("%s/cache", dir), *junk;
	char *stage = xasprintf("%s/staged", dir);
	struct stat a, b;

	(void)state;
	assert_int_equal(cache_init(&c, cdir, (long long)SIZE * 5 / 2), 0);
	harness_http(&ctl, NULL, &h);

	/* a plain download, verified */
	assert_int_equal(cache_get(&c, &h, sha[0], SIZE, &path, err, sizeof(err)), 0);
	assert_file(path, data[0], SIZE);
	/* staged by hard link: the same inode */
	assert_int_equal(cache_stage(path, stage, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(stat(stage, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	free(path);

	/* a partial download is resumed from where it stopped */
	write_part(cdir, sha[1], data[1], SIZE / 3);
	assert_int_equal(cache_get(&c, &h, sha[1], SIZE, &path, err, sizeof(err)), 0);
	assert_file(path, data[1], SIZE);
	free(path);

	/* a corrupt partial download: refused, removed, and the next try is clean */
	junk = xmalloc(SIZE / 2);
	memset(junk, 'J', SIZE / 2);
	write_part(cdir, sha[2], junk, SIZE / 2);
	free(junk);
	assert_int_equal(cache_get(&c, &h, sha[2], SIZE, &path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the download has sha256"));
	assert_int_equal(cache_get(&c, &h, sha[2], SIZE, &path, err, sizeof(err)), 0);
	assert_file(path, data[2], SIZE);
	free(path);

	/* bounded at 2.5 files: the least recently used (sha[0]) went */
	path = xasprintf("%s/%s", cdir, sha[0]);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
	path = xasprintf("%s/%s", cdir, sha[2]);
	assert_int_equal(access(path, F_OK), 0);
	free(path);

	/* one the controller does not have */
	assert_int_equal(
	    cache_get(&c, &h, "0000000000000000000000000000000000000000000000000000000000000000",
		      10, &path, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "artifact 000000000000"));
	assert_int_equal(cache_get(&c, &h, "../../etc/passwd", 10, &path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a sha256"));

	http_client_release(&h);
	cache_release(&c);
	free(cdir);
	free(stage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
