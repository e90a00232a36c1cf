#include "agent-loop.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent-config.h"
#include "agent.h"
#include "board.h"
#include "builder.h"
#include "client.h"
#include "clock.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "policy.h"
#include "power.h"
#include "runner.h"
#include "session.h"
#include "sign.h"
#include "spool.h"
#include "xmalloc.h"

#define MAX_LEFTOVERS 256

static struct agent *the_agent;
static _Atomic int reload_asked; /* set by the signal thread */

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: ending the running attempts and stopping", sig);
			the_agent->stopping = 1;
			return NULL;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading the agent and board files");
			reload_asked = 1;
		}
	}
}

/* Sleeps ms, waking early when the agent stops. */
static void nap(struct agent *ag, long ms)
{
	while (ms > 0 && !ag->stopping) {
		long step = ms > 100 ? 100 : ms;

		usleep((useconds_t)step * 1000);
		ms -= step;
	}
}

/* Attempts spooled by an earlier run: send what is left. One whose result is
 * missing was cut off by the agent's death: it ends as infra. */
static size_t resume_spool(struct agent *ag, struct sender **senders, size_t max)
{
	DIR *d = opendir(ag->cfg.spool_dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		struct spool_attempt *sa;
		json_t *res;
		char *dir;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		dir = xasprintf("%s/%s", ag->cfg.spool_dir, e->d_name);
		if (spool_reopen(&sa, dir, 0) < 0) {
			log_warn("spool %s", dir);
			free(dir);
			continue;
		}
		free(dir);
		res = spool_get_result(sa);
		if (res == NULL) {
			static const char note[] = "    0.000 # the agent stopped during the "
						   "attempt; it ends as infra\n";

			spool_append(sa, note, sizeof(note) - 1);
			res = json_pack("{s:s, s:s, s:[], s:[]}", "verdict", "infra", "reason",
					"the agent stopped during the attempt", "stages",
					"testcases");
			spool_set_result(sa, res);
		}
		json_decref(res);
		log_info("attempt %lld: resuming delivery at byte %lld of %lld", sa->id, sa->sent,
			 sa->written);
		if (sender_start(&senders[n], &ag->cfg, sa, 1) == 0)
			n++;
		else
			spool_close(sa);
	}
	closedir(d);
	return n;
}

static int board_index(const struct agent *ag, const char *name)
{
	size_t i;

	for (i = 0; i < ag->cfg.nboards; i++)
		if (!strcmp(ag->cfg.boards[i].name, name))
			return (int)i;
	return -1;
}

static void hand_back(struct http_client *h, const json_t *attempt, const char *why)
{
	json_t *res = json_pack("{s:s, s:s, s:[], s:[], s:i}", "verdict", "infra", "reason", why,
				"stages", "testcases", "log_length", 0);
	char err[256];

	agent_sign_result(res, attempt, &the_agent->cfg, NULL);
	if (client_post_result(h, jint(attempt, "id", 0), res, err, sizeof(err)) != CLIENT_OK)
		log_warnx("%s", err);
	json_decref(res);
}

/* The board's policy against what the claim says of its flight: 0 when it may
 * run; else the attempt is answered `refused` (never powered, nothing staged) and
 * -1. The controller schedules only what the declared policy allows, so this
 * stops a controller that is misconfigured, out of date or not honest. */
/* 1 when the board's policy allows what attempt's flight runs; else 0 and why. */
static int policy_ok(const struct board *b, const json_t *attempt, char *why, size_t whylen)
{
	const json_t *rev = json_object_get(attempt, "revision");
	struct policy_subject s = {
	    .kind = json_is_object(rev) ? jstr(rev, "kind", "") : NULL,
	    .tree = jstr(rev, "tree", NULL),
	    .ref = jstr(rev, "ref", NULL),
	    .user = jstr(rev, "user", NULL),
	};

	/* a health check has no flight; anything else without a revision is refused */
	if (!json_is_object(rev) && !jbool(attempt, "health_check", 0))
		s.kind = "(unknown)";
	return policy_allows(b->policy, &s, why, whylen);
}

