/* The lab agent end to end against a real controller on 127.0.0.1: fake boards
 * (tests/fake-board/fake-board.py) driven by the `command` and `pdudaemon`
 * power backends and read through the real `tcp` console backend. One flight
 * gives every board an attempt; their verdicts must be pass, fail (a failure
 * pattern), timeout (a stage), infra (the power command fails) and pass (over
 * PDUDaemon's HTTP API). Meanwhile the controller answers 503 for a second, then
 * is killed (-9) and restarted on another port behind a relay while a slow
 * board streams: its log must arrive whole, every line once and in order. An
 * admin cancel must power its board off; SIGHUP must declare the boards again;
 * SIGTERM must stop the agent cleanly. One more board, fake-s2n, is read
 * through Debian's ser2net (telnet with RFC 2217, its console a pty) and
 * powered by Debian's pdudaemon (reboot) when both are installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
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
#include "xmalloc.h"

#define COMMIT	   "0123456789abcdef0123456789abcdef01234567"
#define NBOARDS	   8
#define SLOW_LINES 40

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128];
static char dir[300];

static pid_t boards_pid[NBOARDS], relay_pid, agent_pid, ser2net_pid, pdudaemon_pid;
/* fake-s2n's console is its pty behind Debian's ser2net (telnet with RFC 2217)
 * and its power Debian's pdudaemon (localcmdline writing its power file,
 * reboot: true), when both are installed; else raw TCP and a command. */
static int real_daemons;
static int ctl_running;

static const char *const names[NBOARDS] = {"fake-pass", "fake-fail", "fake-timeout", "fake-infra",
					   "fake-pdu",	"fake-slow", "fake-cancel",  "fake-s2n"};

static const char job_smoke[] =
    "name: fake-smoke\n"
    "requires: {arch: [x86_64], tags: [fake]}\n"
    "timeout: 60\n"
    "stages:\n"
    "  - {name: firmware, pattern: 'FAKE-FW', timeout: 5, on_timeout: infra}\n"
    "  - {name: banner, pattern: 'Xen version [0-9]', timeout: 3}\n"
    "  - {name: done, pattern: '^XENCI-TESTS-DONE$', timeout: 5}\n"
    "failures:\n"
    "  - {name: xen-panic, pattern: 'Panic on CPU'}\n"
    "testcases: [tap]\n";

static const char job_slow[] = "name: fake-slow\n"
			       "requires: {arch: [x86_64], tags: [slow]}\n"
			       "timeout: 60\n"
			       "stages:\n"
			       "  - {name: firmware, pattern: 'FAKE-FW', timeout: 5}\n"
			       "  - {name: done, pattern: 'SLOW-DONE', timeout: 30}\n";

static const char script_pass[] = "line FAKE-FW 1.0\n"
				  "sleep 100\n"
				  "part (XEN) Xen ver\n"
				  "sleep 400\n"
				  "line sion 4.17.3 (fake)\n"
				  "hex 00ff01fe0a\n"
				  "long 9000\n"
				  "line ok 1 - hypervisor type is xen\n"
				  "line ok 2 - skipped one # SKIP no reason\n"
				  "line XENCI-TESTS-DONE\n";

static const char script_fail[] = "line FAKE-FW 1.0\n"
				  "line (XEN) Xen version 4.17.3\n"
				  "line (XEN) Panic on CPU 0:\n"
				  "line (XEN) FATAL TRAP: vector = 14\n"
				  "sleep 3000\n"
				  "line XENCI-TESTS-DONE\n";

static const char script_timeout[] = "line FAKE-FW 1.0\n"
				     "part (XEN) Xen version 4.17 but no line end\n"
				     "sleep 10000\n";

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The relay's target: a port, 0 (connections dropped) or 503 (every request
 * answered 503). */
static void write_target(int port)
{
	char path[400], text[32];

	snprintf(path, sizeof(path), "%s/relay.target", dir);
	snprintf(text, sizeof(text), "%d\n", port);
	put(path, text);
}

#define SER2NET	  "/usr/sbin/ser2net"
#define PDUDAEMON "/usr/sbin/pdudaemon"

/* ser2net serving the board's pty over telnet(rfc2217), pdudaemon switching
 * its power file; their ports into *console and *pdu once they listen. */
