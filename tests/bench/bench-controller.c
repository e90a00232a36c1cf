/* Controller benchmarks (figures, not pass/fail), on a real controller process:
 *  1. the attempt list API with 100,000 attempts stored: 4 concurrent keep-alive
 *     connections (wrk), requests per second and p50/p99 latency;
 *  2. claim latency with 1,000 agents long-polling (one board each, one
 *     suspended connection each): from sending the flight that enqueues work for
 *     one board to that board's agent getting its attempt, p50/p99 over 200 runs;
 *  3. the controller's RSS idle and with the 1,000 waiting claims;
 *  4. an agent's heartbeat latency while the uncached list is under that load
 *     (served by the read pool beside it), and with no load.
 *  5. the other reads issue 20 sets targets for, uncached, at 100,000 and 1,000,000
 *     attempts: the flight list, the overview page, the branch matrix, a flight's
 *     page and an attempt's page;
 *  6. an agent's heartbeat latency while the largest patch series (30 MB) is sent
 *     and applied.
 * Each figure is followed by the machine's load average (1 min) when it was taken.
 * The knobs (main's comment; docs/architecture.md "Measured"): BENCH_PART,
 * BENCH_ATTEMPTS, BENCH_READS, BENCH_SECONDS, BENCH_NO_HEARTBEAT, BENCH_CLAIMS.
 * Targets (issues 3, 20): >= 10,000 req/s loaded, >= 15,000 quiet, p99 <= 5 ms (<= 20 ms
 * at 1M attempts); heartbeat p99 <= 20 ms under the list's load; claim p99 <= 50 ms;
 * <= 30 MB idle, <= 100 MB with 5,000 parked claims. */
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define AGENTS	   10
#define RUNS	   200
#define BOARDS_MAX 10000

static int n_attempts = 100000, n_boards = 1000; /* BENCH_ATTEMPTS, BENCH_CLAIMS */
#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static struct harness_controller ctl;
/* the agents' side: ctl, or a copy of it for the agents' own listener (reads part) */
static struct harness_controller agents;
static char tokens[AGENTS][128];

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* " (load 1.23)": the 1-minute load average now. */
static const char *load(void)
{
	static char out[32];

	snprintf(out, sizeof(out), " (load %.2f)", harness_load_average());
	return out;
}

/* The controller's CPU seconds so far (user + system): what a request costs it,
 * whatever else the machine runs. */
static double cpu_s(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) != NULL &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		ut = st = 0;
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Runs cmd (wrk) and prints its figures, the controller's CPU per request and the load. */
static void wrk_run(const char *cmd)
{
	char line[512];
	double c0 = cpu_s(ctl.pid);
	long long n = 0;
	FILE *p = popen(cmd, "r");

	if (p == NULL) {
		printf("  wrk not available\n");
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "requests in"))
			n = strtoll(line, NULL, 10);
		if (strstr(line, "Requests/sec") || strstr(line, " 50%") || strstr(line, " 99%") ||
		    strstr(line, "Non-2xx") || strstr(line, "requests in"))
			printf("  %s", line);
	}
	pclose(p);
	if (n > 0)
		printf("  controller CPU per request: %.1f us%s\n",
		       (cpu_s(ctl.pid) - c0) * 1e6 / (double)n, load());
}

/* The store a lab fills in a day or more: n_attempts test attempts, one a second
 * up to now, in flights of PER_FLIGHT on the boards bench-0..PER_FLIGHT-1 of two labs
 * (lab-0, lab-1), every flight of branch master of tree bench, with its verdict
 * classes and `slower` verdicts stored as the controller stores them when results
 * arrive (migration 130), so that nothing is judged again during the run. */
