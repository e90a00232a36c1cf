/* Agent and board files: what loads, and that every problem is reported with
 * file:line:col (unknown backend, bad parameters, missing device, wrong baud,
 * a board name used twice, an unwritable TFTP folder, no token). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "policy.h"
#include "xmalloc.h"
#include "../../lab-agent/agent-config.h"
#include "../../lab-agent/console.h"
#include "../../lab-agent/power.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-config-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const char good_board[] = "name: fake-1\n"
				 "arch: x86_64\n"
				 "class: fake\n"
				 "tags: [fake, tcp]\n"
				 "visibility: private\n"
				 "power:\n"
				 "  backend: command\n"
				 "  on: echo on > ${state}/power\n"
				 "  off: echo off > ${state}/power\n"
				 "  vars: {state: /tmp}\n"
				 "console:\n"
				 "  backend: tcp\n"
				 "  host: 127.0.0.1\n"
				 "  port: 5000\n"
				 "netboot:\n"
				 "  backend: pxelinux\n"
				 "  mac: 52:54:00:12:34:56\n";

static void test_load_good(void **state)
{
	struct agent_config cfg;
	struct buf errors = BUF_INIT(0);
	char *agent;

	(void)state;
	put("fake-1.yaml", good_board);
	put("token", "xci_secret\n");
	agent = xasprintf("controller: http://127.0.0.1:1/\n"
			  "agent: lab-1\n"
			  "token_file: token\n"
			  "work_dir: %s/work\n"
			  "boards: [fake-1.yaml]\n"
			  "limits: {log_kb: 64, claim_wait_ms: 500}\n",
			  dir);
	put("agent.yaml", agent);
	free(agent);
	agent = xasprintf("%s/agent.yaml", dir);
	assert_int_equal(agent_config_load(&cfg, agent, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	assert_string_equal(cfg.token, "xci_secret");
	assert_int_equal(cfg.nboards, 1);
	assert_string_equal(cfg.boards[0].name, "fake-1");
	assert_string_equal(cfg.boards[0].visibility, "private");
	assert_ptr_equal(cfg.boards[0].power, &power_command_ops);
	assert_ptr_equal(cfg.boards[0].console, &console_tcp_ops);
	assert_int_equal(cfg.limits.log_bytes, 64 * 1024);
	assert_int_equal(cfg.limits.claim_wait_ms, 500);
	assert_non_null(strstr(cfg.boards[0].tftp_dir, "/work/boards/fake-1/tftp"));
	/* the file's bytes hashed, as sha256sum gives them (declared to the
	 * controller, which examines a changed board again) */
	{
		char hex[SHA256_HEX_LEN + 1];

		assert_int_equal(sha256_hex(hex, good_board, strlen(good_board)), 0);
		assert_string_equal(cfg.boards[0].file_sha256, hex);
	}
	agent_config_release(&cfg);
	free(agent);
	buf_release(&errors);
}

