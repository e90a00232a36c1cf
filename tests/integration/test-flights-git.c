/* Flights from git, end to end against a real controller watching a repository
 * made here with the git command: a push makes exactly one flight (poke and
 * webhook), two quick pushes coalesce, the gate advances on an all-pass flight
 * and holds on a failure, a patch series applies (its flight has the patch's
 * commit) and a conflicting one names the patch and hunk with nothing queued,
 * the builders' sources, and the latency from push to the first claim. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "../harness/harness.h"
#include "json-util.h"

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], repo[400], extra[2048];

#define GIT "git -c user.name=Dev -c user.email=dev@example.org "

static const char job_smoke[] = "name: fake-smoke\n"
				"requires: {arch: [x86_64]}\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";
static const char job_boot[] = "name: boot\n"
			       "requires: {arch: [x86_64]}\n"
			       "stages:\n"
			       "  - {name: hello, pattern: 'hello', timeout: 10}\n";

#define sh(...)		     harness_sh(ctl.dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(ctl.dir, out, len, __VA_ARGS__)

static long long poke(const char *branch, const char *want_change)
{
	char body[256];
	json_t *j;
	long long flight;

	snprintf(body, sizeof(body), "{\"branch\": \"%s\"}", branch);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/poke", body, &j), 200);
	assert_string_equal(jstr(j, "change", ""), want_change);
	flight = jint(j, "flight", 0);
	json_decref(j);
	return flight;
}

static size_t flight_count(void)
{
	json_t *j;
	size_t n;

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/flights?limit=200", NULL, &j),
			 200);
	n = json_array_size(json_object_get(j, "flights"));
	json_decref(j);
	return n;
}

static json_t *flight_get(long long id)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	return j;
}

static const char *flight_commit(const json_t *f)
{
	const json_t *rev = json_object_get(f, "revision");

	return jstr(rev, "commit", jstr(f, "commit", ""));
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_smoke);
	harness_write_file(ctl.jobs, "boot.yaml", job_boot);
	snprintf(repo, sizeof(repo), "%s/xen", ctl.dir);
	sh("git init -q -b master xen && cd xen && seq 1 30 | sed 's/^/line /' > sched.c && "
	   "echo readme > README && " GIT "add -A && " GIT "commit -qm 'base' && git checkout "
	   "-q -b staging");
	snprintf(extra, sizeof(extra),
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [fake-smoke, boot]\n"
		 "        gate: {jobs: [fake-smoke, boot], advance: master}\n"
		 "      - name: dev\n"
		 "  mirror:\n"
		 "    source: file://%s\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        jobs: [fake-smoke]\n",
		 repo, repo);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	if (harness_call(
		&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
		"{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"qx\", \"arch\":"
		" \"x86_64\", \"class\": \"q35\", \"tags\": [\"qemu\"]}]}",
		NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static void test_push_makes_one_flight(void **state)
{
	char head[64], path[256];
	size_t before;
	long long f;
	json_t *j;

	(void)state;
	/* The first scan at start saw staging as new; it is recorded, so a poke now
	 * finds nothing to do. */
	poke("staging", "same");
	before = flight_count();
	sh("cd xen && echo one >> README && " GIT "commit -qam 'push one'");
	shout(head, sizeof(head), "git -C xen rev-parse staging");
	f = poke("staging", "advanced");
	assert_true(f > 0);
	assert_int_equal(flight_count(), before + 1);
	j = flight_get(f);
	assert_string_equal(flight_commit(j), head);
	assert_string_equal(jstr(j, "subject", ""), "push one");
	json_decref(j);
	poke("staging", "same");
	assert_int_equal(flight_count(), before + 1);

	/* A push hook, with the token in the query as hosts without headers send it. */
	sh("cd xen && echo two >> README && " GIT "commit -qam 'push two'");
	shout(head, sizeof(head), "git -C xen rev-parse staging");
	snprintf(path, sizeof(path), "/api/v1/webhook?token=%s", user_tok);
	assert_int_equal(harness_call(&ctl, NULL, "POST", path,
				      "{\"ref\": \"refs/heads/staging\", \"after\": \"x\"}", &j),
			 200);
	assert_string_equal(jstr(j, "change", ""), "advanced");
	assert_string_equal(jstr(j, "commit", ""), head);
	json_decref(j);
	assert_int_equal(flight_count(), before + 2);
	/* Bad token, unknown branch, a tag: clear errors, nothing queued. */
	assert_int_equal(harness_call(&ctl, NULL, "POST", "/api/v1/webhook?token=xci_nope",
				      "{\"ref\": \"refs/heads/staging\"}", &j),
			 401);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/webhook",
				      "{\"ref\": \"refs/heads/unknown\"}", &j),
			 404);
	assert_non_null(strstr(jstr(j, "detail", ""), "unknown"));
	json_decref(j);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/webhook",
				      "{\"ref\": \"refs/tags/v1\"}", &j),
			 422);
	json_decref(j);
	assert_int_equal(
	    harness_call(&ctl, NULL, "POST", "/api/v1/poke", "{\"branch\": \"staging\"}", &j), 401);
	json_decref(j);
	assert_int_equal(flight_count(), before + 2);

	/* A deleted branch is recorded, makes no flight; a force-push makes one. */
	sh("cd xen && git branch dev master");
	assert_true(poke("dev", "new") > 0);
	sh("cd xen && git branch -D dev");
	assert_int_equal(poke("dev", "deleted"), 0);
	sh("cd xen && git checkout -q -b dev master && echo f > f && " GIT "add f && " GIT
	   "commit -qm forced && git checkout -q staging");
	assert_true(poke("dev", "new") > 0);
	sh("cd xen && git update-ref refs/heads/dev $(git rev-parse master)");
	assert_true(poke("dev", "forced") > 0);
}

