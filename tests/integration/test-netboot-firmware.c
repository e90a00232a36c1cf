/* The boot scripts the agent writes, read by the real firmware of the QEMU
 * boards: U-Boot (qemu_arm64 u-boot.bin under qemu-system-aarch64) runs the
 * agent's boot.scr.uimg (the built-in template, then `fdt print /chosen`) and
 * shows the command lines it put in the device tree for Xen and dom0; iPXE
 * (QEMU's q35 with its e1000 ROM) runs the agent's boot.ipxe (the built-in
 * template) and `imgstat` shows dom0's kernel with its command line. Both must
 * be the job's values byte for byte: Linux's documented
 * dyndbg="file drivers/xen/(all) +p", '$', "${...}", '\'', ';', '#', "&&", '`'.
 * No Xen boots: the "xen" staged is a stand-in (garbage for U-Boot's booti, an
 * iPXE script running imgstat for iPXE). Each QEMU runs a few seconds, at most
 * 30, and is killed by its pid. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "json-util.h"
#include "xmalloc.h"
#include "../../lab-agent/board.h"
#include "../../lab-agent/netboot.h"
#include "../harness/harness.h"

#define UBOOT_BIN "/usr/lib/u-boot/qemu_arm64/u-boot.bin"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	return harness_tmpdir(tmpdir, sizeof(tmpdir), "firmware");
}

static int teardown(void **state)
{
	(void)state;
	return harness_rmdir(tmpdir);
}

static void put(const char *name, const char *text)
{
	assert_int_equal(harness_write_file(tmpdir, name, text), 0);
}

/* Runs argv with its output in out until it prints end (or 30 s pass), then
 * kills it (its process group, by pid). Returns 0 when end was seen. */
