#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "client.h"
#include "clock.h"
#include "console.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "runner.h"
#include "sigkey.h"
#include "xmalloc.h"

#define SESSION_OPEN_EVERY_MS 500  /* a console that is not there is tried again */
#define SESSION_INPUT_WAIT_MS 5000 /* one input poll; bounds session_stop_free */
#define SESSION_RETRY_MS      500  /* after a failed call */

#define SESSION_LINE_MAX 4096		      /* a console line the judge keeps, as an attempt's */
#define SESSION_LOG_MAX	 (16LL * 1024 * 1024) /* the judge's log (which goes nowhere) */

static int session_over(const struct session *s)
{
	return s->ending || s->ag->stopping;
}

static void session_nap(const struct session *s, long ms)
{
	while (ms > 0 && !session_over(s)) {
		long step = ms > 50 ? 50 : ms;

		usleep((useconds_t)step * 1000);
		ms -= step;
	}
}

/* Posts out (up to SESSION_CHUNK_MAX of it) and the status: the bytes the
 * controller took leave out. 0, or -1 (try again later); a detached session
 * is marked ending. */
static int session_post(struct session *s, struct http_client *h, struct buf *out,
			const char *status, const char *verdict, const char *reason)
{
	const struct board *b = &s->ag->cfg.boards[s->board];
	size_t n = out->len < SESSION_CHUNK_MAX ? out->len : SESSION_CHUNK_MAX;
	char *b64 = base64_encode(out->data, n);
	char *path = xasprintf("/api/v1/agents/%s/console/%s?session=%lld", s->ag->cfg.agent,
			       b->name, s->id);
	json_t *body = json_pack("{s:I, s:s, s:s}", "offset", (json_int_t)s->offset, "data", b64,
				 "status", status);

	if (verdict) {
		json_object_set_new(body, "verdict", json_string(verdict));
		json_object_set_new(body, "reason", json_string(reason));
	}
	struct http_reply r;
	int rc = -1;

	http_reply_init(&r);
	if (http_json(h, "POST", path, body, &r) < 0) {
		log_warnx("board %s: console session %lld: %s", b->name, s->id, r.error);
	} else if (r.status == 200) {
		buf_consume(out, n);
		s->offset += (long long)n;
		rc = 0;
	} else if (r.status == 409) {
		/* the controller's stream has another length: go on from there */
		s->offset = jint(json_object_get(r.json, "detail"), "length", s->offset);
	} else if (r.status == 410 || r.status == 404 || r.status == 403) {
		log_info("board %s: console session %lld: %s", b->name, s->id,
			 jstr(r.json, "detail", r.error));
		s->ending = 1;
	} else {
		log_warnx("board %s: console session %lld: HTTP %ld: %s", b->name, s->id, r.status,
			  r.error);
	}
	http_reply_release(&r);
	json_decref(body);
	free(path);
	free(b64);
	return rc;
}

static void no_log(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
}

static void verdict_set(struct session *s, const char *verdict, const char *reason)
{
	if (s->verdict[0])
		return;
	snprintf(s->verdict, sizeof(s->verdict), "%s", verdict);
	snprintf(s->verdict_reason, sizeof(s->verdict_reason), "%s", reason);
	s->verdict_seq++;
	log_info("board %s: boot of attempt %lld: %s: %s", s->ag->cfg.boards[s->board].name,
		 s->boot_id, verdict, reason);
}

/* io: the console's new bytes (n may be 0: the clock alone) to the boot's judge;
 * its verdict, once it has one, is the boot's. */
