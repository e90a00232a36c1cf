/* The builder's sandbox (builder_sandbox_argv): a build cannot reach the
 * network, not even the agent's own host, and writes only its work tree,
 * output and compiler cache. Skipped where bwrap is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fs.h"
#include "proc.h"
#include "xmalloc.h"
#include "../../lab-agent/builder.h"

struct out {
	char text[2048];
};

static void on_line(void *arg, const char *line, size_t len)
{
	struct out *o = arg;
	size_t used = strlen(o->text);

	snprintf(o->text + used, sizeof(o->text) - used, "%.*s\n", (int)len, line);
}

/* Runs the bash script in the sandbox (or not), with sysroot bound read-only
 * and hide hidden (both may be NULL); its output in o. */
static int run_in(int sandboxed, const char *dir, const char *sysroot, char *const hide[],
		  const char *script, struct out *o)
{
	char *argv[BUILDER_SANDBOX_ARGS + 4];
	char *src = xasprintf("%s/src", dir), *outd = xasprintf("%s/out", dir);
	char *cc = xasprintf("%s/ccache", dir);
	struct proc p;
	int n = 0, rc;

	mkdir_p(src);
	mkdir_p(outd);
	mkdir_p(cc);
	if (sandboxed)
		n = builder_sandbox_argv(argv, dir, src, outd, cc, sysroot, hide);
	argv[n++] = "bash";
	argv[n++] = "-c";
	argv[n++] = (char *)script;
	argv[n] = NULL;
	memset(o, 0, sizeof(*o));
	proc_init(&p);
	p.argv = (const char *const *)argv;
	p.timeout_ms = 60000;
	p.on_line = on_line;
	p.arg = o;
	rc = proc_run(&p);
	free(src);
	free(outd);
	free(cc);
	return rc;
}

static int run(int sandboxed, const char *dir, const char *script, struct out *o)
{
	return run_in(sandboxed, dir, NULL, NULL, script, o);
}

/* Skips the test where there is no sandbox to test: bwrap not installed, or the
 * kernel refusing it a user namespace (a chroot, or unprivileged namespaces
 * off), which the probe's missing output tells. */
static void skip_without_sandbox(void)
{
	char dir[] = "/tmp/xenci-sandbox-XXXXXX";
	struct out o;

	if (access("/usr/bin/bwrap", X_OK) < 0) {
		print_message("no /usr/bin/bwrap: skipped\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	if (run(1, dir, "echo sandboxed", &o) != 0 || strstr(o.text, "sandboxed\n") == NULL) {
		print_message("bwrap cannot make its namespaces here: skipped (%s)\n", o.text);
		rm_tree(dir);
		skip();
	}
	rm_tree(dir);
}

static void test_no_network(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	char dir[] = "/tmp/xenci-sandbox-XXXXXX", script[256];
	struct out o;
	int ls;

	(void)state;
	skip_without_sandbox();
	assert_non_null(mkdtemp(dir));
	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 4), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &len), 0);
	snprintf(script, sizeof(script),
		 "echo inside; exec 3<>/dev/tcp/127.0.0.1/%d && echo connected",
		 ntohs(sa.sin_port));
	/* the test can tell: outside the sandbox the connection is made */
	assert_int_equal(run(0, dir, script, &o), 0);
	assert_non_null(strstr(o.text, "connected"));
	assert_int_not_equal(run(1, dir, script, &o), 0);
	assert_non_null(strstr(o.text, "inside")); /* the script ran, and failed to connect */
	assert_null(strstr(o.text, "connected"));
	close(ls);
	rm_tree(dir);
}

static void test_writes_only_its_folders(void **state)
{
	char dir[] = "/tmp/xenci-sandbox-XXXXXX", script[600];
	struct out o;

	(void)state;
	skip_without_sandbox();
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script),
		 "touch %s/src/a %s/out/b %s/ccache/c /tmp/d && echo wrote; "
		 "touch /usr/xenci-sandbox-test 2>/dev/null && echo escaped; "
		 "touch %s/recipe-file 2>/dev/null && echo escaped; true",
		 dir, dir, dir, dir);
	assert_int_equal(run(1, dir, script, &o), 0);
	assert_non_null(strstr(o.text, "wrote"));
	assert_null(strstr(o.text, "escaped"));
	assert_int_equal(access("/usr/xenci-sandbox-test", F_OK), -1);
	rm_tree(dir);
}

/* An arm64 tools build's sysroot (hypervisor/sysroot.sh, in the agent's
 * cache, which the sandbox hides) is read through its read-only bind, and
 * only through it. */
static void test_sysroot_read_only(void **state)
{
	char dir[] = "/tmp/xenci-sandbox-XXXXXX", cache[] = "/tmp/xenci-sandbox-cache-XXXXXX";
	char script[600], *sysroot, *marker, *hide[2] = {NULL, NULL};
	struct out o;

	(void)state;
	skip_without_sandbox();
	/* not below dir: the recipe folder (dir here) is bound after the hidden ones */
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(cache));
	sysroot = xasprintf("%s/sysroot/arm64/k", cache);
	mkdir_p(sysroot);
	marker = xasprintf("%s/.xenci-sysroot", sysroot);
	assert_int_equal(file_write_atomic(marker, "libc6\n", 6, 0644, 0), 0);
	hide[0] = cache;
	snprintf(script, sizeof(script),
		 "cat %s/.xenci-sysroot 2>/dev/null && echo read; "
		 "touch %s/x 2>/dev/null && echo wrote; true",
		 sysroot, sysroot);
	assert_int_equal(run_in(1, dir, sysroot, hide, script, &o), 0);
	assert_non_null(strstr(o.text, "libc6\nread"));
	assert_null(strstr(o.text, "wrote"));
	/* without the bind the hidden cache shows nothing */
	assert_int_equal(run_in(1, dir, NULL, hide, script, &o), 0);
	assert_null(strstr(o.text, "read"));
	free(marker);
	free(sysroot);
	rm_tree(cache);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_network),
	    cmocka_unit_test(test_writes_only_its_folders),
	    cmocka_unit_test(test_sysroot_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
