/* Traceable results end to end: a real xenci-agent with two fake boards
 * (tests/fake-board/fake-board.py) makes its key at first start (0600), presents it,
 * the admin approves it; a flight's attempts come back as signed records that
 * `xenci verify ATTEMPT`, `--flight` and `--all` accept with the controller's key
 * alone, and an evidence bundle verifies in a fresh folder with no controller. Then
 * each tampering is detected and named: a byte of a stored console log changed, a
 * verdict changed in the database, a record removed, the log rewritten to another
 * history (consistency fails against the head seen before). (A record signed by
 * agent B for agent A's board is refused at submission: test-records.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"
#include "sigkey.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static struct harness_controller ctl;
static char dir[300], key_pub[400], cli[400], out[16384];
static pid_t boards_pid[2], agent_pid;
static char agent_tok[128];
static long long pass_id, fail_id, flight_id;

static const char job[] =
    "name: fake-smoke\n"
    "requires: {arch: [x86_64], tags: [fake]}\n"
    "timeout: 60\n"
    "stages:\n"
    "  - {name: firmware, pattern: 'FAKE-FW', timeout: 5, on_timeout: infra}\n"
    "  - {name: banner, pattern: 'Xen version [0-9]', timeout: 5}\n"
    "  - {name: done, pattern: '^XENCI-TESTS-DONE$', timeout: 5}\n"
    "failures:\n"
    "  - {name: xen-panic, pattern: 'Panic on CPU'}\n"
    "testcases: [tap]\n";
static const char *const scripts[2] = {
    "line FAKE-FW 1.0\nline (XEN) Xen version 4.17.3\nline ok 1 - hypervisor type is xen\n"
    "line XENCI-TESTS-DONE\n",
    "line FAKE-FW 1.0\nline (XEN) Xen version 4.17.3\nline (XEN) Panic on CPU 0:\nsleep 3000\n",
};

/* xenci ARGS... with the controller's URL and key; its stdout in out. Exit status. */
static int xenci(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[] = {cli, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};

	return harness_run(argv, out, sizeof(out));
}

/* SQL on the controller's database, through python3's sqlite3 (another process, as a
 * tamperer would), while the controller is down (it reads its own snapshot). */
static void sql_now(const char *stmt)
{
	harness_sh(ctl.data,
		   "python3 -c 'import sqlite3,sys; c=sqlite3.connect(\"xenci.db\"); "
		   "c.execute(sys.argv[1]); c.commit()' \"%s\"",
		   stmt);
}

static void write_agent_file(void);
static void start_agent(void);
static void stop_agent(void);

/* The controller stopped, stmts applied, the controller started again (another port:
 * XENCI_URL follows; the agent too when it runs). */
static void sql(const char *const *stmts)
{
	int running = agent_pid > 0;

	if (running)
		stop_agent();
	assert_int_equal(harness_controller_kill(&ctl), 0);
	for (; *stmts; stmts++)
		sql_now(*stmts);
	assert_int_equal(harness_controller_start(&ctl), 0);
	setenv("XENCI_URL", ctl.url, 1);
	if (running) {
		write_agent_file();
		start_agent();
	}
}

static void wait_final(long long id)
{
	char path[64];
	long long end = harness_now_ms() + 60000;
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	for (;;) {
		const char *s;

		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
		s = jstr(j, "state", "");
		if (!strcmp(s, "pass") || !strcmp(s, "fail") || !strcmp(s, "infra") ||
		    !strcmp(s, "timeout")) {
			json_decref(j);
			return;
		}
		json_decref(j);
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
}

/* A flight of fake-smoke on both boards, run to its end: its id, and its attempts by
 * board. */
static long long run_flight(long long *on_pass, long long *on_fail)
{
	json_t *j = NULL, *a;
	long long id;
	size_t i;
	char path[64];

	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", &j),
			 201);
	id = jint(j, "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	json_array_foreach (json_object_get(j, "attempts"), i, a) {
		if (!strcmp(jstr(a, "board", ""), "fake-pass"))
			*on_pass = jint(a, "id", 0);
		else
			*on_fail = jint(a, "id", 0);
	}
	json_decref(j);
	wait_final(*on_pass);
	wait_final(*on_fail);
	return id;
}