/* A URL tree: fetched into a mirror by the watcher's thread; a poke only wakes it. */
static void test_url_tree(void **state)
{
	char want[64];
	json_t *j;
	size_t before = flight_count();
	int i;

	(void)state;
	sh("cd xen && echo url >> README && " GIT "commit -qam 'for the mirror'");
	shout(want, sizeof(want), "git -C xen rev-parse staging");
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/poke",
				      "{\"tree\": \"mirror\", \"branch\": \"staging\"}", &j),
			 200);
	assert_string_equal(jstr(j, "change", ""), "queued");
	json_decref(j);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/poke",
				      "{\"tree\": \"mirror\", \"branch\": \"nope\"}", &j),
			 404);
	json_decref(j);
	for (i = 0; i < 100; i++) {
		json_t *b;
		size_t nrows;

		assert_int_equal(harness_call(&ctl, NULL, "GET",
					      "/api/v1/branches/staging?tree=mirror", NULL, &b),
				 200);
		nrows = json_array_size(json_object_get(b, "rows"));
		/* Fetched, and a flight made of the new head. */
		if (nrows > 0 && !strcmp(jstr(b, "head", ""), want) &&
		    !strcmp(want,
			    jstr(json_array_get(json_object_get(b, "rows"), 0), "commit", "?"))) {
			json_decref(b);
			break;
		}
		json_decref(b);
		usleep(50 * 1000);
	}
	assert_true(i < 100);
	assert_true(flight_count() > before);
	/* The woken thread scanned every tree: the local one's new head too. */
	poke("staging", "same");
}

static long long claim(const char *job_want, json_t **attempt)
{
	json_t *j = NULL;
	long st = harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
			       "{\"boards\": [\"qx\"], \"wait_ms\": 0}", &j);
	long long id;

	if (st == 204)
		return 0;
	assert_int_equal(st, 200);
	id = jint(json_object_get(j, "attempt"), "id", 0);
	if (job_want)
		assert_non_null(json_object_get(j, "attempt"));
	if (attempt)
		*attempt = json_incref(json_object_get(j, "attempt"));
	json_decref(j);
	return id;
}

