/* A TAP reader (Test Anything Protocol, TAP 13 and 14, testanything.org) over a
 * board's console lines, which mix TAP with everything else the board prints.
 *
 * Lines (as a terminal shows them, lib/vt.h) are read one by one: "TAP version
 * N", the plan "1..N [# SKIP reason]", test lines "ok|not ok [N] [-] [desc]
 * [# SKIP|TODO reason]" and "Bail out! reason", each at the start of the line
 * (indented lines are subtests or YAML blocks: their parent's test line counts);
 * any other line is not TAP and is ignored.
 *
 * The rules, as the specifications and Test::Harness apply them:
 *  - "not ok" fails, unless its directive is TODO (an expected failure); "ok"
 *    with SKIP is a skip, "ok" with TODO a pass (a bonus); "not ok # SKIP" fails.
 *  - A test line without a number takes the next one. A number that is not the
 *    next (out of sequence) or was seen before (duplicate), a second plan, a test
 *    after a trailing plan, a number outside the plan: errors.
 *  - At the end, a plan the results do not match fails, each missing number
 *    being a failed test case; "Bail out!" fails at once and every planned
 *    number not seen is missing.
 * Bounded: numbers and plans above TAP_NUM_MAX are errors. */
#ifndef XENCI_AGENT_TAP_H
#define XENCI_AGENT_TAP_H

#include <stddef.h>

#define TAP_NUM_MAX  65536
#define TAP_NAME_MAX 128

enum tap_kind { TAP_OTHER = 0, TAP_VERSION, TAP_PLAN, TAP_TEST, TAP_BAIL };

struct tap_line {
	enum tap_kind kind;
	long number;		 /* TAP_TEST: its number (given or counted); TAP_PLAN: N */
	const char *result;	 /* TAP_TEST: "pass", "fail" or "skip" */
	int todo, skip;		 /* TAP_TEST: its directive */
	char name[TAP_NAME_MAX]; /* TAP_TEST: the description ("unnamed" if none) */
	char error[160];	 /* an error this line makes, or "" */
	const char *reason;	 /* TAP_BAIL: the text after "Bail out!" (into the line) */
};

struct tap {
	long plan;	 /* -1 until a plan is read */
	int plan_at_end; /* the plan came after test lines */
	long last;	 /* the last test number */
	long tests;	 /* test lines read */
	long errors;	 /* errors found */
	char first_error[160];
	unsigned char seen[TAP_NUM_MAX / 8 + 1];
};

void tap_init(struct tap *t);
/* Parses one line on its own (no state): 1 and *out filled for a TAP line (a
 * test line without a number gets number -1), 0 for any other line. */
int tap_parse_line(const char *line, struct tap_line *out);
/* Reads one line into the stream's state: returns its kind, with *out filled
 * (its number counted, its error, if any, in out->error and counted in t). */
enum tap_kind tap_read(struct tap *t, const char *line, struct tap_line *out);
/* At the end of the stream: the planned numbers not seen, one by one. Returns the
 * next missing number after `after` (start with 0), or 0 when none is left (or
 * there was no plan). */
long tap_missing_next(const struct tap *t, long after);

#endif
