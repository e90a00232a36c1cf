#include "reservations.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "ctl.h"
#include "db-boards.h"
#include "db-reservations.h"
#include "db.h"
#include "json-util.h"
#include "log.h"
#include "park.h"
#include "policy.h"
#include "relay.h"

/* A queued power action for board and the log line, inside the caller's
 * transaction; the board's waiting claim is offered it after the commit. */
static int command(long long rid, const char *board, const char *action, const char *who,
		   const char *reason, long long now)
{
	char what[32];

	snprintf(what, sizeof(what), "power %s", action);
	if (db_board_command_insert(board, action, reason, now) < 0 ||
	    db_reservation_log(rid, board, now, who, what, reason) < 0)
		return -EIO;
	return 0;
}

/* After the commit: a parked claim of the board's agent takes the command, or the
 * queued attempts the board may run again. */
static void offer_board(const char *board)
{
	struct claim_offer o = {.board = board};

	park_offer(PARK_CLAIM, &o);
	park_wake(PARK_EVENTS, 0);
}

int reservation_take(json_t **out, const char *board, const struct auth *who, long long seconds,
		     char *err, size_t errlen)
{
	struct viewer v = {who->role == ROLE_ADMIN, who->role == ROLE_AGENT ? who->agent : NULL};
	json_t *b = db_board_get(board, &v), *cur = NULL;
	char name[TOKEN_NAME_MAX + 40], detail[96];
	long long now = now_ms(), id;
	int rc = -EIO;

	*out = NULL;
	if (b == NULL) {
		snprintf(err, errlen, "no board %s", board);
		return -ENOENT;
	}
	if (who->role != ROLE_ADMIN && !(who->role == ROLE_USER && who->reserve)) {
		snprintf(err, errlen, "reserving boards is a right an admin grants to users");
		rc = -EACCES;
		goto out;
	}
	if (!policy_reservable(json_object_get(b, "policy"))) {
		snprintf(err, errlen, "the policy of board %s allows no reservations", board);
		rc = -EPERM;
		goto out;
	}
	auth_who(name, sizeof(name), who);
	if (db_begin() < 0)
		goto out;
	cur = db_reservation_active(board);
	if (cur) {
		snprintf(err, errlen, "board %s is reserved by %s until %lld (Unix ms)", board,
			 jstr(cur, "user", "?"), jint(cur, "expires", 0));
		rc = -EEXIST;
		goto fail;
	}
	/* the user as the log and the page show it, without the admin's prefix */
	rc = db_reservation_insert(&id, board, who->token_id, who->name[0] ? who->name : name, now,
				   now + seconds * 1000);
	if (rc < 0)
		goto fail;
	snprintf(detail, sizeof(detail), "for %lld s", seconds);
	if (db_reservation_log(id, board, now, name, "reserved", detail) < 0) {
		rc = -EIO;
		goto fail;
	}
	if (db_commit() < 0) {
		rc = -EIO;
		goto out;
	}
	log_info("board %s reserved by %s %s", board, name, detail);
	park_wake(PARK_EVENTS, 0);
	{
		json_t *t = reservation_twin(board);

		*out = json_incref(json_object_get(t, "reservation"));
		json_decref(t);
	}
	rc = 0;
	goto out;
fail:
	db_rollback();
out:
	json_decref(cur);
	json_decref(b);
	return rc;
}

