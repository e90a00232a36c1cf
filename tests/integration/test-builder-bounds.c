/* The builder's confinement (docs/builders.md, "Sandbox" and "Trust"), whole
 * builds through a real xenci-agent (`build: true`) against a real controller
 * serving a real git tree, with tests/fake-build/build.sh as the recipe
 * (XENCI_HYPERVISOR_DIR; the test picks its behaviour in the file `mode`) and
 * small bounds (builder: memory_mb 256, disk_mb 64, processes 64, timeout_s 8 for
 * the tests of the time limit, 600 for the others):
 * a memory hog fails "out of memory (builder.memory_mb …)"; a disk filler and a
 * single big file fail naming builder.disk_mb; a build past the time limit is
 * `timeout` and its whole process group is gone (by pgid, in /proc); a bounded
 * fork bomb (with a child in its own session when bwrap runs) leaves nothing
 * running; trusted (push) and untrusted (submission) builds use their own work
 * trees and compiler caches and write nothing into the other's; with
 * `untrusted: refuse` a submission's build is never given to the builder while a
 * push build passes, and one the database says it takes is `refused` "refused: …". A revision of
 * two trees (Xen moving, a linux tree pinned at its tested ref) is built by each kind's recipe (the
 * fake build-linux.sh's dom0-kernel takes the payload's place); a kind without its recipe is infra.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
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

#define MEMORY_MB 256
#define DISK_MB	  64
#define NPROC	  64
/* the time limit of the tests of the time limit; the others' builds get
 * SLOW_S, so that a loaded machine does not turn their verdict into timeout */
#define TIMEOUT_S 8
#define SLOW_S	  600

static struct harness_controller ctl;
static char repo[400], hv[400], work[400], cache[400], commit_hex[41], extra[900];
static char builder_tok[128], lab_tok[128], mark[64];
static pid_t agent;
static int started;

static const char job_fake[] = "name: fake\n"
			       "requires: {arch: [x86_64]}\n"
			       "artifacts: [xen]\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", ctl.dir);
	snprintf(hv, sizeof(hv), "%s/hv", ctl.dir);
	snprintf(work, sizeof(work), "%s/work", ctl.dir);
	snprintf(cache, sizeof(cache), "%s/cache", ctl.dir);
	/* one attempt: a timeout or a refusal is not retried into the next test */
	/* the linux tree has no tested revision (no branch `tested`) until
	 * test_tree_kinds makes one: the other tests' flights are Xen's alone */
	snprintf(extra, sizeof(extra),
		 "max_attempts: 1\ntrees:\n  xen:\n    source: %s\n    interval: 3600\n"
		 "  linux:\n    source: %s/linux\n    kind: linux\n    tested: tested\n"
		 "    interval: 3600\n",
		 repo, ctl.dir);
	ctl.extra_config = extra;
	harness_write_file(ctl.jobs, "fake.yaml", job_fake);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (agent > 0) {
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
	}
	if (started)
		harness_controller_stop(&ctl);
	return 0;
}

/* The controller, a tree with one commit, a board of another agent (it never
 * claims: the flights' test attempts wait), the recipe folder. */
static void start_lab(void)
{
	char out[128], root[4096];

	if (started)
		return;
	started = 1; /* once, even when a step below fails */
	assert_non_null(realpath(harness_root(), root));
	harness_sh(ctl.dir,
		   "git init -q -b main repo && cd repo && git config user.email t@xenci.invalid"
		   " && git config user.name t && echo 'int a;' > a.c && git add -A"
		   " && git commit -qm one");
	harness_shout(repo, out, sizeof(out), "git rev-parse HEAD");
	snprintf(commit_hex, sizeof(commit_hex), "%.40s", out);
	harness_sh(ctl.dir,
		   "git init -q -b main linux && cd linux && git config user.email t@xenci.invalid"
		   " && git config user.name t && echo 'int linux;' > a.c && git add -A"
		   " && git commit -qm one");
	harness_sh(ctl.dir, "mkdir hv && cp '%s/tests/fake-build/'*.sh hv/", root);
	assert_int_equal(harness_controller_start(&ctl), 0);
	assert_int_equal(harness_token(&ctl, "agent", "bld", builder_tok, sizeof(builder_tok)), 0);
	assert_int_equal(harness_token(&ctl, "agent", "lab-b", lab_tok, sizeof(lab_tok)), 0);
	assert_int_equal(harness_call(&ctl, lab_tok, "PUT", "/api/v1/agents/lab-b/boards",
				      "{\"protocol\": 1, \"boards\": [{\"name\": \"qb\", \"arch\":"
				      " \"x86_64\", \"class\": \"q35\"}]}",
				      NULL),
			 200);
}

