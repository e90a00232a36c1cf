/* xenci-agent: the lab agent. See docs/boards.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent-loop.h"
#include "board.h"
#include "buf.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenci-agent [-v] AGENT_FILE          run the agent\n"
		"       xenci-agent --check FILE...          validate agent, board and job files\n"
		"       xenci-agent --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"check", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, check = 0, verbose = 0;

	while ((c = getopt_long(argc, argv, "nvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			check = 1;
			break;
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
