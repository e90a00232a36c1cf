/* The netboot script generators: template filling, iPXE, U-Boot (with a real
 * mkimage), PXELINUX and GRUB per-MAC files, a board's own template, and the
 * boot arguments built from the job. One source for the boot templates: the
 * agent's built-in scripts are hypervisor/boot/NAME.template without comments, and
 * boot-test.sh's fill() gives what the agent's filler gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json-util.h"
#include "xmalloc.h"
#include "../../lab-agent/board.h"
#include "../../lab-agent/netboot.h"
#include "../../lab-agent/prompts.h"
#include "../../lab-agent/runner.h"
#include "../harness/harness.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)n + 1);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return data;
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(harness_tmpdir(tmpdir, sizeof(tmpdir), "netboot"), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(harness_rmdir(tmpdir), 0);
	return 0;
}

static void board_init(struct board *b, const char *arch, const char *backend, json_t *cfg)
{
	assert_int_equal(harness_netboot_board(b, tmpdir, arch, backend, cfg), 0);
}

static const struct netboot_vars vars = {.xen = "xen",
					 .xen_args = "console=com1 dom0_mem=512M",
					 .kernel = "dom0-kernel",
					 .kernel_args = "console=hvc0 xenci.v=4.17",
					 .initrd = "dom0-initrd"};

static void test_fill(void **state)
{
	struct buf out = BUF_INIT(64);
	const char *names[] = {"a", "bb", NULL}, *values[] = {"1", "two", NULL};

	(void)state;
	assert_int_equal(netboot_fill(&out, "x${a}y${bb}z ${c} ${ ${a", names, values), 0);
	assert_string_equal(buf_cstr(&out), "x1ytwoz ${c} ${ ${a");
	buf_reset(&out);
	/* bounded: a fill past the buffer's bound fails */
	assert_int_equal(netboot_fill(&out,
				      "${bb}${bb}${bb}${bb}${bb}${bb}${bb}${bb}${bb}${bb}"
				      "${bb}${bb}${bb}${bb}${bb}${bb}${bb}${bb}${bb}${bb}"
				      "${bb}${bb}${bb}",
				      names, values),
			 -ENOSPC);
	buf_release(&out);
}

static void test_ipxe(void **state)
{
	struct board b;
	char err[256], *s, *p;

	(void)state;
	board_init(&b, "x86_64", "ipxe", NULL);
	assert_string_equal(b.netboot->bootfile(&b), "boot.ipxe");
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/boot.ipxe", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(s);
	assert_true(!strncmp(s, "#!ipxe\n", 7));
	assert_non_null(strstr(s, "kernel xen console=com1 dom0_mem=512M || goto failed\n"));
	assert_non_null(strstr(s, "module dom0-kernel console=hvc0 xenci.v=4.17 || goto"));
	assert_non_null(strstr(s, "module dom0-initrd || goto failed\n"));
	assert_null(strstr(s, "${xenci_"));
	free(s);
	free(p);
	/* A command line iPXE cannot carry is refused, not written changed. */
	{
		struct netboot_vars bad = vars;

		bad.kernel_args = "console=hvc0  a";
		assert_int_equal(b.netboot->write(&b, &bad, err, sizeof(err)), -1);
		assert_string_equal(err, "dom0_args \"console=hvc0  a\": iPXE cannot carry it (at "
					 "byte 13): iPXE splits the line at white space and joins "
					 "the words with one space: a run of spaces would not "
					 "arrive as written");
	}
	board_release(&b);
}

static void test_uboot_mkimage(void **state)
{
	struct board b;
	char err[256], *p, *s;
	size_t len;

	(void)state;
	board_init(&b, "arm64", "uboot", json_pack("{s:s}", "xen_addr", "0x40800000"));
	assert_string_equal(b.netboot->bootfile(&b), "boot.scr.uimg");
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/boot.scr", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(strstr(s, "tftpboot 0x40800000 xen"));
	assert_non_null(strstr(s, "tftpboot 0x41000000 dom0-kernel"));
	assert_non_null(
	    strstr(s, "fdt set /chosen xen,xen-bootargs 'console=com1 dom0_mem=512M'\n"));
	assert_non_null(strstr(s, "booti 0x40800000 - ${fdt_addr}"));
	/* U-Boot's own variables stay */
	assert_non_null(strstr(s, "${filesize}"));
	free(s);
	free(p);
	/* the uimage: a legacy image header (magic 27 05 19 56) around the script */
	p = xasprintf("%s/boot.scr.uimg", tmpdir);
	s = slurp(p, &len);
	assert_non_null(s);
	assert_true(len > 64);
	assert_int_equal((unsigned char)s[0], 0x27);
	assert_int_equal((unsigned char)s[1], 0x05);
	assert_int_equal((unsigned char)s[2], 0x19);
	assert_int_equal((unsigned char)s[3], 0x56);
	assert_non_null(memmem(s, len, "tftpboot 0x40800000 xen", 23));
	free(s);
	free(p);
	board_release(&b);
}

