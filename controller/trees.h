/* The controller's side of trees: the configured trees and their watcher, the
 * flights a new head makes (coalescing flights not yet started) and the
 * builders' sources; submissions are submissions.c's, the push gate gate.c's,
 * the branch matrix and the tree list twins.c's. Every
 * function but trees_start/trees_stop expects ctl.lock held; they are what the
 * handlers of api-trees.c call. */
#ifndef XENCI_WATCH_CTL_H
#define XENCI_WATCH_CTL_H

#include <jansson.h>

#include "buf.h"
#include "db-boards.h"
#include "watch.h"

/* Opens each tree of trees (the parsed `trees` section, ctl.cfg.trees: borrowed,
 * it must outlive the watcher; its repositories stay open in it) with paths
 * relative to base_dir and URL mirrors under data_dir, registers the gate
 * observer and starts the watcher thread. Called without ctl.lock. Returns 0,
 * or a negative errno with one message in err (errlen bytes): that of opening a
 * tree, -ENOSPC (no observer slot left), or the thread's. */
int trees_start(struct trees_conf *trees, const char *base_dir, const char *data_dir, char *err,
		size_t errlen);
/* Stops the watcher thread; the trees stay the configuration's. */
void trees_stop(void);

/* The configured trees, or NULL before trees_start(). */
struct trees_conf *trees_conf_get(void);
/* A tree by name; name NULL or "" gives the first one. */
struct tree_conf *trees_find(const char *name);
/* 0 when tree is a configured tree and commit (40 hex digits) a commit in it;
 * -ENOENT with err saying which is not. */
int trees_commit_check(const char *tree, const char *commit, char *err, size_t errlen);

/* Scans one branch now. Returns 0 and *reply {tree, branch, change, commit,
 * flight}, or a negative errno with err: -ENOENT unknown tree or branch, -EIO. */
int trees_poke(json_t **reply, const char *tree, const char *branch, const char *why, char *err,
	       size_t errlen);

/* flight_create of spec (flights.h) with the flight's whole revision when
 * spec->tree moves to spec->commit, in place of spec->tuple: {NAME: {commit, kind,
 * ref, moves}} with one member per configured tree. The moving tree is at the
 * commit (moves true); every other tree is at pins' member of its name when pins
 * (a tuple, e.g. a bisection's failing flight's; borrowed) has one, else at the
 * head of its tested ref (tree_conf.tested_ref, recorded as ref); a tree with no
 * tested revision yet is left out, and so is a tree of a kind already in the
 * tuple (the first configured tree of a kind is taken; a flight tests one Xen).
 * With no trees configured, or a tree that is not one of them, the flight is its
 * revision alone. Returns flight_create's 0 and *id, or its negative errno with
 * err. */
struct flight_spec;
int trees_flight_create(long long *id, const struct flight_spec *spec, const json_t *pins,
			char *err, size_t errlen);

/* Records commit's subject and author on its revision row (from t's repo). */
void trees_revision_subject(const struct tree_conf *t, const char *commit);

#endif
