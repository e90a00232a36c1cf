/* The bisector in the controller: see bisector.h and docs/bisection.md. */
#include "bisector.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db-bisections.h"
#include "bisect-git.h"
#include "bisect.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "roles.h"
#include "db-flights.h"
#include "db.h"
#include "flights.h"
#include "json-util.h"
#include "log.h"
#include "policy.h"
#include "trees.h"
#include "triage.h"
#include "db-trees.h"
#include "db-triage.h"
#include "gate.h"
#include "twins.h"
#include "xmalloc.h"

#define STEPS_PER_ADVANCE 8 /* steps that need no flight (a revert that conflicts) */

static const struct bisect_conf *conf; /* ctl.cfg.bisect, from bisector_start() */
static int registered;
static bisector_finish_fn finish_hook; /* bisector_on_finish's */

void bisector_on_finish(bisector_finish_fn fn)
{
	finish_hook = fn;
}

/* Bisections waiting for their next step, in order, each once; the walker thread
 * takes them one by one and walks their graph without ctl.lock (a walk of 16384
 * commits held every request when it ran in a result's handler). ctl.lock guards
 * all of it; walker_cv waits on ctl.lock. */
static struct {
	long long *bid;
	size_t n, cap;
} queued;
static int walking; /* the walker is at one */
static pthread_t walker;
static pthread_cond_t walker_cv = PTHREAD_COND_INITIALIZER;
static int walker_running, walker_stop;

/* The verdict of a run as the algorithm takes it. */
static int run_result(const char *verdict, enum bisect_run_result *r)
{
	if (!verdict)
		return -1;
	if (!strcmp(verdict, "pass"))
		*r = BISECT_RUN_PASS;
	else if (!strcmp(verdict, "fail"))
		*r = BISECT_RUN_FAIL;
	else if (!strcmp(verdict, "unbuildable"))
		*r = BISECT_RUN_UNBUILDABLE;
	else
		*r = BISECT_RUN_INFRA;
	return 0;
}

/* An online, usable board of class cls whose policy runs bisections of tree:
 * prefer (when it qualifies), else the first other one; avoid: a board not to
 * take unless it is the only one. Into out (65). */
static int pick_board(char *out, const char *cls, const char *tree, const char *prefer,
		      const char *avoid)
{
	struct policy_subject subj = {.kind = "bisect", .tree = tree};
	json_t *boards = db_boards_all(), *b;
	const char *first = NULL, *fallback = NULL;
	size_t i;
	int ok = -ENOENT;

	json_array_foreach (boards, i, b) {
		const char *name = jstr(b, "name", "");

		if (strcmp(jstr(b, "class", ""), cls) || !jint(b, "online", 1) ||
		    !strcmp(jstr(b, "state", ""), "offline") ||
		    !flight_board_allows(b, &subj, NULL, 0))
			continue;
		if (prefer && !strcmp(name, prefer)) {
			first = name;
			break;
		}
		if (avoid && !strcmp(name, avoid)) {
			fallback = name;
			continue;
		}
		if (!first)
			first = name;
	}
	if (first || fallback) {
		snprintf(out, 65, "%s", first ? first : fallback);
		ok = 0;
	}
	json_decref(boards);
	return ok;
}

/* The flight's tuple of revisions (new reference; json null when none). */
static json_t *flight_tuple(long long fid)
{
	json_t *rev = db_flight_revision(fid), *tuple = json_incref(json_object_get(rev, "tuple"));

	json_decref(rev);
	return tuple ? tuple : json_null();
}

/* The tree a bisection searches (null while it isolates several trees' changes,
 * or when none alone fails) and its range. */
static const char *guilty_tree(const json_t *bs)
{
	return jstr(bs, "guilty_tree", NULL);
}

/* Makes the flight of one run of `tested` of tree (job only, on board), the other
 * trees at pins' revisions, and records the pending run (run_tree: the tree to
 * record with it, NULL for the tree searched). Returns 0, 1 when the run is
 * settled already (unbuildable: it shares a build that failed), or a negative
 * errno with one message in err. */
static int run_flight(long long bid, int restart, const char *job, const char *tree,
		      const json_t *pins, const char *run_tree, const char *purpose,
		      const char *commit, int revert, const char *tested, const char *board,
		      char *err, size_t errlen)
{
	json_t *jobs = json_pack("[s]", job), *atts = NULL;
	struct flight_spec spec = {
	    .tree = tree,
	    .commit = tested,
	    .jobs = jobs,
	    .kind = "bisect",
	    .priority = PRIO_BISECT,
	    .board = board,
	};
	struct tree_conf *t;
	long long fid = 0;
	int rc, settled;

	/* the other trees stay where pins has them */
	rc = trees_flight_create(&fid, &spec, pins, err, errlen);
	json_decref(jobs);
	if (rc < 0)
		return rc;
	/* The flight's revision gets git's subject, as a push flight's does. */
	t = trees_find(spec.tree);
	if (t)
		trees_revision_subject(t, tested);
	atts = db_flight_test_attempts(fid);
	if (!json_array_size(atts)) {
		snprintf(err, errlen, "job %s does not run on board %s", job, board);
		json_decref(atts);
		return -ENOENT;
	}
	/* A build it shares that failed already (schema/0075): its test was
	 * cancelled as it was made, and the run is settled now. */
	settled = !strcmp(jstr(json_array_get(atts, 0), "state", ""), "cancelled");
	json_decref(atts);
	rc = db_bisect_run_add(NULL, bid, restart, purpose, commit, revert, tested, fid, 0, board,
			       settled ? "unbuildable" : NULL, run_tree);
	log_info("bisection %lld: %s %s %.12s%s on %s (flight %lld)%s", bid, purpose, tree, commit,
		 revert ? " reverted" : "", board, fid, settled ? ": its build failed before" : "");
	return rc < 0 ? rc : settled;
}

