/* Trees, their watched branches, and the watcher.
 *
 * The controller's configuration names the trees (a local path or a git URL
 * libgit2 can fetch), the branches to watch, the jobs a flight of each branch
 * gets, and an optional push gate (the gating jobs, and the ref they advance):
 *
 *   trees:
 *     xen:                            # the tree's name
 *       source: hypervisor/xen        # a path (relative to the config) or a URL
 *       kind: xen                     # its build recipe (default xen; linux)
 *       tested: master                # its last tested revision (default: the
 *                                     # first gate's advance)
 *       interval: 60                  # seconds between polls (default 60)
 *       branches:
 *         - name: staging
 *           jobs: [xen-smoke]         # default: every job
 *           gate: {jobs: [xen-smoke], advance: master}
 *           report: {to: [xen-devel@example.org]}   # mail after each push flight
 *                                   # (enabled: false turns it off; reports.h)
 *
 * (A list of trees, each with a `name`, is accepted too.)
 *
 * The watcher reads (a local tree) or fetches (a URL, into a bare mirror under
 * the state folder) every watched branch on the tree's interval, and at once when
 * poked (`xenci poke`, a push webhook). It compares each head with the one last
 * seen and hands every change to the owner's callback, which records it and makes
 * or coalesces the flight: the watcher itself keeps no state and has no SQL. */
#ifndef XENCI_WATCH_H
#define XENCI_WATCH_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "git-repo.h"
#include "validate.h"

#define WATCH_MAX_TREES	    32
#define WATCH_MAX_BRANCHES  64
#define WATCH_MAX_JOBS	    64
#define WATCH_MAX_REPORT_TO 32

struct branch_conf {
	char *name;
	char **jobs; /* NULL: every job */
	size_t njobs;
	char **gate_jobs;
	size_t ngate_jobs;
	char *gate_ref;	  /* full ref name ("refs/heads/master"); NULL when not gated */
	char **report_to; /* a flight report's addresses (reports.h); NULL: no report */
	size_t nreport_to;
	/* OSSTest's allow.* files: globs (fnmatch) "JOB" or "JOB@CLASS" over a job
	 * (its variant included) and its board class; a failure they match is
	 * allowed (triage.h) and never blocks. NULL: none. */
	char **allow;
	size_t nallow;
};

struct tree_conf {
	char *name;
	char *source; /* as configured */
	long interval;
	char *kind;	  /* the build recipe's kind: "xen" (default), "linux" */
	char *tested_ref; /* "refs/heads/X": its last tested revision; NULL when none */
	struct branch_conf *branches;
	size_t nbranches;
	struct gitrepo *repo; /* opened by trees_conf_open() */
};

struct trees_conf {
	struct tree_conf *trees;
	size_t count;
};

/* A vfield check (validate.h) for a name of the configuration (a tree, a known
 * issue): lowercase letters, digits, '-', '_' and '.', not starting with '.'. */
int watch_check_name(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		     const char *path);

/* The validator's table for one tree (a member of the "trees" mapping, or an
 * element of a "trees" list). */
extern const struct vfield tree_conf_fields[];

/* Reads a validated "trees" mapping or list (NULL: no trees). Returns 0 or -1 with err
 * (a duplicate tree or branch name, a gate job the branch does not run). */
int trees_conf_load(struct trees_conf *out, const json_t *trees, char *err, size_t errlen);

/* Opens every tree: a path relative to base_dir, or a URL mirrored into
 * state_dir/mirrors/NAME.git. Returns 0 or a negative errno with err. */
int trees_conf_open(struct trees_conf *c, const char *base_dir, const char *state_dir, char *err,
		    size_t errlen);

/* Frees every tree's and branch's strings and closes the repositories
 * trees_conf_open opened; c is then empty (c may be NULL). No watcher may be
 * running on c. */
void trees_conf_release(struct trees_conf *c);

/* The tree or branch of that name, borrowed from c or t (valid until
 * trees_conf_release), or NULL when there is none. */
struct tree_conf *trees_conf_find(const struct trees_conf *c, const char *tree);
struct branch_conf *tree_conf_branch(const struct tree_conf *t, const char *branch);

enum watch_change {
	WATCH_SAME = 0,
	WATCH_NEW,	/* a branch seen for the first time */
	WATCH_ADVANCED, /* the old head is an ancestor of the new one */
	WATCH_FORCED,	/* a force-push: the old head is not an ancestor */
	WATCH_DELETED,	/* the branch is gone */
};

/* "same", "new", "advanced", "forced" or "deleted" (as the events and the store
 * spell them); a static string, "?" out of range. */
const char *watch_change_name(enum watch_change c);

/* What changed from last (NULL or "" when never seen) to now (NULL when the
 * branch does not exist). */
enum watch_change watch_compare(struct gitrepo *r, const char *last, const char *now);

struct watch_event {
	const struct tree_conf *tree;
	const struct branch_conf *branch;
	enum watch_change change;
	const char *old; /* "" when none */
	const char *now; /* "" when deleted */
	const char *why; /* "poll", "poke", "webhook" */
};

struct watch_ops {
	/* The head last recorded for the branch, into hex ("" when none). */
	int (*last_head)(void *ctx, const char *tree, const char *branch, char hex[GITREPO_HEX]);
	/* A change: record the new head, make or coalesce the flight. Returns the
	 * flight's id (> 0), 0 when none was made, negative on failure (the head is
	 * then seen again next time). */
	long long (*changed)(void *ctx, const struct watch_event *ev);
	/* Optional: the owner's lock, taken by the polling thread around
	 * last_head() and changed() (the synchronous scans run under it already). */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
};

struct watcher {
	struct trees_conf *conf;
	const struct watch_ops *ops;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock; /* guards the fields below; never held during a scan */
	pthread_cond_t wake;
	int running, stop, poked;
	long long *next_poll; /* per tree, monotonic ms */
};

/* Sets w up to poll conf's trees (borrowed, like ops and ctx, until
 * watcher_stop), without starting it; memory exhaustion aborts. */
void watcher_init(struct watcher *w, struct trees_conf *conf, const struct watch_ops *ops,
		  void *ctx);
/* Starts the polling thread. */
int watcher_start(struct watcher *w);
/* Stops and joins it; safe when it never started. */
void watcher_stop(struct watcher *w);
void watcher_release(struct watcher *w);

/* Scans one branch now, in the caller's thread (a poke or a webhook wants the
 * flight in its reply), which holds the owner's lock (ops->lock): the callbacks
 * run under it. A URL tree is fetched first, which blocks for the fetch.
 * *flight gets the flight made (0 when none). Returns the change, or a negative
 * errno: -ENOENT for an unknown tree or branch (err says which), -EIO when the
 * fetch failed. */
int watcher_scan_branch(struct watcher *w, const char *tree, const char *branch, const char *why,
			long long *flight, char *err, size_t errlen);

/* Scans every branch of a tree (or of every tree when tree is NULL), taking the
 * owner's lock around each comparison (the caller must not hold it). Returns
 * the number of changes, or a negative errno. */
int watcher_scan(struct watcher *w, const char *tree, const char *why);

/* Asks the thread to scan every tree at once. */
void watcher_poke(struct watcher *w);

#endif