static int setup(void **state)
{
	char path[600], py[400], text[2048], tok[128];
	int i;

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "max_attempts: 1\nunhealthy_streak: 100\n";
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-t", tok, sizeof(tok)) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/lab", ctl.dir);
	mkdir(dir, 0755);
	snprintf(key_pub, sizeof(key_pub), "%s/controller-key.pub", ctl.data);
	{
		char *abs = realpath(harness_build_dir(), NULL);

		snprintf(cli, sizeof(cli), "%s/xenci", abs ? abs : harness_build_dir());
		free(abs);
	}
	snprintf(path, sizeof(path), "%s/state", ctl.dir);
	setenv("XENCI_STATE_DIR", path, 1);
	setenv("XENCI_URL", ctl.url, 1);
	unsetenv("XENCI_TOKEN");
	snprintf(py, sizeof(py), "%s/tests/fake-board/fake-board.py", harness_root());
	for (i = 0; i < 2; i++) {
		const char *name = i ? "fake-fail" : "fake-pass";
		char st[400], pf[500], lf[500], bf[500];
		char *argv[] = {"/usr/bin/python3", py, "--state", st, "--port-file", pf, NULL};
		int port;

		snprintf(st, sizeof(st), "%s/%s", dir, name);
		mkdir(st, 0755);
		snprintf(pf, sizeof(pf), "%s/console.port", st);
		snprintf(lf, sizeof(lf), "%s/board.log", st);
		harness_write_file(st, "script", scripts[i]);
		boards_pid[i] = harness_spawn(argv, lf);
		if ((port = harness_read_port(pf, 10000)) < 0)
			return -1;
		snprintf(text, sizeof(text),
			 "name: %s\narch: x86_64\nclass: fake\ntags: [fake]\n"
			 "power: {backend: command, on: 'echo on > %s/power', off: 'echo off > "
			 "%s/power'}\n"
			 "console: {backend: tcp, host: 127.0.0.1, port: %d}\n"
			 "netboot: {backend: ipxe}\n",
			 name, st, st, port);
		snprintf(bf, sizeof(bf), "%s.yaml", name);
		harness_write_file(dir, bf, text);
	}
	snprintf(agent_tok, sizeof(agent_tok), "%s", tok);
	write_agent_file();
	start_agent();
	return 0;
}

static void write_agent_file(void)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-t\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [fake-pass.yaml, fake-fail.yaml]\n"
		 "limits: {claim_wait_ms: 1000, heartbeat_s: 1}\n",
		 ctl.url, agent_tok, dir);
	harness_write_file(dir, "agent.yaml", text);
}

static void start_agent(void)
{
	char agentbin[400], path[400], lf[400];
	char *argv[] = {agentbin, "-v", path, NULL};

	snprintf(agentbin, sizeof(agentbin), "%s/xenci-agent", harness_build_dir());
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	snprintf(lf, sizeof(lf), "%s/agent.log", dir);
	agent_pid = harness_spawn(argv, lf);
}

static void stop_agent(void)
{
	int status;

	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, &status, 0);
		agent_pid = 0;
	}
}

static int teardown(void **state)
{
	int i, status;

	(void)state;
	if (agent_pid > 0) {
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, &status, 0);
	}
	for (i = 0; i < 2; i++)
		if (boards_pid[i] > 0) {
			kill(boards_pid[i], SIGKILL);
			waitpid(boards_pid[i], &status, 0);
		}
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* The agent's key: made at first start, 0600, presented, approved by the admin. */
static void test_agent_key(void **state)
{
	char path[500], url[200];
	struct sigkey k;
	struct stat st;
	struct buf pem = BUF_INIT(0);
	json_t *j = NULL;
	long long end = harness_now_ms() + 15000;

	(void)state;
	snprintf(path, sizeof(path), "%s/work/agent-key.pem", dir);
	while (harness_call(&ctl, ctl.admin_token, "GET", "/api/v1/agents/lab-t/keys", NULL, &j) !=
		   200 ||
	       json_array_size(json_object_get(j, "keys")) == 0) {
		json_decref(j);
		j = NULL;
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/work", dir);
	assert_int_equal(harness_read_file(&pem, path, "agent-key.pub"), 0);
	assert_int_equal(sigkey_from_pem(&k, pem.data, pem.len), 0);
	buf_release(&pem);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "keys"), 0), "keyid", ""), k.id);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "keys"), 0), "state", ""),
			    "pending");
	json_decref(j);
	snprintf(url, sizeof(url), "/api/v1/agents/lab-t/keys/%s/approve", k.id);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", url, "{}", NULL), 200);
	sigkey_release(&k);
}

