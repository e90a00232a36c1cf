/* controller/git-apply: series made by `git format-patch` (files and --stdout
 * mboxes with a cover letter) applied on a base with libgit2 give the same trees,
 * authors, dates and messages as the commits they came from; series that do not
 * apply name the patch, the file and the hunk, and leave no ref behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../harness/harness.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "../../controller/git-apply.h"
#include "buf.h"

static char dir[256];

#define sh(...)		     harness_sh(dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(dir, out, len, __VA_ARGS__)

/* Reads a file of the test folder into b. */
static void slurp(struct buf *b, const char *name)
{
	assert_int_equal(harness_read_file(b, dir, name), 0);
}

#define GIT "git -c user.name=Base -c user.email=base@example.org -c init.defaultBranch=master "

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-test-git-apply.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* base: the tree the controller watches. work: a developer's clone with a
	 * three-patch series (two hunks in one file; a new file, a deleted file and a
	 * rename; a binary file). */
	sh(GIT "init -q base && cd base && mkdir -p xen/common tools && "
	       "seq 1 40 | sed 's/^/line /' > xen/common/sched.c && "
	       "printf 'int main(void)\\n{\\n\\treturn 0;\\n}\\n' > tools/x.c && echo readme > "
	       "README && printf 'no newline' > tools/nonl.txt && " GIT "add -A && " GIT
	       "commit -qm base");
	sh(GIT "clone -q base work && cd work && sed -i -e 's/^line 3$/line three/' -e "
	       "'s/^line 30$/line thirty/' xen/common/sched.c && " GIT "commit -qam 'sched: "
	       "two hunks' -m 'Longer explanation.' -m 'Signed-off-by: Dev <dev@example.org>' "
	       "--author='D\xc3\xa9v Eloper <dev@example.org>' --date='1690000000 -0400' && "
	       "mkdir -p xen/arch && echo new > xen/arch/new.c && " GIT "rm -q README && " GIT
	       "mv tools/x.c tools/y.c && sed -i 's/return 0/return 1/' tools/y.c && printf "
	       "'no newline, changed' > tools/nonl.txt && " GIT "add -A && " GIT
	       "commit -qm 'misc: add, delete, rename' --author='Other <o@example.org>' && "
	       "printf '\\000\\001\\002binary' > blob.bin && " GIT "add blob.bin && " GIT
	       "commit -qm 'add a binary' && " GIT
	       "format-patch -q -o ../series origin/master && " GIT
	       "format-patch -q --stdout --cover-letter origin/master > ../series.mbox");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct gitrepo *open_base(void)
{
	struct gitrepo *r;
	char path[300], err[256];

	snprintf(path, sizeof(path), "%s/base", dir);
	assert_int_equal(gitrepo_open(&r, path, err, sizeof(err)), 0);
	return r;
}

static void load_files(struct patch_series *s, int first, int last)
{
	struct buf b = BUF_INIT(0);
	char name[64], err[256], path[600];

	patch_series_init(s);
	for (int i = first; i <= last; i++) {
		snprintf(name, sizeof(name), "series/%04d-*", i);
		shout(path, sizeof(path), "ls %s", name);
		slurp(&b, path);
		if (patch_series_add(s, path, b.data, b.len, err, sizeof(err)) < 0)
			fail_msg("%s", err);
	}
	buf_release(&b);
}