/* A job's boot.dom0less: the script loads the domUs' initramfs and makes their
 * xen,domain nodes, xen,enhanced only with a dom0; without dom0, Xen gets no
 * dom0 modules. */
static void test_uboot_dom0less(void **state)
{
	struct board b;
	struct netboot_vars v = vars;
	char err[256], *p, *s;

	(void)state;
	board_init(&b, "arm64", "uboot", NULL);
	v.domus = 3;
	v.domu_memory_mb = 128;
	v.domu_cpus = 2;
	v.dom0 = 0;
	assert_int_equal(b.netboot->write(&b, &v, err, sizeof(err)), 0);
	p = xasprintf("%s/boot.scr", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(strstr(s, "tftpboot 0x4c000000 domu-initrd"));
	assert_non_null(strstr(s, "if test \"0\" = 1; then"));
	assert_non_null(strstr(s, "for i in 1 2 3; do"));
	assert_non_null(strstr(s, "fdt set /chosen/domU${i} compatible \"xen,domain\""));
	assert_non_null(strstr(s, "fdt set /chosen/domU${i} memory <0x0 0x20000>"));
	assert_non_null(strstr(s, "fdt set /chosen/domU${i} cpus <0x2>"));
	/* xenstore for the domUs (init-dom0less in dom0) only when there is a dom0 */
	assert_non_null(strstr(s, "if test \"0\" = 1; then\n\t\t\t\tfdt set /chosen/domU${i} "
				  "xen,enhanced \"enabled\""));
	free(s);
	/* none: the loop's one word is "-", dom0 is booted */
	v.domus = 0;
	assert_int_equal(b.netboot->write(&b, &v, err, sizeof(err)), 0);
	s = slurp(p, NULL);
	assert_non_null(strstr(s, "for i in -; do"));
	assert_non_null(strstr(s, "if test \"1\" = 1; then"));
	free(s);
	free(p);
	board_release(&b);
}

/* A board's own device tree: staged as board.dtb, loaded by the script at
 * fdt_addr before the /chosen nodes are written into it; none: no load. */
static void test_uboot_dtb(void **state)
{
	static const char fdt[64] = {(char)0xd0, 0x0d, (char)0xfe, (char)0xed, 0, 0, 0, 64, 'x'};
	struct board b;
	char err[256], *p, *s;
	size_t len;
	FILE *f;

	(void)state;
	p = xasprintf("%s/my.dtb", tmpdir);
	f = fopen(p, "w");
	assert_non_null(f);
	fwrite(fdt, 1, sizeof(fdt), f);
	fclose(f);
	free(p);
	board_init(&b, "arm64", "uboot",
		   json_pack("{s:s, s:s}", "dtb", "my.dtb", "fdt_addr", "0x48000000"));
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/board.dtb", tmpdir);
	s = slurp(p, &len);
	assert_int_equal(len, sizeof(fdt));
	assert_memory_equal(s, fdt, sizeof(fdt));
	free(s);
	free(p);
	p = xasprintf("%s/boot.scr", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(strstr(s, "if test \"xboard.dtb\" != x; then\n"
				  "\t\tsetenv bootstep dtb\n"
				  "\t\tif tftpboot 0x48000000 board.dtb; then\n"));
	assert_true(strstr(s, "tftpboot 0x48000000 board.dtb") < strstr(s, "fdt addr 0x48000000"));
	assert_non_null(strstr(s, "booti 0x40400000 - 0x48000000"));
	free(s);
	free(p);
	/* a file that is not a device tree any more: staging fails with why */
	p = xasprintf("%s/my.dtb", tmpdir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("/dts-v1/;\n", f);
	fclose(f);
	free(p);
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "my.dtb: not a flattened device tree"));
	board_release(&b);
	/* no dtb: the firmware's tree, nothing loaded */
	board_init(&b, "arm64", "uboot", NULL);
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/boot.scr", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(strstr(s, "if test \"x\" != x; then\n"));
	free(s);
	free(p);
	board_release(&b);
}

