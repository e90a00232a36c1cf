#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json-util.h"

static const char *const kinds[] = {"test", "build", NULL};
static const char *const verdicts[] = {"pass", "fail", "infra", "timeout", NULL};

static int check_hex(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		     const char *path)
{
	if (json_is_null(value) || sha256_is_hex(json_string_value(value)))
		return 0;
	vctx_error(ctx, parent, key, 0, path, "must be 64 lowercase hex digits or null");
	return -1;
}

static int check_revision(struct vctx *ctx, const json_t *parent, const char *key,
			  const json_t *value, const char *path)
{
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)value, k, v)
		if (!json_is_string(v) || !*k || json_string_length(v) > 64) {
			vctx_error(ctx, parent, key, 0, path,
				   "must map each tree to its commit (a string)");
			return -1;
		}
	return 0;
}

static int check_nullable_string(struct vctx *ctx, const json_t *parent, const char *key,
				 const json_t *value, const char *path)
{
	if (json_is_null(value) || (json_is_string(value) && json_string_length(value) <= 1024))
		return 0;
	vctx_error(ctx, parent, key, 0, path, "must be a string (at most 1024 bytes) or null");
	return -1;
}

/* Open: later versions may add members (external trees, variants' parameters). */
const struct vfield record_predicate_fields[] = {
    {.name = "attempt", .type = V_INT, .flags = V_REQUIRED, .min = 1, .max = 1LL << 53},
    {.name = "flight", .type = V_ANY},
    {.name = "kind", .type = V_STRING, .flags = V_REQUIRED, .choices = kinds},
    {.name = "number", .type = V_INT, .min = 0, .max = 1 << 30},
    {.name = "agent", .type = V_STRING, .flags = V_REQUIRED, .min = 1, .max = 64},
    {.name = "board", .type = V_ANY, .check = check_nullable_string},
    {.name = "board_class", .type = V_ANY, .check = check_nullable_string},
    {.name = "arch", .type = V_STRING, .max = 64},
    {.name = "job", .type = V_ANY, .check = check_nullable_string},
    {.name = "variant", .type = V_ANY, .check = check_nullable_string},
    {.name = "job_sha256", .type = V_ANY, .check = check_hex},
    {.name = "revision", .type = V_OBJECT, .flags = V_REQUIRED | V_OPEN, .check = check_revision},
    {.name = "boot_script_sha256", .type = V_ANY, .check = check_hex},
    {.name = "recipe_sha256", .type = V_ANY, .check = check_hex},
    {.name = "stages", .type = V_ARRAY, .items = V_OBJECT, .flags = V_OPEN, .max = 64},
    {.name = "testcases", .type = V_ARRAY, .items = V_OBJECT, .flags = V_OPEN, .max = 10000},
    {.name = "verdict", .type = V_STRING, .flags = V_REQUIRED, .choices = verdicts},
    {.name = "reason", .type = V_ANY, .check = check_nullable_string},
    {.name = "log_length", .type = V_INT, .flags = V_REQUIRED, .min = 0, .max = 1LL << 40},
    {.name = NULL},
};

int record_job_sha256(char hex[65], const json_t *job)
{
	char *text = dsse_canonical(job);
	int rc;

	if (text == NULL)
		return -ENOMEM;
	rc = sha256_hex(hex, text, strlen(text));
	free(text);
	return rc;
}

static json_t *subject(const char *name, const char *sha)
{
	return json_pack("{s:s, s:{s:s}}", "name", name, "digest", "sha256", sha);
}

static json_t *or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *copy_or_empty(const json_t *v)
{
	return json_is_array(v) ? json_deep_copy(v) : json_array();
}

