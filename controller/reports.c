/* Flight reports by mail (reports.h). Three parts: rendering (pure: a struct
 * report and an audience in, text out), gathering (under ctl.lock: the flight's
 * triage rows, their owners, the baseline, the people), and sending (a detached
 * thread per message, with its own copies). */
#include "reports.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempts.h"
#include "bisect-git.h"
#include "bisector.h"
#include "ctl.h"
#include "db-bisections.h"
#include "db-boards.h"
#include "db-flights.h"
#include "db-reports.h"
#include "db-trees.h"
#include "json-util.h"
#include "log.h"
#include "roles.h"
#include "trees.h"
#include "triage.h"
#include "twins.h"
#include "watch.h"
#include "xmalloc.h"

#define PEOPLE_MAX    64	       /* names in "People who touched revisions under test" */
#define SCAN_FLIGHTS  3		       /* the newest push flights of a branch a scan considers */
#define SCAN_AGE_MS   (48LL * 3600000) /* ... made at most this long ago */
#define OWNERS_MAX    16	       /* owner audiences of one flight */
#define COL_JOB_MAX   40	       /* the grid's columns are cut here */
#define COL_CLASS_MAX 16

/* ---- rendering ---------------------------------------------------------- */

int report_row_for(const struct report_row *r, const char *audience)
{
	return r->owner == NULL || (audience && !strcmp(r->owner, audience));
}

static int row_passed(const struct report_row *r)
{
	return !strcmp(r->verdict_class, "pass");
}

static int row_allowed(const struct report_row *r)
{
	return !strcmp(r->verdict_class, "allowed");
}

/* Counts of audience's rows: blocking, failed (not pass), omitted (not for it). */
static void report_counts(const struct report *r, const char *audience, size_t *blocking,
			  size_t *failed, size_t *omitted)
{
	size_t i;

	*blocking = *failed = *omitted = 0;
	for (i = 0; i < r->nrows; i++) {
		if (!report_row_for(&r->rows[i], audience)) {
			(*omitted)++;
			continue;
		}
		*blocking += r->rows[i].blocking != 0;
		*failed += !row_passed(&r->rows[i]);
	}
}

static int pushed(const struct report *r)
{
	return r->gate_action &&
	       (!strcmp(r->gate_action, "advanced") || !strcmp(r->gate_action, "already"));
}

void report_subject(char *out, size_t n, const struct report *r, const char *audience)
{
	size_t blocking, failed, omitted;
	const char *what;

	report_counts(r, audience, &blocking, &failed, &omitted);
	what = blocking ? "regressions - FAIL" : failed ? "tolerable FAIL" : "all pass";
	snprintf(out, n, "[%s test] %lld: %s%s", r->branch, r->flight, what,
		 !blocking && pushed(r) ? " - PUSHED" : "");
}

/* One line of a section: the job, its board class and OSSTest's words; then its
 * bisection, when there is one. */
static void row_line(struct buf *out, const struct report_row *row)
{
	buf_printf(out, " %-*.*s %-*.*s %s\n", COL_JOB_MAX, COL_JOB_MAX, row->job, COL_CLASS_MAX,
		   COL_CLASS_MAX, *row->board_class ? row->board_class : "(no board)", row->text);
	if (row->bisection > 0 && row->culprit)
		buf_printf(out, "   bisection %lld: culprit %s\n", row->bisection, row->culprit);
	else if (row->bisection > 0)
		buf_printf(out, "   bisection %lld: under way\n", row->bisection);
	if (row->known_issue)
		buf_printf(out, "   known issue %s: %s%s%s\n", row->known_issue, row->known_label,
			   row->known_link && *row->known_link ? " " : "",
			   row->known_link ? row->known_link : "");
}

/* A section: its title and the rows of audience that pick() chooses. */
static void section(struct buf *out, const struct report *r, const char *audience,
		    const char *title, int (*pick)(const struct report_row *))
{
	size_t i, n = 0;

	for (i = 0; i < r->nrows; i++) {
		if (!report_row_for(&r->rows[i], audience) || !pick(&r->rows[i]))
			continue;
		if (n++ == 0)
			buf_printf(out, "%s:\n", title);
		row_line(out, &r->rows[i]);
	}
	if (n)
		buf_puts(out, "\n");
}

