/* The agent's signature on what it did (docs/traceability.md): an Ed25519 key made
 * at the agent's first start in its work folder, WORK/agent-key.pem (0600; a key file
 * others may read is refused), its public half in WORK/agent-key.pub for the admin
 * (`xenci token create --agent-key WORK/agent-key.pub`). Every result the agent sends
 * carries a record: the in-toto Statement of the attempt or build (lib/record.h),
 * signed in a DSSE envelope.
 *
 * The key is process-wide: agent_sign_open once at start, before the threads; then
 * agent_sign_result from any thread (OpenSSL's signing with a shared key is
 * thread-safe). */
#ifndef XENCI_AGENT_SIGN_H
#define XENCI_AGENT_SIGN_H

#include <jansson.h>
#include <stddef.h>

#include "board.h"

/* The member of a spooled result that carries the boot script's sha256 to the
 * signer; it is not sent. */
#define SIGN_BOOT_SCRIPT_MEMBER "_boot_script_sha256"
/* The same for a build's recipe (build.sh). */
#define SIGN_RECIPE_MEMBER "_recipe_sha256"

/* Loads or makes WORK/agent-key.pem. 0, or negative with why in err. */
int agent_sign_open(const char *work_dir, char *err, size_t errlen);
void agent_sign_close(void);
/* The public key (PEM), or NULL before agent_sign_open. Borrowed. */
const char *agent_sign_public_pem(void);

/* Signs attempt (as claimed) ended with result: takes SIGN_BOOT_SCRIPT_MEMBER and
 * SIGN_RECIPE_MEMBER out of result and adds "record" (the envelope's text). log_sha256: the sha256
 * of the log_length bytes of console log the controller holds (NULL: an empty log). cfg gives the
 * agent's name and the board's class. 0, or negative (nothing added: no key, or signing failed). */
int agent_sign_result(json_t *result, const json_t *attempt, const struct agent_config *cfg,
		      const char *log_sha256);

#endif
