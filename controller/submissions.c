/* Patch submissions (submissions.h). */
#include "submissions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-attempts.h"
#include "db-flights.h"
#include "db-tokens.h"
#include "db-trees.h"
#include "flights.h"
#include "git-apply.h"
#include "json-util.h"
#include "log.h"
#include "mbox.h"
#include "trees.h"
#include "xmalloc.h"

/* [{subject, author, commit}] of the n commits ending at tip, oldest first. */
static json_t *series_commits(struct gitrepo *r, const char *tip, size_t n)
{
	json_t *list = json_array();
	char cur[GITREPO_HEX];

	snprintf(cur, sizeof(cur), "%s", tip);
	for (size_t i = 0; i < n; i++) {
		struct gitrepo_commit c;
		char who[600];

		if (gitrepo_commit_info(&c, r, cur) < 0)
			break;
		snprintf(who, sizeof(who), "%s <%s>", c.author, c.email);
		json_array_insert_new(list, 0,
				      json_pack("{s:s, s:s, s:s}", "subject", c.summary, "author",
						who, "commit", c.id));
		snprintf(cur, sizeof(cur), "%s", c.parent);
	}
	return list;
}

struct submission {
	struct tree_conf *t;
	const char *data; /* borrowed from the request (http-work.h) */
	size_t len;
	long long token_id;
	long long id;
	char base[GITREPO_MAX_REV + 1];
	char base_commit[GITREPO_HEX];
	char ref[64];
	json_t *jobs; /* the jobs to run, or NULL: every job */
	/* The outcome (submission_result). */
	int rc;
	json_t *reply, *detail;
	char err[1024];
};

/* The next submission number after those handed out (ctl.lock held): two
 * submissions applied at once never take the same one. */
static long long next_id;

int submission_prepare(struct submission **out, const char *tree, const char *base,
		       const json_t *jobs, const char *data, size_t len, long long token_id,
		       char *err, size_t errlen)
{
	struct tree_conf *t = trees_find(tree);
	struct submission *sub;
	const struct branch_conf *bc;
	char cur[GITREPO_HEX];
	const json_t *j;
	size_t i;

	*out = NULL;
	if (t == NULL) {
		snprintf(err, errlen, "no tree named \"%.64s\"", tree ? tree : "");
		return -ENOENT;
	}
	if (base == NULL || *base == '\0')
		base = t->nbranches ? t->branches[0].name : "HEAD";
	if (strlen(base) > GITREPO_MAX_REV) {
		snprintf(err, errlen, "base \"%.128s...\": longer than %d bytes", base,
			 GITREPO_MAX_REV);
		return -ENOENT;
	}
	sub = xcalloc(1, sizeof(*sub));
	sub->t = t;
	sub->data = data;
	sub->len = len;
	sub->token_id = token_id;
	snprintf(sub->base, sizeof(sub->base), "%s", base);
	/* The jobs of the branch it is based on (else of the first branch). */
	bc = tree_conf_branch(t, base);
	if (bc == NULL && t->nbranches)
		bc = &t->branches[0];
	if (jobs == NULL && bc && bc->jobs) {
		sub->jobs = json_array();
		for (size_t k = 0; k < bc->njobs; k++)
			json_array_append_new(sub->jobs, json_string(bc->jobs[k]));
	} else if (jobs) {
		sub->jobs = json_deep_copy(jobs);
	}
	json_array_foreach (sub->jobs, i, j) {
		json_t *def = db_job_get(json_string_value(j));

		if (def == NULL) {
			snprintf(err, errlen, "no job named \"%.64s\"", json_string_value(j));
			submission_free(sub);
			return -EINVAL;
		}
		json_decref(def);
	}
	if (gitrepo_resolve(t->repo, base, sub->base_commit, err, errlen) < 0) {
		snprintf(err, errlen, "base \"%.128s\" does not exist in tree %s", base, t->name);
		submission_free(sub);
		return -ENOENT;
	}
	/* The next number whose ref is free (a ref outlives a deleted row). */
	if (next_id < db_submission_next())
		next_id = db_submission_next();
	for (sub->id = next_id;; sub->id++) {
		snprintf(sub->ref, sizeof(sub->ref), "refs/xenci/submissions/%lld", sub->id);
		if (gitrepo_ref_head(t->repo, sub->ref, cur) == -ENOENT)
			break;
	}
	next_id = sub->id + 1;
	*out = sub;
	return 0;
}

