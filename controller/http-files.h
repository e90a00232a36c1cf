/* Serving stored files (artifacts, console logs) with HTTP Range. */
#ifndef XENCI_FILES_H
#define XENCI_FILES_H

#include "http.h"

/* Replies with the file at path: 200, 206 for a satisfiable Range, 416 otherwise,
 * 404 when it does not exist. */
int serve_file(struct req *r, const char *path, const char *content_type);
/* Parses "bytes=A-B", "bytes=A-" or "bytes=-N" against size: 0 with [*from, *to]
 * inclusive, 1 when there is no (usable) header, -1 when unsatisfiable. */
int range_parse(const char *h, long long size, long long *from, long long *to);

#endif
