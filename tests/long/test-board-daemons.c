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
#include <sys/stat.h>
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

static int qemus(void)
{
	return harness_count_procs("qemu-system", lab);
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

/* The agent with board BOARD of the given power and console sections, and
 * more of the netboot section (", key: value" or ""). */
static void start_agent_netboot(const char *power, const char *console, const char *netboot)
{
	char text[4096], yaml[400], boardf[400];
	const char *argv[] = {"", "-v", yaml, NULL};
	char bin[400];
	long long end;

	snprintf(text, sizeof(text),
		 "name: " BOARD "\n"
		 "arch: arm64\n"
		 "class: lab-arm64-virt\n"
		 "tags: [lab]\n"
		 "description: QEMU virt behind ser2net and a power script\n"
		 "power: %s\n"
		 "console: %s\n"
		 "netboot: {backend: uboot, tftp_dir: %s/tftp%s}\n",
		 power, console, lab, netboot);
	assert_int_equal(harness_write_file(dir, "board.yaml", text), 0);
	snprintf(boardf, sizeof(boardf), "%s/board.yaml", dir);
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: lab-l\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [%s]\nlimits: {claim_wait_ms: 1000, heartbeat_s: 2}\n",
		 ctl.url, agent_tok, dir, boardf);
	assert_int_equal(harness_write_file(dir, "agent.yaml", text), 0);
	snprintf(yaml, sizeof(yaml), "%s/agent.yaml", dir);
	snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
	argv[0] = bin;
	proc_init(&agent);
	agent.argv = argv;
	snprintf(text, sizeof(text), "%s/agent.log", dir);
	agent.out_path = text;
	agent.die_with_parent = 1;
	assert_int_equal(proc_start(&agent), 0);
	end = harness_now_ms() + 20000;
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

static void start_agent(const char *power, const char *console)
{
	start_agent_netboot(power, console, "");
}

/* One flight on the board as the agent runs it now: its attempt (the caller's
 * reference) and its console log in log. When line is not NULL, it gets the
 * UART's settings (stty -a) read once while the attempt runs. */
static long long examine_flight;

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
		if (line && a && !strcmp(jstr(a, "state", ""), "running") && line[0] == '\0') {
			char *argv[] = {"/bin/stty", "-F", lab_tty, "-a", NULL};

			harness_run(argv, line, linelen);
		}
		usleep(250 * 1000);
	}
	assert_non_null(a);
	assert_non_null(harness_verdict(a));
	fprintf(stderr, "# %s: %s\n", harness_verdict(a), jstr(a, "reason", ""));
	snprintf(path, sizeof(path), "/attempts/%lld/raw", jint(a, "id", 0));
	buf_reset(log);
	harness_call_bytes(&ctl, NULL, "GET", path, NULL, NULL, 0, NULL, log);
	stop(&agent);
	return a;
}

static int has(const struct buf *b, const char *s)
{
	return strstr(buf_cstr(b), s) != NULL;
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
	};

	if (getenv("XENCI_TEST_FILTER")) /* one case by hand: XENCI_TEST_FILTER=test_own_dtb */
		cmocka_set_test_filter(getenv("XENCI_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
