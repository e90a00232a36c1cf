/* The authorization matrix: anonymous, user, agent, another agent and admin
 * against every write route. Every forbidden cell is asserted with its status,
 * and that it changed nothing (the store's visible state is fingerprinted before
 * and after). Then private boards: 404 for everyone but admin and their agent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "hash.h"
#include "json-util.h"

#define COMMIT "00112233445566778899aabbccddeeff00112233"

static struct harness_controller ctl;

enum who { ANON, USER, AGENT, OTHER, ADMIN, NWHO };
static const char *const who_name[NWHO] = {"anonymous", "user", "agent", "other agent", "admin"};
static char tok[NWHO][128];

/* w's token (NULL: anonymous). */
static const char *as(enum who w)
{
	return w == ANON ? NULL : tok[w];
}

static const char job_fake[] = "name: fake-smoke\nrequires: {arch: [x86_64]}\n";

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* Everything an admin can read, as one string. */
static char *fingerprint(void)
{
	static const char *const paths[] = {"/api/v1/boards",
					    "/api/v1/agents",
					    "/api/v1/flights?limit=1000",
					    "/api/v1/attempts?limit=1000",
					    "/api/v1/queue",
					    NULL};
	json_t *all = json_object(), *j;
	char *s;
	int i;

	for (i = 0; paths[i]; i++) {
		j = NULL;
		assert_int_equal(harness_call(&ctl, as(ADMIN), "GET", paths[i], NULL, &j), 200);
		json_object_set_new(all, paths[i], j);
	}
	s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(all);
	return s;
}

