/* What a request says beyond its route: who is asking (as a viewer of private
 * boards), its {} ids, its JSON body against a shape. One copy, for the API's
 * handlers and the page's alike. */
#include "http.h"

#include <errno.h>
#include <stdlib.h>

#include "db-boards.h"
#include "validate.h"

void req_viewer(const struct req *r, struct viewer *v)
{
	v->admin = r->auth.role == ROLE_ADMIN;
	v->agent = r->auth.role == ROLE_AGENT ? r->auth.agent : NULL;
}

long long req_param_id(const struct req *r, int i)
{
	char *end;
	long long v;

	if (r->param[i][0] < '1' || r->param[i][0] > '9')
		return 0;
	errno = 0;
	v = strtoll(r->param[i], &end, 10);
	return errno || *end ? 0 : v;
}

int req_need_id(struct req *r, int i, long long *id)
{
	*id = req_param_id(r, i);
	if (*id == 0) {
		reply_errorf(r, 404, "not found", "no such id \"%s\"", r->param[i]);
		return -1;
	}
	return 0;
}

int req_validate(struct req *r, const struct vfield *fields)
{
	struct vctx ctx;
	int rc;

	vctx_init(&ctx, NULL, NULL);
	rc = validate_root(&ctx, fields, r->json);
	if (rc < 0)
		reply_error(r, 400, "invalid body", json_incref(ctx.errors));
	vctx_release(&ctx);
	return rc;
}
