/* Agent benchmarks (figures, not pass/fail), against a real controller and four
 * fake boards streaming their consoles at about 115,200 baud (11.5 KB/s each):
 *   - the agent's RSS idle with 4 boards, and while streaming 4 consoles
 *   - CPU per console while streaming
 *   - console byte → controller latency: the fake board notes the wall-clock
 *     time before it sends a marker line; a poller reads the controller's log
 *     every 5 ms and notes when the marker arrived (target ≤ 250 ms). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"
#include "xmalloc.h"

#define NB	   4
#define LINES	   1200 /* about 10 s at 115,200 baud */
#define MARK_EVERY 40
#define NMARKS	   (LINES / MARK_EVERY)

static struct harness_controller ctl;
static char dir[300];
static pid_t board_pid[NB], agent_pid;

static const char job[] = "name: bench-stream\n"
			  "requires: {arch: [x86_64], tags: [bench]}\n"
			  "timeout: 120\n"
			  "stages:\n"
			  "  - {name: firmware, pattern: 'FAKE-FW', timeout: 10}\n"
			  "  - {name: done, pattern: 'BENCH-DONE', timeout: 100}\n";

static int read_int_file(const char *path, int wait_ms)
{
	long long end = harness_now_ms() + wait_ms;

	while (harness_now_ms() < end) {
		FILE *f = fopen(path, "r");
		int v = 0;

		if (f) {
			int ok = fscanf(f, "%d", &v) == 1;

			fclose(f);
			if (ok && v > 0)
				return v;
		}
		usleep(20 * 1000);
	}
	return -1;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* PSS and private (USS) kB from smaps_rollup: RSS counts shared library pages
 * (libcrypto, libc, GnuTLS) that every process using them shares. */
static void pss_uss_kb(pid_t pid, long *pss, long *uss)
{
	char path[64], line[256];
	FILE *f;

	*pss = *uss = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Pss:", 4))
			*pss = strtol(line + 4, NULL, 10);
		else if (!strncmp(line, "Private_Clean:", 14) ||
			 !strncmp(line, "Private_Dirty:", 14))
			*uss += strtol(line + 14, NULL, 10);
	}
	if (f)
		fclose(f);
}

