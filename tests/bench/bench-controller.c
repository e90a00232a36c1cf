/* Controller benchmarks (figures, not pass/fail), on a real controller process:
 *  1. the attempt list API with 100,000 attempts stored: 4 concurrent keep-alive
 *     connections (wrk), requests per second and p50/p99 latency;
 *  2. claim latency with 1,000 agents long-polling (one board each, one
 *     suspended connection each): from sending the flight that enqueues work for
 *     one board to that board's agent getting its attempt, p50/p99 over 200 runs;
 *  3. the controller's RSS idle and with the 1,000 waiting claims;
 *  4. an agent's heartbeat latency while the uncached list is under that load
 *     (served by the read pool beside it), and with no load.
 * Each figure is followed by the machine's load average (1 min) when it was taken.
 * BENCH_ATTEMPTS=N stores N attempts (1000000 for the 1M row), BENCH_CLAIMS=N parks
 * N claims (5000 for the RSS target), BENCH_PART=list|claims runs one part.
 * Targets (issues 3, 20): >= 10,000 req/s loaded, >= 15,000 quiet, p99 <= 5 ms (<= 20 ms
 * at 1M attempts); heartbeat p99 <= 20 ms under the list's load; claim p99 <= 50 ms;
 * <= 30 MB idle, <= 100 MB with 5,000 parked claims. */
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	snprintf(out, sizeof(out), " (load %.2f)", l);
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

static int fill_attempts(void)
{
	char path[400];
	sqlite3 *db;
	char *err = NULL, *sql;
	long long t0 = harness_now_ms();
	int rc;

	snprintf(path, sizeof(path), "%s/xenci.db", ctl.data);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 10000);
	sql = sqlite3_mprintf(
	    "BEGIN;"
	    "INSERT INTO trees (name) VALUES ('bench');"
	    "INSERT INTO revisions (tree_id, commit_id) SELECT id, '" COMMIT "' FROM trees"
	    " WHERE name = 'bench';"
	    "INSERT INTO flights (revision_id, kind, priority, state, created) SELECT id,"
	    " 'manual', 2, 'done', 1 FROM revisions;"
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)"
	    " INSERT INTO attempts (flight_id, kind, job, board, arch, agent, number, priority,"
	    " state, log_length, created, queued_at, claimed_at, finished_at)"
	    " SELECT (SELECT max(id) FROM flights), 'test', 'fake-smoke', 'bench-' || (x %% 1000),"
	    " 'x86_64', 'lab-' || (x %% 10), 1, 2, CASE x %% 7 WHEN 0 THEN 'fail' ELSE 'pass' END,"
	    " 4096, x, x, x, x + 1 FROM c;"
	    "COMMIT;",
	    n_attempts);
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		fprintf(stderr, "bench: filling: %s\n", err);
	else
		printf("store: %d attempts filled in %.1f s\n", n_attempts,
		       (double)(harness_now_ms() - t0) / 1000);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void bench_list(const char *what)
{
	char cmd[512];

	printf("list (%s): GET /api/v1/attempts?limit=50 with %d attempts stored, 4 connections"
	       " (wrk, 10 s)\n",
	       what, n_attempts);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c4 -d10s --latency '%s/api/v1/attempts?limit=50' 2>&1",
		 ctl.url);
	wrk_run(cmd);
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c4 -d5s --latency '%s/api/v1/attempts/%d' 2>&1",
		 ctl.url, n_attempts / 2);
	printf("one attempt: GET /api/v1/attempts/%d, 4 connections (wrk, 5 s)\n", n_attempts / 2);
	fflush(stdout);
	wrk_run(cmd);
}

/* Heartbeats of one running attempt, one after another on a kept-alive
 * connection for secs seconds, with the uncached list under wrk's 4 connections
 * meanwhile when loaded: p50, p99 and max. */
static void bench_heartbeats(const char *agent_tok, long long id, int loaded)
{
	static double lat[100000];
	struct http_client h;
	char cmd[512], path[96];
	long long end;
	FILE *p = NULL;
	int n = 0, bad = 0;

	if (loaded) {
		snprintf(cmd, sizeof(cmd),
			 "wrk -t2 -c4 -d12s '%s/api/v1/attempts?limit=50' >/dev/null 2>&1",
			 ctl.url);
		p = popen(cmd, "r");
		usleep(1000 * 1000); /* wrk's connections are open and busy */
	}
	harness_http(&ctl, agent_tok, &h);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", id);
	end = harness_now_ms() + 10000;
	while (harness_now_ms() < end && n < (int)(sizeof(lat) / sizeof(lat[0]))) {
		struct http_reply r;
		struct timespec t0, t1;
		json_t *body = json_pack("{s:s}", "stage", "hello");

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
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp_double);
	if (n)
		printf("heartbeat %s: %d heartbeats, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
		       " (not 200: %d)%s\n",
		       loaded ? "under the uncached list's load (wrk -c4)" : "with no load", n,
		       lat[n / 2], lat[(n * 99) / 100], lat[n - 1], bad, load());
	if (p)
		pclose(p);
}

/* An agent with one board and a running attempt on it: the attempt's id, or -1. */
static long long running_attempt(char *tok, size_t toklen)
{
	json_t *j = NULL;
	long long id;

	if (harness_token(&ctl, "agent", "hb", tok, toklen) < 0 ||
	    harness_call(&ctl, tok, "PUT", "/api/v1/agents/hb/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"hb-0\", \"arch\":"
			 " \"x86_64\", \"class\": \"q35\"}]}",
			 NULL) != 200 ||
	    harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
			 "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"board\": \"hb-0\","
			 " \"jobs\": [\"fake-smoke\"]}",
			 NULL) != 201 ||
	    harness_call(&ctl, tok, "POST", "/api/v1/agents/hb/claim",
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

int main(void)
{
	const char *part = getenv("BENCH_PART");
	int list = !part || !strcmp(part, "list"), claims = !part || !strcmp(part, "claims");
	struct rlimit rl;
	char hb_tok[128];
	long long hb;

	n_attempts = env_int("BENCH_ATTEMPTS", n_attempts, 100000000);
	n_boards = env_int("BENCH_CLAIMS", n_boards, BOARDS_MAX);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* First without the reply cache: every request queries and serialises. */
	setenv("XENCI_NO_CACHE", "1", 1);
	if (list) {
		if (harness_controller_init(&ctl) < 0)
			return 1;
		harness_write_file(ctl.jobs, "fake-smoke.yaml",
				   "name: fake-smoke\nrequires: {arch: [x86_64]}\n");
		if (harness_controller_start(&ctl) < 0)
			return 1;
		if (fill_attempts() < 0) {
			harness_controller_stop(&ctl);
			return 1;
		}
		bench_list("no reply cache");
		hb = running_attempt(hb_tok, sizeof(hb_tok));
		if (hb > 0) {
			bench_heartbeats(hb_tok, hb, 0);
			bench_heartbeats(hb_tok, hb, 1);
		} else {
			printf("heartbeat: no running attempt to heartbeat\n");
		}
		harness_controller_stop(&ctl);
	}
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
	if (list) {
		if (fill_attempts() < 0) {
			harness_controller_stop(&ctl);
			return 1;
		}
		bench_list("reply cache, no writes meanwhile");
		printf("rss: after the list load %ld KiB\n", rss_kb(ctl.pid));
	}
	if (claims)
		bench_claims();
	harness_controller_stop(&ctl);
	return 0;
}
