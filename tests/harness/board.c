/* A board for the netboot writers, and a scratch folder for their files. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "../../lab-agent/board.h"
#include "../../lab-agent/netboot.h"

int harness_tmpdir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "/tmp/xenci-%s-XXXXXX", name);
	return mkdtemp(out) ? 0 : -1;
}

int harness_rmdir(const char *dir)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int harness_netboot_board(struct board *b, const char *dir, const char *arch, const char *backend,
			  json_t *cfg)
{
	memset(b, 0, sizeof(*b));
	b->name = xstrdup("b1");
	b->arch = xstrdup(arch);
	b->tftp_dir = xstrdup(dir);
	b->base_dir = xstrdup(dir);
	b->netboot_cfg = cfg ? cfg : json_object();
	json_object_set_new(b->netboot_cfg, "backend", json_string(backend));
	b->netboot = netboot_find(backend);
	return b->netboot ? 0 : -1;
}
