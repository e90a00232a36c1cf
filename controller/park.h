/* Parked requests, in the manner of OpenSMTPD's waitq: a long-poll parks on a
 * queue with a deadline and, if it wants offers, a callback; the code that has
 * something for it offers it to the queue or wakes it. The list knows nothing
 * of what waits (claims, log followers, event streams): the callback does.
 * A timer thread ends the parks whose time ran out and calls one tick
 * callback (the lease sweep). Everything here runs with ctl.lock held, except
 * park_start/park_stop. */
#ifndef XENCI_PARK_H
#define XENCI_PARK_H

#include "http.h"

/* The queues. A park is on one; offers and wakes name the queue. */
/* PARK_EVENTS stays last: park.c sizes its counts by it. */
enum park_queue { PARK_CLAIM, PARK_LOG, PARK_CONSOLE, PARK_EVENTS };

struct park;

/* A park's callback: offered what (the offerer's type, which the queue's users
 * agree on), returns 1 when the park took it (the park is then woken), 0 when
 * not. arg is the park's own data. */
typedef int (*park_offer_fn)(void *arg, const void *what);

/* Parks r on queue q until deadline (ms, 0: none); the handler then returns 0
 * and is called again once the park is woken, with r->state the park. key
 * tells parks of one queue apart for park_wake (a log's attempt id; 0
 * otherwise). offer, or NULL, is called by park_offer; arg is the park's
 * data, freed with arg_free (or NULL) when the request ends. The park is freed
 * with r. A request that was woken may park again (event streams): its park
 * is reused and keeps its arg unless a new one is given.
 * Returns NULL (and parks nothing, and arg stays the caller's) once the server
 * is stopping: reply at once. */
struct park *park_wait(struct req *r, enum park_queue q, long long key, long long deadline,
		       park_offer_fn offer, void *arg, void (*arg_free)(void *));
/* The park's arg (borrowed), for a woken handler. */
void *park_arg(const struct park *p);

/* Offers what to the parks of q, oldest first, until one takes it. Returns 1
 * when one did. */
int park_offer(enum park_queue q, const void *what);
/* Offers what to every park of q (after bulk changes). */
void park_offer_all(enum park_queue q, const void *what);
/* Wakes the parks of q whose key is key. */
void park_wake(enum park_queue q, long long key);
/* Wakes every park, and refuses new ones (shutdown). */
void park_wake_all(void);
/* How many requests are parked now, on every queue. */
int park_count(void);
/* How many requests are parked on q now. */
int park_count_queue(enum park_queue q);

/* Starts the timer thread: every 50 ms it wakes the parks whose deadline
 * passed, and every tick_ms it calls tick(now) (or nothing when tick is NULL),
 * both with ctl.lock held. Returns 0 or -errno. */
int park_start(void (*tick)(long long now), long long tick_ms);
/* Stops and joins the timer thread (nothing when it did not start). */
void park_stop(void);

#endif
