/* The handlers of trees, submissions, pokes, webhooks and branches (api-trees.c);
 * routes.c lists them. See docs/api.md, "Trees, submissions and the push gate".
 * Every handler keeps http.h's contract: it takes the request (its route's
 * params, body and asker), replies through reply_*() (errors included, as
 * {"error", "detail"}), and returns 0 when it replied or parked, negative for a
 * 500; routes.c says which route, method and lock each one runs with. */
#ifndef XENCI_API_TREES_H
#define XENCI_API_TREES_H

#include "api.h"

int api_trees(struct req *r);
int api_tree_manifest(struct req *r);
int api_tree_blob(struct req *r);
int api_submission_create(struct req *r);
int api_submission(struct req *r);
int api_poke(struct req *r);
int api_webhook(struct req *r);
int api_branch(struct req *r);

#endif
