/* The transparency log's routes (docs/api.md, "Records and the log"): signed tree
 * heads, records with their inclusion proofs, consistency proofs, records by range,
 * the controller's public key; agents' keys and their approval. */
#include "api-records.h"

#include <errno.h>
#include <string.h>

#include "db-records.h"
#include "json-util.h"
#include "tlog.h"
#include "twins.h"

int api_log_head(struct req *r)
{
	long long size;
	json_t *head;

	if (req_query_int(r, "size", -1, 1LL << 53, &size) < 0)
		return 0;
	head = tlog_head(req_query(r, "size") ? size : -1);
	if (head == NULL)
		return reply_error(r, 404, "not found", json_string("no tree head of that size"));
	return reply_json(r, 200, head);
}

int api_log_key(struct req *r)
{
	const char *pem = tlog_public_key();

	return reply_data(r, 200, "application/x-pem-file", pem, strlen(pem));
}

/* A record of a private board's attempt is shown to those who may see the board;
 * others get its index and leaf hash only (enough to recompute the tree). */
static void redact(struct req *r, json_t *rec)
{
	const char *board = jstr(json_object_get(rec, "shown"), "board", NULL);
	struct viewer v;

	req_viewer(r, &v);
	if (board && !twin_board_visible(board, &v)) {
		json_object_del(rec, "envelope");
		json_object_del(rec, "shown");
		json_object_del(rec, "attempt");
		json_object_set_new(rec, "hidden", json_true());
	}
}

int api_attempt_record(struct req *r)
{
	long long id, size;
	json_t *out;
	struct viewer v;
	int rc;

	if (req_need_id(r, 0, &id) < 0 || req_query_int(r, "size", -1, 1LL << 53, &size) < 0)
		return 0;
	rc = tlog_inclusion(&out, id, req_query(r, "size") ? size : -1);
	if (rc == -ENOENT)
		return reply_errorf(r, 404, "not found", "no record of attempt %lld%s", id,
				    req_query(r, "size") ? " in a tree of that size" : "");
	if (rc == -EINVAL)
		return reply_errorf(r, 409, "record not in that tree",
				    "the record of attempt %lld came after size %lld", id, size);
	if (rc < 0)
		return rc;
	req_viewer(r, &v);
	if (!twin_board_visible(jstr(out, "board", NULL), &v)) {
		json_decref(out);
		return reply_errorf(r, 404, "not found", "no record of attempt %lld", id);
	}
	return reply_json(r, 200, out);
}

int api_log_consistency(struct req *r)
{
	long long first, second;
	json_t *out;
	int rc;

	if (req_query_int(r, "first", 0, 1LL << 53, &first) < 0 ||
	    req_query_int(r, "second", 0, 1LL << 53, &second) < 0)
		return 0;
	rc = tlog_consistency(&out, first, second);
	if (rc == -EINVAL)
		return reply_errorf(r, 400, "invalid sizes",
				    "need 0 < first <= second <= the log's size");
	if (rc < 0)
		return rc;
	return reply_json(r, 200, out);
}

int api_log_records(struct req *r)
{
	long long start, end;
	json_t *out, *rec;
	size_t i;

	if (req_query_int(r, "start", 0, 1LL << 53, &start) < 0 ||
	    req_query_int(r, "end", start + 1000, 1LL << 53, &end) < 0)
		return 0;
	out = tlog_records(start, end);
	json_array_foreach (json_object_get(out, "records"), i, rec)
		redact(r, rec);
	return reply_json(r, 200, out);
}

/* Every agent's keys: public keys, for anyone who verifies records. */
int api_keys(struct req *r)
{
	return reply_json(r, 200, json_pack("{s:o}", "keys", db_agent_keys(NULL)));
}

int api_agent_keys(struct req *r)
{
	if (req_need_agent(r, r->param[0]) < 0)
		return 0;
	return reply_json(r, 200, json_pack("{s:o}", "keys", db_agent_keys(r->param[0])));
}

int api_agent_key_approve(struct req *r)
{
	int rc;

	if (req_need_role(r, ROLE_ADMIN) < 0)
		return 0;
	rc = tlog_agent_key_approve(r->param[0], r->param[1]);
	if (rc == -ENOENT)
		return reply_errorf(r, 404, "not found", "agent %s has no key %s", r->param[0],
				    r->param[1]);
	if (rc < 0)
		return rc;
	return reply_json(r, 200,
			  json_pack("{s:s, s:s, s:s}", "agent", r->param[0], "keyid", r->param[1],
				    "state", "active"));
}
