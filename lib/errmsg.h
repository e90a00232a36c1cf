/* One error message for the caller: the `char *err, size_t errlen` half of the
 * error convention (STYLE.md: a negative errno code is returned, the one line
 * that says why goes into the caller's buffer). */
#ifndef XENCI_ERRMSG_H
#define XENCI_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (errlen bytes, cut and NUL-terminated there);
 * nothing when err is NULL or errlen 0, so that a caller that does not want the
 * text passes NULL, 0. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
