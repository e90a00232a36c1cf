/* Flight reports by mail (controller/reports.c) received by a real SMTP server
 * the test starts on 127.0.0.1 (Debian's python3-aiosmtpd, through
 * tests/fake-smtp/smtp-server.py), and lib/mail's transport against the same
 * server with STARTTLS and AUTH (a self-signed certificate made by openssl here).
 *
 * The lab: lab-a's public board "qa" (class q35) and lab-p's private board "qp"
 * (class secretclass); a revision whose tree holds a file "bug" fails the job.
 * The branch staging is gated (advances master) and reports to two addresses;
 * lab-p's owner list (bisect.owners.lab-p.notify) is owner@partner.example.
 *   1. A push that passes: "[staging test] N: all pass - PUSHED" to the list, with
 *      the grid, the versions, the people; nothing of the private board in it,
 *      only that private results were omitted; the owner's report has them.
 *   2. A push that fails on both: "regressions - FAIL" with one X-Xenci-Failures
 *      header for the public class only, the blocking section, This/That
 *      versions, the author of the culprit among the people, In-Reply-To and
 *      References the first report (a thread per branch); then, once bisected,
 *      a follow-up with the culprit in the same thread.
 * No message with the private board's class or name ever reaches an address
 * outside the owner's list (checked over every message the server received). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"
#include "mail.h"
#include "proc.h"

#define GIT	  "git -c user.name=Dev -c user.email=dev@example.org "
#define PRIVATE	  "secretclass"
#define LIST_A	  "xen-devel@example.org"
#define LIST_B	  "ci-list@example.org"
#define OWNER	  "owner@partner.example"
#define SERVER_PY "tests/fake-smtp/smtp-server.py"

static struct harness_controller ctl;
static char tok_a[128], tok_p[128], user_tok[128], extra[4096];
static char spool[400];

/* The SMTP server the test started: its process, port and spool. */
struct smtpd {
	struct proc p;
	int port;
	char dir[400];
};

static struct smtpd plain;

static const char job_smoke[] = "name: smoke\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

#define sh(...)		     harness_sh(ctl.dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(ctl.dir, out, len, __VA_ARGS__)

/* Starts smtp-server.py with extra arguments (NULL-terminated) spooling into dir. */
static int smtpd_start(struct smtpd *s, const char *dir, const char *const *more)
{
	char portfile[480], script[600], log[480];
	const char *argv[20] = {"/usr/bin/python3", script,    "--port-file",
				portfile,	    "--spool", dir};
	struct buf b = BUF_INIT(0);
	size_t n = 6;
	int i;

	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(script, sizeof(script), "%s/" SERVER_PY, harness_root());
	snprintf(portfile, sizeof(portfile), "%s.port", dir);
	snprintf(log, sizeof(log), "%s.log", dir);
	while (more && *more && n < 18)
		argv[n++] = *more++;
	argv[n] = NULL;
	proc_init(&s->p);
	s->p.argv = argv;
	s->p.out_path = log;
	if (proc_start(&s->p) < 0)
		return -1;
	for (i = 0; i < 200 && access(portfile, R_OK) != 0; i++)
		usleep(50 * 1000);
	if (harness_read_file(&b, "/", portfile) < 0) {
		fprintf(stderr, "smtp-server.py did not start (see %s)\n", log);
		return -1;
	}
	s->port = atoi(buf_cstr(&b));
	buf_release(&b);
	return s->port > 0 ? 0 : -1;
}

static void smtpd_stop(struct smtpd *s)
{
	if (s->p.pid > 0)
		proc_kill(&s->p);
}

/* One received message: its envelope (the .json) and its bytes. */
struct received {
	json_t *env;
	struct buf eml;
};

/* Message n (1-based) from s's spool; 0 when it is there. */
static int received_get(struct received *r, const struct smtpd *s, int n)
{
	char name[32];
	struct buf b = BUF_INIT(0);

	snprintf(name, sizeof(name), "%d.json", n);
	if (harness_read_file(&b, s->dir, name) < 0)
		return -1;
	r->env = json_loads(buf_cstr(&b), 0, NULL);
	buf_release(&b);
	buf_init(&r->eml, 0);
	snprintf(name, sizeof(name), "%d.eml", n);
	return r->env && harness_read_file(&r->eml, s->dir, name) == 0 ? 0 : -1;
}

