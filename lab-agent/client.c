#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "hash.h"
#include "json-util.h"
#include "log.h"
#include "sign.h"
#include "spool.h"
#include "xmalloc.h"

int client_init(struct http_client *h, const struct agent_config *cfg)
{
	int rc = http_client_init(h, cfg->controller, cfg->token);

	if (rc < 0)
		return rc;
	if (cfg->cafile)
		h->cafile = xstrdup(cfg->cafile);
	h->retries = 0; /* callers retry themselves, so that they can stop */
	h->connect_timeout_ms = 5000;
	h->timeout_ms = 30000;
	return 0;
}

static int classify(int rc, const struct http_reply *r)
{
	if (rc < 0 || r->status == 0 || r->status >= 500 || r->status == 429)
		return CLIENT_RETRY;
	return r->status >= 400 ? CLIENT_FATAL : CLIENT_OK;
}

int client_declare(struct http_client *h, const char *agent, json_t *body, char *err, size_t errlen)
{
	struct http_reply r;
	char *path = xasprintf("/api/v1/agents/%s/boards", agent);
	int rc;

	http_reply_init(&r);
	rc = classify(http_json(h, "PUT", path, body, &r), &r);
	if (rc != CLIENT_OK)
		snprintf(err, errlen, "declare: %s%s%s", r.error,
			 json_object_get(r.json, "detail") ? " " : "",
			 json_object_get(r.json, "detail") ? "(see detail)" : "");
	if (rc == CLIENT_FATAL && r.json) {
		char *d = json_compact(r.json);

		snprintf(err, errlen, "declare refused (HTTP %ld): %.400s", r.status, d);
		free(d);
	}
	http_reply_release(&r);
	free(path);
	return rc;
}

int client_claim(struct http_client *h, const struct agent_config *cfg, const char *const *boards,
		 size_t nboards, int build, json_t **attempt, char *err, size_t errlen)
{
	json_t *body = json_object(), *arr = json_array();
	struct http_reply r;
	char *path = xasprintf("/api/v1/agents/%s/claim", cfg->agent);
	long saved = h->timeout_ms;
	size_t i;
	int rc;

	*attempt = NULL;
	for (i = 0; i < nboards; i++)
		json_array_append_new(arr, json_string(boards[i]));
	json_object_set_new(body, "boards", arr);
	json_object_set_new(body, "build", json_boolean(build));
	json_object_set_new(body, "wait_ms", json_integer(cfg->limits.claim_wait_ms));
	h->timeout_ms = cfg->limits.claim_wait_ms + 15000;
	http_reply_init(&r);
	rc = classify(http_json(h, "POST", path, body, &r), &r);
	h->timeout_ms = saved;
	if (rc == CLIENT_OK && r.status == 200) {
		json_t *a = json_object_get(r.json, "attempt");
		json_t *cmd = json_object_get(r.json, "command");

		if (json_is_object(a) && json_is_integer(json_object_get(a, "id"))) {
			*attempt = json_incref(a);
			rc = 1;
		} else if (json_is_object(cmd)) {
			*attempt = json_pack("{s:O}", "command", cmd);
			rc = 1;
		} else {
			snprintf(err, errlen, "claim: a reply without an attempt");
			rc = CLIENT_RETRY;
		}
	} else if (rc != CLIENT_OK) {
		snprintf(err, errlen, "claim: %s", r.error);
	}
	http_reply_release(&r);
	json_decref(body);
	free(path);
	return rc;
}

int client_post_result(struct http_client *h, long long id, const json_t *result, char *err,
		       size_t errlen)
{
	struct http_reply r;
	char *path = xasprintf("/api/v1/attempts/%lld/result", id);
	int rc;

	http_reply_init(&r);
	rc = classify(http_json(h, "POST", path, result, &r), &r);
	if (rc != CLIENT_OK)
		snprintf(err, errlen, "result of attempt %lld: %s", id, r.error);
	if (rc == CLIENT_FATAL && (r.status == 410 || r.status == 409))
		rc = r.status == 410 ? -410 : -409;
	http_reply_release(&r);
	free(path);
	return rc;
}

