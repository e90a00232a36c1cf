#include "trees.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempts.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-flights.h"
#include "db.h"
#include "flights.h"
#include "gate.h"
#include "json-util.h"
#include "log.h"
#include "mbox.h"
#include "tuple.h"
#include "db-trees.h"

static struct trees_conf *trees; /* ctl.cfg.trees, from trees_start() */
static struct watcher watcher;
static int started;

struct trees_conf *trees_conf_get(void)
{
	return started ? trees : NULL;
}

struct tree_conf *trees_find(const char *name)
{
	/* read once: the read pool's pages call this without ctl.lock, and trees_stop
	 * may clear it meanwhile (the configuration itself lives on) */
	struct trees_conf *tc = __atomic_load_n(&trees, __ATOMIC_ACQUIRE);

	if (tc == NULL || tc->count == 0)
		return NULL;
	if (name == NULL || *name == '\0')
		return &tc->trees[0];
	return trees_conf_find(tc, name);
}

/* Watcher callbacks: the store keeps the heads. */
static int watch_last_head(void *ctx, const char *tree, const char *branch, char hex[GITREPO_HEX])
{
	long long tree_id, bid;

	(void)ctx;
	hex[0] = '\0';
	if (db_tree_id(&tree_id, tree) < 0 || db_branch_id(&bid, tree_id, branch, hex) < 0)
		return -EIO;
	return 0;
}

static void watch_lock(void *ctx)
{
	(void)ctx;
	ctl_lock();
}

static void watch_unlock(void *ctx)
{
	(void)ctx;
	ctl_unlock();
}

/* Cancels the branch's flights that have not started: the new head replaces
 * them (OSSTest's coalescing). Returns their ids. */
static json_t *coalesce(long long bid, const char *newer)
{
	json_t *flights = db_branch_unstarted_flights(bid), *f, *a;
	char reason[96];
	size_t i, k;

	snprintf(reason, sizeof(reason), "coalesced: a newer head %.12s was pushed", newer);
	gate_pause(1);
	json_array_foreach (flights, i, f) {
		json_t *open = db_flight_open_attempts(json_integer_value(f));

		json_array_foreach (open, k, a)
			attempt_cancel(json_integer_value(a), reason);
		json_decref(open);
		db_flight_update(json_integer_value(f));
	}
	gate_pause(0);
	return flights;
}

void trees_revision_subject(const struct tree_conf *t, const char *commit)
{
	struct gitrepo_commit c;
	char who[600];

	if (gitrepo_commit_info(&c, t->repo, commit) == 0) {
		snprintf(who, sizeof(who), "%s <%s>", c.author, c.email);
		db_revision_set_subject(t->name, commit, c.summary, who);
	}
}

/* The whole revision trees_flight_create (trees.h) gives a flight: a new
 * reference, or NULL when no trees are configured or tree is not one of them. */
static json_t *trees_tuple(const char *tree, const char *commit, const json_t *pins)
{
	struct tree_conf *moving = trees_find(tree);
	json_t *tuple;

	if (moving == NULL || tree == NULL || strcmp(moving->name, tree))
		return NULL;
	tuple = json_object();
	for (size_t i = 0; i < trees->count; i++) {
		const struct tree_conf *t = &trees->trees[i];
		const json_t *pin = json_object_get(pins, t->name);
		char hex[GITREPO_HEX] = "";

		if (t == moving) {
			json_object_set_new(tuple, t->name,
					    json_pack("{s:s, s:s, s:b}", "commit", commit, "kind",
						      t->kind, "moves", 1));
		} else if (!strcmp(t->kind, moving->kind) || tuple_has_kind(tuple, t->kind)) {
			continue; /* one tree of a kind: a flight tests one Xen */
		} else if (json_is_string(json_object_get(pin, "commit"))) {
			json_t *p = json_deep_copy(pin);

			json_object_set_new(p, "kind", json_string(t->kind));
			json_object_set_new(p, "moves", json_false());
			json_object_set_new(tuple, t->name, p);
		} else if (t->tested_ref && gitrepo_ref_head(t->repo, t->tested_ref, hex) == 0 &&
			   hex[0]) {
			json_object_set_new(tuple, t->name,
					    json_pack("{s:s, s:s, s:s, s:b}", "commit", hex, "kind",
						      t->kind, "ref", t->tested_ref, "moves", 0));
		}
	}
	return tuple;
}

int trees_flight_create(long long *id, const struct flight_spec *spec, const json_t *pins,
			char *err, size_t errlen)
{
	struct flight_spec s = *spec;
	json_t *tuple = trees_tuple(spec->tree, spec->commit, pins);
	int rc;

	s.tuple = tuple;
	rc = flight_create(id, &s, err, errlen);
	json_decref(tuple);
	return rc;
}

