/* Serving stored files (artifacts, console logs) with HTTP Range. */
#ifndef XENCI_FILES_H
#define XENCI_FILES_H

#include "http.h"

/* Replies with the file at path: 206 for one satisfiable Range, 416 (with a
 * Content-Range that names the size) when its first byte lies past the end, else 200
 * with the whole file; 404 when it does not exist. */
int http_files_serve(struct req *r, const char *path, const char *content_type);
/* The same for an open file, which it takes (closed when the reply is sent, or
 * at once on an error). The reply reads the file as the client takes it:
 * nothing of it is held in memory. */
int http_files_serve_fd(struct req *r, int fd, const char *content_type);
/* Parses a Range header h ("bytes=A-B", "bytes=A-" or "bytes=-N"; NULL when
 * absent) against a file of size bytes, per RFC 9110 14.2. Returns 0 with the
 * inclusive [*from, *to] inside the file (B past the end is clamped), -1 when the
 * range is unsatisfiable (A >= size, or "-0"), 1 when the header is to be ignored
 * and the whole file served (absent, another unit, invalid syntax, B < A, several
 * ranges, a suffix of an empty file). */
int http_files_range(const char *h, long long size, long long *from, long long *to);

#endif
