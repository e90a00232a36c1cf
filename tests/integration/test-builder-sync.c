/* The builder's source sync (lab-agent/builder.c) against a real controller
 * serving a real git repository (manifest + blob routes): the first sync
 * writes every file with its mode (an executable, a symlink); the next one
 * writes only what changed, keeps the mtimes of the rest, deletes files that
 * left the tree and leaves build output alone; a second work tree takes every
 * blob from the cache; an unknown revision is -ENOENT; manifest paths that
 * would leave the work tree are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "../harness/harness.h"
#include "fs.h"
#include "../../lab-agent/builder-sync.h"

static struct harness_controller ctl;
static char repo[400], agent_tok[128], extra[600];
static int started;

static int git(const char *a1, const char *a2, const char *a3, const char *a4, char *out,
	       size_t outlen)
{
	char buf[64];
	char *argv[] = {"/usr/bin/git", "-C",	    repo,	(char *)a1,
			(char *)a2,	(char *)a3, (char *)a4, NULL};

	if (out == NULL) {
		out = buf;
		outlen = sizeof(buf);
	}
	return harness_run(argv, out, outlen);
}

static void commit(const char *msg, char hex[41])
{
	char out[128];

	assert_int_equal(git("add", "-A", NULL, NULL, NULL, 0), 0);
	assert_int_equal(git("commit", "-qm", msg, NULL, NULL, 0), 0);
	assert_int_equal(git("rev-parse", "HEAD", NULL, NULL, out, sizeof(out)), 0);
	memcpy(hex, out, 40);
	hex[40] = '\0';
}

static void put(const char *rel, const char *text)
{
	char p[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", repo, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char *argv[] = {"/usr/bin/git", "init", "-q", "-b", "main", repo, NULL};
	char out[64];

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", ctl.dir);
	if (harness_run(argv, out, sizeof(out)) != 0)
		return -1;
	git("config", "user.email", "t@xenci.invalid", NULL, NULL, 0);
	git("config", "user.name", "t", NULL, NULL, 0);
	snprintf(extra, sizeof(extra), "trees:\n  xen:\n    source: %s\n    interval: 3600\n",
		 repo);
	ctl.extra_config = extra;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (started)
		harness_controller_stop(&ctl);
	return 0;
}

static void read_text(const char *dir, const char *rel, char *out, size_t outlen)
{
	char p[700];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void test_sync(void **state)
{
	char c1[41], c2[41], src[400], src2[400], blobs[400], p[700], text[256], err[512];
	struct builder_source s;
	struct http_client h;
	struct stat st;
	struct utimbuf old = {1000000, 1000000};

	(void)state;
	mkdir(repo, 0755);
	snprintf(p, sizeof(p), "%s/dir", repo);
	mkdir(p, 0755);
	put("a.c", "int a;\n");
	put("dir/run.sh", "#!/bin/sh\necho hi\n");
	snprintf(p, sizeof(p), "%s/dir/run.sh", repo);
	chmod(p, 0755);
	put("gone.txt", "bye\n");
	snprintf(p, sizeof(p), "%s/link", repo);
	assert_int_equal(symlink("a.c", p), 0);
	commit("one", c1);
	put("dir/run.sh", "#!/bin/sh\necho changed\n");
	snprintf(p, sizeof(p), "%s/gone.txt", repo);
	unlink(p);
	snprintf(p, sizeof(p), "%s/new", repo);
	mkdir(p, 0755);
	put("new/n.txt", "new\n");
	commit("two", c2);

	assert_int_equal(harness_controller_start(&ctl), 0);
	started = 1;
	assert_int_equal(harness_token(&ctl, "agent", "b1", agent_tok, sizeof(agent_tok)), 0);
	assert_int_equal(harness_http(&ctl, agent_tok, &h), 0);
	snprintf(src, sizeof(src), "%s/work/src/xen-x86_64", ctl.dir);
	snprintf(src2, sizeof(src2), "%s/work/src/xen-arm64", ctl.dir);
	snprintf(blobs, sizeof(blobs), "%s/work/blobs", ctl.dir);

	memset(&s, 0, sizeof(s));
	s.h = &h;
	s.tree = "xen";
	s.commit = c1;
	s.src = src;
	s.blob_dir = blobs;
	assert_int_equal(builder_sync(&s, err, sizeof(err)), 0);
	assert_int_equal(s.written, 4);
	assert_int_equal(s.fetched, 4);
	assert_int_equal(s.removed, 0);
	read_text(src, "a.c", text, sizeof(text));
	assert_string_equal(text, "int a;\n");
	snprintf(p, sizeof(p), "%s/dir/run.sh", src);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	snprintf(p, sizeof(p), "%s/link", src);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	read_text(src, "link", text, sizeof(text));
	assert_string_equal(text, "int a;\n");

	/* the unchanged file keeps its (old) mtime; build output stays */
	snprintf(p, sizeof(p), "%s/a.c", src);
	assert_int_equal(utime(p, &old), 0);
	snprintf(p, sizeof(p), "%s/a.o", src);
	assert_int_equal(symlink("whatever", p), 0);
	s.commit = c2;
	assert_int_equal(builder_sync(&s, err, sizeof(err)), 0);
	assert_int_equal(s.written, 2);
	assert_int_equal(s.removed, 1);
	snprintf(p, sizeof(p), "%s/a.c", src);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mtime, old.modtime);
	snprintf(p, sizeof(p), "%s/gone.txt", src);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/a.o", src);
	assert_int_equal(lstat(p, &st), 0);
	read_text(src, "dir/run.sh", text, sizeof(text));
	assert_string_equal(text, "#!/bin/sh\necho changed\n");
	read_text(src, "new/n.txt", text, sizeof(text));
	assert_string_equal(text, "new\n");

	/* nothing changed: nothing written */
	assert_int_equal(builder_sync(&s, err, sizeof(err)), 0);
	assert_int_equal(s.written, 0);
	assert_int_equal(s.removed, 0);

	/* another work tree (the other arch): every blob from the cache */
	s.src = src2;
	assert_int_equal(builder_sync(&s, err, sizeof(err)), 0);
	assert_int_equal(s.written, 4);
	assert_int_equal(s.fetched, 0);

	/* a revision the tree does not have; a tree the controller does not have */
	s.commit = "0123456789abcdef0123456789abcdef01234567";
	assert_int_equal(builder_sync(&s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "0123456789abcdef"));
	s.commit = c1;
	s.tree = "nope";
	assert_int_equal(builder_sync(&s, err, sizeof(err)), -ENOENT);
	http_client_release(&h);
}

