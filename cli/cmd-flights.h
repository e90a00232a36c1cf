/* The flight commands of the xenci CLI: submit, follow, poke and flight. Each
 * takes its argv (argv[0] is the command's name) and returns the exit status:
 * 0 success (follow: every job passed), 1 a failure or a failed job, 2 a usage
 * error. The controller's URL and the token come from --url/--token, else the
 * XENCI_URL and XENCI_TOKEN variables (default URL http://127.0.0.1:8080). */
#ifndef XENCI_CMD_FLIGHTS_H
#define XENCI_CMD_FLIGHTS_H

#include <jansson.h>
#include <stdio.h>

#include "buf.h"
#include "http-client.h"

int cmd_submit(int argc, char **argv);
int cmd_follow(int argc, char **argv);
int cmd_poke(int argc, char **argv);
int cmd_flight(int argc, char **argv);

/* Opens the client for url/token (NULL: from the environment). */
int flights_client_open(struct http_client *c, const char *url, const char *token);

/* A flight's jobs, normalised from the controller's flight JSON: one object per
 * (job, board) with its newest attempt: {attempt, job, board, number, state,
 * verdict, reason, stage, started, finished (seconds), pass, fail}. New reference. */
json_t *flight_job_rows(const json_t *flight);

/* Renders a flight's progress (final = 0) or its closing table (final = 1). */
void follow_render(struct buf *out, const json_t *flight, double now, int final,
		   const char *base_url);

/* 1 when the flight is over (done, or nothing left to run). */
int follow_finished(const json_t *flight);
/* 0 when every build and job passed, 1 otherwise. */
int follow_exit_status(const json_t *flight);

/* Follows flight id until it ends, redrawing in place on a terminal (tty) or
 * printing a line per change otherwise; prints the closing table and returns
 * follow_exit_status(), or 1 when the controller cannot be reached. */
int flight_follow(struct http_client *c, long long id, FILE *out, int tty, long interval_ms);

#endif
