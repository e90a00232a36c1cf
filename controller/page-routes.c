/* The status page's routes: twin → HTML, the live tail, static assets, badges. */
#include "page-routes.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "attempts.h"
#include "bisector.h"
#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db-flights.h"
#include "db-tokens.h"
#include "http-files.h"
#include "json-util.h"
#include "logs.h"
#include "page.h"
#include "perf.h"
#include "park.h"
#include "trees.h"
#include "xmalloc.h"
#include "twins.h"

#define STATIC_MAX	  (1u << 20)
#define TAIL_KEEPALIVE_MS 15000

/* Defence in depth behind the escaping: no inline script or style can run. */
#define PAGE_CSP                                                                                   \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* Replies with the page in b (taken). */
static int reply_page(struct req *r, unsigned status, const char *type, struct buf *b,
		      const char *cache)
{
	size_t len = 0;
	char *data = buf_detach(b, &len);
	struct MHD_Response *resp;

	if (!data)
		data = xstrdup("");
	resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", cache ? cache : "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	return reply_response(r, status, resp);
}

static int reply_html(struct req *r, int rc, struct buf *b)
{
	if (rc < 0) {
		buf_release(b);
		return rc; /* a page past PAGE_MAX: a 500, never a cut page */
	}
	return reply_page(r, 200, "text/html; charset=utf-8", b, NULL);
}

static int reply_not_found(struct req *r, const char *what)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	int rc = page_error_render(&b, 404, what);

	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	return reply_page(r, 404, "text/html; charset=utf-8", &b, NULL);
}

int page_get_overview(struct req *r)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	struct twin_overview o;
	struct viewer v;
	int rc;

	req_viewer(r, &v);
	rc = twin_overview_read(&o, &v);
	if (rc == 0) {
		rc = page_overview_render(&b, &o);
		twin_overview_release(&o);
	}
	return reply_html(r, rc, &b);
}

int page_get_overview_json(struct req *r)
{
	struct buf b = BUF_INIT(0);
	struct twin_overview o;
	struct viewer v;
	int rc;

	req_viewer(r, &v);
	rc = twin_overview_read(&o, &v);
	if (rc < 0)
		return rc;
	twin_overview_json(&o, &b);
	twin_overview_release(&o);
	rc = reply_json_buf(r, 200, &b);
	buf_release(&b);
	return rc;
}

int page_get_branch(struct req *r)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	struct twin_matrix m;
	struct viewer v;
	int rc;

	req_viewer(r, &v);
	if (twin_matrix_read(&m, NULL, r->param[0], 20, 0, 0, &v) < 0)
		return reply_not_found(r, "No such branch is watched.");
	rc = page_branch_render(&b, &m);
	twin_matrix_release(&m);
	return reply_html(r, rc, &b);
}

int page_get_flight(struct req *r)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	long long id = req_param_id(r, 0);
	struct viewer v;
	json_t *t;
	int rc;

	req_viewer(r, &v);
	t = twin_flight(id, &v);
	if (!t)
		return reply_not_found(r, "No such flight.");
	rc = page_flight_render(&b, t);
	json_decref(t);
	return reply_html(r, rc, &b);
}

/* The attempt of the request's {} id, or NULL when it does not exist or the
 * asker may not see it. */
static json_t *attempt_twin(struct req *r, long long *id)
{
	struct viewer v;

	req_viewer(r, &v);
	*id = req_param_id(r, 0);
	return twin_attempt(*id, &v);
}

int page_get_attempt(struct req *r)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	long long id;
	json_t *t = attempt_twin(r, &id);
	const char *log;
	size_t len;
	int rc;

	if (!t)
		return reply_not_found(r, "No such attempt.");
	log = logs_map(id, &len);
	rc = page_attempt_render(&b, t, log, len);
	logs_unmap(log, len);
	json_decref(t);
	return reply_html(r, rc, &b);
}

int page_get_attempt_raw(struct req *r)
{
	long long id;
	json_t *t = attempt_twin(r, &id);
	char path[4096];

	if (!t)
		return reply_not_found(r, "No such attempt.");
	json_decref(t);
	if (logs_path(path, sizeof(path), id) < 0) {
		struct buf b = BUF_INIT(0);

		return reply_page(r, 200, "text/plain; charset=utf-8", &b, NULL);
	}
	/* text/plain: a browser shows it as text, never as markup. */
	return http_files_serve(r, path, "text/plain; charset=utf-8");
}

/* The live tail of one attempt (docs/api.md "Live pages"). */
struct tail {
	struct req *r;
	long long id, from;
	int admin;
	char agent[AGENT_NAME_MAX + 1];
	long long token_id; /* the token it was opened with; 0: none */
	int done;
	long long quiet_since;
	struct buf out; /* formatted, not yet sent */
};

static void tail_free(void *p)
{
	struct tail *t = p;

	if (!t)
		return;
	buf_release(&t->out);
	free(t);
}

/* Appends the new complete lines, and the end once the attempt is over (ctl.lock
 * held). */
static void tail_fill(struct tail *t)
{
	struct viewer v = {t->admin, t->agent[0] ? t->agent : NULL};
	json_t *a = twin_attempt(t->id, &v);
	const char *state = jstr(a, "state", "");
	int final = a && attempt_state_final(attempt_state_of(state));
	const char *log;
	size_t len;
	long long next = t->from;

	if (!a || (t->token_id && !db_token_live(t->token_id))) {
		t->done = 1; /* gone, no longer visible, or its token was revoked */
		json_decref(a);
		return;
	}
	log = logs_map(t->id, &len);
	if (log) {
		if (page_tail_event(&t->out, log, len, t->from, &next) == 0)
			t->from = next;
		logs_unmap(log, len);
	}
	if (final && t->out.len == 0) {
		page_tail_state_event(&t->out, state, state);
		t->done = 1;
	}
	json_decref(a);
}

