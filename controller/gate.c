#include "gate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attempts.h"
#include "db-flights.h"
#include "db-trees.h"
#include "json-util.h"
#include "log.h"
#include "park.h"
#include "triage.h"
#include "watch.h"

static const struct trees_conf *gate_trees; /* NULL: not started, or stopped */
static int gate_paused; /* the watcher cancels flights it coalesced: no decision */

/* An attempt's outcome: its verdict when it has one, else its state. */
static const char *job_outcome(const json_t *j)
{
	const char *v = jstr(j, "verdict", NULL);

	return v ? v : jstr(j, "state", "queued");
}

static int is_running(const char *s)
{
	return attempt_state_open(attempt_state_of(s));
}

/* 1 when no later attempt of the same (job, board) is in jobs. */
static int is_newest(const json_t *jobs, const json_t *j)
{
	const char *job = jstr(j, "job", ""), *board = jstr(j, "board", "");
	long long n = jint(j, "number", 1);
	const json_t *o;
	size_t i;

	json_array_foreach (jobs, i, o) {
		if (!strcmp(jstr(o, "job", ""), job) && !strcmp(jstr(o, "board", ""), board) &&
		    jint(o, "number", 1) > n)
			return 0;
	}
	return 1;
}

enum gate_outcome gate_judge(struct gate_decision *d, const json_t *jobs, const char *const *gating,
			     size_t ngating)
{
	const char *waiting = NULL, *wait_board = NULL;
	size_t passed = 0;

	memset(d, 0, sizeof(*d));
	d->action = "waiting";
	if (ngating == 0) {
		snprintf(d->reason, sizeof(d->reason), "the branch has no gating jobs");
		return d->outcome = GATE_HOLD;
	}
	for (size_t g = 0; g < ngating; g++) {
		const json_t *j;
		size_t i, seen = 0;

		json_array_foreach (jobs, i, j) {
			const char *out, *board = jstr(j, "board", "?");

			if (strcmp(jstr(j, "job", ""), gating[g]) || !is_newest(jobs, j))
				continue;
			seen++;
			out = job_outcome(j);
			if (!strcmp(out, "pass"))
				continue;
			if (is_running(out)) {
				if (waiting == NULL) {
					waiting = gating[g];
					wait_board = board;
				}
				continue;
			}
			if (!strcmp(out, "starved"))
				snprintf(d->reason, sizeof(d->reason), "gating job %s starved: %s",
					 gating[g], jstr(j, "reason", "no eligible board in time"));
			else if (!strcmp(out, "infra"))
				snprintf(d->reason, sizeof(d->reason),
					 "gating job %s was not tested on %s: infra after %lld "
					 "attempts (%s)",
					 gating[g], board, jint(j, "number", 1),
					 jstr(j, "reason", "lab problem"));
			else
				snprintf(d->reason, sizeof(d->reason),
					 "gating job %s: %s on %s (attempt %lld)%s%s", gating[g],
					 out, board, jint(j, "id", jint(j, "attempt", 0)),
					 jstr(j, "reason", NULL) ? ": " : "",
					 jstr(j, "reason", ""));
			return d->outcome = GATE_HOLD;
		}
		if (seen == 0) {
			snprintf(d->reason, sizeof(d->reason),
				 "gating job %s did not run in this flight (no matching board)",
				 gating[g]);
			return d->outcome = GATE_HOLD;
		}
		passed += seen;
	}
	if (waiting) {
		snprintf(d->reason, sizeof(d->reason), "gating job %s has not finished on %s",
			 waiting, wait_board);
		return d->outcome = GATE_WAIT;
	}
	snprintf(d->reason, sizeof(d->reason), "all %zu gating job%s passed", passed,
		 passed == 1 ? "" : "s");
	return d->outcome = GATE_PASS;
}

enum gate_outcome gate_judge_triage(struct gate_decision *d, const struct triage *t,
				    const char *const *gating, size_t ngating)
{
	const struct triage_row *waiting = NULL;
	size_t passed = 0, tolerated = 0;
	char text[64];

	memset(d, 0, sizeof(*d));
	d->action = "waiting";
	if (ngating == 0) {
		snprintf(d->reason, sizeof(d->reason), "the branch has no gating jobs");
		return d->outcome = GATE_HOLD;
	}
	for (size_t g = 0; g < ngating; g++) {
		size_t seen = 0;

		for (size_t i = 0; i < t->n; i++) {
			const struct triage_row *r = &t->rows[i];

			if (strcmp(r->job, gating[g]))
				continue;
			seen++;
			switch (r->cls) {
			case TRIAGE_PASS:
				passed++;
				continue;
			case TRIAGE_PENDING:
				waiting = waiting ? waiting : r;
				continue;
			case TRIAGE_STILL_FAILING:
			case TRIAGE_NEVER_PASSED:
			case TRIAGE_HEISENBUG:
			case TRIAGE_ALLOWED:
				tolerated++;
				continue;
			case TRIAGE_REGRESSION:
			case TRIAGE_BROKEN:
				if (!r->blocking) { /* a known issue that does not block */
					tolerated++;
					continue;
				}
				break;
			default: /* starved, blocked, cancelled: not tested */
				break;
			}
			/* The board is named so that twins.c can hide a private one. */
			snprintf(d->reason, sizeof(d->reason),
				 "gating job %s on %s (%s): %s (%s, attempt %lld)", gating[g],
				 r->board_class[0] ? r->board_class : "no board",
				 r->board && r->board[0] ? r->board : "-",
				 triage_class_name(r->cls), triage_row_text(text, sizeof(text), r),
				 r->attempt);
			return d->outcome = GATE_HOLD;
		}
		if (seen == 0) {
			snprintf(d->reason, sizeof(d->reason),
				 "gating job %s did not run in this flight (no matching board)",
				 gating[g]);
			return d->outcome = GATE_HOLD;
		}
	}
	if (waiting) {
		snprintf(d->reason, sizeof(d->reason), "gating job %s on %s is pending",
			 waiting->job,
			 waiting->board && waiting->board[0] ? waiting->board : "no board");
		return d->outcome = GATE_WAIT;
	}
	if (tolerated)
		snprintf(d->reason, sizeof(d->reason),
			 "no regression: %zu gating job%s passed, %zu failed without blocking "
			 "(still failing, never passed, heisenbug, allowed or a known issue)",
			 passed, passed == 1 ? "" : "s", tolerated);
	else
		snprintf(d->reason, sizeof(d->reason), "all %zu gating job%s passed", passed,
			 passed == 1 ? "" : "s");
	return d->outcome = GATE_PASS;
}

