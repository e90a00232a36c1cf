/* Known issues: failures the maintainers already know, listed in the controller's
 * configuration with a label and a link, so that a failure that matches one is
 * labelled wherever it is shown (the flight's triage, the flight and attempt
 * pages, the flight report) instead of being read again by a person:
 *
 *   known_issues:
 *     - id: arm-gic-timeout            # [a-z0-9._-], unique
 *       label: "GICv3 ITS timeout on the rk3399 boards"
 *       link: https://gitlab.com/xen-project/xen/-/issues/123
 *       pattern: '^\(XEN\) ITS: timeout waiting for command'   # PCRE2
 *       tree: xen                      # optional scope: the flight's tree,
 *       branch: staging                #   its branch (push flights),
 *       job: 'xen-smoke*'              #   job and board class globs (fnmatch)
 *       class: 'rk3399*'
 *       blocks: true                   # default: a label only (see below)
 *
 * When a test attempt ends fail, timeout or infra, each issue whose scope covers
 * it is tried in list order against each line of its console log's last
 * KNOWN_ISSUE_LOG_TAIL bytes (a failure ends a console: the panic, the assertion,
 * the stage that timed out; ^ and $ are the line's ends), its reason and the names
 * of its failed test cases; the first that matches is recorded with the attempt
 * (known_issue_matches, schema 0065) as it is then (id, label, link, blocks).
 *
 * Blocking, as KernelCI's issues are tags: a known issue is a label and does not
 * change a failure's verdict class; a regression that matches one still blocks the
 * gate and is bisected, unless the issue says `blocks: false` — then the row keeps
 * its class and its label but holds nothing and is not bisected (OSSTest's allow
 * files, narrowed by a pattern). The allow-list still allows what it covers.
 *
 * Bounds (docs/security.md): at most KNOWN_ISSUES_MAX issues, a pattern of at most
 * KNOWN_ISSUE_PATTERN_MAX bytes, the log's last KNOWN_ISSUE_LOG_TAIL bytes, lines cut
 * at KNOWN_ISSUE_LINE_MAX, KNOWN_ISSUE_WORK steps of PCRE2 per issue and attempt
 * over all of them, under lib/pattern.h's match, depth and heap limits too (a match
 * that gives up counts as no match and is logged). */
#ifndef XENCI_KNOWN_ISSUES_H
#define XENCI_KNOWN_ISSUES_H

#include <jansson.h>
#include <stddef.h>

#include "db-attempts.h"
#include "validate.h"

#define KNOWN_ISSUES_MAX	64
#define KNOWN_ISSUE_PATTERN_MAX 1024
#define KNOWN_ISSUE_LABEL_MAX	200
#define KNOWN_ISSUE_LINK_MAX	1024
#define KNOWN_ISSUE_LOG_TAIL	(64 * 1024)
#define KNOWN_ISSUE_LINE_MAX	4096
/* The work one issue may spend on one attempt: items PCRE2 tries, over every line
 * (lib/pattern.h PATTERN_COUNTED). About 45 ms of a pathological pattern here; an
 * ordinary one spends a few hundred, PCRE2 skipping most lines unread. */
#define KNOWN_ISSUE_WORK 250000L

struct pattern;

struct known_issue {
	char *id, *label, *link; /* owned; link "" when none */
	char *tree, *branch;	 /* owned; NULL: any */
	char *job, *board_class; /* owned fnmatch globs; NULL: any */
	int blocks;		 /* 1: a label only (the default); 0: never holds the gate */
	struct pattern *re;	 /* owned; PATTERN_COUNTED */
};

struct known_issues {
	struct known_issue *v; /* owned, n of them */
	size_t n;
};

/* The validator's table for one issue (config.c: the `known_issues` list); the
 * list's own check (known_issues_check) refuses a second issue with the same id. */
extern const struct vfield known_issue_fields[];
int known_issues_check(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		       const char *path);

/* Reads a validated `known_issues` list (NULL: none) into out, compiling every
 * pattern. Returns 0, or -EINVAL with err (a pattern that does not compile, which
 * the validator has refused already), -ENOMEM. out is released on error. */
int known_issues_load(struct known_issues *out, const json_t *list, char *err, size_t errlen);
void known_issues_release(struct known_issues *k);

/* What an attempt's failure is matched against, all borrowed. */
struct known_issue_subject {
	const char *tree, *branch, *job, *board_class; /* branch NULL: not a push flight */
	const char *log;			       /* the console log; NULL when none */
	size_t log_len;
	const char *reason;	 /* NULL: none */
	const json_t *testcases; /* [{name, result}], NULL: none */
};

/* The first issue of k whose scope covers s and whose pattern matches its log, its
 * reason or the name of one of its failed test cases: its index, or -1 when none
 * does. A match that gave up at its bound counts as none and is logged. */
int known_issues_find(const struct known_issues *k, const struct known_issue_subject *s);

/* When test attempt a ends with verdict (fail, timeout, infra) and result (the
 * agent's, borrowed; NULL: none): matches it against the configured issues
 * (ctl.cfg.known_issues) and records the first match with it. ctl.lock held, in
 * the attempt's finishing transaction. Returns 0 (matched or not), -EIO. */
int known_issue_judge(const struct attempt *a, enum attempt_state verdict, const char *reason,
		      const json_t *result);

#endif
