/* Telnet's client side for consoles behind ser2net: see telnet.h. */
#include "telnet.h"

#include <assert.h>
#include <string.h>

enum { S_DATA, S_IAC, S_OPT, S_SB, S_SB_IAC, S_CR };

static void put(struct telnet *t, const unsigned char *p, size_t n)
{
	/* Replies are 3 bytes each and drained after every decode: room runs
	 * out only for a peer that floods requests; drop what does not fit. */
	if (t->outlen + n > sizeof(t->out))
		return;
	memcpy(t->out + t->outlen, p, n);
	t->outlen += n;
}

static void put_cmd(struct telnet *t, unsigned char cmd, unsigned char opt)
{
	unsigned char c[3] = {TELNET_IAC, cmd, opt};

	put(t, c, 3);
}

static int we_accept(const struct telnet *t, unsigned char opt, int ours)
{
	if (opt == TELNET_OPT_BINARY || opt == TELNET_OPT_SGA)
		return 1;
	return ours && t->rfc2217 && opt == TELNET_OPT_COM_PORT;
}

void telnet_init(struct telnet *t, int rfc2217)
{
	memset(t, 0, sizeof(*t));
	t->rfc2217 = rfc2217;
	t->baud_seen = -1;
	t->datasize_seen = t->parity_seen = t->stopsize_seen = -1;
	put_cmd(t, TELNET_DO, TELNET_OPT_BINARY);
	put_cmd(t, TELNET_WILL, TELNET_OPT_BINARY);
	put_cmd(t, TELNET_DO, TELNET_OPT_SGA);
	t->him[TELNET_OPT_BINARY] = t->us[TELNET_OPT_BINARY] = TELNET_ASKED;
	t->him[TELNET_OPT_SGA] = TELNET_ASKED;
	if (rfc2217) {
		put_cmd(t, TELNET_WILL, TELNET_OPT_COM_PORT);
		t->us[TELNET_OPT_COM_PORT] = TELNET_ASKED;
	}
}

static void refused(struct telnet *t, unsigned char opt)
{
	if (!t->refused) {
		t->refused = 1;
		t->refused_opt = opt;
	}
}

/* One WILL/WONT/DO/DONT from the peer (RFC 1143's rules without queues:
 * answer a change of state, never a confirmation or a refusal). */
static void option(struct telnet *t, unsigned char cmd, unsigned char opt)
{
	int ours = cmd == TELNET_DO || cmd == TELNET_DONT;
	int yes = cmd == TELNET_WILL || cmd == TELNET_DO;
	unsigned char *st = ours ? &t->us[opt] : &t->him[opt];
	unsigned char agree = ours ? TELNET_WILL : TELNET_DO;
	unsigned char deny = ours ? TELNET_WONT : TELNET_DONT;

	if (yes) {
		if (*st == TELNET_YES)
			return;
		if (!we_accept(t, opt, ours)) {
			put_cmd(t, deny, opt);
			*st = TELNET_NO;
			return;
		}
		if (*st == TELNET_NO)
			put_cmd(t, agree, opt);
		*st = TELNET_YES;
		return;
	}
	if (*st == TELNET_ASKED)
		refused(t, opt);
	else if (*st == TELNET_YES)
		put_cmd(t, deny, opt);
	*st = TELNET_NO;
}

/* A complete subnegotiation: only COM-PORT-OPTION's answers are read. */
static void subnegotiation(struct telnet *t)
{
	const unsigned char *s = t->sb;

	if (t->sblen < 3 || s[0] != TELNET_OPT_COM_PORT)
		return;
	switch (s[1]) {
	case 100 + TELNET_CPO_SET_BAUDRATE:
		if (t->sblen >= 6)
			t->baud_seen = (long long)s[2] << 24 | (long long)s[3] << 16 |
				       (long long)s[4] << 8 | s[5];
		break;
	case 100 + TELNET_CPO_SET_DATASIZE:
		t->datasize_seen = s[2];
		break;
	case 100 + TELNET_CPO_SET_PARITY:
		t->parity_seen = s[2];
		break;
	case 100 + TELNET_CPO_SET_STOPSIZE:
		t->stopsize_seen = s[2];
		break;
	default:
		break;
	}
}

