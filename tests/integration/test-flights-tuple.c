/* Flights of several trees through a real controller: a Xen tree (kind xen,
 * tested ref master) and a Linux tree (kind linux, tested ref `tested`), each a
 * real git repository with a gated branch. A flight's revision is a tuple: the
 * branch's tree moves, the other tree is taken at its tested ref when the flight
 * is made and recorded (API, the build and test attempts' revision, JUnit-facing
 * fields, the branch matrix). A pass on the linux branch advances Linux's tested
 * ref and only that one. A 16-commit Linux push whose commit 11 breaks dom0 is
 * bisected in the linux tree with Xen pinned: the bisection names the linux tree
 * and that commit, and no flight it makes changes Xen's revision. A patch
 * submitted on the linux tree gets a flight with Xen pinned too. When Linux
 * moved and Xen's tested ref moved too, the bisection first runs each tree's
 * change alone: a Xen culprit is found in Xen with Linux pinned at the baseline;
 * changes that fail only together are reported as such. The "lab" is this test:
 * a test fails when the Linux or the Xen revision of its tuple holds a file
 * "bug", or both hold a file "half". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "http-client.h"
#include "json-util.h"

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], extra[2048];
static char xen0[48], linux0[48], linux1[48];
static char commits[17][48]; /* the Linux push; [0] its base (linux1) */
static int xen_builds;	     /* the lab's builds of Xen */

#define GIT	"git -c user.name=Dev -c user.email=dev@example.org "
#define CULPRIT 11

static const char job_smoke[] = "name: smoke\n"
				"requires: {arch: [x86_64]}\n"
				"artifacts: [xen, dom0-kernel]\n"
				"stages:\n"
				"  - {name: hello, pattern: 'hello', timeout: 10}\n";

#define sh(...)		     harness_sh(ctl.dir, __VA_ARGS__)
#define shout(out, len, ...) harness_shout(ctl.dir, out, len, __VA_ARGS__)

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "smoke.yaml", job_smoke);
	sh("git init -q -b master xen && cd xen && echo xen > README && " GIT "add -A && " GIT
	   "commit -qm 'xen base'");
	shout(xen0, sizeof(xen0), "git -C xen rev-parse master");
	sh("git init -q -b master linux && cd linux && echo linux > README && " GIT "add -A && " GIT
	   "commit -qm 'linux base' && git branch tested");
	shout(linux0, sizeof(linux0), "git -C linux rev-parse master");
	snprintf(extra, sizeof(extra),
		 "bisect:\n"
		 "  notify: [ci@example.org]\n"
		 "  sendmail: /bin/true\n"
		 "trees:\n"
		 "  xen:\n"
		 "    source: %s/xen\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: staging\n"
		 "        gate: {jobs: [smoke], advance: master}\n"
		 "  linux:\n"
		 "    source: %s/linux\n"
		 "    kind: linux\n"
		 "    tested: tested\n"
		 "    interval: 3600\n"
		 "    branches:\n"
		 "      - name: linux-next\n"
		 "        gate: {jobs: [smoke], advance: tested}\n",
		 ctl.dir, ctl.dir);
	ctl.extra_config = extra;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		return -1;
	if (harness_call(
		&ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
		"{\"protocol\": 1, \"builder\": {\"arches\": [\"x86_64\"]}, \"boards\": ["
		"{\"name\": \"qa\", \"arch\": \"x86_64\", \"class\": \"q35\", \"tags\": []},"
		"{\"name\": \"qb\", \"arch\": \"x86_64\", \"class\": \"q35\", \"tags\": []}]}",
		NULL) != 200)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

static long long poke(const char *tree, const char *branch, const char *want)
{
	json_t *j = NULL;
	char body[160];
	long long f;

	snprintf(body, sizeof(body), "{\"tree\": \"%s\", \"branch\": \"%s\"}", tree, branch);
	assert_int_equal(harness_call(&ctl, user_tok, "POST", "/api/v1/poke", body, &j), 200);
	assert_string_equal(jstr(j, "change", ""), want);
	f = jint(j, "flight", 0);
	json_decref(j);
	return f;
}

static json_t *flight_get(long long id)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", id);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &j), 200);
	return j;
}