static void test_series_like_git_am(void **state)
{
	struct gitrepo *r = open_base();
	struct patch_series s;
	struct apply_error e;
	char out[GITREPO_HEX], want[4096], got[4096], err[256];
	struct buf b = BUF_INIT(0);

	(void)state;
	load_files(&s, 1, 3);
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), 0);
	assert_int_equal(s.count, 3);
	assert_int_equal(gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/1", &e),
			 0);
	/* The same trees, authors, dates and messages as the developer's commits. */
	shout(want, sizeof(want),
	      "git -C work log --format='%%T %%an <%%ae> %%ad%%n%%B' origin/master..");
	shout(got, sizeof(got), "git -C base log --format='%%T %%an <%%ae> %%ad%%n%%B' master..%s",
	      out);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "D\xc3\xa9v Eloper <dev@example.org> Sat Jul 22 00:26:40 2023 "
				    "-0400\nsched: two hunks\n\nLonger explanation.\n\n"
				    "Signed-off-by: Dev"));
	shout(got, sizeof(got), "git -C base rev-parse refs/xenci/submissions/1");
	assert_string_equal(got, out);
	patch_series_release(&s);

	/* The same series as one mbox with a cover letter, as CRLF. */
	slurp(&b, "series.mbox");
	{
		struct buf crlf = BUF_INIT(0);

		for (size_t i = 0; i < b.len; i++) {
			if (b.data[i] == '\n')
				buf_putc(&crlf, '\r');
			buf_putc(&crlf, b.data[i]);
		}
		patch_series_init(&s);
		assert_int_equal(
		    patch_series_add(&s, "series.mbox", crlf.data, crlf.len, err, sizeof(err)), 0);
		buf_release(&crlf);
	}
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), 0);
	assert_int_equal(s.count, 3);
	assert_int_equal(s.skipped_covers, 1);
	assert_int_equal(gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/2", &e),
			 0);
	shout(got, sizeof(got), "git -C base log --format='%%T %%an <%%ae> %%ad%%n%%B' master..%s",
	      out);
	assert_string_equal(got, want);
	/* A ref that exists already is refused. */
	assert_int_equal(gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/2", &e),
			 -EEXIST);
	assert_string_equal(e.message, "refs/xenci/submissions/2 already exists");
	assert_int_equal(gitrepo_apply_series(out, r, "nosuch", &s, "refs/xenci/submissions/3", &e),
			 -ENOENT);
	assert_string_equal(e.message, "base nosuch: no such revision");
	patch_series_release(&s);
	buf_release(&b);
	gitrepo_free(r);
}

