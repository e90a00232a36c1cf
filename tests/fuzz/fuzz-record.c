/* The record parser (lib/record.c over lib/dsse.c): any bytes as an envelope's text.
 * Invariants: a parsed record has a payload, a 64-byte signature, a keyid of 64 hex, a
 * statement object with a console.log subject and a predicate object; a refusal says
 * why; and a signature check of whatever parsed returns (never crashes). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"
#include "sigkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sigkey k;
	struct record r;
	char err[256] = "";

	if (k.pkey == NULL && sigkey_generate(&k) < 0)
		return 0;
	if (record_parse(&r, (const char *)data, size, err, sizeof(err)) < 0) {
		assert(err[0] != '\0');
		return 0;
	}
	assert(r.env.payload != NULL && r.env.sig_len == SIGKEY_SIG_LEN);
	assert(strlen(r.env.keyid) == SIGKEY_ID_LEN);
	assert(json_is_object(r.statement) && json_is_object(r.predicate));
	assert(intoto_subject_sha256(r.statement, RECORD_LOG_SUBJECT) != NULL);
	(void)record_verify(&r, &k);
	record_release(&r);
	return 0;
}
