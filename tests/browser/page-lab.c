/* A lab for the browser tests: a real controller (tests/harness) with a watched
 * git tree, fed by simulated agents through the real protocol (lib/http-client).
 *
 * It prints one JSON line {"url", "flight", "live", "done", "private", ...} once
 * the scene is set, then reads commands on stdin, answering one line each:
 *	line TEXT	append console line TEXT to the live attempt → "ok LENGTH"
 *	finish		report the live attempt's result (pass) → "ok"
 *	quit (or EOF)	stop the controller and exit
 * Hostile bytes in TEXT are written as the escapes \e (ESC), \0 (NUL), \xHH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/harness.h"
#include "json-util.h"

#define GIT "git -c user.name='Ann <b>Author</b>' -c user.email=ann@example.org "

static struct harness_controller c;
static char tok_a[128], tok_p[128], tok_user[128];

static const char job[] = "name: smoke\n"
			  "requires: {arch: [x86_64, arm64]}\n"
			  "stages:\n"
			  "  - {name: hello, pattern: 'hello', timeout: 10}\n";

/* Claims work for one board of agent; returns the attempt id or 0. */
static long long claim(const char *token, const char *agent, const char *board)
{
	char path[128], body[256];
	json_t *j = NULL;
	long long id = 0;

	snprintf(path, sizeof(path), "/api/v1/agents/%s/claim", agent);
	snprintf(body, sizeof(body), "{\"boards\": [\"%s\"], \"wait_ms\": 5000}", board);
	if (harness_call(&c, token, "POST", path, body, &j) == 200)
		id = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	return id;
}

struct attempt_log {
	long long id, length;
	double t;
};

static int log_put(const char *token, struct attempt_log *l, const char *bytes, size_t n)
{
	char path[128];
	json_t *j = NULL;
	long st;

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=%lld", l->id, l->length);
	st = harness_call_bytes(&c, token, "PUT", path, "application/octet-stream", bytes, n, &j,
				NULL);
	if (st == 200)
		l->length = jint(j, "length", l->length);
	json_decref(j);
	return st == 200 ? 0 : -1;
}

/* One log line "TTTTT.mmm K TEXT\n" (TEXT raw bytes). */
static int log_line(const char *token, struct attempt_log *l, char kind, const char *text, size_t n)
{
	char *line = malloc(n + 32);
	int len, rc;

	l->t += 0.731;
	len = snprintf(line, 32, "%9.3f %c ", l->t, kind);
	memcpy(line + len, text, n);
	line[len + (int)n] = '\n';
	rc = log_put(token, l, line, (size_t)len + n + 1);
	free(line);
	return rc;
}

static int log_text(const char *token, struct attempt_log *l, char kind, const char *text)
{
	return log_line(token, l, kind, text, strlen(text));
}

static int result(const char *token, long long id, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	return harness_call(&c, token, "POST", path, body, NULL) == 200 ? 0 : -1;
}

/* Decodes \e \0 \xHH \\ in s into out; returns the length. */
static size_t unescape(char *out, const char *s)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'e') {
			out[n++] = 0x1b;
			s += 2;
		} else if (s[0] == '\\' && s[1] == '0') {
			out[n++] = 0;
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = {s[2], s[3], 0};

			out[n++] = (char)strtol(hex, NULL, 16);
			s += 4;
		} else if (s[0] == '\\' && s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

static int sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "cd %s && (%s) >/dev/null 2>&1", c.dir, cmd);
	return system(full) == 0 ? 0 : -1;
}

static const char *const boot_log[] = {
    "# power on",
    "| iPXE 1.21.1 -- Open Source Network Boot Firmware",
    "| \x1b[1;32m Xen 4.17.3\x1b[0m",
    "| (XEN) Xen version 4.17.3 (Debian 4.17.3+10-deb12u1)",
    "# stage xen-banner reached",
    "| (XEN) \x1b[33mWARNING: SILO mode is not enabled\x1b[0m",
    "| <script>alert(1)</script> \x1b[2J\x1b]0;pwned\x07 <img src=x onerror=alert(2)>",
    "| [    1.234567] Linux version 6.1.0-18-amd64 \x01\x7f end",
    "| hello from dom0",
    "# stage hello reached",
    "# testcase hypervisor type is xen pass",
    "# testcase xl list shows Domain-0 pass",
    "# verdict pass",
    NULL,
};

