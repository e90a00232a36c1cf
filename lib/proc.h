/* One way to run a child process, in the manner of git's run-command.h.
 *
 *	struct proc p;
 *	const char *argv[] = {"make", "-C", dir, NULL};
 *
 *	proc_init(&p);
 *	p.argv = argv;
 *	p.timeout_ms = 60000;
 *	p.on_line = each_line;		// stdout and stderr, one line at a time
 *	p.arg = ctx;
 *	rc = proc_run(&p);		// 0..255 exit status, 128+N killed by signal N,
 *					// or -ETIMEDOUT, -ECANCELED, -errno
 *
 * The child runs in its own process group (it is the group's leader), so the
 * timeout and a cancel kill everything it started that stayed in the group.
 * argv[0] is looked up in PATH; that it cannot be run is -errno from
 * proc_start (-ENOENT, -EACCES), not an exit status. stdin is /dev/null
 * unless `in` is given. Nothing here logs; proc_run never leaves a zombie.
 *
 * A long-lived child (an emulated board) is started with proc_start and its
 * output sent to a file (out_path); proc_alive, proc_wait and proc_kill then
 * manage it. */
#ifndef XENCI_PROC_H
#define XENCI_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct proc {
	/* What to run: set by the caller after proc_init. argv, env, cwd and
	 * out_path are borrowed until proc_start returns; in, on_line, cancel
	 * and arg until proc_finish returns. */
	const char *const *argv; /* NULL-terminated, argv[0] looked up in PATH */
	const char *const *env;	 /* "NAME=value" set, "NAME" unset; NULL: as ours */
	const char *cwd;	 /* NULL: ours */
	int timeout_ms;		 /* 0: none; else the group is SIGKILLed after it */
	int die_with_parent;	 /* SIGKILL when the thread that started it ends */
	const void *in;		 /* written to its stdin, then closed; NULL: /dev/null */
	size_t in_len;
	const char *out_path; /* stdout and stderr into this file (truncated) */
	/* Resource limits of the child (setrlimit, soft and hard), 0: ours.
	 * limit_nproc counts every process of the child's real uid and does not
	 * hold for root. */
	long long limit_as;    /* bytes of address space, per process */
	long long limit_fsize; /* bytes, per file written */
	long long limit_nproc; /* processes of its uid */
	/* Each line of stdout and stderr, without its newline; a line longer
	 * than line_max comes in pieces. NULL (and no out_path): discarded. */
	void (*on_line)(void *arg, const char *line, size_t len);
	size_t line_max; /* 0: 4096 */
	/* Asked at least every 250 ms while the child runs; nonzero kills the
	 * group and proc_finish returns -ECANCELED. */
	int (*cancel)(void *arg);
	void *arg;

	/* Set by proc_start and proc_finish. */
	pid_t pid;  /* the child, also its process group; 0 once reaped */
	int status; /* the raw wait status once reaped */
	int out_fd; /* the read end of its output, -1 when none (private) */
	int in_fd;  /* the write end of its input, -1 when none (private) */
};

/* Zeroes p (no timeout, no output, inherits env and cwd). */
void proc_init(struct proc *p);

/* Starts the child. 0, or -errno when it cannot be started (nothing runs
 * then). */
int proc_start(struct proc *p);

/* Delivers the output (and writes the input) until the child's output ends,
 * then reaps it. Returns its exit status (0..255), 128+N when signal N killed
 * it, -ETIMEDOUT after timeout_ms (counted from proc_finish), -ECANCELED when
 * cancel asked for it; the group is SIGKILLed in the last two cases. */
int proc_finish(struct proc *p);

/* proc_start then proc_finish. */
int proc_run(struct proc *p);

/* 1 while the child runs; 0 once it has ended (reaping it: p->status). */
int proc_alive(struct proc *p);

/* Waits up to timeout_ms for the child to end. Returns its result as
 * proc_finish does, or -ETIMEDOUT when it still runs (it is left running). */
int proc_wait(struct proc *p, int timeout_ms);

/* SIGKILLs the child's process group and reaps the child. Returns its
 * result as proc_finish does (0 when there was no child). */
int proc_kill(struct proc *p);

#endif