/* The tuple's member for tree, checked: its commit and whether it moves. */
static void member_is(const json_t *tuple, const char *tree, const char *commit, int moves,
		      const char *ref)
{
	const json_t *m = json_object_get(tuple, tree);

	if (m == NULL)
		fail_msg("no tree %s in the tuple", tree);
	assert_string_equal(jstr(m, "commit", ""), commit);
	assert_int_equal(json_is_true(json_object_get(m, "moves")), moves);
	if (ref)
		assert_string_equal(jstr(m, "ref", ""), ref);
	assert_string_equal(jstr(m, "kind", ""), tree); /* the trees are named as their kinds */
}

/* What the lab ran (builds, tests) and the Xen revision every attempt must have
 * (NULL: any). */
struct lab_count {
	int *builds, *tests;
	const char *xen_want;
};

/* The lab's rule for one attempt (a build or a test on qa/qb). A build
 * is of one tree (schema/0075: builds are per tree, revision and arch): Xen's
 * makes xen and a payload dom0-kernel (Debian's, so to say), Linux's its own
 * dom0-kernel; a test's revision carries the flight's tuple and its artifacts
 * the Linux tree's dom0-kernel. Every Xen revision met must be xen_want.
 * Counts builds and tests in lab->arg (struct lab_count). */
static int lab_rule(struct harness_lab *lab, const json_t *a, char *body, size_t len)
{
	struct lab_count *n = lab->arg;
	const char *xen_want = n->xen_want;
	const json_t *tuple = json_object_get(json_object_get(a, "revision"), "tuple");
	char art[160], hex[65];
	const char *lcommit, *xcommit;
	long long id = jint(a, "id", 0);

	if (!strcmp(jstr(a, "kind", ""), "build")) {
		const char *tree = jstr(json_object_get(a, "revision"), "tree", "");
		const char *commit = jstr(json_object_get(tuple, tree), "commit", "");
		char khex[65];
		const char kpay[] = "debian's dom0 kernel";
		int is_xen = !strcmp(tree, "xen");

		/* the build's revision is its own tree alone */
		assert_int_equal(json_object_size(tuple), 1);
		if (is_xen && xen_want && strcmp(commit, xen_want))
			fail_msg("build %lld has Xen at %s, not %s", id, commit, xen_want);
		(*n->builds)++;
		xen_builds += is_xen;
		snprintf(art, sizeof(art), "%s built from %s", is_xen ? "xen" : "dom0 kernel",
			 commit);
		assert_int_equal(harness_put_artifact(lab->c, lab->token, art, strlen(art), hex),
				 0);
		assert_int_equal(harness_put_artifact(lab->c, lab->token, kpay, strlen(kpay), khex),
				 0);
		if (is_xen)
			snprintf(
			    body, len,
			    "{\"verdict\": \"pass\", \"stages\": [], \"testcases\": [],"
			    " \"artifacts\": {\"xen\": {\"sha256\": \"%s\", \"size\": %zu},"
			    " \"dom0-kernel\": {\"sha256\": \"%s\", \"size\": %zu}},"
			    " \"build_info\": {\"arch\": \"x86_64\", \"xen_version\": \"4.99\","
			    " \"payloads\": [\"dom0-kernel\"]}}",
			    hex, strlen(art), khex, strlen(kpay));
		else
			snprintf(body, len,
				 "{\"verdict\": \"pass\", \"stages\": [], \"testcases\": [],"
				 " \"artifacts\": {\"dom0-kernel\": {\"sha256\": \"%s\", \"size\": "
				 "%zu}},"
				 " \"build_info\": {\"trees\": {\"linux\": {\"linux_version\": "
				 "\"6.1\"}},"
				 " \"payloads\": []}}",
				 hex, strlen(art));
	} else {
		int bad;

		assert_int_equal(json_object_size(tuple), 2);
		if (xen_want && strcmp(jstr(json_object_get(tuple, "xen"), "commit", ""), xen_want))
			fail_msg("attempt %lld (flight %lld) has Xen at %s, not %s", id,
				 jint(a, "flight", 0),
				 jstr(json_object_get(tuple, "xen"), "commit", ""), xen_want);
		lcommit = jstr(json_object_get(tuple, "linux"), "commit", "");
		xcommit = jstr(json_object_get(tuple, "xen"), "commit", "");
		/* a bug in either tree, or two halves that fail only together */
		bad = harness_git_has(ctl.dir, "linux", lcommit, "bug") ||
		      harness_git_has(ctl.dir, "xen", xcommit, "bug") ||
		      (harness_git_has(ctl.dir, "linux", lcommit, "half") &&
		       harness_git_has(ctl.dir, "xen", xcommit, "half"));
		/* the Linux tree's dom0-kernel, not the payload's of Xen's build; Xen's
		 * build-info with Linux's under trees */
		snprintf(art, sizeof(art), "dom0 kernel built from %s", lcommit);
		sha256_hex(hex, art, strlen(art));
		assert_string_equal(
		    jstr(json_object_get(json_object_get(a, "artifacts"), "dom0-kernel"), "sha256",
			 ""),
		    hex);
		assert_string_equal(jstr(json_object_get(a, "build_info"), "xen_version", ""),
				    "4.99");
		assert_string_equal(
		    jstr(json_object_get(json_object_get(json_object_get(a, "build_info"), "trees"),
					 "linux"),
			 "linux_version", ""),
		    "6.1");
		(*n->tests)++;
		harness_result_body(body, len, !bad);
	}
	return 0;
}

