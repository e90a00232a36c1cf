#include "agent-config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot-quote.h"
#include "console.h"
#include "fs.h"
#include "hash.h"
#include "job-schema.h"
#include "json-util.h"
#include "netboot.h"
#include "policy.h"
#include "power.h"
#include "xmalloc.h"
#include "yaml-load.h"

static char *dir_of(const char *path)
{
	char *c = xstrdup(path), *d = xstrdup(dirname(c));

	free(c);
	return d;
}

static int check_name(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	const char *s = json_string_value(v);
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      (i && (s[i] == '-' || s[i] == '_' || s[i] == '.')))) {
			vctx_error(ctx, parent, key, 0, path,
				   "\"%s\": use lowercase letters, digits, '-', '_' and '.' "
				   "(not first)",
				   s);
			return -1;
		}
	}
	return 0;
}

static const char *const arches[] = {"x86_64", "arm64", "arm32", "riscv64", "ppc64", NULL};
static const char *const visibilities[] = {"public", "private", NULL};

/* A board's own boot arguments: what its hardware makes true for every boot
 * (docs/boards.md, "Board boot arguments"), written before the job's. */
static const struct vfield board_boot_fields[] = {
    {.name = "xen_args", .type = V_STRING, .max = 4096, .help = "put before the job's xen_args"},
    {.name = "dom0_args", .type = V_STRING, .max = 4096, .help = "put before the job's dom0_args"},
    {.name = NULL},
};

static const struct vfield board_fields[] = {
    {.name = "name",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the board's name",
     .min = 1,
     .max = 64,
     .check = check_name},
    {.name = "arch", .type = V_STRING, .flags = V_REQUIRED, .choices = arches},
    {.name = "class",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "boards equivalent for results",
     .min = 1,
     .max = 64,
     .check = check_name},
    {.name = "tags", .type = V_ARRAY, .items = V_STRING, .max = 32},
    {.name = "visibility", .type = V_STRING, .choices = visibilities},
    {.name = "description", .type = V_STRING, .max = 1024},
    {.name = "power", .type = V_OBJECT, .flags = V_REQUIRED, .check = power_section_check},
    {.name = "console", .type = V_OBJECT, .flags = V_REQUIRED, .check = console_section_check},
    {.name = "netboot", .type = V_OBJECT, .flags = V_REQUIRED, .check = netboot_section_check},
    {.name = "policy",
     .type = V_OBJECT,
     .fields = policy_fields,
     .help = "what may run on the board (docs/boards.md, \"Trust policy\")"},
    {.name = "boot",
     .type = V_OBJECT,
     .fields = board_boot_fields,
     .help = "the board's own Xen and dom0 arguments"},
    {.name = NULL},
};

static const struct vfield limits_fields[] = {
    {.name = "cache_mb", .type = V_INT, .min = 1, .max = 1024 * 1024},
    {.name = "spool_mb", .type = V_INT, .min = 1, .max = 1024 * 1024},
    {.name = "log_kb",
     .type = V_INT,
     .min = 16,
     .max = 16384,
     .help = "console log per attempt; the controller keeps at most 16 MiB"},
    {.name = "line_max", .type = V_INT, .min = 80, .max = 1024 * 1024},
    {.name = "claim_wait_ms", .type = V_INT, .min = 100, .max = 60000},
    {.name = "heartbeat_s", .type = V_INT, .min = 1, .max = 3600},
    {.name = "power_timeout_s", .type = V_INT, .min = 1, .max = 600},
    {.name = NULL},
};

static int check_url(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		     const char *path)
{
	const char *s = json_string_value(v);

	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
		vctx_error(ctx, parent, key, 0, path, "\"%s\" is not an http:// or https:// URL",
			   s);
		return -1;
	}
	return 0;
}

static int check_readable_file(struct vctx *ctx, const json_t *parent, const char *key,
			       const json_t *v, const char *path)
{
	const struct check_env *env = ctx->user;
	char *p = path_resolve(env ? env->base_dir : NULL, json_string_value(v));
	int rc = 0;

	if (access(p, R_OK) < 0) {
		vctx_error(ctx, parent, key, 0, path, "cannot read %s: %s", p, strerror(errno));
		rc = -1;
	}
	free(p);
	return rc;
}

static const char *const untrusted_choices[] = {"build", "refuse", NULL};

