#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pattern {
	pcre2_code *code;
	pcre2_match_context *mctx;
	char *src;
};

int pattern_compile(struct pattern **out, const char *src, size_t *erroffset, char *err,
		    size_t errlen)
{
	return pattern_compile_opts(out, src, 0, erroffset, err, errlen);
}

int pattern_compile_opts(struct pattern **out, const char *src, unsigned opts, size_t *erroffset,
			 char *err, size_t errlen)
{
	struct pattern *p;
	int code;
	PCRE2_SIZE off = 0;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	/* UTF: patterns and consoles are UTF-8; MATCH_INVALID_UTF: a console's stray
	 * bytes are skipped by the matcher instead of failing the whole line. */
	p->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
				PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
				    (opts & PATTERN_COUNTED ? PCRE2_AUTO_CALLOUT : 0),
				&code, &off, NULL);
	if (p->code == NULL) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(err, errlen, "%s", (const char *)msg);
		if (erroffset)
			*erroffset = off;
		free(p);
		return -EINVAL;
	}
	p->mctx = pcre2_match_context_create(NULL);
	p->src = strdup(src);
	if (p->mctx == NULL || p->src == NULL) {
		pattern_free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pcre2_set_match_limit(p->mctx, PATTERN_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, PATTERN_DEPTH_LIMIT);
	pcre2_set_heap_limit(p->mctx, PATTERN_HEAP_LIMIT_KIB);
	*out = p;
	return 0;
}

/* pcre2_match's result rc as this file's codes: 1, 0, -ENOMEM, -E2BIG. */
static int match_code(int rc)
{
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_NOMEMORY)
		return -ENOMEM;
	return -E2BIG; /* match, depth or heap limit: the bound this file promises */
}

/* pcre2_match of s[0..n) into md: its own result (the pairs set, plus one). */
static int match_into(const struct pattern *p, const char *s, size_t n, pcre2_match_data *md)
{
	return pcre2_match(p->code, (PCRE2_SPTR)(s ? s : ""), s ? n : 0, 0, 0, md, p->mctx);
}

int pattern_match(const struct pattern *p, const char *s, size_t n)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc;

	if (md == NULL)
		return -ENOMEM;
	rc = match_into(p, s, n, md);
	pcre2_match_data_free(md);
	return match_code(rc);
}

/* A counted match's callout: one unit of its budget per item tried. */
static int spend(pcre2_callout_block *b, void *budget)
{
	(void)b;
	return --*(long *)budget < 0 ? PCRE2_ERROR_CALLOUT : 0;
}

int pattern_match_budget(const struct pattern *p, const char *s, size_t n, long *budget)
{
	pcre2_match_context *mctx = pcre2_match_context_copy(p->mctx);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = -ENOMEM;

	if (mctx && md && *budget >= 0) {
		pcre2_set_callout(mctx, spend, budget);
		rc = match_code(
		    pcre2_match(p->code, (PCRE2_SPTR)(s ? s : ""), s ? n : 0, 0, 0, md, mctx));
	} else if (mctx && md) {
		rc = -E2BIG;
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mctx);
	return rc;
}

int pattern_capture(const struct pattern *p, const char *s, size_t n, char *out, size_t outlen)
{
	pcre2_match_data *md = pcre2_match_data_create(2, NULL);
	const PCRE2_SIZE *ov;
	size_t from, len;
	int rc;

	if (md == NULL)
		return -ENOMEM;
	rc = match_into(p, s, n, md);
	if (rc > 0 && outlen) {
		/* the first group when it took part (rc counts the pairs set), else the match */
		ov = pcre2_get_ovector_pointer(md);
		from = rc >= 2 && ov[2] != PCRE2_UNSET ? 2 : 0;
		len = ov[from + 1] - ov[from];
		if (len > outlen - 1)
			len = outlen - 1;
		memcpy(out, s + ov[from], len);
		out[len] = '\0';
	}
	pcre2_match_data_free(md);
	return match_code(rc);
}

const char *pattern_source(const struct pattern *p)
{
	return p->src;
}

void pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	pcre2_code_free(p->code);
	pcre2_match_context_free(p->mctx);
	free(p->src);
	free(p);
}
