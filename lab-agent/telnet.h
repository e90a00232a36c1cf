/* The client side of telnet (RFC 854/855) and of RFC 2217's COM-PORT-OPTION,
 * as ser2net's telnet accepters speak them: a pure codec with no I/O, so that
 * the tcp console (console-tcp.c) and the tests drive the same bytes.
 *
 * Policy: BINARY and SUPPRESS-GO-AHEAD are accepted both ways, COM-PORT-OPTION
 * is offered (WILL) when rfc2217 is set, every other option is refused.
 * A refusal is never answered, so no negotiation loops (RFC 854's rule). */
#ifndef XENCI_AGENT_TELNET_H
#define XENCI_AGENT_TELNET_H

#include <stddef.h>

enum {
	TELNET_IAC = 255,
	TELNET_DONT = 254,
	TELNET_DO = 253,
	TELNET_WONT = 252,
	TELNET_WILL = 251,
	TELNET_SB = 250,
	TELNET_SE = 240,
	TELNET_OPT_BINARY = 0,
	TELNET_OPT_SGA = 3,
	TELNET_OPT_COM_PORT = 44,
	/* RFC 2217's client commands; the server answers with the code + 100 */
	TELNET_CPO_SET_BAUDRATE = 1,
	TELNET_CPO_SET_DATASIZE = 2,
	TELNET_CPO_SET_PARITY = 3,
	TELNET_CPO_SET_STOPSIZE = 4,
};

/* Where an option stands on one side (ours: WILL/WONT; the peer's: DO/DONT). */
enum telnet_opt { TELNET_NO = 0, TELNET_YES, TELNET_ASKED };

struct telnet {
	int state;		/* private: where the decoder is in a sequence */
	unsigned char cmd;	/* private: the WILL/WONT/DO/DONT being read */
	unsigned char us[256];	/* enum telnet_opt of our side of each option */
	unsigned char him[256]; /* enum telnet_opt of the peer's side */
	unsigned char sb[64];	/* the subnegotiation being read (longer ones cut) */
	size_t sblen;
	unsigned char out[512]; /* replies to send, in order; the caller drains it */
	size_t outlen;
	int rfc2217;		   /* offer COM-PORT-OPTION */
	int negotiated;		   /* the peer sent at least one IAC command */
	int refused;		   /* the peer refused an option we asked for ... */
	unsigned char refused_opt; /* ... this one (the first) */
	/* The peer's COM-PORT answers, -1 until seen. */
	long long baud_seen;
	int datasize_seen, parity_seen, stopsize_seen;
};

/* Starts t and queues our opening requests in t->out: DO/WILL BINARY, DO SGA
 * and, with rfc2217, WILL COM-PORT-OPTION. */
void telnet_init(struct telnet *t, int rfc2217);

/* Decodes n bytes from the peer into out (room for n bytes): the console's
 * data, IAC IAC unescaped, commands and subnegotiations removed (a CR NUL
 * outside BINARY is a CR). Answers to the peer's requests go to t->out.
 * Returns how many data bytes were written to out. */
size_t telnet_decode(struct telnet *t, const unsigned char *in, size_t n, unsigned char *out);

/* Escapes n bytes for the peer into out (room for 2 * n bytes): 0xFF doubled,
 * a CR outside BINARY followed by NUL. Returns the length written. */
size_t telnet_encode(const struct telnet *t, const unsigned char *in, size_t n, unsigned char *out);

/* Queues RFC 2217's SET-BAUDRATE, SET-DATASIZE, SET-PARITY and SET-STOPSIZE
 * in t->out; a value of 0 is left alone (not sent). parity: 1 none, 2 odd,
 * 3 even, 4 mark, 5 space; stopsize: 1, 2, or 3 for 1.5. */
void telnet_com_port_set(struct telnet *t, unsigned baud, int datasize, int parity, int stopsize);

#endif
