/* xenci boards [--json]: every board with its agent, arch, class and state. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cmd_boards(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct http_client c;
	struct cli_table t;
	json_t *reply = NULL, *b;
	size_t i;
	int ch, json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'J') {
			json = 1;
		} else {
			fprintf(ch == 'h' ? stdout : stderr, "usage: xenci boards [--json]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (cli_client(&c) < 0)
		return 1;
	if (cli_get_json(&c, "/api/v1/boards", &reply) < 0) {
		http_client_release(&c);
		return 1;
	}
	if (json) {
		cli_print_json(json_object_get(reply, "boards"));
	} else {
		cli_table_init(&t, 7, "BOARD", "AGENT", "ARCH", "CLASS", "STATE", "ATTEMPT",
			       "TAGS");
		json_array_foreach (json_object_get(reply, "boards"), i, b) {
			char cell[7][128];

			cli_cell(cell[0], sizeof(cell[0]), b, "name");
			cli_cell(cell[1], sizeof(cell[1]), b, "agent");
			cli_cell(cell[2], sizeof(cell[2]), b, "arch");
			cli_cell(cell[3], sizeof(cell[3]), b, "class");
			cli_cell(cell[4], sizeof(cell[4]), b, "state");
			cli_cell(cell[5], sizeof(cell[5]), b, "attempt");
			cli_cell(cell[6], sizeof(cell[6]), b, "tags");
			cli_table_add(&t, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5],
				      cell[6]);
		}
		cli_table_print(&t, stdout);
	}
	json_decref(reply);
	http_client_release(&c);
	return 0;
}