static void test_conflict_names_patch_file_hunk(void **state)
{
	char objects_before[256];
	struct gitrepo *r = open_base();
	struct patch_series s;
	struct apply_error e;
	char out[GITREPO_HEX], got[256];

	(void)state;
	/* The base moved on: line 30 changed, and five lines came in at the top (the
	 * first hunk then applies at an offset, the second does not). */
	sh("cd base && git checkout -q -b moved && sed -i 's/^line 30$/line XXX/' "
	   "xen/common/sched.c && sed -i '1i top1\\ntop2\\ntop3\\ntop4\\ntop5' xen/common/sched.c "
	   "&& " GIT "commit -qam moved");
	load_files(&s, 1, 3);
	shout(objects_before, sizeof(objects_before),
	      "git -C base count-objects -v | grep -v size");
	assert_int_equal(gitrepo_apply_series(out, r, "moved", &s, "refs/xenci/submissions/9", &e),
			 -EPERM);
	assert_int_equal(e.patch, 1);
	assert_int_equal(e.hunk, 2);
	assert_string_equal(e.file, "xen/common/sched.c");
	assert_string_equal(
	    e.message, "patch 1 of 3 (\"sched: two hunks\", series/0001-sched-two-hunks.patch, "
		       "mail 1): xen/common/sched.c: hunk #2 (@@ -27,7 +27,7 @@) does not "
		       "apply: line 35 reads \"line XXX\", the hunk expects \"line 30\"");
	shout(got, sizeof(got), "git -C base for-each-ref refs/xenci/submissions/9 | wc -l");
	assert_string_equal(got, "0");
	/* Nor any object: the attempt stayed in memory. */
	{
		char after[256];

		shout(after, sizeof(after), "git -C base count-objects -v | grep -v size");
		assert_string_equal(after, objects_before);
	}

	/* Patch 2 alone on a base without tools/x.c. */
	patch_series_release(&s);
	sh("cd base && " GIT "rm -q tools/x.c && " GIT "commit -qm 'drop x'");
	load_files(&s, 2, 2);
	assert_int_equal(gitrepo_apply_series(out, r, "moved", &s, "refs/xenci/submissions/9", &e),
			 -EPERM);
	assert_int_equal(e.patch, 1);
	assert_string_equal(e.file, "tools/x.c");
	assert_non_null(strstr(e.message, "tools/x.c: no such file in the tree the patch applies "
					  "to"));
	patch_series_release(&s);

	/* Patch 3 twice: the file it creates exists the second time. */
	load_files(&s, 3, 3);
	assert_int_equal(
	    gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/10", &e), 0);
	assert_int_equal(gitrepo_apply_series(out, r, out, &s, "refs/xenci/submissions/11", &e),
			 -EPERM);
	assert_non_null(strstr(e.message, "blob.bin: the patch creates it but the file already "
					  "exists"));
	patch_series_release(&s);
	sh("cd base && git checkout -q master");
	gitrepo_free(r);
}

static void test_offsets_and_binary(void **state)
{
	struct gitrepo *r = open_base();
	struct patch_series s;
	struct apply_error e;
	char out[GITREPO_HEX], got[4096], err[256];
	const char *nobin = "From: a <a@example.org>\nSubject: [PATCH] bin\n\n---\n"
			    "diff --git a/b.bin b/b.bin\nnew file mode 100644\n"
			    "index 0000000..1111111\nBinary files /dev/null and b/b.bin differ\n";

	(void)state;
	/* Lines added at the top only: every hunk applies at an offset. */
	sh("cd base && git checkout -q -b offset master && sed -i '1i top1\\ntop2' "
	   "xen/common/sched.c && " GIT "commit -qam offset && git checkout -q master");
	load_files(&s, 1, 1);
	patch_series_release(&s);
	load_files(&s, 1, 2);
	if (gitrepo_apply_series(out, r, "offset", &s, "refs/xenci/submissions/20", &e) < 0)
		fail_msg("%s", e.message);
	shout(got, sizeof(got), "git -C base show %s:xen/common/sched.c | sed -n '1p;5p;32p'", out);
	assert_string_equal(got, "top1\nline three\nline thirty");
	shout(got, sizeof(got), "git -C base show %s:tools/nonl.txt", out);
	assert_string_equal(got, "no newline, changed");
	shout(got, sizeof(got), "git -C base show %s:tools/nonl.txt | wc -c", out);
	assert_string_equal(got, "19");
	patch_series_release(&s);

	/* On the base itself: git's trees (text files applied by git-apply.c). */
	load_files(&s, 1, 2);
	if (gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/22", &e) < 0)
		fail_msg("%s", e.message);
	shout(got, sizeof(got), "git -C base rev-parse %s^{tree}", out);
	{
		char want[64];

		shout(want, sizeof(want), "git -C work rev-parse HEAD~1^{tree}");
		assert_string_equal(got, want);
	}
	patch_series_release(&s);

	/* A binary change without its data cannot be applied. */
	patch_series_init(&s);
	assert_int_equal(patch_series_add(&s, "bin.patch", nobin, strlen(nobin), err, sizeof(err)),
			 0);
	assert_int_equal(
	    gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/21", &e), -EPERM);
	assert_string_equal(e.file, "b.bin");
	assert_non_null(strstr(e.message, "binary"));
	patch_series_release(&s);
	gitrepo_free(r);
}

/* Paths a tree may not hold and modes that are not a file's: refused as a patch
 * that does not apply (422), naming the patch and the file, never a 500. (An
 * absolute "b//etc/x" comes out of libgit2's parser as "etc/x", inside the
 * tree; git-apply.c refuses a leading '/' all the same.) */
static void test_refused_paths_and_modes(void **state)
{
	static const struct {
		const char *path, *mode, *why;
	} cases[] = {
	    {"../evil.c", "100644", "\"..\" path component"},
	    {"xen/../../evil.c", "100644", "\"..\" path component"},
	    {".git/hooks/post-checkout", "100755", ".git path component"},
	    {"xen/.GIT/config", "100644", ".git path component"},
	    {"xen/./x.c", "100644", "\"..\" path component"},
	    {"xen/sub", "160000", "mode 160000 is not a file's"},
	    {"xen/odd.c", "100666", NULL}, /* libgit2 or we: refused either way */
	};
	struct gitrepo *r = open_base();
	char out[GITREPO_HEX], err[256], mail[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct patch_series s;
		struct apply_error e;
		int rc;

		snprintf(mail, sizeof(mail),
			 "From: a <a@example.org>\nSubject: [PATCH] evil\n\n---\n"
			 "diff --git a/%s b/%s\nnew file mode %s\nindex 0000000..1111111\n"
			 "--- /dev/null\n+++ b/%s\n@@ -0,0 +1 @@\n+x\n",
			 cases[i].path, cases[i].path, cases[i].mode, cases[i].path);
		patch_series_init(&s);
		assert_int_equal(
		    patch_series_add(&s, "evil.patch", mail, strlen(mail), err, sizeof(err)), 0);
		rc = gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/30", &e);
		if (rc != -EPERM && rc != -EINVAL)
			fail_msg("%s: rc %d, %s", cases[i].path, rc, e.message);
		assert_int_equal(e.patch, 1);
		if (cases[i].why) {
			assert_int_equal(rc, -EPERM);
			assert_string_equal(e.file, cases[i].path);
			if (strstr(e.message, cases[i].why) == NULL)
				fail_msg("%s: %s", cases[i].path, e.message);
		}
		patch_series_release(&s);
	}
	gitrepo_free(r);
}

static int runs; /* each run its own ref */

/* Runs one series in a child; returns its peak RSS in KiB, *rc its result and
 * msg its message. */
static long apply_in_child(const struct buf *mbox, int *rc, char *msg, size_t msglen)
{
	int pipefd[2], status;
	struct rusage ru;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(pipefd), 0);
	runs++;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gitrepo *r = open_base();
		struct patch_series s;
		struct apply_error e;
		char out[GITREPO_HEX], err[256], ref[64];
		int got;

		close(pipefd[0]);
		patch_series_init(&s);
		if (patch_series_add(&s, "bomb", mbox->data, mbox->len, err, sizeof(err)) < 0)
			_exit(100);
		snprintf(ref, sizeof(ref), "refs/xenci/submissions/%d", 40 + runs);
		got = gitrepo_apply_series(out, r, "master", &s, ref, &e);
		if (write(pipefd[1], e.message, strlen(e.message)) < 0)
			_exit(101);
		_exit(-got);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, msglen - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_true(WIFEXITED(status));
	*rc = -WEXITSTATUS(status);
	return ru.ru_maxrss;
}

/* A binary hunk that inflates to 1 GiB (about 1.3 MiB of patch) is refused
 * before it is inflated, whether it declares its size or lies about it; the
 * process applying it stays within 64 MiB more than it holds anyway. */
static void test_bounds_binary_bomb(void **state)
{
	struct buf b = BUF_INIT(0);
	char msg[1024];
	long rss;
	int rc;

	(void)state;
	assert_int_equal(harness_series_bomb(&b, (size_t)1 << 30, (size_t)1 << 30), 0);
	rss = apply_in_child(&b, &rc, msg, sizeof(msg));
	print_message("bomb declared: %ld MiB peak: %s\n", rss >> 10, msg);
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(msg, "bomb.bin"));
	assert_true(rss < 64 * 1024 + (long)(b.len >> 10) * 4);
	buf_reset(&b);
	assert_int_equal(harness_series_bomb(&b, (size_t)1 << 30, 100), 0);
	rss = apply_in_child(&b, &rc, msg, sizeof(msg));
	print_message("bomb as 100 bytes: %ld MiB peak: %s\n", rss >> 10, msg);
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(msg, "inflates to more than the 100 bytes it declares"));
	assert_true(rss < 64 * 1024 + (long)(b.len >> 10) * 4);
	/* The same kind within bounds applies. */
	buf_reset(&b);
	assert_int_equal(harness_series_bomb(&b, 4096, 4096), 0);
	apply_in_child(&b, &rc, msg, sizeof(msg));
	assert_int_equal(rc, 0);
	buf_release(&b);
}

