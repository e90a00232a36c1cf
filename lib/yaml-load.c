#include "yaml-load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "xmalloc.h"

struct yaml_place {
	const json_t *parent;
	char *key; /* NULL for array elements */
	size_t index;
	struct yaml_pos pos;
	struct yaml_pos key_pos;
};

struct loader {
	yaml_parser_t parser;
	struct yaml_doc *doc;
	char *err;
	size_t errlen;
	size_t nodes;
	int failed;
};

static void loader_error(struct loader *l, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void loader_error(struct loader *l, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (l->failed)
		return;
	l->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s:%d:%d: %s", l->doc->name, line, col, msg);
}

static struct yaml_pos mark_pos(const yaml_mark_t *m)
{
	struct yaml_pos p = {(int)m->line + 1, (int)m->column + 1};

	return p;
}

static void place_add(struct yaml_doc *doc, const json_t *parent, const char *key, size_t index,
		      struct yaml_pos pos, struct yaml_pos key_pos)
{
	struct yaml_place *p;

	if (doc->nplaces == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 32;
		doc->places = xrealloc(doc->places, doc->cap * sizeof(*doc->places));
	}
	p = &doc->places[doc->nplaces++];
	p->parent = parent;
	p->key = key ? xstrdup(key) : NULL;
	p->index = index;
	p->pos = pos;
	p->key_pos = key_pos;
}

static int next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		const yaml_mark_t *m = &l->parser.problem_mark;

		loader_error(l, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s%s%s",
			     l->parser.problem ? l->parser.problem : "unknown problem",
			     l->parser.context ? " " : "",
			     l->parser.context ? l->parser.context : "");
		return -1;
	}
	return 0;
}

/* YAML 1.2 core schema typing of a plain scalar. */
static json_t *scalar_value(const char *s, size_t len, int plain)
{
	char *end;

	if (!plain)
		return json_stringn(s, len);
	if (len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (strspn(s, "+-0123456789") == len && len < 20 && strpbrk(s, "0123456789")) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(v);
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o') && len < 20) {
		long long v;

		errno = 0;
		v = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
		if (errno == 0 && *end == '\0' && end != s + 2)
			return json_integer(v);
	}
	if (strspn(s, "+-0123456789.eE") == len && strpbrk(s, "0123456789") && strpbrk(s, ".eE")) {
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (errno == 0 && *end == '\0')
			return json_real(d);
	}
	return json_stringn(s, len);
}

static json_t *parse_node(struct loader *l, yaml_event_t *ev, int depth);

