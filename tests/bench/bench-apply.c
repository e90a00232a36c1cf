/* bench-apply: the bounds of patch application (docs/security.md), as figures.
 * Each case runs in a child process on a fresh repository; its wall time and
 * peak RSS (getrusage of the child) are printed:
 *   far-hunk S    a two-patch series of S bytes whose one hunk applies far from
 *                 where it says (quadratic for a search comparing its whole
 *                 context at every line), for S = 0.5, 1, 2 MB;
 *   many-hunks S  a series of S bytes: a file, then a patch changing every
 *                 fourth line of it (one hunk each);
 *   bomb          a binary hunk inflating to 1 GiB, declared honestly, then
 *                 declaring 100 bytes.
 *   bench-apply [CASE]   runs the cases whose name starts with CASE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/harness.h"
#include "../../controller/git-apply.h"

static char dir[] = "/tmp/xenci-bench-apply.XXXXXX";

static void run_case(const char *name, struct buf *mbox, int id)
{
	struct rusage ru;
	long long t0 = harness_now_ms();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct patch_series s;
		struct apply_error e;
		struct gitrepo *r;
		char out[GITREPO_HEX], err[512], ref[64], path[300];
		int rc;

		snprintf(path, sizeof(path), "%s/base", dir);
		if (gitrepo_open(&r, path, err, sizeof(err)) < 0)
			_exit(2);
		patch_series_init(&s);
		if (patch_series_add(&s, name, mbox->data, mbox->len, err, sizeof(err)) < 0 ||
		    patch_series_finish(&s, err, sizeof(err)) < 0) {
			printf("  %s: %s\n", name, err);
			_exit(3);
		}
		snprintf(ref, sizeof(ref), "refs/xenci/submissions/%d", id);
		rc = gitrepo_apply_series(out, r, "master", &s, ref, &e);
		printf("  %-22s %s%.160s\n", name,
		       rc == 0 ? "applied" : "refused: ", rc == 0 ? "" : e.message);
		fflush(stdout);
		_exit(rc == 0 ? 0 : 1);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return;
	printf("  %-22s %7.2f s  peak RSS %6ld MiB  (series %.2f MB)\n", name,
	       (double)(harness_now_ms() - t0) / 1000.0, ru.ru_maxrss / 1024,
	       (double)mbox->len / 1e6);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const double sizes[] = {0.5e6, 1e6, 2e6};
	const char *only = argc > 1 ? argv[1] : "";
	struct buf b = BUF_INIT(0);
	char name[64];
	int id = 1;

	if (mkdtemp(dir) == NULL)
		return 1;
	harness_sh(dir, "git -c init.defaultBranch=master init -q base && cd base && echo a > "
			"README && git add README && git -c user.name=B -c "
			"user.email=b@example.org commit -qm base");
	for (size_t i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "far-hunk %.1f MB", sizes[i] / 1e6);
		if (strncmp(name, only, strlen(only)))
			continue;
		buf_reset(&b);
		harness_series_far_hunk(&b, (size_t)sizes[i]);
		run_case(name, &b, id++);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "many-hunks %.1f MB", sizes[i] / 1e6);
		if (strncmp(name, only, strlen(only)))
			continue;
		buf_reset(&b);
		harness_series_many_hunks(&b, (size_t)sizes[i]);
		run_case(name, &b, id++);
	}
	if (!strncmp("bomb", only, strlen(only))) {
		buf_reset(&b);
		harness_series_bomb(&b, (size_t)1 << 30, (size_t)1 << 30);
		run_case("bomb 1 GiB declared", &b, id++);
		buf_reset(&b);
		harness_series_bomb(&b, (size_t)1 << 30, 100);
		run_case("bomb 1 GiB as 100 B", &b, id++);
	}
	buf_release(&b);
	harness_sh("/tmp", "rm -rf %s", dir);
	return 0;
}
