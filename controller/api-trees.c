/* The HTTP handlers of trees: the builders' sources (manifest, blobs), patch
 * submissions, pokes and push webhooks, and the branch matrix. Each parses,
 * calls one function of trees.c and replies. ctl.lock is held. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-trees.h"
#include "ctl.h"
#include "git-repo.h"
#include "http-files.h"
#include "http-work.h"
#include "json-util.h"
#include "mbox.h"
#include "submissions.h"
#include "trees.h"
#include "db-trees.h"
#include "twins.h"

#define BLOB_MAX (256 * 1024 * 1024)

static struct tree_conf *tree_or_404(struct req *r, const char *name)
{
	struct tree_conf *t = trees_find(name);

	if (t == NULL)
		reply_errorf(r, 404, "no such tree", "no tree named \"%.64s\"", name);
	return t;
}

int api_trees(struct req *r)
{
	return reply_json(r, 200, json_pack("{s:o}", "trees", twin_trees()));
}

int api_tree_manifest(struct req *r)
{
	struct tree_conf *t = tree_or_404(r, r->param[0]);
	json_t *files;
	char err[256];
	int rc;

	if (t == NULL)
		return 0;
	rc = gitrepo_manifest(&files, t->repo, r->param[1], err, sizeof(err));
	if (rc == -EINVAL)
		return reply_error(r, 400, "not a commit id", json_string(err));
	if (rc < 0)
		return reply_error(r, 404, "no such commit", json_string(err));
	return reply_json(
	    r, 200,
	    json_pack("{s:s, s:s, s:o}", "tree", t->name, "commit", r->param[1], "files", files));
}

int api_tree_blob(struct req *r)
{
	struct tree_conf *t = tree_or_404(r, r->param[0]);
	char dir[4096];
	long long size;
	int rc, fd;

	if (t == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s/blobs", ctl.cfg.data);
	rc = gitrepo_blob_open(&fd, &size, t->repo, r->param[1], dir, BLOB_MAX);
	if (rc == -EINVAL)
		return reply_errorf(r, 400, "not a blob id", "\"%.64s\"", r->param[1]);
	if (rc == -EFBIG)
		return reply_errorf(r, 413, "blob too large", "larger than %d MiB", BLOB_MAX >> 20);
	if (rc == -ENOENT)
		return reply_errorf(r, 404, "no such blob", "%.64s", r->param[1]);
	if (rc < 0)
		ctl_store_failed(-rc, dir); /* the blob's file could not be written */
	if (rc < 0)
		return rc;
	(void)size;
	return http_files_serve_fd(r, fd, "application/octet-stream");
}

