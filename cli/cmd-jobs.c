/* xenci jobs [--json]: the job definitions the controller loaded. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cmd_jobs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_client c;
	struct cli_table t;
	json_t *reply = NULL, *j;
	size_t i;
	int ch, json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'J') {
			json = 1;
		} else {
			fprintf(ch == 'h' ? stdout : stderr, "usage: xenci jobs [--json]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (cli_client(&c) < 0)
		return 1;
	if (cli_get_json(&c, "/api/v1/jobs", &reply) < 0) {
		http_client_release(&c);
		return 1;
	}
	if (json) {
		cli_print_json(json_object_get(reply, "jobs"));
	} else {
		cli_table_init(&t, 4, "JOB", "ARCH", "ARTIFACTS", "DESCRIPTION");
		json_array_foreach (json_object_get(reply, "jobs"), i, j) {
			const json_t *def = json_object_get(j, "definition");
			char cell[4][256];

			cli_cell(cell[0], sizeof(cell[0]), j, "name");
			cli_cell(cell[1], sizeof(cell[1]), json_object_get(def, "requires"),
				 "arch");
			cli_cell(cell[2], sizeof(cell[2]), def, "artifacts");
			cli_cell(cell[3], sizeof(cell[3]), def, "description");
			cli_table_add(&t, cell[0], cell[1], cell[2], cell[3]);
		}
		cli_table_print(&t, stdout);
	}
	json_decref(reply);
	http_client_release(&c);
	return 0;
}
