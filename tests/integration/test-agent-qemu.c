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
/* the second flight's: a flight at COMMIT again would take its builds (one build
 * per tree, revision and arch) and give the test none to serve */
#define COMMIT2 "fedcba9876543210fedcba9876543210fedcba99"

static struct harness_controller ctl;
static char agent_tok[128], builder_tok[128], user_tok[128];
static char dir[300], agent_yaml[400];
static struct harness_artifacts arts[2];
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
	have_payloads = harness_prebuilt(&arts[0], "x86_64", dir) == 0 &&
			harness_prebuilt(&arts[1], "arm64", dir) == 0;
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

/* QEMUs the agent started: their command line names our work folder. */
static int count_qemus(void)
{
	char want[320];

	snprintf(want, sizeof(want), "%s/work/boards/", dir);
	return harness_count_procs("qemu-system", want);
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

static int serve_builds(int want)
{
	return harness_serve_builds(&ctl, builder_tok, "builder-q", arts, 2, want);
}

static long long new_flight(const char *commit)
{
	long long id = harness_flight(&ctl, commit);

	assert_true(id > 0);
	return id;
}

/* The firmware's wait for a human ended by the agent's answer (prompts.h): the
 * note comes after the prompt and before the boot script's first line, and
 * the firmware went on at once (its next line within 1.5 s: iPXE's banner
 * waits 3 s, U-Boot's countdown 2 s). Prints the firmware's time. */
static void assert_prompts_answered(const json_t *a, const char *const *prompts)
{
	struct buf log = BUF_INIT(64 * 1024 * 1024);
	char path[128];
	const char *text, *p, *q, *loading;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", jint(a, "id", 0));
	assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &log),
			 200);
	text = buf_cstr(&log);
	loading = strstr(text, "| xenci: loading");
	assert_non_null(loading);
	for (i = 0, p = text; prompts[i]; i++) {
		char note[200];
		double t_note, t_next;

		snprintf(note, sizeof(note), "# prompt \"%s\" answered", prompts[i]);
		q = strstr(p, prompts[i]);
		assert_non_null(q);
		p = strstr(q, note);
		if (p == NULL)
			fail_msg("%s: no note '%s' after the prompt", jstr(a, "board", "?"), note);
		assert_true(p < loading);
		/* the note's line, then the console's next one: their times */
		while (p > text && p[-1] != '\n')
			p--;
		assert_int_equal(sscanf(p, "%lf", &t_note), 1);
		q = strstr(p, " | ");
		assert_non_null(q);
		while (q > text && q[-1] != '\n')
			q--;
		assert_int_equal(sscanf(q, "%lf", &t_next), 1);
		print_message("%s: \"%s\" answered at %.3f s, the firmware went on at %.3f s\n",
			      jstr(a, "board", "?"), prompts[i], t_note, t_next);
		assert_true(t_next - t_note < 1.5);
		p = strchr(p, '\n');
	}
	buf_release(&log);
}

static void test_qemu_boards_boot_xen(void **state)
{
	long long fid, end;
	const char *boards[] = {"qemu-x86_64", "qemu-arm64"};
	/* what each board's firmware waits at (netboot-ipxe.c, netboot-uboot.c) */
	static const char *const ipxe[] = {"Press Ctrl-B for the iPXE command line...", NULL};
	static const char *const uboot[] = {"Hit any key to stop autoboot", "=> ", NULL};
	const char *const *prompts[] = {ipxe, uboot};
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
	fid = new_flight(COMMIT);
	assert_int_equal(serve_builds(2), 2);

	end = harness_now_ms() + 200000;
	for (b = 0; b < 2; b++) {
		json_t *a =
		    harness_wait_attempt(&ctl, fid, boards[b], (int)(end - harness_now_ms()));

		assert_non_null(a);
		fprintf(stderr, "# %s: %s: %s\n", boards[b], jstr(a, "state", ""),
			jstr(a, "reason", ""));
		assert_string_equal(harness_verdict(a), "pass");
		assert_int_equal(json_array_size(json_object_get(a, "testcases")), 5);
		assert_prompts_answered(a, prompts[b]);
		json_decref(a);
	}
	assert_int_equal(count_qemus(), 0);

	/* SIGKILL mid-boot: QEMU must not outlive the agent (PR_SET_PDEATHSIG) */
	fid = new_flight(COMMIT2);
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
		json_t *a =
		    harness_wait_attempt(&ctl, fid, boards[b], (int)(end - harness_now_ms()));

		assert_non_null(a);
		/* a board whose attempt had not started yet may run it to the end */
		if (strcmp(harness_verdict(a), "pass"))
			assert_string_equal(harness_verdict(a), "infra");
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
