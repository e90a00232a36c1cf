#include "names.h"

#include <string.h>

int names_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name && i < n; i++)
		if (names[i] && !strcmp(name, names[i]))
			return i;
	return n;
}
