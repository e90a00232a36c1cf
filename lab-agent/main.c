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
#include "power.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenci-agent [-v] AGENT_FILE          run the agent\n"
		"       xenci-agent --check FILE...          validate agent, board and job files\n"
		"       xenci-agent --judge JOB LOG          judge a recorded console log\n"
		"       xenci-agent --judge JOB -- CMD...    run CMD, judge its console live\n"
		"       xenci-agent --power BOARD_FILE on|off|cycle\n"
		"                                            switch a board as an attempt would\n"
		"       xenci-agent --version\n");
}

/* --power: the board file's power backend run once, as an attempt runs it
 * (cycle: its cycle when it has one, else off then on); 0, or 1 with the
 * reason an attempt would end infra with. */
static int power_main(const char *file, const char *what)
{
	struct check_env env = {0};
	struct buf errors = BUF_INIT(0);
	struct board b;
	char err[512] = "";
	int rc = -1;

	if (board_load(&b, file, &env, &errors) < 0) {
		fputs(buf_cstr(&errors), stderr);
		buf_release(&errors);
		return 1;
	}
	if (b.power == &power_qemu_ops) {
		/* its QEMU lives in the running agent's work folder */
		snprintf(err, sizeof(err), "the qemu backend is switched by the agent itself");
	} else if (!strcmp(what, "on")) {
		rc = b.power->on(&b, err, sizeof(err));
	} else if (!strcmp(what, "off")) {
		rc = b.power->off(&b, err, sizeof(err));
	} else if (!strcmp(what, "cycle")) {
		rc = b.power->cycle ? b.power->cycle(&b, err, sizeof(err)) : 1;
		if (rc == 1) /* no cycle of its own */
			rc = b.power->off(&b, err, sizeof(err)) < 0
				 ? -1
				 : b.power->on(&b, err, sizeof(err));
	} else {
		snprintf(err, sizeof(err), "unknown action %s (on, off, cycle)", what);
	}
	if (rc < 0)
		fprintf(stderr, "xenci-agent: board %s: power %s (%s): %s\n", b.name, what,
			b.power->name, err);
	else
		printf("board %s: power %s (%s)\n", b.name, what, b.power->name);
	board_release(&b);
	buf_release(&errors);
	return rc < 0 ? 1 : 0;
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
	if (argc >= 2 && !strcmp(argv[1], "--power")) {
		if (argc != 4) {
			usage(stderr);
			return 2;
		}
		log_init("xenci-agent", LOG_LEVEL_INFO);
		return power_main(argv[2], argv[3]);
	}
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