/* Parses the members of a mapping whose start event was consumed. */
static json_t *parse_mapping(struct loader *l, int depth)
{
	json_t *obj = json_object();
	yaml_event_t ev;

	for (;;) {
		struct yaml_pos kpos, vpos;
		json_t *val;
		char *key;

		if (next_event(l, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return obj;
		}
		kpos = mark_pos(&ev.start_mark);
		if (ev.type != YAML_SCALAR_EVENT) {
			loader_error(l, kpos.line, kpos.col, "mapping keys must be plain strings");
			yaml_event_delete(&ev);
			goto fail;
		}
		key = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		if (strlen(key) == 0 || json_object_get(obj, key)) {
			if (strlen(key))
				loader_error(l, kpos.line, kpos.col, "duplicate key \"%s\"", key);
			else
				loader_error(l, kpos.line, kpos.col, "empty key");
			free(key);
			goto fail;
		}
		if (next_event(l, &ev) < 0) {
			free(key);
			goto fail;
		}
		vpos = mark_pos(&ev.start_mark);
		val = parse_node(l, &ev, depth + 1);
		if (val == NULL) {
			free(key);
			goto fail;
		}
		json_object_set_new(obj, key, val);
		place_add(l->doc, obj, key, 0, vpos, kpos);
		free(key);
	}
fail:
	json_decref(obj);
	return NULL;
}

static json_t *parse_sequence(struct loader *l, int depth)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	for (;;) {
		struct yaml_pos vpos;
		json_t *val;

		if (next_event(l, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		vpos = mark_pos(&ev.start_mark);
		val = parse_node(l, &ev, depth + 1);
		if (val == NULL)
			goto fail;
		place_add(l->doc, arr, NULL, json_array_size(arr), vpos, vpos);
		json_array_append_new(arr, val);
	}
fail:
	json_decref(arr);
	return NULL;
}

/* Turns the node that starts with ev (consumed here) into JSON. */
static json_t *parse_node(struct loader *l, yaml_event_t *ev, int depth)
{
	struct yaml_pos pos = mark_pos(&ev->start_mark);
	yaml_event_type_t type = ev->type;
	json_t *v = NULL;

	if (++l->nodes > YAML_MAX_NODES) {
		loader_error(l, pos.line, pos.col, "too many nodes (at most %d)", YAML_MAX_NODES);
		goto out;
	}
	if (depth > YAML_MAX_DEPTH) {
		loader_error(l, pos.line, pos.col, "nested too deep (at most %d levels)",
			     YAML_MAX_DEPTH);
		goto out;
	}
	switch (type) {
	case YAML_SCALAR_EVENT: {
		const char *tag = (const char *)ev->data.scalar.tag;
		int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

		if (tag && !strcmp(tag, YAML_STR_TAG))
			plain = 0;
		v = scalar_value((const char *)ev->data.scalar.value, ev->data.scalar.length,
				 plain);
		break;
	}
	case YAML_MAPPING_START_EVENT:
		yaml_event_delete(ev);
		return parse_mapping(l, depth);
	case YAML_SEQUENCE_START_EVENT:
		yaml_event_delete(ev);
		return parse_sequence(l, depth);
	case YAML_ALIAS_EVENT:
		loader_error(l, pos.line, pos.col, "aliases (*name) are not supported");
		break;
	default:
		loader_error(l, pos.line, pos.col, "unexpected YAML event");
		break;
	}
out:
	yaml_event_delete(ev);
	return v;
}

int yaml_doc_load_buf(struct yaml_doc *doc, const char *name, const char *data, size_t len,
		      char *err, size_t errlen)
{
	struct loader l;
	yaml_event_t ev;
	int rc = -1;

	memset(doc, 0, sizeof(*doc));
	doc->name = xstrdup(name);
	memset(&l, 0, sizeof(l));
	l.doc = doc;
	l.err = err;
	l.errlen = errlen;
	if (errlen)
		err[0] = '\0';
	if (len > YAML_MAX_SIZE) {
		loader_error(&l, 1, 1, "file too large (%zu bytes, at most %d)", len,
			     YAML_MAX_SIZE);
		return -1;
	}
	if (!yaml_parser_initialize(&l.parser)) {
		loader_error(&l, 1, 1, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)data, len);

	/* stream start, then a document start (or an empty stream) */
	if (next_event(&l, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&l, &ev) < 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		doc->root = json_null();
		doc->root_pos.line = 1;
		doc->root_pos.col = 1;
		rc = 0;
		goto out;
	}
	yaml_event_delete(&ev);
	if (next_event(&l, &ev) < 0)
		goto out;
	doc->root_pos = mark_pos(&ev.start_mark);
	doc->root = parse_node(&l, &ev, 0);
	if (doc->root == NULL)
		goto out;
	if (next_event(&l, &ev) < 0) /* document end */
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&l, &ev) < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		struct yaml_pos p = mark_pos(&ev.start_mark);

		loader_error(&l, p.line, p.col, "only one YAML document per file");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	rc = 0;
out:
	yaml_parser_delete(&l.parser);
	return rc;
}

int yaml_doc_load_file(struct yaml_doc *doc, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0;
	int rc = -1;

	memset(doc, 0, sizeof(*doc));
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		doc->name = xstrdup(path);
		return -1;
	}
	data = xmalloc(YAML_MAX_SIZE + 1);
	len = fread(data, 1, YAML_MAX_SIZE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		doc->name = xstrdup(path);
		goto out;
	}
	rc = yaml_doc_load_buf(doc, path, data, len, err, errlen);
out:
	free(data);
	fclose(f);
	return rc;
}

void yaml_doc_release(struct yaml_doc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->nplaces; i++)
		free(doc->places[i].key);
	free(doc->places);
	free(doc->name);
	json_decref(doc->root);
	memset(doc, 0, sizeof(*doc));
}

int yaml_doc_place(const struct yaml_doc *doc, const json_t *parent, const char *key, size_t index,
		   struct yaml_pos *pos, struct yaml_pos *key_pos)
{
	size_t i;

	for (i = 0; doc && i < doc->nplaces; i++) {
		const struct yaml_place *p = &doc->places[i];

		if (p->parent != parent)
			continue;
		if (key ? (p->key && !strcmp(p->key, key)) : (!p->key && p->index == index)) {
			if (pos)
				*pos = p->pos;
			if (key_pos)
				*key_pos = p->key_pos;
			return 0;
		}
	}
	if (pos)
		pos->line = pos->col = 0;
	if (key_pos)
		key_pos->line = key_pos->col = 0;
	return -1;
}
