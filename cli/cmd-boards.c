/* xenci boards [--json]: every board with its agent, arch, class and state. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cmd_boards(int argc, char **argv)
{
	struct cli_table t;
	json_t *reply, *b;
	size_t i;
	int rc;

	rc = cli_list_fetch(argc, argv, "usage: xenci boards [--json]\n", 0, 0, "/api/v1/boards",
			    "boards", &reply);
	if (rc != CLI_LIST_TABLE)
		return rc;
	cli_table_init(&t, 7, "BOARD", "AGENT", "ARCH", "CLASS", "STATE", "ATTEMPT", "TAGS");
	json_array_foreach (json_object_get(reply, "boards"), i, b) {
		char cell[7][128];

		cli_cell(cell[0], sizeof(cell[0]), b, "name");
		cli_cell(cell[1], sizeof(cell[1]), b, "agent");
		cli_cell(cell[2], sizeof(cell[2]), b, "arch");
		cli_cell(cell[3], sizeof(cell[3]), b, "class");
		cli_cell(cell[4], sizeof(cell[4]), b, "state");
		cli_cell(cell[5], sizeof(cell[5]), b, "attempt");
		cli_cell(cell[6], sizeof(cell[6]), b, "tags");
		cli_table_add(&t, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], cell[6]);
	}
	cli_table_print(&t, stdout);
	json_decref(reply);
	return 0;
}
