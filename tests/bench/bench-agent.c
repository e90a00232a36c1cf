/* Agent benchmarks (figures, not pass/fail), against a real controller and 4,
 * then 32 fake boards streaming their consoles at about 115,200 baud (11.5 KB/s
 * each), a fresh controller and agent for each count (BENCH_AGENT_BOARDS="4 32"):
 *   - the agent's RSS, PSS and private memory idle, and while every console streams
 *     (targets: PSS <= 5 MB with 4 boards, <= 0.5 MB more per added board)
 *   - the agent's CPU while every console streams (target with 32: <= 10 % of one
 *     core), measured once every board's attempt runs
 *   - console byte → controller latency: the fake board notes the wall-clock
 *     time before it sends a marker line; a poller reads the controller's log
 *     every 5 ms and notes when the marker arrived (target ≤ 250 ms). */
#include <dirent.h>
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

#define MAX_NB	   64
#define LINES	   1200 /* about 10 s at 115,200 baud */
#define MARK_EVERY 40
#define NMARKS	   (LINES / MARK_EVERY)

static struct harness_controller ctl;
static char dir[300];
static pid_t board_pid[MAX_NB], agent_pid;

static const char job[] = "name: bench-stream\n"
			  "requires: {arch: [x86_64], tags: [bench]}\n"
			  "timeout: 120\n"
			  "stages:\n"
			  "  - {name: firmware, pattern: 'FAKE-FW', timeout: 10}\n"
			  "  - {name: done, pattern: 'BENCH-DONE', timeout: 100}\n";

/* A number field of /proc/PID/status ("VmRSS:" in kB, "Threads:"), or -1. */
static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	if (f)
		fclose(f);
	return v;
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

/* The nanoseconds every live thread of pid ran (/proc/PID/task/TID/schedstat: the
 * scheduler's own count, where utime and stime are sampled at the tick and miss
 * threads that run briefly between ticks). -1 when it cannot be read. */