/* Loads an agent file whose one board is the file `board` (in dir) into cfg. */
static void load_one(struct agent_config *cfg, const char *board)
{
	struct buf errors = BUF_INIT(0);
	char *agent;

	put("token", "xci_secret\n");
	agent = xasprintf("controller: http://127.0.0.1:1/\n"
			  "agent: lab-1\n"
			  "token_file: token\n"
			  "work_dir: %s/work\n"
			  "boards: [%s]\n",
			  dir, board);
	put("agent.yaml", agent);
	free(agent);
	agent = xasprintf("%s/agent.yaml", dir);
	assert_int_equal(agent_config_load(cfg, agent, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	free(agent);
	buf_release(&errors);
}

/* A QEMU board's threads: smp / threads cores of that many threads (SMT
 * siblings for the hypervisor), and smp must be a multiple of them. */
static void test_qemu_threads(void **state)
{
	struct agent_config cfg;
	struct buf errors = BUF_INIT(0);
	char *files[1], **argv;
	size_t argc, i;
	int seen = 0;

	(void)state;
	put("smt.yaml", "name: smt\n"
			"arch: x86_64\n"
			"class: c\n"
			"power: {backend: qemu, machine: q35, smp: 2, threads: 2}\n"
			"console: {backend: qemu}\n"
			"netboot: {backend: ipxe}\n");
	load_one(&cfg, "smt.yaml");
	argv = power_qemu_argv(&cfg.boards[0], &argc);
	for (i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-smp")) {
			assert_string_equal(argv[i + 1], "2,sockets=1,cores=1,threads=2");
			seen++;
		}
	assert_int_equal(seen, 1);
	power_qemu_argv_free(argv);
	agent_config_release(&cfg);

	put("odd.yaml", "name: odd\n"
			"arch: x86_64\n"
			"class: c\n"
			"power: {backend: qemu, machine: q35, smp: 3, threads: 2}\n"
			"console: {backend: qemu}\n"
			"netboot: {backend: ipxe}\n");
	files[0] = xasprintf("%s/odd.yaml", dir);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	assert_non_null(
	    strstr(buf_cstr(&errors),
		   "odd.yaml:4:55: power.threads: smp 3 is not a multiple of 2 threads"));
	free(files[0]);
	buf_release(&errors);
}

/* ipxe_kernel: iPXE started as the kernel, its command line (the script it
 * runs) setting QEMU's user-network addresses and chaining the boot script; the
 * file must be readable and the board's netboot backend ipxe. */
static void test_qemu_ipxe_kernel(void **state)
{
	struct agent_config cfg;
	struct buf errors = BUF_INIT(0);
	char *text, *files[1], **argv, *lkrn;
	size_t argc, i;
	int kernel = 0, append = 0;

	(void)state;
	put("ipxe.lkrn", "not really iPXE");
	lkrn = xasprintf("%s/ipxe.lkrn", dir);
	text = xasprintf("name: px\n"
			 "arch: x86_64\n"
			 "class: c\n"
			 "power: {backend: qemu, machine: q35, ipxe_kernel: %s}\n"
			 "console: {backend: qemu}\n"
			 "netboot: {backend: ipxe, script: first.ipxe}\n",
			 lkrn);
	put("px.yaml", text);
	free(text);
	load_one(&cfg, "px.yaml");
	argv = power_qemu_argv(&cfg.boards[0], &argc);
	for (i = 0; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "-kernel")) {
			assert_string_equal(argv[i + 1], lkrn);
			kernel++;
		}
		if (!strcmp(argv[i], "-append")) {
			assert_string_equal(
			    argv[i + 1], "ifopen net0 && set net0/ip 10.0.2.15 && set net0/netmask"
					 " 255.255.255.0 && set net0/gateway 10.0.2.2 && chain"
					 " tftp://10.0.2.2/first.ipxe");
			append++;
		}
	}
	assert_int_equal(kernel, 1);
	assert_int_equal(append, 1);
	power_qemu_argv_free(argv);
	agent_config_release(&cfg);

	/* without it, the NIC's ROM boots: no -kernel */
	put("rom.yaml", "name: rom\n"
			"arch: x86_64\n"
			"class: c\n"
			"power: {backend: qemu, machine: q35}\n"
			"console: {backend: qemu}\n"
			"netboot: {backend: ipxe}\n");
	load_one(&cfg, "rom.yaml");
	argv = power_qemu_argv(&cfg.boards[0], &argc);
	for (i = 0; i < argc; i++)
		assert_string_not_equal(argv[i], "-kernel");
	power_qemu_argv_free(argv);
	agent_config_release(&cfg);

	/* another netboot backend's script is not iPXE's; a file that is not there */
	text = xasprintf("name: pu\n"
			 "arch: arm64\n"
			 "class: c\n"
			 "power: {backend: qemu, machine: virt, ipxe_kernel: %s}\n"
			 "console: {backend: qemu}\n"
			 "netboot: {backend: uboot}\n",
			 lkrn);
	put("pu.yaml", text);
	free(text);
	files[0] = xasprintf("%s/pu.yaml", dir);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "pu.yaml:4:"));
	assert_non_null(strstr(buf_cstr(&errors), "power.ipxe_kernel: needs netboot backend ipxe"
						  " (the script it chains), not uboot"));
	free(files[0]);
	buf_reset(&errors);
	put("gone.yaml",
	    "name: gone\n"
	    "arch: x86_64\n"
	    "class: c\n"
	    "power: {backend: qemu, machine: q35, ipxe_kernel: /nonexistent/ipxe.lkrn}\n"
	    "console: {backend: qemu}\n"
	    "netboot: {backend: ipxe}\n");
	files[0] = xasprintf("%s/gone.yaml", dir);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "power.ipxe_kernel: cannot read"
						  " /nonexistent/ipxe.lkrn"));
	free(files[0]);
	/* a board it cannot start: arm64, a firmware of its own; a folder; a script
	 * name the command line would split; a relative path from the board's folder */
	{
		static const struct {
			const char *power, *arch, *netboot, *want;
		} bad[] = {
		    {"machine: virt, ipxe_kernel: ipxe.lkrn", "arm64", "{backend: ipxe}",
		     "power.ipxe_kernel: is for x86_64 boards (iPXE's lkrn is an x86 kernel), not"
		     " arm64"},
		    {"machine: q35, bios: ipxe.lkrn, ipxe_kernel: ipxe.lkrn", "x86_64",
		     "{backend: ipxe}",
		     "power.ipxe_kernel: needs QEMU's own SeaBIOS, which starts a kernel: no bios"
		     " beside it"},
		    {"machine: q35, ipxe_kernel: work", "x86_64", "{backend: ipxe}",
		     "is not a file"},
		    {"machine: q35, ipxe_kernel: ipxe.lkrn", "x86_64",
		     "{backend: ipxe, script: 'my boot.ipxe'}",
		     "netboot.script: a file name of letters, digits, '.', '_' and '-' not starting"
		     " with '.', not \"my boot.ipxe\""},
		};
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			text = xasprintf("name: b%zu\narch: %s\nclass: c\n"
					 "power: {backend: qemu, %s}\n"
					 "console: {backend: qemu}\nnetboot: %s\n",
					 k, bad[k].arch, bad[k].power, bad[k].netboot);
			put("b.yaml", text);
			free(text);
			files[0] = xasprintf("%s/b.yaml", dir);
			buf_reset(&errors);
			assert_int_equal(config_check_files(files, 1, &errors), -1);
			if (strstr(buf_cstr(&errors), bad[k].want) == NULL)
				fail_msg("case %zu: %s", k, buf_cstr(&errors));
			free(files[0]);
		}
	}
	/* ipxe.lkrn beside the board file, named relatively: QEMU gets the whole path */
	text = xasprintf("name: rel\narch: x86_64\nclass: c\n"
			 "power: {backend: qemu, machine: q35, ipxe_kernel: ipxe.lkrn}\n"
			 "console: {backend: qemu}\nnetboot: {backend: ipxe}\n");
	put("rel.yaml", text);
	free(text);
	load_one(&cfg, "rel.yaml");
	argv = power_qemu_argv(&cfg.boards[0], &argc);
	for (i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-kernel"))
			assert_string_equal(argv[i + 1], lkrn);
	power_qemu_argv_free(argv);
	agent_config_release(&cfg);
	free(lkrn);
	buf_release(&errors);
}

