/* The controller's configuration file (YAML), checked by one validator table. */
#ifndef XENCI_CONFIG_H
#define XENCI_CONFIG_H

#include "buf.h"
#include "ctl.h"

/* Fills defaults (no trees, the bisect section's defaults). */
void config_init(struct ctl_config *c);
void config_release(struct ctl_config *c);
/* Loads path over the defaults: validates every section (the trees with
 * watch.h's tree_conf_fields, the bisect section with bisector.h's
 * bisect_conf_fields) and keeps the parsed result in c. Returns 0, or -1 with
 * file:line:col messages in err (one a line). */
int config_load(struct ctl_config *c, const char *path, struct buf *err);

#endif
