/* Patch submissions: a user's mbox applied on a branch of a tree as its own
 * commits under refs/xenci/submissions/N, and the flight that tests them.
 * Locks: as each function says. */
#ifndef XENCI_SUBMISSIONS_H
#define XENCI_SUBMISSIONS_H

#include <jansson.h>
#include <stddef.h>

/* A submission in three steps, so that the long one runs without ctl.lock
 * (http-work.h): submission_prepare checks the tree, the base and the jobs and
 * takes a number (ctl.lock held); submission_run splits and applies the series
 * without ctl.lock, then takes it to make the flight; submission_result says how
 * it went.
 *
 * base: NULL for the tree's first watched branch. jobs: NULL for the jobs of the
 * base's branch when it is a watched one, else of the first branch, else every
 * job (copied). data: the mbox, borrowed until submission_free. Returns 0 with
 * *out (the caller's, submission_free), or a negative errno with err: -ENOENT
 * (tree, base), -EINVAL (unknown job). */
struct submission;
int submission_prepare(struct submission **out, const char *tree, const char *base,
		       const json_t *jobs, const char *data, size_t len, long long token_id,
		       char *err, size_t errlen);
/* Runs without ctl.lock held (takes it for the flight). */
void submission_run(struct submission *s);
/* 0 and *reply {submission, flight, tree, base, base_commit, commit, ref,
 * patches}, or a negative errno with *err and, when about a patch, *detail
 * {patch, file, hunk, message}: -EINVAL (not a patch series), -EPERM (a patch
 * does not apply), -EIO. *reply and *detail are the caller's; *err is s's.
 * Nothing is left behind on failure. */
int submission_result(struct submission *s, json_t **reply, json_t **detail, const char **err);
/* Takes a struct submission (void * for req_work); NULL is fine. */
void submission_free(void *s);

#endif
