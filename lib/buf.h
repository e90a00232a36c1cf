/* A growable byte buffer with a maximum size. Every buffer that holds outside
 * input is bounded: appends past `max` fail with -ENOSPC and leave the buffer as
 * it was. The data is always NUL-terminated (the NUL is not counted in len). */
#ifndef XENCI_BUF_H
#define XENCI_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

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

/* An empty buffer of at most max bytes (0: unbounded), as BUF_INIT(max). */
void buf_init(struct buf *b, size_t max);
/* Frees the data; b is then empty with the same max. b may be NULL. */
void buf_release(struct buf *b);
/* Empties b and keeps its memory for the next appends. */
void buf_reset(struct buf *b);
/* Appends n bytes of p (copied; p stays the caller's). The appends return 0, or
 * -ENOSPC when the result would pass max (b is then as it was); memory
 * exhaustion aborts (xmalloc.h). buf_printf/buf_vprintf also return -EINVAL when
 * vsnprintf fails on fmt. */
static inline int buf_append(struct buf *b, const void *p, size_t n);
/* buf_append's way when the room is short: grows b (or fails), then appends. */
int buf_append_grow(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
/* Appends v in decimal ("-12"), without printf's cost (the pages' ids and
 * counts, JSON integers); buf_append's result. */
int buf_decimal(struct buf *b, long long v);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the data ("" when empty); the buffer keeps ownership. */
const char *buf_cstr(const struct buf *b);
/* Hands the data to the caller (who frees it; "" allocated when b was empty),
 * its length into *len when len is not NULL, and empties the buffer. */
char *buf_detach(struct buf *b, size_t *len);
/* Drops the first n bytes (all of them when n >= len). */
void buf_consume(struct buf *b, size_t n);

/* Inline, as the lists' JSON writers append a few bytes thousands of times a
 * request (a call, a check of room and a memcpy through the PLT each were a
 * third of db_json_row_write's time): with the room there and within max, the
 * bytes are copied here; else buf_append_grow. */
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->data && n < b->cap - b->len && (!b->max || n <= b->max - b->len)) {
		if (n)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append_grow(b, p, n);
}

#endif
