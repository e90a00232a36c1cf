/* Applying a patch series on a base commit with libgit2, as `git am` would:
 * each patch becomes one commit with the author, date and message of its mail,
 * and the last one is pointed to by a new ref (refs/xenci/submissions/N).
 *
 * libgit2 (git_diff_from_buffer, git_apply_to_tree) does the work; its errors can
 * mislead, so every file of a patch is first checked against the tree it applies
 * to, naming the patch, the file and the first hunk whose context does not match.
 * When that check finds the patch good and libgit2 still refuses it, the hunks
 * are applied here (text only; git apply's offsets, no fuzz).
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

/* Tests set this to skip libgit2's apply and exercise the fallback alone. */
extern int gitrepo_apply_fallback_only;
/* How many patches libgit2 refused and the fallback applied (for metrics). */
extern unsigned long gitrepo_apply_fallbacks;

/* Applies s on base (a revision) and points ref (which must not exist yet) at the
 * result, whose id goes into out. Returns 0, or a negative errno with e filled:
 * -ENOENT (base), -EEXIST (ref exists), -EINVAL (a patch that is not a diff),
 * -EPERM (a patch that does not apply), -EIO. */
int gitrepo_apply_series(char out[GITREPO_HEX], struct gitrepo *r, const char *base,
			 const struct patch_series *s, const char *ref, struct apply_error *e);

#endif
