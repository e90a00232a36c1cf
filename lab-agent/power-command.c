/* Power by command: templated shell commands for ipmitool, uhubctl, vendor
 * scripts. ${board} is the board's name; the section's `vars` mapping names
 * more ${...} values. A command that exits non-zero or outlives timeout_s is a
 * power failure (infra) with the tail of its output as the reason. */
#include "power.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "json-util.h"
#include "netboot.h"
#include "proc.h"
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
    {.name = "cycle",
     .type = V_STRING,
     .help = "the command to power-cycle, used instead of on to start an attempt",
     .min = 1,
     .max = 4096},
    {.name = "vars", .type = V_OBJECT, .check = check_vars},
    {.name = "timeout_s", .type = V_INT, .min = 1, .max = 600},
    {.name = NULL},
};

/* The last bytes of a command's output: its last words usually say what went
 * wrong. */
struct tail {
	char text[512];
	size_t len;
};

static void tail_line_add(struct tail *t, const char *p, size_t n, size_t max)
{
	if (n > max) {
		p += n - max;
		n = max;
	}
	if (t->len + n > max) {
		size_t drop = t->len + n - max;

		memmove(t->text, t->text + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->text + t->len, p, n);
	t->len += n;
}

static void tail_line(void *arg, const char *line, size_t len)
{
	struct tail *t = arg;
	size_t max = sizeof(t->text) - 1;

	if (t->len)
		tail_line_add(t, "\n", 1, max);
	tail_line_add(t, line, len, max);
}

/* Runs cmd with /bin/sh (lib/proc.h: its own process group, killed at the
 * timeout); its output (the tail) is the error text when it fails. */
static int run_command(const char *cmd, int timeout_s, char *err, size_t errlen)
{
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct tail t = {.len = 0};
	struct proc p;
	int rc;

	proc_init(&p);
	p.argv = argv;
	p.timeout_ms = timeout_s * 1000;
	p.on_line = tail_line;
	p.arg = &t;
	rc = proc_run(&p);
	t.text[t.len] = '\0';
	while (t.len && (t.text[t.len - 1] == '\n' || t.text[t.len - 1] == ' '))
		t.text[--t.len] = '\0';
	if (rc == 0)
		return 0;
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "`%s` did not finish within %d s", cmd, timeout_s);
	else if (rc < 0)
		snprintf(err, errlen, "`%s`: %s", cmd, strerror(-rc));
	else if (WIFSIGNALED(p.status))
		snprintf(err, errlen, "`%s` was killed by signal %d", cmd, WTERMSIG(p.status));
	else
		snprintf(err, errlen, "`%s` exited with %d%s%s", cmd, rc, t.len ? ": " : "",
			 t.text);
	return -1;
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

static int command_cycle(struct board *b, char *err, size_t errlen)
{
	if (!json_object_get(b->power_cfg, "cycle"))
		return 1;
	return command_run(b, "cycle", err, errlen);
}

const struct power_ops power_command_ops = {
    .name = "command",
    .fields = command_fields,
    .on = command_on,
    .off = command_off,
    .cycle = command_cycle,
};
