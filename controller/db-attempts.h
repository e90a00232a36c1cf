/* The attempts, stages and testcases tables.
 * Every json_t * a function here returns is a new reference that the caller
 * owns (json_decref it, or hand it to reply_json, which takes it); json_t *
 * parameters are borrowed. */
#ifndef XENCI_DB_ATTEMPTS_H
#define XENCI_DB_ATTEMPTS_H

#include <jansson.h>

#include "db-boards.h"

struct buf;

/* Priorities: lower runs first. A queued attempt ages by one class every
 * priority_age_seconds of waiting (config; default PRIORITY_AGE_MS), so background
 * work is never starved. */
enum priority {
	PRIO_HEALTH = -1,
	PRIO_GATE = 0,
	PRIO_BISECT = 1,
	PRIO_SUBMISSION = 2,
	PRIO_BACKGROUND = 3,
};
#define PRIORITY_AGE_MS (10 * 60 * 1000LL)

/* The attempt states (attempts.h draws the machine). The database and every
 * document keep their names; db-attempts.c converts at the boundary. */
enum attempt_state {
	ATTEMPT_WAITING,
	ATTEMPT_QUEUED,
	ATTEMPT_CLAIMED,
	ATTEMPT_RUNNING,
	ATTEMPT_PASS, /* the final ones from here */
	ATTEMPT_FAIL,
	ATTEMPT_INFRA,
	ATTEMPT_TIMEOUT,
	ATTEMPT_CANCELLED,
	ATTEMPT_STARVED, /* no eligible board took the job in time (never an agent's word) */
	ATTEMPT_REFUSED, /* the agent declined it: outside the board's policy (lib/policy.h) */
	ATTEMPT_STATE_N	 /* none: an unknown name */
};

/* The state's name ("queued"): a static string; "" for ATTEMPT_STATE_N. */
const char *attempt_state_name(enum attempt_state s);
/* The state named name; ATTEMPT_STATE_N for NULL or an unknown name. */
enum attempt_state attempt_state_of(const char *name);
/* 1 when s is a final verdict (pass, fail, infra, timeout, cancelled, starved,
 * refused). */
int attempt_state_final(enum attempt_state s);
/* 1 when s is not over yet: waiting, queued, claimed, running. */
int attempt_state_open(enum attempt_state s);
/* 1 when s holds a lease (claimed, running). */
int attempt_state_leased(enum attempt_state s);

/* The fields the state machine works with. */
struct attempt {
	long long id, flight, build_id;
	char kind[8];	/* build, test */
	char job[128];	/* "" for builds */
	char board[65]; /* "" for builds */
	char arch[32];
	char agent[65]; /* "" until claimed */
	enum attempt_state state;
	int number, priority, health_check;
	long long lease_expires, log_length;
	char *result; /* the stored result body (malloc'd), or NULL */
};

/* Frees what a owns (its result); a may be NULL, and stays usable. */
void attempt_release(struct attempt *a);

/* Inserts a (flight or build_id, kind, job, board, arch, number, priority, state,
 * health_check; created now) and its new id into *id: 0, or -EIO. */
int db_attempt_insert(long long *id, const struct attempt *a);
/* Fills a; 0 or -ENOENT. */
int db_attempt_load(struct attempt *a, long long id);
/* A test attempt of flight on arch that has a build (one on board first, else the
 * newest): 0 and *id, or -ENOENT. */
int db_attempt_flight_test(long long *id, long long flight, const char *arch, const char *board);
/* The best queued attempt for one of boards (an array of names) of agent, on a
 * free, online board that is healthy (or a health check) and not reserved: 0 and
 * *id, or -ENOENT. */
int db_attempt_pick_board(long long *id, const char *agent, const json_t *boards);
/* The best queued build attempt for one of arches that agent's builder takes (no
 * submission or manual flight's when it refuses untrusted code): 0 and *id, or
 * -ENOENT. */
