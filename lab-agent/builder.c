#include "builder.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "builder-sync.h"
#include "client.h"
#include "clock.h"
#include "fs.h"
#include "hash.h"
#include "http-client.h"
#include "json-util.h"
#include "log.h"
#include "policy.h"
#include "proc.h"
#include "runner.h"
#include "sign.h"
#include "spool.h"
#include "tuple.h"
#include "xmalloc.h"

#define PAYLOADS_TIMEOUT_S 600 /* first run downloads the kernels */
#define LINE_MAX_BYTES	   4096
#define ERROR_MAX	   300
#define DISK_LOOK_MS	   2000 /* how often a running build's disk use is measured */

/* What payloads.sh makes; a tree's recipe may make the same name (a linux
 * tree's dom0-kernel), which then wins. */
static const char *const payload_names[] = {"dom0-kernel", "dom0-initrd", "domu-initrd"};
/* payload_names from this one on are uploaded when payloads.sh made them (an
 * older recipe folder makes none: domu-initrd, the dom0less domUs' ramdisk) */
#define PAYLOADS_REQUIRED 2
/* dom0-rootfs: dom0-initrd, the payloads' dom0-guest-base and the tools, one
 * initramfs (Linux reads concatenated newc archives in order) */
static const char *const rootfs_parts[] = {"dom0-initrd", "dom0-guest-base"};

/* One lock per arch: its work trees and payload folder are used by one build
 * at a time. */
static pthread_mutex_t arch_locks[2] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};

/* What one build attempt carries around. */
struct build {
	struct agent *ag;
	struct spool_attempt *sa;
	struct sender *snd;
	struct http_client h;
	long long id, t0_ms;
	const char *tree, *commit, *arch; /* tree and commit: the one being built */
	const char *kind;		  /* its kind: the recipe (build_tree) */
	const json_t *rev;		  /* the attempt's "revision" */
	char *home;			  /* WORK/builder */
	char *src;			  /* WORK/builder/src/TREE-ARCH: the work tree */
	char *out;			  /* WORK/builder/out/ID/TREE */
	char *outs;			  /* WORK/builder/out/ID */
	char *payloads;			  /* WORK/builder/payloads/ARCH */
	char *blobs;			  /* WORK/builder/blobs: the blob cache */
	char *hvdir;			  /* the folder holding build.sh and payloads.sh */
	int spool_failed;
	int untrusted;		     /* not a push or bisect flight: code from anyone */
	int want_tools;		     /* the flight's jobs need tools or dom0-rootfs */
	int limited;		     /* run_child applies the build's bounds */
	long long disk_used;	     /* bytes in src and out at the last look */
	long long disk_next_ms;	     /* when to look again */
	char first_error[ERROR_MAX]; /* the compiler's first "error:" line */
	char oom_line[ERROR_MAX];    /* the first line saying memory ran out */
	json_t *stages;
};

static void log_line(struct build *b, char kind, const char *text, size_t len)
{
	char head[32];
	double t = (double)(clock_mono_ms() - b->t0_ms) / 1000.0;
	int n = snprintf(head, sizeof(head), "%9.3f %c ", t, kind);

	if (spool_append(b->sa, head, (size_t)n) < 0 || spool_append(b->sa, text, len) < 0 ||
	    spool_append(b->sa, "\n", 1) < 0)
		b->spool_failed = 1;
	sender_wrote(b->snd, b->sa->written);
}

static void note(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct build *b, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_line(b, '#', text, strlen(text));
}

static void stage_done(struct build *b, const char *name, const char *result, long long start)
{
	json_array_append_new(b->stages,
			      json_pack("{s:s, s:s, s:f}", "name", name, "result", result,
					"seconds", (double)(clock_mono_ms() - start) / 1000.0));
	note(b, "stage %s %s (%.3f s)", name, result, (double)(clock_mono_ms() - start) / 1000.0);
}

static int name_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* Xen's tools/scmversion reads .scmversion when the tree has no .git: the
 * changeset is the commit's, as git would make it. */
static int write_scmversion(struct build *b)
{
	const json_t *date = json_object_get(b->rev, "date");
	char text[128], *old = NULL;
	int rc = 0;

	if (json_is_string(date))
		snprintf(text, sizeof(text), "%.80s git:%.7s", json_string_value(date), b->commit);
	else
		snprintf(text, sizeof(text), "git:%.7s", b->commit);
	/* unchanged: keep its mtime; a build may have made it a symlink: never
	 * read or written through one */
	if (builder_tree_read(&old, b->src, ".scmversion", 4096) < 0 || strcmp(old, text))
		rc = builder_tree_write(b->src, ".scmversion", text, strlen(text), 0644);
	free(old);
	return rc;
}

/* Streams a line of a child's output into the log; remembers the first
 * compiler or make error. */
/* What compilers, linkers and interpreters print when an allocation fails
 * (RLIMIT_AS: builder.memory_mb). */
