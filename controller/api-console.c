/* A reserved board's console, relayed both ways (docs/api.md, "Console"): the
 * holder's client attaches, reads and writes; the board's agent posts what the
 * console prints and polls for what the holder typed. */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "park.h"
#include "relay.h"
#include "sigkey.h"

#define RELAY_WAIT_MAX_MS 25000 /* below RELAY_IDLE_MS: a parked read keeps a client alive */

const struct vfield api_console_input_fields[] = {
    {.name = "data",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .max = RELAY_CHUNK_MAX * 4 / 3 + 4,
     .help = "base64"},
    {.name = NULL},
};

const struct vfield api_console_boot_fields[] = {
    {.name = "attempt", .type = V_INT, .min = 1, .max = 1LL << 52, .help = "boot what it booted"},
    {.name = "flight", .type = V_INT, .min = 1, .max = 1LL << 52, .help = "boot its builds"},
    {.name = NULL},
};

static const char *const boot_verdicts[] = {"pass", "fail", "timeout", "infra", "refused", NULL};

const struct vfield api_console_output_fields[] = {
    {.name = "offset", .type = V_INT, .flags = V_REQUIRED, .min = 0, .max = 1LL << 52},
    {.name = "data",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .max = RELAY_CHUNK_MAX * 4 / 3 + 4,
     .help = "base64"},
    {.name = "status", .type = V_STRING, .max = 200},
    {.name = "verdict", .type = V_STRING, .choices = boot_verdicts, .help = "the boot's end"},
    {.name = "reason", .type = V_STRING, .max = 500},
    {.name = NULL},
};

/* One errno of relay.h as its reply. */
static int reply_relay_error(struct req *r, int rc, const char *err)
{
	switch (rc) {
	case -ENOENT:
		return reply_errorf(r, 404, "not found", "%s", err);
	case -EACCES:
		return reply_errorf(r, 403, "forbidden", "%s", err);
	case -EPIPE:
		return reply_errorf(r, 410, "detached", "%s", err);
	case -ENOBUFS:
		return reply_errorf(r, 429, "input buffer full", "%s", err);
	case -EAGAIN:
		return reply_errorf(r, 503, "too many console sessions", "%s", err);
	case -EHOSTDOWN:
		return reply_errorf(r, 409, "board offline", "%s", err);
	case -ERANGE:
		return reply_errorf(r, 409, "offset", "%s", err);
	case -EINVAL:
		return reply_errorf(r, 400, "invalid body", "%s", err);
	default:
		return rc;
	}
}

/* ?session=N, required: 0 and *session, or -1 after replying 400. */
static int need_session(struct req *r, long long *session)
{
	if (req_query(r, "session") == NULL) {
		reply_error(r, 400, "bad query parameter", json_string("session is required"));
		return -1;
	}
	return req_query_int(r, "session", 0, 1LL << 52, session);
}

/* The base64 member "data" of r->json into *data (malloc'd): 0 or -1 after a 400. */
static int body_data(struct req *r, unsigned char **data, size_t *len)
{
	const char *s = jstr(r->json, "data", "");

	if (base64_decode(data, len, s, strlen(s)) < 0 || *len > RELAY_CHUNK_MAX) {
		reply_errorf(r, 400, "invalid body", "data: base64 of at most %d bytes",
			     RELAY_CHUNK_MAX);
		return -1;
	}
	return 0;
}

int api_console_attach(struct req *r)
{
	char err[512];
	json_t *out = NULL;
	int rc;

	if (req_need_role(r, ROLE_USER) < 0)
		return 0;
	rc = relay_attach(&out, r->param[0], &r->auth, err, sizeof(err));
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	return reply_json(r, 201, out);
}

int api_console_read(struct req *r)
{
	long long session, offset, wait, seq;
	char err[512];
	json_t *out = NULL;
	int rc;

	if (req_need_role(r, ROLE_USER) < 0 || need_session(r, &session) < 0 ||
	    req_query_int(r, "offset", 0, 1LL << 52, &offset) < 0 ||
	    req_query_int(r, "status_seq", 0, 1LL << 52, &seq) < 0 ||
	    req_query_int(r, "wait_ms", 0, RELAY_WAIT_MAX_MS, &wait) < 0)
		return 0;
	rc = relay_read(&out, r->param[0], session, &r->auth, offset, seq, err, sizeof(err));
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	/* nothing new: wait for it once (a woken read answers what it has) */
	if (rc == 0 && wait > 0 && r->state == NULL &&
	    park_wait(r, PARK_CONSOLE, relay_key_client(session), now_ms() + wait, NULL, NULL,
		      NULL)) {
		json_decref(out);
		return 0;
	}
	return reply_json(r, 200, out);
}

