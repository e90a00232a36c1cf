#include "roles.h"

#include <string.h>

static const char *const role_names[] = {
    [ROLE_NONE] = "anonymous",
    [ROLE_USER] = "user",
    [ROLE_AGENT] = "agent",
    [ROLE_ADMIN] = "admin",
};

const char *role_name(enum role r)
{
	return role_names[r];
}

enum role role_parse(const char *s)
{
	int i;

	for (i = ROLE_USER; s && i <= ROLE_ADMIN; i++)
		if (!strcmp(s, role_names[i]))
			return (enum role)i;
	return ROLE_NONE;
}
