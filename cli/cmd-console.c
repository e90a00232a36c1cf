/* xenci console BOARD, xenci boot BOARD ATTEMPT|--flight FLIGHT: the terminal joined to the serial
 * console of a board the user holds (docs/boards.md, "Console"), through the controller and the
 * board's agent. Typed bytes go to the board; `~.` at the start of a line detaches (as ssh and cu),
 * `~~` sends one `~`, `~?` lists these. A tty is put in raw mode and restored at the end, on
 * SIGTERM, SIGHUP, SIGINT and SIGQUIT too. Detaching leaves the board reserved. `xenci boot` first
 * has the board's agent stage what an earlier attempt booted and power-cycle the board, its console
 * attached. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "fs.h"
#include "json-util.h"
#include "sigkey.h"
#include "xmalloc.h"

#define CONSOLE_WAIT_MS	   20000 /* one read's long poll */
#define CONSOLE_CHUNK	   4096	 /* input per request, below the relay's 16 KiB */
#define CONSOLE_BUSY_MS	   50	 /* the relay's input is full: send again after */
#define CONSOLE_GIVE_UP_MS 60000 /* the controller unreachable this long: end */

static volatile sig_atomic_t got_signal;
static struct termios saved_tty;
static int tty_raw;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void tty_restore(void)
{
	if (tty_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		tty_raw = 0;
	}
}

static void tty_make_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	t = saved_tty;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
		tty_raw = 1;
}

/* Notes to the user, on stderr: with the tty raw, a line ends "\r\n". */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	fputs("\r\n[xenci: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("]\r\n", stderr);
	fflush(stderr);
}

struct console {
	const char *board;
	long long session;
	int boot;	  /* a boot was asked: its verdict ends the session */
	char verdict[16]; /* the reader's, once the agent judged the boot */
	char reason[512];
	_Atomic int done;	   /* set by the reader: detached, or given up */
	_Atomic int by_controller; /* the controller detached it (not the user) */
	_Atomic int detaching;	   /* the user detaches: the reader's 410 says nothing */
};

/* The board's output to stdout, until the relay says it is detached. */
static void *reader(void *arg)
{
	struct console *cs = arg;
	struct http_client c;
	long long offset = 0, failing_since = 0, seq = 0;
	char status[256] = "";
	int draining = 0; /* the verdict came: what the board printed before it, then end */

	if (cli_client(&c) < 0) {
		cs->done = 1;
		return NULL;
	}
	c.retries = 0;
	c.timeout_ms = CONSOLE_WAIT_MS + 15000;
	while (!cs->done) {
		char *path =
		    xasprintf("/api/v1/boards/%s/console?session=%lld&offset=%lld"
			      "&status_seq=%lld&wait_ms=%d",
			      cs->board, cs->session, offset, seq, draining ? 0 : CONSOLE_WAIT_MS);
		struct http_reply r;

		http_reply_init(&r);
		if (http_request(&c, "GET", path, NULL, NULL, 0, NULL, &r) < 0 || r.status >= 500) {
			if (failing_since == 0)
				failing_since = clock_mono_ms();
			else if (clock_mono_ms() - failing_since > CONSOLE_GIVE_UP_MS) {
				note("the controller does not answer: %s", r.error);
				cs->done = 1;
			}
			usleep(500 * 1000);
		} else if (r.status == 200) {
			const char *d = jstr(r.json, "data", "");
			const json_t *v = json_object_get(r.json, "verdict");
			unsigned char *data = NULL;
			size_t len = 0;

			failing_since = 0;
			if (jint(r.json, "dropped", 0) > 0) {
				note("%lld bytes of the console were dropped: this reader fell "
				     "behind",
				     jint(r.json, "dropped", 0));
			}
			if (strcmp(jstr(r.json, "status", ""), status)) {
				snprintf(status, sizeof(status), "%s", jstr(r.json, "status", ""));
				cli_strip_controls(status, 0);
				note("%s", status);
			}
			if (base64_decode(&data, &len, d, strlen(d)) == 0 && len > 0 &&
			    fd_write_all(STDOUT_FILENO, data, len) < 0)
				cs->done = 1; /* nobody reads our output */
			free(data);
			offset = jint(r.json, "next", offset);
			seq = jint(r.json, "status_seq", seq);
			if (draining && len == 0) {
				cs->done = 1;
			} else if (cs->boot && json_is_object(v) && !draining) {
				snprintf(cs->reason, sizeof(cs->reason), "%s",
					 jstr(v, "reason", ""));
				cli_strip_controls(cs->reason, 0);
				snprintf(cs->verdict, sizeof(cs->verdict), "%s",
					 jstr(v, "verdict", "?"));
				cli_strip_controls(cs->verdict, 0);
				draining = 1;
			}
		} else {
			char why[512];

			snprintf(why, sizeof(why), "%s",
				 jstr(r.json, "detail", r.error[0] ? r.error : "detached"));
			cli_strip_controls(why, 0);
			if (!cs->detaching) {
				note(r.status == 410 ? "detached: %s" : "%s", why);
				cs->by_controller = 1;
			}
			cs->done = 1;
		}
		http_reply_release(&r);
		free(path);
	}
	http_client_release(&c);
	return NULL;
}

