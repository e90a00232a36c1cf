#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "validate.h"
#include "xmalloc.h"
#include "yaml-load.h"

static const struct vfield config_fields[] = {
    {.name = "url", .type = V_STRING, .min = 1, .max = 1024, .help = "controller URL"},
    {.name = "token", .type = V_STRING, .min = 1, .max = 128, .help = "bearer token"},
    {.name = NULL},
};

int cli_config_env(void)
{
	const char *path = getenv("XENCI_CONFIG"), *home = getenv("HOME");
	char def[1024], err[512];
	struct yaml_doc doc;
	struct vctx ctx;
	int rc = -1;

	if (getenv("XENCI_URL") && getenv("XENCI_TOKEN"))
		return 0;
	if (path == NULL) {
		if (home == NULL)
			return 0;
		snprintf(def, sizeof(def), "%s/.config/xenci/config.yaml", home);
		path = def;
		if (access(path, R_OK) < 0)
			return 0;
	}
	memset(&doc, 0, sizeof(doc));
	vctx_init(&ctx, path, &doc);
	if (yaml_doc_load_file(&doc, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenci: %s\n", err);
		goto out;
	}
	if (validate_root(&ctx, config_fields, doc.root) < 0) {
		fprintf(stderr, "%s", buf_cstr(&ctx.text));
		goto out;
	}
	if (!getenv("XENCI_URL") && jstr(doc.root, "url", NULL))
		setenv("XENCI_URL", jstr(doc.root, "url", NULL), 1);
	if (!getenv("XENCI_TOKEN") && jstr(doc.root, "token", NULL))
		setenv("XENCI_TOKEN", jstr(doc.root, "token", NULL), 1);
	rc = 0;
out:
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return rc;
}

int cli_client(struct http_client *c)
{
	const char *url = getenv("XENCI_URL"), *token = getenv("XENCI_TOKEN");

	if (url == NULL || *url == '\0')
		url = "http://127.0.0.1:8080";
	if (http_client_init(c, url, token && *token ? token : NULL) < 0)
		return -ENOMEM;
	c->retries = 2;
	return 0;
}

static int report(struct http_reply *r, const char *method, const char *path)
{
	if (r->status == 0)
		fprintf(stderr, "xenci: %s %s: %s\n", method, path, r->error);
	else
		fprintf(stderr, "xenci: %s %s: %ld %s%s%s\n", method, path, r->status, r->error,
			json_is_string(json_object_get(r->json, "detail")) ? ": " : "",
			json_is_string(json_object_get(r->json, "detail"))
			    ? json_string_value(json_object_get(r->json, "detail"))
			    : "");
	return -1;
}

int cli_get_json(struct http_client *c, const char *path, json_t **out)
{
	return cli_send_json(c, "GET", path, NULL, 200, out);
}

int cli_send_json(struct http_client *c, const char *method, const char *path, const json_t *body,
		  long want, json_t **out)
{
	struct http_reply r;
	int rc = 0;

	*out = NULL;
	http_reply_init(&r);
	if (http_json(c, method, path, body, &r) < 0 || r.status != want || r.json == NULL)
		rc = report(&r, method, path);
	else
		*out = json_incref(r.json);
	http_reply_release(&r);
	return rc;
}

void cli_table_init(struct cli_table *t, int ncols, ...)
{
	json_t *head = json_array();
	va_list ap;
	int i;

	t->ncols = ncols;
	t->rows = json_array();
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		json_array_append_new(head, json_string(va_arg(ap, const char *)));
	va_end(ap);
	json_array_append_new(t->rows, head);
}

void cli_table_add(struct cli_table *t, ...)
{
	json_t *row = json_array();
	va_list ap;
	int i;

	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		char *safe = xstrdup(s ? s : "-");
		json_t *v;

		cli_strip_controls(safe, 0);
		v = json_string(safe);
		free(safe);
		json_array_append_new(row, v ? v : json_string("?"));
	}
	va_end(ap);
	json_array_append_new(t->rows, row);
}

