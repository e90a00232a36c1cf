/* Shared pieces of the xenci commands: where the controller is, the token, and
 * plain-text tables.
 *
 * The controller URL and token come, first found wins, from --url/--token, the
 * XENCI_URL/XENCI_TOKEN variables, then ~/.config/xenci/config.yaml ({url, token});
 * main() resolves them once and exports them as XENCI_URL/XENCI_TOKEN so that
 * every command sees the same. Each command is `int cmd_NAME(int argc, char
 * **argv)` (argv[0] is its name) returning 0, 1 (failure) or 2 (usage). */
#ifndef XENCI_CLI_H
#define XENCI_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "http-client.h"

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Loads ~/.config/xenci/config.yaml (or $XENCI_CONFIG) into XENCI_URL and
 * XENCI_TOKEN where they are not set yet. Returns 0, or -1 after printing a
 * file:line:col problem. */
int cli_config_env(void);
/* A client for XENCI_URL with XENCI_TOKEN. */
int cli_client(struct http_client *c);
/* GETs path into *out (JSON). Prints the error and returns -1 unless 200. */
int cli_get_json(struct http_client *c, const char *path, json_t **out);
/* Sends a JSON body; *out gets the reply; prints the error and returns -1 when the
 * status is not want. */
int cli_send_json(struct http_client *c, const char *method, const char *path, const json_t *body,
		  long want, json_t **out);

/* The front of the list commands (`xenci boards`, `jobs`, `flights`, `bisections`):
 * parses [--json], and [--limit N] (1..max_limit, default def_limit) unless
 * max_limit is 0; GETs path (with "?limit=N"); under --json prints the reply's
 * `member` (the whole reply when NULL). Returns CLI_LIST_TABLE with *reply set (the
 * caller prints its table and frees *reply), or the exit status: 0 done, 1 failed,
 * 2 bad usage (the usage text printed). */
#define CLI_LIST_TABLE (-1)
int cli_list_fetch(int argc, char **argv, const char *usage, long def_limit, long max_limit,
		   const char *path, const char *member, json_t **reply);

/* A text table: add rows of n cells, then print with aligned columns. */
struct cli_table {
	int ncols;
	json_t *rows; /* array of arrays of strings */
};
void cli_table_init(struct cli_table *t, int ncols, ...);
void cli_table_add(struct cli_table *t, ...);
void cli_table_print(struct cli_table *t, FILE *out);
/* A member as text: strings as they are, numbers printed, null as "-". */
void cli_cell(char *out, size_t n, const json_t *obj, const char *key);
/* Replaces in s (NUL-terminated, changed in place, never longer) each terminal
 * control from the controller's text with '?': C0 (but '\n' when keep_newlines),
 * DEL, and C1 as UTF-8 writes it (U+0080-U+009F), which UTF-8 terminals obey.
 * cli_cell, cli_table_add and the bisection's text use it. */
void cli_strip_controls(char *s, int keep_newlines);
/* Pretty JSON on stdout. */
void cli_print_json(const json_t *v);
/* A duration: "90s", "30m", "2h", "1d" or plain seconds: 0 and *seconds, or
 * -EINVAL (not one), -ERANGE (over a year). */
int cli_duration_parse(const char *s, long long *seconds);
/* 1 when an attempt's state s is final (pass, fail, infra, timeout, cancelled,
 * starved, refused: the controller's attempt_state_final()). */
int cli_state_final(const char *s);
/* A flight's or an attempt's id from the command line: s a positive decimal
 * number with nothing after it. 0 and *id, or -EINVAL after saying on stderr
 * "xenci CMD: \"S\" is not WHAT" (what: "a flight number", "an attempt id"). */
int cli_id_parse(long long *id, const char *s, const char *cmd, const char *what);

int cmd_token(int argc, char **argv);
int cmd_boards(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_flights(int argc, char **argv);
int cmd_attempt(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_reserve(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_power(int argc, char **argv);
/* xenci console (boot NULL) and xenci boot (boot {attempt: N} or {flight: N}):
 * joins the terminal to board's console (input 0: stdin is not read) until the
 * user detaches or, for a boot, the board's agent has judged it; the console on
 * stdout, notes on stderr, then "verdict: VERDICT: REASON" on stdout. Returns the
 * exit status: 0 (detached by the user, or the boot passed), 1 otherwise. */
int cli_console_run(const char *board, const json_t *boot, int input);
int cmd_console(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_repro(int argc, char **argv);

#endif
