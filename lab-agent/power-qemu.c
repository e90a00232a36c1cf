/* The emulated board: "power on" starts QEMU with the board's firmware, user-net
 * TFTP serving the board's staging folder, the console on a unix socket chardev
 * (server=on,wait=on: the guest waits for console-qemu.c) and QMP for power-off.
 *
 * QEMU never outlives the agent: it runs (lib/proc.h) in a process group of its
 * own with PR_SET_PDEATHSIG (SIGKILL when the thread that started it dies), and a
 * pidfile lets the next agent reap a QEMU left by a SIGKILLed one. */
#include "power.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"
#include "fs.h"
#include "json-util.h"
#include "netboot.h"
#include "proc.h"
#include "xmalloc.h"

struct qemu_state {
	struct proc proc; /* the running QEMU; proc.pid is 0 when none */
	int cut;	  /* SIGKILLed by qemu_cut: off only waits for it */
};

static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	int found = 0;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	copy = xstrdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, prog);

		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

static int check_program(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			 const char *path)
{
	if (!in_path(json_string_value(v))) {
		vctx_error(ctx, parent, key, 0, path, "no program %s (install qemu-system-*)",
			   json_string_value(v));
		return -1;
	}
	return 0;
}

/* bios, ipxe_kernel: a regular file to read, a relative path from the board
 * file's folder (as tftp_dir and template) */
static int check_file(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	const struct check_env *env = ctx->user;
	char *file = path_resolve(env ? env->base_dir : NULL, json_string_value(v));
	struct stat st;
	int rc = 0;

	if (access(file, R_OK) < 0) {
		vctx_error(ctx, parent, key, 0, path, "cannot read %s: %s", file, strerror(errno));
		rc = -1;
	} else if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		vctx_error(ctx, parent, key, 0, path, "%s is not a file", file);
		rc = -1;
	}
	free(file);
	return rc;
}

/* ipxe_kernel: a file to read; the board an x86_64 one booted by SeaBIOS (QEMU's
 * default firmware on x86: no bios of its own), which loads the kernel with
 * linuxboot, and its boot script iPXE's (what the command line chains) */
static int check_ipxe_kernel(struct vctx *ctx, const json_t *parent, const char *key,
			     const json_t *v, const char *path)
{
	const struct check_env *env = ctx->user;

	if (check_file(ctx, parent, key, v, path) < 0)
		return -1;
	if (env && env->netboot && strcmp(env->netboot, "ipxe")) {
		vctx_error(ctx, parent, key, 0, path,
			   "needs netboot backend ipxe (the script it chains), not %s",
			   env->netboot);
		return -1;
	}
	if (env && env->arch && strcmp(env->arch, "x86_64")) {
		vctx_error(ctx, parent, key, 0, path,
			   "is for x86_64 boards (iPXE's lkrn is an x86 kernel), not %s",
			   env->arch);
		return -1;
	}
	if (json_object_get(parent, "bios")) {
		vctx_error(ctx, parent, key, 0, path,
			   "needs QEMU's own SeaBIOS, which starts a kernel: no bios beside it");
		return -1;
	}
	return 0;
}

/* threads: the board's CPUs are smp / threads cores of that many threads */
static int check_threads(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			 const char *path)
{
	long long smp = jint(parent, "smp", 1), threads = json_integer_value(v);

	if (threads >= 1 && smp % threads) {
		vctx_error(ctx, parent, key, 0, path, "smp %lld is not a multiple of %lld threads",
			   smp, threads);
		return -1;
	}
	return 0;
}

static const struct vfield qemu_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "qemu",
     .type = V_STRING,
     .help = "the QEMU program (default by arch)",
     .min = 1,
     .check = check_program},
    {.name = "machine",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "e.g. q35, virt,virtualization=on,gic-version=3",
     .min = 1,
     .max = 256},
    {.name = "cpu", .type = V_STRING, .min = 1, .max = 128},
    {.name = "memory", .type = V_INT, .help = "MiB", .min = 64, .max = 1024 * 1024},
    {.name = "smp", .type = V_INT, .min = 1, .max = 256},
    {.name = "threads",
     .type = V_INT,
     .help = "threads per core (SMT siblings); smp must be a multiple",
     .min = 1,
     .max = 8,
     .check = check_threads},
    {.name = "bios",
     .type = V_STRING,
     .help = "firmware image, e.g. U-Boot's u-boot.bin",
     .min = 1,
     .check = check_file},
    {.name = "ipxe_kernel",
     .type = V_STRING,
     .help = "iPXE as a Linux kernel (Debian's ipxe: /boot/ipxe.lkrn) instead of the NIC's ROM",
     .min = 1,
     .check = check_ipxe_kernel},
    {.name = "nic", .type = V_STRING, .help = "e.g. e1000, virtio-net-pci", .min = 1, .max = 64},
    {.name = "extra", .type = V_ARRAY, .items = V_STRING, .max = 64},
    {.name = "start_timeout_s", .type = V_INT, .min = 1, .max = 600},
    {.name = NULL},
};

