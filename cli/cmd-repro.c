/* xenci repro ATTEMPT [--out DIR] [--board BOARD | --no-run]: everything to run an attempt again
 * away from the lab, in one folder (docs/boards.md, "Reproducing an attempt"), then run:
 *
 *	DIR/attempt.json   the attempt as the controller has it
 *	DIR/job.json       the job as the agent judged it
 *	DIR/console.log    the recorded log
 *	DIR/tftp/          the artifacts (fetched by sha256, verified) and the boot script
 *	DIR/run.sh         runs it (a QEMU board: its exact command line, the console on
 *	                   the terminal) judged by `xenci-agent --judge` with the same
 *	                   rules; `run.sh --recorded` judges the recorded log
 *
 * For a QEMU board `xenci repro` runs DIR/run.sh at once (its exit status is the
 * verdict's); --no-run only fetches. XENCI_AGENT unset, an xenci-agent beside this
 * program is run.sh's (a build folder), else the one on PATH.
 *
 * With --board the attempt runs again on BOARD, a board the user holds, instead:
 * `xenci boot BOARD ATTEMPT --no-input` (the agent stages the same artifacts and
 * boot script, power-cycles it and judges its console with the attempt's job, the
 * rules of job.json); the console is detached at the verdict. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fs.h"
#include "hash.h"
#include "json-util.h"
#include "sigkey.h"

static void repro_usage(FILE *f)
{
	fprintf(
	    f, "usage: xenci repro ATTEMPT [--out DIR] [--board BOARD | --no-run]   (default DIR:\n"
	       "       repro-ATTEMPT)\n"
	       "Fetches the attempt's artifacts, boot script, job and log into DIR with a\n"
	       "run.sh that boots it here (QEMU boards) and judges it with the agent's rules,\n"
	       "and runs it: the console on the terminal, then the verdict; exits 0 on pass.\n"
	       "--no-run: fetch only. For another board run.sh judges the recorded log.\n"
	       "--board: runs it on BOARD, which you hold (xenci reserve), judged the same way\n"
	       "by its agent; exits 0 on pass. run.sh's XENCI_AGENT names the xenci-agent\n"
	       "program (default: on PATH).\n");
}

/* Writes len bytes to dir/name; 0 or -1 (said on stderr). */
static int put_file(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fwrite(p, 1, len, f) != len)
		rc = -1;
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "xenci repro: cannot write %s\n", path);
	return rc;
}

static int put_json(const char *dir, const char *name, const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = put_file(dir, name, s, strlen(s));

	free(s);
	return rc;
}

/* GETs path into dir/name; when sha is set the file must hash to it. */
static int fetch(struct http_client *c, const char *path, const char *dir, const char *name,
		 const char *sha)
{
	char file[4096], got[SHA256_HEX_LEN + 1];
	struct http_reply r;
	FILE *f;
	int rc;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	f = fopen(file, "w");
	if (f == NULL) {
		fprintf(stderr, "xenci repro: cannot write %s\n", file);
		return -1;
	}
	http_reply_init(&r);
	rc = http_download(c, path, f, 0, &r);
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "xenci repro: GET %s: %s\n", path, r.error[0] ? r.error : "failed");
	http_reply_release(&r);
	if (rc == 0 && sha && (sha256_file(got, file, NULL) < 0 || strcmp(got, sha))) {
		fprintf(stderr, "xenci repro: %s: sha256 %s, not %s\n", file, got, sha);
		rc = -1;
	}
	return rc;
}

/* One shell word: 'text', with ${TFTP} left for the shell ("$TFTP"). */
static void sh_word(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (!strncmp(s, "${TFTP}", 7)) {
			buf_puts(b, "'\"$TFTP\"'");
			s += 6;
		} else if (*s == '\'') {
			buf_puts(b, "'\\''");
		} else {
			buf_putc(b, *s);
		}
	}
	buf_putc(b, '\'');
}

static int write_run_sh(const char *dir, long long id, const json_t *a, const json_t *argv)
{
	struct buf b = BUF_INIT(1024 * 1024);
	char path[4096];
	const json_t *w;
	size_t i;
	int rc;

	buf_printf(&b,
		   "#!/bin/sh\n"
		   "# xenci repro of attempt %lld: job %s on board %s (%s), verdict %s.\n"
		   "# ./run.sh             run it here and judge it with the agent's rules\n"
		   "# ./run.sh --recorded  judge the log the lab recorded (console.log)\n"
		   "# XENCI_AGENT names the xenci-agent program (default: on PATH).\n"
		   "set -eu\n"
		   "cd \"$(dirname \"$0\")\"\n"
		   "TFTP=\"$PWD/tftp\"\n"
		   "agent=${XENCI_AGENT:-xenci-agent}\n"
		   "if [ \"${1:-}\" = --recorded ]; then\n"
		   "\texec \"$agent\" --judge job.json console.log\n"
		   "fi\n",
		   id, jstr(a, "job", "?"), jstr(a, "board", "?"), jstr(a, "arch", "?"),
		   jstr(a, "state", "?"));
	if (json_array_size(argv)) {
		buf_puts(&b, "exec \"$agent\" --judge job.json --");
		json_array_foreach (argv, i, w) {
			buf_puts(&b, " \\\n\t");
			sh_word(&b, json_string_value(w));
		}
		buf_puts(&b, "\n");
	} else {
		buf_puts(&b, "echo \"board $(basename \"$PWD\"): not a QEMU board: boot tftp/ on "
			     "one like it; judging the recorded log\" >&2\n"
			     "exec \"$agent\" --judge job.json console.log\n");
	}
	rc = put_file(dir, "run.sh", b.data, b.len);
	buf_release(&b);
	snprintf(path, sizeof(path), "%s/run.sh", dir);
	if (rc == 0 && chmod(path, 0755) < 0)
		rc = -1;
	return rc;
}

