#include "park.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attempts.h"
#include "ctl.h"
#include "log.h"
#include "xmalloc.h"

static struct park *parks_head, *parks_tail; /* FIFO: the oldest claim is served first */
static int nclaims;
static int stopping; /* set at shutdown: nothing parks any more */
static pthread_t timer;
static int timer_running, timer_stop;
static pthread_mutex_t timer_mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv = PTHREAD_COND_INITIALIZER;

static void park_unlink(struct park *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (parks_head == p)
		parks_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else if (parks_tail == p)
		parks_tail = p->prev;
	p->prev = p->next = NULL;
	if (p->kind == PARK_CLAIM)
		nclaims--;
}

/* Called with ctl.lock held (see http.c on_completed). */
static void park_free(void *state)
{
	struct park *p = state;

	if (p == NULL)
		return;
	if (p->payload) {
		/* A claim was made for a connection that went away before the reply:
		 * its lease will lapse and the attempt will be queued again. */
		json_decref(p->payload);
	}
	if (!p->woken)
		park_unlink(p);
	json_decref(p->boards);
	json_decref(p->arches);
	free(p);
}

struct park *sched_park(struct req *r, enum park_kind kind, long long key, long long deadline)
{
	struct park *p = r->state;

	if (stopping)
		return NULL;
	if (p && r->state_free == park_free) {
		assert(p->woken); /* a stream parks again after it was woken */
		p->woken = 0;
	} else {
		assert(r->state == NULL);
		p = xcalloc(1, sizeof(*p));
	}
	p->r = r;
	p->kind = kind;
	p->key = key;
	p->deadline = deadline;
	p->prev = parks_tail;
	if (parks_tail)
		parks_tail->next = p;
	else
		parks_head = p;
	parks_tail = p;
	if (kind == PARK_CLAIM)
		nclaims++;
	r->state = p;
	r->state_free = park_free;
	req_park(r);
	return p;
}

static void park_wake(struct park *p)
{
	if (p->woken)
		return;
	park_unlink(p);
	p->woken = 1;
	req_wake(p->r);
}

static int json_has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

/* Tries to claim for p; wakes it when it got work. Returns 1 when it did. */
static int park_try(struct park *p)
{
	json_t *payload = NULL;

	if (attempt_claim(&payload, p->agent, p->boards, p->arches) < 0 || payload == NULL)
		return 0;
	p->payload = payload;
	park_wake(p);
	return 1;
}

void sched_kick_board(const char *board)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->kind == PARK_CLAIM && json_has_string(p->boards, board) && park_try(p))
			return;
	}
}

void sched_kick_build(const char *arch)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->kind == PARK_CLAIM && p->arches && json_has_string(p->arches, arch) &&
		    park_try(p))
			return;
	}
}

void sched_kick_all(void)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->kind == PARK_CLAIM)
			park_try(p);
	}
}

void sched_wake_log(long long attempt)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->kind == PARK_LOG && p->key == attempt)
			park_wake(p);
	}
}

void sched_wake_events(void)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->kind == PARK_EVENTS)
			park_wake(p);
	}
}

int sched_parked(void)
{
	struct park *p;
	int n = 0;

	for (p = parks_head; p; p = p->next)
		n++;
	return n;
}

void sched_wake_all(void)
{
	struct park *p, *next;

	stopping = 1;
	for (p = parks_head; p; p = next) {
		next = p->next;
		park_wake(p);
	}
}

int sched_waiting_claims(void)
{
	return nclaims;
}

/* Ends the parks whose time ran out. */
static void sched_expire(long long now)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->deadline && p->deadline <= now)
			park_wake(p);
	}
}

static void *timer_main(void *arg)
{
	long long last_sweep = 0;

	(void)arg;
	pthread_mutex_lock(&timer_mx);
	while (!timer_stop) {
		struct timespec ts;
		long long now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&timer_cv, &timer_mx, &ts);
		if (timer_stop)
			break;
		ctl_lock();
		now = now_ms();
		sched_expire(now);
		if (now - last_sweep >= 500) {
			last_sweep = now;
			attempt_sweep_leases(now);
		}
		ctl_unlock();
	}
	pthread_mutex_unlock(&timer_mx);
	return NULL;
}

int sched_start(void)
{
	timer_stop = 0;
	if (pthread_create(&timer, NULL, timer_main, NULL) != 0)
		return -1;
	timer_running = 1;
	return 0;
}

void sched_stop(void)
{
	if (!timer_running)
		return;
	pthread_mutex_lock(&timer_mx);
	timer_stop = 1;
	pthread_cond_signal(&timer_cv);
	pthread_mutex_unlock(&timer_mx);
	pthread_join(timer, NULL);
	timer_running = 0;
}
