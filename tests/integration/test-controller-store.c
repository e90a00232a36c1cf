/* The store and the live feeds: an old database (migration 1 only, with data)
 * upgrades in place; a broken migration stops the start-up and changes nothing;
 * the event stream (SSE) delivers transitions at once and resumes with
 * Last-Event-ID; /metrics counts; --check reports bad job files with positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

#define COMMIT "aaaabbbbccccddddeeeeffff0000111122223333"

static const char job_fake[] = "name: fake-smoke\nrequires: {arch: [x86_64]}\n";

static int sqlite(const char *db, const char *sql, char *out, size_t n)
{
	char *argv[] = {"/usr/bin/sqlite3", (char *)db, (char *)sql, NULL};

	return harness_run(argv, out, n);
}

/* "1,2,10" from the NNNN-*.sql files of dir, in order. */
static void versions_in(const char *dir, char *out, size_t n)
{
	char cmd[1200];
	FILE *p;
	size_t len;

	snprintf(cmd, sizeof(cmd),
		 "ls %s | grep -E '^[0-9]{4}-.*\\.sql$' | sort | cut -c1-4 | sed 's/^0*//'"
		 " | paste -sd,",
		 dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	len = fread(out, 1, n - 1, p);
	out[len] = '\0';
	pclose(p);
}

static void test_migrate_old_database(void **state)
{
	struct harness_controller c;
	char path[512], sql[600], out[1024], want[256];
	json_t *j = NULL;

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	harness_write_file(c.jobs, "fake-smoke.yaml", job_fake);
	/* A database made by a controller that knew migration 1 only. */
	mkdir(c.data, 0755);
	snprintf(sql, sizeof(sql), ".read %s/schema/0001-core.sql", harness_root());
	snprintf(path, sizeof(path), "%s/xenci.db", c.data);
	assert_int_equal(sqlite(path, sql, out, sizeof(out)), 0);
	assert_int_equal(
	    sqlite(path,
		   "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT"
		   " NULL, applied INTEGER NOT NULL);"
		   "INSERT INTO schema_migrations VALUES (1, '0001-core.sql', 1);"
		   "INSERT INTO agents (name, created) VALUES ('old-lab', 1);"
		   "INSERT INTO boards (name, agent_id, arch, class, updated) VALUES"
		   " ('old-board', 1, 'arm64', 'virt', 1);",
		   out, sizeof(out)),
	    0);
	assert_int_equal(harness_controller_start(&c), 0);
	assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/boards/old-board", NULL, &j), 200);
	assert_string_equal(jstr(j, "agent", ""), "old-lab");
	assert_string_equal(jstr(j, "state", ""), "idle");
	assert_int_equal(jint(j, "infra_streak", -1), 0); /* a column of migration 2 */
	json_decref(j);
	assert_int_equal(
	    sqlite(path, "SELECT group_concat(version) FROM schema_migrations", out, sizeof(out)),
	    0);
	snprintf(sql, sizeof(sql), "%s/schema", harness_root());
	versions_in(sql, want, sizeof(want));
	assert_true(!strncmp(want, "1,2", 3));
	assert_string_equal(out, want);
	/* The triggers that move result_changes (migration 133; the flake rates a
	 * read thread remembers rest on them) stand after every later migration:
	 * one that rebuilds a table drops its triggers with it. */
	assert_int_equal(sqlite(path,
				"SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND"
				" name LIKE 'result_changes_%'",
				out, sizeof(out)),
			 0);
	assert_string_equal(out, "13\n");
	/* and those that move flights.changes (migration 134; the flights' rows of
	 * the branch matrix a read thread remembers) */
	assert_int_equal(sqlite(path,
				"SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND"
				" name LIKE 'flight_changes_%'",
				out, sizeof(out)),
			 0);
	assert_string_equal(out, "9\n");
	assert_int_equal(harness_controller_stop(&c), 0);
}

static void test_broken_migration(void **state)
{
	struct harness_controller c;
	char schema[400], cmd[1200], path[512], out[256], want[256];

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	snprintf(schema, sizeof(schema), "%s/schema", c.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/schema/0*.sql %s/", schema, harness_root(),
		 schema);
	assert_int_equal(system(cmd), 0);
	harness_write_file(schema, "9999-broken.sql",
			   "ALTER TABLE boards ADD COLUMN x INTEGER;\nTHIS IS NOT SQL;\n");
	c.schema_dir = schema;
	assert_int_not_equal(harness_controller_start(&c), 0);
	/* The broken migration was rolled back as a whole. */
	snprintf(path, sizeof(path), "%s/xenci.db", c.data);
	assert_int_equal(
	    sqlite(path, "SELECT group_concat(version) FROM schema_migrations", out, sizeof(out)),
	    0);
	snprintf(cmd, sizeof(cmd), "%s/schema", harness_root());
	versions_in(cmd, want, sizeof(want));
	assert_string_equal(out, want); /* all but 9999, the last */
	assert_int_equal(sqlite(path,
				"SELECT count(*) FROM pragma_table_info('boards') WHERE"
				" name = 'x'",
				out, sizeof(out)),
			 0);
	assert_string_equal(out, "0\n");
	harness_controller_stop(&c);
}

/* Opens GET /api/v1/events (optionally with Last-Event-ID) on a raw socket. */
static int sse_open(struct harness_controller *c, long long last)
{
	struct sockaddr_in sin;
	char req[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)c->port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (last >= 0)
		snprintf(req, sizeof(req),
			 "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: %lld\r\n\r\n",
			 last);
	else
		snprintf(req, sizeof(req), "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	return fd;
}

/* Reads until needle shows up or ms pass; returns 1 when it did. */
static int sse_wait(int fd, char *acc, size_t cap, const char *needle, int ms)
{
	long long deadline = harness_now_ms() + ms;
	size_t len = strlen(acc);

	while (!strstr(acc, needle)) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - harness_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		n = read(fd, acc + len, cap - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		acc[len] = '\0';
	}
	return 1;
}

/* Whether the controller's /metrics, asked without a token, holds each of the lines'
 * texts given (NULL-terminated). */
static int metrics_have(struct harness_controller *c, ...)
{
	struct http_client h;
	struct http_reply r;
	const char *want;
	va_list ap;
	int ok;

	harness_http(c, NULL, &h);
	http_reply_init(&r);
	ok = http_request(&h, "GET", "/metrics", NULL, NULL, 0, NULL, &r) == 0 && r.status == 200;
	va_start(ap, c);
	while (ok && (want = va_arg(ap, const char *)) != NULL)
		if (!strstr(r.body.data, want)) {
			print_message("/metrics lacks %s\n", want);
			ok = 0;
		}
	va_end(ap);
	http_reply_release(&r);
	http_client_release(&h);
	return ok;
}

static void test_events_and_metrics(void **state)
{
	struct harness_controller c;
	char acc[65536] = "", user[128], agent[128], *p;
	long long t0, last;
	json_t *j = NULL;
	int fd;

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	harness_write_file(c.jobs, "fake-smoke.yaml", job_fake);
	assert_int_equal(harness_controller_start(&c), 0);
	assert_int_equal(harness_token(&c, "user", NULL, user, sizeof(user)), 0);
	assert_int_equal(harness_token(&c, "agent", "lab-e", agent, sizeof(agent)), 0);
	assert_int_equal(harness_call(&c, agent, "PUT", "/api/v1/agents/lab-e/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"be\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
	fd = sse_open(&c, -1);
	assert_true(sse_wait(fd, acc, sizeof(acc), "retry:", 2000));
	t0 = harness_now_ms();
	assert_int_equal(harness_call(&c, c.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", NULL),
			 201);
	assert_true(sse_wait(fd, acc, sizeof(acc), "event: flight.created", 2000));
	assert_true(harness_now_ms() - t0 < 1000);
	assert_non_null(strstr(acc, "event: attempt.created"));
	assert_int_equal(harness_call(&c, agent, "POST", "/api/v1/agents/lab-e/claim",
				      "{\"boards\": [\"be\"], \"wait_ms\": 0}", NULL),
			 200);
	assert_true(sse_wait(fd, acc, sizeof(acc), "event: attempt.claimed", 2000));
	close(fd);
	/* Resume after the first event: everything after it comes again, in order. */
	p = strstr(acc, "id: ");
	assert_non_null(p);
	last = strtoll(p + 4, NULL, 10);
	acc[0] = '\0';
	fd = sse_open(&c, last);
	assert_true(sse_wait(fd, acc, sizeof(acc), "event: attempt.claimed", 2000));
	assert_null(strstr(acc, "event: flight.created") < strstr(acc, "event: attempt.claimed")
			? NULL
			: "order");
	close(fd);

	assert_true(metrics_have(&c, "xenci_boards{state=\"busy\"} 1",
				 "xenci_attempts{state=\"claimed\"} 1", "xenci_queue_depth 0\n",
				 "xenci_http_request_duration_seconds_count", (char *)NULL));
	assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/queue", NULL, &j), 200);
	json_decref(j);
	/* A queue longer than any list's limit: 1,200 queued for a board and 3 waiting for
	 * their build, counted whole by the overview and /metrics (the overview counted
	 * at most 1,000; /metrics left the waiting out). Made now, so that the starving
	 * tick (starve_seconds after an unplaced attempt is made) leaves them waiting. */
	assert_int_equal(
	    harness_db_exec(&c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
				" WHERE i < 1203) INSERT INTO attempts (kind, job, board, arch,"
				" priority, state, created, queued_at) SELECT 'test', 'xen-smoke',"
				" CASE WHEN i > 1200 THEN NULL ELSE 'nowhere' END, 'x86_64', 3,"
				" CASE WHEN i > 1200 THEN 'waiting' ELSE 'queued' END,"
				" CAST(strftime('%s', 'now') AS INTEGER) * 1000, 1 FROM n"),
	    0);
	assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/overview", NULL, &j), 200);
	assert_int_equal(jint(j, "queue_depth", 0), 1203);
	json_decref(j);
	assert_true(metrics_have(&c, "xenci_queue_depth 1203\n", (char *)NULL));
	assert_int_equal(harness_controller_stop(&c), 0);
}

static void test_check_mode(void **state)
{
	struct harness_controller c;
	char bin[512], out[4096], cfg[600];
	char *argv[] = {bin, "--check", "--config", cfg, NULL};

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	snprintf(bin, sizeof(bin), "%s/xenci-controller", harness_build_dir());
	snprintf(cfg, sizeof(cfg), "%s/check.yaml", c.dir);
	snprintf(out, sizeof(out), "jobs_dir: %s\nlease_seconds: 30\n", c.jobs);
	harness_write_file(c.dir, "check.yaml", out);
	harness_write_file(c.jobs, "ok.yaml", job_fake);
	assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
	harness_write_file(c.jobs, "bad.yaml",
			   "name: bad\nrequires: {arch: x86_64}\nstages:\n"
			   "  - {name: s, pattern: '(', timeout: 5}\n");
	assert_int_equal(harness_run(argv, out, sizeof(out)), 1);
	/* PCRE2 refuses it: file:line:col, its message and offset (issue 14) */
	harness_shout(c.dir, out, sizeof(out), "%s --check --config %s 2>&1 || true", bin, cfg);
	if (strstr(out, "bad.yaml:4:24: stages[0].pattern: not a valid pattern (PCRE2): "
			"missing closing parenthesis at offset 1") == NULL)
		fail_msg("--check said: %s", out);
	/* and takes what LAVA and labgrid users write */
	harness_write_file(c.jobs, "bad.yaml",
			   "name: bad\nrequires: {arch: x86_64}\nstages:\n"
			   "  - {name: s, pattern: '(?i)panic on cpu \\d+:\\s*$', timeout: 5}\n");
	assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
	harness_write_file(c.dir, "check.yaml", "lease_seconds: -4\nlistne: x\n");
	assert_int_equal(harness_run(argv, out, sizeof(out)), 1);
	/* known issues (issue 15): a pattern PCRE2 refuses and a second id, each at its
	 * file:line:col */
	snprintf(out, sizeof(out),
		 "jobs_dir: %s\n"
		 "known_issues:\n"
		 "  - {id: its, label: ITS timeout, pattern: 'ITS: timeout'}\n"
		 "  - id: its\n"
		 "    label: again\n"
		 "    pattern: '(XEN'\n",
		 c.jobs);
	harness_write_file(c.dir, "check.yaml", out);
	assert_int_equal(harness_run(argv, out, sizeof(out)), 1);
	harness_shout(c.dir, out, sizeof(out), "%s --check --config %s 2>&1 || true", bin, cfg);
	if (strstr(out, "check.yaml:6:14: known_issues[1].pattern: not a valid pattern (PCRE2): "
			"missing closing parenthesis at offset 4") == NULL)
		fail_msg("--check said: %s", out);
	snprintf(out, sizeof(out),
		 "jobs_dir: %s\n"
		 "known_issues:\n"
		 "  - {id: its, label: ITS timeout, pattern: 'ITS: timeout'}\n"
		 "  - {id: its, label: again, pattern: '^\\(XEN\\) ', blocks: false}\n",
		 c.jobs);
	harness_write_file(c.dir, "check.yaml", out);
	harness_shout(c.dir, out, sizeof(out), "%s --check --config %s 2>&1 || true", bin, cfg);
	if (strstr(out, "check.yaml:4:5: known_issues[1]: a second known issue with id \"its\"") ==
	    NULL)
		fail_msg("--check said: %s", out);
	harness_controller_stop(&c);
}

/* kill -9 at random moments while an agent streams its log: after each restart
 * every acknowledged byte is there, in order. */
struct streamer {
	struct harness_controller *c;
	pthread_mutex_t mx;
	char url[128];
	const char *token;
	long long attempt;
	long long acked; /* bytes the controller said it stored */
	int lines, stop;
};

static void *stream_main(void *arg)
{
	struct streamer *s = arg;
	char path[128], chunk[64], url[128];

	while (1) {
		struct http_client h;
		struct http_reply r;
		long long off;
		int n;

		pthread_mutex_lock(&s->mx);
		if (s->stop) {
			pthread_mutex_unlock(&s->mx);
			break;
		}
		snprintf(url, sizeof(url), "%s", s->url);
		off = s->acked;
		n = snprintf(chunk, sizeof(chunk), "line %06d\n", s->lines);
		pthread_mutex_unlock(&s->mx);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=%lld", s->attempt,
			 off);
		http_client_init(&h, url, s->token);
		h.timeout_ms = 2000;
		h.connect_timeout_ms = 500;
		http_reply_init(&r);
		if (http_request(&h, "PUT", path, "application/octet-stream", chunk, (size_t)n,
				 NULL, &r) == 0 &&
		    r.status == 200) {
			pthread_mutex_lock(&s->mx);
			s->acked = jint(r.json, "length", s->acked);
			s->lines = (int)(s->acked / 12);
			pthread_mutex_unlock(&s->mx);
		} else {
			usleep(10 * 1000);
		}
		http_reply_release(&r);
		http_client_release(&h);
	}
	return NULL;
}

static void test_kill9_stream(void **state)
{
	struct harness_controller c;
	struct streamer s;
	char agent[128], user[128], path[128], want[32];
	pthread_t t;
	json_t *j = NULL;
	struct http_client h;
	struct http_reply r;
	int round, i;

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	harness_write_file(c.jobs, "fake-smoke.yaml", job_fake);
	assert_int_equal(harness_controller_start(&c), 0);
	assert_int_equal(harness_token(&c, "user", NULL, user, sizeof(user)), 0);
	assert_int_equal(harness_token(&c, "agent", "lab-k", agent, sizeof(agent)), 0);
	assert_int_equal(harness_call(&c, agent, "PUT", "/api/v1/agents/lab-k/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"bk\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
	assert_int_equal(harness_call(&c, c.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", NULL),
			 201);
	assert_int_equal(harness_call(&c, agent, "POST", "/api/v1/agents/lab-k/claim",
				      "{\"boards\": [\"bk\"], \"wait_ms\": 0}", &j),
			 200);
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.mx, NULL);
	s.c = &c;
	s.token = agent;
	s.attempt = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	snprintf(s.url, sizeof(s.url), "%s", c.url);
	pthread_create(&t, NULL, stream_main, &s);
	for (round = 0; round < 5; round++) {
		long long acked;

		usleep((useconds_t)(100 + rand() % 300) * 1000);
		harness_controller_kill(&c);
		pthread_mutex_lock(&s.mx);
		acked = s.acked;
		pthread_mutex_unlock(&s.mx);
		assert_int_equal(harness_controller_start(&c), 0);
		pthread_mutex_lock(&s.mx);
		snprintf(s.url, sizeof(s.url), "%s", c.url);
		pthread_mutex_unlock(&s.mx);
		/* Everything acknowledged before the kill is stored. */
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld", s.attempt);
		assert_int_equal(harness_call(&c, NULL, "GET", path, NULL, &j), 200);
		assert_true(jint(j, "log_length", 0) >= acked);
		json_decref(j);
	}
	usleep(200 * 1000);
	pthread_mutex_lock(&s.mx);
	s.stop = 1;
	pthread_mutex_unlock(&s.mx);
	pthread_join(t, NULL);
	assert_true(s.lines > 10);
	/* The log is the lines in order, none lost or doubled. */
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", s.attempt);
	harness_http(&c, NULL, &h);
	http_reply_init(&r);
	assert_int_equal(http_request(&h, "GET", path, NULL, NULL, 0, NULL, &r), 0);
	assert_true((long long)r.body.len >= s.acked);
	assert_int_equal(r.body.len % 12, 0);
	for (i = 0; i < (int)(r.body.len / 12); i++) {
		snprintf(want, sizeof(want), "line %06d\n", i);
		assert_memory_equal(r.body.data + i * 12, want, 12);
	}
	http_reply_release(&r);
	http_client_release(&h);
	assert_int_equal(harness_controller_stop(&c), 0);
}

/* Board health with a configured health-check job: infra results in a row make the
 * board unhealthy and queue that job first; a failed check is followed by another;
 * a pass makes the board healthy and the queued retry runs. */
static void test_health_check_job(void **state)
{
	struct harness_controller c;
	char agent[128], user[128], path[128];
	const char *verdicts[] = {"infra", "infra", "fail", "pass", "pass"};
	const char *jobs[] = {"fake-smoke", "fake-smoke", "health", "health", "fake-smoke"};
	const int numbers[] = {1, 2, 1, 2, 3};
	const char *board_after[] = {"idle", "unhealthy", "unhealthy", "idle", "idle"};
	json_t *j = NULL, *a;
	int i;

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	c.extra_config = "unhealthy_streak: 2\nhealth_check_job: health\nmax_attempts: 5\n";
	harness_write_file(c.jobs, "fake-smoke.yaml", job_fake);
	harness_write_file(c.jobs, "health.yaml", "name: health\nrequires: {}\n");
	assert_int_equal(harness_controller_start(&c), 0);
	assert_int_equal(harness_token(&c, "user", NULL, user, sizeof(user)), 0);
	assert_int_equal(harness_token(&c, "agent", "lab-h", agent, sizeof(agent)), 0);
	assert_int_equal(harness_call(&c, agent, "PUT", "/api/v1/agents/lab-h/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"bh\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
	assert_int_equal(harness_call(&c, c.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\":"
				      " [\"fake-smoke\"]}",
				      NULL),
			 201);
	for (i = 0; i < 5; i++) {
		char body[64];

		assert_int_equal(harness_call(&c, agent, "POST", "/api/v1/agents/lab-h/claim",
					      "{\"boards\": [\"bh\"], \"wait_ms\": 0}", &j),
				 200);
		a = json_object_get(j, "attempt");
		assert_string_equal(jstr(json_object_get(a, "job"), "name", ""), jobs[i]);
		assert_int_equal(jint(a, "number", 0), numbers[i]);
		assert_int_equal(jbool(a, "health_check", 0), !strcmp(jobs[i], "health"));
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", jint(a, "id", 0));
		json_decref(j);
		snprintf(body, sizeof(body), "{\"verdict\": \"%s\"}", verdicts[i]);
		assert_int_equal(harness_call(&c, agent, "POST", path, body, NULL), 200);
		assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/boards/bh", NULL, &j), 200);
		assert_string_equal(jstr(j, "state", ""), board_after[i]);
		json_decref(j);
	}
	assert_int_equal(harness_controller_stop(&c), 0);
}

/* 1 when the controller holds a POSIX lock on its store's -shm (/proc/locks):
 * SQLite's own, which tells another process opening the store that it is not
 * alone. The controller once dropped it by closing a descriptor of its own on
 * the -shm; the next process truncated the -shm under its maps (SIGBUS). */
static int holds_shm_lock(const struct harness_controller *c)
{
	char path[400], line[256];
	struct stat sb;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/xenci.db-shm", c->data);
	if (stat(path, &sb) < 0 || (f = fopen("/proc/locks", "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char dev[64];
		long pid;
		unsigned long long ino;

		if (sscanf(line, "%*[^:]: POSIX %*s %*s %ld %63s", &pid, dev) == 2 &&
		    pid == (long)c->pid && strrchr(dev, ':') &&
		    sscanf(strrchr(dev, ':') + 1, "%llu", &ino) == 1 &&
		    ino == (unsigned long long)sb.st_ino)
			found = 1;
	}
	fclose(f);
	return found;
}

/* Another process writes the live database (sqlite3 on the file, a restore, an admin's
 * fix): the controller's next read shows it, cached or not, and its next write
 * succeeds. A statement left stepped kept a read transaction open on the controller's
 * connection (every later BEGIN IMMEDIATE failed: 500 until a restart), and the
 * reply cache keyed on this connection's own changes kept serving what was read. */
static void test_outside_write(void **state)
{
	struct harness_controller c;
	char agent[128], cmd[1200];
	const char *body = "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\", \"jobs\":"
			   " [\"fake-smoke\"]}";
	json_t *j = NULL;
	int round;

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	harness_write_file(c.jobs, "fake-smoke.yaml", job_fake);
	assert_int_equal(harness_controller_start(&c), 0);
	assert_int_equal(harness_token(&c, "agent", "lab-o", agent, sizeof(agent)), 0);
	assert_int_equal(harness_call(&c, agent, "PUT", "/api/v1/agents/lab-o/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"bo\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
	assert_int_equal(harness_call(&c, c.admin_token, "POST", "/api/v1/flights", body, NULL),
			 201);
	assert_true(holds_shm_lock(&c));
	for (round = 0; round < 2; round++) {
		char want[64];
		static const char *const reads[] = {"/api/v1/flights",	"/api/v1/flights/1",
						    "/api/v1/boards",	"/api/v1/boards/bo",
						    "/api/v1/attempts", "/api/v1/bisections",
						    "/api/v1/branches", "/",
						    "/flights/1"};
		size_t i;

		/* every read route, twice: the second from the reply cache */
		for (i = 0; i < 2 * sizeof(reads) / sizeof(reads[0]); i++)
			harness_call(&c, NULL, "GET", reads[i % (sizeof(reads) / sizeof(reads[0]))],
				     NULL, NULL);
		snprintf(want, sizeof(want), "outside edit %d", round);
		snprintf(cmd, sizeof(cmd),
			 "sqlite3 %s/xenci.db \"UPDATE revisions SET subject = '%s'\"", c.data,
			 want);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/flights/1", NULL, &j), 200);
		assert_string_equal(jstr(j, "subject", ""), want);
		json_decref(j);
		assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/flights", NULL, &j), 200);
		assert_string_equal(
		    jstr(json_array_get(json_object_get(j, "flights"), 0), "subject", ""), want);
		json_decref(j);
		/* and the controller still writes, still holding its -shm lock */
		assert_int_equal(
		    harness_call(&c, c.admin_token, "POST", "/api/v1/flights", body, NULL), 201);
		assert_true(holds_shm_lock(&c));
	}
	assert_int_equal(harness_controller_stop(&c), 0);
}

static void test_https(void **state)
{
	struct harness_controller c;
	char cmd[2048], cert[400], key[400], plain[160];
	struct http_client h;
	struct http_reply r;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(harness_controller_init(&c), 0);
	snprintf(cert, sizeof(cert), "%s/cert.pem", c.dir);
	snprintf(key, sizeof(key), "%s/key.pem", c.dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext"
		 " subjectAltName=IP:127.0.0.1 -keyout %s -out %s -days 1 >/dev/null 2>&1",
		 key, cert);
	assert_int_equal(system(cmd), 0);
	c.tls_cert = cert;
	c.tls_key = key;
	c.cafile = cert;
	assert_int_equal(harness_controller_start(&c), 0);
	assert_true(!strncmp(c.url, "https://", 8));
	assert_int_equal(harness_call(&c, NULL, "GET", "/api/v1/version", NULL, &j), 200);
	assert_int_equal(jint(json_array_get(json_object_get(j, "protocol"), 0), "x", 1), 1);
	json_decref(j);
	assert_int_equal(
	    harness_call(&c, c.admin_token, "POST", "/api/v1/tokens", "{\"role\": \"user\"}", &j),
	    201);
	json_decref(j);
	/* Plain HTTP to the TLS port gets no API reply. */
	snprintf(plain, sizeof(plain), "http://127.0.0.1:%d", c.port);
	http_client_init(&h, plain, NULL);
	h.timeout_ms = 3000;
	http_reply_init(&r);
	http_request(&h, "GET", "/api/v1/version", NULL, NULL, 0, NULL, &r);
	assert_int_not_equal(r.status, 200);
	http_reply_release(&r);
	http_client_release(&h);
	/* Nor does a client that does not trust the certificate. */
	http_client_init(&h, c.url, NULL);
	http_reply_init(&r);
	assert_int_equal(http_request(&h, "GET", "/api/v1/version", NULL, NULL, 0, NULL, &r), -1);
	http_reply_release(&r);
	http_client_release(&h);
	assert_int_equal(harness_controller_stop(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migrate_old_database),
	    cmocka_unit_test(test_broken_migration),
	    cmocka_unit_test(test_events_and_metrics),
	    cmocka_unit_test(test_check_mode),
	    cmocka_unit_test(test_https),
	    cmocka_unit_test(test_health_check_job),
	    cmocka_unit_test(test_outside_write),
	    cmocka_unit_test(test_kill9_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
