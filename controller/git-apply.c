#include "git-apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/mempack.h>

#include "buf.h"
#include "xmalloc.h"

int gitrepo_apply_fallback_only;
unsigned long gitrepo_apply_fallbacks;

#define APPLY_MAX_FILE (64 * 1024 * 1024) /* a patched file larger than this is refused */

struct line {
	const char *p;
	size_t n; /* without the line end */
};

struct lines {
	struct line *v;
	size_t count;
	int last_eol; /* 1 when the last line ends with '\n' */
};

static void lines_release(struct lines *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void lines_split(struct lines *l, const char *data, size_t len)
{
	size_t cap = 0;

	memset(l, 0, sizeof(*l));
	l->last_eol = 1;
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (l->count == cap) {
			cap = cap ? cap * 2 : 64;
			l->v = xrealloc(l->v, cap * sizeof(*l->v));
		}
		l->v[l->count].p = data;
		l->v[l->count].n = n;
		l->count++;
		if (nl == NULL) {
			l->last_eol = 0;
			break;
		}
		data += n + 1;
		len -= n + 1;
	}
}

static void aerr(struct apply_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void aerr(struct apply_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* One hunk's lines, read from a libgit2 patch: the preimage (context and
 * deletions) and the whole hunk with origins, EOF markers folded in. */
struct hunk {
	const git_diff_hunk *h;
	struct {
		char origin; /* ' ', '-', '+' */
		const char *p;
		size_t n;
		int eol; /* 0 after a "\ No newline at end of file" */
	} * v;
	size_t count;
	size_t pre; /* lines in the preimage */
};

static int hunk_load(struct hunk *hk, git_patch *patch, size_t h)
{
	size_t nlines;
	int rc;

	memset(hk, 0, sizeof(*hk));
	rc = git_patch_get_hunk(&hk->h, &nlines, patch, h);
	if (rc < 0)
		return rc;
	hk->v = xcalloc(nlines + 1, sizeof(*hk->v));
	for (size_t i = 0; i < nlines; i++) {
		const git_diff_line *dl;

		rc = git_patch_get_line_in_hunk(&dl, patch, h, i);
		if (rc < 0)
			return rc;
		if (dl->origin == GIT_DIFF_LINE_CONTEXT || dl->origin == GIT_DIFF_LINE_ADDITION ||
		    dl->origin == GIT_DIFF_LINE_DELETION) {
			size_t n = dl->content_len;

			if (n && dl->content[n - 1] == '\n')
				n--;
			hk->v[hk->count].origin = dl->origin;
			hk->v[hk->count].p = dl->content;
			hk->v[hk->count].n = n;
			hk->v[hk->count].eol = 1;
			if (dl->origin != GIT_DIFF_LINE_ADDITION)
				hk->pre++;
			hk->count++;
		} else if (hk->count > 0) {
			/* "\ No newline at end of file" after the line before. */
			hk->v[hk->count - 1].eol = 0;
		}
	}
	return 0;
}

static void hunk_release(struct hunk *hk)
{
	free(hk->v);
	memset(hk, 0, sizeof(*hk));
}

/* 1 when the hunk's preimage matches old at line index at. */
static int hunk_matches_at(const struct hunk *hk, const struct lines *old, size_t at)
{
	size_t k = at;

	if (at + hk->pre > old->count)
		return 0;
	for (size_t i = 0; i < hk->count; i++) {
		if (hk->v[i].origin == GIT_DIFF_LINE_ADDITION)
			continue;
		if (old->v[k].n != hk->v[i].n || memcmp(old->v[k].p, hk->v[i].p, hk->v[i].n))
			return 0;
		k++;
	}
	return 1;
}

/* Where the hunk applies, at or after from: its own line number (shifted by what
 * the hunks before moved) first, then the nearest line either way, as git apply
 * does. Returns the line index, or -1. */
static long hunk_find(const struct hunk *hk, const struct lines *old, size_t from, long shift)
{
	long want = (long)hk->h->old_start - 1 + shift;
	long n = (long)old->count;

	if (hk->pre == 0) /* only additions: old_start is the line after which they go */
		want = hk->h->old_start + shift;
	if (want < (long)from)
		want = (long)from;
	if (want > n)
		want = n;
	for (long d = 0; d <= n; d++) {
		if (want + d <= n && hunk_matches_at(hk, old, (size_t)(want + d)))
			return want + d;
		if (d && want - d >= (long)from && hunk_matches_at(hk, old, (size_t)(want - d)))
			return want - d;
	}
	return -1;
}

/* Names the first line of the hunk that does not match at its own place. */
static void hunk_mismatch(struct buf *why, const struct hunk *hk, const struct lines *old,
			  long shift)
{
	size_t k = hk->h->old_start > 0 ? (size_t)(hk->h->old_start - 1 + shift) : 0;

	for (size_t i = 0; i < hk->count; i++) {
		if (hk->v[i].origin == GIT_DIFF_LINE_ADDITION)
			continue;
		if (k >= old->count) {
			buf_printf(why,
				   "the file has only %zu lines, the hunk expects \"%.60s\" at "
				   "line %zu",
				   old->count, hk->v[i].p ? hk->v[i].p : "", k + 1);
			return;
		}
		if (old->v[k].n != hk->v[i].n || memcmp(old->v[k].p, hk->v[i].p, hk->v[i].n)) {
			buf_printf(why, "line %zu reads \"%.*s\", the hunk expects \"%.*s\"", k + 1,
				   (int)(old->v[k].n > 60 ? 60 : old->v[k].n), old->v[k].p,
				   (int)(hk->v[i].n > 60 ? 60 : hk->v[i].n), hk->v[i].p);
			return;
		}
		k++;
	}
	buf_puts(why, "its context is found nowhere in the file");
}

/* "@@ -27,7 +27,7 @@" without the function name git puts after it. */
static int hunk_header_len(const char *h)
{
	const char *end = strstr(h + 2, "@@");

	return end ? (int)(end + 2 - h) : (int)strcspn(h, "\n");
}

/* Checks (and, when out is not NULL, applies) every hunk of patch on the old
 * content. Returns 0, or -EPERM with e naming the hunk. */
static int hunks_apply(struct buf *out, git_patch *patch, const char *old_data, size_t old_len,
		       struct apply_error *e, const char *who)
{
	struct lines old;
	size_t nh = git_patch_num_hunks(patch), cursor = 0;
	long shift = 0;
	int rc = 0, eol = 1;

	lines_split(&old, old_data, old_len);
	eol = old.last_eol;
	for (size_t h = 0; h < nh && rc == 0; h++) {
		struct hunk hk;
		long at;

		if (hunk_load(&hk, patch, h) < 0) {
			aerr(e, "%s: hunk #%zu cannot be read", who, h + 1);
			hunk_release(&hk);
			rc = -EINVAL;
			break;
		}
		at = hunk_find(&hk, &old, cursor, shift);
		if (at < 0) {
			struct buf why = BUF_INIT(0);

			hunk_mismatch(&why, &hk, &old, shift);
			e->hunk = (int)h + 1;
			aerr(e, "%s: hunk #%zu (%.*s) does not apply: %s", who, h + 1,
			     hunk_header_len(hk.h->header), hk.h->header, buf_cstr(&why));
			buf_release(&why);
			hunk_release(&hk);
			rc = -EPERM;
			break;
		}
		if (out) {
			for (size_t k = cursor; k < (size_t)at; k++) {
				buf_append(out, old.v[k].p, old.v[k].n);
				buf_putc(out, '\n');
			}
			for (size_t i = 0; i < hk.count; i++) {
				if (hk.v[i].origin == GIT_DIFF_LINE_DELETION)
					continue;
				buf_append(out, hk.v[i].p, hk.v[i].n);
				buf_putc(out, '\n');
				eol = hk.v[i].eol;
			}
		}
		/* How far this file has moved from where the patch was made. */
		shift = at - (hk.pre == 0 ? (long)hk.h->old_start : (long)hk.h->old_start - 1);
		cursor = (size_t)at + hk.pre;
		hunk_release(&hk);
	}
	if (out && rc == 0) {
		for (size_t k = cursor; k < old.count; k++) {
			buf_append(out, old.v[k].p, old.v[k].n);
			buf_putc(out, '\n');
			eol = (k + 1 < old.count) ? 1 : old.last_eol;
		}
		if (!eol && out->len > 0 && out->data[out->len - 1] == '\n')
			out->data[--out->len] = '\0';
	}
	lines_release(&old);
	return rc;
}

/* Reads path from tree into out; -ENOENT when it is not there. */
static int tree_file(struct buf *out, git_repository *repo, git_tree *tree, const char *path,
		     git_filemode_t *mode)
{
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int rc;

	rc = git_tree_entry_bypath(&te, tree, path);
	if (rc < 0)
		return rc == GIT_ENOTFOUND ? -ENOENT : -EIO;
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		git_tree_entry_free(te);
		return -EISDIR;
	}
	if (mode)
		*mode = git_tree_entry_filemode(te);
	rc = git_blob_lookup(&blob, repo, git_tree_entry_id(te));
	if (rc == 0 && out)
		rc = buf_append(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	git_tree_entry_free(te);
	return rc < 0 ? -EIO : 0;
}

/* Checks one patch (a parsed diff) against tree: every file exists (or does not,
 * for a new one) and every hunk's context matches. When idx is not NULL, also
 * applies it there (the fallback when libgit2 refuses a good patch). */
static int diff_check(git_repository *repo, git_tree *tree, git_diff *diff, git_index *idx,
		      struct apply_error *e, const char *who)
{
	size_t nd = git_diff_num_deltas(diff);
	int rc = 0;

	for (size_t d = 0; d < nd && rc == 0; d++) {
		git_patch *patch = NULL;
		const git_diff_delta *dd;
		const char *oldp, *newp;
		struct buf old = BUF_INIT(APPLY_MAX_FILE), neu = BUF_INIT(APPLY_MAX_FILE);
		char fwho[512];
		int frc;

		if (git_patch_from_diff(&patch, diff, d) < 0 || patch == NULL) {
			aerr(e, "%s: file #%zu of the diff cannot be read", who, d + 1);
			return -EINVAL;
		}
		dd = git_patch_get_delta(patch);
		oldp = dd->old_file.path;
		newp = dd->new_file.path;
		snprintf(e->file, sizeof(e->file), "%s",
			 dd->status == GIT_DELTA_ADDED ? newp : oldp);
		snprintf(fwho, sizeof(fwho), "%s: %s", who, e->file);
		frc = dd->status == GIT_DELTA_ADDED ? tree_file(NULL, repo, tree, newp, NULL)
						    : tree_file(&old, repo, tree, oldp, NULL);
		if (dd->status == GIT_DELTA_ADDED && frc == 0) {
			aerr(e, "%s: the patch creates it but the file already exists", fwho);
			rc = -EPERM;
		} else if (dd->status != GIT_DELTA_ADDED && frc == -ENOENT) {
			aerr(e, "%s: no such file in the tree the patch applies to", fwho);
			rc = -EPERM;
		} else if (frc == -EISDIR) {
			aerr(e, "%s: a directory or submodule, not a file", fwho);
			rc = -EPERM;
		} else if (dd->status != GIT_DELTA_ADDED && frc < 0) {
			aerr(e, "%s: cannot be read", fwho);
			rc = -EIO;
		} else if (dd->flags & GIT_DIFF_FLAG_BINARY) {
			/* Hunks of a binary patch are not text: libgit2 alone judges them. */
			if (idx) {
				aerr(e, "%s: binary patch cannot be applied", fwho);
				rc = -EPERM;
			}
		} else {
			rc = hunks_apply(idx ? &neu : NULL, patch, old.data ? old.data : "",
					 old.len, e, fwho);
		}
		if (rc == 0 && idx) {
			git_index_entry ie;

			if (dd->status != GIT_DELTA_ADDED)
				git_index_remove(idx, oldp, 0);
			if (dd->status != GIT_DELTA_DELETED) {
				memset(&ie, 0, sizeof(ie));
				ie.path = newp;
				ie.mode = dd->new_file.mode ? dd->new_file.mode : dd->old_file.mode;
				/* An in-memory index has no repository: write the blob here. */
				if (git_blob_create_from_buffer(
					&ie.id, repo, neu.data ? neu.data : "", neu.len) < 0 ||
				    git_index_add(idx, &ie) < 0) {
					aerr(e, "%s: %s", fwho, gitrepo_errmsg());
					rc = -EIO;
				}
			}
		}
		buf_release(&old);
		buf_release(&neu);
		git_patch_free(patch);
	}
	if (rc == 0)
		e->file[0] = '\0';
	return rc;
}

/* Applies one mail's diff on tree; the new tree's id goes into out. */
static int patch_apply(git_oid *out, git_repository *repo, git_tree *tree,
		       const struct patch_mail *p, struct apply_error *e, const char *who)
{
	git_diff *diff = NULL;
	git_index *idx = NULL;
	int rc;

	rc = git_diff_from_buffer(&diff, p->diff, p->diff_len);
	if (rc < 0) {
		aerr(e, "%s: not a valid diff: %s", who, gitrepo_errmsg());
		return -EINVAL;
	}
	if (git_diff_num_deltas(diff) == 0) {
		aerr(e, "%s: the diff changes no file", who);
		rc = -EINVAL;
		goto out;
	}
	rc = diff_check(repo, tree, diff, NULL, e, who);
	if (rc < 0)
		goto out;
	if (gitrepo_apply_fallback_only || git_apply_to_tree(&idx, repo, tree, diff, NULL) < 0) {
		/* The check found every hunk in place: libgit2 misjudged it. */
		git_index_free(idx);
		idx = NULL;
		if (git_index_new(&idx) < 0 || git_index_read_tree(idx, tree) < 0) {
			aerr(e, "%s: %s", who, gitrepo_errmsg());
			rc = -EIO;
			goto out;
		}
		rc = diff_check(repo, tree, diff, idx, e, who);
		if (rc < 0)
			goto out;
		gitrepo_apply_fallbacks++;
	}
	if (git_index_write_tree_to(out, idx, repo) < 0) {
		aerr(e, "%s: writing the tree: %s", who, gitrepo_errmsg());
		rc = -EIO;
	}
out:
	git_index_free(idx);
	git_diff_free(diff);
	return rc;
}

/* Writes everything the scratch handle's mempack holds into the repository as
 * one pack. The lock is held. */
static int mempack_commit(struct gitrepo *r, git_repository *scratch, git_odb_backend *mp)
{
	git_buf pack = {0};
	git_odb *odb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	int rc;

	memset(&stats, 0, sizeof(stats));
	rc = git_mempack_dump(&pack, scratch, mp);
	if (rc == 0)
		rc = git_repository_odb(&odb, r->git);
	if (rc == 0)
		rc = git_odb_write_pack(&wp, odb, NULL, NULL);
	if (rc == 0)
		rc = wp->append(wp, pack.ptr, pack.size, &stats);
	if (rc == 0)
		rc = wp->commit(wp, &stats);
	if (wp)
		wp->free(wp);
	if (rc == 0)
		rc = git_odb_refresh(odb);
	git_odb_free(odb);
	git_buf_dispose(&pack);
	return rc;
}

int gitrepo_apply_series(char out[GITREPO_HEX], struct gitrepo *r, const char *base,
			 const struct patch_series *s, const char *ref, struct apply_error *e)
{
	git_repository *scratch = NULL;
	git_odb_backend *mp = NULL;
	git_odb *sodb = NULL;
	git_commit *parent = NULL;
	git_signature *committer = NULL;
	git_oid head;
	char basehex[GITREPO_HEX], err[256], cur[GITREPO_HEX];
	int rc, valid = 0;

	memset(e, 0, sizeof(*e));
	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid) {
		aerr(e, "\"%.64s\": not a valid ref name", ref);
		return -EINVAL;
	}
	if (gitrepo_ref_head(r, ref, cur) == 0) {
		aerr(e, "%s already exists", ref);
		return -EEXIST;
	}
	rc = gitrepo_resolve(r, base, basehex, err, sizeof(err));
	if (rc < 0) {
		aerr(e, "base %s", err);
		return rc;
	}
	if (s->count == 0) {
		aerr(e, "no patches in the series");
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	/* A second handle on the repository whose new objects stay in memory: a
	 * series that does not apply leaves nothing behind, one that does is
	 * written as one pack. */
	if (git_repository_open_ext(&scratch, git_repository_path(r->git),
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
	    git_repository_odb(&sodb, scratch) < 0 || git_mempack_new(&mp) < 0 ||
	    git_odb_add_backend(sodb, mp, 1000) < 0) {
		aerr(e, "%s", gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	git_oid_fromstr(&head, basehex);
	if (git_commit_lookup(&parent, scratch, &head) < 0 ||
	    git_signature_now(&committer, "xenci", "xenci@localhost") < 0) {
		aerr(e, "%s", gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	for (size_t i = 0; i < s->count; i++) {
		const struct patch_mail *p = &s->patches[i];
		git_signature *author = NULL;
		git_tree *tree = NULL, *newtree = NULL;
		git_commit *made = NULL;
		git_oid tree_oid;
		char who[320];

		snprintf(who, sizeof(who), "patch %zu of %zu (\"%.120s\", %s)", i + 1, s->count,
			 p->subject, p->source);
		e->patch = (int)i + 1;
		rc = git_commit_tree(&tree, parent) < 0 ? -EIO : 0;
		if (rc == 0)
			rc = patch_apply(&tree_oid, scratch, tree, p, e, who);
		if (rc == 0 && (git_tree_lookup(&newtree, scratch, &tree_oid) < 0 ||
				git_signature_new(&author, p->author_name, p->author_email,
						  (git_time_t)p->time, p->tz_minutes) < 0)) {
			aerr(e, "%s: %s", who, gitrepo_errmsg());
			rc = -EIO;
		}
		if (rc == 0) {
			const git_commit *parents[1] = {parent};

			if (git_commit_create(&head, scratch, NULL, author, committer, "UTF-8",
					      p->message, newtree, 1, parents) < 0 ||
			    git_commit_lookup(&made, scratch, &head) < 0) {
				aerr(e, "%s: committing: %s", who, gitrepo_errmsg());
				rc = -EIO;
			}
		}
		git_signature_free(author);
		git_tree_free(tree);
		git_tree_free(newtree);
		if (rc < 0) {
			git_commit_free(made);
			goto out;
		}
		git_commit_free(parent);
		parent = made;
	}
	e->patch = 0;
	if (mempack_commit(r, scratch, mp) < 0) {
		aerr(e, "writing the series' objects: %s", gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	pthread_mutex_unlock(&r->lock);
	git_oid_tostr(out, GITREPO_HEX, &head);
	rc = gitrepo_set_ref(r, ref, out, "", "xenci: patch series", err, sizeof(err));
	if (rc < 0)
		aerr(e, "%s", err);
	pthread_mutex_lock(&r->lock);
out:
	git_commit_free(parent);
	git_signature_free(committer);
	git_odb_free(sodb);
	git_repository_free(scratch); /* frees the mempack with its odb */
	pthread_mutex_unlock(&r->lock);
	return rc;
}
