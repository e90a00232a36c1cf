/* Boards and the agent file: loading, validation (--check) and the runtime
 * description the backends work on. See docs/boards.md for both formats.
 *
 * A board file's power, console and netboot sections each name a backend; the
 * backend's own vfield table validates the rest of its section, so --check
 * reports an unknown parameter or a bad value with file:line:col. */
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
};

struct board {
	char *name, *arch, *board_class, *visibility, *description, *file;
	int name_line, name_col;		       /* where the name is written, for messages */
	json_t *tags;				       /* array of strings */
	json_t *power_cfg, *console_cfg, *netboot_cfg; /* the sections, owned references */
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
	char *work_dir, *cache_dir, *spool_dir;
	int build;
	int build_untrusted; /* builder.untrusted: 1 build (the default), 0 refuse */
	/* builder.memory_mb, disk_mb, processes: a build's bounds (docs/builders.md) */
	long long build_memory_bytes, build_disk_bytes, build_processes;
	struct agent_limits limits;
	struct board *boards;
	size_t nboards;
};

/* Loads and validates an agent file and every board file it names. Every
 * problem is appended to errors as "file:line:col: path: message" lines.
 * Returns 0, or -1 when anything is wrong (cfg is then released). */
int agent_config_load(struct agent_config *cfg, const char *path, struct buf *errors);
void agent_config_release(struct agent_config *cfg);

/* Loads one board file; env->work_dir may be NULL (a lone --check). */
int board_load(struct board *b, const char *path, const struct check_env *env, struct buf *errors);
void board_release(struct board *b);

/* --check FILE...: agent files (with a "controller" member), job files (with
 * "requires", validated as the controller does) and board files;
 * also finds a board name used twice. Prints nothing: the caller prints errors. */
int config_check_files(char *const *files, int nfiles, struct buf *errors);

#endif