static void test_board_errors(void **state)
{
	struct buf errors = BUF_INIT(0);
	char *files[2];
	const char *e;

	(void)state;
	put("bad.yaml", "name: bad\n"
			"arch: x86_64\n"
			"class: c\n"
			"power:\n"
			"  backend: pdu2\n"
			"console:\n"
			"  backend: uart\n"
			"  device: /dev/xenci-no-such-tty\n"
			"  baud: 115201\n"
			"  parity: sometimes\n"
			"netboot:\n"
			"  backend: ipxe\n"
			"  tftp_dir: /proc/xenci-nope\n"
			"  bogus: 1\n");
	files[0] = xasprintf("%s/bad.yaml", dir);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	e = buf_cstr(&errors);
	assert_non_null(strstr(e, "bad.yaml:5:12: power.backend: unknown backend \"pdu2\" (known: "
				  "qemu, command, pdudaemon, usb-relay, usb-hub)"));
	assert_non_null(strstr(e, "bad.yaml:8:11: console.device: no serial device "
				  "/dev/xenci-no-such-tty"));
	assert_non_null(strstr(e, "bad.yaml:9:9: console.baud: 115201 is not a standard baud"));
	assert_non_null(strstr(e, "bad.yaml:10:11: console.parity: unknown parity"));
	assert_non_null(strstr(e, "bad.yaml:13:13: netboot.tftp_dir: TFTP folder "
				  "/proc/xenci-nope is not writable"));
	assert_non_null(strstr(e, "bad.yaml:14:3: netboot.bogus: unknown field"));
	free(files[0]);
	buf_release(&errors);
}