static int policy_refuse(struct http_client *h, const struct board *b, const json_t *attempt)
{
	char why[300], err[256];
	json_t *res;

	if (policy_ok(b, attempt, why, sizeof(why)))
		return 0;
	log_warnx("attempt %lld on %s: refused: %s", jint(attempt, "id", 0), b->name, why);
	res = json_pack("{s:s, s:s, s:[], s:[], s:i}", "verdict", "refused", "reason", why,
			"stages", "testcases", "log_length", 0);
	if (client_post_result(h, jint(attempt, "id", 0), res, err, sizeof(err)) != CLIENT_OK)
		log_warnx("%s", err);
	json_decref(res);
	return -1;
}

static int declare(struct agent *ag, struct http_client *h)
{
	json_t *body = agent_declare_body(&ag->cfg, builder_declare_json(&ag->cfg));
	char err[600];
	int tries = 0, rc = -1;

	while (!ag->stopping) {
		rc = client_declare(h, ag->cfg.agent, body, err, sizeof(err));
		if (rc == CLIENT_OK) {
			log_info("declared %zu board%s to %s", ag->cfg.nboards,
				 ag->cfg.nboards > 1 ? "s" : "", ag->cfg.controller);
			break;
		}
		if (rc == CLIENT_FATAL) {
			log_warnx("%s", err);
			break;
		}
		if (tries == 0)
			log_warnx("%s; retrying", err);
		nap(ag, http_backoff_ms(500, 30000, tries < 16 ? tries : 16));
		tries++;
	}
	json_decref(body);
	return rc == CLIENT_OK ? 0 : -1;
}

/* SIGHUP: the files are read again; a valid set replaces the running one once no
 * attempt runs (runners and senders hold pointers into it), and the boards are
 * declared again. An invalid set is reported and the running one kept. */
static int reload(struct agent_config *pending, const char *agent_file)
{
	struct buf errors = BUF_INIT(0);
	int rc = agent_config_load(pending, agent_file, &errors);

	if (rc < 0) {
		fputs(buf_cstr(&errors), stderr);
		log_warnx("%s is not valid: keeping the boards as they are", agent_file);
	}
	buf_release(&errors);
	return rc;
}

static int any_busy(struct agent *ag, struct run **runs, struct session **sessions)
{
	size_t i;
	int busy = 0;

	pthread_mutex_lock(&ag->mu);
	for (i = 0; i < ag->cfg.nboards; i++)
		if (ag->busy[i] || runs[i] || sessions[i])
			busy = 1;
	pthread_mutex_unlock(&ag->mu);
	return busy;
}

/* The main loop's own state: the running attempts and builds, and a
 * configuration waiting to replace the running one. */
struct loop {
	struct agent *ag;
	const char *agent_file;
	struct http_client h;
	struct run **runs;			/* per board of ag->cfg */
	struct session **sessions;		/* per board: its console session, or NULL */
	struct build_run *bruns[BUILDER_SLOTS]; /* the builds running now */
	int bslot;				/* a free build slot, or -1 */
	struct agent_config pending;
	int have_pending, fails, spool_full;
	long long claimed_ms; /* when the last claim's reply came (clock_mono_ms) */
};

/* Joins the runners and builds that have ended; finds a free build slot. */
static void loop_reap(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->ag->cfg.nboards; i++) {
		if (l->runs[i] && l->runs[i]->done) {
			runner_join_free(l->runs[i]);
			l->runs[i] = NULL;
		}
		/* a boot staged for a held board: powered here, the main thread's */
		if (l->sessions[i] && session_boot_reap(l->sessions[i])) {
			struct board *b = &l->ag->cfg.boards[i];
			char err[512] = "";
			int cycled, rc = b->power->off(b, err, sizeof(err));

			if (rc == 0) {
				session_judge_start(l->sessions[i]);
				rc = power_start(b, &cycled, err, sizeof(err));
			}
			if (rc < 0) {
				session_note(l->sessions[i], "boot: power: %s", err);
				session_verdict(l->sessions[i], "infra", "power: %s", err);
			} else
				session_note(l->sessions[i], "boot: powered on (%s)",
					     cycled ? "cycled" : "off, then on");
			log_info("board %s: boot: power %s%s", b->name, rc < 0 ? "failed: " : "on",
				 err);
		}
		if (l->sessions[i] && session_done(l->sessions[i])) {
			session_stop_free(l->sessions[i]);
			l->sessions[i] = NULL;
		}
	}
	l->bslot = -1;
	for (i = 0; i < BUILDER_SLOTS; i++) {
		if (l->bruns[i] && l->bruns[i]->done) {
			builder_join_free(l->bruns[i]);
			l->bruns[i] = NULL;
		}
		if (l->bruns[i] == NULL)
			l->bslot = (int)i;
	}
}

