/* A lab around real boards for the tests that boot Xen: prebuilt artifacts, the
 * builder played by the test, a flight's attempt on a board, the processes a
 * test left behind. */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "json-util.h"

static const char *const art_names[] = {"xen", "dom0-kernel", "dom0-initrd"};

int harness_prebuilt(struct harness_artifacts *a, const char *arch, const char *scratch)
{
	const char *b = harness_build_dir(), *root = harness_root();
	char pd[360];
	int k;

	memset(a, 0, sizeof(*a));
	snprintf(a->arch, sizeof(a->arch), "%s", arch);
	snprintf(pd, sizeof(pd), "%s/payloads/%s/dom0-kernel", b, arch);
	if (access(pd, R_OK) == 0) {
		snprintf(pd, sizeof(pd), "%s/payloads/%s", b, arch);
	} else {
		char script[400], out[64];
		char *argv[] = {script, (char *)arch, pd, NULL};

		snprintf(script, sizeof(script), "%s/hypervisor/payloads.sh", root);
		snprintf(pd, sizeof(pd), "%s/payloads-%s", scratch, arch);
		if (access(script, X_OK) < 0 || harness_run(argv, out, sizeof(out)) != 0) {
			fprintf(stderr, "skipped: no dom0 payloads for %s (%s failed)\n", arch,
				script);
			return -1;
		}
	}
	snprintf(a->path[0], sizeof(a->path[0]), "%s/hypervisor/%s/xen", b, arch);
	snprintf(a->path[1], sizeof(a->path[1]), "%s/dom0-kernel", pd);
	snprintf(a->path[2], sizeof(a->path[2]), "%s/dom0-initrd", pd);
	for (k = 0; k < 3; k++) {
		if (access(a->path[k], R_OK) < 0) {
			fprintf(stderr, "skipped: %s is not built (make hypervisor-build)\n",
				a->path[k]);
			return -1;
		}
	}
	return 0;
}

/* Uploads one file as an artifact; its {sha256, size} into arts[name]. */
static int upload(struct harness_controller *c, json_t *arts, const char *name, const char *file)
{
	char hex[SHA256_HEX_LEN + 1], path[128];
	long long size = 0;
	struct http_client h;
	struct http_reply r;
	int rc = -1;

	if (sha256_file(hex, file, &size) < 0)
		return -1;
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", hex);
	harness_http(c, c->admin_token, &h);
	h.timeout_ms = 120000;
	http_reply_init(&r);
	if (http_upload_file(&h, path, file, &r) == 0 && (r.status == 200 || r.status == 201))
		rc = 0;
	else
		fprintf(stderr, "upload of %s: HTTP %ld %s\n", file, r.status, r.error);
	http_reply_release(&r);
	http_client_release(&h);
	if (rc == 0)
		json_object_set_new(
		    arts, name, json_pack("{s:s, s:I}", "sha256", hex, "size", (json_int_t)size));
	return rc;
}

int harness_serve_builds(struct harness_controller *c, const char *token, const char *agent,
			 const struct harness_artifacts *arts, size_t narts, int want)
{
	long long end = harness_now_ms() + 30000;
	char claim[128];
	int done = 0;

	snprintf(claim, sizeof(claim), "/api/v1/agents/%s/claim", agent);
	while (done < want && harness_now_ms() < end) {
		const struct harness_artifacts *a = NULL;
		json_t *j = NULL, *att, *out, *res, *bi;
		char path[400], *body;
		const char *arch;
		size_t i;
		int k, ok = 1;
		long st;

		if (harness_call(c, token, "POST", claim,
				 "{\"boards\": [], \"build\": true, \"wait_ms\": 1000}",
				 &j) != 200) {
			json_decref(j);
			continue;
		}
		att = json_object_get(j, "attempt");
		arch = jstr(att, "arch", "");
		for (i = 0; i < narts; i++)
			if (!strcmp(arts[i].arch, arch))
				a = &arts[i];
		out = json_object();
		for (k = 0; a && k < 3; k++)
			if (upload(c, out, art_names[k], a->path[k]) < 0)
				ok = 0;
		snprintf(path, sizeof(path), "%s/hypervisor/%s/build-info.json",
			 harness_build_dir(), arch);
		bi = json_load_file(path, 0, NULL);
		if (bi == NULL)
			bi = json_pack("{s:s, s:s, s:s}", "arch", arch, "xen_version", "4.17",
				       "changeset", "unknown");
		res = json_pack("{s:s, s:s, s:o, s:o, s:i}", "verdict", a && ok ? "pass" : "fail",
				"reason", a ? "prebuilt by the test" : "no artifacts for this arch",
				"artifacts", out, "build_info", bi, "log_length", 0);
		body = json_dumps(res, JSON_COMPACT);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", jint(att, "id", 0));
		st = harness_call(c, token, "POST", path, body, NULL);
		free(body);
		json_decref(res);
		json_decref(j);
		if (st != 200 || !a || !ok)
			return -1;
		done++;
	}
	return done;
}

