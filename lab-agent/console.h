/* Console backends: one file each (console-NAME.c), found by name in console.c's
 * table. A console is a file descriptor the runner polls and reads. */
#ifndef XENCI_AGENT_CONSOLE_H
#define XENCI_AGENT_CONSOLE_H

#include <stddef.h>
#include <sys/types.h>

#include "board.h"
#include "validate.h"

struct console_ops {
	const char *name;
	const struct vfield *fields;
	/* 1: opened after power-on (QEMU creates its socket when it starts);
	 * 0: opened before, so that no early byte is lost. */
	int after_power_on;
	/* 1: read as the bytes come, not batched every RUNNER_READ_EVERY_MS (runner.h).
	 * A QEMU board's console: its emulator takes a core, beside which the agent's
	 * wakeups cost nothing, and a line (the verdict's) is seen at once. */
	int read_at_once;
	/* Opens the console; *fd is readable with poll/read. timeout_ms bounds the wait. */
	int (*open)(struct board *b, int *fd, int timeout_ms, char *err, size_t errlen);
	void (*close)(struct board *b, int fd);
	/* Optional, for a console with a protocol (telnet): read(2) of the
	 * console's data; -1 with EAGAIN when what came was only protocol. */
	ssize_t (*read)(struct board *b, int fd, void *buf, size_t len);
	/* Optional: writes all of buf to the board, escaped as the protocol
	 * wants; 0 or -errno. */
	int (*write)(struct board *b, int fd, const void *buf, size_t len);
	/* Optional: bytes read already and not yet handed out by read. */
	size_t (*buffered)(struct board *b);
	/* Optional: the console closed under the runner (read returned n, with
	 * read_errno when n < 0). Writes why into why (why_len bytes) and
	 * returns 1 when the loss ends the attempt as infra (a serial adapter
	 * that hung up: what the board wrote since is lost, so nothing later can
	 * be judged, as labgrid's SerialDriver ends on pyserial's error), 0 to
	 * let the runner reconnect for CONSOLE_LOST_MS (a TCP console). Without
	 * it the runner reconnects. */
	int (*lost)(struct board *b, ssize_t n, int read_errno, char *why, size_t why_len);
};

extern const struct console_ops *const console_backends[];
const struct console_ops *console_find(const char *name);
int console_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path);

/* The board's console, through the backend's read, write and buffered when
 * it has them, else plain read(2) and fd_write_all: console_read returns as
 * read(2) does, console_write 0 or -errno, console_buffered a byte count. */
ssize_t console_read(struct board *b, int fd, void *buf, size_t len);
int console_write(struct board *b, int fd, const void *buf, size_t len);
size_t console_buffered(struct board *b);

extern const struct console_ops console_qemu_ops, console_tcp_ops, console_uart_ops;

/* Connects to a unix socket or host:port, retrying until timeout_ms; 0 or -1 (err). */
int console_connect_unix(const char *path, int timeout_ms, int *fd, char *err, size_t errlen);
int console_connect_tcp(const char *host, const char *port, int timeout_ms, int *fd, char *err,
			size_t errlen);

#endif
