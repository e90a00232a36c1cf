/* Bisection routes: see api-bisections.h; the domain side is bisector.c. */
#include "api-bisections.h"

#include <errno.h>

#include "api.h"
#include "bisector.h"
#include "db-boards.h"
#include "twins.h"

#define BISECT_LIST_MAX 500

int api_bisections(struct req *r)
{
	struct viewer v;
	long long limit, before;
	json_t *list;

	if (req_query_int(r, "limit", 50, BISECT_LIST_MAX, &limit) < 0 ||
	    req_query_int(r, "before", 0, 1LL << 62, &before) < 0)
		return 0;
	req_viewer(r, &v);
	list = twin_bisections((int)limit, before);
	twin_bisections_filter(list, &v);
	return reply_json(r, 200, list);
}

int api_bisection(struct req *r)
{
	struct viewer v;
	long long id;
	json_t *b;

	if (req_need_id(r, 0, &id) < 0)
		return 0;
	req_viewer(r, &v);
	b = twin_bisection(id);
	if (b && !twin_bisection_visible(b, &v)) {
		json_decref(b);
		b = NULL;
	}
	if (!b)
		return reply_errorf(r, 404, "no such bisection", "bisection %lld", id);
	return reply_json(r, 200, b);
}

/* cancel or restart: the same checks and replies. */
static int admin_action(struct req *r, int (*action)(long long), const char *busy)
{
	long long id;
	int rc;

	if (req_need_role(r, ROLE_ADMIN) < 0 || req_need_id(r, 0, &id) < 0)
		return 0;
	rc = action(id);
	if (rc == -ENOENT)
		return reply_errorf(r, 404, "no such bisection", "bisection %lld", id);
	if (rc == -EALREADY)
		return reply_errorf(r, 409, busy, "bisection %lld", id);
	if (rc < 0)
		return reply_error(r, 500, "cannot change the bisection", NULL);
	return reply_json(r, 200, twin_bisection(id));
}

int api_bisection_cancel(struct req *r)
{
	return admin_action(r, bisector_cancel, "the bisection is over");
}

int api_bisection_restart(struct req *r)
{
	return admin_action(r, bisector_restart, "the bisection is running");
}
