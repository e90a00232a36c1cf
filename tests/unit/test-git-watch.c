/* controller/watch: the trees configuration (validated, with line-accurate
 * messages), and the watcher over a repository the test changes with the git
 * command: a new branch, a fast-forward, a force-push, a deleted branch, a poke
 * that wakes the polling thread, and a URL tree fetched into a mirror. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../harness/harness.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../controller/watch.h"
#include "json-util.h"
#include "yaml-load.h"

static char dir[256];

#define sh(...) harness_sh(dir, __VA_ARGS__)

#define GIT "git -c user.name=T -c user.email=t@example.org "

static const struct vfield root_fields[] = {
    {.name = "trees", .type = V_ARRAY, .items = V_OBJECT, .fields = tree_conf_fields},
    {NULL},
};

/* Loads YAML text as a controller configuration; returns the validator's or the
 * loader's message, "" when it is good (then c is loaded). */
static const char *load(struct trees_conf *c, const char *yaml)
{
	static char out[1024];
	struct yaml_doc doc;
	struct vctx ctx;
	char err[512];

	out[0] = '\0';
	memset(c, 0, sizeof(*c));
	if (yaml_doc_load_buf(&doc, "controller.yaml", yaml, strlen(yaml), err, sizeof(err)) < 0) {
		snprintf(out, sizeof(out), "%s", err);
		yaml_doc_release(&doc);
		return out;
	}
	vctx_init(&ctx, "controller.yaml", &doc);
	if (validate_root(&ctx, root_fields, doc.root) < 0)
		snprintf(out, sizeof(out), "%s", buf_cstr(&ctx.text));
	else if (trees_conf_load(c, json_object_get(doc.root, "trees"), err, sizeof(err)) < 0)
		snprintf(out, sizeof(out), "%s", err);
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return out;
}

static void test_config(void **state)
{
	struct trees_conf c;
	const char *msg;

	(void)state;
	msg = load(&c, "trees:\n"
		       "  - name: xen\n"
		       "    source: hypervisor/xen\n"
		       "    branches:\n"
		       "      - name: staging\n"
		       "        jobs: [smoke, boot]\n"
		       "        gate: {jobs: [smoke], advance: master}\n"
		       "      - name: stable-4.17\n");
	assert_string_equal(msg, "");
	assert_int_equal(c.count, 1);
	assert_int_equal(c.trees[0].interval, 60);
	assert_int_equal(c.trees[0].nbranches, 2);
	assert_string_equal(tree_conf_branch(&c.trees[0], "staging")->gate_ref,
			    "refs/heads/master");
	assert_null(tree_conf_branch(&c.trees[0], "stable-4.17")->jobs);
	assert_null(tree_conf_branch(&c.trees[0], "nope"));
	/* kind xen by default; the tested ref is the first gate's */
	assert_string_equal(c.trees[0].kind, "xen");
	assert_string_equal(c.trees[0].tested_ref, "refs/heads/master");
	trees_conf_release(&c);

	/* A tree of another kind, its tested ref named; none when nothing gates. */
	msg = load(&c, "trees:\n  - name: linux\n    source: x\n    kind: linux\n"
		       "    tested: tested\n    branches:\n      - name: linux-next\n"
		       "        gate: {jobs: [smoke], advance: other}\n"
		       "  - name: qemu\n    source: y\n    kind: qemu-xen\n");
	assert_string_equal(msg, "");
	assert_string_equal(c.trees[0].kind, "linux");
	assert_string_equal(c.trees[0].tested_ref, "refs/heads/tested");
	assert_string_equal(c.trees[1].kind, "qemu-xen");
	assert_null(c.trees[1].tested_ref);
	trees_conf_release(&c);
	msg = load(&c, "trees:\n  - name: linux\n    source: x\n    kind: Linux/6\n");
	assert_non_null(strstr(msg, "a kind is lowercase letters, digits and '-'"));
	msg = load(&c, "trees:\n  - name: linux\n    source: x\n    tested: 'a..b'\n");
	assert_non_null(strstr(msg, "\"a..b\" is not a valid branch name"));

	msg = load(&c, "trees:\n  - name: xen\n    source: x\n    branches:\n"
		       "      - name: 'bad..name'\n");
	assert_non_null(strstr(msg, "controller.yaml:5:"));
	assert_non_null(strstr(msg, "\"bad..name\" is not a valid branch name"));
	msg = load(&c, "trees:\n  - name: xen\n    source: x\n    branches:\n"
		       "      - name: staging\n        jobs: [boot]\n"
		       "        gate: {jobs: [smoke], advance: master}\n");
	assert_string_equal(msg, "trees.xen.branches[0].gate.jobs: \"smoke\" is not one of the "
				 "branch's jobs");
	msg = load(&c, "trees:\n  - name: xen\n    source: x\n    branches:\n"
		       "      - name: staging\n      - name: staging\n");
	assert_string_equal(msg, "trees.xen.branches[1]: \"staging\" is listed twice");
	msg = load(&c, "trees:\n  - name: xen\n    source: x\n    intervall: 5\n");
	assert_non_null(strstr(msg, "intervall"));
	msg = load(&c, "trees:\n  - source: x\n");
	assert_string_equal(msg, "trees[0]: a tree needs a name");

	/* The mapping form, as the controller's configuration has it. */
	{
		json_t *m = json_pack("{s:{s:s, s:[{s:s}]}, s:{s:s}}", "xen", "source", "a",
				      "branches", "name", "staging", "linux", "source", "b");
		char err[256];

		assert_int_equal(trees_conf_load(&c, m, err, sizeof(err)), 0);
		assert_int_equal(c.count, 2);
		assert_string_equal(c.trees[0].name, "xen");
		assert_string_equal(c.trees[1].source, "b");
		assert_non_null(tree_conf_branch(trees_conf_find(&c, "xen"), "staging"));
		trees_conf_release(&c);
		json_decref(m);
	}
}