static const char *default_qemu(const char *arch)
{
	if (!strcmp(arch, "arm64"))
		return "qemu-system-aarch64";
	if (!strcmp(arch, "arm32"))
		return "qemu-system-arm";
	if (!strcmp(arch, "riscv64"))
		return "qemu-system-riscv64";
	if (!strcmp(arch, "ppc64"))
		return "qemu-system-ppc64";
	return "qemu-system-x86_64";
}

static char *run_file(const struct board *b, const char *name)
{
	return xasprintf("%s/%s", b->run_dir, name);
}

static void tail_of(const char *path, char *out, size_t outlen)
{
	char buf[400];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t n = 0;
	size_t i;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (i = 0; i < (size_t)n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	if (outlen > (size_t)n)
		outlen = (size_t)n + 1;
	memcpy(out, buf, outlen - 1);
	out[outlen - 1] = '\0';
}

static void argv_add(char ***argv, size_t *n, char *s)
{
	*argv = xrealloc(*argv, (*n + 2) * sizeof(**argv));
	(*argv)[(*n)++] = s;
	(*argv)[*n] = NULL;
}

/* ipxe_kernel's command line, which iPXE runs as its script (iPXE's runtime.c):
 * the addresses of QEMU's user network (its documentation: the guest's first
 * DHCP address 10.0.2.15/24, the gateway and TFTP server 10.0.2.2) set by hand,
 * then the boot script from that server. The NIC's ROM gets the same by DHCP but
 * then waits 3 s for ProxyDHCP offers (iPXE's config/dhcp.h,
 * DHCP_DISC_PROXY_TIMEOUT_SEC), which QEMU's DHCP server cannot tell it not to
 * expect (option 175.176). When the fetch fails or the script exits, iPXE returns
 * to SeaBIOS, which goes on as without it: the NIC's ROM, then "No bootable
 * device." */
static char *ipxe_cmdline(const char *bootfile)
{
	return xasprintf("ifopen net0 && set net0/ip 10.0.2.15 && set net0/netmask 255.255.255.0 &&"
			 " set net0/gateway 10.0.2.2 && chain tftp://10.0.2.2/%s",
			 bootfile);
}

/* The command line; repro: as `xenci repro` runs it away from the agent (the
 * TFTP folder written ${TFTP}, the console on stdio, no QMP socket). */
static char **qemu_argv(const struct board *b, size_t *argc, int repro)
{
	const json_t *c = b->power_cfg, *extra = json_object_get(c, "extra"), *it;
	const char *bootfile = b->netboot->bootfile ? b->netboot->bootfile(b) : "boot";
	char **argv = NULL;
	size_t n = 0, i;

	argv_add(&argv, &n, xstrdup(jstr(c, "qemu", default_qemu(b->arch))));
	argv_add(&argv, &n, xstrdup("-machine"));
	argv_add(&argv, &n, xstrdup(jstr(c, "machine", "q35")));
	if (jstr(c, "cpu", NULL)) {
		argv_add(&argv, &n, xstrdup("-cpu"));
		argv_add(&argv, &n, xstrdup(jstr(c, "cpu", NULL)));
	}
	argv_add(&argv, &n, xstrdup("-m"));
	argv_add(&argv, &n, xasprintf("%lld", jint(c, "memory", 1024)));
	argv_add(&argv, &n, xstrdup("-smp"));
	if (jint(c, "threads", 1) > 1)
		argv_add(&argv, &n,
			 xasprintf("%lld,sockets=1,cores=%lld,threads=%lld", jint(c, "smp", 1),
				   jint(c, "smp", 1) / jint(c, "threads", 1),
				   jint(c, "threads", 1)));
	else
		argv_add(&argv, &n, xasprintf("%lld", jint(c, "smp", 1)));
	if (jstr(c, "bios", NULL)) {
		argv_add(&argv, &n, xstrdup("-bios"));
		argv_add(&argv, &n, path_resolve(b->base_dir, jstr(c, "bios", NULL)));
	}
	if (jstr(c, "ipxe_kernel", NULL)) {
		argv_add(&argv, &n, xstrdup("-kernel"));
		argv_add(&argv, &n, path_resolve(b->base_dir, jstr(c, "ipxe_kernel", NULL)));
		argv_add(&argv, &n, xstrdup("-append"));
		argv_add(&argv, &n, ipxe_cmdline(bootfile));
	}
	argv_add(&argv, &n, xstrdup("-nographic"));
	argv_add(&argv, &n, xstrdup("-monitor"));
	argv_add(&argv, &n, xstrdup("none"));
	argv_add(&argv, &n, xstrdup("-no-reboot"));
	argv_add(&argv, &n, xstrdup("-netdev"));
	argv_add(
	    &argv, &n,
	    xasprintf("user,id=n0,tftp=%s,bootfile=%s", repro ? "${TFTP}" : b->tftp_dir, bootfile));
	argv_add(&argv, &n, xstrdup("-device"));
	argv_add(&argv, &n, xasprintf("%s,netdev=n0", jstr(c, "nic", "e1000")));
	argv_add(&argv, &n, xstrdup("-chardev"));
	if (repro)
		argv_add(&argv, &n, xstrdup("stdio,id=con0,signal=off"));
	else
		argv_add(
		    &argv, &n,
		    xasprintf("socket,id=con0,path=%s/console.sock,server=on,wait=on", b->run_dir));
	argv_add(&argv, &n, xstrdup("-serial"));
	argv_add(&argv, &n, xstrdup("chardev:con0"));
	if (!repro) {
		argv_add(&argv, &n, xstrdup("-qmp"));
		argv_add(&argv, &n, xasprintf("unix:%s/qmp.sock,server=on,wait=off", b->run_dir));
	}
	json_array_foreach (extra, i, it) {
		argv_add(&argv, &n, xstrdup(json_string_value(it)));
	}
	*argc = n;
	return argv;
}

char **power_qemu_argv(const struct board *b, size_t *argc)
{
	return qemu_argv(b, argc, 0);
}

json_t *power_qemu_repro_argv(const struct board *b)
{
	size_t n, i;
	char **argv = qemu_argv(b, &n, 1);
	json_t *a = json_array();

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(argv[i]));
	power_qemu_argv_free(argv);
	return a;
}