#define PER_FLIGHT 24
static int fill_attempts(void)
{
	char path[400];
	sqlite3 *db;
	char *err = NULL, *sql;
	long long t0 = harness_now_ms(), now = t0;
	int rc;

	snprintf(path, sizeof(path), "%s/xenci.db", ctl.data);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 10000);
	sql = sqlite3_mprintf(
	    "BEGIN;"
	    "INSERT OR IGNORE INTO trees (name) VALUES ('bench');"
	    "INSERT OR IGNORE INTO branches (tree_id, name) SELECT id, 'master' FROM trees"
	    " WHERE name = 'bench';"
	    "INSERT OR IGNORE INTO revisions (tree_id, commit_id, subject, author) SELECT id, "
	    "'" COMMIT
	    "', 'bench: a commit', 'Bench <bench@xenci.invalid>' FROM trees WHERE name = 'bench';"
	    "WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < %d)"
	    " INSERT INTO flights (revision_id, kind, priority, state, created, branch_id,"
	    " triage_stale) SELECT (SELECT r.id FROM revisions r JOIN trees t ON t.id ="
	    " r.tree_id WHERE t.name = 'bench'), 'push', 2, 'done', %lld - (%d - x * %d) * 1000,"
	    " (SELECT b.id FROM branches b JOIN trees t ON t.id = b.tree_id WHERE t.name ="
	    " 'bench'), 0 FROM c;"
	    "CREATE TEMP TABLE f0 AS SELECT min(id) AS id FROM flights WHERE triage_stale = 0"
	    " AND kind = 'push';"
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)"
	    " INSERT INTO attempts (flight_id, kind, job, board, arch, agent, number, priority,"
	    " state, log_length, created, queued_at, claimed_at, finished_at, perf_judged)"
	    " SELECT (SELECT id FROM f0) + (x - 1) / %d, 'test', 'fake-smoke', 'bench-' ||"
	    " (x %% %d), 'x86_64', 'lab-' || (x %% %d * 2 / %d), 1, 2, CASE x %% 7 WHEN 0 THEN"
	    " 'fail' ELSE 'pass' END, 4096, %lld - (%d - x) * 1000, %lld - (%d - x) * 1000,"
	    " %lld - (%d - x) * 1000 + (x %% 50) * 20, %lld - (%d - x) * 1000 + (x %% 50) * 20 +"
	    " 900, 1 FROM c;"
	    "UPDATE flights SET triage = (SELECT json_group_array(json_object('job', a.job,"
	    " 'class', 'q35', 'board', a.board, 'verdict_class', CASE a.state WHEN 'pass' THEN"
	    " 'pass' ELSE 'still-failing' END, 'text', CASE a.state WHEN 'pass' THEN 'pass' ELSE"
	    " 'like ' || (flights.id - 1) END, 'attempt', a.id, 'baseline', 0, 'retest', 0,"
	    " 'known_issue', NULL, 'blocking', json('false'))) FROM attempts a WHERE"
	    " a.flight_id = flights.id), triage_stale = 0 WHERE id >= (SELECT id FROM f0);"
	    "COMMIT;",
	    n_attempts / PER_FLIGHT, now, n_attempts, PER_FLIGHT, n_attempts, PER_FLIGHT,
	    PER_FLIGHT, PER_FLIGHT, PER_FLIGHT, now, n_attempts, now, n_attempts, now, n_attempts,
	    now, n_attempts);
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		fprintf(stderr, "bench: filling: %s\n", err);
	else
		printf("store: %d attempts in %d flights filled in %.1f s\n", n_attempts,
		       n_attempts / PER_FLIGHT + 1, (double)(harness_now_ms() - t0) / 1000);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The labs of the filled store: lab-0 and lab-1 with PER_FLIGHT / 2 boards each. */
static int declare_labs(void)
{
	char body[4096], path[96], tok[128];

	for (int a = 0; a < 2; a++) {
		size_t len =
		    (size_t)snprintf(body, sizeof(body), "{\"protocol\": 1, \"boards\": [");

		for (int i = 0; i < PER_FLIGHT; i++)
			if (i * 2 / PER_FLIGHT == a)
				len += (size_t)snprintf(body + len, sizeof(body) - len,
							"%s{\"name\": \"bench-%d\", \"arch\":"
							" \"x86_64\", \"class\": \"q35\"}",
							len > 30 ? ", " : "", i);
		snprintf(body + len, sizeof(body) - len, "]}");
		snprintf(path, sizeof(path), "lab-%d", a);
		if (harness_token(&ctl, "agent", path, tok, sizeof(tok)) < 0)
			return -1;
		snprintf(path, sizeof(path), "/api/v1/agents/lab-%d/boards", a);
		if (harness_call(&ctl, tok, "PUT", path, body, NULL) != 200)
			return -1;
	}
	return 0;
}

static int bench_seconds = 10; /* BENCH_SECONDS: each wrk run */

/* wrk on one path: 4 connections, bench_seconds. */
static void bench_path(const char *what, const char *path)
{
	char cmd[512];

	printf("%s: GET %s with %d attempts stored, 4 connections (wrk, %d s)\n", what, path,
	       n_attempts, bench_seconds);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c4 -d%ds --latency '%s%s' 2>&1", bench_seconds,
		 ctl.url, path);
	wrk_run(cmd);
}

