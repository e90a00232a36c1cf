#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "db.h"
#include "fs.h"
#include "git-repo.h"
#include "http-limits.h"
#include "json-util.h"
#include "log.h"
#include "xmalloc.h"

#define WORKERS_MAX 16

/* One listener (the polling thread and the read pool), or with agent_listen two:
 * the agents' (that same model) and the public one, whose accept thread hands
 * each connection to the worker with the fewest (each a daemon with its own
 * polling thread, on which reads run inline). */
struct http_server {
	struct MHD_Daemon *mhd; /* the only listener, or the agents' */
	struct MHD_Daemon *worker[WORKERS_MAX];
	/* each worker's connections: counted when handed over, until closed */
	atomic_int conns[WORKERS_MAX];
	int workers;
	int listen_fd; /* the public listener's socket (-1: none) */
	pthread_t acceptor;
	int acceptor_running;
	atomic_int stopping; /* the accept thread's socket is being shut down */
	int port, agent_port;
	char *cert, *key;
	int read_threads;
};

/* The dh_cls of the public workers' daemons: their reads run inline. */
static char inline_reads;

const double http_lat_bounds[HTTP_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
						  0.05,	  0.1,	 0.25,	 0.5,	1,    5};
static struct http_stats stats;
static unsigned auth_idle_seconds = 120;
static char *spool_dir;
static char *read_gate; /* XENCI_TEST_READ_GATE (read_gate_wait) */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

void http_stats_get(struct http_stats *out)
{
	pthread_mutex_lock(&stats_lock);
	*out = stats;
	pthread_mutex_unlock(&stats_lock);
}

/* The reply cache of ROUTE_CACHE reads (its own lock: the polling thread looks
 * up, the read threads put). A commit of any kind changes db_generation(), which
 * invalidates every entry at once; an entry is kept under the generation read
 * before the read that made it began, so a reply read across a commit is never
 * served after it. */
#define CACHE_ENTRIES  32
#define CACHE_BODY_MAX (1u << 20)

static struct cache_entry {
	char *key;
	char *body;
	size_t len;
	long long gen;
	unsigned long long used;
} cache[CACHE_ENTRIES];
static unsigned long long cache_clock;
static int cache_disabled;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result cache_key_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct buf *b = cls;

	(void)kind;
	buf_printf(b, "&%s=%s", key, value ? value : "");
	return MHD_YES;
}

static char *cache_key(struct req *r)
{
	struct buf b = BUF_INIT(8192);

	buf_printf(&b, "%s %s?", r->method, r->url);
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, cache_key_arg, &b);
	if (buf_printf(&b, "|%d|%s", r->auth.role, r->auth.agent) < 0) {
		buf_release(&b);
		return NULL; /* too long to be worth keeping */
	}
	return buf_detach(&b, NULL);
}

/* Replies from the entry of r->cache_key at r->cache_gen: 1 when it did. */
static int cache_reply(struct req *r)
{
	int i, found = 0;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_ENTRIES && !found; i++)
		if (cache[i].key && cache[i].gen == r->cache_gen &&
		    !strcmp(cache[i].key, r->cache_key)) {
			cache[i].used = ++cache_clock;
			reply_data(r, 200, "application/json", cache[i].body, cache[i].len);
			found = 1;
		}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_put(const struct req *r, const char *body, size_t len)
{
	struct cache_entry *e = &cache[0];
	const char *key = r->cache_key;
	int i;

	if (len > CACHE_BODY_MAX || r->cache_gen < 0)
		return;
	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_ENTRIES; i++) {
		if (cache[i].key && !strcmp(cache[i].key, key)) {
			e = &cache[i];
			break;
		}
		if (cache[i].used < e->used)
			e = &cache[i];
	}
	free(e->key);
	free(e->body);
	e->key = xstrdup(key);
	e->body = xmalloc(len);
	memcpy(e->body, body, len);
	e->len = len;
	e->gen = r->cache_gen;
	e->used = ++cache_clock;
	pthread_mutex_unlock(&cache_lock);
}