void power_qemu_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void unlink_run_file(const struct board *b, const char *name)
{
	char *p = run_file(b, name);

	unlink(p);
	free(p);
}

static int qemu_on(struct board *b, char *err, size_t errlen)
{
	struct qemu_state *st = b->power_state;
	char *sock = run_file(b, "console.sock"), *logp = run_file(b, "qemu.log");
	char *pidp = run_file(b, "qemu.pid");
	char **argv = NULL;
	size_t argc;
	long long t0;
	int timeout_ms = (int)jint(b->power_cfg, "start_timeout_s", 10) * 1000;
	int rc = -1, e;

	if (st && st->proc.pid > 0) {
		snprintf(err, errlen, "QEMU is already running (pid %d)", (int)st->proc.pid);
		goto out;
	}
	if ((e = mkdir_p(b->run_dir)) < 0 || (e = mkdir_p(b->tftp_dir)) < 0) {
		snprintf(err, errlen, "cannot make %s: %s", b->run_dir, strerror(-e));
		goto out;
	}
	unlink(sock);
	unlink_run_file(b, "qmp.sock");
	argv = power_qemu_argv(b, &argc);
	if (st == NULL)
		st = b->power_state = xcalloc(1, sizeof(*st));
	proc_init(&st->proc);
	st->cut = 0;
	st->proc.argv = (const char *const *)argv;
	st->proc.out_path = logp;
	st->proc.die_with_parent = 1;
	e = proc_start(&st->proc);
	if (e < 0) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(-e));
		goto out;
	}
	{
		FILE *f = fopen(pidp, "w");

		if (f) {
			fprintf(f, "%d\n", (int)st->proc.pid);
			fclose(f);
		}
	}
	/* QEMU makes its console socket once it is set up; a bad argument ends it first */
	t0 = clock_mono_ms();
	for (;;) {
		if (access(sock, F_OK) == 0) {
			rc = 0;
			break;
		}
		if (!proc_alive(&st->proc)) {
			char tail[400];

			unlink(pidp);
			tail_of(logp, tail, sizeof(tail));
			snprintf(err, errlen, "QEMU exited at once: %s", tail);
			break;
		}
		if (clock_mono_ms() - t0 > timeout_ms) {
			snprintf(err, errlen, "QEMU made no console socket within %d s",
				 timeout_ms / 1000);
			break;
		}
		usleep(5 * 1000);
	}
	if (rc < 0 && st->proc.pid > 0) {
		char e2[64];

		b->power->off(b, e2, sizeof(e2));
	}
