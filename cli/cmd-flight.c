/* xenci flight N [--junit FILE] [--json]: a flight's per-board table, its JSON,
 * or its JUnit XML for other CI systems. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd-flights.h"
#include "json-util.h"
#include "junit.h"

static void flight_usage(FILE *f)
{
	fprintf(f, "usage: xenci flight [--url URL] [--token TOKEN] [--junit FILE] [--json] N\n");
}

/* Writes data to path through a temporary file and a rename: a reader never
 * sees half a report. */
static int write_file(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		remove(tmp);
		return -EIO;
	}
	return rename(tmp, path) < 0 ? -errno : 0;
}

int cmd_flight(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},   {"token", required_argument, NULL, 't'},
	    {"junit", required_argument, NULL, 'j'}, {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *token = NULL, *junit = NULL;
	struct http_client c;
	struct http_reply r;
	char path[64];
	long long id;
	int ch, json = 0, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:t:j:Jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'j':
			junit = optarg;
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			flight_usage(stdout);
			return 0;
		default:
			flight_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		flight_usage(stderr);
		return 2;
	}
	if (cli_id_parse(&id, argv[optind], "flight", "a flight number") < 0)
		return 2;
	if (flights_client_open(&c, url, token) < 0)
		return 1;
	http_reply_init(&r);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	if (http_json(&c, "GET", path, NULL, &r) < 0) {
		fprintf(stderr, "xenci flight: %s: %s\n", c.base, r.error);
		goto out;
	}
	if (r.status != 200 || r.json == NULL) {
		fprintf(stderr, "xenci flight: %lld: %s\n", id,
			r.error[0] ? r.error : "unexpected reply");
		goto out;
	}
	if (junit) {
		struct buf x = BUF_INIT(0);
		int w;

		junit_render(&x, r.json, c.base);
		w = write_file(junit, x.data, x.len);
		buf_release(&x);
		if (w < 0) {
			fprintf(stderr, "xenci flight: %s: %s\n", junit, strerror(-w));
			goto out;
		}
	}
	if (json) {
		char *s = json_dumps(r.json, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", s);
		free(s);
	} else if (junit == NULL || strcmp(junit, "-")) {
		struct buf b = BUF_INIT(0);

		follow_render(&b, r.json, (double)time(NULL), 1, c.base);
		fputs(buf_cstr(&b), stdout);
		buf_release(&b);
	}
	rc = 0;
out:
	http_reply_release(&r);
	http_client_release(&c);
	return rc;
}
