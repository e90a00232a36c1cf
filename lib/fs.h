/* File helpers both daemons use. Errors are negative errno codes; nothing
 * here logs. */
#ifndef XENCI_FS_H
#define XENCI_FS_H

#include <stddef.h>
#include <sys/types.h>

/* p resolved against base: p itself when absolute or when base is NULL or
 * empty, else "base/p". The caller frees the result. */
char *path_resolve(const char *base, const char *p);

/* Creates path and its missing parents (mode 0755). 0, also when it exists as
 * a folder; -errno otherwise (-ENOTDIR when a component is a file). */
int mkdir_p(const char *path);

/* Reads the whole file into a new NUL-terminated buffer (*out, the caller
 * frees; *len gets its length when len is not NULL). Returns 0; -EFBIG when
 * the file holds more than max bytes (nothing is returned then); -errno when
 * it cannot be read. */
int file_read(char **out, size_t *len, const char *path, size_t max);

/* Writes all len bytes of data to fd (again after EINTR or a short write).
 * 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);

/* FILE_SYNC: fsync the data before the rename (it survives a power cut). */
#define FILE_SYNC 1

/* Writes data to path through a temporary file in the same folder and a
 * rename: a reader sees the old content or the new, never a part. path itself
 * is replaced, not written through (a symlink at path is replaced by the
 * file). mode is applied as given (umask ignored). Returns 0 or -errno; on
 * failure path is untouched and no temporary file is left. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags);

/* Removes path and everything below it, never following a symlink. 0 when
 * path is gone (or was not there), else -errno of the first failure. */
int rm_tree(const char *path);

#endif
