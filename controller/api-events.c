/* GET /api/v1/events: Server-Sent Events from the events table. Each event is
 * "id: N\nevent: TYPE\ndata: {json}\n\n"; a client resumes with Last-Event-ID
 * (or ?after=N). The stream parks when it has sent everything and is woken by
 * park_wake(PARK_EVENTS, 0); a comment line keeps idle streams alive. The stream
 * is public (twin_events: nothing of a private board) and ends at the next event
 * once the token it was opened with is revoked. */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-events.h"
#include "db-tokens.h"
#include "json-util.h"
#include "park.h"
#include "twins.h"
#include "xmalloc.h"

#define SSE_BATCH     200
#define SSE_KEEPALIVE 15000

struct sse {
	struct req *r;
	long long last_id;
	long long token_id; /* the token it was opened with; 0: none */
	int done;	    /* the token was revoked: the stream ends */
	struct buf out;	    /* formatted, not yet sent */
	long long quiet_since;
};

static void sse_free(void *p)
{
	struct sse *s = p;

	if (s == NULL)
		return;
	buf_release(&s->out);
	free(s);
}

/* Fills s->out with the next events (ctl.lock held). */
static void sse_fill(struct sse *s)
{
	json_t *evs, *e;
	size_t i;

	if (s->token_id && !db_token_live(s->token_id)) {
		s->done = 1;
		return;
	}
	evs = twin_events(s->last_id, SSE_BATCH);
	json_array_foreach (evs, i, e) {
		char *data = json_dumps(json_object_get(e, "data"), JSON_COMPACT);
		json_t *ev =
		    json_pack("{s:I, s:s, s:I, s:O}", "id", (json_int_t)jint(e, "id", 0), "type",
			      jstr(e, "type", ""), "time", (json_int_t)jint(e, "time", 0), "data",
			      json_object_get(e, "data"));
		char *text = json_dumps(ev, JSON_COMPACT);

		buf_printf(&s->out, "id: %lld\nevent: %s\ndata: %s\n\n", jint(e, "id", 0),
			   jstr(e, "type", "message"), text);
		s->last_id = jint(e, "id", s->last_id);
		free(text);
		free(data);
		json_decref(ev);
	}
	json_decref(evs);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct sse *s = cls;
	size_t n;
	long long now;

	(void)pos;
	if (s->out.len == 0) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		ctl_lock();
		sse_fill(s);
		now = now_ms();
		if (s->out.len == 0 && now - s->quiet_since >= SSE_KEEPALIVE)
			buf_puts(&s->out, ": keepalive\n\n");
		if (s->out.len == 0 && s->done) {
			ctl_unlock();
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (s->out.len == 0) {
			/* Nothing to send: park until an event or the keepalive. */
			if (park_wait(s->r, PARK_EVENTS, 0, now + SSE_KEEPALIVE, NULL, NULL,
				      NULL) == NULL) {
				ctl_unlock();
				return MHD_CONTENT_READER_END_OF_STREAM; /* stopping */
			}
			ctl_unlock();
			return 0;
		}
		s->quiet_since = now;
		ctl_unlock();
	}
	n = s->out.len < max ? s->out.len : max;
	memcpy(dst, s->out.data, n);
	buf_consume(&s->out, n);
	return (ssize_t)n;
}

int api_events(struct req *r)
{
	struct MHD_Response *resp;
	struct sse *s;
	const char *h = req_header(r, "Last-Event-ID");
	long long after = -1;

	if (h) {
		char *end;

		after = strtoll(h, &end, 10);
		if (*end || after < 0)
			return reply_error(r, 400, "bad Last-Event-ID", json_string(h));
	} else if (req_query(r, "after")) {
		if (req_query_int(r, "after", 0, 1LL << 62, &after) < 0)
			return 0;
	}
	s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->token_id = r->auth.token_id;
	buf_init(&s->out, 0);
	/* Without a position a client starts from now: history is in the reads. */
	s->last_id = after >= 0 ? after : db_events_last();
	s->quiet_since = now_ms();
	buf_puts(&s->out, "retry: 2000\n\n");
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
	if (resp == NULL) {
		sse_free(s);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return reply_response(r, 200, resp);
}
