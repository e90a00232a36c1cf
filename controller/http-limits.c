#include "http-limits.h"

#include <netinet/in.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json-util.h"
#include "log.h"
#include "xmalloc.h"

/* How many of libmicrohttpd's own messages are logged verbatim per interval. */
#define MHD_LINES_PER_INTERVAL 5

/* Open connections from one address: a node of the tsearch tree `by_address`,
 * freed when its last connection closes. Each connection's socket context
 * points at its node. */
struct peer {
	sa_family_t family;
	unsigned char addr[16];
	unsigned open;
};

static struct http_limits limits = HTTP_LIMITS_DEFAULT;
/* Guards everything below: the polling thread counts, any thread may log. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *by_address;
static unsigned open_total;
static struct {
	unsigned long per_address; /* refused at accept */
	unsigned long full;	   /* answered 503 */
	unsigned long mhd_lines;   /* libmicrohttpd messages held back */
	unsigned long mhd_logged;  /* ... and logged in this interval */
	long long since;	   /* the interval's start (monotonic seconds) */
} drops;

static long long mono_s(void)
{
	return clock_mono_ms() / 1000;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* The key of addr (the address only, not the port); -1 for another family. */
static int peer_key(struct peer *p, const struct sockaddr *addr)
{
	memset(p, 0, sizeof(*p));
	p->family = addr->sa_family;
	if (addr->sa_family == AF_INET)
		memcpy(p->addr, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, 4);
	else if (addr->sa_family == AF_INET6)
		memcpy(p->addr, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, 16);
	else
		return -1;
	return 0;
}

const struct vfield http_limits_fields[] = {
    {.name = "max",
     .type = V_INT,
     .min = 1,
     .max = 1000000,
     .help = "open connections; past it a request gets 503"},
    {.name = "per_address",
     .type = V_INT,
     .min = 1,
     .max = 1000000,
     .help = "open connections from one address"},
    {.name = "idle_seconds",
     .type = V_INT,
     .min = 1,
     .max = 3600,
     .help = "idle time before a request authenticates"},
    {.name = "authenticated_idle_seconds",
     .type = V_INT,
     .min = 1,
     .max = 86400,
     .help = "idle time after an authenticated request"},
    {.name = "retry_after_seconds",
     .type = V_INT,
     .min = 1,
     .max = 3600,
     .help = "503's Retry-After"},
    {.name = "log_seconds",
     .type = V_INT,
     .min = 1,
     .max = 86400,
     .help = "one summary of dropped connections per"},
    {.name = NULL},
};

void http_limits_from_json(struct http_limits *out, const json_t *section)
{
	static const struct http_limits def = HTTP_LIMITS_DEFAULT;

	*out = def;
	if (section == NULL)
		return;
	out->max = (unsigned)jint(section, "max", out->max);
	out->per_address = (unsigned)jint(section, "per_address", out->per_address);
	out->idle_seconds = (unsigned)jint(section, "idle_seconds", out->idle_seconds);
	out->auth_idle_seconds =
	    (unsigned)jint(section, "authenticated_idle_seconds", out->auth_idle_seconds);
	out->retry_after_seconds =
	    (unsigned)jint(section, "retry_after_seconds", out->retry_after_seconds);
	out->log_seconds = (unsigned)jint(section, "log_seconds", out->log_seconds);
}

void http_limits_init(const struct http_limits *l)
{
	pthread_mutex_lock(&lock);
	limits = *l;
	memset(&drops, 0, sizeof(drops));
	drops.since = mono_s();
	pthread_mutex_unlock(&lock);
}

unsigned http_limits_hard_max(void)
{
	return limits.max + limits.max / 8 + 16;
}

/* The summary line (lock held). */
static void log_summary(int force)
{
	long long now = mono_s();

	if (!force && now - drops.since < (long long)limits.log_seconds)
		return;
	if (drops.per_address || drops.full || drops.mhd_lines)
		log_warnx("connections: in the last %llds, %lu refused over the per-address limit "
			  "(%u), %lu answered 503 (%u open at most), %lu more server messages",
			  now - drops.since, drops.per_address, limits.per_address, drops.full,
			  limits.max, drops.mhd_lines);
	drops.per_address = drops.full = drops.mhd_lines = drops.mhd_logged = 0;
	drops.since = now;
}

enum MHD_Result http_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct peer key, **found;
	enum MHD_Result ok = MHD_YES;

	(void)cls;
	(void)addrlen;
	if (peer_key(&key, addr) < 0)
		return MHD_YES;
	pthread_mutex_lock(&lock);
	found = tfind(&key, &by_address, peer_cmp);
	if (found && (*found)->open >= limits.per_address) {
		drops.per_address++;
		ok = MHD_NO;
	}
	log_summary(0);
	pthread_mutex_unlock(&lock);
	return ok;
}

void http_limits_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *info;
	struct peer key, *p, **slot;

	(void)cls;
	pthread_mutex_lock(&lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		open_total++;
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (info && info->client_addr && peer_key(&key, info->client_addr) == 0) {
			slot = tsearch(&key, &by_address, peer_cmp);
			if (slot && *slot == &key) { /* new: keep a copy */
				p = xmalloc(sizeof(*p));
				*p = key;
				*slot = p;
			}
			if (slot) {
				(*slot)->open++;
				*socket_context = *slot;
			}
		}
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		open_total--;
		p = *socket_context;
		if (p && --p->open == 0) {
			tdelete(p, &by_address, peer_cmp);
			free(p);
		}
		*socket_context = NULL;
	}
	log_summary(0);
	pthread_mutex_unlock(&lock);
}

int http_limits_full(void)
{
	int full;

	pthread_mutex_lock(&lock);
	full = open_total > limits.max;
	if (full)
		drops.full++;
	pthread_mutex_unlock(&lock);
	return full;
}

unsigned http_limits_retry_after(void)
{
	return limits.retry_after_seconds;
}

void http_limits_log_mhd(const char *msg)
{
	int quiet;

	pthread_mutex_lock(&lock);
	log_summary(0);
	quiet = drops.mhd_logged >= MHD_LINES_PER_INTERVAL;
	if (quiet)
		drops.mhd_lines++;
	else
		drops.mhd_logged++;
	pthread_mutex_unlock(&lock);
	if (!quiet)
		log_warnx("microhttpd: %s", msg);
}

void http_limits_log_flush(int force)
{
	pthread_mutex_lock(&lock);
	log_summary(force);
	pthread_mutex_unlock(&lock);
}