/* A binary delta whose result (the second number of the delta) is 1 GiB is
 * refused before libgit2 would allocate it, though its data inflates to a few
 * bytes. */
static void test_bounds_binary_delta(void **state)
{
	static const char b85[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "!#$%&()*+-;<=>?@^_`{|}~";
	/* base size 10, result size 2^30 (varints), then nothing. */
	const unsigned char delta[] = {10, 0x80, 0x80, 0x80, 0x80, 0x04};
	unsigned char z[64];
	uLongf zlen = sizeof(z);
	struct buf b = BUF_INIT(0);
	char msg[1024], line[128];
	size_t o = 0;
	long rss;
	int rc;

	(void)state;
	assert_int_equal(compress(z, &zlen, delta, sizeof(delta)), Z_OK);
	line[o++] = zlen <= 26 ? (char)('A' + zlen - 1) : (char)('a' + zlen - 27);
	for (size_t i = 0; i < zlen; i += 4) {
		unsigned long v = 0;

		for (size_t k = 0; k < 4; k++)
			v = v << 8 | (i + k < zlen ? z[i + k] : 0);
		for (int k = 4; k >= 0; k--) {
			line[o + (size_t)k] = b85[v % 85];
			v /= 85;
		}
		o += 5;
	}
	line[o] = '\0';
	buf_printf(&b,
		   "From: a <a@example.org>\nSubject: [PATCH] grow README\n\n---\n"
		   "diff --git a/README b/README\nindex 1111111..2222222 100644\n"
		   "GIT binary patch\ndelta %zu\n%s\n\nliteral 0\nHcmV?d00001\n\n",
		   sizeof(delta), line);
	rss = apply_in_child(&b, &rc, msg, sizeof(msg));
	print_message("delta to 1 GiB: %ld MiB peak: %s\n", rss >> 10, msg);
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(msg, "README: a binary delta makes 1073741824 bytes"));
	buf_release(&b);
}