/* Sends len bytes of input, again while the relay is full. 0, or -1 (detached,
 * or it cannot be sent: the reason printed). */
static int send_input(struct http_client *c, struct console *cs, const char *p, size_t len)
{
	char *b64 = base64_encode(p, len);
	char *path =
	    xasprintf("/api/v1/boards/%s/console/input?session=%lld", cs->board, cs->session);
	json_t *body = json_pack("{s:s}", "data", b64);
	int rc = -1;

	while (!cs->done && !got_signal) {
		struct http_reply r;

		http_reply_init(&r);
		if (http_json(c, "POST", path, body, &r) == 0 && r.status == 202) {
			http_reply_release(&r);
			rc = 0;
			break;
		}
		if (r.status == 429 || r.status == 0 || r.status >= 500) {
			http_reply_release(&r);
			usleep(CONSOLE_BUSY_MS * 1000);
			continue;
		}
		/* 410 and friends: the reader says why */
		http_reply_release(&r);
		break;
	}
	json_decref(body);
	free(path);
	free(b64);
	return rc;
}

/* Escape handling at the start of a line: ~. detaches, ~~ is a ~, ~? helps. */
struct escape {
	int line_start, tilde;
};

/* Moves the bytes of in that go to the board into out (*outlen); 1 when ~. came. */
static int escape_filter(struct escape *e, const char *in, size_t n, char *out, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = in[i];

		if (e->tilde) {
			e->tilde = 0;
			if (c == '.') {
				*outlen = o;
				return 1;
			}
			if (c == '?') {
				note("%s", "~. detach (the board stays reserved)   ~~ send ~   "
					   "~? this help");
				continue;
			}
			if (c != '~')
				out[o++] = '~';
		} else if (e->line_start && c == '~') {
			e->tilde = 1;
			continue;
		}
		out[o++] = c;
		e->line_start = c == '\r' || c == '\n';
	}
	*outlen = o;
	return 0;
}

static void console_usage(FILE *f)
{
	fprintf(f, "usage: xenci console BOARD [--no-input]\n"
		   "       xenci boot BOARD ATTEMPT|--flight FLIGHT [--no-input]\n"
		   "  Joins this terminal to the serial console of BOARD, which you hold\n"
		   "  (xenci reserve BOARD). At the start of a line: ~. detaches (the board\n"
		   "  stays reserved), ~~ sends ~, ~? lists these. boot first stages what\n"
		   "  ATTEMPT booted (or a test attempt of FLIGHT: its builds) on BOARD and\n"
		   "  power-cycles it. --no-input: stdin is not read; it runs until a signal.\n");
}

/* Attaches to board's console, asks for the boot when boot is not NULL ({attempt}
 * or {flight}), and relays until a detach; input 0: stdin is not read (the
 * relay runs until a signal or the controller ends it). The exit status. */