static enum bisection_state state_of(enum bisect_outcome o)
{
	switch (o) {
	case BISECT_CONFIRMED:
		return BISECTION_CONFIRMED;
	case BISECT_FOUND_NOT_CONFIRMED:
		return BISECTION_FOUND;
	case BISECT_NOT_REPRODUCIBLE:
		return BISECTION_NOT_REPRODUCIBLE;
	case BISECT_INCONCLUSIVE:
		return BISECTION_INCONCLUSIVE;
	default:
		return BISECTION_RUNNING;
	}
}

/* 1 when bs (a bisection row or twin) is running. */
static int is_running(const json_t *bs)
{
	return bs && bisection_state_of(jstr(bs, "state", NULL)) == BISECTION_RUNNING;
}

static void finish(long long bid, enum bisect_outcome o, const char *culprit, const char *reason,
		   long long remaining)
{
	char owner[AGENT_NAME_MAX + 1];
	json_t *twin;

	db_bisect_set_state(bid, state_of(o), bisect_outcome_name(o), reason, culprit, remaining,
			    1);
	log_info("bisection %lld: %s%s%.12s: %s", bid, bisect_outcome_name(o), culprit ? " " : "",
		 culprit ? culprit : "", reason);
	twin = twin_bisection(bid);
	if (twin &&
	    bisect_notify(conf, twin,
			  twin_bisection_owner(owner, sizeof(owner), twin) ? owner : NULL) > 0)
		db_bisect_set_notified(bid);
	if (twin && finish_hook)
		finish_hook(twin);
	json_decref(twin);
}

/* The board that saw the regression, unless another board of the class passed the
 * bad revision while that one failed it: then the other one (a board problem is
 * not the hypervisor's). */
static const char *preferred_board(const json_t *bs, const json_t *runs)
{
	const char *first = jstr(bs, "board", NULL), *bad = jstr(bs, "bad", ""), *other = NULL;
	const json_t *r;
	size_t i;

	json_array_foreach (runs, i, r) {
		const char *b = jstr(r, "board", NULL), *v = jstr(r, "verdict", "");

		if (b && first && strcmp(b, first) && !jint(r, "revert", 0) &&
		    !strcmp(jstr(r, "commit", ""), bad) && !strcmp(v, "pass"))
			other = b;
	}
	return other ? other : first;
}

static void advance(long long bid);

/* A test point: with XENCI_TEST_WALK_GATE=FILE in the environment, a walk waits
 * while FILE exists, having made FILE.waiting (tests/integration/test-bisect-ctl.c
 * has a heartbeat answered meanwhile). Called without ctl.lock. */
static void walk_gate(void)
{
	const char *gate = getenv("XENCI_TEST_WALK_GATE");
	char *mark;
	int fd;

	if (gate == NULL || access(gate, F_OK) != 0)
		return;
	mark = xasprintf("%s.waiting", gate);
	fd = open(mark, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	while (access(gate, F_OK) == 0)
		usleep(20 * 1000);
	unlink(mark);
	free(mark);
}

/* Replays the runs of bisection bid over its graph gg (walked from bad and good;
 * walk_rc and msg: how the walk went) and starts its next step, or ends it. */
static void advance_walked(long long bid, int walk_rc, struct bisect_git_graph *gg,
			   const char *walk_msg, const char *bad, const char *good)
{
	json_t *bs = db_bisect_get(bid), *runs = NULL, *r;
	struct bisect_git_graph graph = *gg;
	struct bisect *b = NULL;
	struct bisect_options opt;
	struct tree_conf *t;
	char err[256] = "";
	char msg[512], cls[65], board[65];
	int restart, round, rc;
	size_t i;

	memset(gg, 0, sizeof(*gg)); /* ours to release */
	if (!is_running(bs))
		goto out;
	if (!guilty_tree(bs) || strcmp(jstr(bs, "guilty_bad", ""), bad) ||
	    strcmp(jstr(bs, "guilty_good", ""), good)) {
		advance(bid); /* not the range that was walked: walk again */
		goto out;
	}
	restart = (int)jint(bs, "restarts", 0);
	snprintf(cls, sizeof(cls), "%s", jstr(bs, "class", ""));
	t = trees_find(guilty_tree(bs));
	if (!t) {
		finish(bid, BISECT_INCONCLUSIVE, NULL, "its tree is no longer configured", 0);
		goto out;
	}
	if (walk_rc < 0) {
		finish(bid, BISECT_INCONCLUSIVE, NULL, walk_msg, 0);
		goto out;
	}
	db_bisect_set_candidates(bid, graph.ncand);
	bisect_options_init(&opt);
	{
		/* The class's own history sets the confirmation's strength: every
		 * board's, private ones too (the figure is not shown). */
		const struct viewer all = {.admin = 1};
		long long tree_id = 0;
		double rate;

		if (db_tree_id(&tree_id, guilty_tree(bs)) == 0 &&
		    db_bisect_flake_rate(&rate, tree_id, jstr(bs, "job", ""), cls, &all) == 0)
			opt.class_flake_rate = rate;
	}
	for (round = 0; round < STEPS_PER_ADVANCE; round++) {
		struct bisect_step step;
		struct bisect_result res;
		const char *commit, *tested;
		char reverted[GITREPO_HEX], ref[96];
		long long last_run = 0;

		json_decref(runs);
		runs = db_bisect_runs(bid, restart);
		bisect_free(b);
		if (bisect_new(&b, &graph.g, graph.bad, &graph.good, 1, &opt) < 0) {
			finish(bid, BISECT_INCONCLUSIVE, NULL, "the range cannot be bisected", 0);
			goto out;
		}
		json_array_foreach (runs, i, r) {
			enum bisect_run_result rr;
			int node = bisect_git_node(&graph, jstr(r, "commit", ""));

			if (!jstr(r, "verdict", NULL))
				goto out; /* a run is still to come */
			last_run = jint(r, "id", 0);
			if (node < 0 || run_result(jstr(r, "verdict", NULL), &rr) < 0)
				continue;
			bisect_add_run(b,
				       jint(r, "revert", 0) ? BISECT_STEP_REVERT : BISECT_STEP_RUN,
				       (uint32_t)node, rr);
		}
		bisect_next(b, &step);
		bisect_get_result(b, &res);
		if (last_run)
			db_bisect_run_remaining(last_run, res.remaining);
		if (step.kind == BISECT_STEP_DONE) {
			struct buf why = BUF_INIT(2048);

			buf_puts(&why, res.reason);
			if (res.outcome == BISECT_INCONCLUSIVE) {
				uint32_t pl[16];
				size_t n = bisect_get_plausible(b, pl, 16), k;

				for (k = 0; k < n; k++)
					buf_printf(&why, "%s%.12s", k ? " " : "; still possible: ",
						   graph.ids[pl[k]]);
			}
			finish(bid, res.outcome, res.culprit >= 0 ? graph.ids[res.culprit] : NULL,
			       buf_cstr(&why), res.remaining);
			buf_release(&why);
			goto out;
		}
		commit = graph.ids[step.commit];
		tested = commit;
		if (step.kind == BISECT_STEP_REVERT) {
			snprintf(ref, sizeof(ref), "refs/xenci/bisect/%lld/revert", bid);
			if (gitrepo_revert(reverted, t->repo, jstr(bs, "guilty_bad", ""), commit,
					   ref, msg, sizeof(msg)) < 0) {
				log_info("bisection %lld: revert of %.12s: %s", bid, commit, msg);
				db_bisect_run_add(NULL, bid, restart, "confirm revert", commit, 1,
						  NULL, 0, 0, NULL, "unbuildable", NULL);
				continue;
			}
			tested = reverted;
		}
		if (pick_board(board, cls, t->name, preferred_board(bs, runs), NULL) < 0) {
			snprintf(msg, sizeof(msg), "no online board of class %s", cls);
			finish(bid, BISECT_INCONCLUSIVE, NULL, msg, res.remaining);
			goto out;
		}
		err[0] = '\0';
		rc = run_flight(bid, restart, jstr(bs, "job", ""), t->name,
				json_object_get(bs, "pins"), NULL,
				bisect_purpose_name(step.purpose), commit,
				step.kind == BISECT_STEP_REVERT, tested, board, err, sizeof(err));
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "cannot make a flight: %.400s", err);
			finish(bid, BISECT_INCONCLUSIVE, NULL, msg, res.remaining);
		}
		if (rc == 1)
			continue; /* settled at once: its build failed before */
		goto out;
	}
	finish(bid, BISECT_INCONCLUSIVE, NULL, "too many steps without a run", 0);
