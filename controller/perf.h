/* How the lab and the hypervisor perform (docs/flights.md, "How it's performing"):
 * the stage times of a board's recent passing attempts of a job, per branch, and
 * whether an attempt's stage took longer than the board's measured spread allows
 * (`slower`), with the revision where the change started.
 *
 * An attempt's stage is slower when its time exceeds the median of the same stage
 * in the newest PERF_WINDOW passing attempts of the same job on the same board and
 * branch before it by more than the spread: 3 x 1.4826 x their median absolute
 * deviation (about three standard deviations of a normal noise), and at least
 * PERF_MIN_PERCENT % of the median and PERF_MIN_SECONDS. Fewer than PERF_MIN_POINTS
 * earlier attempts: not judged.
 *
 * ctl.lock held for the functions that read the store. json_t * returned: new
 * references, NULL when there is nothing to say. */
#ifndef XENCI_PERF_H
#define XENCI_PERF_H

#include <jansson.h>
#include <stddef.h>

#define PERF_WINDOW	 20
#define PERF_MIN_POINTS	 4
#define PERF_MIN_PERCENT 5.0
#define PERF_MIN_SECONDS 0.05
/* The board trend's points per board (over all its jobs and branches). */
#define PERF_BOARD_POINTS 400

/* The median and spread of n earlier times (n >= PERF_MIN_POINTS: 0, else -1, and
 * nothing is judged); *slower is 1 when x exceeds median + spread. base is
 * reordered. */
int perf_judge(double *base, size_t n, double x, double *median, double *spread, int *slower);

/* attempt's slower stage (the one furthest past its spread), or NULL when it is not
 * slower, not a passing test attempt or has too little history: {stage, seconds,
 * median, spread, percent, since: {attempt, flight, commit}} where since is the
 * oldest attempt of the run of slower ones that ends at attempt (attempt itself
 * when the one before was not slower): the revision where the change started. */
json_t *perf_attempt_slower(long long attempt);

/* Judges attempt (a test attempt that passed) with perf_attempt_slower and stores
 * the verdict with it (attempts.slower, migration 130), once: attempt_finish does,
 * in the transaction that stores its result, so that the pages and the twins read
 * it (the read pool) rather than judge it per request. 0 or -EIO; the writer,
 * ctl.lock held. A verdict is what the history before it said when it passed; an
 * older attempt that passes later does not change it. */
int perf_attempt_store(long long attempt);
/* Judges and stores at most limit passing test attempts from before migration 130,
 * newest first, in one transaction (the timer, a batch a tick): how many, or
 * -EIO. */
#define PERF_BACKFILL_BATCH 8
int perf_backfill(int limit);

/* The trends of board: [{job, branch, stages: [names], points: [{attempt, flight,
 * commit, stages: {name: seconds}, slower: [names]}]}], points oldest first, the
 * group with the newest attempt first. [] when nothing passed on it. */
json_t *perf_board_trends(const char *board);

#endif