static int says_out_of_memory(const char *line, size_t len)
{
	static const char *const marks[] = {
	    "out of memory",	      "memory exhausted", "Cannot allocate memory",
	    "cannot allocate memory", "MemoryError",	  NULL};
	size_t i;

	for (i = 0; marks[i]; i++)
		if (memmem(line, len, marks[i], strlen(marks[i])))
			return 1;
	return 0;
}

static void child_line(struct build *b, const char *line, size_t len)
{
	log_line(b, '|', line, len);
	if (b->oom_line[0] == '\0' && len > 0 && says_out_of_memory(line, len))
		snprintf(b->oom_line, sizeof(b->oom_line), "%.*s",
			 (int)(len < ERROR_MAX - 1 ? len : ERROR_MAX - 1), line);
	if (b->first_error[0] == '\0' && len > 0 &&
	    (memmem(line, len, "error:", 6) || memmem(line, len, "*** [", 5) ||
	     memmem(line, len, "Error ", 6)))
		snprintf(b->first_error, sizeof(b->first_error), "%.*s",
			 (int)(len < ERROR_MAX - 1 ? len : ERROR_MAX - 1), line);
}

static void child_out(void *arg, const char *line, size_t len)
{
	child_line(arg, line, len);
}

static long long tree_bytes;

static int add_bytes(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	tree_bytes += (long long)st->st_blocks * 512;
	return 0;
}

/* Bytes on disk below the build's work tree and output folder (the build
 * thread holds its arch's lock; tree_bytes is only this thread's while the
 * lock of the disk count is held). */
static long long build_disk_bytes(const struct build *b)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	long long n;

	pthread_mutex_lock(&mu);
	tree_bytes = 0;
	nftw(b->src, add_bytes, 16, FTW_PHYS);
	nftw(b->out, add_bytes, 16, FTW_PHYS);
	n = tree_bytes;
	pthread_mutex_unlock(&mu);
	return n;
}

/* Stops the child when the agent stops, the attempt is no longer ours, or
 * (every DISK_LOOK_MS) the build has written more than its disk bound. */
static int child_cancel(void *arg)
{
	struct build *b = arg;

	if (b->ag->stopping || sender_lapsed(b->snd))
		return 1;
	if (b->limited && clock_mono_ms() >= b->disk_next_ms) {
		b->disk_next_ms = clock_mono_ms() + DISK_LOOK_MS;
		b->disk_used = build_disk_bytes(b);
		if (b->disk_used > b->ag->cfg.build_disk_bytes)
			return 1;
	}
	return 0;
}

/* Runs argv (lib/proc.h) with its output (stdout and stderr) as log lines.
 * Returns the exit status (0..255, 128+N for signal N), -ETIMEDOUT after
 * timeout_s, -ECANCELED when the agent stops or the attempt is no longer
 * ours, or -errno when it cannot start. Its process group is killed on
 * timeout or cancel, and it dies with the build's thread. */
static int run_child(struct build *b, char *const argv[], const char *const *env, int timeout_s)
{
	struct proc p;

	proc_init(&p);
	p.argv = (const char *const *)argv;
	p.env = env;
	p.timeout_ms = timeout_s * 1000;
	p.die_with_parent = 1;
	p.on_line = child_out;
	p.line_max = LINE_MAX_BYTES;
	p.cancel = child_cancel;
	p.arg = b;
	if (b->limited) {
		p.limit_as = b->ag->cfg.build_memory_bytes;
		p.limit_fsize = b->ag->cfg.build_disk_bytes;
		p.limit_nproc = b->ag->cfg.build_processes;
		b->disk_next_ms = 0;
	}
	return proc_run(&p);
}

/* The folder of build.sh and payloads.sh: $XENCI_HYPERVISOR_DIR, else
 * hypervisor/ beside the binary's build folder (a source checkout), else the
 * installed copy. */
