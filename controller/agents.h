/* Lab agents: what an agent declares about itself and its boards. ctl.lock held. */
#ifndef XENCI_AGENTS_H
#define XENCI_AGENTS_H

#include <jansson.h>
#include <stddef.h>

/* Records agent's declaration in one transaction with its event
 * (agent.declared): the agent (version may be NULL; builder: its declared
 * builder object {arches, untrusted}, or NULL or null when it does not build),
 * its boards (each an object as api_declare_fields validated
 * it) and, offline, the boards it no longer declares. Returns 0 and *out the
 * agent's boards as stored (a new reference: the caller's); or, with err and
 * *out NULL: -EEXIST (a board belongs to another agent), -EINVAL (a board is
 * declared twice), -EIO. With the controller's examine_job set, each board
 * never examined or whose file_sha256 changed since its last examine is due
 * (db_board_upsert) and gets a flight of that job pinned to it, at the first
 * tree's tested revision (else its first branch's head), unless one is under
 * way; a flight that cannot be made is logged and the board stays due. */
int agent_declare(json_t **out, const char *agent, const char *version, const json_t *builder,
		  const json_t *boards, char *err, size_t errlen);

#endif
