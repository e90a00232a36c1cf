/* The QEMU arm64 board as a partner's lab holds a real board: its UART is a tty
 * (one end of tests/fake-board/null-modem.py; QEMU's PL011 opens it as a serial
 * device) served by Debian's ser2net, and its power is a lab script
 * (tests/fake-board/qemu-power.sh, which starts and stops QEMU) run by Debian's
 * pdudaemon through its localcmdline driver, or by the agent's `command`
 * backend. A real controller and agent, jobs/xen-smoke.yaml on arm64, real Xen
 * and dom0 (build/hypervisor/arm64, build/payloads/arm64; the test plays the
 * builder):
 *   - telnet accepter, pdudaemon on/off: pass
 *   - telnet(rfc2217) accepter at 115200 8N1 set through RFC 2217, pdudaemon's
 *     reboot: pass, and the tty is left at 115200
 *   - the command backend with `cycle`: pass, the script ran cycle then off
 *   - the commissioning job (jobs/examine.yaml): its facts become the
 *     board's properties (1 CPU, EL2, 2 GiB, no IOMMU)
 *   - the board's own device tree (QEMU's dumped, its model changed) staged by
 *     the agent and loaded by the boot script: pass, dom0 names that model
 *   - a real UART driver: the agent runs in a small x86_64 VM
 *     (tests/fake-board/uart-vm.sh: Debian's kernel, busybox, the agent)
 *     whose emulated FTDI adapter (QEMU's usb-serial, the kernel's ftdi_sio,
 *     /dev/ttyUSB0) is the lab's end of the board's cable; 57600 8N2 set
 *     through the driver reaches the tty; the adapter unplugged through QEMU's
 *     monitor mid-attempt ends it infra ("hung up"), a claim while it is gone
 *     ends infra before power-on, and once it is plugged back the next
 *     attempt passes on the same agent
 * and the failures a lab meets end as infra with their reason, the board never
 * switched on (or switched off again) and no QEMU left: the console's port
 * wrong, telnet against a raw accepter, RFC 2217 refused by a telnet accepter,
 * the power script failing (QEMU refusing an argument), pdudaemon down.
 * Skips when ser2net, pdudaemon or the artifacts are missing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "buf.h"
#include "json-util.h"
#include "proc.h"

#define SER2NET	  "/usr/sbin/ser2net"
#define PDUDAEMON "/usr/sbin/pdudaemon"
#define COMMIT	  "0123abcd0123abcd0123abcd0123abcd0123abcd"
#define BOARD	  "lab-arm64"

static struct harness_controller ctl;
static struct harness_artifacts arts;
static char agent_tok[128], builder_tok[128];
static char dir[300], lab[320], script[400];
static char lab_tty[128];
static int ctl_running, ready;
static int port_raw, port_telnet, port_rfc2217, port_pdu;
static struct proc modem, ser2net, pdud, agent;

static void put(const char *name, const char *text)
{
	assert_int_equal(harness_write_file(lab, name, text), 0);
}

static int start(struct proc *p, const char *const *argv, const char *log)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", lab, log);
	proc_init(p);
	p->argv = argv;
	p->out_path = path;
	p->die_with_parent = 1;
	return proc_start(p);
}

static void stop(struct proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		if (proc_wait(p, 5000) == -ETIMEDOUT)
			proc_kill(p);
	}
	p->pid = 0;
}

static int wait_port(int port)
{
	long long end = harness_now_ms() + 30000;

	while (harness_now_ms() < end) {
		int fd = harness_connect(port, NULL);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(100 * 1000);
	}
	return -1;
}

/* pdudaemon's localcmdline driver runs the lab's script with the outlet. */
static int start_pdudaemon(void)
{
	char conf[400], log[400], text[2048];
	const char *argv[] = {PDUDAEMON, "--conf",     conf,	"--logfile",
			      log,	 "--loglevel", "DEBUG", NULL};

	snprintf(text, sizeof(text),
		 "{\"daemon\": {\"hostname\": \"127.0.0.1\", \"port\": %d, \"listener\": "
		 "\"http\"},\n"
		 " \"pdus\": {\"qemu-pdu\": {\"driver\": \"localcmdline\",\n"
		 "   \"cmd_on\": \"%s %s on %%s\",\n"
		 "   \"cmd_off\": \"%s %s off %%s\"}}}\n",
		 port_pdu, script, lab, script, lab);
	put("pdudaemon.conf", text);
	snprintf(conf, sizeof(conf), "%s/pdudaemon.conf", lab);
	snprintf(log, sizeof(log), "%s/pdudaemon.log", lab);
	if (start(&pdud, argv, "pdudaemon.out") < 0)
		return -1;
	return wait_port(port_pdu);
}

