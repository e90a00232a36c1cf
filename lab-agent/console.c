#include "console.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "fs.h"
#include "json-util.h"

/* Adding a backend: one file (console-NAME.c) and one line here. */
const struct console_ops *const console_backends[] = {
    &console_qemu_ops,
    &console_tcp_ops,
    &console_uart_ops,
    NULL,
};

_Static_assert(offsetof(struct console_ops, name) == offsetof(struct backend_head, name) &&
		   offsetof(struct console_ops, fields) == offsetof(struct backend_head, fields),
	       "struct console_ops begins like struct backend_head");

const struct console_ops *console_find(const char *name)
{
	return backend_find((const void *const *)console_backends, name);
}

int console_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	return backend_section_check((const void *const *)console_backends, ctx, parent, key, value,
				     path);
}

ssize_t console_read(struct board *b, int fd, void *buf, size_t len)
{
	if (b->console->read)
		return b->console->read(b, fd, buf, len);
	return read(fd, buf, len);
}

int console_write(struct board *b, int fd, const void *buf, size_t len)
{
	if (b->console->write)
		return b->console->write(b, fd, buf, len);
	return fd_write_all(fd, buf, len);
}

size_t console_buffered(struct board *b)
{
	return b->console->buffered ? b->console->buffered(b) : 0;
}

int console_connect_unix(const char *path, int timeout_ms, int *fd, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	long long end = clock_mono_ms() + timeout_ms;
	int s = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
		close(s);
		s = -1;
		if (clock_mono_ms() >= end)
			return -1;
		usleep(20 * 1000);
	}
	*fd = s;
	return 0;
}

int console_connect_tcp(const char *host, const char *port, int timeout_ms, int *fd, char *err,
			size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	long long end = clock_mono_ms() + timeout_ms;
	int s = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (;;) {
		for (ai = res; ai; ai = ai->ai_next) {
			s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (s < 0)
				continue;
			if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
				goto out;
			snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port,
				 strerror(errno));
			close(s);
			s = -1;
		}
		if (clock_mono_ms() >= end)
			break;
		usleep(50 * 1000);
	}
out:
	freeaddrinfo(res);
	if (s < 0)
		return -1;
	{
		int one = 1;

		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	*fd = s;
	return 0;
}
