/* xenci-agent --judge: the console judge (judge.h) outside the agent, with the
 * same rules, for `xenci repro` (docs/boards.md, "Reproducing an attempt").
 *
 *	xenci-agent --judge JOB LOG          a log as the controller keeps it
 *	xenci-agent --judge JOB -- CMD...    CMD's output, live, echoed to stdout
 *
 * JOB is the job's definition (YAML or JSON). The console lines are fed at their
 * recorded times (or as they come); when the console ends without a verdict the
 * clock runs on to the next timeout, as a silent board would. CMD ends at the
 * verdict, and at SIGINT, SIGTERM or SIGHUP (verdict infra): its process group is
 * killed then, so a QEMU never outlives the judge. Prints "verdict:
 * V: REASON"; returns 0 for pass, 1 for any other verdict, 2 for bad usage or an
 * unreadable file. */
#ifndef XENCI_AGENT_JUDGE_RUN_H
#define XENCI_AGENT_JUDGE_RUN_H

/* args: JOB and LOG, or JOB, "--" and the command (NULL-terminated after it). */
int judge_run_main(char *const *args, int nargs);

#endif
