/* The agent's overhead on a QEMU attempt (target <= 0.1 s), per arch
 * (BENCH_ARCHES, default "arm64 x86_64"): the same QEMU command
 * (power_qemu_argv of boards/qemu-ARCH.yaml) and the same boot script run by
 * hand, from exec to the console's XENCI-TESTS-DONE line, against a whole attempt
 * through the agent and a real controller (claimed_at to finished_at: staging from
 * the cache, netboot script, QEMU, judging, power off, log and result delivered).
 * Runs alternate (BENCH_RUNS, default 5); medians are reported, step by step:
 *   claim      the controller's claimed_at to the runner's start (the agent's log,
 *              wall clock)
 *   spool      the runner's start to its first note (the spool, the sender)
 *   staging    the first note to the boot script written (artifacts linked from the
 *              cache, the script)
 *   qemu       power-on to the console open (QEMU up, its socket connected; by
 *              hand: exec to connected)
 *   firmware   console open to the first console byte
 *   boot       the first console byte to XENCI-TESTS-DONE (the verdict)
 *   power off  the verdict to QEMU gone
 *   delivery   QEMU gone to the agent's "delivered" (the rest of the log, the
 *              result signed and posted)
 *   stored     "delivered" to the controller's finished_at
 * Needs build/hypervisor/ARCH/xen and build/payloads/ARCH (else it says so). */
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
#include "fs.h"
#include "json-util.h"
#include "xmalloc.h"
#include "../../lab-agent/agent-config.h"
#include "../../lab-agent/cache.h"
#include "../../lab-agent/console.h"
#include "../../lab-agent/netboot.h"
#include "../../lab-agent/power.h"
#include "../../lab-agent/runner.h"

#define MAX_RUNS 16

static const char *const names[] = {"xen", "dom0-kernel", "dom0-initrd"};
static struct harness_artifacts arts;
static struct harness_controller ctl;
static char agent_tok[128], builder_tok[128], agent_dir[400], agent_log[512];

