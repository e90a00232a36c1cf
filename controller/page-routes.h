/* The status page's routes (routes.c lists them): GET only, each builds the
 * page's JSON twin with the same store functions as /api/v1, renders it and
 * replies text/html. A private board and everything of it answers 404 to a
 * viewer without the right token, exactly like its twin. */
#ifndef XENCI_PAGE_ROUTES_H
#define XENCI_PAGE_ROUTES_H

#include "http.h"

int page_get_overview(struct req *r);	   /* GET / */
int page_get_overview_json(struct req *r); /* GET /api/v1/overview */
int page_get_branch(struct req *r);	   /* GET /branches/{name} */
int page_get_flight(struct req *r);	   /* GET /flights/{id} */
int page_get_attempt(struct req *r);	   /* GET /attempts/{id} */
int page_get_attempt_raw(struct req *r);   /* GET /attempts/{id}/raw */
int page_get_attempt_tail(struct req *r);  /* GET /attempts/{id}/tail (SSE) */
int page_get_board(struct req *r);	   /* GET /boards/{name} */
int page_get_bisection(struct req *r);	   /* GET /bisections/{id} */
int page_get_static(struct req *r);	   /* GET /static/{file} */
int page_get_badge(struct req *r);	   /* GET /badge/{branch}.svg */

#endif
