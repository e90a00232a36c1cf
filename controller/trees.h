/* The controller's side of trees: the configured trees and their watcher, the
 * flights a new head makes (coalescing flights not yet started), patch
 * submissions, the push gate (an observer of finished attempts) and the
 * builders' sources; the branch matrix and the tree list are twins.c's. Every
 * function but trees_start/trees_stop expects ctl.lock held; they are what the
 * handlers of api-trees.c call. */
#ifndef XENCI_WATCH_CTL_H
#define XENCI_WATCH_CTL_H

#include <jansson.h>

#include "buf.h"
#include "db-boards.h"
#include "watch.h"

/* The config_trees_check hook: validates the `trees` section. */
int trees_config_check(const json_t *trees, struct buf *err);

/* Loads the `trees` section (NULL: none), opens each tree (paths relative to
 * base_dir; URL mirrors under data_dir), registers the gate observer and starts
 * the watcher thread. Called without ctl.lock. */
int trees_start(const json_t *trees, const char *base_dir, const char *data_dir, struct buf *err);
void trees_stop(void);

/* The configured trees, or NULL before trees_start(). */
struct trees_conf *trees_conf_get(void);
/* A tree by name; name NULL or "" gives the first one. */
struct tree_conf *trees_find(const char *name);

/* Scans one branch now. Returns 0 and *reply {tree, branch, change, commit,
 * flight}, or a negative errno with err: -ENOENT unknown tree or branch, -EIO. */
int trees_poke(json_t **reply, const char *tree, const char *branch, const char *why, char *err,
	       size_t errlen);

/* Applies an mbox on base (NULL: the tree's first watched branch) and makes a
 * flight of jobs (NULL: the jobs of the base's branch when it is a watched one,
 * else of the first branch, else every job). Returns 0 and *reply
 * {submission, flight, tree, base, base_commit, commit, ref, patches}, or a
 * negative errno with err and, when about a patch, *detail {patch, file, hunk,
 * message}: -ENOENT (tree, base), -EINVAL (not a patch series, unknown job),
 * -EPERM (a patch does not apply), -EIO. Nothing is left behind on failure. */
int trees_submit(json_t **reply, json_t **detail, const char *tree, const char *base,
		 const json_t *jobs, const char *data, size_t len, long long token_id, char *err,
		 size_t errlen);

/* Re-evaluates the gate of a flight (the observer calls it; tests may too). */
void trees_gate_check(long long flight_id);

#endif
