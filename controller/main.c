/* xenci-controller: the central service. See `xenci-controller --help`. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attempts.h"
#include "auth.h"
#include "bisector.h"
#include "reports.h"
#include "config.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-tokens.h"
#include "db.h"
#include "flights.h"
#include "fs.h"
#include "http.h"
#include "http-work.h"
#include "jobs.h"
#include "log.h"
#include "park.h"
#include "perf.h"
#include "relay.h"
#include "reservations.h"
#include "tlog.h"
#include "trees.h"
#include "triage.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: xenci-controller [--listen ADDR:PORT] --data DIR [--config FILE] [--jobs DIR]\n"
    "                        [--schema DIR] [-v]\n"
    "       xenci-controller --check [--config FILE] [--jobs DIR]\n"
    "       xenci-controller token create --role admin|agent|user [--agent NAME]\n"
    "                        [--name TEXT] [--reserve] (--data DIR | --config FILE)\n"
    "       xenci-controller --help | --version\n"
    "\n"
    "  --listen ADDR:PORT  where to serve HTTP(S) (default 127.0.0.1:8080; port 0 picks\n"
    "                      one; the URL is written to DATA/controller.url)\n"
    "  --data DIR          the database, artifacts and logs (initialised when new)\n"
    "  --config FILE       YAML: listen, data, jobs_dir, schema_dir, lease_seconds,\n"
    "                      max_attempts, unhealthy_streak, health_check_job, examine_job,\n"
    "                      claim_max_ms,\n"
    "                      tls {cert, key}, connections {...}, trees\n"
    "  --jobs DIR          job files (default: jobs/ of the source tree)\n"
    "  --check             validate the configuration and the job files, then exit\n"
    "  -v                  more logging (twice: debug)\n";

static char *exe_relative(const char *rel)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return xstrdup(rel);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* build/xenci-controller and build/sanitize/xenci-controller */
	return xasprintf("%s/%s%s", exe, strstr(exe, "/build/sanitize") ? "../../" : "../", rel);
}

static void set(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* The store's folders (with their parents), logged when they cannot be made. */
static int make_dir(const char *path)
{
	int rc = mkdir_p(path);

	if (rc < 0)
		log_warnx("%s: %s", path, strerror(-rc));
	return rc;
}

static int open_store(void)
{
	char err[512], *path;
	int rc;

	if (make_dir(ctl.cfg.data) < 0)
		return -1;
	ctl.artifacts_dir = xasprintf("%s/artifacts", ctl.cfg.data);
	ctl.logs_dir = xasprintf("%s/logs", ctl.cfg.data);
	ctl.tmp_dir = xasprintf("%s/tmp", ctl.cfg.data);
	if (make_dir(ctl.artifacts_dir) < 0 || make_dir(ctl.logs_dir) < 0 ||
	    make_dir(ctl.tmp_dir) < 0)
		return -1;
	path = xasprintf("%s/xenci.db", ctl.cfg.data);
	rc = db_open(&ctl.db, path, ctl.cfg.schema_dir, err, sizeof(err));
	if (rc == 0 && (rc = tlog_open(err, sizeof(err))) < 0) {
		db_close(ctl.db);
		ctl.db = NULL;
	}
	if (rc < 0)
		log_warnx("%s", err);
	free(path);
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},   {"agent", required_argument, NULL, 'a'},
	    {"name", required_argument, NULL, 'n'},   {"data", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'}, {"schema", required_argument, NULL, 's'},
	    {"reserve", no_argument, NULL, 'R'},      {NULL, 0, NULL, 0},
	};
	const char *role = NULL, *agent = NULL, *name = NULL;
	char token[TOKEN_MAX];
	struct buf err = BUF_INIT(0);
	long long id;
	int c, rc, reserve = 0;

	if (argc < 2 || strcmp(argv[1], "create")) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role = optarg;
			break;
		case 'a':
			agent = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'R':
			reserve = 1;
			break;
		case 'd':
			set(&ctl.cfg.data, optarg);
			break;
		case 's':
			set(&ctl.cfg.schema_dir, optarg);
			break;
		case 'c':
			if (config_load(&ctl.cfg, optarg, &err) < 0) {
				fprintf(stderr, "%s", buf_cstr(&err));
				buf_release(&err);
				return 1;
			}
			break;
		default:
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	if (role_parse(role) == ROLE_NONE || ctl.cfg.data == NULL ||
	    (role_parse(role) == ROLE_AGENT) != (agent != NULL) ||
	    (reserve && role_parse(role) != ROLE_USER)) {
		fprintf(stderr, "xenci-controller token create: needs --role admin|agent|user,"
				" --agent NAME exactly with role agent, --reserve only with role"
				" user, and --data or --config\n");
		return 2;
	}
	if (agent && !auth_name_valid(agent)) {
		fprintf(stderr, "xenci-controller: agent name \"%s\": 1-64 of [A-Za-z0-9._-]\n",
			agent);
		return 2;
	}
	if (ctl.cfg.schema_dir == NULL)
		ctl.cfg.schema_dir = exe_relative("schema");
	if (open_store() < 0)
		return 1;
	rc = auth_token_create(token, sizeof(token), &id, role_parse(role), agent, name);
	if (rc == 0 && reserve && db_token_set_reserve(id, 1) < 0)
		rc = -EIO;
	db_close(ctl.db);
	if (rc < 0) {
		fprintf(stderr, "xenci-controller: cannot create the token: %s\n", strerror(-rc));
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

/* Tree paths in the configuration are relative to its folder. */
static const char *config_dir(void)
{
	static char dir[PATH_MAX];
	const char *slash = ctl.cfg.file ? strrchr(ctl.cfg.file, '/') : NULL;

	if (ctl.cfg.file == NULL)
		return NULL;
	if (slash == NULL)
		return ".";
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - ctl.cfg.file), ctl.cfg.file);
	return dir;
}

