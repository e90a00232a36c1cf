/* The transparency log's routes (api-records.c; docs/traceability.md and
 * docs/api.md): the log's head, key, consistency proofs and records, an
 * attempt's record, and the agents' signing keys.
 * Every handler keeps http.h's contract: it takes the request (its route's
 * params, body and asker), replies through reply_*() (errors included, as
 * {"error", "detail"}), and returns 0 when it replied or parked, negative for a
 * 500; routes.c says which route, method and lock each one runs with. */
#ifndef XENCI_API_RECORDS_H
#define XENCI_API_RECORDS_H

#include "http.h"

int api_log_head(struct req *r);
int api_log_key(struct req *r);
int api_log_consistency(struct req *r);
int api_log_records(struct req *r);
int api_attempt_record(struct req *r);
int api_keys(struct req *r);
int api_agent_keys(struct req *r);
int api_agent_key_approve(struct req *r);

#endif