static void test_pxelinux_grub(void **state)
{
	struct board b;
	char err[256], *p, *s;

	(void)state;
	board_init(&b, "x86_64", "pxelinux", json_pack("{s:s}", "mac", "52:54:00:AB:cd:01"));
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/pxelinux.cfg/01-52-54-00-ab-cd-01", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(s);
	assert_non_null(strstr(s, "APPEND xen console=com1 dom0_mem=512M --- dom0-kernel "
				  "console=hvc0 xenci.v=4.17 --- dom0-initrd\n"));
	free(s);
	free(p);
	board_release(&b);

	board_init(&b, "arm64", "grub", json_pack("{s:s}", "mac", "52:54:00:ab:cd:02"));
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/grub.cfg-01-52-54-00-ab-cd-02", tmpdir);
	s = slurp(p, NULL);
	assert_non_null(s);
	assert_non_null(strstr(s, "xen_hypervisor /xen 'console=com1' 'dom0_mem=512M'\n"));
	assert_non_null(strstr(s, "xen_module /dom0-kernel 'console=hvc0' 'xenci.v=4.17'\n"));
	assert_non_null(strstr(s, "xen_module /dom0-initrd"));
	free(s);
	free(p);
	board_release(&b);
}

static void test_own_template(void **state)
{
	struct board b;
	char err[256], *p, *s;
	FILE *f;

	(void)state;
	p = xasprintf("%s/my.ipxe", tmpdir);
	f = fopen(p, "w");
	fputs("#!ipxe\nset x ${net0/mac}\nchain ${xenci_xen} ${xenci_board}\n", f);
	fclose(f);
	free(p);
	board_init(&b, "x86_64", "ipxe", json_pack("{s:s}", "template", "my.ipxe"));
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	p = xasprintf("%s/boot.ipxe", tmpdir);
	s = slurp(p, NULL);
	assert_string_equal(s, "#!ipxe\nset x ${net0/mac}\nchain xen b1\n");
	free(s);
	free(p);
	board_release(&b);

	/* a missing template is a clear error */
	board_init(&b, "x86_64", "ipxe", json_pack("{s:s}", "template", "nope.ipxe"));
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nope.ipxe"));
	board_release(&b);
}

static const char *const tmpl_names[] = {"xenci_xen",
					 "xenci_xen_args",
					 "xenci_dom0_kernel",
					 "xenci_dom0_args",
					 "xenci_dom0_initrd",
					 "xenci_xen_addr",
					 "xenci_kernel_addr",
					 "xenci_initrd_addr",
					 "xenci_fdt_addr",
					 "xenci_dtb",
					 "xenci_dom0",
					 "xenci_domus",
					 "xenci_domu_initrd",
					 "xenci_domu_initrd_addr",
					 "xenci_domu_memory",
					 "xenci_domu_cpus",
					 NULL};
/* Words that a filler could get wrong: spaces, '&' and '\' (bash's replacement
 * specials), a '%' escape, a '$' and a variable that is not a placeholder. */
static const char *const tmpl_values[] = {
    "xen",	   "console=com1 a&b c\\d dom0_mem=512M",
    "dom0-kernel", "console=hvc0 xenci.changeset=Thu%20Nov $HOME",
    "dom0-initrd", "0x40400000",
    "0x41000000",  "0x44000000",
    "${fdt_addr}", "board.dtb",
    "0",	   "1 2",
    "domu-initrd", "0x4c000000",
    "0x40000",	   "0x1",
    NULL};

/* The template file hypervisor/boot/NAME.template (malloc'd). */
static char *template_path(const char *name)
{
	char *rel = xasprintf("%s/hypervisor/boot/%s.template", harness_root(), name);
	char *abs = realpath(rel, NULL);

	assert_non_null(abs);
	free(rel);
	return abs;
}

/* text without its comment lines (those starting with '#' but not "#!"). */
static char *strip_comments(const char *text)
{
	struct buf out = BUF_INIT(0);
	const char *p = text, *nl;

	for (; *p; p = nl) {
		nl = strchr(p, '\n');
		nl = nl ? nl + 1 : p + strlen(p);
		if (p[0] != '#' || p[1] == '!')
			buf_append(&out, p, (size_t)(nl - p));
	}
	return buf_detach(&out, NULL);
}

/* The agent's script for backend with its built-in template, and with the
 * template file in its place: equal but for the file's comments. */
static void check_builtin(const char *arch, const char *backend, const char *script)
{
	struct board b;
	char err[256], *p = xasprintf("%s/%s", tmpdir, script), *builtin, *from_file, *want;
	char *tmpl = template_path(backend);

	board_init(&b, arch, backend, NULL);
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	builtin = slurp(p, NULL);
	board_release(&b);
	board_init(&b, arch, backend, json_pack("{s:s}", "template", tmpl));
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), 0);
	from_file = slurp(p, NULL);
	board_release(&b);
	want = strip_comments(from_file);
	assert_non_null(builtin);
	assert_true(strlen(want) > 100);
	assert_string_equal(builtin, want);
	assert_string_not_equal(from_file, want); /* the file has comments to drop */
	free(want);
	free(from_file);
	free(builtin);
	free(tmpl);
	free(p);
}

