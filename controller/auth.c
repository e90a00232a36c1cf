#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db-tokens.h"
#include "hash.h"

int auth_name_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n >= 1 && n <= AGENT_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		   n &&
	       s[0] != '.' && s[0] != '-';
}

int auth_token_create(char *out, size_t outlen, long long *id, enum role role, const char *agent,
		      const char *name)
{
	char hash[SHA256_HEX_LEN + 1];

	if (role == ROLE_NONE || (role == ROLE_AGENT) != (agent != NULL) ||
	    (agent && !auth_name_valid(agent)))
		return -EINVAL;
	if (token_generate(out, outlen, "xci_") < 0 || sha256_hex(hash, out, strlen(out)) < 0)
		return -EIO;
	return db_token_insert(id, hash, role, agent, name);
}

int auth_check(struct auth *a, const char *header)
{
	char hash[SHA256_HEX_LEN + 1];
	struct db_token t;
	const char *tok;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (header == NULL)
		return 0;
	if (strncasecmp(header, "Bearer ", 7))
		return -EACCES;
	tok = header + 7;
	while (*tok == ' ')
		tok++;
	n = strlen(tok);
	if (n == 0 || n > TOKEN_MAX)
		return -EACCES;
	if (sha256_hex(hash, tok, n) < 0)
		return -EACCES;
	if (db_token_lookup(&t, hash) < 0)
		return -EACCES;
	a->role = t.role;
	a->token_id = t.id;
	snprintf(a->agent, sizeof(a->agent), "%s", t.agent);
	snprintf(a->name, sizeof(a->name), "%s", t.name);
	a->reserve = t.reserve;
	return 0;
}

void auth_who(char *out, size_t len, const struct auth *who)
{
	char base[TOKEN_NAME_MAX + 32];

	if (who == NULL) {
		snprintf(out, len, "controller");
		return;
	}
	if (who->name[0])
		snprintf(base, sizeof(base), "%s", who->name);
	else
		snprintf(base, sizeof(base), "token %lld", who->token_id);
	snprintf(out, len, "%s%s", who->role == ROLE_ADMIN ? "admin " : "", base);
}
