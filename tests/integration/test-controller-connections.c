/* The controller's connection policy (issue 13, finding 5), from several loopback
 * source addresses (127.0.0.1, .2, .3 are all the local host): one address holding
 * as many connections as it can leaves room for another; an unauthenticated
 * connection that idles is closed after the short timeout while an authenticated
 * one and an event stream stay; past `max` a request gets 503 with a JSON error
 * and Retry-After; a client that sends its request head one byte at a time, each
 * well within the idle timeout, is closed once head_seconds have passed, on its
 * first request or a later one on the same connection; request bodies that stall
 * part way (eight uploads of 30 MiB of a 32 MiB series) leave the controller's
 * peak RSS where it was, since a body past 64 KiB is spooled to disk as it
 * arrives; and a flood of refused connections logs a bounded number of lines.
 * Each test has its own controller, most with small limits. */
#include <poll.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define MAX	    6
#define PER_ADDRESS 3
#define IDLE	    2
#define FLOOD	    50

static const char version_req[] = "GET /api/v1/version HTTP/1.1\r\nHost: x\r\n\r\n";

static struct harness_controller ctl;
static char reply[1 << 16];

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "connections:\n"
			   "  max: 6\n"
			   "  per_address: 3\n"
			   "  idle_seconds: 2\n"
			   "  authenticated_idle_seconds: 600\n"
			   "  retry_after_seconds: 7\n"
			   "  log_seconds: 1\n"
			   "  head_seconds: 3\n";
	return harness_controller_start(&ctl) < 0 ? -1 : 0;
}

/* A controller with the default limits. */
static int setup_defaults(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	return harness_controller_start(&ctl) < 0 ? -1 : 0;
}

/* The agents' own listener, one public worker whose hard limit is 17
 * (max 1, and its reserve of max / 8 + 16). */
