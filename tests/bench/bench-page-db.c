/* The status page over a real store with 100,000 attempts: a real controller
 * (tests/harness) whose SQLite file holds 2,000 flights of a watched branch ×
 * 50 test attempts on 25 boards, then timed GETs through libcurl of the branch
 * matrix page (its server-side render is the target: ≤ 20 ms), its JSON twin,
 * the overview, a flight and an attempt page. Prints median and max of 51. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness/harness.h"
#include "json-util.h"

#define RUNS	    51
#define FLIGHTS	    2000
#define BOARDS	    25
#define PER_FLIGHT  50
#define GIT_COMMITS 30

static struct harness_controller c;

static int cmp_ll(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int timed(const char *what, const char *path)
{
	struct http_client h;
	double ms[RUNS];
	size_t bytes = 0;
	int i;

	harness_http(&c, NULL, &h);
	for (i = 0; i < RUNS; i++) {
		struct http_reply r;
		double t = now_ms();

		http_reply_init(&r);
		if (http_request(&h, "GET", path, NULL, NULL, 0, NULL, &r) < 0 || r.status != 200) {
			fprintf(stderr, "bench-page-db: GET %s: %ld %s\n", path, r.status, r.error);
			http_reply_release(&r);
			http_client_release(&h);
			return -1;
		}
		ms[i] = now_ms() - t;
		bytes = r.body.len;
		http_reply_release(&r);
	}
	http_client_release(&h);
	qsort(ms, RUNS, sizeof(ms[0]), cmp_ll);
	printf("bench-page-db: %-34s median %6.2f ms  max %6.2f ms  (%zu bytes)\n", what,
	       ms[RUNS / 2], ms[RUNS - 1], bytes);
	return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench-page-db: %s: %s\n", sql, err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Fills the store: revisions, flights of branch master, attempts. */