struct seen {
	int count;
	enum watch_change change[16];
	char branch[16][32];
	char old[16][GITREPO_HEX], now[16][GITREPO_HEX];
	char heads[8][2][64]; /* branch -> head, the owner's record */
	int fail_next;
};

static struct seen seen;

static int rec_last(void *ctx, const char *tree, const char *branch, char hex[GITREPO_HEX])
{
	(void)ctx;
	(void)tree;
	hex[0] = '\0';
	for (int i = 0; i < 8; i++)
		if (!strcmp(seen.heads[i][0], branch))
			snprintf(hex, GITREPO_HEX, "%s", seen.heads[i][1]);
	return 0;
}

static long long rec_changed(void *ctx, const struct watch_event *ev)
{
	int i;

	(void)ctx;
	if (seen.fail_next) {
		seen.fail_next = 0;
		return -EIO;
	}
	assert_true(seen.count < 16);
	seen.change[seen.count] = ev->change;
	snprintf(seen.branch[seen.count], 32, "%s", ev->branch->name);
	snprintf(seen.old[seen.count], GITREPO_HEX, "%s", ev->old);
	snprintf(seen.now[seen.count], GITREPO_HEX, "%s", ev->now);
	seen.count++;
	for (i = 0; i < 8 && seen.heads[i][0][0] && strcmp(seen.heads[i][0], ev->branch->name); i++)
		;
	if (i >= 8)
		return -ENOSPC; /* the test never watches more than 8 branches */
	snprintf(seen.heads[i][0], 64, "%s", ev->branch->name);
	snprintf(seen.heads[i][1], 64, "%s", ev->now);
	return 100 + seen.count;
}

static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;

static void rec_lock(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&owner);
}

static void rec_unlock(void *ctx)
{
	(void)ctx;
	pthread_mutex_unlock(&owner);
}

static const struct watch_ops rec_ops = {
    .last_head = rec_last, .changed = rec_changed, .lock = rec_lock, .unlock = rec_unlock};

