/* Job files (docs/jobs.md): validated with one table, loaded into the jobs table
 * at start-up so that attempts carry the definition they were made with. */
#ifndef XENCI_JOBS_H
#define XENCI_JOBS_H

#include <jansson.h>

#include "buf.h"
#include "job-schema.h"

/* Validates every the .yaml files of dir; with store set, upserts them into the jobs table
 * (ctl.lock held). Returns the number of jobs, or -1 with file:line:col messages
 * in err (then nothing is stored). */
int jobs_load_dir(const char *dir, int store, struct buf *err);

#endif