/* SIGHUP: reads the files; a valid set replaces the running one once nothing
 * runs, and is declared. Returns 1 when the loop should not claim now, -1
 * when the new set cannot be declared, 0 otherwise. */
static int loop_reload(struct loop *l)
{
	struct agent *ag = l->ag;
	size_t i;

	if (reload_asked) {
		reload_asked = 0;
		if (l->have_pending)
			agent_config_release(&l->pending);
		l->have_pending = reload(&l->pending, l->agent_file) == 0;
	}
	if (!l->have_pending)
		return 0;
	/* no new work until the running attempts are done */
	if (any_busy(ag, l->runs, l->sessions)) {
		nap(ag, 50);
		return 1;
	}
	for (i = 0; i < l->pending.nboards; i++) {
		struct board *b = &l->pending.boards[i];

		mkdir_p(b->run_dir);
		mkdir_p(b->tftp_dir);
	}
	agent_config_release(&ag->cfg);
	ag->cfg = l->pending;
	l->have_pending = 0;
	free(ag->busy);
	free(l->runs);
	free(l->sessions);
	ag->busy = xcalloc(ag->cfg.nboards, sizeof(*ag->busy));
	l->runs = xcalloc(ag->cfg.nboards, sizeof(*l->runs));
	l->sessions = xcalloc(ag->cfg.nboards, sizeof(*l->sessions));
	http_client_release(&l->h);
	client_init(&l->h, &ag->cfg);
	return declare(ag, &l->h) < 0 ? -1 : 1;
}

/* One long-poll for work for the free boards (and a free build slot).
 * Returns 1 with *attempt, 0 when there is none now, -1 when the loop ends. */
static int loop_claim_once(struct loop *l, json_t **attempt)
{
	struct agent *ag = l->ag;
	const char *free_boards[256];
	size_t nfree = 0, i;
	char err[512];
	int got;

	pthread_mutex_lock(&ag->mu);
	for (i = 0; i < ag->cfg.nboards && nfree < 256; i++)
		if (!ag->busy[i] && l->runs[i] == NULL)
			free_boards[nfree++] = ag->cfg.boards[i].name;
	pthread_mutex_unlock(&ag->mu);
	if (nfree == 0 && !(ag->cfg.build && l->bslot >= 0)) {
		nap(ag, 50);
		return 0;
	}
	/* a backlog the controller has not taken yet: no new work on top of it */
	if (spool_usage(ag->cfg.spool_dir) > ag->cfg.limits.spool_bytes) {
		if (!l->spool_full++)
			log_warnx("the spool holds more than %lld MiB: claiming nothing "
				  "until the controller has it",
				  ag->cfg.limits.spool_bytes / 1024 / 1024);
		nap(ag, 1000);
		return 0;
	}
	l->spool_full = 0;
	got = client_claim(&l->h, &ag->cfg, free_boards, nfree, ag->cfg.build && l->bslot >= 0,
			   attempt, err, sizeof(err));
	l->claimed_ms = clock_mono_ms();
	if (got == CLIENT_RETRY || got == CLIENT_FATAL) {
		if (l->fails++ == 0)
			log_warnx("%s; retrying", err);
		nap(ag, http_backoff_ms(500, 30000, l->fails < 16 ? l->fails : 16));
		return 0;
	}
	if (l->fails) {
		log_info("the controller is back");
		l->fails = 0;
		if (declare(ag, &l->h) < 0) {
			json_decref(*attempt);
			*attempt = NULL;
			return -1;
		}
	}
	return got ? 1 : 0;
}

/* A console session for a free, reserved board: started, unless it runs already
 * (a command sent again); another session of the board ends first. */
static void loop_console(struct loop *l, size_t bi, const json_t *cmd)
{
	struct session *s = l->sessions[bi];

	if (s && s->id == jint(cmd, "session", 0) && !session_done(s))
		return;
	session_stop_free(s);
	l->sessions[bi] = NULL;
	if (session_start(&l->sessions[bi], l->ag, bi, cmd) < 0)
		log_warnx("board %s: cannot start its console session", l->ag->cfg.boards[bi].name);
}

