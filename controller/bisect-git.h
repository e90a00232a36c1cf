/* The commit graph of a bisection from a git repository: a libgit2 revision walk
 * of bad ^good (merges included), plus the parents of those commits that lie on
 * the good side, so that the culprit's parents can be run and confirmed. */
#ifndef XENCI_BISECT_GIT_H
#define XENCI_BISECT_GIT_H

#include <stddef.h>

#include "bisect.h"
#include "git-repo.h"

struct bisect_git_graph {
	struct bisect_graph g;
	char (*ids)[GITREPO_HEX]; /* node -> commit id; node 0 is bad */
	uint32_t bad, good;	  /* nodes */
	uint32_t ncand;		  /* commits of bad ^good */
};

/* Walks bad ^good in r (newest first, as git rev-list). Returns 0; -ENOENT when a
 * revision does not exist, -EINVAL when bad is reachable from good (nothing to
 * bisect), -E2BIG when the range has more than BISECT_MAX_CANDIDATES commits,
 * -EIO; err says why. */
int bisect_git_graph(struct bisect_git_graph *out, struct gitrepo *r, const char *bad,
		     const char *good, char *err, size_t errlen);
/* The same walk through a repository handle of its own, opened at path and freed
 * before it returns: it takes no lock (not r's), so that a walk of up to
 * BISECT_MAX_CANDIDATES commits keeps no other thread waiting. Any thread. */
int bisect_git_graph_at(struct bisect_git_graph *out, const char *path, const char *bad,
			const char *good, char *err, size_t errlen);
void bisect_git_graph_release(struct bisect_git_graph *gg);
/* The node of a commit id, or -1. */
int bisect_git_node(const struct bisect_git_graph *gg, const char *hex);

#endif
