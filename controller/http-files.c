#include "http-files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-util.h"

int range_parse(const char *h, long long size, long long *from, long long *to)
{
	char *end;
	long long a, b;

	if (h == NULL || strncmp(h, "bytes=", 6))
		return 1;
	h += 6;
	if (strchr(h, ','))
		return 1; /* multiple ranges: serve the whole file */
	if (*h == '-') {
		errno = 0;
		b = strtoll(h + 1, &end, 10);
		if (*end || errno || b <= 0 || h[1] < '0' || h[1] > '9')
			return -1;
		if (size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 0;
	}
	if (*h < '0' || *h > '9')
		return -1;
	errno = 0;
	a = strtoll(h, &end, 10);
	if (errno || *end != '-')
		return -1;
	h = end + 1;
	if (*h == '\0') {
		b = size - 1;
	} else {
		if (*h < '0' || *h > '9')
			return -1;
		b = strtoll(h, &end, 10);
		if (*end || errno || b < a)
			return -1;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b;
	return 0;
}

int serve_file(struct req *r, const char *path, const char *content_type)
{
	struct MHD_Response *resp;
	struct stat sb;
	long long from = 0, to = 0;
	char hdr[96];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 || fstat(fd, &sb) < 0) {
		if (fd >= 0)
			close(fd);
		return reply_error(r, 404, "not found", json_string("no such file"));
	}
	rc = range_parse(req_header(r, "Range"), (long long)sb.st_size, &from, &to);
	if (rc < 0) {
		char body[160];
		int n;

		close(fd);
		n = snprintf(body, sizeof(body),
			     "{\"error\":\"range not satisfiable\",\"detail\":{\"size\":%lld}}",
			     (long long)sb.st_size);
		resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
		if (resp == NULL)
			return -ENOMEM;
		snprintf(hdr, sizeof(hdr), "bytes */%lld", (long long)sb.st_size);
		MHD_add_response_header(resp, "Content-Range", hdr);
		MHD_add_response_header(resp, "Content-Type", "application/json");
		return reply_response(r, 416, resp);
	}
	if (rc == 1) {
		from = 0;
		to = (long long)sb.st_size - 1;
	}
	if (sb.st_size == 0) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_fd_at_offset64((uint64_t)(to - from + 1), fd,
							       (uint64_t)from);
		if (resp == NULL)
			close(fd);
	}
	if (resp == NULL)
		return -ENOMEM;
	MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if (rc == 0) {
		snprintf(hdr, sizeof(hdr), "bytes %lld-%lld/%lld", from, to, (long long)sb.st_size);
		MHD_add_response_header(resp, "Content-Range", hdr);
		return reply_response(r, 206, resp);
	}
	return reply_response(r, 200, resp);
}
