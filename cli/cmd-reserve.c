/* xenci reserve BOARD [--for DURATION] [--wait] · xenci release BOARD ·
 * xenci power BOARD on|off|cycle: a user's hold on a board (docs/boards.md,
 * "Reservations") and its power through the board's agent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json-util.h"

#define WAIT_POLL_S 2

int cli_duration_parse(const char *s, long long *seconds)
{
	char *end;
	long long n, unit = 1;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || n <= 0)
		return -EINVAL;
	if (*end == 'd')
		unit = 86400;
	else if (*end == 'h')
		unit = 3600;
	else if (*end == 'm')
		unit = 60;
	else if (*end != 's' && *end != '\0')
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	if (n > 366LL * 86400 / unit)
		return -ERANGE;
	*seconds = n * unit;
	return 0;
}

static void reserve_usage(FILE *f)
{
	fprintf(f, "usage: xenci reserve BOARD [--for DURATION] [--wait]\n"
		   "  DURATION: 90s, 30m, 2h, 1d (default 1h). Needs the reserve right\n"
		   "  (xenci token create --reserve) and a board whose policy allows it.\n"
		   "  --wait: wait while another user holds it, then until the attempt it\n"
		   "  runs has finished and the board is held for you.\n"
		   "       xenci release BOARD     (the holder, or an admin to break one)\n"
		   "       xenci power BOARD on|off|cycle   (the holder)\n");
}

/* The board's reservation as its read shows it (new reference, json null when
 * none), or NULL when the read failed. */
static json_t *board_reservation(struct http_client *c, const char *board)
{
	char path[160];
	json_t *b = NULL, *r;

	snprintf(path, sizeof(path), "/api/v1/boards/%s", board);
	if (cli_get_json(c, path, &b) < 0)
		return NULL;
	r = json_incref(json_object_get(b, "reservation"));
	json_decref(b);
	return r ? r : json_null();
}

static void print_reservation(const char *board, const json_t *res)
{
	char until[64];
	time_t t = (time_t)(jint(res, "expires", 0) / 1000);
	struct tm tm;

	strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
	if (jint(res, "waiting_for", 0) > 0)
		printf("%s: reserved for %s until %s; it finishes attempt %lld first\n", board,
		       jstr(res, "user", "?"), until, jint(res, "waiting_for", 0));
	else
		printf("%s: held for %s until %s\n", board, jstr(res, "user", "?"), until);
}

int cmd_reserve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"for", required_argument, NULL, 'f'},
	    {"wait", no_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long long seconds = 3600;
	struct http_client c;
	struct http_reply r;
	char path[160];
	json_t *body, *res = NULL;
	const char *board;
	int ch, wait = 0, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (cli_duration_parse(optarg, &seconds) < 0) {
				fprintf(stderr,
					"xenci reserve: --for %s: a duration like 90s, "
					"30m, 2h or 1d\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			wait = 1;
			break;
		case 'h':
			reserve_usage(stdout);
			return 0;
		default:
			reserve_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		reserve_usage(stderr);
		return 2;
	}
	board = argv[optind];
	if (cli_client(&c) < 0)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/boards/%s/reservation", board);
	body = json_pack("{s:I}", "seconds", (json_int_t)seconds);
	for (;;) {
		http_reply_init(&r);
		if (http_json(&c, "POST", path, body, &r) < 0) {
			fprintf(stderr, "xenci reserve: %s: %s\n", c.base, r.error);
		} else if (r.status == 201) {
			res = json_incref(r.json);
		} else if (r.status == 409 && wait) {
			http_reply_release(&r);
			sleep(WAIT_POLL_S); /* another user holds it: until they let go */
			continue;
		} else {
			fprintf(stderr, "xenci reserve: %s\n",
				r.error[0] ? r.error : "unexpected reply");
		}
		http_reply_release(&r);
		break;
	}
	if (res == NULL)
		goto out;
	/* held once the attempt it ran has finished */
	while (wait && jint(res, "waiting_for", 0) > 0) {
		json_t *now;

		sleep(WAIT_POLL_S);
		now = board_reservation(&c, board);
		if (now == NULL || !json_is_object(now)) {
			fprintf(stderr, "xenci reserve: %s: the reservation ended meanwhile\n",
				board);
			json_decref(now);
			goto out;
		}
		json_decref(res);
		res = now;
	}
	print_reservation(board, res);
	rc = 0;
out:
	json_decref(res);
	json_decref(body);
	http_client_release(&c);
	return rc;
}

int cmd_release(int argc, char **argv)
{
	struct http_client c;
	json_t *reply = NULL;
	char path[160];
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		reserve_usage(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	snprintf(path, sizeof(path), "/api/v1/boards/%s/reservation", argv[1]);
	if (cli_client(&c) < 0)
		return 1;
	rc = cli_send_json(&c, "DELETE", path, NULL, 200, &reply);
	if (rc == 0)
		printf("%s: %s\n", argv[1], jstr(reply, "state", "released"));
	json_decref(reply);
	http_client_release(&c);
	return rc < 0 ? 1 : 0;
}

int cmd_power(int argc, char **argv)
{
	struct http_client c;
	json_t *reply = NULL, *body;
	char path[160];
	int rc;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		reserve_usage(stdout);
		return 0;
	}
	if (argc != 3 ||
	    (strcmp(argv[2], "on") && strcmp(argv[2], "off") && strcmp(argv[2], "cycle"))) {
		reserve_usage(stderr);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/boards/%s/power", argv[1]);
	if (cli_client(&c) < 0)
		return 1;
	body = json_pack("{s:s}", "action", argv[2]);
	rc = cli_send_json(&c, "POST", path, body, 202, &reply);
	if (rc == 0)
		printf("%s: power %s sent to its agent\n", argv[1], argv[2]);
	json_decref(body);
	json_decref(reply);
	http_client_release(&c);
	return rc < 0 ? 1 : 0;
}
