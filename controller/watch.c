#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "errmsg.h"
#include "json-util.h"
#include "mail.h"
#include "xmalloc.h"

/* A branch (or ref below refs/heads/) git accepts. */
static int check_branch(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path)
{
	char ref[GITREPO_MAX_REV + 16];
	int valid = 0;

	snprintf(ref, sizeof(ref), "refs/heads/%s", json_string_value(value));
	gitrepo_global_init();
	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid ||
	    json_string_value(value)[0] == '-') {
		vctx_error(ctx, parent, key, 0, path, "\"%s\" is not a valid branch name",
			   json_string_value(value));
		return -1;
	}
	return 0;
}

int watch_check_name(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		     const char *path)
{
	const char *s = json_string_value(value);

	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(s) || *s == '.') {
		vctx_error(ctx, parent, key, 0, path,
			   "\"%s\": use lowercase letters, digits, '-', '_' and '.'", s);
		return -1;
	}
	return 0;
}

static const struct vfield gate_fields[] = {
    {.name = "jobs",
     .type = V_ARRAY,
     .flags = V_REQUIRED,
     .items = V_STRING,
     .min = 1,
     .max = WATCH_MAX_JOBS,
     .help = "the jobs that must pass"},
    {.name = "advance",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = GITREPO_MAX_REV,
     .check = check_branch,
     .help = "the branch fast-forwarded to a commit whose gating jobs passed"},
    {NULL},
};

/* A branch's flight reports (reports.h). */
static const struct vfield report_fields[] = {
    {.name = "to",
     .type = V_ARRAY,
     .flags = V_REQUIRED,
     .items = V_STRING,
     .min = 1,
     .max = WATCH_MAX_REPORT_TO,
     .check = mail_addresses_check,
     .help = "the addresses a report of each push flight goes to"},
    {.name = "enabled", .type = V_BOOL, .help = "send the reports (default true)"},
    {NULL},
};

static const struct vfield branch_fields[] = {
    {.name = "name",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = GITREPO_MAX_REV,
     .check = check_branch,
     .help = "the branch to watch"},
    {.name = "jobs",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = WATCH_MAX_JOBS,
     .help = "the jobs a flight gets (default: every job)"},
    {.name = "gate", .type = V_OBJECT, .fields = gate_fields, .help = "a push gate"},
    {.name = "report",
     .type = V_OBJECT,
     .fields = report_fields,
     .help = "a mail report after each push flight"},
    {.name = "allow",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = WATCH_MAX_JOBS,
     .help = "allowed failures: globs JOB or JOB@CLASS (never block the gate)"},
    {NULL},
};

/* A kind names the tree's build recipe (hypervisor/build-KIND.sh; Xen's is
 * build.sh): lowercase letters, digits and '-'. */
static int check_kind(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		      const char *path)
{
	const char *s = json_string_value(value);

	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s) || *s == '-') {
		vctx_error(ctx, parent, key, 0, path,
			   "\"%s\": a kind is lowercase letters, digits and '-' (xen, linux)", s);
		return -1;
	}
	return 0;
}

const struct vfield tree_conf_fields[] = {
    {.name = "name",
     .type = V_STRING,
     .min = 1,
     .max = 64,
     .check = watch_check_name,
     .help = "the tree's name (in a list of trees; a mapping's key names it)"},
    {.name = "source",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 1024,
     .help = "a local repository path or a git URL"},
    {.name = "interval", .type = V_INT, .min = 1, .max = 86400, .help = "seconds between polls"},
    {.name = "kind",
     .type = V_STRING,
     .min = 1,
     .max = 32,
     .check = check_kind,
     .help = "what the tree builds: xen (default), linux"},
    {.name = "tested",
     .type = V_STRING,
     .min = 1,
     .max = GITREPO_MAX_REV,
     .check = check_branch,
     .help = "the branch holding the tree's last tested revision (default: the first gate's "
	     "advance)"},
    {.name = "branches",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = branch_fields,
     .max = WATCH_MAX_BRANCHES,
     .help = "the watched branches"},
    {NULL},
};