static void load_repo_conf(struct trees_conf *c, const char *source)
{
	char yaml[1024], err[256];

	snprintf(yaml, sizeof(yaml),
		 "trees:\n  - name: xen\n    source: %s\n    interval: 1\n    branches:\n"
		 "      - name: staging\n      - name: master\n",
		 source);
	assert_string_equal(load(c, yaml), "");
	if (trees_conf_open(c, dir, dir, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void test_changes(void **state)
{
	struct trees_conf c;
	struct watcher w;
	long long flight;
	char err[256];

	(void)state;
	memset(&seen, 0, sizeof(seen));
	snprintf(dir, sizeof(dir), "/tmp/xenci-test-git-watch.XXXXXX");
	assert_non_null(mkdtemp(dir));
	sh("git init -q -b master src && cd src && " GIT "commit -q --allow-empty -m one");
	load_repo_conf(&c, "src");
	watcher_init(&w, &c, &rec_ops, NULL);

	assert_int_equal(watcher_scan(&w, NULL, "poll"), 1); /* master is new; no staging */
	assert_int_equal(seen.change[0], WATCH_NEW);
	assert_int_equal(watcher_scan(&w, NULL, "poll"), 0);
	sh("cd src && git branch staging && " GIT "commit -q --allow-empty -m two");
	assert_int_equal(
	    watcher_scan_branch(&w, "xen", "master", "poke", &flight, err, sizeof(err)),
	    WATCH_ADVANCED);
	assert_int_equal(flight, 102);
	assert_string_equal(seen.old[1], seen.now[0]);
	assert_int_equal(
	    watcher_scan_branch(&w, "xen", "staging", "poke", &flight, err, sizeof(err)),
	    WATCH_NEW);
	/* A force-push, then a deleted branch. */
	sh("cd src && git reset -q --hard HEAD~1 && " GIT "commit -q --allow-empty -m other");
	assert_int_equal(
	    watcher_scan_branch(&w, "xen", "master", "poke", &flight, err, sizeof(err)),
	    WATCH_FORCED);
	sh("cd src && git branch -D staging");
	assert_int_equal(
	    watcher_scan_branch(&w, "xen", "staging", "poke", &flight, err, sizeof(err)),
	    WATCH_DELETED);
	assert_string_equal(seen.now[4], "");
	assert_int_equal(
	    watcher_scan_branch(&w, "xen", "staging", "poke", &flight, err, sizeof(err)),
	    WATCH_SAME);
	/* Unknown tree or branch. */
	assert_int_equal(watcher_scan_branch(&w, "xen", "nope", "poke", &flight, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "tree xen does not watch a branch named \"nope\"");
	assert_int_equal(watcher_scan_branch(&w, "linux", "x", "poke", &flight, err, sizeof(err)),
			 -ENOENT);
	/* A failed record is seen again next time. */
	sh("cd src && " GIT "commit -q --allow-empty -m three");
	seen.fail_next = 1;
	assert_true(watcher_scan_branch(&w, "xen", "master", "poke", &flight, err, sizeof(err)) <
		    0);
	assert_int_equal(
	    watcher_scan_branch(&w, "xen", "master", "poke", &flight, err, sizeof(err)),
	    WATCH_ADVANCED);

	/* The thread: a poke makes it scan at once. */
	assert_int_equal(watcher_start(&w), 0);
	usleep(100 * 1000);
	{
		int before = seen.count;
		struct timespec t0, t1;

		sh("cd src && " GIT "commit -q --allow-empty -m four");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		watcher_poke(&w);
		for (int i = 0; i < 200; i++) {
			rec_lock(NULL);
			if (seen.count != before) {
				rec_unlock(NULL);
				break;
			}
			rec_unlock(NULL);
			usleep(5 * 1000);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(seen.count, before + 1);
		assert_int_equal(seen.change[before], WATCH_ADVANCED);
		assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
			    900);
	}
	watcher_release(&w);
	trees_conf_release(&c);
}

static void test_url_tree(void **state)
{
	struct trees_conf c;
	struct watcher w;
	char url[300];

	(void)state;
	memset(&seen, 0, sizeof(seen));
	snprintf(url, sizeof(url), "file://%s/src", dir);
	load_repo_conf(&c, url);
	watcher_init(&w, &c, &rec_ops, NULL);
	assert_int_equal(watcher_scan(&w, "xen", "poll"), 1);
	assert_int_equal(seen.change[0], WATCH_NEW);
	assert_string_equal(seen.branch[0], "master");
	sh("cd src && " GIT "commit -q --allow-empty -m five");
	assert_int_equal(watcher_scan(&w, "xen", "poll"), 1);
	assert_int_equal(seen.change[1], WATCH_ADVANCED);
	watcher_release(&w);
	trees_conf_release(&c);
	snprintf(url, sizeof(url), "rm -rf %s", dir);
	assert_int_equal(system(url), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_url_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