/* The reads issue 20 sets targets for (BENCH_READS=list,flights,overview,branch,
 * flight,attempt picks some): the attempt list, the flight list, the overview page,
 * the branch matrix, a flight's page and an attempt's page. */
static void bench_list(const char *what)
{
	const char *only = getenv("BENCH_READS");
	char path[128], label[160];
	long long flight = 1 + n_attempts / PER_FLIGHT / 2;
	static const struct {
		const char *name, *label, *path; /* path: an id follows when it ends in '/' */
	} reads[] = {
	    {"list", "attempt list", "/api/v1/attempts?limit=50"},
	    {"flights", "flight list", "/api/v1/flights?limit=50"},
	    {"overview", "overview page", "/"},
	    {"branch", "branch matrix", "/branches/master"},
	    {"flight", "flight page", "/flights/"},
	    {"attempt", "attempt page", "/attempts/"},
	    {NULL, NULL, NULL},
	};

	for (int i = 0; reads[i].name; i++) {
		if (only && *only && !strstr(only, reads[i].name))
			continue;
		if (strlen(reads[i].path) > 1 && reads[i].path[strlen(reads[i].path) - 1] == '/')
			snprintf(path, sizeof(path), "%s%lld", reads[i].path,
				 !strcmp(reads[i].name, "attempt") ? n_attempts / 2LL : flight);
		else
			snprintf(path, sizeof(path), "%s", reads[i].path);
		snprintf(label, sizeof(label), "%s (%s)", reads[i].label, what);
		bench_path(label, path);
	}
}

/* The largest patch series the controller takes (30 MB: a file of a million lines,
 * then a quarter of a million hunks, as test-flights-git's), sent by a child
 * process on a connection of its own: its pid. The child prints the series'
 * status and how long its reply took, and exits. */
static pid_t series_start(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct buf mbox = BUF_INIT(0);
		char head[512], reply[8192] = "", tok[128];
		long long t0;
		int fd;

		harness_series_many_hunks(&mbox, 30 * 1000 * 1000);
		if (harness_token(&ctl, "user", NULL, tok, sizeof(tok)) < 0)
			_exit(1);
		snprintf(
		    head, sizeof(head),
		    "POST /api/v1/submissions?tree=bench&base=master&jobs=fake-smoke HTTP/1.1\r\n"
		    "Host: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/mbox\r\n"
		    "Content-Length: %zu\r\n\r\n",
		    tok, mbox.len);
		t0 = harness_now_ms();
		fd = harness_connect(ctl.port, NULL);
		if (fd < 0 || harness_send(fd, head, strlen(head)) < 0 ||
		    harness_send(fd, mbox.data, mbox.len) < 0)
			_exit(1);
		harness_read_until(fd, reply, sizeof(reply), "\r\n\r\n", 600000);
		printf("series: %zu bytes, reply %d after %.1f s\n", mbox.len,
		       harness_status(reply), (double)(harness_now_ms() - t0) / 1000);
		fflush(stdout);
		_exit(0);
	}
	return pid;
}

enum hb_load { HB_NONE, HB_LIST, HB_SERIES };

/* Heartbeats of one running attempt, one after another on a kept-alive
 * connection, with load meanwhile: none or the uncached list under wrk's 4
 * connections (10 s of heartbeats), or the largest series being sent and applied
 * (heartbeats until its reply): p50, p99 and max. */
