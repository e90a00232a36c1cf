#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

struct ctl ctl = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct {
	pthread_mutex_t lock;
	int full;
	char path[4096];
} store = {.lock = PTHREAD_MUTEX_INITIALIZER};

void ctl_store_failed(int err, const char *path)
{
	if (err != ENOSPC && err != EDQUOT)
		return;
	pthread_mutex_lock(&store.lock);
	store.full = 1;
	snprintf(store.path, sizeof(store.path), "%s", path);
	pthread_mutex_unlock(&store.lock);
}

int ctl_store_full_take(char *path, size_t n)
{
	int full;

	pthread_mutex_lock(&store.lock);
	full = store.full;
	if (full && path)
		snprintf(path, n, "%s", store.path);
	store.full = 0;
	pthread_mutex_unlock(&store.lock);
	return full;
}

void ctl_lock(void)
{
	pthread_mutex_lock(&ctl.lock);
}

static void (*unlock_hook)(void);

void ctl_on_unlock(void (*fn)(void))
{
	unlock_hook = fn;
}

void ctl_unlock(void)
{
	if (unlock_hook)
		unlock_hook();
	pthread_mutex_unlock(&ctl.lock);
}

long long now_ms(void)
{
	return clock_wall_ms();
}
