#include "flights.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "ctl.h"
#include "db-boards.h"
#include "db-events.h"
#include "db-flights.h"
#include "db.h"
#include "json-util.h"
#include "log.h"
#include "park.h"
#include "policy.h"

static const char *const priority_names[] = {"gate", "bisect", "submission", "background", NULL};

int priority_parse(const char *s)
{
	int i;

	for (i = 0; s && priority_names[i]; i++)
		if (!strcmp(s, priority_names[i]))
			return i;
	return -1;
}

static int in_list(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	if (json_is_string(list))
		return !strcmp(json_string_value(list), s);
	json_array_foreach (list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

int job_matches_board(const json_t *job, const json_t *board)
{
	const json_t *req = json_object_get(job, "requires"), *v;
	const char *arch = jstr(board, "arch", ""), *s;
	size_t i;

	v = json_object_get(req, "arch");
	if (v && !in_list(v, arch))
		return 0;
	json_array_foreach (json_object_get(req, "tags"), i, v)
		if (!json_is_string(v) ||
		    !in_list(json_object_get(board, "tags"), json_string_value(v)))
			return 0;
	if ((s = jstr(req, "class", NULL)) && strcmp(s, jstr(board, "class", "")))
		return 0;
	if ((s = jstr(req, "board", NULL)) && strcmp(s, jstr(board, "name", "")))
		return 0;
	/* any other requirement is a property the board's examine found */
	json_object_foreach ((json_t *)req, s, v) {
		if (!strcmp(s, "arch") || !strcmp(s, "tags") || !strcmp(s, "class") ||
		    !strcmp(s, "board"))
			continue;
		if (!json_equal(v, json_object_get(json_object_get(board, "properties"), s)))
			return 0;
	}
	return 1;
}

/* 1 when job (a name, "JOB/VARIANT" for a variant) is what want names: the
 * job itself, or every variant of want when want has none. */
static int job_named(const char *job, const char *want)
{
	size_t n = strlen(want);

	return !strcmp(job, want) ||
	       (!strchr(want, '/') && !strncmp(job, want, n) && job[n] == '/');
}

static json_t *select_jobs(const json_t *names, char *err, size_t errlen)
{
	json_t *all = db_jobs_list(), *out, *j, *n;
	size_t i, k;

	out = json_array();
	if (names == NULL) {
		/* every job but the commissioning ones (with facts): those run when named */
		json_array_foreach (all, k, j)
			if (!json_object_get(json_object_get(j, "definition"), "facts"))
				json_array_append(out, j);
		json_decref(all);
		return out;
	}
	json_array_foreach (names, i, n) {
		int found = 0;

		json_array_foreach (all, k, j)
			if (job_named(jstr(j, "name", ""), json_string_value(n))) {
				json_array_append(out, j);
				found = 1;
			}
		if (!found) {
			snprintf(err, errlen, "unknown job \"%s\"", json_string_value(n));
			json_decref(out);
			json_decref(all);
			return NULL;
		}
	}
	json_decref(all);
	return out;
}

/* What a flight's builds on an arch are made for: the flight (its tuple, kind and
 * priority) and the artifacts its tests there want. */
struct build_ctx {
	const json_t *tuple; /* {tree: {commit, kind}} (db_flight_revision's) */
	int trusted;	     /* the flight's kind is trusted (policy_kind_trusted) */
	int priority;
};

/* The artifacts every build makes without being asked (a NULL "wants"). */
static const char *const default_wants[] = {"xen", "dom0-kernel", "dom0-initrd"};

static int wanted(const json_t *list, const json_t *name)
{
	const json_t *w;
	size_t i;

	json_array_foreach (list, i, w)
		if (json_equal(w, name))
			return 1;
	return 0;
}

/* 1 when a build of kind that was asked for have makes every artifact of want.
 * Only Xen's recipe makes more when asked (the toolstack: tools, dom0-rootfs);
 * the other kinds make the same whatever is wanted. */
static int wants_covered(const char *kind, const json_t *have, const json_t *want)
{
	const json_t *n;
	size_t i, k;

	if (strcmp(kind, "xen"))
		return 1;
	json_array_foreach (want, i, n) {
		int ok = wanted(have, n);

		for (k = 0; !ok && k < sizeof(default_wants) / sizeof(default_wants[0]); k++)
			ok = !strcmp(json_string_value(n) ? json_string_value(n) : "",
				     default_wants[k]);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Adds the artifact names of add to what build build_id must make (its "wants",
 * sent to the builder with the build attempt), while its attempt is still queued:
 * a claimed build makes what it was asked. */
static int build_want(long long build_id, const json_t *add)
{
	json_t *build = db_build_get(build_id), *wants, *n;
	size_t i;
	int changed = 0, rc = 0;

	if (build == NULL)
		return -EIO;
	wants = json_array();
	if (json_is_array(json_object_get(build, "wants")))
		json_array_extend(wants, json_object_get(build, "wants"));
	json_array_foreach (add, i, n) {
		if (!wanted(wants, n)) {
			json_array_append(wants, n);
			changed = 1;
		}
	}
	if (changed && !strcmp(jstr(build, "state", ""), "queued") &&
	    db_build_set_wants(build_id, wants) < 0)
		rc = -EIO;
	json_decref(wants);
	json_decref(build);
	return rc;
}

/* A build of tree at commit (kind) for arch that flight fid can take instead of
 * making one: queued, passed or failed (never one that ended infra), made for a
 * trusted flight unless fid's is untrusted too, that makes what wants asks (or is
 * still queued and can be asked; a failed one: that asked the same). 0 and *id,
 * or -ENOENT. */
static int build_share(long long *id, const struct build_ctx *c, const char *tree,
		       const char *commit, const char *kind, const char *arch, const json_t *wants)
{
	json_t *cands = db_build_shareable(tree, commit, arch, kind), *b;
	size_t i;
	int rc = -ENOENT;

	json_array_foreach (cands, i, b) {
		int queued = !strcmp(jstr(b, "state", ""), "queued") &&
			     !strcmp(jstr(b, "attempt_state", ""), "queued");

		if (c->trusted && !policy_kind_trusted(jstr(b, "flight_kind", NULL)))
			continue; /* untrusted code may have fed its compiler cache */
		if (!queued && !wants_covered(kind, json_object_get(b, "wants"), wants))
			continue;
		/* a failure is shared only by flights that ask the same (one that
		 * failed in the toolstack says nothing of a build without it) */
		if (!strcmp(jstr(b, "state", ""), "fail") &&
		    !wants_covered(kind, wants, json_object_get(b, "wants")))
			continue;
		*id = jint(b, "id", 0);
		rc = 0;
		break;
	}
	json_decref(cands);
	return rc;
}

/* The builds flight fid's tests on arch wait for (a JSON array of ids, new
 * reference; NULL on a store error): the ones it has, else one per member of its
 * tuple, each taken from another flight (build_share) or made, with its build
 * attempt queued (offered after the commit). wants: the artifacts its tests there
 * need. Inside the caller's transaction. */
static json_t *arch_builds(long long fid, const struct build_ctx *c, const char *arch,
			   const json_t *wants, const struct attempt *a, json_t *offer)
{
	json_t *ids = db_flight_arch_builds(fid, arch), *m, *v;
	const char *tree;
	size_t i;

	if (json_array_size(ids)) {
		json_array_foreach (ids, i, v)
			if (build_want(json_integer_value(v), wants) < 0)
				goto fail;
		return ids;
	}
	json_object_foreach ((json_t *)c->tuple, tree, m) {
		const char *commit = jstr(m, "commit", ""), *kind = jstr(m, "kind", "xen");
		long long build_id;

		if (build_share(&build_id, c, tree, commit, kind, arch, wants) == 0) {
			if (db_build_link(fid, arch, build_id) < 0 ||
			    db_build_attempt_raise(build_id, c->priority) < 0 ||
			    build_want(build_id, wants) < 0)
				goto fail;
			log_info("flight %lld: %s %.12s for %s: build %lld, shared", fid, tree,
				 commit, arch, build_id);
		} else {
			struct attempt ba = *a;
			long long baid;

			if (db_build_insert(&build_id, fid, arch, tree, commit, kind) < 0 ||
			    (json_array_size(wants) && db_build_set_wants(build_id, wants) < 0))
				goto fail;
			ba.id = 0;
			ba.flight = fid;
			ba.build_id = build_id;
			ba.job[0] = ba.board[0] = '\0';
			snprintf(ba.arch, sizeof(ba.arch), "%s", arch);
			snprintf(ba.kind, sizeof(ba.kind), "build");
			ba.state = ATTEMPT_QUEUED;
			ba.number = 1;
			ba.priority = c->priority;
			if (attempt_insert(&baid, &ba) < 0)
				goto fail;
			json_array_append_new(offer, json_integer(baid));
		}
		json_array_append_new(ids, json_integer(build_id));
	}
	return ids;
fail:
	json_decref(ids);
	return NULL;
}

/* Puts the test attempt a of job (def) on board b of flight fid: the builds of
 * b's arch first when the job needs artifacts (builds: arch → their ids, shared
 * by the flight's tests; arch_builds() when not there yet; wants: arch → the
 * artifacts to ask for, or NULL: the job's). a->id set: that unplaced attempt is
 * placed (db_attempt_place); else a new one is inserted. Attempts to offer after
 * the commit go to offer. Inside the caller's transaction. */
static int place_test(struct attempt *a, long long fid, const struct build_ctx *c,
		      const json_t *def, const json_t *b, json_t *builds, const json_t *wants,
		      json_t *offer)
{
	const char *arch = jstr(b, "arch", "");
	int needs_build = json_array_size(json_object_get(def, "artifacts")) > 0;
	long long id = a->id;
	enum attempt_state state;
	json_t *ids;

	snprintf(a->arch, sizeof(a->arch), "%s", arch);
	a->build_id = 0;
	state = needs_build ? ATTEMPT_WAITING : ATTEMPT_QUEUED;
	if (needs_build) {
		const json_t *w = wants ? json_object_get(wants, arch) : NULL;
		size_t i;
		json_t *v;
		int pass = 1, failed = 0;

		ids = json_object_get(builds, arch);
		if (ids == NULL) {
			ids = arch_builds(fid, c, arch, w ? w : json_object_get(def, "artifacts"),
					  a, offer);
			if (ids == NULL)
				return -EIO;
			json_object_set_new(builds, arch, ids);
		} else if (build_want(json_integer_value(json_array_get(ids, 0)),
				      json_object_get(def, "artifacts")) < 0) {
			return -EIO;
		}
		a->build_id = json_integer_value(json_array_get(ids, 0));
		/* Builds that already ended (shared ones): the test is settled now. */
		json_array_foreach (ids, i, v) {
			json_t *build = db_build_get(json_integer_value(v));
			const char *bs = jstr(build, "state", "queued");

			pass &= !strcmp(bs, "pass");
			failed |= strcmp(bs, "pass") && strcmp(bs, "queued");
			json_decref(build);
		}
		if (failed)
			state = ATTEMPT_CANCELLED;
		else if (pass && json_array_size(ids))
			state = ATTEMPT_QUEUED;
	}
	snprintf(a->kind, sizeof(a->kind), "test");
	snprintf(a->board, sizeof(a->board), "%s", jstr(b, "name", ""));
	/* cancelled below, as build_settle does */
	a->state = state == ATTEMPT_CANCELLED ? ATTEMPT_WAITING : state;
	if (id) {
		if (db_attempt_place(id, a->board, a->arch, a->build_id, a->state) < 0)
			return -EIO;
		a->id = id;
		if (a->state == ATTEMPT_QUEUED &&
		    attempt_event("attempt.queued", a, ATTEMPT_QUEUED, NULL) < 0)
			return -EIO;
	} else if (attempt_insert(&a->id, a) < 0) {
		return -EIO;
	}
	if (state == ATTEMPT_CANCELLED) {
		a->state = state;
		if (db_attempt_set_state(a->id, ATTEMPT_CANCELLED, "build failed") < 0 ||
		    attempt_event("attempt.finished", a, ATTEMPT_CANCELLED, "build failed") < 0)
			return -EIO;
	} else if (a->state == ATTEMPT_QUEUED) {
		json_array_append_new(offer, json_integer(a->id));
	}
	return 0;
}

/* The build context of flight fid (its revision rev, as db_flight_revision gives
 * it). */
static void build_ctx_of(struct build_ctx *c, const json_t *rev, int priority)
{
	c->tuple = json_object_get(rev, "tuple");
	c->trusted = policy_kind_trusted(jstr(rev, "kind", NULL));
	c->priority = priority;
}

int flight_board_allows(const json_t *board, const struct policy_subject *s, char *why,
			size_t whylen)
{
	return policy_allows(json_object_get(board, "policy"), s, why, whylen);
}

/* 1 when board b can take new work of job def for a flight s (online, not pinned
 * away, its policy allows the flight). */
static int board_eligible(const json_t *def, const json_t *b, const char *pin,
			  const struct policy_subject *s)
{
	if (!jint(b, "online", 1) || !strcmp(jstr(b, "state", ""), "offline"))
		return 0;
	if (pin && strcmp(pin, jstr(b, "name", "")))
		return 0;
	/* out of the pool until an examine passes: only examines run there */
	if (!strcmp(jstr(b, "examine", ""), "fail") && !json_object_get(def, "facts"))
		return 0;
	return job_matches_board(def, b) && flight_board_allows(b, s, NULL, 0);
}

int flight_create(long long *id, const struct flight_spec *spec, char *err, size_t errlen)
{
	json_t *jobs, *boards = NULL, *builds = json_object(), *offer = json_array();
	json_t *wants = json_object(), *rev = NULL;
	json_t *j, *b, *v;
	long long tree_id, rev_id, fid = 0, eid;
	struct policy_subject subj = {spec->kind, spec->tree, spec->ref, spec->user};
	struct build_ctx bc;
	size_t i, k, n;
	int rc = -EIO;

	*id = 0;
	jobs = select_jobs(spec->jobs, err, errlen);
	if (jobs == NULL) {
		rc = -ENOENT;
		goto out;
	}
	if (spec->board) { /* one board (bisection steps): no need to scan them all */
		struct viewer admin = {1, NULL};
		json_t *one = db_board_get(spec->board, spec->viewer ? spec->viewer : &admin);

		boards = json_array();
		if (one)
			json_array_append_new(boards, one);
	} else {
		boards = db_boards_all();
	}
	if (db_begin() < 0)
		goto out;
	if (db_tree_id(&tree_id, spec->tree) < 0 ||
	    db_revision_id(&rev_id, tree_id, spec->commit, spec->describe) < 0 ||
	    db_flight_insert(&fid, rev_id, spec->ref, spec->kind, spec->priority, spec->user,
			     spec->tuple) < 0)
		goto fail;
	rev = db_flight_revision(fid);
	if (rev == NULL)
		goto fail;
	build_ctx_of(&bc, rev, spec->priority);
	/* What the builds of each arch must make: every artifact its tests want
	 * (known before a build is shared or made). */
	json_array_foreach (jobs, i, j) {
		const json_t *def = json_object_get(j, "definition");

		if (!json_array_size(json_object_get(def, "artifacts")))
			continue;
		json_array_foreach (boards, k, b) {
			const char *arch = jstr(b, "arch", "");
			json_t *w;

			if (!board_eligible(def, b, spec->board, &subj))
				continue;
			if ((w = json_object_get(wants, arch)) == NULL) {
				w = json_array();
				json_object_set_new(wants, arch, w);
			}
			json_array_foreach (json_object_get(def, "artifacts"), n, v)
				if (!wanted(w, v))
					json_array_append(w, v);
		}
	}
	json_array_foreach (jobs, i, j) {
		const json_t *def = json_object_get(j, "definition");
		const char *name = jstr(j, "name", "");
		struct attempt a;
		int placed = 0;

		memset(&a, 0, sizeof(a));
		a.flight = fid;
		a.priority = spec->priority;
		a.number = 1;
		snprintf(a.job, sizeof(a.job), "%s", name);
		json_array_foreach (boards, k, b) {
			if (!board_eligible(def, b, spec->board, &subj))
				continue;
			a.id = 0;
			if (place_test(&a, fid, &bc, def, b, builds, wants, offer) < 0)
				goto fail;
			placed++;
		}
		if (placed || spec->board)
			continue;
		/* No eligible board yet (an agent that has not declared its boards):
		 * the job waits, unplaced, for flight_adopt() or flight_starve(). */
		a.id = 0;
		a.build_id = 0;
		a.arch[0] = a.board[0] = '\0';
		snprintf(a.kind, sizeof(a.kind), "test");
		a.state = ATTEMPT_WAITING;
		if (attempt_insert(&a.id, &a) < 0)
			goto fail;
	}
	v = json_pack("{s:I, s:s, s:s, s:s}", "flight", (json_int_t)fid, "tree", spec->tree,
		      "commit", spec->commit, "kind", spec->kind);
	if (db_event_insert(&eid, "flight.created", 0, NULL, v) < 0) {
		json_decref(v);
		goto fail;
	}
	json_decref(v);
	if (db_flight_update(fid) < 0)
		goto fail;
	if (db_commit() < 0)
		goto out;
	json_array_foreach (offer, i, v)
		attempt_offer(json_integer_value(v));
	park_wake(PARK_EVENTS, 0);
	*id = fid;
	rc = 0;
	goto out;
fail:
	db_rollback();
out:
	json_decref(jobs);
	json_decref(boards);
	json_decref(builds);
	json_decref(wants);
	json_decref(rev);
	json_decref(offer);
	return rc;
}

int flight_adopt(void)
{
	json_t *ids = db_attempts_unplaced(LLONG_MAX), *boards = NULL, *offer = json_array();
	json_t *v, *b;
	size_t i, k;
	int placed = 0, rc = -EIO;

	if (json_array_size(ids) == 0) {
		rc = 0;
		goto out;
	}
	boards = db_boards_all();
	if (db_begin() < 0)
		goto out;
	json_array_foreach (ids, i, v) {
		struct attempt a;
		json_t *def, *builds, *rev;
		struct policy_subject subj;
		struct build_ctx bc;
		long long unplaced = json_integer_value(v);
		int n = 0;

		if (db_attempt_load(&a, unplaced) < 0)
			continue;
		def = db_job_get(a.job);
		builds = json_object();
		rev = db_flight_revision(a.flight);
		subj.kind = jstr(rev, "kind", "");
		subj.tree = jstr(rev, "tree", NULL);
		subj.ref = jstr(rev, "ref", NULL);
		subj.user = jstr(rev, "user", NULL);
		build_ctx_of(&bc, rev, a.priority);
		json_array_foreach (boards, k, b) {
			if (!def || !board_eligible(def, b, NULL, &subj))
				continue;
			/* The first board takes the unplaced attempt, the others new ones. */
			a.id = n ? 0 : unplaced;
			if (place_test(&a, a.flight, &bc, def, b, builds, NULL, offer) < 0) {
				attempt_release(&a);
				json_decref(def);
				json_decref(builds);
				json_decref(rev);
				goto fail;
			}
			n++;
		}
		if (n && db_flight_update(a.flight) < 0) {
			attempt_release(&a);
			json_decref(def);
			json_decref(builds);
			json_decref(rev);
			goto fail;
		}
		if (n)
			log_info("flight %lld: job %s placed on %d board%s that came", a.flight,
				 a.job, n, n == 1 ? "" : "s");
		placed += n;
		attempt_release(&a);
		json_decref(def);
		json_decref(builds);
		json_decref(rev);
	}
	if (db_commit() < 0)
		goto out;
	json_array_foreach (offer, i, v)
		attempt_offer(json_integer_value(v));
	if (placed)
		park_wake(PARK_EVENTS, 0);
	rc = placed;
	goto out;
fail:
	db_rollback();
out:
	json_decref(ids);
	json_decref(boards);
	json_decref(offer);
	return rc;
}

void flight_starve(long long now, long long starve_ms)
{
	json_t *ids = db_attempts_unplaced(now - starve_ms), *v;
	char why[96];
	size_t i;

	snprintf(why, sizeof(why), "no eligible board within %lld s", starve_ms / 1000);
	json_array_foreach (ids, i, v) {
		struct attempt a;

		if (db_attempt_load(&a, json_integer_value(v)) < 0)
			continue;
		log_info("flight %lld: job %s starved: %s", a.flight, a.job, why);
		if (attempt_finish(&a, ATTEMPT_STARVED, why, NULL) < 0)
			log_warnx("attempt %lld: cannot end it starved", a.id);
		attempt_release(&a);
	}
	json_decref(ids);
}
