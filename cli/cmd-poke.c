/* xenci poke [--tree TREE] BRANCH: makes the controller look at a watched branch
 * now rather than at its next poll; prints what changed and the flight made. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd-flights.h"
#include "json-util.h"

static void poke_usage(FILE *f)
{
	fprintf(f, "usage: xenci poke [--url URL] [--token TOKEN] [--tree TREE] BRANCH\n");
}

int cmd_poke(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 't'},
	    {"tree", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *token = NULL, *tree = NULL;
	struct http_client c;
	struct http_reply r;
	json_t *body;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:t:T:h", opts, NULL)) != -1) {
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
		case 'h':
			poke_usage(stdout);
			return 0;
		default:
			poke_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		poke_usage(stderr);
		return 2;
	}
	if (flights_client_open(&c, url, token) < 0)
		return 1;
	body = json_pack("{s:s}", "branch", argv[optind]);
	if (tree)
		json_object_set_new(body, "tree", json_string(tree));
	http_reply_init(&r);
	if (http_json(&c, "POST", "/api/v1/poke", body, &r) < 0) {
		fprintf(stderr, "xenci poke: %s: %s\n", c.base, r.error);
	} else if (r.status != 200) {
		fprintf(stderr, "xenci poke: %s\n", r.error[0] ? r.error : "unexpected reply");
	} else {
		const char *change = jstr(r.json, "change", "?");

		if (!strcmp(change, "same"))
			printf("%s: no change (%.12s)\n", argv[optind], jstr(r.json, "commit", ""));
		else if (jint(r.json, "flight", 0) > 0)
			printf("%s: %s %.12s, flight %lld\n", argv[optind], change,
			       jstr(r.json, "commit", ""), jint(r.json, "flight", 0));
		else
			printf("%s: %s %.12s\n", argv[optind], change, jstr(r.json, "commit", ""));
		rc = 0;
	}
	json_decref(body);
	http_reply_release(&r);
	http_client_release(&c);
	return rc;
}
