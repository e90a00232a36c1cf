/* The builder's source sync: a revision's files from the controller (manifest
 * and blobs, docs/api.md "Sources for builders") into a work tree kept per
 * (tree, arch, trust), and the blob cache by oid.
 *
 * Confinement: every file operation in the work tree is made relative to a
 * folder descriptor of the tree, one path component at a time, with openat2's
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: a symlink in
 * the tree (from a revision, or planted by an earlier build) is never followed
 * to create, write, unlink or make a folder. A symlink found where the manifest
 * has a folder is removed and the folder made; a file the manifest names that
 * is not of its kind (a symlink where a file goes) is written again. */
#ifndef XENCI_AGENT_BUILDER_SYNC_H
#define XENCI_AGENT_BUILDER_SYNC_H

#include <stddef.h>
#include <sys/types.h>

#include "http-client.h"

/* A blob is at most this large (the controller's bound too). */
#define BUILDER_BLOB_MAX (64 * 1024 * 1024)

struct builder_source {
	struct http_client *h; /* the controller, with the agent's token */
	const char *tree;      /* checked by the caller: [A-Za-z0-9._-] */
	const char *commit;    /* 40 hex digits */
	const char *src;       /* the work tree; SRC.manifest records its state */
	const char *blob_dir;  /* the blob cache, by oid */
	int written, removed;  /* out: files written, files deleted */
	int fetched;	       /* out: blobs fetched from the controller */
};

/* Brings src to the revision: writes only files whose mode or blob changed (or
 * that are missing or not of their kind), deletes files that left the
 * manifest, and leaves every other file (build output included) alone; never
 * outside src (see above). Returns 0; -ENOENT when the controller does not
 * know the tree or revision; other negatives for lab problems (controller
 * unreachable, a bad manifest or blob, disk). err says why. */
int builder_sync(struct builder_source *s, char *err, size_t errlen);

/* A path from a manifest is safe to write below a work tree: relative, no
 * "." or ".." component, no empty component, printable, at most 1024 bytes. */
int builder_path_ok(const char *path);

/* 1 when s is n lowercase hex digits. */
int builder_hex_ok(const char *s, size_t n);

/* The file rel (builder_path_ok) below the work tree src, read without
 * following a symlink: *out (NUL-terminated, the caller frees). 0, -EFBIG
 * above max, or -errno (-ELOOP for a symlink). */
int builder_tree_read(char **out, const char *src, const char *rel, size_t max);

/* Writes rel below src as builder_sync writes a file: whole (a temporary and
 * a rename), mode as given, never through a symlink. 0 or -errno. */
int builder_tree_write(const char *src, const char *rel, const void *data, size_t len, mode_t mode);

#endif
