#include "netboot.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "fs.h"
#include "hash.h"
#include "json-util.h"
#include "prompts.h"
#include "xmalloc.h"

/* Adding a backend: one file (netboot-NAME.c) and one line here. */
const struct netboot_ops *const netboot_backends[] = {
    &netboot_ipxe_ops, &netboot_uboot_ops, &netboot_pxelinux_ops, &netboot_grub_ops, NULL,
};

_Static_assert(offsetof(struct netboot_ops, name) == offsetof(struct backend_head, name) &&
		   offsetof(struct netboot_ops, fields) == offsetof(struct backend_head, fields),
	       "struct netboot_ops begins like struct backend_head");

const struct netboot_ops *netboot_find(const char *name)
{
	return backend_find((const void *const *)netboot_backends, name);
}

const struct vfield netboot_prompt_fields[] = {
    {.name = "expect",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the text the firmware prints, as its bytes come",
     .min = 1,
     .max = PROMPTS_EXPECT_MAX},
    {.name = "send",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "what is written to the console when it comes (\"\\r\", \"\\x02\")",
     .min = 1,
     .max = 256},
    {.name = NULL},
};

json_t *netboot_prompts(const struct board *b)
{
	json_t *own = json_object_get(b->netboot_cfg, "prompts"), *list;
	const struct netboot_prompt *p;

	if (json_is_array(own))
		return json_incref(own);
	list = json_array();
	for (p = b->netboot ? b->netboot->prompts : NULL; p && p->expect; p++)
		json_array_append_new(
		    list, json_pack("{s:s, s:s}", "expect", p->expect, "send", p->send));
	return list;
}

int netboot_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	return backend_section_check((const void *const *)netboot_backends, ctx, parent, key, value,
				     path);
}

int netboot_expand(struct buf *out, const char *tmpl, netboot_lookup_fn *lookup, void *arg,
		   netboot_put_fn *put)
{
	const char *p = tmpl;

	while (*p) {
		const char *d = strstr(p, "${"), *e, *v;

		if (d == NULL)
			return buf_puts(out, p);
		if (buf_append(out, p, (size_t)(d - p)) < 0)
			return -ENOSPC;
		e = strchr(d + 2, '}');
		if (e == NULL)
			return buf_puts(out, d);
		v = lookup(arg, d + 2, (size_t)(e - d - 2));
		if (v == NULL) {
			/* Not ours: keep the '$' and look again from the '{', so that
			 * "${x${name}" fills ${name} as boot-test.sh's fill() does. */
			if (buf_putc(out, '$') < 0)
				return -ENOSPC;
			p = d + 1;
			continue;
		}
		if ((put ? put(out, v) : buf_puts(out, v)) < 0)
			return -ENOSPC;
		p = e + 1;
	}
	return 0;
}

struct pairs {
	const char *const *names, *const *values;
};

static const char *pairs_lookup(void *arg, const char *name, size_t len)
{
	const struct pairs *pv = arg;
	size_t i;

	for (i = 0; pv->names[i]; i++)
		if (strlen(pv->names[i]) == len && !strncmp(pv->names[i], name, len))
			return pv->values[i] ? pv->values[i] : "";
	return NULL;
}

int netboot_fill(struct buf *out, const char *tmpl, const char *const *names,
		 const char *const *values)
{
	struct pairs pv = {names, values};

	return netboot_expand(out, tmpl, pairs_lookup, &pv, NULL);
}

int netboot_template(char **tmpl, const struct board *b, const char *builtin, char *err,
		     size_t errlen)
{
	const char *t = jstr(b->netboot_cfg, "template", NULL);
	struct buf data = BUF_INIT(1024 * 1024);
	char *path;
	FILE *f;
	char chunk[4096];
	size_t n;

	if (t == NULL) {
		*tmpl = xstrdup(builtin);
		return 0;
	}
	path = path_resolve(b->base_dir, t);
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "netboot template %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&data, chunk, n) < 0) {
			snprintf(err, errlen, "netboot template %s: larger than 1 MiB", path);
			fclose(f);
			free(path);
			buf_release(&data);
			return -1;
		}
	}
	fclose(f);
	free(path);
	*tmpl = buf_detach(&data, NULL);
	if (*tmpl == NULL)
		*tmpl = xstrdup("");
	return 0;
}

static _Thread_local char script_sha256[SHA256_HEX_LEN + 1];

const char *netboot_script_sha256(void)
{
	return script_sha256;
}

void netboot_script_forget(void)
{
	script_sha256[0] = '\0';
}

int netboot_write_file(const char *dir, const char *name, const void *data, size_t len, char *err,
		       size_t errlen)
{
	char *dst = xasprintf("%s/%s", dir, name);
	int rc = file_write_atomic(dst, data, len, 0644, 0);

	if (rc == 0 && sha256_hex(script_sha256, data, len) < 0)
		script_sha256[0] = '\0';

	if (rc < 0)
		snprintf(err, errlen, "cannot write %s: %s", dst, strerror(-rc));
	free(dst);
	return rc < 0 ? -1 : 0;
}