static int pick_blocking(const struct report_row *row)
{
	return row->blocking;
}

static int pick_not_blocking(const struct report_row *row)
{
	return !row->blocking && !row_passed(row) && !row_allowed(row);
}

static int pick_allowed(const struct report_row *row)
{
	return !row->blocking && row_allowed(row);
}

/* The first index of s in v (n of them), or n. */
static size_t index_of(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			break;
	return i;
}

/* The job x board class grid of audience's rows: one line per job, one column per
 * class, each cell the row's verdict class ("-": the job has no row there). */
static void grid(struct buf *out, const struct report *r, const char *audience)
{
	const char **jobs = xcalloc(r->nrows + 1, sizeof(*jobs));
	const char **classes = xcalloc(r->nrows + 1, sizeof(*classes));
	size_t nj = 0, nc = 0, i, j, k;

	for (i = 0; i < r->nrows; i++) {
		if (!report_row_for(&r->rows[i], audience))
			continue;
		if (index_of(jobs, nj, r->rows[i].job) == nj)
			jobs[nj++] = r->rows[i].job;
		if (index_of(classes, nc, r->rows[i].board_class) == nc)
			classes[nc++] = r->rows[i].board_class;
	}
	buf_printf(out, "%-*s", COL_JOB_MAX + 1, "jobs:");
	for (k = 0; k < nc; k++)
		buf_printf(out, " %-*.*s", k + 1 < nc ? COL_CLASS_MAX : 0, COL_CLASS_MAX,
			   *classes[k] ? classes[k] : "(no board)");
	buf_puts(out, "\n");
	for (j = 0; j < nj; j++) {
		buf_printf(out, " %-*.*s", COL_JOB_MAX, COL_JOB_MAX, jobs[j]);
		for (k = 0; k < nc; k++) {
			const char *cell = "-";

			for (i = 0; i < r->nrows; i++)
				if (report_row_for(&r->rows[i], audience) &&
				    !strcmp(r->rows[i].job, jobs[j]) &&
				    !strcmp(r->rows[i].board_class, classes[k]))
					cell = r->rows[i].verdict_class;
			buf_printf(out, " %-*s", k + 1 < nc ? COL_CLASS_MAX : 0, cell);
		}
		buf_puts(out, "\n");
	}
	free(jobs);
	free(classes);
}

void report_render(struct buf *out, const struct report *r, const char *audience)
{
	size_t blocking, failed, omitted, i;

	report_counts(r, audience, &blocking, &failed, &omitted);
	buf_printf(out, "flight %lld %s %s push\n", r->flight, r->tree, r->branch);
	if (r->base_url)
		buf_printf(out, "%s/flights/%lld\n", r->base_url, r->flight);
	buf_puts(out, "\n");
	if (blocking)
		buf_puts(out, "Regressions :-(\n\n");
	section(out, r, audience, "Regressions which are regarded as blocking", pick_blocking);
	section(out, r, audience, "Tests which did not succeed, but are not blocking",
		pick_not_blocking);
	section(out, r, audience, "Tests which did not succeed, but are allowable", pick_allowed);
	if (omitted)
		buf_puts(out, "Results from private boards were omitted from this report;\n"
			      "their owners get them separately.\n\n");
	if (r->gate_ref)
		buf_printf(out, "Gate: %s %s\n\n", r->gate_ref,
			   r->gate_action ? r->gate_action : "not decided");
	buf_printf(out, "version targeted for testing:\n %-20s %s\n", r->tree, r->commit);
	buf_printf(out, "baseline version:\n %-20s %s\n\n", r->tree,
		   r->baseline ? r->baseline : "(none)");
	if (r->npeople) {
		buf_puts(out, "People who touched revisions under test:\n");
		for (i = 0; i < r->npeople; i++)
			buf_printf(out, "  %s\n", r->people[i]);
		buf_puts(out, "\n");
	}
	grid(out, r, audience);
	buf_puts(out, "\n------------------------------------------------------------\n"
		      "xenci: a distributed bare-metal CI lab for Xen\n");
}

