/* The backends' failure paths that this machine can exercise for real, and the
 * spool: a command that fails or hangs, a refused TCP console, a pty given to
 * the uart backend (libserialport refuses it), USB relays and hubs that are
 * not there, an unreachable PDUDaemon, QEMU that cannot start; spool append,
 * read, acknowledged offset, bound and reopen. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json-util.h"
#include "xmalloc.h"
#include "../../lab-agent/board.h"
#include "../../lab-agent/console.h"
#include "../../lab-agent/netboot.h"
#include "../../lab-agent/power.h"
#include "../../lab-agent/spool.h"
#include "../../lab-agent/telnet.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-backends-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void board_with(struct board *b, json_t *power, json_t *console)
{
	memset(b, 0, sizeof(*b));
	b->name = xstrdup("b1");
	b->arch = xstrdup("x86_64");
	b->run_dir = xasprintf("%s/run", dir);
	b->tftp_dir = xasprintf("%s/tftp", dir);
	b->base_dir = xstrdup(dir);
	b->power_cfg = power ? power : json_object();
	b->console_cfg = console ? console : json_object();
	b->netboot_cfg = json_pack("{s:s}", "backend", "ipxe");
	b->power = power_find(jstr(b->power_cfg, "backend", "command"));
	b->console = console_find(jstr(b->console_cfg, "backend", "tcp"));
	b->netboot = netboot_find("ipxe");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_command_power(void **state)
{
	struct board b;
	char err[512], *p;
	long long t0;

	(void)state;
	p = xasprintf("%s/state", dir);
	board_with(&b,
		   json_pack("{s:s, s:s, s:s, s:{s:s}, s:i}", "backend", "command", "on",
			     "echo ${board} on > ${f}", "off", "echo ${board} off >&2; exit 4",
			     "vars", "f", p, "timeout_s", 1),
		   NULL);
	assert_int_equal(b.power->on(&b, err, sizeof(err)), 0);
	{
		FILE *f = fopen(p, "r");
		char line[64] = "";

		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		assert_string_equal(line, "b1 on\n");
	}
	/* a failing command: its exit code and the tail of its output */
	assert_int_equal(b.power->off(&b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exited with 4: b1 off"));
	/* a hanging command is killed at its timeout, with what it started */
	json_object_set_new(b.power_cfg, "on", json_string("sleep 30 & sleep 30"));
	t0 = now_ms();
	assert_int_equal(b.power->on(&b, err, sizeof(err)), -1);
	assert_true(now_ms() - t0 < 5000);
	assert_non_null(strstr(err, "did not finish within 1 s"));
	board_release(&b);
	free(p);
}

static void test_tcp_console_refused(void **state)
{
	struct board b;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char err[256];
	int s, fd = -1, port;

	(void)state;
	/* a port nobody listens on: bind one, note it, close it */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(s, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(s);
	board_with(
	    &b, NULL,
	    json_pack("{s:s, s:s, s:i}", "backend", "tcp", "host", "127.0.0.1", "port", port));
	assert_int_equal(b.console->open(&b, &fd, 200, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Connection refused"));
	board_release(&b);
}

/* The telnet codec byte by byte (a peer's sequences may be cut anywhere):
 * options accepted and refused, no answer to an answer, IAC IAC, commands and
 * subnegotiations out of the data, CR NUL outside BINARY, escaping out. */
static void test_telnet_codec(void **state)
{
	static const unsigned char peer[] = {
	    'a',	TELNET_IAC,  TELNET_IAC,
	    'b',	TELNET_IAC,  TELNET_WILL,
	    1,					     /* ECHO: refused */
	    TELNET_IAC, TELNET_WILL, TELNET_OPT_SGA, /* answers our DO: no reply */
	    TELNET_IAC, TELNET_DO,   24,	     /* TERMINAL-TYPE: refused */
	    TELNET_IAC, TELNET_DONT, 1,		     /* never ours: no reply */
	    '\r',	0,	     'c',	     /* CR NUL before BINARY */
	    TELNET_IAC, TELNET_SB,   TELNET_OPT_COM_PORT,
	    101,	0,	     1,
	    0xc2,	0,	     TELNET_IAC,
	    TELNET_SE,	TELNET_IAC,  241, /* NOP */
	    'd'};
	static const unsigned char want_out[] = {TELNET_IAC, TELNET_DONT, 1,
						 TELNET_IAC, TELNET_WONT, 24};
	unsigned char out[64], enc[16];
	struct telnet t;
	size_t i, n = 0;

	(void)state;
	telnet_init(&t, 1);
	assert_int_equal(t.outlen, 12); /* DO BINARY, WILL BINARY, DO SGA, WILL COM-PORT */
	t.outlen = 0;
	for (i = 0; i < sizeof(peer); i++)
		n += telnet_decode(&t, peer + i, 1, out + n);
	assert_int_equal(n, 6);
	assert_memory_equal(out,
			    "a\xff"
			    "b\rcd",
			    6);
	assert_int_equal(t.outlen, sizeof(want_out));
	assert_memory_equal(t.out, want_out, sizeof(want_out));
	assert_int_equal(t.baud_seen, 115200);
	assert_int_equal(t.him[TELNET_OPT_SGA], TELNET_YES);
	assert_false(t.refused);
	/* outside BINARY a CR goes out as CR NUL; 0xFF always doubled */
	assert_int_equal(telnet_encode(&t, (const unsigned char *)"\r\xff", 2, enc), 4);
	assert_memory_equal(enc, "\r\0\xff\xff", 4);
	/* the peer refuses COM-PORT-OPTION and agrees to BINARY: no reply to either */
	t.outlen = 0;
	n = telnet_decode(&t,
			  (const unsigned char[]){TELNET_IAC, TELNET_DONT, TELNET_OPT_COM_PORT,
						  TELNET_IAC, TELNET_DO, TELNET_OPT_BINARY},
			  6, out);
	assert_int_equal(n, 0);
	assert_int_equal(t.outlen, 0);
	assert_true(t.refused);
	assert_int_equal(t.refused_opt, TELNET_OPT_COM_PORT);
	assert_int_equal(telnet_encode(&t, (const unsigned char *)"\r", 1, enc), 1);
	/* a 0xFF in a COM-PORT value is doubled */
	t.outlen = 0;
	telnet_com_port_set(&t, 0x1ff, 0, 0, 0);
	assert_int_equal(t.outlen, 11);
	assert_memory_equal(t.out,
			    ((const unsigned char[]){TELNET_IAC, TELNET_SB, TELNET_OPT_COM_PORT, 1,
						     0, 0, 1, 0xff, 0xff, TELNET_IAC, TELNET_SE}),
			    11);
}

static void test_uart_refuses_pty(void **state)
{
	struct board b;
	char err[256];
	int master, fd = -1;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	board_with(&b, NULL,
		   json_pack("{s:s, s:s, s:i}", "backend", "uart", "device", ptsname(master),
			     "baud", 115200));
	assert_int_equal(b.console->open(&b, &fd, 200, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ptsname(master)));
	board_release(&b);
	close(master);
}

static void test_usb_absent(void **state)
{
	struct board b;
	char err[256];

	(void)state;
	/* 1d6b is the Linux Foundation's id; product 0ffe names no real device */
	board_with(&b,
		   json_pack("{s:s, s:s, s:s, s:i}", "backend", "usb-relay", "vid", "1d6b", "pid",
			     "0ffe", "relay", 1),
		   NULL);
	assert_int_equal(b.power->on(&b, err, sizeof(err)), -1);
	assert_true(strstr(err, "no USB device 1d6b:0ffe") || strstr(err, "libusb"));
	board_release(&b);
	board_with(
	    &b, json_pack("{s:s, s:s, s:i}", "backend", "usb-hub", "location", "99-9.9", "port", 2),
	    NULL);
	assert_int_equal(b.power->off(&b, err, sizeof(err)), -1);
	assert_true(strstr(err, "at 99-9.9") || strstr(err, "libusb"));
	board_release(&b);
}

static void test_pdudaemon_unreachable(void **state)
{
	struct board b;
	char err[512];

	(void)state;
	board_with(&b,
		   json_pack("{s:s, s:s, s:s, s:i, s:i}", "backend", "pdudaemon", "url",
			     "http://127.0.0.1:1", "hostname", "pdu-1", "port", 3, "timeout_s", 2),
		   NULL);
	assert_int_equal(b.power->on(&b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/power/control/on?hostname=pdu-1&port=3"));
	board_release(&b);
}

static void test_qemu_cannot_start(void **state)
{
	struct board b;
	char err[512];

	(void)state;
	board_with(&b,
		   json_pack("{s:s, s:s, s:[s]}", "backend", "qemu", "machine", "no-such-machine",
			     "extra", "-S"),
		   json_pack("{s:s}", "backend", "qemu"));
	assert_int_equal(b.power->on(&b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "QEMU exited at once"));
	assert_non_null(strstr(err, "unsupported machine type"));
	assert_int_equal(b.power->alive(&b), 0);
	assert_int_equal(b.power->off(&b, err, sizeof(err)), 0);
	free(b.power_state);
	board_release(&b);
}

static void test_spool(void **state)
{
	struct spool_attempt *sa, *again;
	json_t *att = json_pack("{s:i}", "id", 7), *res;
	char buf[64];
	char *sdir = xasprintf("%s/spool", dir);

	(void)state;
	assert_int_equal(spool_open(&sa, sdir, 7, att, 20), 0);
	assert_int_equal(spool_append(sa, "hello ", 6), 0);
	assert_int_equal(spool_append(sa, "world\n", 6), 0);
	assert_int_equal(spool_append(sa, "0123456789", 10), -ENOSPC);
	assert_int_equal(sa->written, 12);
	assert_int_equal(spool_read(sa, 6, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "world\n", 6);
	assert_int_equal(spool_set_sent(sa, 6), 0);
	res = json_pack("{s:s}", "verdict", "pass");
	assert_int_equal(spool_set_result(sa, res), 0);
	json_decref(res);
	assert_true(spool_usage(sdir) == 12);
	spool_close(sa);
	/* an agent restart finds the attempt where it was */
	{
		char *d = xasprintf("%s/7", sdir);

		assert_int_equal(spool_reopen(&again, d, 0), 0);
		free(d);
	}
	assert_int_equal(again->id, 7);
	assert_int_equal(again->written, 12);
	assert_int_equal(again->sent, 6);
	res = spool_get_result(again);
	assert_string_equal(jstr(res, "verdict", ""), "pass");
	json_decref(res);
	res = spool_get_attempt(again);
	assert_int_equal(jint(res, "id", 0), 7);
	json_decref(res);
	spool_remove(again);
	spool_close(again);
	assert_true(spool_usage(sdir) == 0);
	json_decref(att);
	free(sdir);
}

/* At the verdict the runner cuts a QEMU board (SIGKILL, no QMP quit, no wait) and
 * powers it off once the result is delivered; off then only reaps it. A QEMU with
 * no machine, paused (-S), stands for the board. */
static void test_qemu_cut(void **state)
{
	struct board b;
	char err[512];
	pid_t pid;

	(void)state;
	board_with(
	    &b, json_pack("{s:s, s:s, s:[s]}", "backend", "qemu", "machine", "none", "extra", "-S"),
	    json_pack("{s:s}", "backend", "qemu"));
	assert_non_null(b.power->cut);
	assert_int_equal(b.power->cut(&b), -1); /* nothing runs */
	assert_int_equal(b.power->on(&b, err, sizeof(err)), 0);
	{
		char *pf = xasprintf("%s/qemu.pid", b.run_dir);
		FILE *f = fopen(pf, "r");
		int v = 0;

		assert_non_null(f);
		assert_int_equal(fscanf(f, "%d", &v), 1);
		fclose(f);
		free(pf);
		pid = (pid_t)v;
	}
	assert_true(pid > 0);
	assert_int_equal(b.power->cut(&b), 0);
	/* killed at once: the zombie waits for off to reap it */
	assert_int_equal(b.power->off(&b, err, sizeof(err)), 0);
	assert_int_equal(b.power->alive(&b), 0);
	assert_int_equal(kill(pid, 0), -1);
	/* and off of a board that was not cut still works */
	assert_int_equal(b.power->off(&b, err, sizeof(err)), 0);
	free(b.power_state);
	board_release(&b);
}

/* The acknowledged offset is saved every SPOOL_SENT_SAVE_EVERY bytes, when it goes
 * back, and at close, not at every acknowledgement (it was a synced file write per
 * log request); what a restart finds is never beyond what the controller has. */
static long long sent_file(const char *d)
{
	char *p = xasprintf("%s/sent", d);
	FILE *f = fopen(p, "r");
	long long v = -1;

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -2;
		fclose(f);
	}
	free(p);
	return v;
}

static void test_spool_sent_saved(void **state)
{
	struct spool_attempt *sa, *again;
	char *sdir = xasprintf("%s/spool", dir), *d = xasprintf("%s/spool/8", dir);
	static char chunk[SPOOL_SENT_SAVE_EVERY];

	(void)state;
	assert_int_equal(spool_open(&sa, sdir, 8, NULL, 0), 0);
	assert_int_equal(spool_append(sa, chunk, sizeof(chunk)), 0);
	assert_int_equal(spool_append(sa, chunk, sizeof(chunk)), 0);
	/* small acknowledgements: in memory only */
	assert_int_equal(spool_set_sent(sa, 100), 0);
	assert_int_equal(spool_set_sent(sa, 4000), 0);
	assert_true(sa->sent == 4000);
	assert_true(sent_file(d) == -1);
	/* a crash now: the restart sends from 0, which the controller skips */
	assert_int_equal(spool_reopen(&again, d, 0), 0);
	assert_true(again->sent == 0);
	spool_close(again);
	/* SPOOL_SENT_SAVE_EVERY more: saved */
	assert_int_equal(spool_set_sent(sa, SPOOL_SENT_SAVE_EVERY + 10), 0);
	assert_true(sent_file(d) == SPOOL_SENT_SAVE_EVERY + 10);
	assert_int_equal(spool_set_sent(sa, SPOOL_SENT_SAVE_EVERY + 20), 0);
	assert_true(sent_file(d) == SPOOL_SENT_SAVE_EVERY + 10);
	/* back (the controller has less, a 409): saved at once */
	assert_int_equal(spool_set_sent(sa, 50), 0);
	assert_true(sent_file(d) == 50);
	assert_int_equal(spool_set_sent(sa, 70), 0);
	assert_true(sent_file(d) == 50);
	/* close (the agent stops): the newest */
	spool_close(sa);
	assert_true(sent_file(d) == 70);
	assert_int_equal(spool_reopen(&again, d, 0), 0);
	assert_true(again->sent == 70);
	/* a removed spool is not made again by its close */
	assert_int_equal(spool_set_sent(again, 90), 0);
	spool_remove(again);
	spool_close(again);
	assert_int_equal(access(d, F_OK), -1);
	free(d);
	free(sdir);
}

/* The usb-relay backend's request against the 16c0:05df boards' protocol. The
 * setup packet is compared byte for byte with the one the usual host tools send
 * for "relay 2 on": usbrelay calls hidapi's hid_send_feature_report with
 * {0x00, 0xff, 0x02, 0...}, which hidapi's libusb backend (libusb/hid.c) sends
 * as a class/interface/out SET_REPORT with wValue (3 << 8) | report id 0 and
 * the report without its id byte: 21 09 00 03 00 00 08 00, then
 * ff 02 00 00 00 00 00 00 (not a usbmon capture of a board). The request is
 * fed to a model of the boards' firmware as their open firmware reads it
 * (u1f35c/usb-relay-firmware for the dcttech boards: a class SET_REPORT whose
 * wValue is feature report 0, command 0xff/0xfd, relay 1..N; anything else is
 * refused and switches nothing). No board is plugged in here: docs/boards.md
 * says what this leaves untested. */
struct relay_model {
	unsigned char state; /* bit N-1: relay N closed, as GET_REPORT's byte 7 */
	int refused;
};

static void relay_model_control(struct relay_model *m, const unsigned char setup[8],
				const unsigned char *data, size_t len)
{
	if ((setup[0] & 0x60) != 0x20 || setup[1] != 0x09 || setup[2] != 0 || setup[3] != 3 ||
	    len < 2) {
		m->refused++;
		return;
	}
	if ((data[0] != 0xff && data[0] != 0xfd) || data[1] < 1 || data[1] > 8) {
		m->refused++;
		return;
	}
	if (data[0] == 0xff)
		m->state |= (unsigned char)(1u << (data[1] - 1));
	else
		m->state &= (unsigned char)~(1u << (data[1] - 1));
}

static void setup_packet(unsigned char out[8], const struct usb_relay_request *rq)
{
	out[0] = rq->request_type;
	out[1] = rq->request;
	out[2] = rq->value & 0xff; /* little-endian, as on the wire */
	out[3] = rq->value >> 8;
	out[4] = rq->index & 0xff;
	out[5] = rq->index >> 8;
	out[6] = sizeof(rq->data);
	out[7] = 0;
}

static void test_usb_relay_protocol(void **state)
{
	static const unsigned char want_setup[8] = {0x21, 0x09, 0x00, 0x03, 0x00, 0x00, 0x08, 0x00};
	static const unsigned char want_on2[8] = {0xff, 0x02, 0, 0, 0, 0, 0, 0};
	static const unsigned char want_off2[8] = {0xfd, 0x02, 0, 0, 0, 0, 0, 0};
	struct relay_model m = {0};
	struct usb_relay_request rq;
	unsigned char setup[8];

	(void)state;
	power_usb_relay_request(&rq, 1, 2);
	setup_packet(setup, &rq);
	assert_memory_equal(setup, want_setup, 8);
	assert_memory_equal(rq.data, want_on2, 8);
	relay_model_control(&m, setup, rq.data, sizeof(rq.data));
	assert_int_equal(m.state, 0x02);
	power_usb_relay_request(&rq, 1, 8);
	relay_model_control(&m, setup, rq.data, sizeof(rq.data));
	assert_int_equal(m.state, 0x82);
	power_usb_relay_request(&rq, 0, 2);
	setup_packet(setup, &rq);
	assert_memory_equal(rq.data, want_off2, 8);
	relay_model_control(&m, setup, rq.data, sizeof(rq.data));
	assert_int_equal(m.state, 0x80);
	assert_int_equal(m.refused, 0);
	/* an output report (the CH551G boards' protocol) is not this one */
	setup[3] = 2;
	relay_model_control(&m, setup, rq.data, sizeof(rq.data));
	assert_int_equal(m.refused, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_command_power, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_console_refused, setup, teardown),
	    cmocka_unit_test(test_telnet_codec),
	    cmocka_unit_test_setup_teardown(test_uart_refuses_pty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_usb_absent, setup, teardown),
	    cmocka_unit_test(test_usb_relay_protocol),
	    cmocka_unit_test_setup_teardown(test_pdudaemon_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_cannot_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spool_sent_saved, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_cut, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