static void result(long long id, const char *verdict)
{
	char path[96], body[256];

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	snprintf(body, sizeof(body),
		 "{\"verdict\": \"%s\", \"stages\": [], \"testcases\": [{\"name\": \"t1\","
		 " \"result\": \"%s\"}]}",
		 verdict, !strcmp(verdict, "pass") ? "pass" : "fail");
	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, body, NULL), 200);
}

/* Runs every queued attempt of flight f on qx with verdict (for job fail_job:
 * "fail"). Attempts of other flights met on the way are failed too. */
static void run_flight(long long f, const char *fail_job)
{
	json_t *a;
	long long id;
	int n = 0;

	while ((id = claim(NULL, &a)) > 0) {
		const char *job = jstr(json_object_get(a, "job"), "name", "");

		if (jint(a, "flight", 0) == f)
			n++;

		result(id, jint(a, "flight", 0) == f && !(fail_job && !strcmp(job, fail_job))
			       ? "pass"
			       : "fail");
		json_decref(a);
	}
	assert_int_equal(n, 2);
}

static void test_coalesce_and_gate(void **state)
{
	char a[64], b[64], master[64], path[128];
	long long fa, fb, fc;
	json_t *j, *atts, *x;
	size_t i;
	int cancelled = 0;

	(void)state;
	/* Two quick pushes: the first flight, not started, is coalesced. */
	sh("cd xen && echo A >> README && " GIT "commit -qam A");
	shout(a, sizeof(a), "git -C xen rev-parse staging");
	fa = poke("staging", "advanced");
	sh("cd xen && echo B >> README && " GIT "commit -qam B");
	shout(b, sizeof(b), "git -C xen rev-parse staging");
	fb = poke("staging", "advanced");
	assert_true(fb > fa);
	j = flight_get(fa);
	atts = json_object_get(j, "attempts");
	if (atts == NULL)
		atts = json_object_get(j, "jobs");
	json_array_foreach (atts, i, x)
		cancelled += !strcmp(jstr(x, "state", jstr(x, "verdict", "")), "cancelled");
	assert_int_equal(cancelled, 2);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &j),
			 200);
	x = json_array_get(json_object_get(j, "events"), 0);
	assert_int_equal(jint(x, "flight", 0), fb);
	assert_true(json_array_size(json_object_get(x, "coalesced")) >= 1);
	json_decref(j);

	/* All pass: master advances to b. */
	run_flight(fb, NULL);
	shout(master, sizeof(master), "git -C xen rev-parse master");
	assert_string_equal(master, b);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging", NULL, &j),
			 200);
	x = json_object_get(j, "gate");
	assert_string_equal(jstr(x, "state", ""), "advanced");
	assert_string_equal(jstr(x, "commit", ""), b);
	assert_int_equal(jint(x, "flight", 0), fb);
	/* The matrix: fb's row has one cell (qx) with both jobs passed. */
	x = json_array_get(json_object_get(j, "rows"), 0);
	assert_int_equal(jint(x, "flight", 0), fb);
	/* the row's author and subject: git's, as stored with its revision */
	assert_string_equal(jstr(x, "author", ""), "Dev <dev@example.org>");
	assert_non_null(jstr(x, "subject", NULL));
	assert_true(*jstr(x, "subject", ""));
	assert_string_equal(jstr(json_array_get(json_object_get(x, "cells"), 0), "verdict", ""),
			    "pass");
	assert_int_equal(jint(json_array_get(json_object_get(x, "cells"), 0), "total", 0), 2);
	json_decref(j);
	/* By board class. */
	assert_int_equal(
	    harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging?by=class&limit=1", NULL, &j),
	    200);
	x = json_array_get(json_object_get(j, "columns"), 0);
	assert_string_equal(jstr(x, "key", ""), "q35");
	assert_true(jbool(x, "class", 0));
	assert_int_equal(json_array_size(json_object_get(j, "rows")), 1);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/branches/nope", NULL, NULL), 404);
	assert_int_equal(
	    harness_call(&ctl, NULL, "GET", "/api/v1/branches/staging?limit=x", NULL, NULL), 400);

	/* One failure: held, master stays. */
	sh("cd xen && echo C >> README && " GIT "commit -qam C");
	fc = poke("staging", "advanced");
	run_flight(fc, "boot");
	shout(master, sizeof(master), "git -C xen rev-parse master");
	assert_string_equal(master, b);
	snprintf(path, sizeof(path), "/api/v1/branches/staging?limit=5");
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	x = json_object_get(j, "gate");
	assert_string_equal(jstr(x, "state", ""), "held");
	/* It regressed (B passed it); its retest on qx failed too: the gate names the
	 * class, OSSTest's words and the board. */
	assert_non_null(
	    strstr(jstr(x, "reason", ""), "gating job boot on q35 (qx): regression (REGR. vs. "));
	assert_int_equal(json_array_size(json_object_get(x, "decisions")), 2);
	json_decref(j);
	(void)a;
}

