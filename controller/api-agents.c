/* The agent protocol: declare, claim, heartbeat, log, result (docs/api.md). */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents.h"
#include "attempts.h"
#include "ctl.h"
#include "db-artifacts.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db.h"
#include "hash.h"
#include "job-schema.h"
#include "json-util.h"
#include "logs.h"
#include "park.h"
#include "relay.h"
#include "reservations.h"
#include "policy.h"
#include "record.h"
#include "tlog.h"
#include "twins.h"
#include "xmalloc.h"

static int check_name_field(struct vctx *ctx, const json_t *parent, const char *key,
			    const json_t *value, const char *path)
{
	if (!auth_name_valid(json_string_value(value))) {
		vctx_error(ctx, parent, key, 0, path, "must be 1-64 of [A-Za-z0-9._-]");
		return -1;
	}
	return 0;
}

static const char *const visibilities[] = {"public", "private", NULL};

static const struct vfield board_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .check = check_name_field},
    {.name = "arch", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 32},
    {.name = "class", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "tags", .type = V_ARRAY, .items = V_STRING, .max = 64},
    {.name = "visibility", .type = V_STRING, .choices = visibilities},
    {.name = "description", .type = V_STRING, .max = 1024},
    {.name = "policy", .type = V_OBJECT, .fields = policy_fields},
    /* sha256 of the board file: a changed one is examined again */
    {.name = "file_sha256", .type = V_STRING, .min = 64, .max = 64},
    {.name = NULL},
};

static const struct vfield builder_fields[] = {
    {.name = "arches", .type = V_ARRAY, .flags = V_REQUIRED, .items = V_STRING, .max = 16},
    {.name = "untrusted", .type = V_BOOL},
    {.name = NULL},
};

static int check_builder(struct vctx *ctx, const json_t *parent, const char *key,
			 const json_t *value, const char *path)
{
	if (json_is_null(value))
		return 0;
	if (!json_is_object(value)) {
		vctx_error(ctx, parent, key, 0, path, "must be an object or null");
		return -1;
	}
	return validate_object(ctx, builder_fields, parent, key, 0, value, path);
}

const struct vfield api_declare_fields[] = {
    {.name = "protocol", .type = V_INT, .flags = V_REQUIRED},
    {.name = "agent_version", .type = V_STRING, .max = 128},
    {.name = "builder", .type = V_ANY, .check = check_builder},
    /* The agent's public signing key (PEM): pending until an admin approves it. */
    {.name = "key", .type = V_STRING, .max = 4096},
    {.name = "boards",
     .type = V_ARRAY,
     .flags = V_REQUIRED,
     .items = V_OBJECT,
     .fields = board_fields,
     .max = 1024},
    {.name = NULL},
};

int api_agent_declare(struct req *r)
{
	const char *agent = r->param[0];
	json_t *boards = NULL;
	char err[256];
	int rc;

	if (req_need_agent(r, agent) < 0)
		return 0;
	if (json_is_integer(json_object_get(r->json, "protocol")) &&
	    jint(r->json, "protocol", 0) != PROTOCOL_VERSION)
		return reply_error(r, 409, "protocol version mismatch",
				   json_pack("{s:[i]}", "supported", PROTOCOL_VERSION));
	if (req_validate(r, api_declare_fields) < 0)
		return 0;
	if (!auth_name_valid(agent))
		return reply_errorf(r, 400, "invalid agent name", "%s", "[A-Za-z0-9._-]{1,64}");
	rc = tlog_agent_key_present(agent, jstr(r->json, "key", NULL));
	if (rc == -EINVAL)
		return reply_errorf(r, 400, "invalid body", "%s", "key: not an Ed25519 public key");
	if (rc == -EEXIST)
		return reply_errorf(r, 409, "key belongs to another agent", "%s", agent);
	if (rc < 0)
		return rc;
	rc = agent_declare(&boards, agent, jstr(r->json, "agent_version", NULL),
			   json_object_get(r->json, "builder"), json_object_get(r->json, "boards"),
			   err, sizeof(err));
	if (rc == -EEXIST)
		return reply_errorf(r, 409, "board belongs to another agent", "%s", err);
	if (rc == -EINVAL)
		return reply_errorf(r, 400, "invalid body", "%s", err);
	if (rc < 0)
		return rc;
	return reply_json(r, 200,
			  json_pack("{s:i, s:o}", "protocol", PROTOCOL_VERSION, "boards", boards));
}

