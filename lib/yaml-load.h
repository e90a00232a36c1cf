/* YAML files loaded into jansson trees, keeping where every node came from.
 *
 * Mappings become objects, sequences arrays, and plain scalars are typed as in
 * YAML 1.2's core schema (null, true/false, integers, floats; anything else a
 * string); quoted scalars are always strings. Refused, with the position: syntax
 * errors, duplicate keys, keys that are not scalars, aliases (no billion laughs),
 * more than one document, nesting deeper than YAML_MAX_DEPTH, files larger than
 * YAML_MAX_SIZE.
 *
 * Positions are kept per (container, member): jansson shares its true/false/null
 * singletons, so a node's address alone cannot name its place. */
#ifndef XENCI_YAML_LOAD_H
#define XENCI_YAML_LOAD_H

#include <jansson.h>
#include <stddef.h>

#define YAML_MAX_SIZE  (1024 * 1024)
#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 100000

struct yaml_pos {
	int line; /* 1-based; 0 when unknown */
	int col;  /* 1-based */
};

struct yaml_place; /* one entry per member: opaque */

struct yaml_doc {
	char *name; /* the file name used in messages */
	json_t *root;
	struct yaml_pos root_pos;
	struct yaml_place *places;
	size_t nplaces, cap;
};

/* Loads a file or a buffer into doc (which the caller releases, also on error).
 * On error returns -1 and writes "NAME:LINE:COL: message" into err. */
int yaml_doc_load_file(struct yaml_doc *doc, const char *path, char *err, size_t errlen);
int yaml_doc_load_buf(struct yaml_doc *doc, const char *name, const char *data, size_t len,
		      char *err, size_t errlen);
void yaml_doc_release(struct yaml_doc *doc);

/* Where the value of member `key` of object `parent` (or element `index` of array
 * `parent` when key is NULL) starts; key_pos, when asked for, where its key does.
 * Returns 0, or -1 when the place is unknown (pos is then zeroed). */
int yaml_doc_place(const struct yaml_doc *doc, const json_t *parent, const char *key, size_t index,
		   struct yaml_pos *pos, struct yaml_pos *key_pos);

#endif
