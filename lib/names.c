#include "names.h"

#include <stdlib.h>
#include <string.h>

int names_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name && i < n; i++)
		if (names[i] && !strcmp(name, names[i]))
			return i;
	return n;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void names_sort(char **names, size_t n)
{
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
}
