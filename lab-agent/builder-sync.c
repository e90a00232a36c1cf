#include "builder-sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "json-util.h"
#include "xmalloc.h"

int builder_path_ok(const char *path)
{
	const char *p = path, *c;
	size_t len = strlen(path);

	if (len == 0 || len > 1024 || path[0] == '/')
		return 0;
	for (c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0')
			return 0; /* a trailing slash */
	}
	return 1;
}

int builder_hex_ok(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* git's blob id: sha1("blob LEN\0" DATA). 1 when data hashes to oid. */
static int blob_matches(const char *oid, const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hdr[48], hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len), ok;

	if (ctx == NULL)
		return 0;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, hdr, (size_t)n + 1) == 1 &&
	     EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return 0;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return strcmp(hex, oid) == 0;
}

static int mkdir_parents(const char *path)
{
	char *d = xstrdup(path), *slash = strrchr(d, '/');
	int rc = 0;

	if (slash) {
		*slash = '\0';
		rc = mkdir_p(d);
	}
	free(d);
	return rc;
}

/* The blob's bytes: from the cache, else from the controller (then cached).
 * Checks the content against the oid either way. */
static int get_blob(struct builder_source *b, const char *oid, struct buf *data, char *err,
		    size_t errlen)
{
	char *cached = xasprintf("%s/%.2s/%s", b->blob_dir, oid, oid + 2), *bytes = NULL;
	struct http_reply r;
	char path[256];
	size_t len = 0;
	int rc = 0;

	if (file_read(&bytes, &len, cached, BUILDER_BLOB_MAX) == 0 &&
	    blob_matches(oid, bytes, len)) {
		buf_append(data, bytes, len);
		goto out;
	}
	buf_reset(data);
	snprintf(path, sizeof(path), "/api/v1/trees/%s/blobs/%s", b->tree, oid);
	http_reply_init(&r);
	b->fetched++;
	if (http_request(b->h, "GET", path, NULL, NULL, 0, NULL, &r) < 0 || r.status != 200) {
		snprintf(err, errlen, "blob %s: %s (HTTP %ld)", oid, r.error, r.status);
		rc = r.status == 0 || r.status >= 500 ? -EAGAIN : -ENOENT;
		http_reply_release(&r);
		goto out;
	}
	if (!blob_matches(oid, r.body.data, r.body.len)) {
		snprintf(err, errlen, "blob %s: the controller sent other content", oid);
		rc = -EIO;
		http_reply_release(&r);
		goto out;
	}
	buf_append(data, r.body.data, r.body.len);
	http_reply_release(&r);
	if (mkdir_parents(cached) == 0)
		file_write_atomic(cached, data->data, data->len, 0644, 0);
out:
	free(bytes);
	free(cached);
	return rc;
}

/* One component name below the folder dfd, opened as a folder without
 * following a symlink (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS; O_NOFOLLOW on a kernel without openat2, the same for
 * one component that is never ".."). A descriptor, or -errno: -ELOOP or
 * -ENOTDIR when name is a symlink or not a folder. */
static int open_dir_beneath(int dfd, const char *name)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dfd, name, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

/* Removes name below dfd and everything in it, never following a symlink. */
static int rm_beneath(int dfd, const char *name)
{
	struct dirent *e;
	DIR *d;
	int fd, rc = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = open_dir_beneath(dfd, name);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = rm_beneath(dirfd(d), e->d_name);
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* The folder of rel's last component, walked from root one component at a
 * time without following a symlink. With make, a missing folder is made and
 * a symlink or file where the manifest has a folder is replaced by one. Puts
 * the last component's offset in rel into *leaf. A descriptor or -errno. */
static int parent_beneath(int root, const char *rel, int make, size_t *leaf)
{
	char name[1025];
	const char *p = rel, *slash;
	int fd = dup(root), next;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);

		if (n >= sizeof(name)) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		next = open_dir_beneath(fd, name);
		if (next < 0 && make) {
			if (next == -ELOOP || next == -ENOTDIR)
				rm_beneath(fd, name); /* a symlink or a file: not followed */
			if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST) {
				next = -errno;
			} else {
				next = open_dir_beneath(fd, name);
			}
		}
		close(fd);
		if (next < 0)
			return next;
		fd = next;
		p = slash + 1;
	}
	*leaf = (size_t)(p - rel);
	return fd;
}