static int run_until(char *const argv[], const char *end, struct buf *out)
{
	long long deadline = harness_now_ms() + 30000;
	int pipefd[2], status, seen = 0;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	while (!seen && harness_now_ms() < deadline) {
		struct pollfd p = {pipefd[0], POLLIN, 0};
		char chunk[4096];
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		buf_append(out, chunk, (size_t)n);
		seen = strstr(buf_cstr(out), end) != NULL;
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(pipefd[0]);
	return seen ? 0 : -1;
}

/* The console without CR and ANSI escape sequences (iPXE colours its output). */
static char *console_text(const struct buf *out)
{
	struct buf t = BUF_INIT(0);

	for (size_t i = 0; i < out->len; i++) {
		char c = out->data[i];

		if (c == '\r')
			continue;
		if (c == '\x1b' && i + 1 < out->len && out->data[i + 1] == '[') {
			i += 2;
			while (i < out->len && !(out->data[i] >= '@' && out->data[i] <= '~'))
				i++;
			continue;
		}
		buf_putc(&t, c);
	}
	return buf_detach(&t, NULL);
}

/* The text between the first `open` after `after` and the next `close` line end. */
static char *between(const char *text, const char *after, const char *open, const char *close)
{
	const char *a = strstr(text, after), *s, *e;

	assert_non_null(a);
	s = strstr(a, open);
	assert_non_null(s);
	s += strlen(open);
	e = strstr(s, close);
	assert_non_null(e);
	return xstrndup(s, (size_t)(e - s));
}

static int have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

#define UBOOT_XEN "console=dtuart dom0_mem=512M \"q r\" x='y z'"
#define UBOOT_DOM0                                                                                 \
	"console=hvc0 dyndbg=\"file drivers/xen/* +p\" a=$x ${y} b;c #d e&&f g||h it's "           \
	"\xc3\xa9 `u` 'q'"

static void test_uboot(void **state)
{
	struct netboot_vars v = {.xen = "xen",
				 .xen_args = UBOOT_XEN,
				 .kernel = "dom0-kernel",
				 .kernel_args = UBOOT_DOM0,
				 .initrd = "dom0-initrd"};
	struct buf tmpl = BUF_INIT(0), out = BUF_INIT(1 << 20);
	struct board b;
	char err[512], *text, *got, *path;
	long long t0 = harness_now_ms();

	(void)state;
	if (!have("qemu-system-aarch64") || access(UBOOT_BIN, R_OK) != 0 || !have("mkimage"))
		skip();
	/* The agent's own template, and a look at the device tree after booti gave up
	 * on the stand-in Xen. */
	path = xasprintf("%s/hypervisor/boot", harness_root());
	assert_int_equal(harness_read_file(&tmpl, path, "uboot.template"), 0);
	free(path);
	buf_puts(&tmpl, "echo XENCI-FDT\nfdt print /chosen\necho XENCI-END\n");
	put("uboot-test.template", buf_cstr(&tmpl));
	put("xen", "not an Image\n");
	put("dom0-kernel", "k\n");
	put("dom0-initrd", "i\n");
	assert_int_equal(
	    harness_netboot_board(&b, tmpdir, "arm64", "uboot",
				  json_pack("{s:s}", "template", "uboot-test.template")),
	    0);
	assert_int_equal(b.netboot->write(&b, &v, err, sizeof(err)), 0);
	path = xasprintf("user,id=n0,tftp=%s,bootfile=boot.scr.uimg", tmpdir);
	{
		char *argv[] = {"qemu-system-aarch64",
				"-machine",
				"virt,virtualization=on,gic-version=3",
				"-cpu",
				"cortex-a57",
				"-m",
				"1024",
				"-bios",
				UBOOT_BIN,
				"-nographic",
				"-no-reboot",
				"-netdev",
				path,
				"-device",
				"virtio-net-pci,netdev=n0",
				NULL};

		assert_int_equal(run_until(argv, "XENCI-END", &out), 0);
	}
	free(path);
	print_message("U-Boot printed the device tree after %lld ms\n", harness_now_ms() - t0);
	text = console_text(&out);
	got = between(text, "XENCI-FDT", "xen,xen-bootargs = \"", "\";\n");
	assert_string_equal(got, UBOOT_XEN);
	free(got);
	got = between(text, "module@0 {", "bootargs = \"", "\";\n");
	assert_string_equal(got, UBOOT_DOM0);
	free(got);
	free(text);
	buf_release(&out);
	buf_release(&tmpl);
	board_release(&b);
}

#define IPXE_DOM0                                                                                  \
	"console=hvc0 dyndbg=\"file drivers/xen/* +p\" a=$x b=${y c;d e#f g&&h it's `u` \\z 'q'"

static void test_ipxe(void **state)
{
	struct netboot_vars v = {.xen = "xen",
				 .xen_args = "console=com1 dom0_mem=512M",
				 .kernel = "dom0-kernel",
				 .kernel_args = IPXE_DOM0,
				 .initrd = "dom0-initrd"};
	struct buf out = BUF_INIT(1 << 20), joined = BUF_INIT(0);
	struct board b;
	char err[512], *text, *got, *net;
	long long t0 = harness_now_ms();

	(void)state;
	if (!have("qemu-system-x86_64"))
		skip();
	/* The stand-in Xen is an iPXE script: `boot` runs it, and it lists the
	 * images the agent's script fetched, with their command lines. */
	put("xen", "#!ipxe\necho XENCI-IMGSTAT\nimgstat\necho XENCI-END\n");
	put("dom0-kernel", "k\n");
	put("dom0-initrd", "i\n");
	assert_int_equal(harness_netboot_board(&b, tmpdir, "x86_64", "ipxe", NULL), 0);
	assert_int_equal(b.netboot->write(&b, &v, err, sizeof(err)), 0);
	net = xasprintf("user,id=n0,tftp=%s,bootfile=boot.ipxe", tmpdir);
	{
		char *argv[] = {"qemu-system-x86_64",
				"-machine",
				"q35",
				"-m",
				"256",
				"-smp",
				"1",
				"-nographic",
				"-no-reboot",
				"-netdev",
				net,
				"-device",
				"e1000,netdev=n0",
				NULL};

		assert_int_equal(run_until(argv, "XENCI-END", &out), 0);
	}
	free(net);
	print_message("iPXE listed the images after %lld ms\n", harness_now_ms() - t0);
	text = console_text(&out);
	/* The console wraps at 80 columns: the line breaks are not iPXE's. */
	got = between(text, "XENCI-IMGSTAT", "dom0-kernel : ", "\ndom0-initrd");
	for (const char *p = got; *p; p++)
		if (*p != '\n')
			buf_putc(&joined, *p);
	free(got);
	/* "dom0-kernel : 2 bytes [TYPE] "CMDLINE"" */
	{
		const char *q = strchr(strstr(buf_cstr(&joined), "bytes"), '"');
		size_t n;

		assert_non_null(q);
		n = strlen(q + 1);
		assert_true(n > 0 && q[n] == '"');
		assert_int_equal(n - 1, strlen(IPXE_DOM0));
		assert_memory_equal(q + 1, IPXE_DOM0, n - 1);
	}
	free(text);
	buf_release(&joined);
	buf_release(&out);
	board_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_uboot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipxe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