out:
	bisect_free(b);
	bisect_git_graph_release(&graph);
	json_decref(runs);
	json_decref(bs);
}

#define ISOLATE_INFRA_MAX 3 /* runs of one tree's change that gave no verdict */

/* The tuple of the regression's baseline: the failing flight's pins with every
 * tree that moved at its good revision (new reference). */
static json_t *baseline_pins(const json_t *bs)
{
	json_t *pins = json_deep_copy(json_object_get(bs, "pins")), *m;
	const char *tree;

	if (!json_is_object(pins)) {
		json_decref(pins);
		pins = json_object();
	}
	json_object_foreach (json_object_get(bs, "moved"), tree, m) {
		json_t *p = json_object_get(pins, tree);

		if (!json_is_object(p)) {
			p = json_object();
			json_object_set_new(pins, tree, p);
		}
		json_object_set_new(p, "commit", json_string(jstr(m, "good", "")));
		json_object_del(p, "ref"); /* no longer that ref's head */
	}
	return pins;
}

/* Several trees moved between the regression's baseline and its failing flight
 * (bs's "moved"): as OSSTest does, the baseline's tuple is run with one tree's
 * change at a time (runs of purpose isolate, every tree's at once). When they
 * are all in: the first tree whose change alone fails is the guilty one, searched
 * between its good and bad revisions with the other trees pinned at the
 * baseline's; when none fails alone, the changes are needed together and the
 * bisection ends inconclusive, naming them (OSSTest's bisector cannot isolate
 * them either). ctl.lock held. */