/* Writes name in the folder dfd: a new temporary (O_EXCL, never through a
 * symlink), then renamed over name (which replaces a symlink, not its
 * target). */
static int write_at(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
	static unsigned long seq;
	char tmp[64];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), ".xenci-tmp.%d.%lu", (int)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = fd_write_all(fd, data, len);
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dfd, tmp, dfd, name) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dfd, tmp, 0);
	return rc;
}

static int open_root(const char *src)
{
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int builder_tree_write(const char *src, const char *rel, const void *data, size_t len, mode_t mode)
{
	int root, dfd, rc;
	size_t leaf;

	if (!builder_path_ok(rel))
		return -EINVAL;
	root = open_root(src);
	if (root < 0)
		return root;
	dfd = parent_beneath(root, rel, 1, &leaf);
	close(root);
	if (dfd < 0)
		return dfd;
	rc = rm_beneath(dfd, rel + leaf);
	if (rc == 0)
		rc = write_at(dfd, rel + leaf, data, len, mode);
	close(dfd);
	return rc;
}

int builder_tree_read(char **out, const char *src, const char *rel, size_t max)
{
	struct buf b = BUF_INIT(max);
	char chunk[8192];
	int root, dfd, fd, rc = 0;
	size_t leaf;
	ssize_t n;

	*out = NULL;
	if (!builder_path_ok(rel))
		return -EINVAL;
	root = open_root(src);
	if (root < 0)
		return root;
	dfd = parent_beneath(root, rel, 0, &leaf);
	close(root);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, rel + leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			rc = -EFBIG;
			break;
		}
	if (n < 0 && rc == 0)
		rc = -errno;
	close(fd);
	if (rc == 0)
		*out = b.data ? buf_detach(&b, NULL) : xstrdup("");
	buf_release(&b);
	return rc;
}

