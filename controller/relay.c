#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempts.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db-reservations.h"
#include "db.h"
#include "flights.h"
#include "json-util.h"
#include "log.h"
#include "park.h"
#include "policy.h"
#include "sigkey.h"
#include "xmalloc.h"

/* How long a detached relay is kept, so that its client and agent hear why. */
#define RELAY_LINGER_MS 60000
/* An agent's input poll comes back at least this often while it relays. */
#define RELAY_AGENT_QUIET_MS 20000
/* A relay (or its boot) that no agent serves this long while its board runs no
 * attempt is detached, saying why: the user is not left waiting on an agent that
 * is gone or will not take it (XENCI_TEST_RELAY_SERVE_MS in tests). */
#define RELAY_SERVE_MS 60000
/* A job without a timeout: a boot's verdict is due within this (and RELAY_SERVE_MS). */
#define RELAY_BOOT_TIMEOUT_S 3600

struct relay {
	long long id, reservation_id, token_id;
	char board[AGENT_NAME_MAX + 1];
	char user[TOKEN_NAME_MAX + 40]; /* as the log names them */
	/* board to user: the stream's bytes [out_end - RELAY_OUT_MAX, out_end) at
	 * ring[offset % RELAY_OUT_MAX] */
	unsigned char *ring;
	long long out_end;
	/* user to board: in[0, in_len) is the input's bytes from in_start */
	unsigned char in[RELAY_IN_MAX];
	size_t in_len;
	long long in_start;
	long long sent_ms;     /* the console command went out; 0: not (again) yet */
	long long agent_ms;    /* the agent's last call; 0: never */
	long long client_ms;   /* the client's last call */
	char status[256];      /* the agent's word on the console */
	long long status_seq;  /* counts the changes of status */
	json_t *boot;	       /* xenci boot: the ATTEMPT document the agent is to boot */
	long long boot_id;     /* the attempt of the boot asked last; 0: none */
	long long boot_ms;     /* when it was asked */
	long long boot_due;    /* no verdict by then: the controller ends the boot infra */
	long long unserved_ms; /* since when no agent serves the relay (0: one does) */
	char verdict[16];      /* the boot's end as the agent judged it; "": not yet */
	char verdict_reason[512];
	long long ended_ms;   /* 0 while attached */
	char end_reason[160]; /* why it was detached */
};

static struct relay *relays[RELAY_MAX];

long long relay_key_client(long long session)
{
	return session * 2;
}

long long relay_key_agent(long long session)
{
	return session * 2 + 1;
}

static long long relay_serve_ms(void)
{
	const char *e = getenv("XENCI_TEST_RELAY_SERVE_MS");

	return e && atoll(e) > 0 ? atoll(e) : RELAY_SERVE_MS;
}

/* Relay session of board; session 0: board's attached one. */
static struct relay *relay_find(const char *board, long long session)
{
	size_t i;

	for (i = 0; i < RELAY_MAX; i++)
		if (relays[i] && !strcmp(relays[i]->board, board) &&
		    (session ? relays[i]->id == session : !relays[i]->ended_ms))
			return relays[i];
	return NULL;
}

static void relay_wake(const struct relay *rl)
{
	park_wake(PARK_CONSOLE, relay_key_client(rl->id));
	park_wake(PARK_CONSOLE, relay_key_agent(rl->id));
}

/* The log line of an attach or detach, in its own transaction. */
static void relay_log(const struct relay *rl, const char *who, const char *action,
		      const char *detail)
{
	if (db_begin() < 0 ||
	    db_reservation_log(rl->reservation_id, rl->board, now_ms(), who, action, detail) < 0 ||
	    db_commit() < 0) {
		db_rollback();
		log_warnx("board %s: console session %lld: cannot log %s", rl->board, rl->id,
			  action);
	}
}

/* Detaches rl (kept a while so that both ends hear why). who: the log's. */
static void relay_end(struct relay *rl, const char *who, const char *why)
{
	if (rl->ended_ms)
		return;
	rl->ended_ms = now_ms();
	snprintf(rl->end_reason, sizeof(rl->end_reason), "%s", why);
	free(rl->ring);
	rl->ring = NULL;
	json_decref(rl->boot);
	rl->boot = NULL;
	relay_log(rl, who, "console detached", why);
	log_info("board %s: console session %lld of %s detached by %s: %s", rl->board, rl->id,
		 rl->user, who, why);
	relay_wake(rl);
	park_wake(PARK_EVENTS, 0);
}