int netboot_check_template(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			   const char *path)
{
	static const char *const args[] = {"${xenci_xen_args}", "${xenci_dom0_args}", NULL};
	const struct check_env *env = ctx->user;
	const char *backend = jstr(parent, "backend", "");
	char *file = path_resolve(env ? env->base_dir : NULL, json_string_value(v)), *text = NULL;
	struct buf data = BUF_INIT(1024 * 1024);
	char chunk[4096];
	size_t n;
	FILE *f = fopen(file, "r");
	int rc = 0;

	if (f == NULL) {
		vctx_error(ctx, parent, key, 0, path, "template %s: %s", file, strerror(errno));
		free(file);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && buf_append(&data, chunk, n) == 0)
		;
	fclose(f);
	text = data.data;
	if (text && (!strcmp(backend, "uboot") || !strcmp(backend, "grub"))) {
		for (size_t i = 0; args[i] && rc == 0; i++) {
			for (const char *p = strstr(text, args[i]); p; p = strstr(p + 1, args[i])) {
				const char *after = p + strlen(args[i]), *bol = p;
				int line = 1;

				if (p == text || (p[-1] != '"' && p[-1] != '\'') ||
				    (*after != '"' && *after != '\''))
					continue;
				for (const char *q = text; q < p; q++)
					line += *q == '\n';
				while (bol > text && bol[-1] != '\n')
					bol--;
				vctx_error(
				    ctx, parent, key, 0, path,
				    "%s:%d:%d: %s is quoted: the agent writes it as quoted words "
				    "already (docs/boards.md, Boot arguments in boot scripts); "
				    "drop the quotes around it",
				    file, line, (int)(p - bol) + 1, args[i]);
				rc = -1;
				break;
			}
		}
	}
	buf_release(&data);
	free(file);
	return rc;
}

/* The common check of netboot.tftp_dir: a writable folder, or one that can be
 * made (its nearest existing parent is writable). --check leaves nothing behind. */
int netboot_check_tftp_dir(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			   const char *path)
{
	const struct check_env *env = ctx->user;
	char *dir = path_resolve(env ? env->base_dir : NULL, json_string_value(v));
	char *probe = xstrdup(dir);
	struct stat st;
	int rc = 0, e = 0;

	for (;;) {
		char *slash;

		if (stat(probe, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				e = -ENOTDIR;
			} else {
				/* access() says yes to root everywhere: try a file */
				char *t = xasprintf("%s/.xenci-check-XXXXXX", probe);
				int fd = mkstemp(t);

				if (fd < 0) {
					e = -errno;
				} else {
					close(fd);
					unlink(t);
				}
				free(t);
			}
			break;
		}
		slash = strrchr(probe, '/');
		if (slash == NULL || slash == probe) {
			e = -ENOENT;
			break;
		}
		*slash = '\0';
	}
	if (e < 0) {
		vctx_error(ctx, parent, key, 0, path, "TFTP folder %s is not writable: %s%s%s", dir,
			   strerror(-e), strcmp(probe, dir) ? " at " : "",
			   strcmp(probe, dir) ? probe : "");
		rc = -1;
	}
	free(probe);
	free(dir);
	return rc;
}

/* v's command line `which` (xen_args, dom0_args) as syn writes it, into q. */
static int render_args(struct buf *q, enum boot_syntax syn, const char *which, const char *value,
		       char *err, size_t errlen)
{
	char why[256];
	size_t at = 0;
	int rc = boot_quote(q, syn, value ? value : "", &at, why, sizeof(why));

	if (rc == -EINVAL)
		snprintf(err, errlen, "%s \"%.200s\": %s cannot carry it (at byte %zu): %s", which,
			 value, boot_syntax_names[syn], at + 1, why);
	else if (rc < 0)
		snprintf(err, errlen, "%s: longer than %zu bytes", which, q->max);
	return rc < 0 ? -1 : 0;
}

int netboot_render(struct buf *out, struct board *b, const char *builtin,
		   const struct netboot_vars *v, const char *const *more_names,
		   const char *const *more_values, char *err, size_t errlen)
{
	const char *names[24], *values[24];
	struct buf xa = BUF_INIT(65536), da = BUF_INIT(65536);
	char *tmpl = NULL;
	size_t n = 0, i;
	enum boot_syntax syn = b->netboot->syntax;
	int rc = -1;

	if (render_args(&xa, syn, "xen_args", v->xen_args, err, errlen) < 0 ||
	    render_args(&da, syn, "dom0_args", v->kernel_args, err, errlen) < 0)
		goto out;
	names[n] = "xenci_xen";
	values[n++] = v->xen;
	names[n] = "xenci_xen_args";
	values[n++] = buf_cstr(&xa);
	names[n] = "xenci_dom0_kernel";
	values[n++] = v->kernel;
	names[n] = "xenci_dom0_args";
	values[n++] = buf_cstr(&da);
	names[n] = "xenci_dom0_initrd";
	values[n++] = v->initrd;
	names[n] = "xenci_board";
	values[n++] = b->name;
	for (i = 0; more_names && more_names[i] && n < 23; i++) {
		names[n] = more_names[i];
		values[n++] = more_values[i];
	}
	names[n] = NULL;
	values[n] = NULL;
	if (netboot_template(&tmpl, b, builtin, err, errlen) < 0)
		goto out;
	rc = netboot_fill(out, tmpl, names, values);
	if (rc < 0)
		snprintf(err, errlen, "the boot script is larger than %zu bytes", out->max);
out:
	free(tmpl);
	buf_release(&xa);
	buf_release(&da);
	return rc < 0 ? -1 : 0;
}