static int fill(const char *dbpath, char commits[][41], int ncommits)
{
	static const char *const states[] = {"pass", "pass", "pass", "pass", "fail", "infra"};
	sqlite3 *db;
	sqlite3_stmt *rev = NULL, *fl = NULL, *at = NULL;
	long long now = 1764000000000LL, branch, tree;
	int f, k, rc = -1;

	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	if (exec(db, "BEGIN"))
		goto out;
	{
		sqlite3_stmt *s;

		sqlite3_prepare_v2(db,
				   "SELECT b.id, t.id FROM branches b JOIN trees t ON t.id = "
				   "b.tree_id WHERE b.name = 'master'",
				   -1, &s, NULL);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_finalize(s);
			fprintf(stderr, "bench-page-db: no branch master\n");
			goto out;
		}
		branch = sqlite3_column_int64(s, 0);
		tree = sqlite3_column_int64(s, 1);
		sqlite3_finalize(s);
	}
	sqlite3_prepare_v2(db,
			   "INSERT INTO revisions (tree_id, commit_id, subject) VALUES (?1, ?2, ?3)"
			   " ON CONFLICT DO UPDATE SET subject = ?3 RETURNING id",
			   -1, &rev, NULL);
	sqlite3_prepare_v2(db,
			   "INSERT INTO flights (revision_id, ref, kind, priority, state, created,"
			   " finished, branch_id) VALUES (?1, 'refs/heads/master', 'push', 3,"
			   " 'done', ?2, ?2, ?3)",
			   -1, &fl, NULL);
	sqlite3_prepare_v2(db,
			   "INSERT INTO attempts (flight_id, kind, job, board, arch, number,"
			   " priority, state, log_length, created, started_at, finished_at)"
			   " VALUES (?1, 'test', ?2, ?3, 'x86_64', 1, 3, ?4, 0, ?5, ?5, ?5)",
			   -1, &at, NULL);
	for (f = 0; f < FLIGHTS; f++) {
		char commit[41], subject[64];
		long long rid, fid;

		/* The newest flights test the repository's real commits. */
		if (f >= FLIGHTS - ncommits)
			memcpy(commit, commits[f - (FLIGHTS - ncommits)], 41);
		else
			snprintf(commit, sizeof(commit), "%040x", f + 1);
		snprintf(subject, sizeof(subject), "x86/mm: change number %d", f);
		sqlite3_reset(rev);
		sqlite3_bind_int64(rev, 1, tree);
		sqlite3_bind_text(rev, 2, commit, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(rev, 3, subject, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(rev) != SQLITE_ROW)
			goto out;
		rid = sqlite3_column_int64(rev, 0);
		sqlite3_reset(rev);
		sqlite3_reset(fl);
		sqlite3_bind_int64(fl, 1, rid);
		sqlite3_bind_int64(fl, 2, now + f * 1000LL);
		sqlite3_bind_int64(fl, 3, branch);
		if (sqlite3_step(fl) != SQLITE_DONE)
			goto out;
		fid = sqlite3_last_insert_rowid(db);
		for (k = 0; k < PER_FLIGHT; k++) {
			char board[32];

			snprintf(board, sizeof(board), "board-%02d", k % BOARDS);
			sqlite3_reset(at);
			sqlite3_bind_int64(at, 1, fid);
			sqlite3_bind_text(at, 2, k < BOARDS ? "smoke" : "boot", -1, SQLITE_STATIC);
			sqlite3_bind_text(at, 3, board, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(at, 4, states[(f * 7 + k) % 6], -1, SQLITE_STATIC);
			sqlite3_bind_int64(at, 5, now + f * 1000LL);
			if (sqlite3_step(at) != SQLITE_DONE)
				goto out;
		}
	}
	rc = exec(db, "COMMIT");
out:
	if (rc)
		fprintf(stderr, "bench-page-db: fill: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(rev);
	sqlite3_finalize(fl);
	sqlite3_finalize(at);
	sqlite3_close(db);
	return rc;
}

int main(void)
{
	static char commits[GIT_COMMITS][41];
	char extra[1024], cmd[1024], out[64 * 1024], dbpath[400], tok[128], body[4096];
	char *const show[] = {"/bin/sh", "-c", cmd, NULL};
	struct http_client h;
	struct http_reply r;
	int i, rc = 1;
	char *p;

	if (harness_controller_init(&c) < 0)
		return 1;
	harness_write_file(c.jobs, "smoke.yaml",
			   "name: smoke\nrequires: {arch: [x86_64]}\nstages:\n"
			   "  - {name: hello, pattern: 'hello', timeout: 10}\n");
	snprintf(cmd, sizeof(cmd),
		 "cd %s && git init -q -b master xen && cd xen && for i in $(seq %d); do echo $i "
		 "> f; git add f; git -c user.name=Dev -c user.email=dev@example.org commit -qm "
		 "\"change $i\"; done; git log --format=%%H | tac",
		 c.dir, GIT_COMMITS);
	if (harness_run(show, out, sizeof(out)) != 0)
		goto out;
	for (i = 0, p = out; i < GIT_COMMITS && strlen(p) >= 40; i++, p += 41)
		snprintf(commits[i], 41, "%.40s", p);
	snprintf(extra, sizeof(extra),
		 "trees:\n  xen:\n    source: %s/xen\n    interval: 3600\n    branches:\n"
		 "      - name: master\n        jobs: [smoke]\n",
		 c.dir);
	c.extra_config = extra;
	if (harness_controller_start(&c) < 0 || harness_token(&c, "agent", "lab", tok, sizeof(tok)))
		goto out;
	p = body +
	    snprintf(body, sizeof(body), "{\"protocol\": 1, \"builder\": null, \"boards\": [");
	for (i = 0; i < BOARDS; i++)
		p += snprintf(
		    p, sizeof(body) - (size_t)(p - body),
		    "%s{\"name\": \"board-%02d\", \"arch\": \"x86_64\", \"class\": \"c%d\"}",
		    i ? "," : "", i, i % 5);
	snprintf(p, sizeof(body) - (size_t)(p - body), "]}");
	harness_http(&c, tok, &h);
	http_reply_init(&r);
	if (http_request(&h, "PUT", "/api/v1/agents/lab/boards", "application/json", body,
			 strlen(body), NULL, &r) < 0 ||
	    r.status != 200) {
		fprintf(stderr, "bench-page-db: declare: %ld %s\n", r.status, buf_cstr(&r.body));
		goto out;
	}
	http_reply_release(&r);
	http_client_release(&h);
	/* Fill the store while the controller is down, then time a fresh start. */
	if (harness_controller_kill(&c) < 0)
		goto out;
	snprintf(dbpath, sizeof(dbpath), "%s/xenci.db", c.data);
	if (fill(dbpath, commits, GIT_COMMITS) < 0 || harness_controller_start(&c) < 0)
		goto out;
	printf("bench-page-db: store with %d attempts in %d flights on %d boards\n",
	       FLIGHTS * PER_FLIGHT, FLIGHTS, BOARDS);
	snprintf(cmd, sizeof(cmd), "/flights/%d", FLIGHTS);
	snprintf(out, sizeof(out), "/attempts/%d", FLIGHTS * PER_FLIGHT);
	if (timed("branch matrix page (20 rows x 25)", "/branches/master") < 0 ||
	    timed("branch matrix twin (JSON)", "/api/v1/branches/master") < 0 ||
	    timed("overview page", "/") < 0 || timed("flight page", cmd) < 0 ||
	    timed("attempt page", out) < 0 || timed("badge", "/badge/master.svg") < 0)
		goto out;
	rc = 0;
out:
	if (harness_controller_stop(&c) != 0)
		rc = 1;
	return rc;
}