static int setup(void **state)
{
	char text[4096], conf[400], board_link[400], lab_link[400], job[400];
	const char *root = harness_root();
	const char *s2n_argv[] = {SER2NET, "-n", "-u", "-c", conf, NULL};
	const char *modem_argv[] = {"python3", text,	 "--board", board_link,
				    "--lab",   lab_link, NULL};
	struct buf smoke = BUF_INIT(0);
	long long end;
	char *p;

	(void)state;
	if (access(SER2NET, X_OK) != 0 || access(PDUDAEMON, X_OK) != 0) {
		fprintf(stderr, "skipped: ser2net or pdudaemon is not installed\n");
		return 0;
	}
	if (harness_controller_init(&ctl) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/agent", ctl.dir);
	snprintf(lab, sizeof(lab), "%s/lab", ctl.dir);
	mkdir(dir, 0755);
	mkdir(lab, 0755);
	snprintf(text, sizeof(text), "%s/tftp", lab);
	mkdir(text, 0755);
	if (harness_prebuilt(&arts, "arm64", dir) < 0)
		return 0;

	/* the repository's smoke job, on arm64 only (this lab has no x86 board) */
	snprintf(job, sizeof(job), "%s/jobs", root);
	if (harness_read_file(&smoke, job, "xen-smoke.yaml") < 0 ||
	    (p = strstr(buf_cstr(&smoke), "arch: [x86_64, arm64]")) == NULL)
		return -1;
	memcpy(p, "arch: [arm64]        ", 21);
	harness_write_file(ctl.jobs, "xen-smoke.yaml", buf_cstr(&smoke));
	/* and the commissioning job, the same way */
	if (harness_read_file(&smoke, job, "examine.yaml") < 0 ||
	    (p = strstr(buf_cstr(&smoke), "arch: [x86_64, arm64]")) == NULL)
		return -1;
	memcpy(p, "arch: [arm64]        ", 21);
	harness_write_file(ctl.jobs, "examine.yaml", buf_cstr(&smoke));
	buf_release(&smoke);
	ctl.extra_config = "max_attempts: 1\nunhealthy_streak: 100\n";
	ctl.http_timeout_ms = 120000;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-l", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "agent", "builder-l", builder_tok, sizeof(builder_tok)) < 0)
		return -1;
	ctl_running = 1;
	if (harness_call(
		&ctl, builder_tok, "PUT", "/api/v1/agents/builder-l/boards",
		"{\"protocol\": 1, \"builder\": {\"arches\": [\"arm64\"]}, \"boards\": []}",
		NULL) != 200)
		return -1;

	/* the cable: the board's UART end and the lab's end */
	snprintf(text, sizeof(text), "%s/tests/fake-board/null-modem.py", root);
	snprintf(board_link, sizeof(board_link), "%s/serial", lab);
	snprintf(lab_link, sizeof(lab_link), "%s/uart", lab);
	if (start(&modem, modem_argv, "null-modem.log") < 0)
		return -1;
	end = harness_now_ms() + 10000;
	while (realpath(lab_link, lab_tty) == NULL && harness_now_ms() < end)
		usleep(50 * 1000);
	if (strncmp(lab_tty, "/dev/", 5))
		return -1;

	/* ser2net: the same UART behind a raw, a telnet and an RFC 2217 accepter */
	port_raw = harness_free_port();
	port_telnet = harness_free_port();
	port_rfc2217 = harness_free_port();
	port_pdu = harness_free_port();
	snprintf(text, sizeof(text),
		 "connection: &raw\n"
		 "  accepter: tcp,127.0.0.1,%d\n"
		 "  connector: serialdev,%s,115200n81,local\n"
		 "connection: &telnet\n"
		 "  accepter: telnet,tcp,127.0.0.1,%d\n"
		 "  connector: serialdev,%s,115200n81,local\n"
		 "connection: &rfc2217\n"
		 "  accepter: telnet(rfc2217),tcp,127.0.0.1,%d\n"
		 "  connector: serialdev,%s,9600n81,local\n",
		 port_raw, lab_tty, port_telnet, lab_tty, port_rfc2217, lab_tty);
	put("ser2net.yaml", text);
	snprintf(conf, sizeof(conf), "%s/ser2net.yaml", lab);
	if (start(&ser2net, s2n_argv, "ser2net.log") < 0 || wait_port(port_raw) < 0 ||
	    wait_port(port_telnet) < 0 || wait_port(port_rfc2217) < 0)
		return -1;
	snprintf(script, sizeof(script), "%s/tests/fake-board/qemu-power.sh", root);
	if (start_pdudaemon() < 0)
		return -1;
	ready = 1;
	return 0;
}

/* The board's QEMU (the VM of the UART cases is an x86_64 one). */
static int qemus(void)
{
	return harness_count_procs("qemu-system-aarch64", lab);
}

static int teardown(void **state)
{
	char out[64];
	char *argv[] = {script, lab, "off", NULL};

	(void)state;
	stop(&agent);
	if (lab[0])
		harness_run(argv, out, sizeof(out)); /* a QEMU a failed test left on */
	stop(&pdud);
	stop(&ser2net);
	stop(&modem);
	if (ctl_running)
		harness_controller_stop(&ctl);
	return 0;
}

/* The agent's board file and agent file in folder in (as the agent sees
 * them: seen, the lab's folder as lab_seen): board BOARD of the given power
 * and console sections and more of the netboot section (", key: value" or
 * ""), the controller at url. */
static void write_agent_files(const char *in, const char *seen, const char *lab_seen,
			      const char *url, const char *power, const char *console,
			      const char *netboot)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "name: " BOARD "\n"
		 "arch: arm64\n"
		 "class: lab-arm64-virt\n"
		 "tags: [lab]\n"
		 "description: QEMU virt behind ser2net and a power script\n"
		 "power: %s\n"
		 "console: %s\n"
		 "netboot: {backend: uboot, tftp_dir: %s/tftp%s}\n",
		 power, console, lab_seen, netboot);
	assert_int_equal(harness_write_file(in, "board.yaml", text), 0);
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-l\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [%s/board.yaml]\nlimits: {claim_wait_ms: 1000, heartbeat_s: 2}\n",
		 url, agent_tok, seen, seen);
	assert_int_equal(harness_write_file(in, "agent.yaml", text), 0);
}

