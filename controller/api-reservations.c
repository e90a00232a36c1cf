/* Reservations and a holder's power actions (docs/api.md, "Reservations"). */
#include "api.h"

#include <errno.h>

#include "json-util.h"
#include "reservations.h"

const struct vfield api_reserve_fields[] = {
    {.name = "seconds",
     .type = V_INT,
     .min = 1,
     .max = RESERVATION_MAX_S,
     .help = "how long the board is held (default 3600)"},
    {.name = NULL},
};

static const char *const power_actions[] = {"on", "off", "cycle", NULL};

const struct vfield api_power_fields[] = {
    {.name = "action", .type = V_STRING, .flags = V_REQUIRED, .choices = power_actions},
    {.name = NULL},
};

/* One errno of reservations.h as its reply. */
static int reply_reservation_error(struct req *r, int rc, const char *err)
{
	switch (rc) {
	case -ENOENT:
		return reply_errorf(r, 404, "not found", "%s", err);
	case -EACCES:
	case -EPERM:
		return reply_errorf(r, 403, "forbidden", "%s", err);
	case -EEXIST:
		return reply_errorf(r, 409, "reserved", "%s", err);
	case -EINVAL:
		return reply_errorf(r, 400, "invalid body", "%s", err);
	case -EHOSTDOWN:
		return reply_errorf(r, 409, "board offline", "%s", err);
	default:
		return rc;
	}
}

int api_reservation_create(struct req *r)
{
	char err[512];
	json_t *res = NULL;
	int rc;

	if (req_need_role(r, ROLE_USER) < 0 || req_validate(r, api_reserve_fields) < 0)
		return 0;
	rc = reservation_take(&res, r->param[0], &r->auth,
			      jint(r->json, "seconds", RESERVATION_DEFAULT_S), err, sizeof(err));
	if (rc < 0)
		return reply_reservation_error(r, rc, err);
	return reply_json(r, 201, res);
}

int api_reservation_delete(struct req *r)
{
	const char *state;
	char err[512];
	int rc;

	if (req_need_role(r, ROLE_USER) < 0)
		return 0;
	rc = reservation_end(&state, r->param[0], &r->auth, err, sizeof(err));
	if (rc < 0)
		return reply_reservation_error(r, rc, err);
	return reply_json(r, 200, json_pack("{s:s, s:s}", "board", r->param[0], "state", state));
}

int api_board_power(struct req *r)
{
	char err[512];
	int rc;

	if (req_need_role(r, ROLE_USER) < 0 || req_validate(r, api_power_fields) < 0)
		return 0;
	rc =
	    reservation_power(r->param[0], &r->auth, jstr(r->json, "action", ""), err, sizeof(err));
	if (rc < 0)
		return reply_reservation_error(r, rc, err);
	return reply_json(
	    r, 202,
	    json_pack("{s:s, s:s}", "board", r->param[0], "action", jstr(r->json, "action", "")));
}
