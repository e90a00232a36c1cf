/* GET /metrics in Prometheus' text format. */
#include "bisector.h"
#include "api.h"

#include "attempts.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "park.h"

int api_metrics(struct req *r)
{
	struct buf b = BUF_INIT(0);
	struct http_stats hs;
	struct viewer who;
	json_t *boards, *attempts, *v;
	static const char *const bstates[] = {"idle", "busy", "unhealthy", "offline", NULL};
	static const char *const astates[] = {"waiting",   "queued",  "claimed", "running",
					      "pass",	   "fail",    "infra",	 "timeout",
					      "cancelled", "starved", "refused", NULL};
	int i, rc;

	/* Counted as the asker sees them: no private board's attempts for others. */
	req_viewer(r, &who);
	boards = db_boards_by_state(&who);
	attempts = db_attempts_by_state(&who);
	buf_puts(&b,
		 "# HELP xenci_queue_depth Attempts queued for a board or waiting for a build.\n"
		 "# TYPE xenci_queue_depth gauge\n");
	buf_printf(&b, "xenci_queue_depth %lld\n", db_queue_depth(&who));
	buf_puts(&b, "# HELP xenci_claims_waiting Agents long-polling for work.\n"
		     "# TYPE xenci_claims_waiting gauge\n");
	buf_printf(&b, "xenci_claims_waiting %d\n", park_count_queue(PARK_CLAIM));
	buf_puts(&b, "# HELP xenci_bisections_pending Bisections waiting for their next step"
		     " (a graph walk).\n# TYPE xenci_bisections_pending gauge\n");
	buf_printf(&b, "xenci_bisections_pending %d\n", bisector_pending());
	buf_puts(&b, "# HELP xenci_boards Boards by state.\n# TYPE xenci_boards gauge\n");
	for (i = 0; bstates[i]; i++) {
		v = json_object_get(boards, bstates[i]);
		buf_printf(&b, "xenci_boards{state=\"%s\"} %lld\n", bstates[i],
			   v ? (long long)json_integer_value(v) : 0LL);
	}
	buf_puts(&b, "# HELP xenci_attempts Attempts by state or verdict.\n"
		     "# TYPE xenci_attempts gauge\n");
	for (i = 0; astates[i]; i++) {
		v = json_object_get(attempts, astates[i]);
		buf_printf(&b, "xenci_attempts{state=\"%s\"} %lld\n", astates[i],
			   v ? (long long)json_integer_value(v) : 0LL);
	}
	http_stats_get(&hs);
	buf_puts(&b, "# HELP xenci_http_request_duration_seconds Request latency (long polls"
		     " excluded).\n# TYPE xenci_http_request_duration_seconds histogram\n");
	for (i = 0; i < HTTP_LAT_BUCKETS; i++)
		buf_printf(&b, "xenci_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   http_lat_bounds[i], hs.bucket[i]);
	buf_printf(&b, "xenci_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", hs.count);
	buf_printf(&b, "xenci_http_request_duration_seconds_sum %.6f\n", hs.sum_seconds);
	buf_printf(&b, "xenci_http_request_duration_seconds_count %llu\n", hs.count);
	buf_puts(&b, "# HELP xenci_http_responses Responses by status class.\n"
		     "# TYPE xenci_http_responses counter\n");
	for (i = 1; i < 6; i++)
		buf_printf(&b, "xenci_http_responses{code=\"%dxx\"} %llu\n", i, hs.by_class[i]);
	json_decref(boards);
	json_decref(attempts);
	rc = reply_data(r, 200, "text/plain; version=0.0.4", buf_cstr(&b), b.len);
	buf_release(&b);
	return rc;
}
