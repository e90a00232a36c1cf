/* The tokens table (hashes only). */
#ifndef XENCI_DB_TOKENS_H
#define XENCI_DB_TOKENS_H

#include <stddef.h>

#include "roles.h"

/* One unrevoked token as stored. */
struct db_token {
	long long id;
	enum role role;
	char agent[AGENT_NAME_MAX + 1]; /* "" unless role is ROLE_AGENT */
	char name[TOKEN_NAME_MAX + 1];	/* "" for an unnamed token */
	int reserve;			/* the right to reserve boards (tokens.reserve) */
};

/* Stores a token's hash with its role (not ROLE_NONE), agent (or NULL) and name.
 * Returns 0 and the new row's id in *id, or -EIO. */
int db_token_insert(long long *id, const char *hash, enum role role, const char *agent,
		    const char *name);
/* Fills t for the unrevoked token whose hash is hash: 0, or -ENOENT (t is then
 * cleared). */
int db_token_lookup(struct db_token *t, const char *hash);
/* The name of token id (revoked or not) into out: 0, or -ENOENT (out is then ""). */
int db_token_name(char *out, size_t outlen, long long id);
/* Grants (1) or takes back (0) token id's right to reserve boards: 0, -EIO. */
int db_token_set_reserve(long long id, int on);
/* Revokes token id: 0, or -ENOENT when there is no such unrevoked token. */
int db_token_revoke(long long id);
/* 1 when token id exists and is not revoked, else 0 (an open stream checks the
 * token it was opened with before each event). */
int db_token_live(long long id);

#endif
