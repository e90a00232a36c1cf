/* A tree's git repository, through libgit2: open a local repository or keep a
 * bare mirror of a URL, resolve revisions, read branch heads and commits, list a
 * commit's files and serve blobs (the builders' sources), fast-forward a gate ref
 * and make a revert on a scratch ref (the bisector).
 *
 * One struct gitrepo may be shared by threads: every call takes its mutex (a
 * libgit2 repository is not safe for concurrent use). Functions return 0 (or a
 * documented positive value) on success and a negative errno on failure:
 * -ENOENT for a revision, ref or object that does not exist, -EINVAL for a
 * malformed name, -EIO for anything libgit2 refused; err, when given, says why
 * in one line. Commit ids are 40 lowercase hex digits. */
#ifndef XENCI_GIT_REPO_H
#define XENCI_GIT_REPO_H

#include <git2.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "buf.h"

#define GITREPO_HEX	  41 /* 40 hex digits and a NUL */
#define GITREPO_MAX_REV	  256
#define GITREPO_MAX_FILES 200000 /* a manifest larger than this is refused */

struct gitrepo {
	git_repository *git;
	char *path; /* the repository on disk */
	char *url;  /* the remote a mirror fetches, or NULL for a local tree */
	pthread_mutex_t lock;
};

struct gitrepo_commit {
	char id[GITREPO_HEX];
	char parent[GITREPO_HEX]; /* the first parent, "" for a root commit */
	int nparents;
	char author[256];
	char email[256];
	long long time; /* author time */
	int tz_minutes;
	char summary[256];
	char tree[GITREPO_HEX];
};

/* Initialises libgit2 once; every entry point calls it. */
void gitrepo_global_init(void);

/* 1 when s looks like a URL libgit2 should fetch ("proto://..." or
 * "user@host:path"), 0 for a local path. */
int gitrepo_is_url(const char *s);

/* Opens the repository at path (work tree or bare). */
int gitrepo_open(struct gitrepo **out, const char *path, char *err, size_t errlen);

/* Opens, or creates, a bare mirror of url at dir; gitrepo_fetch() updates it. */
int gitrepo_open_mirror(struct gitrepo **out, const char *url, const char *dir, char *err,
			size_t errlen);

/* Updates a mirror's branches from its URL (force, pruning deleted branches).
 * A no-op for a local tree. */
int gitrepo_fetch(struct gitrepo *r, char *err, size_t errlen);
/* How many fetches are under way in the process (any repository): each holds
 * its repository's lock for its whole download, so a read that may need it is
 * better run where waiting holds no one else (http.c's public workers hand their
 * reads to the read pool meanwhile). */
int gitrepo_fetching(void);

/* Closes the repository and frees r; r may be NULL. No call on r may be under
 * way. */
void gitrepo_free(struct gitrepo *r);

/* Resolves a revision ("master", "v1.0~2", a full or abbreviated id) to a commit. */
int gitrepo_resolve(struct gitrepo *r, const char *rev, char hex[GITREPO_HEX], char *err,
		    size_t errlen);

/* The commit refs/heads/<branch> points to; -ENOENT when the branch does not exist. */
int gitrepo_branch_head(struct gitrepo *r, const char *branch, char hex[GITREPO_HEX]);

/* The commit a full ref name points to; -ENOENT when it does not exist. */
int gitrepo_ref_head(struct gitrepo *r, const char *ref, char hex[GITREPO_HEX]);

/* Commit hex's id, first parent, author, time, summary and tree into out (the
 * strings cut to their fields' sizes): 0, -EINVAL (hex is not a commit id),
 * -ENOENT (no such commit) or -EIO. */
int gitrepo_commit_info(struct gitrepo_commit *out, struct gitrepo *r, const char *hex);

/* `git describe --tags --always` of a commit, into out. */
int gitrepo_describe(char *out, size_t outlen, struct gitrepo *r, const char *hex);

/* 1 when ancestor is descendant or one of its ancestors, 0 when not. */
int gitrepo_is_ancestor(struct gitrepo *r, const char *ancestor, const char *descendant);

/* Every file of a commit: a JSON array of {"path", "mode", "oid"}, mode as git's
 * octal string ("100644", "100755", "120000"); submodules are left out. */
int gitrepo_manifest(json_t **out, struct gitrepo *r, const char *commit, char *err, size_t errlen);

/* Appends the content of blob oid to out (bounded by out's maximum: -ENOSPC). */
int gitrepo_blob(struct buf *out, struct gitrepo *r, const char *oid);

/* Opens blob oid as a file for serving (each reader reads its own descriptor;
 * nothing held in memory): cache_dir/<oid>, written once from the repository
 * (through a temporary file and a rename) when it is not there yet. The size
 * comes from the object's header first: a blob larger than max is -EFBIG and is
 * not inflated. Returns 0 with *fd (the caller's to close) and *size, -EINVAL
 * (not an id), -ENOENT (no such blob), -EFBIG, or a negative errno of the file
 * system. */
int gitrepo_blob_open(int *fd, long long *size, struct gitrepo *r, const char *oid,
		      const char *cache_dir, size_t max);

/* Points ref at commit hex (creating it), recording logmsg in its reflog. When
 * expect is not NULL the ref must still point there (compare-and-swap: -EAGAIN
 * when it moved; "" means it must not exist yet). */
int gitrepo_set_ref(struct gitrepo *r, const char *ref, const char *hex, const char *expect,
		    const char *logmsg, char *err, size_t errlen);

/* Deletes ref (a submission whose flight could not be made); 0 or -ENOENT. */
int gitrepo_delete_ref(struct gitrepo *r, const char *ref);

/* Advances ref to hex only when that is a fast-forward: returns 1 when it moved,
 * 0 when it was already there, -EPERM when hex does not descend from the ref's
 * commit (err says so; the ref is left alone), -ENOENT when ref does not exist. */
int gitrepo_fast_forward(struct gitrepo *r, const char *ref, const char *hex, const char *logmsg,
			 char *err, size_t errlen);

/* Commits the revert of `commit` on top of `onto` and points scratch_ref at it
 * (for the bisector: test a range with one commit taken out). -EEXIST with err
 * when the revert conflicts. */
int gitrepo_revert(char out[GITREPO_HEX], struct gitrepo *r, const char *onto, const char *commit,
		   const char *scratch_ref, char *err, size_t errlen);

/* The last libgit2 error as text (for err messages). */
const char *gitrepo_errmsg(void);

#endif