json_t *harness_board_attempt(struct harness_controller *c, long long flight, const char *board)
{
	char path[96];
	json_t *fl = NULL, *list, *a, *found = NULL;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/flights/%lld", flight);
	if (harness_call(c, NULL, "GET", path, NULL, &fl) != 200) {
		json_decref(fl);
		return NULL;
	}
	list = json_object_get(fl, "jobs") ? json_object_get(fl, "jobs")
					   : json_object_get(fl, "attempts");
	json_array_foreach (list, i, a)
		if (!strcmp(jstr(a, "board", ""), board) &&
		    !strcmp(jstr(a, "kind", "test"), "test")) {
			json_decref(found);
			found = json_incref(a);
		}
	json_decref(fl);
	return found;
}

const char *harness_verdict(const json_t *a)
{
	static const char *const ends[] = {"pass",	"fail",	   "infra", "timeout",
					   "cancelled", "starved", NULL};
	const char *st = jstr(a, "verdict", jstr(a, "state", ""));
	size_t i;

	for (i = 0; ends[i]; i++)
		if (!strcmp(st, ends[i]))
			return ends[i];
	return NULL;
}

json_t *harness_wait_attempt(struct harness_controller *c, long long flight, const char *board,
			     int ms)
{
	long long end = harness_now_ms() + ms;
	json_t *a = NULL;

	while (harness_now_ms() < end) {
		json_decref(a);
		a = harness_board_attempt(c, flight, board);
		if (a && harness_verdict(a))
			return a;
		usleep(250 * 1000);
	}
	json_decref(a);
	return NULL;
}

long long harness_flight(struct harness_controller *c, const char *commit)
{
	char body[160];
	json_t *j = NULL;
	long long id = -1;

	snprintf(body, sizeof(body), "{\"tree\": \"xen\", \"commit\": \"%s\"}", commit);
	if (harness_call(c, c->admin_token, "POST", "/api/v1/flights", body, &j) == 201)
		id = jint(j, "id", -1);
	json_decref(j);
	return id;
}

