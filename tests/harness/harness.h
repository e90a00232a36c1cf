/* The shared test harness: a real xenci-controller process on 127.0.0.1 with a
 * temporary data folder, driven through lib/http-client (libcurl). Tests include
 * it as "../harness/harness.h" (the build adds only -Ilib).
 *
 *	struct harness_controller c;
 *
 *	harness_controller_init(&c);            // temp dir with an empty jobs/ folder
 *	harness_write_file(c.jobs, "x.yaml", "name: x\n...");   // optional
 *	harness_controller_start(&c);           // spawns, waits until it answers,
 *	                                        // makes c.admin_token
 *	harness_token(&c, "agent", "lab-a", tok, sizeof(tok));
 *	harness_http(&c, tok, &client);         // a client for c.url with that token
 *	st = harness_call(&c, tok, "GET", "/api/v1/boards", NULL, &j);  // one request
 *	...
 *	harness_controller_stop(&c);            // SIGTERM, then SIGKILL; removes the temp
 *	                                        // dir unless XENCI_KEEP is set
 *
 * Everything returns 0 or negative, and prints why on stderr. The controller's
 * stderr goes to c.log (printed by harness_controller_stop when XENCI_VERBOSE is
 * set, and kept with the dir under XENCI_KEEP). The binary is
 * $XENCI_BUILD/xenci-controller (tests/run.sh sets it; default "build"). */
#ifndef XENCI_HARNESS_H
#define XENCI_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "http-client.h"

struct harness_controller {
	/* Set by harness_controller_init; tests may read and write these before start. */
	char dir[256];	  /* the temp dir: everything below lives in it */
	char data[320];	  /* the data folder (database, artifacts, logs) */
	char jobs[320];	  /* jobs_dir: write job files here before start */
	char config[320]; /* the generated config file */
	char log[320];	  /* the controller's stderr */
	/* Extra YAML lines appended to the config (e.g. "lease_seconds: 2\n"), or NULL. */
	const char *extra_config;
	/* The migrations folder; NULL: $XENCI_ROOT/schema. */
	const char *schema_dir;
	/* HTTPS: the controller's certificate and key (PEM files), and the CA bundle the
	 * clients trust (for a self-signed certificate: the certificate itself). */
	const char *tls_cert, *tls_key, *cafile;
	/* The whole-request timeout of harness_http's clients; 0: 70 s. */
	long http_timeout_ms;
	/* Set by harness_controller_start. */
	pid_t pid;
	int port;
	char url[128]; /* "http://127.0.0.1:PORT" */
	/* With agent_listen in extra_config: the agents' listener (else ""). */
	char agent_url[128];
	char admin_token[128];
	int inited;
};

int harness_controller_init(struct harness_controller *c);
/* Starts the controller (initialising c first if needed). Restartable: a second
 * start after harness_controller_kill() reuses the same data folder. */
int harness_controller_start(struct harness_controller *c);
/* SIGTERM, wait up to 5 s, then SIGKILL; removes the temp dir unless XENCI_KEEP.
 * Returns the controller's exit status (0 on a clean stop) or negative. */
int harness_controller_stop(struct harness_controller *c);
/* kill -9 and reap, keeping the data (for crash tests). */
int harness_controller_kill(struct harness_controller *c);
/* Runs sql on the controller's database (DATA/xenci.db) from another connection,
 * as someone with the controller's disk would, while it runs. 0, or -1 with
 * SQLite's message on stderr. */
int harness_db_exec(struct harness_controller *c, const char *sql);
/* Makes a token through the admin API. role: "admin", "agent" or "user";
 * agent: the agent name for "agent", else NULL. */
int harness_token(struct harness_controller *c, const char *role, const char *agent, char *out,
		  size_t outlen);
/* A user token named name, with the right to reserve boards when reserve is 1,
 * into out. 0 or -1. */
int harness_user_token(struct harness_controller *c, const char *name, int reserve, char *out,
		       size_t outlen);
/* Initialises client for c->url with token (may be NULL); the caller releases it.
 * The client does not retry (tests see every reply). */
int harness_http(struct harness_controller *c, const char *token, struct http_client *client);
/* One request through harness_http as token (NULL: anonymous). body: JSON text sent as
 * application/json, or NULL for none. Returns the reply's HTTP status, or 0 when no reply
 * came (the reason on stderr). When json is not NULL, *json is the reply decoded (a new
 * reference, the caller's to json_decref) or NULL when the reply was not JSON. */
long harness_call(struct harness_controller *c, const char *token, const char *method,
		  const char *path, const char *body, json_t **json);
/* The same with any bytes: len bytes of body sent as ctype (no body when body is NULL);
 * when text is not NULL the reply's body is appended to it (bounded by text's maximum). */