static void received_release(struct received *r)
{
	json_decref(r->env);
	buf_release(&r->eml);
}

/* 1 when the envelope of r lists addr. */
static int rcpt_has(const struct received *r, const char *addr)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(r->env, "rcpt_tos"), i, v) {
		if (!strcmp(json_string_value(v), addr))
			return 1;
	}
	return 0;
}

/* The value of header name in the head of msg (unfolded: its continuation
 * lines joined), into out; the number of times it appears. */
static int header(const char *msg, const char *name, char *out, size_t n)
{
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg;
	size_t len = strlen(name), used = 0;
	int count = 0, in = 0;

	if (out && n)
		out[0] = '\0';
	if (!end)
		end = msg + strlen(msg);
	while (p < end) {
		const char *eol = strstr(p, "\r\n");

		if (!eol || eol > end)
			eol = end;
		if ((*p == ' ' || *p == '\t') && in && out && used < n) {
			used += snprintf(out + used, n - used, "%.*s", (int)(eol - p), p);
		} else if (!strncasecmp(p, name, len) && p[len] == ':') {
			in = count++ == 0;
			if (in && out)
				used =
				    snprintf(out, n, "%.*s", (int)(eol - p - len - 2), p + len + 2);
		} else {
			in = 0;
		}
		p = eol + 2;
	}
	return count;
}

/* Waits until the spool holds at least n messages; returns how many it holds. */
static int wait_messages(const struct smtpd *s, int n)
{
	char name[480];
	int i, have = 0;

	for (i = 0; i < 400; i++) {
		for (have = 0;; have++) {
			snprintf(name, sizeof(name), "%s/%d.json", s->dir, have + 1);
			if (access(name, R_OK) != 0)
				break;
		}
		if (have >= n)
			break;
		usleep(50 * 1000);
	}
	return have;
}