static long long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	/* after ")": state is field 3; utime 14, stime 15 */
	for (i = 3; p && i <= 13; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	char py[400], path[512], text[4096], agent_tok[128], user_tok[128];
	struct buf boards = BUF_INIT(0), log = BUF_INIT(0);
	double rss_idle[10], rss_stream[64], lat[NMARKS + 1], seen[NMARKS + 1];
	long pss_idle = 0, uss_idle = 0, pss_stream = 0, uss_stream = 0;
	int i, k, nidle = 0, nstream = 0, nlat = 0, rc = 1;
	long long attempt0 = 0, t_start, t_end, c_start, c_end, logged = 0;

	if (harness_controller_init(&ctl) < 0)
		return 1;
	harness_write_file(ctl.jobs, "bench-stream.yaml", job);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/bench", ctl.dir);
	mkdir(dir, 0755);
	snprintf(py, sizeof(py), "%s/tests/fake-board/fake-board.py", harness_root());
	for (i = 0; i < NB; i++) {
		char st[340], pf[400], lf[400];
		char *argv[] = {"/usr/bin/python3", py, "--state", st, "--port-file", pf, NULL};
		struct buf s = BUF_INIT(0);
		FILE *f;
		int port;

		snprintf(st, sizeof(st), "%s/b%d", dir, i);
		mkdir(st, 0755);
		snprintf(pf, sizeof(pf), "%s/port", st);
		snprintf(lf, sizeof(lf), "%s/log", st);
		/* 96 characters and "\r\n" every 8.5 ms: about 11.5 KB/s, 115,200 baud */
		buf_puts(&s, "line FAKE-FW\n");
		for (k = 1; k <= LINES; k++) {
			if (k % MARK_EVERY == 0)
				buf_printf(&s, "mark %d\nline LAT-%04d %085d\n", k / MARK_EVERY,
					   k / MARK_EVERY, 0);
			else
				buf_printf(&s, "line %04d %091d\n", k, k);
			buf_puts(&s, "sleep 8\n");
		}
		buf_puts(&s, "line BENCH-DONE\n");
		snprintf(path, sizeof(path), "%s/script", st);
		f = fopen(path, "w");
		fputs(buf_cstr(&s), f);
		fclose(f);
		buf_release(&s);
		board_pid[i] = harness_spawn(argv, lf);
		port = read_int_file(pf, 5000);
		if (port < 0)
			goto out;
		snprintf(text, sizeof(text),
			 "name: bench-%d\narch: x86_64\nclass: fake\ntags: [bench]\n"
			 "power: {backend: command, on: 'echo on > %s/power', off: 'echo off > "
			 "%s/power'}\n"
			 "console: {backend: tcp, host: 127.0.0.1, port: %d}\n"
			 "netboot: {backend: ipxe}\n",
			 i, st, st, port);
		snprintf(path, sizeof(path), "%s/bench-%d.yaml", dir, i);
		f = fopen(path, "w");
		fputs(text, f);
		fclose(f);
		buf_printf(&boards, "%sbench-%d.yaml", i ? ", " : "", i);
	}
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-b\ntoken: %s\nwork_dir: %s/work\nboards: [%s]\n"
		 "limits: {claim_wait_ms: 5000}\n",
		 ctl.url, agent_tok, dir, buf_cstr(&boards));
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	{
		FILE *f = fopen(path, "w");
		char bin[400], lf[400];
		char *argv[] = {bin, path, NULL};

		fputs(text, f);
		fclose(f);
		snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
		snprintf(lf, sizeof(lf), "%s/agent.log", dir);
		agent_pid = harness_spawn(argv, lf);
	}
	while (harness_call(&ctl, NULL, "GET", "/api/v1/boards/bench-3", NULL, NULL) != 200)
		usleep(50 * 1000);
	sleep(1);
	for (i = 0; i < 10; i++) {
		rss_idle[nidle++] = (double)rss_kb(agent_pid);
		usleep(100 * 1000);
	}

	pss_uss_kb(agent_pid, &pss_idle, &uss_idle);
	{
		struct http_client h;
		struct http_reply r;
		static const char body[] = "{\"tree\": \"xen\", \"commit\": "
					   "\"1111111111111111111111111111111111111111\"}";

		harness_http(&ctl, ctl.admin_token, &h);
		http_reply_init(&r);
		http_request(&h, "POST", "/api/v1/flights", "application/json", body,
			     sizeof(body) - 1, NULL, &r);
		http_reply_release(&r);
		http_client_release(&h);
	}
	/* the attempt of bench-0, once it streams */
	while (attempt0 == 0) {
		json_t *j = NULL;

		if (harness_call(&ctl, NULL, "GET", "/api/v1/attempts?board=bench-0", NULL, &j) ==
		    200)
			attempt0 = jint(json_array_get(json_object_get(j, "attempts"), 0), "id", 0);
		json_decref(j);
		usleep(20 * 1000);
	}
	for (k = 0; k <= NMARKS; k++)
		seen[k] = 0;
	t_start = harness_now_ms();
	c_start = cpu_ticks(agent_pid);
	t_end = t_start;
	c_end = c_start;
	/* poll the controller's copy of bench-0's log for the markers */
	for (;;) {
		char p[128];
		const char *s;
		size_t from = log.len;
		long long now = harness_now_ms();
		double w;

		snprintf(p, sizeof(p), "/api/v1/attempts/%lld/log?offset=%lld", attempt0, logged);
		if (harness_call_bytes(&ctl, NULL, "GET", p, NULL, NULL, 0, NULL, &log) != 200) {
			fprintf(stderr, "bench: GET %s failed\n", p);
			break;
		}
		w = wall_s();
		logged = (long long)log.len;
		for (s = log.data ? log.data + (from > 12 ? from - 12 : 0) : NULL;
		     s && (s = strstr(s, "LAT-")) != NULL; s += 4) {
			int m = atoi(s + 4);

			if (m > 0 && m <= NMARKS && seen[m] == 0)
				seen[m] = w;
		}
		if (now - t_start > 1000 && now - t_start < 9000 && nstream < 64 &&
		    (now - t_start) / 250 > nstream) {
			rss_stream[nstream++] = (double)rss_kb(agent_pid);
			if (nstream == 16)
				pss_uss_kb(agent_pid, &pss_stream, &uss_stream);
		}
		if (now - t_start <= 9000) {
			t_end = now;
			c_end = cpu_ticks(agent_pid);
		}
		if (log.data && strstr(log.data, "verdict "))
			break;
		if (now - t_start > 60000)
			break;
		usleep(5 * 1000);
	}
	if (getenv("XENCI_VERBOSE"))
		fprintf(stderr, "bench: attempt %lld, %zu log bytes\n", attempt0, log.len);
	for (k = 1; k <= NMARKS; k++) {
		snprintf(path, sizeof(path), "%s/b0/mark-%d", dir, k);
		{
			FILE *f = fopen(path, "r");
			double t0;

			if (f && fscanf(f, "%lf", &t0) == 1 && seen[k] > 0)
				lat[nlat++] = (seen[k] - t0) * 1000.0;
			if (f)
				fclose(f);
		}
	}
	{
		double cpu = (double)(c_end - c_start) / (double)sysconf(_SC_CLK_TCK);
		double secs = (double)(t_end - t_start) / 1000.0;
		double lmax = 0;

		for (k = 0; k < nlat; k++)
			lmax = lat[k] > lmax ? lat[k] : lmax;
		printf(
		    "agent: RSS idle with %d boards: median %.0f kB (PSS %ld kB, private %ld kB; "
		    "target <= 5120 kB)\n",
		    NB, median(rss_idle, nidle), pss_idle, uss_idle);
		printf("agent: RSS streaming %d consoles: median %.0f kB (PSS %ld kB, private %ld "
		       "kB)\n",
		       NB, median(rss_stream, nstream), pss_stream, uss_stream);
		printf("agent: CPU per console at ~115,200 baud (11.5 KB/s): %.2f%% of one core "
		       "(%.2f s CPU over %.1f s, %d consoles)\n",
		       secs > 0 ? 100.0 * cpu / secs / NB : 0, cpu, secs, NB);
		printf(
		    "agent: console byte -> controller latency: median %.1f ms, max %.1f ms over "
		    "%d markers (target <= 250 ms)\n",
		    median(lat, nlat), lmax, nlat);
	}
	rc = 0;
out:
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, NULL, 0);
	}
	for (i = 0; i < NB; i++) {
		if (board_pid[i] > 0) {
			kill(board_pid[i], SIGKILL);
			waitpid(board_pid[i], NULL, 0);
		}
	}
	harness_controller_stop(&ctl);
	buf_release(&boards);
	buf_release(&log);
	return rc;
}