/* Waits up to ms for the board to be idle (its agent declared it). */
static void wait_idle(long long ms)
{
	long long end = harness_now_ms() + ms;

	for (;;) {
		json_t *b = NULL;
		int idle =
		    harness_call(&ctl, NULL, "GET", "/api/v1/boards/" BOARD, NULL, &b) == 200 &&
		    !strcmp(jstr(b, "state", ""), "idle");

		json_decref(b);
		if (idle)
			break;
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
}

/* The agent with board BOARD of the given power and console sections, and
 * more of the netboot section (", key: value" or ""). */
static void start_agent_netboot(const char *power, const char *console, const char *netboot)
{
	char text[400], yaml[400];
	const char *argv[] = {"", "-v", yaml, NULL};
	char bin[400];

	write_agent_files(dir, dir, lab, ctl.url, power, console, netboot);
	snprintf(yaml, sizeof(yaml), "%s/agent.yaml", dir);
	snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
	argv[0] = bin;
	proc_init(&agent);
	agent.argv = argv;
	snprintf(text, sizeof(text), "%s/agent.log", dir);
	agent.out_path = text;
	agent.die_with_parent = 1;
	assert_int_equal(proc_start(&agent), 0);
	wait_idle(20000);
}

static void start_agent(const char *power, const char *console)
{
	start_agent_netboot(power, console, "");
}

/* One flight on the board as the agent runs it now: its attempt (the caller's
 * reference) and its console log in log. When line is not NULL, it gets the
 * UART's settings (stty -a) read once the attempt's log shows U-Boot. */
static int has(const struct buf *b, const char *s)
{
	return strstr(buf_cstr(b), s) != NULL;
}

static long long examine_flight;
/* The UART cases: the agent (the VM) kept running after the attempt, and a
 * command for the VM's monitor sent once the board's console has shown
 * U-Boot (the adapter unplugged mid-attempt). */
static int keep_agent;
static const char *unplug_cmd;
static int vm_monitor(const char *cmd);

static json_t *attempt(struct buf *log, int ms, char *line, size_t linelen)
{
	long long fid = examine_flight ? examine_flight : harness_flight(&ctl, COMMIT);
	long long end = harness_now_ms() + ms;
	json_t *a = NULL;
	char path[96];

	assert_true(fid > 0);
	assert_int_equal(harness_serve_builds(&ctl, builder_tok, "builder-l", &arts, 1, 1), 1);
	while (harness_now_ms() < end) {
		json_decref(a);
		a = harness_board_attempt(&ctl, fid, BOARD);
		if (a && harness_verdict(a))
			break;
		/* once the console shows the board (U-Boot): the line as it is
		 * then, and the adapter unplugged */
		if (((line && line[0] == '\0') || unplug_cmd) && a &&
		    !strcmp(jstr(a, "state", ""), "running")) {
			char raw[96];

			snprintf(raw, sizeof(raw), "/attempts/%lld/raw", jint(a, "id", 0));
			buf_reset(log);
			harness_call_bytes(&ctl, NULL, "GET", raw, NULL, NULL, 0, NULL, log);
			if (has(log, "U-Boot") && line && line[0] == '\0') {
				char *argv[] = {"/bin/stty", "-F", lab_tty, "-a", NULL};

				harness_run(argv, line, linelen);
			}
			if (has(log, "U-Boot") && unplug_cmd) {
				assert_int_equal(vm_monitor(unplug_cmd), 0);
				unplug_cmd = NULL;
			}
		}
		usleep(250 * 1000);
	}
	assert_non_null(a);
	assert_non_null(harness_verdict(a));
	fprintf(stderr, "# %s: %s\n", harness_verdict(a), jstr(a, "reason", ""));
	snprintf(path, sizeof(path), "/attempts/%lld/raw", jint(a, "id", 0));
	buf_reset(log);
	harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, log);
	if (!keep_agent)
		stop(&agent);
	return a;
}

