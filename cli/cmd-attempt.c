/* xenci attempt show ID [--json] | log ID [--follow] | cancel ID */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json-util.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: xenci attempt show ID [--json]\n"
		   "       xenci attempt log ID [--follow]\n"
		   "       xenci attempt cancel ID        (admin)\n");
}

static int attempt_show(struct http_client *c, long long id, int json)
{
	struct cli_table t;
	json_t *a = NULL, *v;
	char path[64], cell[6][128];
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	if (cli_get_json(c, path, &a) < 0)
		return 1;
	if (json) {
		cli_print_json(a);
		json_decref(a);
		return 0;
	}
	cli_cell(cell[0], sizeof(cell[0]), a, "kind");
	cli_cell(cell[1], sizeof(cell[1]), a, "job");
	cli_cell(cell[2], sizeof(cell[2]), a, "board");
	cli_cell(cell[3], sizeof(cell[3]), a, "state");
	cli_cell(cell[4], sizeof(cell[4]), a, "reason");
	cli_cell(cell[5], sizeof(cell[5]), a, "flight");
	printf("attempt %lld: %s %s on %s, flight %s, try %lld: %s (%s)\n", id, cell[0], cell[1],
	       cell[2], cell[5], jint(a, "number", 0), cell[3], cell[4]);
	if (json_array_size(json_object_get(a, "stages"))) {
		cli_table_init(&t, 3, "STAGE", "RESULT", "SECONDS");
		json_array_foreach (json_object_get(a, "stages"), i, v) {
			cli_cell(cell[0], sizeof(cell[0]), v, "name");
			cli_cell(cell[1], sizeof(cell[1]), v, "result");
			cli_cell(cell[2], sizeof(cell[2]), v, "seconds");
			cli_table_add(&t, cell[0], cell[1], cell[2]);
		}
		cli_table_print(&t, stdout);
	}
	if (json_array_size(json_object_get(a, "testcases"))) {
		cli_table_init(&t, 2, "TESTCASE", "RESULT");
		json_array_foreach (json_object_get(a, "testcases"), i, v) {
			cli_cell(cell[0], sizeof(cell[0]), v, "name");
			cli_cell(cell[1], sizeof(cell[1]), v, "result");
			cli_table_add(&t, cell[0], cell[1]);
		}
		cli_table_print(&t, stdout);
	}
	json_decref(a);
	return 0;
}

/* Prints the log from offset on; with follow, keeps long-polling until the
 * attempt has ended and every byte was printed. */
static int attempt_log(struct http_client *c, long long id, int follow)
{
	struct http_reply r;
	char path[128];
	long long offset = 0;
	int done = 0, rc = 0;

	http_reply_init(&r);
	do {
		json_t *a = NULL;

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=%lld&wait_ms=%d", id,
			 offset, follow ? 25000 : 0);
		if (http_request(c, "GET", path, NULL, NULL, 0, NULL, &r) < 0 || r.status != 200) {
			fprintf(stderr, "xenci: %s: %ld %s\n", path, r.status, r.error);
			rc = 1;
			break;
		}
		fwrite(r.body.data ? r.body.data : "", 1, r.body.len, stdout);
		fflush(stdout);
		offset += (long long)r.body.len;
		if (!follow || r.body.len)
			continue;
		/* Nothing new: has it ended? One more read then catches the last bytes. */
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
		if (cli_get_json(c, path, &a) < 0) {
			rc = 1;
			break;
		}
		if (cli_state_final(jstr(a, "state", "")) && jint(a, "log_length", 0) <= offset)
			done = 1;
		json_decref(a);
	} while (follow && !done);
	http_reply_release(&r);
	return rc;
}

int cmd_attempt(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_client c;
	const char *sub;
	long long id;
	char path[96];
	int ch, follow = 0, json = 0, rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = 1;
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (cli_id_parse(&id, argv[optind], "attempt", "an attempt id") < 0)
		return 2;
	if (cli_client(&c) < 0)
		return 1;
	if (!strcmp(sub, "show")) {
		rc = attempt_show(&c, id, json);
	} else if (!strcmp(sub, "log")) {
		c.timeout_ms = 40000;
		rc = attempt_log(&c, id, follow);
	} else if (!strcmp(sub, "cancel")) {
		json_t *reply = NULL;

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/cancel", id);
		rc = cli_send_json(&c, "POST", path, NULL, 200, &reply) < 0 ? 1 : 0;
		json_decref(reply);
	} else {
		usage(stderr);
		rc = 2;
	}
	http_client_release(&c);
	return rc;
}