/* the arch's console and boot arguments, as jobs/xen-smoke.yaml gives them */
struct arch_boot {
	const char *arch, *xen_args, *dom0_args, *firmware;
};
static const struct arch_boot boots[] = {
    {"arm64", "console=dtuart", "console=hvc0", "U-Boot"},
    {"x86_64", "console=com1 com1=115200,8n1", "console=hvc0 earlyprintk=xen", "iPXE"},
};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *in, int n)
{
	double v[MAX_RUNS];

	if (n <= 0)
		return -1;
	memcpy(v, in, (size_t)n * sizeof(*v));
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* By hand, seconds from exec: console connected, first byte, banner, dom0 up, done. */
enum { H_CONSOLE, H_FIRST, H_BANNER, H_DOM0, H_DONE, H_N };
static double hand[H_N][MAX_RUNS];
static int nhand;

/* Through the agent, seconds: the steps of the header comment, and the total. */
enum {
	A_CLAIM,
	A_SPOOL,
	A_STAGING,
	A_QEMU,
	A_FIRMWARE,
	A_BANNER, /* from power-on */
	A_DOM0,	  /* from power-on */
	A_BOOT,	  /* first byte to the verdict */
	A_OFF,
	A_DELIVERY,
	A_STORED,
	A_TOTAL,
	A_NOTBOOT, /* the total less power-on to the verdict, per attempt */
	A_N
};
static double agent[A_N][MAX_RUNS];
static int nagent;
static double requests[MAX_RUNS];
static int nrequests;

/* Seconds from t0 (ms) when what first shows in seen, looking only at the bytes
 * from `from` on (less what's length, for one cut by a read): the new ones. A scan
 * of everything read so far at every read cost this reader (and the QEMU beside it)
 * more than a second of a boot; -1 while it does not show. */
static double first_seen(const struct buf *seen, size_t from, const char *what, long long t0,
			 long long now, double prev)
{
	size_t n = strlen(what), at = from > n ? from - n : 0;

	if (prev >= 0 || !seen->data || !memmem(seen->data + at, seen->len - at, what, n))
		return prev;
	return (double)(now - t0) / 1000.0;
}

/* One boot by hand, exec → XENCI-TESTS-DONE; 0, or -1 on failure. */
static int by_hand(struct board *b, const json_t *attempt)
{
	char *xa = runner_boot_args(attempt, b, "xen_args");
	char *da = runner_boot_args(attempt, b, "dom0_args");
	struct netboot_vars v = {.xen = "xen",
				 .xen_args = xa,
				 .kernel = "dom0-kernel",
				 .kernel_args = da,
				 .initrd = "dom0-initrd",
				 .dom0 = 1};
	char err[512], buf[65536], *sock = xasprintf("%s/console.sock", b->run_dir);
	struct buf seen = BUF_INIT(0);
	double t[H_N] = {-1, -1, -1, -1, -1};
	char **argv;
	size_t argc;
	long long t0;
	int fd = -1, k, rc = -1;
	pid_t pid;

	mkdir_p(b->run_dir);
	mkdir_p(b->tftp_dir);
	for (k = 0; k < 3; k++) {
		char *dst = xasprintf("%s/%s", b->tftp_dir, names[k]);

		cache_stage(arts.path[k], dst, err, sizeof(err));
		free(dst);
	}
	if (b->netboot->write(b, &v, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		goto out;
	}
	unlink(sock);
	argv = power_qemu_argv(b, &argc);
	t0 = harness_now_ms();
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (console_connect_unix(sock, 10000, &fd, err, sizeof(err)) == 0) {
		ssize_t n;

		t[H_CONSOLE] = (double)(harness_now_ms() - t0) / 1000.0;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			long long now = harness_now_ms();

			size_t from = seen.len;

			if (t[H_FIRST] < 0)
				t[H_FIRST] = (double)(now - t0) / 1000.0;
			buf_append(&seen, buf, (size_t)n);
			t[H_BANNER] = first_seen(&seen, from, "Xen version", t0, now, t[H_BANNER]);
			t[H_DOM0] = first_seen(&seen, from, "XENCI-DOM0-UP", t0, now, t[H_DOM0]);
			if (first_seen(&seen, from, "XENCI-TESTS-DONE\n", t0, now, -1) >= 0 ||
			    first_seen(&seen, from, "XENCI-TESTS-DONE\r", t0, now, -1) >= 0) {
				t[H_DONE] = (double)(now - t0) / 1000.0;
				break;
			}
			if (seen.len > 64 * 1024)
				buf_consume(&seen, seen.len - 64);
		}
		close(fd);
	} else {
		fprintf(stderr, "bench: %s\n", err);
	}
	if (t[H_DONE] >= 0 && nhand < MAX_RUNS) {
		for (k = 0; k < H_N; k++)
			hand[k][nhand] = t[k];
		nhand++;
		rc = 0;
	}
	if (t[H_DONE] < 0 && seen.len)
		fprintf(stderr, "bench: no XENCI-TESTS-DONE in: ...%s\n",
			seen.data + (seen.len > 300 ? seen.len - 300 : 0));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	power_qemu_argv_free(argv);
out:
	buf_release(&seen);
	free(sock);
	free(xa);
	free(da);
	return rc;
}

/* The wall-clock ms of the agent's first log line holding "attempt ID: " then what
 * (its stderr, lib/log.c's "YYYY-MM-DDTHH:MM:SS.mmmZ ..."), or -1. */
static long long agent_line_ms(long long id, const char *what)
{
	struct buf text = BUF_INIT(0);
	char needle[128];
	const char *p, *line;
	long long ms = -1;

	snprintf(needle, sizeof(needle), "attempt %lld: %s", id, what);
	if (harness_read_file(&text, agent_dir, "agent.log") < 0) {
		buf_release(&text);
		return -1;
	}
	p = strstr(buf_cstr(&text), needle);
	if (p) {
		struct tm tm;
		int msec = 0;

		for (line = p; line > text.data && line[-1] != '\n'; line--)
			;
		memset(&tm, 0, sizeof(tm));
		if (sscanf(line, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec) == 7) {
			tm.tm_year -= 1900;
			tm.tm_mon -= 1;
			ms = (long long)timegm(&tm) * 1000 + msec;
		}
	}
	buf_release(&text);
	return ms;
}

/* The seconds of the first log line that starts, after its time, with what: "# power
 * on", "| " (a console line) ...; after the power-on note when after_on. -1: none. */
static double log_at(const char *log, const char *what, int after_on)
{
	const char *p;
	int on = 0;

	for (p = log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strlen(p) < 12)
			continue;
		if (!strncmp(p + 10, "# power on", 10))
			on = 1;
		if ((!after_on || on) && !strncmp(p + 10, what, strlen(what)))
			return strtod(p, NULL);
	}
	return -1;
}

/* The first console line holding what, after power-on; -1: none. */
static double log_line_with(const char *log, const char *what)
{
	const char *p, *e;
	int on = 0;

	for (p = log; p && *p; p = e ? e + 1 : NULL) {
		e = strchr(p, '\n');
		if (strlen(p) < 12)
			continue;
		if (!strncmp(p + 10, "# power on", 10))
			on = 1;
		if (on && p[10] == '|' && e && memmem(p, (size_t)(e - p), what, strlen(what)))
			return strtod(p, NULL);
	}
	return -1;
}

