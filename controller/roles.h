/* The roles a token carries, below both the auth module (auth.c) and the token
 * table (db-tokens.c), so that neither needs the other's header for them. */
#ifndef XENCI_ROLES_H
#define XENCI_ROLES_H

enum role { ROLE_NONE = 0, ROLE_USER, ROLE_AGENT, ROLE_ADMIN };

#define AGENT_NAME_MAX 64
/* A token's name (POST /tokens "name"): who a user is to policies and reservations. */
#define TOKEN_NAME_MAX 128

/* The role's name ("anonymous" for ROLE_NONE): a static string. */
const char *role_name(enum role r);
/* The role named s; ROLE_NONE for NULL or an unknown name. */
enum role role_parse(const char *s);

#endif
