#include "board.h"

#include <stdlib.h>
#include <string.h>

void board_release(struct board *b)
{
	if (b == NULL)
		return;
	free(b->name);
	free(b->arch);
	free(b->board_class);
	free(b->visibility);
	free(b->description);
	free(b->file);
	free(b->base_dir);
	free(b->run_dir);
	free(b->tftp_dir);
	json_decref(b->tags);
	json_decref(b->power_cfg);
	json_decref(b->console_cfg);
	json_decref(b->netboot_cfg);
	json_decref(b->policy);
	json_decref(b->boot);
	memset(b, 0, sizeof(*b));
}

void agent_config_release(struct agent_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nboards; i++)
		board_release(&cfg->boards[i]);
	free(cfg->boards);
	free(cfg->file);
	free(cfg->controller);
	free(cfg->agent);
	free(cfg->token);
	free(cfg->token_file);
	free(cfg->cafile);
	free(cfg->work_dir);
	free(cfg->cache_dir);
	free(cfg->spool_dir);
	memset(cfg, 0, sizeof(*cfg));
}
