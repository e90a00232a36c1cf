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

/* Adds the artifacts job def needs to what build build_id must make (its
 * "wants", sent to the builder with the build attempt). */
static int build_want(long long build_id, const json_t *def)
{
	json_t *build = db_build_get(build_id), *wants, *n, *w;
	size_t i, k;
	int changed = 0, rc = 0;

	if (build == NULL)
		return -EIO;
	wants = json_array();
	if (json_is_array(json_object_get(build, "wants")))
		json_array_extend(wants, json_object_get(build, "wants"));
	json_array_foreach (json_object_get(def, "artifacts"), i, n) {
		int have = 0;

		json_array_foreach (wants, k, w)
			have |= json_equal(w, n);
		if (!have) {
			json_array_append(wants, n);
			changed = 1;
		}
	}
	if (changed && db_build_set_wants(build_id, wants) < 0)
		rc = -EIO;
	json_decref(wants);
	json_decref(build);
	return rc;
}

/* Puts the test attempt a of job (def) on board b of flight fid: a build of b's
 * arch first when the job needs one (builds: arch → build id, shared by the
 * flight's tests; found in the store when not there yet). a->id set: that
 * unplaced attempt is placed (db_attempt_place); else a new one is inserted.
 * Attempts to offer after the commit go to offer. Inside the caller's transaction. */
static int place_test(struct attempt *a, long long fid, const json_t *def, const json_t *b,
		      json_t *builds, json_t *offer)
{
	const char *arch = jstr(b, "arch", "");
	int needs_build = json_array_size(json_object_get(def, "artifacts")) > 0;
	long long id = a->id;
	enum attempt_state state;
	json_t *bid;

	snprintf(a->arch, sizeof(a->arch), "%s", arch);
	a->build_id = 0;
	if (needs_build) {
		bid = json_object_get(builds, arch);
		if (bid == NULL) {
			struct attempt ba = *a;
			long long build_id, baid;
			int rc = db_build_find(&build_id, fid, arch);

			if (rc == -ENOENT) {
				if (db_build_insert(&build_id, fid, arch) < 0)
					return -EIO;
				ba.build_id = build_id;
				ba.job[0] = ba.board[0] = '\0';
				snprintf(ba.kind, sizeof(ba.kind), "build");
				ba.state = ATTEMPT_QUEUED;
				if (attempt_insert(&baid, &ba) < 0)
					return -EIO;
				json_array_append_new(offer, json_integer(baid));
			} else if (rc < 0) {
				return -EIO;
			}
			bid = json_integer(build_id);
			json_object_set_new(builds, arch, bid);
		}
		a->build_id = json_integer_value(bid);
		if (build_want(a->build_id, def) < 0)
			return -EIO;
	}
	snprintf(a->kind, sizeof(a->kind), "test");
	snprintf(a->board, sizeof(a->board), "%s", jstr(b, "name", ""));
	a->state = needs_build ? ATTEMPT_WAITING : ATTEMPT_QUEUED;
	if (needs_build) {
		/* A build that already ended: its tests are settled by now. */
		json_t *build = db_build_get(a->build_id);
		const char *bs = jstr(build, "state", "queued");

		if (!strcmp(bs, "pass"))
			a->state = ATTEMPT_QUEUED;
		else if (!strcmp(bs, "fail"))
			a->state = ATTEMPT_CANCELLED;
		json_decref(build);
	}
	state = a->state;
	if (state == ATTEMPT_CANCELLED)
		a->state = ATTEMPT_WAITING; /* and cancelled below, as build_settle does */
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
	json_t *j, *b, *v;
	long long tree_id, rev_id, fid = 0, eid;
	struct policy_subject subj = {spec->kind, spec->tree, spec->ref, spec->user};
	size_t i, k;
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
			if (place_test(&a, fid, def, b, builds, offer) < 0)
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
		json_array_foreach (boards, k, b) {
			if (!def || !board_eligible(def, b, NULL, &subj))
				continue;
			/* The first board takes the unplaced attempt, the others new ones. */
			a.id = n ? 0 : unplaced;
			if (place_test(&a, a.flight, def, b, builds, offer) < 0) {
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