/* The timer's tick (ctl.lock held): lapsed leases, starved jobs, the record log, expired
 * reservations, console relays. */
static void tick(long long now)
{
	attempt_sweep_leases(now);
	flight_starve(now, ctl.cfg.starve_ms);
	tlog_tick(now);
	reservation_expire(now);
	relay_tick(now);
	/* what was written before the stored verdicts (migration 130): a few at a
	 * tick, newest first, so that no tick holds ctl.lock for long */
	if (triage_store_stale(1, 16) < 0 || triage_store_stale(2, 1) < 0)
		log_warnx("cannot store the verdict classes of an older flight");
	perf_backfill(PERF_BACKFILL_BATCH);
}

/* DATA/name: the URL of a listener on port (its loopback address), written whole
 * (a new file renamed over the old). */
static void write_url(const char *name, int port)
{
	char *path = xasprintf("%s/%s", ctl.cfg.data, name), *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");

	if (f) {
		fprintf(f, "%s://127.0.0.1:%d\n", ctl.cfg.tls_cert ? "https" : "http", port);
		if (fclose(f) == 0)
			rename(tmp, path);
	}
	free(path);
	free(tmp);
}

static int serve(void)
{
	struct http_server *srv = NULL;
	struct buf err = BUF_INIT(0); /* the job files' problems, one a line */
	char msg[512];
	struct rlimit rl;
	sigset_t sigs;
	int sig, n, rc = 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (open_store() < 0)
		return 1;
	ctl_lock();
	n = jobs_load_dir(ctl.cfg.jobs_dir, 1, &err);
	/* A restarted controller gives running attempts a full lease to heartbeat in. */
	db_attempts_extend_leases(now_ms() + ctl.cfg.lease_seconds * 1000LL);
	ctl_unlock();
	if (n < 0) {
		fprintf(stderr, "%s", buf_cstr(&err));
		goto out;
	}
	log_info("%d jobs from %s", n, ctl.cfg.jobs_dir);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (park_start(tick, 500) < 0) {
		log_warnx("cannot start the timer thread");
		goto out;
	}
	/* The bisector observes finished attempts before the gate does: a failure's
	 * retest is recorded before the gate judges its flight (triage.h). */
	if (bisector_observe_start() < 0) {
		log_warnx("bisect: too many attempt observers");
		goto out;
	}
	if (trees_start(ctl.cfg.trees, config_dir(), ctl.cfg.data, msg, sizeof(msg)) < 0 ||
	    bisector_start(ctl.cfg.bisect, msg, sizeof(msg)) < 0) {
		log_warnx("%s", msg);
		goto out;
	}
	/* The trees' repositories are open: a flight's classes can be judged (and
	 * stored) from every change on (triage.h). */
	ctl_lock();
	triage_store_start();
	ctl_unlock();
	/* After the gate's and the bisector's observers: a report reads their
	 * decisions. */
	if (report_start(ctl.cfg.trees, ctl.cfg.mail, ctl.cfg.bisect) < 0) {
		log_warnx("cannot observe attempts for the flight reports");
		goto out;
	}
	/* Last: the observers and the sections' settings above are written without
	 * ctl.lock, so no request may run before they are (the HTTP server's threads
	 * start here, after them). */
	if (http_start(&srv, ctl.cfg.listen, ctl.cfg.agent_listen, ctl.cfg.tls_cert,
		       ctl.cfg.tls_key, ctl.cfg.connections, ctl.tmp_dir, msg, sizeof(msg)) < 0) {
		log_warnx("%s", msg);
		goto out;
	}
	/* the agents' first: a waiter for controller.url then finds both */
	if (ctl.cfg.agent_listen)
		write_url("controller-agents.url", http_agent_port(srv));
	write_url("controller.url", http_port(srv));
	if (ctl.cfg.agent_listen)
		log_info("listening on %s (port %d, %d workers) and for agents on %s (port %d), "
			 "data in %s",
			 ctl.cfg.listen, http_port(srv), http_workers(srv), ctl.cfg.agent_listen,
			 http_agent_port(srv), ctl.cfg.data);
	else
		log_info("listening on %s (port %d), data in %s", ctl.cfg.listen, http_port(srv),
			 ctl.cfg.data);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
	}
	log_info("signal %d: finishing in-flight requests", sig);
	/* Parked requests get their replies (claims: 204) before the server stops. */
	for (n = 0; n < 100; n++) {
		int parked;

		ctl_lock();
		park_wake_all();
		parked = park_count();
		ctl_unlock();
		usleep(20 * 1000);
		if (parked == 0)
			break;
	}
	/* Works off the polling thread (a series being applied) end on their own,
	 * bounded by the bounds of their input (docs/security.md): at most a minute. */
	for (n = 0; n < 3000; n++) {
		int working;

		ctl_lock();
		working = req_work_running();
		ctl_unlock();
		if (working == 0)
			break;
		usleep(20 * 1000);
	}
	usleep(50 * 1000);
	rc = 0;