/* The tcp console's protocol and line settings: the line settings travel
 * only through RFC 2217, so --check refuses them with raw or telnet. */
static void test_tcp_console_protocols(void **state)
{
	struct buf errors = BUF_INIT(0);
	char *files[2];
	const char *e;

	(void)state;
	put("s2n.yaml", "name: s2n\narch: x86_64\nclass: c\n"
			"power: {backend: command, on: 'true', off: 'true'}\n"
			"console:\n"
			"  backend: tcp\n"
			"  host: 127.0.0.1\n"
			"  port: 2000\n"
			"  protocol: telnet\n"
			"  baud: 115200\n"
			"netboot: {backend: ipxe}\n");
	put("s2n-bad.yaml", "name: s2n-bad\narch: x86_64\nclass: c\n"
			    "power: {backend: command, on: 'true', off: 'true'}\n"
			    "console: {backend: tcp, host: h, port: 1, protocol: ssh}\n"
			    "netboot: {backend: ipxe}\n");
	files[0] = xasprintf("%s/s2n.yaml", dir);
	files[1] = xasprintf("%s/s2n-bad.yaml", dir);
	assert_int_equal(config_check_files(files, 2, &errors), -1);
	e = buf_cstr(&errors);
	assert_non_null(strstr(e,
			       "s2n.yaml:10:9: console.baud: baud is set through RFC 2217 only "
			       "(protocol: rfc2217); with telnet, set it in ser2net's connector"));
	assert_non_null(strstr(e, "s2n-bad.yaml:5:53: console.protocol: unknown protocol \"ssh\""));
	buf_reset(&errors);
	put("s2n.yaml", "name: s2n\narch: x86_64\nclass: c\n"
			"power: {backend: command, on: 'true', off: 'true'}\n"
			"console: {backend: tcp, host: 127.0.0.1, port: 2000, protocol: rfc2217,\n"
			"          baud: 115200, data_bits: 8, parity: none, stop_bits: 1}\n"
			"netboot: {backend: ipxe}\n");
	if (config_check_files(files, 1, &errors) != 0)
		fail_msg("%s", buf_cstr(&errors));
	free(files[0]);
	free(files[1]);
	buf_release(&errors);
}

