#include "git-apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

#include <git2/sys/mempack.h>

#include "buf.h"
#include "utf8.h"
#include "xmalloc.h"

/* The window either side of a hunk's expected line searched first (git apply
 * searches outward without limit: with hashed lines each place costs O(1), the
 * window bounds how many a hunk tries before the forward scan). */
#define APPLY_NEAR_WINDOW 4096

struct line {
	const char *p;
	size_t n; /* without the line end */
};

/* A file's lines with a polynomial prefix hash over their hashes: the hash of
 * lines [a, a+k) is prefix[a+k] - prefix[a] * base^k (mod 2^64), so a hunk's
 * preimage is compared with any place of the file in O(1), and only a place
 * whose hash matches is compared line by line. The seeds are random per process,
 * so a series cannot be made to collide everywhere. */
struct lines {
	struct line *v;
	uint64_t *prefix; /* count + 1 */
	size_t count;
	int last_eol; /* 1 when the last line ends with '\n' */
};

static uint64_t hash_seed, hash_base;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_init(void)
{
	uint64_t v[2] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL};

	if (getrandom(v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v[0] ^= (uint64_t)(uintptr_t)&v; /* no entropy: still not a constant */
	hash_seed = v[0];
	hash_base = v[1] | 1;
}

static uint64_t line_hash(const char *p, size_t n)
{
	uint64_t h = hash_seed ^ 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 31;
	return h * 0x7fb5d329728ea185ULL + n;
}

static void lines_release(struct lines *l)
{
	free(l->v);
	free(l->prefix);
	memset(l, 0, sizeof(*l));
}

/* -EFBIG when the file has more than APPLY_MAX_LINES lines. */
static int lines_split(struct lines *l, const char *data, size_t len)
{
	size_t cap = 0;

	pthread_once(&hash_once, hash_init);
	memset(l, 0, sizeof(*l));
	l->last_eol = 1;
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (l->count == cap) {
			if (l->count == APPLY_MAX_LINES)
				return -EFBIG;
			cap = cap ? cap * 2 : 64;
			if (cap > APPLY_MAX_LINES)
				cap = APPLY_MAX_LINES;
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
	l->prefix = xmalloc((l->count + 1) * sizeof(*l->prefix));
	l->prefix[0] = 0;
	for (size_t i = 0; i < l->count; i++)
		l->prefix[i + 1] = l->prefix[i] * hash_base + line_hash(l->v[i].p, l->v[i].n);
	return 0;
}

/* Copies src into dst (size > 0 bytes) as valid UTF-8 on one line, whatever
 * bytes a patch holds (a Latin-1 file name, a CR at a line's end): a byte that
 * is not part of a valid sequence, and a control character, is written "\xNN";
 * the copy ends at a character's end. */
static void utf8_line_copy(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), o = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t used = utf8_decode(s + i, n - i, &cp);
		int esc = (cp == 0xfffd && used == 1) || cp < 0x20 || cp == 0x7f;

		if (o + (esc ? 4 : used) >= size)
			break;
		if (esc) {
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", s[i]);
		} else {
			memcpy(dst + o, s + i, used);
			o += used;
		}
		i += used;
	}
	dst[o] = '\0';
}