static void bench_heartbeats(const char *agent_tok, long long id, enum hb_load load_kind)
{
	static const char *const what[] = {"with no load",
					   "under the uncached list's load (wrk -c4)",
					   "while the largest series (30 MB) is sent and applied"};
	static double lat[100000];
	struct http_client h;
	char cmd[512], path[96];
	long long end;
	FILE *p = NULL;
	pid_t series = -1;
	int n = 0, bad = 0, status;

	if (load_kind == HB_LIST) {
		snprintf(cmd, sizeof(cmd),
			 "wrk -t2 -c4 -d12s '%s/api/v1/attempts?limit=50' >/dev/null 2>&1",
			 ctl.url);
		p = popen(cmd, "r");
		usleep(1000 * 1000); /* wrk's connections are open and busy */
	} else if (load_kind == HB_SERIES) {
		series = series_start();
	}
	harness_http(&agents, agent_tok, &h);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	end = harness_now_ms() + (load_kind == HB_SERIES ? 600000 : 10000);
	while (harness_now_ms() < end && n < (int)(sizeof(lat) / sizeof(lat[0]))) {
		struct http_reply r;
		struct timespec t0, t1;
		json_t *body = json_pack("{s:s}", "stage", "hello");

		if (series > 0 && waitpid(series, &status, WNOHANG) == series) {
			series = -1;
			json_decref(body);
			break;
		}
		http_reply_init(&r);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (http_json(&h, "POST", path, body, &r) < 0 || r.status != 200)
			bad++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		lat[n++] =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		http_reply_release(&r);
		json_decref(body);
		usleep(5000);
	}
	http_client_release(&h);
	if (series > 0)
		waitpid(series, &status, 0);
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp_double);
	if (n)
		printf("heartbeat %s: %d heartbeats, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
		       " (not 200: %d)%s\n",
		       what[load_kind], n, lat[n / 2], lat[(n * 99) / 100], lat[n - 1], bad,
		       load());
	if (p)
		pclose(p);
}

/* An agent with one board and a running attempt on it: the attempt's id, or -1. */
static long long running_attempt(char *tok, size_t toklen, const char *commit)
{
	json_t *j = NULL;
	char body[256];
	long long id;

	snprintf(body, sizeof(body),
		 "{\"tree\": \"bench\", \"commit\": \"%s\", \"board\": \"hb-0\","
		 " \"jobs\": [\"fake-smoke\"]}",
		 commit);

	if (harness_token(&ctl, "agent", "hb", tok, toklen) < 0 ||
	    harness_call(&agents, tok, "PUT", "/api/v1/agents/hb/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"hb-0\", \"arch\":"
			 " \"x86_64\", \"class\": \"q35\"}]}",
			 NULL) != 200 ||
	    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, NULL) != 201 ||
	    harness_call(&agents, tok, "POST", "/api/v1/agents/hb/claim",
			 "{\"boards\": [\"hb-0\"], \"wait_ms\": 0}", &j) != 200)
		return -1;
	id = jint(json_object_get(j, "attempt"), "id", -1);
	json_decref(j);
	return id;
}