static int setup_workers(void **state)
{
	int rc;

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "agent_listen: 127.0.0.1:0\n"
			   "connections: {max: 1, per_address: 40, idle_seconds: 30}\n";
	setenv("XENCI_READ_THREADS", "1", 1);
	rc = harness_controller_start(&ctl);
	unsetenv("XENCI_READ_THREADS");
	return rc < 0 || !ctl.agent_url[0] ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* GET path on fd (kept alive) as token (NULL: none); the status of the reply. */
static int get_on(int fd, const char *path, const char *token)
{
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n", path,
		 token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
	if (harness_send(fd, req, strlen(req)) < 0)
		return -1;
	reply[0] = '\0';
	if (harness_read_until(fd, reply, sizeof(reply), "\r\n\r\n", 10000) != 1)
		return -1;
	/* the body of /api/v1/version is short: let it arrive */
	harness_read_until(fd, reply, sizeof(reply), "}", 2000);
	return harness_status(reply);
}

/* Lines of the controller's log that contain needle. */
static int log_lines(const char *needle)
{
	char line[4096];
	FILE *f = fopen(ctl.log, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!needle || strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* One address opens FLOOD connections, each asking at once: PER_ADDRESS are
 * served, the rest refused; another address is served meanwhile; the log gets a
 * summary, not a line per refusal. */
static void test_per_address(void **state)
{
	int fds[FLOOD], i, served = 0, lines = log_lines(NULL), fd;

	(void)state;
	for (i = 0; i < FLOOD; i++) {
		fds[i] = harness_connect(ctl.port, "127.0.0.1");
		assert_true(fds[i] >= 0);
		harness_send(fds[i], version_req, strlen(version_req));
	}
	for (i = 0; i < FLOOD; i++) {
		reply[0] = '\0';
		if (harness_read_until(fds[i], reply, sizeof(reply), "\r\n\r\n", 10000) == 1 &&
		    harness_status(reply) == 200)
			served++;
	}
	print_message("%d of %d connections from 127.0.0.1 served\n", served, FLOOD);
	assert_true(served >= 1 && served <= PER_ADDRESS);
	/* another address, while 127.0.0.1 holds its slots */
	fd = harness_connect(ctl.port, "127.0.0.2");
	assert_true(fd >= 0);
	assert_int_equal(get_on(fd, "/api/v1/version", NULL), 200);
	close(fd);
	/* once the interval is over, the next connection brings the summary */
	sleep(2);
	fd = harness_connect(ctl.port, "127.0.0.2");
	assert_int_equal(get_on(fd, "/api/v1/version", NULL), 200);
	close(fd);
	for (i = 0; i < FLOOD; i++)
		close(fds[i]);
	assert_true(log_lines("refused over the per-address limit") >= 1);
	print_message("%d log lines for %d refused connections\n", log_lines(NULL) - lines,
		      FLOOD - served);
	assert_true(log_lines(NULL) - lines <= 8);
}

/* A connection that sends nothing, or half a request, is closed after
 * idle_seconds; one that authenticated, and an event stream, are not. */
static void test_idle(void **state)
{
	int quiet = harness_connect(ctl.port, "127.0.0.2");
	int half = harness_connect(ctl.port, "127.0.0.2");
	int authed = harness_connect(ctl.port, "127.0.0.3");
	int events = harness_connect(ctl.port, "127.0.0.3");
	static const char ev[] = "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n";
	char tok[128];

	(void)state;
	assert_true(quiet >= 0 && half >= 0 && authed >= 0 && events >= 0);
	assert_int_equal(harness_token(&ctl, "agent", "lab-a", tok, sizeof(tok)), 0);
	assert_int_equal(get_on(authed, "/api/v1/version", tok), 200);
	assert_int_equal(harness_send(events, ev, strlen(ev)), 0);
	reply[0] = '\0';
	assert_int_equal(harness_read_until(events, reply, sizeof(reply), "retry:", 10000), 1);
	assert_int_equal(harness_send(half, "GET /api/v1/version HTTP/1.1\r\nHo", 32), 0);
	reply[0] = '\0';
	assert_int_equal(harness_read_until(quiet, reply, sizeof(reply), NULL, 30000), -1);
	assert_int_equal(harness_read_until(half, reply, sizeof(reply), NULL, 30000), -1);
	/* twice the short timeout later the authenticated connection still serves... */
	sleep(2 * IDLE);
	assert_int_equal(get_on(authed, "/api/v1/version", tok), 200);
	/* ...and the stream still delivers */
	assert_int_equal(harness_call(&ctl, tok, "PUT", "/api/v1/agents/lab-a/boards",
				      "{\"protocol\": 1, \"boards\": []}", NULL),
			 200);
	reply[0] = '\0';
	assert_int_equal(harness_read_until(events, reply, sizeof(reply), "agent.declared", 10000),
			 1);
	close(quiet);
	close(half);
	close(authed);
	close(events);
}

/* Sends req on fd one byte per second (half the idle timeout, so that the
 * connection is never idle long enough for it); returns how many bytes went out
 * before the server closed the connection, or -1 when the whole head went out
 * and was answered. */
static int drip(int fd, const char *req)
{
	size_t i, len = strlen(req);
	char c;

	for (i = 0; i < len; i++) {
		struct pollfd p = {fd, POLLIN, 0};

		if (harness_send(fd, req + i, 1) < 0)
			return (int)i;
		/* the server writes nothing before the head is in: readable is its close */
		if (poll(&p, 1, 1000) == 1 && recv(fd, &c, 1, MSG_PEEK) <= 0)
			return (int)i + 1;
	}
	reply[0] = '\0';
	if (harness_read_until(fd, reply, sizeof(reply), "\r\n\r\n", 10000) == 1)
		print_message("the dripped head was answered: %.12s\n", reply);
	return -1;
}

/* A head that trickles in one byte at a time is cut off after head_seconds,
 * although no gap between its bytes reaches idle_seconds: on a new connection,
 * and on a kept-alive one after a first request was served. */
static void test_slow_head(void **state)
{
	static const char head[] = "GET /api/v1/version HTTP/1.1\r\nHost: x\r\n"
				   "X-Pad: 0123456789\r\n\r\n";
	int fd, sent, lines;

	(void)state;
	fd = harness_connect(ctl.port, "127.0.0.2");
	assert_true(fd >= 0);
	sent = drip(fd, head);
	print_message("first head: closed after %d of %zu bytes\n", sent, strlen(head));
	assert_true(sent >= 0 && (size_t)sent < strlen(head));
	close(fd);
	fd = harness_connect(ctl.port, "127.0.0.2");
	assert_true(fd >= 0);
	assert_int_equal(get_on(fd, "/api/v1/version", NULL), 200);
	sent = drip(fd, head);
	print_message("second head: closed after %d of %zu bytes\n", sent, strlen(head));
	assert_true(sent >= 0 && (size_t)sent < strlen(head));
	close(fd);
	/* served as usual meanwhile, and the closes summed up in the log */
	fd = harness_connect(ctl.port, "127.0.0.3");
	assert_int_equal(get_on(fd, "/api/v1/version", NULL), 200);
	close(fd);
	for (lines = 0; lines < 50 && log_lines("closed with their request head") == 0; lines++) {
		usleep(100 * 1000);
		fd = harness_connect(ctl.port, "127.0.0.3");
		close(fd);
	}
	assert_true(log_lines("closed with their request head still arriving") >= 1);
}

#define UPLOADS	    8
#define UPLOAD_SENT (30u << 20)
#define UPLOAD_MAX  (32u << 20)

/* Eight users' submissions send 30 MiB of the 32 MiB they announce, then stall:
 * the controller's peak RSS grows by far less than one of them (it held each
 * body in memory: 8 x 30 MiB). A spooled body still reaches its handler whole:
 * a 1 MiB one for a tree that does not exist is answered 404 by it. */
static void test_stalled_uploads(void **state)
{
	static char chunk[1 << 16];
	char tok[128], head[512];
	int fds[UPLOADS], i, fd;
	long before, after, rss;
	size_t sent;

	(void)state;
	assert_int_equal(harness_token(&ctl, "user", NULL, tok, sizeof(tok)), 0);
	memset(chunk, 'x', sizeof(chunk));
	snprintf(head, sizeof(head),
		 "POST /api/v1/submissions?tree=xen HTTP/1.1\r\nHost: x\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %u\r\n\r\n",
		 tok, UPLOAD_MAX);
	before = harness_controller_kib(&ctl, "VmHWM");
	assert_true(before > 0);
	for (i = 0; i < UPLOADS; i++) {
		fds[i] = harness_connect(ctl.port, "127.0.0.1");
		assert_true(fds[i] >= 0);
		assert_int_equal(harness_send(fds[i], head, strlen(head)), 0);
	}
	/* in turns, so that all are part way at once */
	for (sent = 0; sent < UPLOAD_SENT; sent += sizeof(chunk))
		for (i = 0; i < UPLOADS; i++)
			assert_int_equal(harness_send(fds[i], chunk, sizeof(chunk)), 0);
	/* what the sockets still buffer is read by now: a request behind them is served */
	fd = harness_connect(ctl.port, "127.0.0.2");
	assert_int_equal(get_on(fd, "/api/v1/version", NULL), 200);
	close(fd);
	after = harness_controller_kib(&ctl, "VmHWM");
	rss = harness_controller_kib(&ctl, "VmRSS");
	print_message("%d stalled uploads of %u MiB: peak RSS %ld -> %ld MiB (now %ld MiB)\n",
		      UPLOADS, UPLOAD_SENT >> 20, before >> 10, after >> 10, rss >> 10);
	assert_true(after - before < 64 * 1024);
	for (i = 0; i < UPLOADS; i++)
		close(fds[i]);
	/* a whole spooled body reaches the handler */
	snprintf(head, sizeof(head),
		 "POST /api/v1/submissions?tree=nope HTTP/1.1\r\nHost: x\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %u\r\n\r\n",
		 tok, 16u * (unsigned)sizeof(chunk));
	fd = harness_connect(ctl.port, "127.0.0.2");
	assert_int_equal(harness_send(fd, head, strlen(head)), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(harness_send(fd, chunk, sizeof(chunk)), 0);
	reply[0] = '\0';
	assert_int_equal(harness_read_until(fd, reply, sizeof(reply), "no such tree", 30000), 1);
	assert_int_equal(harness_status(reply), 404);
	close(fd);
}

/* MAX authenticated connections are open (from two addresses): the next request
 * gets 503, a JSON error with Retry-After, and its connection is closed. */
static void test_full(void **state)
{
	int fds[MAX], i, fd, n;
	char value[64];
	json_t *j;
	const char *body;

	(void)state;
	for (i = 0; i < MAX; i++) {
		fds[i] = harness_connect(ctl.port, i < PER_ADDRESS ? "127.0.0.1" : "127.0.0.2");
		assert_true(fds[i] >= 0);
		assert_int_equal(get_on(fds[i], "/api/v1/version", ctl.admin_token), 200);
	}
	fd = harness_connect(ctl.port, "127.0.0.3");
	assert_true(fd >= 0);
	assert_int_equal(harness_send(fd, version_req, strlen(version_req)), 0);
	reply[0] = '\0';
	assert_int_equal(harness_read_until(fd, reply, sizeof(reply), NULL, 10000), -1);
	assert_int_equal(harness_status(reply), 503);
	assert_int_equal(harness_header_count(reply, "Retry-After", value, sizeof(value)), 1);
	assert_string_equal(value, "7");
	body = strstr(reply, "\r\n\r\n");
	assert_non_null(body);
	j = json_loads(body + 4, 0, NULL);
	assert_non_null(j);
	assert_string_equal(jstr(j, "error", ""), "server full");
	json_decref(j);
	close(fd);
	/* one slot freed: served again */
	close(fds[0]);
	for (n = 0; n < 100; n++) {
		fd = harness_connect(ctl.port, "127.0.0.3");
		i = get_on(fd, "/api/v1/version", NULL);
		close(fd);
		if (i == 200)
			break;
		usleep(100 * 1000); /* the server has yet to see the close */
	}
	assert_int_equal(i, 200);
	for (i = 1; i < MAX; i++)
		close(fds[i]);
}

/* More connections at once than a public worker may hold: those past the hard
 * limit are closed as they come (the accept thread's own limit; libmicrohttpd
 * 0.9.75 stops a worker for good when a connection handed over meets the
 * worker's), and once they are gone both listeners serve again, and the
 * controller stops cleanly (teardown). */
static void test_worker_flood(void **state)
{
	int fds[30], i, n, st = -1, agent_port = atoi(strrchr(ctl.agent_url, ':') + 1);

	(void)state;
	for (i = 0; i < 30; i++) {
		fds[i] = harness_connect(ctl.port, "127.0.0.1");
		assert_true(fds[i] >= 0);
	}
	usleep(300 * 1000);
	for (i = 0; i < 30; i++)
		close(fds[i]);
	for (n = 0; n < 100 && st != 200; n++) {
		int fd = harness_connect(ctl.port, "127.0.0.2");

		st = get_on(fd, "/api/v1/version", NULL);
		close(fd);
		if (st != 200)
			usleep(100 * 1000); /* the server has yet to see the closes */
	}
	assert_int_equal(st, 200);
	i = harness_connect(agent_port, "127.0.0.3");
	assert_int_equal(get_on(i, "/api/v1/version", NULL), 200);
	close(i);
	assert_true(log_lines("connection limit") >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_per_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_uploads, setup_defaults, teardown),
	    cmocka_unit_test_setup_teardown(test_worker_flood, setup_workers, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
