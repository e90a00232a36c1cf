/* The controller's configuration file (YAML), checked by one validator table. */
#ifndef XENCI_CONFIG_H
#define XENCI_CONFIG_H

#include "buf.h"
#include "ctl.h"

/* Fills defaults. */
void config_init(struct ctl_config *c);
void config_release(struct ctl_config *c);
/* Loads path over the defaults. Returns 0, or -1 with file:line:col messages in err. */
int config_load(struct ctl_config *c, const char *path, struct buf *err);

/* The hook for the `trees` section (flights engineer): called with the mapping
 * at load and --check; report problems into err and return -1. NULL: accepted. */
extern int (*config_trees_check)(const json_t *trees, struct buf *err);

#endif