static void expect_pass(json_t *a, const struct buf *log)
{
	assert_string_equal(harness_verdict(a), "pass");
	assert_int_equal(json_array_size(json_object_get(a, "testcases")), 5);
	assert_true(has(log, "U-Boot"));
	assert_true(has(log, "XENCI-TESTS-DONE"));
	assert_int_equal(qemus(), 0);
}

/* An infra end whose reason holds why, the board never left on. */
static void expect_infra(json_t *a, const char *why)
{
	assert_string_equal(harness_verdict(a), "infra");
	if (!strstr(jstr(a, "reason", ""), why))
		fail_msg("reason \"%s\" lacks \"%s\"", jstr(a, "reason", ""), why);
	assert_int_equal(qemus(), 0);
}

static char *section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *section(const char *fmt, ...)
{
	static char s[4][1024];
	static int i;
	va_list ap;

	i = (i + 1) % 4;
	va_start(ap, fmt);
	vsnprintf(s[i], sizeof(s[i]), fmt, ap);
	va_end(ap);
	return s[i];
}

static const char *pdu(int reboot)
{
	return section("{backend: pdudaemon, url: 'http://127.0.0.1:%d', hostname: qemu-pdu, "
		       "port: 1%s}",
		       port_pdu, reboot ? ", reboot: true, delay: 1" : "");
}

static const char *tcp(int port, const char *protocol, const char *line)
{
	return section("{backend: tcp, host: 127.0.0.1, port: %d, protocol: %s%s}", port, protocol,
		       line);
}

static void test_telnet_pdudaemon(void **state)
{
	struct buf log = BUF_INIT(0), actions = BUF_INIT(0);
	json_t *a;

	(void)state;
	if (!ready)
		skip();
	start_agent(pdu(0), tcp(port_telnet, "telnet", ""));
	a = attempt(&log, 300000, NULL, 0);
	expect_pass(a, &log);
	assert_true(has(&log, "# power on (pdudaemon)"));
	assert_int_equal(harness_read_file(&actions, lab, "actions"), 0);
	/* an agent switches its boards off when it starts */
	assert_string_equal(buf_cstr(&actions), "off 1\non 1\noff 1\n");
	json_decref(a);
	buf_release(&log);
	buf_release(&actions);
}

static void test_rfc2217_pdudaemon_reboot(void **state)
{
	struct buf log = BUF_INIT(0);
	char line[1024] = "";
	json_t *a;

	(void)state;
	if (!ready)
		skip();
	start_agent(pdu(1), tcp(port_rfc2217, "rfc2217",
				", baud: 115200, data_bits: 8, parity: none, stop_bits: 1"));
	a = attempt(&log, 300000, line, sizeof(line));
	expect_pass(a, &log);
	assert_true(has(&log, "# power cycled (pdudaemon)"));
	/* ser2net's connector says 9600: the UART ran at what RFC 2217 set */
	if (!strstr(line, "speed 115200 baud"))
		fail_msg("the UART was not at 115200 while the attempt ran: %s", line);
	json_decref(a);
	buf_release(&log);
}

static void test_command_cycle(void **state)
{
	struct buf log = BUF_INIT(0), actions = BUF_INIT(0);
	json_t *a;

	(void)state;
	if (!ready)
		skip();
	unlink(section("%s/actions", lab));
	start_agent(section("{backend: command, on: '%s %s on', off: '%s %s off', "
			    "cycle: '%s %s cycle', timeout_s: 60}",
			    script, lab, script, lab, script, lab),
		    tcp(port_telnet, "telnet", ""));
	a = attempt(&log, 300000, NULL, 0);
	expect_pass(a, &log);
	assert_true(has(&log, "# power cycled (command)"));
	assert_int_equal(harness_read_file(&actions, lab, "actions"), 0);
	assert_string_equal(buf_cstr(&actions), "off \ncycle \noff \n");
	json_decref(a);
	buf_release(&log);
	buf_release(&actions);
}

/* A U-Boot board with its own device tree: QEMU's, dumped (-machine dumpdtb)
 * and given a model of its own, which dom0's Linux then names. */