int reply_response(struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ok;

	if (resp == NULL)
		return -ENOMEM;
	/* Every reply carries each of these once: the handler's own, or the default
	 * (no caching; no type sniffing; a CSP under which nothing but a page of ours
	 * can load anything, e.g. a raw log opened in a browser). */
	if (!MHD_get_response_header(resp, "Cache-Control"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (!MHD_get_response_header(resp, "X-Content-Type-Options"))
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (!MHD_get_response_header(resp, "Content-Security-Policy"))
		MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP_NONE);
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (r->retry_after) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%u", http_limits_retry_after());
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	pthread_mutex_lock(&stats_lock);
	if (status / 100 < 6)
		stats.by_class[status / 100]++;
	pthread_mutex_unlock(&stats_lock);
	r->replied = 1;
	if (r->pooled) {
		/* a read thread: the polling thread queues it once woken */
		r->resp = resp;
		r->resp_status = status;
		return 0;
	}
	ok = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ok == MHD_YES ? 0 : -EIO;
}

int reply_data(struct req *r, unsigned status, const char *content_type, const void *data,
	       size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (resp && content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return reply_response(r, status, resp);
}

/* The JSON text s (len bytes, malloc'd) as the reply, which takes it: cached when
 * the route is, no copy made. */
static int reply_json_take(struct req *r, unsigned status, char *s, size_t len)
{
	struct MHD_Response *resp;

	if (status == 200 && r->cache_key)
		cache_put(r, s, len);
	resp = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return reply_response(r, status, resp);
}

int reply_json(struct req *r, unsigned status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	if (s == NULL)
		return -ENOMEM;
	return reply_json_take(r, status, s, strlen(s));
}

int reply_json_buf(struct req *r, unsigned status, struct buf *b)
{
	size_t len;
	char *s = buf_detach(b, &len);

	return reply_json_take(r, status, s, len);
}

int reply_error(struct req *r, unsigned status, const char *error, json_t *detail)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(error));
	json_object_set_new(o, "detail", detail ? detail : json_null());
	/* 503s are summarised (http-limits.c), 507s logged with their path */
	if (status >= 500 && status != 503 && status != 507)
		log_warnx("%s %s: %d %s", r->method, r->url, status, error);
	return reply_json(r, status, o);
}

int reply_errorf(struct req *r, unsigned status, const char *error, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return reply_error(r, status, error, json_string(detail));
}

const char *req_query(struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int req_query_int(struct req *r, const char *key, long long def, long long max, long long *out)
{
	const char *s = req_query(r, key);
	char *end;
	long long v;

	*out = def;
	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > max) {
		reply_errorf(r, 400, "bad query parameter", "%s must be an integer in 0..%lld", key,
			     max);
		return -1;
	}
	*out = v;
	return 0;
}

int req_need_role(struct req *r, enum role min)
{
	if (r->auth.role == ROLE_NONE) {
		reply_error(r, 401, "authentication required", json_string("a bearer token"));
		return -1;
	}
	if (r->auth.role == ROLE_AGENT && min != ROLE_AGENT) {
		reply_errorf(r, 403, "forbidden", "needs a %s token", role_name(min));
		return -1;
	}
	if (r->auth.role < min) {
		reply_errorf(r, 403, "forbidden", "needs a %s token", role_name(min));
		return -1;
	}
	return 0;
}

int req_need_agent(struct req *r, const char *name)
{
	if (r->auth.role == ROLE_NONE) {
		reply_error(r, 401, "authentication required", json_string("a bearer token"));
		return -1;
	}
	if (r->auth.role == ROLE_ADMIN)
		return 0;
	if (r->auth.role != ROLE_AGENT || strcmp(r->auth.agent, name)) {
		reply_errorf(r, 403, "forbidden", "needs the agent token of %s", name);
		return -1;
	}
	return 0;
}

void req_park(struct req *r)
{
	if (r->pooled) {
		log_warnx("%s %s: a ROUTE_READ handler cannot park", r->method, r->url);
		return;
	}
	r->parked = 1;
	MHD_suspend_connection(r->conn);
}

void req_wake(struct req *r)
{
	if (!r->parked)
		return;
	r->parked = 0;
	MHD_resume_connection(r->conn);
}

/* Matches path against pattern, capturing "{}" segments. */
static int route_match(struct req *r, const char *pattern, const char *path)
{
	int n = 0;

	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t len = strcspn(path, "/");

			if (len == 0 || len >= ROUTE_PARAM_MAX || n == ROUTE_PARAMS_MAX)
				return 0;
			memcpy(r->param[n], path, len);
			r->param[n][len] = '\0';
			n++;
			path += len;
			pattern += 2;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	if (*pattern || *path)
		return 0;
	r->nparam = n;
	return 1;
}