const struct vfield api_claim_fields[] = {
    {.name = "boards", .type = V_ARRAY, .flags = V_REQUIRED, .items = V_STRING, .max = 1024},
    {.name = "build", .type = V_BOOL},
    {.name = "wait_ms", .type = V_INT, .min = 0, .max = 60000},
    {.name = NULL},
};

/* A parked claim: the agent's free boards and build arches, and the attempt
 * once one was claimed for it. */
struct claim_wait {
	char agent[AGENT_NAME_MAX + 1];
	json_t *boards;	 /* the agent's free boards */
	json_t *arches;	 /* builder arches when it takes builds, else NULL */
	json_t *payload; /* the reply once there is one: {"attempt"} or {"command"} */
};

static void claim_wait_free(void *arg)
{
	struct claim_wait *c = arg;

	if (c == NULL)
		return;
	/* A claim made for a connection that went away before the reply: its
	 * lease will lapse and the attempt will be queued again. */
	json_decref(c->payload);
	json_decref(c->boards);
	json_decref(c->arches);
	free(c);
}

static int json_has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

/* A command for one of an agent's free boards: a console relay to open, else a
 * reservation's power action. New reference, or NULL. */
static json_t *board_command_take(const json_t *boards)
{
	json_t *c = relay_command_take(boards);

	return c ? c : reservation_command_take(boards);
}

/* The park's offer callback (what: a struct claim_offer from attempts.c): tries
 * to claim when the offer fits the agent's boards or arches. 1 when it got work. */
static int claim_try(void *arg, const void *what)
{
	struct claim_wait *c = arg;
	const struct claim_offer *o = what;
	json_t *payload = NULL;

	if (c->payload)
		return 0;
	if (o->board && !json_has_string(c->boards, o->board))
		return 0;
	if (o->arch && (c->arches == NULL || !json_has_string(c->arches, o->arch)))
		return 0;
	if ((payload = board_command_take(c->boards)) != NULL) {
		c->payload = json_pack("{s:o}", "command", payload);
		return 1;
	}
	if (attempt_claim(&payload, c->agent, c->boards, c->arches) < 0 || payload == NULL)
		return 0;
	c->payload = json_pack("{s:o}", "attempt", payload);
	return 1;
}

int api_agent_claim(struct req *r)
{
	const char *agent = r->param[0];
	struct tlog_refusal refusal;
	struct claim_wait *c;
	json_t *boards, *arches = NULL, *payload = NULL, *b;
	char owner[AGENT_NAME_MAX + 1];
	struct viewer v;
	long long wait;
	size_t i;

	if (r->state) { /* woken: work came, or the time ran out */
		c = park_arg(r->state);
		if (c->payload) {
			payload = c->payload;
			c->payload = NULL;
			return reply_json(r, 200, payload);
		}
		return reply_data(r, 204, NULL, "", 0);
	}
	if (req_need_agent(r, agent) < 0)
		return 0;
	if (req_validate(r, api_claim_fields) < 0)
		return 0;
	boards = json_object_get(r->json, "boards");
	req_viewer(r, &v);
	json_array_foreach (boards, i, b) {
		/* Another agent's private board is as one that does not exist. */
		if (db_board_owner(owner, sizeof(owner), json_string_value(b)) < 0 ||
		    !twin_board_visible(json_string_value(b), &v))
			return reply_errorf(r, 404, "unknown board", "board %s was not declared",
					    json_string_value(b));
		if (strcmp(owner, agent))
			return reply_errorf(r, 403, "forbidden",
					    "board %s belongs to another agent",
					    json_string_value(b));
	}
	db_agent_seen(agent);
	/* Work whose result could not be taken is not handed out. */
	if (tlog_agent_refused(agent, &refusal) < 0)
		return reply_errorf(r, refusal.status, refusal.error, "%s", refusal.detail);
	if (jbool(r->json, "build", 0)) {
		arches = db_agent_builder(agent);
		if (!json_is_array(arches)) {
			json_decref(arches);
			arches = NULL;
		}
	}
	/* a console or power action for a free board (a reservation's) goes before any work */
	if ((payload = board_command_take(boards)) != NULL) {
		json_decref(arches);
		return reply_json(r, 200, json_pack("{s:o}", "command", payload));
	}
	if (attempt_claim(&payload, agent, boards, arches) < 0) {
		json_decref(arches);
		return -EIO;
	}
	if (payload) {
		json_decref(arches);
		return reply_json(r, 200, json_pack("{s:o}", "attempt", payload));
	}
	wait = jint(r->json, "wait_ms", 30000);
	if (wait > ctl.cfg.claim_max_ms)
		wait = ctl.cfg.claim_max_ms;
	if (wait <= 0) {
		json_decref(arches);
		return reply_data(r, 204, NULL, "", 0);
	}
	c = xcalloc(1, sizeof(*c));
	memcpy(c->agent, agent, strnlen(agent, sizeof(c->agent) - 1)); /* c is zeroed */
	c->boards = json_incref(boards);
	c->arches = arches;
	if (park_wait(r, PARK_CLAIM, 0, now_ms() + wait, claim_try, c, claim_wait_free) == NULL) {
		claim_wait_free(c); /* shutting down */
		return reply_data(r, 204, NULL, "", 0);
	}
	return 0;
}

