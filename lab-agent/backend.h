/* What the power, console and netboot backend tables share: every backend's ops
 * struct begins with its name and the vfield table of its board-file section, in
 * that order (struct backend_head; power.c, console.c and netboot.c assert it), so
 * one lookup and one section check serve all three kinds. */
#ifndef XENCI_AGENT_BACKEND_H
#define XENCI_AGENT_BACKEND_H

#include <jansson.h>

#include "validate.h"

struct backend_head {
	const char *name;
	const struct vfield *fields;
};

/* The entry called name of a NULL-terminated table of ops structs, or NULL. */
const void *backend_find(const void *const *table, const char *name);

/* Checks a board-file section: its "backend" names an entry of table, and the
 * section matches that backend's fields. Messages go to ctx; returns 0 or -1. */
int backend_section_check(const void *const *table, struct vctx *ctx, const json_t *parent,
			  const char *key, const json_t *value, const char *path);

#endif
