#include "ctl.h"

#include <time.h>

struct ctl ctl = {.lock = PTHREAD_MUTEX_INITIALIZER};

void ctl_lock(void)
{
	pthread_mutex_lock(&ctl.lock);
}

void ctl_unlock(void)
{
	pthread_mutex_unlock(&ctl.lock);
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