const struct route *http_route_find(struct req *r, int *path_known)
{
	const struct route *rt;

	*path_known = 0;
	for (rt = routes; rt->method; rt++) {
		if (!route_match(r, rt->path, r->url))
			continue;
		if (!strcmp(rt->method, r->method) ||
		    (!strcmp(r->method, "HEAD") && !strcmp(rt->method, "GET")))
			return rt;
		*path_known = 1;
	}
	return NULL;
}

/* A new spool file, unnamed where the file system allows it. -errno. */
static int spool_open(void)
{
	const char *dir = spool_dir ? spool_dir : "/tmp";
	char *path;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), e;

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd >= 0 ? fd : -errno;
	path = xasprintf("%s/body-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	e = errno;
	if (fd >= 0)
		unlink(path);
	free(path);
	return fd >= 0 ? fd : -e;
}

/* Adds n bytes of r's body: in memory up to BODY_MEM_MAX, then to a spool file
 * (what memory held goes first). Returns -1 past the route's bound (too_big);
 * a spool that fails sets spool_error and drops the rest. */
static int body_add(struct req *r, const char *data, size_t n)
{
	size_t have = r->spool_fd >= 0 ? r->spool_len : r->body.len;
	int rc;

	if (n > r->body.max - have)
		return -1;
	if (r->spool_error)
		return 0;
	if (r->spool_fd < 0 && have + n <= BODY_MEM_MAX)
		return buf_append(&r->body, data, n) < 0 ? -1 : 0;
	if (r->spool_fd < 0) {
		if ((rc = spool_open()) < 0) {
			r->spool_error = -rc;
			return 0;
		}
		r->spool_fd = rc;
		if ((rc = fd_write_all(r->spool_fd, r->body.data, r->body.len)) < 0) {
			r->spool_error = -rc;
			return 0;
		}
		r->spool_len = r->body.len;
		buf_release(&r->body);
	}
	if ((rc = fd_write_all(r->spool_fd, data, n)) < 0) {
		r->spool_error = -rc;
		return 0;
	}
	r->spool_len += n;
	return 0;
}

/* Once the body is complete: maps a spooled one (with the NUL that a buf has)
 * into r->body. 0, or -errno into spool_error. */
static int body_finish(struct req *r)
{
	void *map;
	int rc;

	if (r->spool_fd < 0 || r->mapped || r->spool_error)
		return -r->spool_error;
	if ((rc = fd_write_all(r->spool_fd, "", 1)) < 0) {
		r->spool_error = -rc;
		return rc;
	}
	map = mmap(NULL, r->spool_len + 1, PROT_READ, MAP_PRIVATE, r->spool_fd, 0);
	if (map == MAP_FAILED) {
		r->spool_error = errno;
		return -r->spool_error;
	}
	r->body.data = map;
	r->body.len = r->spool_len;
	r->mapped = 1;
	return 0;
}

static void req_free(struct req *r)
{
	if (r == NULL)
		return;
	if (r->state_free)
		r->state_free(r->state);
	if (r->mapped) {
		munmap(r->body.data, r->spool_len + 1);
		r->body.data = NULL;
	}
	if (r->spool_fd >= 0)
		close(r->spool_fd);
	buf_release(&r->body);
	json_decref(r->json);
	free(r->cache_key);
	if (r->resp)
		MHD_destroy_response(r->resp);
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	double secs;
	int i;

	(void)cls;
	(void)toe;
	if (r == NULL)
		return;
	http_limits_head_next(conn, r->auth.role != ROLE_NONE);
	if (r->route && !(r->route->flags & ROUTE_LONGPOLL)) {
		secs = (double)(clock_mono_us() - r->start_us) / 1e6;
		pthread_mutex_lock(&stats_lock);
		stats.count++;
		stats.sum_seconds += secs;
		for (i = 0; i < HTTP_LAT_BUCKETS; i++)
			if (secs <= http_lat_bounds[i])
				stats.bucket[i]++;
		pthread_mutex_unlock(&stats_lock);
	}
	if (r->state_free) {
		/* Parked state may sit in the scheduler's lists: drop it under the lock. */
		ctl_lock();
		r->state_free(r->state);
		r->state_free = NULL;
		ctl_unlock();
	}
	req_free(r);
	*con_cls = NULL;
}

/* What comes before a handler: the body's bounds and completion, JSON, the
 * reply cache. 1 when it replied. Without ctl.lock for a ROUTE_READ route. */