static void isolate(long long bid, const json_t *bs)
{
	json_t *runs = db_bisect_runs(bid, (int)jint(bs, "restarts", 0)), *base, *r, *m;
	const json_t *good_run = NULL;
	const char *tree, *guilty = NULL;
	char board[65], err[256] = "", msg[512];
	struct buf why = BUF_INIT(1024);
	int restart = (int)jint(bs, "restarts", 0), todo = 0, settled = 0, alone = 0, rc;
	size_t i;

	base = baseline_pins(bs);
	json_array_foreach (runs, i, r) {
		if (!jstr(r, "verdict", NULL))
			goto out; /* a run is still to come */
		if (!strcmp(jstr(r, "purpose", ""), "good"))
			good_run = r;
	}
	json_object_foreach (json_object_get(bs, "moved"), tree, m) {
		const char *v = NULL;
		int infra = 0;

		json_array_foreach (runs, i, r) {
			const char *rv = jstr(r, "verdict", "");

			if (strcmp(jstr(r, "purpose", ""), "isolate") ||
			    strcmp(jstr(r, "tree", ""), tree))
				continue;
			if (!strcmp(rv, "pass") || !strcmp(rv, "fail") ||
			    !strcmp(rv, "unbuildable"))
				v = rv;
			else
				infra++;
		}
		if (v && !strcmp(v, "fail")) {
			alone++;
			guilty = guilty ? guilty : tree;
		} else if (v == NULL && infra >= ISOLATE_INFRA_MAX) {
			snprintf(msg, sizeof(msg),
				 "the change of tree %s alone gave no verdict in %d runs", tree,
				 infra);
			finish(bid, BISECT_INCONCLUSIVE, NULL, msg, 0);
			goto out;
		} else if (v == NULL) {
			/* the baseline's tuple, this tree at its failing revision */
			if (pick_board(board, jstr(bs, "class", ""), tree, jstr(bs, "board", NULL),
				       NULL) < 0) {
				snprintf(msg, sizeof(msg), "no online board of class %s",
					 jstr(bs, "class", ""));
				finish(bid, BISECT_INCONCLUSIVE, NULL, msg, 0);
				goto out;
			}
			rc = run_flight(bid, restart, jstr(bs, "job", ""), tree, base, tree,
					"isolate", jstr(m, "bad", ""), 0, jstr(m, "bad", ""), board,
					err, sizeof(err));
			if (rc < 0) {
				snprintf(msg, sizeof(msg), "cannot make a flight: %.400s", err);
				finish(bid, BISECT_INCONCLUSIVE, NULL, msg, 0);
				goto out;
			}
			/* settled at once (a build that failed before): judged next time */
			todo += rc == 0;
			settled += rc == 1;
		}
	}
	if (todo)
		goto out;
	if (settled) {
		advance(bid);
		goto out;
	}
	if (guilty == NULL) {
		buf_puts(&why, "cannot isolate: the failure needs the changes of ");
		i = 0;
		json_object_foreach (json_object_get(bs, "moved"), tree, m)
			buf_printf(&why, "%s%s %.12s..%.12s", i++ ? " and " : "", tree,
				   jstr(m, "good", ""), jstr(m, "bad", ""));
		buf_puts(&why, " together: none alone fails");
		finish(bid, BISECT_INCONCLUSIVE, NULL, buf_cstr(&why), 0);
		goto out;
	}
	m = json_object_get(json_object_get(bs, "moved"), guilty);
	log_info("bisection %lld: the change of tree %s (%.12s..%.12s) fails alone%s", bid, guilty,
		 jstr(m, "good", ""), jstr(m, "bad", ""),
		 alone > 1 ? "; so does another tree's: the first is searched" : "");
	/* the search moves the guilty tree; the others stay at the baseline's */
	json_object_foreach (base, tree, r)
		json_object_set_new(r, "moves", json_boolean(!strcmp(tree, guilty)));
	/* the baseline passed with the guilty tree at its good revision: that is the
	 * good end's evidence in the guilty tree */
	if (db_bisect_set_guilty(bid, guilty, jstr(m, "good", ""), jstr(m, "bad", ""), base) < 0 ||
	    (strcmp(guilty, jstr(bs, "tree", "")) &&
	     db_bisect_run_add(NULL, bid, restart, "good", jstr(m, "good", ""), 0,
			       jstr(m, "good", ""), good_run ? jint(good_run, "flight", 0) : 0,
			       good_run ? jint(good_run, "attempt", 0) : 0, NULL, "pass",
			       guilty) < 0)) {
		finish(bid, BISECT_INCONCLUSIVE, NULL, "cannot record the guilty tree", 0);
		goto out;
	}
	advance(bid);
out:
	buf_release(&why);
	json_decref(base);
	json_decref(runs);
}

/* Walks the graph of bisection bid and advances it (ctl.lock held). On the
 * walker thread the walk runs without ctl.lock, through a repository handle of
 * its own; without a walker (no bisector_start) it runs here, with the lock. */
static void advance_now(long long bid)
{
	json_t *bs = db_bisect_get(bid);
	struct bisect_git_graph gg = {0};
	char bad[GITREPO_HEX], good[GITREPO_HEX], msg[512] = "";
	struct tree_conf *t;
	char *path;
	int rc;

	if (!is_running(bs)) {
		json_decref(bs);
		return;
	}
	if (!guilty_tree(bs)) { /* several trees moved: which change fails alone? */
		isolate(bid, bs);
		json_decref(bs);
		return;
	}
	t = trees_find(guilty_tree(bs));
	if (!t) {
		json_decref(bs);
		finish(bid, BISECT_INCONCLUSIVE, NULL, "its tree is no longer configured", 0);
		return;
	}
	snprintf(bad, sizeof(bad), "%s", jstr(bs, "guilty_bad", ""));
	snprintf(good, sizeof(good), "%s", jstr(bs, "guilty_good", ""));
	json_decref(bs);
	if (walker_running) {
		path = xstrdup(t->repo->path);
		ctl_unlock();
		walk_gate();
		rc = bisect_git_graph_at(&gg, path, bad, good, msg, sizeof(msg));
		ctl_lock();
		free(path);
	} else {
		rc = bisect_git_graph(&gg, t->repo, bad, good, msg, sizeof(msg));
	}
	advance_walked(bid, rc, &gg, msg, bad, good);
	bisect_git_graph_release(&gg);
}

/* Starts bisection bid's next step, or ends it: on the walker thread when there
 * is one, else now. */
static void advance(long long bid)
{
	size_t i;

	if (!walker_running) {
		advance_now(bid);
		return;
	}
	for (i = 0; i < queued.n; i++)
		if (queued.bid[i] == bid)
			return;
	if (queued.n == queued.cap) {
		queued.cap = queued.cap ? 2 * queued.cap : 16;
		queued.bid = xrealloc(queued.bid, queued.cap * sizeof(*queued.bid));
	}
	queued.bid[queued.n++] = bid;
	pthread_cond_signal(&walker_cv);
}

