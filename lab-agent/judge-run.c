#include "judge-run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fs.h"
#include "judge.h"
#include "proc.h"
#include "xmalloc.h"
#include "yaml-load.h"

#define LINE_MAX_BYTES 4096
#define LOG_MAX_BYTES  (16LL * 1024 * 1024)
#define RECORDED_MAX   (16 * 1024 * 1024 + 65536)

/* The judge's own log goes nowhere: the verdict is what is printed. */
static void no_log(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
}

/* No more console: the clock runs on to each next deadline until a verdict (a
 * stage or the attempt timing out, as the agent would see a silent board). */
static void run_out(struct judge *j, long long now)
{
	int guard = 0;

	while (j->verdict == VERDICT_NONE && guard++ < 10000) {
		now += judge_next_deadline_ms(j, now) + 1;
		judge_tick(j, now);
	}
	if (j->verdict == VERDICT_NONE)
		judge_end(j, now, VERDICT_INFRA, "the console ended without a verdict");
}

/* A log as the controller keeps it (docs/api.md: "TTTTT.mmm K TEXT" lines): the
 * console lines (`|`) fed at their recorded times, power-on at the first "#
 * power on" note (or the first console line). */
static int replay(struct judge *j, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	long long t = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		char *num_end;
		double secs = strtod(p, &num_end);

		if (num_end != p && num_end + 3 <= e && num_end[0] == ' ' && num_end[2] == ' ') {
			char kind = num_end[1];
			const char *body = num_end + 3;

			t = (long long)(secs * 1000.0 + 0.5);
			if (kind == '#' && !j->started && !strncmp(body, "power on", 8))
				judge_start(j, t);
			if (kind == '|') {
				if (!j->started)
					judge_start(j, t);
				judge_tick(j, t);
				if (j->verdict != VERDICT_NONE)
					break;
				judge_feed(j, body, (size_t)(e - body), t);
				judge_feed(j, "\n", 1, t);
			}
		}
		if (j->verdict != VERDICT_NONE)
			break;
		p = nl ? nl + 1 : end;
	}
	if (!j->started)
		judge_start(j, t);
	run_out(j, t);
	return 0;
}

struct live {
	struct judge *j;
	long long t0;
	long long tail_end; /* a fail's JUDGE_FAIL_TAIL_MS ends (0: no fail yet) */
};

/* SIGINT, SIGTERM, SIGHUP while a command is judged: it is killed (its process
 * group: a QEMU is not left running) and the verdict is infra. */
static volatile sig_atomic_t live_signal;

static void on_live_signal(int sig)
{
	live_signal = sig;
}

static void live_line(void *arg, const char *line, size_t len)
{
	struct live *l = arg;
	long long now = clock_mono_ms() - l->t0;

	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	if (l->j->verdict == VERDICT_NONE) {
		judge_feed(l->j, line, len, now);
		judge_feed(l->j, "\n", 1, now);
	}
}

/* Done at a verdict, as the agent is; after a fail the console is shown for
 * JUDGE_FAIL_TAIL_MS more, as the agent keeps it (the panic's message comes
 * after the line that matched). */
static int live_done(void *arg)
{
	struct live *l = arg;
	long long now = clock_mono_ms();

	judge_tick(l->j, now - l->t0);
	if (live_signal)
		return 1;
	if (l->j->verdict != VERDICT_FAIL)
		return l->j->verdict != VERDICT_NONE;
	if (!l->tail_end)
		l->tail_end = now + JUDGE_FAIL_TAIL_MS;
	return now >= l->tail_end;
}

int judge_run_main(char *const *args, int nargs)
{
	struct yaml_doc doc;
	struct judge j;
	char err[512];
	int rc = 2;

	memset(&doc, 0, sizeof(doc));
	memset(&j, 0, sizeof(j));
	if (nargs < 2) {
		fprintf(stderr, "usage: xenci-agent --judge JOB LOG | JOB -- COMMAND...\n");
		return 2;
	}
	if (yaml_doc_load_file(&doc, args[0], err, sizeof(err)) < 0) {
		fprintf(stderr, "xenci-agent: %s\n", err);
		return 2;
	}
	if (judge_init(&j, doc.root, LINE_MAX_BYTES, LOG_MAX_BYTES, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenci-agent: %s: %s\n", args[0], err);
		goto out;
	}
	j.log = no_log;
	if (!strcmp(args[1], "--")) {
		struct live l = {.j = &j, .t0 = clock_mono_ms()};
		struct sigaction sa;
		struct proc p;
		int st;

		if (nargs < 3) {
			fprintf(stderr, "xenci-agent --judge: no command after --\n");
			goto out;
		}
		proc_init(&p);
		p.argv = (const char *const *)args + 2;
		p.on_line = live_line;
		p.cancel = live_done;
		p.arg = &l;
		p.line_max = LINE_MAX_BYTES;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_live_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		judge_start(&j, 0);
		st = proc_run(&p);
		if (st < 0 && st != -ECANCELED) {
			fprintf(stderr, "xenci-agent --judge: %s: %s\n", args[2], strerror(-st));
			goto out;
		}
		if (live_signal && j.verdict == VERDICT_NONE) {
			char why[64];

			snprintf(why, sizeof(why), "stopped by signal %d", (int)live_signal);
			judge_end(&j, clock_mono_ms() - l.t0, VERDICT_INFRA, why);
		}
		run_out(&j, clock_mono_ms() - l.t0);
	} else {
		char *text = NULL;
		size_t len = 0;
		int e = file_read(&text, &len, args[1], RECORDED_MAX);

		if (e < 0) {
			fprintf(stderr, "xenci-agent --judge: %s: %s\n", args[1], strerror(-e));
			goto out;
		}
		replay(&j, text, len);
		free(text);
	}
	printf("verdict: %s: %s\n", verdict_name(j.verdict), j.reason);
	rc = j.verdict == VERDICT_PASS ? 0 : 1;
out:
	judge_release(&j);
	yaml_doc_release(&doc);
	return rc;
}
