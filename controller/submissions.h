/* Patch submissions: a user's mbox applied on a branch of a tree as its own
 * commits under refs/xenci/submissions/N, and the flight that tests them.
 * Expects ctl.lock held. */
#ifndef XENCI_SUBMISSIONS_H
#define XENCI_SUBMISSIONS_H

#include <jansson.h>
#include <stddef.h>

/* Applies an mbox on base (NULL: the tree's first watched branch) and makes a
 * flight of jobs (NULL: the jobs of the base's branch when it is a watched one,
 * else of the first branch, else every job). Returns 0 and *reply (the caller's)
 * {submission, flight, tree, base, base_commit, commit, ref, patches}, or a
 * negative errno with err and, when about a patch, *detail {patch, file, hunk,
 * message}: -ENOENT (tree, base), -EINVAL (not a patch series, unknown job),
 * -EPERM (a patch does not apply), -EIO. Nothing is left behind on failure. */
int submission_create(json_t **reply, json_t **detail, const char *tree, const char *base,
		      const json_t *jobs, const char *data, size_t len, long long token_id,
		      char *err, size_t errlen);

#endif