static char *find_hypervisor_dir(void)
{
	const char *env = getenv("XENCI_HYPERVISOR_DIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *d;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		int up;

		exe[n] = '\0';
		for (up = 0; up < 3; up++) {
			slash = strrchr(exe, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
			d = xasprintf("%s/hypervisor/build.sh", exe);
			if (access(d, X_OK) == 0) {
				free(d);
				return xasprintf("%s/hypervisor", exe);
			}
			free(d);
		}
	}
	return xstrdup("/usr/share/xenci/hypervisor");
}

/* The build under bubblewrap: no network, the system read-only, only the work
 * tree, the output folder and the compiler cache writable. XENCI_BWRAP=0
 * turns it off (a host where user namespaces are not allowed). */
static int use_bwrap(void)
{
	const char *e = getenv("XENCI_BWRAP");

	if (e && !strcmp(e, "0"))
		return 0;
	return access("/usr/bin/bwrap", X_OK) == 0;
}

static char *cache_root(void)
{
	const char *c = getenv("XENCI_CACHE"), *home = getenv("HOME");

	if (c && *c)
		return xstrdup(c);
	return xasprintf("%s/.cache/xenci", home && *home ? home : "/root");
}

int builder_sandbox_argv(char *argv[BUILDER_SANDBOX_ARGS], const char *hvdir, const char *src,
			 const char *out, const char *ccache, const char *sysroot,
			 char *const hide[])
{
	struct stat st;
	int n = 0, i;

	argv[n++] = "bwrap";
	argv[n++] = "--ro-bind";
	argv[n++] = "/";
	argv[n++] = "/";
	argv[n++] = "--dev";
	argv[n++] = "/dev";
	argv[n++] = "--proc";
	argv[n++] = "/proc";
	argv[n++] = "--tmpfs";
	argv[n++] = "/tmp";
	for (i = 0; hide && hide[i] && i < BUILDER_SANDBOX_HIDE; i++) {
		if (stat(hide[i], &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		if (S_ISREG(st.st_mode)) {
			argv[n++] = "--ro-bind";
			argv[n++] = "/dev/null";
		} else {
			argv[n++] = "--tmpfs";
		}
		argv[n++] = hide[i];
	}
	/* the recipe, read-only: it may live under /tmp too (a CI clone) */
	argv[n++] = "--ro-bind";
	argv[n++] = (char *)hvdir;
	argv[n++] = (char *)hvdir;
	argv[n++] = "--bind";
	argv[n++] = (char *)src;
	argv[n++] = (char *)src;
	argv[n++] = "--bind";
	argv[n++] = (char *)out;
	argv[n++] = (char *)out;
	argv[n++] = "--bind";
	argv[n++] = (char *)ccache;
	argv[n++] = (char *)ccache;
	if (sysroot) {
		argv[n++] = "--ro-bind";
		argv[n++] = (char *)sysroot;
		argv[n++] = (char *)sysroot;
	}
	argv[n++] = "--unshare-all";
	argv[n++] = "--die-with-parent";
	argv[n++] = "--";
	assert(n <= BUILDER_SANDBOX_ARGS);
	return n;
}

/* What the agent keeps that a build must not read: the agent file and its
 * token file (the agent's credential), and the work, spool and cache folders
 * (other builds' trees, consoles of private boards), as absolute paths into
 * hide[] (NULL-terminated, BUILDER_SANDBOX_HIDE + 1 slots; the caller frees
 * them). */
static void secrets(const struct agent_config *cfg, char *hide[])
{
	const char *names[BUILDER_SANDBOX_HIDE] = {cfg->file, cfg->token_file, cfg->work_dir,
						   cfg->spool_dir, cfg->cache_dir};
	int i, n = 0;

	for (i = 0; i < BUILDER_SANDBOX_HIDE; i++)
		if (names[i] && (hide[n] = realpath(names[i], NULL)) != NULL)
			n++;
	hide[n] = NULL;
}

/* The recipe of a kind, in the recipes' folder: Xen's is build.sh, every other
 * kind's build-KIND.sh (hypervisor/README.md). A new string. */
static char *recipe_name(const char *kind)
{
	if (!strcmp(kind, "xen"))
		return xstrdup("build.sh");
	return xasprintf("build-%s.sh", kind);
}

/* The sysroot the toolstack's cross-build needs (build-tools.sh for arm64 on
 * another machine): hypervisor/sysroot.sh run here, outside the sandbox since
 * its first run downloads Debian's packages, then the real path of the one it
 * made (CROOT/sysroot/ARCH/current). Returns 0 with *path NULL when the build
 * needs none, 0 with *path a new string, or sysroot.sh's nonzero status. */
static int tools_sysroot(struct build *b, const char *croot, char **path)
{
	struct utsname u;
	char *script, *link;
	int rc;

	*path = NULL;
	if (strcmp(b->arch, "arm64") || (uname(&u) == 0 && !strcmp(u.machine, "aarch64")))
		return 0;
	script = xasprintf("%s/sysroot.sh", b->hvdir);
	{
		char *argv[] = {script, (char *)b->arch, NULL};

		rc = run_child(b, argv, NULL, PAYLOADS_TIMEOUT_S);
	}
	free(script);
	if (rc != 0)
		return rc;
	link = xasprintf("%s/sysroot/%s/current", croot, b->arch);
	*path = realpath(link, NULL);
	free(link);
	return *path ? 0 : 1;
}

static int run_build(struct build *b, const char *recipe)
{
	char *script = xasprintf("%s/%s", b->hvdir, recipe);
	char *croot = cache_root();
	/* untrusted builds never share a compiler cache with trusted ones, with
	 * or without the sandbox: build.sh takes CCACHE_DIR from us */
	char *ccache = xasprintf("%s/ccache%s", croot, b->untrusted ? "-untrusted" : "");
	char *ccache_env = xasprintf("CCACHE_DIR=%s", ccache);
	char *sysroot = NULL, *sysroot_env = NULL;
	const char *env[] = {ccache_env, NULL, NULL};
	char *argv[BUILDER_SANDBOX_ARGS + 6], *hide[BUILDER_SANDBOX_HIDE + 1] = {NULL};
	int n = 0, rc, i;

	mkdir_p(ccache);
	if (!strcmp(recipe, "build-tools.sh")) {
		rc = tools_sysroot(b, croot, &sysroot);
		if (rc != 0) {
			note(b, "failure sysroot: hypervisor/sysroot.sh %s failed (%d)", b->arch,
			     rc);
			goto out;
		}
		if (sysroot) {
			sysroot_env = xasprintf("XENCI_SYSROOT=%s", sysroot);
			env[1] = sysroot_env;
			note(b, "sysroot: %s", sysroot);
		}
	}
	if (use_bwrap()) {
		secrets(&b->ag->cfg, hide);
		n = builder_sandbox_argv(argv, b->hvdir, b->src, b->out, ccache, sysroot, hide);
		note(b,
		     "sandbox: bwrap (no network, read-only system; writable: the work tree, "
		     "%s, %s)",
		     b->out, ccache);
	}
	argv[n++] = script;
	argv[n++] = (char *)b->arch;
	argv[n++] = b->src;
	argv[n++] = b->out;
	argv[n] = NULL;
	note(b,
	     "bounds: %d s, %lld MiB of address space per process, %lld MiB of disk "
	     "(work tree and output), %lld processes%s",
	     b->ag->cfg.build_timeout_s, b->ag->cfg.build_memory_bytes >> 20,
	     b->ag->cfg.build_disk_bytes >> 20, b->ag->cfg.build_processes,
	     geteuid() == 0 ? " (not enforced for root)" : "");
	b->limited = 1;
	rc = run_child(b, argv, env, b->ag->cfg.build_timeout_s);
	b->limited = 0;
out:
	free(sysroot_env);
	free(sysroot);
	free(ccache_env);
	free(ccache);
	free(croot);
	free(script);
	for (i = 0; hide[i]; i++)
		free(hide[i]);
	return rc;
}

/* Writes OUT/dom0-rootfs (OUT: the build's output folder): the rootfs_parts
 * from the payloads, then the Xen tree's tools (never through a symlink the
 * build left). Returns its path (the caller frees it), or NULL with err set. */
static char *rootfs_make(struct build *b, const char *tools, char *err, size_t errlen)
{
	char *dst = xasprintf("%s/dom0-rootfs", b->outs), *src;
	char buf[65536];
	int out, in, k, rc = 0;
	ssize_t n;

	unlink(dst);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		free(dst);
		return NULL;
	}
	for (k = 0; k < 3 && rc == 0; k++) {
		src = k < 2 ? xasprintf("%s/%s", b->payloads, rootfs_parts[k]) : xstrdup(tools);
		in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (in < 0) {
			snprintf(err, errlen, "%s: %s", src, strerror(errno));
			rc = -1;
		}
		while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || fd_write_all(out, buf, (size_t)n) < 0) {
				snprintf(err, errlen, "%s: %s", n < 0 ? src : dst, strerror(errno));
				rc = -1;
			}
		}
		if (in >= 0)
			close(in);
		free(src);
	}
	if (close(out) < 0 && rc == 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		rc = -1;
	}
	if (rc < 0) {
		unlink(dst);
		free(dst);
		return NULL;
	}
	return dst;
}

