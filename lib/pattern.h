/* Patterns: the regular expressions of job files (stages, failures, infra) and
 * anything else a user writes to match console text. They are PCRE2 (Perl- and
 * Python-like: \d, \s, \b, (?i), non-greedy quantifiers, lookaround), compiled
 * once, and matched with bounded work so that no pattern can stall a caller on a
 * long line (docs/security.md: PATTERN_MATCH_LIMIT, PATTERN_DEPTH_LIMIT).
 *
 * Subjects are bytes: a pattern is UTF-8 and matches code points, and bytes of a
 * subject that are not valid UTF-8 match nothing but never hide the rest of it. */
#ifndef XENCI_PATTERN_H
#define XENCI_PATTERN_H

#include <stddef.h>

/* PCRE2's match limit (calls of its internal match function) and depth limit
 * (backtracking depth) for every pattern_match(): a few milliseconds of work on a
 * 4 KiB line at most, far above what an ordinary pattern needs. */
#define PATTERN_MATCH_LIMIT    1000000u
#define PATTERN_DEPTH_LIMIT    10000u
#define PATTERN_HEAP_LIMIT_KIB 4096u

struct pattern;

/* Compiles src (a NUL-terminated UTF-8 string). On success returns 0 and *out,
 * which the caller frees with pattern_free(). On failure returns -EINVAL, writes
 * PCRE2's message into err and the byte offset in src where it stopped into
 * *erroffset (when erroffset is not NULL); -ENOMEM when memory ran out. */
int pattern_compile(struct pattern **out, const char *src, size_t *erroffset, char *err,
		    size_t errlen);
/* pattern_compile with options. PATTERN_COUNTED: PCRE2 calls back before each
 * item of the pattern (PCRE2_AUTO_CALLOUT), so that pattern_match_budget can count
 * the work of a match over all its start positions and subjects: PCRE2's match
 * limit bounds each start position only, and a pattern like .*.*.*=1 takes
 * seconds over a few thousand lines within it. */
#define PATTERN_COUNTED 0x1u
/* Returns and errors as pattern_compile. */
int pattern_compile_opts(struct pattern **out, const char *src, unsigned opts, size_t *erroffset,
			 char *err, size_t errlen);
/* 1 when p matches somewhere in s[0..n), 0 when it does not, -E2BIG when the match
 * gave up at its bound (the caller decides what an unanswered match means),
 * -ENOMEM when memory ran out. */
int pattern_match(const struct pattern *p, const char *s, size_t n);
/* pattern_match of a PATTERN_COUNTED pattern that spends *budget, one unit per
 * item PCRE2 tries (the match limits apply too): -E2BIG when it runs out (*budget
 * then < 0). Safe from several threads on one p. */
int pattern_match_budget(const struct pattern *p, const char *s, size_t n, long *budget);
/* pattern_match that also copies what the match's first group took (the whole
 * match when the pattern has no group, or the group took no part) into out,
 * cut to outlen - 1 bytes and NUL-terminated, when it returns 1. */
int pattern_capture(const struct pattern *p, const char *s, size_t n, char *out, size_t outlen);
/* The source the pattern was compiled from (owned by p). */
const char *pattern_source(const struct pattern *p);
/* Frees p; NULL is accepted. */
void pattern_free(struct pattern *p);

#endif