/* Builds in the controller's store (as sqlite3 on its file counts them). */
static int builds_stored(void)
{
	char out[32];

	shout(out, sizeof(out), "sqlite3 %s/xenci.db 'SELECT count(*) FROM builds'", ctl.data);
	return atoi(out);
}

static void lab_drain(int *builds, int *tests, const char *xen_want)
{
	struct lab_count n = {builds, tests, xen_want};
	struct harness_lab lab = {
	    .c = &ctl,
	    .token = agent_tok,
	    .agent = "lab-a",
	    .claim = "{\"boards\": [\"qa\", \"qb\"], \"build\": true, \"wait_ms\": 0}",
	    .bisector_idle = 1,
	    .rule = lab_rule,
	    .arg = &n};

	assert_true(harness_lab_drain(&lab, 400) >= 0);
}

/* GETs an HTML page and checks that it holds both strings. */
static void page_has(const char *path, const char *a, const char *b)
{
	if (!harness_page_has(&ctl, path, a, b))
		fail_msg("%s lacks \"%s\" or \"%s\"", path, a, b);
}

static void rev(char *out, size_t len, const char *repo, const char *what)
{
	shout(out, len, "git -C %s rev-parse %s", repo, what);
}

/* Flights a and b have the one build of Xen at xen (GET /api/v1/flights/N's
 * builds: tree, commit, made_by), and b's page says it is a's. */
static void shared_xen_build(long long fa, long long fb, const char *xen)
{
	long long ids[2] = {0, 0}, made = 0, f[2] = {fa, fb};
	const json_t *b;
	char path[64], want[96];
	json_t *j;
	size_t i;
	int k;

	for (k = 0; k < 2; k++) {
		j = flight_get(f[k]);
		json_array_foreach (json_object_get(j, "builds"), i, b)
			if (!strcmp(jstr(b, "tree", ""), "xen")) {
				assert_string_equal(jstr(b, "commit", ""), xen);
				ids[k] = jint(b, "id", 0);
				made = jint(b, "made_by", 0);
			}
		assert_int_equal(json_array_size(json_object_get(j, "builds")), 2);
		json_decref(j);
	}
	assert_true(ids[0] > 0);
	assert_int_equal(ids[0], ids[1]);
	assert_int_equal(made, fa);
	snprintf(path, sizeof(path), "/flights/%lld", fb);
	snprintf(want, sizeof(want), "shared: build %lld of <a href=\"/flights/%lld\">", ids[0],
		 fa);
	page_has(path, want, "xen");
}