static long long run_ns(pid_t pid)
{
	char path[96];
	DIR *d;
	struct dirent *e;
	long long total = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char p[400];
		long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		f = fopen(p, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%lld", &ns) == 1)
			total += ns;
		fclose(f);
	}
	closedir(d);
	return total;
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

struct figures {
	int nb;
	double rss_idle, rss_stream;
	long pss_idle, uss_idle, pss_stream, uss_stream;
	double cpu_s, run_s, secs, kbytes;
	double lat_median, lat_max;
	int nlat, threads;
};

/* The attempts of flight fid in state running; the log bytes the controller
 * holds of them all into *bytes (when not NULL). */
static int running_attempts(long long fid, long long *bytes)
{
	char p[64];
	json_t *j = NULL, *a;
	size_t i;
	int n = 0;

	snprintf(p, sizeof(p), "/api/v1/flights/%lld", fid);
	if (bytes)
		*bytes = 0;
	if (harness_call(&ctl, NULL, "GET", p, NULL, &j) == 200)
		json_array_foreach (json_object_get(j, "attempts"), i, a) {
			n += !strcmp(jstr(a, "state", ""), "running");
			if (bytes)
				*bytes += jint(a, "log_length", 0);
		}
	json_decref(j);
	return n;
}

/* One agent with nb fake boards, each streaming its console: the figures into *fig.
 * 0, or -1 when the lab did not come up. */
static int bench(int nb, struct figures *fig)
{
	char path[512], text[4096], agent_tok[128];
	struct buf boards = BUF_INIT(0), log = BUF_INIT(0);
	double rss_idle[10], rss_stream[64], lat[NMARKS + 1], seen[NMARKS + 1];
	int i, k, nidle = 0, nstream = 0, nlat = 0, rc = -1;
	long long attempt0 = 0, fid = 0, b_start = 0, b_end = 0, ns_start, ns_end, t_start, t_end,
		  c_start, c_end, logged = 0;

	memset(fig, 0, sizeof(*fig));
	fig->nb = nb;
	agent_pid = 0;
	memset(board_pid, 0, sizeof(board_pid));
	memset(&ctl, 0, sizeof(ctl));
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "bench-stream.yaml", job);
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", agent_tok, sizeof(agent_tok)) < 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/bench", ctl.dir);
	mkdir(dir, 0755);
	for (i = 0; i < nb; i++) {
		char st[340];
		struct buf s = BUF_INIT(0);
		FILE *f;
		int port;

		snprintf(st, sizeof(st), "%s/b%d", dir, i);
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
		port = harness_fake_board(st, buf_cstr(&s), &board_pid[i]);
		buf_release(&s);
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
	snprintf(path, sizeof(path), "/api/v1/boards/bench-%d", nb - 1);
	while (harness_call(&ctl, NULL, "GET", path, NULL, NULL) != 200)
		usleep(50 * 1000);
	sleep(1);
	for (i = 0; i < 10; i++) {
		rss_idle[nidle++] = (double)status_field(agent_pid, "VmRSS:");
		usleep(100 * 1000);
	}
	pss_uss_kb(agent_pid, &fig->pss_idle, &fig->uss_idle);
	{
		json_t *j = NULL;

		harness_call(
		    &ctl, ctl.admin_token, "POST", "/api/v1/flights",
		    "{\"tree\": \"xen\", \"commit\": \"1111111111111111111111111111111111111111\"}",
		    &j);
		fid = jint(j, "id", 0);
		json_decref(j);
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
	/* CPU counts once every board streams */
	for (k = 0; k < 500 && running_attempts(fid, NULL) < nb; k++)
		usleep(20 * 1000);
	if (k == 500)
		fprintf(stderr, "bench: %d boards: only %d attempts run\n", nb,
			running_attempts(fid, NULL));
	for (k = 0; k <= NMARKS; k++)
		seen[k] = 0;
	running_attempts(fid, &b_start);
	t_start = harness_now_ms();
	c_start = cpu_ticks(agent_pid);
	ns_start = run_ns(agent_pid);
	ns_end = ns_start;
	b_end = b_start;
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
		if (now - t_start > 500 && now - t_start < 6000 && nstream < 64 &&
		    (now - t_start) / 250 > nstream) {
			rss_stream[nstream++] = (double)status_field(agent_pid, "VmRSS:");
			if (nstream == 12) {
				pss_uss_kb(agent_pid, &fig->pss_stream, &fig->uss_stream);
				fig->threads = (int)status_field(agent_pid, "Threads:");
			}
		}
		/* 6 s while every console streams (each plays about 10 s) */
		if (now - t_start <= 6000 && now - t_end >= 500 &&
		    !(log.data && strstr(log.data, "BENCH-DONE"))) {
			t_end = now;
			c_end = cpu_ticks(agent_pid);
			ns_end = run_ns(agent_pid);
			running_attempts(fid, &b_end);
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
	fig->cpu_s = (double)(c_end - c_start) / (double)sysconf(_SC_CLK_TCK);
	fig->run_s = (double)(ns_end - ns_start) / 1e9;
	fig->secs = (double)(t_end - t_start) / 1000.0;
	fig->kbytes = (double)(b_end - b_start) / 1000.0;
	for (k = 0; k < nlat; k++)
		fig->lat_max = lat[k] > fig->lat_max ? lat[k] : fig->lat_max;
	fig->nlat = nlat;
	fig->lat_median = median(lat, nlat);
	fig->rss_idle = median(rss_idle, nidle);
	fig->rss_stream = median(rss_stream, nstream);
	rc = 0;
out:
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, NULL, 0);
	}
	for (i = 0; i < nb; i++) {
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

int main(void)
{
	const char *env = getenv("BENCH_AGENT_BOARDS");
	struct figures fig[8];
	int n = 0, i;
	char *list = xstrdup(env && *env ? env : "4 32"), *save = NULL, *w;

	for (w = strtok_r(list, " ,", &save); w && n < 8; w = strtok_r(NULL, " ,", &save)) {
		int nb = atoi(w);
		struct figures *f = &fig[n];

		if (nb < 1 || nb > MAX_NB) {
			fprintf(stderr, "bench-agent: %s boards: 1 to %d\n", w, MAX_NB);
			free(list);
			return 2;
		}
		if (bench(nb, f) < 0) {
			free(list);
			return 1;
		}
		n++;
		printf("agent, %d boards: RSS idle %.0f kB (PSS %ld kB, private %ld kB), streaming "
		       "%.0f kB (PSS %ld kB, private %ld kB, %d threads) (target: PSS <= 5120 kB "
		       "with 4 boards)\n",
		       nb, f->rss_idle, f->pss_idle, f->uss_idle, f->rss_stream, f->pss_stream,
		       f->uss_stream, f->threads);
		printf(
		    "agent, %d boards streaming at ~115,200 baud (11.5 KB/s each): CPU %.2f%% of "
		    "one core (%.3f s run over %.1f s, the threads' schedstat; %.3f%% a console; "
		    "utime+stime %.2f s) (target with 32: <= 10%%); the consoles gave %.1f KB/s "
		    "each, %.1f ms CPU per 100 KB, so %.2f%% of a core at 11.5 KB/s each; load "
		    "average %.1f\n",
		    nb, f->secs > 0 ? 100.0 * f->run_s / f->secs : 0, f->run_s, f->secs,
		    f->secs > 0 ? 100.0 * f->run_s / f->secs / nb : 0, f->cpu_s,
		    f->secs > 0 ? f->kbytes / f->secs / nb : 0,
		    f->kbytes > 0 ? 1000.0 * f->run_s / (f->kbytes / 100.0) : 0,
		    f->kbytes > 0 ? 100.0 * f->run_s / f->kbytes * 11.5 * nb : 0,
		    harness_load_average());
		printf("agent, %d boards: console byte -> controller latency: median %.1f ms, max "
		       "%.1f ms over %d markers (target <= 250 ms)\n",
		       nb, f->lat_median, f->lat_max, f->nlat);
	}
	for (i = 1; i < n; i++)
		if (fig[i].nb != fig[0].nb)
			printf(
			    "agent: PSS per added board (%d -> %d boards): idle %.0f kB, streaming "
			    "%.0f kB (target <= 512 kB)\n",
			    fig[0].nb, fig[i].nb,
			    (double)(fig[i].pss_idle - fig[0].pss_idle) / (fig[i].nb - fig[0].nb),
			    (double)(fig[i].pss_stream - fig[0].pss_stream) /
				(fig[i].nb - fig[0].nb));
	free(list);
	return 0;
}
