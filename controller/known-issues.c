/* Known issues: see known-issues.h and docs/flights.md "Known issues". */
#include "known-issues.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db-bisections.h"
#include "db-flights.h"
#include "db-trees.h"
#include "db-triage.h"
#include "job-schema.h"
#include "json-util.h"
#include "log.h"
#include "logs.h"
#include "pattern.h"
#include "watch.h"
#include "xmalloc.h"

/* Text shown on a page and written into a mail's body: no control characters. */
static int check_text(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		      const char *path)
{
	for (const unsigned char *p = (const unsigned char *)json_string_value(value); *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			vctx_error(ctx, parent, key, 0, path, "holds a control character");
			return -1;
		}
	return 0;
}

const struct vfield known_issue_fields[] = {
    {.name = "id",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = 64,
     .check = watch_check_name,
     .help = "the issue's name (in the API, the pages and X-Xenci-Known-Issues)"},
    {.name = "label",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = KNOWN_ISSUE_LABEL_MAX,
     .check = check_text,
     .help = "what a failure that matches is labelled with"},
    {.name = "link",
     .type = V_STRING,
     .max = KNOWN_ISSUE_LINK_MAX,
     .check = check_text,
     .help = "where the issue is followed (a URL or a reference)"},
    {.name = "pattern",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .min = 1,
     .max = KNOWN_ISSUE_PATTERN_MAX,
     .check = job_check_pattern,
     .help = "PCRE2 over the console log's lines, the reason and failed test cases"},
    {.name = "tree", .type = V_STRING, .min = 1, .max = 64, .help = "only flights of this tree"},
    {.name = "branch",
     .type = V_STRING,
     .min = 1,
     .max = 255,
     .help = "only push flights of this branch"},
    {.name = "job", .type = V_STRING, .min = 1, .max = 255, .help = "only jobs matching (glob)"},
    {.name = "class",
     .type = V_STRING,
     .min = 1,
     .max = 255,
     .help = "only board classes matching (glob)"},
    {.name = "blocks",
     .type = V_BOOL,
     .help = "a matching regression still holds the gate (default true)"},
    {NULL},
};

int known_issues_check(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		       const char *path)
{
	const json_t *a, *b;
	size_t i, k;
	int rc = 0;

	(void)parent;
	(void)key;
	json_array_foreach (value, i, a)
		for (k = 0; k < i; k++) {
			b = json_array_get(value, k);
			if (!strcmp(jstr(a, "id", ""), jstr(b, "id", ""))) {
				char ipath[320];

				snprintf(ipath, sizeof(ipath), "%.280s[%zu]", path, i);
				vctx_error(ctx, value, NULL, i, ipath,
					   "a second known issue with id \"%s\"",
					   jstr(a, "id", ""));
				rc = -1;
				break;
			}
		}
	return rc;
}

static char *dup_or_null(const json_t *o, const char *key)
{
	const char *s = jstr(o, key, NULL);

	return s ? xstrdup(s) : NULL;
}

int known_issues_load(struct known_issues *out, const json_t *list, char *err, size_t errlen)
{
	const json_t *o;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(list) || json_array_size(list) == 0)
		return 0;
	out->v = xcalloc(json_array_size(list), sizeof(*out->v));
	json_array_foreach (list, i, o) {
		struct known_issue *k = &out->v[out->n++];
		char msg[256];
		size_t off = 0;
		int rc;

		k->id = xstrdup(jstr(o, "id", ""));
		k->label = xstrdup(jstr(o, "label", ""));
		k->link = xstrdup(jstr(o, "link", ""));
		k->tree = dup_or_null(o, "tree");
		k->branch = dup_or_null(o, "branch");
		k->job = dup_or_null(o, "job");
		k->board_class = dup_or_null(o, "class");
		k->blocks = jbool(o, "blocks", 1);
		rc = pattern_compile_opts(&k->re, jstr(o, "pattern", ""), PATTERN_COUNTED, &off,
					  msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "known_issues[%zu].pattern: %s at offset %zu", i, msg,
				 off);
			known_issues_release(out);
			return rc;
		}
	}
	return 0;
}

void known_issues_release(struct known_issues *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++) {
		struct known_issue *x = &k->v[i];

		free(x->id);
		free(x->label);
		free(x->link);
		free(x->tree);
		free(x->branch);
		free(x->job);
		free(x->board_class);
		pattern_free(x->re);
	}
	free(k->v);
	memset(k, 0, sizeof(*k));
}