int relay_board_offline(const json_t *b, const char *board, const char *what, char *err,
			size_t errlen)
{
	if (strcmp(jstr(b, "state", ""), "offline"))
		return 0;
	snprintf(err, errlen,
		 "board %s is offline: its agent %s does not declare it now, so nothing can %s",
		 board, jstr(b, "agent", "?"), what);
	return -EHOSTDOWN;
}

static int relay_own(struct relay **out, const char *board, long long session,
		     const struct auth *who, char *err, size_t errlen)
{
	struct relay *rl = relay_find(board, session);

	*out = NULL;
	if (rl == NULL && session == 0) {
		snprintf(err, errlen, "nothing is attached to board %s's console", board);
		return -ENOENT;
	}
	if (rl == NULL) {
		snprintf(err, errlen, "no console session %lld on board %s", session, board);
		return -ENOENT;
	}
	if (rl->token_id != who->token_id) {
		snprintf(err, errlen, "console session %lld on board %s is %s's", session, board,
			 rl->user);
		return -EACCES;
	}
	if (rl->ended_ms) {
		snprintf(err, errlen, "%s", rl->end_reason);
		return -EPIPE;
	}
	rl->client_ms = now_ms();
	*out = rl;
	return 0;
}

int relay_attach(json_t **out, const char *board, const struct auth *who, char *err, size_t errlen)
{
	static long long next_id = 1;
	struct viewer v = {who->role == ROLE_ADMIN, NULL};
	json_t *b = db_board_get(board, &v), *cur = NULL;
	struct relay *rl;
	char detail[64];
	size_t i, slot = RELAY_MAX;
	int rc = 0;

	*out = NULL;
	if (b == NULL) {
		snprintf(err, errlen, "no board %s", board);
		return -ENOENT;
	}
	rc = relay_board_offline(b, board, "serve its console", err, errlen);
	if (rc < 0)
		goto out;
	cur = db_reservation_active(board);
	if (cur == NULL) {
		snprintf(err, errlen,
			 "board %s is not reserved: its console is its reservation holder's "
			 "(xenci reserve %s)",
			 board, board);
		rc = -EACCES;
		goto out;
	}
	if (jint(cur, "token_id", 0) != who->token_id) {
		snprintf(err, errlen,
			 "board %s is reserved by %s: only the holder of its reservation can "
			 "attach to its console",
			 board, jstr(cur, "user", "?"));
		rc = -EACCES;
		goto out;
	}
	for (i = 0; i < RELAY_MAX; i++) {
		if (relays[i] && !relays[i]->ended_ms && !strcmp(relays[i]->board, board))
			relay_end(relays[i], "controller", "attached again from another client");
		if (relays[i] == NULL && slot == RELAY_MAX)
			slot = i;
	}
	if (slot == RELAY_MAX) {
		snprintf(err, errlen, "%d console sessions are open: try again later", RELAY_MAX);
		rc = -EAGAIN;
		goto out;
	}
	rl = xcalloc(1, sizeof(*rl));
	rl->id = next_id++;
	rl->reservation_id = jint(cur, "id", 0);
	rl->token_id = who->token_id;
	snprintf(rl->board, sizeof(rl->board), "%s", board);
	auth_who(rl->user, sizeof(rl->user), who);
	rl->ring = xmalloc(RELAY_OUT_MAX);
	rl->client_ms = now_ms();
	rl->unserved_ms = rl->client_ms;
	snprintf(rl->status, sizeof(rl->status), "waiting for the board's agent");
	relays[slot] = rl;
	snprintf(detail, sizeof(detail), "session %lld", rl->id);
	relay_log(rl, rl->user, "console attached", detail);
	log_info("board %s: console session %lld attached by %s", board, rl->id, rl->user);
	{
		struct claim_offer o = {.board = board};

		park_offer(PARK_CLAIM, &o);
	}
	park_wake(PARK_EVENTS, 0);
	*out = json_pack("{s:I, s:s, s:i}", "session", (json_int_t)rl->id, "board", board, "offset",
			 0);
out:
	json_decref(cur);
	json_decref(b);
	return rc;
}

