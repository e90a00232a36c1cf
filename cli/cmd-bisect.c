/* xenci bisections / xenci bisection: see cmd-bisect.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd-bisect.h"
#include "json-util.h"
#include "tuple.h"

#define USAGE                                                                                      \
	"usage: xenci bisections [--limit N] [--json]\n"                                           \
	"       xenci bisection ID [--json]\n"                                                     \
	"       xenci bisection cancel ID      (admin)\n"                                          \
	"       xenci bisection restart ID     (admin)\n"

static void usage(FILE *f)
{
	fputs(USAGE, f);
}

static const char *short_id(const char *s)
{
	static char out[13];

	snprintf(out, sizeof(out), "%.12s", s ? s : "-");
	return out;
}

int cmd_bisections(int argc, char **argv)
{
	struct cli_table t;
	json_t *reply, *b;
	size_t i;
	int rc;

	rc = cli_list_fetch(argc, argv, USAGE, 20, 500, "/api/v1/bisections", NULL, &reply);
	if (rc != CLI_LIST_TABLE)
		return rc;
	cli_table_init(&t, 8, "ID", "STATE", "JOB", "CLASS", "BRANCH", "LEFT", "CULPRIT", "WHY");
	json_array_foreach (json_object_get(reply, "bisections"), i, b) {
		char id[24], left[24];

		snprintf(id, sizeof(id), "%lld", jint(b, "id", 0));
		cli_cell(left, sizeof(left), b, "remaining");
		cli_table_add(&t, id, jstr(b, "state", "-"), jstr(b, "job", "-"),
			      jstr(b, "class", "-"), jstr(b, "branch", "-"), left,
			      short_id(jstr(b, "culprit", NULL)), jstr(b, "reason", "-"));
	}
	cli_table_print(&t, stdout);
	json_decref(reply);
	return 0;
}

void bisection_render(struct buf *out, const json_t *b)
{
	const json_t *cul = json_object_get(b, "culprit"), *s, *r;
	size_t i, k, start = out->len;

	buf_printf(out, "bisection %lld: %s\n", jint(b, "id", 0), jstr(b, "state", "?"));
	buf_printf(out, "  job %s on class %s, branch %s of %s\n", jstr(b, "job", "?"),
		   jstr(b, "class", "?"), jstr(b, "branch", "?"), jstr(b, "tree", "?"));
	buf_printf(out, "  good %s\n  bad  %s\n", jstr(b, "good", "?"), jstr(b, "bad", "?"));
	/* several trees moved since the baseline (schema/0076) */
	if (tuple_moved_lines(out, json_object_get(b, "moved"), "  moved ") > 0)
		buf_printf(out, "  guilty %s\n", jstr(b, "guilty_tree", "no tree alone"));
	/* with trees pinned, which tree the culprit is in and where the others were */
	if (json_is_object(cul) && json_object_size(json_object_get(b, "pins")) > 1)
		buf_printf(out, "  culprit in tree %s\n", jstr(cul, "tree", jstr(b, "tree", "?")));
	if (json_is_object(cul))
		buf_printf(out, "  culprit %s %s\n          by %s\n", jstr(cul, "commit", ""),
			   jstr(cul, "subject", ""), jstr(cul, "author", "?"));
	if (json_object_size(json_object_get(b, "pins")) > 1) {
		buf_puts(out, "  pinned ");
		tuple_text(out, json_object_get(b, "pins"), 1);
		buf_puts(out, "\n");
	}
	if (jstr(b, "verdict", NULL))
		buf_printf(out, "  verdict %s: %s\n", jstr(b, "verdict", ""),
			   jstr(b, "reason", ""));
	buf_printf(out, "  evidence %s\n\n", jstr(b, "evidence", "-"));
	buf_printf(out, "  %-3s %-16s %-12s %-8s %-4s %s\n", "#", "PURPOSE", "COMMIT", "RESULT",
		   "LEFT", "RUNS");
	json_array_foreach (json_object_get(b, "steps"), i, s) {
		char left[24];

		cli_cell(left, sizeof(left), s, "remaining");
		buf_printf(out, "  %-3zu %-16s %-12s %-8s %-4s", i + 1,
			   jbool(s, "revert", 0) ? "revert" : jstr(s, "purpose", ""),
			   short_id(jstr(s, "commit", NULL)), jstr(s, "result", "-"), left);
		json_array_foreach (json_object_get(s, "runs"), k, r) {
			const char *v = json_is_string(json_object_get(r, "verdict"))
					    ? jstr(r, "verdict", "")
					    : "running";
			const char *board = jstr(r, "board", "");

			buf_printf(out, " %s%s%s", board, board[0] ? ":" : "", v);
		}
		buf_printf(out, "  %s\n", jstr(s, "subject", ""));
	}
	/* subjects, authors, reasons and evidence are anyone's text */
	if (out->data && out->len > start) {
		cli_strip_controls(out->data + start, 1);
		out->len = start + strlen(out->data + start);
	}
}

int cmd_bisection(int argc, char **argv)
{
	struct http_client c;
	json_t *reply = NULL;
	const char *sub = NULL, *idarg;
	char path[96], *end;
	long long id;
	int rc = 1, json = 0, a = 1;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "cancel") || !strcmp(argv[1], "restart")))
		sub = argv[a++];
	if (a >= argc) {
		usage(stderr);
		return 2;
	}
	idarg = argv[a++];
	if (!sub && a < argc && !strcmp(argv[a], "--json")) {
		json = 1;
		a++;
	}
	if (a != argc) {
		usage(stderr);
		return 2;
	}
	id = strtoll(idarg, &end, 10);
	if (*end || id <= 0) {
		fprintf(stderr, "xenci bisection: \"%s\" is not a bisection id\n", idarg);
		return 2;
	}
	if (cli_client(&c) < 0)
		return 1;
	if (sub) {
		snprintf(path, sizeof(path), "/api/v1/bisections/%lld/%s", id, sub);
		if (cli_send_json(&c, "POST", path, NULL, 200, &reply) < 0)
			goto out;
		printf("bisection %lld: %s\n", id, jstr(reply, "state", "?"));
		rc = 0;
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/bisections/%lld", id);
	if (cli_get_json(&c, path, &reply) < 0)
		goto out;
	if (json) {
		cli_print_json(reply);
	} else {
		struct buf out = BUF_INIT(0);

		bisection_render(&out, reply);
		fputs(buf_cstr(&out), stdout);
		buf_release(&out);
	}
	rc = 0;
out:
	json_decref(reply);
	http_client_release(&c);
	return rc;
}
