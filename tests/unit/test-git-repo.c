/* controller/git-repo: repositories made here with the git command, read back
 * through libgit2: revisions, heads, commits, describe, manifest and blobs, the
 * fast-forward-only gate ref, reverts on a scratch ref, and a fetched mirror
 * following force-pushes and deleted branches; a read thread that waits for a
 * repository's lock ends its read transaction first (the WAL moves on meanwhile). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../harness/harness.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../controller/db-boards.h"
#include "../../controller/db.h"
#include "../../controller/git-repo.h"
#include "json-util.h"

static char dir[256];

#define sh(...) harness_sh(dir, __VA_ARGS__)

/* The first line a command prints, trimmed. */
static void shout(char *out, size_t len, const char *cmd)
{
	char full[1024];
	FILE *f;

	snprintf(full, sizeof(full), "cd %s && %s", dir, cmd);
	f = popen(full, "r");
	assert_non_null(f);
	if (fgets(out, (int)len, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

#define GIT "git -c user.name=Test -c user.email=t@example.org -c init.defaultBranch=master "

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xenci-test-git-repo.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("GIT_AUTHOR_DATE", "1700000000 +0100", 1);
	setenv("GIT_COMMITTER_DATE", "1700000000 +0100", 1);
	sh(GIT "init -q src && cd src && mkdir -p xen/common && printf 'a\\nb\\nc\\n' > a.txt && "
	       "printf '#!/bin/sh\\n' > xen/common/run.sh && chmod +x xen/common/run.sh && "
	       "ln -s a.txt link && " GIT "add -A && " GIT "commit -qm first && " GIT
	       "tag -a v1 -m v1 && printf 'a\\nB\\nc\\n' > a.txt && " GIT
	       "commit -qam 'second: capital B' -m 'body'");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct gitrepo *open_src(void)
{
	struct gitrepo *r;
	char path[300], err[256];

	snprintf(path, sizeof(path), "%s/src", dir);
	assert_int_equal(gitrepo_open(&r, path, err, sizeof(err)), 0);
	return r;
}

static void test_open_and_resolve(void **state)
{
	struct gitrepo *r, *bad;
	char hex[GITREPO_HEX], want[64], err[256], path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/nothing", dir);
	assert_int_equal(gitrepo_open(&bad, path, err, sizeof(err)), -ENOENT);
	assert_null(bad);
	assert_non_null(strstr(err, "not a git repository"));

	r = open_src();
	shout(want, sizeof(want), "git -C src rev-parse master");
	assert_int_equal(gitrepo_resolve(r, "master", hex, err, sizeof(err)), 0);
	assert_string_equal(hex, want);
	assert_int_equal(gitrepo_branch_head(r, "master", hex), 0);
	assert_string_equal(hex, want);
	want[7] = '\0';
	assert_int_equal(gitrepo_resolve(r, want, hex, err, sizeof(err)), 0);
	shout(want, sizeof(want), "git -C src rev-parse master~1");
	assert_int_equal(gitrepo_resolve(r, "v1", hex, err, sizeof(err)), 0); /* a tag peels */
	assert_string_equal(hex, want);
	assert_int_equal(gitrepo_resolve(r, "nosuch", hex, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "nosuch: no such revision");
	assert_int_equal(gitrepo_resolve(r, "--upload-pack=x", hex, err, sizeof(err)), -EINVAL);
	assert_int_equal(gitrepo_branch_head(r, "staging", hex), -ENOENT);
	assert_int_equal(gitrepo_branch_head(r, "bad..name", hex), -EINVAL);
	gitrepo_free(r);
}

static void test_commit_info_and_describe(void **state)
{
	struct gitrepo *r = open_src();
	struct gitrepo_commit c;
	char hex[GITREPO_HEX], parent[64], desc[128], err[256];

	(void)state;
	assert_int_equal(gitrepo_resolve(r, "master", hex, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_commit_info(&c, r, hex), 0);
	shout(parent, sizeof(parent), "git -C src rev-parse master~1");
	assert_string_equal(c.parent, parent);
	assert_int_equal(c.nparents, 1);
	assert_string_equal(c.author, "Test");
	assert_string_equal(c.email, "t@example.org");
	assert_int_equal(c.time, 1700000000);
	assert_int_equal(c.tz_minutes, 60);
	assert_string_equal(c.summary, "second: capital B");
	assert_int_equal(gitrepo_describe(desc, sizeof(desc), r, hex), 0);
	assert_true(strncmp(desc, "v1-1-g", 6) == 0);
	assert_int_equal(gitrepo_commit_info(&c, r, "0123"), -EINVAL);
	assert_int_equal(gitrepo_commit_info(&c, r, "0123456789012345678901234567890123456789"),
			 -ENOENT);
	assert_int_equal(gitrepo_is_ancestor(r, parent, hex), 1);
	assert_int_equal(gitrepo_is_ancestor(r, hex, parent), 0);
	assert_int_equal(gitrepo_is_ancestor(r, hex, hex), 1);
	gitrepo_free(r);
}

static void test_manifest_and_blobs(void **state)
{
	struct gitrepo *r = open_src();
	char hex[GITREPO_HEX], want[128], err[256];
	struct buf b = BUF_INIT(1024), small = BUF_INIT(2);
	json_t *m, *e;
	size_t i;
	int seen = 0;

	(void)state;
	assert_int_equal(gitrepo_resolve(r, "master", hex, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_manifest(&m, r, hex, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(m), 3);
	json_array_foreach (m, i, e) {
		const char *path = jstr(e, "path", "");
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "git -C src ls-tree -r master %s | cut -c1-52", path);
		shout(want, sizeof(want), cmd);
		/* "100755 blob <oid>" */
		assert_true(strncmp(want, jstr(e, "mode", ""), 6) == 0);
		assert_string_equal(want + 12, jstr(e, "oid", ""));
		if (!strcmp(path, "a.txt")) {
			assert_int_equal(gitrepo_blob(&b, r, jstr(e, "oid", "")), 0);
			assert_string_equal(buf_cstr(&b), "a\nB\nc\n");
			assert_int_equal(gitrepo_blob(&small, r, jstr(e, "oid", "")), -ENOSPC);
			seen++;
		}
		if (!strcmp(path, "xen/common/run.sh")) {
			assert_string_equal(jstr(e, "mode", ""), "100755");
			seen++;
		}
		if (!strcmp(path, "link")) {
			assert_string_equal(jstr(e, "mode", ""), "120000");
			seen++;
		}
	}
	assert_int_equal(seen, 3);
	json_decref(m);
	assert_int_equal(gitrepo_manifest(&m, r, "../../etc/passwd", err, sizeof(err)), -EINVAL);
	assert_null(m);
	assert_int_equal(gitrepo_blob(&b, r, "0123456789012345678901234567890123456789"), -ENOENT);
	buf_release(&b);
	buf_release(&small);
	gitrepo_free(r);
}

static void test_fast_forward_and_revert(void **state)
{
	struct gitrepo *r = open_src();
	char first[GITREPO_HEX], second[GITREPO_HEX], side[GITREPO_HEX], hex[GITREPO_HEX];
	char rev[GITREPO_HEX], err[256], content[64];
	struct gitrepo_commit c;

	(void)state;
	sh(GIT "-C src branch -f gate master~1 && " GIT "-C src checkout -q -b side master~1 && "
	       "echo z > src/z && " GIT "-C src add z && " GIT "-C src commit -qm side && " GIT
	       "-C src checkout -q master");
	assert_int_equal(gitrepo_resolve(r, "master~1", first, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_resolve(r, "master", second, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_resolve(r, "side", side, err, sizeof(err)), 0);

	assert_int_equal(gitrepo_fast_forward(r, "refs/heads/gate", second, "t", err, sizeof(err)),
			 1);
	assert_int_equal(gitrepo_branch_head(r, "gate", hex), 0);
	assert_string_equal(hex, second);
	assert_int_equal(gitrepo_fast_forward(r, "refs/heads/gate", second, "t", err, sizeof(err)),
			 0);
	/* side does not descend from gate: held, gate unchanged. */
	assert_int_equal(gitrepo_fast_forward(r, "refs/heads/gate", side, "t", err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "not a fast-forward"));
	assert_int_equal(gitrepo_branch_head(r, "gate", hex), 0);
	assert_string_equal(hex, second);
	assert_int_equal(gitrepo_fast_forward(r, "refs/heads/none", side, "t", err, sizeof(err)),
			 -ENOENT);
	/* Compare-and-swap. */
	assert_int_equal(gitrepo_set_ref(r, "refs/heads/gate", first, side, "t", err, sizeof(err)),
			 -EAGAIN);
	assert_int_equal(gitrepo_set_ref(r, "refs/heads/gate", first, "", "t", err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(gitrepo_set_ref(r, "refs/xenci/x", first, "", "t", err, sizeof(err)), 0);
	assert_int_equal(gitrepo_delete_ref(r, "refs/xenci/x"), 0);
	assert_int_equal(gitrepo_delete_ref(r, "refs/xenci/x"), -ENOENT);
	assert_int_equal(gitrepo_ref_head(r, "refs/xenci/x", hex), -ENOENT);
	assert_int_equal(gitrepo_set_ref(r, "refs/../x", first, NULL, "t", err, sizeof(err)),
			 -EINVAL);

	/* Revert "second" on master: a.txt is back to the first version. */
	assert_int_equal(
	    gitrepo_revert(rev, r, "master", second, "refs/xenci/bisect/1", err, sizeof(err)), 0);
	assert_int_equal(gitrepo_ref_head(r, "refs/xenci/bisect/1", hex), 0);
	assert_string_equal(hex, rev);
	assert_int_equal(gitrepo_commit_info(&c, r, rev), 0);
	assert_string_equal(c.parent, second);
	assert_string_equal(c.summary, "Revert \"second: capital B\"");
	shout(content, sizeof(content), "git -C src show refs/xenci/bisect/1:a.txt | tr '\\n' ,");
	assert_string_equal(content, "a,b,c,");
	gitrepo_free(r);
}

static void test_mirror_fetch(void **state)
{
	struct gitrepo *m;
	char url[300], mdir[300], hex[GITREPO_HEX], want[64], err[256];

	(void)state;
	snprintf(url, sizeof(url), "file://%s/src", dir);
	snprintf(mdir, sizeof(mdir), "%s/mirror.git", dir);
	assert_true(gitrepo_is_url(url));
	assert_true(gitrepo_is_url("git@example.org:xen.git"));
	assert_false(gitrepo_is_url("/srv/xen"));
	assert_false(gitrepo_is_url("hypervisor/xen"));
	assert_int_equal(gitrepo_open_mirror(&m, url, mdir, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_branch_head(m, "master", hex), -ENOENT);
	assert_int_equal(gitrepo_fetch(m, err, sizeof(err)), 0);
	shout(want, sizeof(want), "git -C src rev-parse master");
	assert_int_equal(gitrepo_branch_head(m, "master", hex), 0);
	assert_string_equal(hex, want);

	/* A force-push and a deleted branch reach the mirror. */
	sh(GIT "-C src branch -q doomed master && " GIT
	       "-C src update-ref refs/heads/master master~1");
	assert_int_equal(gitrepo_fetch(m, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_branch_head(m, "doomed", hex), 0);
	shout(want, sizeof(want), "git -C src rev-parse master");
	assert_int_equal(gitrepo_branch_head(m, "master", hex), 0);
	assert_string_equal(hex, want);
	sh(GIT "-C src branch -q -D doomed");
	assert_int_equal(gitrepo_fetch(m, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_branch_head(m, "doomed", hex), -ENOENT);
	gitrepo_free(m);

	/* Reopening keeps it; a URL that does not exist is a clear error. */
	snprintf(url, sizeof(url), "file://%s/nothing", dir);
	assert_int_equal(gitrepo_open_mirror(&m, url, mdir, err, sizeof(err)), 0);
	assert_int_equal(gitrepo_fetch(m, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "nothing"));
	gitrepo_free(m);
}

/* A git server that takes the connection and never answers, until told to go. */
struct mute_server {
	int lfd, port;
	atomic_int accepted, go;
};

static void *mute_serve(void *arg)
{
	struct mute_server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);

	atomic_store(&s->accepted, 1);
	while (!atomic_load(&s->go))
		usleep(10 * 1000);
	if (fd >= 0)
		close(fd);
	close(s->lfd);
	return NULL;
}

struct waiter {
	struct gitrepo *m;
	atomic_int reading;
	int rc;
};

/* Holds the mirror's lock for as long as the mute server keeps the fetch. */
static void *fetch_main(void *arg)
{
	struct waiter *w = arg;
	char err[256];

	w->rc = gitrepo_fetch(w->m, err, sizeof(err));
	return NULL;
}

/* A read thread's request: a read of the store (its snapshot taken), then a
 * repository read that waits for the lock the fetch holds. */
static void *reader_main(void *arg)
{
	struct waiter *w = arg;
	char hex[GITREPO_HEX];

	if (db_reader_open() < 0) {
		atomic_store(&w->reading, -1);
		return NULL;
	}
	db_read_begin();
	json_decref(db_boards_all());
	atomic_store(&w->reading, 1);
	w->rc = gitrepo_branch_head(w->m, "master", hex);
	db_read_end();
	db_reader_close();
	return NULL;
}

/* While a fetch holds a mirror's lock (a slow remote), a read thread that asks
 * the same repository waits, and ends its read transaction first: the writer's
 * commits meanwhile can be checkpointed whole. Without the release, the reader's
 * snapshot keeps the frames after it in the WAL until the fetch ends. */
static void test_wait_ends_read(void **state)
{
	struct mute_server srv = {.lfd = socket(AF_INET, SOCK_STREAM, 0)};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct waiter fetcher = {0}, reader = {0};
	pthread_t ts, tf, tr;
	sqlite3 *db;
	char url[300], mdir[300], store[300], schema[300], err[256];
	int log = -1, ckpt = -2, i, whole = 0;

	(void)state;
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.lfd, 4), 0);
	assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&a, &alen), 0);
	srv.port = ntohs(a.sin_port);
	snprintf(store, sizeof(store), "%s/store.db", dir);
	snprintf(schema, sizeof(schema), "%s/schema", harness_root());
	assert_int_equal(db_open(&db, store, schema, err, sizeof(err)), 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/xen.git", srv.port);
	snprintf(mdir, sizeof(mdir), "%s/slow.git", dir);
	assert_int_equal(gitrepo_open_mirror(&fetcher.m, url, mdir, err, sizeof(err)), 0);
	reader.m = fetcher.m;
	assert_int_equal(pthread_create(&ts, NULL, mute_serve, &srv), 0);
	assert_int_equal(pthread_create(&tf, NULL, fetch_main, &fetcher), 0);
	for (i = 0; i < 500 && !atomic_load(&srv.accepted); i++)
		usleep(10 * 1000);
	assert_true(atomic_load(&srv.accepted)); /* the fetch holds the lock */
	assert_int_equal(pthread_create(&tr, NULL, reader_main, &reader), 0);
	for (i = 0; i < 500 && !atomic_load(&reader.reading); i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&reader.reading), 1);

	/* The writer commits and checkpoints until every frame is in the database. */
	for (i = 0; i < 100 && !whole; i++) {
		char sql[96];

		snprintf(sql, sizeof(sql), "INSERT INTO trees (name) VALUES ('t%d')", i);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(
		    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt),
		    SQLITE_OK);
		whole = log > 0 && ckpt == log;
		if (!whole)
			usleep(20 * 1000);
	}
	atomic_store(&srv.go, 1);
	pthread_join(ts, NULL);
	pthread_join(tf, NULL);
	pthread_join(tr, NULL);
	assert_int_equal(fetcher.rc, -EIO);   /* the remote went away */
	assert_int_equal(reader.rc, -ENOENT); /* then the reader had the lock */
	gitrepo_free(fetcher.m);
	db_close(db);
	assert_true(whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_and_resolve),
	    cmocka_unit_test(test_commit_info_and_describe),
	    cmocka_unit_test(test_manifest_and_blobs),
	    cmocka_unit_test(test_fast_forward_and_revert),
	    cmocka_unit_test(test_mirror_fetch),
	    cmocka_unit_test(test_wait_ends_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
