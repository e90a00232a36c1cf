/* A growable byte buffer with a maximum size. Every buffer that holds outside
 * input is bounded: appends past `max` fail with -ENOSPC and leave the buffer as
 * it was. The data is always NUL-terminated (the NUL is not counted in len). */
#ifndef XENCI_BUF_H
#define XENCI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* 0: unbounded (only for data the program makes itself) */
};

#define BUF_INIT(maxsize)                                                                          \
	{                                                                                          \
		NULL, 0, 0, (maxsize)                                                              \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the data ("" when empty); the buffer keeps ownership. */
const char *buf_cstr(const struct buf *b);
/* Hands the data to the caller (who frees it) and empties the buffer. */
char *buf_detach(struct buf *b, size_t *len);
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);

#endif
