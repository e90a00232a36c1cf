/* Applying a patch series on a base commit with libgit2, as `git am` would:
 * each patch becomes one commit with the author, date and message of its mail,
 * and the last one is pointed to by a new ref (refs/xenci/submissions/N).
 *
 * libgit2 parses each patch (git_diff_from_buffer). Every file of a patch is
 * checked against the tree it applies to (its path and mode are ones a tree may
 * hold; it exists, or not for a new one; every hunk's context matches), naming
 * the patch, the file and the first hunk that does not. Text files are applied
 * here, in time linear in the file and the patch (hashed lines; git apply's
 * offsets, no fuzz); binary files by libgit2 (git_apply_to_tree), once their
 * hunks are known to inflate within the bounds below.
 *
 * Nothing is changed when a series does not apply: the new objects are kept in
 * memory (a mempack on a second handle of the repository) and written as one
 * pack, and the ref made, only when every patch applied. */
#ifndef XENCI_GIT_APPLY_H
#define XENCI_GIT_APPLY_H

#include "git-repo.h"
#include "mbox.h"

struct apply_error {
	int patch;	   /* 1-based position in the series; 0: not about one patch */
	int hunk;	   /* 1-based; 0: not about a hunk */
	char file[256];	   /* "" when not about a file */
	char message[768]; /* the whole sentence, for the user */
};

/* Bounds (docs/security.md): a file a patch changes, or a binary hunk's
 * inflated data, is at most APPLY_MAX_FILE bytes and a text file a patch changes
 * has at most APPLY_MAX_LINES lines; the binary hunks of one series together
 * inflate to at most APPLY_MAX_INFLATED bytes. Over any of them the patch does
 * not apply (-EPERM), found before anything is inflated or held. */
#define APPLY_MAX_FILE	   (64 * 1024 * 1024)
#define APPLY_MAX_LINES	   (2 * 1024 * 1024)
#define APPLY_MAX_INFLATED (256 * 1024 * 1024)

/* Applies s on base (a revision) and points ref (which must not exist yet) at the
 * result, whose id goes into out. Returns 0, or a negative errno with e filled:
 * -ENOENT (base), -EEXIST (ref exists), -EINVAL (a patch that is not a diff),
 * -EPERM (a patch that does not apply: a hunk, a path, a mode or a bound), -EIO. */
int gitrepo_apply_series(char out[GITREPO_HEX], struct gitrepo *r, const char *base,
			 const struct patch_series *s, const char *ref, struct apply_error *e);

#endif