/* 1 when rel is in the tree as the kind mode says (a file or a symlink). */
static int present(int root, const char *rel, const char *mode)
{
	struct stat st;
	size_t leaf;
	int dfd = parent_beneath(root, rel, 0, &leaf), ok;

	if (dfd < 0)
		return 0;
	ok = fstatat(dfd, rel + leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	     (!strcmp(mode, "120000") ? S_ISLNK(st.st_mode) : S_ISREG(st.st_mode));
	close(dfd);
	return ok;
}

/* Puts one manifest entry into the work tree. */
static int put_file(struct builder_source *b, int root, const char *rel, const char *mode,
		    const char *oid, char *err, size_t errlen)
{
	struct buf data = BUF_INIT(BUILDER_BLOB_MAX);
	size_t leaf;
	int rc, dfd = -1;

	rc = get_blob(b, oid, &data, err, errlen);
	if (rc < 0)
		goto out;
	dfd = parent_beneath(root, rel, 1, &leaf);
	if (dfd < 0) {
		rc = dfd;
		snprintf(err, errlen, "mkdir for %s: %s", rel, strerror(-rc));
		goto out;
	}
	/* whatever is there (a folder, a symlink, an old file) goes first */
	rc = rm_beneath(dfd, rel + leaf);
	if (rc < 0) {
		snprintf(err, errlen, "cannot replace %s: %s", rel, strerror(-rc));
		goto out;
	}
	if (!strcmp(mode, "120000")) {
		char *target = xstrndup(data.data ? data.data : "", data.len);

		rc = symlinkat(target, dfd, rel + leaf) < 0 ? -errno : 0;
		free(target);
	} else {
		rc = write_at(dfd, rel + leaf, data.data ? data.data : "", data.len,
			      !strcmp(mode, "100755") ? 0755 : 0644);
	}
	if (rc < 0)
		snprintf(err, errlen, "writing %s: %s", rel, strerror(-rc));
out:
	if (dfd >= 0)
		close(dfd);
	buf_release(&data);
	return rc;
}

/* Deletes rel when it is still in the tree; never through a symlink. */
static int remove_file(int root, const char *rel)
{
	size_t leaf;
	int dfd = parent_beneath(root, rel, 0, &leaf), rc;

	if (dfd < 0)
		return dfd;
	rc = unlinkat(dfd, rel + leaf, 0) < 0 ? -errno : 0;
	close(dfd);
	return rc;
}

int builder_sync(struct builder_source *b, char *err, size_t errlen)
{
	char *state_path = xasprintf("%s.manifest", b->src), path[256];
	json_t *old = NULL, *now = json_object(), *files, *f;
	struct http_reply r;
	const char *k;
	json_t *v;
	size_t i;
	int rc = 0, tries, root = -1;

	b->written = b->removed = b->fetched = 0;
	http_reply_init(&r);
	snprintf(path, sizeof(path), "/api/v1/trees/%s/commits/%s/manifest", b->tree, b->commit);
	for (tries = 0;; tries++) {
		rc = http_json(b->h, "GET", path, NULL, &r);
		if (rc == 0 && r.status > 0 && r.status < 500)
			break;
		if (tries >= 4) {
			snprintf(err, errlen, "manifest of %s: %s", b->commit, r.error);
			rc = -EAGAIN;
			goto out;
		}
		http_reply_release(&r);
		http_reply_init(&r);
		sleep(1);
	}
	if (r.status == 404 || r.status == 400) {
		snprintf(err, errlen, "revision %s of tree %s: %s", b->commit, b->tree,
			 r.error[0] ? r.error : "not found");
		rc = -ENOENT;
		goto out;
	}
	files = json_object_get(r.json, "files");
	if (r.status != 200 || !json_is_array(files)) {
		snprintf(err, errlen, "manifest of %s: HTTP %ld %s", b->commit, r.status, r.error);
		rc = -EPROTO;
		goto out;
	}
	rc = mkdir_p(b->src);
	if (rc == 0)
		rc = root = open_root(b->src);
	if (rc < 0) {
		snprintf(err, errlen, "work tree %s: %s", b->src, strerror(-rc));
		goto out;
	}
	old = json_load_file(state_path, 0, NULL);
	if (!json_is_object(old)) {
		json_decref(old);
		old = json_object(); /* unknown state: write every file */
	}
	json_array_foreach (files, i, f) {
		const char *p = jstr(f, "path", ""), *mode = jstr(f, "mode", ""),
			   *oid = jstr(f, "oid", "");
		char key[80];

		if (!builder_path_ok(p) || !builder_hex_ok(oid, 40) ||
		    (strcmp(mode, "100644") && strcmp(mode, "100755") && strcmp(mode, "120000"))) {
			snprintf(err, errlen, "manifest entry %zu is not valid (path \"%.200s\")",
				 i, p);
			rc = -EPROTO;
			goto out;
		}
		snprintf(key, sizeof(key), "%s %s", mode, oid);
		json_object_set_new(now, p, json_string(key));
		if (!strcmp(jstr(old, p, ""), key) && present(root, p, mode))
			continue;
		rc = put_file(b, root, p, mode, oid, err, errlen);
		if (rc < 0) {
			if (rc == -ENOENT)
				rc = -EPROTO; /* a blob of its own manifest is missing */
			goto out;
		}
		b->written++;
	}
	json_object_foreach (old, k, v) {
		if (json_object_get(now, k) || !builder_path_ok(k))
			continue;
		if (remove_file(root, k) == 0)
			b->removed++;
	}
	if (json_dump_file(now, state_path, JSON_COMPACT) < 0) {
		snprintf(err, errlen, "cannot write %s", state_path);
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	if (root >= 0)
		close(root);
	http_reply_release(&r);
	json_decref(old);
	json_decref(now);
	free(state_path);
	return rc;
}
