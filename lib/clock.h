/* Clocks in milliseconds. The monotonic clock measures durations and
 * deadlines (it never jumps); the wall clock stamps what people read. */
#ifndef XENCI_CLOCK_H
#define XENCI_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long clock_mono_ms(void);
/* Microseconds of CLOCK_MONOTONIC. */
long long clock_mono_us(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
long long clock_wall_ms(void);

/* Initializes cv so that pthread_cond_timedwait takes monotonic deadlines
 * (those of clock_deadline). Returns 0 or a positive pthread error. */
int clock_cond_init(pthread_cond_t *cv);
/* The monotonic time ms from now, as pthread_cond_timedwait takes it for a
 * condvar made by clock_cond_init. ms < 0 counts as 0. */
void clock_deadline(struct timespec *ts, long long ms);

#endif