void cli_table_print(struct cli_table *t, FILE *out)
{
	size_t width[32] = {0}, i;
	json_t *row;
	int c;

	json_array_foreach (t->rows, i, row)
		for (c = 0; c < t->ncols && c < 32; c++)
			if (json_string_length(json_array_get(row, c)) > width[c])
				width[c] = json_string_length(json_array_get(row, c));
	json_array_foreach (t->rows, i, row) {
		for (c = 0; c < t->ncols && c < 32; c++) {
			const char *s = json_string_value(json_array_get(row, c));

			if (c == t->ncols - 1)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%-*s  ", (int)width[c], s);
		}
	}
	json_decref(t->rows);
	t->rows = NULL;
}

void cli_cell(char *out, size_t n, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	size_t i;

	if (json_is_string(v))
		snprintf(out, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, n, "%.1f", json_real_value(v));
	else if (json_is_true(v))
		snprintf(out, n, "yes");
	else if (json_is_false(v))
		snprintf(out, n, "no");
	else if (json_is_array(v)) {
		json_t *e;

		out[0] = '\0';
		json_array_foreach (v, i, e)
			if (json_is_string(e) && strlen(out) + json_string_length(e) + 2 < n) {
				if (i)
					strcat(out, ",");
				strcat(out, json_string_value(e));
			}
		if (out[0] == '\0')
			snprintf(out, n, "-");
	} else
		snprintf(out, n, "-");
	cli_strip_controls(out, 0);
}

void cli_strip_controls(char *s, int keep_newlines)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i], d = (unsigned char)s[i + 1];

		if (c == 0xc2 && d >= 0x80 && d <= 0x9f) {
			s[i] = '?';
			memmove(s + i + 1, s + i + 2, strlen(s + i + 2) + 1);
		} else if ((c < 0x20 && !(keep_newlines && c == '\n')) || c == 0x7f) {
			s[i] = '?';
		}
	}
}

void cli_print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
}

int cli_list_fetch(int argc, char **argv, const char *usage, long def_limit, long max_limit,
		   const char *path, const char *member, json_t **reply)
{
	static const struct option opts[] = {
	    {"limit", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_client c;
	char url[256], *end;
	long limit = def_limit;
	int ch, json = 0, rc;

	*reply = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'J') {
			json = 1;
		} else if (ch == 'l' && max_limit > 0) {
			limit = strtol(optarg, &end, 10);
			if (*end || limit < 1 || limit > max_limit) {
				fprintf(stderr, "xenci %s: --limit takes 1..%ld\n", argv[0],
					max_limit);
				return 2;
			}
		} else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (max_limit > 0)
		snprintf(url, sizeof(url), "%s?limit=%ld", path, limit);
	else
		snprintf(url, sizeof(url), "%s", path);
	if (cli_client(&c) < 0)
		return 1;
	rc = cli_get_json(&c, url, reply) < 0 ? 1 : CLI_LIST_TABLE;
	http_client_release(&c);
	if (rc == CLI_LIST_TABLE && json) {
		cli_print_json(member ? json_object_get(*reply, member) : *reply);
		json_decref(*reply);
		*reply = NULL;
		rc = 0;
	}
	return rc;
}

int cli_state_final(const char *s)
{
	static const char *const finals[] = {"pass",	  "fail",    "infra",	"timeout",
					     "cancelled", "starved", "refused", NULL};

	for (size_t i = 0; finals[i]; i++)
		if (!strcmp(s, finals[i]))
			return 1;
	return 0;
}

int cli_id_parse(long long *id, const char *s, const char *cmd, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v <= 0) {
		fprintf(stderr, "xenci %s: \"%s\" is not %s\n", cmd, s, what);
		return -EINVAL;
	}
	*id = v;
	return 0;
}