/* Loads attempt {id} and checks that the caller's agent holds it. Replies and
 * returns -1 otherwise. */
static int load_own_attempt(struct req *r, struct attempt *a)
{
	long long id;

	memset(a, 0, sizeof(*a));
	if (req_need_id(r, 0, &id) < 0)
		return -1;
	if (r->auth.role == ROLE_NONE) {
		reply_error(r, 401, "authentication required", json_string("a bearer token"));
		return -1;
	}
	if (r->auth.role != ROLE_AGENT && r->auth.role != ROLE_ADMIN) {
		reply_error(r, 403, "forbidden", json_string("needs an agent token"));
		return -1;
	}
	if (db_attempt_load(a, id) < 0) {
		reply_errorf(r, 404, "not found", "no attempt %lld", id);
		return -1;
	}
	if (r->auth.role == ROLE_AGENT && strcmp(a->agent, r->auth.agent)) {
		struct viewer v;

		/* Another agent's attempt on a private board is as one that does not
		 * exist. */
		req_viewer(r, &v);
		if (!twin_board_visible(a->board, &v))
			reply_errorf(r, 404, "not found", "no attempt %lld", id);
		else
			reply_errorf(r, 403, "forbidden", "attempt %lld is not agent %s's", id,
				     r->auth.agent);
		attempt_release(a);
		return -1;
	}
	return 0;
}

const struct vfield api_heartbeat_fields[] = {
    {.name = "stage", .type = V_STRING, .min = 1, .max = 64},
    {.name = NULL},
};

int api_attempt_heartbeat(struct req *r)
{
	struct attempt a;
	int rc;

	if (load_own_attempt(r, &a) < 0)
		return 0;
	if (req_validate(r, api_heartbeat_fields) < 0)
		goto out;
	rc = attempt_heartbeat(&a, jstr(r->json, "stage", NULL));
	if (rc == -ESTALE) {
		reply_errorf(r, 410, "lease lapsed", "attempt %lld is %s", a.id,
			     attempt_state_name(a.state));
		goto out;
	}
	if (rc < 0) {
		attempt_release(&a);
		return rc;
	}
	reply_json(
	    r, 200,
	    json_pack("{s:i, s:s}", "lease_seconds", ctl.cfg.lease_seconds, "state", "running"));
out:
	attempt_release(&a);
	return 0;
}

int api_attempt_log_put(struct req *r)
{
	struct attempt a;
	long long offset, length = 0;
	int rc = 0;

	if (load_own_attempt(r, &a) < 0)
		return 0;
	if (req_query(r, "offset") == NULL) {
		reply_error(r, 400, "bad query parameter", json_string("offset is required"));
		goto out;
	}
	if (req_query_int(r, "offset", 0, LOG_MAX, &offset) < 0)
		goto out;
	rc = attempt_log_append(&a, offset, r->body.data, r->body.len, &length);
	if (rc == 0) {
		reply_json(r, 200, json_pack("{s:I}", "length", (json_int_t)length));
	} else if (rc == -ERANGE) {
		reply_error(r, 409, "log gap", json_pack("{s:I}", "length", (json_int_t)length));
		rc = 0;
	} else if (rc == -EEXIST) {
		reply_error(r, 409, "log conflict",
			    json_pack("{s:I, s:s}", "length", (json_int_t)length, "message",
				      "the chunk differs from the bytes stored at its offset"));
		rc = 0;
	} else if (rc == -ESTALE) {
		reply_errorf(r, 410, "lease lapsed", "attempt %lld is %s", a.id,
			     attempt_state_name(a.state));
		rc = 0;
	} else if (rc == -EFBIG) {
		reply_error(r, 413, "log too large",
			    json_pack("{s:I, s:I}", "length", (json_int_t)length, "max",
				      (json_int_t)LOG_MAX));
		rc = 0;
	}
out:
	attempt_release(&a);
	return rc;
}

