/* The agents and boards tables.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_DB_BOARDS_H
#define XENCI_DB_BOARDS_H

#include <jansson.h>

#include "buf.h"
#include "db.h"

/* Who may see what: admin sees everything, an agent its own private boards. */
struct viewer {
	int admin;
	const char *agent; /* NULL unless an agent token */
};

/* arches: the builder's (NULL: it does not build); untrusted: 0 when its builder
 * refuses code from anyone (submission and manual flights). */
int db_agent_upsert(long long *id, const char *name, const char *version, const json_t *arches,
		    int untrusted);
/* The builder arches of agent name (new reference; null when it does not build). */
json_t *db_agent_builder(const char *name);
void db_agent_seen(const char *name);
/* The agents, each with the count of its online boards that v (NULL: anonymous)
 * may see. */
json_t *db_agents_list(const struct viewer *v);

/* The owning agent's name of board name into out: 0, or -ENOENT. */
int db_board_owner(char *out, size_t outlen, const char *name);
/* Inserts or updates board b (validated shape) for agent_id, and marks it online.
 * With examine_auto (the controller's examine_job is set), a board never
 * examined or whose file_sha256 differs from the one its last examine ran with
 * becomes due for an examine (examine_due says why; it takes only jobs with
 * facts until one ends); without it no board is due. 0 or -EIO. */
int db_board_upsert(long long agent_id, const json_t *b, int examine_auto);
/* The online boards of agent_id due for an examine with no attempt of job under
 * way (waiting, queued, claimed, running): a new array of names (empty on a
 * store failure). */
json_t *db_boards_examine_todo(long long agent_id, const char *job);
/* Marks offline every board of agent_id not named in names (an array of strings). */
int db_boards_offline_except(long long agent_id, const json_t *names);
/* [{name, state}] of agent_id's online boards. */
json_t *db_boards_of_agent(long long agent_id);
/* One board as an object, or NULL when it does not exist or v may not see it. */
json_t *db_board_get(const char *name, const struct viewer *v);
json_t *db_boards_list(const struct viewer *v);
/* The same boards read into C (the overview's page and its JSON): each row's
 * name, agent, arch, state (NULL when the store has none or it is not UTF-8:
 * db_column_dup) and running attempt
 * (0: none), and the whole row as db_boards_list's object in text (text.obj,
 * text.len: db_json_row_write), which ends with its '}'. *rows (*n of them, by
 * name) is the caller's: free it with db_board_rows_free; text is appended to. 0,
 * or -EIO (nothing in *rows). */
struct db_board_row {
	char *name, *agent, *arch, *state;
	long long attempt;
	struct db_row_text text;
};
int db_boards_rows(struct db_board_row **rows, size_t *n, struct buf *text, const struct viewer *v);
void db_board_rows_free(struct db_board_row *rows, size_t n);
/* Every board (any state), for matching jobs at flight creation. */
json_t *db_boards_all(void);
/* Sets (or, with 0, clears) the attempt a board runs. */
int db_board_set_attempt(const char *name, long long attempt);
/* Records an infra verdict on board name; *unhealthy_now is 1 when this one made
 * the streak reach `streak` and the board just turned unhealthy. */
int db_board_infra(const char *name, int streak, int *unhealthy_now);
/* A pass: the streak ends and the board is healthy again. */
int db_board_pass(const char *name);
/* An examine (a job with facts) of board name ended at attempt: facts (not
 * NULL) when it passed, which become the board's properties; NULL when it
 * failed, reason saying why (the properties of an earlier pass are kept).
 * Either way the board is no longer due, and its board file counts as
 * examined. 0 or -EIO. */
int db_board_examined(const char *name, long long attempt, const json_t *facts, const char *reason);
/* {"idle": n, "busy": n, ...} over the boards v (NULL: anonymous) may see. */
json_t *db_boards_by_state(const struct viewer *v);

/* Queue wait and utilisation (the overview, docs/api.md): over the newest
 * BOARD_USAGE_MAX attempts claimed on boards v may see, rows {kind ("board" or
 * "lab"), key (the board's or the agent's name), claims, wait_p50, wait_p90,
 * busy_ms}: claims in [now - window_ms, now], the nearest-rank median and 90th
 * percentile of their waits from queued (created, for one never queued) to claimed,
 * in ms (null without claims), and the time the board (the lab's boards together)
 * spent claimed or running in that window. Attempts claimed up to
 * BOARD_USAGE_LONGEST_MS before the window count for their part in it. A read
 * (the read pool); new reference. */
#define BOARD_USAGE_MAX	       20000
#define BOARD_USAGE_LONGEST_MS (24LL * 3600 * 1000)
json_t *db_board_usage(const struct viewer *v, long long now, long long window_ms);

#endif
