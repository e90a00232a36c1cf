#include "console.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json-util.h"

/* Adding a backend: one file (console-NAME.c) and one line here. */
const struct console_ops *const console_backends[] = {
    &console_qemu_ops,
    &console_tcp_ops,
    &console_uart_ops,
    NULL,
};

const struct console_ops *console_find(const char *name)
{
	size_t i;

	for (i = 0; console_backends[i]; i++)
		if (!strcmp(console_backends[i]->name, name))
			return console_backends[i];
	return NULL;
}

int console_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	const json_t *be = json_object_get(value, "backend");
	const struct console_ops *ops;
	char p[256];
	size_t i;

	snprintf(p, sizeof(p), "%s.backend", path);
	if (be == NULL) {
		vctx_error(ctx, parent, key, 0, path, "missing required field \"backend\"");
		return -1;
	}
	if (!json_is_string(be) || (ops = console_find(json_string_value(be))) == NULL) {
		struct buf known = BUF_INIT(0);

		for (i = 0; console_backends[i]; i++)
			buf_printf(&known, "%s%s", i ? ", " : "", console_backends[i]->name);
		vctx_error(ctx, value, "backend", 0, p, "unknown backend \"%s\" (known: %s)",
			   json_is_string(be) ? json_string_value(be) : "?", buf_cstr(&known));
		buf_release(&known);
		return -1;
	}
	return validate_object(ctx, ops->fields, parent, key, 0, value, path);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int console_connect_unix(const char *path, int timeout_ms, int *fd, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	long long end = mono_ms() + timeout_ms;
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
		if (mono_ms() >= end)
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
	long long end = mono_ms() + timeout_ms;
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
		if (mono_ms() >= end)
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
