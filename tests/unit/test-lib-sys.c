/* lib/clock, lib/fs and lib/proc: the helpers the daemons share for time,
 * files and child processes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fs.h"
#include "proc.h"
#include "xmalloc.h"

static char *scratch(void)
{
	char tmpl[] = "/tmp/xenci-lib-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void test_clock(void **state)
{
	long long a = clock_mono_ms(), b, w = clock_wall_ms();
	struct timespec ts;

	(void)state;
	usleep(20 * 1000);
	b = clock_mono_ms();
	assert_true(b - a >= 20);
	assert_true(clock_mono_us() / 1000 >= b);
	/* the wall clock is the epoch's, in ms */
	assert_true(w / 1000 >= (long long)time(NULL) - 1 && w / 1000 <= (long long)time(NULL));
	{
		pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t cv;

		assert_int_equal(clock_cond_init(&cv), 0);
		a = clock_mono_ms();
		clock_deadline(&ts, 30);
		pthread_mutex_lock(&mu);
		while (pthread_cond_timedwait(&cv, &mu, &ts) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&mu);
		assert_true(clock_mono_ms() - a >= 29);
		pthread_cond_destroy(&cv);
	}
}

static void test_mkdir_p_and_resolve(void **state)
{
	char *d = scratch(), *p, *f;
	struct stat st;

	(void)state;
	p = xasprintf("%s/a/b//c", d);
	assert_int_equal(mkdir_p(p), 0);
	assert_int_equal(mkdir_p(p), 0); /* it exists: fine */
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	f = xasprintf("%s/file", d);
	assert_int_equal(file_write_atomic(f, "x", 1, 0644, 0), 0);
	free(p);
	p = xasprintf("%s/file/sub", d);
	assert_int_equal(mkdir_p(p), -ENOTDIR);
	assert_int_equal(mkdir_p(f), -ENOTDIR);
	free(p);
	p = path_resolve("/base", "rel/x");
	assert_string_equal(p, "/base/rel/x");
	free(p);
	p = path_resolve("/base", "/abs");
	assert_string_equal(p, "/abs");
	free(p);
	p = path_resolve(NULL, "rel");
	assert_string_equal(p, "rel");
	free(p);
	assert_int_equal(rm_tree(d), 0);
	free(f);
	free(d);
}

