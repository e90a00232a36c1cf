#include "park.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "xmalloc.h"

struct park {
	struct req *r;
	enum park_queue queue;
	long long key;
	long long deadline; /* ms; 0: none */
	int woken;
	park_offer_fn offer;
	void *arg;
	void (*arg_free)(void *);
	struct park *prev, *next;
};

static struct park *parks_head, *parks_tail; /* FIFO: the oldest park is offered first */
static int nqueued[PARK_EVENTS + 1];
static int stopping; /* set at shutdown: nothing parks any more */
static pthread_t timer;
static int timer_running, timer_stop;
static void (*timer_tick)(long long now);
static long long timer_tick_ms;
static pthread_mutex_t timer_mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv = PTHREAD_COND_INITIALIZER;

static void unlink_park(struct park *p)
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
	nqueued[p->queue]--;
}

/* Called with ctl.lock held (see http.c on_completed). */
static void free_park(void *state)
{
	struct park *p = state;

	if (p == NULL)
		return;
	if (!p->woken)
		unlink_park(p);
	if (p->arg_free)
		p->arg_free(p->arg);
	free(p);
}

struct park *park_wait(struct req *r, enum park_queue q, long long key, long long deadline,
		       park_offer_fn offer, void *arg, void (*arg_free)(void *))
{
	struct park *p = r->state;

	if (stopping)
		return NULL;
	if (p && r->state_free == free_park) {
		assert(p->woken); /* a stream parks again after it was woken */
		p->woken = 0;
		if (arg) {
			if (p->arg_free)
				p->arg_free(p->arg);
			p->arg = arg;
			p->arg_free = arg_free;
		}
	} else {
		assert(r->state == NULL);
		p = xcalloc(1, sizeof(*p));
		p->arg = arg;
		p->arg_free = arg_free;
	}
	p->r = r;
	p->queue = q;
	p->key = key;
	p->deadline = deadline;
	p->offer = offer;
	p->prev = parks_tail;
	if (parks_tail)
		parks_tail->next = p;
	else
		parks_head = p;
	parks_tail = p;
	nqueued[q]++;
	r->state = p;
	r->state_free = free_park;
	req_park(r);
	return p;
}

void *park_arg(const struct park *p)
{
	return p->arg;
}

static void wake_park(struct park *p)
{
	if (p->woken)
		return;
	unlink_park(p);
	p->woken = 1;
	req_wake(p->r);
}

/* Offers what to p; wakes it when it took it. Returns 1 when it did. */
static int offer_park(struct park *p, const void *what)
{
	if (p->offer == NULL || !p->offer(p->arg, what))
		return 0;
	wake_park(p);
	return 1;
}

int park_offer(enum park_queue q, const void *what)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->queue == q && offer_park(p, what))
			return 1;
	}
	return 0;
}

void park_offer_all(enum park_queue q, const void *what)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->queue == q)
			offer_park(p, what);
	}
}

void park_wake(enum park_queue q, long long key)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->queue == q && p->key == key)
			wake_park(p);
	}
}

int park_count(void)
{
	struct park *p;
	int n = 0;

	for (p = parks_head; p; p = p->next)
		n++;
	return n;
}

int park_count_queue(enum park_queue q)
{
	return nqueued[q];
}

void park_wake_all(void)
{
	struct park *p, *next;

	stopping = 1;
	for (p = parks_head; p; p = next) {
		next = p->next;
		wake_park(p);
	}
}

/* Ends the parks whose time ran out. */
static void expire(long long now)
{
	struct park *p, *next;

	for (p = parks_head; p; p = next) {
		next = p->next;
		if (p->deadline && p->deadline <= now)
			wake_park(p);
	}
}

static void *timer_main(void *arg)
{
	long long last_tick = 0;

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
		expire(now);
		if (timer_tick && now - last_tick >= timer_tick_ms) {
			last_tick = now;
			timer_tick(now);
		}
		ctl_unlock();
	}
	pthread_mutex_unlock(&timer_mx);
	return NULL;
}

int park_start(void (*tick)(long long now), long long tick_ms)
{
	int rc;

	timer_stop = 0;
	timer_tick = tick;
	timer_tick_ms = tick_ms;
	rc = pthread_create(&timer, NULL, timer_main, NULL);
	if (rc != 0)
		return -rc;
	timer_running = 1;
	return 0;
}

void park_stop(void)
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
