/* A board for the netboot writers, and a scratch folder for their files. */
#include "harness.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "xmalloc.h"
#include "../../lab-agent/agent-config.h"
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

int harness_board_file(struct board *b, const char *dir, const char *name, const char *power,
		       const char *console, const char *netboot, struct buf *errors)
{
	struct check_env env = {.base_dir = dir};
	char *text = xasprintf("name: %s\narch: x86_64\nclass: fake\npower: %s\nconsole: %s\n"
			       "netboot: %s\n",
			       name, power, console, netboot);
	char *file = xasprintf("%s.yaml", name);
	char *path = xasprintf("%s/%s.yaml", dir, name);
	int rc = harness_write_file(dir, file, text);

	memset(b, 0, sizeof(*b));
	if (rc == 0)
		rc = board_load(b, path, &env, errors) < 0 ? -1 : 0;
	free(text);
	free(file);
	free(path);
	return rc;
}

int harness_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (s < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(s);
	return port;
}