static ssize_t tail_read(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct tail *t = cls;
	long long now;
	size_t n;

	(void)pos;
	if (t->out.len == 0) {
		if (t->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		ctl_lock();
		tail_fill(t);
		now = now_ms();
		if (t->out.len == 0 && !t->done && now - t->quiet_since >= TAIL_KEEPALIVE_MS)
			buf_puts(&t->out, ": keep-alive\n\n");
		if (t->out.len == 0) {
			if (t->done || park_wait(t->r, PARK_LOG, t->id, now + TAIL_KEEPALIVE_MS,
						 NULL, NULL, NULL) == NULL) {
				ctl_unlock();
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			ctl_unlock();
			return 0;
		}
		t->quiet_since = now;
		ctl_unlock();
	}
	n = t->out.len < max ? t->out.len : max;
	memcpy(dst, t->out.data, n);
	buf_consume(&t->out, n);
	return (ssize_t)n;
}

int page_get_attempt_tail(struct req *r)
{
	struct MHD_Response *resp;
	long long id, from;
	json_t *a = attempt_twin(r, &id);
	struct tail *t;

	if (!a)
		return reply_error(r, 404, "not found", NULL);
	json_decref(a);
	if (page_tail_start(&from, req_header(r, "Last-Event-ID"), req_query(r, "from")) < 0)
		return reply_error(r, 400, "bad offset", NULL);
	t = xcalloc(1, sizeof(*t));
	t->r = r;
	t->id = id;
	t->from = from;
	t->admin = r->auth.role == ROLE_ADMIN;
	if (r->auth.role == ROLE_AGENT)
		snprintf(t->agent, sizeof(t->agent), "%s", r->auth.agent);
	t->token_id = r->auth.token_id;
	t->quiet_since = now_ms();
	buf_init(&t->out, 0);
	buf_puts(&t->out, "retry: 1000\n\n");
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, tail_read, t, tail_free);
	if (!resp) {
		tail_free(t);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return reply_response(r, 200, resp);
}

int page_get_board(struct req *r)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	struct viewer v;
	json_t *t;
	int rc;

	req_viewer(r, &v);
	t = twin_board(r->param[0], 50, &v);
	if (!t)
		return reply_not_found(r, "No such board.");
	json_object_set_new(t, "performance", perf_board_trends(r->param[0]));
	rc = page_board_render(&b, t);
	json_decref(t);
	return reply_html(r, rc, &b);
}

int page_get_bisection(struct req *r)
{
	struct buf b = BUF_INIT(PAGE_MAX);
	long long id = req_param_id(r, 0);
	json_t *t = id ? twin_bisection(id) : NULL;
	struct viewer v;
	int rc;

	req_viewer(r, &v);
	if (t && !twin_bisection_visible(t, &v)) {
		json_decref(t);
		t = NULL;
	}
	if (!t)
		return reply_not_found(r, "No such bisection.");
	rc = page_bisection_render(&b, t);
	json_decref(t);
	return reply_html(r, rc, &b);
}

/* web/: the configured web_dir, else web/ beside the binary's folder (build/ or
 * build/sanitize/ in a checkout), else ./web. */
static const char *web_dir(void)
{
	static char dir[PATH_MAX];
	static const char *const up[] = {"/../web", "/../../web", NULL};
	char exe[PATH_MAX];
	ssize_t n;
	size_t i;

	if (ctl.cfg.web_dir)
		return ctl.cfg.web_dir;
	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		for (i = 0; up[i]; i++) {
			char probe[PATH_MAX + 32];

			if (snprintf(probe, sizeof(probe), "%s%s/xenci.css", exe, up[i]) >=
			    (int)sizeof(probe))
				continue;
			if (access(probe, R_OK) == 0 &&
			    snprintf(dir, sizeof(dir), "%s%s", exe, up[i]) < (int)sizeof(dir))
				return dir;
		}
	}
	snprintf(dir, sizeof(dir), "web");
	return dir;
}

int page_get_static(struct req *r)
{
	const char *type = page_static_type(r->param[0]);
	struct buf b = BUF_INIT(STATIC_MAX);
	char path[PATH_MAX + 80], chunk[8192];
	size_t n;
	FILE *f;

	if (!type)
		return reply_error(r, 404, "not found", NULL);
	if (snprintf(path, sizeof(path), "%s/%s", web_dir(), r->param[0]) >= (int)sizeof(path))
		return reply_error(r, 404, "not found", NULL);
	f = fopen(path, "rb");
	if (!f)
		return reply_error(r, 404, "not found", NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	return reply_page(r, 200, type, &b, "public, max-age=3600");
}

int page_get_badge(struct req *r)
{
	struct buf b = BUF_INIT(64 * 1024);
	char name[ROUTE_PARAM_MAX];
	size_t n = strlen(r->param[0]);
	const char *verdict = "unknown";
	struct twin_matrix m;
	struct viewer v;
	unsigned status = 404;
	int rc;

	if (n <= 4 || strcmp(r->param[0] + n - 4, ".svg"))
		return reply_error(r, 404, "not found", NULL);
	snprintf(name, sizeof(name), "%.*s", (int)(n - 4), r->param[0]);
	req_viewer(r, &v);
	if (twin_matrix_read(&m, NULL, name, 10, 0, 0, &v) == 0) {
		verdict = page_branch_verdict(&m);
		status = 200;
	}
	rc = page_badge_render(&b, name, verdict);
	twin_matrix_release(&m);
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	return reply_page(r, status, "image/svg+xml", &b, "no-cache, max-age=60");
}