int relay_detach(const char *board, long long session, const struct auth *who, const char *why,
		 char *err, size_t errlen)
{
	struct relay *rl;
	int rc = relay_own(&rl, board, session, who, err, errlen);

	if (rc == -EPIPE)
		return 0; /* detached already */
	if (rc < 0)
		return rc;
	relay_end(rl, rl->user, why);
	return 0;
}

int relay_read(json_t **out, const char *board, long long session, const struct auth *who,
	       long long offset, long long status_seq, char *err, size_t errlen)
{
	struct relay *rl;
	long long start, end, dropped = 0;
	unsigned char *data;
	char *b64;
	int rc = relay_own(&rl, board, session, who, err, errlen);

	*out = NULL;
	if (rc < 0)
		return rc;
	if (offset > rl->out_end)
		offset = rl->out_end; /* a client ahead of the stream starts at its end */
	start = offset;
	if (start < rl->out_end - RELAY_OUT_MAX) {
		start = rl->out_end - RELAY_OUT_MAX;
		dropped = start - offset;
	}
	end = rl->out_end;
	if (end - start > RELAY_READ_MAX)
		end = start + RELAY_READ_MAX;
	data = xmalloc((size_t)(end - start) + 1);
	{
		size_t from = (size_t)(start % RELAY_OUT_MAX), n = (size_t)(end - start);
		size_t first = n < RELAY_OUT_MAX - from ? n : RELAY_OUT_MAX - from;

		memcpy(data, rl->ring + from, first);
		memcpy(data + first, rl->ring, n - first);
	}
	b64 = base64_encode(data, (size_t)(end - start));
	free(data);
	*out = json_pack("{s:I, s:s, s:I, s:I, s:s, s:I}", "offset", (json_int_t)start, "data", b64,
			 "dropped", (json_int_t)dropped, "next", (json_int_t)end, "status",
			 rl->status, "status_seq", (json_int_t)rl->status_seq);
	free(b64);
	if (rl->verdict[0])
		json_object_set_new(*out, "verdict",
				    json_pack("{s:I, s:s, s:s}", "attempt", (json_int_t)rl->boot_id,
					      "verdict", rl->verdict, "reason",
					      rl->verdict_reason));
	return end > offset || status_seq != rl->status_seq ? 1 : 0;
}

int relay_write(const char *board, long long session, const struct auth *who, const void *data,
		size_t len, char *err, size_t errlen)
{
	struct relay *rl;
	int rc = relay_own(&rl, board, session, who, err, errlen);

	if (rc < 0)
		return rc;
	if (len > RELAY_CHUNK_MAX || rl->in_len + len > RELAY_IN_MAX) {
		snprintf(err, errlen,
			 "%zu bytes of input wait for the board's agent: send this again later",
			 rl->in_len);
		return -ENOBUFS;
	}
	memcpy(rl->in + rl->in_len, data, len);
	rl->in_len += len;
	park_wake(PARK_CONSOLE, relay_key_agent(rl->id));
	return 0;
}

/* The relay of the agent's board; checks that agent owns it. */
static int relay_agent_own(struct relay **out, const char *agent, const char *board,
			   long long session, char *err, size_t errlen)
{
	char owner[AGENT_NAME_MAX + 1];
	struct relay *rl;

	*out = NULL;
	if (db_board_owner(owner, sizeof(owner), board) < 0 || strcmp(owner, agent)) {
		snprintf(err, errlen, "board %s is not agent %s's", board, agent);
		return -EACCES;
	}
	rl = relay_find(board, session);
	if (rl == NULL) {
		snprintf(err, errlen, "no console session %lld on board %s", session, board);
		return -ENOENT;
	}
	if (rl->ended_ms) {
		snprintf(err, errlen, "%s", rl->end_reason);
		return -EPIPE;
	}
	rl->agent_ms = now_ms();
	rl->unserved_ms = 0;
	*out = rl;
	return 0;
}