int cli_console_run(const char *board, const json_t *boot, int input)
{
	struct console cs = {0};
	struct http_client c;
	struct sigaction sa;
	struct escape esc = {1, 0};
	pthread_t thr;
	char path[200];
	json_t *reply = NULL;
	int rc = 1, ended_by_user = 0;

	cs.board = board;
	cs.boot = boot != NULL;
	if (cli_client(&c) < 0)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/boards/%s/console", cs.board);
	if (cli_send_json(&c, "POST", path, NULL, 201, &reply) < 0)
		goto out;
	cs.session = jint(reply, "session", 0);
	json_decref(reply);
	reply = NULL;
	if (boot) {
		snprintf(path, sizeof(path), "/api/v1/boards/%s/console/boot?session=%lld",
			 cs.board, cs.session);
		if (cli_send_json(&c, "POST", path, boot, 202, &reply) < 0) {
			snprintf(path, sizeof(path), "/api/v1/boards/%s/console?session=%lld",
				 cs.board, cs.session);
			json_decref(reply);
			reply = NULL;
			cli_send_json(&c, "DELETE", path, NULL, 200, &reply);
			json_decref(reply);
			goto out;
		}
		fprintf(stderr, "[xenci: %s boots what attempt %lld booted]\n", cs.board,
			jint(reply, "attempt", 0));
		json_decref(reply);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (input)
		tty_make_raw();
	note("attached to %s's console, session %lld; ~. detaches", cs.board, cs.session);
	if (pthread_create(&thr, NULL, reader, &cs) != 0) {
		tty_restore();
		goto out;
	}
	while (!cs.done && !got_signal) {
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		char in[CONSOLE_CHUNK], send[CONSOLE_CHUNK];
		size_t n_send;
		ssize_t n;

		if (!input) {
			usleep(100 * 1000);
			continue;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(STDIN_FILENO, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ended_by_user = 1; /* end of input: as cu does */
			break;
		}
		if (escape_filter(&esc, in, (size_t)n, send, &n_send)) {
			if (n_send)
				send_input(&c, &cs, send, n_send);
			ended_by_user = 1;
			break;
		}
		if (n_send && send_input(&c, &cs, send, n_send) < 0)
			break;
	}
	if (!cs.done || cs.verdict[0]) {
		cs.detaching = 1;
		snprintf(path, sizeof(path), "/api/v1/boards/%s/console?session=%lld", cs.board,
			 cs.session);
		reply = NULL;
		if (cli_send_json(&c, "DELETE", path, NULL, 200, &reply) == 0)
			ended_by_user = 1;
		json_decref(reply);
	}
	cs.done = 1;
	pthread_join(thr, NULL);
	tty_restore();
	if (got_signal)
		fprintf(stderr, "[xenci: signal %d: detached from %s; it stays reserved]\n",
			(int)got_signal, cs.board);
	else if (ended_by_user && !cs.by_controller)
		fprintf(stderr, "[xenci: detached from %s; it stays reserved%s]\n", cs.board,
			cs.verdict[0] ? ", as the boot left it" : "");
	rc = cs.by_controller && !ended_by_user ? 1 : 0;
	if (cs.verdict[0] && !got_signal) {
		/* as `xenci-agent --judge` ends: the verdict, 0 on pass */
		fflush(stdout);
		printf("verdict: %s: %s\n", cs.verdict, cs.reason);
		rc = strcmp(cs.verdict, "pass") ? 1 : 0;
	} else if (boot && !got_signal && !ended_by_user) {
		rc = 1; /* the boot did not end with a verdict */
	}
out:
	http_client_release(&c);
	return rc;
}

int cmd_console(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		console_usage(stdout);
		return 0;
	}
	if ((argc != 2 && !(argc == 3 && !strcmp(argv[2], "--no-input"))) || argv[1][0] == '-') {
		console_usage(stderr);
		return 2;
	}
	return cli_console_run(argv[1], NULL, argc == 2);
}

int cmd_boot(int argc, char **argv)
{
	const char *what;
	json_t *body;
	char *end;
	long long id;
	int flight, rc, input = 1;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		console_usage(stdout);
		return 0;
	}
	if (argc > 3 && !strcmp(argv[argc - 1], "--no-input")) {
		input = 0;
		argc--;
	}
	flight = argc == 4 && !strcmp(argv[2], "--flight");
	if ((argc != 3 && !flight) || argv[1][0] == '-') {
		console_usage(stderr);
		return 2;
	}
	what = argv[argc - 1];
	errno = 0;
	id = strtoll(what, &end, 10);
	if (errno || *end || id <= 0) {
		fprintf(stderr, "xenci boot: %s: an attempt or flight number\n", what);
		return 2;
	}
	body = json_pack("{s:I}", flight ? "flight" : "attempt", (json_int_t)id);
	rc = cli_console_run(argv[1], body, input);
	json_decref(body);
	return rc;
}
