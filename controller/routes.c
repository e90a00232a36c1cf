/* The route table of /api/v1 and friends: {method, path, handler, body max, flags}.
 * Others add their lines here (git trees, gate, bisection, pages). "{}" is one
 * path segment, captured in r->param[]. A handler that only reads the store says
 * ROUTE_READ (http.h) and runs on the read pool (docs/architecture.md). */
#include "api.h"
#include "api-trees.h"
#include "api-bisections.h"
#include "api-records.h"
#include "page-routes.h"

const struct route routes[] = {
    /* the agent protocol */
    {"PUT", "/api/v1/agents/{}/boards", api_agent_declare, 256 * 1024, ROUTE_JSON, NULL},
    {"POST", "/api/v1/agents/{}/claim", api_agent_claim, 64 * 1024, ROUTE_JSON | ROUTE_LONGPOLL,
     NULL},
    {"POST", "/api/v1/attempts/{}/heartbeat", api_attempt_heartbeat, 4096, ROUTE_JSON, NULL},
    {"PUT", "/api/v1/attempts/{}/log", api_attempt_log_put, LOG_CHUNK_MAX, 0, NULL},
    /* a result carries its signed record (at most DSSE_MAX) besides its own 4 MiB */
    {"POST", "/api/v1/attempts/{}/result", api_attempt_result, 12 * 1024 * 1024, ROUTE_JSON, NULL},
    {"PUT", "/api/v1/artifacts/{}", api_artifact_put, ARTIFACT_MAX, 0, api_artifact_upload},
    {"GET", "/api/v1/artifacts/{}", api_artifact_get, 0, 0, NULL},
    /* reads */
    {"GET", "/api/v1/version", api_version, 0, 0, NULL},
    {"GET", "/api/v1/boards", api_boards, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/boards/{}", api_board, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/agents", api_agents, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/jobs", api_jobs, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/flights", api_flights, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/flights/{}", api_flight, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/attempts", api_attempts, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/attempts/{}", api_attempt, 0, ROUTE_CACHE | ROUTE_READ, NULL},
    {"GET", "/api/v1/attempts/{}/log", api_attempt_log_get, 0, ROUTE_LONGPOLL, NULL},
    {"GET", "/api/v1/queue", api_queue, 0, 0, NULL},
    {"GET", "/api/v1/events", api_events, 0, ROUTE_LONGPOLL, NULL},
    {"GET", "/metrics", api_metrics, 0, 0, NULL},
    /* writes by users and admins */
    {"POST", "/api/v1/flights", api_flight_create, 64 * 1024, ROUTE_JSON, NULL},
    {"POST", "/api/v1/tokens", api_token_create, 4096, ROUTE_JSON, NULL},
    {"DELETE", "/api/v1/tokens/{}", api_token_delete, 0, 0, NULL},
    {"POST", "/api/v1/attempts/{}/cancel", api_attempt_cancel, 4096, ROUTE_JSON, NULL},
    /* reservations and a holder's power actions */
    {"POST", "/api/v1/boards/{}/reservation", api_reservation_create, 4096, ROUTE_JSON, NULL},
    {"DELETE", "/api/v1/boards/{}/reservation", api_reservation_delete, 0, 0, NULL},
    {"POST", "/api/v1/boards/{}/power", api_board_power, 4096, ROUTE_JSON, NULL},
    /* a reserved board's console: its holder's side, then its agent's */
    {"POST", "/api/v1/boards/{}/console", api_console_attach, 4096, 0, NULL},
    {"GET", "/api/v1/boards/{}/console", api_console_read, 0, ROUTE_LONGPOLL, NULL},
    {"POST", "/api/v1/boards/{}/console/input", api_console_input, 32 * 1024, ROUTE_JSON, NULL},
    {"DELETE", "/api/v1/boards/{}/console", api_console_detach, 0, 0, NULL},
    {"POST", "/api/v1/boards/{}/console/boot", api_console_boot, 4096, ROUTE_JSON, NULL},
    {"POST", "/api/v1/agents/{}/console/{}", api_agent_console_put, 32 * 1024, ROUTE_JSON, NULL},
    {"GET", "/api/v1/agents/{}/console/{}", api_agent_console_get, 0, ROUTE_LONGPOLL, NULL},
    /* trees: builders' sources, submissions, pokes and push hooks, the branch matrix */
    {"GET", "/api/v1/trees", api_trees, 0, 0, NULL},
    {"GET", "/api/v1/trees/{}/commits/{}/manifest", api_tree_manifest, 0, 0, NULL},
    {"GET", "/api/v1/trees/{}/blobs/{}", api_tree_blob, 0, 0, NULL},
    {"POST", "/api/v1/submissions", api_submission_create, 32 * 1024 * 1024 + 1, 0, NULL},
    {"GET", "/api/v1/submissions/{}", api_submission, 0, 0, NULL},
    {"POST", "/api/v1/poke", api_poke, 4096, ROUTE_JSON, NULL},
    {"POST", "/api/v1/webhook", api_webhook, 1024 * 1024, 0, NULL},
    {"GET", "/api/v1/branches/{}", api_branch, 0, ROUTE_READ, NULL},
    /* bisections: the page's twin, admin cancel and restart */
    {"GET", "/api/v1/bisections", api_bisections, 0, ROUTE_READ, NULL},
    {"GET", "/api/v1/bisections/{}", api_bisection, 0, 0, NULL},
    {"POST", "/api/v1/bisections/{}/cancel", api_bisection_cancel, 4096, 0, NULL},
    {"POST", "/api/v1/bisections/{}/restart", api_bisection_restart, 4096, 0, NULL},
    /* traceable results: the log of signed records, its heads and proofs; agents' keys */
    {"GET", "/api/v1/log/head", api_log_head, 0, 0, NULL},
    {"GET", "/api/v1/log/key", api_log_key, 0, 0, NULL},
    {"GET", "/api/v1/log/consistency", api_log_consistency, 0, 0, NULL},
    {"GET", "/api/v1/log/records", api_log_records, 0, 0, NULL},
    {"GET", "/api/v1/attempts/{}/record", api_attempt_record, 0, 0, NULL},
    {"GET", "/api/v1/keys", api_keys, 0, 0, NULL},
    {"GET", "/api/v1/agents/{}/keys", api_agent_keys, 0, 0, NULL},
    {"POST", "/api/v1/agents/{}/keys/{}/approve", api_agent_key_approve, 4096, 0, NULL},
    /* the status page (HTML; GET only) and its overview twin */
    {"GET", "/api/v1/overview", page_get_overview_json, 0, ROUTE_READ, NULL},
    {"GET", "/", page_get_overview, 0, ROUTE_READ, NULL},
    {"GET", "/branches/{}", page_get_branch, 0, ROUTE_READ, NULL},
    {"GET", "/flights/{}", page_get_flight, 0, ROUTE_READ, NULL},
    {"GET", "/attempts/{}", page_get_attempt, 0, ROUTE_READ, NULL},
    {"GET", "/attempts/{}/raw", page_get_attempt_raw, 0, ROUTE_READ, NULL},
    {"GET", "/attempts/{}/tail", page_get_attempt_tail, 0, ROUTE_LONGPOLL, NULL},
    {"GET", "/boards/{}", page_get_board, 0, ROUTE_READ, NULL},
    {"GET", "/bisections/{}", page_get_bisection, 0, 0, NULL},
    {"GET", "/static/{}", page_get_static, 0, 0, NULL},
    {"GET", "/badge/{}", page_get_badge, 0, ROUTE_READ, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};
