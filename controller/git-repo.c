#include "git-repo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "errmsg.h"
#include "xmalloc.h"

static pthread_once_t gitrepo_once = PTHREAD_ONCE_INIT;

static void gitrepo_init_once(void)
{
	git_libgit2_init();
}

void gitrepo_global_init(void)
{
	pthread_once(&gitrepo_once, gitrepo_init_once);
}

const char *gitrepo_errmsg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* A libgit2 code as a negative errno. */
static int gerr(int code)
{
	if (code == GIT_ENOTFOUND)
		return -ENOENT;
	if (code == GIT_EINVALIDSPEC || code == GIT_EAMBIGUOUS)
		return -EINVAL;
	if (code == GIT_EMODIFIED)
		return -EAGAIN;
	if (code == GIT_EEXISTS)
		return -EEXIST;
	return -EIO;
}

static int oid_parse(git_oid *oid, const char *hex)
{
	if (hex == NULL || strlen(hex) != GIT_OID_HEXSZ ||
	    strspn(hex, "0123456789abcdef") != GIT_OID_HEXSZ)
		return -EINVAL;
	return git_oid_fromstr(oid, hex) < 0 ? -EINVAL : 0;
}

int gitrepo_is_url(const char *s)
{
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');

	if (strstr(s, "://"))
		return 1;
	/* scp-like "user@host:path": a colon before any slash, and not "C:". */
	return colon && colon - s > 1 && (slash == NULL || colon < slash);
}

static struct gitrepo *gitrepo_new(git_repository *git, const char *url)
{
	struct gitrepo *r = xcalloc(1, sizeof(*r));
	const char *p =
	    git_repository_is_bare(git) ? git_repository_path(git) : git_repository_workdir(git);

	r->git = git;
	r->path = xstrdup(p ? p : "");
	r->url = url ? xstrdup(url) : NULL;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

int gitrepo_open(struct gitrepo **out, const char *path, char *err, size_t errlen)
{
	git_repository *git = NULL;
	int rc;

	gitrepo_global_init();
	*out = NULL;
	rc = git_repository_open_ext(&git, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc < 0) {
		errmsg_set(err, errlen, "%s: not a git repository: %s", path, gitrepo_errmsg());
		return gerr(rc);
	}
	*out = gitrepo_new(git, NULL);
	return 0;
}

int gitrepo_open_mirror(struct gitrepo **out, const char *url, const char *dir, char *err,
			size_t errlen)
{
	git_repository *git = NULL;
	int rc;

	gitrepo_global_init();
	*out = NULL;
	rc = git_repository_open_ext(&git, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_ENOTFOUND)
		rc = git_repository_init(&git, dir, 1);
	if (rc < 0) {
		errmsg_set(err, errlen, "%s: cannot open or create the mirror: %s", dir,
			   gitrepo_errmsg());
		return gerr(rc);
	}
	*out = gitrepo_new(git, url);
	return 0;
}

/* Takes r's lock. A read thread that has to wait for it (a fetch holds it for
 * the whole download) first ends its read transaction (db_read_release): it
 * would otherwise keep its snapshot, and with it the WAL, from moving on while it
 * waits. */
static void repo_lock(struct gitrepo *r)
{
	if (pthread_mutex_trylock(&r->lock) == 0)
		return;
	db_read_release();
	pthread_mutex_lock(&r->lock);
}

/* Fetches under way (each holds its repository's lock for its whole download). */
static atomic_int fetching;

int gitrepo_fetching(void)
{
	return atomic_load(&fetching);
}

int gitrepo_fetch(struct gitrepo *r, char *err, size_t errlen)
{
	char *spec[] = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
	git_strarray refspecs = {spec, 2};
	git_remote_create_options ropts;
	git_fetch_options opts;
	git_remote *remote = NULL;
	int rc;

	if (r->url == NULL)
		return 0;
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	atomic_fetch_add(&fetching, 1);
	repo_lock(r);
	opts.prune = GIT_FETCH_PRUNE;
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	/* An anonymous remote: the URL is the configuration's, not the mirror's.
	 * No url.*.insteadOf lookup: libgit2 1.5 leaks its regex match data there,
	 * on every fetch of a long-running controller. */
	git_remote_create_options_init(&ropts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ropts.repository = r->git;
	ropts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	rc = git_remote_create_with_opts(&remote, r->url, &ropts);
	if (rc == 0)
		rc = git_remote_fetch(remote, &refspecs, &opts, "xenci: fetch");
	if (rc < 0)
		errmsg_set(err, errlen, "fetching %s: %s", r->url, gitrepo_errmsg());
	git_remote_free(remote);
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_sub(&fetching, 1);
	return rc < 0 ? gerr(rc) : 0;
}

void gitrepo_free(struct gitrepo *r)
{
	if (r == NULL)
		return;
	git_repository_free(r->git);
	pthread_mutex_destroy(&r->lock);
	free(r->path);
	free(r->url);
	free(r);
}

/* Resolves rev to a commit; the lock is held. */
static int resolve_locked(git_commit **out, struct gitrepo *r, const char *rev, char *err,
			  size_t errlen)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc;

	*out = NULL;
	if (rev == NULL || *rev == '\0' || strlen(rev) > GITREPO_MAX_REV || *rev == '-') {
		errmsg_set(err, errlen, "\"%.64s\": not a revision", rev ? rev : "");
		return -EINVAL;
	}
	rc = git_revparse_single(&obj, r->git, rev);
	if (rc < 0) {
		errmsg_set(err, errlen, "%s: no such revision", rev);
		return rc == GIT_EAMBIGUOUS ? -EINVAL : -ENOENT;
	}
	rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0) {
		errmsg_set(err, errlen, "%s: not a commit", rev);
		return -ENOENT;
	}
	*out = (git_commit *)peeled;
	return 0;
}

