#include "attempts.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db-events.h"
#include "db-flights.h"
#include "db.h"
#include "json-util.h"
#include "known-issues.h"
#include "log.h"
#include "logs.h"
#include "park.h"
#include "perf.h"

#define OBSERVERS_MAX 16

static struct {
	attempt_observer_fn fn;
	void *user;
} observers[OBSERVERS_MAX];
static int nobservers;

int attempt_observe(attempt_observer_fn fn, void *user)
{
	if (nobservers == OBSERVERS_MAX)
		return -ENOSPC;
	observers[nobservers].fn = fn;
	observers[nobservers].user = user;
	nobservers++;
	return 0;
}

int attempt_event(const char *type, const struct attempt *a, enum attempt_state state,
		  const char *reason)
{
	json_t *d = json_pack("{s:I, s:s, s:s, s:I, s:i}", "attempt", (json_int_t)a->id, "kind",
			      a->kind, "state", attempt_state_name(state), "flight",
			      (json_int_t)a->flight, "number", a->number);
	long long id;
	int rc;

	if (a->board[0])
		json_object_set_new(d, "board", json_string(a->board));
	if (a->job[0])
		json_object_set_new(d, "job", json_string(a->job));
	json_object_set_new(d, "arch", json_string(a->arch));
	if (reason)
		json_object_set_new(d, "reason", json_string(reason));
	rc = db_event_insert(&id, type, a->id, a->board, d);
	json_decref(d);
	return rc;
}

int attempt_insert(long long *id, struct attempt *a)
{
	if (db_attempt_insert(id, a) < 0)
		return -EIO;
	a->id = *id;
	return attempt_event("attempt.created", a, a->state, NULL);
}

void attempt_offer(long long id)
{
	struct attempt a;

	if (db_attempt_load(&a, id) < 0)
		return;
	if (a.state == ATTEMPT_QUEUED) {
		struct claim_offer o = {0};

		if (!strcmp(a.kind, "build"))
			o.arch = a.arch;
		else
			o.board = a.board;
		park_offer(PARK_CLAIM, &o);
	}
	attempt_release(&a);
	park_wake(PARK_EVENTS, 0);
}

/* 1 when name is one of the artifacts that build's payloads step made (its
 * build_info's "payloads": Debian's dom0 kernel and the initrd), which a tree's
 * own artifact of the same name replaces. */
