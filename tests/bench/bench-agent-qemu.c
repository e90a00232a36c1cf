/* The agent's overhead on a QEMU attempt (target <= 0.1 s): the same QEMU
 * command (power_qemu_argv of boards/qemu-arm64.yaml) and the same boot script
 * run by hand, from exec to the console's XENCI-TESTS-DONE line, against a
 * whole attempt through the agent and a real controller (claimed_at to
 * finished_at: staging from the cache, netboot script, QEMU, judging, power
 * off, log and result delivered). Runs alternate; medians are reported. Needs
 * build/hypervisor/arm64/xen and build/payloads/arm64 (else it says so). */
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
#include "fs.h"
#include "hash.h"
#include "json-util.h"
#include "xmalloc.h"
#include "../../lab-agent/agent-config.h"
#include "../../lab-agent/cache.h"
#include "../../lab-agent/console.h"
#include "../../lab-agent/netboot.h"
#include "../../lab-agent/power.h"
#include "../../lab-agent/runner.h"

#define RUNS 5

static const char *const names[] = {"xen", "dom0-kernel", "dom0-initrd"};
static char files[3][400];
static struct harness_controller ctl;
static char agent_tok[128], builder_tok[128], user_tok[128];

static const char boot_json[] =
    "{\"xen_args\": \"dom0_mem=512M dom0_max_vcpus=1 loglvl=all guest_loglvl=all\","
    " \"dom0_args\": \"xenci.xen_version=${xen_version} xenci.changeset=${changeset} "
    "xenci.dom0_mem=512M\","
    " \"arch\": {\"arm64\": {\"xen_args\": \"console=dtuart\", \"dom0_args\": "
    "\"console=hvc0\"}}}";

static const char job_yaml[] =
    "name: xen-smoke\n"
    "requires: {arch: [arm64], tags: [qemu]}\n"
    "timeout: 240\n"
    "artifacts: [xen, dom0-kernel, dom0-initrd]\n"
    "boot:\n"
    "  xen_args: 'dom0_mem=512M dom0_max_vcpus=1 loglvl=all guest_loglvl=all'\n"
    "  dom0_args: 'xenci.xen_version=${xen_version} xenci.changeset=${changeset} "
    "xenci.dom0_mem=512M'\n"
    "  arch: {arm64: {xen_args: 'console=dtuart', dom0_args: 'console=hvc0'}}\n"
    "stages:\n"
    "  - {name: firmware, pattern: 'U-Boot', timeout: 60, on_timeout: infra}\n"
    "  - {name: xen-banner, pattern: 'Xen version [0-9]', timeout: 90}\n"
    "  - {name: dom0-up, pattern: 'XENCI-DOM0-UP', timeout: 120}\n"
    "  - {name: tests-done, pattern: 'XENCI-TESTS-DONE', timeout: 60}\n"
    "testcases: [tap]\n";

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* By hand, from exec: the Xen banner, dom0 up, tests done (seconds). */
static double hand_banner[16], hand_dom0[16];
static int nhand;

/* Seconds from t0 (ms) to the first of the console's lines holding what, which
 * seen (len bytes) holds; -1 when it does not. */
static double first_seen(const struct buf *seen, const char *what, long long t0, long long now,
			 double prev)
{
	if (prev >= 0 || !seen->data || !memmem(seen->data, seen->len, what, strlen(what)))
		return prev;
	return (double)(now - t0) / 1000.0;
}