/* Tuples recorded at flight time; the per-tree gate; builds shared. */
static void test_tuple_and_gate(void **state)
{
	int builds = 0, tests = 0;
	char ref[48];
	long long f;
	json_t *j;

	(void)state;
	/* Xen's branch: Xen moves, Linux is taken at `tested`. (The branches
	 * appear now: the watcher's first look, at start, saw none.) */
	sh("cd xen && git branch staging");
	f = poke("xen", "staging", "new");
	j = flight_get(f);
	member_is(json_object_get(j, "tuple"), "xen", xen0, 1, NULL);
	member_is(json_object_get(j, "tuple"), "linux", linux0, 0, "refs/heads/tested");
	json_decref(j);
	lab_drain(&builds, &tests, xen0);
	assert_int_equal(builds, 2); /* one build per (tree, revision, arch) */
	assert_int_equal(builds_stored(), 2);
	assert_int_equal(tests, 2);

	/* Linux moves one commit: Xen is taken at master, Linux's gate advances
	 * `tested` and nothing of Xen's. */
	sh("cd linux && git checkout -q -b linux-next && echo 1 >> README && " GIT
	   "commit -qam 'linux 1' && git checkout -q master");
	rev(linux1, sizeof(linux1), "linux", "linux-next");
	f = poke("linux", "linux-next", "new");
	sh("cd xen && echo unrelated >> README && " GIT "commit -qam 'xen master moves later'");
	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/flights?limit=1", NULL, &j), 200);
	assert_int_equal(jint(json_array_get(json_object_get(j, "flights"), 0), "id", 0), f);
	member_is(json_object_get(json_array_get(json_object_get(j, "flights"), 0), "tuple"),
		  "linux", linux1, 1, NULL);
	json_decref(j);
	j = flight_get(f);
	/* resolved when the flight was made: Xen's master moved after it */
	member_is(json_object_get(j, "tuple"), "xen", xen0, 0, "refs/heads/master");
	json_decref(j);
	{
		char path[64], pinned[200];

		snprintf(path, sizeof(path), "/flights/%lld", f);
		snprintf(pinned, sizeof(pinned),
			 "title=\"%s\">%.12s</code> <span class=\"meta\">"
			 "pinned at master",
			 xen0, xen0);
		page_has(path, pinned, "moves");
	}
	lab_drain(&builds, &tests, xen0);
	/* Xen did not move: the Xen flight's build of xen0 is this flight's too,
	 * and only Linux was built */
	assert_int_equal(builds, 3);
	assert_int_equal(builds_stored(), 3);
	shared_xen_build(f - 1, f, xen0);
	rev(ref, sizeof(ref), "linux", "tested");
	assert_string_equal(ref, linux1);
	rev(ref, sizeof(ref), "xen", "staging");
	assert_string_equal(ref, xen0);
	/* the gate's decisions are the linux branch's */
	assert_int_equal(
	    harness_call(&ctl, NULL, "GET", "/api/v1/branches/linux-next?tree=linux", NULL, &j),
	    200);
	assert_string_equal(jstr(json_object_get(j, "gate"), "state", ""), "advanced");
	assert_string_equal(jstr(json_object_get(j, "gate"), "commit", ""), linux1);
	/* the matrix row shows the pinned Xen */
	member_is(json_object_get(json_array_get(json_object_get(j, "rows"), 0), "tuple"), "xen",
		  xen0, 0, NULL);
	json_decref(j);
	/* Xen's master moved on its own (not by a gate): put it back for the rest. */
	sh("cd xen && git reset -q --hard %s", xen0);
}

/* A Linux push of 16 commits breaks dom0 at commit 11: bisected in the linux
 * tree, Xen pinned at every step. */
static void test_linux_bisection(void **state)
{
	int builds = 0, tests = 0, i;
	json_t *j, *b;
	char path[64], ref[48];

	(void)state;
	snprintf(commits[0], sizeof(commits[0]), "%s", linux1);
	sh("cd linux && git checkout -q -b pushed linux-next");
	for (i = 1; i <= 16; i++) {
		sh("cd linux && %s && (test %d = %d || echo %d >> README) && " GIT
		   "commit -qam 'linux change %d'",
		   i == CULPRIT ? "echo x > bug && git add bug" : "true", i, CULPRIT, i, i);
		rev(commits[i], sizeof(commits[i]), "linux", "HEAD");
	}
	sh("cd linux && git checkout -q master && git branch -f linux-next pushed");
	poke("linux", "linux-next", "advanced");
	i = xen_builds;
	lab_drain(&builds, &tests, xen0);
	/* the push, every step and the revert build Linux alone: each takes the
	 * one build of the pinned Xen there is */
	assert_int_equal(xen_builds, i);
	assert_true(builds > 4);

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/bisections", NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "bisections")), 1);
	snprintf(path, sizeof(path), "/api/v1/bisections/%lld",
		 jint(json_array_get(json_object_get(j, "bisections"), 0), "id", 0));
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &b), 200);
	assert_string_equal(jstr(b, "tree", ""), "linux");
	assert_string_equal(jstr(b, "state", ""), "confirmed");
	assert_string_equal(jstr(b, "good", ""), commits[0]);
	assert_string_equal(jstr(b, "bad", ""), commits[16]);
	assert_string_equal(jstr(b, "culprit", jstr(json_object_get(b, "culprit"), "commit", "")),
			    commits[CULPRIT]);
	/* the other trees' pinned revisions */
	member_is(json_object_get(b, "pins"), "xen", xen0, 0, "refs/heads/master");
	json_decref(b);
	snprintf(path, sizeof(path), "/bisections/1");
	page_has(path, "tree linux", "pinned at every step: <span class=\"tuple\">xen=");
	/* Linux's gate held; nothing of Xen moved */
	rev(ref, sizeof(ref), "linux", "tested");
	assert_string_equal(ref, linux1);
	rev(ref, sizeof(ref), "xen", "master");
	assert_string_equal(ref, xen0);
	/* lab_drain checked every attempt's Xen revision: xen0 */
	assert_true(tests > 4);
}

