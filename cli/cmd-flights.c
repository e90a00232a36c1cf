/* xenci flights [--limit N] [--json]: recent flights.
 * xenci flights create --tree T --commit SHA [--job NAME]... [--priority P] [--kind K]
 *                      [--ref REF] [--json]: a flight (user or admin token). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json-util.h"

#define USAGE                                                                                      \
	"usage: xenci flights [--limit N] [--json]\n"                                              \
	"       xenci flights create --tree T --commit SHA [--job NAME]...\n"                      \
	"                            [--priority gate|bisect|submission|background]\n"             \
	"                            [--kind push|submission|bisect|manual] [--ref REF] "          \
	"[--json]\n"

static void usage(FILE *f)
{
	fputs(USAGE, f);
}

static int flights_create(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"tree", required_argument, NULL, 't'}, {"commit", required_argument, NULL, 'c'},
	    {"job", required_argument, NULL, 'j'},  {"priority", required_argument, NULL, 'p'},
	    {"kind", required_argument, NULL, 'k'}, {"ref", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'J'},	    {NULL, 0, NULL, 0},
	};
	json_t *body = json_object(), *jobs = NULL, *reply = NULL;
	struct http_client c;
	int ch, json = 0, rc = 2;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			json_object_set_new(body, "tree", json_string(optarg));
			break;
		case 'c':
			json_object_set_new(body, "commit", json_string(optarg));
			break;
		case 'p':
			json_object_set_new(body, "priority", json_string(optarg));
			break;
		case 'k':
			json_object_set_new(body, "kind", json_string(optarg));
			break;
		case 'r':
			json_object_set_new(body, "ref", json_string(optarg));
			break;
		case 'J':
			json = 1;
			break;
		case 'j':
			if (jobs == NULL)
				jobs = json_array();
			json_array_append_new(jobs, json_string(optarg));
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc || !json_object_get(body, "tree") || !json_object_get(body, "commit")) {
		usage(stderr);
		goto out;
	}
	if (jobs)
		json_object_set(body, "jobs", jobs);
	rc = 1;
	if (cli_client(&c) < 0)
		goto out;
	if (cli_send_json(&c, "POST", "/api/v1/flights", body, 201, &reply) == 0) {
		if (json)
			cli_print_json(reply);
		else
			printf("flight %lld: %zu builds, %zu attempts\n", jint(reply, "id", 0),
			       json_array_size(json_object_get(reply, "builds")),
			       json_array_size(json_object_get(reply, "attempts")));
		rc = 0;
	}
	http_client_release(&c);
out:
	json_decref(reply);
	json_decref(jobs);
	json_decref(body);
	return rc;
}

int cmd_flights(int argc, char **argv)
{
	struct cli_table t;
	json_t *reply, *f;
	size_t i;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "create"))
		return flights_create(argc, argv);
	rc = cli_list_fetch(argc, argv, USAGE, 20, 1000, "/api/v1/flights", "flights", &reply);
	if (rc != CLI_LIST_TABLE)
		return rc;
	cli_table_init(&t, 8, "FLIGHT", "TREE", "COMMIT", "KIND", "PRIORITY", "STATE", "PASS",
		       "FAIL");
	json_array_foreach (json_object_get(reply, "flights"), i, f) {
		char cell[8][128];
		const json_t *counts = json_object_get(f, "counts");

		cli_cell(cell[0], sizeof(cell[0]), f, "id");
		cli_cell(cell[1], sizeof(cell[1]), f, "tree");
		cli_cell(cell[2], sizeof(cell[2]), f, "commit");
		cell[2][12] = '\0';
		cli_cell(cell[3], sizeof(cell[3]), f, "kind");
		cli_cell(cell[4], sizeof(cell[4]), f, "priority");
		cli_cell(cell[5], sizeof(cell[5]), f, "state");
		cli_cell(cell[6], sizeof(cell[6]), counts, "pass");
		cli_cell(cell[7], sizeof(cell[7]), counts, "fail");
		cli_table_add(&t, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], cell[6],
			      cell[7]);
	}
	cli_table_print(&t, stdout);
	json_decref(reply);
	return 0;
}
