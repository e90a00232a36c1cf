/* The tcp console backend against Debian's ser2net 4 serving a pty (the test
 * holds its master, as a board's UART would drive the line): raw (a tcp
 * accepter), telnet (0xFF and CR both ways unchanged through IAC escaping)
 * and rfc2217 (the board file's baud rate and line settings reach the tty),
 * and the failures a lab meets: ser2net down, telnet against a raw accepter,
 * rfc2217 against a telnet accepter without it. Skips when ser2net is not
 * installed; CI installs it (debian-packages.txt). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "../../lab-agent/agent-config.h"
#include "../../lab-agent/console.h"
#include "../../lab-agent/telnet.h"
#include "../harness/harness.h"
#include "json-util.h"
#include "proc.h"
#include "xmalloc.h"

#define SER2NET "/usr/sbin/ser2net"

static char dir[256];
static int master = -1;
static char slave[128];
static struct proc ser2net;
static int port;

/* ser2net with one accepter ("", "telnet," or "telnet(rfc2217),") on a fresh port, its
 * connector the pty's slave at 9600n81. */
static void start_ser2net(const char *accepter)
{
	char cfg[400], log[400], pid[400], text[1024];
	const char *argv[] = {SER2NET, "-n", "-u", "-c", cfg, "-P", pid, NULL};

	port = harness_free_port();
	assert_true(port > 0);
	snprintf(text, sizeof(text),
		 "connection: &con\n"
		 "  accepter: %stcp,127.0.0.1,%d\n"
		 "  connector: serialdev,%s,9600n81,local\n"
		 "  options:\n"
		 "    kickolduser: true\n",
		 accepter, port, slave);
	assert_int_equal(harness_write_file(dir, "ser2net.yaml", text), 0);
	snprintf(cfg, sizeof(cfg), "%s/ser2net.yaml", dir);
	snprintf(log, sizeof(log), "%s/ser2net.log", dir);
	snprintf(pid, sizeof(pid), "%s/ser2net.pid", dir);
	proc_init(&ser2net);
	ser2net.argv = argv;
	ser2net.out_path = log;
	ser2net.die_with_parent = 1;
	assert_int_equal(proc_start(&ser2net), 0);
}

static void stop_ser2net(void)
{
	if (ser2net.pid > 0)
		proc_kill(&ser2net);
}

static int setup(void **state)
{
	(void)state;
	if (access(SER2NET, X_OK) != 0) {
		print_message("ser2net is not installed (apt-get install ser2net): skipped\n");
		skip();
	}
	assert_int_equal(harness_tmpdir(dir, sizeof(dir), "ser2net"), 0);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	snprintf(slave, sizeof(slave), "%s", ptsname(master));
	memset(&ser2net, 0, sizeof(ser2net));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_ser2net();
	if (master >= 0)
		close(master);
	master = -1;
	harness_rmdir(dir);
	return 0;
}

/* A board whose console section is console (YAML flow text), loaded and
 * validated like a board file. */
static void load_board(struct board *b, const char *console)
{
	struct buf errors = BUF_INIT(0);

	if (harness_board_file(b, dir, "s2n", "{backend: command, on: 'true', off: 'true'}",
			       console, "{backend: ipxe}", &errors) < 0)
		fail_msg("%s", buf_cstr(&errors));
	buf_release(&errors);
}

static void open_board(struct board *b, const char *proto, const char *extra, int *fd)
{
	char console[512], err[512];

	snprintf(console, sizeof(console),
		 "{backend: tcp, host: 127.0.0.1, port: %d, protocol: %s%s}", port, proto, extra);
	load_board(b, console);
	if (b->console->open(b, fd, 5000, err, sizeof(err)) < 0)
		fail_msg("open: %s", err);
}