/* The builder agent with the test's bounds; untrusted: "build" or "refuse";
 * builder.timeout_s: timeout_s. */
static void start_builder(const char *untrusted, int timeout_s)
{
	char text[1200], agentbin[400], path[400], logp[400];

	start_lab();
	if (agent > 0) { /* a test that failed left its agent */
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
		agent = 0;
	}
	/* an agent runs at least one board: an arm64 one no job of the test wants */
	assert_int_equal(harness_write_file(ctl.dir, "idle.yaml",
					    "name: idle\narch: arm64\nclass: none\n"
					    "power: {backend: command, on: 'true', off: 'true'}\n"
					    "console: {backend: tcp, host: 127.0.0.1, port: 9}\n"
					    "netboot: {backend: ipxe}\n"),
			 0);
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: bld\ntoken: %s\nwork_dir: %s\nboards: [idle.yaml]\n"
		 "build: true\nbuilder: {untrusted: %s, memory_mb: %d, disk_mb: %d, "
		 "processes: %d, timeout_s: %d}\n"
		 "limits: {claim_wait_ms: 1000, heartbeat_s: 1}\n",
		 ctl.url, builder_tok, work, untrusted, MEMORY_MB, DISK_MB, NPROC, timeout_s);
	assert_int_equal(harness_write_file(ctl.dir, "bld.yaml", text), 0);
	snprintf(path, sizeof(path), "%s/bld.yaml", ctl.dir);
	snprintf(logp, sizeof(logp), "%s/bld.log", ctl.dir);
	snprintf(agentbin, sizeof(agentbin), "%s/xenci-agent", harness_build_dir());
	agent = fork();
	assert_true(agent >= 0);
	if (agent == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("XENCI_HYPERVISOR_DIR", hv, 1);
		setenv("XENCI_CACHE", cache, 1);
		execl(agentbin, agentbin, "-v", path, (char *)NULL);
		_exit(127);
	}
}

static void stop_builder(void)
{
	int status;

	assert_true(agent > 0);
	kill(agent, SIGTERM);
	waitpid(agent, &status, 0);
	agent = 0;
}

/* What build.sh does next (tests/fake-build/build.sh). */
static void set_mode(const char *mode)
{
	static int n;

	assert_int_equal(harness_write_file(hv, "mode", mode), 0);
	snprintf(mark, sizeof(mark), "xenci-confine-%d-%d", (int)getpid(), ++n);
	assert_int_equal(harness_write_file(hv, "mark", mark), 0);
}

/* A flight of kind on a new commit of the tree (builds are shared per (tree,
 * commit, arch): each flight here wants a build of its own); its build attempts'
 * ids, oldest first, into ids (n of them at most, when not NULL). Returns the
 * first one's. */
static long long flight_builds(const char *kind, long long *ids, size_t n)
{
	char body[300], path[96], out[128];
	json_t *j = NULL, *a;
	long long fid, id = 0;
	size_t i, k = 0;

	harness_sh(repo, "git commit -q --allow-empty -m 'flight %s'", kind);
	harness_shout(repo, out, sizeof(out), "git rev-parse HEAD");
	snprintf(commit_hex, sizeof(commit_hex), "%.40s", out);
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"fake\"], \"kind\": \"%s\"}",
		 commit_hex, kind);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	fid = jint(j, "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/flights/%lld", fid);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	json_array_foreach (json_object_get(j, "attempts"), i, a) {
		if (strcmp(jstr(a, "kind", ""), "build"))
			continue;
		if (id == 0 || jint(a, "id", 0) < id)
			id = jint(a, "id", 0);
		if (ids && k < n)
			ids[k++] = jint(a, "id", 0);
	}
	json_decref(j);
	assert_true(id > 0);
	return id;
}

