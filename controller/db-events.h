/* The events table: one row per state transition, in the same transaction.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_DB_EVENTS_H
#define XENCI_DB_EVENTS_H

#include <jansson.h>

/* Appends an event of type ("attempt.claimed", "agent.declared", ...; docs/api.md
 * "Events") about attempt (0: none) and board (NULL or "": none) with data (an
 * object, borrowed), timed now; its id into *id: 0, or -EIO. */
int db_event_insert(long long *id, const char *type, long long attempt, const char *board,
		    const json_t *data);
/* Events with id > after, oldest first, at most limit: [{id, type, time, data}]. */
json_t *db_events_after(long long after, int limit);
/* The newest event's id; 0 when there is none or the store failed. */
long long db_events_last(void);

#endif