/* exec → XENCI-TESTS-DONE, in seconds; -1 on failure. */
static double by_hand(struct board *b, const json_t *attempt)
{
	char *xa = runner_boot_args(attempt, b->name, "xen_args");
	char *da = runner_boot_args(attempt, b->name, "dom0_args");
	struct netboot_vars v = {.xen = "xen",
				 .xen_args = xa,
				 .kernel = "dom0-kernel",
				 .kernel_args = da,
				 .initrd = "dom0-initrd",
				 .dom0 = 1};
	char err[512], buf[65536], *sock = xasprintf("%s/console.sock", b->run_dir);
	struct buf seen = BUF_INIT(0);
	char **argv;
	size_t argc;
	long long t0, t1 = -1;
	double banner = -1, dom0 = -1;
	int fd = -1, k;
	pid_t pid;

	mkdir_p(b->run_dir);
	mkdir_p(b->tftp_dir);
	for (k = 0; k < 3; k++) {
		char *dst = xasprintf("%s/%s", b->tftp_dir, names[k]);

		cache_stage(files[k], dst, err, sizeof(err));
		free(dst);
	}
	if (b->netboot->write(b, &v, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
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

		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			buf_append(&seen, buf, (size_t)n);
			banner = first_seen(&seen, "Xen version", t0, harness_now_ms(), banner);
			dom0 = first_seen(&seen, "XENCI-DOM0-UP", t0, harness_now_ms(), dom0);
			if (seen.data && (memmem(seen.data, seen.len, "XENCI-TESTS-DONE\n", 17) ||
					  memmem(seen.data, seen.len, "XENCI-TESTS-DONE\r", 17))) {
				t1 = harness_now_ms();
				break;
			}
			if (seen.len > 4 * 1024 * 1024)
				buf_consume(&seen, seen.len - 64);
		}
		close(fd);
	} else {
		fprintf(stderr, "bench: %s\n", err);
	}
	if (t1 >= 0 && nhand < 16) {
		hand_banner[nhand] = banner;
		hand_dom0[nhand++] = dom0;
	}
	if (t1 < 0 && seen.len)
		fprintf(stderr, "bench: no XENCI-TESTS-DONE in: ...%s\n",
			seen.data + (seen.len > 300 ? seen.len - 300 : 0));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	power_qemu_argv_free(argv);
	buf_release(&seen);
	free(sock);
	free(xa);
	free(da);
	return t1 < 0 ? -1 : (double)(t1 - t0) / 1000.0;
}

static void serve_build(void)
{
	json_t *j = NULL, *arts = json_object(), *res, *bi;
	char path[512], *body;
	int k;

	while (harness_call(&ctl, builder_tok, "POST", "/api/v1/agents/builder-b/claim",
			    "{\"boards\": [], \"build\": true, \"wait_ms\": 1000}", &j) != 200) {
		json_decref(j);
		j = NULL;
	}
	for (k = 0; k < 3; k++) {
		char hex[SHA256_HEX_LEN + 1];
		long long size = 0;
		struct http_client h;
		struct http_reply r;

		sha256_file(hex, files[k], &size);
		snprintf(path, sizeof(path), "/api/v1/artifacts/%s", hex);
		harness_http(&ctl, ctl.admin_token, &h);
		http_reply_init(&r);
		http_upload_file(&h, path, files[k], &r);
		http_reply_release(&r);
		http_client_release(&h);
		json_object_set_new(
		    arts, names[k],
		    json_pack("{s:s, s:I}", "sha256", hex, "size", (json_int_t)size));
	}
	snprintf(path, sizeof(path), "%s/hypervisor/arm64/build-info.json", harness_build_dir());
	bi = json_load_file(path, 0, NULL);
	res = json_pack("{s:s, s:o, s:o, s:i}", "verdict", "pass", "artifacts", arts, "build_info",
			bi ? bi : json_object(), "log_length", 0);
	body = json_dumps(res, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result",
		 jint(json_object_get(j, "attempt"), "id", 0));
	harness_call(&ctl, builder_tok, "POST", path, body, NULL);
	free(body);
	json_decref(res);
	json_decref(j);
}

static double pre_power[16], post_verdict[16], agent_banner[16], agent_dom0[16], agent_done[16],
    delivery[16];
static int nparts;

/* From the attempt's log: the seconds before power-on (claim, staging, netboot
 * script: its notes count from the claim) and from the verdict to power-off. */
