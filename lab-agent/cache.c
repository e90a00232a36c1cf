#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"
#include "fs.h"
#include "hash.h"
#include "xmalloc.h"

int cache_init(struct cache *c, const char *dir, long long max_bytes)
{
	memset(c, 0, sizeof(*c));
	c->dir = xstrdup(dir);
	c->max_bytes = max_bytes;
	pthread_mutex_init(&c->mu, NULL);
	return mkdir_p(dir);
}

void cache_release(struct cache *c)
{
	if (c == NULL || c->dir == NULL)
		return;
	free(c->dir);
	c->dir = NULL;
	pthread_mutex_destroy(&c->mu);
}

static int download(struct http_client *h, const char *sha, const char *part, long long size,
		    char *err, size_t errlen)
{
	struct http_reply r;
	char path[128];
	struct stat st;
	long long from = 0;
	FILE *f;
	int rc = -1, again;

	snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
	do {
		again = 0;
		f = fopen(part, "a+b");
		if (f == NULL) {
			snprintf(err, errlen, "cannot write %s: %s", part, strerror(errno));
			return -1;
		}
		from = fstat(fileno(f), &st) == 0 ? st.st_size : 0;
		if (size > 0 && from > size)
			from = 0;
		http_reply_init(&r);
		if (from > 0 && from == size) {
			rc = 0; /* complete already: verify below */
		} else if (http_download(h, path, f, from, &r) < 0) {
			snprintf(err, errlen, "artifact %.12s: %s", sha,
				 r.error[0] ? r.error : "download failed");
		} else if (r.status == 200 && from > 0) {
			/* the server ignored the Range: start again from the first byte */
			fclose(f);
			f = NULL;
			unlink(part);
			again = 1;
		} else {
			rc = 0;
		}
		http_reply_release(&r);
		if (f && fclose(f) != 0 && rc == 0) {
			snprintf(err, errlen, "cannot write %s: %s", part, strerror(errno));
			rc = -1;
		}
	} while (again);
	return rc;
}

int cache_get(struct cache *c, struct http_client *h, const char *sha256, long long size,
	      char **path, char *err, size_t errlen)
{
	char *file, *part;
	char got[SHA256_HEX_LEN + 1];
	long long got_size = 0;
	int rc = -1;

	if (!sha256_is_hex(sha256)) {
		snprintf(err, errlen, "artifact id \"%.80s\" is not a sha256", sha256);
		return -1;
	}
	file = xasprintf("%s/%s", c->dir, sha256);
	part = xasprintf("%s/%s.part", c->dir, sha256);
	pthread_mutex_lock(&c->mu);
	if (access(file, R_OK) == 0) {
		utimensat(AT_FDCWD, file, NULL, 0); /* most recently used */
		rc = 0;
		goto out;
	}
	if (download(h, sha256, part, size, err, errlen) < 0)
		goto out; /* the part stays: the next try resumes it */
	if (sha256_file(got, part, &got_size) < 0 || strcmp(got, sha256)) {
		snprintf(err, errlen, "artifact %.12s: the download has sha256 %.12s (%lld bytes)",
			 sha256, got, got_size);
		unlink(part);
		goto out;
	}
	if (rename(part, file) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", part, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&c->mu);
	if (rc == 0) {
		cache_trim(c);
		*path = file;
	} else {
		free(file);
	}
	free(part);
	return rc;
}

int cache_stage(const char *cached, const char *dst, char *err, size_t errlen)
{
	char buf[65536];
	int in = -1, out = -1, rc = -1;
	ssize_t n;

	unlink(dst);
	if (link(cached, dst) == 0)
		return 0;
	in = open(cached, O_RDONLY | O_CLOEXEC);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || out < 0) {
		snprintf(err, errlen, "cannot stage %s: %s", dst, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
			goto out;
		}
	rc = n < 0 ? -1 : 0;
	if (rc < 0)
		snprintf(err, errlen, "cannot read %s: %s", cached, strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == 0) {
		snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
		rc = -1;
	}
	return rc;
}

struct entry {
	char *path;
	long long size;
	struct timespec mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

void cache_trim(struct cache *c)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0, i;
	long long total = 0;
	struct dirent *d;
	DIR *dir;

	pthread_mutex_lock(&c->mu);
	dir = opendir(c->dir);
	if (dir == NULL)
		goto out;
	while ((d = readdir(dir)) != NULL) {
		struct stat st;
		char *p;

		if (!sha256_is_hex(d->d_name))
			continue; /* partial downloads are not counted nor evicted here */
		p = xasprintf("%s/%s", c->dir, d->d_name);
		if (stat(p, &st) < 0) {
			free(p);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			e = xrealloc(e, cap * sizeof(*e));
		}
		e[n].path = p;
		e[n].size = st.st_size;
		e[n].mtime = st.st_mtim;
		total += st.st_size;
		n++;
	}
	closedir(dir);
	qsort(e, n, sizeof(*e), by_age);
	/* the newest file stays even when it alone is over the bound: it is in use */
	for (i = 0; i + 1 < n && total > c->max_bytes; i++) {
		if (unlink(e[i].path) == 0)
			total -= e[i].size;
	}
	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
out:
	pthread_mutex_unlock(&c->mu);
}