static int run_prelude(struct req *r)
{
	char err[256];

	if (r->too_big) {
		reply_errorf(r, 413, "body too large", "at most %zu bytes",
			     r->route->body_max ? r->route->body_max : BODY_MAX_DEFAULT);
		return 1;
	}
	if (body_finish(r) < 0) {
		if (r->spool_error == ENOSPC || r->spool_error == EDQUOT) {
			log_warnx("%s %s: 507, no space left on device for the body in %s",
				  r->method, r->url, spool_dir ? spool_dir : "/tmp");
			reply_error(r, 507, "insufficient storage",
				    json_string("no space left on device"));
			return 1;
		}
		reply_error(r, 500, "internal error", json_string(strerror(r->spool_error)));
		return 1;
	}
	if ((r->route->flags & ROUTE_JSON) && r->json == NULL && !r->state) {
		/* An empty body is an empty object: the validator then names what is missing. */
		r->json = r->body.len ? json_parse(r->body.data, r->body.len, err, sizeof(err))
				      : json_object();
		if (r->json == NULL) {
			reply_error(r, 400, "malformed JSON", json_string(err));
			return 1;
		}
		if (!json_is_object(r->json)) {
			reply_error(r, 400, "malformed JSON",
				    json_string("the body must be a JSON object"));
			return 1;
		}
	}
	if ((r->route->flags & ROUTE_CACHE) && !r->state && !cache_disabled && !r->cache_key) {
		r->cache_key = cache_key(r);
		r->cache_gen = db_generation();
		if (r->cache_key && cache_reply(r))
			return 1;
	}
	return 0;
}

/* A test point: with XENCI_TEST_READ_GATE=FILE in the environment, a ROUTE_READ
 * handler waits while FILE exists, having made FILE.held (wherever it runs: the
 * read pool, or the polling thread under ctl.lock when there is none), so that a
 * test can hold reads and show what the agents' requests do meanwhile
 * (tests/integration/test-read-pool.c). */
static void read_gate_wait(void)
{
	char *mark;
	int fd;

	if (access(read_gate, F_OK) != 0)
		return;
	mark = xasprintf("%s.held", read_gate);
	fd = open(mark, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	while (access(read_gate, F_OK) == 0)
		usleep(20 * 1000);
	free(mark);
}

/* The handler, and a 500 or 507 when it failed without replying. */
static int run_route(struct req *r)
{
	char full[4096];
	int rc;

	if (read_gate && (r->route->flags & ROUTE_READ))
		read_gate_wait();
	ctl_store_full_take(NULL, 0); /* a note left by another thread is not this one's */
	rc = r->route->handler(r);
	if (rc < 0 && !r->replied && !r->parked && ctl_store_full_take(full, sizeof(full))) {
		/* each store undid its half-written part before it failed */
		log_warnx("%s %s: 507, no space left on device: %s", r->method, r->url, full);
		return reply_error(r, 507, "insufficient storage",
				   json_string("no space left on device"));
	}
	if (rc < 0 && !r->replied && !r->parked)
		return reply_error(r, 500, "internal error", json_string(strerror(-rc)));
	if (!r->replied && !r->parked)
		return reply_error(r, 500, "internal error", json_string("no reply"));
	return 0;
}

static int run_handler(struct req *r)
{
	return run_prelude(r) ? 0 : run_route(r);
}

/* The read pool: ROUTE_READ requests, suspended by the polling thread, are run
 * by the first free thread, each with its own read-only connection to the store
 * (db_reader_open) and without ctl.lock; the reply is left in the request and
 * the connection resumed, and the polling thread sends it. */
#define READ_THREADS_MAX 16

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct req *head, *tail;
	int stop, n, ready, failed;
	pthread_t tid[READ_THREADS_MAX];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *read_main(void *arg)
{
	struct req *r;
	int ok = db_reader_open() == 0;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	if (ok)
		pool.ready++;
	else
		pool.failed++;
	pthread_cond_broadcast(&pool.cond);
	while (ok) {
		while (!pool.head && !pool.stop)
			pthread_cond_wait(&pool.cond, &pool.lock);
		if (!pool.head)
			break; /* stopping, and nothing left */
		r = pool.head;
		pool.head = r->next;
		if (!pool.head)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);
		db_read_begin();
		run_route(r);
		db_read_end();
		MHD_resume_connection(r->conn);
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	db_reader_close();
	return NULL;
}

/* Starts up to n read threads; how many run (0 when the store has no file to
 * open a second connection to). */
static int pool_start(int n)
{
	int i;

	pthread_mutex_lock(&pool.lock);
	pool.stop = 0;
	pool.ready = pool.failed = 0;
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < n && i < READ_THREADS_MAX; i++)
		if (pthread_create(&pool.tid[i], NULL, read_main, NULL) != 0)
			break;
	pthread_mutex_lock(&pool.lock);
	pool.n = i;
	while (pool.ready + pool.failed < pool.n)
		pthread_cond_wait(&pool.cond, &pool.lock);
	i = pool.ready;
	pthread_mutex_unlock(&pool.lock);
	return i;
}