/* The end of the relay's boot, as its agent judged it: kept for the reader and logged. */
static void relay_verdict(struct relay *rl, const char *who, const char *verdict,
			  const char *reason)
{
	char detail[700];

	if (rl->verdict[0] || rl->boot_id == 0)
		return;
	snprintf(rl->verdict, sizeof(rl->verdict), "%s", verdict);
	snprintf(rl->verdict_reason, sizeof(rl->verdict_reason), "%s", reason ? reason : "");
	snprintf(detail, sizeof(detail), "attempt %lld: %s: %s", rl->boot_id, rl->verdict,
		 rl->verdict_reason);
	relay_log(rl, who, "boot ended", detail);
	log_info("board %s: console session %lld: boot of attempt %lld: %s: %s", rl->board, rl->id,
		 rl->boot_id, rl->verdict, rl->verdict_reason);
	park_wake(PARK_CONSOLE, relay_key_client(rl->id));
}

int relay_agent_put(long long *length, const char *agent, const char *board, long long session,
		    long long offset, const void *data, size_t len, const char *status,
		    const char *verdict, const char *reason, char *err, size_t errlen)
{
	struct relay *rl;
	const unsigned char *p = data;
	int rc = relay_agent_own(&rl, agent, board, session, err, errlen), woke = 0;

	*length = 0;
	if (rc < 0)
		return rc;
	*length = rl->out_end;
	if (offset > rl->out_end) {
		snprintf(err, errlen, "the console stream has %lld bytes", rl->out_end);
		return -ERANGE;
	}
	/* what was stored already (a retried chunk) is skipped */
	if (offset + (long long)len > rl->out_end) {
		size_t skip = (size_t)(rl->out_end - offset), i;

		for (i = skip; i < len; i++)
			rl->ring[(rl->out_end++) % RELAY_OUT_MAX] = p[i];
		woke = 1;
	}
	if (status && strcmp(status, rl->status)) {
		snprintf(rl->status, sizeof(rl->status), "%s", status);
		rl->status_seq++;
		woke = 1;
	}
	if (woke)
		park_wake(PARK_CONSOLE, relay_key_client(rl->id));
	if (verdict)
		relay_verdict(rl, agent, verdict, reason);
	*length = rl->out_end;
	return 0;
}

int relay_agent_get(json_t **out, const char *agent, const char *board, long long session,
		    long long offset, char *err, size_t errlen)
{
	struct relay *rl;
	char *b64;
	size_t done;
	int rc = relay_agent_own(&rl, agent, board, session, err, errlen);

	*out = NULL;
	if (rc < 0)
		return rc;
	/* an agent that started again asks from 0: what lies below was read */
	if (offset < rl->in_start)
		offset = rl->in_start;
	if (offset > rl->in_start + (long long)rl->in_len) {
		snprintf(err, errlen, "the input is at bytes %lld-%lld", rl->in_start,
			 rl->in_start + (long long)rl->in_len);
		return -ERANGE;
	}
	/* the agent has what lies below offset */
	done = (size_t)(offset - rl->in_start);
	memmove(rl->in, rl->in + done, rl->in_len - done);
	rl->in_len -= done;
	rl->in_start = offset;
	if (rl->in_len == 0)
		return 0;
	b64 = base64_encode(rl->in, rl->in_len);
	*out = json_pack("{s:I, s:s}", "offset", (json_int_t)rl->in_start, "data", b64);
	free(b64);
	return 0;
}

