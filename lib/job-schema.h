/* The shape of a job (docs/jobs.md), one table for every reader: the
 * controller's job loader and API, and the agent's --check. Patterns are
 * compiled (lib/pattern.h) so that a bad one is refused with its file:line:col
 * and PCRE2's message and offset. */
#ifndef XENCI_JOB_SCHEMA_H
#define XENCI_JOB_SCHEMA_H

#include <jansson.h>

#include "validate.h"

extern const struct vfield job_fields[];

/* Validates one job document (from any source). 0, or -1 with messages in ctx. */
int job_validate(struct vctx *ctx, const json_t *job);

/* The jobs a validated job file defines: [job] without variants, else one per
 * variant, named "JOB/VARIANT", with "job": JOB and "variant": VARIANT added,
 * "variants" removed, the variant's xen_args and dom0_args appended to
 * boot's, and its initrd and dom0less (in boot), stages and expected, where it
 * has them, in place of the job's (docs/jobs.md). A new array the caller owns; job is borrowed. */
json_t *job_expand(const json_t *job);
/* Board properties (a commissioning job's facts, the keys of requires that
 * name them): 1 when s is a property's name ([a-z0-9][a-z0-9_]*, at most 64
 * bytes), else 0. */
int job_property_name_ok(const char *s);
/* 1 when v may be a property's value: a boolean, a number or a string of at
 * most 256 bytes; else 0. */
int job_property_value_ok(const json_t *v);
/* A vfield check (validate.h) for a string that must compile as a pattern
 * (lib/pattern.h): 0, or -1 with PCRE2's message and offset reported at the
 * value's file:line:col. Used by job files and the controller's known issues. */
int job_check_pattern(struct vctx *ctx, const json_t *parent, const char *key, const json_t *value,
		      const char *path);

#endif