int harness_count_procs(const char *prog, const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL) {
		char p[300], cmd[8192];
		ssize_t len, i;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (i = 0; i < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[len] = '\0';
		if (strstr(cmd, prog) && strstr(cmd, needle))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

int harness_fake_lab_start(struct harness_controller *c, struct harness_fake_lab *lab,
			   const char *agent, const char *token,
			   const struct harness_fake_spec *boards, int n, const char *agent_extra)
{
	struct buf list = BUF_INIT(0);
	char path[400], text[2048];
	int i;

	memset(lab, 0, sizeof(*lab));
	if (n < 1 || n > HARNESS_FAKE_LAB_MAX)
		return -1;
	snprintf(lab->dir, sizeof(lab->dir), "%s/agent", c->dir);
	mkdir(lab->dir, 0755);
	for (i = 0; i < n; i++) {
		char st[340];
		int port;

		snprintf(st, sizeof(st), "%s/%s", lab->dir, boards[i].name);
		port = harness_fake_board(st,
					  boards[i].script
					      ? boards[i].script
					      : "line FAKE-FW 1.0\nline XENCI-TESTS-DONE\n",
					  &lab->board_pid[i]);
		lab->n = i + 1;
		if (port < 0) {
			buf_release(&list);
			return -1;
		}
		snprintf(text, sizeof(text),
			 "name: %s\narch: x86_64\nclass: fake\ntags: [%s]\n"
			 "power: {backend: command, on: 'echo on > ${st}/power; echo on >> "
			 "${st}/actions', off: 'echo off > ${st}/power; echo off >> ${st}/actions',"
			 " vars: {st: '%s'}}\n"
			 "console: {backend: tcp, host: 127.0.0.1, port: %d}\n"
			 "netboot: {backend: ipxe}\n%s",
			 boards[i].name, boards[i].tags ? boards[i].tags : "", st, port,
			 boards[i].extra ? boards[i].extra : "");
		snprintf(path, sizeof(path), "%s.yaml", boards[i].name);
		harness_write_file(lab->dir, path, text);
		buf_printf(&list, "%s%s", i ? ", " : "", path);
	}
	snprintf(text, sizeof(text),
		 "controller: %s\nagent: %s\ntoken: %s\nwork_dir: %s/work\n"
		 "boards: [%s]\n"
		 "limits: {claim_wait_ms: 500, heartbeat_s: 1}\n%s",
		 c->url, agent, token, lab->dir, buf_cstr(&list), agent_extra ? agent_extra : "");
	buf_release(&list);
	harness_write_file(lab->dir, "agent.yaml", text);
	snprintf(path, sizeof(path), "%s/agent.yaml", lab->dir);
	snprintf(text, sizeof(text), "%s/agent.log", lab->dir);
	lab->agent_pid = harness_agent_start(c, path, text, boards[n - 1].name);
	return lab->agent_pid > 0 ? 0 : -1;
}

void harness_fake_lab_stop(struct harness_fake_lab *lab)
{
	int i;

	harness_stop_pid(&lab->agent_pid, SIGKILL);
	for (i = 0; i < lab->n; i++)
		harness_stop_pid(&lab->board_pid[i], SIGKILL);
}

int harness_fake_lab_actions(const struct harness_fake_lab *lab, const char *board,
			     const char *what)
{
	struct buf b = BUF_INIT(0);
	char path[400], want[16];
	const char *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", lab->dir, board);
	if (harness_read_file(&b, path, "actions") < 0) {
		buf_release(&b);
		return 0;
	}
	snprintf(want, sizeof(want), "%s\n", what);
	for (p = buf_cstr(&b); (p = strstr(p, want)) != NULL; p += strlen(want))
		if (p == buf_cstr(&b) || p[-1] == '\n')
			n++;
	buf_release(&b);
	return n;
}

int harness_lab_step(struct harness_lab *lab)
{
	json_t *j = NULL;
	char path[128], body[4096];
	long long id;
	long st;
	int rc = -1;

	if (lab->bisector_idle && harness_bisector_idle(lab->c) < 0)
		return -1;
	snprintf(path, sizeof(path), "/api/v1/agents/%s/claim", lab->agent);
	st = harness_call(lab->c, lab->token, "POST", path, lab->claim, &j);
	if (st == 204) {
		json_decref(j);
		return 0;
	}
	if (st != 200) {
		fprintf(stderr, "harness: claim of %s answered %ld\n", lab->agent, st);
		goto out;
	}
	id = jint(json_object_get(j, "attempt"), "id", 0);
	body[0] = '\0';
	if (lab->rule(lab, json_object_get(j, "attempt"), body, sizeof(body)) < 0)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", id);
	st = harness_call(lab->c, lab->token, "POST", path, body, NULL);
	if (st != 200) {
		fprintf(stderr, "harness: result of attempt %lld answered %ld: %s\n", id, st, body);
		goto out;
	}
	rc = 1;
out:
	json_decref(j);
	return rc;
}

int harness_lab_drain(struct harness_lab *lab, int max)
{
	int n, rc;

	for (n = 0; n < max; n++) {
		rc = harness_lab_step(lab);
		if (rc <= 0)
			return rc < 0 ? rc : n;
	}
	fprintf(stderr, "harness: the lab still had work after %d attempts\n", max);
	return -1;
}

void harness_result_body(char *body, size_t len, int pass)
{
	const char *v = pass ? "pass" : "fail";

	snprintf(body, len,
		 "{\"verdict\": \"%s\", \"stages\": [], \"testcases\": [{\"name\": "
		 "\"dom0 boots\", \"result\": \"%s\"}]}",
		 v, v);
}

int harness_put_artifact(struct harness_controller *c, const char *token, const void *data,
			 size_t len, char *hex)
{
	char path[128];
	long st;

	sha256_hex(hex, data, len);
	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", hex);
	st = harness_call_bytes(c, token, "PUT", path, "application/octet-stream", data, len, NULL,
				NULL);
	if (st != 200 && st != 201) {
		fprintf(stderr, "harness: PUT %s answered %ld\n", path, st);
		return -1;
	}
	return 0;
}
