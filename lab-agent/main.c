/* xenci-agent: the lab agent. See docs/boards.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent-loop.h"
#include "board.h"
#include "buf.h"
#include "judge-run.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenci-agent [-v] AGENT_FILE          run the agent\n"
		"       xenci-agent --check FILE...          validate agent, board and job files\n"
		"       xenci-agent --judge JOB LOG          judge a recorded console log\n"
		"       xenci-agent --judge JOB -- CMD...    run CMD, judge its console live\n"
		"       xenci-agent --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"check", no_argument, NULL, 'n'},	 {"judge", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'}, {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},	 {NULL, 0, NULL, 0},
	};
	int c, check = 0, verbose = 0;

	/* --judge takes the rest as it is (a command's own options after --) */
	if (argc >= 2 && !strcmp(argv[1], "--judge"))
		return judge_run_main(argv + 2, argc - 2);
	while ((c = getopt_long(argc, argv, "nvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			check = 1;
			break;
		case 'j':
			fprintf(stderr, "xenci-agent: --judge comes first: --judge JOB LOG\n");
			return 2;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("xenci-agent %s\n", XENCI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	log_init("xenci-agent", LOG_LEVEL_INFO + verbose);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (check) {
		struct buf errors = BUF_INIT(0);
		int rc = config_check_files(argv + optind, argc - optind, &errors);

		fputs(buf_cstr(&errors), stderr);
		if (rc == 0)
			printf("%d file%s OK\n", argc - optind, argc - optind > 1 ? "s" : "");
		buf_release(&errors);
		return rc == 0 ? 0 : 1;
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	return agent_main(argv[optind]);
}