static int start_daemons(const char *st, const char *ptyf, int *console, int *pdu)
{
	char conf[400], log[400], pty[128] = "", text[2048];
	long long end = harness_now_ms() + 30000;
	FILE *f;

	while (pty[0] == '\0' && harness_now_ms() < end) {
		f = fopen(ptyf, "r");
		if (f) {
			if (fgets(pty, sizeof(pty), f) == NULL)
				pty[0] = '\0';
			fclose(f);
		}
		usleep(20 * 1000);
	}
	pty[strcspn(pty, "\n")] = '\0';
	*console = harness_free_port();
	*pdu = harness_free_port();
	if (pty[0] == '\0' || *console < 0 || *pdu < 0)
		return -1;
	snprintf(text, sizeof(text),
		 "connection: &s2n\n"
		 "  accepter: telnet(rfc2217),tcp,127.0.0.1,%d\n"
		 "  connector: serialdev,%s,9600n81,local\n"
		 "  options:\n"
		 "    kickolduser: true\n",
		 *console, pty);
	snprintf(conf, sizeof(conf), "%s/ser2net.yaml", st);
	put(conf, text);
	snprintf(log, sizeof(log), "%s/ser2net.log", st);
	{
		char *argv[] = {SER2NET, "-n", "-u", "-c", conf, NULL};

		ser2net_pid = harness_spawn(argv, log);
	}
	snprintf(text, sizeof(text),
		 "{\"daemon\": {\"hostname\": \"127.0.0.1\", \"port\": %d, \"listener\": "
		 "\"http\"},\n"
		 " \"pdus\": {\"s2n-pdu\": {\"driver\": \"localcmdline\",\n"
		 "   \"cmd_on\": \"echo on %%s >> %s/outlets; echo on > %s/power\",\n"
		 "   \"cmd_off\": \"echo off %%s >> %s/outlets; echo off > %s/power\"}}}\n",
		 *pdu, st, st, st, st);
	snprintf(conf, sizeof(conf), "%s/pdudaemon.conf", st);
	put(conf, text);
	snprintf(log, sizeof(log), "%s/pdudaemon.log", st);
	{
		char *argv[] = {PDUDAEMON, "--conf",	 conf,	  "--logfile",
				log,	   "--loglevel", "DEBUG", NULL};
		char out[400];

		snprintf(out, sizeof(out), "%s/pdudaemon.out", st);
		pdudaemon_pid = harness_spawn(argv, out);
	}
	for (;;) {
		int a = harness_connect(*console, NULL), b = harness_connect(*pdu, NULL);

		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
		if (a >= 0 && b >= 0)
			return 0;
		if (harness_now_ms() > end)
			return -1;
		usleep(100 * 1000);
	}
}

