/* Benchmark (figures, not pass/fail): the "time from git push (or xenci
 * submit) to the first attempt claimed by an agent", against a real controller
 * watching a bare repository whose post-receive hook runs `xenci poke`, with an
 * agent long-polling for its board. The job needs no build: what is measured is
 * the controller's own time (hook, watcher, flight, wake-up of the claim).
 * Also: poke and webhook round trips, and a submission's apply time by size.
 *
 *	bench-flights [N]     (default 31 runs each)
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "json-util.h"

static struct harness_controller ctl;
static char agent_tok[128], user_tok[128], xenci[512];

#define GIT "git -c user.name=Dev -c user.email=dev@example.org "

static int shrun(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shrun(const char *fmt, ...)
{
	char cmd[4096], out[4096];
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd %s && ", ctl.dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return harness_run(argv, out, sizeof(out));
}

struct claim {
	pthread_t thread;
	long long at_ms, attempt;
};

static void *claim_main(void *arg)
{
	struct claim *c = arg;
	json_t *j = NULL;

	if (harness_call(&ctl, agent_tok, "POST", "/api/v1/agents/lab-a/claim",
			 "{\"boards\": [\"qx\"], \"wait_ms\": 15000}", &j) == 200)
		c->attempt = jint(json_object_get(j, "attempt"), "id", 0);
	c->at_ms = harness_now_ms();
	json_decref(j);
	return NULL;
}

static void finish(long long attempt)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/result", attempt);
	harness_call(&ctl, agent_tok, "POST", path, "{\"verdict\": \"pass\"}", NULL);
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, long long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_ll);
	printf("%-48s median %5lld ms   p90 %5lld ms   min %5lld   max %5lld   (n=%d)\n", what,
	       v[n / 2], v[(n * 9) / 10], v[0], v[n - 1], n);
}

enum what { PUSH, SUBMIT_ONE, SUBMIT_FIFTY };

static void command(char *cmd, size_t len, enum what w, int i)
{
	if (w == PUSH)
		snprintf(cmd, len,
			 "cd work && echo %d >> big.c && " GIT "commit -qam 'push %d' && "
			 "git push -q origin staging",
			 i, i);
	else
		snprintf(cmd, len,
			 "%s submit --url %s --token %s --base staging %s/*.patch >/dev/null",
			 xenci, ctl.url, user_tok, w == SUBMIT_ONE ? "one" : "fifty");
}

/* Times from starting the command to the claim of the first attempt it makes. */
static int to_claim(long long *out, int n, const char *what, enum what w)
{
	char cmd[2048];

	for (int i = 0; i < n; i++) {
		struct claim c = {0};
		long long t0;

		pthread_create(&c.thread, NULL, claim_main, &c);
		usleep(100 * 1000); /* parked */
		command(cmd, sizeof(cmd), w, i);
		t0 = harness_now_ms();
		if (shrun("%s", cmd) != 0) {
			fprintf(stderr, "%s: the command failed\n", what);
			pthread_join(c.thread, NULL);
			return -1;
		}
		pthread_join(c.thread, NULL);
		if (c.attempt <= 0) {
			fprintf(stderr, "%s: nothing claimed\n", what);
			return -1;
		}
		out[i] = c.at_ms - t0;
		finish(c.attempt);
	}
	report(what, out, n);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 31;
	long long *v;
	char extra[1024], hook[600];
	FILE *f;
	int rc = 1;

	if (n < 3 || n > 1000)
		n = 31;
	v = calloc((size_t)n, sizeof(*v));
	if (harness_controller_init(&ctl) < 0) {
		free(v);
		return 1;
	}
	snprintf(xenci, sizeof(xenci), "%s/xenci", harness_build_dir());
	harness_write_file(ctl.jobs, "smoke.yaml",
			   "name: smoke\nrequires: {arch: [x86_64]}\nstages:\n"
			   "  - {name: hello, pattern: 'hello', timeout: 10}\n");
	if (shrun(
		"git init -q --bare -b staging xen.git && git clone -q xen.git work 2>/dev/null && "
		"cd work && git checkout -q -b staging && seq 1 3000 > big.c && " GIT
		"add -A && " GIT "commit -qm base && git push -q origin staging") != 0)
		goto out;
	snprintf(extra, sizeof(extra),
		 "trees:\n  xen:\n    source: %s/xen.git\n    interval: 3600\n    branches:\n"
		 "      - name: staging\n        jobs: [smoke]\n",
		 ctl.dir);
	ctl.extra_config = extra;
	ctl.http_timeout_ms = 20000;
	if (harness_controller_start(&ctl) < 0 ||
	    harness_token(&ctl, "agent", "lab-a", agent_tok, sizeof(agent_tok)) < 0 ||
	    harness_token(&ctl, "user", NULL, user_tok, sizeof(user_tok)) < 0)
		goto out;
	snprintf(hook, sizeof(hook), "%s/xen.git/hooks/post-receive", ctl.dir);
	f = fopen(hook, "w");
	if (f == NULL)
		goto out;
	fprintf(f, "#!/bin/sh\nexec %s poke --url %s --token %s staging >/dev/null\n", xenci,
		ctl.url, user_tok);
	fclose(f);
	chmod(hook, 0755);
	harness_call(
	    &ctl, agent_tok, "PUT", "/api/v1/agents/lab-a/boards",
	    "{\"protocol\": 1, \"builder\": null, \"boards\": [{\"name\": \"qx\", \"arch\":"
	    " \"x86_64\", \"class\": \"q35\"}]}",
	    NULL);
	{ /* the initial head's flight */
		struct claim c = {0};

		claim_main(&c);
		if (c.attempt > 0)
			finish(c.attempt);
	}
	printf("bench-flights: a job without a build, one board, %d runs each\n", n);
	if (to_claim(v, n, "git push (hook: xenci poke) -> first claim", PUSH) < 0)
		goto out;
	if (shrun("cd work && sed -i '1s/.*/one/; 1500s/.*/mid/; 3000s/.*/end/' big.c && " GIT
		  "commit -qam three-hunks && " GIT "format-patch -q -1 -o ../one HEAD && "
		  "git reset -q --hard HEAD~1") != 0)
		goto out;
	if (to_claim(v, n, "xenci submit (1 patch, 3 hunks) -> first claim", SUBMIT_ONE) < 0)
		goto out;
	/* A 50-patch series. */
	if (shrun(
		"cd work && for i in $(seq 1 50); do sed -i \"$((i * 50))s/.*/p$i/\" big.c && " GIT
		"commit -qam p$i || exit 1; done && " GIT "format-patch -q -50 -o ../fifty "
		"HEAD && git reset -q --hard HEAD~50") != 0)
		goto out;
	if (to_claim(v, n < 11 ? n : 11, "xenci submit (50 patches) -> first claim", SUBMIT_FIFTY) <
	    0)
		goto out;
	for (int i = 0; i < n; i++) {
		long long t0 = harness_now_ms();

		harness_call(&ctl, user_tok, "POST", "/api/v1/poke", "{\"branch\": \"staging\"}",
			     NULL);
		v[i] = harness_now_ms() - t0;
	}
	report("POST /api/v1/poke, no change (round trip)", v, n);
	rc = 0;
out:
	harness_controller_stop(&ctl);
	free(v);
	return rc;
}