/* Lets the threads run what is queued, then ends them. */
static void pool_stop(void)
{
	int i;

	pthread_mutex_lock(&pool.lock);
	pool.stop = 1;
	pool.ready = 0;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.n; i++)
		pthread_join(pool.tid[i], NULL);
	pool.n = 0;
}

/* A ROUTE_READ request whose body is in (polling thread): replied from the
 * cache, handed to the read pool, or run here under ctl.lock when there is no
 * pool (it is stopping, or never started). */
static void run_read(struct req *r)
{
	int queued = 0;

	if (run_prelude(r))
		return;
	pthread_mutex_lock(&pool.lock);
	if (pool.ready > 0) {
		r->pooled = 1;
		r->next = NULL;
		MHD_suspend_connection(r->conn);
		if (pool.tail)
			pool.tail->next = r;
		else
			pool.head = r;
		pool.tail = r;
		pthread_cond_signal(&pool.cond);
		queued = 1;
	}
	pthread_mutex_unlock(&pool.lock);
	if (queued)
		return;
	ctl_lock();
	run_route(r);
	ctl_unlock();
}

/* A public worker's own read-only connection to the store, opened by its first
 * read and closed when the worker's thread ends (the key's destructor runs on it). */
static pthread_key_t worker_reader_key;
static pthread_once_t worker_reader_once = PTHREAD_ONCE_INIT;

static void worker_reader_close(void *mark)
{
	(void)mark;
	db_reader_close();
}

static void worker_reader_key_make(void)
{
	if (pthread_key_create(&worker_reader_key, worker_reader_close) != 0)
		log_warnx("no thread key for the workers' read connections");
}

/* 0 when this thread has its read connection. */
static int worker_reader(void)
{
	if (db_reader_ready())
		return 0;
	pthread_once(&worker_reader_once, worker_reader_key_make);
	if (db_reader_open() < 0)
		return -1;
	if (pthread_setspecific(worker_reader_key, &worker_reader_key) != 0) {
		db_reader_close();
		return -1;
	}
	return 0;
}

/* A ROUTE_READ request on a public worker: run here, on the worker's own read
 * connection, without ctl.lock (under it when the connection cannot open). */
static void run_inline(struct req *r)
{
	if (run_prelude(r))
		return;
	if (worker_reader() == 0) {
		db_read_begin();
		run_route(r);
		db_read_end();
		return;
	}
	ctl_lock();
	run_route(r);
	ctl_unlock();
}

struct framing {
	const char *length; /* the first Content-Length */
	int conflict;	    /* another Content-Length that differs */
	int chunked;	    /* a Transfer-Encoding */
	int bad_name;	    /* whitespace in a header's name ("Content-Length : 5") */
};

static enum MHD_Result framing_scan(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strpbrk(key, " \t"))
		f->bad_name = 1;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (f->length == NULL)
			f->length = value ? value : "";
		else if (strcmp(f->length, value ? value : ""))
			f->conflict = 1;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->chunked = 1;
	}
	return MHD_YES;
}

/* RFC 9112 6.3: two different Content-Lengths, or one with a Transfer-Encoding,
 * leave the body's end ambiguous (libmicrohttpd takes the first, or the chunking),
 * and what a proxy in front took for the rest could be served as a second request:
 * 400, and the connection closes after it. So does whitespace between a header's
 * name and its colon (RFC 9112 5.1 says 400): libmicrohttpd keeps such a header under
 * another name, so "Content-Length : N" leaves a body that a proxy counted. Returns
 * -1 when it replied. */