json_t *report_headers(const struct report *r, const char *audience)
{
	json_t *h = json_array();
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		const struct report_row *row = &r->rows[i];
		char v[512];

		if (!report_row_for(row, audience) || row_passed(row))
			continue;
		snprintf(v, sizeof(v), "%s:%s:%s:%s", r->branch, row->job, row->board_class,
			 row->verdict_class);
		json_array_append_new(h, json_pack("[s,s]", "X-Xenci-Failures", v));
		if (!row->known_issue)
			continue;
		snprintf(v, sizeof(v), "%s:%s:%s:%s", r->branch, row->job, row->board_class,
			 row->known_issue);
		json_array_append_new(h, json_pack("[s,s]", "X-Xenci-Known-Issues", v));
	}
	json_array_append_new(
	    h, json_pack("[s,s++]", "X-Xenci-Versions-This", r->tree, "=", r->commit));
	if (r->baseline)
		json_array_append_new(
		    h, json_pack("[s,s++]", "X-Xenci-Versions-That", r->tree, "=", r->baseline));
	return h;
}

/* ---- sending ------------------------------------------------------------ */

static const struct trees_conf *report_trees;
static const struct mail_transport *report_mail;
static const struct bisect_conf *report_bisect;

/* One message on its way: the thread's own copies. */
struct outgoing {
	struct mail_transport mail;
	char **rcpt;
	size_t nrcpt;
	char *msg;
	size_t len;
	char *what; /* for the log: "flight 12 report to the list" */
};

static void outgoing_free(struct outgoing *o)
{
	size_t i;

	for (i = 0; i < o->nrcpt; i++)
		free(o->rcpt[i]);
	free(o->rcpt);
	free(o->msg);
	free(o->what);
	mail_transport_release(&o->mail);
	free(o);
}

static void *outgoing_main(void *arg)
{
	struct outgoing *o = arg;
	char err[512];

	if (mail_send(&o->mail, (const char *const *)o->rcpt, o->nrcpt, o->msg, o->len, err,
		      sizeof(err)) < 0)
		log_warnx("%s: %s", o->what, err);
	else
		log_info("%s: sent to %zu address%s", o->what, o->nrcpt, o->nrcpt == 1 ? "" : "es");
	outgoing_free(o);
	return NULL;
}

/* Composes and records one message to rcpt (an array of addresses) about flight
 * on branch_id for audience, threaded after the branch's previous one, then
 * sends it from a thread of its own. 1 when sent off, 0 when it already went
 * (or there is no one to send it to), negative on failure. */
static int report_send(long long branch_id, long long flight, long long bisection,
		       const char *audience, const json_t *rcpt, const char *subject,
		       const json_t *headers, const char *body, const char *what)
{
	char id[MAIL_ID_MAX], last[MAIL_ID_MAX], root[MAIL_ID_MAX], refs[2 * MAIL_ID_MAX + 2];
	const char *to[WATCH_MAX_REPORT_TO + BISECT_NOTIFY_MAX];
	struct mail_header hs[WATCH_MAX_REPORT_TO * 4 + 8];
	struct buf msg = BUF_INIT(MAIL_BODY_MAX);
	struct mail_msg m = {0};
	struct outgoing *o;
	const json_t *v;
	pthread_attr_t attr;
	pthread_t t;
	size_t i, nh = 0;
	int threaded, rc;

	if (!mail_transport_ready(report_mail) || json_array_size(rcpt) == 0)
		return 0;
	if (db_report_sent(flight, bisection, audience) != 0)
		return 0;
	json_array_foreach (rcpt, i, v) {
		if (i < sizeof(to) / sizeof(to[0]))
			to[i] = json_string_value(v);
	}
	m.from = report_mail->from ? report_mail->from : MAIL_FROM_DEFAULT;
	mail_message_id(id, sizeof(id), strchr(m.from, '@') + 1);
	threaded = db_report_thread(last, root, sizeof(last), branch_id, audience) == 0;
	if (threaded)
		snprintf(refs, sizeof(refs), "%s %s", root, last);
	hs[nh++] = (struct mail_header){"Auto-Submitted", "auto-generated"};
	json_array_foreach (headers, i, v) {
		if (nh < sizeof(hs) / sizeof(hs[0]))
			hs[nh++] = (struct mail_header){json_string_value(json_array_get(v, 0)),
							json_string_value(json_array_get(v, 1))};
	}
	m.from_name = "xenci";
	m.to = to;
	m.nto = json_array_size(rcpt) < sizeof(to) / sizeof(to[0]) ? json_array_size(rcpt)
								   : sizeof(to) / sizeof(to[0]);
	m.subject = subject;
	m.message_id = id;
	m.in_reply_to = threaded ? last : NULL;
	m.references = threaded ? (strcmp(root, last) ? refs : last) : NULL;
	m.headers = hs;
	m.nheaders = nh;
	m.body = body;
	if ((rc = mail_compose(&msg, &m)) < 0) {
		log_warnx("%s: cannot compose: %s", what, strerror(-rc));
		buf_release(&msg);
		return rc;
	}
	/* Recorded first: a report goes once, and the next one replies to it. */
	rc = db_report_insert(branch_id, flight, bisection, audience, id, threaded ? root : id,
			      subject, rcpt);
	if (rc < 0) {
		buf_release(&msg);
		return rc == -EEXIST ? 0 : rc;
	}
	o = xcalloc(1, sizeof(*o));
	mail_transport_copy(&o->mail, report_mail);
	o->rcpt = xcalloc(m.nto, sizeof(*o->rcpt));
	for (i = 0; i < m.nto; i++)
		o->rcpt[o->nrcpt++] = xstrdup(to[i]);
	o->msg = buf_detach(&msg, &o->len);
	o->what = xstrdup(what);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, outgoing_main, o);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warnx("%s: cannot start the mail thread", what);
		outgoing_free(o);
		return -EAGAIN;
	}
	return 1;
}

