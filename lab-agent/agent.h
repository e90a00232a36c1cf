/* The running agent's shared state (its main loop is agent-loop.c). */
#ifndef XENCI_AGENT_AGENT_H
#define XENCI_AGENT_AGENT_H

#include <jansson.h>
#include <pthread.h>

#include "board.h"
#include "cache.h"

/* The running agent, shared by its threads: runners and builds read cfg
 * (replaced on SIGHUP only when none runs) and set busy[] under mu. */
struct agent {
	struct agent_config cfg;
	struct cache cache;
	_Atomic int stopping; /* SIGTERM: end attempts as infra, power off */
	pthread_mutex_t mu;   /* busy[] */
	int *busy;	      /* per board of cfg */
};

/* The body of the declare call (docs/api.md): the boards of cfg, the
 * protocol and agent versions, and builder (builder_declare_json; the
 * reference is taken). New reference. */
json_t *agent_declare_body(const struct agent_config *cfg, json_t *builder);

#endif
