/* A flight's tuple of revisions, as text. The tuple is the controller's JSON
 * (schema/0050-flight-tuple.sql): {tree: {commit, kind, ref, moves}}, one member
 * per tree, the moving tree with "moves": true. */
#ifndef XENCI_TUPLE_H
#define XENCI_TUPLE_H

#include <jansson.h>

#include "buf.h"

/* Appends "xen=2efe190c8efb (pinned at master), linux=113f56417421 (moves)" to
 * out: each tree as tree=commit (12 digits), with how it got there; with
 * pinned_only, the pinned trees alone. Nothing for a tuple of one tree, NULL or
 * a non-object. Returns the number of trees written. */
int tuple_text(struct buf *out, const json_t *tuple, int pinned_only);
/* When several trees moved since a bisection's baseline (the bisection's
 * "moved", {tree: {good, bad}}, more than one member): appends one line
 * "PREFIXtree GOOD..BAD\n" per tree (12 digits each) to out and returns the
 * number of lines; else nothing and 0. */
int tuple_moved_lines(struct buf *out, const json_t *moved, const char *prefix);
/* 1 when a member of tuple (NULL or a non-object: none) is of kind; a member
 * without a kind is of kind xen. */
int tuple_has_kind(const json_t *tuple, const char *kind);

#endif