static void *walker_main(void *arg)
{
	long long bid;

	(void)arg;
	ctl_lock();
	while (!walker_stop) {
		if (queued.n == 0) {
			pthread_cond_wait(&walker_cv, &ctl.lock);
			continue;
		}
		bid = queued.bid[0];
		memmove(queued.bid, queued.bid + 1, --queued.n * sizeof(*queued.bid));
		walking = 1;
		advance_now(bid);
		walking = 0;
	}
	ctl_unlock();
	return NULL;
}

int bisector_pending(void)
{
	return (int)queued.n + walking;
}

/* A finished attempt of a flight that bisection runs wait for. */
static void step_finished(const struct attempt *a, enum attempt_state verdict, json_t *pending)
{
	json_t *r;
	size_t i;
	const char *v = NULL;
	int retry = 0;

	if (!strcmp(a->kind, "build")) {
		if (verdict == ATTEMPT_FAIL)
			v = "unbuildable";
		else if (verdict != ATTEMPT_PASS && a->number >= ctl.cfg.max_attempts)
			v = "infra"; /* no retry comes: the step is made again */
		else
			return; /* passed (its tests follow) or retried */
	} else if (verdict == ATTEMPT_PASS || verdict == ATTEMPT_FAIL) {
		v = attempt_state_name(verdict);
	} else {
		/* infra, timeout, cancelled: never evidence. The attempt machinery
		 * retries infra; anything else makes the step again. */
		v = "infra";
		retry = verdict == ATTEMPT_INFRA && a->number < ctl.cfg.max_attempts;
	}
	json_array_foreach (pending, i, r) {
		long long bid = jint(r, "bisection", 0);

		db_bisect_run_finish(jint(r, "id", 0), !strcmp(a->kind, "test") ? a->id : 0,
				     a->board[0] ? a->board : NULL, v);
		if (retry)
			db_bisect_run_add(NULL, bid, (int)jint(r, "restart", 0),
					  jstr(r, "purpose", "search"), jstr(r, "commit", ""),
					  (int)jint(r, "revert", 0), NULL, a->flight, 0, a->board,
					  NULL, jstr(r, "tree", NULL));
		else
			advance(bid);
	}
}

/* The baseline of a failure of job on class at bad: the newest ancestor of bad on
 * which the job passed on that class, in any flight (db_bisect_passes: bounded, so
 * at most 2 · BISECT_PASSES_MAX ancestry checks). 0 with good and its passing
 * attempt; -ENOENT when no ancestor passed (the baseline is untested). */
static int baseline_find(char good[41], long long *attempt, struct gitrepo *repo, long long tree_id,
			 const char *job, const char *cls, const char *bad)
{
	json_t *passes = db_bisect_passes(tree_id, job, cls, bad);
	int i = triage_newest_ancestor(repo, passes, bad);

	good[0] = '\0';
	if (i >= 0) {
		snprintf(good, 41, "%s", jstr(json_array_get(passes, (size_t)i), "commit", ""));
		*attempt = jint(json_array_get(passes, (size_t)i), "attempt", 0);
	}
	json_decref(passes);
	return good[0] ? 0 : -ENOENT;
}

/* No ancestor of bad passed (job, cls): a flight of a candidate on a board of the
 * class (the branch's gate revision when it is an ancestor of bad, else bad's first
 * parent), recorded as the failure's untested baseline; baseline_decide() takes
 * its result. Once per (job, class, bad). */
static void baseline_schedule(const struct attempt *a, const json_t *fb, struct tree_conf *t,
			      long long tree_id, const char *cls, const char *bad)
{
	struct branch_conf *bc = tree_conf_branch(t, jstr(fb, "branch", ""));
	char cand[GITREPO_HEX] = "", board[65], err[256] = "";
	struct gitrepo_commit ci;
	json_t *jobs;
	long long fid = 0;

	if (db_baseline_pending(a->job, cls, bad) == 0)
		return;
	if (!bc || !bc->gate_ref || gitrepo_ref_head(t->repo, bc->gate_ref, cand) < 0 ||
	    !strcmp(cand, bad) || gitrepo_is_ancestor(t->repo, cand, bad) != 1)
		cand[0] = '\0';
	if (!cand[0] && gitrepo_commit_info(&ci, t->repo, bad) == 0)
		snprintf(cand, sizeof(cand), "%s", ci.parent);
	if (!cand[0] || pick_board(board, cls, t->name, a->board, NULL) < 0) {
		log_info("%s on %s failed at %.12s: baseline untested, none to run", a->job, cls,
			 bad);
		return;
	}
	jobs = json_pack("[s]", a->job);
	{
		json_t *failing = flight_tuple(a->flight);
		struct flight_spec spec = {
		    .tree = t->name,
		    .commit = cand,
		    .jobs = jobs,
		    .kind = "bisect",
		    .priority = PRIO_BISECT,
		    .board = board,
		};
		int rc;

		/* the other trees where the failing flight had them */
		rc = trees_flight_create(&fid, &spec, failing, err, sizeof(err));
		json_decref(failing);
		if (rc < 0 || db_baseline_insert(tree_id, a->job, cls, bad, a->id, a->flight, cand,
						 fid) < 0) {
			log_warnx("%s on %s: cannot test a baseline: %s", a->job, cls, err);
			json_decref(jobs);
			return;
		}
	}
	json_decref(jobs);
	log_info("%s on %s failed at %.12s: baseline untested, flight %lld tests %.12s on %s",
		 a->job, cls, bad, fid, cand, board);
}

static void detect(const struct attempt *a);

/* The trees whose revision differs between the failing flight and the flight of
 * the baseline's passing attempt: {tree: {good, bad}} (new reference; a tree in
 * one tuple only is not counted: it cannot be run at the other's revision). */
