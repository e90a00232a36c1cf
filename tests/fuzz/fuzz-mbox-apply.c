/* libFuzzer target: a patch series (mbox) split with GMime, parsed by libgit2 and
 * checked (paths, modes, hunks, binary hunks' inflated sizes) against a small
 * repository, then applied (text by git-apply.c, binary by libgit2). New objects go to an in-memory
 * object database, reset every run. */
#include <git2.h>
#include <git2/sys/mempack.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/git-apply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gitrepo *repo;
static git_odb_backend *mempack;
static char base[GITREPO_HEX];
static char dir[] = "/tmp/xenci-fuzz-apply.XXXXXX";

static void remove_repo(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void open_repo(void)
{
	char err[256];
	git_odb *odb;

	if (gitrepo_open(&repo, dir, err, sizeof(err)) < 0)
		abort();
	/* Other writes stay in memory. */
	if (git_repository_odb(&odb, repo->git) < 0 || git_mempack_new(&mempack) < 0 ||
	    git_odb_add_backend(odb, mempack, 999) < 0)
		abort();
	git_odb_free(odb);
}

/* A repository with a.txt (20 lines), dir/b.c and a script, in a fresh folder. */
static void make_repo(void)
{
	git_repository *g;
	git_index *idx;
	git_oid tree_oid, commit_oid, blob;
	git_tree *tree;
	git_signature *sig;
	char text[512] = "";
	git_index_entry e;

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(remove_repo);
	gitrepo_global_init();
	if (git_repository_init(&g, dir, 1) < 0 || git_repository_index(&idx, g) < 0)
		abort();
	for (int i = 1; i <= 20; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "line %d\n", i);
	const char *files[][2] = {{"a.txt", text},
				  {"dir/b.c", "int main(void)\n{\n\treturn 0;\n}\n"},
				  {"run.sh", "#!/bin/sh\necho hi\n"}};
	for (size_t i = 0; i < 3; i++) {
		memset(&e, 0, sizeof(e));
		e.path = files[i][0];
		e.mode = i == 2 ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
		if (git_blob_create_from_buffer(&blob, g, files[i][1], strlen(files[i][1])) < 0)
			abort();
		e.id = blob;
		if (git_index_add(idx, &e) < 0)
			abort();
	}
	if (git_index_write_tree(&tree_oid, idx) < 0 || git_tree_lookup(&tree, g, &tree_oid) < 0 ||
	    git_signature_new(&sig, "F", "f@example.org", 1700000000, 0) < 0 ||
	    git_commit_create(&commit_oid, g, "refs/heads/master", sig, sig, NULL, "base\n", tree,
			      0, NULL) < 0)
		abort();
	git_oid_tostr(base, sizeof(base), &commit_oid);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	git_repository_free(g);
	open_repo();
}

/* A series that applied was written as a pack: remove it, so that the runs do
 * not slow down with thousands of packs. */
static void drop_packs(void)
{
	char path[128];
	struct dirent *d;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/objects/pack", dir);
	dp = opendir(path);
	while (dp && (d = readdir(dp)) != NULL) {
		char f[400];

		if (d->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, d->d_name);
		unlink(f);
	}
	if (dp)
		closedir(dp);
	gitrepo_free(repo);
	repo = NULL;
	open_repo();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct patch_series s;
	struct apply_error e;
	char out[GITREPO_HEX], err[256];

	if (repo == NULL)
		make_repo();
	patch_series_init(&s);
	if (patch_series_add(&s, "fuzz.mbox", (const char *)data, size, err, sizeof(err)) == 0 &&
	    patch_series_finish(&s, err, sizeof(err)) == 0 &&
	    gitrepo_apply_series(out, repo, base, &s, "refs/xenci/fuzz", &e) == 0) {
		git_reference_remove(repo->git, "refs/xenci/fuzz");
		drop_packs();
	}
	patch_series_release(&s);
	git_mempack_reset(mempack);
	return 0;
}
