/* xenci: the command-line client of the controller. One file per command
 * (cli/cmd-*.c), dispatched from the table below: add a line to add a command.
 * Each command takes its own argv (argv[0] is the command's name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd-bisect.h"
#include "cmd-flights.h"

static const struct cli_command commands[] = {
    {"boards", cmd_boards, "boards, their agents and states"},
    {"jobs", cmd_jobs, "the job definitions"},
    {"flights", cmd_flights, "recent flights; `flights create` makes one"},
    {"flight", cmd_flight, "a flight's per-board table, --json, or --junit FILE"},
    {"attempt", cmd_attempt, "show, log [--follow] or cancel an attempt"},
    {"submit", cmd_submit, "send a patch series (git format-patch files or an mbox)"},
    {"follow", cmd_follow, "follow a flight until it ends; exit 0 when every job passed"},
    {"poke", cmd_poke, "make the controller look at a watched branch now"},
    {"verify", cmd_verify, "check signed results offline against the controller's key"},
    {"evidence", cmd_evidence, "export a flight's records, proofs and logs for an assessor"},
    {"token", cmd_token, "create or revoke tokens (admin)"},
    {"reserve", cmd_reserve, "hold a board for yourself [--for 2h] [--wait]"},
    {"release", cmd_release, "end your reservation of a board (an admin: anyone's)"},
    {"power", cmd_power, "power a board you hold: on, off or cycle"},
    {"console", cmd_console, "your terminal on the console of a board you hold (~. detaches)"},
    {"boot", cmd_boot, "boot an attempt's (or --flight's) builds on a board you hold, console on"},
    {"repro", cmd_repro, "fetch an attempt and run it here (QEMU boards), judged as in the lab"},
    {"bisections", cmd_bisections, "recent bisections of regressions"},
    {"bisection", cmd_bisection, "a bisection's steps and verdict; cancel or restart (admin)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	const struct cli_command *c;

	fprintf(f, "usage: xenci [--url URL] [--token TOKEN] COMMAND [ARGS]"
		   "   (xenci COMMAND --help)\n\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "\nThe controller: --url or XENCI_URL; the token: --token or XENCI_TOKEN;\n"
		   "else url: and token: in ~/.config/xenci/config.yaml (or $XENCI_CONFIG).\n");
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--version")) {
			printf("xenci %s\n", XENCI_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if ((!strcmp(argv[i], "--url") || !strcmp(argv[i], "--token")) && i + 1 < argc) {
			setenv(argv[i][2] == 'u' ? "XENCI_URL" : "XENCI_TOKEN", argv[i + 1], 1);
			i += 2;
			continue;
		}
		if (!strncmp(argv[i], "--url=", 6) || !strncmp(argv[i], "--token=", 8)) {
			setenv(argv[i][2] == 'u' ? "XENCI_URL" : "XENCI_TOKEN",
			       strchr(argv[i], '=') + 1, 1);
			i++;
			continue;
		}
		fprintf(stderr, "xenci: unknown option %s\n", argv[i]);
		usage(stderr);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	/* Commands read XENCI_URL/XENCI_TOKEN: fill them from the config file. */
	if (cli_config_env() < 0)
		return 1;
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->run(argc - i, argv + i);
	fprintf(stderr, "xenci: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return 2;
}
