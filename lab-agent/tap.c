#include "tap.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void tap_init(struct tap *t)
{
	memset(t, 0, sizeof(*t));
	t->plan = -1;
}

/* Reads a decimal number of at most 9 digits at *p; -1 when there is none or it
 * is longer (a number that large is out of every bound here). */
static long number_at(const char **p)
{
	const char *s = *p;
	long v = 0;
	int n = 0;

	while (isdigit((unsigned char)*s)) {
		if (++n > 9)
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	if (n == 0)
		return -1;
	*p = s;
	return v;
}

static int word_end(char c)
{
	return !(isalnum((unsigned char)c) || c == '_');
}

/* The description p[0..n): trimmed, a leading "- " dropped, "\#" and "\\"
 * unescaped (TAP 14), cut to the name's room. */
static void set_name(char *out, const char *p, size_t n)
{
	size_t o = 0, i;

	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (n && *p == '-' && (n == 1 || isspace((unsigned char)p[1])))
		p++, n--;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	for (i = 0; i < n && o + 1 < TAP_NAME_MAX; i++) {
		if (p[i] == '\\' && i + 1 < n && (p[i + 1] == '#' || p[i + 1] == '\\'))
			i++;
		out[o++] = p[i];
	}
	/* a cut never leaves half a UTF-8 sequence */
	if (i < n)
		while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
	if (o && i < n && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
		o--;
	out[o] = '\0';
	if (o == 0)
		snprintf(out, TAP_NAME_MAX, "unnamed");
}

/* The first "#" not escaped by a backslash, or NULL. */
static const char *directive_hash(const char *p)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '#')
			return p;
	}
	return NULL;
}

int tap_parse_line(const char *line, struct tap_line *out)
{
	const char *p = line, *hash;
	int notok = 0;
	long v;

	memset(out, 0, sizeof(*out));
	if (!strncmp(p, "TAP version ", 12)) {
		out->kind = TAP_VERSION;
		return 1;
	}
	if (!strncmp(p, "Bail out!", 9)) {
		out->kind = TAP_BAIL;
		out->reason = p + 9;
		while (*out->reason == ' ' || *out->reason == '\t')
			out->reason++;
		return 1;
	}
	if (p[0] == '1' && p[1] == '.' && p[2] == '.') {
		const char *q = p + 3;

		v = number_at(&q);
		while (*q == ' ' || *q == '\t')
			q++;
		if (v >= 0 && (*q == '\0' || *q == '#')) {
			out->kind = TAP_PLAN;
			out->number = v;
			return 1;
		}
		return 0;
	}
	if (!strncmp(p, "not ok", 6) && word_end(p[6])) {
		notok = 1;
		p += 6;
	} else if (!strncmp(p, "ok", 2) && word_end(p[2])) {
		p += 2;
	} else {
		return 0;
	}
	out->kind = TAP_TEST;
	out->number = -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		const char *q = p;

		v = number_at(&q);
		if (v < 0) {
			snprintf(out->error, sizeof(out->error), "test number too large");
			while (isdigit((unsigned char)*q))
				q++;
			v = TAP_NUM_MAX + 1L;
		}
		/* "ok 12abc": the digits are the start of the description */
		if (word_end(*q)) {
			out->number = v;
			p = q;
		}
	}
	hash = directive_hash(p);
	set_name(out->name, p, hash ? (size_t)(hash - p) : strlen(p));
	if (hash) {
		const char *d = hash + 1;

		while (*d == ' ' || *d == '\t')
			d++;
		if (!strncasecmp(d, "skip", 4))
			out->skip = 1; /* "SKIP\S*": skip, skipped, SKIP: */
		else if (!strncasecmp(d, "todo", 4) && word_end(d[4]))
			out->todo = 1;
	}
	if (out->todo)
		out->result = notok ? "skip" : "pass";
	else if (out->skip)
		out->result = notok ? "fail" : "skip";
	else
		out->result = notok ? "fail" : "pass";
	return 1;
}

static void error(struct tap *t, struct tap_line *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error(struct tap *t, struct tap_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	if (t->errors++ == 0)
		snprintf(t->first_error, sizeof(t->first_error), "%s", l->error);
}

enum tap_kind tap_read(struct tap *t, const char *line, struct tap_line *out)
{
	if (!tap_parse_line(line, out))
		return TAP_OTHER;
	switch (out->kind) {
	case TAP_PLAN:
		if (t->plan >= 0) {
			error(t, out, "a second plan 1..%ld (the first was 1..%ld)", out->number,
			      t->plan);
			break;
		}
		if (out->number > TAP_NUM_MAX) {
			error(t, out, "plan 1..%ld is larger than %d tests", out->number,
			      TAP_NUM_MAX);
			break;
		}
		t->plan = out->number;
		t->plan_at_end = t->tests > 0;
		if (t->plan_at_end && t->last > t->plan)
			error(t, out, "test %ld is out of the plan 1..%ld", t->last, t->plan);
		break;
	case TAP_TEST: {
		long want = t->last + 1;
		int had_error = out->error[0] != '\0';

		if (had_error && t->errors++ == 0)
			snprintf(t->first_error, sizeof(t->first_error), "%s", out->error);
		if (out->number < 0)
			out->number = want;
		t->tests++;
		if (t->plan >= 0 && t->plan_at_end) {
			if (!had_error)
				error(t, out, "test %ld after the trailing plan 1..%ld",
				      out->number, t->plan);
		} else if (out->number < 1 || out->number > TAP_NUM_MAX ||
			   (t->plan >= 0 && out->number > t->plan)) {
			if (!had_error)
				error(t, out, "test %ld is out of the plan 1..%ld", out->number,
				      t->plan >= 0 ? t->plan : (long)TAP_NUM_MAX);
		} else if (t->seen[out->number / 8] & (1u << (out->number % 8))) {
			if (!had_error)
				error(t, out, "test %ld is reported twice", out->number);
		} else if (out->number != want) {
			if (!had_error)
				error(t, out, "test %ld is out of sequence (expected %ld)",
				      out->number, want);
		}
		if (out->number >= 1 && out->number <= TAP_NUM_MAX)
			t->seen[out->number / 8] |= (unsigned char)(1u << (out->number % 8));
		t->last = out->number;
		break;
	}
	case TAP_VERSION:
	case TAP_BAIL:
	case TAP_OTHER:
		break;
	}
	return out->kind;
}

long tap_missing_next(const struct tap *t, long after)
{
	long n;

	for (n = after + 1; n <= t->plan && n <= TAP_NUM_MAX; n++)
		if (!(t->seen[n / 8] & (1u << (n % 8))))
			return n;
	return 0;
}