static int setup(void **state)
{
	char path[512], py[400], relay[400], agentbin[400], text[4096];
	const char *root = harness_root();
	struct buf boards = BUF_INIT(0);
	int i, port, relay_port;

	(void)state;
	real_daemons = access(SER2NET, X_OK) == 0 && access(PDUDAEMON, X_OK) == 0;
	if (!real_daemons)
		fprintf(stderr,
			"# ser2net or pdudaemon not installed: fake-s2n runs without them\n");
	if (harness_controller_init(&ctl) < 0)
		return -1;
	ctl.extra_config = "max_attempts: 1\nunhealthy_streak: 100\n";
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_smoke);
	harness_write_file(ctl.jobs, "fake-slow.yaml", job_slow);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-f", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	ctl_running = 1;
	snprintf(dir, sizeof(dir), "%s/agent", ctl.dir);
	mkdir(dir, 0755);
	snprintf(py, sizeof(py), "%s/tests/fake-board/fake-board.py", root);
	snprintf(relay, sizeof(relay), "%s/tests/fake-board/tcp-relay.py", root);

	/* the relay: the agent's controller URL survives a controller restart */
	write_target(ctl.port);
	{
		char pf[400], tf[400], lf[400];
		char *argv[] = {"/usr/bin/python3", relay, "--port-file", pf,
				"--target-file",    tf,	   NULL};

		snprintf(pf, sizeof(pf), "%s/relay.port", dir);
		snprintf(tf, sizeof(tf), "%s/relay.target", dir);
		snprintf(lf, sizeof(lf), "%s/relay.log", dir);
		relay_pid = harness_spawn(argv, lf);
		relay_port = harness_read_port(pf, 5000);
		if (relay_port < 0)
			return -1;
	}
	for (i = 0; i < NBOARDS; i++) {
		char st[340], pf[400], ppf[400], lf[400], bf[400], ptyf[400];
		char *argv[] = {"/usr/bin/python3",
				py,
				"--state",
				st,
				"--port-file",
				pf,
				i == 4	 ? "--pdu-port-file"
				: i == 7 ? "--pty-file"
					 : NULL,
				i == 4 ? ppf : ptyf,
				NULL};
		const char *power;
		char powerbuf[600];
		int pdu_port = 0;

		snprintf(st, sizeof(st), "%s/%s", dir, names[i]);
		mkdir(st, 0755);
		snprintf(pf, sizeof(pf), "%s/console.port", st);
		snprintf(ppf, sizeof(ppf), "%s/pdu.port", st);
		snprintf(ptyf, sizeof(ptyf), "%s/pty", st);
		snprintf(lf, sizeof(lf), "%s/board.log", st);
		snprintf(path, sizeof(path), "%s/script", st);
		if (i == 1)
			put(path, script_fail);
		else if (i == 2)
			put(path, script_timeout);
		else if (i == 6)
			put(path, "line FAKE-FW 1.0\nline waiting for a cancel\nsleep 60000\n");
		else if (i == 5) {
			struct buf s = BUF_INIT(0);
			int k;

			buf_puts(&s, "line FAKE-FW 1.0\n");
			for (k = 1; k <= SLOW_LINES; k++)
				buf_printf(&s, "line slow %03d of %d\nsleep 100\n", k, SLOW_LINES);
			buf_puts(&s, "line SLOW-DONE\n");
			put(path, buf_cstr(&s));
			buf_release(&s);
		} else {
			put(path, script_pass);
		}
		boards_pid[i] = harness_spawn(argv, lf);
		port = harness_read_port(pf, 5000);
		if (port < 0)
			return -1;
		if (i == 7 && real_daemons) {
			if (start_daemons(st, ptyf, &port, &pdu_port) < 0)
				return -1;
			snprintf(
			    powerbuf, sizeof(powerbuf),
			    "{backend: pdudaemon, url: 'http://127.0.0.1:%d', hostname: s2n-pdu, "
			    "port: 1, reboot: true, delay: 1}",
			    pdu_port);
			power = powerbuf;
		} else if (i == 4) {
			pdu_port = harness_read_port(ppf, 5000);
			if (pdu_port < 0)
				return -1;
			snprintf(
			    powerbuf, sizeof(powerbuf),
			    "{backend: pdudaemon, url: 'http://127.0.0.1:%d', hostname: pdu-1, "
			    "port: 7}",
			    pdu_port);
			power = powerbuf;
		} else if (i == 3) {
			power = "{backend: command, on: 'echo PDU port 7 unreachable >&2; exit 3',"
				" off: 'true'}";
		} else {
			snprintf(powerbuf, sizeof(powerbuf),
				 "{backend: command, on: 'echo on > ${st}/power', off: 'echo off > "
				 "${st}/power', vars: {st: '%s'}}",
				 st);
			power = powerbuf;
		}
		snprintf(text, sizeof(text),
			 "name: %s\narch: x86_64\nclass: fake\ntags: [%s]\n"
			 "power: %s\n"
			 "console: {backend: tcp, host: 127.0.0.1, port: %d%s}\n"
			 "netboot: {backend: ipxe}\n",
			 names[i], i == 5 || i == 6 ? "slow" : "fake", power, port,
			 i == 7 && real_daemons ? ", protocol: rfc2217, baud: 115200" : "");
		snprintf(bf, sizeof(bf), "%s/%s.yaml", dir, names[i]);
		put(bf, text);
		buf_printf(&boards, "%s%s.yaml", i ? ", " : "", names[i]);
	}
	snprintf(text, sizeof(text),
		 "controller: http://127.0.0.1:%d\nagent: lab-f\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [%s]\nlimits: {claim_wait_ms: 1000, heartbeat_s: 1}\n",
		 relay_port, agent_tok, dir, buf_cstr(&boards));
	buf_release(&boards);
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	put(path, text);
	snprintf(agentbin, sizeof(agentbin), "%s/xenci-agent", harness_build_dir());
	{
		char lf[400];
		char *argv[] = {agentbin, "-v", path, NULL};

		snprintf(lf, sizeof(lf), "%s/agent.log", dir);
		agent_pid = harness_spawn(argv, lf);
	}
	/* the boards are declared */
	{
		long long end = harness_now_ms() + 10000;

		while (harness_call(&ctl, NULL, "GET", "/api/v1/boards/fake-slow", NULL, NULL) !=
		       200) {
			if (harness_now_ms() > end) {
				fprintf(stderr, "the agent did not declare its boards\n");
				return -1;
			}
			usleep(50 * 1000);
		}
	}
	return 0;
}

