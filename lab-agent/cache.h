/* The artifact cache: files named by their sha256 under the cache folder,
 * downloaded from the controller (resuming a partial download with Range),
 * verified before use, and kept within a size bound by evicting the least
 * recently used. A job's files are hard-linked (or copied, across file
 * systems) into the board's staging folder. */
#ifndef XENCI_AGENT_CACHE_H
#define XENCI_AGENT_CACHE_H

#include <pthread.h>
#include <stddef.h>

#include "http-client.h"

struct cache {
	char *dir;
	long long max_bytes;
	pthread_mutex_t mu; /* one download at a time, and trims */
};

int cache_init(struct cache *c, const char *dir, long long max_bytes);
void cache_release(struct cache *c);
/* Makes sure artifact sha256 is cached; *path (the caller frees) is its file. */
int cache_get(struct cache *c, struct http_client *h, const char *sha256, long long size,
	      char **path, char *err, size_t errlen);
/* Links (or copies) a cached file to dst, replacing dst. */
int cache_stage(const char *cached, const char *dst, char *err, size_t errlen);
/* Evicts the least recently used files until the cache fits its bound. */
void cache_trim(struct cache *c);

#endif