static int from_payloads(const json_t *build, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(json_object_get(build, "build_info"), "payloads"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			return 1;
	return 0;
}

/* What a test of flight on arch gets from the builds it waited for (ids): their
 * artifacts (a tree's own before a payload of the same name: a linux tree's
 * dom0-kernel replaces Debian's) and their build information (Xen's, with every
 * tree's under "trees" when there are several). Sets "artifacts" and
 * "build_info" in o. */
static void test_builds(json_t *o, const json_t *ids)
{
	json_t *arts = json_object(), *info = NULL, *trees = json_object(), *v, *art;
	const char *name, *tname;
	size_t i;
	int tree_made;

	if (json_array_size(ids) == 1) { /* one build: as it is */
		json_t *b = db_build_get(json_integer_value(json_array_get(ids, 0)));

		json_object_set(o, "artifacts",
				json_is_object(json_object_get(b, "artifacts"))
				    ? json_object_get(b, "artifacts")
				    : arts);
		json_object_set(o, "build_info", b ? json_object_get(b, "build_info") : NULL);
		if (json_object_get(o, "build_info") == NULL)
			json_object_set_new(o, "build_info", json_null());
		json_decref(b);
		json_decref(arts);
		json_decref(trees);
		return;
	}
	/* the payloads' first, then what the trees made over them */
	for (tree_made = 0; tree_made < 2; tree_made++) {
		json_array_foreach (ids, i, v) {
			json_t *b = db_build_get(json_integer_value(v));
			const json_t *bi = json_object_get(b, "build_info");

			json_object_foreach (json_object_get(b, "artifacts"), name, art)
				if (from_payloads(b, name) != tree_made &&
				    (tree_made || !json_object_get(arts, name)))
					json_object_set(arts, name, art);
			if (tree_made && json_is_object(bi)) {
				if (!strcmp(jstr(b, "kind", "xen"), "xen") && info == NULL)
					info = json_deep_copy(bi);
				json_object_foreach (json_object_get(bi, "trees"), tname, art)
					json_object_set(trees, tname, art);
			}
			json_decref(b);
		}
	}
	if (info == NULL)
		info = json_object();
	json_object_set(info, "trees", trees);
	json_object_del(info, "payloads");
	json_object_set_new(o, "artifacts", arts);
	json_object_set_new(o, "build_info", info);
	json_decref(trees);
}

json_t *attempt_payload(const struct attempt *a)
{
	json_t *o = json_object(), *rev, *build = NULL, *job;

	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "kind", json_string(a->kind));
	json_object_set_new(o, "board", a->board[0] ? json_string(a->board) : json_null());
	json_object_set_new(o, "arch", json_string(a->arch));
	json_object_set_new(o, "flight", a->flight ? json_integer(a->flight) : json_null());
	json_object_set_new(o, "number", json_integer(a->number));
	json_object_set_new(o, "lease_seconds", json_integer(ctl.cfg.lease_seconds));
	rev = a->flight ? db_flight_revision(a->flight) : NULL;
	if (!strcmp(a->kind, "test")) {
		json_t *ids = a->flight ? db_flight_arch_builds(a->flight, a->arch) : NULL;

		job = db_job_get(a->job);
		json_object_set_new(o, "job", job ? job : json_pack("{s:s}", "name", a->job));
		json_object_set_new(o, "health_check", json_boolean(a->health_check));
		if (a->build_id && !json_array_size(ids)) {
			json_decref(ids);
			ids = json_pack("[I]", (json_int_t)a->build_id);
		}
		if (a->build_id) {
			test_builds(o, ids);
		} else {
			json_object_set_new(o, "artifacts", json_object());
			json_object_set_new(o, "build_info", json_null());
		}
		json_decref(ids);
	} else if (!strcmp(a->kind, "build") && a->build_id) {
		/* what the flight's tests on this arch need built (NULL: the default) */
		json_t *wants;

		build = db_build_get(a->build_id);
		wants = build ? json_object_get(build, "wants") : NULL;
		json_object_set(o, "wants", wants ? wants : json_null());
		/* A build of one member of the tuple (schema/0075): its revision is
		 * that tree at that commit, whichever flights share it. */
		if (rev && jstr(build, "tree", NULL)) {
			json_object_set_new(rev, "tree", json_string(jstr(build, "tree", "")));
			json_object_set_new(rev, "commit", json_string(jstr(build, "commit", "")));
			json_object_set_new(rev, "describe", json_null());
			json_object_set_new(rev, "tuple",
					    json_pack("{s:{s:s, s:s}}", jstr(build, "tree", ""),
						      "commit", jstr(build, "commit", ""), "kind",
						      jstr(build, "kind", "xen")));
		}
		json_decref(build);
	}
	json_object_set_new(o, "revision", rev ? rev : json_null());
	return o;
}

int attempt_claim(json_t **payload, const char *agent, const json_t *boards, const json_t *arches)
{
	long long tid = 0, bid = 0, id;
	int have_t, have_b;
	struct attempt a;
	int rc = -EIO;

	*payload = NULL;
	have_t = json_array_size(boards) && db_attempt_pick_board(&tid, agent, boards) == 0;
	have_b =
	    arches && json_array_size(arches) && db_attempt_pick_build(&bid, agent, arches) == 0;
	if (!have_t && !have_b)
		return 0;
	if (have_t && have_b)
		id = db_attempt_rank(bid) < db_attempt_rank(tid) ? bid : tid;
	else
		id = have_t ? tid : bid;
	if (db_begin() < 0)
		return -EIO;
	if (db_attempt_load(&a, id) < 0)
		goto fail;
	if (db_attempt_claim(id, agent, now_ms() + ctl.cfg.lease_seconds * 1000LL) < 0)
		goto fail;
	if (a.board[0] && db_board_set_attempt(a.board, id) < 0)
		goto fail;
	snprintf(a.agent, sizeof(a.agent), "%s", agent);
	if (attempt_event("attempt.claimed", &a, ATTEMPT_CLAIMED, NULL) < 0)
		goto fail;
	if (db_commit() < 0)
		goto fail_nrb;
	*payload = attempt_payload(&a);
	attempt_release(&a);
	park_wake(PARK_EVENTS, 0);
	return 0;
fail:
	db_rollback();
fail_nrb:
	attempt_release(&a);
	return rc;
}