int db_attempt_pick_build(long long *id, const char *agent, const json_t *arches);
/* Both picks' priority keys, to choose between a build and a test. */
long long db_attempt_rank(long long id);
int db_attempt_claim(long long id, const char *agent, long long lease_expires);
int db_attempt_set_state(long long id, enum attempt_state state, const char *reason);
/* A shared build's queued attempt takes the priority of the most urgent flight
 * that waits for it (a gate flight taking a background flight's build). 0 or -EIO. */
int db_build_attempt_raise(long long build_id, int priority);
/* Renews the lease, records the stage, and moves claimed to running. */
int db_attempt_renew(long long id, const char *stage, long long lease_expires);
int db_attempt_set_log_length(long long id, long long len);
int db_attempt_finish(long long id, enum attempt_state verdict, const char *reason,
		      const char *result);
int db_attempt_stage(long long id, int seq, const char *name, const char *result, double secs);
int db_attempt_testcase(long long id, const char *name, const char *result);
/* Ids (array of integers) of running or claimed attempts whose lease ended before t. */
json_t *db_attempts_lapsed(long long t);
/* Ids (array) of the test attempts no board took yet (board NULL, waiting) that
 * were made before t, oldest first, at most UNPLACED_MAX of them. */
#define UNPLACED_MAX 1000
json_t *db_attempts_unplaced(long long t);
/* Puts the unplaced test attempt id on board (arch, build_id: 0 for none) in
 * state (waiting or queued): 0; -ENOENT when it is no longer unplaced; -EIO. */
int db_attempt_place(long long id, const char *board, const char *arch, long long build_id,
		     enum attempt_state state);
/* Gives leases that end before t until t (a restarted controller resumes them). */
int db_attempts_extend_leases(long long t);
/* One attempt for reads, with stages and testcases; NULL when unknown or hidden. */
json_t *db_attempt_json(long long id, const struct viewer *v);
/* state, board: filters or NULL; before: ids below it (0: from the newest). */
json_t *db_attempts_list(const char *state, const char *board, int limit, long long before,
			 const struct viewer *v);
/* The same appended to out as a JSON array's text (db_rows_json: the same members,
 * no objects made; the flight's tuple left out), the API's list: 0, or -EIO (out
 * then holds an unfinished array: drop it). */
int db_attempts_list_text(struct buf *out, const char *state, const char *board, int limit,
			  long long before, const struct viewer *v);
/* Queued and waiting attempts in scheduling order. */
json_t *db_queue(const struct viewer *v, int limit);
/* How many attempts v (NULL: anonymous) may see are queued or waiting (for a build or
 * a board), counted, not listed: the overview's and /metrics' queue depth. Returns
 * the count, 0 when the store cannot be read (a gauge shows no queue then). */
long long db_queue_depth(const struct viewer *v);
/* {state: count} over the attempts v (NULL: anonymous) may see. */
json_t *db_attempts_by_state(const struct viewer *v);

/* Stage times for perf.c, one row per passed stage {attempt, flight, commit, job,
 * stage, seconds}, newest attempt first, stages in order: of the newest `limit`
 * passing test attempts of attempt's board, job and branch (its flight's branch, or
 * none) up to attempt itself (the first when it passed); [] when attempt is not a
 * test attempt. */
json_t *db_perf_history(long long attempt, int limit);
/* The same over the newest `limit` passing test attempts on board, each row with
 * its flight's branch name ("" for none). */
json_t *db_perf_board(const char *board, int limit);
/* Stores attempt's `slower` verdict (perf.h; borrowed, NULL: not slower) and marks
 * it judged: 0 or -EIO. The writer only. */
int db_perf_set(long long attempt, const json_t *slower);
/* The newest `limit` passing test attempts not judged yet (from before migration
 * 130), newest first: [id] (new reference). */
json_t *db_perf_unjudged(int limit);

#endif