static json_t *trees_moved(long long failing, long long good_attempt)
{
	json_t *moved = json_object(), *bad_t = flight_tuple(failing), *good_t = NULL, *m;
	struct attempt g;
	const char *tree;

	if (db_attempt_load(&g, good_attempt) == 0) {
		good_t = flight_tuple(g.flight);
		attempt_release(&g);
	}
	json_object_foreach (bad_t, tree, m) {
		const char *was = jstr(json_object_get(good_t, tree), "commit", NULL);
		const char *is = jstr(m, "commit", "");

		if (was && strcmp(was, is))
			json_object_set_new(moved, tree,
					    json_pack("{s:s, s:s}", "good", was, "bad", is));
	}
	json_decref(good_t);
	json_decref(bad_t);
	return moved;
}

/* A test of a baseline flight ended: pass -> the failure that asked for it is
 * detected again (it has a baseline now); fail -> still failing, no bisection.
 * Returns 1 when a was one. */
static int baseline_decide(const struct attempt *a, enum attempt_state verdict)
{
	char cls[65];
	long long id, trigger;
	struct attempt t;

	if (strcmp(a->kind, "test") || db_bisect_board_class(cls, a->board) < 0 ||
	    db_baseline_of_run(&id, &trigger, a->flight, a->job, cls) < 0)
		return 0;
	if (verdict != ATTEMPT_PASS && verdict != ATTEMPT_FAIL)
		return 1; /* infra is retried; the rest leaves it untested */
	db_baseline_set(id, verdict == ATTEMPT_PASS ? BASELINE_PASS : BASELINE_FAIL);
	log_info("%s on %s: baseline flight %lld %s", a->job, cls, a->flight,
		 verdict == ATTEMPT_PASS ? "passed: bisecting" : "failed: still failing");
	if (db_attempt_load(&t, trigger) == 0) {
		if (verdict == ATTEMPT_PASS)
			detect(&t);
		gate_check(t.flight); /* its class is decided now */
		attempt_release(&t);
	}
	return 1;
}

/* A test failed on a flight of a watched branch: a regression when its baseline
 * (baseline_find) is known, unless a bisection of (job, class) already covers it:
 * its bad revision is between the baseline and this one (no pass since). */
static void detect(const struct attempt *a)
{
	json_t *fb = db_flight_branch(a->flight), *atts, *o, *pins = NULL, *moved = NULL;
	struct tree_conf *t;
	size_t i;
	int others = 0;
	char cls[65], good[41], other_good[41], other[41], board[65];
	long long good_attempt = 0, good_flight = 0, bid = 0, tree_id = 0;
	const char *bad, *tname;
	char err[256] = "";

	if (!fb || db_bisect_board_class(cls, a->board) < 0)
		goto out;
	bad = jstr(fb, "commit", "");
	tname = jstr(fb, "tree", "");
	t = trees_find(jstr(fb, "tree", ""));
	if (!t || db_tree_id(&tree_id, jstr(fb, "tree", "")) < 0)
		goto out;
	if (baseline_find(good, &good_attempt, t->repo, tree_id, a->job, cls, bad) < 0) {
		baseline_schedule(a, fb, t, tree_id, cls, bad);
		goto out;
	}
	if (!triage_bisects(a->flight, a->job, cls))
		goto out;
	{
		struct attempt g;

		if (db_attempt_load(&g, good_attempt) == 0) {
			good_flight = g.flight;
			attempt_release(&g);
		}
	}
	if (db_bisect_latest(&bid, other_good, other, a->job, cls) == 0 &&
	    gitrepo_is_ancestor(t->repo, other, bad) == 1 &&
	    gitrepo_is_ancestor(t->repo, good, other) == 1) {
		/* The same regression on a newer push (a bisection's bad revision lies
		 * between the baseline and this one): that bisection covers it. The
		 * same push on another board went to evidence(). */
		goto out;
	}
	moved = trees_moved(a->flight, good_attempt);
	if (db_bisect_insert(&bid, tree_id, jint(fb, "branch_id", 0), a->job, cls, good, bad,
			     a->board, a->id) < 0 ||
	    (json_object_size(moved) > 1 && db_bisect_set_moved(bid, moved) < 0) ||
	    db_bisect_run_add(NULL, bid, 0, "trigger", bad, 0, bad, a->flight, a->id, a->board,
			      "fail", tname) < 0 ||
	    db_bisect_run_add(NULL, bid, 0, "good", good, 0, good, good_flight, good_attempt, NULL,
			      "pass", tname) < 0) {
		log_warnx("bisection: cannot record the regression of %s on %s", a->job, cls);
		goto out;
	}
	if (json_object_size(moved) > 1)
		log_info("bisection %lld: %zu trees moved since the baseline: each one's change is "
			 "run alone first",
			 bid, json_object_size(moved));
	log_info("bisection %lld: %s on %s (%s) regressed between %.12s and %.12s", bid, a->job,
		 cls, a->board, good, bad);
	/* Other boards of the class that already ran the job in this flight are
	 * the re-run; the rest report through the observer (evidence()). */
	atts = db_flight_test_attempts(a->flight);
	json_array_foreach (atts, i, o) {
		const char *st = jstr(o, "state", "");

		if (jint(o, "id", 0) == a->id || strcmp(jstr(o, "job", ""), a->job) ||
		    strcmp(jstr(o, "class", ""), cls) || (strcmp(st, "pass") && strcmp(st, "fail")))
			continue;
		db_bisect_run_add(NULL, bid, 0, "recheck", bad, 0, bad, a->flight, jint(o, "id", 0),
				  jstr(o, "board", NULL), st, tname);
		others++;
	}
	json_decref(atts);
	/* The failure's retest (retest_schedule) is the re-run when it gave a result. */
	atts = db_retests_of_flight(a->flight);
	json_array_foreach (atts, i, o) {
		enum retest_state rs = retest_state_of(jstr(o, "state", ""));

		if (strcmp(jstr(o, "job", ""), a->job) || strcmp(jstr(o, "class", ""), cls) ||
		    (rs != RETEST_PASS && rs != RETEST_FAIL) || !jint(o, "retest_attempt", 0))
			continue;
		db_bisect_run_add(NULL, bid, 0, "recheck", bad, 0, bad, jint(o, "retest_flight", 0),
				  jint(o, "retest_attempt", 0), jstr(o, "board", NULL),
				  rs == RETEST_PASS ? "pass" : "fail", tname);
		others++;
	}
	json_decref(atts);
	/* Else re-run the bad revision once on another board of the class, to tell
	 * a board problem from a hypervisor one; the same board when it is alone. */
	pins = flight_tuple(a->flight);
	if (others || pick_board(board, cls, tname, NULL, a->board) < 0 ||
	    run_flight(bid, 0, a->job, tname, pins, tname, "recheck", bad, 0, bad, board, err,
		       sizeof(err)) < 0) {
		if (!others)
			log_warnx("bisection %lld: no re-run: %s", bid, err);
		advance(bid);
	}
out:
	json_decref(pins);
	json_decref(moved);
	json_decref(fb);
}