out:
	ctl_lock();
	db_on_commit(NULL); /* the trees' repositories close */
	ctl_unlock();
	bisector_stop();
	trees_stop();
	park_stop();
	http_stop(srv);
	ctl_lock();
	db_close(ctl.db);
	ctl.db = NULL;
	ctl_unlock();
	buf_release(&err);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"data", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"schema", required_argument, NULL, 's'},
	    {"check", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *listen = NULL, *data = NULL, *jobs = NULL, *schema = NULL, *config = NULL;
	struct buf err = BUF_INIT(0);
	int c, check = 0, verbose = 0, rc;

	log_init("xenci-controller", LOG_LEVEL_INFO);
	config_init(&ctl.cfg);
	if (argc > 1 && !strcmp(argv[1], "token"))
		return cmd_token(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			jobs = optarg;
			break;
		case 's':
			schema = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			printf("%s", usage);
			return 0;
		case 'V':
			printf("xenci-controller %s\n", XENCI_VERSION);
			return 0;
		default:
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xenci-controller: unexpected argument \"%s\"\n%s", argv[optind],
			usage);
		return 2;
	}
	log_set_level(LOG_LEVEL_INFO + verbose);
	if (config && config_load(&ctl.cfg, config, &err) < 0) {
		fprintf(stderr, "%s", buf_cstr(&err));
		buf_release(&err);
		config_release(&ctl.cfg);
		return 1;
	}
	if (listen)
		set(&ctl.cfg.listen, listen);
	if (data)
		set(&ctl.cfg.data, data);
	if (jobs)
		set(&ctl.cfg.jobs_dir, jobs);
	if (schema)
		set(&ctl.cfg.schema_dir, schema);
	if (ctl.cfg.jobs_dir == NULL)
		ctl.cfg.jobs_dir = exe_relative("jobs");
	if (ctl.cfg.schema_dir == NULL)
		ctl.cfg.schema_dir = exe_relative("schema");
	if (check) {
		rc = jobs_load_dir(ctl.cfg.jobs_dir, 0, &err);
		if (rc < 0)
			fprintf(stderr, "%s", buf_cstr(&err));
		else
			printf("%s: ok, %d jobs in %s\n", config ? config : "(defaults)", rc,
			       ctl.cfg.jobs_dir);
		buf_release(&err);
		config_release(&ctl.cfg);
		return rc < 0 ? 1 : 0;
	}
	if (ctl.cfg.data == NULL) {
		fprintf(stderr,
			"xenci-controller: --data DIR (or data: in --config) is required\n");
		return 2;
	}
	rc = serve();
	config_release(&ctl.cfg);
	return rc;
}