/* Acts on decision d (judged): on GATE_PASS fast-forwards ref to commit. */
static int gate_advance(struct gate_decision *d, struct gitrepo *r, const char *ref,
			const char *commit)
{
	char err[200], why[160];
	int rc;

	if (gitrepo_ref_head(r, ref, d->from) < 0)
		d->from[0] = '\0';
	if (d->outcome == GATE_WAIT)
		return 0;
	if (d->outcome == GATE_HOLD) {
		d->action = "held";
		return 0;
	}
	snprintf(why, sizeof(why), "%.150s", d->reason);
	rc = gitrepo_fast_forward(r, ref, commit, "xenci: gate", err, sizeof(err));
	if (rc == -ENOENT) {
		/* The first tested commit makes the ref, as a first push to a new
		 * branch would; "" makes it a compare-and-swap against a creation
		 * meanwhile. */
		rc = gitrepo_set_ref(r, ref, commit, "", "xenci: gate", err, sizeof(err));
		if (rc == 0) {
			d->action = "advanced";
			snprintf(d->reason, sizeof(d->reason), "%s: %.200s created at %.12s", why,
				 ref, commit);
			return 0;
		}
	}
	if (rc == 1) {
		d->action = "advanced";
		snprintf(d->reason, sizeof(d->reason), "%s: %.200s advanced to %.12s", why, ref,
			 commit);
		return 0;
	}
	if (rc == 0) {
		d->action = "already";
		snprintf(d->reason, sizeof(d->reason), "%s: %.200s is already at %.12s", why, ref,
			 commit);
		return 0;
	}
	d->action = "held";
	d->outcome = GATE_HOLD;
	snprintf(d->reason, sizeof(d->reason), "%s, but %s", why, err);
	return rc == -EPERM || rc == -ENOENT || rc == -EAGAIN ? 0 : rc;
}

int gate_apply(struct gate_decision *d, struct gitrepo *r, const char *ref, const char *commit,
	       const json_t *jobs, const char *const *gating, size_t ngating)
{
	gate_judge(d, jobs, gating, ngating);
	return gate_advance(d, r, ref, commit);
}

void gate_check(long long flight_id)
{
	json_t *fb = db_flight_branch(flight_id);
	struct triage tr = {0};
	struct tree_conf *t;
	struct branch_conf *b;
	struct gate_decision d;

	if (fb == NULL)
		return;
	t = gate_trees ? trees_conf_find(gate_trees, jstr(fb, "tree", "")) : NULL;
	b = t ? tree_conf_branch(t, jstr(fb, "branch", "")) : NULL;
	if (b == NULL || b->gate_ref == NULL || db_gate_decided(flight_id, b->gate_ref))
		goto out;
	if (triage_flight(&tr, flight_id) < 0)
		goto out;
	gate_judge_triage(&d, &tr, (const char *const *)b->gate_jobs, b->ngate_jobs);
	if (gate_advance(&d, t->repo, b->gate_ref, jstr(fb, "commit", "")) < 0) {
		log_warnx("gate %s/%s: %s", t->name, b->name, d.reason);
		goto out;
	}
	if (d.outcome == GATE_WAIT)
		goto out;
	db_gate_record(jint(fb, "branch_id", 0), flight_id, b->gate_ref, jstr(fb, "commit", ""),
		       d.from, d.action, d.reason);
	log_info("gate %s/%s -> %s: flight %lld %s: %s", t->name, b->name, b->gate_ref, flight_id,
		 d.action, d.reason);
	park_wake(PARK_EVENTS, 0);
out:
	triage_release(&tr);
	json_decref(fb);
}

static void gate_observer(const struct attempt *a, enum attempt_state verdict, void *user)
{
	(void)verdict;
	(void)user;
	if (a->flight > 0 && !strcmp(a->kind, "test") && !gate_paused)
		gate_check(a->flight);
}

int gate_start(const struct trees_conf *trees)
{
	gate_trees = trees;
	return attempt_observe(gate_observer, NULL);
}

void gate_stop(void)
{
	gate_trees = NULL;
}

void gate_pause(int on)
{
	gate_paused = on;
}
