/* Bearer tokens: roles, creation and checking. Only the SHA-256 of a token is
 * stored; a presented token is hashed and its hash compared in constant time. */
#ifndef XENCI_AUTH_H
#define XENCI_AUTH_H

#include <stddef.h>

#include "roles.h"

#define TOKEN_MAX 128

struct auth {
	enum role role;
	long long token_id;
	char agent[AGENT_NAME_MAX + 1]; /* role agent: the agent it is bound to */
	char name[TOKEN_NAME_MAX + 1];	/* the token's name, "" when it has none */
	int reserve;			/* it may reserve boards (an admin's grant) */
};

/* 1 when s is a valid agent or board name: [A-Za-z0-9._-], 1..64 characters. */
int auth_name_valid(const char *s);

/* Makes a token, stores its hash and writes it (printable once) into out.
 * agent: required for ROLE_AGENT, NULL otherwise. Returns 0, -EINVAL, or -EIO. */
int auth_token_create(char *out, size_t outlen, long long *id, enum role role, const char *agent,
		      const char *name);
/* Fills a from an "Authorization" header value (may be NULL: anonymous).
 * Returns 0 (anonymous or a valid token), or -EACCES for a wrong or revoked token. */
int auth_check(struct auth *a, const char *header);

/* How who is named in logs (a reservation's): a token's name, else "token N"; an
 * admin's starts "admin "; NULL is "controller". Into out (len bytes). */
void auth_who(char *out, size_t len, const struct auth *who);

#endif
