/* The route table of /api/v1 and friends: {method, path, handler, body max, flags}.
 * Others add their lines here (git trees, gate, bisection, pages). "{}" is one
 * path segment, captured in r->param[]. */
#include "api.h"
#include "api-trees.h"

const struct route routes[] = {
    /* the agent protocol */
    {"PUT", "/api/v1/agents/{}/boards", api_agent_declare, 256 * 1024, ROUTE_JSON, NULL},
    {"POST", "/api/v1/agents/{}/claim", api_agent_claim, 64 * 1024, ROUTE_JSON | ROUTE_LONGPOLL,
     NULL},
    {"POST", "/api/v1/attempts/{}/heartbeat", api_attempt_heartbeat, 4096, ROUTE_JSON, NULL},
    {"PUT", "/api/v1/attempts/{}/log", api_attempt_log_put, LOG_CHUNK_MAX, 0, NULL},
    {"POST", "/api/v1/attempts/{}/result", api_attempt_result, 4 * 1024 * 1024, ROUTE_JSON, NULL},
    {"PUT", "/api/v1/artifacts/{}", api_artifact_put, ARTIFACT_MAX, 0, api_artifact_upload},
    {"GET", "/api/v1/artifacts/{}", api_artifact_get, 0, 0, NULL},
    /* reads */
    {"GET", "/api/v1/version", api_version, 0, 0, NULL},
    {"GET", "/api/v1/boards", api_boards, 0, 0, NULL},
    {"GET", "/api/v1/boards/{}", api_board, 0, 0, NULL},
    {"GET", "/api/v1/agents", api_agents, 0, 0, NULL},
    {"GET", "/api/v1/jobs", api_jobs, 0, 0, NULL},
    {"GET", "/api/v1/flights", api_flights, 0, 0, NULL},
    {"GET", "/api/v1/flights/{}", api_flight, 0, 0, NULL},
    {"GET", "/api/v1/attempts", api_attempts, 0, 0, NULL},
    {"GET", "/api/v1/attempts/{}", api_attempt, 0, 0, NULL},
    {"GET", "/api/v1/attempts/{}/log", api_attempt_log_get, 0, ROUTE_LONGPOLL, NULL},
    {"GET", "/api/v1/queue", api_queue, 0, 0, NULL},
    {"GET", "/api/v1/events", api_events, 0, ROUTE_LONGPOLL, NULL},
    {"GET", "/metrics", api_metrics, 0, 0, NULL},
    /* writes by users and admins */
    {"POST", "/api/v1/flights", api_flight_create, 64 * 1024, ROUTE_JSON, NULL},
    {"POST", "/api/v1/tokens", api_token_create, 4096, ROUTE_JSON, NULL},
    {"DELETE", "/api/v1/tokens/{}", api_token_delete, 0, 0, NULL},
    {"POST", "/api/v1/attempts/{}/cancel", api_attempt_cancel, 4096, ROUTE_JSON, NULL},
    /* trees: builders' sources, submissions, pokes and push hooks, the branch matrix */
    {"GET", "/api/v1/trees", api_trees, 0, 0, NULL},
    {"GET", "/api/v1/trees/{}/commits/{}/manifest", api_tree_manifest, 0, 0, NULL},
    {"GET", "/api/v1/trees/{}/blobs/{}", api_tree_blob, 0, 0, NULL},
    {"POST", "/api/v1/submissions", api_submission_create, 32 * 1024 * 1024 + 1, 0, NULL},
    {"GET", "/api/v1/submissions/{}", api_submission, 0, 0, NULL},
    {"POST", "/api/v1/poke", api_poke, 4096, ROUTE_JSON, NULL},
    {"POST", "/api/v1/webhook", api_webhook, 1024 * 1024, 0, NULL},
    {"GET", "/api/v1/branches/{}", api_branch, 0, 0, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