static void test_missing_and_twice(void **state)
{
	struct buf errors = BUF_INIT(0);
	char *files[3];

	(void)state;
	put("a.yaml", good_board);
	put("b.yaml", good_board);
	put("c.yaml", "name: c\narch: x86_64\nclass: c\npower: {backend: command, on: x}\n"
		      "console: {backend: tcp, host: h, port: 70000}\n"
		      "netboot: {backend: ipxe}\n");
	files[0] = xasprintf("%s/a.yaml", dir);
	files[1] = xasprintf("%s/b.yaml", dir);
	files[2] = xasprintf("%s/c.yaml", dir);
	assert_int_equal(config_check_files(files, 3, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "b.yaml:1:7: name: board \"fake-1\" is already "
						  "described by"));
	assert_non_null(strstr(buf_cstr(&errors), "c.yaml:4:8: power: missing required field "
						  "\"off\""));
	assert_non_null(strstr(buf_cstr(&errors), "console.port: must be a TCP port"));
	free(files[0]);
	free(files[1]);
	free(files[2]);
	buf_release(&errors);
}

static void test_agent_errors(void **state)
{
	struct agent_config cfg;
	struct buf errors = BUF_INIT(0);
	char *agent = xasprintf("%s/agent.yaml", dir);

	(void)state;
	put("a.yaml", good_board);
	put("agent.yaml", "controller: ftp://x\n"
			  "agent: lab-1\n"
			  "work_dir: work\n"
			  "boards: [a.yaml, a.yaml, missing.yaml]\n"
			  "limits: {log_kb: 99999}\n");
	assert_int_equal(agent_config_load(&cfg, agent, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "agent.yaml:1:13: controller: \"ftp://x\" is "
						  "not an http"));
	assert_non_null(strstr(buf_cstr(&errors), "limits.log_kb: 99999 is out of range"));
	buf_reset(&errors);
	put("agent.yaml", "controller: http://x\n"
			  "agent: lab-1\n"
			  "work_dir: work\n"
			  "boards: [a.yaml, a.yaml, missing.yaml]\n");
	assert_int_equal(agent_config_load(&cfg, agent, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "needs \"token\" or \"token_file\""));
	assert_non_null(strstr(buf_cstr(&errors), "is already described by"));
	assert_non_null(strstr(buf_cstr(&errors), "missing.yaml"));
	free(agent);
	buf_release(&errors);
}

/* builder.untrusted: refuse or build (the default); --check reports anything
 * else at its line and column. */
static void test_builder_untrusted(void **state)
{
	struct agent_config cfg;
	struct buf errors = BUF_INIT(0);
	char *agent = xasprintf("%s/agent.yaml", dir);

	(void)state;
	put("a.yaml", good_board);
	put("agent.yaml", "controller: http://x\nagent: lab-1\ntoken: t\nwork_dir: work\n"
			  "boards: [a.yaml]\nbuild: true\n");
	assert_int_equal(agent_config_load(&cfg, agent, &errors), 0);
	assert_int_equal(cfg.build_untrusted, 1);
	assert_int_equal(cfg.build_disk_bytes, 8192LL << 20);
	assert_int_equal(cfg.build_timeout_s, 1800);
	agent_config_release(&cfg);
	put("agent.yaml",
	    "controller: http://x\nagent: lab-1\ntoken: t\nwork_dir: work\n"
	    "boards: [a.yaml]\nbuild: true\n"
	    "builder: {untrusted: refuse, memory_mb: 2048, disk_mb: 100, timeout_s: 7}\n");
	assert_int_equal(agent_config_load(&cfg, agent, &errors), 0);
	assert_int_equal(cfg.build_untrusted, 0);
	assert_int_equal(cfg.build_timeout_s, 7);
	assert_int_equal(cfg.build_memory_bytes, 2048LL << 20);
	assert_int_equal(cfg.build_disk_bytes, 100LL << 20);
	agent_config_release(&cfg);
	put("agent.yaml", "controller: http://x\nagent: lab-1\ntoken: t\nwork_dir: work\n"
			  "boards: [a.yaml]\nbuild: true\n"
			  "builder:\n  untrusted: maybe\n");
	assert_int_equal(agent_config_load(&cfg, agent, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "agent.yaml:8:14: builder.untrusted"));
	free(agent);
	buf_release(&errors);
}

/* A board's trust policy: loaded as written, judged by policy_allows() the way the
 * controller and the agent both do, told in words, and checked with file:line:col. */
