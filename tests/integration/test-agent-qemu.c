/* The qemu power and console backends with the ipxe (x86_64) and uboot (arm64)
 * netboot backends, end to end: a real controller, the agent with the demo
 * board files (boards/qemu-*.yaml), and this test acting as the builder that
 * uploads Xen (build/hypervisor/ARCH) and the dom0 payloads
 * (build/payloads/ARCH, from hypervisor/payloads.sh). Both boards must netboot
 * real Xen and dom0 and pass. Then the agent is SIGKILLed mid-boot: its QEMU
 * must not outlive it, and the restarted agent must end that attempt as infra
 * from its spool. Skipped (with the reason) when Xen or the payloads are not
 * built. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
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
#include "hash.h"
#include "json-util.h"
#include "xmalloc.h"

#define COMMIT "fedcba9876543210fedcba9876543210fedcba98"

static const char *const arches[] = {"x86_64", "arm64"};
static const char *const art_names[] = {"xen", "dom0-kernel", "dom0-initrd"};

static struct harness_controller ctl;
static char agent_tok[128], builder_tok[128], user_tok[128];
static char dir[300], agent_yaml[400];
static char art_path[2][3][400];
static pid_t agent_pid;
static int ctl_running, have_payloads;

static const char job_smoke[] =
    "name: xen-smoke\n"
    "requires: {arch: [x86_64, arm64], tags: [qemu]}\n"
    "timeout: 240\n"
    "artifacts: [xen, dom0-kernel, dom0-initrd]\n"
    "boot:\n"
    "  xen_args: 'dom0_mem=512M dom0_max_vcpus=1 loglvl=all guest_loglvl=all'\n"
    "  dom0_args: 'xenci.xen_version=${xen_version} xenci.changeset=${changeset} "
    "xenci.dom0_mem=512M'\n"
    "  arch:\n"
    "    x86_64: {xen_args: 'console=com1 com1=115200,8n1', dom0_args: 'console=hvc0 "
    "earlyprintk=xen'}\n"
    "    arm64: {xen_args: 'console=dtuart', dom0_args: 'console=hvc0'}\n"
    "stages:\n"
    "  - {name: firmware, pattern: 'iPXE|U-Boot', timeout: 60, on_timeout: infra}\n"
    "  - {name: xen-banner, pattern: 'Xen version [0-9]', timeout: 90}\n"
    "  - {name: dom0-up, pattern: 'XENCI-DOM0-UP', timeout: 120}\n"
    "  - {name: tests-done, pattern: 'XENCI-TESTS-DONE', timeout: 60}\n"
    "failures:\n"
    "  - {name: xen-panic, pattern: 'Panic on CPU'}\n"
    "  - {name: linux-panic, pattern: 'Kernel panic'}\n"
    "  - {name: reset-loop, pattern: 'Platform reset did not work properly'}\n"
    "testcases: [tap]\n";

static pid_t spawn_agent(void)
{
	char bin[400], logf[400];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
	snprintf(logf, sizeof(logf), "%s/agent.log", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "-v", agent_yaml, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The payloads: build/payloads/ARCH, else hypervisor/payloads.sh into our dir. */
static int find_artifacts(void)
{
	const char *b = harness_build_dir(), *root = harness_root();
	int a, k;

	for (a = 0; a < 2; a++) {
		char pd[360];

		snprintf(pd, sizeof(pd), "%s/payloads/%s/dom0-kernel", b, arches[a]);
		if (access(pd, R_OK) == 0) {
			snprintf(pd, sizeof(pd), "%s/payloads/%s", b, arches[a]);
		} else {
			char script[400], out[64];
			char *argv[] = {script, (char *)arches[a], pd, NULL};

			snprintf(script, sizeof(script), "%s/hypervisor/payloads.sh", root);
			snprintf(pd, sizeof(pd), "%s/payloads-%s", dir, arches[a]);
			if (access(script, X_OK) < 0 || harness_run(argv, out, sizeof(out)) != 0) {
				fprintf(stderr, "skipped: no dom0 payloads for %s (%s failed)\n",
					arches[a], script);
				return -1;
			}
		}
		snprintf(art_path[a][0], sizeof(art_path[a][0]), "%s/hypervisor/%s/xen", b,
			 arches[a]);
		snprintf(art_path[a][1], sizeof(art_path[a][1]), "%s/dom0-kernel", pd);
		snprintf(art_path[a][2], sizeof(art_path[a][2]), "%s/dom0-initrd", pd);
		for (k = 0; k < 3; k++) {
			if (access(art_path[a][k], R_OK) < 0) {
				fprintf(stderr,
					"skipped: %s is not built (make hypervisor-build)\n",
					art_path[a][k]);
				return -1;
			}
		}
	}
	return 0;
}