int gitrepo_resolve(struct gitrepo *r, const char *rev, char hex[GITREPO_HEX], char *err,
		    size_t errlen)
{
	git_commit *c;
	int rc;

	repo_lock(r);
	rc = resolve_locked(&c, r, rev, err, errlen);
	if (rc == 0) {
		git_oid_tostr(hex, GITREPO_HEX, git_commit_id(c));
		git_commit_free(c);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int gitrepo_ref_head(struct gitrepo *r, const char *ref, char hex[GITREPO_HEX])
{
	git_reference *res = NULL;
	git_object *obj = NULL;
	int valid = 0, rc;

	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid)
		return -EINVAL;
	repo_lock(r);
	rc = git_reference_lookup(&res, r->git, ref);
	if (rc == 0)
		rc = git_reference_peel(&obj, res, GIT_OBJECT_COMMIT);
	if (rc == 0)
		git_oid_tostr(hex, GITREPO_HEX, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(res);
	pthread_mutex_unlock(&r->lock);
	return rc < 0 ? gerr(rc) : 0;
}

int gitrepo_branch_head(struct gitrepo *r, const char *branch, char hex[GITREPO_HEX])
{
	char ref[GITREPO_MAX_REV + 16];

	if (strlen(branch) > GITREPO_MAX_REV)
		return -EINVAL;
	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	return gitrepo_ref_head(r, ref, hex);
}

int gitrepo_commit_info(struct gitrepo_commit *out, struct gitrepo *r, const char *hex)
{
	git_commit *c = NULL;
	const git_signature *a;
	git_oid oid;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = oid_parse(&oid, hex);
	if (rc < 0)
		return rc;
	repo_lock(r);
	rc = git_commit_lookup(&c, r->git, &oid);
	if (rc < 0) {
		pthread_mutex_unlock(&r->lock);
		return gerr(rc);
	}
	git_oid_tostr(out->id, sizeof(out->id), git_commit_id(c));
	git_oid_tostr(out->tree, sizeof(out->tree), git_commit_tree_id(c));
	out->nparents = (int)git_commit_parentcount(c);
	if (out->nparents > 0)
		git_oid_tostr(out->parent, sizeof(out->parent), git_commit_parent_id(c, 0));
	a = git_commit_author(c);
	snprintf(out->author, sizeof(out->author), "%s", a->name ? a->name : "");
	snprintf(out->email, sizeof(out->email), "%s", a->email ? a->email : "");
	out->time = (long long)a->when.time;
	out->tz_minutes = a->when.offset;
	snprintf(out->summary, sizeof(out->summary), "%s",
		 git_commit_summary(c) ? git_commit_summary(c) : "");
	git_commit_free(c);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int gitrepo_describe(char *out, size_t outlen, struct gitrepo *r, const char *hex)
{
	git_describe_options opts;
	git_describe_format_options fopts;
	git_describe_result *res = NULL;
	git_object *obj = NULL;
	git_buf b = {0};
	git_oid oid;
	int rc;

	rc = oid_parse(&oid, hex);
	if (rc < 0)
		return rc;
	git_describe_options_init(&opts, GIT_DESCRIBE_OPTIONS_VERSION);
	git_describe_format_options_init(&fopts, GIT_DESCRIBE_FORMAT_OPTIONS_VERSION);
	opts.describe_strategy = GIT_DESCRIBE_TAGS;
	opts.show_commit_oid_as_fallback = 1;
	repo_lock(r);
	rc = git_object_lookup(&obj, r->git, &oid, GIT_OBJECT_COMMIT);
	if (rc == 0)
		rc = git_describe_commit(&res, obj, &opts);
	if (rc == 0)
		rc = git_describe_format(&b, res, &fopts);
	if (rc == 0)
		snprintf(out, outlen, "%s", b.ptr);
	git_buf_dispose(&b);
	git_describe_result_free(res);
	git_object_free(obj);
	pthread_mutex_unlock(&r->lock);
	return rc < 0 ? gerr(rc) : 0;
}

int gitrepo_is_ancestor(struct gitrepo *r, const char *ancestor, const char *descendant)
{
	git_oid a, d;
	int rc;

	if (oid_parse(&a, ancestor) < 0 || oid_parse(&d, descendant) < 0)
		return -EINVAL;
	if (git_oid_equal(&a, &d))
		return 1;
	repo_lock(r);
	rc = git_graph_descendant_of(r->git, &d, &a);
	pthread_mutex_unlock(&r->lock);
	return rc < 0 ? gerr(rc) : rc;
}

struct walk {
	json_t *files;
	int too_many;
};

static int manifest_entry(const char *root, const git_tree_entry *e, void *payload)
{
	struct walk *w = payload;
	char mode[8], oid[GITREPO_HEX], *path;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0; /* trees are walked into; submodules (commits) left out */
	if (json_array_size(w->files) >= GITREPO_MAX_FILES) {
		w->too_many = 1;
		return -1;
	}
	snprintf(mode, sizeof(mode), "%06o", (unsigned)git_tree_entry_filemode(e));
	git_oid_tostr(oid, sizeof(oid), git_tree_entry_id(e));
	path = xasprintf("%s%s", root, git_tree_entry_name(e));
	json_array_append_new(w->files,
			      json_pack("{s:s, s:s, s:s}", "path", path, "mode", mode, "oid", oid));
	free(path);
	return 0;
}

int gitrepo_manifest(json_t **out, struct gitrepo *r, const char *commit, char *err, size_t errlen)
{
	struct walk w = {json_array(), 0};
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int rc;

	*out = NULL;
	rc = oid_parse(&oid, commit);
	if (rc < 0) {
		errmsg_set(err, errlen, "\"%.64s\": not a commit id", commit);
		goto out;
	}
	repo_lock(r);
	rc = git_commit_lookup(&c, r->git, &oid);
	if (rc == 0)
		rc = git_commit_tree(&tree, c);
	if (rc == 0)
		rc = git_tree_walk(tree, GIT_TREEWALK_PRE, manifest_entry, &w);
	pthread_mutex_unlock(&r->lock);
	if (w.too_many) {
		errmsg_set(err, errlen, "%s: more than %d files", commit, GITREPO_MAX_FILES);
		rc = -E2BIG;
	} else if (rc < 0) {
		errmsg_set(err, errlen, "%s: no such commit", commit);
		rc = gerr(rc);
	}
out:
	git_tree_free(tree);
	git_commit_free(c);
	if (rc == 0)
		*out = w.files;
	else
		json_decref(w.files);
	return rc;
}

int gitrepo_blob(struct buf *out, struct gitrepo *r, const char *hex)
{
	git_blob *blob = NULL;
	git_oid oid;
	int rc;

	rc = oid_parse(&oid, hex);
	if (rc < 0)
		return rc;
	repo_lock(r);
	rc = git_blob_lookup(&blob, r->git, &oid);
	if (rc == 0) {
		size_t n = (size_t)git_blob_rawsize(blob);

		rc = n ? buf_append(out, git_blob_rawcontent(blob), n) : buf_append(out, "", 0);
	} else {
		rc = gerr(rc);
	}
	git_blob_free(blob);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* Writes the blob's content to path (through a temporary file and a rename, so
 * a reader never sees half of it). The lock is held. */
static int blob_write_locked(struct gitrepo *r, const git_oid *oid, const char *path)
{
	git_blob *blob = NULL;
	char tmp[4200];
	size_t n;
	const char *p;
	int fd, rc;

	rc = git_blob_lookup(&blob, r->git, oid);
	if (rc < 0)
		return gerr(rc);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		git_blob_free(blob);
		return -errno;
	}
	p = git_blob_rawcontent(blob);
	n = (size_t)git_blob_rawsize(blob);
	rc = 0;
	while (n > 0 && rc == 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0)
			rc = -errno;
		else
			p += w, n -= (size_t)w;
	}
	git_blob_free(blob);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0))
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int gitrepo_blob_open(int *fd, long long *size, struct gitrepo *r, const char *hex,
		      const char *cache_dir, size_t max)
{
	git_odb *odb = NULL;
	git_object_t type;
	git_oid oid;
	struct stat sb;
	char path[4096];
	size_t n = 0;
	int rc;

	*fd = -1;
	rc = oid_parse(&oid, hex);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", cache_dir, hex);
	repo_lock(r);
	/* The size from the object's header: a blob too large is never inflated. */
	rc = git_repository_odb(&odb, r->git);
	if (rc == 0)
		rc = git_odb_read_header(&n, &type, odb, &oid);
	git_odb_free(odb);
	if (rc < 0)
		rc = gerr(rc);
	else if (type != GIT_OBJECT_BLOB)
		rc = -ENOENT;
	else if (n > max)
		rc = -EFBIG;
	if (rc == 0) {
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0 && (mkdir(cache_dir, 0755) == 0 || errno == EEXIST))
			rc = blob_write_locked(r, &oid, path);
		if (rc == 0 && *fd < 0)
			*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (rc == 0 && *fd < 0)
			rc = -errno;
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == 0 && fstat(*fd, &sb) < 0)
		rc = -errno;
	if (rc == 0 && (size_t)sb.st_size != n)
		rc = -EIO; /* not what the repository holds: someone else wrote it */
	if (rc < 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (rc == 0)
		*size = (long long)n;
	return rc;
}

