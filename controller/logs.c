/* The console-log store (logs.h). */
#include "logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

int logs_path(char *out, size_t n, long long id)
{
	int len = snprintf(out, n, "%s/%lld.log", ctl.logs_dir, id);

	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	return access(out, R_OK) < 0 ? -ENOENT : 0;
}

int logs_open(long long id)
{
	char path[4096];
	int fd;

	if (logs_path(path, sizeof(path), id) < 0)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

long long logs_length(long long id)
{
	struct stat sb;
	int fd = logs_open(id);
	long long len = 0;

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) == 0)
		len = sb.st_size;
	close(fd);
	return len;
}

const char *logs_map(long long id, size_t *len)
{
	struct stat sb;
	void *map;
	int fd = logs_open(id);

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0) {
		close(fd);
		return NULL;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	*len = (size_t)sb.st_size;
	return map;
}

void logs_unmap(const char *map, size_t len)
{
	if (map)
		munmap((void *)map, len);
}

/* 0 when the n bytes of data equal those stored at offset, 1 when they differ,
 * -errno. Reads in small pieces: n is at most a chunk (LOG_CHUNK_MAX). */
static int log_differs(int fd, long long offset, const char *data, long long n)
{
	char stored[16384];
	long long done = 0;

	while (done < n) {
		size_t want =
		    n - done < (long long)sizeof(stored) ? (size_t)(n - done) : sizeof(stored);
		ssize_t got = pread(fd, stored, want, offset + done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0 || memcmp(stored, data + done, (size_t)got))
			return 1;
		done += got;
	}
	return 0;
}

int logs_append_begin(struct logs_append *a, long long id, long long offset, const void *data,
		      size_t len)
{
	char path[4096];
	struct stat sb;
	long long overlap;
	int rc;

	*a = (struct logs_append){.fd = -1};
	if (logs_path(path, sizeof(path), id) == -ENAMETOOLONG)
		return -ENAMETOOLONG;
	a->id = id;
	a->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (a->fd < 0 || fstat(a->fd, &sb) < 0) {
		int err = errno;

		ctl_store_failed(err, path); /* no inode left */
		return -err;
	}
	a->length = sb.st_size;
	if (offset > a->length)
		return -ERANGE;
	a->skip = a->length - offset;
	a->add = (long long)len > a->skip ? (long long)len - a->skip : 0;
	/* A resent chunk is idempotent only when it is the same bytes. */
	overlap = (long long)len < a->skip ? (long long)len : a->skip;
	rc = log_differs(a->fd, offset, data, overlap);
	if (rc < 0)
		return rc;
	return rc ? -EEXIST : 0;
}

int logs_append_commit(struct logs_append *a, const void *data, long long max)
{
	const char *p = (const char *)data + a->skip;
	char path[4096];
	long long done = 0;
	ssize_t n;
	int err, undone;

	if (a->length + a->add > max)
		return -EFBIG;
	while (done < a->add) {
		n = pwrite(a->fd, p + done, (size_t)(a->add - done), a->length + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += n; /* a short write: the next one says why it stopped */
	}
	a->length += a->add;
	return 0;
fail:
	err = n < 0 ? errno : EIO;
	/* Undone, so a retry at the same offset finds the store as it was; a failed
	 * undo has nothing further to try. */
	undone = ftruncate(a->fd, a->length);
	(void)undone;
	logs_path(path, sizeof(path), a->id);
	ctl_store_failed(err, path);
	return -err;
}

void logs_append_release(struct logs_append *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