static long long watch_changed(void *ctx, const struct watch_event *ev)
{
	const struct branch_conf *b = ev->branch;
	struct flight_spec spec;
	char err[256] = "";
	json_t *jobs = NULL, *coalesced = NULL;
	long long tree_id, bid, fid = 0;
	char ref[GITREPO_MAX_REV + 16], describe[128] = "";

	(void)ctx;
	if (db_tree_id(&tree_id, ev->tree->name) < 0 ||
	    db_branch_id(&bid, tree_id, b->name, NULL) < 0)
		return -EIO;
	if (ev->change == WATCH_DELETED) {
		log_info("%s/%s: deleted (was %.12s, %s)", ev->tree->name, b->name, ev->old,
			 ev->why);
		db_branch_set_head(bid, "");
		db_branch_event(bid, "deleted", ev->old, "", ev->why, 0, NULL);
		return 0;
	}
	coalesced = coalesce(bid, ev->now);
	if (b->jobs) {
		jobs = json_array();
		for (size_t i = 0; i < b->njobs; i++)
			json_array_append_new(jobs, json_string(b->jobs[i]));
	}
	gitrepo_describe(describe, sizeof(describe), ev->tree->repo, ev->now);
	snprintf(ref, sizeof(ref), "refs/heads/%s", b->name);
	memset(&spec, 0, sizeof(spec));
	spec.tree = ev->tree->name;
	spec.commit = ev->now;
	spec.ref = ref;
	spec.describe = describe[0] ? describe : NULL;
	spec.jobs = jobs;
	spec.kind = "push";
	spec.priority = b->gate_ref ? PRIO_GATE : PRIO_BACKGROUND;
	if (trees_flight_create(&fid, &spec, NULL, err, sizeof(err)) < 0) {
		log_warnx("%s/%s: %s %.12s: no flight: %s", ev->tree->name, b->name,
			  watch_change_name(ev->change), ev->now, err);
		fid = -EIO;
		goto out;
	}
	db_flight_set_branch(fid, bid);
	trees_revision_subject(ev->tree, ev->now);
	db_branch_set_head(bid, ev->now);
	db_branch_event(bid, watch_change_name(ev->change), ev->old, ev->now, ev->why, fid,
			coalesced);
	if (ev->change == WATCH_FORCED)
		log_info("%s/%s: force-pushed %.12s -> %.12s (%s): flight %lld", ev->tree->name,
			 b->name, ev->old, ev->now, ev->why, fid);
	else
		log_info("%s/%s: %s %.12s (%s): flight %lld%s", ev->tree->name, b->name,
			 watch_change_name(ev->change), ev->now, ev->why, fid,
			 json_array_size(coalesced) ? ", coalescing earlier flights" : "");
out:
	json_decref(jobs);
	json_decref(coalesced);
	return fid;
}

static const struct watch_ops ctl_watch_ops = {
    .last_head = watch_last_head,
    .changed = watch_changed,
    .lock = watch_lock,
    .unlock = watch_unlock,
};

int trees_start(struct trees_conf *t, const char *base_dir, const char *data_dir, char *err,
		size_t errlen)
{
	char msg[512];
	int rc;

	if (started)
		return 0;
	mbox_init();
	gitrepo_global_init();
	rc = trees_conf_open(t, base_dir, data_dir, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(err, errlen, "trees: %s", msg);
		return rc;
	}
	watcher_init(&watcher, t, &ctl_watch_ops, NULL);
	if ((rc = gate_start(t)) < 0 || (rc = watcher_start(&watcher)) < 0) {
		snprintf(err, errlen, "trees: cannot start the watcher");
		watcher_release(&watcher);
		return rc;
	}
	__atomic_store_n(&trees, t, __ATOMIC_RELEASE);
	started = 1;
	for (size_t i = 0; i < t->count; i++)
		log_info("tree %s: %s, %zu branch%s, every %lds", t->trees[i].name,
			 t->trees[i].source, t->trees[i].nbranches,
			 t->trees[i].nbranches == 1 ? "" : "es", t->trees[i].interval);
	return 0;
}

void trees_stop(void)
{
	if (!started)
		return;
	watcher_release(&watcher);
	gate_stop();
	__atomic_store_n(&trees, NULL, __ATOMIC_RELEASE);
	started = 0;
}

int trees_commit_check(const char *tree, const char *commit, char *err, size_t errlen)
{
	struct tree_conf *t = trees_find(tree);
	struct gitrepo_commit c;

	if (t == NULL) {
		snprintf(err, errlen, "no tree named \"%.64s\"", tree ? tree : "");
		return -ENOENT;
	}
	if (gitrepo_commit_info(&c, t->repo, commit) < 0) {
		snprintf(err, errlen, "no commit %.64s in tree %s", commit, t->name);
		return -ENOENT;
	}
	return 0;
}

int trees_poke(json_t **reply, const char *tree, const char *branch, const char *why, char *err,
	       size_t errlen)
{
	struct tree_conf *t = trees_find(tree);
	char head[GITREPO_HEX] = "";
	long long flight = 0;
	int rc;

	*reply = NULL;
	if (t == NULL) {
		snprintf(err, errlen, "no tree named \"%.64s\"", tree ? tree : "");
		return -ENOENT;
	}
	if (t->repo->url) {
		/* A fetch can take long: the watcher's thread does it, not the
		 * request (which holds ctl.lock). */
		if (tree_conf_branch(t, branch) == NULL) {
			snprintf(err, errlen, "tree %s does not watch a branch named \"%.128s\"",
				 t->name, branch);
			return -ENOENT;
		}
		watcher_poke(&watcher);
		*reply = json_pack("{s:s, s:s, s:s, s:s, s:i}", "tree", t->name, "branch", branch,
				   "change", "queued", "commit", "", "flight", 0);
		return 0;
	}
	rc = watcher_scan_branch(&watcher, t->name, branch, why, &flight, err, errlen);
	if (rc < 0)
		return rc;
	gitrepo_branch_head(t->repo, branch, head);
	*reply = json_pack("{s:s, s:s, s:s, s:s, s:I}", "tree", t->name, "branch", branch, "change",
			   watch_change_name(rc), "commit", head, "flight", (json_int_t)flight);
	return 0;
}