struct waiter {
	CURL *h;
	struct curl_slist *hdrs;
	char body[128];
	int done;
	long status;
};

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static void bench_claims(void)
{
	static struct waiter w[BOARDS_MAX];
	double lat[RUNS];
	CURLM *m = curl_multi_init();
	char url[256], auth[200], body[65536];
	long long t0;
	long rss_wait;
	int i, a, running, n = 0, lost = 0;

	/* Declare the boards: 10 agents with 100 boards each. */
	for (a = 0; a < AGENTS; a++) {
		char agent[32], path[96];
		size_t len;

		snprintf(agent, sizeof(agent), "lab-%d", a);
		harness_token(&ctl, "agent", agent, tokens[a], sizeof(tokens[a]));
		len = (size_t)snprintf(body, sizeof(body), "{\"protocol\": 1, \"boards\": [");
		for (i = a * (n_boards / AGENTS); i < (a + 1) * (n_boards / AGENTS); i++)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
						"%s{\"name\": \"bench-%d\", \"arch\": \"x86_64\","
						" \"class\": \"q35\"}",
						i % (n_boards / AGENTS) ? ", " : "", i);
		snprintf(body + len, sizeof(body) - len, "]}");
		snprintf(path, sizeof(path), "/api/v1/agents/%s/boards", agent);
		if (harness_call(&ctl, tokens[a], "PUT", path, body, NULL) != 200) {
			printf("claims: declare failed\n");
			return;
		}
	}
	/* 1,000 long polls, one per board. */
	for (i = 0; i < n_boards; i++) {
		a = i / (n_boards / AGENTS);
		w[i].h = curl_easy_init();
		snprintf(url, sizeof(url), "%s/api/v1/agents/lab-%d/claim", ctl.url, a);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tokens[a]);
		w[i].hdrs = curl_slist_append(NULL, auth);
		w[i].hdrs = curl_slist_append(w[i].hdrs, "Content-Type: application/json");
		snprintf(w[i].body, sizeof(w[i].body),
			 "{\"boards\": [\"bench-%d\"], \"wait_ms\": 60000}", i);
		curl_easy_setopt(w[i].h, CURLOPT_URL, url);
		curl_easy_setopt(w[i].h, CURLOPT_HTTPHEADER, w[i].hdrs);
		curl_easy_setopt(w[i].h, CURLOPT_POSTFIELDS, w[i].body);
		curl_easy_setopt(w[i].h, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(w[i].h, CURLOPT_PRIVATE, &w[i]);
		curl_multi_add_handle(m, w[i].h);
	}
	t0 = harness_now_ms();
	do {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 50, NULL);
		curl_multi_perform(m, &running);
	} while (harness_now_ms() - t0 < 3000); /* every poll has arrived and is parked */
	{
		json_t *q = NULL;

		harness_call(&ctl, NULL, "GET", "/api/v1/queue", NULL, &q);
		printf("claims: %lld agents waiting on the controller\n",
		       (long long)jint(q, "waiting_claims", -1));
		json_decref(q);
	}
	rss_wait = rss_kb(ctl.pid);
	for (i = 0; i < RUNS; i++) {
		char fbody[256];
		CURL *f = curl_easy_init();
		struct curl_slist *fh = NULL;
		CURLMsg *msg;
		int left, got = 0;

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctl.admin_token);
		fh = curl_slist_append(NULL, auth);
		fh = curl_slist_append(fh, "Content-Type: application/json");
		snprintf(fbody, sizeof(fbody),
			 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"board\": \"bench-%d\","
			 " \"jobs\": [\"fake-smoke\"]}",
			 i * (n_boards / RUNS));
		snprintf(url, sizeof(url), "%s/api/v1/flights", ctl.url);
		curl_easy_setopt(f, CURLOPT_URL, url);
		curl_easy_setopt(f, CURLOPT_HTTPHEADER, fh);
		curl_easy_setopt(f, CURLOPT_POSTFIELDS, fbody);
		curl_easy_setopt(f, CURLOPT_WRITEFUNCTION, sink);
		t0 = harness_now_ms();
		{
			struct timespec ts0;

			clock_gettime(CLOCK_MONOTONIC, &ts0);
			curl_multi_add_handle(m, f);
			while (!got && harness_now_ms() - t0 < 5000) {
				curl_multi_perform(m, &running);
				while ((msg = curl_multi_info_read(m, &left)) != NULL) {
					struct waiter *x = NULL;

					if (msg->msg != CURLMSG_DONE || msg->easy_handle == f)
						continue;
					curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
							  (char **)&x);
					x->done = 1;
					curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
					if (x == &w[i * (n_boards / RUNS)] && x->status == 200) {
						struct timespec ts1;

						clock_gettime(CLOCK_MONOTONIC, &ts1);
						lat[n++] =
						    (double)(ts1.tv_sec - ts0.tv_sec) * 1e3 +
						    (double)(ts1.tv_nsec - ts0.tv_nsec) / 1e6;
						got = 1;
					} else {
						lost++;
					}
				}
				if (!got)
					curl_multi_poll(m, NULL, 0, 5, NULL);
			}
		}
		curl_multi_remove_handle(m, f);
		curl_easy_cleanup(f);
		curl_slist_free_all(fh);
	}
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp_double);
	if (n)
		printf(
		    "claims: %d runs, enqueue -> waiting agent's reply: p50 %.2f ms, p99 %.2f ms,"
		    " max %.2f ms (other replies: %d)%s\n",
		    n, lat[n / 2], lat[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100], lat[n - 1],
		    lost, load());
	printf("rss: with %d waiting claims %ld KiB%s\n", n_boards, rss_wait, load());
	for (i = 0; i < n_boards; i++) {
		curl_multi_remove_handle(m, w[i].h);
		curl_easy_cleanup(w[i].h);
		curl_slist_free_all(w[i].hdrs);
	}
	curl_multi_cleanup(m);
}

static int env_int(const char *name, int def, int max)
{
	const char *e = getenv(name);
	long v = e && *e ? strtol(e, NULL, 10) : def;

	return v > 0 && v <= max ? (int)v : def;
}

/* One controller with n_attempts stored and the tree bench (a git repository of
 * one commit, branch master) watched: the reads uncached, then an agent's
 * heartbeats with no load, under the list's and while the largest series is
 * applied. */