static void print_file(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static int teardown(void **state)
{
	int i;
	char path[400];

	(void)state;
	if (getenv("XENCI_VERBOSE")) {
		snprintf(path, sizeof(path), "%s/agent.log", dir);
		print_file(path);
	}
	harness_stop_pid(&agent_pid, SIGKILL);
	for (i = 0; i < NBOARDS; i++)
		harness_stop_pid(&boards_pid[i], SIGKILL);
	harness_stop_pid(&relay_pid, SIGKILL);
	harness_stop_pid(&ser2net_pid, SIGKILL);
	harness_stop_pid(&pdudaemon_pid, SIGKILL);
	if (ctl_running)
		harness_controller_stop(&ctl);
	return 0;
}

/* docs/api.md names them "jobs" with "attempt"; the controller answers
 * "attempts" with "id": take either. */
static json_t *flight_job(json_t *flight, const char *board)
{
	json_t *list = json_object_get(flight, "jobs"), *j;
	size_t i;

	if (list == NULL)
		list = json_object_get(flight, "attempts");
	json_array_foreach (list, i, j)
		if (!strcmp(jstr(j, "board", ""), board))
			return j;
	return NULL;
}

/* Its verdict once finished, else NULL ("state" holds it in the controller's reply). */
static const char *job_verdict(const json_t *job)
{
	static const char *const ends[] = {"pass", "fail", "infra", "timeout", "cancelled", NULL};
	const char *v = jstr(job, "verdict", NULL), *st = jstr(job, "state", "");
	size_t i;

	if (v)
		return v;
	for (i = 0; ends[i]; i++)
		if (!strcmp(st, ends[i]))
			return st;
	return NULL;
}

static long long job_attempt(const json_t *job)
{
	return jint(job, "attempt", jint(job, "id", 0));
}

static long long attempt_log_length(long long id)
{
	char path[96];
	json_t *a = NULL;
	long long n = -1;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	if (harness_call(&ctl, NULL, "GET", path, NULL, &a) == 200)
		n = jint(a, "log_length", -1);
	json_decref(a);
	return n;
}

/* The log holds console bytes as they came, NULs included. */
static const char *log_has(const struct buf *log, const char *s)
{
	return log->data ? memmem(log->data, log->len, s, strlen(s)) : NULL;
}

static void get_log(long long id, struct buf *log)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", id);
	buf_reset(log);
	assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, log),
			 200);
}