static int covers(const struct known_issue *k, const struct known_issue_subject *s)
{
	if (k->tree && (!s->tree || strcmp(k->tree, s->tree)))
		return 0;
	if (k->branch && (!s->branch || strcmp(k->branch, s->branch)))
		return 0;
	if (k->job && fnmatch(k->job, s->job ? s->job : "", 0) != 0)
		return 0;
	if (k->board_class && fnmatch(k->board_class, s->board_class ? s->board_class : "", 0) != 0)
		return 0;
	return 1;
}

/* pattern_match_budget over each line of the log's last KNOWN_ISSUE_LOG_TAIL bytes
 * (a line cut to KNOWN_ISSUE_LINE_MAX): 1, 0, or the first error. */
static int match_log(const struct pattern *re, const char *log, size_t len, long *budget)
{
	const char *p = log, *end = log + len, *nl;
	int rc = 0;

	if (len > KNOWN_ISSUE_LOG_TAIL) {
		p = end - KNOWN_ISSUE_LOG_TAIL;
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end; /* from the first whole line */
	}
	for (; p < end && rc == 0; p = nl ? nl + 1 : end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		rc = pattern_match_budget(
		    re, p, n > KNOWN_ISSUE_LINE_MAX ? KNOWN_ISSUE_LINE_MAX : n, budget);
	}
	return rc;
}

/* 1 when k's pattern matches one of s's texts; a match that gave up is logged. */
static int matches(const struct known_issue *k, const struct known_issue_subject *s)
{
	const json_t *tc;
	long budget = KNOWN_ISSUE_WORK;
	size_t i;
	int rc = 0;

	if (s->log && s->log_len)
		rc = match_log(k->re, s->log, s->log_len, &budget);
	if (rc == 0 && s->reason)
		rc = pattern_match_budget(k->re, s->reason, strlen(s->reason), &budget);
	json_array_foreach (s->testcases, i, tc) {
		const char *name = jstr(tc, "name", "");

		if (rc != 0)
			break;
		if (strcmp(jstr(tc, "result", ""), "pass") &&
		    strcmp(jstr(tc, "result", ""), "skip"))
			rc = pattern_match_budget(k->re, name, strlen(name), &budget);
	}
	if (rc < 0)
		log_warnx("known issue %s: its pattern gave up at its bound (%s): no match", k->id,
			  rc == -E2BIG ? "its work or PCRE2's limits" : strerror(-rc));
	return rc == 1;
}

int known_issues_find(const struct known_issues *k, const struct known_issue_subject *s)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (covers(&k->v[i], s) && matches(&k->v[i], s))
			return (int)i;
	return -1;
}

int known_issue_judge(const struct attempt *a, enum attempt_state verdict, const char *reason,
		      const json_t *result)
{
	const struct known_issues *k = ctl.cfg.known_issues;
	struct known_issue_subject s = {.job = a->job, .reason = reason};
	json_t *rev = NULL, *fb = NULL;
	char cls[65] = "";
	const char *log;
	size_t len = 0;
	int i, rc = 0;

	if (!k || !k->n || strcmp(a->kind, "test") ||
	    (verdict != ATTEMPT_FAIL && verdict != ATTEMPT_TIMEOUT && verdict != ATTEMPT_INFRA))
		return 0;
	rev = a->flight ? db_flight_revision(a->flight) : NULL;
	fb = a->flight ? db_flight_branch(a->flight) : NULL;
	if (a->board[0])
		db_bisect_board_class(cls, a->board);
	s.tree = rev ? jstr(rev, "tree", NULL) : NULL;
	s.branch = fb ? jstr(fb, "branch", NULL) : NULL;
	s.board_class = cls;
	s.testcases = json_object_get(result, "testcases");
	log = logs_map(a->id, &len);
	s.log = log;
	s.log_len = len;
	i = known_issues_find(k, &s);
	logs_unmap(log, len);
	if (i >= 0) {
		const struct known_issue *x = &k->v[i];

		log_info("attempt %lld: known issue %s (%s)", a->id, x->id, x->label);
		rc = db_known_issue_match(a->id, x->id, x->label, x->link, x->blocks);
	}
	json_decref(fb);
	json_decref(rev);
	return rc < 0 ? -EIO : 0;
}