static int bench_reads(void)
{
	static char trees[1024];
	char hb_tok[128], head[64];
	long long hb;

	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml",
			   "name: fake-smoke\nrequires: {arch: [x86_64]}\n");
	harness_sh(ctl.dir, "git init -q -b master bench-git && cd bench-git && echo base >"
			    " README && git add README && git -c user.name=B -c"
			    " user.email=b@example.org commit -qm base");
	harness_shout(ctl.dir, head, sizeof(head), "git -C bench-git rev-parse HEAD");
	snprintf(trees, sizeof(trees),
		 "trees:\n  bench:\n    source: %s/bench-git\n    interval: 3600\n"
		 "    branches:\n      - name: master\n        jobs: [fake-smoke]\n%s",
		 ctl.dir,
		 getenv("BENCH_ONE_LISTENER") && *getenv("BENCH_ONE_LISTENER")
		     ? ""
		     : "agent_listen: 127.0.0.1:0\n");
	ctl.extra_config = trees;
	if (harness_controller_start(&ctl) < 0)
		return -1;
	agents = ctl;
	if (ctl.agent_url[0])
		snprintf(agents.url, sizeof(agents.url), "%s", ctl.agent_url);
	printf("listeners: %s\n",
	       ctl.agent_url[0] ? "public (workers) and the agents' own" : "one (the read pool)");
	if (fill_attempts() < 0 || declare_labs() < 0) {
		harness_controller_stop(&ctl);
		return -1;
	}
	bench_list("no reply cache");
	if (!getenv("BENCH_NO_HEARTBEAT")) {
		hb = running_attempt(hb_tok, sizeof(hb_tok), head);
		if (hb > 0) {
			bench_heartbeats(hb_tok, hb, HB_NONE);
			bench_heartbeats(hb_tok, hb, HB_LIST);
			bench_heartbeats(hb_tok, hb, HB_SERIES);
		} else {
			printf("heartbeat: no running attempt to heartbeat\n");
		}
	}
	harness_controller_stop(&ctl);
	return 0;
}

/* BENCH_PART=reads|claims (both by default); BENCH_ATTEMPTS=N[,N...] the stores of the
 * reads part (100000,1000000 by default); BENCH_READS=list,flights,overview,branch,
 * flight,attempt the reads (all by default); BENCH_SECONDS each wrk run (10);
 * BENCH_NO_HEARTBEAT=1 skips the heartbeats; BENCH_CLAIMS=N parked claims;
 * BENCH_ONE_LISTENER=1 runs the reads part without agent_listen (one listener,
 * the read pool) to compare. */
int main(void)
{
	const char *part = getenv("BENCH_PART"), *sizes = getenv("BENCH_ATTEMPTS");
	int reads = !part || !strcmp(part, "reads") || !strcmp(part, "list"),
	    claims = !part || !strcmp(part, "claims");
	struct rlimit rl;
	char *list, *tok, *save = NULL;

	n_boards = env_int("BENCH_CLAIMS", n_boards, BOARDS_MAX);
	bench_seconds = env_int("BENCH_SECONDS", bench_seconds, 3600);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* First without the reply cache: every request queries and serialises. */
	setenv("XENCI_NO_CACHE", "1", 1);
	list = strdup(sizes && *sizes ? sizes : "100000,1000000");
	for (tok = strtok_r(list, ",", &save); reads && tok; tok = strtok_r(NULL, ",", &save)) {
		long v = strtol(tok, NULL, 10);

		n_attempts = v >= PER_FLIGHT && v <= 100000000 ? (int)v : 100000;
		if (bench_reads() < 0) {
			free(list);
			return 1;
		}
	}
	free(list);
	unsetenv("XENCI_NO_CACHE");

	if (harness_controller_init(&ctl) < 0)
		return 1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml",
			   "name: fake-smoke\nrequires: {arch: [x86_64]}\n");
	/* the agents from one address: past the default per-address limit */
	ctl.extra_config = "claim_max_ms: 120000\nconnections: {max: 12000, per_address: 12000}\n";
	if (harness_controller_start(&ctl) < 0)
		return 1;
	usleep(500 * 1000);
	printf("rss: idle after start %ld KiB%s\n", rss_kb(ctl.pid), load());
	if (reads) {
		n_attempts = 100000;
		if (fill_attempts() < 0) {
			harness_controller_stop(&ctl);
			return 1;
		}
		setenv("BENCH_READS", "list", 1);
		bench_list("reply cache, no writes meanwhile");
		printf("rss: after the list load %ld KiB\n", rss_kb(ctl.pid));
	}
	if (claims)
		bench_claims();
	harness_controller_stop(&ctl);
	return 0;
}
