/* Boards and the agent file as the running agent holds them. The loaders and --check are
 * agent-config.h; this header is the description the backends work on (they include it; it includes
 * none of them). */
#ifndef XENCI_AGENT_BOARD_H
#define XENCI_AGENT_BOARD_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "validate.h"

struct power_ops;
struct console_ops;
struct netboot_ops;

/* What check callbacks may look at: vctx->user points to one. */
struct check_env {
	const char *base_dir; /* the folder of the file being checked (relative paths) */
	const char *work_dir; /* the agent's work folder, or NULL for a lone board file */
	const char *board;    /* the board's name, when known */
	const char *netboot;  /* the board's netboot backend, when known */
	const char *arch;     /* the board's arch, when known */
};

struct board {
	char *name, *arch, *board_class, *visibility, *description, *file;
	/* sha256 of the board file's bytes as loaded (sha256sum FILE): the
	 * controller examines a board again when it changes */
	char file_sha256[65];
	int name_line, name_col;		       /* where the name is written, for messages */
	json_t *tags;				       /* array of strings */
	json_t *power_cfg, *console_cfg, *netboot_cfg; /* the sections, owned references */
	json_t *policy; /* the trust policy (lib/policy.h), owned; NULL: none (anything runs) */
	/* boot: {xen_args, dom0_args} put before every job's (docs/boards.md), owned; or NULL */
	json_t *boot;
	const struct power_ops *power;
	const struct console_ops *console;
	const struct netboot_ops *netboot;
	char *base_dir; /* the board file's folder: relative paths in it start here */
	char *run_dir;	/* WORK/boards/NAME: sockets, pidfiles, scratch */
	char *tftp_dir; /* where the netboot files and artifacts are staged */
	void *power_state, *console_state; /* the backends' own */
};

struct agent_limits {
	long long cache_bytes;
	long long spool_bytes;
	long long log_bytes; /* per attempt, at most the controller's 16 MiB */
	size_t line_max;
	int claim_wait_ms;
	int heartbeat_s; /* 0: a third of the lease */
	int power_timeout_s;
};

struct agent_config {
	char *file;
	char *controller, *agent, *token, *cafile;
	char *token_file; /* the token's file (token_file), or NULL when the token is inline */
	char *work_dir, *cache_dir, *spool_dir;
	int build;
	int build_untrusted; /* builder.untrusted: 1 build (the default), 0 refuse */
	/* builder.memory_mb, disk_mb, processes: a build's bounds (docs/builders.md) */
	long long build_memory_bytes, build_disk_bytes, build_processes;
	int build_timeout_s; /* builder.timeout_s: build.sh's time, default 1800 */
	struct agent_limits limits;
	struct board *boards;
	size_t nboards;
};

/* Frees what the loaders (agent-config.h) filled; NULL and zeroed are fine. */
void board_release(struct board *b);
void agent_config_release(struct agent_config *cfg);

#endif