static int framing_check(struct req *r)
{
	struct framing f = {NULL, 0, 0, 0};

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, framing_scan, &f);
	if (!f.conflict && !(f.length && f.chunked) && !f.bad_name)
		return 0;
	r->close = 1;
	if (f.bad_name)
		reply_error(r, 400, "malformed header",
			    json_string("whitespace between a header's name and its colon"));
	else
		reply_error(r, 400, "ambiguous body length",
			    json_string(f.conflict ? "two different Content-Length headers"
						   : "both Content-Length and Transfer-Encoding"));
	return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	const char *cl, *hdr;
	int known;

	if (r == NULL) {
		size_t max;

		r = xcalloc(1, sizeof(*r));
		r->spool_fd = -1;
		*con_cls = r;
		r->conn = conn;
		r->method = method;
		r->url = url;
		r->start_us = clock_mono_us();
		http_limits_head_done(conn);
		if (framing_check(r) < 0)
			return MHD_YES;
		/* RFC 9112 3.2 (libmicrohttpd checks it only in its strict mode) */
		if (!strcmp(version, MHD_HTTP_VERSION_1_1) &&
		    req_header(r, MHD_HTTP_HEADER_HOST) == NULL) {
			r->close = 1;
			reply_error(r, 400, "missing Host",
				    json_string("an HTTP/1.1 request needs a Host header"));
			return MHD_YES;
		}
		if (http_limits_full()) {
			r->close = 1;
			r->retry_after = 1;
			reply_errorf(r, 503, "server full",
				     "too many open connections; retry later");
			return MHD_YES;
		}
		r->route = http_route_find(r, &known);
		if (r->route == NULL) {
			if (known)
				reply_errorf(r, 405, "method not allowed", "%s %s", method, url);
			else
				reply_errorf(r, 404, "not found", "no route %s %s", method, url);
			return MHD_YES;
		}
		max = r->route->body_max ? r->route->body_max : BODY_MAX_DEFAULT;
		buf_init(&r->body, max);
		cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > max) {
			reply_errorf(r, 413, "body too large", "at most %zu bytes", max);
			return MHD_YES;
		}
		/* the store is read (ctl.lock) only for a token: most reads carry none */
		hdr = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
		if (hdr) {
			ctl_lock();
			r->auth_failed = auth_check(&r->auth, hdr) < 0;
			ctl_unlock();
		} else {
			auth_check(&r->auth, NULL); /* anonymous */
		}
		if (r->auth_failed) {
			reply_error(r, 401, "invalid token",
				    json_string("the bearer token is unknown or revoked"));
			return MHD_YES;
		}
		/* Only a client that proved who it is may idle long (a lab's long
		 * uploads, keep-alive between heartbeats); suspended long polls and
		 * streams are never timed out. */
		if (r->auth.role != ROLE_NONE)
			MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
						  auth_idle_seconds);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->replied && !r->too_big && !r->upload_failed) {
			if (r->route->upload) {
				if (r->route->upload(r, upload, *upload_size) < 0)
					r->upload_failed = 1;
			} else if (body_add(r, upload, *upload_size) < 0) {
				r->too_big = 1;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->pooled) {
		/* a read thread's reply, the connection resumed (none: it could not
		 * make one, out of memory) */
		if (r->resp) {
			MHD_queue_response(r->conn, r->resp_status, r->resp);
			MHD_destroy_response(r->resp);
			r->resp = NULL;
			return MHD_YES;
		}
		return MHD_NO;
	}
	if (r->replied)
		return MHD_YES;
	if (r->route->flags & ROUTE_READ) {
		/* a fetch holds a repository for its whole download: a read that
		 * waits for it there holds a thread, better the pool's than a
		 * worker's and its connections */
		if (cls == &inline_reads && !gitrepo_fetching())
			run_inline(r);
		else
			run_read(r);
		return MHD_YES;
	}
	ctl_lock();
	run_handler(r);
	ctl_unlock();
	return MHD_YES;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	http_limits_log_mhd(msg);
}

static int read_pem(char **out, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	size_t n;

	*out = NULL;
	if (f == NULL) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	if (b.len == 0) {
		snprintf(err, errlen, "%s: empty or too large", path);
		buf_release(&b);
		return -EINVAL;
	}
	*out = buf_detach(&b, NULL);
	return 0;
}

/* The read pool's size: XENCI_READ_THREADS (0 turns the pool off), else one
 * thread per processor, at least 2 and at most 8. */
