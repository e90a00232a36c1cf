/* Controller benchmarks (figures, not pass/fail), on a real controller process:
 *  1. the attempt list API with 100,000 attempts stored: 4 concurrent keep-alive
 *     connections (wrk), requests per second and p50/p99 latency;
 *  2. claim latency with 1,000 agents long-polling (one board each, one
 *     suspended connection each): from sending the flight that enqueues work for
 *     one board to that board's agent getting its attempt, p50/p99 over 200 runs;
 *  3. the controller's RSS idle and with the 1,000 waiting claims.
 * Targets (issue 3): >= 10,000 req/s and p99 <= 5 ms; claim p99 <= 50 ms; <= 30 MB idle. */
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

#define ATTEMPTS 100000
#define AGENTS	 10
#define BOARDS	 1000
#define RUNS	 200
#define COMMIT	 "0123456789abcdef0123456789abcdef01234567"

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

static int fill_attempts(void)
{
	char path[400];
	sqlite3 *db;
	char *err = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/xenci.db", ctl.data);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 10000);
	rc = sqlite3_exec(
	    db,
	    "BEGIN;"
	    "INSERT INTO trees (name) VALUES ('bench');"
	    "INSERT INTO revisions (tree_id, commit_id) SELECT id, '" COMMIT "' FROM trees"
	    " WHERE name = 'bench';"
	    "INSERT INTO flights (revision_id, kind, priority, state, created) SELECT id,"
	    " 'manual', 2, 'done', 1 FROM revisions;"
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)"
	    " INSERT INTO attempts (flight_id, kind, job, board, arch, agent, number, priority,"
	    " state, log_length, created, queued_at, claimed_at, finished_at)"
	    " SELECT (SELECT max(id) FROM flights), 'test', 'fake-smoke', 'bench-' || (x % 1000),"
	    " 'x86_64', 'lab-' || (x % 10), 1, 2, CASE x % 7 WHEN 0 THEN 'fail' ELSE 'pass' END,"
	    " 4096, x, x, x, x + 1 FROM c;"
	    "COMMIT;",
	    NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "bench: filling: %s\n", err);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void bench_list(const char *what)
{
	char cmd[512], line[512];
	FILE *p;

	printf("list (%s): GET /api/v1/attempts?limit=50 with %d attempts stored, 4 connections"
	       " (wrk, 10 s)\n",
	       what, ATTEMPTS);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c4 -d10s --latency '%s/api/v1/attempts?limit=50' 2>&1",
		 ctl.url);
	p = popen(cmd, "r");
	if (p == NULL) {
		printf("  wrk not available\n");
		return;
	}
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "Requests/sec") || strstr(line, " 50%") || strstr(line, " 99%") ||
		    strstr(line, "Transfer/sec") || strstr(line, "Non-2xx") ||
		    strstr(line, "requests in"))
			printf("  %s", line);
	pclose(p);
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c4 -d5s --latency '%s/api/v1/attempts/%d' 2>&1",
		 ctl.url, ATTEMPTS / 2);
	printf("one attempt: GET /api/v1/attempts/%d, 4 connections (wrk, 5 s)\n", ATTEMPTS / 2);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		if (strstr(line, "Requests/sec") || strstr(line, " 50%") || strstr(line, " 99%"))
			printf("  %s", line);
	if (p)
		pclose(p);
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
	static struct waiter w[BOARDS];
	double lat[RUNS];
	CURLM *m = curl_multi_init();
	char url[256], auth[200], body[16384];
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
		for (i = a * (BOARDS / AGENTS); i < (a + 1) * (BOARDS / AGENTS); i++)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
						"%s{\"name\": \"bench-%d\", \"arch\": \"x86_64\","
						" \"class\": \"q35\"}",
						i % (BOARDS / AGENTS) ? ", " : "", i);
		snprintf(body + len, sizeof(body) - len, "]}");
		snprintf(path, sizeof(path), "/api/v1/agents/%s/boards", agent);
		if (harness_call(&ctl, tokens[a], "PUT", path, body, NULL) != 200) {
			printf("claims: declare failed\n");
			return;
		}
	}
	/* 1,000 long polls, one per board. */
	for (i = 0; i < BOARDS; i++) {
		a = i / (BOARDS / AGENTS);
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
			 i * (BOARDS / RUNS));
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
					if (x == &w[i * (BOARDS / RUNS)] && x->status == 200) {
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
		    " max %.2f ms (other replies: %d)\n",
		    n, lat[n / 2], lat[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100], lat[n - 1],
		    lost);
	printf("rss: with %d waiting claims %ld KiB\n", BOARDS, rss_wait);
	for (i = 0; i < BOARDS; i++) {
		curl_multi_remove_handle(m, w[i].h);
		curl_easy_cleanup(w[i].h);
		curl_slist_free_all(w[i].hdrs);
	}
	curl_multi_cleanup(m);
}

int main(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* First without the reply cache: every request queries and serialises. */
	setenv("XENCI_NO_CACHE", "1", 1);
	if (harness_controller_init(&ctl) < 0)
		return 1;
	if (harness_controller_start(&ctl) < 0)
		return 1;
	if (fill_attempts() < 0) {
		harness_controller_stop(&ctl);
		return 1;
	}
	bench_list("no reply cache");
	harness_controller_stop(&ctl);
	unsetenv("XENCI_NO_CACHE");

	if (harness_controller_init(&ctl) < 0)
		return 1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml",
			   "name: fake-smoke\nrequires: {arch: [x86_64]}\n");
	/* 1,000 agents from one address: past the default per-address limit */
	ctl.extra_config = "claim_max_ms: 120000\nconnections: {max: 5000, per_address: 5000}\n";
	if (harness_controller_start(&ctl) < 0)
		return 1;
	usleep(500 * 1000);
	printf("rss: idle after start %ld KiB\n", rss_kb(ctl.pid));
	if (fill_attempts() < 0) {
		harness_controller_stop(&ctl);
		return 1;
	}
	bench_list("reply cache, no writes meanwhile");
	printf("rss: after the list load %ld KiB\n", rss_kb(ctl.pid));
	bench_claims();
	harness_controller_stop(&ctl);
	return 0;
}
