#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vctx_init(struct vctx *ctx, const char *file, const struct yaml_doc *doc)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->file = file;
	ctx->doc = doc;
	buf_init(&ctx->text, 0);
	ctx->errors = json_array();
}

void vctx_release(struct vctx *ctx)
{
	if (ctx == NULL)
		return;
	buf_release(&ctx->text);
	json_decref(ctx->errors);
	ctx->errors = NULL;
}

/* at_key: point at the member's key rather than at its value. */
static void vctx_report(struct vctx *ctx, const json_t *parent, const char *key, size_t index,
			int at_key, const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

static void vctx_report(struct vctx *ctx, const json_t *parent, const char *key, size_t index,
			int at_key, const char *path, const char *fmt, va_list ap)
{
	struct yaml_pos pos = {0, 0}, kpos = {0, 0};
	char msg[1024];
	json_t *e;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (ctx->doc) {
		if (parent == NULL)
			pos = ctx->doc->root_pos;
		else
			yaml_doc_place(ctx->doc, parent, key, index, &pos, &kpos);
		if (at_key && kpos.line)
			pos = kpos;
	}
	ctx->count++;
	if (ctx->file && pos.line)
		buf_printf(&ctx->text, "%s:%d:%d: ", ctx->file, pos.line, pos.col);
	else if (ctx->file)
		buf_printf(&ctx->text, "%s: ", ctx->file);
	buf_printf(&ctx->text, "%s%s%s\n", path && *path ? path : "", path && *path ? ": " : "",
		   msg);
	e = json_pack("{s:s, s:s}", "path", path ? path : "", "message", msg);
	if (pos.line) {
		json_object_set_new(e, "line", json_integer(pos.line));
		json_object_set_new(e, "col", json_integer(pos.col));
	}
	json_array_append_new(ctx->errors, e);
}

void vctx_error(struct vctx *ctx, const json_t *parent, const char *key, size_t index,
		const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vctx_report(ctx, parent, key, index, 0, path, fmt, ap);
	va_end(ap);
}

static void vctx_error_key(struct vctx *ctx, const json_t *parent, const char *key,
			   const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void vctx_error_key(struct vctx *ctx, const json_t *parent, const char *key,
			   const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vctx_report(ctx, parent, key, 0, 1, path, fmt, ap);
	va_end(ap);
}

const char *vtype_name(enum vtype t)
{
	switch (t) {
	case V_STRING:
		return "a string";
	case V_INT:
		return "an integer";
	case V_BOOL:
		return "true or false";
	case V_NUMBER:
		return "a number";
	case V_OBJECT:
		return "a mapping";
	case V_ARRAY:
		return "a list";
	case V_ANY:
		break;
	}
	return "a value";
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "empty (null)";
	}
	return "a value";
}

static int type_ok(enum vtype t, const json_t *v)
{
	switch (t) {
	case V_ANY:
		return 1;
	case V_STRING:
		return json_is_string(v);
	case V_INT:
		return json_is_integer(v);
	case V_BOOL:
		return json_is_boolean(v);
	case V_NUMBER:
		return json_is_number(v);
	case V_OBJECT:
		return json_is_object(v);
	case V_ARRAY:
		return json_is_array(v);
	}
	return 0;
}

void vchoices_join(struct buf *out, const char *const *choices)
{
	size_t i;

	for (i = 0; choices && choices[i]; i++)
		buf_printf(out, "%s%s", i ? ", " : "", choices[i]);
}

static int in_choices(const char *s, const char *const *choices)
{
	size_t i;

	for (i = 0; choices[i]; i++)
		if (!strcmp(s, choices[i]))
			return 1;
	return 0;
}

static void join_path(char *out, size_t len, const char *prefix, const char *name)
{
	int n;

	if (prefix && *prefix)
		n = snprintf(out, len, "%s.%s", prefix, name);
	else
		n = snprintf(out, len, "%s", name);
	if (n < 0 || (size_t)n >= len)
		out[len - 1] = '\0'; /* a path that long is cut */
}

static int validate_scalar(struct vctx *ctx, const struct vfield *f, enum vtype type,
			   const json_t *parent, const char *key, size_t index, const json_t *v,
			   const char *path)
{
	if (!type_ok(type, v)) {
		vctx_error(ctx, parent, key, index, path, "must be %s, not %s", vtype_name(type),
			   json_kind(v));
		return -1;
	}
	if (type == V_STRING) {
		const char *s = json_string_value(v);

		if (f->choices && !in_choices(s, f->choices)) {
			struct buf known = BUF_INIT(0);

			vchoices_join(&known, f->choices);
			vctx_error(ctx, parent, key, index, path, "unknown %s \"%s\" (known: %s)",
				   f->name, s, buf_cstr(&known));
			buf_release(&known);
			return -1;
		}
		if (f->type == V_STRING && f->min && (long long)json_string_length(v) < f->min) {
			vctx_error(ctx, parent, key, index, path, "must not be empty");
			return -1;
		}
		if (f->type == V_STRING && f->max && (long long)json_string_length(v) > f->max) {
			vctx_error(ctx, parent, key, index, path,
				   "too long (%zu characters, at most %lld)", json_string_length(v),
				   f->max);
			return -1;
		}
	}
	if (type == V_INT && (f->min || f->max)) {
		long long n = json_integer_value(v);

		if (n < f->min || n > f->max) {
			vctx_error(ctx, parent, key, index, path,
				   "%lld is out of range (%lld to %lld)", n, f->min, f->max);
			return -1;
		}
	}
	return 0;
}

/* V_EACH: every member of the mapping v is a mapping of f->fields. */
static int validate_each(struct vctx *ctx, const struct vfield *f, const json_t *v,
			 const char *path)
{
	const char *k;
	json_t *m;
	int rc = 0;

	json_object_foreach ((json_t *)v, k, m) {
		char p[512];

		join_path(p, sizeof(p), path, k);
		if (!json_is_object(m)) {
			vctx_error(ctx, v, k, 0, p, "must be a mapping, not %s", json_kind(m));
			rc = -1;
		} else if (validate_object(ctx, f->fields, v, k, 0, m, p) < 0) {
			rc = -1;
		}
	}
	return rc;
}

static int validate_field(struct vctx *ctx, const struct vfield *f, const json_t *parent,
			  const char *key, const json_t *v, const char *path)
{
	int rc = 0;

	if (f->type == V_OBJECT) {
		if (!json_is_object(v)) {
			vctx_error(ctx, parent, key, 0, path, "must be a mapping, not %s",
				   json_kind(v));
			return -1;
		}
		if (f->flags & V_EACH)
			rc = validate_each(ctx, f, v, path);
		else
			rc = validate_object(ctx, f->fields, parent, key, 0, v, path);
	} else if (f->type == V_ARRAY) {
		size_t i;
		json_t *item;

		if (!json_is_array(v)) {
			vctx_error(ctx, parent, key, 0, path, "must be a list, not %s",
				   json_kind(v));
			return -1;
		}
		if (f->max && (long long)json_array_size(v) > f->max) {
			vctx_error(ctx, parent, key, 0, path,
				   "too many entries (%zu, at most %lld)", json_array_size(v),
				   f->max);
			return -1;
		}
		json_array_foreach (v, i, item) {
			char ipath[512];

			if (snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i) >=
			    (int)sizeof(ipath))
				ipath[sizeof(ipath) - 1] = '\0'; /* a path that long is cut */
			if (f->items == V_OBJECT) {
				if (!json_is_object(item)) {
					vctx_error(ctx, v, NULL, i, ipath,
						   "must be a mapping, not %s", json_kind(item));
					rc = -1;
				} else if (validate_object(ctx, f->fields, v, NULL, i, item,
							   ipath) < 0) {
					rc = -1;
				}
			} else if (validate_scalar(ctx, f, f->items, v, NULL, i, item, ipath) < 0) {
				rc = -1;
			}
		}
	} else {
		rc = validate_scalar(ctx, f, f->type, parent, key, 0, v, path);
	}
	if (rc == 0 && f->check)
		rc = f->check(ctx, parent, key, v, path);
	return rc;
}