static int read_threads(void)
{
	const char *e = getenv("XENCI_READ_THREADS");
	long n = e && *e ? strtol(e, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	if (e && *e)
		return n < 0 ? 0 : n > READ_THREADS_MAX ? READ_THREADS_MAX : (int)n;
	return n < 2 ? 2 : n > 8 ? 8 : (int)n;
}

/* listen's "IPv4-ADDR:PORT" into sin; -EINVAL with a message naming field. */
static int parse_listen(const char *field, const char *listen, struct sockaddr_in *sin, char *err,
			size_t errlen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	long port;
	char *end;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host)) {
		snprintf(err, errlen, "%s: \"%s\" is not ADDR:PORT", field, listen);
		return -EINVAL;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 ||
	    inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sin->sin_addr) != 1) {
		snprintf(err, errlen, "%s: \"%s\" is not IPv4-ADDR:PORT", field, listen);
		return -EINVAL;
	}
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

/* A public worker's NOTIFY_CONNECTION (cls: its count of connections, which the
 * accept thread raised when it handed the connection over). */
static void worker_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	http_limits_notify(&http_limits_admitted, conn, socket_context, code);
	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub((atomic_int *)cls, 1);
}

/* A daemon serving on_request: listening on sin, or (sin NULL) a public worker
 * fed by MHD_add_connection, whose connections conns counts; cls is on_request's
 * (&inline_reads on a public worker). */
static struct MHD_Daemon *daemon_start(struct http_server *s, const struct sockaddr_in *sin,
				       atomic_int *conns, void *cls,
				       const struct http_limits *limits)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	struct MHD_OptionItem o[12];
	int n = 0;

	o[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
	o[n++] = sin ? (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
					       (intptr_t)http_limits_notify, NULL}
		     : (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
					       (intptr_t)worker_notify, conns};
	/* A worker's, above what the accept thread lets in (libmicrohttpd 0.9.75
	 * leaves a mutex locked when a connection handed over meets its limit,
	 * and the worker stops for good). */
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
					 (intptr_t)http_limits_hard_max() + (sin ? 0 : 64), NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
					 (intptr_t)limits->idle_seconds, NULL};
	if (sin) {
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)sin};
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
	} else {
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	}
	if (s->cert && s->key) {
		flags |= MHD_USE_TLS;
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert};
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key};
	}
	o[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return MHD_start_daemon(flags, 0, sin ? http_limits_accept : NULL, NULL, on_request, cls,
				MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

/* The public worker with the fewest connections (its count raised for the
 * one handed over), from a turning start. Its own counts, not libmicrohttpd's:
 * a connection handed over is counted by its daemon only once its thread takes
 * it, and four connections arriving at once would all go to one worker. */
static int worker_pick(struct http_server *s)
{
	static unsigned turn; /* the accept thread's */
	int best, i, n, k, min;

	turn++;
	best = (int)(turn % (unsigned)s->workers); /* public_start makes at least one */
	min = atomic_load(&s->conns[best]);
	for (k = 1; k < s->workers; k++) {
		i = (int)((turn + (unsigned)k) % (unsigned)s->workers);
		n = atomic_load(&s->conns[i]);
		if (n < min) {
			best = i;
			min = n;
		}
	}
	atomic_fetch_add(&s->conns[best], 1);
	return best;
}

/* The connections of every worker. */
static int workers_total(struct http_server *s)
{
	int i, n = 0;

	for (i = 0; i < s->workers; i++)
		n += atomic_load(&s->conns[i]);
	return n;
}

/* The public listener's accept thread: the hard limit and the per-address limit (http_limits_admit:
 * what a daemon's own accept asks http_limits_accept), then the least busy
 * worker. Ends when http_stop shuts the socket down. */
static void *accept_main(void *arg)
{
	struct http_server *s = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, i;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			char msg[128];

			if (atomic_load(&s->stopping))
				break;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* out of descriptors or memory, or a network error accept(2)
			 * passes on: logged (a few a minute), and the listener goes on */
			snprintf(msg, sizeof(msg), "accept on the public listener: %s",
				 strerror(errno));
			http_limits_log_mhd(msg);
			usleep(20 * 1000);
			continue;
		}
		if (workers_total(s) >= (int)http_limits_hard_max()) {
			/* what a daemon's own accept does at its limit */
			http_limits_log_mhd("Server reached connection limit. Closing inbound "
					    "connection.");
			close(fd);
			continue;
		}
		if (http_limits_admit((struct sockaddr *)&ss) < 0) {
			close(fd);
			continue;
		}
		/* it closes fd when it cannot take it */
		i = worker_pick(s);
		if (MHD_add_connection(s->worker[i], fd, (struct sockaddr *)&ss, len) != MHD_YES) {
			atomic_fetch_sub(&s->conns[i], 1);
			http_limits_admit_undo((struct sockaddr *)&ss);
		}
	}
	return NULL;
}

