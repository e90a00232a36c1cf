#include "agent.h"

#include "client.h"
#include "sign.h"

#ifndef XENCI_VERSION
#define XENCI_VERSION "0" /* the fuzz build does not define it */
#endif

json_t *agent_declare_body(const struct agent_config *cfg, json_t *builder)
{
	json_t *boards = json_array();
	size_t i;

	for (i = 0; i < cfg->nboards; i++) {
		const struct board *b = &cfg->boards[i];

		json_t *o = json_pack("{s:s, s:s, s:s, s:O, s:s, s:s, s:s}", "name", b->name,
				      "arch", b->arch, "class", b->board_class, "tags", b->tags,
				      "visibility", b->visibility, "description", b->description,
				      "file_sha256", b->file_sha256);

		if (b->policy)
			json_object_set(o, "policy", b->policy);
		json_array_append_new(boards, o);
	}
	return json_pack("{s:i, s:s, s:o, s:o, s:s?}", "protocol", CLIENT_PROTOCOL, "agent_version",
			 "xenci-agent " XENCI_VERSION, "builder", builder, "boards", boards, "key",
			 agent_sign_public_pem());
}
