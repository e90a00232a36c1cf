/* One validator for configuration files and API bodies alike.
 *
 * A document's shape is a NULL-name-terminated table of struct vfield. The
 * validator walks a jansson tree against it and reports every problem with the
 * field's path ("power.backend", "tags[2]") and, when the tree came from a YAML
 * file, its file:line:col. Messages collect in a struct vctx, both as text lines
 * ("boards/x.yaml:12:5: power.backend: unknown backend \"pdu2\" (known: ...)")
 * and as a JSON array of {path, message, line, col} for API error replies. */
#ifndef XENCI_VALIDATE_H
#define XENCI_VALIDATE_H

#include <jansson.h>

#include "buf.h"
#include "yaml-load.h"

enum vtype {
	V_ANY = 0,
	V_STRING,
	V_INT,
	V_BOOL,
	V_NUMBER,
	V_OBJECT,
	V_ARRAY,
};

#define V_REQUIRED 0x1u
#define V_OPEN	   0x2u /* an object that accepts members the table does not name */
/* V_OBJECT: a mapping of names whose every member is a mapping checked against
 * .fields (the trees of a configuration, by name). */
#define V_EACH 0x4u

struct vctx;

struct vfield {
	const char *name;
	enum vtype type;
	unsigned flags;
	const char *help;	     /* a few words, used in messages and --help texts */
	const char *const *choices;  /* V_STRING (or V_ARRAY of strings): allowed values */
	const struct vfield *fields; /* V_OBJECT, or V_ARRAY of objects: their members */
	enum vtype items;	     /* V_ARRAY: the type of every element */
	long long min, max;	     /* V_INT: bounds; V_STRING/V_ARRAY: length (max 0 = none) */
	/* Extra check after the type passed: report with vctx_error(); return <0 on error. */
	int (*check)(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		     const char *path);
};

struct vctx {
	const char *file;	    /* for messages; NULL for API bodies */
	const struct yaml_doc *doc; /* positions; NULL when the tree is not from YAML */
	struct buf text;	    /* one message per line */
	json_t *errors;		    /* array of {path, message, line?, col?} */
	int count;
	void *user; /* for check callbacks */
};

/* A context with no errors; file and doc are borrowed for its life (either may be
 * NULL: see struct vctx). vctx_release frees the messages; ctx may be NULL. */
void vctx_init(struct vctx *ctx, const char *file, const struct yaml_doc *doc);
void vctx_release(struct vctx *ctx);

/* Reports a problem with member `key` of parent (or element `index` when key is NULL). */
void vctx_error(struct vctx *ctx, const json_t *parent, const char *key, size_t index,
		const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Validates obj (an object: member `key` of parent, or element `index` when key is
 * NULL) against fields; path is the prefix ("" at the top).
 * Returns 0 when it found nothing wrong, -1 otherwise (the messages are in ctx). */
int validate_object(struct vctx *ctx, const struct vfield *fields, const json_t *parent,
		    const char *key, size_t index, const json_t *obj, const char *path);

/* Validates a whole document's root. */
int validate_root(struct vctx *ctx, const struct vfield *fields, const json_t *root);

/* "a, b, c" from a NULL-terminated list, into out. */
void vchoices_join(struct buf *out, const char *const *choices);

/* How messages name a type ("a string", "an integer", ...): a static string. */
const char *vtype_name(enum vtype t);

#endif