static void test_own_dtb(void **state)
{
	struct buf log = BUF_INIT(0);
	char dtb[400], out[256];
	char *dump[] = {script, lab, "dumpdtb", dtb, NULL};
	char *model[] = {"/usr/bin/fdtput",   "-t", "s", dtb, "/", "model",
			 "xenci dumped virt", NULL};
	json_t *a;

	(void)state;
	if (!ready)
		skip();
	if (access(model[0], X_OK) < 0) {
		fprintf(stderr, "skipped: no fdtput (apt-get install device-tree-compiler)\n");
		skip();
	}
	snprintf(dtb, sizeof(dtb), "%s/virt.dtb", lab);
	assert_int_equal(harness_run(dump, out, sizeof(out)), 0);
	assert_int_equal(harness_run(model, out, sizeof(out)), 0);
	start_agent_netboot(pdu(0), tcp(port_telnet, "telnet", ""), section(", dtb: %s", dtb));
	a = attempt(&log, 300000, NULL, 0);
	expect_pass(a, &log);
	assert_true(has(&log, "Filename 'board.dtb'"));
	assert_true(has(&log, "Machine model: xenci dumped virt"));
	json_decref(a);
	buf_release(&log);
}

/* The commissioning job (jobs/examine.yaml) on the board: it passes and what
 * Xen said of the board becomes its properties. */
static void test_examine(void **state)
{
	struct buf log = BUF_INIT(0);
	json_t *a, *b = NULL, *props;

	(void)state;
	if (!ready)
		skip();
	start_agent(pdu(0), tcp(port_telnet, "telnet", ""));
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT
				      "\", \"jobs\": [\"examine\"], \"board\": \"" BOARD "\"}",
				      &b),
			 201);
	examine_flight = jint(b, "id", 0);
	json_decref(b);
	a = attempt(&log, 300000, NULL, 0);
	examine_flight = 0;
	expect_pass(a, &log);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/boards/" BOARD, NULL, &b), 200);
	assert_string_equal(jstr(b, "examine", ""), "pass");
	props = json_object_get(b, "properties");
	{
		char *text = json_dumps(props, JSON_SORT_KEYS);

		fprintf(stderr, "# properties: %s\n", text);
		free(text);
	}
	/* QEMU virt as this board runs it: one CPU, EL2, 2 GiB, no IOMMU */
	assert_int_equal(jint(props, "cpus", 0), 1);
	assert_string_equal(jstr(props, "virtualisation", ""), "EL2");
	assert_string_equal(jstr(props, "memory", ""), "2 GiB");
	assert_true(json_is_false(json_object_get(props, "iommu")));
	assert_true(json_is_true(json_object_get(props, "serial_firmware")));
	assert_true(json_is_true(json_object_get(props, "serial_dom0")));
	json_decref(b);
	json_decref(a);
	buf_release(&log);
}

/* The UART cases' VM: tests/fake-board/uart-vm.sh's kernel and initramfs,
 * the lab's folder shared as /lab (the agent's files in /lab/vm, its TFTP
 * folder /lab/tftp), the host's 127.0.0.1 as 10.0.2.2, and the adapter (id
 * "adapter") on chardev "uart", the lab's end of the cable. */
#define VM_QEMU	   "qemu-system-x86_64"
#define VM_ADAPTER "usb-serial,chardev=uart,id=adapter,bus=xhci.0,port=1"
static char vm[330];
static int vm_built;

static int vm_build(void)
{
	char recipe[400], image[480], bin[400], out[256];
	char *argv[] = {recipe, image, bin, NULL};

	if (vm_built)
		return vm_built > 0 ? 0 : -1;
	vm_built = -1;
	snprintf(vm, sizeof(vm), "%s/vm", lab);
	mkdir(vm, 0755);
	snprintf(recipe, sizeof(recipe), "%s/tests/fake-board/uart-vm.sh", harness_root());
	snprintf(image, sizeof(image), "%s/image", vm);
	snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
	if (harness_run(argv, out, sizeof(out)) != 0) {
		fprintf(stderr, "skipped: uart-vm.sh failed: %s\n", out);
		return -1;
	}
	vm_built = 1;
	return 0;
}

/* One line to the VM's monitor (HMP); 0 once QEMU has answered with its
 * next prompt, -1 when it did not or answered an error. */