static char **strings_dup(const json_t *arr, size_t *n)
{
	char **v;
	const json_t *s;
	size_t i;

	*n = json_array_size(arr);
	if (!json_is_array(arr))
		return NULL;
	v = xcalloc(*n + 1, sizeof(*v));
	json_array_foreach (arr, i, s)
		v[i] = xstrdup(json_string_value(s) ? json_string_value(s) : "");
	return v;
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

/* {name: {...}} as [{name, ...}]: a new reference. */
static json_t *trees_as_list(const json_t *trees)
{
	json_t *list = json_array(), *v;
	const char *key;

	json_object_foreach ((json_t *)trees, key, v) {
		json_t *t = json_is_object(v) ? json_deep_copy(v) : json_object();

		json_object_set_new(t, "name", json_string(key));
		json_array_append_new(list, t);
	}
	return list;
}

int trees_conf_load(struct trees_conf *out, const json_t *trees, char *err, size_t errlen)
{
	const json_t *t;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (trees == NULL || json_is_null(trees))
		return 0;
	if (json_is_object(trees)) {
		json_t *list = trees_as_list(trees);
		int rc = trees_conf_load(out, list, err, errlen);

		json_decref(list);
		return rc;
	}
	if (json_array_size(trees) > WATCH_MAX_TREES) {
		errmsg_set(err, errlen, "trees: more than %d", WATCH_MAX_TREES);
		return -1;
	}
	out->trees = xcalloc(json_array_size(trees) + 1, sizeof(*out->trees));
	json_array_foreach (trees, i, t) {
		struct tree_conf *tc = &out->trees[out->count++];
		const json_t *b;
		size_t k;

		if (*jstr(t, "name", "") == '\0') {
			errmsg_set(err, errlen, "trees[%zu]: a tree needs a name", i);
			out->count--;
			goto fail;
		}
		tc->name = xstrdup(jstr(t, "name", ""));
		tc->source = xstrdup(jstr(t, "source", ""));
		tc->interval = (long)jint(t, "interval", 60);
		tc->kind = xstrdup(jstr(t, "kind", "xen"));
		if (json_object_get(t, "tested"))
			tc->tested_ref = xasprintf("refs/heads/%s", jstr(t, "tested", ""));
		if (trees_conf_find(out, tc->name) != tc) {
			errmsg_set(err, errlen, "trees[%zu]: a second tree named \"%s\"", i,
				   tc->name);
			goto fail;
		}
		tc->branches = xcalloc(json_array_size(json_object_get(t, "branches")) + 1,
				       sizeof(*tc->branches));
		json_array_foreach (json_object_get(t, "branches"), k, b) {
			struct branch_conf *bc = &tc->branches[tc->nbranches++];
			const json_t *gate = json_object_get(b, "gate"), *report;

			bc->name = xstrdup(jstr(b, "name", ""));
			bc->jobs = strings_dup(json_object_get(b, "jobs"), &bc->njobs);
			bc->allow = strings_dup(json_object_get(b, "allow"), &bc->nallow);
			report = json_object_get(b, "report");
			if (report && jbool(report, "enabled", 1))
				bc->report_to =
				    strings_dup(json_object_get(report, "to"), &bc->nreport_to);
			if (tree_conf_branch(tc, bc->name) != bc) {
				errmsg_set(err, errlen,
					   "trees.%s.branches[%zu]: \"%s\" is listed twice",
					   tc->name, k, bc->name);
				goto fail;
			}
			if (gate == NULL)
				continue;
			bc->gate_jobs = strings_dup(json_object_get(gate, "jobs"), &bc->ngate_jobs);
			bc->gate_ref = xasprintf("refs/heads/%s", jstr(gate, "advance", ""));
			if (!strcmp(jstr(gate, "advance", ""), bc->name)) {
				errmsg_set(
				    err, errlen,
				    "trees.%s.branches[%zu].gate.advance: a branch cannot gate "
				    "itself",
				    tc->name, k);
				goto fail;
			}
			for (size_t g = 0; g < bc->ngate_jobs; g++) {
				if (bc->jobs && !has(bc->jobs, bc->njobs, bc->gate_jobs[g])) {
					errmsg_set(
					    err, errlen,
					    "trees.%s.branches[%zu].gate.jobs: \"%s\" is not "
					    "one of the branch's jobs",
					    tc->name, k, bc->gate_jobs[g]);
					goto fail;
				}
			}
			if (tc->tested_ref == NULL)
				tc->tested_ref = xstrdup(bc->gate_ref);
		}
	}
	return 0;
fail:
	trees_conf_release(out);
	return -1;
}

int trees_conf_open(struct trees_conf *c, const char *base_dir, const char *state_dir, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < c->count; i++) {
		struct tree_conf *t = &c->trees[i];
		char path[PATH_MAX];
		int rc;

		if (t->repo)
			continue;
		if (gitrepo_is_url(t->source)) {
			snprintf(path, sizeof(path), "%s/mirrors", state_dir ? state_dir : ".");
			mkdir(path, 0755);
			snprintf(path, sizeof(path), "%s/mirrors/%s.git",
				 state_dir ? state_dir : ".", t->name);
			rc = gitrepo_open_mirror(&t->repo, t->source, path, err, errlen);
		} else {
			if (t->source[0] == '/' || base_dir == NULL)
				snprintf(path, sizeof(path), "%s", t->source);
			else
				snprintf(path, sizeof(path), "%s/%s", base_dir, t->source);
			rc = gitrepo_open(&t->repo, path, err, errlen);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

void trees_conf_release(struct trees_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->count; i++) {
		struct tree_conf *t = &c->trees[i];

		for (size_t k = 0; k < t->nbranches; k++) {
			struct branch_conf *b = &t->branches[k];

			free(b->name);
			strings_free(b->jobs, b->njobs);
			strings_free(b->gate_jobs, b->ngate_jobs);
			strings_free(b->report_to, b->nreport_to);
			strings_free(b->allow, b->nallow);
			free(b->gate_ref);
		}
		free(t->branches);
		free(t->name);
		free(t->source);
		free(t->kind);
		free(t->tested_ref);
		gitrepo_free(t->repo);
	}
	free(c->trees);
	memset(c, 0, sizeof(*c));
}

struct tree_conf *trees_conf_find(const struct trees_conf *c, const char *tree)
{
	for (size_t i = 0; i < c->count; i++)
		if (!strcmp(c->trees[i].name, tree))
			return &c->trees[i];
	return NULL;
}

struct branch_conf *tree_conf_branch(const struct tree_conf *t, const char *branch)
{
	for (size_t i = 0; i < t->nbranches; i++)
		if (!strcmp(t->branches[i].name, branch))
			return &t->branches[i];
	return NULL;
}

const char *watch_change_name(enum watch_change c)
{
	static const char *const names[] = {"same", "new", "advanced", "forced", "deleted"};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

enum watch_change watch_compare(struct gitrepo *r, const char *last, const char *now)
{
	int anc;

	if (last == NULL)
		last = "";
	if (now == NULL || *now == '\0')
		return *last ? WATCH_DELETED : WATCH_SAME;
	if (*last == '\0')
		return WATCH_NEW;
	if (!strcmp(last, now))
		return WATCH_SAME;
	anc = gitrepo_is_ancestor(r, last, now);
	return anc == 1 ? WATCH_ADVANCED : WATCH_FORCED;
}

void watcher_init(struct watcher *w, struct trees_conf *conf, const struct watch_ops *ops,
		  void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->conf = conf;
	w->ops = ops;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	clock_cond_init(&w->wake);
	w->next_poll = xcalloc(conf->count + 1, sizeof(*w->next_poll));
}

/* Compares one branch and reports a change; the owner's lock is held. */
static int scan_branch_locked(struct watcher *w, const struct tree_conf *t,
			      const struct branch_conf *b, const char *why, long long *flight)
{
	char last[GITREPO_HEX] = "", now[GITREPO_HEX] = "";
	struct watch_event ev;
	long long made;
	int rc;

	if (flight)
		*flight = 0;
	rc = gitrepo_branch_head(t->repo, b->name, now);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rc == -ENOENT)
		now[0] = '\0';
	if (w->ops->last_head(w->ctx, t->name, b->name, last) < 0)
		return -EIO;
	ev.change = watch_compare(t->repo, last, now);
	if (ev.change == WATCH_SAME)
		return WATCH_SAME;
	ev.tree = t;
	ev.branch = b;
	ev.old = last;
	ev.now = now;
	ev.why = why;
	made = w->ops->changed(w->ctx, &ev);
	if (made < 0)
		return (int)made;
	if (flight)
		*flight = made;
	return (int)ev.change;
}

int watcher_scan_branch(struct watcher *w, const char *tree, const char *branch, const char *why,
			long long *flight, char *err, size_t errlen)
{
	struct tree_conf *t = trees_conf_find(w->conf, tree);
	struct branch_conf *b = t ? tree_conf_branch(t, branch) : NULL;
	int rc;

	if (flight)
		*flight = 0;
	if (t == NULL) {
		errmsg_set(err, errlen, "no tree named \"%.64s\"", tree);
		return -ENOENT;
	}
	if (b == NULL) {
		errmsg_set(err, errlen, "tree %s does not watch a branch named \"%.128s\"", tree,
			   branch);
		return -ENOENT;
	}
	rc = gitrepo_fetch(t->repo, err, errlen);
	if (rc == 0)
		rc = scan_branch_locked(w, t, b, why, flight);
	else
		rc = -EIO;
	if (rc < 0 && rc != -EIO)
		errmsg_set(err, errlen, "%s/%s: cannot record the change", tree, branch);
	return rc;
}

/* Fetches a tree (without the owner's lock: a fetch can take long), then
 * compares its branches under it. */
static int scan_tree(struct watcher *w, struct tree_conf *t, const char *why)
{
	char err[256];
	int changes = 0;

	if (gitrepo_fetch(t->repo, err, sizeof(err)) < 0)
		return -EIO;
	if (w->ops->lock)
		w->ops->lock(w->ctx);
	for (size_t k = 0; k < t->nbranches; k++) {
		int rc = scan_branch_locked(w, t, &t->branches[k], why, NULL);

		if (rc > 0)
			changes++;
	}
	if (w->ops->unlock)
		w->ops->unlock(w->ctx);
	return changes;
}

int watcher_scan(struct watcher *w, const char *tree, const char *why)
{
	int changes = 0, rc = 0;

	for (size_t i = 0; i < w->conf->count; i++) {
		if (tree && strcmp(tree, w->conf->trees[i].name))
			continue;
		rc = scan_tree(w, &w->conf->trees[i], why);
		if (rc > 0)
			changes += rc;
	}
	return rc < 0 && changes == 0 ? rc : changes;
}

static void *watcher_main(void *arg)
{
	struct watcher *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		long long now = clock_mono_ms(), next = now + 3600 * 1000LL;
		int poked = w->poked;
		struct timespec ts;

		w->poked = 0;
		for (size_t i = 0; i < w->conf->count; i++) {
			struct tree_conf *t = &w->conf->trees[i];

			if (poked || now >= w->next_poll[i]) {
				pthread_mutex_unlock(&w->lock);
				scan_tree(w, t, poked ? "poke" : "poll");
				pthread_mutex_lock(&w->lock);
				w->next_poll[i] = clock_mono_ms() + t->interval * 1000LL;
			}
			if (w->next_poll[i] < next)
				next = w->next_poll[i];
		}
		if (w->stop || w->poked)
			continue;
		ts.tv_sec = next / 1000;
		ts.tv_nsec = (next % 1000) * 1000000;
		pthread_cond_timedwait(&w->wake, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int watcher_start(struct watcher *w)
{
	int rc;

	w->stop = 0;
	rc = pthread_create(&w->thread, NULL, watcher_main, w);
	if (rc != 0)
		return -rc;
	w->running = 1;
	return 0;
}

void watcher_poke(struct watcher *w)
{
	pthread_mutex_lock(&w->lock);
	w->poked = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void watcher_stop(struct watcher *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->running = 0;
}

void watcher_release(struct watcher *w)
{
	if (w == NULL)
		return;
	watcher_stop(w);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->next_poll);
	w->next_poll = NULL;
}