/* A power action the controller sent for a free board (a reservation's end, or
 * its holder's `xenci power`): on, off, or off then on (the lab's cycle when the
 * board has one); or a console session (loop_console). Runs in the main loop: a
 * board's power is seconds at most (limits.power_timeout_s bounds the commands). */
static void loop_command(struct loop *l, const json_t *cmd)
{
	struct agent *ag = l->ag;
	const char *action = jstr(cmd, "action", ""), *board = jstr(cmd, "board", "");
	int bi = board_index(ag, board), cycled, rc = -1;
	struct board *b;
	char err[512] = "";

	if (bi < 0 || ag->busy[bi] || l->runs[bi]) {
		log_warnx("power %s for board %s, which cannot take it now: ignored", action,
			  board);
		return;
	}
	b = &ag->cfg.boards[bi];
	if (!strcmp(action, "console")) {
		loop_console(l, (size_t)bi, cmd);
		return;
	}
	if (!strcmp(action, "boot")) {
		struct session *s = l->sessions[bi];
		const json_t *attempt = json_object_get(cmd, "attempt");
		char why[300];

		if (s == NULL || s->id != jint(cmd, "session", 0)) {
			/* nobody to tell: the controller detaches the relay it does not
			 * see served (60 s), saying so */
			log_warnx("board %s: boot (%s) without its console session: ignored", board,
				  jstr(cmd, "reason", ""));
		} else if (!policy_ok(b, attempt, why, sizeof(why))) {
			/* the attempt's flight may not run here: nor may its boot */
			log_warnx("board %s: boot of attempt %lld refused: %s", board,
				  jint(attempt, "id", 0), why);
			session_boot_refuse(s, jint(attempt, "id", 0), why);
		} else if (session_boot_start(s, attempt) < 0) {
			snprintf(why, sizeof(why), "board %s: another boot is under way", board);
			session_boot_refuse(s, jint(attempt, "id", 0), why);
		}
		return;
	}
	if (!strcmp(action, "off")) {
		rc = b->power->off(b, err, sizeof(err));
	} else if (!strcmp(action, "on")) {
		rc = b->power->on(b, err, sizeof(err));
	} else if (!strcmp(action, "cycle")) {
		rc = b->power->off(b, err, sizeof(err));
		if (rc == 0)
			rc = power_start(b, &cycled, err, sizeof(err));
	}
	if (rc < 0)
		log_warnx("board %s: power %s (%s): %s", board, action, jstr(cmd, "reason", ""),
			  err[0] ? err : "unknown action");
	else
		log_info("board %s: power %s (%s)", board, action, jstr(cmd, "reason", ""));
}

/* Starts a claimed attempt on its board's runner or a build slot, or hands it
 * back as infra; a command (a board's power) is done at once. Takes the
 * reference. */
static void loop_dispatch(struct loop *l, json_t *attempt)
{
	struct agent *ag = l->ag;
	int bi;

	if (json_object_get(attempt, "command")) {
		loop_command(l, json_object_get(attempt, "command"));
		json_decref(attempt);
		return;
	}
	if (!strcmp(jstr(attempt, "kind", ""), "build")) {
		if (ag->stopping || l->bslot < 0 ||
		    builder_start(&l->bruns[l->bslot], ag, attempt) < 0) {
			hand_back(&l->h, attempt, "the builder cannot take it now");
			json_decref(attempt);
		}
		return;
	}
	bi = board_index(ag, jstr(attempt, "board", ""));
	if (ag->stopping || bi < 0 || ag->busy[bi] || l->runs[bi]) {
		log_warnx("attempt %lld: for board %s, which cannot take it now",
			  jint(attempt, "id", 0), jstr(attempt, "board", "?"));
		hand_back(&l->h, attempt,
			  ag->stopping ? "the agent is stopping" : "the board is not free");
		json_decref(attempt);
		return;
	}
	/* a console session left from a reservation that ended: the attempt has the
	 * console now */
	session_stop_free(l->sessions[bi]);
	l->sessions[bi] = NULL;
	if (policy_refuse(&l->h, &ag->cfg.boards[bi], attempt) < 0) {
		json_decref(attempt);
		return;
	}
	pthread_mutex_lock(&ag->mu);
	ag->busy[bi] = 1;
	pthread_mutex_unlock(&ag->mu);
	if (runner_start(&l->runs[bi], ag, (size_t)bi, attempt, l->claimed_ms) < 0) {
		hand_back(&l->h, attempt, "the agent cannot start a thread");
		json_decref(attempt);
		pthread_mutex_lock(&ag->mu);
		ag->busy[bi] = 0;
		pthread_mutex_unlock(&ag->mu);
	}
}

