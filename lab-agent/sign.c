#include "sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "hash.h"
#include "json-util.h"
#include "record.h"
#include "sigkey.h"
#include "xmalloc.h"

static struct sigkey key;
static char *key_pem;

int agent_sign_open(const char *work_dir, char *err, size_t errlen)
{
	char *path = xasprintf("%s/agent-key.pem", work_dir);
	char *pub = xasprintf("%s/agent-key.pub", work_dir);
	int rc = mkdir_p(work_dir);

	if (rc == 0)
		rc = sigkey_load_or_create(&key, path, pub);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EPERM ? "readable by others than its owner (chmod 600)"
				      : strerror(-rc));
	else if ((key_pem = sigkey_public_pem(&key)) == NULL)
		rc = -ENOMEM;
	free(path);
	free(pub);
	return rc < 0 ? rc : 0;
}

void agent_sign_close(void)
{
	sigkey_release(&key);
	free(key_pem);
	key_pem = NULL;
}

const char *agent_sign_public_pem(void)
{
	return key_pem;
}

static const char *board_class(const struct agent_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; name && i < cfg->nboards; i++)
		if (!strcmp(cfg->boards[i].name, name))
			return cfg->boards[i].board_class;
	return NULL;
}

int agent_sign_result(json_t *result, const json_t *attempt, const struct agent_config *cfg,
		      const char *log_sha256)
{
	char empty[SHA256_HEX_LEN + 1], boot[SHA256_HEX_LEN + 1] = "", *env = NULL;
	char recipe[SHA256_HEX_LEN + 1] = "";
	const char *b = jstr(result, SIGN_BOOT_SCRIPT_MEMBER, NULL);
	const char *rp = jstr(result, SIGN_RECIPE_MEMBER, NULL);
	struct record_inputs in = {0};
	json_t *st;
	int rc;

	if (b && sha256_is_hex(b))
		snprintf(boot, sizeof(boot), "%s", b);
	if (rp && sha256_is_hex(rp))
		snprintf(recipe, sizeof(recipe), "%s", rp);
	json_object_del(result, SIGN_BOOT_SCRIPT_MEMBER);
	json_object_del(result, SIGN_RECIPE_MEMBER);
	json_object_del(result, "record");
	if (key.pkey == NULL)
		return -ENOKEY;
	if (log_sha256 == NULL) {
		sha256_hex(empty, "", 0);
		log_sha256 = empty;
	}
	in.agent = cfg->agent;
	in.board_class = board_class(cfg, jstr(attempt, "board", NULL));
	in.log_sha256 = log_sha256;
	in.boot_script_sha256 = boot[0] ? boot : NULL;
	in.recipe_sha256 = recipe[0] ? recipe : NULL;
	st = record_statement(attempt, result, &in);
	if (st == NULL)
		return -EINVAL;
	rc = record_sign(&env, &key, st);
	json_decref(st);
	if (rc == 0)
		json_object_set_new(result, "record", json_string(env));
	free(env);
	return rc;
}