static void test_flight_verdicts_and_restart(void **state)
{
	json_t *j = NULL, *fl = NULL, *job;
	char path[96], logp[400];
	long long fid, slow_id = 0, end;
	struct buf log = BUF_INIT(0);
	int i, k, done = 0;
	const char *p;

	(void)state;
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", &j),
			 201);
	fid = jint(j, "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", fid);

	/* the slow board streams: once the controller has part of its log, kill it */
	end = harness_now_ms() + 20000;
	while (harness_now_ms() < end) {
		json_decref(fl);
		fl = NULL;
		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &fl), 200);
		job = flight_job(fl, "fake-slow");
		slow_id = job ? job_attempt(job) : 0;
		if (slow_id > 0 && attempt_log_length(slow_id) > 300)
			break;
		usleep(50 * 1000);
	}
	assert_true(slow_id > 0);
	write_target(503); /* the controller answers 5xx for a second */
	usleep(1000 * 1000);
	write_target(0); /* then it is away: connections are dropped */
	assert_int_equal(harness_controller_kill(&ctl), 0);
	ctl_running = 0;
	sleep(1); /* the agent keeps the console bytes in its spool meanwhile */
	assert_int_equal(harness_controller_start(&ctl), 0);
	ctl_running = 1;
	write_target(ctl.port);

	/* a cancelled attempt: the next heartbeat hears 410, the board goes off */
	{
		long long cid = 0;
		char cpath[96], pw[400], power[16] = "";

		end = harness_now_ms() + 20000;
		while (cid == 0 && harness_now_ms() < end) {
			json_decref(fl);
			fl = NULL;
			assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &fl), 200);
			job = flight_job(fl, "fake-cancel");
			if (job && (!strcmp(jstr(job, "state", ""), "running") ||
				    !strcmp(jstr(job, "state", ""), "claimed")))
				cid = job_attempt(job);
			else
				usleep(50 * 1000);
		}
		if (cid == 0) {
			char *t = json_compact(fl);

			fprintf(stderr, "no running fake-cancel attempt: %s\n", t);
			free(t);
		}
		assert_true(cid > 0);
		snprintf(cpath, sizeof(cpath), "/api/v1/attempts/%lld/cancel", cid);
		assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", cpath, "{}", NULL),
				 200);
		snprintf(pw, sizeof(pw), "%s/fake-cancel/power", dir);
		end = harness_now_ms() + 10000;
		while (harness_now_ms() < end) {
			FILE *f = fopen(pw, "r");

			if (f) {
				if (fscanf(f, "%15s", power) != 1)
					power[0] = '\0';
				fclose(f);
			}
			if (!strcmp(power, "off"))
				break;
			usleep(50 * 1000);
		}
		assert_string_equal(power, "off");
	}

	end = harness_now_ms() + 60000;
	while (!done && harness_now_ms() < end) {
		json_decref(fl);
		fl = NULL;
		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &fl), 200);
		done = 1;
		for (i = 0; i < NBOARDS; i++) {
			job = flight_job(fl, names[i]);
			if (job == NULL || job_verdict(job) == NULL)
				done = 0;
		}
		if (!done)
			usleep(100 * 1000);
	}
	if (!done) {
		char *s = json_compact(fl);

		fprintf(stderr, "flight not done: %s\n", s);
		free(s);
		snprintf(logp, sizeof(logp), "%s/agent.log", dir);
		print_file(logp);
	}
	assert_true(done);

	for (i = 0; i < NBOARDS; i++) {
		job = flight_job(fl, names[i]);
		fprintf(stderr, "# %s: %s: %s\n", names[i], job_verdict(job),
			jstr(job, "reason", ""));
	}
	job = flight_job(fl, "fake-pass");
	assert_string_equal(job_verdict(job), "pass");
	job = flight_job(fl, "fake-fail");
	assert_string_equal(job_verdict(job), "fail");
	assert_non_null(strstr(jstr(job, "reason", ""), "xen-panic"));
	job = flight_job(fl, "fake-timeout");
	assert_string_equal(job_verdict(job), "timeout");
	assert_non_null(strstr(jstr(job, "reason", ""), "banner timed out"));
	job = flight_job(fl, "fake-infra");
	assert_string_equal(job_verdict(job), "infra");
	assert_non_null(strstr(jstr(job, "reason", ""), "PDU port 7 unreachable"));
	job = flight_job(fl, "fake-pdu");
	assert_string_equal(job_verdict(job), "pass");
	job = flight_job(fl, "fake-slow");
	assert_string_equal(job_verdict(job), "pass");
	job = flight_job(fl, "fake-cancel");
	assert_string_equal(job_verdict(job), "cancelled");
	job = flight_job(fl, "fake-s2n");
	assert_string_equal(job_verdict(job), "pass");

	/* the pass log: a partial line completed later is one line, binary bytes
	 * kept, a long line cut and said so, test cases noted, power on/off */
	get_log(job_attempt(flight_job(fl, "fake-pass")), &log);
	assert_non_null(log_has(&log, " | (XEN) Xen version 4.17.3 (fake)\n"));
	assert_non_null(memmem(log.data, log.len, " | \x00\xff\x01\xfe\n", 8));
	assert_non_null(log_has(&log, "# log cut: console line longer than 4096 bytes"));
	assert_non_null(log_has(&log, "# testcase hypervisor type is xen pass\n"));
	assert_non_null(log_has(&log, "# power on (command)\n"));
	assert_non_null(log_has(&log, "# power off\n"));

	/* through ser2net's telnet the 0xFF and the rest arrive as they were, the
	 * attempt started by pdudaemon's reboot */
	get_log(job_attempt(flight_job(fl, "fake-s2n")), &log);
	assert_non_null(log_has(&log, " | (XEN) Xen version 4.17.3 (fake)\n"));
	assert_non_null(memmem(log.data, log.len, " | \x00\xff\x01\xfe\n", 8));
	assert_non_null(log_has(&log, "# testcase hypervisor type is xen pass\n"));
	if (real_daemons) {
		char ol[400];
		struct buf o = BUF_INIT(0);

		assert_non_null(log_has(&log, "# power cycled (pdudaemon)\n"));
		snprintf(ol, sizeof(ol), "%s/fake-s2n", dir);
		assert_int_equal(harness_read_file(&o, ol, "outlets"), 0);
		/* the agent's off at start, reboot's off and on, the attempt's off */
		assert_string_equal(buf_cstr(&o), "off 1\noff 1\non 1\noff 1\n");
		buf_release(&o);
	}

	/* the PDU saw on and off for its outlet */
	{
		char pl[400];
		FILE *f;
		struct buf pdu = BUF_INIT(0);
		char line[256];

		snprintf(pl, sizeof(pl), "%s/fake-pdu/pdu.log", dir);
		f = fopen(pl, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			buf_puts(&pdu, line);
		fclose(f);
		assert_non_null(strstr(buf_cstr(&pdu), "/power/control/on?hostname=pdu-1&port=7"));
		assert_non_null(strstr(buf_cstr(&pdu), "/power/control/off?hostname=pdu-1&port=7"));
		buf_release(&pdu);
	}

	/* nothing lost across the restart: every slow line once, in order */
	get_log(slow_id, &log);
	p = buf_cstr(&log);
	for (k = 1; k <= SLOW_LINES; k++) {
		char want[64];
		const char *q;

		snprintf(want, sizeof(want), " | slow %03d of %d\n", k, SLOW_LINES);
		q = strstr(p, want);
		if (q == NULL) {
			fail_msg("line %d missing or out of order in:\n%s", k, buf_cstr(&log));
		} else {
			assert_null(strstr(q + 1, want));
			p = q + 1;
		}
	}
	assert_non_null(strstr(p, "# verdict pass"));
	buf_release(&log);
	json_decref(fl);
}