out:
	power_qemu_argv_free(argv);
	free(sock);
	free(logp);
	free(pidp);
	return rc;
}

/* Asks QEMU to quit over QMP; the caller waits and kills if it does not. */
static void qmp_quit(const struct board *b)
{
	char *qmp = run_file(b, "qmp.sock"), err[128], greeting[1024];
	static const char cmds[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";
	int fd;

	if (console_connect_unix(qmp, 200, &fd, err, sizeof(err)) == 0) {
		struct timeval tv = {0, 500 * 1000};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read(fd, greeting, sizeof(greeting)) > 0 &&
		    write(fd, cmds, sizeof(cmds) - 1) == (ssize_t)sizeof(cmds) - 1) {
			ssize_t n = read(fd, greeting, sizeof(greeting));

			(void)n;
		}
		close(fd);
	}
	free(qmp);
}

static int qemu_off(struct board *b, char *err, size_t errlen)
{
	struct qemu_state *st = b->power_state;

	(void)err;
	(void)errlen;
	if (st == NULL || st->proc.pid <= 0)
		return 0;
	if (proc_alive(&st->proc)) {
		if (!st->cut)
			qmp_quit(b);
		if (proc_wait(&st->proc, 2000) == -ETIMEDOUT)
			proc_kill(&st->proc);
	}
	st->cut = 0;
	unlink_run_file(b, "qemu.pid");
	unlink_run_file(b, "console.sock");
	unlink_run_file(b, "qmp.sock");
	return 0;
}

/* The verdict is in: QEMU is killed (a netbooted board keeps nothing a quit would
 * save), and qemu_off reaps it once the result is delivered. Asking it to quit
 * over QMP and waiting for it to go took the time of its teardown from every
 * attempt. */
static int qemu_cut(struct board *b)
{
	struct qemu_state *st = b->power_state;

	if (st == NULL || st->proc.pid <= 0)
		return -1;
	st->cut = 1;
	kill(-st->proc.pid, SIGKILL);
	kill(st->proc.pid, SIGKILL);
	return 0;
}

static int qemu_alive(struct board *b)
{
	struct qemu_state *st = b->power_state;

	return st && st->proc.pid > 0 && proc_alive(&st->proc);
}

/* A QEMU left by an agent that was SIGKILLed: its pidfile names it, and its
 * command line names this board's run folder (so a recycled pid is spared). */
static void qemu_reap(struct board *b)
{
	char *pidp = run_file(b, "qemu.pid"), *cmdp = NULL;
	char cmdline[8192];
	FILE *f = fopen(pidp, "r");
	int pid = 0, fd;
	ssize_t n;

	if (f == NULL)
		goto out;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		goto done;
	cmdp = xasprintf("/proc/%d/cmdline", pid);
	fd = open(cmdp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto done;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n > 0) {
		ssize_t i;

		cmdline[n] = '\0';
		for (i = 0; i < n; i++)
			if (cmdline[i] == '\0')
				cmdline[i] = ' ';
		if (strstr(cmdline, b->run_dir) && strstr(cmdline, "console.sock"))
			kill(pid, SIGKILL);
	}
done:
	unlink(pidp);
out:
	free(cmdp);
	free(pidp);
}

const struct power_ops power_qemu_ops = {
    .name = "qemu",
    .fields = qemu_fields,
    .on = qemu_on,
    .off = qemu_off,
    .reap = qemu_reap,
    .alive = qemu_alive,
    .cut = qemu_cut,
};
