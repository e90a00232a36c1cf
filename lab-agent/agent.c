#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "builder.h"
#include "client.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "power.h"
#include "runner.h"
#include "spool.h"
#include "xmalloc.h"

#define MAX_LEFTOVERS 256

static struct agent *the_agent;
static volatile sig_atomic_t reload_asked;

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

	if (client_post_result(h, jint(attempt, "id", 0), res, err, sizeof(err)) != CLIENT_OK)
		log_warnx("%s", err);
	json_decref(res);
}

static int declare(struct agent *ag, struct http_client *h)
{
	char err[600];
	int tries = 0, rc;

	while (!ag->stopping) {
		rc = client_declare(h, &ag->cfg, err, sizeof(err));
		if (rc == CLIENT_OK) {
			log_info("declared %zu board%s to %s", ag->cfg.nboards,
				 ag->cfg.nboards > 1 ? "s" : "", ag->cfg.controller);
			return 0;
		}
		if (rc == CLIENT_FATAL) {
			log_warnx("%s", err);
			return -1;
		}
		if (tries == 0)
			log_warnx("%s; retrying", err);
		nap(ag, http_backoff_ms(500, 30000, tries < 16 ? tries : 16));
		tries++;
	}
	return -1;
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

static int any_busy(struct agent *ag, struct run **runs)
{
	size_t i;
	int busy = 0;

	pthread_mutex_lock(&ag->mu);
	for (i = 0; i < ag->cfg.nboards; i++)
		if (ag->busy[i] || runs[i])
			busy = 1;
	pthread_mutex_unlock(&ag->mu);
	return busy;
}

int agent_main(const char *agent_file)
{
	struct agent ag;
	struct buf errors = BUF_INIT(0);
	struct http_client h;
	struct sender *left[MAX_LEFTOVERS];
	struct run **runs;
	struct build_run *bruns[BUILDER_SLOTS] = {NULL}; /* the builds running now */
	int bslot = -1;					 /* a free build slot, or -1 */
	sigset_t set;
	pthread_t sigthr;
	size_t nleft, i, nruns = 0;
	int fails = 0, spool_full = 0, rc = 1, have_pending = 0;
	struct agent_config pending;

	memset(&ag, 0, sizeof(ag));
	if (agent_config_load(&ag.cfg, agent_file, &errors) < 0) {
		fputs(buf_cstr(&errors), stderr);
		log_warnx("%s is not valid: not starting", agent_file);
		buf_release(&errors);
		return 1;
	}
	buf_release(&errors);
	the_agent = &ag;
	pthread_mutex_init(&ag.mu, NULL);
	ag.busy = xcalloc(ag.cfg.nboards, sizeof(*ag.busy));
	runs = xcalloc(ag.cfg.nboards, sizeof(*runs));
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
	client_init(&h, &ag.cfg);
	if (declare(&ag, &h) < 0 && !ag.stopping)
		goto stop;
	while (!ag.stopping) {
		const char *free_boards[256];
		size_t nfree = 0;
		json_t *attempt = NULL;
		char err[512];
		int got, bi;

		for (i = 0; i < ag.cfg.nboards; i++) {
			if (runs[i] && runs[i]->done) {
				runner_join_free(runs[i]);
				runs[i] = NULL;
				nruns--;
			}
		}
		bslot = -1;
		for (i = 0; i < BUILDER_SLOTS; i++) {
			if (bruns[i] && bruns[i]->done) {
				builder_join_free(bruns[i]);
				bruns[i] = NULL;
			}
			if (bruns[i] == NULL)
				bslot = (int)i;
		}
		if (reload_asked) {
			reload_asked = 0;
			if (have_pending)
				agent_config_release(&pending);
			have_pending = reload(&pending, agent_file) == 0;
		}
		if (have_pending) {
			/* no new work until the running attempts are done */
			if (any_busy(&ag, runs)) {
				nap(&ag, 50);
				continue;
			}
			for (i = 0; i < pending.nboards; i++) {
				struct board *b = &pending.boards[i];

				mkdir_p(b->run_dir);
				mkdir_p(b->tftp_dir);
			}
			agent_config_release(&ag.cfg);
			ag.cfg = pending;
			have_pending = 0;
			free(ag.busy);
			free(runs);
			ag.busy = xcalloc(ag.cfg.nboards, sizeof(*ag.busy));
			runs = xcalloc(ag.cfg.nboards, sizeof(*runs));
			http_client_release(&h);
			client_init(&h, &ag.cfg);
			if (declare(&ag, &h) < 0)
				break;
			continue;
		}
		pthread_mutex_lock(&ag.mu);
		for (i = 0; i < ag.cfg.nboards && nfree < 256; i++)
			if (!ag.busy[i] && runs[i] == NULL)
				free_boards[nfree++] = ag.cfg.boards[i].name;
		pthread_mutex_unlock(&ag.mu);
		if (nfree == 0 && !(ag.cfg.build && bslot >= 0)) {
			nap(&ag, 50);
			continue;
		}
		/* a backlog the controller has not taken yet: no new work on top of it */
		if (spool_usage(ag.cfg.spool_dir) > ag.cfg.limits.spool_bytes) {
			if (!spool_full++)
				log_warnx("the spool holds more than %lld MiB: claiming nothing "
					  "until the controller has it",
					  ag.cfg.limits.spool_bytes / 1024 / 1024);
			nap(&ag, 1000);
			continue;
		}
		spool_full = 0;
		got = client_claim(&h, &ag.cfg, free_boards, nfree, ag.cfg.build && bslot >= 0,
				   &attempt, err, sizeof(err));
		if (got == CLIENT_RETRY || got == CLIENT_FATAL) {
			if (fails++ == 0)
				log_warnx("%s; retrying", err);
			nap(&ag, http_backoff_ms(500, 30000, fails < 16 ? fails : 16));
			continue;
		}
		if (fails) {
			log_info("the controller is back");
			fails = 0;
			if (declare(&ag, &h) < 0)
				break;
		}
		if (got == 0)
			continue;
		if (!strcmp(jstr(attempt, "kind", ""), "build")) {
			if (ag.stopping || bslot < 0 ||
			    builder_start(&bruns[bslot], &ag, attempt) < 0) {
				hand_back(&h, attempt, "the builder cannot take it now");
				json_decref(attempt);
			}
			continue;
		}
		bi = board_index(&ag, jstr(attempt, "board", ""));
		if (ag.stopping || bi < 0 || ag.busy[bi] || runs[bi]) {
			log_warnx("attempt %lld: for board %s, which cannot take it now",
				  jint(attempt, "id", 0), jstr(attempt, "board", "?"));
			hand_back(&h, attempt,
				  ag.stopping ? "the agent is stopping" : "the board is not free");
			json_decref(attempt);
			continue;
		}
		pthread_mutex_lock(&ag.mu);
		ag.busy[bi] = 1;
		pthread_mutex_unlock(&ag.mu);
		if (runner_start(&runs[bi], &ag, (size_t)bi, attempt) < 0) {
			hand_back(&h, attempt, "the agent cannot start a thread");
			json_decref(attempt);
			ag.busy[bi] = 0;
			continue;
		}
		nruns++;
	}
stop:
	rc = ag.stopping ? 0 : 1;
	if (have_pending)
		agent_config_release(&pending);
	for (i = 0; i < BUILDER_SLOTS; i++)
		builder_join_free(bruns[i]);
	for (i = 0; i < ag.cfg.nboards; i++)
		if (runs[i])
			runner_join_free(runs[i]);
	for (i = 0; i < nleft; i++)
		sender_stop_free(left[i], 3000);
	http_client_release(&h);
	log_info("stopped");
out:
	cache_release(&ag.cache);
	free(runs);
	free(ag.busy);
	agent_config_release(&ag.cfg);
	return rc;
}
