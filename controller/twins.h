/* The read side: every JSON document that /api/v1 and the status page both
 * serve (the twins of docs/api.md; a page renders the same document the API
 * returns), and what a viewer may see of private boards.
 *
 * A viewer (db-boards.h, filled by req_viewer) is admin, an agent, or anonymous
 * (NULL, or neither: users see what anonymous sees). Every function expects
 * ctl.lock held. Every json_t * returned is a new reference that the caller owns
 * (json_decref it, or hand it to reply_json, which takes it); NULL means unknown,
 * or not visible to v. */
#ifndef XENCI_TWINS_H
#define XENCI_TWINS_H

#include <jansson.h>
#include <stddef.h>

struct viewer;

/* The one visibility rule: a board is public, or private; a private board, its
 * attempts, their logs, its bisections and every count or name that would tell of
 * them are for admins and the board's own agent only. Every output applies it:
 * to anyone else a private board is as a board that does not exist.
 * twin_board_visible says 1 unless board name exists and v (NULL: anonymous) may
 * not see it. */
int twin_board_visible(const char *name, const struct viewer *v);

/* The board twin that GET /api/v1/boards/{name} and its page serve: the board as
 * v sees it (db_board_get) with its newest nattempts attempts, its class's
 * flake_rates as v sees them (triage_flake_rates), its reservation and
 * reservation_log (reservation_twin's); NULL when there is no such board or v may
 * not see it. Reads only: the read pool calls it without ctl.lock. */
json_t *twin_board(const char *name, int nattempts, const struct viewer *v);

/* The overview: boards grouped by agent (with the agent's last contact), what
 * runs, the queue depth, recent flights and bisections, as v sees them. */
json_t *twin_overview(const struct viewer *v);
/* The flight twin (its attempts and counts as v sees them, and its `verdict`:
 * db_flight_get()); NULL when id is not a flight or not positive. */
json_t *twin_flight(long long id, const struct viewer *v);
/* Flights newest first below before (0: all), each with its `verdict`. */
json_t *twin_flights(int limit, long long before, const struct viewer *v);
/* The attempt twin; NULL when id is not an attempt, not positive, or on a board v
 * may not see. */
json_t *twin_attempt(long long id, const struct viewer *v);

/* The branch twin (the matrix): the last `limit` flights of the branch × boards
 * (or board classes when by_class), and its gate. tree NULL or "": the first
 * tree. NULL when the tree or branch is not watched. */
json_t *twin_branch(const char *tree, const char *branch, int limit, int by_class,
		    const struct viewer *v);
/* Every tree with its branches, heads and gates (an empty array before the trees
 * start). */
json_t *twin_trees(void);

/* The events after id `after` (at most limit, oldest first) as the event stream
 * carries them to anyone: the events of private boards left out, and the names of
 * private boards taken out of the events that list boards (agent.declared). */
json_t *twin_events(long long after, int limit);

/* The bisection twin, whole (every viewer's check is twin_bisection_visible), or
 * NULL when unknown. */
json_t *twin_bisection(long long id);
/* {"bisections": [...]}: the newest, without their steps, whole (see
 * twin_bisections_filter). */
json_t *twin_bisections(int limit, long long before);
/* 1 when v (NULL: anonymous) may see every board twin names (its board, its
 * steps' runs'), else 0: a private board's bisection is its owner's and admins'.
 * twin is borrowed. */
int twin_bisection_visible(const json_t *twin, const struct viewer *v);
/* 1 with the agent into owner (size n) when twin is a bisection on a private
 * board (its own, or a step's run's: the first such board's agent), 0 when anyone
 * may see it. */
int twin_bisection_owner(char *owner, size_t n, const json_t *twin);
/* Drops from list (twin_bisections' reply, modified in place) the bisections v
 * may not see. */
void twin_bisections_filter(json_t *list, const struct viewer *v);

#endif