static long long flight(const char *kind)
{
	return flight_builds(kind, NULL, 0);
}

/* Waits (at most 90 s) for the attempt's end; its verdict and reason. */
static void wait_verdict(long long id, char *verdict, size_t vlen, char *reason, size_t rlen)
{
	static const char *const ends[] = {"pass",	"fail",	   "infra",   "timeout",
					   "cancelled", "starved", "refused", NULL};
	long long end = harness_now_ms() + 90000;
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	while (harness_now_ms() < end) {
		json_t *a = NULL;
		const char *st;
		size_t i;

		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &a), 200);
		st = jstr(a, "verdict", NULL) ? jstr(a, "verdict", "") : jstr(a, "state", "");
		for (i = 0; ends[i]; i++)
			if (!strcmp(st, ends[i])) {
				snprintf(verdict, vlen, "%s", st);
				snprintf(reason, rlen, "%s", jstr(a, "reason", ""));
				json_decref(a);
				print_message("attempt %lld: %s: %s\n", id, verdict, reason);
				return;
			}
		json_decref(a);
		usleep(100 * 1000);
	}
	fail_msg("attempt %lld did not end", id);
}

/* Live (not zombie) processes: those whose command line holds the current
 * mark (build.sh's sleepers) when marked, else those of process group pgid;
 * how many, and their process groups into pgids (at most max). */
static int count_procs(int marked, pid_t pgid, pid_t *pgids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char p[300], buf[4096], state, *end;
		int pg = 0, ppid;
		size_t len, i;
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(p, sizeof(p), "/proc/%s/%s", e->d_name, marked ? "cmdline" : "stat");
		f = fopen(p, "r");
		if (f == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (i = 0; marked && i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[len] = '\0';
		if (marked && strstr(buf, mark) == NULL)
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
		f = marked ? fopen(p, "r") : NULL;
		if (f) {
			len = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[len] = '\0';
		}
		end = strrchr(buf, ')');
		if (end == NULL || sscanf(end + 1, " %c %d %d", &state, &ppid, &pg) != 3 ||
		    state == 'Z' || (!marked && pg != pgid))
			continue;
		if (pgids && n < max)
			pgids[n] = pg;
		n++;
	}
	closedir(d);
	return n;
}

/* After the verdict, within 5 s: nothing marked and nothing of group pgid
 * still runs (SIGKILL is delivered, the dying take a moment). */
static void assert_nothing_left(pid_t pgid)
{
	long long end = harness_now_ms() + 5000;
	pid_t pg[4];
	int marked = 0, group = 0;

	while (harness_now_ms() < end) {
		marked = count_procs(1, 0, pg, 4);
		group = count_procs(0, pgid, NULL, 0);
		if (marked == 0 && group == 0)
			break;
		usleep(100 * 1000);
	}
	print_message("left running: %d marked, %d in group %d\n", marked, group, (int)pgid);
	if (marked || group) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd),
			 "ps -eo pid,ppid,pgid,sid,stat,args | grep -e '%s' -e ' %d ' >&2", mark,
			 (int)pgid);
		if (system(cmd) < 0)
			print_message("no ps\n");
	}
	assert_int_equal(marked, 0);
	assert_int_equal(group, 0);
}

static int bwrap_runs(void)
{
	const char *e = getenv("XENCI_BWRAP");

	return access("/usr/bin/bwrap", X_OK) == 0 && !(e && !strcmp(e, "0"));
}

/* (a) RLIMIT_AS: the hog's allocation fails, the reason says memory. */
static void test_memory_hog(void **state)
{
	char verdict[32], reason[1024];

	(void)state;
	start_builder("build", SLOW_S);
	set_mode("memory");
	wait_verdict(flight("push"), verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "fail");
	assert_non_null(strstr(reason, "out of memory (builder.memory_mb: 256 MiB"));
	assert_non_null(strstr(reason, "MemoryError"));
	stop_builder();
}

/* (b) the tree-size check (files each below RLIMIT_FSIZE) and RLIMIT_FSIZE
 * (one file past the bound). */
