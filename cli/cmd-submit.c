/* xenci submit [--tree T] [--base REF] [--jobs A,B] [--follow] PATCH...|MBOX|-
 * sends a patch series (`git format-patch` files, an mbox, or mails as a client
 * saved them) to the controller, which applies it on the base and makes a
 * flight. The files travel as one mbox: a file that is not already one gets a
 * "From " line of its own. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd-flights.h"
#include "json-util.h"

#define SUBMIT_MAX (32 * 1024 * 1024) /* the controller's limit for one series */

static void submit_usage(FILE *f)
{
	fprintf(f, "usage: xenci submit [--url URL] [--token TOKEN] [--tree TREE] [--base REF]\n"
		   "                    [--jobs JOB,...] [--follow] PATCH...|MBOX|-\n");
}

/* Appends one file (or stdin for "-") to the mbox. */
static int add_file(struct buf *mbox, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct buf b = BUF_INIT(SUBMIT_MAX);
	char chunk[65536];
	size_t n, skip = 0;
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "xenci submit: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			fprintf(stderr, "xenci submit: %s: larger than %d MiB\n", path,
				SUBMIT_MAX >> 20);
			rc = -1;
			goto out;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "xenci submit: %s: %s\n", path, strerror(errno));
		rc = -1;
		goto out;
	}
	while (skip < b.len && (b.data[skip] == '\n' || b.data[skip] == '\r'))
		skip++;
	if (skip == b.len) {
		fprintf(stderr, "xenci submit: %s: empty file\n", path);
		rc = -1;
		goto out;
	}
	if (b.len - skip < 5 || memcmp(b.data + skip, "From ", 5))
		rc = buf_puts(mbox, "From xenci-submit Mon Sep 17 00:00:00 2001\n");
	if (rc == 0)
		rc = buf_append(mbox, b.data + skip, b.len - skip);
	if (rc == 0 && b.data[b.len - 1] != '\n')
		rc = buf_putc(mbox, '\n');
	if (rc < 0)
		fprintf(stderr, "xenci submit: the series is larger than %d MiB\n",
			SUBMIT_MAX >> 20);
out:
	if (f != stdin)
		fclose(f);
	buf_release(&b);
	return rc < 0 ? -1 : 0;
}

/* Percent-encodes a query value. */
static void query_add(struct buf *q, const char *key, const char *val)
{
	buf_printf(q, "%c%s=", q->len ? '&' : '?', key);
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if (isalnum(*p) || strchr("-._~,/", *p))
			buf_putc(q, (char)*p);
		else
			buf_printf(q, "%%%02X", *p);
	}
}

int cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},  {"token", required_argument, NULL, 't'},
	    {"tree", required_argument, NULL, 'T'}, {"base", required_argument, NULL, 'b'},
	    {"jobs", required_argument, NULL, 'j'}, {"follow", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *token = NULL, *tree = NULL, *base = NULL, *jobs = NULL;
	const char *const headers[] = {"Accept: application/json", NULL};
	struct buf mbox = BUF_INIT(SUBMIT_MAX + 4096), q = BUF_INIT(8192), path = BUF_INIT(0);
	struct http_client c;
	struct http_reply r;
	int ch, follow = 0, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:t:T:b:j:fh", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'T':
			tree = optarg;
			break;
		case 'b':
			base = optarg;
			break;
		case 'j':
			jobs = optarg;
			break;
		case 'f':
			follow = 1;
			break;
		case 'h':
			submit_usage(stdout);
			return 0;
		default:
			submit_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		submit_usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (add_file(&mbox, argv[i]) < 0)
			goto out_nohttp;
	if (tree)
		query_add(&q, "tree", tree);
	if (base)
		query_add(&q, "base", base);
	if (jobs)
		query_add(&q, "jobs", jobs);
	buf_printf(&path, "/api/v1/submissions%s", buf_cstr(&q));
	if (flights_client_open(&c, url, token) < 0)
		goto out_nohttp;
	c.retries = 0; /* a submission is not idempotent: never sent twice */
	http_reply_init(&r);
	if (http_request(&c, "POST", path.data, "application/mbox", mbox.data, mbox.len, headers,
			 &r) < 0) {
		fprintf(stderr, "xenci submit: %s: %s\n", c.base, r.error);
	} else if (r.status != 201 || r.json == NULL) {
		const json_t *d = json_object_get(r.json, "detail");

		fprintf(stderr, "xenci submit: %s\n", r.error[0] ? r.error : "unexpected reply");
		if (json_is_string(d))
			fprintf(stderr, "  %s\n", json_string_value(d));
		else if (json_is_object(d) && jstr(d, "message", NULL))
			fprintf(stderr, "  %s\n", jstr(d, "message", ""));
	} else {
		const json_t *p;
		size_t i;

		printf("submission %lld: flight %lld on %.12s (%s)\n",
		       jint(r.json, "submission", 0), jint(r.json, "flight", 0),
		       jstr(r.json, "commit", ""), jstr(r.json, "ref", ""));
		json_array_foreach (json_object_get(r.json, "patches"), i, p)
			printf("  %.12s %s\n", jstr(p, "commit", ""), jstr(p, "subject", ""));
		fflush(stdout);
		rc = 0;
		if (follow)
			rc = flight_follow(&c, jint(r.json, "flight", 0), stdout,
					   isatty(STDOUT_FILENO), 500);
	}
	http_reply_release(&r);
	http_client_release(&c);
out_nohttp:
	buf_release(&mbox);
	buf_release(&q);
	buf_release(&path);
	return rc;
}
