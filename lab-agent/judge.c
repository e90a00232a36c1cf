#include "judge.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "vt.h"
#include "xmalloc.h"

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_FAIL:
		return "fail";
	case VERDICT_TIMEOUT:
		return "timeout";
	case VERDICT_INFRA:
		return "infra";
	case VERDICT_NONE:
		break;
	}
	return "none";
}

static const char *stage_result_name(enum stage_result r)
{
	switch (r) {
	case STAGE_PASS:
		return "pass";
	case STAGE_FAIL:
		return "fail";
	case STAGE_TIMEOUT:
		return "timeout";
	case STAGE_WAITING:
	case STAGE_SKIPPED:
		break;
	}
	return "skipped";
}

static int rules_compile(struct judge_rule *rules, size_t *n, const json_t *arr, const char *what,
			 int stages, char *err, size_t errlen)
{
	size_t i;
	json_t *it;

	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s must be a list", what);
		return -1;
	}
	if (json_array_size(arr) > JUDGE_MAX_RULES) {
		snprintf(err, errlen, "%s: too many entries (at most %d)", what, JUDGE_MAX_RULES);
		return -1;
	}
	json_array_foreach (arr, i, it) {
		struct judge_rule *r = &rules[*n];
		const char *name = jstr(it, "name", NULL), *pat = jstr(it, "pattern", NULL);
		char msg[256];
		size_t off = 0;
		int rc;

		if (name == NULL || pat == NULL) {
			snprintf(err, errlen, "%s[%zu]: needs a name and a pattern", what, i);
			return -1;
		}
		rc = pattern_compile(&r->re, pat, &off, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "%s %s: bad pattern '%s': %s at offset %zu", what,
				 name, pat, msg, off);
			return -1;
		}
		r->name = xstrdup(name);
		r->timeout_s = stages ? (int)jint(it, "timeout", 60) : 0;
		r->infra_on_timeout = stages && !strcmp(jstr(it, "on_timeout", ""), "infra");
		r->result = STAGE_WAITING;
		r->seconds = 0;
		(*n)++;
	}
	return 0;
}

static int facts_compile(struct judge *j, const json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *it;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > JUDGE_MAX_RULES) {
		snprintf(err, errlen, "facts: a list of at most %d", JUDGE_MAX_RULES);
		return -1;
	}
	j->found = json_object();
	json_array_foreach (arr, i, it) {
		struct judge_fact *f = &j->facts[j->nfacts];
		const char *name = jstr(it, "name", NULL), *pat = jstr(it, "pattern", NULL);
		char msg[256];
		size_t off = 0;

		if (name == NULL || pat == NULL) {
			snprintf(err, errlen, "facts[%zu]: needs a name and a pattern", i);
			return -1;
		}
		if (pattern_compile(&f->re, pat, &off, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "fact %s: bad pattern '%s': %s at offset %zu", name,
				 pat, msg, off);
			return -1;
		}
		f->name = xstrdup(name);
		f->value = json_incref(json_object_get(it, "value"));
		f->dflt = json_incref(json_object_get(it, "default"));
		j->nfacts++;
	}
	return 0;
}

int judge_init(struct judge *j, const json_t *job, size_t line_max, long long log_max, char *err,
	       size_t errlen)
{
	const json_t *tc;
	size_t i;
	json_t *it;

	memset(j, 0, sizeof(*j));
	j->line_max = line_max ? line_max : 4096;
	j->log_max = log_max > 2 * JUDGE_LOG_RESERVE ? log_max : 2 * JUDGE_LOG_RESERVE;
	vt_init(&j->row, j->line_max);
	j->testcases = json_array();
	j->timeout_ms = jint(job, "timeout", 0) * 1000;
	if (rules_compile(j->stages, &j->nstages, json_object_get(job, "stages"), "stages", 1, err,
			  errlen) < 0 ||
	    rules_compile(j->failures, &j->nfailures, json_object_get(job, "failures"), "failures",
			  0, err, errlen) < 0 ||
	    rules_compile(j->infra, &j->ninfra, json_object_get(job, "infra"), "infra", 0, err,
			  errlen) < 0 ||
	    facts_compile(j, json_object_get(job, "facts"), err, errlen) < 0)
		return -1;
	tap_init(&j->tap_stream);
	if (json_is_array(json_object_get(job, "expected")))
		j->expected = json_incref(json_object_get(job, "expected"));
	tc = json_object_get(job, "testcases");
	json_array_foreach (tc, i, it) {
		if (!strcmp(json_string_value(it) ? json_string_value(it) : "", "tap"))
			j->tap = 1;
		else if (!strcmp(json_string_value(it) ? json_string_value(it) : "", "lava"))
			j->lava = 1;
	}
	return 0;
}