static void test_board_policy(void **state)
{
	struct buf errors = BUF_INIT(0), words = BUF_INIT(0);
	struct board b;
	struct check_env env = {0};
	char *path = xasprintf("%s/p.yaml", dir), why[256];
	char *files[1] = {path};
	char *text;
	struct policy_subject s = {"push", "xen", "refs/heads/staging", NULL};
	const char *e;

	(void)state;
	text = xasprintf("%spolicy:\n  kinds: [push, bisect, manual]\n  trees: [xen, 'xen-*']\n"
			 "  branches: ['stag*', master]\n  users: [alice, 'ci-?']\n"
			 "  reserve: true\n",
			 good_board);
	put("p.yaml", text);
	free(text);
	assert_int_equal(board_load(&b, path, &env, &errors), 0);
	assert_non_null(b.policy);
	assert_int_equal(policy_allows(b.policy, &s, why, sizeof(why)), 1);
	s.ref = "refs/heads/smoke";
	assert_int_equal(policy_allows(b.policy, &s, why, sizeof(why)), 0);
	assert_string_equal(why, "the board's policy does not run branch smoke");
	s.ref = NULL;
	s.tree = "linux";
	assert_int_equal(policy_allows(b.policy, &s, why, sizeof(why)), 0);
	assert_string_equal(why, "the board's policy does not run code of tree linux");
	s.tree = "xen-4.17";
	s.kind = "submission";
	assert_int_equal(policy_allows(b.policy, &s, why, sizeof(why)), 0);
	assert_string_equal(why, "the board's policy does not run submission flights");
	s.kind = "manual";
	s.user = "ci-7";
	assert_int_equal(policy_allows(b.policy, &s, NULL, 0), 1);
	s.user = "bob";
	assert_int_equal(policy_allows(b.policy, &s, why, sizeof(why)), 0);
	assert_string_equal(why, "the board's policy does not run manual flights of bob");
	s.user = NULL;
	assert_int_equal(policy_allows(b.policy, &s, NULL, 0), 0);
	s.kind = NULL; /* a health check */
	assert_int_equal(policy_allows(b.policy, &s, NULL, 0), 1);
	assert_int_equal(policy_reservable(b.policy), 1);
	policy_describe(&words, b.policy);
	assert_string_equal(buf_cstr(&words),
			    "Runs only push, bisect or manual flights. Trees: xen or xen-*. "
			    "Branches of push flights: stag* or master. Submissions and manual "
			    "flights only of alice or ci-?. Users with the reserve right may "
			    "reserve it.");
	board_release(&b);
	/* no policy: anything runs, nobody reserves */
	buf_reset(&words);
	policy_describe(&words, NULL);
	assert_string_equal(buf_cstr(&words),
			    "Runs anything the controller schedules; no reservations.");
	s.kind = "submission";
	assert_int_equal(policy_allows(NULL, &s, NULL, 0), 1);
	assert_int_equal(policy_reservable(NULL), 0);

	text = xasprintf("%spolicy:\n  kinds: [push, gate]\n  trees: ['xen[0-9]']\n"
			 "  users: alice\n  owner: me\n",
			 good_board);
	put("p.yaml", text);
	free(text);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	e = buf_cstr(&errors);
	assert_non_null(strstr(e, "p.yaml:19:17: policy.kinds[1]: unknown kinds \"gate\" (known: "
				  "push, bisect, submission, manual)"));
	assert_non_null(strstr(e, "p.yaml:20:11: policy.trees[0]: \"xen[0-9]\": a glob of"));
	assert_non_null(strstr(e, "p.yaml:21:10: policy.users: must be a list, not a string"));
	assert_non_null(strstr(e, "p.yaml:22:3: policy.owner: unknown field"));
	free(path);
	buf_release(&errors);
	buf_release(&words);
}