int relay_boot(json_t **out, const char *board, long long session, const struct auth *who,
	       long long attempt, long long flight, char *err, size_t errlen)
{
	struct viewer admin = {1, NULL};
	struct relay *rl;
	struct attempt a;
	json_t *b = NULL, *doc;
	char detail[64];
	int rc = relay_own(&rl, board, session, who, err, errlen);

	*out = NULL;
	memset(&a, 0, sizeof(a));
	if (rc < 0)
		return rc;
	b = db_board_get(board, &admin);
	rc = relay_board_offline(b, board, "boot it", err, errlen);
	if (rc < 0)
		goto out;
	if (flight > 0 &&
	    db_attempt_flight_test(&attempt, flight, jstr(b, "arch", ""), board) < 0) {
		snprintf(err, errlen, "flight %lld has no built test attempt of arch %s", flight,
			 jstr(b, "arch", "?"));
		rc = -ENOENT;
		goto out;
	}
	if (db_attempt_load(&a, attempt) < 0 || strcmp(a.kind, "test")) {
		snprintf(err, errlen, "no test attempt %lld", attempt);
		rc = -ENOENT;
		goto out;
	}
	if (strcmp(a.arch, jstr(b, "arch", ""))) {
		snprintf(err, errlen, "attempt %lld is of arch %s, board %s is %s", attempt, a.arch,
			 board, jstr(b, "arch", "?"));
		rc = -EINVAL;
		goto out;
	}
	doc = attempt_payload(&a);
	{
		const json_t *rev = json_object_get(doc, "revision");
		struct policy_subject subj = {jstr(rev, "kind", ""), jstr(rev, "tree", NULL),
					      jstr(rev, "ref", NULL), jstr(rev, "user", NULL)};
		char why[300];

		/* what may not run on the board may not boot on it either (its agent
		 * checks it again) */
		if (!flight_board_allows(b, &subj, why, sizeof(why))) {
			snprintf(err, errlen, "board %s's policy refuses attempt %lld: %s", board,
				 attempt, why);
			json_decref(doc);
			rc = -EACCES;
			goto out;
		}
	}
	json_object_set_new(doc, "board", json_string(board));
	json_decref(rl->boot);
	rl->boot = doc;
	rl->boot_id = attempt;
	rl->boot_ms = now_ms();
	/* the agent ends a boot by the job's timeout: a verdict later than that and
	 * one serving bound will not come (an agent from before judged boots) */
	rl->boot_due = rl->boot_ms +
		       jint(json_object_get(doc, "job"), "timeout", RELAY_BOOT_TIMEOUT_S) * 1000 +
		       relay_serve_ms();
	rl->verdict[0] = '\0';
	rl->verdict_reason[0] = '\0';
	snprintf(detail, sizeof(detail), "attempt %lld", attempt);
	relay_log(rl, rl->user, "boot", detail);
	log_info("board %s: %s boots attempt %lld", board, rl->user, attempt);
	{
		struct claim_offer o = {.board = board};

		park_offer(PARK_CLAIM, &o);
	}
	*out = json_pack("{s:s, s:I, s:I}", "board", board, "session", (json_int_t)session,
			 "attempt", (json_int_t)attempt);
out:
	attempt_release(&a);
	json_decref(b);
	return rc;
}

json_t *relay_command_take(const json_t *boards)
{
	size_t i, j;
	json_t *b;

	for (i = 0; i < RELAY_MAX; i++) {
		struct relay *rl = relays[i];

		if (rl == NULL || rl->ended_ms)
			continue;
		/* a boot once the agent serves the relay; the relay's start before */
		if (rl->agent_ms && rl->boot == NULL)
			continue;
		if (!rl->agent_ms && rl->sent_ms)
			continue;
		json_array_foreach (boards, j, b) {
			if (json_is_string(b) && !strcmp(json_string_value(b), rl->board)) {
				char reason[TOKEN_NAME_MAX + 64];

				if (rl->agent_ms) {
					json_t *c;

					snprintf(reason, sizeof(reason), "booted by %s", rl->user);
					c = json_pack("{s:s, s:s, s:I, s:o, s:s}", "board",
						      rl->board, "action", "boot", "session",
						      (json_int_t)rl->id, "attempt", rl->boot,
						      "reason", reason);
					rl->boot = NULL;
					return c;
				}

				rl->sent_ms = now_ms();
				snprintf(reason, sizeof(reason), "attached by %s", rl->user);
				/* offset: where the agent's output goes on (an agent
				 * that started again takes over a stream) */
				return json_pack("{s:s, s:s, s:I, s:I, s:s}", "board", rl->board,
						 "action", "console", "session", (json_int_t)rl->id,
						 "offset", (json_int_t)rl->out_end, "reason",
						 reason);
			}
		}
	}
	return NULL;
}