static const struct vfield builder_fields[] = {
    {.name = "untrusted",
     .type = V_STRING,
     .choices = untrusted_choices,
     .help = "builds of submitted patches: build (in their own work tree and cache) or refuse"},
    {.name = "memory_mb",
     .type = V_INT,
     .min = 256,
     .max = 1024 * 1024,
     .help = "address space of each build process (RLIMIT_AS), default 4096"},
    {.name = "disk_mb",
     .type = V_INT,
     .min = 64,
     .max = 16 * 1024 * 1024,
     .help = "work tree plus output of a build, default 8192"},
    {.name = "processes",
     .type = V_INT,
     .min = 16,
     .max = 1024 * 1024,
     .help = "processes of the agent's user (RLIMIT_NPROC, not for root), default 4096"},
    {.name = "timeout_s",
     .type = V_INT,
     .min = 1,
     .max = 86400,
     .help = "seconds build.sh may run before its process group is killed, default 1800"},
    {.name = NULL},
};

static const struct vfield agent_fields[] = {
    {.name = "controller",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the controller's URL",
     .min = 1,
     .check = check_url},
    {.name = "agent",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "this agent's name",
     .min = 1,
     .max = 64,
     .check = check_name},
    {.name = "token", .type = V_STRING, .min = 1, .max = 256},
    {.name = "token_file", .type = V_STRING, .min = 1, .check = check_readable_file},
    {.name = "cafile", .type = V_STRING, .min = 1, .check = check_readable_file},
    {.name = "work_dir", .type = V_STRING, .flags = V_REQUIRED, .min = 1},
    {.name = "cache_dir", .type = V_STRING, .min = 1},
    {.name = "boards",
     .type = V_ARRAY,
     .flags = V_REQUIRED,
     .items = V_STRING,
     .max = 256,
     .help = "board files, relative to this file"},
    {.name = "build", .type = V_BOOL},
    {.name = "builder", .type = V_OBJECT, .fields = builder_fields},
    {.name = "limits", .type = V_OBJECT, .fields = limits_fields},
    {.name = NULL},
};

static int boot_args_check(struct vctx *ctx, const json_t *parent, const char *key,
			   const struct board *b, const char *path);

int board_load(struct board *b, const char *path, const struct check_env *env_in,
	       struct buf *errors)
{
	struct yaml_doc doc;
	struct vctx ctx;
	struct check_env env = *env_in;
	char err[512];
	char *base = dir_of(path);
	const char *tftp;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	memset(&doc, 0, sizeof(doc));
	vctx_init(&ctx, path, &doc);
	env.base_dir = base;
	if (yaml_doc_load_file(&doc, path, err, sizeof(err)) < 0) {
		buf_printf(errors, "%s\n", err);
		goto out;
	}
	env.board = jstr(doc.root, "name", NULL);
	env.netboot = jstr(json_object_get(doc.root, "netboot"), "backend", NULL);
	env.arch = jstr(doc.root, "arch", NULL);
	ctx.user = &env;
	if (validate_root(&ctx, board_fields, doc.root) < 0) {
		buf_puts(errors, buf_cstr(&ctx.text));
		goto out;
	}
	b->name = xstrdup(jstr(doc.root, "name", ""));
	b->arch = xstrdup(jstr(doc.root, "arch", ""));
	b->board_class = xstrdup(jstr(doc.root, "class", ""));
	b->visibility = xstrdup(jstr(doc.root, "visibility", "public"));
	b->description = xstrdup(jstr(doc.root, "description", ""));
	b->file = xstrdup(path);
	{
		int hr = sha256_file(b->file_sha256, path, NULL);

		if (hr < 0) {
			buf_printf(errors, "%s: cannot hash it: %s\n", path, strerror(-hr));
			goto out;
		}
	}
	{
		struct yaml_pos pos;

		if (yaml_doc_place(&doc, doc.root, "name", 0, &pos, NULL) == 0) {
			b->name_line = pos.line;
			b->name_col = pos.col;
		}
	}
	b->base_dir = xstrdup(base);
	b->tags = json_object_get(doc.root, "tags");
	b->tags = b->tags ? json_deep_copy(b->tags) : json_array();
	b->power_cfg = json_deep_copy(json_object_get(doc.root, "power"));
	b->console_cfg = json_deep_copy(json_object_get(doc.root, "console"));
	b->netboot_cfg = json_deep_copy(json_object_get(doc.root, "netboot"));
	b->policy = json_deep_copy(json_object_get(doc.root, "policy"));
	b->boot = json_deep_copy(json_object_get(doc.root, "boot"));
	b->power = power_find(jstr(b->power_cfg, "backend", ""));
	b->console = console_find(jstr(b->console_cfg, "backend", ""));
	b->netboot = netboot_find(jstr(b->netboot_cfg, "backend", ""));
	if (b->netboot && b->boot &&
	    (boot_args_check(&ctx, b->boot, "xen_args", b, "boot.") < 0 ||
	     boot_args_check(&ctx, b->boot, "dom0_args", b, "boot.") < 0)) {
		buf_puts(errors, buf_cstr(&ctx.text));
		goto out;
	}
	if (env.work_dir) {
		b->run_dir = xasprintf("%s/boards/%s", env.work_dir, b->name);
		tftp = jstr(b->netboot_cfg, "tftp_dir", NULL);
		b->tftp_dir = tftp ? path_resolve(base, tftp) : xasprintf("%s/tftp", b->run_dir);
	}
	rc = 0;
out:
	if (rc < 0)
		board_release(b);
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	free(base);
	return rc;
}