/* A patch for Linux (xenci submit --tree linux): its flight moves Linux to the
 * applied commit and takes Xen at its tested ref. */
static void test_linux_submission(void **state)
{
	struct buf mbox = BUF_INIT(0);
	json_t *j, *f;

	(void)state;
	sh("git clone -q -b tested linux work && cd work && echo patched >> README && " GIT
	   "commit -qam 'linux: a patch' && " GIT "format-patch -q --stdout origin/tested > "
	   "../linux.mbox");
	assert_int_equal(harness_read_file(&mbox, ctl.dir, "linux.mbox"), 0);
	assert_int_equal(harness_call_bytes(&ctl, user_tok, "POST",
					    "/api/v1/submissions?tree=linux&base=tested&jobs=smoke",
					    "application/mbox", mbox.data, mbox.len, &j, NULL),
			 201);
	assert_string_equal(jstr(j, "tree", ""), "linux");
	f = flight_get(jint(j, "flight", 0));
	member_is(json_object_get(f, "tuple"), "linux", jstr(j, "commit", ""), 1, NULL);
	member_is(json_object_get(f, "tuple"), "xen", xen0, 0, "refs/heads/master");
	json_decref(f);
	json_decref(j);
	buf_release(&mbox);
}

/* The newest bisection (GET /api/v1/bisections/N). */
static json_t *newest_bisection(void)
{
	json_t *j, *b;
	char path[64];

	assert_int_equal(harness_call(&ctl, NULL, "GET", "/api/v1/bisections", NULL, &j), 200);
	snprintf(path, sizeof(path), "/api/v1/bisections/%lld",
		 jint(json_array_get(json_object_get(j, "bisections"), 0), "id", 0));
	json_decref(j);
	assert_int_equal(harness_call(&ctl, NULL, "GET", path, NULL, &b), 200);
	return b;
}

/* Linux-next forced to a new line from linux1 (one commit; "half": it adds a
 * file half); returns its head in out. */
static void linux_line(char *out, size_t len, const char *name, int half)
{
	sh("cd linux && git checkout -q -b %s %s && %s && echo %s >> README && " GIT
	   "commit -qam 'linux %s' && git checkout -q master && git branch -f linux-next %s",
	   name, linux1, half ? "echo l > half && git add half" : "true", name, name, name);
	rev(out, len, "linux", name);
}

/* Linux moved (linux1 to a new commit) and Xen's tested ref moved too (xen0 to
 * three commits, the second adding a bug): the failing flight's baseline is
 * linux1 with xen0. Each tree's change is run alone on the baseline's tuple
 * (Linux's passes, Xen's fails): the xen tree is guilty, and it is bisected with
 * Linux pinned at linux1; the culprit is Xen's second commit, confirmed. */