void relay_end_board(const char *board, const char *why)
{
	size_t i;

	for (i = 0; i < RELAY_MAX; i++)
		if (relays[i] && !relays[i]->ended_ms && !strcmp(relays[i]->board, board))
			relay_end(relays[i], "controller", why);
}

/* A relay no agent served for relay_serve_ms(), or whose boot its serving agent
 * did not take as long, is detached saying why, unless its board is running an
 * attempt (a reservation waits for it: the status says so and the clock starts
 * again). 1 when rl was detached. */
static int relay_unserved(struct relay *rl, long long now)
{
	struct viewer admin = {1, NULL};
	long long serve = relay_serve_ms();
	int boot_left = rl->agent_ms && rl->boot && now - rl->boot_ms > serve;
	json_t *b;
	char why[300];

	if (!boot_left && !(rl->unserved_ms && now - rl->unserved_ms > serve))
		return 0;
	b = db_board_get(rl->board, &admin);
	if (!strcmp(jstr(b, "state", ""), "busy")) {
		char status[sizeof(rl->status)];

		snprintf(status, sizeof(status), "waiting for attempt %lld to end on %s",
			 jint(b, "attempt", 0), rl->board);
		if (strcmp(status, rl->status)) {
			memcpy(rl->status, status, sizeof(rl->status));
			rl->status_seq++;
			park_wake(PARK_CONSOLE, relay_key_client(rl->id));
		}
		if (rl->unserved_ms)
			rl->unserved_ms = now;
		rl->boot_ms = now;
		json_decref(b);
		return 0;
	}
	if (boot_left)
		snprintf(why, sizeof(why),
			 "board %s's agent %s did not take the boot of attempt %lld in %lld s "
			 "(an agent from before xenci boot?)",
			 rl->board, jstr(b, "agent", "?"), rl->boot_id, serve / 1000);
	else
		snprintf(why, sizeof(why),
			 "board %s's agent %s did not serve its console in %lld s: the agent is "
			 "not running or not connected (the board is %s)",
			 rl->board, jstr(b, "agent", "?"), serve / 1000, jstr(b, "state", "gone"));
	json_decref(b);
	relay_end(rl, "controller", why);
	return 1;
}

void relay_tick(long long now)
{
	size_t i;

	for (i = 0; i < RELAY_MAX; i++) {
		struct relay *rl = relays[i];

		if (rl == NULL)
			continue;
		if (rl->ended_ms) {
			if (now - rl->ended_ms > RELAY_LINGER_MS) {
				free(rl->ring);
				json_decref(rl->boot);
				free(rl);
				relays[i] = NULL;
			}
			continue;
		}
		if (now - rl->client_ms > RELAY_IDLE_MS) {
			relay_end(rl, "controller",
				  "the client went away (it read nothing for 30 s)");
			continue;
		}
		/* an agent that went quiet (its input poll comes every few seconds)
		 * has stopped: the next one to claim the board gets the relay */
		if (rl->agent_ms && now - rl->agent_ms > RELAY_AGENT_QUIET_MS) {
			rl->agent_ms = 0;
			rl->sent_ms = 0;
			rl->unserved_ms = now;
			snprintf(rl->status, sizeof(rl->status),
				 "waiting for the board's agent (it went quiet)");
			rl->status_seq++;
			park_wake(PARK_CONSOLE, relay_key_client(rl->id));
		}
		if (relay_unserved(rl, now))
			continue;
		if (rl->boot_id && !rl->verdict[0] && rl->boot_due && now > rl->boot_due) {
			char why[300];

			snprintf(why, sizeof(why),
				 "board %s's agent gave no verdict for attempt %lld in %lld s (the "
				 "job's timeout and %lld s): an agent from before judged boots?",
				 rl->board, rl->boot_id, (rl->boot_due - rl->boot_ms) / 1000,
				 relay_serve_ms() / 1000);
			relay_verdict(rl, "controller", "infra", why);
		}
		/* a claim's reply that did not reach the agent: offer it again */
		if (rl->sent_ms && !rl->agent_ms && now - rl->sent_ms > RELAY_RESEND_MS) {
			struct claim_offer o = {.board = rl->board};

			rl->sent_ms = 0;
			park_offer(PARK_CLAIM, &o);
		}
	}
}