int api_console_input(struct req *r)
{
	long long session;
	unsigned char *data = NULL;
	size_t len;
	char err[512];
	int rc;

	if (req_need_role(r, ROLE_USER) < 0 || need_session(r, &session) < 0 ||
	    req_validate(r, api_console_input_fields) < 0 || body_data(r, &data, &len) < 0)
		return 0;
	rc = relay_write(r->param[0], session, &r->auth, data, len, err, sizeof(err));
	free(data);
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	return reply_json(r, 202, json_pack("{s:I}", "queued", (json_int_t)len));
}

int api_console_boot(struct req *r)
{
	long long session, attempt, flight;
	char err[512];
	json_t *out = NULL;
	int rc;

	if (req_need_role(r, ROLE_USER) < 0 || need_session(r, &session) < 0 ||
	    req_validate(r, api_console_boot_fields) < 0)
		return 0;
	attempt = jint(r->json, "attempt", 0);
	flight = jint(r->json, "flight", 0);
	if ((attempt > 0) == (flight > 0))
		return reply_errorf(r, 400, "invalid body", "%s", "one of attempt and flight");
	rc = relay_boot(&out, r->param[0], session, &r->auth, attempt, flight, err, sizeof(err));
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	return reply_json(r, 202, out);
}

int api_console_detach(struct req *r)
{
	long long session;
	char err[512];
	int rc;

	/* without a session: the caller's relay of the board, whichever it is */
	if (req_need_role(r, ROLE_USER) < 0 ||
	    req_query_int(r, "session", 0, 1LL << 52, &session) < 0)
		return 0;
	rc = relay_detach(r->param[0], session, &r->auth, "detached by its user", err, sizeof(err));
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	return reply_json(r, 200,
			  json_pack("{s:s, s:I, s:s}", "board", r->param[0], "session",
				    (json_int_t)session, "state", "detached"));
}

int api_agent_console_put(struct req *r)
{
	long long session, length;
	unsigned char *data = NULL;
	size_t len;
	const char *verdict;
	char err[512];
	int rc;

	if (req_need_agent(r, r->param[0]) < 0 || need_session(r, &session) < 0 ||
	    req_validate(r, api_console_output_fields) < 0 || body_data(r, &data, &len) < 0)
		return 0;
	verdict = jstr(r->json, "verdict", NULL);
	rc = relay_agent_put(&length, r->param[0], r->param[1], session, jint(r->json, "offset", 0),
			     data, len, jstr(r->json, "status", NULL), verdict,
			     jstr(r->json, "reason", ""), err, sizeof(err));
	free(data);
	if (rc == -ERANGE)
		return reply_error(
		    r, 409, "offset",
		    json_pack("{s:I, s:s}", "length", (json_int_t)length, "message", err));
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	return reply_json(r, 200, json_pack("{s:I}", "length", (json_int_t)length));
}

int api_agent_console_get(struct req *r)
{
	long long session, offset, wait;
	char err[512];
	json_t *out = NULL;
	int rc;

	if (req_need_agent(r, r->param[0]) < 0 || need_session(r, &session) < 0 ||
	    req_query_int(r, "offset", 0, 1LL << 52, &offset) < 0 ||
	    req_query_int(r, "wait_ms", 0, RELAY_WAIT_MAX_MS, &wait) < 0)
		return 0;
	rc = relay_agent_get(&out, r->param[0], r->param[1], session, offset, err, sizeof(err));
	if (rc < 0)
		return reply_relay_error(r, rc, err);
	if (out)
		return reply_json(r, 200, out);
	if (wait > 0 && r->state == NULL &&
	    park_wait(r, PARK_CONSOLE, relay_key_agent(session), now_ms() + wait, NULL, NULL, NULL))
		return 0;
	return reply_data(r, 204, NULL, "", 0);
}