static void test_disk_filler(void **state)
{
	char verdict[32], reason[1024];

	(void)state;
	start_builder("build", SLOW_S);
	set_mode("disk");
	wait_verdict(flight("push"), verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "fail");
	assert_non_null(strstr(reason, "the build wrote more than 64 MiB (builder.disk_mb)"));
	set_mode("bigfile");
	wait_verdict(flight("push"), verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "fail");
	assert_non_null(strstr(reason, "a file larger than 64 MiB (builder.disk_mb)"));
	stop_builder();
}

/* Waits (at most 30 s) until at least want marked processes run; their
 * process group (not ours), which all but `outside` of them share (a child in
 * its own session leaves it). */
static pid_t marked_group(int want, int outside, int *seen)
{
	long long end = harness_now_ms() + 30000;
	pid_t pg[256] = {0};
	int n = 0, i, others = 0;

	while (harness_now_ms() < end) {
		n = count_procs(1, 0, pg, 256);
		if (n >= want)
			break;
		usleep(50 * 1000);
	}
	assert_true(n >= want);
	for (i = 1; i < n && i < 256; i++)
		if (pg[i] != pg[0])
			others++;
	assert_true(others <= outside);
	*seen = n;
	return pg[0];
}

/* (c) past builder.timeout_s: `timeout`, and every process of the build's
 * group (children and a grandchild) is gone. */
static void test_timeout_kills_group(void **state)
{
	char verdict[32], reason[1024];
	long long id;
	pid_t pgid;
	int seen;

	(void)state;
	start_builder("build", TIMEOUT_S);
	set_mode("timeout");
	id = flight("push");
	pgid = marked_group(2, 0, &seen);
	assert_true(pgid > 0);
	assert_true(pgid != getpgrp());
	assert_true(count_procs(0, pgid, NULL, 0) >= 2);
	wait_verdict(id, verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "timeout");
	assert_non_null(
	    strstr(reason, "timeout: the build took more than 8 s (builder.timeout_s)"));
	assert_nothing_left(pgid);
	stop_builder();
}

/* (d) a bounded fork bomb: as root RLIMIT_NPROC does not hold, so what the
 * builder guarantees is the time limit and the kill: nothing left running,
 * not even a child in its own session (under bwrap the build's pid namespace
 * ends with it). As another user, forks past builder.processes fail. */
static void test_fork_bomb(void **state)
{
	char verdict[32], reason[1024];
	long long id;
	pid_t pgid;
	int seen;

	(void)state;
	start_builder("build", TIMEOUT_S);
	if (bwrap_runs())
		assert_int_equal(harness_write_file(hv, "escape", "1"), 0);
	set_mode("forkbomb");
	id = flight("push");
	pgid = marked_group(geteuid() != 0 ? 8 : bwrap_runs() ? 65 : 64, 1, &seen);
	print_message("fork bomb: %d marked processes at once (uid %d)\n", seen, (int)geteuid());
	if (geteuid() != 0)
		assert_true(seen <= NPROC);
	wait_verdict(id, verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "timeout");
	assert_nothing_left(pgid);
	{
		char p[500];

		snprintf(p, sizeof(p), "%s/escape", hv);
		unlink(p);
	}
	stop_builder();
}

static void read_probe(const char *tree, const char *kind, struct buf *b)
{
	char dir[600], name[64];

	snprintf(dir, sizeof(dir), "%s/builder/src/%s", work, tree);
	snprintf(name, sizeof(name), "probe-%s.txt", kind);
	assert_int_equal(harness_read_file(b, dir, name), 0);
	print_message("%s: %s", tree, buf_cstr(b));
}