static int vm_monitor(const char *cmd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct buf got = BUF_INIT(0);
	long long end = harness_now_ms() + 10000;
	char chunk[512];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;

	if (strlen(vm) + sizeof("/monitor") > sizeof(sa.sun_path))
		fail_msg("the monitor's path %s/monitor is too long for a unix socket", vm);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.99s/monitor", vm);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0)
		goto out;
	/* the banner's prompt, then the command's echo and the next prompt */
	while (harness_now_ms() < end) {
		const char *echo;
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n <= 0)
			break;
		buf_append(&got, chunk, (size_t)n);
		echo = strstr(buf_cstr(&got), cmd);
		if (echo && strstr(echo, "(qemu)")) {
			/* QEMU's refusal, e.g. "Error: usb port 2 ... not found (in use?)" */
			rc = strstr(echo, "Error") ? -1 : 0;
			if (rc < 0)
				fprintf(stderr, "# monitor: %s\n", echo);
			break;
		}
	}
	fprintf(stderr, "# monitor: %s\n", cmd);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&got);
	return rc;
}

/* Waits for the VM's adapter watcher (vm-run.sh) to write want. */
static void vm_wait_adapter(const char *want)
{
	long long end = harness_now_ms() + 120000;
	struct buf st = BUF_INIT(0);

	for (;;) {
		if (harness_read_file(&st, vm, "adapter") == 0 && has(&st, want))
			break;
		assert_true(harness_now_ms() < end);
		usleep(200 * 1000);
	}
	buf_release(&st);
}

/* Runs the shell command cmd in the VM (as root, in /lab/vm): its output and
 * a last line rc=STATUS into out. */
static void vm_run(const char *cmd, struct buf *out)
{
	long long end = harness_now_ms() + 120000;
	char from[400], to[400];

	unlink(section("%s/cmd.out", vm));
	assert_int_equal(harness_write_file(vm, "cmd.new", cmd), 0);
	snprintf(from, sizeof(from), "%s/cmd.new", vm);
	snprintf(to, sizeof(to), "%s/cmd", vm);
	assert_int_equal(rename(from, to), 0);
	while (harness_read_file(out, vm, "cmd.out") < 0) {
		assert_true(harness_now_ms() < end);
		usleep(200 * 1000);
	}
	fprintf(stderr, "# in the VM: %s# %s", cmd, buf_cstr(out));
}

/* The agent in the VM with board BOARD on the given power and console. */
static void start_vm_agent(const char *power, const char *console)
{
	char text[1024], kernel[400], initrd[400], share[500], chardev[400], monitor[400],
	    serial[400], url[128];

	const char *argv[] = {
	    VM_QEMU,	  "-accel",  "tcg",
	    "-m",	  "1024",    "-nodefaults",
	    "-display",	  "none",    "-no-reboot",
	    "-kernel",	  kernel,    "-initrd",
	    initrd,	  "-append", "console=ttyS0 panic=-1 loglevel=4 no_timer_check",
	    "-serial",	  serial,    "-netdev",
	    "user,id=n0", "-device", "e1000,netdev=n0",
	    "-virtfs",	  share,     "-monitor",
	    monitor,	  "-device", "qemu-xhci,id=xhci",
	    "-chardev",	  chardev,   "-device",
	    VM_ADAPTER,	  NULL};

	snprintf(url, sizeof(url), "http://10.0.2.2:%d", ctl.port);
	write_agent_files(vm, "/lab/vm", "/lab", url, power, console, "");
	/* the adapter's presence as the VM sees it, and the test's commands
	 * (vm_run), then the agent */
	put("vm-run.sh",
	    "#!/bin/sh\n"
	    "cd /lab/vm\n"
	    "while :; do\n"
	    "  if [ -e /dev/ttyUSB0 ]; then s=present; else s=absent; fi\n"
	    "  echo $s >adapter.new && mv adapter.new adapter\n"
	    "  if [ -f cmd ]; then\n"
	    "    sh cmd >cmd.out.new 2>&1; echo \"rc=$?\" >>cmd.out.new\n"
	    "    rm cmd; mv cmd.out.new cmd.out\n"
	    "  fi\n"
	    "  sleep 0.2\n"
	    "done &\n"
	    "i=0\n"
	    "while [ ! -e /dev/ttyUSB0 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
	    "exec /bin/xenci-agent -v /lab/vm/agent.yaml >/lab/vm/agent.log 2>&1\n");
	assert_int_equal(chmod(section("%s/vm-run.sh", lab), 0755), 0);
	unlink(section("%s/adapter", vm));
	snprintf(kernel, sizeof(kernel), "%s/image/vmlinuz", vm);
	snprintf(initrd, sizeof(initrd), "%s/image/initrd", vm);
	snprintf(serial, sizeof(serial), "file:%s/console.log", vm);
	snprintf(share, sizeof(share), "local,path=%s,mount_tag=lab,security_model=none", lab);
	snprintf(monitor, sizeof(monitor), "unix:%s/monitor,server=on,wait=off", vm);
	snprintf(chardev, sizeof(chardev), "serial,id=uart,path=%s", lab_tty);
	proc_init(&agent);
	agent.argv = argv;
	snprintf(text, sizeof(text), "%s/qemu.log", vm);
	agent.out_path = text;
	agent.die_with_parent = 1;
	assert_int_equal(proc_start(&agent), 0);
	/* TCG: the VM boots in 15-50 s on a loaded machine */
	wait_idle(240000);
}

