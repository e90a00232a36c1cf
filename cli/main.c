/* xenci: the command line. One file per command (cli/cmd-*.c), dispatched from
 * the table below; each takes its own argv (argv[0] is the command's name). */
#include <stdio.h>
#include <string.h>

#include "cmd-flights.h"

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
    {"submit", cmd_submit, "send a patch series (git format-patch files or an mbox)"},
    {"follow", cmd_follow, "follow a flight until it ends; exit 0 when every job passed"},
    {"flight", cmd_flight, "a flight's per-board table, --json, or --junit FILE"},
    {"poke", cmd_poke, "make the controller look at a watched branch now"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: xenci COMMAND [ARGS]   (xenci COMMAND --help)\n\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fprintf(f, "\nThe controller: --url or XENCI_URL; the token: --token or XENCI_TOKEN.\n");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("xenci %s\n", XENCI_VERSION);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	for (const struct cmd *c = cmds; argc > 1 && c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	if (argc > 1)
		fprintf(stderr, "xenci: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
