/* A TCP console, as ser2net serves a UART: `protocol` raw (ser2net's tcp
 * accepter), telnet (its telnet accepter: RFC 854/855 negotiation, IAC
 * escaping both ways) or rfc2217 (telnet(rfc2217): the line's baud rate, data
 * size, parity and stop bits set through RFC 2217 from the board file). The
 * telnet codec is telnet.c; this file does the I/O around it. */
#include "console.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fs.h"
#include "json-util.h"
#include "telnet.h"
#include "xmalloc.h"

/* How long the telnet options may take to settle once connected, at least. */
#define NEGOTIATE_MIN_MS 2000

static int check_port(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
		vctx_error(ctx, parent, key, 0, path, "must be a TCP port (1 to 65535)");
		return -1;
	}
	return 0;
}

/* The line settings travel only through RFC 2217: given with raw or telnet
 * they would be silently ignored, so --check refuses them there. */
static int check_line(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	const char *proto = jstr(parent, "protocol", "raw");

	(void)v;
	if (strcmp(proto, "rfc2217")) {
		vctx_error(ctx, parent, key, 0, path,
			   "%s is set through RFC 2217 only (protocol: rfc2217); with %s, set it "
			   "in ser2net's connector",
			   key, proto);
		return -1;
	}
	return 0;
}

static const char *const protocols[] = {"raw", "telnet", "rfc2217", NULL};
static const char *const parities[] = {"none", "odd", "even", "mark", "space", NULL};

static const struct vfield tcp_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "host",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "ser2net's host",
     .min = 1,
     .max = 255},
    {.name = "port",
     .type = V_INT,
     .flags = V_REQUIRED,
     .help = "ser2net's TCP port",
     .check = check_port},
    {.name = "protocol",
     .type = V_STRING,
     .help = "ser2net's accepter: raw (tcp), telnet, rfc2217 (telnet(rfc2217))",
     .choices = protocols},
    {.name = "baud", .type = V_INT, .min = 50, .max = 4000000, .check = check_line},
    {.name = "data_bits", .type = V_INT, .min = 5, .max = 8, .check = check_line},
    {.name = "parity", .type = V_STRING, .choices = parities, .check = check_line},
    {.name = "stop_bits", .type = V_INT, .min = 1, .max = 2, .check = check_line},
    {.name = "connect_timeout_ms", .type = V_INT, .min = 1, .max = 600000},
    {.name = NULL},
};

/* One open telnet console (b->console_state): the codec and the data that
 * came while the options settled, handed out before the socket is read again.
 * The codec comes first: b->console_state is a struct telnet * to those who
 * look at what the server answered (tests). */
struct tcp_telnet {
	struct telnet t; /* first */
	unsigned char pending[4096];
	size_t pending_len, pending_off;
};

static int flush_replies(struct telnet *t, int fd)
{
	int rc = fd_write_all(fd, t->out, t->outlen);

	t->outlen = 0;
	if (rc < 0)
		errno = -rc;
	return rc;
}

static int parity_code(const char *s)
{
	static const char *const codes[] = {"none", "odd", "even", "mark", "space"};
	int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(s, codes[i]))
			return i + 1;
	return 0;
}

/* What is still unanswered, for the message when time runs out. */
static const char *waiting_for(const struct telnet *t, int line)
{
	if (!t->negotiated)
		return "no telnet negotiation at all (is ser2net's accepter raw tcp, not "
		       "telnet?)";
	if (t->rfc2217 && t->us[TELNET_OPT_COM_PORT] != TELNET_YES)
		return "no answer to WILL COM-PORT-OPTION (is the accepter telnet without "
		       "(rfc2217)?)";
	if (line)
		return "no answer to the RFC 2217 line settings";
	return "no answer to the telnet options";
}

/* Settled: every option we asked for is answered, and with rfc2217 every
 * line setting we sent. */
static int settled(const struct telnet *t, const json_t *cfg)
{
	if (t->him[TELNET_OPT_BINARY] == TELNET_ASKED || t->us[TELNET_OPT_BINARY] == TELNET_ASKED ||
	    t->him[TELNET_OPT_SGA] == TELNET_ASKED)
		return 0;
	if (!t->rfc2217)
		return 1;
	if (t->us[TELNET_OPT_COM_PORT] != TELNET_YES)
		return 0;
	return (!json_object_get(cfg, "baud") || t->baud_seen >= 0) &&
	       (!json_object_get(cfg, "data_bits") || t->datasize_seen >= 0) &&
	       (!json_object_get(cfg, "parity") || t->parity_seen >= 0) &&
	       (!json_object_get(cfg, "stop_bits") || t->stopsize_seen >= 0);
}

/* Negotiates on a connected socket until settled; data that comes meanwhile
 * is kept in tt->pending. 0, or -1 with err. */