/* Runs attempt id again on board (held by the user): `xenci boot BOARD ATTEMPT
 * --no-input`, which the board's agent judges with the attempt's job (the rules
 * of job.json); the exit status, 0 on pass. */
static int repro_on_board(long long id, const char *board)
{
	json_t *boot = json_pack("{s:I}", "attempt", (json_int_t)id);
	int rc = cli_console_run(board, boot, 0);

	json_decref(boot);
	return rc;
}

/* Runs dir/run.sh here: its exit status (0 pass, 1 not), 1 when it cannot run. */
static int repro_here(const char *dir)
{
	char self[4096], agent[4200], run[4200], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int status = -1;
	pid_t pid;

	/* xenci run from a build folder: its xenci-agent, when XENCI_AGENT does not say */
	if ((getenv("XENCI_AGENT") == NULL || !*getenv("XENCI_AGENT")) && n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			snprintf(agent, sizeof(agent), "%.*s/xenci-agent", (int)(slash - self),
				 self);
			if (access(agent, X_OK) == 0)
				setenv("XENCI_AGENT", agent, 1);
		}
	}
	snprintf(run, sizeof(run), "%s/run.sh", dir);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		execl(run, run, (char *)NULL);
		fprintf(stderr, "xenci repro: cannot run %s: %s\n", run, strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "xenci repro: cannot run %s\n", run);
		return 1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int cmd_repro(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"board", required_argument, NULL, 'b'},
	    {"no-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *name, *board = NULL;
	char dflt[64], path[160], tftp[4096], *end;
	struct http_client c;
	json_t *a = NULL, *repro, *art;
	long long id;
	int ch, rc = 1, run = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'b':
			board = optarg;
			break;
		case 'n':
			run = 0;
			break;
		case 'h':
			repro_usage(stdout);
			return 0;
		default:
			repro_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || (id = strtoll(argv[optind], &end, 10)) <= 0 || *end ||
	    (board && !run)) {
		repro_usage(stderr);
		return 2;
	}
	if (out == NULL) {
		snprintf(dflt, sizeof(dflt), "repro-%lld", id);
		out = dflt;
	}
	if (cli_client(&c) < 0)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld", id);
	if (cli_get_json(&c, path, &a) < 0)
		goto out;
	repro = json_object_get(json_object_get(a, "result"), "repro");
	if (!json_is_object(repro) || !json_is_object(json_object_get(repro, "job"))) {
		fprintf(stderr,
			"xenci repro: attempt %lld has nothing to reproduce (a build, not "
			"finished, never staged, or from an agent before repro)\n",
			id);
		goto out;
	}
	snprintf(tftp, sizeof(tftp), "%s/tftp", out);
	if (mkdir_p(tftp) < 0) {
		fprintf(stderr, "xenci repro: cannot make %s\n", tftp);
		goto out;
	}
	if (put_json(out, "attempt.json", a) < 0 ||
	    put_json(out, "job.json", json_object_get(repro, "job")) < 0)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/attempts/%lld/log", id);
	if (fetch(&c, path, out, "console.log", NULL) < 0)
		goto out;
	json_object_foreach (json_object_get(repro, "artifacts"), name, art) {
		const char *sha = jstr(art, "sha256", "");

		if (strchr(name, '/') || name[0] == '.' || !sha256_is_hex(sha)) {
			fprintf(stderr, "xenci repro: a bad artifact \"%.64s\"\n", name);
			goto out;
		}
		snprintf(path, sizeof(path), "/api/v1/artifacts/%s", sha);
		if (fetch(&c, path, tftp, name, sha) < 0)
			goto out;
	}
	if (jstr(repro, "boot_file", NULL)) {
		const char *bf = jstr(repro, "boot_file", ""),
			   *b64 = jstr(repro, "boot_script", "");
		unsigned char *script = NULL;
		size_t len = 0;

		if (strchr(bf, '/') || bf[0] == '.' ||
		    base64_decode(&script, &len, b64, strlen(b64)) < 0 ||
		    put_file(tftp, bf, script, len) < 0) {
			fprintf(stderr, "xenci repro: a bad boot script \"%.64s\"\n", bf);
			free(script);
			goto out;
		}
		free(script);
	}
	if (write_run_sh(out, id, a, json_object_get(repro, "qemu_argv")) < 0)
		goto out;
	printf("attempt %lld (%s, %s on %s) is in %s: %s/run.sh\n", id, jstr(a, "state", "?"),
	       jstr(a, "job", "?"), jstr(a, "board", "?"), out, out);
	rc = 0;
	if (board)
		rc = repro_on_board(id, board);
	else if (run && json_array_size(json_object_get(repro, "qemu_argv")))
		rc = repro_here(out);
	else if (run)
		fprintf(
		    stderr,
		    "xenci repro: %s is not a QEMU board: nothing runs here (%s/run.sh judges the "
		    "recorded log); `xenci repro %lld --board BOARD` runs it on a board you hold\n",
		    jstr(a, "board", "?"), out, id);
out:
	json_decref(a);
	http_client_release(&c);
	return rc;
}
