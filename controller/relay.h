/* Console relays (docs/boards.md, "Console"): the terminal of a board's
 * reservation holder joined to the board's serial console, both ways, through
 * the controller, over connections that the user's client and the board's
 * agent open (the lab listens on nothing). A relay lives in memory only: a
 * controller restart detaches everyone (the reservation stays). Every attach
 * and detach is a line of the reservation's log (who, when, why).
 *
 * Board to user: the agent posts what the console printed at its offset in the
 * board's stream; the relay keeps the newest RELAY_OUT_MAX bytes, and a reader
 * that falls further behind is told how many it lost (dropped) and goes on at
 * the oldest byte kept. A slow reader never slows the agent nor the board.
 * User to board: what the user types waits until the agent has read it, at most
 * RELAY_IN_MAX bytes; past that a write is refused whole (-ENOBUFS, 429) and the
 * client sends it again later: keystrokes are never dropped, the typist waits.
 *
 * The agent learns of a relay from the reply of its claim (a command {board,
 * action: "console", session}); one whose agent did not call back within
 * RELAY_RESEND_MS is offered again. A client that has not read for
 * RELAY_IDLE_MS is detached. Every function: ctl.lock held. */
#ifndef XENCI_RELAY_H
#define XENCI_RELAY_H

#include <jansson.h>
#include <stddef.h>

#include "auth.h"

#define RELAY_OUT_MAX	(64 * 1024) /* board to user: the newest bytes a relay keeps */
#define RELAY_IN_MAX	(16 * 1024) /* user to board: input the agent has not read */
#define RELAY_READ_MAX	(32 * 1024) /* at most this much per read reply */
#define RELAY_CHUNK_MAX (16 * 1024) /* one write of either side */
#define RELAY_IDLE_MS	30000	    /* a client that reads no more is detached */
#define RELAY_RESEND_MS 5000	    /* a console command nobody took up is sent again */
#define RELAY_MAX	256	    /* relays at once, detached ones included */

/* Attaches who, the holder of board's active reservation, to its console: 0 and
 * *out (new reference: {session, board, offset}); who's earlier relay on the
 * board is detached. Errors, with one sentence in err: -ENOENT (no such board,
 * or one who may not see), -EACCES (board not reserved, or reserved by another:
 * by whom), -EHOSTDOWN (the board is offline), -EAGAIN (RELAY_MAX relays), -EIO.
 * A relay that no agent serves for 60 s while its board runs no attempt is
 * detached, its reason naming the agent (relay_tick). */
int relay_attach(json_t **out, const char *board, const struct auth *who, char *err, size_t errlen);
/* Detaches relay session of board (who's; 0: board's attached relay, when it is
 * who's): logged with why. 0, -ENOENT (no such relay), -EACCES (another's). */
int relay_detach(const char *board, long long session, const struct auth *who, const char *why,
		 char *err, size_t errlen);
/* The console's bytes from offset for who: *out (new reference: {offset, data
 * (base64), dropped, next, status, status_seq, and once the agent judged the
 * relay's boot verdict: {attempt, verdict, reason}}: offset is where data starts,
 * past the asked one by the dropped bytes the relay no longer kept; next is
 * where to read on; status_seq counts the changes of the agent's status) and 1,
 * or 0 when it holds nothing new: no byte from offset and status_seq is the one
 * the reader has seen (park on PARK_CONSOLE, key relay_key_client, to wait).
 * -ENOENT, -EACCES, -EPIPE (detached: err says why), with *out NULL. */
int relay_read(json_t **out, const char *board, long long session, const struct auth *who,
	       long long offset, long long status_seq, char *err, size_t errlen);
/* Queues len bytes (<= RELAY_CHUNK_MAX) of who's input for the board. 0, -ENOENT,
 * -EACCES, -EPIPE, -ENOBUFS (RELAY_IN_MAX unread: nothing queued, send it later). */
int relay_write(const char *board, long long session, const struct auth *who, const void *data,
		size_t len, char *err, size_t errlen);

/* xenci boot: has board's agent stage what attempt booted (its artifacts, its
 * job's boot arguments) or, when flight > 0, what a test attempt of flight on
 * the board's arch booted (its builds), and power-cycle the board, while who's
 * relay shows its console; the agent judges the console with the attempt's job
 * and posts the verdict (relay_agent_put). 0 and *out ({board, session,
 * attempt}); -ENOENT (no such test attempt), -EINVAL (another arch), -EHOSTDOWN
 * (the board is offline), and relay_read's. A boot the serving agent does not
 * take in 60 s detaches the relay, saying so; one without a verdict by the job's
 * timeout and 60 s more ends infra (the controller's verdict). */
int relay_boot(json_t **out, const char *board, long long session, const struct auth *who,
	       long long attempt, long long flight, char *err, size_t errlen);

/* The agent's side; agent must own board. Stores the console's bytes [offset,
 * offset + len) (a repeated chunk is taken once; a gap is -ERANGE with the
 * length), when not NULL the agent's status line ("open", "console: ...") and,
 * when verdict is not NULL, the end of the relay's boot (pass, fail, timeout,
 * infra, refused: its first one is kept and logged, with reason): 0 and *length
 * (the stream's length), -ENOENT, -EACCES (not agent's board), -EPIPE
 * (detached), -ERANGE. */
int relay_agent_put(long long *length, const char *agent, const char *board, long long session,
		    long long offset, const void *data, size_t len, const char *status,
		    const char *verdict, const char *reason, char *err, size_t errlen);
/* The user's input from offset (what lies below was read: it is let go): 0 and
 * *out ({offset, data (base64)}), *out NULL when there is none (park, key
 * relay_key_agent). -ENOENT, -EACCES, -EPIPE, -ERANGE (offset past the input). */
int relay_agent_get(json_t **out, const char *agent, const char *board, long long session,
		    long long offset, char *err, size_t errlen);

/* The command for one of boards (an agent's free boards) that waits for its
 * agent: a relay to serve {board, action: "console", session, offset, reason}
 * (marked sent), or a boot for a relay it serves {board, action: "boot", session,
 * attempt: ATTEMPT, reason} (taken); or NULL. New reference. */
json_t *relay_command_take(const json_t *boards);
/* Detaches board's relays (the reservation ended): why goes to the log. */
void relay_end_board(const char *board, const char *why);
/* The timer: detaches idle clients and relays no agent serves, offers unheard
 * console commands again, frees relays detached a while ago. */
void relay_tick(long long now);
/* -EHOSTDOWN with one sentence in err when board (b, its row as db_board_get
 * gives it) is offline, its agent no longer declaring it: nothing can do what
 * ("boot it"); else 0. */
int relay_board_offline(const json_t *b, const char *board, const char *what, char *err,
			size_t errlen);
/* The PARK_CONSOLE keys of a relay's reader and of its agent's input poll. */
long long relay_key_client(long long session);
long long relay_key_agent(long long session);

#endif