/* A test failed on a push flight: unless it was retested already, or another
 * board of the class passed the job in the same flight (a heisenbug already), a
 * flight of the same revision with the one job on another board of the class
 * (the same board when it is alone), recorded in retests. Returns 1 when the
 * failure is not to be detected now (its retest is to come, or it is a
 * heisenbug), 0 when it is (retested and confirmed, or no retest could run). */
static int retest_schedule(const struct attempt *a)
{
	json_t *fb = db_flight_branch(a->flight), *atts = NULL, *o, *jobs = NULL;
	enum retest_state rs;
	char cls[65], board[65], err[256] = "";
	long long fid = 0;
	size_t i;
	int rc = 0;

	if (!fb || db_bisect_board_class(cls, a->board) < 0)
		goto out;
	if (db_retest_state(&rs, a->flight, a->job, cls) == 0) {
		rc = rs == RETEST_UNTESTED || rs == RETEST_PASS;
		goto out;
	}
	atts = db_flight_test_attempts(a->flight);
	json_array_foreach (atts, i, o)
		if (!strcmp(jstr(o, "job", ""), a->job) && !strcmp(jstr(o, "class", ""), cls) &&
		    attempt_state_of(jstr(o, "state", "")) == ATTEMPT_PASS) {
			rc = 1;
			goto out;
		}
	if (pick_board(board, cls, jstr(fb, "tree", ""), NULL, a->board) < 0)
		goto out;
	jobs = json_pack("[s]", a->job);
	{
		struct flight_spec spec = {
		    .tree = jstr(fb, "tree", ""),
		    .commit = jstr(fb, "commit", ""),
		    .jobs = jobs,
		    .kind = "bisect",
		    .priority = PRIO_BISECT,
		    .board = board,
		};

		json_t *failing = flight_tuple(a->flight);
		int made;

		/* the same revision: every tree where the failing flight had it */
		made = trees_flight_create(&fid, &spec, failing, err, sizeof(err));
		json_decref(failing);
		if (made < 0 || db_retest_insert(a->flight, a->job, cls, a->id, fid, board) < 0) {
			log_warnx("%s on %s: cannot retest flight %lld: %s", a->job, cls, a->flight,
				  err);
			goto out;
		}
	}
	log_info("%s on %s failed in flight %lld: retest in flight %lld on %s", a->job, cls,
		 a->flight, fid, board);
	rc = 1;
out:
	json_decref(jobs);
	json_decref(atts);
	json_decref(fb);
	return rc;
}

/* A test of a retest flight ended: pass -> the failure was a heisenbug (not
 * detected); fail (or no result after its retries) -> the failure is detected.
 * The failing flight's gate is judged again either way. Returns 1 when a was
 * one. */
static int retest_decide(const struct attempt *a, enum attempt_state verdict)
{
	enum retest_state rs;
	char cls[65];
	long long id, trigger, flight;
	struct attempt t;

	if (strcmp(a->kind, "test") || db_bisect_board_class(cls, a->board) < 0 ||
	    db_retest_of_run(&id, &trigger, &flight, a->flight, a->job, cls) < 0)
		return 0;
	if (verdict == ATTEMPT_INFRA && a->number < ctl.cfg.max_attempts)
		return 1; /* its retry comes */
	rs = verdict == ATTEMPT_PASS				     ? RETEST_PASS
	     : verdict == ATTEMPT_FAIL || verdict == ATTEMPT_TIMEOUT ? RETEST_FAIL
								     : RETEST_NONE;
	db_retest_set(id, rs, rs == RETEST_NONE ? 0 : a->id);
	log_info("%s on %s: retest flight %lld of flight %lld: %s", a->job, cls, a->flight, flight,
		 rs == RETEST_PASS ? "passed: a heisenbug" : "failed again: confirmed");
	if (rs != RETEST_PASS && db_attempt_load(&t, trigger) == 0) {
		detect(&t);
		attempt_release(&t);
	}
	gate_check(flight);
	return 1;
}

/* A pass or fail of a push flight whose revision a bisection of the same job and
 * class has as its bad one (another board of the class): a re-run, as evidence.
 * Returns 1 when it was one. */
static int evidence(const struct attempt *a, enum attempt_state verdict)
{
	json_t *fb = db_flight_branch(a->flight);
	char cls[65];
	long long bid;
	int restart, rc = 0;

	if (fb && db_bisect_board_class(cls, a->board) == 0 &&
	    db_bisect_find_bad(&bid, &restart, a->job, cls, jstr(fb, "commit", "")) == 0) {
		db_bisect_run_add(NULL, bid, restart, "recheck", jstr(fb, "commit", ""), 0,
				  jstr(fb, "commit", ""), a->flight, a->id, a->board,
				  attempt_state_name(verdict), jstr(fb, "tree", NULL));
		rc = 1;
	}
	json_decref(fb);
	return rc;
}

