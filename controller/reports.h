/* Flight reports by mail, in the manner of OSSTest's sg-report-flight: after each
 * push flight of a watched branch whose configuration asks for it
 *
 *   branches:
 *     - name: staging
 *       report: {to: [xen-devel@example.org]}    # enabled: false turns it off
 *
 * once every (job, board class) of the flight has a verdict class (triage.h: no
 * row pending), a plain-text mail goes to those addresses through the one mail
 * path (lib/mail.h, the controller's `mail` section):
 *
 *   Subject: [staging test] 12: regressions - FAIL      (or: all pass - PUSHED,
 *            tolerable FAIL - PUSHED, all pass, tolerable FAIL)
 *   X-Xenci-Failures: staging:smoke:q35:regression      (one per row that did not pass)
 *   X-Xenci-Versions-This: xen=COMMIT
 *   X-Xenci-Versions-That: xen=COMMIT                   (the baseline, when there is one)
 *   In-Reply-To, References: the branch's previous report (its thread)
 *
 * with the sections "Regressions which are regarded as blocking", "Tests which did
 * not succeed, but are not blocking", "Tests which did not succeed, but are
 * allowable", the revisions tested and the baseline, the people who touched the
 * revisions under test, and the job x board class grid; a regression whose
 * bisection is known names it (and its culprit when found). When a bisection of
 * one of the flight's regressions ends, a follow-up with its culprit goes to the
 * same thread.
 *
 * Private boards (docs/security.md "Visibility"): a row whose boards include a
 * private one is left out of the report to the branch's addresses (which then
 * says that private boards' results were omitted); each owner agent of such a
 * board that bisect.owners.AGENT.notify names gets a report of its own, with its
 * rows, in a thread of its own. No report ever carries another owner's rows.
 *
 * Every message is recorded (db-reports.h) before it leaves, so each goes once
 * per audience; the sending runs in a thread of its own. Every function expects
 * ctl.lock held, except report_start. */
#ifndef XENCI_REPORTS_H
#define XENCI_REPORTS_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "mail.h"

struct trees_conf;
struct bisect_conf;

/* One row of a report: a (job, board class) of the flight and its verdict class.
 * Strings are borrowed from whoever fills the report. */
struct report_row {
	const char *job;
	const char *board_class;   /* "" for a test no board took */
	const char *verdict_class; /* triage_class_name: "regression", "pass", ... */
	char text[48];		   /* OSSTest's words: "REGR. vs. 12", "like 9", "pass" */
	int blocking;		   /* it holds the gate */
	const char *owner;	   /* NULL: public boards only; else the private board's agent */
	long long bisection;	   /* a regression's bisection of the revision tested, or 0 */
	const char *culprit;	   /* its culprit once found, or NULL */
	/* The known issue its failure matched (known-issues.h): id, label, link
	 * ("" for none); all NULL when none. */
	const char *known_issue, *known_label, *known_link;
};

/* What a report says; strings borrowed. */
struct report {
	const char *tree, *branch;
	long long flight;
	const char *commit;	 /* the revision tested */
	const char *baseline;	 /* the baseline revision ("That"), or NULL */
	const char *gate_ref;	 /* "refs/heads/master", or NULL when not gated */
	const char *gate_action; /* "advanced", "already", "held", or NULL */
	const char *base_url;	 /* for the flight's link, or NULL */
	const struct report_row *rows;
	size_t nrows;
	const char *const *people; /* "Name <address>" of the revisions under test */
	size_t npeople;
};

/* The audience of a report: NULL for the branch's list (rows of public boards
 * only), or an owner agent (public rows and that owner's). */

/* 1 when row r goes to audience. */
int report_row_for(const struct report_row *r, const char *audience);
/* The subject: "[BRANCH test] FLIGHT: regressions - FAIL" and the like, as the
 * rows audience sees make it. */
void report_subject(char *out, size_t n, const struct report *r, const char *audience);
/* The plain-text body for audience, appended to out. */
void report_render(struct buf *out, const struct report *r, const char *audience);
/* The machine-readable headers for audience (X-Xenci-Failures, one per row that
 * did not pass; X-Xenci-Known-Issues BRANCH:JOB:CLASS:ISSUE, one per row that
 * matched a known issue; X-Xenci-Versions-This/That) as an array of [name, value] pairs
 * (a new reference). */
json_t *report_headers(const struct report *r, const char *audience);

/* Registers the observer of finished attempts that sends the reports of the
 * watched trees' branches through mail, with bisect's owners and base_url.
 * Every pointer is borrowed and must outlive the controller's run (ctl.cfg's
 * do). Returns 0 or -ENOSPC (no observer slot). */
int report_start(const struct trees_conf *trees, const struct mail_transport *mail,
		 const struct bisect_conf *bisect);
/* Looks for the push flights of report-enabled branches that are done and not
 * reported yet, and reports them (the observer calls it; tests may too). */
void report_scan(void);
/* A bisection ended (twin: twin_bisection's, borrowed): a follow-up with its
 * outcome and culprit to the thread of the flight whose regression it bisected,
 * for each audience that flight's report went to and that may see the
 * bisection. Returns how many follow-ups were sent, or negative. */
int report_bisection(const json_t *twin);

#endif