static void session_judge_tick(struct session *s, const char *p, size_t n)
{
	long long now = clock_mono_ms();

	pthread_mutex_lock(&s->mu);
	if (s->judging) {
		if (n)
			judge_feed(&s->judge, p, n, now);
		judge_tick(&s->judge, now);
		if (s->judge.verdict != VERDICT_NONE) {
			verdict_set(s, verdict_name(s->judge.verdict), s->judge.reason);
			judge_release(&s->judge);
			s->judging = 0;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

void session_verdict(struct session *s, const char *verdict, const char *fmt, ...)
{
	char reason[sizeof(s->verdict_reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&s->mu);
	if (s->judging) {
		judge_release(&s->judge);
		s->judging = 0;
	}
	verdict_set(s, verdict, reason);
	pthread_mutex_unlock(&s->mu);
}

void session_boot_refuse(struct session *s, long long id, const char *why)
{
	pthread_mutex_lock(&s->mu);
	if (s->judging) {
		judge_release(&s->judge);
		s->judging = 0;
	}
	s->boot_id = id;
	s->verdict[0] = '\0';
	verdict_set(s, "refused", why);
	pthread_mutex_unlock(&s->mu);
}

void session_judge_start(struct session *s)
{
	char err[300] = "";
	int rc;

	pthread_mutex_lock(&s->mu);
	if (s->judging) {
		judge_release(&s->judge);
		s->judging = 0;
	}
	memset(&s->judge, 0, sizeof(s->judge));
	rc = s->boot_job ? judge_init(&s->judge, s->boot_job, SESSION_LINE_MAX, SESSION_LOG_MAX,
				      err, sizeof(err))
			 : -1;
	json_decref(s->boot_job);
	s->boot_job = NULL;
	if (rc == 0) {
		s->judge.log = no_log;
		judge_start(&s->judge, clock_mono_ms());
		s->judging = 1;
	} else {
		judge_release(&s->judge);
	}
	pthread_mutex_unlock(&s->mu);
	if (rc < 0)
		session_verdict(s, "infra", "attempt %lld's job cannot be judged: %s", s->boot_id,
				err[0] ? err : "it has none");
}

/* The console to the controller, and the pipe's input to the console. */
static void *session_io(void *arg)
{
	struct session *s = arg;
	struct board *b = &s->ag->cfg.boards[s->board];
	struct http_client h;
	struct buf out = BUF_INIT(SESSION_OUT_MAX);
	char status[256] = "", posted[256] = "", err[200], chunk[4096];
	char verdict[16] = "", reason[sizeof(s->verdict_reason)] = "";
	long long tried = 0, failed = 0;
	int fd = -1, seen = 0, vseen = 0, vposted = 0;

	client_init(&h, &s->ag->cfg);
	h.timeout_ms = 10000;
	while (!session_over(s)) {
		struct pollfd p[2] = {{.fd = -1}, {.fd = -1}};
		long long now = clock_mono_ms();
		int wait = 100;

		pthread_mutex_lock(&s->mu);
		if (s->note_seq != seen) {
			seen = s->note_seq;
			memcpy(status, s->note, sizeof(status));
		}
		pthread_mutex_unlock(&s->mu);
		session_judge_tick(s, NULL, 0);
		pthread_mutex_lock(&s->mu);
		if (s->verdict_seq != vseen) {
			vseen = s->verdict_seq;
			memcpy(verdict, s->verdict, sizeof(verdict));
			memcpy(reason, s->verdict_reason, sizeof(reason));
		}
		pthread_mutex_unlock(&s->mu);
		if (fd < 0 && now - tried >= SESSION_OPEN_EVERY_MS) {
			tried = now;
			if (b->console->open(b, &fd, 200, err, sizeof(err)) == 0) {
				snprintf(status, sizeof(status), "open");
				log_info("board %s: console session %lld: console open", b->name,
					 s->id);
			} else {
				snprintf(status, sizeof(status), "waiting for the console: %s",
					 err);
			}
		}
		/* input waits in the pipe while there is no console to write it to */
		if (fd >= 0) {
			p[0].fd = s->pipefd[0];
			p[0].events = POLLIN;
		}
		if (fd >= 0 && out.len < SESSION_OUT_MAX) {
			p[1].fd = fd;
			p[1].events = POLLIN;
		}
		if ((out.len || strcmp(status, posted) || vposted != vseen) &&
		    now - failed >= SESSION_RETRY_MS)
			wait = 0;
		else if (fd >= 0 && console_buffered(b) && out.len < SESSION_OUT_MAX)
			wait = 0;
		if (poll(p, 2, wait) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(s->pipefd[0], chunk, sizeof(chunk));

			if (n <= 0) {
				s->ending = 1; /* the input thread ended */
				break;
			}
			if (console_write(b, fd, chunk, (size_t)n) < 0) {
				log_warnx("board %s: console session %lld: writing to the console: "
					  "%s: %zd bytes lost",
					  b->name, s->id, strerror(errno), n);
			}
		}
		if (fd >= 0 && out.len < SESSION_OUT_MAX &&
		    ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) || console_buffered(b))) {
			size_t room = SESSION_OUT_MAX - out.len;
			ssize_t n =
			    console_read(b, fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk));

			if (n > 0) {
				buf_append(&out, chunk, (size_t)n);
				session_judge_tick(s, chunk, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				snprintf(status, sizeof(status), "the console closed: %s",
					 n == 0 ? "end of stream" : strerror(errno));
				b->console->close(b, fd);
				fd = -1;
				tried = clock_mono_ms();
			}
		}
		if ((out.len || strcmp(status, posted) || vposted != vseen) &&
		    clock_mono_ms() - failed >= SESSION_RETRY_MS) {
			/* the verdict goes with the console's last bytes before it */
			int with = vposted != vseen && out.len <= SESSION_CHUNK_MAX;

			if (session_post(s, &h, &out, status, with ? verdict : NULL, reason) == 0) {
				memcpy(posted, status, sizeof(posted));
				if (with)
					vposted = vseen;
				failed = 0;
			} else {
				failed = clock_mono_ms();
			}
		}
	}
	if (fd >= 0)
		b->console->close(b, fd);
	http_client_release(&h);
	buf_release(&out);
	close(s->pipefd[0]); /* a blocked input thread gets EPIPE */
	s->ending = 1;
	s->io_done = 1;
	return NULL;
}

/* The holder's input, polled from the controller, into the pipe. */
static void *session_input(void *arg)
{
	struct session *s = arg;
	const struct board *b = &s->ag->cfg.boards[s->board];
	struct http_client h;
	long long offset = 0;

	client_init(&h, &s->ag->cfg);
	h.timeout_ms = SESSION_INPUT_WAIT_MS + 10000;
	while (!session_over(s)) {
		char *path =
		    xasprintf("/api/v1/agents/%s/console/%s?session=%lld&offset=%lld"
			      "&wait_ms=%d",
			      s->ag->cfg.agent, b->name, s->id, offset, SESSION_INPUT_WAIT_MS);
		struct http_reply r;
		unsigned char *data = NULL;
		size_t len = 0;

		http_reply_init(&r);
		if (http_request(&h, "GET", path, NULL, NULL, 0, NULL, &r) < 0 || r.status >= 500 ||
		    r.status == 0) {
			session_nap(s, SESSION_RETRY_MS);
		} else if (r.status == 200) {
			const char *d = jstr(r.json, "data", "");

			if (base64_decode(&data, &len, d, strlen(d)) == 0 && len > 0 &&
			    jint(r.json, "offset", -1) == offset) {
				if (fd_write_all(s->pipefd[1], data, len) < 0)
					s->ending = 1; /* io ended */
				else
					offset += (long long)len;
			}
			free(data);
		} else if (r.status != 204) {
			log_info("board %s: console session %lld: %s", b->name, s->id,
				 jstr(r.json, "detail", r.error));
			s->ending = 1;
		}
		http_reply_release(&r);
		free(path);
	}
	http_client_release(&h);
	close(s->pipefd[1]); /* io sees the end */
	s->input_done = 1;
	return NULL;
}

void session_note(struct session *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->mu);
	va_start(ap, fmt);
	vsnprintf(s->note, sizeof(s->note), fmt, ap);
	va_end(ap);
	s->note_seq++;
	pthread_mutex_unlock(&s->mu);
}

static void *session_stage(void *arg)
{
	struct session *s = arg;

	if (runner_stage(s->ag, &s->ag->cfg.boards[s->board], s->boot_attempt, NULL, s->boot_err,
			 sizeof(s->boot_err)) < 0)
		s->boot_state = SESSION_BOOT_FAILED;
	else
		s->boot_state = SESSION_BOOT_STAGED;
	return NULL;
}

int session_boot_start(struct session *s, const json_t *attempt)
{
	int rc;

	if (s->boot_state != SESSION_BOOT_NONE)
		return -EBUSY;
	s->boot_attempt = json_incref((json_t *)attempt);
	s->boot_err[0] = '\0';
	pthread_mutex_lock(&s->mu);
	s->boot_id = jint(attempt, "id", 0);
	s->verdict[0] = '\0'; /* a new boot, a new verdict */
	pthread_mutex_unlock(&s->mu);
	s->boot_state = SESSION_BOOT_STAGING;
	session_note(s, "boot: staging attempt %lld", jint(attempt, "id", 0));
	rc = pthread_create(&s->boot, NULL, session_stage, s);
	if (rc != 0) {
		s->boot_state = SESSION_BOOT_NONE;
		json_decref(s->boot_attempt);
		s->boot_attempt = NULL;
		return -rc;
	}
	return 0;
}

int session_boot_reap(struct session *s)
{
	int state = s->boot_state, go = 0;
	long long id;

	if (state != SESSION_BOOT_STAGED && state != SESSION_BOOT_FAILED)
		return 0;
	pthread_join(s->boot, NULL);
	id = jint(s->boot_attempt, "id", 0);
	if (state == SESSION_BOOT_FAILED) {
		session_note(s, "boot: attempt %lld: staging: %s", id, s->boot_err);
		session_verdict(s, "infra", "staging: %s", s->boot_err);
	} else {
		session_note(s, "boot: attempt %lld staged: power cycle", id);
		pthread_mutex_lock(&s->mu);
		json_decref(s->boot_job);
		s->boot_job = json_incref(json_object_get(s->boot_attempt, "job"));
		pthread_mutex_unlock(&s->mu);
		go = 1;
	}
	json_decref(s->boot_attempt);
	s->boot_attempt = NULL;
	s->boot_state = SESSION_BOOT_NONE;
	return go;
}

int session_start(struct session **out, struct agent *ag, size_t bi, const json_t *cmd)
{
	struct session *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->ag = ag;
	s->board = bi;
	s->id = jint(cmd, "session", 0);
	s->offset = jint(cmd, "offset", 0);
	if (pipe2(s->pipefd, O_CLOEXEC) < 0) {
		rc = -errno;
		free(s);
		return rc;
	}
	rc = pthread_create(&s->io, NULL, session_io, s);
	if (rc != 0) {
		close(s->pipefd[0]);
		close(s->pipefd[1]);
		free(s);
		return -rc;
	}
	rc = pthread_create(&s->input, NULL, session_input, s);
	if (rc != 0) {
		s->ending = 1;
		pthread_join(s->io, NULL);
		close(s->pipefd[1]);
		free(s);
		return -rc;
	}
	log_info("board %s: console session %lld attached (%s)", ag->cfg.boards[bi].name, s->id,
		 jstr(cmd, "reason", ""));
	*out = s;
	return 0;
}

int session_done(const struct session *s)
{
	return s->io_done && s->input_done;
}

void session_stop_free(struct session *s)
{
	if (s == NULL)
		return;
	s->ending = 1;
	pthread_join(s->io, NULL);
	pthread_join(s->input, NULL);
	if (s->boot_state != SESSION_BOOT_NONE)
		pthread_join(s->boot, NULL);
	json_decref(s->boot_attempt);
	json_decref(s->boot_job);
	if (s->judging)
		judge_release(&s->judge);
	pthread_mutex_destroy(&s->mu);
	log_info("board %s: console session %lld detached", s->ag->cfg.boards[s->board].name,
		 s->id);
	free(s);
}
