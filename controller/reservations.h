/* Reservations: a user's time-limited hold on a board (docs/boards.md,
 * "Reservations"). While a board has an active reservation no attempt is
 * scheduled on it (the one it runs finishes); its holder may power it through
 * its agent. Every action is logged (who, when, what). Board commands (power
 * on, off, cycle) go to the board's agent in the reply of a claim that lists the
 * board free. All functions: ctl.lock held; each takes its own transaction. */
#ifndef XENCI_RESERVATIONS_H
#define XENCI_RESERVATIONS_H

#include <jansson.h>
#include <stddef.h>

#include "auth.h"

#define RESERVATION_DEFAULT_S (60 * 60)
#define RESERVATION_MAX_S     (7 * 24 * 60 * 60)

/* Reserves board for who (a user with the reserve right, or an admin) for seconds
 * (1..RESERVATION_MAX_S). Returns 0 and *out (new reference: the reservation as
 * reservation_twin's "reservation" shows it), or a negative errno with one
 * sentence in err: -ENOENT (no such board, or one who may not see), -EPERM (the
 * board's policy allows no reservations), -EACCES (who lacks the right), -EEXIST
 * (reserved already, by whom and until when), -EIO. */
int reservation_take(json_t **out, const char *board, const struct auth *who, long long seconds,
		     char *err, size_t errlen);
/* Ends board's reservation: its holder releases it, an admin breaks another's.
 * The board's agent is told to power it off. 0 and *state ("released" or
 * "broken"); -ENOENT (none), -EACCES (not who's to end), -EIO; err as above. */
int reservation_end(const char **state, const char *board, const struct auth *who, char *err,
		    size_t errlen);
/* Ends the reservations whose time ran out (expired; each board powered off). */
void reservation_expire(long long now);
/* Queues power action (on, off, cycle) on board for its holder (or an admin): 0,
 * -ENOENT (no such board), -EACCES (not reserved by who), -EINVAL (action), -EIO. */
int reservation_power(const char *board, const struct auth *who, const char *action, char *err,
		      size_t errlen);
/* {"reservation": {id, user, created, expires, waiting_for} or null, "log": [...]}
 * of board, newest log lines first (at most 20). New reference. */
json_t *reservation_twin(const char *board);
/* The next command for one of boards (the agent's free ones), marked sent:
 * {board, action, reason}, or NULL. New reference. */
json_t *reservation_command_take(const json_t *boards);

#endif