/* The VM of the UART cases with its agent, started unless it runs: 0, or -1
 * when the test is to skip. */
static int vm_agent(void)
{
	if (keep_agent && agent.pid > 0)
		return 0;
	if (access("/bin/busybox", X_OK) < 0) {
		fprintf(stderr, "skipped: no /bin/busybox (apt-get install busybox-static)\n");
		return -1;
	}
	if (vm_build() < 0)
		return -1;
	start_vm_agent(section("{backend: pdudaemon, url: 'http://10.0.2.2:%d', "
			       "hostname: qemu-pdu, port: 1}",
			       port_pdu),
		       "{backend: uart, device: /dev/ttyUSB0, baud: 57600, data_bits: 8, "
		       "parity: none, stop_bits: 2}");
	keep_agent = 1;
	return 0;
}

/* A real tty driver: the agent in a VM reads the board through the kernel's
 * ftdi_sio and QEMU's emulated FTDI adapter, which is unplugged and plugged
 * back through QEMU's monitor. */
static void test_uart_driver(void **state)
{
	struct buf log = BUF_INIT(0);
	char line[1024] = "";
	json_t *a;

	(void)state;
	if (!ready)
		skip();
	if (vm_agent() < 0)
		skip();

	/* a whole attempt; the line the agent set through ftdi_sio is the tty's */
	a = attempt(&log, 600000, line, sizeof(line));
	expect_pass(a, &log);
	if (!strstr(line, "speed 57600 baud") || !strstr(line, " cstopb") ||
	    !strstr(line, " cs8") || !strstr(line, "-parenb"))
		fail_msg("the UART was not at 57600 8N2 while the attempt ran: %s", line);
	json_decref(a);

	/* the adapter unplugged mid-attempt: infra, the board switched off */
	unplug_cmd = "device_del adapter";
	a = attempt(&log, 600000, NULL, 0);
	assert_null(unplug_cmd);
	expect_infra(a, "console lost: serial port /dev/ttyUSB0 hung up");
	json_decref(a);

	/* claimed while it is gone: infra before the board is switched on */
	vm_wait_adapter("absent");
	a = attempt(&log, 120000, NULL, 0);
	expect_infra(a, "console: serial port /dev/ttyUSB0: No such file or directory");
	assert_false(has(&log, "# power on"));
	json_decref(a);

	/* plugged back: the same agent's next attempt opens it again and passes */
	assert_int_equal(vm_monitor("device_add " VM_ADAPTER), 0);
	vm_wait_adapter("present");
	line[0] = '\0';
	a = attempt(&log, 600000, line, sizeof(line));
	expect_pass(a, &log);
	assert_non_null(strstr(line, "speed 57600 baud"));
	json_decref(a);
	buf_release(&log);
	/* the VM goes on for test_usb_hub */
}

/* Waits until the VM's kernel lists USB device dev (e.g. "1-3.1"). */
static void vm_wait_usb(const char *dev, struct buf *out)
{
	long long end = harness_now_ms() + 120000;

	for (;;) {
		vm_run("ls /sys/bus/usb/devices\n", out);
		if (has(out, dev))
			break;
		assert_true(harness_now_ms() < end);
		sleep(1);
	}
}

/* A board file in the VM's folder powered by port `port` of the hub at 1-3
 * (its console is not used: xenci-agent --power only switches). */
static void hub_board(const char *name, int port)
{
	assert_int_equal(
	    harness_write_file(vm, name,
			       section("name: hub-board\narch: arm64\nclass: x\n"
				       "power: {backend: usb-hub, location: '1-3', "
				       "port: %d}\n"
				       "console: {backend: tcp, host: 127.0.0.1, port: 1}\n"
				       "netboot: {backend: uboot}\n",
				       port)),
	    0);
}

/* usb-hub on QEMU's emulated hub with per-port power switching (port-power=on)
 * in the VM of test_uart_driver: the backend switches the port through the
 * kernel's port `disable` (xenci-agent --power, as an attempt runs it) and the
 * device on the port (a keyboard) leaves and comes back as Linux sees it; a
 * port the hub lacks is refused with the hub's words. */
