/* Power by command: templated shell commands for ipmitool, uhubctl, vendor
 * scripts. ${board} is the board's name; the section's `vars` mapping names
 * more ${...} values. A command that exits non-zero or outlives timeout_s is a
 * power failure (infra) with the tail of its output as the reason. */
#include "power.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json-util.h"
#include "netboot.h"
#include "xmalloc.h"

static int check_vars(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	const char *k;
	json_t *val;
	int rc = 0;

	json_object_foreach ((json_t *)v, k, val) {
		if (!json_is_string(val) && !json_is_integer(val)) {
			vctx_error(ctx, v, k, 0, path, "vars.%s must be a string or an integer", k);
			rc = -1;
		}
	}
	(void)parent;
	(void)key;
	return rc;
}

static const struct vfield command_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "on",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the command to power on",
     .min = 1,
     .max = 4096},
    {.name = "off",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the command to power off",
     .min = 1,
     .max = 4096},
    {.name = "cycle", .type = V_STRING, .min = 1, .max = 4096},
    {.name = "vars", .type = V_OBJECT, .check = check_vars},
    {.name = "timeout_s", .type = V_INT, .min = 1, .max = 600},
    {.name = NULL},
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs cmd with /bin/sh in its own process group; its output (bounded) is the
 * error text when it fails. */
static int run_command(const char *cmd, int timeout_s, char *err, size_t errlen)
{
	char out[512];
	size_t outlen = 0;
	long long end = now_ms() + (long long)timeout_s * 1000;
	int pfd[2], status = 0, rc = -1, timed_out = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pfd[1]);
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		long long left = end - now_ms();
		ssize_t n;
		char tmp[256];

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(pfd[0], tmp, sizeof(tmp));
		if (n <= 0)
			break;
		/* keep the tail: the last words usually say what went wrong */
		if (outlen + (size_t)n > sizeof(out) - 1) {
			size_t drop = outlen + (size_t)n - (sizeof(out) - 1);

			memmove(out, out + drop, outlen - drop);
			outlen -= drop;
		}
		memcpy(out + outlen, tmp, (size_t)n);
		outlen += (size_t)n;
	}
	close(pfd[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		kill(-pid, SIGKILL); /* what it started in its group goes too */
	out[outlen] = '\0';
	while (outlen && (out[outlen - 1] == '\n' || out[outlen - 1] == ' '))
		out[--outlen] = '\0';
	if (timed_out)
		snprintf(err, errlen, "`%s` did not finish within %d s", cmd, timeout_s);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status))
		snprintf(err, errlen, "`%s` exited with %d%s%s", cmd, WEXITSTATUS(status),
			 outlen ? ": " : "", out);
	else
		snprintf(err, errlen, "`%s` was killed by signal %d", cmd, WTERMSIG(status));
	return rc;
}

static int command_run(struct board *b, const char *which, char *err, size_t errlen)
{
	const json_t *vars = json_object_get(b->power_cfg, "vars");
	const char *names[34], *values[34];
	char nums[32][24];
	struct buf cmd = BUF_INIT(16384);
	const char *k;
	json_t *v;
	size_t n = 0;
	int rc;

	names[n] = "board";
	values[n++] = b->name;
	json_object_foreach ((json_t *)vars, k, v) {
		if (n >= 33)
			break;
		names[n] = k;
		if (json_is_integer(v)) {
			snprintf(nums[n], sizeof(nums[n]), "%lld", json_integer_value(v));
			values[n] = nums[n];
		} else {
			values[n] = json_string_value(v) ? json_string_value(v) : "";
		}
		n++;
	}
	names[n] = NULL;
	values[n] = NULL;
	if (netboot_fill(&cmd, jstr(b->power_cfg, which, "false"), names, values) < 0) {
		snprintf(err, errlen, "power %s: the command is too long", which);
		buf_release(&cmd);
		return -1;
	}
	rc = run_command(buf_cstr(&cmd), (int)jint(b->power_cfg, "timeout_s", 60), err, errlen);
	buf_release(&cmd);
	return rc;
}

static int command_on(struct board *b, char *err, size_t errlen)
{
	return command_run(b, "on", err, errlen);
}

static int command_off(struct board *b, char *err, size_t errlen)
{
	return command_run(b, "off", err, errlen);
}

const struct power_ops power_command_ops = {
    .name = "command",
    .fields = command_fields,
    .on = command_on,
    .off = command_off,
};
