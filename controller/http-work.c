/* Long work off the polling thread (http-work.h). */
#include "http-work.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "xmalloc.h"

struct work {
	struct req *r;
	void (*run)(void *state);
	void *state;
	void (*state_free)(void *state);
	int done; /* under ctl.lock */
};

static int running; /* under ctl.lock */

static void work_free(void *p)
{
	struct work *w = p;

	if (w == NULL)
		return;
	if (w->state_free)
		w->state_free(w->state);
	free(w);
}

static void *work_main(void *p)
{
	struct work *w = p;

	w->run(w->state);
	ctl_lock();
	w->done = 1;
	running--;
	req_wake(w->r);
	ctl_unlock();
	return NULL;
}

int req_work(struct req *r, void (*run)(void *state), void *state, void (*state_free)(void *))
{
	struct work *w = xcalloc(1, sizeof(*w));
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	w->r = r;
	w->run = run;
	w->state = state;
	w->state_free = state_free;
	r->state = w;
	r->state_free = work_free;
	req_park(r);
	running++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, work_main, w);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warnx("no thread for %s %s: %s", r->method, r->url, strerror(rc));
		running--;
		req_wake(r);
		r->state = NULL;
		r->state_free = NULL;
		work_free(w);
		return -EAGAIN;
	}
	return 0;
}

void *req_work_done(struct req *r)
{
	struct work *w = r->state;

	if (w == NULL || r->state_free != work_free || !w->done)
		return NULL;
	return w->state;
}

int req_work_running(void)
{
	return running;
}