/* Queues the next attempt after an infra end, if there are tries left. */
static int attempt_retry(const struct attempt *a, long long *retry)
{
	struct attempt n;

	*retry = 0;
	if (a->number >= ctl.cfg.max_attempts || a->health_check)
		return 0;
	n = *a;
	n.result = NULL;
	n.number = a->number + 1;
	n.agent[0] = '\0';
	n.state = ATTEMPT_QUEUED;
	return attempt_insert(retry, &n);
}

/* Schedules a health check on a board that just turned unhealthy. */
static int attempt_health_check(const struct attempt *a, long long *hc)
{
	struct attempt n;

	memset(&n, 0, sizeof(n));
	n.flight = 0;
	snprintf(n.kind, sizeof(n.kind), "test");
	snprintf(n.job, sizeof(n.job), "%s",
		 ctl.cfg.health_check_job ? ctl.cfg.health_check_job : a->job);
	snprintf(n.board, sizeof(n.board), "%s", a->board);
	snprintf(n.arch, sizeof(n.arch), "%s", a->arch);
	n.state = ATTEMPT_QUEUED;
	n.number = a->health_check ? a->number + 1 : 1;
	n.priority = PRIO_HEALTH;
	n.health_check = 1;
	/* A health check of a test that needs artifacts reuses that test's build. */
	n.build_id = ctl.cfg.health_check_job ? 0 : a->build_id;
	return attempt_insert(hc, &n);
}

/* The build of a finished build attempt: pass, fail (the recipe failed: the same
 * commit fails again, and later flights take that answer) or infra (no verdict on
 * the code: lab trouble, a timeout, a refusal, a cancellation; never taken by a
 * later flight). Then the tests that wait for it: queued once every build they
 * wait for passed, cancelled when one of them did not. */
static int build_settle(const struct attempt *a, enum attempt_state verdict, const json_t *result,
			long long retry, json_t *offer)
{
	json_t *waiting, *w;
	size_t i;
	int pass = verdict == ATTEMPT_PASS;
	const char *why = verdict == ATTEMPT_REFUSED ? "build refused" : "build failed";

	if (!pass && retry)
		return 0; /* another try is queued */
	if (db_build_finish(a->build_id,
			    pass		      ? "pass"
			    : verdict == ATTEMPT_FAIL ? "fail"
						      : "infra",
			    pass ? json_object_get(result, "artifacts") : NULL,
			    pass ? json_object_get(result, "build_info") : NULL) < 0)
		return -EIO;
	waiting = db_build_waiting(a->build_id);
	json_array_foreach (waiting, i, w) {
		struct attempt t;
		long long id = jint(w, "id", 0);
		int go = !strcmp(jstr(w, "state", ""), "pass");

		if (!strcmp(jstr(w, "state", ""), "queued") || db_attempt_load(&t, id) < 0)
			continue; /* another build of its is still to come */
		if (db_attempt_set_state(id, go ? ATTEMPT_QUEUED : ATTEMPT_CANCELLED,
					 go ? NULL : why) < 0 ||
		    attempt_event(go ? "attempt.queued" : "attempt.finished", &t,
				  go ? ATTEMPT_QUEUED : ATTEMPT_CANCELLED, go ? NULL : why) < 0) {
			attempt_release(&t);
			json_decref(waiting);
			return -EIO;
		}
		if (go)
			json_array_append_new(offer, json_integer(id));
		attempt_release(&t);
	}
	json_decref(waiting);
	return 0;
}

int attempt_examine_settle(const struct attempt *a, enum attempt_state verdict, const char *reason,
			   const json_t *result)
{
	json_t *def, *facts = json_object_get(result, "facts");
	int rc = 0;

	if (!a->board[0] || strcmp(a->kind, "test") || !a->job[0])
		return 0;
	def = db_job_get(a->job);
	if (json_is_array(json_object_get(def, "facts"))) {
		if (verdict == ATTEMPT_PASS && json_is_object(facts))
			rc = db_board_examined(a->board, a->id, facts, reason);
		else if (verdict != ATTEMPT_CANCELLED)
			rc =
			    db_board_examined(a->board, a->id, NULL, reason ? reason : "no reason");
	}
	json_decref(def);
	return rc < 0 ? -EIO : 0;
}