static void read_file(struct buf *b, const char *path)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
}

static void test_submission(void **state)
{
	struct buf mbox = BUF_INIT(0);
	char path[600], want[64], got[64];
	size_t before;
	json_t *j, *f;

	(void)state;
	/* A developer's series on staging, as git format-patch makes it. */
	sh("git clone -q -b staging xen work && cd work && sed -i 's/^line 5$/line five/' sched.c "
	   "&& " GIT "commit -qam 'sched: five' -m 'Why.' && sed -i 's/^line 25$/line 25!/' "
	   "sched.c && " GIT "commit -qam 'sched: twenty-five' && " GIT
	   "format-patch -q --cover-letter --stdout origin/staging > ../series.mbox");
	snprintf(path, sizeof(path), "%s/series.mbox", ctl.dir);
	read_file(&mbox, path);
	before = flight_count();
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST",
					    "/api/v1/submissions?base=staging&jobs=fake-smoke",
					    "application/mbox", mbox.data, mbox.len, &j, NULL),
			 201);
	assert_int_equal(flight_count(), before + 1);
	f = flight_get(jint(j, "flight", 0));
	assert_string_equal(flight_commit(f), jstr(j, "commit", ""));
	json_decref(f);
	assert_int_equal(json_array_size(json_object_get(j, "patches")), 2);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "patches"), 0), "subject", ""),
			    "sched: five");
	{
		char sp[64];
		json_t *sub;

		snprintf(sp, sizeof(sp), "/api/v1/submissions/%lld", jint(j, "submission", 0));
		assert_int_equal(harness_call(&ctl, NULL, "GET", sp, NULL, &sub), 200);
		assert_string_equal(jstr(sub, "commit", ""), jstr(j, "commit", ""));
		assert_int_equal(jint(sub, "flight", 0), jint(j, "flight", 0));
		assert_string_equal(jstr(sub, "base", ""), "staging");
		json_decref(sub);
		assert_int_equal(
		    harness_call(&ctl, NULL, "GET", "/api/v1/submissions/999", NULL, NULL), 404);
	}
	snprintf(path, sizeof(path), "git -C xen rev-parse %s^{tree}", jstr(j, "ref", ""));
	shout(got, sizeof(got), "%s", path);
	shout(want, sizeof(want), "git -C work rev-parse HEAD^{tree}");
	assert_string_equal(got, want);
	/* The builders' sources of the submission. */
	{
		json_t *m, *e;
		size_t i;
		struct http_client h;
		struct http_reply r;

		snprintf(path, sizeof(path), "/api/v1/trees/xen/commits/%s/manifest",
			 jstr(j, "commit", ""));
		assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &m), 200);
		assert_int_equal(json_array_size(json_object_get(m, "files")), 2);
		json_array_foreach (json_object_get(m, "files"), i, e) {
			if (strcmp(jstr(e, "path", ""), "sched.c"))
				continue;
			snprintf(path, sizeof(path), "/api/v1/trees/xen/blobs/%s",
				 jstr(e, "oid", ""));
			harness_http(&ctl, NULL, &h);
			http_reply_init(&r);
			assert_int_equal(http_request(&h, "GET", path, NULL, NULL, 0, NULL, &r), 0);
			assert_int_equal(r.status, 200);
			assert_non_null(strstr(buf_cstr(&r.body), "line five\n"));
			assert_non_null(strstr(buf_cstr(&r.body), "line 25!\n"));
			http_reply_release(&r);
			http_client_release(&h);
		}
		json_decref(m);
		assert_int_equal(harness_call(&ctl, NULL, "GET",
					      "/api/v1/trees/xen/commits/"
					      "0000000000000000000000000000000000000000/manifest",
					      NULL, NULL),
				 404);
		assert_int_equal(
		    harness_call(&ctl, NULL, "GET", "/api/v1/trees/xen/blobs/xyz", NULL, NULL),
		    400);
		assert_int_equal(
		    harness_call(&ctl, NULL, "GET", "/api/v1/trees/nope/blobs/xyz", NULL, NULL),
		    404);
	}
	json_decref(j);

	/* The base moved: line 25 changed. The series names patch 2, sched.c, hunk 1;
	 * nothing is queued and no ref is made. */
	sh("cd xen && sed -i 's/^line 25$/line XXV/' sched.c && " GIT "commit -qam 'XXV'");
	before = flight_count();
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST",
					    "/api/v1/submissions?base=staging", "application/mbox",
					    mbox.data, mbox.len, &j, NULL),
			 422);
	assert_string_equal(jstr(j, "error", ""), "patch does not apply");
	f = json_object_get(j, "detail");
	assert_int_equal(jint(f, "patch", 0), 2);
	assert_string_equal(jstr(f, "file", ""), "sched.c");
	assert_int_equal(jint(f, "hunk", 0), 1);
	assert_non_null(strstr(jstr(f, "message", ""), "line 25 reads \"line XXV\""));
	json_decref(j);
	assert_int_equal(flight_count(), before);
	shout(got, sizeof(got), "git -C xen for-each-ref refs/xenci/submissions | wc -l");
	assert_string_equal(got, "1");

	/* Bad input: clear errors, nothing queued. */
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST", "/api/v1/submissions",
					    "application/mbox", "", 0, &j, NULL),
			 422);
	json_decref(j);
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST", "/api/v1/submissions",
					    "application/mbox", "hello\n", 6, &j, NULL),
			 422);
	assert_non_null(strstr(jstr(j, "detail", ""), "not a patch"));
	json_decref(j);
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST",
					    "/api/v1/submissions?base=nosuch", "application/mbox",
					    mbox.data, mbox.len, &j, NULL),
			 404);
	assert_non_null(strstr(jstr(j, "detail", ""), "nosuch"));
	json_decref(j);
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST",
					    "/api/v1/submissions?jobs=nojob", "application/mbox",
					    mbox.data, mbox.len, &j, NULL),
			 422);
	json_decref(j);
	assert_int_equal(harness_call_bytes(&ctl, NULL, "POST", "/api/v1/submissions",
					    "application/mbox", mbox.data, mbox.len, &j, NULL),
			 401);
	json_decref(j);
	assert_int_equal(flight_count(), before);
	buf_release(&mbox);
}

