#include "spool.h"

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
#include "json-util.h"
#include "xmalloc.h"

/* dir/name, whole or not at all, and on disk before the rename when flags has
 * FILE_SYNC (the spool outlives a power cut). */
static int write_file_atomic(const char *dir, const char *name, const char *data, size_t len,
			     int flags)
{
	char *dst = xasprintf("%s/%s", dir, name);
	int rc = file_write_atomic(dst, data, len, 0644, flags);

	free(dst);
	return rc;
}

static json_t *read_json(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	json_t *v = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);

	free(p);
	return v;
}

int spool_reopen(struct spool_attempt **out, const char *dir, long long max)
{
	struct spool_attempt *sa = xcalloc(1, sizeof(*sa));
	char *logp = xasprintf("%s/log", dir), *sentp = xasprintf("%s/sent", dir);
	const char *base = strrchr(dir, '/');
	struct stat st;
	FILE *f;
	int rc = 0;

	sa->dir = xstrdup(dir);
	sa->max = max;
	sa->id = strtoll(base ? base + 1 : dir, NULL, 10);
	sa->log_fd = open(logp, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (sa->log_fd < 0 || fstat(sa->log_fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	sa->written = st.st_size;
	f = fopen(sentp, "r");
	if (f) {
		if (fscanf(f, "%lld", &sa->sent) != 1 || sa->sent < 0)
			sa->sent = 0;
		fclose(f);
	}
	if (sa->sent > sa->written)
		sa->sent = sa->written;
	sa->sent_saved = sa->sent;
out:
	free(logp);
	free(sentp);
	if (rc < 0) {
		spool_close(sa);
		return rc;
	}
	*out = sa;
	return 0;
}

int spool_open(struct spool_attempt **out, const char *spool_dir, long long id,
	       const json_t *attempt, long long max)
{
	char *dir = xasprintf("%s/%lld", spool_dir, id), *text;
	int rc;

	rc = mkdir_p(dir);
	if (rc == 0 && attempt) {
		text = json_dumps(attempt, JSON_COMPACT);
		rc = write_file_atomic(dir, "attempt.json", text, strlen(text), FILE_SYNC);
		free(text);
	}
	if (rc == 0)
		rc = spool_reopen(out, dir, max);
	free(dir);
	return rc;
}

/* The acknowledged offset into `sent`. Not synced: after a power cut an older
 * offset (or none) makes the sender send again what the controller has, which
 * it skips (docs/api.md). */
static int save_sent(struct spool_attempt *sa)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", sa->sent), rc;

	rc = write_file_atomic(sa->dir, "sent", text, (size_t)n, 0);
	if (rc == 0)
		sa->sent_saved = sa->sent;
	return rc;
}

void spool_close(struct spool_attempt *sa)
{
	if (sa == NULL)
		return;
	if (!sa->removed && sa->sent != sa->sent_saved)
		save_sent(sa);
	if (sa->log_fd >= 0)
		close(sa->log_fd);
	free(sa->dir);
	free(sa);
}

int spool_append(struct spool_attempt *sa, const void *p, size_t n)
{
	const char *s = p;

	if (sa->max && sa->written + (long long)n > sa->max)
		return -ENOSPC;
	while (n) {
		ssize_t w = write(sa->log_fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
		sa->written += w;
	}
	return 0;
}

long long spool_read(struct spool_attempt *sa, long long off, void *p, size_t max)
{
	ssize_t n;

	do
		n = pread(sa->log_fd, p, max, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int spool_set_sent(struct spool_attempt *sa, long long sent)
{
	int back = sent < sa->sent_saved;

	sa->sent = sent;
	if (back || sent - sa->sent_saved >= SPOOL_SENT_SAVE_EVERY)
		return save_sent(sa);
	return 0;
}

int spool_set_result(struct spool_attempt *sa, const json_t *result)
{
	char *text = json_dumps(result, JSON_COMPACT);
	int rc = write_file_atomic(sa->dir, "result.json", text, strlen(text), FILE_SYNC);

	free(text);
	return rc;
}

json_t *spool_get_result(const struct spool_attempt *sa)
{
	return read_json(sa->dir, "result.json");
}

json_t *spool_get_attempt(const struct spool_attempt *sa)
{
	return read_json(sa->dir, "attempt.json");
}

void spool_remove(struct spool_attempt *sa)
{
	static const char *const files[] = {
	    "log", "sent", "result.json", "attempt.json", ".sent.tmp", ".result.json.tmp", NULL};
	size_t i;

	for (i = 0; files[i]; i++) {
		char *p = xasprintf("%s/%s", sa->dir, files[i]);

		unlink(p);
		free(p);
	}
	rmdir(sa->dir);
	sa->removed = 1;
}

long long spool_usage(const char *spool_dir)
{
	DIR *d = opendir(spool_dir);
	struct dirent *e;
	long long total = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s/log", spool_dir, e->d_name);
		if (stat(p, &st) == 0)
			total += st.st_size;
		free(p);
	}
	closedir(d);
	return total;
}
