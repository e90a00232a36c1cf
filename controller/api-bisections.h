/* The HTTP handlers of bisections (routes.c): GET /api/v1/bisections,
 * GET /api/v1/bisections/{id} (the page's twin), and the admin actions
 * POST /api/v1/bisections/{id}/cancel and /restart (docs/api.md).
 * Every handler keeps http.h's contract: it takes the request (its route's
 * params, body and asker), replies through reply_*() (errors included, as
 * {"error", "detail"}), and returns 0 when it replied or parked, negative for a
 * 500; routes.c says which route, method and lock each one runs with. */
#ifndef XENCI_BISECT_API_H
#define XENCI_BISECT_API_H

#include "http.h"

int api_bisections(struct req *r);
int api_bisection(struct req *r);
int api_bisection_cancel(struct req *r);
int api_bisection_restart(struct req *r);

#endif