/* The lock is held. */
static int set_ref_locked(struct gitrepo *r, const char *ref, const git_oid *oid,
			  const git_oid *expect, int must_be_new, const char *logmsg, char *err,
			  size_t errlen)
{
	git_reference *res = NULL;
	int rc;

	if (must_be_new)
		rc = git_reference_create(&res, r->git, ref, oid, 0, logmsg);
	else if (expect)
		rc = git_reference_create_matching(&res, r->git, ref, oid, 1, expect, logmsg);
	else
		rc = git_reference_create(&res, r->git, ref, oid, 1, logmsg);
	git_reference_free(res);
	if (rc == GIT_EMODIFIED || (rc == GIT_ENOTFOUND && expect))
		errmsg_set(err, errlen, "%s moved meanwhile", ref);
	else if (rc == GIT_EEXISTS)
		errmsg_set(err, errlen, "%s already exists", ref);
	else if (rc < 0)
		errmsg_set(err, errlen, "%s: %s", ref, gitrepo_errmsg());
	if (rc == GIT_ENOTFOUND && expect)
		return -EAGAIN;
	return rc < 0 ? gerr(rc) : 0;
}

int gitrepo_set_ref(struct gitrepo *r, const char *ref, const char *hex, const char *expect,
		    const char *logmsg, char *err, size_t errlen)
{
	git_oid oid, old;
	int valid = 0, rc;

	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid) {
		errmsg_set(err, errlen, "\"%.64s\": not a valid ref name", ref);
		return -EINVAL;
	}
	if (oid_parse(&oid, hex) < 0 || (expect && *expect && oid_parse(&old, expect) < 0)) {
		errmsg_set(err, errlen, "not a commit id");
		return -EINVAL;
	}
	repo_lock(r);
	rc = set_ref_locked(r, ref, &oid, expect && *expect ? &old : NULL, expect && !*expect,
			    logmsg, err, errlen);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int gitrepo_delete_ref(struct gitrepo *r, const char *ref)
{
	int valid = 0, rc;

	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid)
		return -EINVAL;
	repo_lock(r);
	{
		git_reference *res = NULL;

		/* git_reference_remove() does not tell a missing ref. */
		rc = git_reference_lookup(&res, r->git, ref);
		git_reference_free(res);
	}
	if (rc == 0)
		rc = git_reference_remove(r->git, ref);
	pthread_mutex_unlock(&r->lock);
	return rc < 0 ? gerr(rc) : 0;
}