static int read_token(char **out, const char *path, char *err, size_t errlen)
{
	char line[512];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n \t");
	line[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s holds no token", path);
		return -1;
	}
	*out = xstrdup(line);
	return 0;
}

/* A board whose name another file already used: report at its "name". */
static int board_name_twice(const struct board *boards, size_t n, const struct board *b,
			    struct buf *errors)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (&boards[i] != b && !strcmp(boards[i].name, b->name)) {
			buf_printf(
			    errors,
			    "%s:%d:%d: name: board \"%s\" is already described by %s:%d:%d\n",
			    b->file, b->name_line, b->name_col, b->name, boards[i].file,
			    boards[i].name_line, boards[i].name_col);
			return 1;
		}
	}
	return 0;
}

int agent_config_load(struct agent_config *cfg, const char *path, struct buf *errors)
{
	struct yaml_doc doc;
	struct vctx ctx;
	struct check_env env = {0};
	char err[512];
	char *base = dir_of(path);
	const json_t *lim, *boards, *it;
	size_t i;
	int rc = -1, bad = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(&doc, 0, sizeof(doc));
	vctx_init(&ctx, path, &doc);
	env.base_dir = base;
	ctx.user = &env;
	if (yaml_doc_load_file(&doc, path, err, sizeof(err)) < 0) {
		buf_printf(errors, "%s\n", err);
		goto out;
	}
	if (validate_root(&ctx, agent_fields, doc.root) < 0) {
		buf_puts(errors, buf_cstr(&ctx.text));
		goto out;
	}
	cfg->file = xstrdup(path);
	cfg->controller = xstrdup(jstr(doc.root, "controller", ""));
	cfg->agent = xstrdup(jstr(doc.root, "agent", ""));
	if (jstr(doc.root, "token", NULL)) {
		cfg->token = xstrdup(jstr(doc.root, "token", NULL));
	} else if (jstr(doc.root, "token_file", NULL)) {
		char *tf = path_resolve(base, jstr(doc.root, "token_file", NULL));

		if (read_token(&cfg->token, tf, err, sizeof(err)) < 0) {
			buf_printf(errors, "%s: token_file: %s\n", path, err);
			bad = 1;
		}
		cfg->token_file = tf;
	} else {
		buf_printf(errors, "%s: needs \"token\" or \"token_file\"\n", path);
		bad = 1;
	}
	if (jstr(doc.root, "cafile", NULL))
		cfg->cafile = path_resolve(base, jstr(doc.root, "cafile", NULL));
	cfg->work_dir = path_resolve(base, jstr(doc.root, "work_dir", ""));
	cfg->cache_dir = jstr(doc.root, "cache_dir", NULL)
			     ? path_resolve(base, jstr(doc.root, "cache_dir", NULL))
			     : xasprintf("%s/cache", cfg->work_dir);
	cfg->spool_dir = xasprintf("%s/spool", cfg->work_dir);
	cfg->build = jbool(doc.root, "build", 0);
	{
		const json_t *bs = json_object_get(doc.root, "builder");

		cfg->build_untrusted = strcmp(jstr(bs, "untrusted", "build"), "refuse") != 0;
		cfg->build_memory_bytes = jint(bs, "memory_mb", 4096) * 1024 * 1024;
		cfg->build_disk_bytes = jint(bs, "disk_mb", 8192) * 1024 * 1024;
		cfg->build_processes = jint(bs, "processes", 4096);
		cfg->build_timeout_s = (int)jint(bs, "timeout_s", 1800);
	}
	lim = json_object_get(doc.root, "limits");
	cfg->limits.cache_bytes = jint(lim, "cache_mb", 4096) * 1024 * 1024;
	cfg->limits.spool_bytes = jint(lim, "spool_mb", 512) * 1024 * 1024;
	cfg->limits.log_bytes = jint(lim, "log_kb", 16384) * 1024;
	cfg->limits.line_max = (size_t)jint(lim, "line_max", 4096);
	cfg->limits.claim_wait_ms = (int)jint(lim, "claim_wait_ms", 30000);
	cfg->limits.heartbeat_s = (int)jint(lim, "heartbeat_s", 0);
	cfg->limits.power_timeout_s = (int)jint(lim, "power_timeout_s", 60);
	{
		int e = mkdir_p(cfg->work_dir);

		if (e == 0 && access(cfg->work_dir, W_OK) < 0)
			e = -errno;
		if (e < 0) {
			buf_printf(errors, "%s: work_dir: cannot use %s: %s\n", path, cfg->work_dir,
				   strerror(-e));
			bad = 1;
		}
	}
	env.work_dir = cfg->work_dir;
	boards = json_object_get(doc.root, "boards");
	cfg->boards = xcalloc(json_array_size(boards) + 1, sizeof(*cfg->boards));
	json_array_foreach (boards, i, it) {
		char *bp = path_resolve(base, json_string_value(it));
		struct board *b = &cfg->boards[cfg->nboards];

		if (board_load(b, bp, &env, errors) < 0) {
			bad = 1;
		} else if (board_name_twice(cfg->boards, cfg->nboards, b, errors)) {
			board_release(b);
			bad = 1;
		} else {
			cfg->nboards++;
		}
		free(bp);
	}
	if (!bad && cfg->nboards == 0) {
		buf_printf(errors, "%s: boards: no board to run\n", path);
		bad = 1;
	}
	rc = bad ? -1 : 0;
out:
	if (rc < 0)
		agent_config_release(cfg);
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	free(base);
	return rc;
}

