/* Raw sockets for the tests where a client library would normalise the request
 * (duplicate headers, bytes on a connection that stays idle): see harness.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

int harness_connect(int port, const char *src)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (src) {
		inet_pton(AF_INET, src, &sin.sin_addr);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			fprintf(stderr, "bind %s: %s\n", src, strerror(errno));
			close(fd);
			return -1;
		}
	}
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "connect 127.0.0.1:%d: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int harness_send(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int harness_read_until(int fd, char *out, size_t outlen, const char *needle, int ms)
{
	long long deadline = harness_now_ms() + ms;
	size_t len = strlen(out);

	while (!needle || !strstr(out, needle)) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - harness_now_ms();
		ssize_t n;

		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, out + len, outlen - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != ECONNRESET)
			return 0;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		out[len] = '\0';
		if (len == outlen - 1)
			break;
	}
	return 1;
}

int harness_raw(int port, const char *src, const char *req, char *out, size_t outlen, int ms)
{
	int fd = harness_connect(port, src), rc;

	out[0] = '\0';
	if (fd < 0)
		return -1;
	if (harness_send(fd, req, strlen(req)) < 0) {
		close(fd);
		return -1;
	}
	rc = harness_read_until(fd, out, outlen, NULL, ms);
	close(fd);
	return rc == 1 ? -1 : harness_status(out);
}

int harness_status(const char *reply)
{
	int status;

	if (sscanf(reply, "HTTP/1.%*1d %3d", &status) != 1)
		return -1;
	return status;
}

int harness_header_count(const char *reply, const char *name, char *value, size_t len)
{
	const char *end = strstr(reply, "\r\n\r\n"), *line = strstr(reply, "\r\n");
	size_t nlen = strlen(name);
	int count = 0;

	if (value && len)
		value[0] = '\0';
	while (line && end && line < end) {
		line += 2;
		if (!strncasecmp(line, name, nlen) && line[nlen] == ':') {
			const char *v = line + nlen + 1, *eol = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			if (value && len && count == 0)
				snprintf(value, len, "%.*s", (int)(eol - v), v);
			count++;
		}
		line = strstr(line, "\r\n");
	}
	return count;
}