static int scene(json_t *out)
{
	struct attempt_log done = {0, 0, 0}, priv = {0, 0, 0}, bad = {0, 0, 0}, retest = {0, 0, 0};
	char extra[1024];
	json_t *j = NULL;
	long long flight;
	size_t i;

	if (harness_controller_init(&c) < 0)
		return -1;
	harness_write_file(c.jobs, "smoke.yaml", job);
	if (sh("git init -q -b master xen && cd xen && echo base > README && " GIT "add -A && " GIT
	       "commit -qm 'x86/boot: start <here> & there'"))
		return -1;
	snprintf(extra, sizeof(extra),
		 "trees:\n  xen:\n    source: %s/xen\n    interval: 3600\n    branches:\n"
		 "      - name: master\n        jobs: [smoke]\n",
		 c.dir);
	c.extra_config = extra;
	c.http_timeout_ms = 20000;
	if (harness_controller_start(&c) < 0 ||
	    harness_token(&c, "agent", "lab-a", tok_a, sizeof(tok_a)) < 0 ||
	    harness_token(&c, "agent", "lab-p", tok_p, sizeof(tok_p)) < 0 ||
	    harness_token(&c, "user", NULL, tok_user, sizeof(tok_user)) < 0)
		return -1;
	if (harness_call(
		&c, tok_a, "PUT", "/api/v1/agents/lab-a/boards",
		"{\"protocol\": 1, \"agent_version\": \"page-lab\", \"builder\": null,"
		" \"boards\": [{\"name\": \"qemu-x86_64\", \"arch\": \"x86_64\", \"class\":"
		" \"qemu-x86_64-q35\", \"tags\": [\"qemu\"], \"description\": \"QEMU q35,"
		" iPXE netboot\"}, {\"name\": \"qemu-arm64\", \"arch\": \"arm64\","
		" \"class\": \"qemu-arm64-virt\", \"tags\": [\"qemu\"], \"description\":"
		" \"QEMU virt, U-Boot\"}]}",
		NULL) != 200 ||
	    harness_call(
		&c, tok_p, "PUT", "/api/v1/agents/lab-p/boards",
		"{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"secret-board\","
		" \"arch\": \"x86_64\", \"class\": \"secret-class\", \"visibility\": \"private\","
		" \"description\": \"a partner's unreleased SoC\"}]}",
		NULL) != 200)
		return -1;
	/* A push on the watched branch makes the flight. */
	if (sh("cd xen && echo one >> README && " GIT
	       "commit -qam 'xen/arm: fix <vgic> & \"quotes\"'"))
		return -1;
	if (harness_call(&c, tok_user, "POST", "/api/v1/poke", "{\"branch\": \"master\"}", &j) !=
	    200)
		return -1;
	flight = jint(j, "flight", 0);
	json_decref(j);
	if (flight <= 0)
		return -1;
	/* arm64: a finished attempt with a hostile, coloured console. */
	done.id = claim(tok_a, "lab-a", "qemu-arm64");
	if (!done.id)
		return -1;
	for (i = 0; boot_log[i]; i++)
		if (log_text(tok_a, &done, boot_log[i][0], boot_log[i] + 2) < 0)
			return -1;
	if (log_line(tok_a, &done, '|', "nul\0byte \xff\xfe bad utf-8", 21) < 0 ||
	    result(tok_a, done.id,
		   "{\"verdict\": \"pass\", \"reason\": \"all stages reached\", \"stages\":"
		   " [{\"name\": \"xen-banner\", \"result\": \"pass\", \"seconds\": 2.9},"
		   " {\"name\": \"hello\", \"result\": \"pass\", \"seconds\": 6.6}],"
		   " \"testcases\": [{\"name\": \"hypervisor type is xen\", \"result\": \"pass\"},"
		   " {\"name\": \"xl list shows Domain-0\", \"result\": \"pass\"}]}") < 0)
		return -1;
	/* The private board's attempt. */
	priv.id = claim(tok_p, "lab-p", "secret-board");
	if (!priv.id || log_text(tok_p, &priv, '|', "SECRET-CONSOLE-LINE") < 0 ||
	    result(tok_p, priv.id, "{\"verdict\": \"fail\", \"reason\": \"secret\"}") < 0)
		return -1;
	/* A regression: the next push fails on arm64, where the last one passed, and
	 * the controller starts a bisection. */
	if (sh("cd xen && echo two >> README && " GIT "commit -qam 'arm/vgic: break <it>'") ||
	    harness_call(&c, tok_user, "POST", "/api/v1/poke", "{\"branch\": \"master\"}", NULL) !=
		200)
		return -1;
	bad.id = claim(tok_a, "lab-a", "qemu-arm64");
	if (!bad.id || log_text(tok_a, &bad, '|', "(XEN) Assertion 'v->is_running' failed") < 0 ||
	    log_text(tok_a, &bad, '#', "failure xen-assert: Assertion failed") < 0 ||
	    result(tok_a, bad.id, "{\"verdict\": \"fail\", \"reason\": \"xen-assert\"}") < 0)
		return -1;
	/* A failure is retested at the same revision before it is reported (on the
	 * class's only board here): it fails again, so it is a regression and bisected. */
	retest.id = claim(tok_a, "lab-a", "qemu-arm64");
	if (!retest.id ||
	    log_text(tok_a, &retest, '#', "failure xen-assert: Assertion failed") < 0 ||
	    result(tok_a, retest.id, "{\"verdict\": \"fail\", \"reason\": \"xen-assert\"}") < 0)
		return -1;
	if (harness_call(&c, NULL, "GET", "/api/v1/bisections", NULL, &j) != 200)
		return -1;
	json_object_set_new(
	    out, "bisection",
	    json_integer(jint(json_array_get(json_object_get(j, "bisections"), 0), "id", 0)));
	json_decref(j);
	json_object_set_new(out, "failed", json_integer(bad.id));
	json_object_set_new(out, "private", json_integer(priv.id));
	json_object_set_new(out, "done", json_integer(done.id));
	json_object_set_new(out, "flight", json_integer(flight));
	json_object_set_new(out, "url", json_string(c.url));
	json_object_set_new(out, "admin", json_string(c.admin_token));
	return 0;
}

