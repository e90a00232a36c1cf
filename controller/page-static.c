/* Which files of web/ the page serves, and as what. */
#include <string.h>

#include "page.h"

static const struct {
	const char *ext, *type;
} static_types[] = {
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {NULL, NULL},
};

const char *page_static_type(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t i, n = strlen(name);

	if (!dot || dot == name || strchr(dot + 1, '.') || n > 64)
		return NULL;
	for (i = 0; name + i < dot; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return NULL;
	}
	for (i = 0; static_types[i].ext; i++)
		if (!strcmp(dot, static_types[i].ext))
			return static_types[i].type;
	return NULL;
}