/* Issue 13 finding 7: once qx is private, the gate's reasons read by anyone but
 * admins and its agent name neither the board nor its attempt (the held
 * decision says "gating job boot on q35 (qx): regression (REGR. vs. N, attempt
 * M)"); the page alike. */
static void test_private_gate_reason(void **state)
{
	const char *toks[] = {NULL, user_tok, agent_tok, ctl.admin_token};
	struct buf page = BUF_INIT(HTTP_REPLY_MAX);
	json_t *j = NULL, *d;
	size_t w, i;

	(void)state;
	assert_int_equal(
	    harness_call(&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
			 "{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"qx\","
			 " \"arch\": \"x86_64\", \"class\": \"q35\", \"tags\": [\"qemu\"],"
			 " \"visibility\": \"private\"}]}",
			 NULL),
	    200);
	for (w = 0; w < 4; w++) {
		int sees = w >= 2;
		const char *reason;

		assert_int_equal(harness_call(&ctl, toks[w], "GET",
					      "/api/v1/branches/staging?limit=5", NULL, &j),
				 200);
		reason = jstr(json_object_get(j, "gate"), "reason", "");
		assert_string_equal(jstr(json_object_get(j, "gate"), "state", ""), "held");
		if ((strstr(reason, "(qx): regression (REGR. vs. ") != NULL) != sees)
			fail_msg("token %zu: the gate's reason: %s", w, reason);
		json_array_foreach (json_object_get(json_object_get(j, "gate"), "decisions"), i,
				    d) {
			if (!sees && strstr(jstr(d, "reason", ""), "qx"))
				fail_msg("token %zu: a decision names qx: %s", w,
					 jstr(d, "reason", ""));
		}
		json_decref(j);
		assert_int_equal(harness_call_bytes(&ctl, toks[w], "GET", "/branches/staging", NULL,
						    NULL, 0, NULL, &page),
				 200);
		if (!sees && strstr(buf_cstr(&page), "qx"))
			fail_msg("token %zu: the branch page names qx", w);
		buf_reset(&page);
	}
	buf_release(&page);
}