long harness_call_bytes(struct harness_controller *c, const char *token, const char *method,
			const char *path, const char *ctype, const void *body, size_t len,
			json_t **json, struct buf *text);

/* Waits until the controller's bisector has no step to make (xenci_bisections_pending
 * 0 in /metrics: the walker makes them after the result that called for them has
 * been answered), at most 60 s. 0, or -1 when it did not get there. */
int harness_bisector_idle(struct harness_controller *c);

/* 1 when GET path (anonymous) answers 200 with a body holding both a and b; else 0,
 * saying what lacked on stderr. */
int harness_page_has(struct harness_controller *c, const char *path, const char *a, const char *b);
/* 1 when commit of the git repository dir/repo holds the file name, else 0. */
int harness_git_has(const char *dir, const char *repo, const char *commit, const char *name);

/* $XENCI_BUILD or "build"; $XENCI_ROOT or ".". */
const char *harness_build_dir(void);
const char *harness_root(void);
/* Writes dir/name with content. */
int harness_write_file(const char *dir, const char *name, const char *content);
/* Reads dir/name (any bytes) into b, replacing what it held. Returns 0 or -errno. */
struct buf;
int harness_read_file(struct buf *b, const char *dir, const char *name);
/* Runs argv (NULL-terminated) and captures its stdout into out (bounded, NUL-terminated).
 * Returns the exit status, or negative when it could not run. */
int harness_run(char *const argv[], char *out, size_t outlen);
/* Runs the shell command fmt in folder dir, its output discarded; the test fails
 * (cmocka) when it exits non-zero. harness_shout keeps its stdout, trailing newlines
 * cut, in out (bounded). Commands are at most about 8 KiB. */