int attempt_finish(struct attempt *a, enum attempt_state verdict, const char *reason,
		   const json_t *result)
{
	return attempt_finish_with(a, verdict, reason, result, NULL, NULL);
}

int attempt_finish_with(struct attempt *a, enum attempt_state verdict, const char *reason,
			const json_t *result, int (*extra)(void *ctx), void *ctx)
{
	json_t *offer = json_array(), *v;
	char *text = result ? json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	long long retry = 0, hc = 0;
	int unhealthy = 0, i, rc = -EIO;
	size_t k;

	if (db_begin() < 0)
		goto out;
	if (extra && extra(ctx) < 0)
		goto fail;
	if (db_attempt_finish(a->id, verdict, reason, text) < 0)
		goto fail;
	/* before the observers: the gate and the bisector read the label (triage.h) */
	if (known_issue_judge(a, verdict, reason, result) < 0)
		goto fail;
	assert(attempt_state_final(verdict));
	if (a->board[0] && a->state != ATTEMPT_WAITING && a->state != ATTEMPT_QUEUED) {
		if (db_board_set_attempt(a->board, 0) < 0)
			goto fail;
		if (verdict == ATTEMPT_INFRA) {
			if (db_board_infra(a->board, ctl.cfg.unhealthy_streak, &unhealthy) < 0)
				goto fail;
		} else if (verdict == ATTEMPT_PASS) {
			if (db_board_pass(a->board) < 0)
				goto fail;
		}
	}
	if (attempt_event("attempt.finished", a, verdict, reason) < 0)
		goto fail;
	if (verdict == ATTEMPT_INFRA || (verdict == ATTEMPT_TIMEOUT && !strcmp(a->kind, "build"))) {
		if (attempt_retry(a, &retry) < 0)
			goto fail;
		if (retry)
			json_array_append_new(offer, json_integer(retry));
	}
	if (unhealthy) {
		long long eid;
		json_t *d =
		    json_pack("{s:s, s:i}", "board", a->board, "streak", ctl.cfg.unhealthy_streak);

		if (db_event_insert(&eid, "board.unhealthy", 0, a->board, d) < 0) {
			json_decref(d);
			goto fail;
		}
		json_decref(d);
		if (attempt_health_check(a, &hc) < 0)
			goto fail;
		json_array_append_new(offer, json_integer(hc));
	} else if (a->health_check && verdict != ATTEMPT_PASS && verdict != ATTEMPT_CANCELLED &&
		   verdict != ATTEMPT_REFUSED) {
		/* A failed health check: the board stays unhealthy and is checked again. */
		if (attempt_health_check(a, &hc) < 0)
			goto fail;
		json_array_append_new(offer, json_integer(hc));
	}
	if (!strcmp(a->kind, "build") && a->build_id &&
	    build_settle(a, verdict, result, retry, offer) < 0)
		goto fail;
	if (a->flight && db_flight_update(a->flight) < 0)
		goto fail;
	/* Its `slower` verdict, judged once here for every later read (perf.h). */
	if (verdict == ATTEMPT_PASS && !strcmp(a->kind, "test") && perf_attempt_store(a->id) < 0)
		goto fail;
	if (db_commit() < 0)
		goto out;
	rc = 0;
	a->state = verdict;
	for (i = 0; i < nobservers; i++)
		observers[i].fn(a, verdict, observers[i].user);
	json_array_foreach (offer, k, v)
		attempt_offer(json_integer_value(v));
	park_wake(PARK_LOG, a->id);
	park_wake(PARK_EVENTS, 0);
	if (a->board[0]) {
		struct claim_offer o = {.board = a->board};

		park_offer(PARK_CLAIM, &o);
	}
	goto out;
fail:
	db_rollback();
out:
	free(text);
	json_decref(offer);
	return rc;
}

