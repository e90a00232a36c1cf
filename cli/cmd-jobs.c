/* xenci jobs [--json]: the job definitions the controller loaded. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cmd_jobs(int argc, char **argv)
{
	struct cli_table t;
	json_t *reply, *j;
	size_t i;
	int rc;

	rc = cli_list_fetch(argc, argv, "usage: xenci jobs [--json]\n", 0, 0, "/api/v1/jobs",
			    "jobs", &reply);
	if (rc != CLI_LIST_TABLE)
		return rc;
	cli_table_init(&t, 4, "JOB", "ARCH", "ARTIFACTS", "DESCRIPTION");
	json_array_foreach (json_object_get(reply, "jobs"), i, j) {
		const json_t *def = json_object_get(j, "definition");
		char cell[4][256];

		cli_cell(cell[0], sizeof(cell[0]), j, "name");
		cli_cell(cell[1], sizeof(cell[1]), json_object_get(def, "requires"), "arch");
		cli_cell(cell[2], sizeof(cell[2]), def, "artifacts");
		cli_cell(cell[3], sizeof(cell[3]), def, "description");
		cli_table_add(&t, cell[0], cell[1], cell[2], cell[3]);
	}
	cli_table_print(&t, stdout);
	json_decref(reply);
	return 0;
}