/* Signs the spooled result res: the record of the attempt as claimed, over the log
 * bytes the controller holds (the first s->sa->sent). Deterministic (Ed25519): a
 * resend signs the same bytes again. Not signed (and sent so) when the log cannot be
 * read back; the controller then refuses it if the agent has a key. */
static void sign_spooled(json_t *res, struct sender *s)
{
	char hex[SHA256_HEX_LEN + 1], chunk[65536];
	json_t *attempt = spool_get_attempt(s->sa);
	struct sha256_ctx c;
	long long off = 0, n = 0;

	if (attempt == NULL || sha256_init(&c) < 0) {
		json_decref(attempt);
		return;
	}
	while (off < s->sa->sent) {
		long long want = s->sa->sent - off;

		n = spool_read(s->sa, off, chunk,
			       want < (long long)sizeof(chunk) ? (size_t)want : sizeof(chunk));
		if (n <= 0 || sha256_update(&c, chunk, (size_t)n) < 0)
			break;
		off += n;
	}
	if (off == s->sa->sent && sha256_final(&c, hex) == 0) {
		if (agent_sign_result(res, attempt, s->cfg, hex) < 0)
			log_warnx("attempt %lld: the result is not signed", s->sa->id);
	} else {
		sha256_release(&c);
		log_warnx("attempt %lld: the spooled log cannot be read back to sign it",
			  s->sa->id);
	}
	json_decref(attempt);
}