/* HEAD first: the controller may have it (an unchanged dom0 payload). */
static int upload(struct build *b, const char *file, json_t *arts, const char *name, char *err,
		  size_t errlen)
{
	char hex[SHA256_HEX_LEN + 1], path[128];
	long long size = 0;
	struct http_reply r;
	struct stat st;
	int rc, tries;

	/* the build wrote it: a symlink (or anything but a file) would make the agent,
	 * outside the sandbox, read and publish what it points at (its token) */
	if (lstat(file, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (a symlink?): refused", file);
		return -EINVAL;
	}
	rc = sha256_file(hex, file, &size);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", hex);
	for (tries = 0; tries < 5; tries++) {
		http_reply_init(&r);
		rc = http_request(&b->h, "HEAD", path, NULL, NULL, 0, NULL, &r);
		if (rc == 0 && r.status == 200) {
			note(b, "artifact %s %s (%lld bytes): the controller has it", name, hex,
			     size);
			http_reply_release(&r);
			break;
		}
		http_reply_release(&r);
		http_reply_init(&r);
		rc = http_upload_file(&b->h, path, file, &r);
		if (rc == 0 && (r.status == 200 || r.status == 201)) {
			note(b, "artifact %s %s (%lld bytes) uploaded", name, hex, size);
			http_reply_release(&r);
			break;
		}
		snprintf(err, errlen, "upload of %s: %s (HTTP %ld)", name, r.error, r.status);
		http_reply_release(&r);
		rc = -EIO;
		if (b->ag->stopping)
			break;
		sleep((unsigned)(1 << tries));
	}
	if (rc < 0)
		return rc;
	json_object_set_new(arts, name,
			    json_pack("{s:s, s:I}", "sha256", hex, "size", (json_int_t)size));
	return 0;
}

json_t *builder_declare_json(const struct agent_config *cfg)
{
	json_t *arches;

	if (!cfg->build)
		return json_null();
	arches = json_array();
	json_array_append_new(arches, json_string("x86_64"));
	/* arm64 is cross-compiled */
	if (access("/usr/bin/aarch64-linux-gnu-gcc", X_OK) == 0)
		json_array_append_new(arches, json_string("arm64"));
	return json_pack("{s:o, s:b}", "arches", arches, "untrusted", cfg->build_untrusted);
}

static json_t *build_result(struct build *b, const char *verdict, const char *reason)
{
	return json_pack("{s:s, s:s, s:O, s:[]}", "verdict", verdict, "reason", reason, "stages",
			 b->stages, "testcases");
}

/* The result of a recipe run (build.sh, build-tools.sh) that ended with rc, as
 * stage (started at t), or NULL when it succeeded. */
static json_t *recipe_result(struct build *b, int rc, const char *stage, long long t)
{
	char why[900];

	if (rc == -ECANCELED && b->disk_used > b->ag->cfg.build_disk_bytes) {
		stage_done(b, stage, "fail", t);
		snprintf(
		    why, sizeof(why),
		    "the build wrote more than %lld MiB (builder.disk_mb): stopped at %lld MiB",
		    b->ag->cfg.build_disk_bytes >> 20, b->disk_used >> 20);
		note(b, "failure %s: %s", stage, why);
		return build_result(b, "fail", why);
	}
	if (rc != 0) {
		stage_done(b, stage, rc == -ETIMEDOUT ? "timeout" : "fail", t);
		if (rc == -ETIMEDOUT) {
			snprintf(why, sizeof(why),
				 "timeout: the build took more than %d s (builder.timeout_s)",
				 b->ag->cfg.build_timeout_s);
			return build_result(b, "timeout", why);
		}
		if (rc == -ECANCELED)
			return build_result(b, "infra", "the build was stopped");
		if (rc < 0 || rc == 127) {
			snprintf(why, sizeof(why), "the build could not run (%d)", rc);
			return build_result(b, "infra", why);
		}
		note(b, "failure %s: exit status %d", stage, rc);
		if (rc == 128 + SIGXFSZ) {
			snprintf(why, sizeof(why),
				 "the build wrote a file larger than %lld MiB (builder.disk_mb)",
				 b->ag->cfg.build_disk_bytes >> 20);
			return build_result(b, "fail", why);
		}
		if (b->oom_line[0]) {
			snprintf(why, sizeof(why),
				 "%s failed: out of memory (builder.memory_mb: %lld MiB of address "
				 "space per process): %s",
				 stage, b->ag->cfg.build_memory_bytes >> 20, b->oom_line);
			return build_result(b, "fail", why);
		}
		snprintf(why, sizeof(why), "%s failed: %s", stage,
			 b->first_error[0] ? b->first_error : "see the log");
		return build_result(b, "fail", why);
	}
	stage_done(b, stage, "pass", t);
	return NULL;
}

/* One tree of the revision (b->tree, b->commit, b->kind; b->src and b->out
 * set): sync, then its kind's recipe into b->out. Adds what it made to files
 * ({artifact: path}) and sets *info to the recipe's build-info.json. Returns
 * NULL, or the result to post when it failed. */
static json_t *build_tree(struct build *b, json_t *files, json_t **info)
{
	char err[600], why[900], *path, *recipe;
	const json_t *names, *v;
	json_t *defaults = NULL, *res;
	long long t;
	struct builder_source bs;
	struct stat st;
	size_t i;
	int rc;

	*info = NULL;
	if (!name_ok(b->tree, 64) || !builder_hex_ok(b->commit, 40) || !name_ok(b->kind, 32) ||
	    (strcmp(b->arch, "x86_64") && strcmp(b->arch, "arm64"))) {
		snprintf(why, sizeof(why),
			 "not a buildable revision: tree \"%.64s\" (kind \"%.32s\"), commit "
			 "\"%.64s\", arch \"%.32s\"",
			 b->tree, b->kind, b->commit, b->arch);
		return build_result(b, "fail", why);
	}
	recipe = recipe_name(b->kind);
	path = xasprintf("%s/%s", b->hvdir, recipe);
	rc = access(path, X_OK);
	snprintf(why, sizeof(why), "the build recipe %.500s (kind %s) is missing", path, b->kind);
	free(path);
	if (rc < 0) {
		free(recipe);
		return build_result(b, "infra", why);
	}

	t = clock_mono_ms();
	note(b, "sync %s %s into %s", b->tree, b->commit, b->src);
	memset(&bs, 0, sizeof(bs));
	bs.h = &b->h;
	bs.tree = b->tree;
	bs.commit = b->commit;
	bs.src = b->src;
	bs.blob_dir = b->blobs;
	rc = builder_sync(&bs, err, sizeof(err));
	if (rc < 0) {
		stage_done(b, "sync", "fail", t);
		note(b, "failure sync: %s", err);
		snprintf(why, sizeof(why), "sync: %s", err);
		return build_result(b, rc == -ENOENT ? "fail" : "infra", why);
	}
	/* Xen's changeset; other trees have their own ways (none needed) */
	if (!strcmp(b->kind, "xen") && write_scmversion(b) < 0) {
		stage_done(b, "sync", "fail", t);
		return build_result(b, "infra", "cannot write .scmversion");
	}
	note(b, "sync: %d file%s written (%d blob%s fetched), %d removed", bs.written,
	     bs.written == 1 ? "" : "s", bs.fetched, bs.fetched == 1 ? "" : "s", bs.removed);
	stage_done(b, "sync", "pass", t);

	t = clock_mono_ms();
	sender_set_stage(b->snd, "build");
	if (mkdir_p(b->out) < 0) {
		snprintf(why, sizeof(why), "cannot make %.500s", b->out);
		return build_result(b, "infra", why);
	}
	b->first_error[0] = b->oom_line[0] = '\0';
	res = recipe_result(b, run_build(b, recipe), "build", t);
	free(recipe);
	if (res)
		return res;
	/* the toolstack of the Xen tree, when the flight's tests need it */
	if (!strcmp(b->kind, "xen") && b->want_tools) {
		t = clock_mono_ms();
		sender_set_stage(b->snd, "tools");
		b->first_error[0] = b->oom_line[0] = '\0';
		res = recipe_result(b, run_build(b, "build-tools.sh"), "tools", t);
		if (res)
			return res;
		json_object_set_new(files, "tools", json_sprintf("%s/tools", b->out));
	}

	/* never through a symlink the build left (as the artifacts) */
	path = xasprintf("%s/build-info.json", b->out);
	*info = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? json_load_file(path, 0, NULL) : NULL;
	free(path);
	if (!json_is_object(*info)) {
		json_decref(*info);
		*info = NULL;
		snprintf(why, sizeof(why), "%s wrote no build-info.json",
			 !strcmp(b->kind, "xen") ? "build.sh" : b->kind);
		return build_result(b, "infra", why);
	}
	/* the artifacts the recipe names (Xen's build.sh: xen) */
	names = json_object_get(*info, "artifacts");
	if (!json_is_array(names))
		names = defaults = json_pack("[s]", !strcmp(b->kind, "xen") ? "xen" : "");
	json_array_foreach (names, i, v) {
		const char *name = json_string_value(v);

		if (name == NULL || !name_ok(name, 64)) {
			snprintf(why, sizeof(why), "%s: build-info.json names no artifact",
				 b->tree);
			json_decref(defaults);
			return build_result(b, "fail", why);
		}
		json_object_set_new(files, name, json_sprintf("%s/%s", b->out, name));
	}
	json_decref(defaults);
	return NULL;
}

/* The members of the revision's tuple, in order: {tree: {commit, kind}}; a
 * revision without one is its tree alone, of kind xen. A new reference. */
static json_t *build_tuple(const struct build *b)
{
	const json_t *tuple = json_object_get(b->rev, "tuple");

	if (json_is_object(tuple) && json_object_size(tuple) > 0)
		return json_deep_copy(tuple);
	return json_pack("{s:{s:s, s:s}}", jstr(b->rev, "tree", ""), "commit",
			 jstr(b->rev, "commit", ""), "kind", "xen");
}

/* One build: each tree of the revision synced and built by its kind's recipe,
 * then the dom0 payloads, then every artifact uploaded. Returns the result to
 * post. */
static json_t *build_once(struct build *b)
{
	char err[600], why[900];
	json_t *tuple = build_tuple(b), *files = json_object(), *infos = json_object();
	json_t *arts = NULL, *binfo = NULL, *res = NULL, *payloads = NULL, *m, *v;
	const char *name;
	long long t;
	int rc;
	size_t k;

	if (b->untrusted && !b->ag->cfg.build_untrusted) {
		snprintf(why, sizeof(why),
			 "refused: this builder does not build untrusted revisions (a %s flight; "
			 "builder.untrusted: refuse in its agent file)",
			 jstr(b->rev, "kind", "?"));
		res = build_result(b, "refused", why);
		goto out;
	}
	json_object_foreach (tuple, name, m) {
		json_t *info = NULL;

		b->tree = name;
		b->commit = jstr(m, "commit", "");
		b->kind = jstr(m, "kind", "xen");
		free(b->src);
		free(b->out);
		/* push and bisect flights build what a watched branch holds; anything
		 * else is code from anyone and never shares a work tree with them */
		b->src = xasprintf("%s/src/%s-%s%s", b->home, b->tree, b->arch,
				   b->untrusted ? "-untrusted" : "");
		b->out = xasprintf("%s/%s", b->outs, b->tree);
		note(b, "tree %s (%s): commit %s%s", b->tree, b->kind, b->commit,
		     json_is_true(json_object_get(m, "moves")) ? ", the one that moves" : "");
		res = build_tree(b, files, &info);
		if (res)
			goto out;
		json_object_set_new(infos, name, info);
	}

	t = clock_mono_ms();
	sender_set_stage(b->snd, "payloads");
	{
		char *script = xasprintf("%s/payloads.sh", b->hvdir);
		char *argv[] = {script, (char *)b->arch, b->payloads, NULL};

		mkdir_p(b->payloads);
		b->first_error[0] = '\0';
		rc = run_child(b, argv, NULL, PAYLOADS_TIMEOUT_S);
		free(script);
	}
	if (rc != 0) {
		stage_done(b, "payloads", "fail", t);
		snprintf(why, sizeof(why), "the dom0 payloads could not be made (%d): %s", rc,
			 b->first_error);
		res = build_result(b, "infra", why);
		goto out;
	}
	stage_done(b, "payloads", "pass", t);
	/* a tree's dom0-kernel (a linux tree) stands in for Debian's */
	payloads = json_array();
	for (k = 0; k < sizeof(payload_names) / sizeof(payload_names[0]); k++) {
		char *file = xasprintf("%s/%s", b->payloads, payload_names[k]);
		struct stat pst;

		if (k >= PAYLOADS_REQUIRED && lstat(file, &pst) < 0) {
			; /* an optional payload this recipe folder does not make */
		} else if (json_object_get(files, payload_names[k]) == NULL) {
			json_object_set_new(files, payload_names[k], json_string(file));
			json_array_append_new(payloads, json_string(payload_names[k]));
		} else {
			note(b, "artifact %s: the tree's, not the payload's", payload_names[k]);
		}
		free(file);
	}
	/* the toolstack is a Xen tree's: a build of another tree alone (a linux
	 * tree's, shared by flights that want tools) makes none */
	if (b->want_tools && tuple_has_kind(tuple, "xen")) {
		const char *tools = jstr(files, "tools", NULL);
		char *rootfs = tools ? rootfs_make(b, tools, err, sizeof(err)) : NULL;

		if (rootfs == NULL) {
			snprintf(why, sizeof(why), "artifact dom0-rootfs: %s",
				 tools ? err : "no Xen tree built the tools");
			res = build_result(b, "fail", why);
			goto out;
		}
		json_object_set_new(files, "dom0-rootfs", json_string(rootfs));
		free(rootfs);
	}

	t = clock_mono_ms();
	sender_set_stage(b->snd, "upload");
	arts = json_object();
	json_object_foreach (files, name, v) {
		rc = upload(b, json_string_value(v), arts, name, err, sizeof(err));
		if (rc < 0) {
			stage_done(b, "upload", "fail", t);
			snprintf(why, sizeof(why), "artifact %s: %s", name, err);
			/* -EINVAL: what the build left is not a file, the build's fault */
			res = build_result(b, rc == -EINVAL ? "fail" : "infra", why);
			goto out;
		}
	}
	stage_done(b, "upload", "pass", t);
	/* The Xen tree's build-info.json (the dom0 command line takes its
	 * ${xen_version} and ${changeset_arg}), with every tree's under "trees". */
	binfo = json_object();
	json_object_foreach (infos, name, v)
		if (!strcmp(jstr(json_object_get(tuple, name), "kind", "xen"), "xen"))
			json_object_update(binfo, v);
	/* every tree's, and which artifacts are the payloads' (the controller gives
	 * a test a tree's own artifact over a payload's of another build) */
	json_object_set(binfo, "trees", infos);
	json_object_set(binfo, "payloads", payloads);
	json_object_del(binfo, "artifacts");
	{
		size_t n = 0;

		why[0] = '\0';
		json_object_foreach (infos, name, v) {
			const char *kind = jstr(json_object_get(tuple, name), "kind", "xen");

			n += (size_t)snprintf(why + n, sizeof(why) - n, "%s", n ? ", " : "");
			if (n >= sizeof(why))
				break;
			if (!strcmp(kind, "xen"))
				n += (size_t)snprintf(why + n, sizeof(why) - n,
						      "Xen %s built for %s (%s)",
						      jstr(v, "xen_version", "?"), b->arch,
						      jstr(v, "changeset", "?"));
			else
				n += (size_t)snprintf(
				    why + n, sizeof(why) - n, "%s %s (%s %.12s)", kind,
				    jstr(v, "linux_version", jstr(v, "version", "?")), name,
				    jstr(json_object_get(tuple, name), "commit", ""));
			if (n >= sizeof(why))
				break;
		}
	}
	res = build_result(b, "pass", why);
	json_object_set(res, "artifacts", arts);
	json_object_set(res, "build_info", binfo);
out:
	json_decref(arts);
	json_decref(binfo);
	json_decref(payloads);
	json_decref(tuple);
	json_decref(files);
	json_decref(infos);
	return res;
}

static void *builder_main(void *arg)
{
	struct build_run *br = arg;
	struct agent *ag = br->ag;
	struct build b;
	pthread_mutex_t *lock;
	json_t *result;
	char err[256];
	int rc;

	memset(&b, 0, sizeof(b));
	b.ag = ag;
	b.t0_ms = clock_mono_ms();
	b.id = jint(br->attempt, "id", 0);
	b.rev = json_object_get(br->attempt, "revision");
	b.tree = jstr(b.rev, "tree", "");
	b.commit = jstr(b.rev, "commit", "");
	b.arch = jstr(br->attempt, "arch", "");
	b.stages = json_array();
	log_info("attempt %lld: build %s %s for %s", b.id, b.tree, b.commit, b.arch);
	rc = spool_open(&b.sa, ag->cfg.spool_dir, b.id, br->attempt, ag->cfg.limits.log_bytes);
	if (rc < 0) {
		json_t *res = json_pack("{s:s, s:s, s:i}", "verdict", "infra", "reason",
					"the agent cannot spool the attempt", "log_length", 0);

		log_warnx("attempt %lld: cannot spool: %s", b.id, strerror(-rc));
		agent_sign_result(res, br->attempt, &ag->cfg, NULL);
		client_init(&b.h, &ag->cfg);
		client_post_result(&b.h, b.id, res, err, sizeof(err));
		http_client_release(&b.h);
		json_decref(res);
		goto done;
	}
	if (sender_start(&b.snd, &ag->cfg, b.sa, 0) < 0) {
		spool_close(b.sa);
		goto done;
	}
	sender_set_stage(b.snd, "sync");
	client_init(&b.h, &ag->cfg);
	b.h.timeout_ms = 300000;
	b.home = xasprintf("%s/builder", ag->cfg.work_dir);
	/* push and bisect flights build what a watched branch holds; anything else
	 * (submissions, manual flights) is code from anyone and never shares a work
	 * tree or a compiler cache with them */
	b.untrusted = !policy_kind_trusted(jstr(b.rev, "kind", NULL));
	{
		/* the artifacts the flight's tests on this arch need, beyond the
		 * three every build uploads */
		const json_t *w;
		size_t i;

		json_array_foreach (json_object_get(br->attempt, "wants"), i, w) {
			const char *name = json_string_value(w);

			if (name && (!strcmp(name, "tools") || !strcmp(name, "dom0-rootfs")))
				b.want_tools = 1;
		}
	}
	b.outs = xasprintf("%s/out/%lld", b.home, b.id);
	b.payloads = xasprintf("%s/payloads/%s", b.home, b.arch);
	b.blobs = xasprintf("%s/blobs", b.home);
	b.hvdir = find_hypervisor_dir();
	note(&b, "build attempt %lld: tree %s, commit %s, arch %s (agent %s, %s)", b.id, b.tree,
	     b.commit, b.arch, ag->cfg.agent, b.untrusted ? "untrusted" : "trusted");
	lock = &arch_locks[!strcmp(b.arch, "arm64")];
	pthread_mutex_lock(lock);
	result = build_once(&b);
	pthread_mutex_unlock(lock);
	if (b.spool_failed) {
		json_object_set_new(result, "verdict", json_string("infra"));
		json_object_set_new(result, "reason",
				    json_string("the agent could not spool the log"));
	}
	note(&b, "verdict %s: %s", jstr(result, "verdict", "?"), jstr(result, "reason", ""));
	snprintf(br->verdict, sizeof(br->verdict), "%s", jstr(result, "verdict", "?"));
	log_info("attempt %lld: build %s: %s", b.id, br->verdict, jstr(result, "reason", ""));
	{
		char recipe[SHA256_HEX_LEN + 1], *path = xasprintf("%s/build.sh", b.hvdir);

		if (sha256_file(recipe, path, NULL) == 0)
			json_object_set_new(result, SIGN_RECIPE_MEMBER, json_string(recipe));
		free(path);
	}
	if (spool_set_result(b.sa, result) < 0)
		log_warnx("attempt %lld: cannot store the result", b.id);
	json_decref(result);
	/* the artifacts are the controller's now: the output folder can go */
	rm_tree(b.outs);
	sender_finish(b.snd);
	sender_wait_done(b.snd, &ag->stopping);
	sender_stop_free(b.snd, 5000);
	http_client_release(&b.h);
done:
	json_decref(b.stages);
	free(b.home);
	free(b.src);
	free(b.out);
	free(b.outs);
	free(b.payloads);
	free(b.blobs);
	free(b.hvdir);
	br->done = 1;
	return NULL;
}

int builder_start(struct build_run **out, struct agent *ag, json_t *attempt)
{
	struct build_run *br = xcalloc(1, sizeof(*br));
	int rc;

	br->ag = ag;
	br->attempt = attempt;
	rc = pthread_create(&br->thread, NULL, builder_main, br);
	if (rc != 0) {
		free(br);
		return -rc;
	}
	*out = br;
	return 0;
}

void builder_join_free(struct build_run *br)
{
	if (br == NULL)
		return;
	pthread_join(br->thread, NULL);
	json_decref(br->attempt);
	free(br);
}
