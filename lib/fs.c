#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

char *path_resolve(const char *base, const char *p)
{
	if (p[0] == '/' || base == NULL || base[0] == '\0')
		return xstrdup(p);
	return xasprintf("%s/%s", base, p);
}

static int mkdir_one(const char *p)
{
	struct stat st;

	if (mkdir(p, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(p, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		rc = mkdir_one(p);
		*s = '/';
		if (rc < 0)
			goto out;
	}
	rc = mkdir_one(p);
out:
	free(p);
	return rc;
}

int file_read(char **out, size_t *len, const char *path, size_t max)
{
	size_t used = 0, cap = 0;
	char *data = NULL;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (cap - used < 65536 + 1) {
			cap = cap ? cap * 2 : 65536 + 1;
			data = xrealloc(data, cap);
		}
		n = read(fd, data + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		free(data);
		return rc;
	}
	data[used] = '\0';
	*out = data;
	if (len)
		*len = used;
	return 0;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, int flags)
{
	const char *slash = strrchr(path, '/');
	char *tmp = slash ? xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1)
			  : xasprintf(".%s.XXXXXX", path);
	int fd, rc = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = fd_write_all(fd, data, len);
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && (flags & FILE_SYNC) && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return errno;
	return 0;
}

int rm_tree(const char *path)
{
	struct stat st;
	int rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	rc = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (rc < 0)
		return -errno;
	return -rc;
}