static void test_paths(void **state)
{
	static const char *const good[] = {
	    "a", "xen/common/version.c", ".scmversion", "a/.b", "a..b/c", NULL};
	static const char *const bad[] = {"",  "/etc/passwd", "../x", "a/../../b", "a//b", "a/",
					  ".", "a/./b",	      "a\nb", "..",	   "x/..", NULL};
	char longp[1100];
	size_t i;

	(void)state;
	for (i = 0; good[i]; i++)
		assert_true(builder_path_ok(good[i]));
	for (i = 0; bad[i]; i++)
		assert_false(builder_path_ok(bad[i]));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_false(builder_path_ok(longp));
}

/* The controller's peak RSS (VmHWM) in KiB. */
static long controller_hwm(void)
{
	long kib = harness_controller_kib(&ctl, "VmHWM");

	assert_true(kib > 0);
	return kib;
}

/* Blobs are served from a file, never held whole per reader: ten readers of a
 * 32 MiB blob that take only its first bytes leave the controller's peak within
 * three copies of it (each reader held two before). A blob over the 256 MiB
 * bound is 413 from its header: the controller does not inflate it. */
static int sync_to(const char *src, const char *commit)
{
	char blobs[400], err[512];
	struct builder_source s;
	struct http_client h;
	int rc;

	assert_int_equal(harness_http(&ctl, agent_tok, &h), 0);
	snprintf(blobs, sizeof(blobs), "%s/work/blobs", ctl.dir);
	memset(&s, 0, sizeof(s));
	s.h = &h;
	s.tree = "xen";
	s.commit = commit;
	s.src = src;
	s.blob_dir = blobs;
	rc = builder_sync(&s, err, sizeof(err));
	if (rc < 0)
		print_message("sync %s: %s\n", commit, err);
	http_client_release(&h);
	return rc;
}