static void test_builtins_are_the_templates(void **state)
{
	(void)state;
	check_builtin("x86_64", "ipxe", "boot.ipxe");
	check_builtin("arm64", "uboot", "boot.scr");
}

/* hypervisor/boot-test.sh's fill() and the agent's netboot_fill agree on both
 * templates, comments included. */
static void test_shell_fill_agrees(void **state)
{
	static const char *const backends[] = {"ipxe", "uboot"};
	size_t t, i;

	(void)state;
	for (t = 0; t < 2; t++) {
		char *path = template_path(backends[t]), *text = slurp(path, NULL);
		char *script = xasprintf("%s/hypervisor/boot-test.sh", harness_root());
		char *argv[24], out[16384];
		struct buf want = BUF_INIT(0);
		size_t n = 0;

		assert_non_null(text);
		argv[n++] = "/bin/bash";
		argv[n++] = "-c";
		argv[n++] = "set -euo pipefail; die() { echo \"$*\" >&2; exit 1; }; "
			    "eval \"$(sed -n '/^fill() {/,/^}/p' \"$0\")\"; fill \"$@\"";
		argv[n++] = script;
		argv[n++] = path;
		for (i = 0; tmpl_names[i]; i++)
			argv[n++] = xasprintf("%s=%s", tmpl_names[i], tmpl_values[i]);
		argv[n] = NULL;
		assert_int_equal(harness_run(argv, out, sizeof(out)), 0);
		assert_int_equal(netboot_fill(&want, text, tmpl_names, tmpl_values), 0);
		assert_null(strstr(buf_cstr(&want), "${xenci_"));
		assert_string_equal(out, buf_cstr(&want));
		for (i = 5; i < n; i++)
			free(argv[i]);
		buf_release(&want);
		free(script);
		free(text);
		free(path);
	}
}