int reservation_end(const char **state, const char *board, const struct auth *who, char *err,
		    size_t errlen)
{
	json_t *cur;
	char name[TOKEN_NAME_MAX + 40];
	long long now = now_ms(), id;
	int rc = -EIO;

	*state = NULL;
	if (db_begin() < 0)
		return -EIO;
	cur = db_reservation_active(board);
	if (cur == NULL) {
		snprintf(err, errlen, "board %s is not reserved", board);
		rc = -ENOENT;
		goto fail;
	}
	id = jint(cur, "id", 0);
	if (jint(cur, "token_id", 0) == who->token_id)
		*state = "released";
	else if (who->role == ROLE_ADMIN)
		*state = "broken";
	if (*state == NULL) {
		snprintf(err, errlen,
			 "board %s is reserved by %s: only they or an admin can end it", board,
			 jstr(cur, "user", "?"));
		rc = -EACCES;
		goto fail;
	}
	auth_who(name, sizeof(name), who);
	if (db_reservation_end(id, *state, now) < 0 ||
	    db_reservation_log(id, board, now, name, *state, NULL) < 0 ||
	    command(id, board, "off", "controller", "the reservation ended", now) < 0)
		goto fail;
	if (db_commit() < 0)
		goto out;
	log_info("board %s: reservation %lld %s by %s", board, id, *state, name);
	relay_end_board(board, "the reservation ended");
	offer_board(board);
	rc = 0;
	goto out;
fail:
	db_rollback();
out:
	if (rc < 0)
		*state = NULL;
	json_decref(cur);
	return rc;
}

void reservation_expire(long long now)
{
	json_t *due = db_reservations_due(now), *r;
	size_t i;

	json_array_foreach (due, i, r) {
		long long id = jint(r, "id", 0);
		const char *board = jstr(r, "board", "");

		if (db_begin() < 0)
			break;
		if (db_reservation_end(id, "expired", now) < 0 ||
		    db_reservation_log(id, board, now, "controller", "expired", NULL) < 0 ||
		    command(id, board, "off", "controller", "the reservation expired", now) < 0 ||
		    db_commit() < 0) {
			db_rollback();
			log_warnx("board %s: reservation %lld: cannot end it", board, id);
			continue;
		}
		log_info("board %s: reservation %lld of %s expired", board, id,
			 jstr(r, "user", "?"));
		relay_end_board(board, "the reservation expired");
		offer_board(board);
	}
	json_decref(due);
}

int reservation_power(const char *board, const struct auth *who, const char *action, char *err,
		      size_t errlen)
{
	json_t *cur;
	char name[TOKEN_NAME_MAX + 40], reason[TOKEN_NAME_MAX + 64];
	long long now = now_ms();
	int rc = -EIO;

	if (strcmp(action, "on") && strcmp(action, "off") && strcmp(action, "cycle")) {
		snprintf(err, errlen, "power on, off or cycle");
		return -EINVAL;
	}
	if (db_begin() < 0)
		return -EIO;
	cur = db_reservation_active(board);
	if (cur == NULL || (jint(cur, "token_id", 0) != who->token_id && who->role != ROLE_ADMIN)) {
		snprintf(err, errlen, "board %s is not reserved by you", board);
		rc = -EACCES;
		goto fail;
	}
	{
		struct viewer admin = {1, NULL};
		json_t *b = db_board_get(board, &admin);

		/* its agent would never take the command */
		rc = relay_board_offline(b, board, "power it", err, errlen);
		json_decref(b);
		if (rc < 0)
			goto fail;
		rc = -EIO;
	}
	auth_who(name, sizeof(name), who);
	snprintf(reason, sizeof(reason), "asked by %s", name);
	if (command(jint(cur, "id", 0), board, action, name, reason, now) < 0 || db_commit() < 0)
		goto fail;
	offer_board(board);
	rc = 0;
	goto out;
fail:
	db_rollback();
out:
	json_decref(cur);
	return rc;
}

json_t *reservation_twin(const char *board)
{
	json_t *cur = db_reservation_active(board), *b;

	if (cur) {
		struct viewer admin = {1, NULL};

		json_object_del(cur, "token_id");
		b = db_board_get(board, &admin);
		/* the attempt it finishes before the holder has it */
		json_object_set_new(cur, "waiting_for",
				    jint(b, "attempt", 0) > 0 ? json_integer(jint(b, "attempt", 0))
							      : json_null());
		json_decref(b);
	}
	return json_pack("{s:o, s:o}", "reservation", cur ? cur : json_null(), "log",
			 db_reservation_log_list(board, 20));
}

json_t *reservation_command_take(const json_t *boards)
{
	json_t *c = db_board_command_take(boards, now_ms());

	if (c)
		json_object_del(c, "id");
	return c;
}
