/* Pieces that several pages show the same way. Internal to controller/page-*.c. */
#ifndef XENCI_PAGE_VIEW_H
#define XENCI_PAGE_VIEW_H

#include <jansson.h>

#include "json-util.h"
#include "page.h"

/* Links, or "—" when there is nothing to link to. */
void view_board_link(struct html *h, const char *board);
void view_branch_link(struct html *h, const char *branch);
void view_flight_link(struct html *h, long long id);
void view_attempt_link(struct html *h, long long id);
/* An attempt's short trace mark (docs/traceability.md): "✓ signed" when it has a
 * "record" (its leaf in the results log), "unsigned" when it ended on an agent with
 * none, nothing while it runs or when no agent ran it. */
void view_record_mark(struct html *h, const json_t *attempt);
/* The `slower` flag of perf.h's judgement {stage, seconds, median, spread, percent,
 * since: {commit}} (nothing for NULL): a chip whose title says by how much and the
 * revision where it started. */
void view_slower(struct html *h, const json_t *slow);
/* "3 pass · 1 fail" from {"pass": 3, "fail": 1, …}, each count with its chip. */
void view_summary(struct html *h, const json_t *summary);
/* The same summary of counts[i] attempts in state names[i] (ncounts of them: a
 * flight's row, db_flights_rows). */
void view_summary_counts(struct html *h, const char *const *names, const long long *counts,
			 size_t ncounts);
/* The verdict the store gave the flight (db_flight_get), or its state:
 * a static string or borrowed from flight. */
const char *view_flight_verdict(const json_t *flight);
/* A table of test cases [{"name", "result"}]. */
void view_testcases(struct html *h, const json_t *testcases);
/* A revision {"tree","commit","describe","subject","author"} as a definition list. */
/* A flight's tuple of revisions ({tree: {commit, ref, moves}}) as one line,
 * "xen=2efe190c8efb pinned at master · linux=… moves"; only the pinned trees
 * when pinned_only. Nothing for a tuple of one tree. */
void view_tuple(struct html *h, const json_t *tuple, int pinned_only);
void view_revision(struct html *h, const json_t *rev);
/* A verdict class (triage.h's name: "regression", "still-failing", …) as a chip
 * showing OSSTest's words (text: "REGR. vs. 12"; NULL: the class's name), then
 * the known issue it matched ({id, label, link}; NULL or null: none) as its label,
 * a link when its link is an http(s) URL. */
void view_triage(struct html *h, const char *cls, const char *text, const json_t *known_issue);
/* The same for a class known as its enum (triage.h), without looking its name up. */
enum triage_class;
void view_triage_class(struct html *h, enum triage_class c, const char *text,
		       const json_t *known_issue);
/* A "Flake rates" section of rates (triage.h triage_flake_rates: [{tree, job,
 * class, rate, heisenbugs, window}]), nothing when it is empty; its first
 * column is the board class when by_class (a branch's page), else the tree
 * (a board's page). Escaped; errors as html.h's. */
void view_flake_rates(struct html *h, const json_t *rates, int by_class);
/* A known issue ({id, label, link}) as "known issue: LABEL"; nothing for NULL. */
void view_known_issue(struct html *h, const json_t *known_issue);

#endif
