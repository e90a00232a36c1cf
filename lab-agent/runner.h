/* The per-board runner: one thread per running attempt, the state machine
 * off → staged → powered → judged → off. Staging, power, console and netboot
 * failures are infra; the judge decides everything else. Whatever happens the
 * board ends powered off and the result is in the spool for the sender. */
#ifndef XENCI_AGENT_RUNNER_H
#define XENCI_AGENT_RUNNER_H

#include <jansson.h>
#include <pthread.h>

#include "board.h"

struct agent;

/* A streaming console is read at most every RUNNER_READ_EVERY_MS: what comes
 * meanwhile waits in the kernel (a socket's buffer, a tty's), and one read takes
 * it. Reading as it came woke the runner for every line a fake board wrote and
 * for every few bytes of a UART: at 115,200 baud those wakeups (poll, read, the
 * spool's write) were most of the agent's CPU, 0.6-0.9 % of a core per console.
 * A quiet console's first byte is read at once; a line's time in the log is at
 * most this much late. A QEMU board's console is read at once (console.h,
 * read_at_once). The attempt's log ends with the note "console: N bytes in M
 * reads". */
#define RUNNER_READ_EVERY_MS 40

struct run {
	struct agent *ag;
	size_t board; /* index in ag->cfg.boards */
	json_t *attempt;
	long long claimed_ms; /* when the claim's reply came (clock_mono_ms) */
	pthread_t thread;
	_Atomic int done; /* set by the runner thread as it ends */
	char verdict[16];
};

/* Starts a runner thread for attempt on board index bi (already marked busy);
 * it clears busy[bi] when the board is off and the result delivered. claimed_ms:
 * when the claim's reply came (clock_mono_ms): the log's notes before power-on
 * count from it. Takes the reference to attempt on success. 0 or -errno. */
int runner_start(struct run **out, struct agent *ag, size_t bi, json_t *attempt,
		 long long claimed_ms);
/* Joins a runner that is done (or waits for it) and frees it. */
void runner_join_free(struct run *r);

/* Stages what attempt boots on b: its artifacts fetched (through the cache) into
 * the board's TFTP folder and the netboot script written for its firmware. j, or
 * NULL, gets a note per artifact. 0, or -1 with err (an infra failure). Used by
 * the runner and by `xenci boot` (session.c). */
struct judge;
int runner_stage(struct agent *ag, struct board *b, const json_t *attempt, struct judge *j,
		 char *err, size_t errlen);

/* The command line `which` (xen_args, dom0_args) of attempt on board b: the
 * board's own (its file's boot), then the job's, then the job's for the arch;
 * "${name}" filled from build_info and the attempt, values with spaces written
 * %20 (docs/jobs.md); the caller frees. */
char *runner_boot_args(const json_t *attempt, const struct board *b, const char *which);

#endif