int validate_object(struct vctx *ctx, const struct vfield *fields, const json_t *parent,
		    const char *key, size_t index, const json_t *obj, const char *path)
{
	const struct vfield *f;
	const char *k;
	json_t *v;
	int rc = 0, open = 0;

	for (f = fields; f && f->name; f++)
		if (f->flags & V_OPEN)
			open = 1;
	/* unknown members first: they are usually typos of the names below */
	json_object_foreach ((json_t *)obj, k, v) {
		char p[512];

		for (f = fields; f && f->name; f++)
			if (!strcmp(f->name, k))
				break;
		if (f && f->name)
			continue;
		if (open || fields == NULL)
			continue;
		join_path(p, sizeof(p), path, k);
		{
			struct buf known = BUF_INIT(0);
			const struct vfield *g;
			size_t n = 0;

			for (g = fields; g->name; g++)
				buf_printf(&known, "%s%s", n++ ? ", " : "", g->name);
			vctx_error_key(ctx, obj, k, p, "unknown field (known: %s)",
				       buf_cstr(&known));
			buf_release(&known);
		}
		rc = -1;
	}
	for (f = fields; f && f->name; f++) {
		char p[512];

		join_path(p, sizeof(p), path, f->name);
		v = json_object_get(obj, f->name);
		if (v == NULL) {
			if (f->flags & V_REQUIRED) {
				vctx_error(ctx, parent, key, index, path && *path ? path : NULL,
					   "missing required field \"%s\"%s%s%s", f->name,
					   f->help ? " (" : "", f->help ? f->help : "",
					   f->help ? ")" : "");
				rc = -1;
			}
			continue;
		}
		if (validate_field(ctx, f, obj, f->name, v, p) < 0)
			rc = -1;
	}
	return rc;
}

int validate_root(struct vctx *ctx, const struct vfield *fields, const json_t *root)
{
	if (!json_is_object(root)) {
		vctx_error(ctx, NULL, NULL, 0, NULL, "the document must be a mapping, not %s",
			   root ? json_kind(root) : "empty");
		return -1;
	}
	return validate_object(ctx, fields, NULL, NULL, 0, root, "");
}