static void test_file_read_bounded(void **state)
{
	char *d = scratch(), *f = xasprintf("%s/f", d), *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(file_write_atomic(f, "hello", 5, 0600, FILE_SYNC), 0);
	assert_int_equal(file_read(&data, &len, f, 5), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(file_read(&data, &len, f, 4), -EFBIG);
	assert_null(data);
	assert_int_equal(file_read(&data, NULL, "/nonexistent/xenci", 10), -ENOENT);
	{
		struct stat st;

		assert_int_equal(stat(f, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	rm_tree(d);
	free(f);
	free(d);
}

/* A reader sees the old content or the new, never a part or a mixture. */
static void test_file_write_atomic_old_or_new(void **state)
{
	enum { SIZE = 1 << 20, ROUNDS = 40 };
	char *d = scratch(), *f = xasprintf("%s/f", d), *a = xmalloc(SIZE), *b = xmalloc(SIZE);
	int reads = 0, status;
	pid_t reader;

	(void)state;
	memset(a, 'a', SIZE);
	memset(b, 'b', SIZE);
	assert_int_equal(file_write_atomic(f, a, SIZE, 0644, 0), 0);
	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		/* exit 1 on a torn read */
		for (;;) {
			char *data = NULL;
			size_t len = 0, i;

			if (file_read(&data, &len, f, 2 * SIZE) < 0)
				_exit(2);
			if (len != SIZE)
				_exit(1);
			for (i = 1; i < len; i++)
				if (data[i] != data[0])
					_exit(1);
			free(data);
		}
	}
	for (int i = 0; i < ROUNDS; i++)
		assert_int_equal(file_write_atomic(f, i % 2 ? a : b, SIZE, 0644, 0), 0);
	kill(reader, SIGKILL);
	waitpid(reader, &status, 0);
	assert_true(WIFSIGNALED(status)); /* it never stopped on a torn read */
	(void)reads;
	/* a failed write leaves the old file and no temporary */
	{
		char *bad = xasprintf("%s/missing/f", d), *data = NULL;
		size_t len;

		assert_int_equal(file_write_atomic(bad, "x", 1, 0644, 0), -ENOENT);
		free(bad);
		assert_int_equal(file_read(&data, &len, f, 2 * SIZE), 0);
		assert_int_equal(len, SIZE);
		free(data);
	}
	/* a symlink at the path is replaced, never written through */
	{
		char *target = xasprintf("%s/target", d), *data = NULL;

		assert_int_equal(file_write_atomic(target, "keep", 4, 0644, 0), 0);
		unlink(f);
		assert_int_equal(symlink(target, f), 0);
		assert_int_equal(file_write_atomic(f, "new", 3, 0644, 0), 0);
		assert_int_equal(file_read(&data, NULL, target, 100), 0);
		assert_string_equal(data, "keep");
		free(data);
		free(target);
	}
	{
		char *cmd = xasprintf("ls -A %s", d);
		FILE *p = popen(cmd, "r");
		char line[256];
		int n = 0;

		while (fgets(line, sizeof(line), p))
			n++;
		pclose(p);
		assert_int_equal(n, 2); /* f and target: no temporary left */
		free(cmd);
	}
	rm_tree(d);
	free(a);
	free(b);
	free(f);
	free(d);
}

/* rm_tree removes the tree and never what a symlink in it points to. */
static void test_rm_tree_no_follow(void **state)
{
	char *d = scratch(), *outside = scratch(), *p;

	(void)state;
	p = xasprintf("%s/keep", outside);
	assert_int_equal(file_write_atomic(p, "x", 1, 0644, 0), 0);
	free(p);
	p = xasprintf("%s/t/sub", d);
	assert_int_equal(mkdir_p(p), 0);
	free(p);
	p = xasprintf("%s/t/sub/link", d);
	assert_int_equal(symlink(outside, p), 0);
	free(p);
	p = xasprintf("%s/t", d);
	assert_int_equal(rm_tree(p), 0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(rm_tree(p), 0); /* gone already: fine */
	free(p);
	p = xasprintf("%s/keep", outside);
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	rm_tree(outside);
	rm_tree(d);
	free(outside);
	free(d);
}

struct lines {
	char text[4096];
	int n;
};

static void on_line(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;
	size_t used = strlen(l->text);

	snprintf(l->text + used, sizeof(l->text) - used, "[%.*s]", (int)len, line);
	l->n++;
}

static void test_proc_lines_and_status(void **state)
{
	const char *argv[] = {"sh", "-c", "echo one; echo two >&2; printf three; exit 3", NULL};
	struct lines l = {{0}, 0};
	struct proc p;

	(void)state;
	proc_init(&p);
	p.argv = argv;
	p.on_line = on_line;
	p.arg = &l;
	assert_int_equal(proc_run(&p), 3);
	assert_string_equal(l.text, "[one][two][three]");
	assert_int_equal(p.pid, 0);
	/* long lines come in pieces of line_max */
	{
		const char *argv2[] = {"sh", "-c", "echo abcdefghij", NULL};

		memset(&l, 0, sizeof(l));
		proc_init(&p);
		p.argv = argv2;
		p.on_line = on_line;
		p.arg = &l;
		p.line_max = 4;
		assert_int_equal(proc_run(&p), 0);
		assert_string_equal(l.text, "[abcd][efgh][ij]");
	}
	/* env edits, cwd and input */
	{
		const char *argv3[] = {"sh", "-c", "echo \"$XENCI_A-${HOME:-none}\"; pwd; cat",
				       NULL};
		const char *env[] = {"XENCI_A=set", "HOME", NULL};

		memset(&l, 0, sizeof(l));
		proc_init(&p);
		p.argv = argv3;
		p.env = env;
		p.cwd = "/";
		p.in = "in1\nin2\n";
		p.in_len = 8;
		p.on_line = on_line;
		p.arg = &l;
		assert_int_equal(proc_run(&p), 0);
		assert_string_equal(l.text, "[set-none][/][in1][in2]");
	}
	/* killed by a signal */
	{
		const char *argv4[] = {"sh", "-c", "kill -9 $$", NULL};

		proc_init(&p);
		p.argv = argv4;
		assert_int_equal(proc_run(&p), 128 + SIGKILL);
	}
	/* a program that does not exist is an error, not an exit status */
	{
		const char *argv5[] = {"xenci-no-such-program", NULL};

		proc_init(&p);
		p.argv = argv5;
		assert_int_equal(proc_run(&p), -ENOENT);
	}
}

static int gone(pid_t pid)
{
	char path[64], st[512];
	FILE *f;
	int z = 1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	/* a killed child of a reaper that has not reaped it yet is a zombie */
	if (fgets(st, sizeof(st), f)) {
		char *rp = strrchr(st, ')');

		z = rp && (rp[2] == 'Z' || rp[2] == 'X');
	}
	fclose(f);
	return z;
}

static pid_t read_pid(const char *path)
{
	char *data = NULL;
	pid_t pid = 0;

	for (int i = 0; i < 200 && file_read(&data, NULL, path, 64) < 0; i++)
		usleep(10 * 1000);
	if (data)
		pid = (pid_t)atoi(data);
	free(data);
	return pid;
}

/* The timeout kills the whole process group, not only the child. */
static void test_proc_timeout_kills_group(void **state)
{
	char *d = scratch(), *pidf = xasprintf("%s/pid", d);
	char *script = xasprintf("sleep 1000 & echo $! > %s; echo started; sleep 1000", pidf);
	const char *argv[] = {"sh", "-c", script, NULL};
	struct lines l = {{0}, 0};
	struct proc p;
	long long t0 = clock_mono_ms();
	pid_t bg;
	int i;

	(void)state;
	proc_init(&p);
	p.argv = argv;
	p.timeout_ms = 300;
	p.on_line = on_line;
	p.arg = &l;
	assert_int_equal(proc_run(&p), -ETIMEDOUT);
	assert_true(clock_mono_ms() - t0 >= 300);
	assert_string_equal(l.text, "[started]");
	bg = read_pid(pidf);
	assert_true(bg > 1);
	for (i = 0; i < 500 && !gone(bg); i++)
		usleep(10 * 1000);
	assert_true(gone(bg));
	rm_tree(d);
	free(script);
	free(pidf);
	free(d);
}

static int cancel_after(void *arg)
{
	int *calls = arg;

	return ++*calls >= 2;
}

static void test_proc_cancel_and_long_lived(void **state)
{
	const char *argv[] = {"sleep", "1000", NULL};
	char *d = scratch(), *out = xasprintf("%s/out", d), *data = NULL;
	struct proc p;
	int calls = 0;

	(void)state;
	proc_init(&p);
	p.argv = argv;
	p.cancel = cancel_after;
	p.arg = &calls;
	assert_int_equal(proc_run(&p), -ECANCELED);
	assert_int_equal(p.pid, 0);
	/* a long-lived child: started, alive, waited for, killed */
	{
		const char *argv2[] = {"sh", "-c", "echo to-file; exec sleep 1000", NULL};

		proc_init(&p);
		p.argv = argv2;
		p.out_path = out;
		assert_int_equal(proc_start(&p), 0);
		assert_true(p.pid > 0);
		assert_int_equal(proc_alive(&p), 1);
		assert_int_equal(proc_wait(&p, 50), -ETIMEDOUT);
		assert_int_equal(proc_kill(&p), 128 + SIGKILL);
		assert_int_equal(proc_alive(&p), 0);
		assert_int_equal(file_read(&data, NULL, out, 100), 0);
		assert_string_equal(data, "to-file\n");
		free(data);
	}
	{
		const char *argv3[] = {"true", NULL};

		proc_init(&p);
		p.argv = argv3;
		assert_int_equal(proc_start(&p), 0);
		assert_int_equal(proc_wait(&p, 10000), 0);
	}
	rm_tree(d);
	free(out);
	free(d);
}

/* Resource limits: a memory hog fails to allocate, a file past its bound
 * stops the writer. */
static void test_proc_limits(void **state)
{
	char *d = scratch(), *f = xasprintf("%s/big", d);
	char *script = xasprintf("head -c 4000000 /dev/zero > %s", f);
	const char *hog[] = {"python3", "-c", "x = bytearray(512 << 20)", NULL};
	const char *fill[] = {"sh", "-c", script, NULL};
	struct stat st;
	struct proc p;

	(void)state;
	proc_init(&p);
	p.argv = hog;
	assert_int_equal(proc_run(&p), 0); /* without a limit it can */
	proc_init(&p);
	p.argv = hog;
	p.limit_as = 256LL << 20;
	assert_int_not_equal(proc_run(&p), 0); /* MemoryError */
	proc_init(&p);
	p.argv = fill;
	p.limit_fsize = 1 << 20;
	assert_int_not_equal(proc_run(&p), 0);
	assert_int_equal(stat(f, &st), 0);
	assert_true(st.st_size <= 1 << 20);
	rm_tree(d);
	free(script);
	free(f);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_mkdir_p_and_resolve),
	    cmocka_unit_test(test_file_read_bounded),
	    cmocka_unit_test(test_file_write_atomic_old_or_new),
	    cmocka_unit_test(test_rm_tree_no_follow),
	    cmocka_unit_test(test_proc_lines_and_status),
	    cmocka_unit_test(test_proc_timeout_kills_group),
	    cmocka_unit_test(test_proc_cancel_and_long_lived),
	    cmocka_unit_test(test_proc_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