int main(void)
{
	struct attempt_log live = {0, 0, 0};
	json_t *out = json_object();
	char cmd[8192], text[8192];
	char *s;
	int rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (scene(out) < 0)
		goto out;
	/* x86_64: running, with a few lines; the test appends more. */
	live.id = claim(tok_a, "lab-a", "qemu-x86_64");
	if (!live.id || log_text(tok_a, &live, '#', "power on") < 0 ||
	    log_text(tok_a, &live, '|', "(XEN) Xen version 4.17.3") < 0)
		goto out;
	{
		char path[96];

		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", live.id);
		harness_call(&c, tok_a, "POST", path, "{\"stage\": \"hello\"}", NULL);
	}
	json_object_set_new(out, "live", json_integer(live.id));
	s = json_dumps(out, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	while (fgets(cmd, sizeof(cmd), stdin)) {
		cmd[strcspn(cmd, "\n")] = '\0';
		if (!strncmp(cmd, "line ", 5)) {
			size_t n = unescape(text, cmd + 5);

			if (log_line(tok_a, &live, '|', text, n) < 0)
				printf("error\n");
			else
				printf("ok %lld\n", live.length);
		} else if (!strcmp(cmd, "finish")) {
			printf(result(tok_a, live.id, "{\"verdict\": \"pass\"}") < 0 ? "error\n"
										     : "ok\n");
		} else if (!strcmp(cmd, "quit")) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	rc = 0;
out:
	if (rc)
		printf("{\"error\": \"the scene could not be set; see stderr\"}\n");
	json_decref(out);
	if (c.pid > 0 && harness_controller_stop(&c) != 0 && rc == 0)
		rc = 1;
	return rc;
}
