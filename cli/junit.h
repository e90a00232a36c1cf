/* JUnit XML of a flight, for other CI systems: one <testsuite> per board, one
 * <testcase> per test case the board's jobs reported, and one more per job named
 * "verdict" that carries the job's own verdict (a job can fail without a failed
 * test case: a Xen panic, a timeout). fail and timeout are <failure>s, infra and
 * cancelled <error>s, unfinished jobs <skipped>. The input is the flight JSON of
 * docs/api.md ("Flight"); a job whose attempt's row in the flight's "triage" matched
 * a known issue gets a testsuite property "known_issue.JOB" ("ID: LABEL LINK") and
 * "[known issue ID: LABEL]" after its failure's message. Text is escaped and control characters
 * that XML 1.0 cannot hold are replaced. */
#ifndef XENCI_JUNIT_H
#define XENCI_JUNIT_H

#include <jansson.h>

#include "buf.h"

/* Appends the document to out, which must be unbounded (max 0): the size is
 * that of the flight JSON the controller sent. base_url (may be NULL) makes log
 * links ("BASE/attempts/ID"). Returns 0. */
int junit_render(struct buf *out, const json_t *flight, const char *base_url);

#endif