static void test_demo_boards(void **state)
{
	struct buf errors = BUF_INIT(0);
	const char *root = getenv("XENCI_ROOT");
	char *files[2];

	(void)state;
	files[0] = xasprintf("%s/boards/qemu-x86_64.yaml", root ? root : ".");
	files[1] = xasprintf("%s/boards/qemu-arm64.yaml", root ? root : ".");
	assert_int_equal(config_check_files(files, 2, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	free(files[0]);
	free(files[1]);
	buf_release(&errors);
}

/* Job files too: the project's jobs pass, and a pattern that PCRE2 refuses is
 * named with file:line:col, PCRE2's message and its offset. */
static void test_job_files(void **state)
{
	struct buf errors = BUF_INIT(0);
	const char *root = getenv("XENCI_ROOT");
	char *files[2];

	(void)state;
	files[0] = xasprintf("%s/jobs/xen-smoke.yaml", root ? root : ".");
	assert_int_equal(config_check_files(files, 1, &errors), 0);
	free(files[0]);
	files[0] = xasprintf("%s/jobs/xen-guest.yaml", root ? root : ".");
	assert_int_equal(config_check_files(files, 1, &errors), 0);
	free(files[0]);
	files[0] = xasprintf("%s/jobs/xen-sched.yaml", root ? root : ".");
	assert_int_equal(config_check_files(files, 1, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	put("job.yaml", "name: j\nrequires: {arch: x86_64}\nstages:\n"
			"  - {name: a, pattern: 'Xen \\d+', timeout: 5}\n"
			"  - {name: b, pattern: 'ab(c', timeout: 5}\n");
	files[1] = xasprintf("%s/job.yaml", dir);
	assert_int_equal(config_check_files(files, 2, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors),
			       "job.yaml:5:24: stages[1].pattern: not a valid pattern (PCRE2): "
			       "missing closing parenthesis at offset 4"));
	free(files[0]);
	free(files[1]);
	buf_release(&errors);
}

/* Jobs checked with boards: each board's firmware must carry the job's command
 * lines (lib/boot-quote.h); what one cannot carry is named with the job file's
 * line and column, the board, the firmware and why. */
static void test_job_args_for_boards(void **state)
{
	struct buf errors = BUF_INIT(0);
	const char *root = getenv("XENCI_ROOT");
	char *files[3];

	(void)state;
	files[1] = xasprintf("%s/boards/qemu-x86_64.yaml", root ? root : ".");
	files[2] = xasprintf("%s/boards/qemu-arm64.yaml", root ? root : ".");
	/* Linux's documented dyndbg="..." goes through U-Boot and iPXE. */
	put("job.yaml", "name: j\nrequires: {arch: [x86_64, arm64]}\n"
			"boot:\n  dom0_args: console=hvc0 dyndbg=\"file drivers/xen/* +p\" a=$x "
			"${board}\n"
			"stages:\n  - {name: a, pattern: 'Xen', timeout: 5}\n");
	files[0] = xasprintf("%s/job.yaml", dir);
	assert_int_equal(config_check_files(files, 3, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	/* A backslash: U-Boot's two parsers read it differently; iPXE is fine. */
	put("job.yaml", "name: j\nrequires: {arch: [x86_64, arm64]}\n"
			"boot:\n  dom0_args: 'a=b\\c'\n"
			"  arch:\n    x86_64: {xen_args: 'console=com1  x'}\n"
			"stages:\n  - {name: a, pattern: 'Xen', timeout: 5}\n");
	assert_int_equal(config_check_files(files, 3, &errors), -1);
	assert_non_null(
	    strstr(buf_cstr(&errors),
		   "job.yaml:4:14: boot.dom0_args: board qemu-arm64 boots with U-Boot, "
		   "which cannot carry this (byte 4): U-Boot's hush drops a backslash"));
	assert_non_null(
	    strstr(buf_cstr(&errors),
		   "job.yaml:6:24: boot.arch.x86_64.xen_args: board qemu-x86_64 boots "
		   "with iPXE, which cannot carry this (byte 13): iPXE splits the line"));
	/* A job for arm64 alone is not checked against the x86_64 board. */
	buf_reset(&errors);
	put("job.yaml", "name: j\nrequires: {arch: arm64}\n"
			"boot:\n  dom0_args: 'a  #b'\n"
			"stages:\n  - {name: a, pattern: 'Xen', timeout: 5}\n");
	assert_int_equal(config_check_files(files, 3, &errors), 0);
	for (int i = 0; i < 3; i++)
		free(files[i]);
	buf_release(&errors);
}

/* A board's own U-Boot or GRUB template must not quote the command lines again
 * (templates written for the old agent had "${xenci_dom0_args}"). */
static void test_template_quotes(void **state)
{
	struct buf errors = BUF_INIT(0);
	char *files[1];

	(void)state;
	put("my.scr", "echo hi\nfdt set /chosen xen,xen-bootargs ${xenci_xen_args}\n"
		      "fdt set /chosen/module@0 bootargs \"${xenci_dom0_args}\"\n");
	put("u.yaml",
	    "name: u\narch: arm64\nclass: u\npower: {backend: command, on: 'true', off: 'true'}\n"
	    "console: {backend: tcp, host: 127.0.0.1, port: 5000}\n"
	    "netboot: {backend: uboot, template: my.scr}\n");
	files[0] = xasprintf("%s/u.yaml", dir);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "my.scr:3:36: ${xenci_dom0_args} is quoted: the "
						  "agent writes it as quoted words already"));
	buf_reset(&errors);
	put("my.scr", "fdt set /chosen/module@0 bootargs ${xenci_dom0_args}\n");
	assert_int_equal(config_check_files(files, 1, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	free(files[0]);
	buf_release(&errors);
}

/* A U-Boot board's own device tree: --check names the board file's line and
 * column when the .dtb is missing or is not a flattened device tree. */
static void test_uboot_dtb(void **state)
{
	static const char fdt[64] = {(char)0xd0, 0x0d, (char)0xfe, (char)0xed, 0, 0, 0, 64};
	struct buf errors = BUF_INIT(0);
	char *files[1], *dtb;
	FILE *f;

	(void)state;
	put("d.yaml",
	    "name: d\narch: arm64\nclass: d\npower: {backend: command, on: 'true', off: 'true'}\n"
	    "console: {backend: tcp, host: 127.0.0.1, port: 5000}\n"
	    "netboot:\n  backend: uboot\n  dtb: rk3399-rockpro64.dtb\n");
	files[0] = xasprintf("%s/d.yaml", dir);
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "d.yaml:8:8: netboot.dtb: device tree "));
	assert_non_null(strstr(buf_cstr(&errors), "/rk3399-rockpro64.dtb: No such file"));
	buf_reset(&errors);
	put("rk3399-rockpro64.dtb", "/dts-v1/;\n/ { model = \"x\"; };\n");
	assert_int_equal(config_check_files(files, 1, &errors), -1);
	assert_non_null(strstr(buf_cstr(&errors), "d.yaml:8:8: netboot.dtb: device tree "));
	assert_non_null(strstr(buf_cstr(&errors), "not a flattened device tree"));
	buf_reset(&errors);
	dtb = xasprintf("%s/rk3399-rockpro64.dtb", dir);
	f = fopen(dtb, "w");
	free(dtb);
	assert_non_null(f);
	fwrite(fdt, 1, sizeof(fdt), f);
	fclose(f);
	assert_int_equal(config_check_files(files, 1, &errors), 0);
	assert_string_equal(buf_cstr(&errors), "");
	free(files[0]);
	buf_release(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_load_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_board_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_ipxe_kernel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_and_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_builder_untrusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_board_policy, setup, teardown),
	    cmocka_unit_test(test_demo_boards),
	    cmocka_unit_test_setup_teardown(test_job_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_job_args_for_boards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_template_quotes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uboot_dtb, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_console_protocols, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
