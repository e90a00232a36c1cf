/* Content-addressed artifacts: PUT hashes the body while storing it and makes
 * it visible (a rename) only when the hash matches the name. */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "db-artifacts.h"
#include "db-boards.h"
#include "http-files.h"
#include "hash.h"
#include "json-util.h"
#include "xmalloc.h"

struct upload {
	int fd;
	char tmp[4096];
	struct sha256_ctx h;
	long long size;
	int failed_errno;
};

static void upload_free(void *state)
{
	struct upload *u = state;

	if (u == NULL)
		return;
	if (u->fd >= 0) {
		close(u->fd);
		unlink(u->tmp);
	}
	sha256_release(&u->h);
	free(u);
}

/* The upload's state and its temporary file, r->state's. Takes no lock. */
static struct upload *upload_open(struct req *r)
{
	struct upload *u = xcalloc(1, sizeof(*u));

	u->fd = -1;
	r->state = u;
	r->state_free = upload_free;
	snprintf(u->tmp, sizeof(u->tmp), "%s/upload-XXXXXX", ctl.tmp_dir);
	u->fd = mkstemp(u->tmp);
	if (u->fd < 0 || sha256_init(&u->h) < 0)
		u->failed_errno = errno ? errno : EIO;
	return u;
}

/* Runs on the polling thread without ctl.lock: touches only its own file (the
 * first call takes the lock to ask whether the agent builds, and refuses the
 * body before anything is written when not). */
int api_artifact_upload(struct req *r, const char *data, size_t len)
{
	struct upload *u = r->state;

	if (u == NULL) {
		if ((r->auth.role != ROLE_ADMIN && r->auth.role != ROLE_AGENT) ||
		    !sha256_is_hex(r->param[0]))
			return -EACCES; /* the handler says why */
		if (r->auth.role == ROLE_AGENT) {
			/* Refused before a byte is written: only builders upload. */
			json_t *arches;
			int builds;

			ctl_lock();
			arches = db_agent_builder(r->auth.agent);
			ctl_unlock();
			builds = json_array_size(arches) > 0;
			json_decref(arches);
			if (!builds)
				return -EACCES;
		}
		u = upload_open(r);
	}
	if (u->fd < 0 || u->failed_errno)
		return -EIO;
	u->size += (long long)len;
	if (u->size > ARTIFACT_MAX) {
		r->too_big = 1;
		return -EFBIG;
	}
	if (sha256_update(&u->h, data, len) < 0) {
		u->failed_errno = EIO;
		return -EIO;
	}
	while (len > 0) { /* after a short write, the next one says why (ENOSPC) */
		ssize_t n = write(u->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			u->failed_errno = n < 0 ? errno : EIO;
			return -EIO;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int api_artifact_put(struct req *r)
{
	struct upload *u = r->state;
	const char *sha = r->param[0];
	char hex[SHA256_HEX_LEN + 1], path[4096];
	long long size;
	json_t *arches;

	if (!sha256_is_hex(sha))
		return reply_error(r, 400, "invalid artifact name",
				   json_string("64 lowercase hex digits"));
	if (req_need_role(r, ROLE_AGENT) < 0) /* agents and admins */
		return 0;
	if (r->auth.role == ROLE_AGENT) {
		arches = db_agent_builder(r->auth.agent);
		if (!json_array_size(arches)) {
			json_decref(arches);
			return reply_errorf(r, 403, "forbidden", "agent %s does not build",
					    r->auth.agent);
		}
		json_decref(arches);
	}
	if (u == NULL) /* an empty body: the role was checked above, under the lock this
			* handler holds (api_artifact_upload would take it again) */
		u = upload_open(r);
	if (u->failed_errno) {
		ctl_store_failed(u->failed_errno, u->tmp);
		return -u->failed_errno;
	}
	if (sha256_final(&u->h, hex) < 0)
		return -EIO;
	if (strcmp(hex, sha))
		return reply_error(r, 422, "hash mismatch",
				   json_pack("{s:s, s:s, s:I}", "expected", sha, "actual", hex,
					     "size", (json_int_t)u->size));
	if (db_artifact_get(sha, &size) == 0)
		return reply_json(r, 200,
				  json_pack("{s:s, s:I, s:b}", "sha256", sha, "size",
					    (json_int_t)size, "created", 0));
	snprintf(path, sizeof(path), "%s/%s", ctl.artifacts_dir, sha);
	if (fsync(u->fd) < 0 || rename(u->tmp, path) < 0) {
		ctl_store_failed(errno, u->tmp);
		return -errno;
	}
	close(u->fd);
	u->fd = -1;
	if (db_artifact_insert(sha, u->size) < 0) {
		unlink(path);
		return -EIO;
	}
	return reply_json(
	    r, 201,
	    json_pack("{s:s, s:I, s:b}", "sha256", sha, "size", (json_int_t)u->size, "created", 1));
}

int api_artifact_get(struct req *r)
{
	const char *sha = r->param[0];
	char path[4096];
	long long size;

	if (!sha256_is_hex(sha))
		return reply_error(r, 400, "invalid artifact name",
				   json_string("64 lowercase hex digits"));
	if (db_artifact_get(sha, &size) < 0)
		return reply_errorf(r, 404, "not found", "no artifact %s", sha);
	snprintf(path, sizeof(path), "%s/%s", ctl.artifacts_dir, sha);
	return http_files_serve(r, path, "application/octet-stream");
}
