/* The console-log store: one file per attempt, DATA/logs/<attempt>.log, written
 * only by appends at the stored length and read whole, from an offset or mapped.
 * Every reader and writer of those files goes through here (ctl.lock held, like
 * every handler). */
#ifndef XENCI_LOGS_H
#define XENCI_LOGS_H

#include <stddef.h>

#define LOG_MAX (16LL * 1024 * 1024) /* the most one attempt's log may hold */

/* One append in progress (logs_append_begin .. logs_append_release). */
struct logs_append {
	long long id;
	int fd;
	long long length; /* bytes stored before the append */
	long long skip;	  /* leading bytes of the data already stored (a replay) */
	long long add;	  /* bytes of the data new to the store; 0: a pure replay */
};

/* Writes the path of attempt id's log into out (n bytes). Returns 0 when a log is
 * stored, -ENOENT when none is yet (out is the path either way). */
int logs_path(char *out, size_t n, long long id);
/* The bytes stored for attempt id; 0 when none. */
long long logs_length(long long id);
/* A read-only descriptor of attempt id's log (the caller closes it), or -errno
 * (-ENOENT when none is stored). */
int logs_open(long long id);
/* Maps attempt id's log read-only; NULL with *len 0 when none is stored or it is
 * empty. Release with logs_unmap(). */
const char *logs_map(long long id, size_t *len);
/* Releases a logs_map() result; accepts NULL. */
void logs_unmap(const char *map, size_t len);

/* Opens attempt id's log (creating it) for the len bytes of data that start at
 * offset (data is borrowed). Fills a: length, and skip/add: what of the bytes is
 * stored already and what is new. Returns 0; -ERANGE when offset is past the
 * stored length (a gap: a->length says where the store ends); -EEXIST when the
 * bytes that overlap the stored ones differ from them (nothing may be stored: a
 * replay is idempotent only with the same bytes); another -errno when the file
 * cannot be opened or read. Release a in every case. */
int logs_append_begin(struct logs_append *a, long long id, long long offset, const void *data,
		      size_t len);
/* Stores the new bytes of data (the same data as began: its a->skip first bytes
 * are skipped) at a->length, and adds them to a->length. A short write is undone
 * (the file is truncated back), so the store never holds a partial chunk.
 * Returns 0; -EFBIG, writing nothing, when the log would grow past max; -errno of
 * the write (-ENOSPC, -EDQUOT: noted with ctl_store_failed). */
int logs_append_commit(struct logs_append *a, const void *data, long long max);
/* Closes a; accepts a released or zeroed one. */
void logs_append_release(struct logs_append *a);

#endif
