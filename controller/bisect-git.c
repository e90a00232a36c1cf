/* A bisection's commit graph from libgit2: see bisect-git.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect-git.h"
#include "xmalloc.h"

/* Open addressing from an oid to its node; sized at twice the nodes, a power of 2. */
struct oidmap {
	git_oid *keys;
	int32_t *vals;
	size_t mask;
};

static void oidmap_init(struct oidmap *m, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	m->keys = xcalloc(cap, sizeof(*m->keys));
	m->vals = xmalloc(cap * sizeof(*m->vals));
	memset(m->vals, 0xff, cap * sizeof(*m->vals)); /* -1: empty */
	m->mask = cap - 1;
}

static size_t oidmap_slot(const struct oidmap *m, const git_oid *k)
{
	size_t h;

	memcpy(&h, k->id, sizeof(h));
	for (h &= m->mask; m->vals[h] >= 0 && git_oid_cmp(&m->keys[h], k); h = (h + 1) & m->mask)
		;
	return h;
}

static int32_t oidmap_get(const struct oidmap *m, const git_oid *k)
{
	return m->vals[oidmap_slot(m, k)];
}

static void oidmap_put(struct oidmap *m, const git_oid *k, int32_t v)
{
	size_t s = oidmap_slot(m, k);

	m->keys[s] = *k;
	m->vals[s] = v;
}

static void oidmap_release(struct oidmap *m)
{
	free(m->keys);
	free(m->vals);
}

/* The walk of bisect_git_graph in git, which the caller alone uses meanwhile. */
static int graph_walk(struct bisect_git_graph *out, git_repository *git, const char *bad,
		      const char *good, char *err, size_t errlen)
{
	git_revwalk *walk = NULL;
	git_oid bad_oid, good_oid, oid, *nodes = NULL;
	uint32_t *np = NULL, *flat = NULL, n = 0, ncand = 0, nflat = 0, cap = 0, i;
	struct oidmap map = {0};
	int ret = -EIO, map_ready = 0;

	memset(out, 0, sizeof(*out));
	if (git_oid_fromstr(&bad_oid, bad) < 0 || git_oid_fromstr(&good_oid, good) < 0) {
		snprintf(err, errlen, "not a commit id: %.64s / %.64s", bad, good);
		return -EINVAL;
	}
	if (git_revwalk_new(&walk, git) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0)
		goto giterr;
	if (git_revwalk_push(walk, &bad_oid) < 0 || git_revwalk_hide(walk, &good_oid) < 0) {
		ret = -ENOENT;
		goto giterr;
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		if (ncand == BISECT_MAX_CANDIDATES) {
			snprintf(err, errlen, "more than %d commits between good and bad",
				 BISECT_MAX_CANDIDATES);
			ret = -E2BIG;
			goto out;
		}
		if (ncand == cap) {
			cap = cap ? 2 * cap : 256;
			nodes = xrealloc(nodes, cap * sizeof(*nodes));
		}
		nodes[ncand++] = oid;
	}
	if (ncand == 0 || git_oid_cmp(&nodes[0], &bad_oid)) {
		snprintf(err, errlen, "%.12s is reachable from %.12s: nothing to bisect", bad,
			 good);
		ret = -EINVAL;
		goto out;
	}
	/* Parents outside the range become extra nodes after the candidates. */
	oidmap_init(&map, (size_t)ncand * 3 + 2);
	map_ready = 1;
	for (i = 0; i < ncand; i++)
		oidmap_put(&map, &nodes[i], (int32_t)i);
	n = ncand;
	np = xcalloc(ncand, sizeof(*np));
	for (i = 0; i < ncand; i++) {
		git_commit *c = NULL;
		unsigned k, pc;

		if (git_commit_lookup(&c, git, &nodes[i]) < 0)
			goto giterr;
		pc = git_commit_parentcount(c);
		for (k = 0; k < pc && k < 64; k++) {
			const git_oid *p = git_commit_parent_id(c, k);
			int32_t v = oidmap_get(&map, p);

			if (v < 0) {
				if (n == cap) {
					cap *= 2;
					nodes = xrealloc(nodes, cap * sizeof(*nodes));
				}
				nodes[n] = *p;
				v = (int32_t)n++;
				if ((size_t)n * 2 > map.mask) {
					/* Rare (many merges): rebuild the map larger. */
					uint32_t j;

					oidmap_release(&map);
					oidmap_init(&map, (size_t)n * 2);
					for (j = 0; j < n; j++)
						oidmap_put(&map, &nodes[j], (int32_t)j);
				} else {
					oidmap_put(&map, p, v);
				}
			}
			flat = xrealloc(flat, (nflat + 1) * sizeof(*flat));
			flat[nflat++] = (uint32_t)v;
			np[i]++;
		}
		git_commit_free(c);
	}
	if (oidmap_get(&map, &good_oid) < 0) {
		/* good is not next to the range (bad does not descend from it). */
		if (n == cap) {
			cap *= 2;
			nodes = xrealloc(nodes, cap * sizeof(*nodes));
		}
		nodes[n] = good_oid;
		oidmap_put(&map, &good_oid, (int32_t)n++);
	}
	np = xrealloc(np, n * sizeof(*np));
	memset(np + ncand, 0, (n - ncand) * sizeof(*np));
	if (bisect_graph_init(&out->g, n, np, flat ? flat : np) < 0) {
		snprintf(err, errlen, "a commit with too many parents");
		ret = -E2BIG;
		goto out;
	}
	out->ids = xcalloc(n, sizeof(*out->ids));
	for (i = 0; i < n; i++)
		git_oid_tostr(out->ids[i], GITREPO_HEX, &nodes[i]);
	out->bad = 0;
	out->good = (uint32_t)oidmap_get(&map, &good_oid);
	out->ncand = ncand;
	ret = 0;
	goto out;
giterr:
	snprintf(err, errlen, "git: %s", gitrepo_errmsg());
out:
	git_revwalk_free(walk);
	if (map_ready)
		oidmap_release(&map);
	free(nodes);
	free(np);
	free(flat);
	return ret;
}

int bisect_git_graph(struct bisect_git_graph *out, struct gitrepo *r, const char *bad,
		     const char *good, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	rc = graph_walk(out, r->git, bad, good, err, errlen);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int bisect_git_graph_at(struct bisect_git_graph *out, const char *path, const char *bad,
			const char *good, char *err, size_t errlen)
{
	git_repository *git = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	gitrepo_global_init();
	if (git_repository_open_ext(&git, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		snprintf(err, errlen, "git: %s: %s", path, gitrepo_errmsg());
		return -EIO;
	}
	rc = graph_walk(out, git, bad, good, err, errlen);
	git_repository_free(git);
	return rc;
}

void bisect_git_graph_release(struct bisect_git_graph *gg)
{
	if (!gg)
		return;
	bisect_graph_release(&gg->g);
	free(gg->ids);
	memset(gg, 0, sizeof(*gg));
}

int bisect_git_node(const struct bisect_git_graph *gg, const char *hex)
{
	uint32_t i;

	for (i = 0; i < gg->g.n; i++)
		if (!strcmp(gg->ids[i], hex))
			return (int)i;
	return -1;
}