static int negotiate(struct board *b, struct tcp_telnet *tt, int fd, int timeout_ms, char *err,
		     size_t errlen)
{
	const json_t *cfg = b->console_cfg;
	const char *where = jstr(cfg, "host", "");
	long long port = jint(cfg, "port", 0);
	long long end = clock_mono_ms() + timeout_ms;
	int line_sent = 0;

	for (;;) {
		unsigned char in[1024], data[1024];
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long left;
		ssize_t n;
		size_t d;

		if (tt->t.rfc2217 && !line_sent && tt->t.us[TELNET_OPT_COM_PORT] == TELNET_YES) {
			telnet_com_port_set(
			    &tt->t, (unsigned)jint(cfg, "baud", 0), (int)jint(cfg, "data_bits", 0),
			    parity_code(jstr(cfg, "parity", "")), (int)jint(cfg, "stop_bits", 0));
			line_sent = 1;
		}
		if (flush_replies(&tt->t, fd) < 0) {
			snprintf(err, errlen, "%s:%lld: telnet: %s", where, port, strerror(errno));
			return -1;
		}
		if (tt->t.rfc2217 && tt->t.refused && tt->t.refused_opt == TELNET_OPT_COM_PORT) {
			snprintf(err, errlen,
				 "%s:%lld: the telnet server refused RFC 2217 (DONT "
				 "COM-PORT-OPTION): is ser2net's accepter telnet(rfc2217)?",
				 where, port);
			return -1;
		}
		if (settled(&tt->t, cfg))
			return 0;
		left = end - clock_mono_ms();
		if (left <= 0) {
			snprintf(err, errlen,
				 "%s:%lld: telnet negotiation did not settle within %d ms: %s",
				 where, port, timeout_ms, waiting_for(&tt->t, line_sent));
			return -1;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen,
				 "%s:%lld: the telnet server closed the connection "
				 "while negotiating%s%s",
				 where, port, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			return -1;
		}
		d = telnet_decode(&tt->t, in, (size_t)n, data);
		if (d > sizeof(tt->pending) - tt->pending_len)
			d = sizeof(tt->pending) - tt->pending_len; /* the rest is lost, bounded */
		memcpy(tt->pending + tt->pending_len, data, d);
		tt->pending_len += d;
	}
}

static void tcp_close(struct board *b, int fd)
{
	free(b->console_state);
	b->console_state = NULL;
	if (fd >= 0)
		close(fd);
}

static int tcp_open(struct board *b, int *fd, int timeout_ms, char *err, size_t errlen)
{
	const char *proto = jstr(b->console_cfg, "protocol", "raw");
	char port[16];
	int t = (int)jint(b->console_cfg, "connect_timeout_ms", timeout_ms);
	struct tcp_telnet *tt;
	int s;

	snprintf(port, sizeof(port), "%lld", jint(b->console_cfg, "port", 0));
	if (console_connect_tcp(jstr(b->console_cfg, "host", "127.0.0.1"), port, t, &s, err,
				errlen) < 0)
		return -1;
	if (!strcmp(proto, "raw")) {
		*fd = s;
		return 0;
	}
	free(b->console_state); /* a reconnect after a lost console */
	tt = xcalloc(1, sizeof(*tt));
	b->console_state = tt;
	telnet_init(&tt->t, !strcmp(proto, "rfc2217"));
	if (negotiate(b, tt, s, t > NEGOTIATE_MIN_MS ? t : NEGOTIATE_MIN_MS, err, errlen) < 0) {
		tcp_close(b, s);
		return -1;
	}
	*fd = s;
	return 0;
}

static ssize_t tcp_read(struct board *b, int fd, void *buf, size_t len)
{
	struct tcp_telnet *tt = b->console_state;
	unsigned char in[4096];
	ssize_t n;
	size_t d;

	if (tt == NULL)
		return read(fd, buf, len);
	if (tt->pending_off < tt->pending_len) {
		d = tt->pending_len - tt->pending_off;
		if (d > len)
			d = len;
		memcpy(buf, tt->pending + tt->pending_off, d);
		tt->pending_off += d;
		return (ssize_t)d;
	}
	if (len > sizeof(in))
		len = sizeof(in);
	n = read(fd, in, len);
	if (n <= 0)
		return n;
	d = telnet_decode(&tt->t, in, (size_t)n, buf);
	if (tt->t.outlen && flush_replies(&tt->t, fd) < 0)
		return -1;
	if (d == 0) {
		errno = EAGAIN; /* only telnet commands: no data, and not the end */
		return -1;
	}
	return (ssize_t)d;
}

static size_t tcp_buffered(struct board *b)
{
	const struct tcp_telnet *tt = b->console_state;

	return tt ? tt->pending_len - tt->pending_off : 0;
}

static int tcp_write(struct board *b, int fd, const void *buf, size_t len)
{
	const struct tcp_telnet *tt = b->console_state;
	const unsigned char *p = buf;
	unsigned char out[2048];

	if (tt == NULL)
		return fd_write_all(fd, buf, len);
	while (len) {
		size_t n = len > sizeof(out) / 2 ? sizeof(out) / 2 : len;
		int rc = fd_write_all(fd, out, telnet_encode(&tt->t, p, n, out));

		if (rc < 0)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

const struct console_ops console_tcp_ops = {
    .name = "tcp",
    .fields = tcp_fields,
    .after_power_on = 0,
    .open = tcp_open,
    .close = tcp_close,
    .read = tcp_read,
    .write = tcp_write,
    .buffered = tcp_buffered,
};