/* A hunk found only far from where it says applies there (git apply's outward
 * search, then the rest of the file), in a 2 MB series. */
static void test_far_hunk(void **state)
{
	struct gitrepo *r = open_base();
	struct buf b = BUF_INIT(0);
	struct patch_series s;
	struct apply_error e;
	char out[GITREPO_HEX], err[256], got[256];

	(void)state;
	harness_series_far_hunk(&b, 2000000);
	patch_series_init(&s);
	assert_int_equal(patch_series_add(&s, "far", b.data, b.len, err, sizeof(err)), 0);
	if (gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/50", &e) < 0)
		fail_msg("%s", e.message);
	shout(got, sizeof(got), "git -C base show %s:big.txt | tail -2 | tr '\\n' ' '", out);
	assert_string_equal(got, "z appended ");
	shout(got, sizeof(got), "git -C base show %s:big.txt | wc -l", out);
	assert_int_equal(atol(got), 2000000 * 2 / 9 + 1);
	patch_series_release(&s);
	buf_release(&b);
	gitrepo_free(r);
}

/* Real-world: Debian's patch series of Xen (git format-patch files from gbp pq,
 * UTF-8 names, deletions of large files) on the pristine Xen tree that
 * hypervisor/import.sh made, against `git apply` of the same files. Skipped
 * when the tree or Debian's source package is not there. */
static void test_debian_series(void **state)
{
	char tarball[1024] = "", root[600], got[128], want[128], list[8192];
	struct patch_series s;
	struct apply_error e;
	struct gitrepo *r;
	char out[GITREPO_HEX], err[256], path[600];
	struct buf b = BUF_INIT(0);
	const char *home = getenv("XENCI_CACHE");

	(void)state;
	snprintf(root, sizeof(root), "%s/hypervisor/xen/.git",
		 getenv("XENCI_ROOT") ? getenv("XENCI_ROOT") : ".");
	if (access(root, F_OK) < 0)
		skip();
	if (home)
		shout(tarball, sizeof(tarball),
		      "ls %s/src/xen_*.debian.tar.xz 2>/dev/null | tail -1", home);
	else
		shout(tarball, sizeof(tarball),
		      "ls $HOME/.cache/xenci/src/xen_*.debian.tar.xz "
		      "2>/dev/null | tail -1");
	if (tarball[0] == '\0')
		skip();
	sh("git clone -q --bare --shared %s xen.git && tar -xJf %s debian/patches", root, tarball);
	shout(list, sizeof(list), "grep -v '^#' debian/patches/series");
	patch_series_init(&s);
	for (char *p = list, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		snprintf(path, sizeof(path), "debian/patches/%.500s", p);
		slurp(&b, path);
		if (patch_series_add(&s, path, b.data, b.len, err, sizeof(err)) < 0)
			fail_msg("%s", err);
	}
	assert_int_equal(patch_series_finish(&s, err, sizeof(err)), 0);
	assert_true(s.count >= 10);
	snprintf(path, sizeof(path), "%s/xen.git", dir);
	assert_int_equal(gitrepo_open(&r, path, err, sizeof(err)), 0);
	if (gitrepo_apply_series(out, r, "HEAD", &s, "refs/xenci/submissions/1", &e) < 0)
		fail_msg("%s", e.message);
	shout(got, sizeof(got), "git -C xen.git rev-parse %s^{tree}", out);
	shout(want, sizeof(want),
	      "export GIT_DIR=xen.git GIT_INDEX_FILE=$PWD/debian.idx && git read-tree HEAD && for "
	      "p in $(grep -v '^#' debian/patches/series); do git apply --cached "
	      "debian/patches/$p || exit 1; done && git write-tree");
	assert_string_equal(got, want);
	print_message("%zu Debian patches applied like git apply\n", s.count);
	gitrepo_free(r);
	patch_series_release(&s);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_series_like_git_am),
	    cmocka_unit_test(test_conflict_names_patch_file_hunk),
	    cmocka_unit_test(test_offsets_and_binary),
	    cmocka_unit_test(test_refused_paths_and_modes),
	    cmocka_unit_test(test_bounds_binary_bomb),
	    cmocka_unit_test(test_bounds_binary_delta),
	    cmocka_unit_test(test_far_hunk),
	    cmocka_unit_test(test_debian_series),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
