/* The bisection commands of the xenci CLI (see cli.h for the conventions):
 *   xenci bisections [--limit N] [--json]
 *   xenci bisection ID [--json] | cancel ID | restart ID   (cancel, restart: admin) */
#ifndef XENCI_CMD_BISECT_H
#define XENCI_CMD_BISECT_H

#include <jansson.h>

#include "buf.h"

int cmd_bisections(int argc, char **argv);
int cmd_bisection(int argc, char **argv);

/* The text of `xenci bisection ID` for the twin b (GET /api/v1/bisections/ID). */
void bisection_render(struct buf *out, const json_t *b);

#endif
