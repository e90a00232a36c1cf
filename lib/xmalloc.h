/* Allocation that cannot fail: on exhaustion the process aborts (tmux's xmalloc).
 * Used where a daemon has no sensible way to go on without the memory. */
#ifndef XENCI_XMALLOC_H
#define XENCI_XMALLOC_H

#include <stddef.h>

/* As malloc, calloc, realloc, strdup, strndup and asprintf, but never NULL: on
 * exhaustion (or an overflowing n * size, or a format vsnprintf refuses) they
 * call abort(). What they return is the caller's, to free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