enum config_kind { CONFIG_BOARD, CONFIG_AGENT, CONFIG_JOB };

/* An agent file names its controller, a job file its requirements; any other
 * file is checked as a board (whose validator then says what is wrong). */
static enum config_kind config_kind_of(const char *path)
{
	struct yaml_doc doc;
	char err[256];
	enum config_kind k = CONFIG_BOARD;

	memset(&doc, 0, sizeof(doc));
	if (yaml_doc_load_file(&doc, path, err, sizeof(err)) == 0) {
		if (json_object_get(doc.root, "controller") != NULL)
			k = CONFIG_AGENT;
		else if (json_object_get(doc.root, "requires") != NULL)
			k = CONFIG_JOB;
	}
	yaml_doc_release(&doc);
	return k;
}

/* A job file, with the table the controller uses (lib/job-schema.h). */
static int job_check_file(const char *path, struct buf *errors)
{
	struct yaml_doc doc;
	struct vctx ctx;
	char err[512];
	int rc = -1;

	memset(&doc, 0, sizeof(doc));
	vctx_init(&ctx, path, &doc);
	if (yaml_doc_load_file(&doc, path, err, sizeof(err)) < 0)
		buf_printf(errors, "%s\n", err);
	else if ((rc = job_validate(&ctx, doc.root)) < 0)
		buf_puts(errors, buf_cstr(&ctx.text));
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return rc;
}

/* One command line of a job or of a board (parent's member key) as board b's firmware would
 * write it; the ${name} placeholders the agent fills (always one safe word) are
 * read as plain letters. Reports what the firmware cannot carry. */
