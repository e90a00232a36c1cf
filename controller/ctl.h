/* The controller's process-wide state.
 *
 * Concurrency contract: one lock (ctl.lock) serialises every use of the writer's
 * database connection (ctl.db) and of the scheduler's lists. The HTTP server runs
 * its handlers on one polling thread that holds the lock for the duration of each
 * handler; the timer thread (lease sweep, claim expiry), the watcher's and the
 * bisector's threads take it too. The one exception is a ROUTE_READ handler: it
 * runs on a read pool thread without the lock, through that thread's own
 * read-only connection (db.h, http.h). Nothing else touches ctl.db. */
#ifndef XENCI_CTL_H
#define XENCI_CTL_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>

struct trees_conf;     /* watch.h */
struct bisect_conf;    /* bisector.h */
struct http_limits;    /* http-limits.h */
struct mail_transport; /* mail.h */

/* The configuration: defaults (config_init), then the file (config_load), then
 * the command line. Every section is validated and parsed by config.c. */
struct ctl_config {
	char *file;	      /* the config file, or NULL */
	char *listen;	      /* "127.0.0.1:8080" */
	char *agent_listen;   /* the agents' own listener, or NULL (listen serves them) */
	char *data;	      /* the data folder */
	char *jobs_dir;	      /* the folder of the job files */
	char *schema_dir;     /* schema/NNNN-*.sql */
	char *web_dir;	      /* the page's static assets; NULL: web/ next to the binary's folder */
	int lease_seconds;    /* 60 */
	int max_attempts;     /* 3 */
	int unhealthy_streak; /* 3 */
	char *health_check_job; /* NULL: health checks are plain re-enables */
	/* The commissioning job run by itself on a board never examined or whose
	 * board file changed; NULL: boards are examined only when asked */
	char *examine_job;
	char *tls_cert, *tls_key;
	int claim_max_ms;		 /* the longest long-poll: 60000 */
	long long priority_age_ms;	 /* waiting this long is worth one priority class */
	long long starve_ms;		 /* a job no eligible board took this long is starved */
	struct trees_conf *trees;	 /* the `trees` section (watch.h): never NULL */
	struct bisect_conf *bisect;	 /* the `bisect` section (bisector.h): never NULL */
	struct mail_transport *mail;	 /* the `mail` section (lib/mail.h): never NULL */
	int mail_configured;		 /* it names a relay or a program itself */
	struct http_limits *connections; /* the `connections` section (http-limits.h): never NULL */
	/* records.require_signed: an agent without an active key gets no work and its
	 * results are refused (docs/traceability.md). 0 when the file does not say. */
	int require_signed;
	struct known_issues
	    *known_issues; /* the `known_issues` list (known-issues.h): never NULL */
};

struct ctl {
	struct ctl_config cfg;
	sqlite3 *db;
	pthread_mutex_t lock;
	char *artifacts_dir; /* DATA/artifacts/<sha256> */
	char *logs_dir;	     /* DATA/logs/<attempt>.log */
	char *tmp_dir;	     /* DATA/tmp: uploads in progress */
};

extern struct ctl ctl;

/* Takes and lets go ctl.lock (not recursive: a thread holding it must not take
 * it again). */
void ctl_lock(void);
void ctl_unlock(void);
/* fn runs at every ctl_unlock, before the lock is let go (the store's db_settle,
 * set by db_open); NULL: none. */
void ctl_on_unlock(void (*fn)(void));

/* Storage that ran out of space. A write to the store (a file under the data
 * folder, the database) that fails with ENOSPC or EDQUOT is noted here with its
 * path (other errors are ignored); the HTTP layer then answers the request that
 * met it with 507 and logs the path. Any thread. */
void ctl_store_failed(int err, const char *path);
/* Takes the note: 1 with its path in path (n bytes; NULL: dropped) when a write
 * failed for lack of space since the last call, else 0. */
int ctl_store_full_take(char *path, size_t n);

/* Unix time in milliseconds. */
long long now_ms(void);

#endif