/* Waits on s->cv until ms (monotonic) at most. Called with s->mu held. */
static void wait_until(struct sender *s, long long until_ms)
{
	struct timespec ts;
	long long now = clock_mono_ms();

	if (until_ms <= now)
		return;
	clock_deadline(&ts, until_ms - now);
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* One PUT of the log from s->sa->sent. Returns CLIENT_OK, CLIENT_RETRY, or
 * -410 when the attempt is no longer ours. */
static int send_log(struct sender *s, struct http_client *h, char *chunk)
{
	struct spool_attempt *sa = s->sa;
	struct http_reply r;
	long long avail, n;
	char path[128];
	int rc;

	pthread_mutex_lock(&s->mu);
	avail = s->written - sa->sent;
	pthread_mutex_unlock(&s->mu);
	if (avail <= 0 || s->log_full)
		return CLIENT_OK;
	n = spool_read(sa, sa->sent, chunk,
		       avail > CLIENT_LOG_CHUNK ? CLIENT_LOG_CHUNK : (size_t)avail);
	if (n <= 0)
		return CLIENT_RETRY;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=%lld", sa->id, sa->sent);
	http_reply_init(&r);
	rc = http_request(h, "PUT", path, "application/octet-stream", chunk, (size_t)n, NULL, &r);
	if (rc < 0 || r.status == 0 || r.status >= 500 || r.status == 429) {
		log_debug("attempt %lld: log at %lld: %s", sa->id, sa->sent, r.error);
		rc = CLIENT_RETRY;
	} else if (r.status == 200) {
		long long len = jint(r.json, "length", sa->sent + n);

		if (len > sa->sent + n || len < 0)
			len = sa->sent + n;
		spool_set_sent(sa, len);
		s->acked = len;
		rc = CLIENT_OK;
	} else if (r.status == 409) {
		long long len = jint(json_object_get(r.json, "detail"), "length", -1);

		/* a gap: the controller has less (it lost a tail) or more; resend from there */
		if (len >= 0 && len <= s->written)
			spool_set_sent(sa, len);
		rc = CLIENT_RETRY;
	} else if (r.status == 413) {
		log_warnx("attempt %lld: the controller keeps no more log (%lld bytes)", sa->id,
			  sa->sent);
		s->log_full = 1;
		rc = CLIENT_OK;
	} else if (r.status == 410 || r.status == 404) {
		rc = -410;
	} else {
		log_warnx("attempt %lld: log refused: HTTP %ld %s", sa->id, r.status, r.error);
		rc = CLIENT_RETRY;
	}
	http_reply_release(&r);
	return rc;
}

static int send_heartbeat(struct sender *s, struct http_client *h)
{
	struct http_reply r;
	json_t *body;
	char path[128];
	int rc;

	pthread_mutex_lock(&s->mu);
	body = s->stage[0] ? json_pack("{s:s}", "stage", s->stage) : json_object();
	pthread_mutex_unlock(&s->mu);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/heartbeat", s->sa->id);
	http_reply_init(&r);
	rc = http_json(h, "POST", path, body, &r);
	if (rc < 0 || r.status == 0 || r.status >= 500) {
		rc = CLIENT_RETRY;
	} else if (r.status == 200) {
		int lease = (int)jint(r.json, "lease_seconds", 60);

		s->lease_seconds = lease > 0 ? lease : 60;
		rc = CLIENT_OK;
	} else if (r.status == 410 || r.status == 404) {
		rc = -410;
	} else {
		log_warnx("attempt %lld: heartbeat refused: HTTP %ld %s", s->sa->id, r.status,
			  r.error);
		rc = CLIENT_RETRY;
	}
	json_decref(body);
	http_reply_release(&r);
	return rc;
}

/* 1 when the log has bytes to send now: the oldest waited CLIENT_LOG_LINGER_MS,
 * CLIENT_LOG_BATCH are pending, or the attempt ended (its result waits for the
 * log). Called with s->mu held. */
static int log_due(const struct sender *s, long long now)
{
	if (s->written <= s->sa->sent || s->log_full)
		return 0;
	return s->finished || s->stopping || s->pending_since == 0 ||
	       now >= s->pending_since + CLIENT_LOG_LINGER_MS ||
	       s->written - s->sa->sent >= CLIENT_LOG_BATCH;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct http_client h;
	char *chunk = xmalloc(CLIENT_LOG_CHUNK);
	long long next_hb = 0, next_try = 0;
	int fails = 0, delivered = 0;

	client_init(&h, s->cfg);
	h.timeout_ms = 15000;
	for (;;) {
		long long now = clock_mono_ms(), wake;
		int finished, stopping, pending, rc = CLIENT_OK;

		pthread_mutex_lock(&s->mu);
		finished = s->finished;
		stopping = s->stopping;
		pending = log_due(s, now);
		wake = next_try > now ? next_try
		       : pending || finished
			   ? now
			   : (s->pending_since ? s->pending_since + CLIENT_LOG_LINGER_MS : next_hb);
		if (!finished && next_hb < wake)
			wake = next_hb;
		if (wake > now)
			wait_until(s, wake);
		finished = s->finished;
		stopping = s->stopping;
		pending = log_due(s, clock_mono_ms());
		pthread_mutex_unlock(&s->mu);
		now = clock_mono_ms();
		if (stopping && (fails > 0 || !finished))
			break; /* the controller is away: the spool keeps the rest */
		if (now < next_try) {
			if (stopping)
				break;
			continue;
		}
		if (pending) {
			rc = send_log(s, &h, chunk);
			/* what came meanwhile lingers from now */
			pthread_mutex_lock(&s->mu);
			s->pending_since = s->written > s->sa->sent ? clock_mono_ms() : 0;
			s->pending_base = s->sa->sent;
			pthread_mutex_unlock(&s->mu);
		}
		if (rc == CLIENT_OK && !finished && now >= next_hb) {
			rc = send_heartbeat(s, &h);
			if (rc == CLIENT_OK) {
				int every = s->cfg->limits.heartbeat_s ? s->cfg->limits.heartbeat_s
								       : s->lease_seconds / 3;

				next_hb = now + (every > 0 ? every : 1) * 1000LL;
			}
		}
		if (rc == CLIENT_OK && finished) {
			pthread_mutex_lock(&s->mu);
			pending = s->written > s->sa->sent && !s->log_full;
			pthread_mutex_unlock(&s->mu);
			if (!pending) {
				json_t *res = spool_get_result(s->sa);
				char err[300];

				if (res == NULL) {
					log_warnx("attempt %lld: its stored result is unreadable",
						  s->sa->id);
					res = json_pack("{s:s, s:s}", "verdict", "infra", "reason",
							"the agent lost the result");
				}
				json_object_set_new(res, "log_length", json_integer(s->sa->sent));
				sign_spooled(res, s);
				rc = client_post_result(&h, s->sa->id, res, err, sizeof(err));
				json_decref(res);
				if (rc == CLIENT_OK) {
					delivered = 1;
				} else if (rc == -409) {
					log_warnx("%s: the controller holds another result", err);
					delivered = 1;
				} else if (rc == CLIENT_FATAL) {
					log_warnx("%s", err);
					delivered = 1; /* retrying will not help; do not loop */
				}
				if (delivered) {
					log_info("attempt %lld: delivered", s->sa->id);
					spool_remove(s->sa);
					break;
				}
			}
		}
		if (rc == -410) {
			log_warnx("attempt %lld: the lease lapsed or the attempt was cancelled",
				  s->sa->id);
			pthread_mutex_lock(&s->mu);
			s->lapsed = 1;
			pthread_mutex_unlock(&s->mu);
			spool_remove(s->sa);
			break;
		}
		if (rc == CLIENT_RETRY) {
			next_try =
			    clock_mono_ms() + http_backoff_ms(200, 10000, fails < 16 ? fails : 16);
			if (fails++ == 0)
				log_warnx("attempt %lld: the controller is not answering; retrying",
					  s->sa->id);
		} else if (rc == CLIENT_OK) {
			if (fails)
				log_info("attempt %lld: the controller is back", s->sa->id);
			fails = 0;
			next_try = 0;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	http_client_release(&h);
	free(chunk);
	return NULL;
}

int sender_start(struct sender **out, const struct agent_config *cfg, struct spool_attempt *sa,
		 int finished)
{
	struct sender *s = xcalloc(1, sizeof(*s));
	int rc;

	s->cfg = cfg;
	s->sa = sa;
	s->written = sa->written;
	s->acked = sa->sent;
	s->finished = finished;
	s->lease_seconds = 60;
	pthread_mutex_init(&s->mu, NULL);
	clock_cond_init(&s->cv);
	rc = pthread_create(&s->thread, NULL, sender_main, s);
	if (rc != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return -rc;
	}
	*out = s;
	return 0;
}

void sender_wrote(struct sender *s, long long written)
{
	pthread_mutex_lock(&s->mu);
	s->written = written;
	/* The sender wakes for the first pending byte (to time its linger) and for a
	 * full batch, not for every console read. */
	if (s->pending_since == 0) {
		s->pending_since = clock_mono_ms();
		s->pending_base = written;
		pthread_cond_broadcast(&s->cv);
	} else if (written - s->pending_base >= CLIENT_LOG_BATCH) {
		s->pending_base = written;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

void sender_set_stage(struct sender *s, const char *stage)
{
	pthread_mutex_lock(&s->mu);
	snprintf(s->stage, sizeof(s->stage), "%s", stage);
	pthread_mutex_unlock(&s->mu);
}

void sender_finish(struct sender *s)
{
	pthread_mutex_lock(&s->mu);
	s->finished = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void sender_wait_done(struct sender *s, _Atomic int *stop)
{
	struct timespec ts;

	pthread_mutex_lock(&s->mu);
	while (!s->done && !*stop) {
		clock_deadline(&ts, 100);
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
}

int sender_lapsed(struct sender *s)
{
	int l;

	pthread_mutex_lock(&s->mu);
	l = s->lapsed;
	pthread_mutex_unlock(&s->mu);
	return l;
}

static void sender_free(struct sender *s)
{
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	spool_close(s->sa);
	free(s);
}

void sender_stop_free(struct sender *s, int wait_ms)
{
	long long until = clock_mono_ms() + wait_ms;

	pthread_mutex_lock(&s->mu);
	while (!s->done && clock_mono_ms() < until)
		wait_until(s, until);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	sender_free(s);
}

void sender_join_free(struct sender *s)
{
	sender_free(s);
}