size_t telnet_decode(struct telnet *t, const unsigned char *in, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = in[i];

		switch (t->state) {
		case S_CR:
			t->state = S_DATA;
			if (c == 0)
				break; /* CR NUL is a bare CR outside BINARY */
				       /* fall through */
		case S_DATA:
			if (c == TELNET_IAC) {
				t->state = S_IAC;
			} else {
				out[o++] = c;
				if (c == '\r' && t->him[TELNET_OPT_BINARY] != TELNET_YES)
					t->state = S_CR;
			}
			break;
		case S_IAC:
			t->negotiated = 1;
			t->state = S_DATA;
			if (c == TELNET_IAC) {
				out[o++] = c;
			} else if (c >= TELNET_WILL && c <= TELNET_DONT) {
				t->cmd = c;
				t->state = S_OPT;
			} else if (c == TELNET_SB) {
				t->sblen = 0;
				t->state = S_SB;
			}
			/* NOP, GA, BRK and the others carry no data */
			break;
		case S_OPT:
			option(t, t->cmd, c);
			t->state = S_DATA;
			break;
		case S_SB:
			if (c == TELNET_IAC)
				t->state = S_SB_IAC;
			else if (t->sblen < sizeof(t->sb))
				t->sb[t->sblen++] = c;
			break;
		case S_SB_IAC:
			if (c == TELNET_SE) {
				subnegotiation(t);
				t->state = S_DATA;
			} else {
				/* IAC IAC inside is a 0xFF of the value */
				if (c == TELNET_IAC && t->sblen < sizeof(t->sb))
					t->sb[t->sblen++] = c;
				t->state = S_SB;
			}
			break;
		default:
			assert(0);
		}
	}
	return o;
}

size_t telnet_encode(const struct telnet *t, const unsigned char *in, size_t n, unsigned char *out)
{
	int binary = t->us[TELNET_OPT_BINARY] == TELNET_YES;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		out[o++] = in[i];
		if (in[i] == TELNET_IAC)
			out[o++] = TELNET_IAC;
		else if (in[i] == '\r' && !binary)
			out[o++] = 0;
	}
	return o;
}

/* IAC SB COM-PORT-OPTION cmd value... IAC SE, a 0xFF in the value doubled. */
static void com_port(struct telnet *t, unsigned char cmd, const unsigned char *v, size_t n)
{
	unsigned char m[32];
	size_t i, o = 0;

	m[o++] = TELNET_IAC;
	m[o++] = TELNET_SB;
	m[o++] = TELNET_OPT_COM_PORT;
	m[o++] = cmd;
	for (i = 0; i < n; i++) {
		m[o++] = v[i];
		if (v[i] == TELNET_IAC)
			m[o++] = TELNET_IAC;
	}
	m[o++] = TELNET_IAC;
	m[o++] = TELNET_SE;
	put(t, m, o);
}

void telnet_com_port_set(struct telnet *t, unsigned baud, int datasize, int parity, int stopsize)
{
	unsigned char v[4];

	if (baud) {
		v[0] = (unsigned char)(baud >> 24);
		v[1] = (unsigned char)(baud >> 16);
		v[2] = (unsigned char)(baud >> 8);
		v[3] = (unsigned char)baud;
		com_port(t, TELNET_CPO_SET_BAUDRATE, v, 4);
	}
	if (datasize) {
		v[0] = (unsigned char)datasize;
		com_port(t, TELNET_CPO_SET_DATASIZE, v, 1);
	}
	if (parity) {
		v[0] = (unsigned char)parity;
		com_port(t, TELNET_CPO_SET_PARITY, v, 1);
	}
	if (stopsize) {
		v[0] = (unsigned char)stopsize;
		com_port(t, TELNET_CPO_SET_STOPSIZE, v, 1);
	}
}