static void test_flight_verifies(void **state)
{
	char id[32], fl[32], bundle[400], fresh[400];

	(void)state;
	flight_id = run_flight(&pass_id, &fail_id);
	snprintf(id, sizeof(id), "%lld", pass_id);
	snprintf(fl, sizeof(fl), "%lld", flight_id);
	assert_int_equal(xenci("verify", id, "--key", key_pub), 0);
	assert_non_null(strstr(out, "1 record verified"));
	assert_int_equal(xenci("verify", "--flight", fl, "--key"), 2); /* no key file */
	{
		char *argv[] = {cli, "verify", "--flight", fl, "--key", key_pub, NULL};

		assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "2 records verified"));
	}
	assert_int_equal(xenci("verify", "--all", "--key", key_pub), 0);
	assert_non_null(strstr(out, "2 records verified"));
	/* The page marks the attempt and links to its record and proof. */
	{
		struct buf html = BUF_INIT(1 << 20);
		char path[64], link[96];

		snprintf(path, sizeof(path), "/attempts/%lld", pass_id);
		assert_int_equal(
		    harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &html), 200);
		assert_non_null(strstr(buf_cstr(&html), "class=\"record verified\""));
		assert_non_null(strstr(buf_cstr(&html), "signed by agent lab-t"));
		snprintf(link, sizeof(link), "href=\"/api/v1/attempts/%lld/record\"", pass_id);
		assert_non_null(strstr(buf_cstr(&html), link));
		buf_release(&html);
	}
	/* The evidence bundle verifies in a fresh folder, with no controller. */
	snprintf(bundle, sizeof(bundle), "%s/evidence", ctl.dir);
	{
		char *argv[] = {cli, "evidence", fl, "--out", bundle, NULL};

		assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
	}
	snprintf(fresh, sizeof(fresh), "%s/fresh", ctl.dir);
	harness_sh(ctl.dir, "mkdir fresh && cp -r evidence fresh/bundle && cp '%s' fresh/", cli);
	{
		char bin[500], b[500];
		char *argv[] = {bin, "verify", "--bundle", b, NULL};

		snprintf(bin, sizeof(bin), "%s/xenci", fresh);
		snprintf(b, sizeof(b), "%s/bundle", fresh);
		setenv("XENCI_URL", "http://127.0.0.1:1", 1); /* nothing there */
		assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "2 records verified"));
		setenv("XENCI_URL", ctl.url, 1);
	}
	/* The README's standard-tools way: openssl and sha256sum on the bundle's files. */
	harness_sh(bundle, "sh ./check-with-openssl.sh");
}

static void test_tampering_named(void **state)
{
	char id[32], path[400];
	int fd, rc;
	unsigned char c;

	(void)state;
	/* One byte of a stored console log. */
	snprintf(id, sizeof(id), "%lld", pass_id);
	snprintf(path, sizeof(path), "%s/logs/%lld.log", ctl.data, pass_id);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, 20), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, 20), 1);
	assert_int_equal(xenci("verify", id, "--key", key_pub), 1);
	assert_non_null(strstr(out, "FAIL attempt"));
	assert_non_null(strstr(out, "console log"));
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, 20), 1);
	close(fd);
	rc = xenci("verify", id, "--key", key_pub);
	assert_int_equal(rc, 0);

	/* A verdict changed in the database. */
	snprintf(id, sizeof(id), "%lld", fail_id);
	snprintf(path, sizeof(path), "UPDATE attempts SET state = 'pass' WHERE id = %lld", fail_id);
	{
		const char *const stmts[] = {path, NULL};

		sql(stmts);
	}
	rc = xenci("verify", id, "--key", key_pub);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "shows verdict pass, the agent signed fail"));
	snprintf(path, sizeof(path), "UPDATE attempts SET state = 'fail' WHERE id = %lld", fail_id);
	{
		const char *const stmts[] = {path, NULL};

		sql(stmts);
	}
	assert_int_equal(xenci("verify", "--all", "--key", key_pub), 0);

	/* A record removed. */
	{
		const char *const stmts[] = {
		    "CREATE TABLE saved AS SELECT * FROM records WHERE idx = 0",
		    "DELETE FROM records WHERE idx = 0", NULL};

		sql(stmts);
	}
	assert_int_equal(xenci("verify", "--all", "--key", key_pub), 1);
	assert_non_null(strstr(out, "record 0 is missing"));
	{
		const char *const stmts[] = {"INSERT INTO records SELECT * FROM saved",
					     "DROP TABLE saved", NULL};

		sql(stmts);
	}
	assert_int_equal(xenci("verify", "--all", "--key", key_pub), 0);

	/* The log rewritten: emptied and refilled with another history of the same size,
	 * under heads the controller signs again. The head seen before (size 2) no longer
	 * fits. */
	{
		const char *const stmts[] = {"DELETE FROM records", "DELETE FROM merkle_nodes",
					     "DELETE FROM tree_heads", NULL};

		sql(stmts);
	}
	{
		long long p2 = 0, f2 = 0;

		run_flight(&p2, &f2);
	}
	assert_int_equal(xenci("verify", "--all", "--key", key_pub), 1);
	assert_non_null(strstr(out, "not consistent with the head of size 2 seen before"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agent_key),
	    cmocka_unit_test(test_flight_verifies),
	    cmocka_unit_test(test_tampering_named),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
