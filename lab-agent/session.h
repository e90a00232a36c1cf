/* A console session: a free board's serial console relayed to its reservation
 * holder through the controller (docs/boards.md, "Console"), over connections
 * this agent opens. The controller names the session in a claim's reply
 * ({"command": {board, action: "console", session, offset}}); two threads then
 * serve it until the controller says it is detached (410) or the agent stops:
 *  - io: opens the board's console (again and again while it is not there: a
 *    QEMU board's socket exists only while it is powered), reads it and posts
 *    what it printed (POST /agents/A/console/B), writes what the holder typed;
 *  - input: long-polls the holder's input (GET /agents/A/console/B) and hands
 *    it to io through a pipe.
 * Bounds: io keeps at most SESSION_OUT_MAX bytes the controller has not taken;
 * when full it stops reading the console (the board's console connection, then
 * the board or its console server, holds or drops what comes: a QEMU waits). The
 * pipe (64 KiB) holds input io has not written; when full the input thread
 * stops polling, the controller keeps 16 KiB and then refuses the typist. */
#ifndef XENCI_AGENT_SESSION_H
#define XENCI_AGENT_SESSION_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "judge.h"

struct agent;

#define SESSION_OUT_MAX	  (64 * 1024)
#define SESSION_CHUNK_MAX (16 * 1024) /* one post: the controller's RELAY_CHUNK_MAX */

enum session_boot {
	SESSION_BOOT_NONE,
	SESSION_BOOT_STAGING,
	SESSION_BOOT_STAGED,
	SESSION_BOOT_FAILED
};

struct session {
	struct agent *ag;
	size_t board; /* index in ag->cfg.boards; the board stays free (no attempt) */
	long long id;
	long long offset; /* the console stream's length the controller has */
	int pipefd[2];	  /* input thread → io thread */
	pthread_t io, input;
	_Atomic int ending; /* detached, or asked to end */
	_Atomic int io_done, input_done;
	pthread_mutex_t mu;
	char note[256]; /* under mu: a word for the holder (a boot's progress) */
	int note_seq;	/* under mu: counts the notes */
	/* xenci boot: staged on a thread of its own, powered by the main loop */
	json_t *boot_attempt;
	pthread_t boot;
	_Atomic int boot_state; /* enum session_boot */
	char boot_err[512];
	/* its console judged as an attempt's, from power-on (under mu) */
	json_t *boot_job;   /* the staged attempt's job, until the judge takes it */
	long long boot_id;  /* the attempt booted */
	struct judge judge; /* valid while judging */
	int judging;	    /* 1: judge fed by io until a verdict */
	char verdict[16];   /* the boot's end: pass, fail, timeout, infra, refused */
	char verdict_reason[512];
	int verdict_seq; /* counts the verdicts: io posts a new one */
};

/* Starts the session that cmd names on board index bi: 0 and *out, or -errno
 * (no thread, no pipe). */
int session_start(struct session **out, struct agent *ag, size_t bi, const json_t *cmd);
/* xenci boot (a command {board, action: "boot", session, attempt}): stages the
 * attempt document's artifacts and boot script for the board on a thread of its
 * own (runner_stage). 0, -EBUSY (a boot is under way), or -errno. */
int session_boot_start(struct session *s, const json_t *attempt);
/* For the main loop: once a boot's staging has ended, joins it and returns 1
 * when the board is to be power-cycled now (the main loop does it, so that a
 * QEMU is its child and outlives the session: it switches the board off, calls
 * session_judge_start, and powers it on), 0 otherwise (none, under way, or
 * failed: the holder was told why, and the verdict is infra). */
int session_boot_reap(struct session *s);
/* Once the board is off and before it is powered on for the boot that
 * session_boot_reap handed over: the console is judged from now with the staged
 * attempt's job (lab-agent/judge.h, the rules of an attempt), and its verdict
 * posted to the holder. Main thread. */
void session_judge_start(struct session *s);
/* The end of the boot (pass, fail, timeout, infra, refused) with its reason
 * (printf-like), posted to the holder; the first one of a boot is kept. */
void session_verdict(struct session *s, const char *verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A boot of attempt id that this agent will not do (the board's policy, another
 * boot under way): its verdict is refused, for why. */
void session_boot_refuse(struct session *s, long long id, const char *why);
/* A word for the holder, shown as the console's status (printf-like). */
void session_note(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 once both threads have ended (detached, or asked to end). */
int session_done(const struct session *s);
/* Asks s to end, waits for its threads (at most one input poll, 5 s) and frees
 * it; NULL is fine. */
void session_stop_free(struct session *s);

#endif
