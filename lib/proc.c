#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "xmalloc.h"

extern char **environ;

#define CANCEL_POLL_MS 250

void proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	p->out_fd = -1;
	p->in_fd = -1;
}

static size_t name_len(const char *e)
{
	const char *eq = strchr(e, '=');

	return eq ? (size_t)(eq - e) : strlen(e);
}

/* environ with p->env's edits; the array is new, its strings borrowed. */
static char **env_merge(const char *const *edits)
{
	size_t n = 0, k, i, m = 0;
	char **out;

	while (environ[n])
		n++;
	for (k = 0; edits[k]; k++)
		;
	out = xcalloc(n + k + 1, sizeof(*out));
	for (i = 0; i < n; i++) {
		size_t len = name_len(environ[i]);
		int edited = 0;

		for (k = 0; edits[k] && !edited; k++)
			edited = name_len(edits[k]) == len && !strncmp(edits[k], environ[i], len);
		if (!edited)
			out[m++] = environ[i];
	}
	for (k = 0; edits[k]; k++)
		if (strchr(edits[k], '='))
			out[m++] = (char *)edits[k];
	out[m] = NULL;
	return out;
}

static int limit(int resource, long long value)
{
	struct rlimit rl = {(rlim_t)value, (rlim_t)value};

	return value > 0 ? setrlimit(resource, &rl) : 0;
}

/* In the child: only async-signal-safe calls from here to exec. */
static void child(const struct proc *p, char **envp, int in_rd, int out_wr, int err_wr)
{
	sigset_t none;
	int fd, e;

	setpgid(0, 0);
	if (limit(RLIMIT_AS, p->limit_as) < 0 || limit(RLIMIT_FSIZE, p->limit_fsize) < 0 ||
	    limit(RLIMIT_NPROC, p->limit_nproc) < 0)
		goto fail;
	if (p->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* what the parent blocked or ignored is not the child's business */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fd = in_rd >= 0 ? in_rd : open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (out_wr >= 0) {
		fd = out_wr;
	} else if (p->out_path) {
		fd = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			goto fail;
	} else {
		fd = open("/dev/null", O_WRONLY);
	}
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (p->cwd && chdir(p->cwd) < 0)
		goto fail;
	execvpe(p->argv[0], (char *const *)p->argv, envp ? envp : environ);
fail:
	e = errno;
	if (write(err_wr, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

int proc_start(struct proc *p)
{
	int out[2] = {-1, -1}, in[2] = {-1, -1}, err[2] = {-1, -1};
	char **envp = NULL;
	int rc = 0, e = 0;
	ssize_t n;
	pid_t pid;

	p->pid = 0;
	p->status = 0;
	p->out_fd = p->in_fd = -1;
	if (p->argv == NULL || p->argv[0] == NULL)
		return -EINVAL;
	if (pipe2(err, O_CLOEXEC) < 0 || (p->on_line && pipe2(out, O_CLOEXEC) < 0) ||
	    (p->in && pipe2(in, O_CLOEXEC) < 0)) {
		rc = -errno;
		goto out;
	}
	if (p->env)
		envp = env_merge(p->env);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		child(p, envp, in[0], out[1], err[1]);
	setpgid(pid, pid); /* also here: no race with a kill of the group */
	close(err[1]);
	err[1] = -1;
	do
		n = read(err[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		/* it never ran: reap it and say why */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		rc = -e;
		goto out;
	}
	p->pid = pid;
	p->out_fd = out[0];
	out[0] = -1;
	p->in_fd = in[1];
	in[1] = -1;
	if (p->in_fd >= 0)
		fcntl(p->in_fd, F_SETFL, fcntl(p->in_fd, F_GETFL) | O_NONBLOCK);
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (in[i] >= 0)
			close(in[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	free(envp);
	return rc;
}

static int result_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void close_fds(struct proc *p)
{
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->out_fd = p->in_fd = -1;
}

/* Reaps the child without blocking: 1 when it has ended. */
static int reaped(struct proc *p)
{
	pid_t r;

	if (p->pid <= 0)
		return 1;
	do
		r = waitpid(p->pid, &p->status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	p->pid = 0;
	return 1;
}

int proc_kill(struct proc *p)
{
	close_fds(p);
	if (p->pid <= 0)
		return 0;
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
	return result_of(p->status);
}

int proc_alive(struct proc *p)
{
	return !reaped(p);
}

int proc_wait(struct proc *p, int timeout_ms)
{
	long long end = clock_mono_ms() + timeout_ms;

	while (!reaped(p)) {
		if (clock_mono_ms() >= end)
			return -ETIMEDOUT;
		usleep(5 * 1000);
	}
	return result_of(p->status);
}

/* Splits chunk into lines for on_line; line/used keep a partial line. */
static void deliver(struct proc *p, char *line, size_t max, size_t *used, const char *chunk,
		    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (chunk[i] == '\n' || *used == max) {
			p->on_line(p->arg, line, *used);
			*used = 0;
			if (chunk[i] == '\n')
				continue;
		}
		line[(*used)++] = chunk[i];
	}
}

int proc_finish(struct proc *p)
{
	size_t max = p->line_max ? p->line_max : 4096, used = 0, in_off = 0;
	long long end = p->timeout_ms > 0 ? clock_mono_ms() + p->timeout_ms : 0;
	char *line = p->out_fd >= 0 ? xmalloc(max) : NULL;
	int rc = 0;

	for (;;) {
		struct pollfd pfd[2];
		int nfd = 0, wait_ms = CANCEL_POLL_MS;
		long long now = clock_mono_ms();

		if (p->cancel && p->cancel(p->arg)) {
			rc = -ECANCELED;
			break;
		}
		if (end && now >= end) {
			rc = -ETIMEDOUT;
			break;
		}
		if (end && end - now < wait_ms)
			wait_ms = (int)(end - now);
		if (p->out_fd < 0 && p->in_fd < 0) {
			/* only the exit is left to wait for */
			if (reaped(p))
				break;
			usleep((useconds_t)(wait_ms < 5 ? wait_ms : 5) * 1000);
			continue;
		}
		if (p->out_fd >= 0)
			pfd[nfd++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
		if (p->in_fd >= 0)
			pfd[nfd++] = (struct pollfd){.fd = p->in_fd, .events = POLLOUT};
		if (poll(pfd, (nfds_t)nfd, wait_ms) <= 0)
			continue;
		for (int i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == p->out_fd) {
				char chunk[4096];
				ssize_t n = read(p->out_fd, chunk, sizeof(chunk));

				if (n < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				if (n <= 0) {
					close(p->out_fd);
					p->out_fd = -1;
					continue;
				}
				deliver(p, line, max, &used, chunk, (size_t)n);
			} else {
				const char *in = p->in;
				ssize_t n = (pfd[i].revents & POLLOUT)
						? write(p->in_fd, in + in_off, p->in_len - in_off)
						: -1;

				if (n < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				if (n > 0)
					in_off += (size_t)n;
				/* all written, or the child stopped reading */
				if (n <= 0 || in_off == p->in_len) {
					close(p->in_fd);
					p->in_fd = -1;
				}
			}
		}
	}
	if (used && p->on_line)
		p->on_line(p->arg, line, used);
	free(line);
	if (rc < 0) {
		proc_kill(p);
		return rc;
	}
	close_fds(p);
	return result_of(p->status);
}

int proc_run(struct proc *p)
{
	int rc = proc_start(p);

	return rc < 0 ? rc : proc_finish(p);
}