static void test_both_moved_xen_guilty(void **state)
{
	char x[4][48], la[48], path[64], want[160];
	int builds = 0, tests = 0, i, isolate = 0;
	const json_t *st;
	json_t *b;

	(void)state;
	snprintf(x[0], sizeof(x[0]), "%s", xen0);
	for (i = 1; i <= 3; i++) {
		/* the culprit adds the bug alone: its revert applies on x3 */
		sh("cd xen && %s && " GIT "commit -qam 'xen change %d'",
		   i == 2 ? "echo x > bug && git add bug" : "echo 1 >> README", i);
		rev(x[i], sizeof(x[i]), "xen", "HEAD");
	}
	rev(want, sizeof(want), "xen", "master");
	assert_string_equal(want, x[3]); /* Xen's tested ref: later flights pin x3 */
	linux_line(la, sizeof(la), "line-a", 0);
	poke("linux", "linux-next", "forced");
	lab_drain(&builds, &tests, NULL);

	b = newest_bisection();
	/* the regression is the branch's: Linux from linux1 to la */
	assert_string_equal(jstr(b, "tree", ""), "linux");
	assert_string_equal(jstr(b, "good", ""), linux1);
	assert_string_equal(jstr(b, "bad", ""), la);
	assert_int_equal(json_object_size(json_object_get(b, "moved")), 2);
	assert_string_equal(jstr(json_object_get(json_object_get(b, "moved"), "xen"), "good", ""),
			    xen0);
	assert_string_equal(jstr(json_object_get(json_object_get(b, "moved"), "xen"), "bad", ""),
			    x[3]);
	/* the guilty tree, its culprit, and Linux pinned at the baseline's */
	assert_string_equal(jstr(b, "guilty_tree", ""), "xen");
	assert_string_equal(jstr(b, "guilty_good", ""), xen0);
	assert_string_equal(jstr(b, "guilty_bad", ""), x[3]);
	assert_string_equal(jstr(b, "state", ""), "confirmed");
	assert_string_equal(jstr(json_object_get(b, "culprit"), "commit", ""), x[2]);
	assert_string_equal(jstr(json_object_get(b, "culprit"), "tree", ""), "xen");
	assert_string_equal(jstr(json_object_get(b, "culprit"), "subject", ""), "xen change 2");
	member_is(json_object_get(b, "pins"), "linux", linux1, 0, NULL);
	/* each tree's change alone: Linux's (la with xen0) passed, Xen's (x3 with
	 * linux1) failed; then every step is in Xen */
	json_array_foreach (json_object_get(b, "steps"), i, st) {
		const char *p = jstr(st, "purpose", ""), *tree = jstr(st, "tree", "");

		if (!strcmp(p, "isolate")) {
			isolate++;
			assert_string_equal(jstr(st, "result", ""),
					    strcmp(tree, "xen") ? "good" : "bad");
			assert_string_equal(jstr(st, "commit", ""),
					    strcmp(tree, "xen") ? la : x[3]);
		} else if (!strcmp(p, "search") || !strncmp(p, "confirm", 7)) {
			assert_string_equal(tree, "xen");
		}
	}
	assert_int_equal(isolate, 2);
	snprintf(path, sizeof(path), "/bisections/%lld", jint(b, "id", 0));
	json_decref(b);
	page_has(path, "guilty tree xen: its change alone fails", "trees that moved since");
	/* Xen back where the other tests have it */
	sh("cd xen && git reset -q --hard %s", xen0);
}

/* Both trees moved and the failure needs both changes (each adds a half): each
 * alone passes, so no tree is guilty alone; the bisection ends inconclusive and
 * says so, as OSSTest's bisector reports that it cannot isolate. */
static void test_both_moved_together(void **state)
{
	char y[48], lb[48], path[64];
	int builds = 0, tests = 0;
	json_t *b;

	(void)state;
	sh("cd xen && echo x > half && git add half && " GIT "commit -qm 'xen half'");
	rev(y, sizeof(y), "xen", "master");
	linux_line(lb, sizeof(lb), "line-b", 1);
	poke("linux", "linux-next", "forced");
	lab_drain(&builds, &tests, NULL);

	b = newest_bisection();
	assert_string_equal(jstr(b, "bad", ""), lb);
	assert_int_equal(json_object_size(json_object_get(b, "moved")), 2);
	assert_string_equal(jstr(b, "state", ""), "inconclusive");
	assert_null(jstr(b, "guilty_tree", NULL));
	assert_null(jstr(json_object_get(b, "culprit"), "commit", NULL));
	if (!strstr(jstr(b, "reason", ""), "cannot isolate: the failure needs the changes of") ||
	    !strstr(jstr(b, "reason", ""), "together: none alone fails"))
		fail_msg("reason: %s", jstr(b, "reason", ""));
	snprintf(path, sizeof(path), "/bisections/%lld", jint(b, "id", 0));
	json_decref(b);
	page_has(path, "no tree is guilty alone", "cannot isolate");
	sh("cd xen && git reset -q --hard %s", xen0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tuple_and_gate),
	    cmocka_unit_test(test_linux_bisection),
	    cmocka_unit_test(test_linux_submission),
	    cmocka_unit_test(test_both_moved_xen_guilty),
	    cmocka_unit_test(test_both_moved_together),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
