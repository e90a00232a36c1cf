#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xcheck(void *p)
{
	if (p == NULL)
		abort();
	return p;
}

void *xmalloc(size_t size)
{
	return xcheck(malloc(size ? size : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return xcheck(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t size)
{
	return xcheck(realloc(p, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return xcheck(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return xcheck(strndup(s, n));
}

char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}