static void log_parts(long long id, double total)
{
	struct http_client h;
	struct http_reply r;
	char path[96];
	const char *p, *e;
	double last_pre = 0, verdict = -1, off = -1, on = -1, banner = -1, dom0 = -1;
	int powered = 0;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", id);
	harness_http(&ctl, NULL, &h);
	http_reply_init(&r);
	if (http_request(&h, "GET", path, NULL, NULL, 0, NULL, &r) == 0 && r.body.data) {
		for (p = r.body.data; p && *p; p = e ? e + 1 : NULL) {
			double t = strtod(p, NULL);

			e = strchr(p, '\n');
			if (!strncmp(p + 10, "# power on", 10))
				powered = 1, on = t;
			else if (powered && banner < 0 && e &&
				 memmem(p, (size_t)(e - p), "Xen version", 11))
				banner = t;
			else if (powered && dom0 < 0 && e &&
				 memmem(p, (size_t)(e - p), "XENCI-DOM0-UP", 13))
				dom0 = t;
			else if (!powered)
				last_pre = t;
			else if (!strncmp(p + 10, "# verdict", 9))
				verdict = t;
			else if (!strncmp(p + 10, "# power off", 11))
				off = t;
		}
	}
	if (verdict >= 0 && off >= 0 && nparts < 16) {
		pre_power[nparts] = last_pre;
		agent_banner[nparts] = banner - on;
		agent_dom0[nparts] = dom0 - on;
		agent_done[nparts] = verdict - on;
		delivery[nparts] = total - off;
		post_verdict[nparts++] = off - verdict;
	}
	http_reply_release(&r);
	http_client_release(&h);
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

static double requests[16];
static int nrequests;

/* One attempt through the agent: claimed_at → finished_at, in seconds. */
static double via_agent(long long *fid_out)
{
	json_t *j = NULL, *a;
	char path[96];
	long long fid, end = harness_now_ms() + 240000, before, polls = 0;
	double secs = -1;
	size_t i;

	harness_call(
	    &ctl, ctl.admin_token, "POST", "/api/v1/flights",
	    "{\"tree\": \"xen\", \"commit\": \"2222222222222222222222222222222222222222\"}", &j);
	fid = jint(j, "id", 0);
	json_decref(j);
	*fid_out = fid;
	serve_build();
	before = replies_2xx();
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", fid);
	while (harness_now_ms() < end && secs < 0) {
		j = NULL;
		harness_call(&ctl, NULL, "GET", path, NULL, &j);
		json_array_foreach (json_object_get(j, "attempts"), i, a) {
			const char *st = jstr(a, "state", "");

			if (strcmp(jstr(a, "kind", ""), "test"))
				continue;
			if (!strcmp(st, "pass")) {
				secs =
				    (double)(jint(a, "finished_at", 0) - jint(a, "claimed_at", 0)) /
				    1000.0;
				log_parts(jint(a, "id", 0), secs);
			} else if (!strcmp(st, "fail") || !strcmp(st, "infra") ||
				   !strcmp(st, "timeout"))
				fprintf(stderr, "bench: attempt %s: %s\n", st,
					jstr(a, "reason", ""));
		}
		json_decref(j);
		polls++;
		if (secs < 0)
			usleep(50 * 1000);
	}
	/* the agent's requests during the attempt (claim, log, heartbeats, result):
	 * the 2xx replies less this loop's own GETs and the /metrics read */
	if (secs >= 0 && before >= 0 && nrequests < 16)
		requests[nrequests++] = (double)(replies_2xx() - before - polls - 1);
	return secs;
}

int main(void)
{
	const char *bd = harness_build_dir(), *root = harness_root();
	char dir[400], text[2048], agent_yaml[512], bpath[400];
	double hand[RUNS], agent[RUNS];
	struct board b;
	struct check_env env = {0};
	struct buf errors = BUF_INIT(0);
	json_t *attempt;
	pid_t apid;
	int i, k;

	snprintf(files[0], sizeof(files[0]), "%s/hypervisor/arm64/xen", bd);
	snprintf(files[1], sizeof(files[1]), "%s/payloads/arm64/dom0-kernel", bd);
	snprintf(files[2], sizeof(files[2]), "%s/payloads/arm64/dom0-initrd", bd);
	for (k = 0; k < 3; k++) {
		if (access(files[k], R_OK) < 0) {
			printf("agent qemu overhead: skipped: %s is not built (make "
			       "hypervisor-build payloads)\n",
			       files[k]);
			return 0;
		}
	}
	if (harness_controller_init(&ctl) < 0)
		return 1;
	harness_write_file(ctl.jobs, "xen-smoke.yaml", job_yaml);
	ctl.http_timeout_ms = 120000;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "agent", "builder-b", builder_tok, sizeof(builder_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return 1;
	harness_call(&ctl, builder_tok, "PUT", "/api/v1/agents/builder-b/boards",
		     "{\"protocol\": 1, \"builder\": {\"arches\": [\"arm64\"]}, \"boards\": []}",
		     NULL);
	snprintf(dir, sizeof(dir), "%s/bench", ctl.dir);
	mkdir(dir, 0755);
	snprintf(bpath, sizeof(bpath), "%s/boards/qemu-arm64.yaml", root);
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-b\ntoken: %s\nwork_dir: %s/work\nboards: [%s]\n"
		 "limits: {claim_wait_ms: 1000}\n",
		 ctl.url, agent_tok, dir, bpath);
	snprintf(agent_yaml, sizeof(agent_yaml), "%s/agent.yaml", dir);
	harness_write_file(dir, "agent.yaml", text);
	apid = fork();
	if (apid == 0) {
		char bin[400];
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 1);
		dup2(nul, 2);
		snprintf(bin, sizeof(bin), "%s/xenci-agent", bd);
		execl(bin, bin, agent_yaml, (char *)NULL);
		_exit(127);
	}
	snprintf(text, sizeof(text), "%s/hand", dir);
	env.work_dir = text;
	if (board_load(&b, bpath, &env, &errors) < 0) {
		fprintf(stderr, "%s", buf_cstr(&errors));
		return 1;
	}
	snprintf(text, sizeof(text), "{\"id\": 1, \"arch\": \"arm64\", \"job\": {\"boot\": %s}}",
		 boot_json);
	attempt = json_loads(text, 0, NULL);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/hypervisor/arm64/build-info.json", bd);
		json_object_set_new(attempt, "build_info", json_load_file(p, 0, NULL));
	}
	for (i = 0; i < RUNS; i++) {
		long long fid;

		hand[i] = by_hand(&b, attempt);
		agent[i] = via_agent(&fid);
		fprintf(stderr, "bench: run %d: by hand %.3f s, through the agent %.3f s\n", i + 1,
			hand[i], agent[i]);
	}
	{
		double mh = median(hand, RUNS), ma = median(agent, RUNS);

		printf("agent qemu overhead (arm64, %d runs each, alternating): QEMU by hand "
		       "median %.3f s, one attempt through the agent median %.3f s, overhead "
		       "%+.3f s (target <= 0.1 s)\n",
		       RUNS, mh, ma, ma - mh);
		if (nparts)
			printf("agent qemu overhead, the agent's own part (from its log, %d "
			       "attempts): claim to power-on (staging from the cache, boot script) "
			       "median %.3f s, verdict to QEMU gone median %.3f s\n",
			       nparts, median(pre_power, nparts), median(post_verdict, nparts));
		if (nrequests)
			printf("agent qemu overhead: the agent's requests to the controller an "
			       "attempt "
			       "(claim to result, 2xx) median %.0f\n",
			       median(requests, nrequests));
		if (nparts && nhand)
			printf(
			    "agent qemu overhead, part by part (medians, s): from QEMU's start, "
			    "the Xen banner by hand %.3f / through the agent %.3f, dom0 up %.3f / "
			    "%.3f, tests done %.3f / %.3f; before power-on %.3f, verdict to QEMU "
			    "gone %.3f, QEMU gone to the result stored %.3f\n",
			    median(hand_banner, nhand), median(agent_banner, nparts),
			    median(hand_dom0, nhand), median(agent_dom0, nparts), mh,
			    median(agent_done, nparts), median(pre_power, nparts),
			    median(post_verdict, nparts), median(delivery, nparts));
	}
	kill(apid, SIGTERM);
	waitpid(apid, NULL, 0);
	json_decref(attempt);
	board_release(&b);
	buf_release(&errors);
	harness_controller_stop(&ctl);
	return 0;
}
