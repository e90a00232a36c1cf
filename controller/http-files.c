#include "http-files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-util.h"

/* Reads a run of digits at *p (at least one), saturating at LLONG_MAX; -1 when
 * there is none. */
static long long range_digits(const char **p)
{
	const char *s = *p;
	long long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v > (LLONG_MAX - (*s - '0')) / 10 ? LLONG_MAX : v * 10 + (*s - '0');
	*p = s;
	return v;
}

/* RFC 9110 14.1.1 and 14.2: an invalid ranges-specifier (another unit, garbage,
 * last-pos < first-pos) is ignored, not refused; a last-pos past the end is
 * clamped; only a first-pos at or past the end (or a zero-length suffix) is
 * unsatisfiable. Several ranges are answered with the whole file, which 14.2
 * allows. */
int http_files_range(const char *h, long long size, long long *from, long long *to)
{
	long long a, b;

	if (h == NULL || strncasecmp(h, "bytes=", 6))
		return 1;
	h += 6;
	if (strchr(h, ','))
		return 1;
	if (*h == '-') {
		h++;
		if ((b = range_digits(&h)) < 0 || *h)
			return 1;
		if (b == 0)
			return -1;
		if (size == 0)
			return 1; /* nothing to cut: the whole (empty) file */
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 0;
	}
	if ((a = range_digits(&h)) < 0 || *h++ != '-')
		return 1;
	if (*h == '\0') {
		b = LLONG_MAX;
	} else if ((b = range_digits(&h)) < 0 || *h || b < a) {
		return 1;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return 0;
}

int http_files_serve(struct req *r, const char *path, const char *content_type)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return reply_error(r, 404, "not found", json_string("no such file"));
	return http_files_serve_fd(r, fd, content_type);
}

int http_files_serve_fd(struct req *r, int fd, const char *content_type)
{
	struct MHD_Response *resp;
	struct stat sb;
	long long from = 0, to = 0;
	char hdr[96];
	int rc;

	if (fstat(fd, &sb) < 0) {
		close(fd);
		return reply_error(r, 404, "not found", json_string("no such file"));
	}
	rc = http_files_range(req_header(r, "Range"), (long long)sb.st_size, &from, &to);
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