static void test_unwritable_tftp(void **state)
{
	struct board b;
	char err[256];

	(void)state;
	board_init(&b, "x86_64", "ipxe", NULL);
	free(b.tftp_dir);
	b.tftp_dir = xstrdup("/proc/xenci-nope");
	assert_int_equal(b.netboot->write(&b, &vars, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/proc/xenci-nope"));
	board_release(&b);
}

/* runner_boot_args of a on b, for xen_args and for dom0_args, equal to xen and dom0. */
static void boot_args_are(const json_t *a, const struct board *b, const char *xen, const char *dom0)
{
	char *x = runner_boot_args(a, b, "xen_args"), *d = runner_boot_args(a, b, "dom0_args");

	assert_string_equal(x, xen);
	assert_string_equal(d, dom0);
	free(x);
	free(d);
}

static void test_boot_args(void **state)
{
	json_t *a = json_loads(
	    "{\"id\": 42, \"arch\": \"x86_64\","
	    " \"build_info\": {\"xen_version\": \"4.17.3\", \"changeset\": \"Thu Nov 20\"},"
	    " \"job\": {\"boot\": {\"xen_args\": \"dom0_mem=512M\","
	    "  \"dom0_args\": \"xenci.v=${xen_version} xenci.c=${changeset} a=${attempt} "
	    "b=${board} u=${unknown}\","
	    "  \"arch\": {\"x86_64\": {\"xen_args\": \"console=com1\"},"
	    "            \"arm64\": {\"xen_args\": \"console=dtuart\"}}}}}",
	    0, NULL);
	struct board b = {.name = "qemu-x86_64"};

	(void)state;
	assert_non_null(a);
	boot_args_are(a, &b, "dom0_mem=512M console=com1",
		      "xenci.v=4.17.3 xenci.c=Thu%20Nov%2020 a=42 b=qemu-x86_64 u=${unknown}");
	/* the board's own come first, so the job's can override them */
	b.boot = json_pack("{s:s, s:s}", "xen_args", "bootscrub=0", "dom0_args", "x=${board}");
	boot_args_are(a, &b, "bootscrub=0 dom0_mem=512M console=com1",
		      "x=qemu-x86_64 xenci.v=4.17.3 xenci.c=Thu%20Nov%2020 a=42 b=qemu-x86_64 "
		      "u=${unknown}");
	json_decref(b.boot);
	json_decref(a);
}

/* Feeds text to pr in reads of step bytes at now_ms; the answers sent, in
 * order, into out ("|"-separated), as the runner writes them. */
static void prompts_feed(struct prompts *pr, const char *text, size_t step, long long now_ms,
			 struct buf *out)
{
	size_t n = strlen(text), off, i, used;

	for (off = 0; off < n; off += step) {
		const char *d = text + off;
		size_t len = n - off < step ? n - off : step;
		enum prompts_event ev;

		while ((ev = prompts_scan(pr, d, len, now_ms, &i, &used)) == PROMPTS_SEEN) {
			buf_printf(out, "%s|", prompts_send(pr, i));
			assert_true(used <= len);
			d += used;
			len -= used;
		}
		if (ev == PROMPTS_EXPIRED)
			buf_printf(out, "expired %zu|", i);
	}
}

static void test_prompts(void **state)
{
	/* iPXE's and U-Boot's consoles as they come (QEMU boards' logs) */
	static const char ipxe_con[] =
	    "iPXE initialising devices...ok\r\n\r\nFeatures: DNS HTTP TFTP\r\n"
	    "Press Ctrl-B for the iPXE command line...",
			  uboot_con[] =
			      "Net:   eth0: virtio-net#32\r\nHit any key to stop autoboot:  2 "
			      "\b\b\b 0 \r\n=> ";
	struct board b;
	struct prompts pr;
	struct buf out = BUF_INIT(4096);
	json_t *list;
	size_t step;

	(void)state;
	/* the backends' own: whatever the reads' sizes, each answer once, in order */
	board_init(&b, "x86_64", "ipxe", NULL);
	list = netboot_prompts(&b);
	for (step = 1; step <= sizeof(ipxe_con); step++) {
		prompts_init(&pr, list);
		buf_reset(&out);
		prompts_feed(&pr, ipxe_con, step, 1000, &out);
		prompts_feed(&pr, ipxe_con, step, 1000, &out); /* a second banner: no */
		assert_string_equal(buf_cstr(&out), " |");
		prompts_release(&pr);
	}
	json_decref(list);
	board_release(&b);
	board_init(&b, "arm64", "uboot", NULL);
	list = netboot_prompts(&b);
	for (step = 1; step <= sizeof(uboot_con); step++) {
		prompts_init(&pr, list);
		buf_reset(&out);
		prompts_feed(&pr, uboot_con, step, 1000, &out);
		assert_string_equal(buf_cstr(&out), " |boot\r|");
		prompts_release(&pr);
	}
	/* a firmware that never prints them gets nothing (iPXE's banner is not U-Boot's) */
	prompts_init(&pr, list);
	buf_reset(&out);
	prompts_feed(&pr, ipxe_con, 7, 1000, &out);
	assert_string_equal(buf_cstr(&out), "");
	/* the second comes only within PROMPTS_NEXT_MS of the first answer: a "=> "
	 * later (a failed boot's command line) is not typed into */
	prompts_feed(&pr, "Hit any key to stop autoboot:  2 ", 64, 1000, &out);
	prompts_feed(&pr, "\r\n", 64, 1000 + PROMPTS_NEXT_MS + 1, &out);
	prompts_feed(&pr, "=> ", 64, 1000 + PROMPTS_NEXT_MS + 2, &out);
	assert_string_equal(buf_cstr(&out), " |expired 1|");
	prompts_release(&pr);
	json_decref(list);
	board_release(&b);

	/* the board file's own replace the backend's; [] answers nothing */
	list = json_loads("{\"prompts\": [{\"expect\": \"Press SPACE to abort autoboot\","
			  " \"send\": \"\\u0002x\"}]}",
			  0, NULL);
	board_init(&b, "arm64", "uboot", list); /* takes list */
	list = netboot_prompts(&b);
	prompts_init(&pr, list);
	buf_reset(&out);
	prompts_feed(&pr, "Hit any key to stop autoboot: 2\r\nPress SPACE to abort autoboot in 2",
		     5, 1000, &out);
	assert_string_equal(buf_cstr(&out), "\x02x|");
	prompts_release(&pr);
	json_decref(list);
	board_release(&b);
	list = json_loads("{\"prompts\": []}", 0, NULL);
	board_init(&b, "x86_64", "ipxe", list);
	list = netboot_prompts(&b);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	board_release(&b);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fill),
	    cmocka_unit_test_setup_teardown(test_ipxe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uboot_mkimage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uboot_dtb, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uboot_dom0less, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pxelinux_grub, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_template, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable_tftp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_builtins_are_the_templates, setup, teardown),
	    cmocka_unit_test(test_shell_fill_agrees),
	    cmocka_unit_test(test_boot_args),
	    cmocka_unit_test_setup_teardown(test_prompts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