void submission_run(struct submission *sub)
{
	struct tree_conf *t = sub->t;
	struct patch_series s;
	struct apply_error e;
	struct flight_spec spec;
	char ferr[256] = "";
	json_t *patches = NULL;
	char out[GITREPO_HEX], user[TOKEN_NAME_MAX + 1];
	long long tree_id, fid = 0;
	int rc;

	/* The long part, without ctl.lock: the series split and applied. */
	patch_series_init(&s);
	if (patch_series_add(&s, "the series", sub->data, sub->len, sub->err, sizeof(sub->err)) <
		0 ||
	    patch_series_finish(&s, sub->err, sizeof(sub->err)) < 0) {
		sub->rc = -EINVAL;
		patch_series_release(&s);
		return;
	}
	rc = gitrepo_apply_series(out, t->repo, sub->base_commit, &s, sub->ref, &e);
	if (rc < 0) {
		snprintf(sub->err, sizeof(sub->err), "%s", e.message);
		if (e.patch)
			sub->detail = json_pack("{s:i, s:s, s:i, s:s}", "patch", e.patch, "file",
						e.file, "hunk", e.hunk, "message", e.message);
		sub->rc = rc;
		patch_series_release(&s);
		return;
	}
	ctl_lock();
	memset(&spec, 0, sizeof(spec));
	spec.tree = t->name;
	spec.commit = out;
	spec.ref = sub->ref;
	spec.jobs = sub->jobs;
	spec.kind = "submission";
	spec.priority = PRIO_SUBMISSION;
	/* who submitted it, for the boards' policies (users) */
	if (db_token_name(user, sizeof(user), sub->token_id) == 0 && user[0])
		spec.user = user;
	if (trees_flight_create(&fid, &spec, NULL, ferr, sizeof(ferr)) < 0) {
		snprintf(sub->err, sizeof(sub->err), "no flight: %s", ferr);
		gitrepo_delete_ref(t->repo, sub->ref);
		sub->rc = -EIO;
		goto out;
	}
	patches = series_commits(t->repo, out, s.count);
	trees_revision_subject(t, out);
	if (db_tree_id(&tree_id, t->name) < 0 ||
	    db_submission_insert(sub->id, tree_id, sub->base, sub->base_commit, out, sub->ref, fid,
				 patches, sub->token_id) < 0)
		log_warnx("submission %lld: not recorded", sub->id);
	log_info("submission %lld: %zu patch%s on %s (%.12s) -> %.12s: flight %lld", sub->id,
		 s.count, s.count == 1 ? "" : "es", sub->base, sub->base_commit, out, fid);
	sub->reply =
	    json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:O}", "submission", (json_int_t)sub->id,
		      "flight", (json_int_t)fid, "tree", t->name, "base", sub->base, "base_commit",
		      sub->base_commit, "commit", out, "ref", sub->ref, "patches", patches);
	sub->rc = 0;
out:
	ctl_unlock();
	json_decref(patches);
	patch_series_release(&s);
}

int submission_result(struct submission *sub, json_t **reply, json_t **detail, const char **err)
{
	*reply = sub->reply;
	*detail = sub->detail;
	sub->reply = sub->detail = NULL;
	*err = sub->err;
	return sub->rc;
}

void submission_free(void *p)
{
	struct submission *sub = p;

	if (sub == NULL)
		return;
	json_decref(sub->jobs);
	json_decref(sub->reply);
	json_decref(sub->detail);
	free(sub);
}