void attempt_sweep_leases(long long now)
{
	json_t *ids = db_attempts_lapsed(now), *v;
	size_t i;

	json_array_foreach (ids, i, v) {
		struct attempt a;

		if (db_attempt_load(&a, json_integer_value(v)) < 0)
			continue;
		log_info("attempt %lld on %s: lease lapsed", a.id, a.board[0] ? a.board : a.arch);
		if (attempt_finish(&a, ATTEMPT_INFRA, "lease lapsed", NULL) < 0)
			log_warnx("attempt %lld: cannot end the lapsed lease", a.id);
		attempt_release(&a);
	}
	json_decref(ids);
}

int attempt_cancel(long long id, const char *reason)
{
	struct attempt a;
	int rc;

	if (db_attempt_load(&a, id) < 0)
		return -ENOENT;
	if (attempt_state_final(a.state)) {
		attempt_release(&a);
		return -EALREADY;
	}
	rc = attempt_finish(&a, ATTEMPT_CANCELLED, reason, NULL);
	attempt_release(&a);
	return rc;
}

static int lease_live(const struct attempt *a)
{
	return attempt_state_leased(a->state) && a->lease_expires >= now_ms();
}

/* An attempt whose lease ran out but that the sweep has not reached yet is
 * lapsed now, so that the agent's answer does not depend on the sweep's timing. */
static void lapse_if_due(struct attempt *a)
{
	if (attempt_state_leased(a->state) && a->lease_expires < now_ms())
		attempt_finish(a, ATTEMPT_INFRA, "lease lapsed", NULL);
}

int attempt_lease_check(struct attempt *a)
{
	lapse_if_due(a);
	return lease_live(a) ? 0 : -ESTALE;
}

/* Renews a's lease (recording stage, or not when NULL) and, the first time,
 * moves it claimed -> running: inside the caller's transaction. */
static int renew(const struct attempt *a, const char *stage)
{
	if (db_attempt_renew(a->id, stage, now_ms() + ctl.cfg.lease_seconds * 1000LL) < 0)
		return -EIO;
	if (a->state == ATTEMPT_CLAIMED &&
	    attempt_event("attempt.running", a, ATTEMPT_RUNNING, NULL) < 0)
		return -EIO;
	return 0;
}

int attempt_heartbeat(struct attempt *a, const char *stage)
{
	long long eid;

	if (attempt_lease_check(a) < 0)
		return -ESTALE;
	if (db_begin() < 0)
		return -EIO;
	if (renew(a, stage) < 0)
		goto fail;
	if (stage) {
		json_t *d = json_pack("{s:I, s:s, s:s}", "attempt", (json_int_t)a->id, "board",
				      a->board, "stage", stage);
		int rc = db_event_insert(&eid, "attempt.stage", a->id, a->board, d);

		json_decref(d);
		if (rc < 0)
			goto fail;
	}
	if (db_commit() < 0)
		return -EIO;
	park_wake(PARK_EVENTS, 0);
	return 0;
fail:
	db_rollback();
	return -EIO;
}

int attempt_log_append(struct attempt *a, long long offset, const void *data, size_t len,
		       long long *length)
{
	struct logs_append la = {.fd = -1};
	int rc;

	*length = 0;
	rc = logs_append_begin(&la, a->id, offset, data, len);
	*length = la.length;
	if (rc < 0 || la.add == 0) /* a gap, a conflict, or a replay of bytes stored */
		goto out;
	rc = attempt_lease_check(a);
	if (rc < 0)
		goto out;
	rc = logs_append_commit(&la, data, LOG_MAX);
	*length = la.length;
	if (rc < 0)
		goto out;
	if (db_attempt_set_log_length(a->id, la.length) < 0) {
		rc = -EIO;
		goto out;
	}
	if (a->state == ATTEMPT_CLAIMED) {
		if (db_begin() < 0) {
			rc = -EIO;
			goto out;
		}
		if (renew(a, NULL) < 0 || db_commit() < 0) {
			db_rollback();
			rc = -EIO;
			goto out;
		}
		park_wake(PARK_EVENTS, 0);
	}
	park_wake(PARK_LOG, a->id);
out:
	logs_append_release(&la);
	return rc;
}