void harness_sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void harness_shout(const char *dir, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A new folder /tmp/xenci-NAME-XXXXXX, its path into out. Returns 0 or -1. */
int harness_tmpdir(char *out, size_t len, const char *name);
/* Removes dir and all below it. Returns 0 or -1. */
int harness_rmdir(const char *dir);
/* b as the netboot writers need it: board "b1" of arch with the netboot backend
 * (and its parameters cfg, taken; NULL: none), writing into dir. The caller
 * releases b (board_release). Returns 0, or -1 for an unknown backend. */
struct board;
int harness_netboot_board(struct board *b, const char *dir, const char *arch, const char *backend,
			  json_t *cfg);

/* A board file in dir (name.yaml) with the given power, console and netboot
 * sections (YAML flow text), loaded into b as the agent loads one (board_load,
 * no work folder). Returns 0, or -1 with the validator's messages in errors.
 * The caller releases b (board_release). */
struct buf;
int harness_board_file(struct board *b, const char *dir, const char *name, const char *power,
		       const char *console, const char *netboot, struct buf *errors);

/* A TCP port on 127.0.0.1 that was free a moment ago (bound, noted, closed),
 * for a daemon the test starts; -1 when none could be bound. */
int harness_free_port(void);

/* Starts argv (argv[0] a path) with stdout and stderr appended to logpath: its
 * pid (the caller kills it, harness_stop_pid), or -1. */
pid_t harness_spawn(char *const argv[], const char *logpath);
/* The same with its stdin a pipe whose writing end goes to *in_fd (the caller
 * writes and closes it); in_fd NULL: stdin is the test's. */
pid_t harness_spawn_input(char *const argv[], const char *logpath, int *in_fd);
/* 1 once the file at path (absolute, or from the current folder) holds needle,
 * looked at every 20 ms for at most ms; else 0, saying so on stderr. */
int harness_wait_file_has(const char *path, const char *needle, int ms);
/* Runs `xenci-controller --check --config DIR/config --jobs JOBS` of c (not
 * started), its stdout and stderr into out (NUL-terminated, cut at outlen): its
 * exit status, or a negative errno when it could not run. */
int harness_controller_check(struct harness_controller *c, const char *config, char *out,
			     size_t outlen);
/* Waits at most ms for pid to end: its exit status (0-255), or -1 when it did
 * not end (it is then killed and reaped) or ended by a signal. */
int harness_wait_exit(pid_t pid, int ms);
/* Sends sig to *pid (when > 0), reaps it and sets *pid to 0. */
void harness_stop_pid(pid_t *pid, int sig);
/* The positive integer a process writes into path once it listens (a port), read
 * as soon as it is there, waiting at most wait_ms; -1 when none came. */
int harness_read_port(const char *path, int wait_ms);

/* A fake board (tests/fake-board/fake-board.py) keeping its state in folder st
 * (made when missing) and playing script (its console script): its console port on
 * 127.0.0.1, its pid in *pid (the caller stops it); -1 when it did not start. */
int harness_fake_board(const char *st, const char *script, pid_t *pid);
/* Starts $XENCI_BUILD/xenci-agent -v agent_file, its output appended to logpath,
 * and waits (10 s at most) until its board `board` is declared to c: the agent's
 * pid (the caller stops it), or -1. */
pid_t harness_agent_start(struct harness_controller *c, const char *agent_file, const char *logpath,
			  const char *board);

/* Milliseconds on a monotonic clock. */
long long harness_now_ms(void);
/* The machine's 1-minute load average now (/proc/loadavg), or -1: benchmarks print
 * it beside their figures. */
double harness_load_average(void);
/* A memory figure of the running controller from /proc/PID/status, in KiB:
 * field is "VmRSS" (now) or "VmHWM" (its peak). -1 when it cannot be read. */
long harness_controller_kib(const struct harness_controller *c, const char *field);

/* Raw HTTP (tests/harness/raw.c), for what a client library would normalise.
 * harness_connect: a TCP connection to 127.0.0.1:port from source address src
 * (any 127.x.y.z is loopback; NULL: the kernel's choice). Returns the fd or -1. */
int harness_connect(int port, const char *src);
/* Writes all of data. 0 or -1. */
int harness_send(int fd, const char *data, size_t len);
/* Appends what fd sends to out (bounded, NUL-terminated, kept from any earlier call)
 * until needle shows up (NULL: until the peer closes), out is full or ms pass.
 * Returns 1 when needle showed up (or out filled), -1 when the peer closed (or
 * reset), 0 on the deadline. */
int harness_read_until(int fd, char *out, size_t outlen, const char *needle, int ms);
/* Sends the raw request req on a new connection from src (NULL: any) and reads
 * until the server closes it, at most ms: the reply goes to out. Returns the
 * status of the first reply, or -1 when none came. */
int harness_raw(int port, const char *src, const char *req, char *out, size_t outlen, int ms);
/* The status of the reply in text ("HTTP/1.1 200 ..."), or -1. */
int harness_status(const char *reply);
/* How many times header `name` (case-insensitive) appears in the head of the
 * reply in text; the first value into value (bounded) when value is not NULL. */
int harness_header_count(const char *reply, const char *name, char *value, size_t len);

/* Patch series for the bounds of docs/security.md (series.c), appended to b as an
 * mbox. far_hunk: about `bytes` bytes, two patches: the first adds big.txt, the
 * second's one hunk says it applies at line 1 but applies only at the file's
 * second half (a search that compares its whole context at each line is
 * quadratic). bomb: one patch adding bomb.bin whose binary hunk declares
 * `declared` bytes and inflates to `inflated` zeros (1 GiB fits in ~1 MiB);
 * 0, or -1 when zlib fails. */
void harness_series_far_hunk(struct buf *b, size_t bytes);
/* many_hunks: at most `bytes` bytes, two patches: the first adds lines.txt
 * (bytes / 32 lines), the second changes every fourth line of it, one hunk each. */
void harness_series_many_hunks(struct buf *b, size_t bytes);
int harness_series_bomb(struct buf *b, size_t inflated, size_t declared);

/* A lab around boards that boot Xen (tests/harness/lab.c). */
/* The artifacts of one arch for the flights a test makes: build/hypervisor/ARCH/xen
 * and build/payloads/ARCH/{dom0-kernel,dom0-initrd} (hypervisor/payloads.sh into
 * scratch when those are not there). */
struct harness_artifacts {
	char arch[16];
	char path[3][400]; /* xen, dom0-kernel, dom0-initrd */
};
/* Fills a for arch. 0, or -1 (why on stderr: not built) for a test to skip. */
int harness_prebuilt(struct harness_artifacts *a, const char *arch, const char *scratch);
/* Plays the builder agent `agent` (token): claims up to `want` builds within 30 s
 * and ends each as pass with the artifacts of its arch (from arts[narts]) uploaded.
 * Returns how many it ended, or -1 when an upload or a result failed. */
int harness_serve_builds(struct harness_controller *c, const char *token, const char *agent,
			 const struct harness_artifacts *arts, size_t narts, int want);
/* A flight of tree xen at commit made by the admin: its id, or -1. */
long long harness_flight(struct harness_controller *c, const char *commit);
/* The flight's (last) test attempt on board, a new reference, or NULL. */
json_t *harness_board_attempt(struct harness_controller *c, long long flight, const char *board);
/* The attempt's verdict when it has ended ("pass", "infra", ...; a static
 * string), else NULL. */
const char *harness_verdict(const json_t *a);
/* harness_board_attempt until it has a verdict, at most ms: the attempt (a new
 * reference) or NULL. */
json_t *harness_wait_attempt(struct harness_controller *c, long long flight, const char *board,
			     int ms);
/* How many processes have a command line holding both prog and needle. */
int harness_count_procs(const char *prog, const char *needle);

/* An agent played by the test itself over the agent protocol, one attempt at a
 * time (tests/harness/lab.c): the tests that drive flights, triage and
 * bisections by hand claim an attempt, decide its end by a rule of theirs and
 * post the result.
 *
 *	static int rule(struct harness_lab *lab, const json_t *attempt,
 *			char *body, size_t len)
 *	{       // decide from attempt's revision, board, kind...
 *		harness_result_body(body, len, pass);
 *		return 0;
 *	}
 *	struct harness_lab lab = {.c = &ctl, .token = tok, .agent = "lab-a",
 *				  .claim = "{\"boards\": [\"qx\"], \"wait_ms\": 0}",
 *				  .rule = rule};
 *	assert_true(harness_lab_drain(&lab, 400) >= 0);
 */
struct harness_lab;
/* Decides how the claimed attempt ends: writes the body of POST
 * /api/v1/attempts/ID/result into body (len bytes, NUL-terminated). It may make
 * requests of its own first (a log, artifacts) through lab->c with lab->token.
 * attempt is the claim's "attempt" object, borrowed for the call. 0, or
 * negative to stop the lab (why on stderr). */
typedef int (*harness_lab_rule)(struct harness_lab *lab, const json_t *attempt, char *body,
				size_t len);
struct harness_lab {
	struct harness_controller *c;
	const char *token; /* the agent's */
	const char *agent; /* it claims at /api/v1/agents/AGENT/claim */
	const char *claim; /* the claim's body; "wait_ms": 0 keeps a step from waiting */
	int bisector_idle; /* 1: harness_bisector_idle before each claim (the walker
			    * makes a result's next step after the result is answered) */
	harness_lab_rule rule;
	void *arg; /* the rule's own */
};
/* Claims once and ends the attempt as lab->rule says. 1 when an attempt ran, 0
 * when there was no work (204), negative when the bisector did not get idle, the
 * claim or the result had another answer, or the rule failed (why on stderr). */
int harness_lab_step(struct harness_lab *lab);
/* harness_lab_step until there is no work, at most max attempts: how many ran, or
 * negative when a step failed or work was left after max. */
int harness_lab_drain(struct harness_lab *lab, int max);
/* The result most rules give: verdict pass (pass != 0) or fail, no stages, and one
 * test case "dom0 boots" of the same result, into body (len bytes). */
void harness_result_body(char *body, size_t len, int pass);
/* PUTs len bytes of data as an artifact; its sha256 into hex (65 bytes). 0, or -1
 * when the controller answered other than 200 or 201 (why on stderr). */
int harness_put_artifact(struct harness_controller *c, const char *token, const void *data,
			 size_t len, char *hex);

/* A lab of fake boards behind one real agent (tests/harness/lab.c): the shape of
 * the integration tests of policies, reservations, repro and consoles. */
#define HARNESS_FAKE_LAB_MAX 4
struct harness_fake_spec {
	const char *name;   /* the board's name */
	const char *script; /* its console script; NULL: FAKE-FW 1.0, XENCI-TESTS-DONE */
	const char *tags;   /* inside of its tags list, e.g. "pol, built" */
	const char *extra;  /* more board-file YAML (policy: ...), or NULL */
};
struct harness_fake_lab {
	/* CTL/agent: the board files, agent.yaml, agent.log, work/, and one state
	 * folder per board (power: its state, actions: one line per on/off). */
	char dir[300];
	pid_t board_pid[HARNESS_FAKE_LAB_MAX];
	pid_t agent_pid;
	int n;
};
/* Starts n (<= HARNESS_FAKE_LAB_MAX) fake boards of class fake on x86_64, each
 * powered by the command backend and read over tcp, and the agent `agent` with
 * token, agent_extra (YAML lines, or NULL) added to its agent.yaml; waits until
 * its last board is declared. 0, or -1 (what started is left for
 * harness_fake_lab_stop). */
int harness_fake_lab_start(struct harness_controller *c, struct harness_fake_lab *lab,
			   const char *agent, const char *token,
			   const struct harness_fake_spec *boards, int n, const char *agent_extra);
/* Kills the agent and the boards (SIGKILL, by pid). */
void harness_fake_lab_stop(struct harness_fake_lab *lab);
/* How many power actions `what` ("on", "off") the board recorded. */
int harness_fake_lab_actions(const struct harness_fake_lab *lab, const char *board,
			     const char *what);

#endif
