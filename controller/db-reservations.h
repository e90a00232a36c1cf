/* The reservations, reservation_log and board_commands tables (migration 42).
 * Every json_t * a function here returns is a new reference that the caller owns;
 * json_t * parameters are borrowed. ctl.lock held. */
#ifndef XENCI_DB_RESERVATIONS_H
#define XENCI_DB_RESERVATIONS_H

#include <jansson.h>

/* The active reservation of board: {id, board, token_id, user, created, expires},
 * or NULL when there is none. */
json_t *db_reservation_active(const char *board);
/* Makes board's active reservation: 0 and *id; -EEXIST when it has one; -EIO. */
int db_reservation_insert(long long *id, const char *board, long long token_id, const char *user,
			  long long created, long long expires);
/* Ends active reservation id as state (released, broken, expired) at time t:
 * 0, or -ENOENT when it is not active. */
int db_reservation_end(long long id, const char *state, long long t);
/* The active reservations whose time ran out by t: [{id, board, user}]. */
json_t *db_reservations_due(long long t);
/* Appends one line to the log of reservation id (board's). */
int db_reservation_log(long long id, const char *board, long long t, const char *who,
		       const char *action, const char *detail);
/* Board's newest log lines, newest first, at most limit: [{time, who, action, detail}]. */
json_t *db_reservation_log_list(const char *board, int limit);

/* Queues a power action (on, off, cycle) for board's agent. */
int db_board_command_insert(const char *board, const char *action, const char *reason, long long t);
/* Takes the oldest unsent command of one of boards (an array of names), marking it
 * sent at t: {id, board, action, reason}, or NULL when none waits. */
json_t *db_board_command_take(const json_t *boards, long long t);

#endif
