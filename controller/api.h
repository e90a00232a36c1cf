/* The HTTP handlers of /api/v1, one file per area: api-agents.c (the agent
 * protocol), api-artifacts.c, api-reads.c (public reads), api-admin.c (tokens,
 * flights, cancels), api-reservations.c, api-console.c, api-metrics.c,
 * api-events.c; docs/api.md gives each route's request and reply.
 * Every handler keeps http.h's contract: it takes the request (its route's
 * params, body and asker), replies through reply_*() (errors included, as
 * {"error", "detail"}), and returns 0 when it replied or parked, negative for a
 * 500; routes.c says which route, method and lock each one runs with. */
#ifndef XENCI_API_H
#define XENCI_API_H

#include "http.h"
#include "logs.h"
#include "validate.h"

#define PROTOCOL_VERSION 1
#define LOG_CHUNK_MAX	 (1024 * 1024)
#define ARTIFACT_MAX	 (512LL * 1024 * 1024)

/* The shapes of the JSON bodies: these tables are the one source (members, types,
 * required, bounds); docs/api.md describes them. */
extern const struct vfield api_declare_fields[];
extern const struct vfield api_claim_fields[];
extern const struct vfield api_heartbeat_fields[];
extern const struct vfield api_result_fields[];
extern const struct vfield api_token_fields[];
extern const struct vfield api_flight_fields[];
extern const struct vfield api_cancel_fields[];
extern const struct vfield api_reserve_fields[];
extern const struct vfield api_power_fields[];
extern const struct vfield api_console_input_fields[];
extern const struct vfield api_console_output_fields[];
extern const struct vfield api_console_boot_fields[];

int api_agent_declare(struct req *r);
int api_agent_claim(struct req *r);
int api_attempt_heartbeat(struct req *r);
int api_attempt_log_put(struct req *r);
int api_attempt_result(struct req *r);

int api_artifact_put(struct req *r);
/* PUT /api/v1/artifacts/{sha256}'s body as it arrives (struct route.upload): 0,
 * or negative to refuse the rest (api_artifact_put then replies why). */
int api_artifact_upload(struct req *r, const char *data, size_t len);
int api_artifact_get(struct req *r);

int api_boards(struct req *r);
int api_board(struct req *r);
int api_agents(struct req *r);
int api_jobs(struct req *r);
int api_flights(struct req *r);
int api_flight(struct req *r);
int api_attempts(struct req *r);
int api_attempt(struct req *r);
int api_attempt_log_get(struct req *r);
int api_queue(struct req *r);

int api_flight_create(struct req *r);
int api_token_create(struct req *r);
int api_token_delete(struct req *r);
int api_attempt_cancel(struct req *r);

/* api-reservations.c */
int api_reservation_create(struct req *r);
int api_reservation_delete(struct req *r);
int api_board_power(struct req *r);
/* api-console.c: a reserved board's console relay (docs/api.md, "Console"). */
int api_console_attach(struct req *r);
int api_console_read(struct req *r);
int api_console_input(struct req *r);
int api_console_detach(struct req *r);
int api_console_boot(struct req *r);
int api_agent_console_put(struct req *r);
int api_agent_console_get(struct req *r);

int api_metrics(struct req *r);
int api_events(struct req *r);
int api_version(struct req *r);

#endif