/* Reads from the agent's side until n bytes came (or 5 s). */
static size_t agent_read(struct board *b, int fd, unsigned char *out, size_t n)
{
	long long end = harness_now_ms() + 5000;
	size_t got = 0;

	while (got < n && harness_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (!console_buffered(b) && poll(&p, 1, 100) <= 0)
			continue;
		r = console_read(b, fd, out + got, n - got);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static size_t board_read(unsigned char *out, size_t n)
{
	long long end = harness_now_ms() + 5000;
	size_t got = 0;

	while (got < n && harness_now_ms() < end) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(master, out + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Every byte value, 0xFF several times and CR LF, NUL after CR. */
static const unsigned char sample[] = {'X',  'e',  'n',	 0xff, 0xff, '\r', 0,	 '\r', '\n', 0x00,
				       0x01, 0xfe, 0xfd, 0xfb, 0xfa, 0xf0, 0xff, 'e',  'n',  'd'};

/* Sends sample both ways and checks that it arrives unchanged. */
static void round_trip(struct board *b, int fd)
{
	unsigned char got[sizeof(sample) + 16];

	/* let ser2net open the line before the board speaks */
	usleep(200 * 1000);
	assert_int_equal(write(master, sample, sizeof(sample)), (ssize_t)sizeof(sample));
	assert_int_equal(agent_read(b, fd, got, sizeof(sample)), sizeof(sample));
	assert_memory_equal(got, sample, sizeof(sample));
	assert_int_equal(console_write(b, fd, sample, sizeof(sample)), 0);
	assert_int_equal(board_read(got, sizeof(sample)), sizeof(sample));
	assert_memory_equal(got, sample, sizeof(sample));
}

/* raw line discipline on the board's end, so that the bytes pass as they are */
static void raw_master(void)
{
	struct termios t;

	assert_int_equal(tcgetattr(master, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(master, TCSANOW, &t), 0);
}

static void test_raw(void **state)
{
	struct board b;
	int fd = -1;

	(void)state;
	start_ser2net("");
	open_board(&b, "raw", "", &fd);
	raw_master();
	round_trip(&b, fd);
	b.console->close(&b, fd);
	board_release(&b);
}

static void test_telnet_bytes_both_ways(void **state)
{
	struct board b;
	int fd = -1;

	(void)state;
	start_ser2net("telnet,");
	open_board(&b, "telnet", "", &fd);
	raw_master();
	round_trip(&b, fd);
	b.console->close(&b, fd);
	board_release(&b);
}

static void test_rfc2217_line_settings(void **state)
{
	struct board b;
	const struct telnet *tn;
	struct termios t;
	int fd = -1;

	(void)state;
	start_ser2net("telnet(rfc2217),");
	open_board(&b, "rfc2217", ", baud: 115200, data_bits: 7, parity: even, stop_bits: 2", &fd);
	/* ser2net answered each setting with the value it set ... */
	tn = b.console_state;
	assert_int_equal(tn->baud_seen, 115200);
	assert_int_equal(tn->datasize_seen, 7);
	assert_int_equal(tn->parity_seen, 3); /* even */
	assert_int_equal(tn->stopsize_seen, 2);
	/* ... and the tty has them: its speed and stop bits (Linux's pty driver
	 * forces CS8 and no parity, so those two are seen in the answers only) */
	assert_int_equal(tcgetattr(master, &t), 0);
	assert_int_equal(cfgetospeed(&t), B115200);
	assert_true(t.c_cflag & CSTOPB);
	b.console->close(&b, fd);
	board_release(&b);

	/* a second connection at 8 bits: the bytes still pass both ways */
	open_board(&b, "rfc2217", ", baud: 57600, data_bits: 8, parity: none, stop_bits: 1", &fd);
	assert_int_equal(tcgetattr(master, &t), 0);
	assert_int_equal(cfgetospeed(&t), B57600);
	assert_false(t.c_cflag & CSTOPB);
	raw_master();
	round_trip(&b, fd);
	b.console->close(&b, fd);
	board_release(&b);
}

static void expect_open_error(const char *proto, const char *needle)
{
	struct board b;
	char console[512], err[512];
	int fd = -1;
	long long t0 = harness_now_ms();

	snprintf(console, sizeof(console),
		 "{backend: tcp, host: 127.0.0.1, port: %d, protocol: %s}", port, proto);
	load_board(&b, console);
	assert_int_equal(b.console->open(&b, &fd, 500, err, sizeof(err)), -1);
	print_message("%s: %s (%lld ms)\n", proto, err, harness_now_ms() - t0);
	if (!strstr(err, needle))
		fail_msg("\"%s\" does not say \"%s\"", err, needle);
	assert_int_equal(fd, -1);
	assert_null(b.console_state);
	board_release(&b);
}

static void test_failures(void **state)
{
	(void)state;
	/* nothing listens yet: ser2net down or the wrong port */
	port = harness_free_port();
	expect_open_error("telnet", "Connection refused");
	/* telnet against a raw accepter: no negotiation ever comes */
	start_ser2net("");
	expect_open_error("telnet", "no telnet negotiation");
	stop_ser2net();
	/* rfc2217 against a telnet accepter without it: refused */
	start_ser2net("telnet,");
	expect_open_error("rfc2217", "refused RFC 2217");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_telnet_bytes_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc2217_line_settings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
