/* The bisector in the controller: it watches finished attempts for regressions
 * (a failure on a push flight is retested at the same revision first, on another
 * board of the class when there is one: a pass makes it a heisenbug, never
 * bisected; triage.h),
 * runs each bisection step as a flight pinned to one board of the class (the
 * board that saw the regression first) at bisection priority, records every run
 * in bisection_runs, and reports the outcome (mail, webhook; the twin is twins.c's).
 *
 * A bisection has no state but its rows: each step replays the recorded runs into
 * controller/bisect.c over a fresh revision walk, so a restarted controller goes
 * on where it was. Every function expects ctl.lock held, except bisector_start
 * and bisector_stop. */
#ifndef XENCI_BISECT_CTL_H
#define XENCI_BISECT_CTL_H

#include <jansson.h>
#include <stddef.h>

#include "attempts.h"
#include "buf.h"
#include "mail.h"
#include "validate.h"

#define BISECT_NOTIFY_MAX 32 /* configured recipients */

/* The `bisect` section of the controller's configuration (all optional):
 *   bisect:
 *     notify: [ci@example.org]          # every report goes to these
 *     mail_culprit_author: true         # and to the culprit's author (default true)
 *     sendmail: /usr/sbin/sendmail      # the mail section's, when that names none
 *     webhook: https://example.org/hook # POSTed the bisection's JSON
 *     base_url: https://ci.example.org  # for the links in the reports
 * config.c validates it (file:line:col) with these fields. */
extern const struct vfield bisect_conf_fields[];

/* The section, parsed (ctl.cfg.bisect holds it). */
struct bisect_conf {
	char *notify[BISECT_NOTIFY_MAX];
	size_t nnotify;
	int mail_author; /* mail_culprit_author */
	char *sendmail;	 /* bisect.sendmail as configured (config.c folds it into mail) */
	/* Where mail goes: ctl.cfg.mail (borrowed; set by config.c after loading):
	 * the one mail path of the controller (lib/mail.h). NULL or not ready: no mail. */
	const struct mail_transport *mail;
	char *webhook;	/* NULL: none */
	char *base_url; /* NULL: reports carry no link */
	/* The `owners` mapping (NULL: none): agent name → {notify, mail_culprit_author}:
	 * where the reports of bisections on that agent's private boards go, and only
	 * there. */
	json_t *owners;
};

/* Fills c from a section that bisect_conf_fields validated (NULL: none: the
 * defaults); c->mail is left NULL for config.c to set. The caller
 * releases c with bisect_conf_release(). bisect-notify.c. */
void bisect_conf_load(struct bisect_conf *c, const json_t *section);
void bisect_conf_release(struct bisect_conf *c);

/* Keeps conf (borrowed: it must outlive the bisector, as ctl.cfg.bisect does)
 * for the reports, registers the observer and starts the walker thread, which
 * makes each bisection's next step: it walks the commit graph without ctl.lock
 * (a repository handle of its own), then takes the lock to replay the runs and
 * make the step's flight. Running bisections are queued for it (a step due when
 * the controller stopped is made). main.c calls it once after trees_start,
 * without ctl.lock. Returns 0, or -ENOSPC (no observer slot left) or a thread's
 * error, with one message in err (errlen bytes). Without it, steps are made at
 * once, the walk under ctl.lock. */
int bisector_start(const struct bisect_conf *conf, char *err, size_t errlen);
/* Registers the observer alone (bisector_start then does not again): main.c
 * calls it before trees_start, so that the bisector sees each finished attempt
 * before the gate does (a failure's retest is recorded before the gate judges
 * its flight, triage.h). 0, or -ENOSPC (no observer slot left). */
int bisector_observe_start(void);
/* Stops the walker (the step it is at is finished; queued ones are dropped and
 * made again by the next bisector_start). Without ctl.lock. */
void bisector_stop(void);
/* Bisections waiting for their next step, or at it (the walker's queue). */
int bisector_pending(void);

/* The observer of finished attempts (registered by bisector_start). */
void bisector_observe(const struct attempt *a, enum attempt_state verdict, void *user);

/* Admin actions: 0, -ENOENT (no such bisection), -EALREADY (cancel: it is over;
 * restart: it is running). */
int bisector_cancel(long long id);
int bisector_restart(long long id);

/* Who else hears of a bisection that ended (after its report is on its way):
 * fn(twin) with twin_bisection's twin (borrowed), ctl.lock held. One hook; NULL
 * removes it. The flight reports (reports.h) set it, so that the bisector does
 * not need them. */
typedef int (*bisector_finish_fn)(const json_t *twin);
void bisector_on_finish(bisector_finish_fn fn);

/* Sends the report of a finished bisection (mail and/or webhook, as conf says;
 * conf NULL: none) from a thread of its own, which takes its own copies of
 * twin and conf; bisect-notify.c. owner: NULL for a bisection anyone may see;
 * for one on a private board, its agent: the report is then mailed only to that
 * owner's addresses (conf->owners; the culprit's author only when the owner's
 * mail_culprit_author says so) and goes to no webhook. Returns 1 when a report
 * is on its way, 0 when there is nothing to send, negative when it could not
 * start. */
int bisect_notify(const struct bisect_conf *conf, const json_t *twin, const char *owner);

#endif
