/* The console judge: fed the console's bytes and the clock, it writes the
 * attempt's log (docs/api.md: "TTTTT.mmm K TEXT\n" lines, partial lines sent as
 * they come) and decides the verdict from the job's rules (docs/jobs.md).
 *
 * It is pure: no I/O, no clock of its own. The caller passes the time in
 * milliseconds (any monotonic origin) to every call and receives the log bytes
 * through the `log` callback, in order. Patterns are matched on whole lines only,
 * as a terminal shows them (lib/vt.h: escape sequences removed, "\r" returns to
 * the start of the row, invalid UTF-8 shown as U+FFFD).
 *
 * Bounded: a console line longer than line_max is cut (the rest is dropped and
 * the cut is noted); the log stops taking console bytes at log_max (less a
 * reserve kept for the agent's closing notes), and says so. */
#ifndef XENCI_AGENT_JUDGE_H
#define XENCI_AGENT_JUDGE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "pattern.h"
#include "tap.h"
#include "vt.h"

enum verdict {
	VERDICT_NONE = 0, /* still running */
	VERDICT_PASS,
	VERDICT_FAIL,
	VERDICT_TIMEOUT,
	VERDICT_INFRA,
};

const char *verdict_name(enum verdict v);

enum stage_result { STAGE_WAITING = 0, STAGE_PASS, STAGE_FAIL, STAGE_TIMEOUT, STAGE_SKIPPED };

struct judge_rule {
	char *name;
	struct pattern *re;
	int timeout_s;	      /* stages only */
	int infra_on_timeout; /* stages only: on_timeout: infra */
	enum stage_result result;
	double seconds; /* stages: time from the previous stage (or power-on) */
};

#define JUDGE_LOG_RESERVE   4096 /* log bytes kept for notes after a cut */
/* After a failure pattern the next console lines say why (Xen prints its panic
 * message after "Panic on CPU N:"): the agent's runner and `xenci-agent --judge`
 * both keep reading the console this long before they stop the board. */
#define JUDGE_FAIL_TAIL_MS 2000
#define JUDGE_MAX_TESTCASES 10000
#define JUDGE_MAX_RULES	    64

/* A fact of a commissioning job (docs/jobs.md): the first line its pattern
 * matches gives its value (value, or the pattern's first group). */
struct judge_fact {
	char *name;
	struct pattern *re;
	json_t *value, *dflt; /* the job's, or NULL */
};

struct judge {
	struct judge_rule stages[JUDGE_MAX_RULES], failures[JUDGE_MAX_RULES],
	    infra[JUDGE_MAX_RULES];
	size_t nstages, nfailures, ninfra;
	struct judge_fact facts[JUDGE_MAX_RULES];
	size_t nfacts;
	json_t *found; /* the facts' values so far: {name: value}; NULL without facts */
	int tap, lava;
	long long timeout_ms; /* whole attempt; 0 = none */
	size_t line_max;
	long long log_max;

	/* the caller's sink for log bytes */
	void (*log)(void *arg, const void *p, size_t n);
	void *arg;

	/* state */
	int started;
	long long t0_ms, stage_t0_ms;
	size_t cur;	 /* index of the stage being waited for */
	size_t line_len; /* bytes of the current console line in the log (<= line_max) */
	struct vt row;	 /* the current line as a terminal shows it (line_max columns) */
	size_t line_dropped;
	int in_line;	/* a "T | " prefix was written and no line end yet */
	int pending_cr; /* a "\r" held back: it may be half of a "\r\n" */
	long long log_len;
	int log_cut;
	enum verdict verdict;
	char reason[512];
	json_t *testcases; /* [{name, result}] */
	int tc_pass, tc_fail, tc_skip, tc_cut;
	char first_failed_tc[128];
	json_t *expected;      /* the job's "expected" test case names, or NULL */
	struct tap tap_stream; /* the TAP stream read so far (tap.h) */
};

/* Compiles the job's stages, failures, infra patterns and test-case formats, and
 * takes its "expected" test case names (each one not reported by the end is a
 * failed test case).
 * Returns 0, or -1 with the reason in err (a bad pattern names its rule). */
int judge_init(struct judge *j, const json_t *job, size_t line_max, long long log_max, char *err,
	       size_t errlen);
void judge_release(struct judge *j);

/* Power-on: times in the log count from here, and the first stage's timeout runs. */
void judge_start(struct judge *j, long long now_ms);
/* Console bytes, any size, any content. */
void judge_feed(struct judge *j, const void *p, size_t n, long long now_ms);
/* Checks the stage and attempt timeouts. */
void judge_tick(struct judge *j, long long now_ms);
/* The agent's own note, a "#" line. */
void judge_note(struct judge *j, long long now_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the attempt from outside (power, console, staging failure: infra) unless a
 * verdict is already set; writes the verdict note. */
void judge_end(struct judge *j, long long now_ms, enum verdict v, const char *reason);
/* Milliseconds until the next timeout could fire (for poll), at least 0. */
long long judge_next_deadline_ms(const struct judge *j, long long now_ms);
/* The result body of docs/api.md (without log_length); the caller owns it. */
json_t *judge_result(const struct judge *j);

/* Parses one rendered console line as a test case, on its own (the TAP stream's
 * rules, tap.h, are applied by judge_feed). Returns 1 and fills name and result
 * ("pass", "fail", "skip") when it is one. */
int judge_parse_testcase(const char *line, int tap, int lava, char *name, size_t namelen,
			 const char **result);

#endif
