/* U-Boot: boot.scr from the template, wrapped by `mkimage -T script` into
 * boot.scr.uimg, which U-Boot's distro boot fetches over TFTP and sources. The
 * built-in template is hypervisor/boot/uboot.template without its comments. */
#include "netboot.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "json-util.h"
#include "xmalloc.h"

extern char **environ;

static const char uboot_template[] =
    "echo xenci: loading ${xenci_xen}, ${xenci_dom0_kernel}, ${xenci_dom0_initrd}\n"
    "setenv bootstep tftp\n"
    "if tftpboot ${xenci_xen_addr} ${xenci_xen}; then\n"
    "\tif tftpboot ${xenci_kernel_addr} ${xenci_dom0_kernel}; then\n"
    "\t\tsetenv dom0_kernel_size ${filesize}\n"
    "\t\tif tftpboot ${xenci_initrd_addr} ${xenci_dom0_initrd}; then\n"
    "\t\t\tsetenv dom0_initrd_size ${filesize}\n"
    "\t\t\tsetenv bootstep fdt\n"
    "\t\tfi\n"
    "\tfi\n"
    "fi\n"
    "if test \"${bootstep}\" = fdt; then\n"
    "\tfdt addr ${xenci_fdt_addr}\n"
    "\tfdt resize 4096\n"
    "\tfdt set /chosen \\#address-cells <0x2>\n"
    "\tfdt set /chosen \\#size-cells <0x2>\n"
    "\tfdt set /chosen xen,xen-bootargs \"${xenci_xen_args}\"\n"
    "\tfdt mknode /chosen module@0\n"
    "\tfdt set /chosen/module@0 compatible \"multiboot,kernel\" \"multiboot,module\"\n"
    "\tfdt set /chosen/module@0 reg <0x0 ${xenci_kernel_addr} 0x0 0x${dom0_kernel_size}>\n"
    "\tfdt set /chosen/module@0 bootargs \"${xenci_dom0_args}\"\n"
    "\tfdt mknode /chosen module@1\n"
    "\tfdt set /chosen/module@1 compatible \"multiboot,ramdisk\" \"multiboot,module\"\n"
    "\tfdt set /chosen/module@1 reg <0x0 ${xenci_initrd_addr} 0x0 0x${dom0_initrd_size}>\n"
    "\tsetenv bootstep booti\n"
    "\tbooti ${xenci_xen_addr} - ${xenci_fdt_addr}\n"
    "fi\n"
    "echo XENCI-BOOT-FAILED at ${bootstep}\n";

static int check_addr(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	const char *s = json_string_value(v);

	if (strncmp(s, "0x", 2) && strncmp(s, "${", 2)) {
		vctx_error(ctx, parent, key, 0, path,
			   "\"%s\" is not an address (0x... or a U-Boot ${variable})", s);
		return -1;
	}
	return 0;
}

static const struct vfield uboot_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "tftp_dir", .type = V_STRING, .min = 1, .check = netboot_check_tftp_dir},
    {.name = "template", .type = V_STRING, .min = 1, .help = "default: built in"},
    {.name = "xen_addr", .type = V_STRING, .check = check_addr, .help = "default 0x40400000"},
    {.name = "kernel_addr", .type = V_STRING, .check = check_addr, .help = "default 0x41000000"},
    {.name = "initrd_addr", .type = V_STRING, .check = check_addr, .help = "default 0x44000000"},
    {.name = "fdt_addr", .type = V_STRING, .check = check_addr, .help = "default ${fdt_addr}"},
    {.name = NULL},
};

static const char *uboot_bootfile(const struct board *b)
{
	(void)b;
	return "boot.scr.uimg";
}

static int run_mkimage(const char *arch, const char *src, const char *dst, char *err, size_t errlen)
{
	char *argv[] = {"mkimage", "-q",	"-A",	     (char *)arch, "-O", "linux",
			"-T",	   "script",	"-C",	     "none",	   "-n", "xenci",
			"-d",	   (char *)src, (char *)dst, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 0, 0);
	rc = posix_spawnp(&pid, "mkimage", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(err, errlen, "cannot run mkimage (u-boot-tools): %s", strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "mkimage failed on %s", src);
		return -1;
	}
	return 0;
}

static int uboot_write(struct board *b, const struct netboot_vars *v, char *err, size_t errlen)
{
	const char *names[] = {"xenci_xen_addr", "xenci_kernel_addr", "xenci_initrd_addr",
			       "xenci_fdt_addr", NULL};
	const char *values[] = {jstr(b->netboot_cfg, "xen_addr", "0x40400000"),
				jstr(b->netboot_cfg, "kernel_addr", "0x41000000"),
				jstr(b->netboot_cfg, "initrd_addr", "0x44000000"),
				jstr(b->netboot_cfg, "fdt_addr", "${fdt_addr}"), NULL};
	struct buf out = BUF_INIT(1024 * 1024);
	char *src = NULL, *dst = NULL;
	int rc;

	rc = netboot_render(&out, b, uboot_template, v, names, values, err, errlen);
	if (rc == 0)
		rc = netboot_write_file(b->tftp_dir, "boot.scr", out.data, out.len, err, errlen);
	if (rc == 0) {
		src = xasprintf("%s/boot.scr", b->tftp_dir);
		dst = xasprintf("%s/boot.scr.uimg", b->tftp_dir);
		rc =
		    run_mkimage(!strcmp(b->arch, "arm32") ? "arm" : "arm64", src, dst, err, errlen);
	}
	free(src);
	free(dst);
	buf_release(&out);
	return rc;
}

const struct netboot_ops netboot_uboot_ops = {
    .name = "uboot",
    .fields = uboot_fields,
    .bootfile = uboot_bootfile,
    .write = uboot_write,
};