static void aerr(struct apply_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void aerr(struct apply_error *e, const char *fmt, ...)
{
	char raw[sizeof(e->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	utf8_line_copy(e->message, sizeof(e->message), raw);
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
	size_t pre;	   /* lines in the preimage */
	uint64_t hash;	   /* of the preimage, as struct lines hashes a place */
	uint64_t base_pre; /* hash_base ^ pre */
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
	hk->base_pre = 1;
	for (size_t i = 0; i < hk->count; i++) {
		if (hk->v[i].origin == GIT_DIFF_LINE_ADDITION)
			continue;
		hk->hash = hk->hash * hash_base + line_hash(hk->v[i].p, hk->v[i].n);
		hk->base_pre *= hash_base;
	}
	return 0;
}

static void hunk_release(struct hunk *hk)
{
	free(hk->v);
	memset(hk, 0, sizeof(*hk));
}

/* 1 when the hunk's preimage matches old at line index at: the hashes first
 * (O(1)), the lines only when they agree. */
static int hunk_matches_at(const struct hunk *hk, const struct lines *old, size_t at)
{
	size_t k = at;

	if (at + hk->pre > old->count)
		return 0;
	if (old->prefix[at + hk->pre] - old->prefix[at] * hk->base_pre != hk->hash)
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
 * the hunks before moved) first, then the nearest line either way within
 * APPLY_NEAR_WINDOW, as git apply does; then the first place after from. Each
 * place costs O(1) (hashes), and the forward scan moves the next hunk's from
 * past what it read, so a file's hunks together cost O(lines + hunks * window).
 * Returns the line index, or -1. */
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
	for (long d = 0; d <= n && d <= APPLY_NEAR_WINDOW; d++) {
		if (want + d <= n && hunk_matches_at(hk, old, (size_t)(want + d)))
			return want + d;
		if (d && want - d >= (long)from && hunk_matches_at(hk, old, (size_t)(want - d)))
			return want - d;
	}
	for (long at = (long)from; at <= n; at++)
		if ((at < want - APPLY_NEAR_WINDOW || at > want + APPLY_NEAR_WINDOW) &&
		    hunk_matches_at(hk, old, (size_t)at))
			return at;
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

/* Appends a line and its end to out: -ENOSPC past out's maximum. */
static int out_line(struct buf *out, const char *p, size_t n)
{
	int rc = buf_append(out, p, n);

	return rc < 0 ? rc : buf_putc(out, '\n');
}

/* Checks (and, when out is not NULL, applies) every hunk of patch on the old
 * content. Returns 0, or -EPERM with e naming the hunk, or -ENOSPC when the
 * result is larger than out's maximum. */
static int hunks_apply(struct buf *out, git_patch *patch, const char *old_data, size_t old_len,
		       struct apply_error *e, const char *who)
{
	struct lines old;
	size_t nh = git_patch_num_hunks(patch), cursor = 0;
	long shift = 0;
	int rc = 0, eol = 1;

	if (lines_split(&old, old_data, old_len) < 0) {
		aerr(e, "%s: more than %d lines", who, APPLY_MAX_LINES);
		lines_release(&old);
		return -EPERM;
	}
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
			for (size_t k = cursor; k < (size_t)at && rc == 0; k++)
				rc = out_line(out, old.v[k].p, old.v[k].n);
			for (size_t i = 0; i < hk.count && rc == 0; i++) {
				if (hk.v[i].origin == GIT_DIFF_LINE_DELETION)
					continue;
				rc = out_line(out, hk.v[i].p, hk.v[i].n);
				eol = hk.v[i].eol;
			}
		}
		/* How far this file has moved from where the patch was made. */
		shift = at - (hk.pre == 0 ? (long)hk.h->old_start : (long)hk.h->old_start - 1);
		cursor = (size_t)at + hk.pre;
		hunk_release(&hk);
	}
	if (out && rc == 0) {
		for (size_t k = cursor; k < old.count && rc == 0; k++) {
			rc = out_line(out, old.v[k].p, old.v[k].n);
			eol = (k + 1 < old.count) ? 1 : old.last_eol;
		}
		if (rc == 0 && !eol && out->len > 0 && out->data[out->len - 1] == '\n')
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
	if (out) {
		git_odb *odb = NULL;
		git_object_t type;
		size_t size = 0;

		/* The size from the object's header: a blob too large is not inflated. */
		rc = git_repository_odb(&odb, repo);
		if (rc == 0)
			rc = git_odb_read_header(&size, &type, odb, git_tree_entry_id(te));
		git_odb_free(odb);
		if (rc == 0 && size > APPLY_MAX_FILE)
			rc = -EFBIG;
		if (rc == 0)
			rc = git_blob_lookup(&blob, repo, git_tree_entry_id(te));
		if (rc == 0)
			rc = buf_append(out, git_blob_rawcontent(blob),
					(size_t)git_blob_rawsize(blob));
	}
	git_blob_free(blob);
	git_tree_entry_free(te);
	return rc == -EFBIG ? rc : rc < 0 ? -EIO : 0;
}

/* NULL when path may be written in a tree, else why not: absolute, empty or
 * "." / ".." components, a ".git" component (any case, as git refuses it on
 * case-insensitive file systems too), a backslash or a control character. */
static const char *path_refusal(const char *path)
{
	const char *c = path;

	if (path == NULL || *path == '\0')
		return "an empty path";
	if (*path == '/')
		return "an absolute path";
	for (const char *q = path; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '\\')
			return "a control character or a backslash in the path";
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 0)
			return "an empty path component";
		if ((n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
			return "a \".\" or \"..\" path component";
		if (n == 4 && !strncasecmp(c, ".git", 4))
			return "a .git path component";
		c += n;
		if (*c == '/')
			c++;
	}
	return NULL;
}

/* 1 for the modes a file of a tree may have: a file, an executable, a link. */
static int mode_ok(uint32_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
	       mode == GIT_FILEMODE_LINK;
}

/* Checks one patch (a parsed diff) against tree: paths and modes are ones a tree
 * may hold, every file exists (or does not, for a new one) and every hunk's
 * context matches. When idx is not NULL, also applies its text files there;
 * binary files are libgit2's (patch_apply), and left alone. */
static int diff_check(git_repository *repo, git_tree *tree, git_diff *diff, git_index *idx,
		      struct apply_error *e, const char *who)
{
	size_t nd = git_diff_num_deltas(diff);
	int rc = 0;

	for (size_t d = 0; d < nd && rc == 0; d++) {
		git_patch *patch = NULL;
		const git_diff_delta *dd;
		const char *oldp, *newp, *bad;
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
		utf8_line_copy(e->file, sizeof(e->file),
			       dd->status == GIT_DELTA_ADDED ? newp : oldp);
		snprintf(fwho, sizeof(fwho), "%s: %s", who, e->file);
		if ((bad = path_refusal(oldp)) != NULL ||
		    (strcmp(oldp, newp) && (bad = path_refusal(newp)) != NULL)) {
			aerr(e, "%s: %s", fwho, bad);
			git_patch_free(patch);
			return -EPERM;
		}
		if (dd->status != GIT_DELTA_DELETED && !mode_ok(dd->new_file.mode)) {
			aerr(e, "%s: mode %o is not a file's (100644, 100755 or 120000)", fwho,
			     (unsigned)dd->new_file.mode);
			git_patch_free(patch);
			return -EPERM;
		}
		frc = dd->status == GIT_DELTA_ADDED || (dd->flags & GIT_DIFF_FLAG_BINARY)
			  ? tree_file(NULL, repo, tree, dd->status == GIT_DELTA_ADDED ? newp : oldp,
				      NULL)
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
		} else if (frc == -EFBIG) {
			aerr(e, "%s: larger than %d MiB", fwho, APPLY_MAX_FILE >> 20);
			rc = -EPERM;
		} else if (dd->status != GIT_DELTA_ADDED && frc < 0) {
			aerr(e, "%s: cannot be read", fwho);
			rc = -EIO;
		} else if (dd->flags & GIT_DIFF_FLAG_BINARY) {
			/* libgit2 applies binary files (patch_apply); their sizes were
			 * checked before (binary_bound). */
			buf_release(&old);
			git_patch_free(patch);
			continue;
		} else {
			rc = hunks_apply(idx ? &neu : NULL, patch, old.data ? old.data : "",
					 old.len, e, fwho);
		}
		if (rc == 0 && idx) {
			git_index_entry ie;

			/* A copy keeps its source; a rename and a deletion do not. */
			if (dd->status != GIT_DELTA_ADDED && dd->status != GIT_DELTA_COPIED)
				git_index_remove(idx, oldp, 0);
			if (dd->status != GIT_DELTA_DELETED) {
				memset(&ie, 0, sizeof(ie));
				ie.path = newp;
				ie.mode = dd->new_file.mode;
				/* An in-memory index has no repository: write the blob here. */
				if (git_blob_create_from_buffer(
					&ie.id, repo, neu.data ? neu.data : "", neu.len) < 0 ||
				    git_index_add(idx, &ie) < 0) {
					aerr(e, "%s: %s", fwho, gitrepo_errmsg());
					rc = -EIO;
				}
			}
		}
		if (rc == -ENOSPC) {
			aerr(e, "%s: the patched file is larger than %d MiB", fwho,
			     APPLY_MAX_FILE >> 20);
			rc = -EPERM;
		}
		buf_release(&old);
		buf_release(&neu);
		git_patch_free(patch);
	}
	if (rc == 0)
		e->file[0] = '\0';
	return rc;
}

/* What binary_bound learns of a diff's binary files. */
struct binary_budget {
	size_t inflated; /* declared sizes so far, against APPLY_MAX_INFLATED */
	int binaries;	 /* how many binary files the diff has */
	char first[256]; /* the first one's path */
	struct apply_error *e;
	const char *who;
};

/* Reads a git delta's size (a little-endian base-128 number) from its first
 * bytes; -1 when incomplete. */
static int delta_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	unsigned shift = 0;

	*out = 0;
	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;

		*out |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

/* Inflates one side of a binary hunk into a fixed buffer that is thrown away,
 * stopping as soon as it gives more than it declared: the bytes it really
 * inflates to, without holding them. A delta's result size (its second number)
 * must be within APPLY_MAX_FILE too: libgit2 allocates it whole. Returns 0, or
 * -EPERM with a sentence in why. */
static int binary_side_bound(const git_diff_binary_file *f, char *why, size_t whylen)
{
	unsigned char chunk[16384], head[20];
	size_t got = 0, headlen = 0;
	z_stream z;
	int zrc, rc = 0;

	if (f->type == GIT_DIFF_BINARY_NONE || f->datalen == 0)
		return 0;
	if (f->inflatedlen > APPLY_MAX_FILE) {
		snprintf(why, whylen, "a binary hunk declares %zu bytes, more than %d MiB",
			 f->inflatedlen, APPLY_MAX_FILE >> 20);
		return -EPERM;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)f->data;
	z.avail_in = (uInt)f->datalen;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zrc = inflate(&z, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END) {
			snprintf(why, whylen, "a binary hunk is not valid zlib data");
			rc = -EPERM;
			break;
		}
		if (headlen < sizeof(head)) {
			size_t n = sizeof(chunk) - z.avail_out;

			n = n < sizeof(head) - headlen ? n : sizeof(head) - headlen;
			memcpy(head + headlen, chunk, n);
			headlen += n;
		}
		got += sizeof(chunk) - z.avail_out;
		if (got > f->inflatedlen) {
			snprintf(why, whylen,
				 "a binary hunk inflates to more than the %zu bytes it declares",
				 f->inflatedlen);
			rc = -EPERM;
			break;
		}
	} while (zrc != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
	inflateEnd(&z);
	if (rc == 0 && got != f->inflatedlen) {
		snprintf(why, whylen,
			 "a binary hunk inflates to %zu bytes, not the %zu it declares", got,
			 f->inflatedlen);
		rc = -EPERM;
	}
	if (rc == 0 && f->type == GIT_DIFF_BINARY_DELTA) {
		const unsigned char *p = head, *end = head + headlen;
		uint64_t base_size, result_size;

		if (delta_varint(&p, end, &base_size) < 0 ||
		    delta_varint(&p, end, &result_size) < 0) {
			snprintf(why, whylen, "a binary delta without its sizes");
			rc = -EPERM;
		} else if (result_size > APPLY_MAX_FILE) {
			snprintf(why, whylen, "a binary delta makes %llu bytes, more than %d MiB",
				 (unsigned long long)result_size, APPLY_MAX_FILE >> 20);
			rc = -EPERM;
		}
	}
	return rc;
}

static int binary_bound(const git_diff_delta *dd, const git_diff_binary *bin, void *payload)
{
	struct binary_budget *bb = payload;
	char why[160];
	int rc;

	if (bb->binaries++ == 0)
		snprintf(bb->first, sizeof(bb->first), "%s",
			 dd->new_file.path ? dd->new_file.path : "");
	snprintf(bb->e->file, sizeof(bb->e->file), "%s",
		 dd->new_file.path ? dd->new_file.path : "");
	bb->inflated += bin->new_file.inflatedlen > APPLY_MAX_INFLATED ? APPLY_MAX_INFLATED + 1
								       : bin->new_file.inflatedlen;
	bb->inflated += bin->old_file.inflatedlen > APPLY_MAX_INFLATED ? APPLY_MAX_INFLATED + 1
								       : bin->old_file.inflatedlen;
	if (bb->inflated > APPLY_MAX_INFLATED) {
		aerr(bb->e, "%s: %s: the binary hunks of the series inflate to more than %d MiB",
		     bb->who, bb->e->file, APPLY_MAX_INFLATED >> 20);
		return -EPERM;
	}
	rc = binary_side_bound(&bin->new_file, why, sizeof(why));
	if (rc == 0)
		rc = binary_side_bound(&bin->old_file, why, sizeof(why));
	if (rc < 0)
		aerr(bb->e, "%s: %s: %s", bb->who, bb->e->file,
		     rc == -EPERM ? why : "cannot inflate");
	return rc < 0 ? -EPERM : 0;
}

/* libgit2 applies the binary files only: the text files are diff_check's. */
static int only_binary(const git_diff_delta *dd, void *payload)
{
	(void)payload;
	return (dd->flags & GIT_DIFF_FLAG_BINARY) ? 0 : 1;
}

/* Applies one mail's diff on tree; the new tree's id goes into out. The text
 * files are applied here (hunks_apply: linear in the file and the patch), the
 * binary ones by libgit2 once their inflated sizes are known to be bounded;
 * *inflated carries the series' total of binary bytes. */
static int patch_apply(git_oid *out, git_repository *repo, git_tree *tree,
		       const struct patch_mail *p, size_t *inflated, struct apply_error *e,
		       const char *who)
{
	struct binary_budget bb = {*inflated, 0, "", e, who};
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
	rc = git_diff_foreach(diff, NULL, binary_bound, NULL, NULL, &bb);
	if (rc < 0) {
		rc = -EPERM;
		goto out;
	}
	e->file[0] = '\0';
	*inflated = bb.inflated;
	if (bb.binaries) {
		git_apply_options opts;

		git_apply_options_init(&opts, GIT_APPLY_OPTIONS_VERSION);
		opts.delta_cb = only_binary;
		if (git_apply_to_tree(&idx, repo, tree, diff, &opts) < 0) {
			if (bb.binaries == 1)
				snprintf(e->file, sizeof(e->file), "%s", bb.first);
			aerr(e, "%s: a binary file does not apply: %s", who, gitrepo_errmsg());
			rc = -EPERM;
			goto out;
		}
	} else if (git_index_new(&idx) < 0 || git_index_read_tree(idx, tree) < 0) {
		aerr(e, "%s: %s", who, gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	rc = diff_check(repo, tree, diff, idx, e, who);
	if (rc < 0)
		goto out;
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
	size_t inflated = 0;
	char *gitdir;
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
	gitdir = xstrdup(git_repository_path(r->git));
	pthread_mutex_unlock(&r->lock);
	/* A second handle on the repository whose new objects stay in memory: a
	 * series that does not apply leaves nothing behind, one that does is
	 * written as one pack. The handle is this call's own: r's lock is taken
	 * only to write the pack, so that r serves others (builders' blobs) while
	 * the series is applied. */
	if (git_repository_open_ext(&scratch, gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
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
			rc = patch_apply(&tree_oid, scratch, tree, p, &inflated, e, who);
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
	pthread_mutex_lock(&r->lock);
	rc = mempack_commit(r, scratch, mp);
	pthread_mutex_unlock(&r->lock);
	if (rc < 0) {
		aerr(e, "writing the series' objects: %s", gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	git_oid_tostr(out, GITREPO_HEX, &head);
	rc = gitrepo_set_ref(r, ref, out, "", "xenci: patch series", err, sizeof(err));
	if (rc < 0)
		aerr(e, "%s", err);
out:
	git_commit_free(parent);
	git_signature_free(committer);
	git_odb_free(sodb);
	git_repository_free(scratch); /* frees the mempack with its odb */
	free(gitdir);
	return rc;
}