/* 1 when everything sent on fd has been read by the controller: nothing left in
 * fd's send queue (SIOCOUTQ), nothing in the receive queue of the controller's
 * end of the connection (/proc/net/tcp). */
static int all_read(int fd)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char line[512], want_local[32], want_remote[32];
	int outq = -1, done = 0;
	FILE *f;

	if (ioctl(fd, SIOCOUTQ, &outq) < 0 || outq != 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		return 0;
	snprintf(want_local, sizeof(want_local), ":%04X", ctl.port);
	snprintf(want_remote, sizeof(want_remote), ":%04X", ntohs(me.sin_port));
	f = fopen("/proc/net/tcp", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char local[64], remote[64];
		unsigned st, tx, rx;

		if (sscanf(line, "%*s %63s %63s %x %x:%x", local, remote, &st, &tx, &rx) == 5 &&
		    strstr(local, want_local) && strstr(remote, want_remote))
			done = rx == 0;
	}
	fclose(f);
	return done;
}

/* While the largest series the route takes (30 MB: a file of a million lines,
 * then a quarter of a million hunks) is being applied, an agent's heartbeat is
 * answered (200, its attempt still running): the series is applied off the
 * thread that serves agents. Then the series gets its own reply. */
static void test_heartbeat_while_applying(void **state)
{
	static const char small[] =
	    "From: Dev <dev@example.org>\nSubject: [PATCH] readme\n\n---\n"
	    "diff --git a/README b/README\nindex 1111111..2222222 100644\n--- a/README\n"
	    "+++ b/README\n@@ -1 +1 @@\n-readme\n+read me\n";
	struct buf mbox = BUF_INIT(0);
	char head[512], reply[8192] = "", path[96];
	long long attempt;
	json_t *j = NULL, *a = NULL;
	int fd;

	(void)state;
	/* An attempt claimed by lab-a, heartbeating. */
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST",
					    "/api/v1/submissions?base=staging&jobs=fake-smoke",
					    "application/mbox", small, strlen(small), NULL, NULL),
			 201);
	attempt = claim(NULL, &a);
	assert_true(attempt > 0);
	json_decref(a);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", attempt);

	harness_series_many_hunks(&mbox, 30 * 1000 * 1000);
	snprintf(head, sizeof(head),
		 "POST /api/v1/submissions?base=staging&jobs=fake-smoke HTTP/1.1\r\nHost: x\r\n"
		 "Authorization: Bearer %s\r\nContent-Type: application/mbox\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 user_tok, mbox.len);
	fd = harness_connect(ctl.port, NULL);
	assert_true(fd >= 0);
	assert_int_equal(harness_send(fd, head, strlen(head)), 0);
	assert_int_equal(harness_send(fd, mbox.data, mbox.len), 0);
	/* The controller has the whole series: it is being applied. */
	for (int i = 0; i < 6000 && !all_read(fd); i++)
		usleep(10 * 1000);
	assert_true(all_read(fd));

	assert_int_equal(harness_call(&ctl, agent_tok, "POST", path, "{}", &j), 200);
	json_decref(j);
	/* Answered while the series has not been: no reply on its connection yet. */
	{
		struct pollfd p = {fd, POLLIN, 0};

		assert_int_equal(poll(&p, 1, 0), 0);
	}
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", attempt);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	assert_string_equal(jstr(j, "state", ""), "running");
	json_decref(j);

	assert_int_equal(harness_read_until(fd, reply, sizeof(reply), "\r\n\r\n", 300000), 1);
	print_message("the 30 MB series: %.40s\n", reply);
	assert_int_equal(harness_status(reply), 201);
	close(fd);
	result(attempt, "pass");
	while ((attempt = claim(NULL, NULL)) > 0)
		result(attempt, "pass");
	buf_release(&mbox);
}