static const char *const verdicts[] = {"pass", "fail", "infra", "timeout", "refused", NULL};
static const char *const stage_results[] = {"pass", "fail", "timeout", "skipped", NULL};
static const char *const testcase_results[] = {"pass", "fail", "skip", NULL};

static const struct vfield stage_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "result", .type = V_STRING, .flags = V_REQUIRED, .choices = stage_results},
    {.name = "seconds", .type = V_NUMBER},
    {.name = NULL},
};

static const struct vfield testcase_fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 256},
    {.name = "result", .type = V_STRING, .flags = V_REQUIRED, .choices = testcase_results},
    {.name = NULL},
};

static const struct vfield artifact_ref_fields[] = {
    {.name = "sha256", .type = V_STRING, .flags = V_REQUIRED, .min = 64, .max = 64},
    {.name = "size", .type = V_INT, .flags = V_REQUIRED, .min = 0, .max = ARTIFACT_MAX},
    {.name = NULL},
};

static int check_artifacts(struct vctx *ctx, const json_t *parent, const char *key,
			   const json_t *value, const char *path)
{
	const char *k;
	json_t *v;
	char p[256];
	int rc = 0;

	if (json_object_size(value) > 32) {
		vctx_error(ctx, parent, key, 0, path, "too many artifacts (at most 32)");
		return -1;
	}
	json_object_foreach ((json_t *)value, k, v) {
		snprintf(p, sizeof(p), "%s.%s", path, k);
		if (!json_is_object(v)) {
			vctx_error(ctx, value, k, 0, p, "must be {sha256, size}");
			rc = -1;
		} else if (validate_object(ctx, artifact_ref_fields, value, k, 0, v, p) < 0) {
			rc = -1;
		} else if (!sha256_is_hex(jstr(v, "sha256", ""))) {
			vctx_error(ctx, v, "sha256", 0, p, "must be 64 lowercase hex digits");
			rc = -1;
		}
	}
	return rc;
}

static int check_facts(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		       const char *path)
{
	const char *k;
	json_t *f;

	(void)parent;
	(void)key;
	if (json_object_size(v) > 64) {
		vctx_error(ctx, parent, key, 0, path, "at most 64 facts");
		return -1;
	}
	json_object_foreach ((json_t *)v, k, f) {
		if (!job_property_name_ok(k)) {
			vctx_error(ctx, v, k, 0, path, "a fact's name must match [a-z0-9_]{1,64}");
			return -1;
		}
		if (!job_property_value_ok(f)) {
			vctx_error(
			    ctx, v, k, 0, path,
			    "a fact is a boolean, a number or a string of at most 256 bytes");
			return -1;
		}
	}
	return 0;
}

/* What `xenci repro` needs of a test attempt (docs/api.md, the result's "repro"). */
static const struct vfield repro_fields[] = {
    {.name = "artifacts", .type = V_OBJECT, .check = check_artifacts},
    {.name = "job", .type = V_OBJECT, .help = "the job as judged"},
    {.name = "boot_file", .type = V_STRING, .min = 1, .max = 128},
    {.name = "boot_script", .type = V_STRING, .max = 256 * 1024, .help = "base64"},
    {.name = "qemu_argv", .type = V_ARRAY, .items = V_STRING, .max = 256},
    {.name = NULL},
};

const struct vfield api_result_fields[] = {
    {.name = "verdict", .type = V_STRING, .flags = V_REQUIRED, .choices = verdicts},
    {.name = "reason", .type = V_STRING, .max = 1024},
    {.name = "stages", .type = V_ARRAY, .items = V_OBJECT, .fields = stage_fields, .max = 64},
    {.name = "testcases",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = testcase_fields,
     .max = 10000},
    {.name = "log_length", .type = V_INT, .min = 0, .max = LOG_MAX},
    {.name = "artifacts", .type = V_OBJECT, .check = check_artifacts},
    {.name = "build_info", .type = V_OBJECT},
    /* What a commissioning job found (docs/jobs.md, facts): {name: scalar}. */
    {.name = "facts", .type = V_OBJECT, .check = check_facts},
    /* The DSSE envelope's text, as the agent signed it (docs/traceability.md). */
    {.name = "record", .type = V_STRING, .min = 2, .max = DSSE_MAX},
    {.name = "repro", .type = V_OBJECT, .fields = repro_fields},
    {.name = NULL},
};