static int setup(void **state)
{
	(void)state;
	if (harness_controller_init(&ctl) < 0)
		return -1;
	harness_write_file(ctl.jobs, "fake-smoke.yaml", job_fake);
	if (harness_controller_start(&ctl) < 0)
		return -1;
	snprintf(tok[ADMIN], sizeof(tok[ADMIN]), "%s", ctl.admin_token);
	if (harness_token(&ctl, "user", NULL, tok[USER], sizeof(tok[USER])) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", tok[AGENT], sizeof(tok[AGENT])) < 0 ||
	    harness_token(&ctl, "agent", "lab-b", tok[OTHER], sizeof(tok[OTHER])) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return harness_controller_stop(&ctl) == 0 ? 0 : -1;
}

struct cell {
	const char *method;
	char path[160];
	const char *ct;
	const char *body;
	size_t len;
	long want[NWHO]; /* the status each caller gets; 0: allowed (any 2xx/4xx but 401/403) */
};

static void check_forbidden(const struct cell *c)
{
	enum who w;

	for (w = ANON; w < NWHO; w++) {
		char *before, *after;
		json_t *j = NULL;
		long st;

		if (c->want[w] == 0)
			continue;
		before = fingerprint();
		st = harness_call_bytes(&ctl, as(w), c->method, c->path, c->ct, c->body, c->len, &j,
					NULL);
		if (st != c->want[w])
			fail_msg("%s %s as %s: %ld, expected %ld", c->method, c->path, who_name[w],
				 st, c->want[w]);
		/* A precise error document, and no token handed out. */
		assert_non_null(jstr(j, "error", NULL));
		assert_null(jstr(j, "token", NULL));
		json_decref(j);
		after = fingerprint();
		if (strcmp(before, after))
			fail_msg("%s %s as %s changed the store", c->method, c->path, who_name[w]);
		free(before);
		free(after);
	}
}

static void test_matrix(void **state)
{
	static const char blob[] = "artifact bytes";
	char sha[SHA256_HEX_LEN + 1], apath[160];
	struct cell cells[16];
	json_t *j = NULL;
	long long attempt, flight;
	int n = 0, i;
	const char *declare_a = "{\"protocol\": 1, \"builder\": {\"arches\": [\"x86_64\"]},"
				" \"boards\": [{\"name\": \"ba\", \"arch\": \"x86_64\", \"class\":"
				" \"q35\"}]}";
	const char *declare_b = "{\"protocol\": 1, \"boards\": [{\"name\": \"bb\", \"arch\":"
				" \"x86_64\", \"class\": \"q35\"}]}";

	(void)state;
	sha256_hex(sha, blob, sizeof(blob) - 1);
	/* The world: two agents with a board each, a flight, an attempt claimed by lab-a. */
	assert_int_equal(
	    harness_call(&ctl, as(AGENT), "PUT", "/api/v1/agents/lab-a/boards", declare_a, NULL),
	    200);
	assert_int_equal(
	    harness_call(&ctl, as(OTHER), "PUT", "/api/v1/agents/lab-b/boards", declare_b, NULL),
	    200);
	assert_int_equal(harness_call(&ctl, as(ADMIN), "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", &j),
			 201);
	flight = jint(j, "id", 0);
	json_decref(j);
	assert_int_equal(harness_call(&ctl, as(AGENT), "POST", "/api/v1/agents/lab-a/claim",
				      "{\"boards\": [\"ba\"], \"wait_ms\": 0}", &j),
			 200);
	attempt = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	assert_true(flight > 0 && attempt > 0);

#define CELL(m, ct_, body_, a, u, g, o, d)                                                         \
	do {                                                                                       \
		cells[n].method = (m);                                                             \
		cells[n].ct = (ct_);                                                               \
		cells[n].body = (body_);                                                           \
		cells[n].len = slen(body_);                                                        \
		cells[n].want[ANON] = (a);                                                         \
		cells[n].want[USER] = (u);                                                         \
		cells[n].want[AGENT] = (g);                                                        \
		cells[n].want[OTHER] = (o);                                                        \
		cells[n].want[ADMIN] = (d);                                                        \
		n++;                                                                               \
	} while (0)
#define JS "application/json"
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/agents/lab-a/boards");
	CELL("PUT", JS, declare_a, 401, 403, 0, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/agents/lab-a/claim");
	CELL("POST", JS, "{\"boards\": [\"ba\"], \"wait_ms\": 0}", 401, 403, 0, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/agents/lab-b/claim");
	CELL("POST", JS, "{\"boards\": [\"ba\"], \"wait_ms\": 0}", 401, 403, 403, 403, 403);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/attempts/%lld/heartbeat", attempt);
	CELL("POST", JS, "{}", 401, 403, 0, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/attempts/%lld/log?offset=0",
		 attempt);
	CELL("PUT", "application/octet-stream", "console\n", 401, 403, 0, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/artifacts/%s", sha);
	CELL("PUT", "application/octet-stream", blob, 401, 403, 0, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/flights");
	CELL("POST", JS, "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", 401, 422, 403, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/tokens");
	CELL("POST", JS, "{\"role\": \"admin\"}", 401, 403, 403, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/tokens/2");
	CELL("DELETE", NULL, NULL, 401, 403, 403, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/attempts/%lld/cancel", attempt);
	CELL("POST", JS, "{}", 401, 403, 403, 403, 0);
	snprintf(cells[n].path, sizeof(cells[n].path), "/api/v1/attempts/%lld/result", attempt);
	CELL("POST", JS, "{\"verdict\": \"pass\"}", 401, 403, 0, 403, 0);
	/* The result (which ends the attempt) comes last among the attempt's cells. */
	for (i = 0; i < n; i++)
		check_forbidden(&cells[i]);
	/* A wrong token is 401 everywhere, also on reads. */
	for (i = 0; i < n; i++) {
		struct http_client h;
		struct http_reply r;

		harness_http(&ctl, "xci_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &h);
		http_reply_init(&r);
		assert_int_equal(http_request(&h, cells[i].method, cells[i].path, cells[i].ct,
					      cells[i].body, cells[i].len, NULL, &r),
				 0);
		assert_int_equal(r.status, 401);
		http_reply_release(&r);
		http_client_release(&h);
	}
	/* The allowed cells work for the agent (and the flight for the user). */
	assert_int_equal(harness_call(&ctl, as(AGENT), "POST", cells[3].path, "{}", NULL), 200);
	assert_int_equal(harness_call_bytes(&ctl, as(AGENT), "PUT", cells[4].path,
					    "application/octet-stream", "console\n", 8, NULL, NULL),
			 200);
	snprintf(apath, sizeof(apath), "/api/v1/artifacts/%s", sha);
	assert_int_equal(harness_call_bytes(&ctl, as(AGENT), "PUT", apath,
					    "application/octet-stream", blob, sizeof(blob) - 1,
					    NULL, NULL),
			 201);
	assert_int_equal(
	    harness_call(&ctl, as(AGENT), "POST", cells[10].path, "{\"verdict\": \"pass\"}", NULL),
	    200);
	/* The other agent cannot see through to lab-a's attempt by replaying a result. */
	assert_int_equal(
	    harness_call(&ctl, as(OTHER), "POST", cells[10].path, "{\"verdict\": \"pass\"}", NULL),
	    403);
}

static void test_private_boards(void **state)
{
	json_t *j = NULL;
	char path[128];
	long long attempt;
	enum who w;

	(void)state;
	assert_int_equal(
	    harness_call(&ctl, as(OTHER), "PUT", "/api/v1/agents/lab-b/boards",
			 "{\"protocol\": 1, \"boards\": [{\"name\": \"secret\", \"arch\":"
			 " \"x86_64\", \"class\": \"q35\", \"visibility\": \"private\"}]}",
			 NULL),
	    200);
	assert_int_equal(harness_call(&ctl, as(ADMIN), "POST", "/api/v1/flights",
				      "{\"tree\": \"xen\", \"commit\": \"" COMMIT "\"}", NULL),
			 201);
	assert_int_equal(harness_call(&ctl, as(OTHER), "POST", "/api/v1/agents/lab-b/claim",
				      "{\"boards\": [\"secret\"], \"wait_ms\": 0}", &j),
			 200);
	attempt = jint(json_object_get(j, "attempt"), "id", 0);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log?offset=0", attempt);
	assert_int_equal(harness_call_bytes(&ctl, as(OTHER), "PUT", path,
					    "application/octet-stream", "private\n", 8, NULL, NULL),
			 200);
	for (w = ANON; w < NWHO; w++) {
		int sees = w == OTHER || w == ADMIN;

		assert_int_equal(
		    harness_call(&ctl, as(w), "GET", "/api/v1/boards/secret", NULL, NULL),
		    sees ? 200 : 404);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld", attempt);
		assert_int_equal(harness_call(&ctl, as(w), "GET", path, NULL, NULL),
				 sees ? 200 : 404);
		snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", attempt);
		assert_int_equal(harness_call(&ctl, as(w), "GET", path, NULL, NULL),
				 sees ? 200 : 404);
		assert_int_equal(harness_call(&ctl, as(w), "GET", "/api/v1/boards", NULL, &j), 200);
		{
			char *text = json_dumps(j, 0);

			assert_int_equal(strstr(text, "secret") != NULL, sees);
			free(text);
		}
		json_decref(j);
	}
}

/* Entries of the controller's upload folder (DATA/tmp). */
static int tmp_files(void)
{
	char path[400];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/tmp", ctl.data);
	dir = opendir(path);
	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* An agent that does not build (lab-b) sends 8 MiB to the artifact route: the
 * 403 comes, and no byte of it was written on the way (nothing in the upload
 * folder while the first MiB waits for the rest). */
static void test_upload_refused_before_write(void **state)
{
	static char zeros[1 << 20];
	char head[512], reply[4096] = "";
	int fd;

	(void)state;
	snprintf(head, sizeof(head),
		 "PUT /api/v1/artifacts/%064d HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
		 "Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: "
		 "%d\r\n\r\n",
		 0, tok[OTHER], 8 << 20);
	assert_int_equal(tmp_files(), 0);
	fd = harness_connect(ctl.port, NULL);
	assert_true(fd >= 0);
	assert_int_equal(harness_send(fd, head, strlen(head)), 0);
	assert_int_equal(harness_send(fd, zeros, sizeof(zeros)), 0);
	/* The first MiB has been read (a file would have appeared by now, as it did). */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(tmp_files(), 0);
		usleep(100 * 1000);
	}
	for (int i = 1; i < 8; i++)
		assert_int_equal(harness_send(fd, zeros, sizeof(zeros)), 0);
	assert_int_equal(harness_read_until(fd, reply, sizeof(reply), "\r\n\r\n", 30000), 1);
	assert_int_equal(harness_status(reply), 403);
	assert_int_equal(tmp_files(), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix),
	    cmocka_unit_test(test_upload_refused_before_write),
	    cmocka_unit_test(test_private_boards),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
