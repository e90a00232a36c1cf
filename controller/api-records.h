/* The transparency log's routes (api-records.c). */
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
