/* The spool: each attempt's log bytes and result on disk under WORK/spool/ID/
 * until the controller has acknowledged them, so that a controller restart, a
 * network cut or an agent restart loses nothing and resumes at the stored
 * offset.
 *
 *   attempt.json  the attempt as claimed (written once)
 *   log           the log bytes, append-only
 *   sent          an offset the controller acknowledged (text, replaced atomically):
 *                 saved every SPOOL_SENT_SAVE_EVERY bytes and at spool_close, not at
 *                 every acknowledgement (it was a synced write per log request: 20 a
 *                 second per streaming console); what an older offset sends again
 *                 the controller skips
 *   result.json   the result, once the attempt ended
 *
 * One writer (the runner) appends; one reader (the sender) reads with pread.
 * struct spool_attempt is not locked: the caller orders the two. */
#ifndef XENCI_AGENT_SPOOL_H
#define XENCI_AGENT_SPOOL_H

#include <jansson.h>
#include <stddef.h>

#define SPOOL_SENT_SAVE_EVERY (256 * 1024)

struct spool_attempt {
	long long id;
	char *dir;
	int log_fd;
	long long written;    /* bytes in log */
	long long sent;	      /* bytes the controller has */
	long long sent_saved; /* the offset in the sent file */
	long long max;	      /* log bound: appends past it are refused */
	int removed;	      /* spool_remove ran: nothing more is written */
};

/* Makes SPOOL/ID for a new attempt (or reopens it) and stores attempt.json. */
int spool_open(struct spool_attempt **out, const char *spool_dir, long long id,
	       const json_t *attempt, long long max);
/* Reopens a spooled attempt left by an earlier run. */
int spool_reopen(struct spool_attempt **out, const char *dir, long long max);
/* Saves sa->sent when the sent file is behind (unless removed), and frees sa. */
void spool_close(struct spool_attempt *sa);

/* Appends log bytes; -ENOSPC past max (nothing written), -errno on I/O errors. */
int spool_append(struct spool_attempt *sa, const void *p, size_t n);
/* Reads up to max bytes at off; returns the count, or -errno. */
long long spool_read(struct spool_attempt *sa, long long off, void *p, size_t max);
/* The controller has the first sent bytes: sa->sent, saved to the sent file when
 * SPOOL_SENT_SAVE_EVERY bytes came since it was, or when sent went back (the
 * controller has less). 0, or -errno when it could not be saved. */
int spool_set_sent(struct spool_attempt *sa, long long sent);
int spool_set_result(struct spool_attempt *sa, const json_t *result);
/* The stored result (new reference) or NULL. */
json_t *spool_get_result(const struct spool_attempt *sa);
json_t *spool_get_attempt(const struct spool_attempt *sa);
/* Deletes the attempt's folder: the controller has everything. */
void spool_remove(struct spool_attempt *sa);

/* Bytes used by every spooled attempt. */
long long spool_usage(const char *spool_dir);

#endif
