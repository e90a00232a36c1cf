#include "flights.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "ctl.h"
#include "db-boards.h"
#include "db-events.h"
#include "db-flights.h"
#include "db.h"
#include "json-util.h"
#include "park.h"

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
	return 1;
}

static json_t *select_jobs(const json_t *names, char *err, size_t errlen)
{
	json_t *all = db_jobs_list(), *out, *j, *n;
	size_t i, k;

	if (names == NULL)
		return all;
	out = json_array();
	json_array_foreach (names, i, n) {
		int found = 0;

		json_array_foreach (all, k, j)
			if (!strcmp(jstr(j, "name", ""), json_string_value(n))) {
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

int flight_create(long long *id, const struct flight_spec *spec, char *err, size_t errlen)
{
	json_t *jobs, *boards = NULL, *builds = json_object(), *offer = json_array();
	json_t *j, *b, *v;
	long long tree_id, rev_id, fid = 0, aid, eid;
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
	    db_flight_insert(&fid, rev_id, spec->ref, spec->kind, spec->priority) < 0)
		goto fail;
	json_array_foreach (jobs, i, j) {
		const json_t *def = json_object_get(j, "definition");
		const char *name = jstr(j, "name", "");
		int needs_build = json_array_size(json_object_get(def, "artifacts")) > 0;

		json_array_foreach (boards, k, b) {
			struct attempt a;
			const char *arch = jstr(b, "arch", "");
			json_t *bid;

			if (!jint(b, "online", 1) || !strcmp(jstr(b, "state", ""), "offline"))
				continue;
			if (spec->board && strcmp(spec->board, jstr(b, "name", "")))
				continue;
			if (!job_matches_board(def, b))
				continue;
			memset(&a, 0, sizeof(a));
			a.flight = fid;
			a.priority = spec->priority;
			a.number = 1;
			snprintf(a.arch, sizeof(a.arch), "%s", arch);
			if (needs_build) {
				bid = json_object_get(builds, arch);
				if (bid == NULL) {
					struct attempt ba = a;
					long long build_id, baid;

					if (db_build_insert(&build_id, fid, arch) < 0)
						goto fail;
					ba.build_id = build_id;
					snprintf(ba.kind, sizeof(ba.kind), "build");
					ba.state = ATTEMPT_QUEUED;
					if (attempt_insert(&baid, &ba) < 0)
						goto fail;
					json_array_append_new(offer, json_integer(baid));
					bid = json_integer(build_id);
					json_object_set_new(builds, arch, bid);
				}
				a.build_id = json_integer_value(bid);
			}
			snprintf(a.kind, sizeof(a.kind), "test");
			snprintf(a.job, sizeof(a.job), "%s", name);
			snprintf(a.board, sizeof(a.board), "%s", jstr(b, "name", ""));
			a.state = needs_build ? ATTEMPT_WAITING : ATTEMPT_QUEUED;
			if (attempt_insert(&aid, &a) < 0)
				goto fail;
			if (!needs_build)
				json_array_append_new(offer, json_integer(aid));
		}
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
