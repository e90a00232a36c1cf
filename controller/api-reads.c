/* Public reads. Private boards, their attempts and logs are 404 for anyone but
 * admin and the owning agent. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attempts.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db-flights.h"
#include "http-files.h"
#include "json-util.h"
#include "park.h"
#include "twins.h"

#define LIST_MAX 1000

#ifndef XENCI_VERSION /* the fuzz build does not define it */
#define XENCI_VERSION "unknown"
#endif

int api_boards(struct req *r)
{
	struct viewer v;

	req_viewer(r, &v);
	return reply_json(r, 200, json_pack("{s:o}", "boards", db_boards_list(&v)));
}

int api_board(struct req *r)
{
	struct viewer v;
	json_t *b;

	req_viewer(r, &v);
	b = twin_board(r->param[0], 20, &v);
	if (b == NULL)
		return reply_errorf(r, 404, "not found", "no board %s", r->param[0]);
	return reply_json(r, 200, b);
}

int api_agents(struct req *r)
{
	struct viewer v;

	req_viewer(r, &v);
	return reply_json(r, 200, json_pack("{s:o}", "agents", db_agents_list(&v)));
}

int api_jobs(struct req *r)
{
	return reply_json(r, 200, json_pack("{s:o}", "jobs", db_jobs_list()));
}

/* Replies {"KEY": the array a list's db_*_text appended to b}, b begun with
 * `{"KEY":` by the caller; rc is that db_*_text's (< 0: the store could not be
 * read). Releases b. */
static int reply_list(struct req *r, struct buf *b, int rc)
{
	if (rc == 0) {
		buf_puts(b, "}");
		rc = reply_json_buf(r, 200, b);
	}
	buf_release(b);
	return rc;
}

int api_flights(struct req *r)
{
	struct viewer v;
	struct buf b = BUF_INIT(0);
	long long limit, before;

	if (req_query_int(r, "limit", 50, LIST_MAX, &limit) < 0 ||
	    req_query_int(r, "before", 0, 1LL << 62, &before) < 0)
		return 0;
	req_viewer(r, &v);
	buf_puts(&b, "{\"flights\":");
	return reply_list(r, &b, db_flights_list_text(&b, (int)limit, before, &v));
}

int api_flight(struct req *r)
{
	struct viewer v;
	long long id;
	json_t *f;

	if (req_need_id(r, 0, &id) < 0)
		return 0;
	req_viewer(r, &v);
	f = twin_flight(id, &v);
	if (f == NULL)
		return reply_errorf(r, 404, "not found", "no flight %lld", id);
	return reply_json(r, 200, f);
}

int api_attempts(struct req *r)
{
	struct viewer v;
	const char *state = req_query(r, "state"), *board = req_query(r, "board");
	struct buf b = BUF_INIT(0);
	long long limit, before;

	if (state && attempt_state_of(state) == ATTEMPT_STATE_N)
		return reply_errorf(r, 400, "bad query parameter", "unknown state \"%s\"", state);
	if (req_query_int(r, "limit", 50, LIST_MAX, &limit) < 0 ||
	    req_query_int(r, "before", 0, 1LL << 62, &before) < 0)
		return 0;
	req_viewer(r, &v);
	buf_puts(&b, "{\"attempts\":");
	return reply_list(r, &b, db_attempts_list_text(&b, state, board, (int)limit, before, &v));
}

int api_attempt(struct req *r)
{
	struct viewer v;
	long long id;
	json_t *a;

	if (req_need_id(r, 0, &id) < 0)
		return 0;
	req_viewer(r, &v);
	a = twin_attempt(id, &v);
	if (a == NULL)
		return reply_errorf(r, 404, "not found", "no attempt %lld", id);
	return reply_json(r, 200, a);
}

/* GET /attempts/{id}/log: the raw log with Range, or with ?offset=N the bytes
 * from N on, long-polling up to wait_ms for more while the attempt runs. */
int api_attempt_log_get(struct req *r)
{
	struct viewer v;
	struct MHD_Response *resp;
	long long id, offset, wait;
	char path[4096], hdr[32];
	long long length;
	json_t *a;
	const char *state;
	int final, rc;

	if (req_need_id(r, 0, &id) < 0)
		return 0;
	req_viewer(r, &v);
	a = twin_attempt(id, &v);
	if (a == NULL)
		return reply_errorf(r, 404, "not found", "no attempt %lld", id);
	state = jstr(a, "state", "");
	final = attempt_state_final(attempt_state_of(state));
	if (req_query(r, "offset") == NULL) {
		json_decref(a);
		if (logs_path(path, sizeof(path), id) < 0)
			return reply_data(r, 200, "text/plain; charset=utf-8", "", 0);
		return http_files_serve(r, path, "text/plain; charset=utf-8");
	}
	if (req_query_int(r, "offset", 0, LOG_MAX, &offset) < 0 ||
	    req_query_int(r, "wait_ms", 0, 60000, &wait) < 0) {
		json_decref(a);
		return 0;
	}
	length = logs_length(id);
	if (length <= offset && !final && wait > 0 && r->state == NULL &&
	    park_wait(r, PARK_LOG, id, now_ms() + wait, NULL, NULL, NULL)) {
		json_decref(a);
		return 0;
	}
	if (length <= offset) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		int fd = logs_open(id);

		if (fd < 0) {
			json_decref(a);
			return fd;
		}
		resp = MHD_create_response_from_fd_at_offset64((uint64_t)(length - offset), fd,
							       (uint64_t)offset);
	}
	if (resp == NULL) {
		json_decref(a);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	snprintf(hdr, sizeof(hdr), "%lld", length);
	MHD_add_response_header(resp, "X-Log-Length", hdr);
	MHD_add_response_header(resp, "X-Attempt-State", state);
	rc = reply_response(r, 200, resp);
	json_decref(a);
	return rc;
}

int api_queue(struct req *r)
{
	struct viewer v;
	long long limit;

	if (req_query_int(r, "limit", 100, LIST_MAX, &limit) < 0)
		return 0;
	req_viewer(r, &v);
	return reply_json(r, 200,
			  json_pack("{s:o, s:i}", "queue", db_queue(&v, (int)limit),
				    "waiting_claims", park_count_queue(PARK_CLAIM)));
}

int api_version(struct req *r)
{
	return reply_json(
	    r, 200,
	    json_pack("{s:s, s:[i]}", "version", XENCI_VERSION, "protocol", PROTOCOL_VERSION));
}