static int setup(void **state)
{
	char text[2048];
	const char *root = harness_root();
	FILE *f;

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/agent", ctl.dir);
	mkdir(dir, 0755);
	have_payloads = find_artifacts() == 0;
	ctl.extra_config = "max_attempts: 1\nunhealthy_streak: 100\n";
	harness_write_file(ctl.jobs, "xen-smoke.yaml", job_smoke);
	ctl.http_timeout_ms = 120000;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-q", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "agent", "builder-q", builder_tok, sizeof(builder_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	ctl_running = 1;
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-q\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [%s/boards/qemu-x86_64.yaml, %s/boards/qemu-arm64.yaml]\n"
		 "limits: {claim_wait_ms: 1000, heartbeat_s: 2}\n",
		 ctl.url, agent_tok, dir, root, root);
	snprintf(agent_yaml, sizeof(agent_yaml), "%s/agent.yaml", dir);
	f = fopen(agent_yaml, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	return 0;
}

/* Processes whose command line names our work folder: QEMUs the agent started. */
static int count_qemus(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char want[320];
	int n = 0;

	snprintf(want, sizeof(want), "%s/work/boards/", dir);
	while (d && (e = readdir(d)) != NULL) {
		char p[300], cmd[8192];
		ssize_t len, i;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (i = 0; i < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[len] = '\0';
		if (strstr(cmd, "qemu-system") && strstr(cmd, want))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int teardown(void **state)
{
	int status;

	(void)state;
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, &status, 0);
		agent_pid = 0;
	}
	if (getenv("XENCI_VERBOSE")) {
		char p[400], line[1024];
		FILE *f;

		snprintf(p, sizeof(p), "%s/agent.log", dir);
		f = fopen(p, "r");
		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "  agent| %s", line);
		if (f)
			fclose(f);
	}
	if (ctl_running)
		harness_controller_stop(&ctl);
	return 0;
}

static void test_check_demo_boards(void **state)
{
	char bin[400], b1[400], b2[400], out[256];
	char *argv[] = {bin, "--check", b1, b2, NULL};

	(void)state;
	snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
	snprintf(b1, sizeof(b1), "%s/boards/qemu-x86_64.yaml", harness_root());
	snprintf(b2, sizeof(b2), "%s/boards/qemu-arm64.yaml", harness_root());
	assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "2 files OK"));
}

/* Plays the builder: claims the flight's builds and "builds" them by uploading
 * the prepared artifacts. Returns how many builds it finished. */
static int serve_builds(int want)
{
	long long end = harness_now_ms() + 30000;
	int done = 0, a, k;

	while (done < want && harness_now_ms() < end) {
		json_t *j = NULL, *att, *arts, *res, *bi;
		char path[128], *body;
		long long id;
		const char *arch;

		if (harness_call(&ctl, builder_tok, "POST", "/api/v1/agents/builder-q/claim",
				 "{\"boards\": [], \"build\": true, \"wait_ms\": 1000}",
				 &j) != 200) {
			json_decref(j);
			continue;
		}
		att = json_object_get(j, "attempt");
		id = jint(att, "id", 0);
		arch = jstr(att, "arch", "");
		a = !strcmp(arch, "arm64");
		arts = json_object();
		for (k = 0; k < 3; k++) {
			char hex[SHA256_HEX_LEN + 1];
			long long size = 0;
			struct http_client h;
			struct http_reply r;

			assert_int_equal(sha256_file(hex, art_path[a][k], &size), 0);
			snprintf(path, sizeof(path), "/api/v1/artifacts/%s", hex);
			harness_http(&ctl, ctl.admin_token, &h);
			h.timeout_ms = 120000;
			http_reply_init(&r);
			assert_int_equal(http_upload_file(&h, path, art_path[a][k], &r), 0);
			assert_true(r.status == 200 || r.status == 201);
			http_reply_release(&r);
			http_client_release(&h);
			json_object_set_new(
			    arts, art_names[k],
			    json_pack("{s:s, s:I}", "sha256", hex, "size", (json_int_t)size));
		}
		snprintf(path, sizeof(path), "%s/hypervisor/%s/build-info.json",
			 harness_build_dir(), arch);
		bi = json_load_file(path, 0, NULL);
		if (bi == NULL)
			bi = json_pack("{s:s, s:s, s:s}", "arch", arch, "xen_version", "4.17",
				       "changeset", "unknown");
		res = json_pack("{s:s, s:s, s:o, s:o, s:i}", "verdict", "pass", "reason",
				"prebuilt by the test", "artifacts", arts, "build_info", bi,
				"log_length", 0);
		body = json_dumps(res, JSON_COMPACT);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
		assert_int_equal(harness_call(&ctl, builder_tok, "POST", path, body, NULL), 200);
		free(body);
		json_decref(res);
		json_decref(j);
		done++;
	}
	return done;
}

