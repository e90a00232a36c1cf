/* A board's trust policy: what its partner allows to run on it. The board file's
 * `policy:` section (lab-agent) and the declare call's `policy` member (controller)
 * are the same document, validated by the one table policy_fields; the controller
 * schedules only what policy_allows() takes, and the agent checks every claim with
 * the same function. docs/boards.md ("Trust policy") describes the words.
 *
 *	policy: {kinds: [push, bisect], trees: [xen], branches: ['staging*'],
 *	         users: ['alice'], reserve: true}
 *
 * Every member is optional; an absent member allows everything of its kind (a board
 * without a policy runs anything, as before policies existed), reserve excepted
 * (absent: no reservations). */
#ifndef XENCI_POLICY_H
#define XENCI_POLICY_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "validate.h"

/* The flight kinds a policy names, as flights carry them (NULL-terminated). */
extern const char *const policy_kinds[];
/* The validator table of a policy object (board file and declare body alike). */
extern const struct vfield policy_fields[];

/* What a claim says about the code it runs: its flight's kind (push, bisect,
 * submission, manual), tree, ref ("refs/heads/NAME" for a push flight, or NULL)
 * and the name of the user who made it (submission and manual flights; NULL or
 * "" when none). All borrowed. */
struct policy_subject {
	const char *kind, *tree, *ref, *user;
};

/* 1 when kind is code the lab watches (push and bisect flights), 0 for code
 * from anyone (submission, manual, or an unknown kind). */
int policy_kind_trusted(const char *kind);

/* 1 when policy (an object validated by policy_fields, or NULL: no policy) allows
 * subject s; else 0 and one sentence in why (why may be NULL). A health check
 * (s->kind NULL: no flight) is always allowed. */
int policy_allows(const json_t *policy, const struct policy_subject *s, char *why, size_t whylen);

/* 1 when policy lets users reserve the board. */
int policy_reservable(const json_t *policy);

/* The policy in words, one sentence per member, appended to out ("Runs push and
 * bisect flights. Trees: xen. ..."); "Runs anything." for none. */
void policy_describe(struct buf *out, const json_t *policy);

#endif