static json_t *split_jobs(const char *s)
{
	json_t *jobs = json_array();
	const char *p = s;

	while (p && *p) {
		size_t n = strcspn(p, ",");

		if (n > 0 && n < 128) {
			char name[128];

			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			json_array_append_new(jobs, json_string(name));
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return jobs;
}

static void submission_work(void *s)
{
	submission_run(s);
}

/* Parks the request while the series is applied (http-work.h), then replies. */
int api_submission_create(struct req *r)
{
	struct submission *sub = req_work_done(r);
	json_t *reply = NULL, *detail = NULL, *jobs = NULL;
	const char *q = req_query(r, "jobs"), *why;
	char err[1024];
	int rc;

	if (sub == NULL) {
		if (req_need_role(r, ROLE_USER) < 0)
			return 0;
		if (r->too_big)
			return reply_errorf(r, 413, "series too large", "at most %d MiB",
					    MBOX_MAX_SIZE >> 20);
		if (q && *q)
			jobs = split_jobs(q);
		rc = submission_prepare(&sub, req_query(r, "tree"), req_query(r, "base"), jobs,
					r->body.data ? r->body.data : "", r->body.len,
					r->auth.token_id, err, sizeof(err));
		json_decref(jobs);
		if (rc == -EINVAL)
			return reply_error(r, 422, "not a valid patch series", json_string(err));
		if (rc < 0)
			return reply_error(r, 404, "no such tree or base", json_string(err));
		return req_work(r, submission_work, sub, submission_free);
	}
	rc = submission_result(sub, &reply, &detail, &why);
	if (rc == 0)
		return reply_json(r, 201, reply);
	if (rc == -EPERM)
		return reply_error(r, 422, "patch does not apply",
				   detail ? detail : json_string(why));
	json_decref(detail);
	if (rc == -EINVAL)
		return reply_error(r, 422, "not a valid patch series", json_string(why));
	return reply_error(r, 500, "submission failed", json_string(why));
}

int api_submission(struct req *r)
{
	long long id;
	json_t *s;

	if (req_need_id(r, 0, &id) < 0)
		return 0;
	s = db_submission_get(id);
	if (s == NULL)
		return reply_errorf(r, 404, "no such submission", "%lld", id);
	return reply_json(r, 200, s);
}

static int poke_reply(struct req *r, const char *tree, const char *branch, const char *why)
{
	json_t *reply = NULL;
	char err[256];
	int rc;

	rc = trees_poke(&reply, tree, branch, why, err, sizeof(err));
	if (rc == 0)
		return reply_json(r, 200, reply);
	if (rc == -ENOENT)
		return reply_error(r, 404, "not a watched branch", json_string(err));
	return reply_error(r, 502, "cannot read the tree", json_string(err));
}

int api_poke(struct req *r)
{
	static const struct vfield fields[] = {
	    {.name = "tree", .type = V_STRING, .max = 64},
	    {.name = "branch", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 256},
	    {NULL},
	};

	if (req_need_role(r, ROLE_USER) < 0 || req_validate(r, fields) < 0)
		return 0;
	return poke_reply(r, jstr(r->json, "tree", NULL), jstr(r->json, "branch", ""), "poke");
}

/* A push hook: the user token as a bearer token, or (for hosts that cannot set
 * that header) in X-Gitlab-Token or ?token=. The body is the host's push event:
 * every common one has "ref": "refs/heads/BRANCH". */
int api_webhook(struct req *r)
{
	const char *tok = req_header(r, "X-Gitlab-Token"), *ref;
	char err[256];
	json_t *body;

	if (tok == NULL)
		tok = req_query(r, "token");
	if (r->auth.role < ROLE_USER && tok && strlen(tok) < TOKEN_MAX) {
		char header[TOKEN_MAX + 16];

		snprintf(header, sizeof(header), "Bearer %s", tok);
		if (auth_check(&r->auth, header) < 0)
			return reply_error(r, 401, "bad token", NULL);
	}
	if (req_need_role(r, ROLE_USER) < 0)
		return 0;
	body = json_parse(r->body.data ? r->body.data : "", r->body.len, err, sizeof(err));
	if (body == NULL)
		return reply_error(r, 400, "not a JSON push event", json_string(err));
	ref = jstr(body, "ref", NULL);
	if (ref == NULL || strncmp(ref, "refs/heads/", 11) || strlen(ref) > GITREPO_MAX_REV) {
		json_decref(body);
		return reply_error(r, 422, "not a branch push",
				   json_string("the event has no \"ref\": \"refs/heads/...\""));
	}
	{
		char branch[GITREPO_MAX_REV + 1];
		int rc;

		snprintf(branch, sizeof(branch), "%s", ref + 11);
		json_decref(body);
		rc = poke_reply(r, req_query(r, "tree"), branch, "webhook");
		return rc;
	}
}

int api_branch(struct req *r)
{
	long long limit;
	const char *by = req_query(r, "by");
	struct viewer v = {r->auth.role == ROLE_ADMIN,
			   r->auth.role == ROLE_AGENT ? r->auth.agent : NULL};
	struct twin_matrix m;
	struct buf b = BUF_INIT(0);
	int rc;

	if (req_query_int(r, "limit", 20, 200, &limit) < 0)
		return 0;
	if (twin_matrix_read(&m, req_query(r, "tree"), r->param[0], (int)(limit ? limit : 20),
			     by && !strcmp(by, "class"), 1, &v) < 0)
		return reply_errorf(r, 404, "no such branch", "\"%.128s\" is not watched",
				    r->param[0]);
	twin_matrix_json(&m, &b);
	twin_matrix_release(&m);
	rc = reply_json_buf(r, 200, &b);
	buf_release(&b);
	return rc;
}
