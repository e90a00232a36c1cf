/* Admin and user writes: tokens, cancelling, flights. */
#include "api.h"

#include <errno.h>
#include <string.h>

#include "attempts.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db-events.h"
#include "db-flights.h"
#include "db-tokens.h"
#include "flights.h"
#include "hash.h"
#include "json-util.h"
#include "tlog.h"
#include "trees.h"
#include "twins.h"

static const char *const roles[] = {"admin", "agent", "user", NULL};

const struct vfield api_token_fields[] = {
    {.name = "role", .type = V_STRING, .flags = V_REQUIRED, .choices = roles},
    {.name = "agent", .type = V_STRING, .min = 1, .max = AGENT_NAME_MAX},
    {.name = "name", .type = V_STRING, .max = 128},
    /* With role agent: the agent's public signing key (PEM), bound at once. */
    {.name = "agent_key", .type = V_STRING, .max = 4096},
    {.name = "reserve", .type = V_BOOL, .help = "the right to reserve boards (role user)"},
    {.name = NULL},
};

int api_token_create(struct req *r)
{
	char token[TOKEN_MAX], keyid[65];
	const char *agent;
	enum role role;
	long long id;

	if (req_need_role(r, ROLE_ADMIN) < 0 || req_validate(r, api_token_fields) < 0)
		return 0;
	role = role_parse(jstr(r->json, "role", ""));
	agent = jstr(r->json, "agent", NULL);
	if ((role == ROLE_AGENT) != (agent != NULL))
		return reply_error(r, 400, "invalid body",
				   json_string("\"agent\" is required with role agent, and only"
					       " with it"));
	if (agent && !auth_name_valid(agent))
		return reply_error(r, 400, "invalid body",
				   json_string("agent: must be 1-64 of [A-Za-z0-9._-]"));
	if (jstr(r->json, "agent_key", NULL) && !agent)
		return reply_error(r, 400, "invalid body",
				   json_string("\"agent_key\" goes with role agent"));
	keyid[0] = '\0';
	if (agent && jstr(r->json, "agent_key", NULL)) {
		int rc = tlog_agent_key_bind(agent, jstr(r->json, "agent_key", NULL), keyid);

		if (rc == -EINVAL)
			return reply_error(r, 400, "invalid body",
					   json_string("agent_key: not an Ed25519 public key"));
		if (rc == -EEXIST)
			return reply_errorf(r, 409, "key belongs to another agent", "%s", keyid);
		if (rc < 0)
			return rc;
	}
	if (jbool(r->json, "reserve", 0) && role != ROLE_USER)
		return reply_error(r, 400, "invalid body",
				   json_string("\"reserve\" is a user's right (admins have it)"));
	if (auth_token_create(token, sizeof(token), &id, role, agent, jstr(r->json, "name", NULL)) <
	    0)
		return -EIO;
	if (jbool(r->json, "reserve", 0) && db_token_set_reserve(id, 1) < 0)
		return -EIO;
	return reply_json(r, 201,
			  json_pack("{s:s, s:I, s:s, s:s?, s:s?, s:b}", "token", token, "id",
				    (json_int_t)id, "role", role_name(role), "agent", agent,
				    "keyid", keyid[0] ? keyid : NULL, "reserve",
				    jbool(r->json, "reserve", 0)));
}

int api_token_delete(struct req *r)
{
	long long id;

	if (req_need_role(r, ROLE_ADMIN) < 0 || req_need_id(r, 0, &id) < 0)
		return 0;
	if (db_token_revoke(id) < 0)
		return reply_errorf(r, 404, "not found", "no live token %lld", id);
	return reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

const struct vfield api_cancel_fields[] = {
    {.name = "reason", .type = V_STRING, .max = 256},
    {.name = NULL},
};

int api_attempt_cancel(struct req *r)
{
	long long id;
	int rc;

	if (req_need_role(r, ROLE_ADMIN) < 0 || req_need_id(r, 0, &id) < 0)
		return 0;
	if (req_validate(r, api_cancel_fields) < 0)
		return 0;
	rc = attempt_cancel(id, jstr(r->json, "reason", "cancelled by an admin"));
	if (rc == -ENOENT)
		return reply_errorf(r, 404, "not found", "no attempt %lld", id);
	if (rc == -EALREADY)
		return reply_errorf(r, 409, "attempt already finished", "attempt %lld", id);
	if (rc < 0)
		return rc;
	return reply_json(r, 200,
			  json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "cancelled"));
}