static int boot_args_check(struct vctx *ctx, const json_t *parent, const char *key,
			   const struct board *b, const char *path)
{
	const char *v = json_string_value(json_object_get(parent, key));
	struct buf out = BUF_INIT(0);
	char *w, *d, why[256];
	size_t at = 0;
	int rc;

	if (v == NULL)
		return 0;
	w = xstrdup(v);
	for (d = strstr(w, "${"); d; d = strstr(d, "${")) {
		char *e = strchr(d + 2, '}');

		if (e == NULL)
			break;
		if (e > d + 2 &&
		    strspn(d + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789_") == (size_t)(e - d - 2))
			memset(d, 'x', (size_t)(e - d) + 1);
		d = e;
	}
	rc = boot_quote(&out, b->netboot->syntax, w, &at, why, sizeof(why));
	if (rc == -EINVAL) {
		char full[160];

		snprintf(full, sizeof(full), "%s%s", path, key);
		vctx_error(ctx, parent, key, 0, full,
			   "board %s boots with %s, which cannot carry this (byte %zu): %s",
			   b->name, boot_syntax_names[b->netboot->syntax], at + 1, why);
	}
	buf_release(&out);
	free(w);
	return rc == -EINVAL ? -1 : 0;
}

/* 1 when the job's requires.arch (absent, a string or a list) takes arch. */
static int job_takes_arch(const json_t *requires, const char *arch)
{
	const json_t *a = json_object_get(requires, "arch"), *x;
	size_t i;

	if (a == NULL)
		return 1;
	if (json_is_string(a))
		return !strcmp(json_string_value(a), arch);
	json_array_foreach (a, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), arch))
			return 1;
	return 0;
}

/* A job's xen_args and dom0_args (and their per-arch parts) against the firmware
 * of every board checked with it that has one of the job's arches. */
static int job_boot_args_check(const char *path, const struct board *boards, size_t n,
			       struct buf *errors)
{
	struct yaml_doc doc;
	struct vctx ctx;
	char err[512];
	const json_t *boot;
	int bad = 0;

	memset(&doc, 0, sizeof(doc));
	vctx_init(&ctx, path, &doc);
	if (yaml_doc_load_file(&doc, path, err, sizeof(err)) < 0)
		goto out;
	boot = json_object_get(doc.root, "boot");
	for (size_t i = 0; i < n && json_is_object(boot); i++) {
		const struct board *b = &boards[i];
		const json_t *per = json_object_get(json_object_get(boot, "arch"), b->arch);
		char where[96];

		if (b->netboot == NULL ||
		    !job_takes_arch(json_object_get(doc.root, "requires"), b->arch))
			continue;
		snprintf(where, sizeof(where), "boot.arch.%.40s.", b->arch);
		if (boot_args_check(&ctx, boot, "xen_args", b, "boot.") < 0 ||
		    boot_args_check(&ctx, boot, "dom0_args", b, "boot.") < 0 ||
		    boot_args_check(&ctx, per, "xen_args", b, where) < 0 ||
		    boot_args_check(&ctx, per, "dom0_args", b, where) < 0)
			bad = 1;
	}
	if (bad)
		buf_puts(errors, buf_cstr(&ctx.text));
out:
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return bad ? -1 : 0;
}

int config_check_files(char *const *files, int nfiles, struct buf *errors)
{
	struct board *seen = xcalloc((size_t)nfiles + 1, sizeof(*seen));
	size_t nseen = 0, i;
	int k, bad = 0;

	for (k = 0; k < nfiles; k++) {
		enum config_kind kind = config_kind_of(files[k]);

		if (kind == CONFIG_JOB) {
			if (job_check_file(files[k], errors) < 0)
				bad = 1;
		} else if (kind == CONFIG_AGENT) {
			struct agent_config cfg;

			if (agent_config_load(&cfg, files[k], errors) < 0)
				bad = 1;
			agent_config_release(&cfg);
		} else {
			struct check_env env = {0};
			struct board *b = &seen[nseen];

			if (board_load(b, files[k], &env, errors) < 0) {
				bad = 1;
			} else if (board_name_twice(seen, nseen, b, errors)) {
				board_release(b);
				bad = 1;
			} else {
				nseen++;
			}
		}
	}
	/* Jobs checked with boards: can each board's firmware carry their command lines? */
	for (k = 0; k < nfiles; k++)
		if (config_kind_of(files[k]) == CONFIG_JOB &&
		    job_boot_args_check(files[k], seen, nseen, errors) < 0)
			bad = 1;
	for (i = 0; i < nseen; i++)
		board_release(&seen[i]);
	free(seen);
	return bad ? -1 : 0;
}
