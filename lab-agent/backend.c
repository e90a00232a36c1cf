#include "backend.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

static const struct backend_head *head(const void *entry)
{
	return entry;
}

const void *backend_find(const void *const *table, const char *name)
{
	size_t i;

	for (i = 0; table[i]; i++)
		if (!strcmp(head(table[i])->name, name))
			return table[i];
	return NULL;
}

int backend_section_check(const void *const *table, struct vctx *ctx, const json_t *parent,
			  const char *key, const json_t *value, const char *path)
{
	const json_t *be = json_object_get(value, "backend");
	const void *ops;
	char p[256];
	size_t i;

	snprintf(p, sizeof(p), "%s.backend", path);
	if (be == NULL) {
		vctx_error(ctx, parent, key, 0, path, "missing required field \"backend\"");
		return -1;
	}
	if (!json_is_string(be) || (ops = backend_find(table, json_string_value(be))) == NULL) {
		struct buf known = BUF_INIT(0);

		for (i = 0; table[i]; i++)
			buf_printf(&known, "%s%s", i ? ", " : "", head(table[i])->name);
		vctx_error(ctx, value, "backend", 0, p, "unknown backend \"%s\" (known: %s)",
			   json_is_string(be) ? json_string_value(be) : "?", buf_cstr(&known));
		buf_release(&known);
		return -1;
	}
	return validate_object(ctx, head(ops)->fields, parent, key, 0, value, path);
}