static void rules_free(struct judge_rule *rules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pattern_free(rules[i].re);
		free(rules[i].name);
	}
}

void judge_release(struct judge *j)
{
	if (j == NULL)
		return;
	rules_free(j->stages, j->nstages);
	rules_free(j->failures, j->nfailures);
	rules_free(j->infra, j->ninfra);
	j->nstages = j->nfailures = j->ninfra = 0;
	vt_release(&j->row);
	json_decref(j->testcases);
	j->testcases = NULL;
	json_decref(j->expected);
	j->expected = NULL;
	for (size_t i = 0; i < j->nfacts; i++) {
		free(j->facts[i].name);
		pattern_free(j->facts[i].re);
		json_decref(j->facts[i].value);
		json_decref(j->facts[i].dflt);
	}
	j->nfacts = 0;
	json_decref(j->found);
	j->found = NULL;
}

static void log_out(struct judge *j, const void *p, size_t n)
{
	j->log_len += (long long)n;
	if (j->log)
		j->log(j->arg, p, n);
}

static void log_prefix(struct judge *j, long long now_ms, char kind)
{
	char pre[64];
	int n;

	n = snprintf(pre, sizeof(pre), "%9.3f %c ", (double)(now_ms - j->t0_ms) / 1000.0, kind);
	log_out(j, pre, (size_t)n);
}

/* Ends a partly written console line so that a note can follow. */
static void log_break_line(struct judge *j)
{
	if (j->pending_cr) {
		log_out(j, "\r", 1);
		j->pending_cr = 0;
	}
	if (j->in_line) {
		log_out(j, "\n", 1);
		j->in_line = 0;
	}
}

static void note_v(struct judge *j, long long now_ms, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void note_v(struct judge *j, long long now_ms, const char *fmt, va_list ap)
{
	char text[768];
	int n;

	/* notes past the log's bound are dropped too: the reserve covers the few
	 * closing notes of an attempt */
	if (j->log_len >= j->log_max - 256)
		return;
	log_break_line(j);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	log_prefix(j, now_ms, '#');
	log_out(j, text, (size_t)n);
	log_out(j, "\n", 1);
}

void judge_note(struct judge *j, long long now_ms, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note_v(j, now_ms, fmt, ap);
	va_end(ap);
}

/* JSON strings must be UTF-8: console bytes that are not become '?'. */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n, i;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (n && *p >= 0xc2 && *p <= 0xf4) {
			for (i = 1; i < n; i++)
				if ((p[i] & 0xc0) != 0x80)
					break;
			/* no overlong 3/4-byte forms, no surrogates, nothing past U+10FFFF */
			if (i == n && !(n == 3 && p[0] == 0xe0 && p[1] < 0xa0) &&
			    !(n == 3 && p[0] == 0xed && p[1] >= 0xa0) &&
			    !(n == 4 && p[0] == 0xf0 && p[1] < 0x90) &&
			    !(n == 4 && p[0] == 0xf4 && p[1] >= 0x90)) {
				p += n;
				continue;
			}
		}
		*p++ = '?';
	}
}

