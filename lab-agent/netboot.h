/* Netboot backends: write the board's boot script (U-Boot, iPXE, PXELINUX,
 * GRUB) into its TFTP folder from a template. One file each (netboot-NAME.c),
 * found by name in netboot.c's table. */
#ifndef XENCI_AGENT_NETBOOT_H
#define XENCI_AGENT_NETBOOT_H

#include <stddef.h>

#include "board.h"
#include "boot-quote.h"
#include "buf.h"
#include "validate.h"

/* The file names (relative to the TFTP folder) and command lines to boot. */
struct netboot_vars {
	const char *xen, *xen_args;
	const char *kernel, *kernel_args;
	const char *initrd;
	/* the job's boot.dom0less (0 domUs: none): U-Boot boards only */
	int domus, domu_memory_mb, domu_cpus;
	int dom0; /* 0: no dom0 (the domUs only) */
};

/* A firmware prompt and the bytes that end its wait at once (prompts.h). */
struct netboot_prompt {
	const char *expect, *send;
};

struct netboot_ops {
	const char *name;
	const struct vfield *fields;
	enum boot_syntax syntax; /* how its scripts quote command lines */
	/* the file the firmware asks DHCP for (QEMU's bootfile=), for this board */
	const char *(*bootfile)(const struct board *b);
	int (*write)(struct board *b, const struct netboot_vars *v, char *err, size_t errlen);
	/* Optional: what its firmware prints to wait for a human, and the answer
	 * that ends the wait, in order, ended by {NULL}; a board file's
	 * netboot.prompts replaces them. */
	const struct netboot_prompt *prompts;
};

extern const struct netboot_ops *const netboot_backends[];
/* The members of one netboot.prompts entry; every backend's table names
 * NETBOOT_PROMPTS_FIELD. */
extern const struct vfield netboot_prompt_fields[];
#define NETBOOT_PROMPTS_FIELD                                                                      \
	{                                                                                          \
		.name = "prompts", .type = V_ARRAY, .items = V_OBJECT,                             \
		.fields = netboot_prompt_fields, .max = 8,                                         \
		.help = "firmware prompts answered on the console (default: the backend's)"        \
	}
/* The prompts the runner answers on b's console (prompts.h): the board file's
 * netboot.prompts when it has them, else its backend's; a new reference. */
json_t *netboot_prompts(const struct board *b);
const struct netboot_ops *netboot_find(const char *name);
int netboot_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path);

extern const struct netboot_ops netboot_ipxe_ops, netboot_uboot_ops, netboot_pxelinux_ops,
    netboot_grub_ops;

/* The one ${NAME} filler of the agent (boot scripts, boot arguments, power
 * commands); hypervisor/boot-test.sh's fill() gives the same result on the boot
 * templates (tests/unit/test-agent-netboot.c). */
/* The value of ${NAME} (name: len bytes, not NUL-terminated), borrowed until the
 * next call; NULL leaves that ${...} as it is. */
typedef const char *netboot_lookup_fn(void *arg, const char *name, size_t len);
/* Appends value to out as the output needs it (escaped); 0 or -ENOSPC. */
typedef int netboot_put_fn(struct buf *out, const char *value);
/* Appends tmpl to out with each ${NAME} that lookup knows replaced by its value
 * (through put, or as it is when put is NULL); every other ${...} stays, and the
 * search goes on inside it ("${x${NAME}" fills ${NAME}). Values are not searched
 * again. Returns 0, or -ENOSPC past out's bound. */
int netboot_expand(struct buf *out, const char *tmpl, netboot_lookup_fn *lookup, void *arg,
		   netboot_put_fn *put);
/* netboot_expand for the NAME=VALUE pairs given (names NULL-terminated; a NULL
 * value is ""). */
int netboot_fill(struct buf *out, const char *tmpl, const char *const *names,
		 const char *const *values);
/* Reads the board's own template (netboot.template) or returns the built-in
 * one; *tmpl is the caller's to free. */
int netboot_template(char **tmpl, const struct board *b, const char *builtin, char *err,
		     size_t errlen);
/* The sha256 of the last boot script netboot_write_file wrote on this thread ("" when
 * none since netboot_script_forget): the record's boot_script_sha256. A runner's
 * thread writes one board's script, so the value is that board's. */
const char *netboot_script_sha256(void);
void netboot_script_forget(void);
/* Writes data to dir/name atomically (a temporary file renamed). */
int netboot_write_file(const char *dir, const char *name, const void *data, size_t len, char *err,
		       size_t errlen);

/* Fills the board's template (or builtin) with the xenci_* values of v and
 * more_names/more_values (NULL-terminated, may be NULL) into out. The command
 * lines (xenci_xen_args, xenci_dom0_args) are written as the board's firmware
 * (b->netboot->syntax) needs them to reach Xen and dom0 unchanged
 * (lib/boot-quote.h: for U-Boot one quoted word, so a template must not quote
 * them again). Returns 0, or -1 with err: a command line the firmware cannot
 * carry (which, why, where), a missing template, a script past out's bound. */
int netboot_render(struct buf *out, struct board *b, const char *builtin,
		   const struct netboot_vars *v, const char *const *more_names,
		   const char *const *more_values, char *err, size_t errlen);

/* The vfield check of netboot.template for backends whose command lines are
 * quoted words (uboot, grub): the file exists, and puts no quotes around
 * ${xenci_xen_args} or ${xenci_dom0_args} (the agent quotes them; quoted again
 * they would reach Xen and dom0 changed). Reports the template's line and column. */
int netboot_check_template(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			   const char *path);

/* The vfield check of netboot.tftp_dir: exists or can be made, and is writable. */
int netboot_check_tftp_dir(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			   const char *path);

#endif