/* A user's flight is of a tree the controller watches and a commit in it, at a
 * user's priority (422 and 403 with a JSON error, nothing queued); an admin's
 * may be at gate priority. */
static void test_flight_checks(void **state)
{
	char head[64], body[256];
	size_t before = flight_count();
	long long id;
	json_t *j = NULL;

	(void)state;
	shout(head, sizeof(head), "git -C xen rev-parse staging");
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"jobs\": "
		 "[\"fake-smoke\"]}",
		 head);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights", body, NULL), 201);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": "
				      "\"0123456789012345678901234567890123456789\"}",
				      &j),
			 422);
	assert_string_equal(jstr(j, "error", ""), "no such tree or commit");
	json_decref(j);
	snprintf(body, sizeof(body), "{\"tree\": \"nosuch\", \"commit\": \"%s\"}", head);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights", body, &j), 422);
	assert_non_null(strstr(jstr(j, "detail", ""), "no tree named \"nosuch\""));
	json_decref(j);
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"priority\": "
		 "\"gate\"}",
		 head);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights", body, &j), 403);
	assert_string_equal(jstr(j, "error", ""), "forbidden");
	json_decref(j);
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"kind\": "
		 "\"push\"}",
		 head);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/flights", body, NULL), 403);
	assert_int_equal(flight_count(), before + 1);
	snprintf(body, sizeof(body),
		 "{\"tree\": \"xen\", \"commit\": \"%s\", \"priority\": "
		 "\"gate\", \"jobs\": [\"fake-smoke\"]}",
		 head);
	assert_int_equal(harness_call(&ctl, ctl.admin_token, "POST", "/api/v1/flights", body, NULL),
			 201);
	assert_int_equal(flight_count(), before + 2);
	while ((id = claim(NULL, NULL)) > 0)
		result(id, "pass");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_push_makes_one_flight),
	    cmocka_unit_test(test_coalesce_and_gate),
	    cmocka_unit_test(test_submission),
	    cmocka_unit_test(test_heartbeat_while_applying),
	    cmocka_unit_test(test_url_tree),
	    cmocka_unit_test(test_private_gate_reason),
	    cmocka_unit_test(test_flight_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
