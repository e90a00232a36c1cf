#include "harness.h"

#include "buf.h"

#include <errno.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json-util.h"

const char *harness_build_dir(void)
{
	const char *b = getenv("XENCI_BUILD");

	return b && *b ? b : "build";
}

const char *harness_root(void)
{
	const char *r = getenv("XENCI_ROOT");

	return r && *r ? r : ".";
}

long long harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double harness_load_average(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

long harness_controller_kib(const struct harness_controller *c, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			kib = strtol(line + flen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int harness_bisector_idle(struct harness_controller *c)
{
	long long deadline = harness_now_ms() + 60000;
	struct buf text = BUF_INIT(1 << 20);
	long st;

	do {
		buf_reset(&text);
		st = harness_call_bytes(c, NULL, "GET", "/metrics", NULL, NULL, 0, NULL, &text);
		if (st == 200 && strstr(buf_cstr(&text), "\nxenci_bisections_pending 0\n")) {
			buf_release(&text);
			return 0;
		}
		sleep_ms(20);
	} while (harness_now_ms() < deadline);
	fprintf(stderr, "harness: the bisector still has steps to make after 60 s\n");
	buf_release(&text);
	return -1;
}

int harness_write_file(const char *dir, const char *name, const char *content)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fputs(content, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

int harness_read_file(struct buf *b, const char *dir, const char *name)
{
	char path[1024], chunk[4096];
	size_t n;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	buf_reset(b);
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(b, chunk, n);
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	return rc;
}

int harness_run(char *const argv[], char *out, size_t outlen)
{
	int pipefd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (outlen && (n = read(pipefd[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	if (outlen)
		out[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

int harness_controller_check(struct harness_controller *c, const char *config, char *out,
			     size_t outlen)
{
	char bin[400], cfg[400];
	char *argv[] = {"/bin/sh", "-c", "exec \"$0\" --check --config \"$1\" --jobs \"$2\" 2>&1",
			bin,	   cfg,	 c->jobs,
			NULL};

	snprintf(bin, sizeof(bin), "%s/xenci-controller", harness_build_dir());
	snprintf(cfg, sizeof(cfg), "%s/%s", c->dir, config);
	return harness_run(argv, out, outlen);
}

int harness_controller_init(struct harness_controller *c)
{
	char tmpl[] = "/tmp/xenci-test-XXXXXX";

	memset(c, 0, sizeof(*c));
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
		return -errno;
	}
	snprintf(c->dir, sizeof(c->dir), "%s", tmpl);
	snprintf(c->data, sizeof(c->data), "%s/data", c->dir);
	snprintf(c->jobs, sizeof(c->jobs), "%s/jobs", c->dir);
	snprintf(c->config, sizeof(c->config), "%s/controller.yaml", c->dir);
	snprintf(c->log, sizeof(c->log), "%s/controller.log", c->dir);
	if (mkdir(c->jobs, 0755) < 0)
		return -errno;
	c->inited = 1;
	return 0;
}

/* The first line of DATA/name into url (size bytes); -1 when there is none. */
static int read_url_file(const struct harness_controller *c, const char *name, char *url,
			 size_t size)
{
	char path[400], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->data, name);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(url, size, "%s", line);
	return 0;
}

/* controller.url, then controller-agents.url (written before it, when the
 * controller has an agents' listener). */
static int read_url(struct harness_controller *c)
{
	if (read_url_file(c, "controller.url", c->url, sizeof(c->url)) < 0)
		return -1;
	c->port = atoi(strrchr(c->url, ':') ? strrchr(c->url, ':') + 1 : "0");
	if (read_url_file(c, "controller-agents.url", c->agent_url, sizeof(c->agent_url)) < 0)
		c->agent_url[0] = '\0';
	return 0;
}

static void print_log(const struct harness_controller *c)
{
	char line[1024];
	FILE *f = fopen(c->log, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  controller| %s", line);
	fclose(f);
}

int harness_controller_start(struct harness_controller *c)
{
	char bin[512], url_file[400], out[sizeof(c->admin_token)];
	char *argv[8];
	struct http_client h;
	struct http_reply r;
	long long deadline;
	FILE *f;
	int rc, status;

	if (!c->inited && harness_controller_init(c) < 0)
		return -1;
	snprintf(bin, sizeof(bin), "%s/xenci-controller", harness_build_dir());
	f = fopen(c->config, "w");
	if (f == NULL)
		return -errno;
	if (c->schema_dir)
		fprintf(f, "schema_dir: %s\n", c->schema_dir);
	else
		fprintf(f, "schema_dir: %s/schema\n", harness_root());
	if (c->tls_cert && c->tls_key)
		fprintf(f, "tls: {cert: %s, key: %s}\n", c->tls_cert, c->tls_key);
	fprintf(f, "listen: 127.0.0.1:0\ndata: %s\njobs_dir: %s\n%s", c->data, c->jobs,
		c->extra_config ? c->extra_config : "");
	/* the whole suite again on the public listener's workers (tests/README.md) */
	if (getenv("XENCI_TEST_AGENT_LISTEN") && *getenv("XENCI_TEST_AGENT_LISTEN") &&
	    !(c->extra_config && strstr(c->extra_config, "agent_listen:")))
		fprintf(f, "agent_listen: 127.0.0.1:0\n");
	fclose(f);
	snprintf(url_file, sizeof(url_file), "%s/controller-agents.url", c->data);
	unlink(url_file);
	snprintf(url_file, sizeof(url_file), "%s/controller.url", c->data);
	unlink(url_file);
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		int fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* A test that crashes takes its controller with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, bin, "--config", c->config, (char *)NULL);
		fprintf(stderr, "harness: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	deadline = harness_now_ms() + 10000;
	while (read_url(c) < 0) {
		if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
			fprintf(stderr, "harness: the controller exited at start-up\n");
			print_log(c);
			c->pid = 0;
			return -1;
		}
		if (harness_now_ms() > deadline) {
			fprintf(stderr, "harness: the controller did not start in 10 s\n");
			print_log(c);
			harness_controller_kill(c);
			return -1;
		}
		sleep_ms(10);
	}
	/* It listens before it writes the URL; make sure it answers. */
	harness_http(c, NULL, &h);
	http_reply_init(&r);
	rc = http_request(&h, "GET", "/api/v1/version", NULL, NULL, 0, NULL, &r);
	if (rc < 0 || r.status != 200) {
		fprintf(stderr, "harness: the controller does not answer: %s\n", r.error);
		rc = -1;
	}
	http_reply_release(&r);
	http_client_release(&h);
	if (rc < 0) {
		print_log(c);
		harness_controller_kill(c);
		return -1;
	}
	if (c->admin_token[0] == '\0') {
		argv[0] = bin;
		argv[1] = "token";
		argv[2] = "create";
		argv[3] = "--role=admin";
		argv[4] = "--config";
		argv[5] = c->config;
		argv[6] = NULL;
		rc = harness_run(argv, out, sizeof(out));
		out[strcspn(out, "\n")] = '\0';
		if (rc != 0 || strncmp(out, "xci_", 4)) {
			fprintf(stderr, "harness: token create failed (%d)\n", rc);
			harness_controller_kill(c);
			return -1;
		}
		snprintf(c->admin_token, sizeof(c->admin_token), "%s", out);
	}
	return 0;
}

int harness_db_exec(struct harness_controller *c, const char *sql)
{
	char path[400], *msg = NULL;
	sqlite3 *db = NULL;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/xenci.db", c->data);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
			rc = 0;
	}
	if (rc < 0)
		fprintf(stderr, "harness: %s: %s: %s\n", path, sql, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

pid_t harness_spawn(char *const argv[], const char *logpath)
{
	return harness_spawn_input(argv, logpath, NULL);
}

pid_t harness_spawn_input(char *const argv[], const char *logpath, int *in_fd)
{
	int p[2] = {-1, -1};
	pid_t pid;

	if (in_fd && pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (in_fd) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (in_fd) {
		close(p[0]);
		if (pid < 0)
			close(p[1]);
		else
			*in_fd = p[1];
	}
	return pid;
}

int harness_wait_exit(pid_t pid, int ms)
{
	long long end = harness_now_ms() + ms;
	int status = -1;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (harness_now_ms() >= end) {
			harness_stop_pid(&pid, SIGKILL);
			return -1;
		}
		usleep(20 * 1000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int harness_wait_file_has(const char *path, const char *needle, int ms)
{
	long long end = harness_now_ms() + ms;
	struct buf b = BUF_INIT(0);
	const char *slash = strrchr(path, '/');
	char dir[1024];
	int found = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	for (;;) {
		/* an empty file has no data yet (memmem's NULL) */
		if (harness_read_file(&b, dir, slash ? slash + 1 : path) == 0 && b.len > 0 &&
		    memmem(b.data, b.len, needle, strlen(needle)))
			found = 1;
		if (found || harness_now_ms() >= end)
			break;
		usleep(20 * 1000);
	}
	if (!found)
		fprintf(stderr, "%s: no \"%s\" within %d ms\n", path, needle, ms);
	buf_release(&b);
	return found;
}

void harness_stop_pid(pid_t *pid, int sig)
{
	int status;

	if (*pid <= 0)
		return;
	kill(*pid, sig);
	waitpid(*pid, &status, 0);
	*pid = 0;
}

int harness_read_port(const char *path, int wait_ms)
{
	long long end = harness_now_ms() + wait_ms;
	int port = 0;

	while (harness_now_ms() < end) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
			if (port > 0)
				return port;
		}
		usleep(20 * 1000);
	}
	return -1;
}

int harness_fake_board(const char *st, const char *script, pid_t *pid)
{
	char py[400], pf[400], lf[400];
	char *argv[] = {"/usr/bin/python3", py, "--state", (char *)st, "--port-file", pf, NULL};

	mkdir(st, 0755);
	snprintf(py, sizeof(py), "%s/tests/fake-board/fake-board.py", harness_root());
	snprintf(pf, sizeof(pf), "%s/console.port", st);
	snprintf(lf, sizeof(lf), "%s/board.log", st);
	if (harness_write_file(st, "script", script) < 0)
		return -1;
	*pid = harness_spawn(argv, lf);
	return *pid > 0 ? harness_read_port(pf, 5000) : -1;
}

pid_t harness_agent_start(struct harness_controller *c, const char *agent_file, const char *logpath,
			  const char *board)
{
	char bin[400], path[160];
	char *argv[] = {bin, "-v", (char *)agent_file, NULL};
	long long end = harness_now_ms() + 10000;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/xenci-agent", harness_build_dir());
	snprintf(path, sizeof(path), "/api/v1/boards/%s", board);
	pid = harness_spawn(argv, logpath);
	while (pid > 0 && harness_call(c, NULL, "GET", path, NULL, NULL) != 200) {
		if (harness_now_ms() > end) {
			fprintf(stderr, "harness: the agent did not declare board %s\n", board);
			harness_stop_pid(&pid, SIGKILL);
			return -1;
		}
		usleep(50 * 1000);
	}
	return pid;
}

int harness_controller_kill(struct harness_controller *c)
{
	int status;

	if (c->pid <= 0)
		return 0;
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &status, 0);
	c->pid = 0;
	return 0;
}

static void remove_tree(const char *dir)
{
	char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
	char out[16];

	harness_run(argv, out, sizeof(out));
}

int harness_controller_stop(struct harness_controller *c)
{
	long long deadline;
	int status = 0, rc = 0;

	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		deadline = harness_now_ms() + 5000;
		for (;;) {
			pid_t p = waitpid(c->pid, &status, WNOHANG);

			if (p == c->pid) {
				rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
				break;
			}
			if (harness_now_ms() > deadline) {
				fprintf(stderr, "harness: no exit 5 s after SIGTERM: SIGKILL\n");
				kill(c->pid, SIGKILL);
				waitpid(c->pid, &status, 0);
				rc = -1;
				break;
			}
			sleep_ms(10);
		}
		c->pid = 0;
	}
	if (getenv("XENCI_VERBOSE"))
		print_log(c);
	if (c->inited && !getenv("XENCI_KEEP"))
		remove_tree(c->dir);
	else if (c->inited)
		fprintf(stderr, "harness: kept %s\n", c->dir);
	c->inited = 0;
	return rc;
}

int harness_http(struct harness_controller *c, const char *token, struct http_client *client)
{
	int rc = http_client_init(client, c->url, token);

	if (rc == 0) {
		client->retries = 0;
		client->timeout_ms = c->http_timeout_ms ? c->http_timeout_ms : 70000;
		if (c->cafile)
			client->cafile = strdup(c->cafile);
	}
	return rc;
}

/* A call that could not reach the controller: when the controller has died,
 * say how and show its log (a sanitizer's report lands there), once. */
static void report_dead_controller(struct harness_controller *c)
{
	int status;

	if (c->pid <= 0 || waitpid(c->pid, &status, WNOHANG) != c->pid)
		return;
	if (WIFSIGNALED(status))
		fprintf(stderr, "harness: the controller died of signal %d\n", WTERMSIG(status));
	else
		fprintf(stderr, "harness: the controller exited with status %d\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	c->pid = 0;
	print_log(c);
}

long harness_call_bytes(struct harness_controller *c, const char *token, const char *method,
			const char *path, const char *ctype, const void *body, size_t len,
			json_t **json, struct buf *text)
{
	struct http_client h;
	struct http_reply r;
	long status = 0;

	if (json)
		*json = NULL;
	if (harness_http(c, token, &h) < 0) {
		fprintf(stderr, "harness: %s %s: no client\n", method, path);
		return 0;
	}
	http_reply_init(&r);
	if (http_request(&h, method, path, body ? ctype : NULL, body, body ? len : 0, NULL, &r) <
	    0) {
		fprintf(stderr, "harness: %s %s: %s\n", method, path, r.error);
		report_dead_controller(c);
	} else {
		status = r.status;
		if (json && r.json)
			*json = json_incref(r.json);
		if (text)
			buf_append(text, r.body.data ? r.body.data : "", r.body.len);
		if (status >= 400 && getenv("XENCI_VERBOSE"))
			fprintf(stderr, "harness: %s %s: %ld %.500s\n", method, path, status,
				buf_cstr(&r.body));
	}
	http_reply_release(&r);
	http_client_release(&h);
	return status;
}

long harness_call(struct harness_controller *c, const char *token, const char *method,
		  const char *path, const char *body, json_t **json)
{
	return harness_call_bytes(c, token, method, path, "application/json", body,
				  body ? strlen(body) : 0, json, NULL);
}

int harness_token(struct harness_controller *c, const char *role, const char *agent, char *out,
		  size_t outlen)
{
	struct http_client h;
	struct http_reply r;
	json_t *body = json_pack("{s:s}", "role", role);
	int rc = -1;

	if (agent)
		json_object_set_new(body, "agent", json_string(agent));
	harness_http(c, c->admin_token, &h);
	http_reply_init(&r);
	if (http_json(&h, "POST", "/api/v1/tokens", body, &r) == 0 && r.status == 201 &&
	    jstr(r.json, "token", NULL)) {
		snprintf(out, outlen, "%s", jstr(r.json, "token", ""));
		rc = 0;
	} else {
		fprintf(stderr, "harness: token %s: %ld %s\n", role, r.status, r.error);
		if (r.status == 0)
			report_dead_controller(c);
	}
	json_decref(body);
	http_reply_release(&r);
	http_client_release(&h);
	return rc;
}

int harness_user_token(struct harness_controller *c, const char *name, int reserve, char *out,
		       size_t outlen)
{
	char body[200];
	json_t *j = NULL;
	long st;

	snprintf(body, sizeof(body), "{\"role\": \"user\", \"name\": \"%s\", \"reserve\": %s}",
		 name, reserve ? "true" : "false");
	st = harness_call(c, c->admin_token, "POST", "/api/v1/tokens", body, &j);
	if (st == 201)
		snprintf(out, outlen, "%s", jstr(j, "token", ""));
	else
		fprintf(stderr, "harness: user token %s: HTTP %ld\n", name, st);
	json_decref(j);
	return st == 201 ? 0 : -1;
}

int harness_page_has(struct harness_controller *c, const char *path, const char *a, const char *b)
{
	struct buf text = BUF_INIT(0);
	long st = harness_call_bytes(c, NULL, "GET", path, NULL, NULL, 0, NULL, &text);
	int ok = st == 200 && strstr(buf_cstr(&text), a) && strstr(buf_cstr(&text), b);

	if (!ok)
		fprintf(stderr, "harness: %s (HTTP %ld) lacks \"%s\" or \"%s\"\n", path, st, a, b);
	buf_release(&text);
	return ok;
}

int harness_git_has(const char *dir, const char *repo, const char *commit, const char *name)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cd '%s/%s' && git cat-file -e '%s:%s' 2>/dev/null", dir, repo,
		 commit, name);
	return system(cmd) == 0;
}
