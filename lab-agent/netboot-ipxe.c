/* iPXE: boot.ipxe, the script QEMU's (or a DHCP server's) bootfile names. The
 * built-in template is hypervisor/boot/ipxe.template without its comments. */
#include "netboot.h"

#include <stdio.h>

#include "json-util.h"

static const char ipxe_template[] =
    "#!ipxe\n"
    "echo xenci: loading ${xenci_xen}, ${xenci_dom0_kernel}, ${xenci_dom0_initrd}\n"
    "kernel ${xenci_xen} ${xenci_xen_args} || goto failed\n"
    "module ${xenci_dom0_kernel} ${xenci_dom0_args} || goto failed\n"
    "module ${xenci_dom0_initrd} || goto failed\n"
    "boot || goto failed\n"
    ":failed\n"
    "echo XENCI-BOOT-FAILED\n"
    "exit 1\n";

static const struct vfield ipxe_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "tftp_dir", .type = V_STRING, .min = 1, .check = netboot_check_tftp_dir},
    {.name = "template", .type = V_STRING, .min = 1, .help = "default: built in"},
    {.name = "script",
     .type = V_STRING,
     .help = "file name, default boot.ipxe",
     .min = 1,
     .max = 128},
    {.name = NULL},
};

static const char *ipxe_bootfile(const struct board *b)
{
	return jstr(b->netboot_cfg, "script", "boot.ipxe");
}

static int ipxe_write(struct board *b, const struct netboot_vars *v, char *err, size_t errlen)
{
	struct buf out = BUF_INIT(1024 * 1024);
	int rc;

	rc = netboot_render(&out, b, ipxe_template, v, NULL, NULL, err, errlen);
	if (rc == 0)
		rc = netboot_write_file(b->tftp_dir, ipxe_bootfile(b), out.data, out.len, err,
					errlen);
	buf_release(&out);
	return rc;
}

const struct netboot_ops netboot_ipxe_ops = {
    .name = "ipxe",
    .fields = ipxe_fields,
    .bootfile = ipxe_bootfile,
    .write = ipxe_write,
};