/* The public listener of a split server: its socket, its workers and their
 * accept thread. 0, or -errno with a message. */
static int public_start(struct http_server *s, const struct sockaddr_in *sin, const char *where,
			const struct http_limits *limits, char *err, size_t errlen)
{
	struct sockaddr_in bound;
	socklen_t len = sizeof(bound);
	int one = 1, rc, i, n = read_threads();

	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s->listen_fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    listen(s->listen_fd, 1024) < 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&bound, &len) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(-rc));
		return rc == -EINVAL ? -EADDRINUSE : rc;
	}
	s->port = ntohs(bound.sin_port);
	for (i = 0; i < (n < 1 ? 1 : n) && i < WORKERS_MAX; i++) {
		s->worker[i] = daemon_start(s, NULL, &s->conns[i], &inline_reads, limits);
		if (s->worker[i] == NULL) {
			snprintf(err, errlen, "cannot start the workers of %s (TLS setup failed?)",
				 where);
			return -EADDRINUSE;
		}
		s->workers++;
	}
	if ((rc = pthread_create(&s->acceptor, NULL, accept_main, s)) != 0) {
		snprintf(err, errlen, "no accept thread for %s: %s", where, strerror(rc));
		return -rc;
	}
	s->acceptor_running = 1;
	return 0;
}

static void server_free(struct http_server *s)
{
	int i;

	if (s->acceptor_running) {
		atomic_store(&s->stopping, 1);
		shutdown(s->listen_fd, SHUT_RDWR);
		pthread_join(s->acceptor, NULL);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	/* reads queued or running end first; any later one runs on the polling thread */
	pool_stop();
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	for (i = 0; i < s->workers; i++)
		MHD_stop_daemon(s->worker[i]);
	free(s->cert);
	free(s->key);
	free(s);
}

int http_start(struct http_server **out, const char *listen, const char *agent_listen,
	       const char *cert, const char *key, const struct http_limits *limits,
	       const char *spool, char *err, size_t errlen)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in sin, agent_sin;
	const union MHD_DaemonInfo *info;
	int rc, n;

	*out = NULL;
	s->listen_fd = -1;
	if ((rc = parse_listen("listen", listen, &sin, err, errlen)) < 0 ||
	    (agent_listen &&
	     (rc = parse_listen("agent_listen", agent_listen, &agent_sin, err, errlen)) < 0))
		goto fail;
	if (cert && key &&
	    ((rc = read_pem(&s->cert, cert, err, errlen)) < 0 ||
	     (rc = read_pem(&s->key, key, err, errlen)) < 0))
		goto fail;
	if ((rc = http_limits_start(limits)) < 0) {
		snprintf(err, errlen, "no thread for the connection limits: %s", strerror(-rc));
		goto fail;
	}
	auth_idle_seconds = limits->auth_idle_seconds;
	cache_disabled = getenv("XENCI_NO_CACHE") != NULL;
	free(read_gate);
	read_gate = getenv("XENCI_TEST_READ_GATE") ? xstrdup(getenv("XENCI_TEST_READ_GATE")) : NULL;
	free(spool_dir);
	spool_dir = spool ? xstrdup(spool) : NULL;
	s->mhd = daemon_start(s, agent_listen ? &agent_sin : &sin, NULL, NULL, limits);
	if (s->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s (in use, or TLS setup failed)",
			 agent_listen ? agent_listen : listen);
		rc = -EADDRINUSE;
		goto fail_limits;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (agent_listen) {
		s->agent_port = info ? info->port : ntohs(agent_sin.sin_port);
		if ((rc = public_start(s, &sin, listen, limits, err, errlen)) < 0)
			goto fail_limits;
	} else {
		s->port = info ? info->port : ntohs(sin.sin_port);
	}
	/* with agent_listen, the pool serves the agents' listener's reads and the
	 * workers' while a fetch is under way */
	n = read_threads();
	s->read_threads = pool_start(n);
	*out = s;
	return 0;
fail_limits:
	server_free(s);
	http_limits_stop();
	return rc;
fail:
	server_free(s);
	return rc;
}

int http_port(const struct http_server *s)
{
	return s->port;
}

int http_agent_port(const struct http_server *s)
{
	return s->agent_port;
}

int http_read_threads(const struct http_server *s)
{
	return s->read_threads;
}

int http_workers(const struct http_server *s)
{
	return s->workers;
}

void http_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	server_free(s);
	http_limits_stop();
	http_limits_log_flush(1);
}
