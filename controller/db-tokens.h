/* The tokens table (hashes only). */
#ifndef XENCI_DB_TOKENS_H
#define XENCI_DB_TOKENS_H

#include "auth.h"

int db_token_insert(long long *id, const char *hash, const char *role, const char *agent,
		    const char *name);
/* Fills a for the unrevoked token whose hash is hash: 0, or -ENOENT. */
int db_token_lookup(struct auth *a, const char *hash);
/* Revokes token id: 0, or -ENOENT when there is no such unrevoked token. */
int db_token_revoke(long long id);

#endif
