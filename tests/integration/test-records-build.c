/* A build's signed record end to end: a real xenci-agent as the builder (`build:
 * true`, tests/fake-build/build.sh as the recipe, a real git tree served by the
 * controller) makes its key, the admin approves it, and a push flight's build comes
 * back as a record signed over its inputs (tree, revision, the recipe's sha256) and
 * outputs (each artifact's sha256). `xenci verify` accepts it with the controller's
 * key, and with the builder's key pinned; an artifact changed in the controller's
 * store is named. `xenci evidence --with-artifacts` carries the artifacts, by hash,
 * into a bundle that verifies offline (and with sha256sum); an artifact changed or
 * missing in the bundle is named; past --artifacts-max-mib the export fails with a
 * clear error. docs/traceability.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "json-util.h"
#include "record.h"
#include "sigkey.h"

static struct harness_controller ctl;
static char repo[400], hv[400], work[400], cache[400], commit_hex[41], extra[600];
static char builder_tok[128], lab_tok[128], cli[600], key_pub[400], out[16384];
static pid_t agent;
static long long build_id, flight_id;

static const char job_fake[] = "name: fake\n"
			       "requires: {arch: [x86_64]}\n"
			       "artifacts: [xen]\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";

static int setup(void **state)
{
	char root[PATH_MAX], text[1200], path[400], logp[400], sout[128], *abs;

	(void)state;
	if (harness_controller_init(&ctl) < 0 || realpath(harness_root(), root) == NULL)
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", ctl.dir);
	snprintf(hv, sizeof(hv), "%s/hv", ctl.dir);
	snprintf(work, sizeof(work), "%s/work", ctl.dir);
	snprintf(cache, sizeof(cache), "%s/cache", ctl.dir);
	snprintf(extra, sizeof(extra),
		 "max_attempts: 1\ntrees:\n  xen:\n    source: %s\n    interval: 3600\n", repo);
	ctl.extra_config = extra;
	harness_write_file(ctl.jobs, "fake.yaml", job_fake);
	harness_sh(ctl.dir,
		   "git init -q -b main repo && cd repo && git config user.email t@xenci.invalid"
		   " && git config user.name t && echo 'int a;' > a.c && git add -A"
		   " && git commit -qm one");
	harness_shout(repo, sout, sizeof(sout), "git rev-parse HEAD");
	snprintf(commit_hex, sizeof(commit_hex), "%.40s", sout);
	harness_sh(ctl.dir, "mkdir hv && cp '%s/tests/fake-build/'*.sh hv/", root);
	harness_write_file(hv, "mode", "pass");
	harness_write_file(hv, "kind", "trusted");
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "bld", builder_tok, sizeof(builder_tok)) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", lab_tok, sizeof(lab_tok)) < 0)
		return -1;
	/* a board of another agent that never claims: the flight's test attempt waits */
	if (harness_call(&ctl, lab_tok, "PUT", "/api/v1/agents/lab-b/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"qb\", \"arch\":"
			 " \"x86_64\", \"class\": \"q35\"}]}",
			 NULL) != 200)
		return -1;
	abs = realpath(harness_build_dir(), NULL);
	snprintf(cli, sizeof(cli), "%s/xenci", abs ? abs : harness_build_dir());
	free(abs);
	snprintf(key_pub, sizeof(key_pub), "%s/controller-key.pub", ctl.data);
	snprintf(path, sizeof(path), "%s/state", ctl.dir);
	setenv("XENCI_STATE_DIR", path, 1);
	setenv("XENCI_URL", ctl.url, 1);
	unsetenv("XENCI_TOKEN");
	/* the builder runs one board too: an arm64 one no job wants */
	harness_write_file(ctl.dir, "idle.yaml",
			   "name: idle\narch: arm64\nclass: none\n"
			   "power: {backend: command, on: 'true', off: 'true'}\n"
			   "console: {backend: tcp, host: 127.0.0.1, port: 9}\n"
			   "netboot: {backend: ipxe}\n");
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: bld\ntoken: %s\nwork_dir: %s\nboards: [idle.yaml]\n"
		 "build: true\nlimits: {claim_wait_ms: 1000, heartbeat_s: 1}\n",
		 ctl.url, builder_tok, work);
	harness_write_file(ctl.dir, "bld.yaml", text);
	snprintf(path, sizeof(path), "%s/bld.yaml", ctl.dir);
	snprintf(logp, sizeof(logp), "%s/bld.log", ctl.dir);
	setenv("XENCI_HYPERVISOR_DIR", hv, 1);
	setenv("XENCI_CACHE", cache, 1);
	agent = harness_agent_start(&ctl, path, logp, "idle");
	return agent > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (agent > 0) {
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
	}
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* xenci ARGS (NULL-terminated); its exit status, its stdout in out. */
static int xenci(const char *a1, ...)
{
	char *argv[16];
	va_list ap;
	int n = 0;

	argv[n++] = cli;
	argv[n++] = (char *)a1;
	va_start(ap, a1);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return harness_run(argv, out, sizeof(out));
}