static int is_kind(const char *dir, const char *rel, mode_t kind)
{
	char p[900];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

/* Issue 13, finding 1: revisions (two submissions in either order) and a
 * build that plant a symlink to a folder outside the work tree never make the
 * sync create, write or delete a file there. */
static void test_symlink_escape(void **state)
{
	char outside[400], src[400], p[700], c1[41], c2[41], c3[41], c4[41], c5[41], text[64];

	(void)state;
	assert_true(started);
	snprintf(outside, sizeof(outside), "%s/outside", ctl.dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(harness_write_file(outside, "victim.txt", "keep\n"), 0);

	/* a symlink to outside, then a file under its name */
	snprintf(p, sizeof(p), "%s/evil", repo);
	assert_int_equal(symlink(outside, p), 0);
	commit("evil link", c1);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	put("evil/pwned.txt", "pwned\n");
	put("evil/victim.txt", "overwritten\n");
	commit("evil file", c2);
	snprintf(src, sizeof(src), "%s/work/src/escape-1", ctl.dir);
	assert_int_equal(sync_to(src, c1), 0);
	assert_true(is_kind(src, "evil", S_IFLNK));
	assert_int_equal(sync_to(src, c2), 0);
	snprintf(p, sizeof(p), "%s/pwned.txt", outside);
	assert_int_equal(access(p, F_OK), -1);
	read_text(outside, "victim.txt", text, sizeof(text));
	assert_string_equal(text, "keep\n");
	assert_true(is_kind(src, "evil", S_IFDIR));
	read_text(src, "evil/pwned.txt", text, sizeof(text));
	assert_string_equal(text, "pwned\n");

	/* a folder with a file, then a symlink to outside under its name: the
	 * file that left the manifest is not deleted through the link */
	snprintf(p, sizeof(p), "%s/evil2", repo);
	assert_int_equal(mkdir(p, 0755), 0);
	put("evil2/victim.txt", "mine\n");
	commit("evil2 folder", c3);
	put("evil2/victim.txt", "");
	snprintf(p, sizeof(p), "%s/evil2/victim.txt", repo);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/evil2", repo);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(symlink(outside, p), 0);
	commit("evil2 link", c4);
	snprintf(src, sizeof(src), "%s/work/src/escape-2", ctl.dir);
	assert_int_equal(sync_to(src, c3), 0);
	assert_int_equal(sync_to(src, c4), 0);
	read_text(outside, "victim.txt", text, sizeof(text));
	assert_string_equal(text, "keep\n");
	assert_true(is_kind(src, "evil2", S_IFLNK));

	/* a build plants symlinks for the next sync: a folder and a file */
	snprintf(src, sizeof(src), "%s/work/src/escape-3", ctl.dir);
	assert_int_equal(sync_to(src, c2), 0);
	snprintf(p, sizeof(p), "%s/evil", src);
	assert_int_equal(rm_tree(p), 0);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/a.c", src);
	assert_int_equal(unlink(p), 0);
	{
		char target[500];

		snprintf(target, sizeof(target), "%s/victim.txt", outside);
		assert_int_equal(symlink(target, p), 0);
	}
	put("evil/pwned.txt", "pwned again\n");
	commit("evil change", c5);
	assert_int_equal(sync_to(src, c5), 0);
	snprintf(p, sizeof(p), "%s/pwned.txt", outside);
	assert_int_equal(access(p, F_OK), -1);
	read_text(outside, "victim.txt", text, sizeof(text));
	assert_string_equal(text, "keep\n");
	assert_true(is_kind(src, "evil", S_IFDIR));
	assert_true(is_kind(src, "a.c", S_IFREG)); /* written again, not through the link */
	read_text(src, "a.c", text, sizeof(text));
	assert_string_equal(text, "int a;\n");

	/* the repository as the other tests expect it */
	snprintf(p, sizeof(p), "%s/evil2", repo);
	unlink(p);
	snprintf(p, sizeof(p), "%s/evil", repo);
	rm_tree(p);
	commit("clean", c5);
}

static void test_blob_bounds(void **state)
{
	char c[41], oid[64], path[600], head[512], reply[8192];
	int fds[10];
	long before, after;

	(void)state;
	assert_true(started);
	snprintf(path, sizeof(path), "%s/big.bin", repo);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		for (int i = 0; i < 32 * 1024; i++) {
			char kib[1024];

			memset(kib, 'a' + i % 26, sizeof(kib));
			assert_int_equal(fwrite(kib, 1, sizeof(kib), f), sizeof(kib));
		}
		fclose(f);
	}
	commit("big", c);
	assert_int_equal(git("rev-parse", "HEAD:big.bin", NULL, NULL, oid, sizeof(oid)), 0);
	oid[40] = '\0';
	snprintf(head, sizeof(head), "GET /api/v1/trees/xen/blobs/%s HTTP/1.1\r\nHost: x\r\n\r\n",
		 oid);
	before = controller_hwm();
	for (int i = 0; i < 10; i++) {
		reply[0] = '\0';
		fds[i] = harness_connect(ctl.port, NULL);
		assert_true(fds[i] >= 0);
		assert_int_equal(harness_send(fds[i], head, strlen(head)), 0);
		assert_int_equal(harness_read_until(fds[i], reply, sizeof(reply), "aaaa", 30000),
				 1);
		assert_int_equal(harness_status(reply), 200);
	}
	after = controller_hwm();
	print_message("ten slow readers of a 32 MiB blob: peak RSS %ld -> %ld MiB\n", before >> 10,
		      after >> 10);
	assert_true(after - before < 3 * 32 * 1024);
	for (int i = 0; i < 10; i++)
		close(fds[i]);

	/* 300 MiB of zeros: about 300 KiB in git. */
	{
		int fd = open(path, O_WRONLY | O_TRUNC);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 300L << 20), 0);
		close(fd);
	}
	commit("huge", c);
	assert_int_equal(git("rev-parse", "HEAD:big.bin", NULL, NULL, oid, sizeof(oid)), 0);
	oid[40] = '\0';
	snprintf(path, sizeof(path), "/api/v1/trees/xen/blobs/%s", oid);
	before = controller_hwm();
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, NULL), 413);
	after = controller_hwm();
	print_message("a 300 MiB blob: 413, peak RSS %ld -> %ld MiB\n", before >> 10, after >> 10);
	assert_true(after - before < 64 * 1024);
	snprintf(path, sizeof(path), "%s/big.bin", repo);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_sync),
	    cmocka_unit_test(test_symlink_escape),
	    cmocka_unit_test(test_blob_bounds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
