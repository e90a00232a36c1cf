#include "http-limits.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "json-util.h"
#include "log.h"
#include "xmalloc.h"

/* How many of libmicrohttpd's own messages are logged verbatim per interval. */
#define MHD_LINES_PER_INTERVAL 5
/* How often the reaper looks for overdue heads (milliseconds). */
#define REAP_MS 250

/* Open connections from one address: a node of the tsearch tree `by_address`,
 * freed when its last connection closes. Each connection's socket context
 * points at its node. */
struct peer {
	sa_family_t family;
	unsigned char addr[16];
	unsigned open;
	unsigned pending; /* admitted (http_limits_admit), not yet started */
};

int http_limits_admitted;

/* One open connection: its socket context, from NOTIFY_STARTED to NOTIFY_CLOSED
 * (libmicrohttpd closes fd only after the latter, so while a slot is in the list
 * under the lock its fd is the connection's). */
struct slot {
	struct peer *peer; /* NULL for a family without addresses (unix) */
	int fd;
	long long head_due; /* monotonic ms by which the head must be in; 0: none */
	struct slot *prev, *next;
};

static struct http_limits limits = HTTP_LIMITS_DEFAULT;
/* Guards everything below: the polling thread counts, any thread may log. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *by_address;
static unsigned open_total;
static struct slot *slots;
static pthread_t reaper;
static pthread_cond_t reaper_cv;
static int reaper_running, reaper_stop;
static struct {
	unsigned long per_address; /* refused at accept */
	unsigned long full;	   /* answered 503 */
	unsigned long slow_head;   /* closed with their head overdue */
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
    {.name = "head_seconds",
     .type = V_INT,
     .min = 1,
     .max = 3600,
     .help = "time for a request's headers to arrive, however paced"},
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
	out->head_seconds = (unsigned)jint(section, "head_seconds", out->head_seconds);
}

/* Closes the connections whose head is overdue (lock held). shutdown() and not
 * close(): the descriptor stays libmicrohttpd's, which sees the end of the stream
 * on its next read and frees the connection as for any client that left. */
static void reap(long long now)
{
	struct slot *s;

	for (s = slots; s; s = s->next)
		if (s->head_due && now >= s->head_due && s->fd >= 0) {
			s->head_due = 0;
			drops.slow_head++;
			shutdown(s->fd, SHUT_RDWR);
		}
}

static void *reaper_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!reaper_stop) {
		clock_deadline(&ts, REAP_MS);
		pthread_cond_timedwait(&reaper_cv, &lock, &ts);
		if (!reaper_stop)
			reap(clock_mono_ms());
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int http_limits_start(const struct http_limits *l)
{
	int rc;

	pthread_mutex_lock(&lock);
	limits = *l;
	memset(&drops, 0, sizeof(drops));
	drops.since = mono_s();
	reaper_stop = 0;
	pthread_mutex_unlock(&lock);
	if (reaper_running)
		return 0;
	if ((rc = clock_cond_init(&reaper_cv)) != 0 ||
	    (rc = pthread_create(&reaper, NULL, reaper_main, NULL)) != 0)
		return -rc;
	reaper_running = 1;
	return 0;
}

void http_limits_stop(void)
{
	if (!reaper_running)
		return;
	pthread_mutex_lock(&lock);
	reaper_stop = 1;
	pthread_cond_signal(&reaper_cv);
	pthread_mutex_unlock(&lock);
	pthread_join(reaper, NULL);
	pthread_cond_destroy(&reaper_cv);
	reaper_running = 0;
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
	if (drops.per_address || drops.full || drops.slow_head || drops.mhd_lines)
		log_warnx("connections: in the last %llds, %lu refused over the per-address limit "
			  "(%u), %lu answered 503 (%u open at most), %lu closed with their "
			  "request head still arriving, %lu more server messages",
			  now - drops.since, drops.per_address, limits.per_address, drops.full,
			  limits.max, drops.slow_head, drops.mhd_lines);
	drops.per_address = drops.full = drops.slow_head = drops.mhd_lines = drops.mhd_logged = 0;
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
	if (found && (*found)->open + (*found)->pending >= limits.per_address) {
		drops.per_address++;
		ok = MHD_NO;
	}
	log_summary(0);
	pthread_mutex_unlock(&lock);
	return ok;
}

/* addr's node, made when new (lock held); NULL for another family. */
static struct peer *peer_get(const struct sockaddr *addr)
{
	struct peer key, *p, **found;

	if (peer_key(&key, addr) < 0)
		return NULL;
	found = tsearch(&key, &by_address, peer_cmp);
	if (found == NULL)
		return NULL;
	if (*found == &key) { /* new: keep a copy */
		p = xmalloc(sizeof(*p));
		*p = key;
		*found = p;
	}
	return *found;
}

/* Frees p when nothing of its address is open or pending (lock held). */
static void peer_put(struct peer *p)
{
	if (p && p->open == 0 && p->pending == 0) {
		tdelete(p, &by_address, peer_cmp);
		free(p);
	}
}

int http_limits_admit(const struct sockaddr *addr)
{
	struct peer *p;
	int rc = 0;

	pthread_mutex_lock(&lock);
	p = peer_get(addr);
	if (p && p->open + p->pending >= limits.per_address) {
		drops.per_address++;
		peer_put(p); /* made for nothing when per_address is 0 */
		rc = -1;
	} else if (p) {
		p->pending++;
	}
	log_summary(0);
	pthread_mutex_unlock(&lock);
	return rc;
}

void http_limits_admit_undo(const struct sockaddr *addr)
{
	struct peer key, **found;

	if (peer_key(&key, addr) < 0)
		return;
	pthread_mutex_lock(&lock);
	found = tfind(&key, &by_address, peer_cmp);
	if (found && (*found)->pending > 0) {
		(*found)->pending--;
		peer_put(*found);
	}
	pthread_mutex_unlock(&lock);
}

void http_limits_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *info;
	struct peer *p;
	struct slot *s;

	pthread_mutex_lock(&lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		open_total++;
		s = xcalloc(1, sizeof(*s));
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		s->fd = info ? info->connect_fd : -1;
		s->head_due = clock_mono_ms() + 1000LL * limits.head_seconds;
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (info && info->client_addr && (p = peer_get(info->client_addr)) != NULL) {
			/* admitted by an accept thread: pending until here */
			if (cls == &http_limits_admitted && p->pending > 0)
				p->pending--;
			p->open++;
			s->peer = p;
		}
		s->next = slots;
		if (slots)
			slots->prev = s;
		slots = s;
		*socket_context = s;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		open_total--;
		s = *socket_context;
		p = s->peer;
		if (p) {
			p->open--;
			peer_put(p);
		}
		if (s->prev)
			s->prev->next = s->next;
		else
			slots = s->next;
		if (s->next)
			s->next->prev = s->prev;
		free(s);
		*socket_context = NULL;
	}
	log_summary(0);
	pthread_mutex_unlock(&lock);
}

/* conn's slot (lock held), or NULL. */
static struct slot *slot_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

void http_limits_head_done(struct MHD_Connection *conn)
{
	struct slot *s;

	pthread_mutex_lock(&lock);
	if ((s = slot_of(conn)) != NULL)
		s->head_due = 0;
	pthread_mutex_unlock(&lock);
}

void http_limits_head_next(struct MHD_Connection *conn, int authenticated)
{
	struct slot *s;

	pthread_mutex_lock(&lock);
	if ((s = slot_of(conn)) != NULL)
		s->head_due = clock_mono_ms() + 1000LL * (authenticated ? limits.auth_idle_seconds
									: limits.head_seconds);
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