static int exists(const char *dir, const char *name)
{
	char p[700];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* (e) a push build and a submission's build: their own work trees and compiler
 * caches (CCACHE_DIR), neither holds nor could write the other's files. */
static void test_trust_separation(void **state)
{
	char verdict[32], reason[1024], t_src[500], u_src[500], t_cc[500], u_cc[500], want[600];
	struct buf tp = BUF_INIT(0), up = BUF_INIT(0);

	(void)state;
	start_builder("build", SLOW_S);
	set_mode("pass");
	assert_int_equal(harness_write_file(hv, "kind", "trusted"), 0);
	wait_verdict(flight("push"), verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "pass");
	assert_int_equal(harness_write_file(hv, "kind", "untrusted"), 0);
	wait_verdict(flight("submission"), verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "pass");

	snprintf(t_src, sizeof(t_src), "%s/builder/src/xen-x86_64", work);
	snprintf(u_src, sizeof(u_src), "%s/builder/src/xen-x86_64-untrusted", work);
	snprintf(t_cc, sizeof(t_cc), "%s/ccache", cache);
	snprintf(u_cc, sizeof(u_cc), "%s/ccache-untrusted", cache);
	read_probe("xen-x86_64", "trusted", &tp);
	read_probe("xen-x86_64-untrusted", "untrusted", &up);
	snprintf(want, sizeof(want), "ccache %s\ncache-written\n", t_cc);
	assert_non_null(strstr(buf_cstr(&tp), want));
	snprintf(want, sizeof(want), "ccache %s\ncache-written\n", u_cc);
	assert_non_null(strstr(buf_cstr(&up), want));
	/* each build saw only its own files, and wrote nothing into the other's */
	assert_non_null(strstr(buf_cstr(&tp), "own-trusted"));
	assert_null(strstr(buf_cstr(&tp), "own-untrusted"));
	assert_non_null(strstr(buf_cstr(&up), "own-untrusted"));
	assert_null(strstr(buf_cstr(&up), "own-trusted"));
	assert_null(strstr(buf_cstr(&up), "wrote "));
	assert_true(exists(t_src, "own-trusted") && !exists(t_src, "own-untrusted"));
	assert_true(exists(u_src, "own-untrusted") && !exists(u_src, "own-trusted"));
	assert_true(exists(t_cc, "own-trusted") && !exists(t_cc, "own-untrusted"));
	assert_true(exists(u_cc, "own-untrusted") && !exists(u_cc, "own-trusted"));
	assert_false(exists(t_src, "planted-by-untrusted"));
	assert_false(exists(t_cc, "planted-by-untrusted"));
	/* both trees hold the revision */
	assert_true(exists(t_src, "a.c") && exists(u_src, "a.c"));
	buf_release(&tp);
	buf_release(&up);
	stop_builder();
}

/* (f) untrusted: refuse: the controller never gives a submission's build to the
 * builder, which builds a later push; with the database edited to say it takes
 * untrusted builds, the builder itself refuses it (refused, with the reason). */
static void test_refuse_untrusted(void **state)
{
	char verdict[32], reason[1024], path[96];
	long long sub;
	json_t *a = NULL;

	(void)state;
	start_builder("refuse", SLOW_S);
	set_mode("pass");
	assert_int_equal(harness_write_file(hv, "kind", "trusted"), 0);
	sub = flight("submission");
	wait_verdict(flight("push"), verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "pass");
	assert_non_null(strstr(reason, "built for x86_64"));
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", sub);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &a), 200);
	assert_string_equal(jstr(a, "state", ""), "queued");
	json_decref(a);
	assert_int_equal(
	    harness_db_exec(&ctl, "UPDATE agents SET builder_untrusted = 1 WHERE name = 'bld'"), 0);
	wait_verdict(sub, verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "refused");
	assert_non_null(strstr(reason,
			       "refused: this builder does not build untrusted "
			       "revisions (a submission flight; builder.untrusted: refuse"));
	stop_builder();
}

/* The test attempt of flight fid on qb as lab-b claims it (the older flights'
 * tests on qb, queued since their builds passed, are claimed and passed first). */
static json_t *claim_test_of(long long fid)
{
	char path[96];
	int guard;

	for (guard = 0; guard < 50; guard++) {
		json_t *j = NULL, *a;
		long st = harness_call(&ctl, lab_tok, "POST", "/api/v1/agents/lab-b/claim",
				       "{\"boards\": [\"qb\"], \"wait_ms\": 0}", &j);

		assert_int_equal(st, 200);
		a = json_incref(json_object_get(j, "attempt"));
		json_decref(j);
		if (jint(a, "flight", 0) == fid)
			return a;
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", jint(a, "id", 0));
		assert_int_equal(harness_call(&ctl, lab_tok, "POST", path,
					      "{\"verdict\": \"pass\", \"log_length\": 0}", NULL),
				 200);
		json_decref(a);
	}
	fail_msg("no test attempt of flight %lld on qb", fid);
	return NULL;
}

/* Xen moves, Linux is pinned at `tested`: a build per tree (schema/0075), Xen's
 * by build.sh and Linux's by build-linux.sh; the test on qb gets Linux's
 * dom0-kernel (not the payload's that Xen's build made too), Xen and the
 * payload's dom0-initrd, and Xen's build-info with each tree's under trees. A
 * second Xen flight takes the Linux build that is there. */
static void test_tree_kinds(void **state)
{
	static const char kernel[] = "linux kernel: int linux;\n";
	char verdict[32], reason[1024], hex[SHA256_HEX_LEN + 1], path[96];
	json_t *j = NULL, *arts, *a, *info;
	long long ids[3] = {0, 0, 0}, fid, linux_build;

	(void)state;
	start_builder("build", SLOW_S);
	set_mode("pass");
	assert_int_equal(harness_write_file(hv, "kind", "trusted"), 0);
	harness_sh(ctl.dir, "git -C linux branch tested");
	flight_builds("push", ids, 3);
	assert_true(ids[1] > 0 && ids[2] == 0); /* one build per tree */
	wait_verdict(ids[0], verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "pass");
	assert_non_null(strstr(reason, "Xen 4.99-fake built for x86_64"));
	wait_verdict(ids[1], verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "pass");
	assert_non_null(strstr(reason, "linux 6.1.0-fake (linux "));
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", ids[1]);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	fid = jint(j, "flight", 0);
	linux_build = jint(j, "build_id", jint(j, "build", 0));
	json_decref(j);
	a = claim_test_of(fid);
	arts = json_object_get(a, "artifacts");
	sha256_hex(hex, kernel, strlen(kernel));
	assert_string_equal(jstr(json_object_get(arts, "dom0-kernel"), "sha256", ""), hex);
	sha256_hex(hex, "fake xen\n", 9);
	assert_string_equal(jstr(json_object_get(arts, "xen"), "sha256", ""), hex);
	sha256_hex(hex, "fake initrd\n", 12);
	assert_string_equal(jstr(json_object_get(arts, "dom0-initrd"), "sha256", ""), hex);
	/* an optional payload is uploaded when payloads.sh makes it */
	sha256_hex(hex, "fake domu initrd\n", 17);
	assert_string_equal(jstr(json_object_get(arts, "domu-initrd"), "sha256", ""), hex);
	/* Xen's build-info at the top (the dom0 command line reads it), each tree's
	 * under trees */
	info = json_object_get(a, "build_info");
	assert_string_equal(jstr(info, "xen_version", ""), "4.99-fake");
	assert_string_equal(
	    jstr(json_object_get(json_object_get(info, "trees"), "linux"), "linux_version", ""),
	    "6.1.0-fake");
	assert_string_equal(
	    jstr(json_object_get(json_object_get(info, "trees"), "xen"), "xen_version", ""),
	    "4.99-fake");
	json_decref(a);
	(void)linux_build;

	/* Xen moves again: Linux did not, and its build is taken as it is */
	memset(ids, 0, sizeof(ids));
	flight_builds("push", ids, 3);
	assert_true(ids[0] > 0 && ids[1] == 0);
	wait_verdict(ids[0], verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "pass");

	/* a kind whose recipe the builder lacks (Linux moved: a build of it is due) */
	harness_sh(ctl.dir, "rm hv/build-linux.sh && cd linux && git checkout -q tested && "
			    "git -c user.name=t -c user.email=t@xenci.invalid commit -q "
			    "--allow-empty -m two && git checkout -q main");
	memset(ids, 0, sizeof(ids));
	flight_builds("push", ids, 3);
	assert_true(ids[1] > 0);
	wait_verdict(ids[1], verdict, sizeof(verdict), reason, sizeof(reason));
	assert_string_equal(verdict, "infra");
	assert_non_null(strstr(reason, "build-linux.sh (kind linux) is missing"));
	harness_sh(ctl.dir, "git -C linux branch -q -D tested");
	stop_builder();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory_hog),		cmocka_unit_test(test_disk_filler),
	    cmocka_unit_test(test_timeout_kills_group), cmocka_unit_test(test_fork_bomb),
	    cmocka_unit_test(test_trust_separation),	cmocka_unit_test(test_refuse_untrusted),
	    cmocka_unit_test(test_tree_kinds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