void bisector_observe(const struct attempt *a, enum attempt_state verdict, void *user)
{
	json_t *pending;

	(void)user;
	if (a->flight <= 0)
		return;
	if (!strcmp(a->kind, "build") && a->build_id) {
		/* A build is shared by every flight that needs it (schema/0075): its
		 * end is each of those flights' step's. */
		json_t *flights = db_build_flights(a->build_id), *f;
		size_t i;

		json_array_foreach (flights, i, f) {
			pending = db_bisect_runs_pending(json_integer_value(f));
			if (json_array_size(pending))
				step_finished(a, verdict, pending);
			json_decref(pending);
		}
		json_decref(flights);
		return;
	}
	if (baseline_decide(a, verdict) || retest_decide(a, verdict))
		return;
	pending = db_bisect_runs_pending(a->flight);
	if (json_array_size(pending))
		step_finished(a, verdict, pending);
	else if (!strcmp(a->kind, "test") && (verdict == ATTEMPT_FAIL || verdict == ATTEMPT_PASS) &&
		 !evidence(a, verdict) && verdict == ATTEMPT_FAIL && !retest_schedule(a))
		detect(a);
	json_decref(pending);
}

int bisector_cancel(long long id)
{
	json_t *bs = db_bisect_get(id), *runs = NULL, *r;
	size_t i;
	int rc = -ENOENT;

	if (!bs)
		goto out;
	rc = -EALREADY;
	if (!is_running(bs))
		goto out;
	/* The state first: the cancelled attempts come back through the observer. */
	if (db_bisect_set_state(id, BISECTION_CANCELLED, "cancelled", "cancelled by an admin", NULL,
				jint(bs, "remaining", 0), 1) < 0) {
		rc = -EIO;
		goto out;
	}
	runs = db_bisect_runs(id, (int)jint(bs, "restarts", 0));
	json_array_foreach (runs, i, r) {
		json_t *atts, *at;
		size_t k;

		if (jstr(r, "verdict", NULL) || jint(r, "flight", 0) <= 0)
			continue;
		/* Its build (when not started) and its tests. */
		atts = db_flight_open_attempts(jint(r, "flight", 0));
		json_array_foreach (atts, k, at) {
			attempt_cancel(json_integer_value(at), "bisection cancelled");
		}
		json_decref(atts);
		atts = db_flight_test_attempts(jint(r, "flight", 0));
		json_array_foreach (atts, k, at) {
			if (!attempt_state_final(attempt_state_of(jstr(at, "state", ""))))
				attempt_cancel(jint(at, "id", 0), "bisection cancelled");
		}
		json_decref(atts);
	}
	log_info("bisection %lld: cancelled", id);
	rc = 0;
out:
	json_decref(runs);
	json_decref(bs);
	return rc;
}

int bisector_restart(long long id)
{
	json_t *bs = db_bisect_get(id), *runs = NULL, *r;
	size_t i;
	int rc = -ENOENT, restart;

	if (!bs)
		goto out;
	rc = -EALREADY;
	if (is_running(bs))
		goto out;
	restart = (int)jint(bs, "restarts", 0);
	runs = db_bisect_runs(id, restart);
	rc = -EIO;
	if (db_bisect_restart(id) < 0)
		goto out;
	/* The regression's own evidence carries over; everything else is run again. */
	json_array_foreach (runs, i, r) {
		const char *p = jstr(r, "purpose", "");

		/* and the runs that found the guilty tree, when several moved: the
		 * search goes on in that tree (changes that fail only together are
		 * isolated again) */
		if ((strcmp(p, "trigger") && strcmp(p, "good") &&
		     (strcmp(p, "isolate") || !jstr(bs, "guilty_tree", NULL))) ||
		    !jstr(r, "verdict", NULL))
			continue;
		db_bisect_run_add(NULL, id, restart + 1, p, jstr(r, "commit", ""), 0,
				  jstr(r, "tested", NULL), jint(r, "flight", 0),
				  jint(r, "attempt", 0), jstr(r, "board", NULL),
				  jstr(r, "verdict", NULL), jstr(r, "tree", NULL));
	}
	log_info("bisection %lld: restarted", id);
	advance(id);
	rc = 0;
out:
	json_decref(runs);
	json_decref(bs);
	return rc;
}

int bisector_observe_start(void)
{
	int rc;

	if (!registered && (rc = attempt_observe(bisector_observe, NULL)) < 0)
		return rc;
	registered = 1;
	return 0;
}

int bisector_start(const struct bisect_conf *c, char *err, size_t errlen)
{
	json_t *list, *bs;
	size_t i;
	int rc;

	if ((rc = bisector_observe_start()) < 0) {
		snprintf(err, errlen, "bisect: too many attempt observers");
		return rc;
	}
	conf = c;
	if (walker_running)
		return 0;
	walker_stop = 0;
	if ((rc = pthread_create(&walker, NULL, walker_main, NULL)) != 0) {
		snprintf(err, errlen, "bisect: no thread for graph walks: %s", strerror(rc));
		return -rc;
	}
	ctl_lock();
	walker_running = 1;
	/* A step that was to be made when the controller stopped is made now (an
	 * advance is idempotent: one whose run is still to come does nothing). */
	list = db_bisect_list(1000, 0);
	json_array_foreach (list, i, bs) {
		if (is_running(bs))
			advance(jint(bs, "id", 0));
	}
	json_decref(list);
	ctl_unlock();
	return 0;
}

void bisector_stop(void)
{
	if (!walker_running)
		return;
	ctl_lock();
	walker_stop = 1;
	pthread_cond_signal(&walker_cv);
	ctl_unlock();
	pthread_join(walker, NULL);
	ctl_lock();
	walker_running = 0;
	queued.n = 0;
	ctl_unlock();
}
