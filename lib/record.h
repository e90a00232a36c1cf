/* Records: the in-toto Statement an agent signs at the end of every attempt (and a
 * builder at the end of every build), and its checks. docs/traceability.md has the
 * shape; this file is its one definition (record_predicate_fields).
 *
 *   {"_type": "https://in-toto.io/Statement/v1",
 *    "subject": [{"name": "console.log", "digest": {"sha256": LOG}},
 *                {"name": "artifact/xen", "digest": {"sha256": …}}, …],
 *    "predicateType": "https://xenci.dev/attempt/v1" | "https://xenci.dev/build/v1",
 *    "predicate": {"attempt", "flight", "kind", "number", "agent", "board",
 *                  "board_class", "arch", "job", "variant", "job_sha256",
 *                  "revision": {TREE: COMMIT}, "boot_script_sha256", "recipe_sha256",
 *                  "stages", "testcases", "verdict", "reason", "log_length"}} */
#ifndef XENCI_RECORD_H
#define XENCI_RECORD_H

#include <jansson.h>
#include <stddef.h>

#include "dsse.h"
#include "validate.h"

#define RECORD_LOG_SUBJECT     "console.log"
#define RECORD_ARTIFACT_PREFIX "artifact/"

extern const struct vfield record_predicate_fields[];

/* What the signer knows besides the claimed attempt and its result. */
struct record_inputs {
	const char *agent;		/* the agent's name */
	const char *board_class;	/* the board's class, NULL for builds */
	const char *log_sha256;		/* the console log as sent (log_length bytes) */
	const char *boot_script_sha256; /* NULL when the attempt wrote none */
	const char *recipe_sha256;	/* builds: the build recipe; NULL otherwise */
};

/* The statement of attempt (the claim's ATTEMPT, docs/api.md) ended with result (the
 * result body, log_length included). New reference; NULL when attempt has no id. */
json_t *record_statement(const json_t *attempt, const json_t *result,
			 const struct record_inputs *in);
/* The job definition's SHA-256: of its canonical JSON (dsse_canonical), the bytes an
 * evidence bundle keeps. 0 or -ENOMEM. */
int record_job_sha256(char hex[65], const json_t *job);
/* Signs the statement: the envelope's text (malloc'd) in *out. */
int record_sign(char **out, const struct sigkey *k, const json_t *statement);

/* A parsed, checked record. */
struct record {
	struct dsse env;
	json_t *statement; /* owned */
	json_t *predicate; /* borrowed from statement */
};
/* Parses an envelope's text as a record: DSSE, an in-toto Statement v1 of one of
 * xenci's predicate types, a predicate of record_predicate_fields' shape and a
 * console.log subject. Does NOT check the signature (record_verify). 0, or -EINVAL
 * with why in err. */
int record_parse(struct record *r, const char *text, size_t len, char *err, size_t errlen);
/* 0 when k signed r; else dsse_verify's code. */
int record_verify(const struct record *r, const struct sigkey *k);
void record_release(struct record *r);

#endif