/* ---- gathering ---------------------------------------------------------- */

/* The addresses of owner's reports (bisect.owners.AGENT.notify), as an array. */
static json_t *owner_addresses(const char *owner)
{
	const json_t *o = report_bisect ? json_object_get(report_bisect->owners, owner) : NULL;
	json_t *out = json_array();
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(o, "notify"), i, v) {
		if (mail_address_ok(json_string_value(v)))
			json_array_append(out, (json_t *)v);
	}
	return out;
}

static json_t *strings_array(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Everything a report of one flight needs, owned here. */
struct gathered {
	struct report r;
	struct triage t;
	struct report_row *rows;
	char **owners; /* per row: the private board's agent, or NULL */
	char **people;
	size_t npeople;
	json_t *keep; /* the JSON documents the borrowed strings come from */
	char baseline[GITREPO_HEX];
};

static void gathered_release(struct gathered *g)
{
	size_t i;

	for (i = 0; g->owners && i < g->t.n; i++)
		free(g->owners[i]);
	free(g->owners);
	for (i = 0; i < g->npeople; i++)
		free(g->people[i]);
	free(g->people);
	free(g->rows);
	triage_release(&g->t);
	json_decref(g->keep);
	memset(g, 0, sizeof(*g));
}

/* The agent of the first private board that ran job on class cls in the flight
 * (tests: db_flight_test_attempts), into owner; 0 when every board was public. */
static int row_owner(char *owner, size_t n, const json_t *tests, const char *job, const char *cls)
{
	const json_t *a;
	size_t i;

	json_array_foreach (tests, i, a) {
		const char *c =
		    json_is_string(json_object_get(a, "board")) ? jstr(a, "class", "") : "";

		if (!strcmp(jstr(a, "job", ""), job) && !strcmp(c, cls) &&
		    !strcmp(jstr(a, "visibility", "public"), "private") &&
		    db_board_owner(owner, n, jstr(a, "board", "")) == 0)
			return 1;
	}
	return 0;
}

/* The people of commit ^baseline (at most PEOPLE_MAX, each once), or of commit
 * alone without a baseline. */
static void gather_people(struct gathered *g, struct gitrepo *repo)
{
	struct bisect_git_graph gg = {0};
	char err[256];
	uint32_t n = 0, i;

	g->people = xcalloc(PEOPLE_MAX, sizeof(*g->people));
	if (g->r.baseline &&
	    bisect_git_graph(&gg, repo, g->r.commit, g->r.baseline, err, sizeof(err)) == 0)
		n = gg.ncand;
	for (i = 0; i < (n ? n : 1) && g->npeople < PEOPLE_MAX; i++) {
		struct gitrepo_commit c;
		char who[600];
		size_t k;

		if (gitrepo_commit_info(&c, repo, n ? gg.ids[i] : g->r.commit) < 0)
			continue;
		snprintf(who, sizeof(who), "%s <%s>", c.author, c.email);
		for (k = 0; k < g->npeople && strcmp(g->people[k], who); k++)
			;
		if (k == g->npeople)
			g->people[g->npeople++] = xstrdup(who);
	}
	if (n)
		bisect_git_graph_release(&gg);
}

/* The baseline ("That"): the gate ref's revision before this flight's decision,
 * else the previous push flight's revision; "" when none. */
static void gather_baseline(struct gathered *g, long long branch_id, const json_t *decision,
			    const json_t *flights)
{
	const json_t *f;
	size_t i;

	g->baseline[0] = '\0';
	if (decision && *jstr(decision, "from", "")) {
		snprintf(g->baseline, sizeof(g->baseline), "%s", jstr(decision, "from", ""));
		return;
	}
	(void)branch_id;
	json_array_foreach (flights, i, f) {
		if (jint(f, "flight", 0) < g->r.flight &&
		    strcmp(jstr(f, "commit", ""), g->r.commit)) {
			snprintf(g->baseline, sizeof(g->baseline), "%s", jstr(f, "commit", ""));
			return;
		}
	}
}

/* Gathers flight's report on branch b of tree t. Returns 1 when it is ready (no
 * row pending, not every row cancelled), 0 when not yet, negative on failure. */
static int gather(struct gathered *g, const struct tree_conf *t, const struct branch_conf *b,
		  long long branch_id, const json_t *fl)
{
	json_t *tests, *decisions, *flights, *bisections, *decision = NULL, *d;
	size_t i, cancelled = 0;
	long long bid;
	int rc, restart;

	memset(g, 0, sizeof(*g));
	g->keep = json_object();
	g->r.flight = jint(fl, "flight", 0);
	rc = triage_flight(&g->t, g->r.flight);
	if (rc < 0)
		return rc;
	for (i = 0; i < g->t.n; i++) {
		if (g->t.rows[i].cls == TRIAGE_PENDING)
			return 0;
		cancelled += g->t.rows[i].cls == TRIAGE_CANCELLED;
	}
	if (g->t.n == 0 || cancelled == g->t.n)
		return 0;
	g->r.tree = t->name;
	g->r.branch = b->name;
	g->r.commit = jstr(fl, "commit", "");
	g->r.gate_ref = b->gate_ref;
	g->r.base_url = report_bisect ? report_bisect->base_url : NULL;
	decisions = db_gate_decisions(branch_id, 20);
	json_object_set_new(g->keep, "decisions", decisions);
	json_array_foreach (decisions, i, d) {
		if (jint(d, "flight", 0) == g->r.flight && !decision)
			decision = d;
	}
	g->r.gate_action = decision ? jstr(decision, "action", NULL) : NULL;
	flights = db_branch_flights(branch_id, 20);
	json_object_set_new(g->keep, "flights", flights);
	gather_baseline(g, branch_id, decision, flights);
	g->r.baseline = g->baseline[0] ? g->baseline : NULL;
	tests = db_flight_test_attempts(g->r.flight);
	json_object_set_new(g->keep, "tests", tests);
	bisections = json_array();
	json_object_set_new(g->keep, "bisections", bisections);
	g->rows = xcalloc(g->t.n + 1, sizeof(*g->rows));
	g->owners = xcalloc(g->t.n + 1, sizeof(*g->owners));
	for (i = 0; i < g->t.n; i++) {
		const struct triage_row *tr = &g->t.rows[i];
		struct report_row *row = &g->rows[i];
		char owner[AGENT_NAME_MAX + 1];

		row->job = tr->job;
		row->board_class = tr->board_class;
		row->verdict_class = triage_class_name(tr->cls);
		triage_row_text(row->text, sizeof(row->text), tr);
		row->blocking = tr->blocking;
		row->known_issue = tr->known_issue;
		row->known_label = tr->known_label;
		row->known_link = tr->known_link;
		if (tr->cls == TRIAGE_REGRESSION &&
		    db_bisect_find_bad(&bid, &restart, tr->job, tr->board_class, g->r.commit) ==
			0) {
			json_t *bs = db_bisect_get(bid);

			row->bisection = bid;
			row->culprit = jstr(bs, "culprit", NULL);
			json_array_append_new(bisections, bs ? bs : json_null());
		}
		if (row_owner(owner, sizeof(owner), tests, tr->job, tr->board_class))
			row->owner = g->owners[i] = xstrdup(owner);
	}
	g->r.rows = g->rows;
	g->r.nrows = g->t.n;
	gather_people(g, t->repo);
	g->r.people = (const char *const *)g->people;
	g->r.npeople = g->npeople;
	return 1;
}

/* Sends flight's report to one audience. */
static void send_to(const struct gathered *g, long long branch_id, const char *audience,
		    const json_t *rcpt)
{
	struct buf body = BUF_INIT(MAIL_BODY_MAX);
	char subject[300], what[200];
	json_t *headers = report_headers(&g->r, audience);

	report_subject(subject, sizeof(subject), &g->r, audience);
	report_render(&body, &g->r, audience);
	snprintf(what, sizeof(what), "flight %lld: the report to %s%s", g->r.flight,
		 audience ? "the owner of lab " : "the list of ",
		 audience ? audience : g->r.branch);
	report_send(branch_id, g->r.flight, 0, audience ? audience : "", rcpt, subject, headers,
		    buf_cstr(&body), what);
	json_decref(headers);
	buf_release(&body);
}

/* Reports flight (a row of db_branch_flights, borrowed) when it is ready. */
static void report_flight(const struct tree_conf *t, const struct branch_conf *b,
			  long long branch_id, const json_t *fl)
{
	const char *owners[OWNERS_MAX];
	struct gathered g;
	json_t *to;
	size_t no = 0, i, k;

	if (db_report_sent(jint(fl, "flight", 0), 0, "") != 0)
		return;
	if (gather(&g, t, b, branch_id, fl) <= 0) {
		gathered_release(&g);
		return;
	}
	to = strings_array(b->report_to, b->nreport_to);
	send_to(&g, branch_id, NULL, to);
	json_decref(to);
	for (i = 0; i < g.r.nrows; i++) {
		const char *o = g.rows[i].owner;

		if (!o)
			continue;
		for (k = 0; k < no && strcmp(owners[k], o); k++)
			;
		if (k == no && no < OWNERS_MAX)
			owners[no++] = o;
	}
	for (k = 0; k < no; k++) {
		to = owner_addresses(owners[k]);
		send_to(&g, branch_id, owners[k], to);
		json_decref(to);
	}
	gathered_release(&g);
}

void report_scan(void)
{
	long long now = now_ms();
	size_t i, k, f;

	if (!report_trees || !mail_transport_ready(report_mail))
		return;
	for (i = 0; i < report_trees->count; i++) {
		const struct tree_conf *t = &report_trees->trees[i];
		long long tree_id;

		for (k = 0; k < t->nbranches; k++) {
			const struct branch_conf *b = &t->branches[k];
			long long branch_id;
			json_t *flights;
			const json_t *fl;

			if (!b->nreport_to || db_tree_id(&tree_id, t->name) < 0 ||
			    db_branch_id(&branch_id, tree_id, b->name, NULL) < 0)
				continue;
			flights = db_branch_flights(branch_id, SCAN_FLIGHTS);
			json_array_foreach (flights, f, fl) {
				if (!strcmp(jstr(fl, "state", ""), "done") &&
				    now - jint(fl, "created", 0) < SCAN_AGE_MS)
					report_flight(t, b, branch_id, fl);
			}
			json_decref(flights);
		}
	}
}

static void report_observer(const struct attempt *a, enum attempt_state verdict, void *user)
{
	(void)verdict;
	(void)user;
	if (a->flight > 0 && !strcmp(a->kind, "test"))
		report_scan();
}

int report_start(const struct trees_conf *trees, const struct mail_transport *mail,
		 const struct bisect_conf *bisect)
{
	report_trees = trees;
	report_mail = mail;
	report_bisect = bisect;
	bisector_on_finish(report_bisection);
	return attempt_observe(report_observer, NULL);
}

/* ---- follow-ups --------------------------------------------------------- */

int report_bisection(const json_t *twin)
{
	const struct tree_conf *t;
	const struct branch_conf *b;
	const json_t *c = json_object_get(twin, "culprit"), *fl, *rep;
	json_t *flights = NULL, *reports = NULL, *rcpt;
	long long tree_id, branch_id, flight = 0;
	char owner[AGENT_NAME_MAX + 1], subject[400], what[200];
	struct buf body = BUF_INIT(MAIL_BODY_MAX);
	int priv, sent = 0;
	size_t i;

	if (!report_trees || !mail_transport_ready(report_mail) ||
	    bisection_state_of(jstr(twin, "state", NULL)) == BISECTION_CANCELLED)
		return 0;
	t = trees_conf_find(report_trees, jstr(twin, "tree", ""));
	b = t ? tree_conf_branch(t, jstr(twin, "branch", "")) : NULL;
	if (!b || !b->nreport_to || db_tree_id(&tree_id, t->name) < 0 ||
	    db_branch_id(&branch_id, tree_id, b->name, NULL) < 0)
		return 0;
	/* The push flight of the failing revision that was reported. */
	flights = db_branch_flights(branch_id, 50);
	json_array_foreach (flights, i, fl) {
		if (!strcmp(jstr(fl, "commit", ""), jstr(twin, "bad", "")) &&
		    db_report_sent(jint(fl, "flight", 0), 0, "") == 1) {
			flight = jint(fl, "flight", 0);
			break;
		}
	}
	if (flight == 0)
		goto out;
	priv = twin_bisection_owner(owner, sizeof(owner), twin);
	snprintf(subject, sizeof(subject), "[%s test] %lld: bisection %lld of %s on %s: %s%s%.12s",
		 b->name, flight, jint(twin, "id", 0), jstr(twin, "job", "?"),
		 jstr(twin, "class", "?"), jstr(twin, "verdict", "?"), json_is_object(c) ? " " : "",
		 json_is_object(c) ? jstr(c, "commit", "") : "");
	buf_printf(&body, "Bisection %lld of job %s on board class %s (flight %lld of %s %s)\n\n",
		   jint(twin, "id", 0), jstr(twin, "job", "?"), jstr(twin, "class", "?"), flight,
		   t->name, b->name);
	buf_printf(&body, "Outcome:  %s\n", jstr(twin, "verdict", "?"));
	if (json_is_object(c)) {
		buf_printf(&body, "Culprit:  %s\n", jstr(c, "commit", ""));
		buf_printf(&body, "          %s\n", jstr(c, "subject", ""));
		buf_printf(&body, "Author:   %s\n", jstr(c, "author", ""));
	}
	buf_printf(&body, "Good:     %s\nBad:      %s\nWhy:      %s\n", jstr(twin, "good", ""),
		   jstr(twin, "bad", ""), jstr(twin, "reason", ""));
	if (report_bisect && report_bisect->base_url)
		buf_printf(&body, "Details:  %s/bisections/%lld\n", report_bisect->base_url,
			   jint(twin, "id", 0));
	/* Each audience the flight's report went to and that may see the bisection:
	 * the list for a public one, the owner alone for a private one. */
	reports = db_reports_of_flight(flight);
	json_array_foreach (reports, i, rep) {
		const char *aud = jstr(rep, "audience", "");
		json_t *none = json_array();

		if (jint(rep, "bisection", 0) != 0 || (priv ? strcmp(aud, owner) : *aud != '\0')) {
			json_decref(none);
			continue;
		}
		rcpt = json_object_get(rep, "recipients");
		snprintf(what, sizeof(what), "bisection %lld: the follow-up of flight %lld",
			 jint(twin, "id", 0), flight);
		if (report_send(branch_id, flight, jint(twin, "id", 0), aud,
				json_is_array(rcpt) ? rcpt : none, subject, none, buf_cstr(&body),
				what) > 0)
			sent++;
		json_decref(none);
	}
out:
	buf_release(&body);
	json_decref(reports);
	json_decref(flights);
	return sent;
}
