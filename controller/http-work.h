/* Long work off the polling thread. A handler whose work can take long (a patch
 * series applied, a repository read) parks its request and hands the work to a
 * thread of its own, which runs it without ctl.lock; meanwhile the polling
 * thread serves everyone else (an agent's heartbeat is answered within its
 * lease). When the work is done the request is woken and its handler called
 * again, with ctl.lock held, to reply:
 *
 *	struct job *j = req_work_done(r);
 *	if (j == NULL)
 *		return req_work(r, job_run, job_new(...), job_free);  // parks
 *	return reply_json(r, 201, j->reply);
 *
 * The work's state belongs to the request from req_work on: it is freed (by
 * state_free, under ctl.lock) when the request ends, never while the work runs
 * (a parked request does not end). The work may borrow what the request holds
 * (its body, its parameters) for the same reason. */
#ifndef XENCI_HTTP_WORK_H
#define XENCI_HTTP_WORK_H

#include "http.h"

/* Parks r and runs run(state) on a new thread; ctl.lock is held by the caller
 * and not by run (which takes it itself for what needs it). Returns 0 (the
 * handler returns it: the request is parked), or -EAGAIN when no thread could
 * be made (state is then freed; the handler's caller answers 500). */
int req_work(struct req *r, void (*run)(void *state), void *state, void (*state_free)(void *));

/* The state given to req_work once its run has returned, else NULL (the first
 * call of the handler). ctl.lock is held. */
void *req_work_done(struct req *r);

/* How many works are running (shutdown waits for them before stopping the
 * server). ctl.lock is held. */
int req_work_running(void);

#endif