static json_t *board_attempt(long long flight, const char *board)
{
	char path[96];
	json_t *fl = NULL, *list, *a, *found = NULL;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", flight);
	if (harness_call(&ctl, NULL, "GET", path, NULL, &fl) != 200)
		return NULL;
	list = json_object_get(fl, "jobs") ? json_object_get(fl, "jobs")
					   : json_object_get(fl, "attempts");
	json_array_foreach (list, i, a)
		if (!strcmp(jstr(a, "board", ""), board) &&
		    !strcmp(jstr(a, "kind", "test"), "test"))
			found = json_incref(a);
	json_decref(fl);
	return found;
}

static const char *verdict_of(const json_t *a)
{
	static const char *const ends[] = {"pass", "fail", "infra", "timeout", "cancelled", NULL};
	const char *st = jstr(a, "verdict", jstr(a, "state", ""));
	size_t i;

	for (i = 0; ends[i]; i++)
		if (!strcmp(st, ends[i]))
			return ends[i];
	return NULL;
}

static long long new_flight(void)
{
	json_t *j = NULL;
	long long id;

	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", &j),
			 201);
	id = jint(j, "id", 0);
	json_decref(j);
	return id;
}

static void test_qemu_boards_boot_xen(void **state)
{
	long long fid, end;
	const char *boards[] = {"qemu-x86_64", "qemu-arm64"};
	int b, status;

	(void)state;
	if (!have_payloads)
		skip();
	assert_int_equal(harness_call(&ctl, builder_tok, "PUT", "/api/v1/agents/builder-q/boards",
				      "{\"protocol\": 1, \"builder\": {\"arches\": [\"x86_64\", "
				      "\"arm64\"]}, \"boards\": []}",
				      NULL),
			 200);
	agent_pid = spawn_agent();
	end = harness_now_ms() + 10000;
	while (harness_call(&ctl, NULL, "GET", "/api/v1/boards/qemu-arm64", NULL, NULL) != 200) {
		assert_true(harness_now_ms() < end);
		usleep(50 * 1000);
	}
	fid = new_flight();
	assert_int_equal(serve_builds(2), 2);

	end = harness_now_ms() + 200000;
	for (b = 0; b < 2; b++) {
		json_t *a = NULL;

		while (harness_now_ms() < end) {
			json_decref(a);
			a = board_attempt(fid, boards[b]);
			if (a && verdict_of(a))
				break;
			usleep(250 * 1000);
		}
		assert_non_null(a);
		fprintf(stderr, "# %s: %s: %s\n", boards[b], jstr(a, "state", ""),
			jstr(a, "reason", ""));
		assert_string_equal(verdict_of(a), "pass");
		assert_int_equal(json_array_size(json_object_get(a, "testcases")), 5);
		json_decref(a);
	}
	assert_int_equal(count_qemus(), 0);

	/* SIGKILL mid-boot: QEMU must not outlive the agent (PR_SET_PDEATHSIG) */
	fid = new_flight();
	assert_int_equal(serve_builds(2), 2);
	end = harness_now_ms() + 60000;
	while (count_qemus() < 1 && harness_now_ms() < end)
		usleep(20 * 1000);
	assert_true(count_qemus() >= 1);
	usleep(500 * 1000);
	kill(agent_pid, SIGKILL);
	waitpid(agent_pid, &status, 0);
	agent_pid = 0;
	end = harness_now_ms() + 5000;
	while (count_qemus() > 0 && harness_now_ms() < end)
		usleep(20 * 1000);
	assert_int_equal(count_qemus(), 0);

	/* the restarted agent ends the cut attempts as infra from its spool */
	agent_pid = spawn_agent();
	end = harness_now_ms() + 30000;
	for (b = 0; b < 2; b++) {
		json_t *a = NULL;

		while (harness_now_ms() < end) {
			json_decref(a);
			a = board_attempt(fid, boards[b]);
			if (a && verdict_of(a))
				break;
			usleep(100 * 1000);
		}
		assert_non_null(a);
		/* a board whose attempt had not started yet may run it to the end */
		if (strcmp(verdict_of(a), "pass"))
			assert_string_equal(verdict_of(a), "infra");
		json_decref(a);
	}
	kill(agent_pid, SIGTERM);
	waitpid(agent_pid, &status, 0);
	agent_pid = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(count_qemus(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_demo_boards),
	    cmocka_unit_test(test_qemu_boards_boot_xen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