struct result_details {
	const struct attempt *a;
	enum attempt_state verdict;
	const json_t *result;
	int logged; /* the record is appended to the log */
};

/* Writes a result's stages and test cases (inside attempt_finish_with's transaction). */
static int result_details(void *ctx)
{
	const struct result_details *d = ctx;
	json_t *v;
	size_t i;

	json_array_foreach (json_object_get(d->result, "stages"), i, v) {
		json_t *secs = json_object_get(v, "seconds");

		if (db_attempt_stage(d->a->id, (int)i, jstr(v, "name", ""), jstr(v, "result", ""),
				     secs ? json_number_value(secs) : -1) < 0)
			return -EIO;
	}
	json_array_foreach (json_object_get(d->result, "testcases"), i, v)
		if (db_attempt_testcase(d->a->id, jstr(v, "name", ""), jstr(v, "result", "")) < 0)
			return -EIO;
	if (attempt_examine_settle(d->a, d->verdict, jstr(d->result, "reason", NULL), d->result) <
	    0)
		return -EIO;
	if (d->logged)
		return tlog_append(d->a->id, jstr(d->result, "record", NULL));
	return 0;
}

int api_attempt_result(struct req *r)
{
	struct tlog_refusal refusal;
	struct result_details details;
	enum attempt_state verdict;
	struct attempt a;
	json_t *stored, *v;
	const char *k;
	long long size;
	int rc = 0;

	if (load_own_attempt(r, &a) < 0)
		return 0;
	if (req_validate(r, api_result_fields) < 0)
		goto out;
	if (attempt_state_final(a.state) && a.result) {
		stored = json_loads(a.result, 0, NULL);
		if (json_equal(stored, r->json))
			reply_json(r, 200,
				   json_pack("{s:s, s:b}", "state", attempt_state_name(a.state),
					     "replay", 1));
		else
			reply_errorf(r, 409, "attempt already finished",
				     "attempt %lld ended %s with another result", a.id,
				     attempt_state_name(a.state));
		json_decref(stored);
		goto out;
	}
	if (attempt_lease_check(&a) < 0) {
		reply_errorf(r, 410, "lease lapsed", "attempt %lld is %s", a.id,
			     attempt_state_name(a.state));
		goto out;
	}
	verdict = attempt_state_of(jstr(r->json, "verdict", "")); /* validated: a final one */
	if (!strcmp(a.kind, "build") && verdict == ATTEMPT_PASS) {
		json_object_foreach (json_object_get(r->json, "artifacts"), k, v) {
			if (db_artifact_get(jstr(v, "sha256", ""), &size) < 0) {
				reply_errorf(r, 422, "artifact not uploaded",
					     "%s (%s) must be uploaded first", k,
					     jstr(v, "sha256", ""));
				goto out;
			}
			if (size != jint(v, "size", -1)) {
				reply_errorf(r, 422, "artifact size mismatch",
					     "%s is %lld bytes, not %lld", k, size,
					     jint(v, "size", -1));
				goto out;
			}
		}
		if (!json_object_size(json_object_get(r->json, "artifacts"))) {
			reply_error(r, 422, "no artifacts",
				    json_string("a passing build must list its artifacts"));
			goto out;
		}
	}
	/* The signed record must be this agent's, of this attempt and of what it sent. */
	rc = tlog_check(&a, r->json, jstr(r->json, "record", NULL), &refusal);
	if (rc == -EPERM) {
		reply_errorf(r, refusal.status, refusal.error, "%s", refusal.detail);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	/* Stages, test cases, the verdict and the record's leaf in one transaction,
	 * before the reply. */
	details.a = &a;
	details.verdict = verdict;
	details.result = r->json;
	details.logged = rc == 0;
	rc = 0;
	if (attempt_finish_with(&a, verdict, jstr(r->json, "reason", NULL), r->json, result_details,
				&details) < 0) {
		rc = -EIO;
		goto out;
	}
	reply_json(r, 200,
		   json_pack("{s:s, s:b}", "state", attempt_state_name(a.state), "replay", 0));
out:
	attempt_release(&a);
	return rc;
}
