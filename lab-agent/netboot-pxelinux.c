/* PXELINUX and GRUB: a per-MAC configuration file (pxelinux.cfg/01-MAC, or
 * grub.cfg-01-MAC) so that one TFTP server serves many boards. Xen boots
 * through mboot.c32 (PXELINUX) or multiboot2 / xen_hypervisor (GRUB). */
#include "netboot.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "json-util.h"
#include "xmalloc.h"

static const char pxelinux_template[] =
    "DEFAULT xenci\n"
    "LABEL xenci\n"
    "  KERNEL mboot.c32\n"
    "  APPEND ${xenci_xen} ${xenci_xen_args} --- ${xenci_dom0_kernel} ${xenci_dom0_args} "
    "--- ${xenci_dom0_initrd}\n";

static const char grub_template_x86[] = "set timeout=0\n"
					"menuentry 'xenci' {\n"
					"  multiboot2 /${xenci_xen} ${xenci_xen_args}\n"
					"  module2 /${xenci_dom0_kernel} ${xenci_dom0_args}\n"
					"  module2 /${xenci_dom0_initrd}\n"
					"}\n";

static const char grub_template_arm[] = "set timeout=0\n"
					"menuentry 'xenci' {\n"
					"  xen_hypervisor /${xenci_xen} ${xenci_xen_args}\n"
					"  xen_module /${xenci_dom0_kernel} ${xenci_dom0_args}\n"
					"  xen_module /${xenci_dom0_initrd}\n"
					"}\n";

static int check_mac(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		     const char *path)
{
	const char *s = json_string_value(v);
	int i;

	for (i = 0; i < 17; i++) {
		if (i % 3 == 2 ? (s[i] != ':' && s[i] != '-') : !isxdigit((unsigned char)s[i]))
			break;
	}
	if (i != 17 || s[17]) {
		vctx_error(ctx, parent, key, 0, path, "\"%s\" is not a MAC (aa:bb:cc:dd:ee:ff)", s);
		return -1;
	}
	return 0;
}

static const struct vfield pxe_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "tftp_dir", .type = V_STRING, .min = 1, .check = netboot_check_tftp_dir},
    {.name = "template",
     .type = V_STRING,
     .min = 1,
     .check = netboot_check_template,
     .help = "default: built in"},
    {.name = "mac",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "the board's boot NIC, aa:bb:cc:dd:ee:ff",
     .check = check_mac},
    NETBOOT_PROMPTS_FIELD,
    {.name = NULL},
};

/* "01-aa-bb-cc-dd-ee-ff": ARP type 1 and the MAC in lowercase, as both ask for. */
static void mac_name(const struct board *b, char *out, size_t outlen)
{
	const char *mac = jstr(b->netboot_cfg, "mac", "00:00:00:00:00:00");
	size_t i;

	snprintf(out, outlen, "01-%s", mac);
	for (i = 0; out[i]; i++)
		out[i] = out[i] == ':' ? '-' : (char)tolower((unsigned char)out[i]);
}

static const char *pxelinux_bootfile(const struct board *b)
{
	(void)b;
	return "pxelinux.0";
}

static const char *grub_bootfile(const struct board *b)
{
	return !strcmp(b->arch, "x86_64") ? "grubx64.efi" : "grubaa64.efi";
}

static int pxe_write(struct board *b, const struct netboot_vars *v, int grub, char *err,
		     size_t errlen)
{
	struct buf out = BUF_INIT(1024 * 1024);
	char mac[32], *dir = NULL, *name = NULL;
	const char *builtin =
	    grub ? (!strcmp(b->arch, "x86_64") ? grub_template_x86 : grub_template_arm)
		 : pxelinux_template;
	int rc;

	mac_name(b, mac, sizeof(mac));
	rc = netboot_render(&out, b, builtin, v, NULL, NULL, err, errlen);
	if (rc < 0)
		goto out;
	if (grub) {
		dir = xstrdup(b->tftp_dir);
		name = xasprintf("grub.cfg-%s", mac);
	} else {
		int e;

		dir = xasprintf("%s/pxelinux.cfg", b->tftp_dir);
		name = xstrdup(mac);
		if ((e = mkdir_p(dir)) < 0) {
			snprintf(err, errlen, "cannot make %s: %s", dir, strerror(-e));
			rc = -1;
			goto out;
		}
	}
	rc = netboot_write_file(dir, name, out.data, out.len, err, errlen);
out:
	free(dir);
	free(name);
	buf_release(&out);
	return rc;
}

static int pxelinux_write(struct board *b, const struct netboot_vars *v, char *err, size_t errlen)
{
	return pxe_write(b, v, 0, err, errlen);
}

static int grub_write(struct board *b, const struct netboot_vars *v, char *err, size_t errlen)
{
	return pxe_write(b, v, 1, err, errlen);
}

const struct netboot_ops netboot_pxelinux_ops = {
    .name = "pxelinux",
    .fields = pxe_fields,
    .syntax = BOOT_PXELINUX,
    .bootfile = pxelinux_bootfile,
    .write = pxelinux_write,
};

const struct netboot_ops netboot_grub_ops = {
    .name = "grub",
    .fields = pxe_fields,
    .syntax = BOOT_GRUB,
    .bootfile = grub_bootfile,
    .write = grub_write,
};