static void set_verdict(struct judge *j, long long now_ms, enum verdict v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_verdict(struct judge *j, long long now_ms, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (j->verdict != VERDICT_NONE)
		return;
	j->verdict = v;
	va_start(ap, fmt);
	vsnprintf(j->reason, sizeof(j->reason), fmt, ap);
	va_end(ap);
	utf8_sanitize(j->reason);
	for (i = j->cur; i < j->nstages; i++)
		if (j->stages[i].result == STAGE_WAITING)
			j->stages[i].result = STAGE_SKIPPED;
	judge_note(j, now_ms, "verdict %s: %s", verdict_name(v), j->reason);
}

void judge_start(struct judge *j, long long now_ms)
{
	j->started = 1;
	j->t0_ms = now_ms;
	j->stage_t0_ms = now_ms;
}

static void copy_name(char *out, size_t outlen, const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

int judge_parse_testcase(const char *line, int tap, int lava, char *name, size_t namelen,
			 const char **result)
{
	if (lava) {
		const char *s = strstr(line, "<LAVA_SIGNAL_TESTCASE ");

		if (s) {
			const char *id = strstr(s, "TEST_CASE_ID="), *res = strstr(s, "RESULT=");
			const char *end = strchr(s, '>');

			if (id && res && end && id < end && res < end) {
				size_t idn, rn;

				id += strlen("TEST_CASE_ID=");
				res += strlen("RESULT=");
				idn = strcspn(id, " >");
				rn = strcspn(res, " >");
				if (idn == 0)
					return 0;
				if (rn == 4 && !strncmp(res, "pass", 4))
					*result = "pass";
				else if (rn == 4 && !strncmp(res, "fail", 4))
					*result = "fail";
				else if (rn == 4 && !strncmp(res, "skip", 4))
					*result = "skip";
				else
					return 0;
				copy_name(name, namelen, id, idn);
				return 1;
			}
		}
	}
	if (tap) {
		struct tap_line l;

		if (tap_parse_line(line, &l) && l.kind == TAP_TEST) {
			snprintf(name, namelen, "%s", l.name);
			*result = l.result;
			return 1;
		}
	}
	return 0;
}

static void on_testcase(struct judge *j, long long now_ms, char *name, const char *result)
{
	utf8_sanitize(name);
	if (!strcmp(result, "pass"))
		j->tc_pass++;
	else if (!strcmp(result, "skip"))
		j->tc_skip++;
	else {
		if (j->tc_fail++ == 0)
			snprintf(j->first_failed_tc, sizeof(j->first_failed_tc), "%s", name);
	}
	if (json_array_size(j->testcases) >= JUDGE_MAX_TESTCASES) {
		if (!j->tc_cut++)
			judge_note(j, now_ms,
				   "log cut: more than %d test cases, the rest only counted",
				   JUDGE_MAX_TESTCASES);
		return;
	}
	json_array_append_new(j->testcases,
			      json_pack("{s:s, s:s}", "name", name, "result", result));
	judge_note(j, now_ms, "testcase %s %s", name, result);
}

/* 1 when a test case of that name was reported. */
static int testcase_seen(const struct judge *j, const char *name)
{
	const json_t *tc;
	size_t i;

	json_array_foreach (j->testcases, i, tc)
		if (!strcmp(jstr(tc, "name", ""), name))
			return 1;
	return 0;
}

/* The planned TAP numbers not seen become failed test cases. */
static void tap_missing(struct judge *j, long long now_ms)
{
	long n = 0, count = 0;
	char name[64];

	while ((n = tap_missing_next(&j->tap_stream, n)) > 0) {
		snprintf(name, sizeof(name), "test %ld (missing)", n);
		count++;
		on_testcase(j, now_ms, name, "fail");
	}
	if (count)
		judge_note(j, now_ms, "TAP: plan 1..%ld, %ld planned tests not reported",
			   j->tap_stream.plan, count);
}

/* A line against the facts not found yet. */
static void facts_match(struct judge *j, long long now_ms, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < j->nfacts; i++) {
		const struct judge_fact *f = &j->facts[i];
		char cap[257];
		json_t *v;

		if (json_object_get(j->found, f->name) ||
		    pattern_capture(f->re, s, n, cap, sizeof(cap)) != 1)
			continue;
		utf8_sanitize(cap);
		if (f->value)
			v = json_incref(f->value);
		else if (cap[0] && strspn(cap, "0123456789") == strlen(cap) && strlen(cap) < 18)
			v = json_integer(strtoll(cap, NULL, 10));
		else
			v = json_string(cap);
		json_object_set_new(j->found, f->name, v);
		{
			char *text = json_dumps(v, JSON_ENCODE_ANY);

			judge_note(j, now_ms, "fact %s: %s", f->name, text ? text : "?");
			free(text);
		}
	}
}

/* The facts nothing gave a value take their default (a fact may have several
 * patterns, one of them with the default); the first without one is named in
 * *missing (NULL when every fact has a value). */
static void facts_settle(struct judge *j, const char **missing)
{
	size_t i;

	*missing = NULL;
	for (i = 0; i < j->nfacts; i++)
		if (j->facts[i].dflt && !json_object_get(j->found, j->facts[i].name))
			json_object_set(j->found, j->facts[i].name, j->facts[i].dflt);
	for (i = 0; i < j->nfacts && *missing == NULL; i++)
		if (!json_object_get(j->found, j->facts[i].name))
			*missing = j->facts[i].name;
}

/* The end of the console's test output: the TAP plan and the job's expected test
 * cases are checked, then the verdict set. */
static void all_stages_done(struct judge *j, long long now_ms)
{
	const char *missing;
	const json_t *e;
	size_t i;

	if (j->tap_stream.plan >= 0)
		tap_missing(j, now_ms);
	json_array_foreach (j->expected, i, e) {
		char name[128];

		if (!json_is_string(e) || testcase_seen(j, json_string_value(e)))
			continue;
		snprintf(name, sizeof(name), "%s", json_string_value(e));
		judge_note(j, now_ms, "expected test case %s was not reported", name);
		on_testcase(j, now_ms, name, "fail");
	}
	facts_settle(j, &missing);
	if (missing)
		set_verdict(j, now_ms, VERDICT_FAIL,
			    "examine: nothing on the console gave fact %s (its pattern matched "
			    "no line)",
			    missing);
	else if (j->tc_fail)
		set_verdict(j, now_ms, VERDICT_FAIL, "test case %s failed (%d of %d failed)%s%s",
			    j->first_failed_tc, j->tc_fail, j->tc_pass + j->tc_fail,
			    j->tap_stream.errors ? "; TAP: " : "", j->tap_stream.first_error);
	else if (j->tap_stream.errors)
		set_verdict(j, now_ms, VERDICT_FAIL, "TAP: %s (%ld errors in the TAP stream)",
			    j->tap_stream.first_error, j->tap_stream.errors);
	else
		set_verdict(j, now_ms, VERDICT_PASS, "all stages reached, %d test cases passed%s",
			    j->tc_pass, j->tc_skip ? ", some skipped" : "");
}

/* 1 when the rule's pattern matches the line. A match that gives up at its bound
 * (lib/pattern.h) counts as no match, and the log says so. */
static int rule_match(struct judge *j, long long now_ms, const struct judge_rule *r, const char *s,
		      size_t n)
{
	int rc = pattern_match(r->re, s, n);

	if (rc < 0)
		judge_note(j, now_ms, "pattern %s gave up on a line (%s): not matched", r->name,
			   rc == -E2BIG ? "its match limit" : "out of memory");
	return rc == 1;
}

/* One rendered line against the failure, infra and stage patterns and the
 * test-case formats. */
static void line_match(struct judge *j, long long now_ms, const char *s, size_t n)
{
	size_t i;
	char name[128];
	const char *result;
	struct tap_line tl;

	for (i = 0; i < j->nfailures; i++) {
		if (rule_match(j, now_ms, &j->failures[i], s, n)) {
			if (j->cur < j->nstages)
				j->stages[j->cur].result = STAGE_FAIL;
			judge_note(j, now_ms, "failure %s: %.300s", j->failures[i].name, s);
			set_verdict(j, now_ms, VERDICT_FAIL, "failure %s: %.300s",
				    j->failures[i].name, s);
			return;
		}
	}
	for (i = 0; i < j->ninfra; i++) {
		if (rule_match(j, now_ms, &j->infra[i], s, n)) {
			judge_note(j, now_ms, "infra %s: %.300s", j->infra[i].name, s);
			set_verdict(j, now_ms, VERDICT_INFRA, "infra %s: %.300s", j->infra[i].name,
				    s);
			return;
		}
	}
	if (j->nfacts)
		facts_match(j, now_ms, s, n);
	if (j->tap && tap_read(&j->tap_stream, s, &tl) != TAP_OTHER) {
		if (tl.error[0])
			judge_note(j, now_ms, "TAP: %s", tl.error);
		if (tl.kind == TAP_TEST) {
			on_testcase(j, now_ms, tl.name, tl.result);
		} else if (tl.kind == TAP_BAIL) {
			judge_note(j, now_ms, "TAP: bail out: %.300s", tl.reason);
			tap_missing(j, now_ms);
			if (j->cur < j->nstages)
				j->stages[j->cur].result = STAGE_FAIL;
			set_verdict(j, now_ms, VERDICT_FAIL, "TAP: bail out: %.300s", tl.reason);
			return;
		}
	} else if (j->lava && judge_parse_testcase(s, 0, j->lava, name, sizeof(name), &result)) {
		on_testcase(j, now_ms, name, result);
	}
	if (j->cur < j->nstages && rule_match(j, now_ms, &j->stages[j->cur], s, n)) {
		struct judge_rule *st = &j->stages[j->cur];

		st->result = STAGE_PASS;
		st->seconds = (double)(now_ms - j->stage_t0_ms) / 1000.0;
		judge_note(j, now_ms, "stage %s reached", st->name);
		j->cur++;
		j->stage_t0_ms = now_ms;
		if (j->cur == j->nstages)
			all_stages_done(j, now_ms);
	}
}

/* A console line ended: match its row. */
static void line_complete(struct judge *j, long long now_ms)
{
	char *s;
	size_t n;

	if (j->verdict != VERDICT_NONE)
		return;
	/* what a terminal shows on this row (lib/vt.h): valid UTF-8, no escapes */
	vt_line_end(&j->row);
	s = vt_row(&j->row, &n);
	line_match(j, now_ms, s, n);
	free(s);
}

static void line_end(struct judge *j, long long now_ms)
{
	j->pending_cr = 0; /* the "\r" of "\r\n" is part of the line end */
	if (j->in_line) {
		log_out(j, "\n", 1);
		j->in_line = 0;
	} else if (!j->log_cut && j->line_len == 0 && j->line_dropped == 0) {
		/* an empty line: still a line of the console */
		log_prefix(j, now_ms, '|');
		log_out(j, "\n", 1);
	}
	if (j->line_dropped)
		judge_note(j, now_ms,
			   "log cut: console line longer than %zu bytes, %zu bytes dropped",
			   j->line_max, j->line_dropped);
	line_complete(j, now_ms);
	vt_newline(&j->row);
	j->line_len = 0;
	j->line_dropped = 0;
}

void judge_feed(struct judge *j, const void *p, size_t n, long long now_ms)
{
	const unsigned char *s = p;
	size_t i = 0;

	while (i < n) {
		size_t run, take;
		const unsigned char *nl;

		if (s[i] == '\n') {
			line_end(j, now_ms);
			i++;
			continue;
		}
		nl = memchr(s + i, '\n', n - i);
		run = nl ? (size_t)(nl - (s + i)) : n - i;
		/* the line buffer (for matching) and the log take at most line_max bytes */
		take = j->line_max - j->line_len;
		if (take > run)
			take = run;
		if (take < run)
			j->line_dropped += run - take;
		/* the row takes every byte: a line redrawn after "\r" stays within its
		 * columns, and what a terminal ends up showing is what is matched */
		vt_feed(&j->row, s + i, run);
		if (take) {
			j->line_len += take;
			if (!j->log_cut &&
			    j->log_len + (long long)take + 64 > j->log_max - JUDGE_LOG_RESERVE) {
				j->log_cut = 1;
				judge_note(j, now_ms,
					   "log cut: console log reached %lld bytes, later console "
					   "output dropped",
					   j->log_len);
			}
			if (!j->log_cut) {
				size_t len = take;

				if (!j->in_line) {
					log_prefix(j, now_ms, '|');
					j->in_line = 1;
				}
				if (j->pending_cr) {
					log_out(j, "\r", 1);
					j->pending_cr = 0;
				}
				/* hold back a last "\r": it may be half of "\r\n" */
				if (s[i + take - 1] == '\r') {
					len--;
					j->pending_cr = 1;
				}
				if (len)
					log_out(j, s + i, len);
			}
		}
		i += run;
	}
	judge_tick(j, now_ms);
}

void judge_tick(struct judge *j, long long now_ms)
{
	if (!j->started || j->verdict != VERDICT_NONE)
		return;
	if (j->cur < j->nstages &&
	    now_ms - j->stage_t0_ms >= (long long)j->stages[j->cur].timeout_s * 1000) {
		struct judge_rule *st = &j->stages[j->cur];

		st->result = STAGE_TIMEOUT;
		st->seconds = (double)(now_ms - j->stage_t0_ms) / 1000.0;
		judge_note(j, now_ms, "stage %s timed out after %d s", st->name, st->timeout_s);
		set_verdict(j, now_ms, st->infra_on_timeout ? VERDICT_INFRA : VERDICT_TIMEOUT,
			    "stage %s timed out after %d s", st->name, st->timeout_s);
		return;
	}
	if (j->timeout_ms > 0 && now_ms - j->t0_ms >= j->timeout_ms) {
		if (j->cur < j->nstages)
			j->stages[j->cur].result = STAGE_TIMEOUT;
		set_verdict(j, now_ms, VERDICT_TIMEOUT, "the attempt timed out after %lld s",
			    j->timeout_ms / 1000);
	}
	if (j->nstages == 0 && j->timeout_ms == 0)
		all_stages_done(j, now_ms);
}

void judge_end(struct judge *j, long long now_ms, enum verdict v, const char *reason)
{
	if (j->verdict == VERDICT_NONE && j->cur < j->nstages && v != VERDICT_PASS)
		j->stages[j->cur].result = v == VERDICT_TIMEOUT ? STAGE_TIMEOUT : STAGE_FAIL;
	set_verdict(j, now_ms, v, "%s", reason);
}

long long judge_next_deadline_ms(const struct judge *j, long long now_ms)
{
	long long d = 1000;

	if (!j->started || j->verdict != VERDICT_NONE)
		return d;
	if (j->cur < j->nstages) {
		long long s =
		    j->stage_t0_ms + (long long)j->stages[j->cur].timeout_s * 1000 - now_ms;

		if (s < d)
			d = s;
	}
	if (j->timeout_ms > 0 && j->t0_ms + j->timeout_ms - now_ms < d)
		d = j->t0_ms + j->timeout_ms - now_ms;
	return d < 0 ? 0 : d;
}

json_t *judge_result(const struct judge *j)
{
	json_t *stages = json_array(), *res;
	size_t i;

	for (i = 0; i < j->nstages; i++) {
		const struct judge_rule *st = &j->stages[i];
		json_t *o = json_pack("{s:s, s:s}", "name", st->name, "result",
				      stage_result_name(st->result));

		if (st->result == STAGE_PASS || st->result == STAGE_TIMEOUT)
			json_object_set_new(o, "seconds", json_real(st->seconds));
		json_array_append_new(stages, o);
	}
	res = json_pack("{s:s, s:s, s:o, s:O}", "verdict",
			verdict_name(j->verdict == VERDICT_NONE ? VERDICT_INFRA : j->verdict),
			"reason", j->reason[0] ? j->reason : "no verdict", "stages", stages,
			"testcases", j->testcases);
	if (j->found) /* a commissioning job: what it found, also when it failed */
		json_object_set(res, "facts", j->found);
	return res;
}