static void test_usb_hub(void **state)
{
	struct buf out = BUF_INIT(0);

	(void)state;
	if (!ready || vm_agent() < 0)
		skip();
	assert_int_equal(vm_monitor("device_add usb-hub,id=hub,port-power=on,bus=xhci.0,port=3"),
			 0);
	assert_int_equal(vm_monitor("device_add usb-kbd,id=dut,bus=xhci.0,port=3.1"), 0);
	vm_wait_usb("1-3.1", &out);
	hub_board("hub.yaml", 1);
	vm_run("cat /sys/bus/usb/devices/1-3:1.0/1-3-port1/disable\n", &out);
	assert_true(has(&out, "0\nrc=0"));
	/* off: the kernel disconnects the device and the port stays off */
	vm_run("/bin/xenci-agent --power hub.yaml off && sleep 2 &&\n"
	       "cat /sys/bus/usb/devices/1-3:1.0/1-3-port1/disable && ls /sys/bus/usb/devices\n",
	       &out);
	assert_true(has(&out, "power off (usb-hub)"));
	assert_true(has(&out, "\n1\n"));
	assert_false(has(&out, "1-3.1"));
	assert_true(has(&out, "rc=0"));
	/* on: enumerated again */
	vm_run("/bin/xenci-agent --power hub.yaml on\n", &out);
	assert_true(has(&out, "power on (usb-hub)"));
	vm_wait_usb("1-3.1", &out);
	/* a port the hub does not have: the hub's refusal, as the attempt's reason */
	hub_board("hub9.yaml", 9);
	vm_run("/bin/xenci-agent --power hub9.yaml off\n", &out);
	assert_true(has(&out, "USB hub port 9 power off: "));
	assert_true(has(&out, "rc=1"));
	keep_agent = 0;
	stop(&agent);
	unlink(section("%s/vm-run.sh", lab));
	buf_release(&out);
}

static void test_failures_are_infra(void **state)
{
	struct buf log = BUF_INIT(0), actions = BUF_INIT(0);
	int nowhere = harness_free_port();
	json_t *a;

	(void)state;
	if (!ready)
		skip();
	unlink(section("%s/actions", lab));

	/* the console's port is wrong: nothing is switched on */
	start_agent(pdu(0), tcp(nowhere, "telnet", ""));
	a = attempt(&log, 60000, NULL, 0);
	expect_infra(a, "console: ");
	expect_infra(a, section("127.0.0.1:%d", nowhere));
	json_decref(a);

	/* telnet against ser2net's raw accepter: no negotiation ever comes */
	start_agent(pdu(0), tcp(port_raw, "telnet", ""));
	a = attempt(&log, 60000, NULL, 0);
	expect_infra(a, "no telnet negotiation");
	json_decref(a);

	/* RFC 2217 against a telnet accepter without it: refused */
	start_agent(pdu(0), tcp(port_telnet, "rfc2217", ", baud: 115200"));
	a = attempt(&log, 60000, NULL, 0);
	expect_infra(a, "refused RFC 2217");
	json_decref(a);
	assert_int_equal(harness_read_file(&actions, lab, "actions"), 0);
	assert_string_equal(buf_cstr(&actions), "off 1\noff 1\noff 1\n");
	unlink(section("%s/actions", lab));

	/* the power script fails (QEMU refuses an argument): its words, switched off */
	put("qemu.extra", "-no-such-option\n");
	start_agent(section("{backend: command, on: '%s %s on', off: '%s %s off', "
			    "cycle: '%s %s cycle'}",
			    script, lab, script, lab, script, lab),
		    tcp(port_telnet, "telnet", ""));
	a = attempt(&log, 60000, NULL, 0);
	expect_infra(a, "power cycle: ");
	expect_infra(a, "QEMU did not start");
	expect_infra(a, "-no-such-option");
	json_decref(a);
	unlink(section("%s/qemu.extra", lab));
	assert_int_equal(harness_read_file(&actions, lab, "actions"), 0);
	assert_string_equal(buf_cstr(&actions), "off \ncycle \noff \n");

	/* pdudaemon down: pdudaemon's URL in the reason */
	stop(&pdud);
	start_agent(pdu(0), tcp(port_telnet, "telnet", ""));
	a = attempt(&log, 90000, NULL, 0);
	expect_infra(a, "power on: pdudaemon");
	expect_infra(a, section("127.0.0.1:%d", port_pdu));
	json_decref(a);
	assert_int_equal(start_pdudaemon(), 0);
	buf_release(&log);
	buf_release(&actions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_telnet_pdudaemon),
	    cmocka_unit_test(test_rfc2217_pdudaemon_reboot),
	    cmocka_unit_test(test_command_cycle),
	    cmocka_unit_test(test_own_dtb),
	    cmocka_unit_test(test_examine),
	    cmocka_unit_test(test_failures_are_infra),
	    cmocka_unit_test(test_uart_driver),
	    cmocka_unit_test(test_usb_hub),
	};

	if (getenv("XENCI_TEST_FILTER")) /* one case by hand: XENCI_TEST_FILTER=test_own_dtb */
		cmocka_set_test_filter(getenv("XENCI_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