static const char *board_state(const char *name, char *out, size_t n)
{
	char path[96];
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/boards/%s", name);
	out[0] = '\0';
	if (harness_call(&ctl, NULL, "GET", path, NULL, &j) == 200)
		snprintf(out, n, "%s", jstr(j, "state", ""));
	json_decref(j);
	return out;
}

/* SIGHUP: a bad agent file is refused and the agent runs on; a good one that
 * drops a board declares again and that board goes offline. */
static void test_sighup_redeclares(void **state)
{
	char path[400], *text, *p, st[32];
	long long end;
	FILE *f;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	text = xmalloc(8192);
	n = fread(text, 1, 8191, f);
	text[n] = '\0';
	fclose(f);
	put(path, "controller: http://127.0.0.1:1\nagent: lab-f\n"); /* no token, no boards */
	kill(agent_pid, SIGHUP);
	usleep(500 * 1000);
	assert_int_equal(kill(agent_pid, 0), 0);
	assert_string_equal(board_state("fake-cancel", st, sizeof(st)), "idle");
	p = strstr(text, ", fake-cancel.yaml");
	assert_non_null(p);
	memmove(p, p + strlen(", fake-cancel.yaml"), strlen(p + strlen(", fake-cancel.yaml")) + 1);
	put(path, text);
	free(text);
	kill(agent_pid, SIGHUP);
	end = harness_now_ms() + 10000;
	while (strcmp(board_state("fake-cancel", st, sizeof(st)), "offline") &&
	       harness_now_ms() < end)
		usleep(50 * 1000);
	assert_string_equal(st, "offline");
	assert_string_equal(board_state("fake-pass", st, sizeof(st)), "idle");
}

static void test_sigterm_stops_cleanly(void **state)
{
	int status = -1;
	long long end = harness_now_ms() + 15000;
	pid_t w = 0;

	(void)state;
	kill(agent_pid, SIGTERM);
	while (harness_now_ms() < end && (w = waitpid(agent_pid, &status, WNOHANG)) == 0)
		usleep(20 * 1000);
	assert_int_equal(w, agent_pid);
	agent_pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flight_verdicts_and_restart),
	    cmocka_unit_test(test_sighup_redeclares),
	    cmocka_unit_test(test_sigterm_stops_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