/* The steps of one attempt from its log, the agent's log and the controller's times. */
static void attempt_parts(const json_t *a)
{
	long long id = jint(a, "id", 0), claimed = jint(a, "claimed_at", 0);
	long long finished = jint(a, "finished_at", 0);
	long long started = agent_line_ms(id, "board "), ended = agent_line_ms(id, "pass");
	long long delivered = agent_line_ms(id, "delivered");
	struct buf log = BUF_INIT(0);
	char path[96];
	double first_note, script, con, first, verdict, off;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", id);
	if (harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &log) != 200) {
		buf_release(&log);
		return;
	}
	first_note = log_at(buf_cstr(&log), "# attempt ", 0);
	script = log_at(buf_cstr(&log), "# boot script written", 0);
	con = log_at(buf_cstr(&log), "# console open", 1);
	first = log_at(buf_cstr(&log), "| ", 1);
	verdict = log_at(buf_cstr(&log), "# verdict", 1);
	off = log_at(buf_cstr(&log), "# power off", 1);
	if (nagent < MAX_RUNS && started > 0 && delivered > 0 && first_note >= 0 && script >= 0 &&
	    con >= 0 && first >= 0 && verdict >= 0 && off >= 0) {
		double *v[A_N];
		int k;

		for (k = 0; k < A_N; k++)
			v[k] = &agent[k][nagent];
		*v[A_CLAIM] = (double)(started - claimed) / 1000.0;
		*v[A_SPOOL] = first_note; /* from the claim's reply: the runner's start is in it */
		*v[A_STAGING] = script - first_note;
		*v[A_QEMU] = con;
		*v[A_FIRMWARE] = first - con;
		*v[A_BANNER] = log_line_with(buf_cstr(&log), "Xen version");
		*v[A_DOM0] = log_line_with(buf_cstr(&log), "XENCI-DOM0-UP");
		*v[A_BOOT] = verdict - first;
		*v[A_OFF] = off - verdict;
		/* "attempt N: pass" is logged once QEMU is gone and the result spooled */
		*v[A_DELIVERY] = (double)(delivered - ended) / 1000.0;
		*v[A_STORED] = (double)(finished - delivered) / 1000.0;
		*v[A_TOTAL] = (double)(finished - claimed) / 1000.0;
		*v[A_NOTBOOT] = *v[A_TOTAL] - verdict;
		nagent++;
	} else {
		fprintf(stderr,
			"bench: attempt %lld: a step is missing (agent log %lld/%lld/%lld, notes "
			"%.3f %.3f %.3f %.3f %.3f %.3f)\n",
			id, started, ended, delivered, first_note, script, con, first, verdict,
			off);
	}
	buf_release(&log);
}

/* The controller's 2xx replies so far (/metrics). */
static long long replies_2xx(void)
{
	struct buf text = BUF_INIT(1 << 20);
	const char *p, *key = "xenci_http_responses{code=\"2xx\"} ";
	long long n = -1;

	if (harness_call_bytes(&ctl, NULL, "GET", "/metrics", NULL, NULL, 0, NULL, &text) == 200 &&
	    (p = strstr(buf_cstr(&text), key)) != NULL)
		n = strtoll(p + strlen(key), NULL, 10);
	buf_release(&text);
	return n;
}

/* One attempt through the agent; 0, or -1. */
static int via_agent(void)
{
	json_t *j = NULL, *a;
	char path[96];
	long long fid, end = harness_now_ms() + 300000, before, polls = 0;
	int done = 0;
	size_t i;

	static int n;
	char commit[41];

	/* a commit of its own: a flight at one built before would take that build */
	snprintf(commit, sizeof(commit), "22222222222222222222222222222222%08x", ++n);
	fid = harness_flight(&ctl, commit);
	if (fid <= 0 || harness_serve_builds(&ctl, builder_tok, "builder-b", &arts, 1, 1) != 1)
		return -1;
	before = replies_2xx();
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", fid);
	while (harness_now_ms() < end && !done) {
		j = NULL;
		harness_call(&ctl, NULL, "GET", path, NULL, &j);
		json_array_foreach (json_object_get(j, "attempts"), i, a) {
			const char *st = jstr(a, "state", "");

			if (strcmp(jstr(a, "kind", ""), "test"))
				continue;
			if (!strcmp(st, "pass")) {
				/* the agent logs "delivered" just after the controller's reply */
				usleep(200 * 1000);
				attempt_parts(a);
				done = 1;
			} else if (!strcmp(st, "fail") || !strcmp(st, "infra") ||
				   !strcmp(st, "timeout")) {
				fprintf(stderr, "bench: attempt %s: %s\n", st,
					jstr(a, "reason", ""));
				done = -1;
			}
		}
		json_decref(j);
		polls++;
		if (!done)
			usleep(50 * 1000);
	}
	/* the agent's requests during the attempt (claim, log, heartbeats, result):
	 * the 2xx replies less this loop's own GETs and the /metrics read */
	if (done > 0 && before >= 0 && nrequests < MAX_RUNS)
		requests[nrequests++] = (double)(replies_2xx() - before - polls - 1);
	return done > 0 ? 0 : -1;
}