int agent_main(const char *agent_file)
{
	struct agent ag;
	struct loop l;
	struct buf errors = BUF_INIT(0);
	struct sender *left[MAX_LEFTOVERS];
	sigset_t set;
	pthread_t sigthr;
	size_t nleft, i;
	int rc = 1;

	memset(&ag, 0, sizeof(ag));
	memset(&l, 0, sizeof(l));
	l.ag = &ag;
	l.agent_file = agent_file;
	if (agent_config_load(&ag.cfg, agent_file, &errors) < 0) {
		fputs(buf_cstr(&errors), stderr);
		log_warnx("%s is not valid: not starting", agent_file);
		buf_release(&errors);
		return 1;
	}
	buf_release(&errors);
	{
		char err[600];

		/* Before any thread: the key signs every result from here on. */
		if (agent_sign_open(ag.cfg.work_dir, err, sizeof(err)) < 0) {
			log_warnx("signing key: %s: not starting", err);
			agent_config_release(&ag.cfg);
			return 1;
		}
	}
	the_agent = &ag;
	pthread_mutex_init(&ag.mu, NULL);
	ag.busy = xcalloc(ag.cfg.nboards, sizeof(*ag.busy));
	l.runs = xcalloc(ag.cfg.nboards, sizeof(*l.runs));
	l.sessions = xcalloc(ag.cfg.nboards, sizeof(*l.sessions));
	if (mkdir_p(ag.cfg.spool_dir) < 0 ||
	    cache_init(&ag.cache, ag.cfg.cache_dir, ag.cfg.limits.cache_bytes) < 0) {
		log_warn("cannot make %s or %s", ag.cfg.spool_dir, ag.cfg.cache_dir);
		goto out;
	}
	for (i = 0; i < ag.cfg.nboards; i++) {
		struct board *b = &ag.cfg.boards[i];
		char err[512];

		mkdir_p(b->run_dir);
		mkdir_p(b->tftp_dir);
		if (b->power->reap)
			b->power->reap(b);
		/* a board left on by an earlier run starts from off */
		if (b->power->off(b, err, sizeof(err)) < 0)
			log_warnx("board %s: power off at start: %s", b->name, err);
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&sigthr, NULL, signal_thread, &set);
	pthread_detach(sigthr);

	nleft = resume_spool(&ag, left, MAX_LEFTOVERS);
	client_init(&l.h, &ag.cfg);
	if (declare(&ag, &l.h) < 0 && !ag.stopping)
		goto stop;
	while (!ag.stopping) {
		json_t *attempt = NULL;
		int got;

		loop_reap(&l);
		got = loop_reload(&l);
		if (got < 0)
			break;
		if (got > 0)
			continue;
		got = loop_claim_once(&l, &attempt);
		if (got < 0)
			break;
		if (got > 0)
			loop_dispatch(&l, attempt);
	}
stop:
	rc = ag.stopping ? 0 : 1;
	if (l.have_pending)
		agent_config_release(&l.pending);
	for (i = 0; i < BUILDER_SLOTS; i++)
		builder_join_free(l.bruns[i]);
	for (i = 0; i < ag.cfg.nboards; i++) {
		if (l.runs[i])
			runner_join_free(l.runs[i]);
		session_stop_free(l.sessions[i]);
	}
	for (i = 0; i < nleft; i++)
		sender_stop_free(left[i], 3000);
	http_client_release(&l.h);
	log_info("stopped");
out:
	cache_release(&ag.cache);
	free(l.runs);
	free(l.sessions);
	free(ag.busy);
	agent_config_release(&ag.cfg);
	return rc;
}