int gitrepo_fast_forward(struct gitrepo *r, const char *ref, const char *hex, const char *logmsg,
			 char *err, size_t errlen)
{
	char cur[GITREPO_HEX];
	int rc;

	rc = gitrepo_ref_head(r, ref, cur);
	if (rc < 0) {
		errmsg_set(err, errlen, "%s: %s", ref, rc == -ENOENT ? "no such ref" : "bad ref");
		return rc;
	}
	if (!strcmp(cur, hex))
		return 0;
	rc = gitrepo_is_ancestor(r, cur, hex);
	if (rc < 0) {
		errmsg_set(err, errlen, "%s: cannot compare with %s", ref, hex);
		return rc;
	}
	if (rc == 0) {
		errmsg_set(err, errlen,
			   "not a fast-forward: %.12s does not descend from %s (%.12s)", hex, ref,
			   cur);
		return -EPERM;
	}
	/* Compare-and-swap: a push to the ref meanwhile makes this fail, not lose it. */
	rc = gitrepo_set_ref(r, ref, hex, cur, logmsg, err, errlen);
	return rc < 0 ? rc : 1;
}

int gitrepo_revert(char out[GITREPO_HEX], struct gitrepo *r, const char *onto, const char *commit,
		   const char *scratch_ref, char *err, size_t errlen)
{
	git_commit *ours = NULL, *theirs = NULL, *made = NULL;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid tree_oid, oid;
	char *msg = NULL;
	int rc;

	repo_lock(r);
	rc = resolve_locked(&ours, r, onto, err, errlen);
	if (rc == 0)
		rc = resolve_locked(&theirs, r, commit, err, errlen);
	if (rc < 0)
		goto out;
	if (git_revert_commit(&index, r->git, theirs, ours, 0, NULL) < 0) {
		errmsg_set(err, errlen, "reverting %s: %s", commit, gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		errmsg_set(err, errlen, "reverting %.12s on %.12s conflicts", commit, onto);
		rc = -EEXIST;
		goto out;
	}
	msg = xasprintf("Revert \"%s\"\n\nThis reverts commit %s (xenci bisection).\n",
			git_commit_summary(theirs) ? git_commit_summary(theirs) : "",
			git_oid_tostr_s(git_commit_id(theirs)));
	rc = git_index_write_tree_to(&tree_oid, index, r->git);
	if (rc == 0)
		rc = git_tree_lookup(&tree, r->git, &tree_oid);
	if (rc == 0)
		rc = git_signature_now(&sig, "xenci", "xenci@localhost");
	if (rc == 0) {
		const git_commit *parents[1] = {ours};

		rc = git_commit_create(&oid, r->git, NULL, sig, sig, NULL, msg, tree, 1, parents);
	}
	if (rc < 0) {
		errmsg_set(err, errlen, "committing the revert: %s", gitrepo_errmsg());
		rc = -EIO;
		goto out;
	}
	rc = set_ref_locked(r, scratch_ref, &oid, NULL, 0, "xenci: bisection revert", err, errlen);
	if (rc == 0)
		git_oid_tostr(out, GITREPO_HEX, &oid);
out:
	pthread_mutex_unlock(&r->lock);
	free(msg);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_commit_free(made);
	git_commit_free(theirs);
	git_commit_free(ours);
	return rc;
}
