/* Loading and validating the agent file and board files (--check). A board
 * file's power, console and netboot sections each name a backend; the
 * backend's own vfield table validates the rest of its section, so --check
 * reports an unknown parameter or a bad value with file:line:col. See
 * docs/boards.md for both formats. */
#ifndef XENCI_AGENT_AGENT_CONFIG_H
#define XENCI_AGENT_AGENT_CONFIG_H

#include "board.h"
#include "buf.h"

/* Loads and validates an agent file and every board file it names. Every
 * problem is appended to errors as "file:line:col: path: message" lines.
 * Returns 0, or -1 when anything is wrong (cfg is then released). */
int agent_config_load(struct agent_config *cfg, const char *path, struct buf *errors);

/* Loads one board file; env->work_dir may be NULL (a lone --check). */
int board_load(struct board *b, const char *path, const struct check_env *env, struct buf *errors);

/* --check FILE...: agent files (with a "controller" member), job files (with
 * "requires", validated as the controller does) and board files;
 * also finds a board name used twice. Prints nothing: the caller prints errors. */
int config_check_files(char *const *files, int nfiles, struct buf *errors);

#endif