json_t *record_statement(const json_t *attempt, const json_t *result,
			 const struct record_inputs *in)
{
	const json_t *job = json_object_get(attempt, "job");
	const json_t *rev = json_object_get(attempt, "revision");
	int build = !strcmp(jstr(attempt, "kind", "test"), "build");
	const json_t *arts = json_object_get(build ? result : attempt, "artifacts");
	json_t *subj, *pred, *st, *v, *revision = json_object();
	char job_sha[65];
	const char *k;
	char name[160];

	if (jint(attempt, "id", 0) <= 0) {
		json_decref(revision);
		return NULL;
	}
	subj = json_array();
	json_array_append_new(subj, subject(RECORD_LOG_SUBJECT, in->log_sha256));
	json_object_foreach ((json_t *)arts, k, v) {
		if (!sha256_is_hex(jstr(v, "sha256", "")))
			continue;
		snprintf(name, sizeof(name), RECORD_ARTIFACT_PREFIX "%s", k);
		json_array_append_new(subj, subject(name, jstr(v, "sha256", "")));
	}
	/* The revision as a tuple {tree: commit}: a flight of several trees adds its
	 * other members. */
	if (jstr(rev, "tree", NULL) && jstr(rev, "commit", NULL))
		json_object_set_new(revision, jstr(rev, "tree", ""),
				    json_string(jstr(rev, "commit", "")));
	json_object_foreach ((json_t *)json_object_get(rev, "trees"), k, v)
		if (json_is_string(v))
			json_object_set(revision, k, v);
	pred = json_pack(
	    "{s:I, s:O, s:s, s:I, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:s, s:o, s:I}",
	    "attempt", (json_int_t)jint(attempt, "id", 0), "flight",
	    json_object_get(attempt, "flight") ? json_object_get(attempt, "flight") : json_null(),
	    "kind", build ? "build" : "test", "number", (json_int_t)jint(attempt, "number", 1),
	    "agent", in->agent, "board", or_null(jstr(attempt, "board", NULL)), "board_class",
	    or_null(in->board_class), "arch", jstr(attempt, "arch", ""), "job",
	    or_null(jstr(job, "name", NULL)), "variant",
	    or_null(jstr(attempt, "variant", jstr(job, "variant", NULL))), "job_sha256",
	    json_null(), "revision", revision, "boot_script_sha256",
	    or_null(in->boot_script_sha256), "recipe_sha256", or_null(in->recipe_sha256), "stages",
	    copy_or_empty(json_object_get(result, "stages")), "testcases",
	    copy_or_empty(json_object_get(result, "testcases")), "verdict",
	    jstr(result, "verdict", "infra"), "reason", or_null(jstr(result, "reason", NULL)),
	    "log_length", (json_int_t)jint(result, "log_length", 0));
	if (pred == NULL) {
		json_decref(subj);
		return NULL;
	}
	if (json_is_object(job) && record_job_sha256(job_sha, job) == 0)
		json_object_set_new(pred, "job_sha256", json_string(job_sha));
	st = json_pack("{s:s, s:o, s:s, s:o}", "_type", INTOTO_STATEMENT_V1, "subject", subj,
		       "predicateType", build ? XENCI_PREDICATE_BUILD : XENCI_PREDICATE_ATTEMPT,
		       "predicate", pred);
	return st;
}

int record_sign(char **out, const struct sigkey *k, const json_t *statement)
{
	char *body = dsse_canonical(statement);
	int rc;

	*out = NULL;
	if (body == NULL)
		return -ENOMEM;
	rc = dsse_sign(out, k, DSSE_INTOTO_TYPE, body, strlen(body));
	free(body);
	return rc;
}

int record_parse(struct record *r, const char *text, size_t len, char *err, size_t errlen)
{
	struct vctx ctx;
	const char *type;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = dsse_parse(&r->env, text, len, err, errlen)) < 0)
		return rc;
	if ((rc = intoto_statement_parse(&r->statement, &r->env, err, errlen)) < 0)
		goto fail;
	type = jstr(r->statement, "predicateType", "");
	if (strcmp(type, XENCI_PREDICATE_ATTEMPT) != 0 &&
	    strcmp(type, XENCI_PREDICATE_BUILD) != 0) {
		snprintf(err, errlen, "predicateType %.80s is not a xenci record", type);
		rc = -EINVAL;
		goto fail;
	}
	r->predicate = json_object_get(r->statement, "predicate");
	vctx_init(&ctx, NULL, NULL);
	rc = validate_object(&ctx, record_predicate_fields, r->statement, "predicate", 0,
			     r->predicate, "predicate");
	if (rc < 0) {
		snprintf(err, errlen, "%.*s", (int)strcspn(buf_cstr(&ctx.text), "\n"),
			 buf_cstr(&ctx.text));
		vctx_release(&ctx);
		rc = -EINVAL;
		goto fail;
	}
	vctx_release(&ctx);
	if (intoto_subject_sha256(r->statement, RECORD_LOG_SUBJECT) == NULL) {
		snprintf(err, errlen, "no " RECORD_LOG_SUBJECT " subject");
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	record_release(r);
	return rc;
}

int record_verify(const struct record *r, const struct sigkey *k)
{
	return dsse_verify(&r->env, k);
}

void record_release(struct record *r)
{
	if (r == NULL)
		return;
	dsse_release(&r->env);
	json_decref(r->statement);
	memset(r, 0, sizeof(*r));
}