static int setup(void **state)
{
	char dir[400];

	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "smoke.yaml", job_smoke);
	snprintf(spool, sizeof(spool), "%s/spool", ctl.dir);
	sh("mkdir spool");
	snprintf(dir, sizeof(dir), "%s", spool);
	if (smtpd_start(&plain, dir, NULL) < 0)
		return -1;
	sh("git init -q -b master xen && cd xen && echo base > README && " GIT "add -A && " GIT
	   "commit -qm base && git checkout -q -b staging");
	snprintf(extra, sizeof(extra),
		 "mail:\n"
		 "  smtp: smtp://127.0.0.1:%d\n"
		 "  from: ci@xenci.example\n"
		 "  timeout_seconds: 30\n"
		 "bisect:\n"
		 "  base_url: http://ci.example.org\n"
		 "  mail_culprit_author: false\n"
		 "  owners:\n"
		 "    lab-p:\n"
		 "      notify: [" OWNER "]\n"
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s/xen\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [smoke]\n"
		 "        gate: {jobs: [smoke], advance: master}\n"
		 "        report: {to: [" LIST_A ", " LIST_B "]}\n"
		 "      - name: quiet\n"
		 "        jobs: [smoke]\n"
		 "        report: {to: [" LIST_A "], enabled: false}\n",
		 plain.port, ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", tok_a, sizeof(tok_a)) < 0 ||
	    harness_token(&ctl, "agent", "lab-p", tok_p, sizeof(tok_p)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	if (harness_call(&ctl, tok_a, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"qa\","
			 " \"arch\": \"x86_64\", \"class\": \"q35\"}]}",
			 NULL) != 200 ||
	    harness_call(&ctl, tok_p, "PUT", "/api/v1/agents/lab-p/boards",
			 "{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"qp\","
			 " \"arch\": \"x86_64\", \"class\": \"" PRIVATE "\","
			 " \"visibility\": \"private\"}]}",
			 NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	smtpd_stop(&plain);
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

/* The lab's rule: a revision holding bug fails. */
static int lab_rule(struct harness_lab *lab, const json_t *a, char *body, size_t len)
{
	int bad = harness_git_has(ctl.dir, "xen",
				  jstr(json_object_get(a, "revision"), "commit", ""), "bug");

	(void)lab;
	snprintf(body, len, "{\"verdict\": \"%s\", \"stages\": []}", bad ? "fail" : "pass");
	return 0;
}

/* Runs the two labs' boards (lab-a's qa, the private lab-p's qp) in turns until
 * neither has work. */
static void lab_drain(void)
{
	struct harness_lab a = {.c = &ctl,
				.token = tok_a,
				.agent = "lab-a",
				.claim = "{\"boards\": [\"qa\"], \"wait_ms\": 0}",
				.rule = lab_rule};
	struct harness_lab p = {.c = &ctl,
				.token = tok_p,
				.agent = "lab-p",
				.claim = "{\"boards\": [\"qp\"], \"wait_ms\": 0}",
				.rule = lab_rule};
	int guard = 0, ra, rp;

	do {
		ra = harness_lab_step(&a);
		rp = harness_lab_step(&p);
		assert_true(ra >= 0 && rp >= 0);
	} while (ra + rp && guard++ < 400);
	assert_true(guard < 400);
}

static void push(const char *what, char *commit, size_t len)
{
	json_t *j = NULL;

	sh("cd xen && %s", what);
	shout(commit, len, "git -C xen rev-parse HEAD");
	assert_int_equal(
	    harness_call(&ctl, user_tok, "POST", "/api/v1/poke", "{\"branch\": \"staging\"}", &j),
	    200);
	assert_string_equal(jstr(j, "change", ""), "advanced");
	json_decref(j);
}

/* Finds, among messages 1..n, the first whose envelope lists addr and whose
 * subject holds needle (from message `from` on). Returns its number, or 0. */
static int find(const struct smtpd *s, int from, int n, const char *addr, const char *needle,
		struct received *out)
{
	char subject[1024];
	int i;

	for (i = from; i <= n; i++) {
		struct received r;

		if (received_get(&r, s, i) < 0) {
			received_release(&r);
			continue;
		}
		header(r.eml.data, "Subject", subject, sizeof(subject));
		if (rcpt_has(&r, addr) && strstr(subject, needle)) {
			*out = r;
			return i;
		}
		received_release(&r);
	}
	return 0;
}

/* No message outside the owner's list names the private board or its class. */
static void check_privacy(const struct smtpd *s, int n)
{
	int i;

	for (i = 1; i <= n; i++) {
		struct received r;

		assert_int_equal(received_get(&r, s, i), 0);
		if (strstr(r.eml.data, PRIVATE) || strstr(r.eml.data, "qp")) {
			const json_t *v;
			size_t k;

			json_array_foreach (json_object_get(r.env, "rcpt_tos"), k, v) {
				if (strcmp(json_string_value(v), OWNER))
					fail_msg("message %d names the private board and went to "
						 "%s:\n%s",
						 i, json_string_value(v), r.eml.data);
			}
		}
		received_release(&r);
	}
}

static void test_reports(void **state)
{
	char c1[48], c2[48], v[1024], id1[300], subject[300], want[300];
	struct received r1, o1, r2, f2;
	const char *body;
	int n, k2, kf;

	(void)state;
	/* 1. A push that passes everywhere. */
	push("echo one >> README && " GIT "commit -qam 'one'", c1, sizeof(c1));
	lab_drain();
	n = wait_messages(&plain, 2);
	assert_true(n >= 2);
	assert_true(find(&plain, 1, n, LIST_A, "all pass - PUSHED", &r1) > 0);
	/* one message to both addresses of the list, and to no one else */
	assert_true(rcpt_has(&r1, LIST_B));
	assert_int_equal(json_array_size(json_object_get(r1.env, "rcpt_tos")), 2);
	assert_string_equal(jstr(r1.env, "mail_from", ""), "ci@xenci.example");
	header(r1.eml.data, "Subject", subject, sizeof(subject));
	assert_true(!strncmp(subject, "[staging test] ", 15));
	header(r1.eml.data, "Message-Id", id1, sizeof(id1));
	assert_true(id1[0] == '<');
	assert_int_equal(header(r1.eml.data, "In-Reply-To", NULL, 0), 0);
	assert_int_equal(header(r1.eml.data, "X-Xenci-Failures", NULL, 0), 0);
	header(r1.eml.data, "X-Xenci-Versions-This", v, sizeof(v));
	snprintf(want, sizeof(want), "xen=%s", c1);
	assert_string_equal(v, want);
	body = strstr(r1.eml.data, "\r\n\r\n");
	assert_non_null(body);
	assert_non_null(strstr(body, "version targeted for testing:"));
	assert_non_null(strstr(body, c1));
	assert_non_null(strstr(body, "People who touched revisions under test:"));
	assert_non_null(strstr(body, "Dev <dev@example.org>"));
	assert_non_null(strstr(body, "jobs:"));
	assert_non_null(strstr(body, " q35"));
	assert_non_null(strstr(body, "Results from private boards were omitted"));
	assert_null(strstr(body, "Regressions which are regarded as blocking"));
	/* the owner's own report has its board's class */
	assert_true(find(&plain, 1, n, OWNER, "all pass", &o1) > 0);
	assert_int_equal(json_array_size(json_object_get(o1.env, "rcpt_tos")), 1);
	assert_non_null(strstr(o1.eml.data, PRIVATE));
	assert_null(strstr(o1.eml.data, "omitted"));
	received_release(&o1);

	/* 2. A push that fails on both boards, by an author with a non-ASCII name. */
	push("echo x > bug && git add bug && git -c user.name='Ann Ünal' -c "
	     "user.email=ann@example.org commit -qm 'add the bug'",
	     c2, sizeof(c2));
	lab_drain();
	n = wait_messages(&plain, n + 2);
	k2 = find(&plain, 3, n, LIST_A, "regressions - FAIL", &r2);
	assert_true(k2 > 0);
	header(r2.eml.data, "Subject", subject, sizeof(subject));
	assert_true(strstr(subject, "[staging test] ") == subject);
	/* exactly one failure header: the public class's */
	assert_int_equal(header(r2.eml.data, "X-Xenci-Failures", v, sizeof(v)), 1);
	assert_string_equal(v, "staging:smoke:q35:regression");
	header(r2.eml.data, "X-Xenci-Versions-This", v, sizeof(v));
	snprintf(want, sizeof(want), "xen=%s", c2);
	assert_string_equal(v, want);
	header(r2.eml.data, "X-Xenci-Versions-That", v, sizeof(v));
	snprintf(want, sizeof(want), "xen=%s", c1);
	assert_string_equal(v, want);
	/* threaded after the first report */
	header(r2.eml.data, "In-Reply-To", v, sizeof(v));
	assert_string_equal(v, id1);
	header(r2.eml.data, "References", v, sizeof(v));
	assert_non_null(strstr(v, id1));
	body = strstr(r2.eml.data, "\r\n\r\n");
	assert_non_null(strstr(body, "Regressions which are regarded as blocking:"));
	assert_non_null(strstr(body, "REGR. vs."));
	/* its bisection, under way or done */
	assert_non_null(strstr(body, "\r\n   bisection "));
	assert_non_null(strstr(body, "baseline version:"));
	/* the body is quoted-printable: the author's name as UTF-8 =C3=9C */
	assert_non_null(strstr(body, "Ann =C3=9Cnal <ann@example.org>"));
	assert_null(strstr(body, "=20\r\n")); /* no line ends in spaces */
	assert_null(strstr(body, "Dev <dev@example.org>"));
	received_release(&r2);
	received_release(&r1);

	/* The bisection of the public regression ends: a follow-up in the thread. */
	for (kf = 0;
	     kf < 100 && !find(&plain, 1, wait_messages(&plain, 1), LIST_A, "bisection", &f2);
	     kf++) {
		lab_drain();
		usleep(100 * 1000);
	}
	assert_true(kf < 100);
	header(f2.eml.data, "Subject", subject, sizeof(subject));
	assert_non_null(strstr(subject, "smoke on q35"));
	assert_non_null(strstr(f2.eml.data, c2));
	header(f2.eml.data, "In-Reply-To", v, sizeof(v));
	assert_true(v[0] == '<');
	assert_string_not_equal(v, id1);
	received_release(&f2);

	check_privacy(&plain, wait_messages(&plain, 1));
}

/* lib/mail's transport against the server with STARTTLS and AUTH. */
static void test_starttls_auth(void **state)
{
	char dir[400], cert[480], key[480], err[512];
	const char *more[] = {"--cert", cert,	      "--key",	key, "--user",
			      "relay",	"--password", "s3cret", NULL};
	const char *to[] = {"a@example.org", "b@example.org"};
	const char *msg = "Subject: tls\n\nover TLS\n.\n..two dots\n";
	struct mail_transport t = {0};
	struct received r;
	struct smtpd tls = {0};
	char url[64];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tls-spool", ctl.dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", ctl.dir);
	snprintf(key, sizeof(key), "%s/key.pem", ctl.dir);
	sh("mkdir tls-spool && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out "
	   "cert.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
	   "2>/dev/null");
	assert_int_equal(smtpd_start(&tls, dir, more), 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", tls.port);
	t.smtp_url = url;
	t.from = "ci@xenci.example";
	t.timeout_ms = 20000;
	/* without STARTTLS the server refuses MAIL */
	assert_int_equal(mail_send(&t, to, 2, msg, strlen(msg), err, sizeof(err)), -EIO);
	/* STARTTLS with a certificate it does not trust */
	t.starttls = 1;
	t.user = "relay";
	t.password = "s3cret";
	assert_int_equal(mail_send(&t, to, 2, msg, strlen(msg), err, sizeof(err)), -EIO);
	/* trusted, wrong password */
	t.cafile = cert;
	t.password = "wrong";
	assert_int_equal(mail_send(&t, to, 2, msg, strlen(msg), err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "Login denied"));
	/* trusted, right password */
	t.password = "s3cret";
	assert_int_equal(mail_send(&t, to, 2, msg, strlen(msg), err, sizeof(err)), 0);
	assert_int_equal(wait_messages(&tls, 1), 1);
	assert_int_equal(received_get(&r, &tls, 1), 0);
	assert_true(json_is_true(json_object_get(r.env, "tls")));
	assert_string_equal(jstr(r.env, "login", ""), "relay");
	assert_true(rcpt_has(&r, "a@example.org") && rcpt_has(&r, "b@example.org"));
	/* CRLF line ends, the dots unstuffed by the server as they were sent */
	assert_non_null(strstr(r.eml.data, "over TLS\r\n.\r\n..two dots\r\n"));
	received_release(&r);
	smtpd_stop(&tls);
}

/* --check: the mail section and a branch's report at file:line:col. */
static void test_check(void **state)
{
	char out[4096];

	(void)state;
	harness_write_file(ctl.dir, "bad.yaml",
			   "mail:\n"
			   "  smtp: http://relay.example.org\n"
			   "  from: \"ci <ci@example.org>\"\n"
			   "  starttls: perhaps\n"
			   "trees:\n"
			   "  xen:\n"
			   "    source: xen\n"
			   "    branches:\n"
			   "      - name: staging\n"
			   "        report: {to: [ok@example.org, \"a@b\\nBcc: c@d\"]}\n"
			   "      - name: dev\n"
			   "        report: {enabled: true}\n");
	assert_int_not_equal(harness_controller_check(&ctl, "bad.yaml", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "bad.yaml:2:9: mail.smtp: not an smtp:// or smtps:// URL"));
	assert_non_null(strstr(out, "bad.yaml:3:9: mail.from: not a mail address"));
	assert_non_null(strstr(out, "bad.yaml:4:13: mail.starttls"));
	assert_non_null(strstr(out, "trees.xen.branches[0].report.to[1]: not a mail address"));
	assert_non_null(strstr(out, "trees.xen.branches[1].report: missing required field \"to\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_reports),
	    cmocka_unit_test(test_starttls_auth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