static void report(const char *arch, int runs)
{
	double h_done = median(hand[H_DONE], nhand), total = median(agent[A_TOTAL], nagent);
	double notboot = median(agent[A_NOTBOOT], nagent);

	printf("agent qemu overhead (%s, %d runs each, alternating; load average %.1f): QEMU by "
	       "hand median %.3f s, one attempt through the agent median %.3f s, overhead %+.3f "
	       "s (target <= 0.1 s)\n",
	       arch, runs, harness_load_average(), h_done, total, total - h_done);
	printf("agent qemu overhead (%s), step by step (medians, s; by hand / through the agent "
	       "where both have it):\n"
	       "  claim (claimed_at to the runner)      %.3f\n"
	       "  spool (claim's reply to first note)   %.3f\n"
	       "  staging (artifacts, boot script)      %.3f\n"
	       "  qemu (exec/power-on to console open)  %.3f / %.3f\n"
	       "  firmware (console open to first byte) %.3f / %.3f\n"
	       "  boot (first byte to tests done)       %.3f / %.3f\n"
	       "    of which from exec/power-on: banner %.3f / %.3f, dom0 up %.3f / %.3f\n"
	       "  power off (verdict to QEMU gone)      %.3f\n"
	       "  delivery (to the result posted)       %.3f\n"
	       "  stored (to finished_at)               %.3f\n"
	       "  overhead = not boot (the total less power-on to the verdict) %.3f + boot "
	       "through the agent less by hand %+.3f\n",
	       arch, median(agent[A_CLAIM], nagent), median(agent[A_SPOOL], nagent),
	       median(agent[A_STAGING], nagent), median(hand[H_CONSOLE], nhand),
	       median(agent[A_QEMU], nagent),
	       median(hand[H_FIRST], nhand) - median(hand[H_CONSOLE], nhand),
	       median(agent[A_FIRMWARE], nagent),
	       median(hand[H_DONE], nhand) - median(hand[H_FIRST], nhand),
	       median(agent[A_BOOT], nagent), median(hand[H_BANNER], nhand),
	       median(agent[A_BANNER], nagent), median(hand[H_DOM0], nhand),
	       median(agent[A_DOM0], nagent), median(agent[A_OFF], nagent),
	       median(agent[A_DELIVERY], nagent), median(agent[A_STORED], nagent), notboot,
	       total - notboot - h_done);
	if (nrequests)
		printf("agent qemu overhead (%s): the agent's requests to the controller an "
		       "attempt (claim to result, 2xx) median %.0f\n",
		       arch, median(requests, nrequests));
}

