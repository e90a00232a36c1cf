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
#include <unistd.h>

#include "../../controller/git-apply.h"
#include "buf.h"

static char dir[256];

#define sh(...) harness_sh(dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(dir, out, len, __VA_ARGS__)


/* Reads a file of the test folder into b. */
static void slurp(struct buf *b, const char *name)
{
	char path[512], chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	fclose(f);
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

	/* The fallback alone gives git's trees too (text patches only). */
	load_files(&s, 1, 2);
	gitrepo_apply_fallback_only = 1;
	if (gitrepo_apply_series(out, r, "master", &s, "refs/xenci/submissions/22", &e) < 0)
		fail_msg("%s", e.message);
	gitrepo_apply_fallback_only = 0;
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
	unsigned long fallbacks = gitrepo_apply_fallbacks;

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
	print_message("%zu Debian patches applied like git apply (%lu refused by libgit2, "
		      "applied by the fallback)\n",
		      s.count, gitrepo_apply_fallbacks - fallbacks);
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
	    cmocka_unit_test(test_debian_series),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