static const char *const kinds[] = {"push", "submission", "bisect", "manual", NULL};
static const char *const priorities[] = {"gate", "bisect", "submission", "background", NULL};

static int check_commit(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path)
{
	const char *s = json_string_value(value);

	if (strlen(s) != 40 || strspn(s, "0123456789abcdef") != 40) {
		vctx_error(ctx, parent, key, 0, path, "must be 40 lowercase hex digits");
		return -1;
	}
	return 0;
}

const struct vfield api_flight_fields[] = {
    {.name = "tree", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "commit", .type = V_STRING, .flags = V_REQUIRED, .check = check_commit},
    {.name = "ref", .type = V_STRING, .min = 1, .max = 256},
    {.name = "describe", .type = V_STRING, .max = 256},
    {.name = "jobs", .type = V_ARRAY, .items = V_STRING, .max = 256},
    {.name = "priority", .type = V_STRING, .choices = priorities},
    {.name = "kind", .type = V_STRING, .choices = kinds},
    {.name = "board", .type = V_STRING, .min = 1, .max = 64},
    {.name = NULL},
};

int api_flight_create(struct req *r)
{
	struct flight_spec spec;
	char err[256] = "";
	/* The reply shows what its creator may see (a user: public boards only). */
	struct viewer v = {r->auth.role == ROLE_ADMIN, NULL}, asker;
	const char *kind, *prio;
	long long id;
	int rc;

	if (req_need_role(r, ROLE_USER) < 0 || req_validate(r, api_flight_fields) < 0)
		return 0;
	memset(&spec, 0, sizeof(spec));
	spec.tree = jstr(r->json, "tree", "");
	spec.commit = jstr(r->json, "commit", "");
	spec.ref = jstr(r->json, "ref", NULL);
	spec.describe = jstr(r->json, "describe", NULL);
	spec.jobs = json_object_get(r->json, "jobs");
	spec.board = jstr(r->json, "board", NULL);
	spec.user = r->auth.name[0] ? r->auth.name : NULL;
	req_viewer(r, &asker);
	spec.viewer = &asker;
	kind = jstr(r->json, "kind", "manual");
	spec.kind = kind;
	prio = jstr(r->json, "priority", NULL);
	if (prio == NULL)
		prio = !strcmp(kind, "push")	 ? "gate"
		       : !strcmp(kind, "bisect") ? "bisect"
						 : "submission";
	spec.priority = priority_parse(prio);
	if (r->auth.role != ROLE_ADMIN) {
		/* A user queues what the lab watches, at a user's priority; an admin may
		 * queue anything (a tree the controller does not watch, a gate). */
		if (spec.priority < PRIO_SUBMISSION || strcmp(kind, "push") == 0 ||
		    strcmp(kind, "bisect") == 0)
			return reply_errorf(r, 403, "forbidden",
					    "a user's flights are of kind manual or submission, at "
					    "priority submission or background");
		if (trees_commit_check(spec.tree, spec.commit, err, sizeof(err)) < 0)
			return reply_error(r, 422, "no such tree or commit", json_string(err));
	}
	rc = trees_flight_create(&id, &spec, NULL, err, sizeof(err));
	if (rc == -ENOENT)
		return reply_error(r, 422, "unknown job", json_string(err));
	if (rc < 0)
		return rc;
	return reply_json(r, 201, twin_flight(id, &v));
}
