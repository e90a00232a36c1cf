/* A build is code from anyone with a user token (a submission, a manual
 * flight): what it can reach of the agent. A real agent builds a user's flight
 * with a recipe (XENCI_HYPERVISOR_DIR) that does what a hostile Makefile can:
 * it prints the agent's token file, its agent file and its spool folder, and
 * leaves its output `xen` as a symlink to the token file. The agent keeps its
 * files outside /tmp here (the sandbox's /tmp is a fresh tmpfs anyway), as an
 * installed agent does (/etc/xenci, /var/lib/xenci-agent). Then: the token and
 * the agent file read empty inside the sandbox, the spool is not there, and
 * the symlink is refused (the build fails, naming it) instead of being
 * followed by the agent and its target published as a public artifact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "json-util.h"

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], extra[1024], dir[128], head[64];
static pid_t agent_pid;

#define GIT "git -c user.name=Dev -c user.email=dev@example.org "

static const char job_art[] = "name: art\n"
			      "requires: {arch: [x86_64]}\n"
			      "artifacts: [xen, dom0-kernel, dom0-initrd]\n"
			      "stages:\n"
			      "  - {name: hello, pattern: 'hello', timeout: 10}\n";

static int setup(void **state)
{
	char text[2048];

	(void)state;
	snprintf(dir, sizeof(dir), "/var/tmp/xenci-confine-XXXXXX");
	if (mkdtemp(dir) == NULL || harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "art.yaml", job_art);
	harness_sh(ctl.dir, "git init -q -b master xen && cd xen && echo a > README && " GIT
			    "add -A && " GIT "commit -qm base");
	harness_shout(ctl.dir, head, sizeof(head), "git -C xen rev-parse HEAD");
	snprintf(extra, sizeof(extra),
		 "trees:\n  xen:\n    source: %s/xen\n    interval: 3600\n"
		 "    branches:\n      - name: master\n",
		 ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	harness_sh(dir, "mkdir -p hv work && printf '%%s\\n' '%s' > token && chmod 600 token",
		   agent_tok);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "echo \"token: [$(cat %s/token 2>/dev/null)]\"\n"
		 "echo \"agent file: [$(grep agent: %s/agent.yaml 2>/dev/null)]\"\n"
		 "echo \"spool: [$(ls %s/work/spool 2>/dev/null)]\"\n"
		 "ln -s %s/token \"$3/xen\"\n"
		 "echo '{\"arch\": \"x86_64\", \"xen_version\": \"4.99\"}' > "
		 "\"$3/build-info.json\"\n",
		 dir, dir, dir, dir);
	harness_write_file(dir, "hv/build.sh", text);
	harness_write_file(dir, "hv/payloads.sh",
			   "#!/bin/sh\nmkdir -p \"$2\" && echo k > \"$2/dom0-kernel\" && "
			   "echo i > \"$2/dom0-initrd\"\n");
	harness_sh(dir, "chmod +x hv/*.sh && mkdir -p work/spool && echo x > work/spool/console");
	harness_write_file(dir, "board.yaml",
			   "name: cb1\narch: x86_64\nclass: fake\n"
			   "power: {backend: command, on: 'true', off: 'true'}\n"
			   "console: {backend: tcp, host: 127.0.0.1, port: 1}\n"
			   "netboot: {backend: ipxe}\n");
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-b\ntoken_file: %s/token\nwork_dir: %s/work\n"
		 "build: true\nboards: [board.yaml]\n"
		 "limits: {claim_wait_ms: 1000, heartbeat_s: 1}\n",
		 ctl.url, dir, dir);
	harness_write_file(dir, "agent.yaml", text);
	agent_pid = fork();
	if (agent_pid < 0)
		return -1;
	if (agent_pid == 0) {
		char bin[400], cfg[200], hv[200], cache[200], lf[200];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
		snprintf(cfg, sizeof(cfg), "%s/agent.yaml", dir);
		snprintf(hv, sizeof(hv), "%s/hv", dir);
		snprintf(cache, sizeof(cache), "%s/ccache", dir);
		snprintf(lf, sizeof(lf), "%s/agent.log", dir);
		setenv("XENCI_HYPERVISOR_DIR", hv, 1);
		setenv("XENCI_CACHE", cache, 1);
		if (freopen(lf, "w", stderr) == NULL)
			_exit(127);
		execl(bin, bin, "-v", cfg, (char *)NULL);
		_exit(127);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (agent_pid > 0) {
		kill(agent_pid, SIGKILL);
		waitpid(agent_pid, NULL, 0);
	}
	if (dir[0] && !getenv("XENCI_KEEP"))
		harness_rmdir(dir);
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void test_hostile_build(void **state)
{
	char body[256], path[128], token_sha[SHA256_HEX_LEN + 1], line[160];
	long long build = 0, end = harness_now_ms() + 60000;
	struct buf log;
	json_t *j, *a;
	size_t i;
	int bwrap_ok;

	(void)state;
	/* the agent declared its board: a flight has a test on it, so a build */
	while (harness_call(&ctl, NULL, "GET", "/api/v1/boards/cb1", NULL, NULL) != 200) {
		assert_true(harness_now_ms() < end);
		usleep(50 * 1000);
	}
	/* a commit no flight built yet: the watcher's push flight of the head has a
	 * build (trusted) that a user's flight would take (schema/0075) */
	harness_sh(ctl.dir, "cd xen && echo b >> README && " GIT "commit -qam user");
	harness_shout(ctl.dir, head, sizeof(head), "git -C xen rev-parse HEAD");
	snprintf(body, sizeof(body), "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"art\"]}",
		 head);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights", body, &j), 201);
	json_array_foreach (json_object_get(j, "attempts"), i, a)
		if (!strcmp(jstr(a, "kind", ""), "build"))
			build = jint(a, "id", 0);
	json_decref(j);
	assert_true(build > 0);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", build);
	for (;;) {
		const char *st;

		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
		st = jstr(j, "state", "");
		if (strcmp(st, "queued") && strcmp(st, "claimed") && strcmp(st, "running"))
			break;
		json_decref(j);
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
	/* the build's fault, said as such: not an infra retry */
	assert_string_equal(jstr(j, "state", ""), "fail");
	assert_non_null(strstr(jstr(j, "reason", ""), "not a regular file"));
	json_decref(j);

	/* the token file's bytes were not published */
	snprintf(line, sizeof(line), "%s\n", agent_tok);
	sha256_hex(token_sha, line, strlen(line));
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", token_sha);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, NULL), 404);

	/* nor read inside the sandbox (where bubblewrap runs here) */
	bwrap_ok = system("bwrap --ro-bind / / --unshare-all true 2>/dev/null") == 0;
	buf_init(&log, 1 << 20);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", build);
	assert_int_equal(harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, &log),
			 200);
	assert_non_null(strstr(buf_cstr(&log), "not a regular file"));
	if (bwrap_ok) {
		assert_null(strstr(buf_cstr(&log), agent_tok));
		assert_non_null(strstr(buf_cstr(&log), "token: []"));
		assert_non_null(strstr(buf_cstr(&log), "agent file: []"));
		assert_non_null(strstr(buf_cstr(&log), "spool: []"));
	} else {
		fprintf(stderr, "bwrap cannot run here: only the symlink is checked\n");
	}
	buf_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_build),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