/* The builder's key, presented at its first declare, approved by the admin; then a
 * push flight whose build passes. */
static void test_build_signed(void **state)
{
	long long end = harness_now_ms() + 30000;
	char url[200], body[300];
	json_t *j = NULL, *a;
	size_t i;

	(void)state;
	while (harness_call(&ctl, ctl.admin_token, "GET", "/api/v1/agents/bld/keys", NULL, &j) !=
		   200 ||
	       json_array_size(json_object_get(j, "keys")) == 0) {
		json_decref(j);
		j = NULL;
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
	snprintf(url, sizeof(url), "/api/v1/agents/bld/keys/%s/approve",
		 jstr(json_array_get(json_object_get(j, "keys"), 0), "keyid", ""));
	json_decref(j);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", url, "{}", NULL), 200);
	snprintf(
	    body, sizeof(body),
	    "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": [\"fake\"], \"kind\": \"push\"}",
	    commit_hex);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, &j),
			 201);
	flight_id = jint(j, "id", 0);
	json_decref(j);
	snprintf(url, sizeof(url), "/api/v1/flights/%lld", flight_id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", url, NULL, &j), 200);
	json_array_foreach (json_object_get(j, "attempts"), i, a)
		if (!strcmp(jstr(a, "kind", ""), "build"))
			build_id = jint(a, "id", 0);
	json_decref(j);
	assert_true(build_id > 0);
	snprintf(url, sizeof(url), "/api/v1/attempts/%lld", build_id);
	end = harness_now_ms() + 90000;
	for (;;) {
		assert_int_equal(harness_call(&ctl, NULL, "GET", url, NULL, &j), 200);
		if (!strcmp(jstr(j, "state", ""), "pass"))
			break;
		assert_true(!strcmp(jstr(j, "state", ""), "queued") ||
			    !strcmp(jstr(j, "state", ""), "waiting") ||
			    !strcmp(jstr(j, "state", ""), "claimed") ||
			    !strcmp(jstr(j, "state", ""), "running"));
		json_decref(j);
		assert_true(harness_now_ms() < end);
		usleep(100 * 1000);
	}
	json_decref(j);
}

/* The record says what went in and what came out, and xenci verify takes it. */
static void test_build_verifies(void **state)
{
	char url[128], id[32], fl[32], hex[SHA256_HEX_LEN + 1], recipe[600], err[200];
	char pin[700];
	const char *env;
	struct record rec;
	json_t *j = NULL;
	long long size;

	(void)state;
	assert_true(build_id > 0);
	snprintf(url, sizeof(url), "/api/v1/attempts/%lld/record", build_id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", url, NULL, &j), 200);
	env = jstr(j, "envelope", "");
	assert_int_equal(record_parse(&rec, env, strlen(env), err, sizeof(err)), 0);
	assert_string_equal(jstr(rec.statement, "predicateType", ""), XENCI_PREDICATE_BUILD);
	assert_string_equal(jstr(rec.predicate, "kind", ""), "build");
	assert_string_equal(jstr(rec.predicate, "agent", ""), "bld");
	/* inputs: the tree's revision and the recipe's hash */
	assert_string_equal(jstr(json_object_get(rec.predicate, "revision"), "xen", ""),
			    commit_hex);
	snprintf(recipe, sizeof(recipe), "%s/build.sh", hv);
	assert_int_equal(sha256_file(hex, recipe, &size), 0);
	assert_string_equal(jstr(rec.predicate, "recipe_sha256", ""), hex);
	/* outputs: build.sh's xen */
	sha256_hex(hex, "fake xen\n", 9);
	assert_string_equal(intoto_subject_sha256(rec.statement, RECORD_ARTIFACT_PREFIX "xen"),
			    hex);
	record_release(&rec);
	json_decref(j);

	snprintf(id, sizeof(id), "%lld", build_id);
	snprintf(fl, sizeof(fl), "%lld", flight_id);
	assert_int_equal(xenci("verify", id, "--key", key_pub, (char *)NULL), 0);
	assert_non_null(strstr(out, "1 record verified"));
	assert_int_equal(xenci("verify", "--flight", fl, "--key", key_pub, (char *)NULL), 0);
	assert_non_null(strstr(out, "1 record verified"));
	snprintf(pin, sizeof(pin), "bld=%s/agent-key.pub", work);
	assert_int_equal(
	    xenci("verify", "--all", "--key", key_pub, "--agent-key", pin, (char *)NULL), 0);
	assert_non_null(strstr(out, "1 record verified"));
	/* The flight's page marks the build signed. */
	snprintf(url, sizeof(url), "/flights/%lld", flight_id);
	assert_true(harness_page_has(&ctl, url, "record verified", "&#10003; signed</span>"));
}

/* Evidence with the artifacts: verified offline; tampered or missing named. */
static void test_evidence_artifacts(void **state)
{
	char fl[32], bundle[400], fresh[400], hex[SHA256_HEX_LEN + 1], file[600], id[32];
	struct buf text = BUF_INIT(0);

	(void)state;
	assert_true(build_id > 0);
	snprintf(fl, sizeof(fl), "%lld", flight_id);
	snprintf(id, sizeof(id), "%lld", build_id);
	sha256_hex(hex, "fake xen\n", 9);
	snprintf(bundle, sizeof(bundle), "%s/evidence", ctl.dir);
	assert_int_equal(xenci("evidence", fl, "--out", bundle, "--with-artifacts", (char *)NULL),
			 0);
	snprintf(file, sizeof(file), "%s/artifacts", bundle);
	assert_int_equal(harness_read_file(&text, file, hex), 0);
	assert_string_equal(buf_cstr(&text), "fake xen\n");
	buf_release(&text);
	harness_sh(bundle, "sh ./check-with-openssl.sh");
	/* a fresh folder, no controller */
	snprintf(fresh, sizeof(fresh), "%s/fresh", ctl.dir);
	harness_sh(ctl.dir, "mkdir fresh && cp -r evidence fresh/bundle && cp '%s' fresh/", cli);
	snprintf(fresh, sizeof(fresh), "%s/fresh/bundle", ctl.dir);
	setenv("XENCI_URL", "http://127.0.0.1:1", 1); /* nothing there */
	assert_int_equal(xenci("verify", "--bundle", fresh, (char *)NULL), 0);
	assert_non_null(strstr(out, "1 record verified"));
	/* one byte of the artifact in the bundle changed */
	snprintf(file, sizeof(file), "%s/artifacts/%s", fresh, hex);
	harness_sh(fresh, "printf 'fake xeN\\n' > artifacts/%s", hex);
	assert_int_equal(xenci("verify", "--bundle", fresh, (char *)NULL), 1);
	assert_non_null(strstr(out, "artifact/xen does not hash to what the record says"));
	/* and removed */
	unlink(file);
	assert_int_equal(xenci("verify", "--bundle", fresh, (char *)NULL), 1);
	assert_non_null(strstr(out, "is not in the bundle"));
	setenv("XENCI_URL", ctl.url, 1);
	/* past the bound: a clear error, the artifact not left in the bundle */
	snprintf(bundle, sizeof(bundle), "%s/evidence-small", ctl.dir);
	assert_int_equal(xenci("evidence", fl, "--out", bundle, "--with-artifacts",
			       "--artifacts-max-mib", "0", (char *)NULL),
			 1);
	snprintf(file, sizeof(file), "%s/artifacts/%s", bundle, hex);
	assert_int_not_equal(access(file, F_OK), 0);
	/* without --with-artifacts: hashes only, verified without the files */
	snprintf(bundle, sizeof(bundle), "%s/evidence-hashes", ctl.dir);
	assert_int_equal(xenci("evidence", fl, "--out", bundle, (char *)NULL), 0);
	setenv("XENCI_URL", "http://127.0.0.1:1", 1);
	assert_int_equal(xenci("verify", "--bundle", bundle, (char *)NULL), 0);
	setenv("XENCI_URL", ctl.url, 1);
	/* the controller's stored artifact changed: verify names it */
	harness_sh(ctl.data,
		   "chmod u+w artifacts/%s 2>/dev/null; printf 'fake xeN\\n' > artifacts/%s", hex,
		   hex);
	assert_int_equal(xenci("verify", id, "--key", key_pub, (char *)NULL), 1);
	assert_non_null(strstr(out, "artifact/xen does not hash to what the record says"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_signed),
	    cmocka_unit_test(test_build_verifies),
	    cmocka_unit_test(test_evidence_artifacts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
