/* Patch submissions (submissions.h). */
#include "submissions.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db-attempts.h"
#include "db-flights.h"
#include "db-trees.h"
#include "flights.h"
#include "git-apply.h"
#include "json-util.h"
#include "log.h"
#include "mbox.h"
#include "trees.h"

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

int submission_create(json_t **reply, json_t **detail, const char *tree, const char *base,
		      const json_t *jobs, const char *data, size_t len, long long token_id,
		      char *err, size_t errlen)
{
	struct tree_conf *t = trees_find(tree);
	struct patch_series s;
	struct apply_error e;
	struct flight_spec spec;
	char ferr[256] = "";
	json_t *patches = NULL, *branch_jobs = NULL;
	const struct branch_conf *bc;
	char ref[64], out[GITREPO_HEX], base_commit[GITREPO_HEX], cur[GITREPO_HEX];
	long long id, tree_id, fid = 0;
	const json_t *j;
	size_t i;
	int rc;

	*reply = NULL;
	*detail = NULL;
	patch_series_init(&s);
	if (t == NULL) {
		snprintf(err, errlen, "no tree named \"%.64s\"", tree ? tree : "");
		rc = -ENOENT;
		goto out;
	}
	if (base == NULL || *base == '\0')
		base = t->nbranches ? t->branches[0].name : "HEAD";
	/* The jobs of the branch it is based on (else of the first branch). */
	bc = tree_conf_branch(t, base);
	if (bc == NULL && t->nbranches)
		bc = &t->branches[0];
	if (jobs == NULL && bc && bc->jobs) {
		branch_jobs = json_array();
		for (size_t k = 0; k < bc->njobs; k++)
			json_array_append_new(branch_jobs, json_string(bc->jobs[k]));
		jobs = branch_jobs;
	}
	json_array_foreach (jobs, i, j) {
		json_t *def = db_job_get(json_string_value(j));

		if (def == NULL) {
			snprintf(err, errlen, "no job named \"%.64s\"", json_string_value(j));
			rc = -EINVAL;
			goto out;
		}
		json_decref(def);
	}
	if (gitrepo_resolve(t->repo, base, base_commit, err, errlen) < 0) {
		snprintf(err, errlen, "base \"%.128s\" does not exist in tree %s", base, t->name);
		rc = -ENOENT;
		goto out;
	}
	if (patch_series_add(&s, "the series", data, len, err, errlen) < 0 ||
	    patch_series_finish(&s, err, errlen) < 0) {
		rc = -EINVAL;
		goto out;
	}
	/* The next number whose ref is free (a ref outlives a deleted row). */
	for (id = db_submission_next();; id++) {
		snprintf(ref, sizeof(ref), "refs/xenci/submissions/%lld", id);
		if (gitrepo_ref_head(t->repo, ref, cur) == -ENOENT)
			break;
	}
	rc = gitrepo_apply_series(out, t->repo, base_commit, &s, ref, &e);
	if (rc < 0) {
		snprintf(err, errlen, "%s", e.message);
		if (e.patch)
			*detail = json_pack("{s:i, s:s, s:i, s:s}", "patch", e.patch, "file",
					    e.file, "hunk", e.hunk, "message", e.message);
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	spec.tree = t->name;
	spec.commit = out;
	spec.ref = ref;
	spec.jobs = jobs;
	spec.kind = "submission";
	spec.priority = PRIO_SUBMISSION;
	if (flight_create(&fid, &spec, ferr, sizeof(ferr)) < 0) {
		snprintf(err, errlen, "no flight: %s", ferr);
		gitrepo_delete_ref(t->repo, ref);
		rc = -EIO;
		goto out;
	}
	patches = series_commits(t->repo, out, s.count);
	trees_revision_subject(t, out);
	if (db_tree_id(&tree_id, t->name) < 0 ||
	    db_submission_insert(id, tree_id, base, base_commit, out, ref, fid, patches, token_id) <
		0)
		log_warnx("submission %lld: not recorded", id);
	log_info("submission %lld: %zu patch%s on %s (%.12s) -> %.12s: flight %lld", id, s.count,
		 s.count == 1 ? "" : "es", base, base_commit, out, fid);
	*reply = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:O}", "submission", (json_int_t)id,
			   "flight", (json_int_t)fid, "tree", t->name, "base", base, "base_commit",
			   base_commit, "commit", out, "ref", ref, "patches", patches);
	rc = 0;
out:
	json_decref(patches);
	json_decref(branch_jobs);
	patch_series_release(&s);
	return rc;
}