static int bench_arch(const struct arch_boot *ab, int runs)
{
	const char *bd = harness_build_dir(), *root = harness_root();
	char dir[400], text[2048], agent_yaml[512], bpath[400], scratch[400];
	struct board b;
	struct check_env env = {0};
	struct buf errors = BUF_INIT(0);
	json_t *attempt;
	pid_t apid;
	int i, rc = -1;

	nhand = nagent = nrequests = 0;
	snprintf(scratch, sizeof(scratch), "%s/bench-scratch", bd);
	if (harness_prebuilt(&arts, ab->arch, scratch) < 0) {
		printf("agent qemu overhead (%s): skipped: not built (make hypervisor-build "
		       "payloads)\n",
		       ab->arch);
		return 0;
	}
	memset(&ctl, 0, sizeof(ctl));
	if (harness_controller_init(&ctl) < 0)
		return -1;
	snprintf(text, sizeof(text),
		 "name: xen-smoke\n"
		 "requires: {arch: [%s], tags: [qemu]}\n"
		 "timeout: 420\n"
		 "artifacts: [xen, dom0-kernel, dom0-initrd]\n"
		 "boot:\n"
		 "  xen_args: 'dom0_mem=512M,max:512M dom0_max_vcpus=1 loglvl=all "
		 "guest_loglvl=all %s'\n"
		 "  dom0_args: 'xenci.xen_version=${xen_version} "
		 "xenci.changeset=${changeset_arg} xenci.dom0_mem=512M %s'\n"
		 "stages:\n"
		 "  - {name: firmware, pattern: '%s', timeout: 60, on_timeout: infra}\n"
		 "  - {name: xen-banner, pattern: 'Xen version [0-9]', timeout: 90}\n"
		 "  - {name: dom0-up, pattern: 'XENCI-DOM0-UP', timeout: 150}\n"
		 "  - {name: tests-done, pattern: 'XENCI-TESTS-DONE', timeout: 60}\n"
		 "testcases: [tap]\n",
		 ab->arch, ab->xen_args, ab->dom0_args, ab->firmware);
	harness_write_file(ctl.jobs, "xen-smoke.yaml", text);
	ctl.http_timeout_ms = 120000;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "agent", "builder-b", builder_tok, sizeof(builder_tok)) < 0)
		goto out;
	snprintf(text, sizeof(text),
		 "{\"protocol\": 1, \"builder\": {\"arches\": [\"%s\"]}, \"boards\": []}",
		 ab->arch);
	harness_call(&ctl, builder_tok, "PUT", "/api/v1/agents/builder-b/boards", text, NULL);
	snprintf(dir, sizeof(dir), "%s/bench", ctl.dir);
	mkdir(dir, 0755);
	snprintf(bpath, sizeof(bpath), "%s/boards/qemu-%s.yaml", root, ab->arch);
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-b\ntoken: %s\nwork_dir: %s/work\nboards: [%s]\n"
		 "limits: {claim_wait_ms: 1000}\n",
		 ctl.url, agent_tok, dir, bpath);
	snprintf(agent_yaml, sizeof(agent_yaml), "%s/agent.yaml", dir);
	snprintf(agent_dir, sizeof(agent_dir), "%s", dir);
	snprintf(agent_log, sizeof(agent_log), "%s/agent.log", dir);
	harness_write_file(dir, "agent.yaml", text);
	{
		char bin[400];
		char *argv[] = {bin, agent_yaml, NULL};

		snprintf(bin, sizeof(bin), "%s/xenci-agent", bd);
		apid = harness_spawn(argv, agent_log);
	}
	snprintf(text, sizeof(text), "%s/hand", dir);
	env.work_dir = text;
	if (board_load(&b, bpath, &env, &errors) < 0) {
		fprintf(stderr, "%s", buf_cstr(&errors));
		goto stop;
	}
	snprintf(text, sizeof(text),
		 "{\"id\": 1, \"arch\": \"%s\", \"job\": {\"boot\": {\"xen_args\": "
		 "\"dom0_mem=512M,max:512M dom0_max_vcpus=1 loglvl=all guest_loglvl=all %s\", "
		 "\"dom0_args\": \"xenci.xen_version=${xen_version} "
		 "xenci.changeset=${changeset_arg} xenci.dom0_mem=512M %s\"}}}",
		 ab->arch, ab->xen_args, ab->dom0_args);
	attempt = json_loads(text, 0, NULL);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/hypervisor/%s/build-info.json", bd, ab->arch);
		json_object_set_new(attempt, "build_info", json_load_file(p, 0, NULL));
	}
	for (i = 0; i < runs; i++) {
		long long t = wall_ms();
		int h = by_hand(&b, attempt), a = via_agent();

		fprintf(stderr, "bench: %s run %d: by hand %s, through the agent %s (%.0f s)\n",
			ab->arch, i + 1, h == 0 ? "done" : "FAILED", a == 0 ? "done" : "FAILED",
			(double)(wall_ms() - t) / 1000.0);
	}
	if (nhand && nagent)
		report(ab->arch, runs);
	json_decref(attempt);
	board_release(&b);
	rc = 0;
stop:
	kill(apid, SIGTERM);
	waitpid(apid, NULL, 0);
out:
	buf_release(&errors);
	harness_controller_stop(&ctl);
	return rc;
}

int main(void)
{
	const char *env = getenv("BENCH_ARCHES"), *r = getenv("BENCH_RUNS");
	char *list = xstrdup(env && *env ? env : "arm64 x86_64"), *save = NULL, *w;
	int runs = r && atoi(r) > 0 ? atoi(r) : 5, rc = 0;
	size_t k;

	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	for (w = strtok_r(list, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		for (k = 0; k < sizeof(boots) / sizeof(boots[0]); k++)
			if (!strcmp(boots[k].arch, w) && bench_arch(&boots[k], runs) < 0)
				rc = 1;
	free(list);
	return rc;
}
