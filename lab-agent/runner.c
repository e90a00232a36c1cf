#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "client.h"
#include "clock.h"
#include "console.h"
#include "fs.h"
#include "judge.h"
#include "json-util.h"
#include "log.h"
#include "netboot.h"
#include "power.h"
#include "prompts.h"
#include "sign.h"
#include "sigkey.h"
#include "spool.h"
#include "xmalloc.h"

#define CONSOLE_OPEN_MS 10000
#define CONSOLE_LOST_MS 10000

/* What the console gave an attempt: noted at its end. */
struct console_count {
	long long bytes, reads;
};

struct sink {
	struct spool_attempt *sa;
	struct sender *snd;
	int failed;
	/* while batching, the judge's pieces of one console read (each line's prefix,
	 * text and end: 7 writes a read) gather here for one spool write */
	int batching;
	struct buf batch;
};

static void sink_write(struct sink *s, const void *p, size_t n)
{
	int rc;

	if (s->failed || n == 0)
		return;
	rc = spool_append(s->sa, p, n);
	if (rc < 0) {
		/* the judge bounds the log below the spool's bound: this is a disk error */
		log_warnx("attempt %lld: cannot spool the log: %s", s->sa->id, strerror(-rc));
		s->failed = 1;
		return;
	}
	sender_wrote(s->snd, s->sa->written);
}

#define SINK_BATCH_MAX (256 * 1024)

static void sink_flush(struct sink *s)
{
	sink_write(s, s->batch.data, s->batch.len);
	buf_reset(&s->batch);
}

/* The judge's log bytes go to the spool, and the sender hears of them. */
static void log_sink(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	if (s->batching) {
		if (s->batch.len + n > SINK_BATCH_MAX)
			sink_flush(s);
		if (buf_append(&s->batch, p, n) == 0)
			return;
	}
	sink_write(s, p, n);
}

/* One console read through the judge, its log in one spool write. */
static void feed_batched(struct judge *j, struct sink *s, const void *p, size_t n, long long now_ms)
{
	s->batching = 1;
	judge_feed(j, p, n, now_ms);
	s->batching = 0;
	sink_flush(s);
}

/* Boot arguments are one word per value: spaces and double quotes percent-escaped. */
static int escape_value(struct buf *out, const char *v)
{
	for (; *v; v++) {
		int rc = *v == ' '   ? buf_puts(out, "%20")
			 : *v == '"' ? buf_puts(out, "%22")
				     : buf_putc(out, *v);

		if (rc < 0)
			return rc;
	}
	return 0;
}

struct boot_arg_env {
	const json_t *bi;
	const char *arch, *board;
	char attempt[32];
};

/* ${attempt}, ${board}, ${arch} and any string of the attempt's build_info. */
static const char *boot_arg_lookup(void *arg, const char *name, size_t len)
{
	const struct boot_arg_env *env = arg;
	char key[64];

	if (len >= sizeof(key))
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	if (!strcmp(key, "attempt"))
		return env->attempt;
	if (!strcmp(key, "board"))
		return env->board;
	if (!strcmp(key, "arch"))
		return jstr(env->bi, "arch", env->arch);
	if (json_is_string(json_object_get(env->bi, key)))
		return jstr(env->bi, key, "");
	return NULL;
}

char *runner_boot_args(const json_t *attempt, const struct board *b, const char *which)
{
	const json_t *boot = json_object_get(json_object_get(attempt, "job"), "boot");
	const char *arch = jstr(attempt, "arch", "");
	const json_t *per = json_object_get(json_object_get(boot, "arch"), arch);
	struct boot_arg_env env = {json_object_get(attempt, "build_info"), arch, b->name, ""};
	/* the board's, the job's, the job's for the arch: each one's words after the last */
	const char *parts[] = {jstr(b->boot, which, NULL), jstr(boot, which, NULL),
			       jstr(per, which, NULL)};
	struct buf raw = BUF_INIT(65536), out = BUF_INIT(65536);
	char *s;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i])
			buf_printf(&raw, "%s%s", raw.len ? " " : "", parts[i]);
	snprintf(env.attempt, sizeof(env.attempt), "%lld", jint(attempt, "id", 0));
	netboot_expand(&out, buf_cstr(&raw), boot_arg_lookup, &env, escape_value);
	buf_release(&raw);
	s = buf_detach(&out, NULL);
	return s ? s : xstrdup("");
}

/* Fetches and links every artifact of the attempt into the TFTP folder. */
static int stage_artifacts(struct agent *ag, struct board *b, const json_t *attempt,
			   struct judge *j, char *err, size_t errlen)
{
	const json_t *arts = json_object_get(attempt, "artifacts"), *a;
	struct http_client h;
	const char *name;
	int rc = 0, e;

	if ((e = mkdir_p(b->tftp_dir)) < 0) {
		snprintf(err, errlen, "staging: cannot make %s: %s", b->tftp_dir, strerror(-e));
		return -1;
	}
	if (!json_is_object(arts) || json_object_size(arts) == 0)
		return 0;
	client_init(&h, &ag->cfg);
	h.timeout_ms = 0; /* big files on slow links: the connect timeout still holds */
	json_object_foreach ((json_t *)arts, name, a) {
		const char *sha = jstr(a, "sha256", "");
		char *cached = NULL, *dst;

		if (strchr(name, '/') || name[0] == '.' || !name[0]) {
			snprintf(err, errlen, "staging: bad artifact name \"%.64s\"", name);
			rc = -1;
			break;
		}
		if (cache_get(&ag->cache, &h, sha, jint(a, "size", -1), &cached, err, errlen) < 0) {
			rc = -1;
			break;
		}
		dst = xasprintf("%s/%s", b->tftp_dir, name);
		rc = cache_stage(cached, dst, err, errlen);
		if (rc == 0 && j)
			judge_note(j, clock_mono_ms(), "staged %s (sha256 %.16s…)", name, sha);
		free(dst);
		free(cached);
		if (rc < 0)
			break;
	}
	http_client_release(&h);
	return rc;
}

static int write_netboot(struct board *b, const json_t *attempt, char *err, size_t errlen)
{
	char *xa = runner_boot_args(attempt, b, "xen_args");
	char *da = runner_boot_args(attempt, b, "dom0_args");
	const json_t *boot = json_object_get(json_object_get(attempt, "job"), "boot");
	const json_t *dl = json_object_get(boot, "dom0less");
	/* the job's boot.initrd: dom0-initrd, or dom0-rootfs (with the tools) */
	struct netboot_vars v = {.xen = "xen",
				 .xen_args = xa,
				 .kernel = "dom0-kernel",
				 .kernel_args = da,
				 .initrd = jstr(boot, "initrd", "dom0-initrd"),
				 .domus = (int)jint(dl, "domus", 0),
				 .domu_memory_mb = (int)jint(dl, "memory_mb", 256),
				 .domu_cpus = (int)jint(dl, "cpus", 1),
				 .dom0 = !json_is_false(json_object_get(dl, "dom0"))};
	int rc;

	netboot_script_forget();
	if (v.domus > 0 && strcmp(b->netboot->name, "uboot")) {
		snprintf(err, errlen,
			 "boot.dom0less: the %s netboot backend cannot start dom0less "
			 "domUs (U-Boot boards only)",
			 b->netboot->name);
		rc = -1;
	} else {
		rc = b->netboot->write(b, &v, err, errlen);
	}

	free(xa);
	free(da);
	return rc;
}

int runner_stage(struct agent *ag, struct board *b, const json_t *attempt, struct judge *j,
		 char *err, size_t errlen)
{
	if (stage_artifacts(ag, b, attempt, j, err, errlen) < 0 ||
	    write_netboot(b, attempt, err, errlen) < 0)
		return -1;
	if (j)
		judge_note(j, clock_mono_ms(), "boot script written (%s)", b->netboot->name);
	return 0;
}

#define REPRO_SCRIPT_MAX (192 * 1024)

/* What `xenci repro` needs to run the attempt again away from the lab (the
 * result's "repro", docs/api.md): the job as judged, the artifacts, the boot
 * script as staged (base64: U-Boot's is binary) and, for a QEMU board, its
 * command line. */
static json_t *repro_info(const struct board *b, const json_t *attempt)
{
	json_t *r = json_object();
	const char *bootfile = b->netboot->bootfile ? b->netboot->bootfile(b) : NULL;
	char *path = bootfile ? xasprintf("%s/%s", b->tftp_dir, bootfile) : NULL, *data = NULL;
	size_t len = 0;

	json_object_set(r, "artifacts", json_object_get(attempt, "artifacts"));
	json_object_set(r, "job", json_object_get(attempt, "job"));
	if (path && file_read(&data, &len, path, REPRO_SCRIPT_MAX) == 0) {
		char *b64 = base64_encode(data, len);

		json_object_set_new(r, "boot_file", json_string(bootfile));
		json_object_set_new(r, "boot_script", json_string(b64));
		free(b64);
	}
	free(data);
	free(path);
	if (b->power == &power_qemu_ops)
		json_object_set_new(r, "qemu_argv", power_qemu_repro_argv(b));
	return r;
}

static const char *current_stage(const struct judge *j)
{
	return j->cur < j->nstages ? j->stages[j->cur].name : "";
}

/* s as a note shows it: printable ASCII as it is, the rest as C escapes. */
static void escape_bytes(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; *s && o + 5 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r' || c == '\n' || c == '\\' || c == '"')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c",
					      c == '\r'	  ? 'r'
					      : c == '\n' ? 'n'
							  : (char)c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Answers the firmware prompts (prompts.h) that came in a console read. */
static void answer_prompts(struct board *b, int fd, struct judge *j, struct prompts *pr,
			   const char *data, size_t n, long long now_ms)
{
	size_t i, used;
	enum prompts_event ev;

	while ((ev = prompts_scan(pr, data, n, now_ms, &i, &used)) != PROMPTS_NONE) {
		const char *send = prompts_send(pr, i);
		char shown[64];
		int rc;

		if (ev == PROMPTS_EXPIRED) {
			judge_note(j, now_ms,
				   "prompt \"%s\" did not come within %d s of the last "
				   "answer: no more answers",
				   prompts_expect(pr, i), PROMPTS_NEXT_MS / 1000);
			return;
		}
		escape_bytes(shown, sizeof(shown), send);
		rc = console_write(b, fd, send, strlen(send));
		if (rc < 0)
			judge_note(j, now_ms, "prompt \"%s\": cannot answer: %s",
				   prompts_expect(pr, i), strerror(-rc));
		else
			judge_note(j, now_ms, "prompt \"%s\" answered \"%s\"",
				   prompts_expect(pr, i), shown);
		data += used;
		n -= used;
	}
}

/* Reads the console until the judge has a verdict, answering the firmware's
 * prompts (pr) as they come. */
static void watch_console(struct run *r, struct board *b, struct judge *j, struct sink *sink,
			  int *fd, struct console_count *cc, struct prompts *pr)
{
	struct sender *snd = sink->snd;
	char buf[65536];
	long long lost_at = 0, last_read = 0;
	size_t last_stage = (size_t)-1;
	char lost_why[512];
	int read_errno;

	while (j->verdict == VERDICT_NONE) {
		long long now = clock_mono_ms(), wait = judge_next_deadline_ms(j, now);
		struct pollfd p = {.fd = *fd, .events = POLLIN};
		ssize_t n;

		if (r->ag->stopping) {
			judge_end(j, now, VERDICT_INFRA,
				  "the agent is stopping: the attempt is handed back");
			break;
		}
		if (sender_lapsed(snd)) {
			judge_end(j, now, VERDICT_INFRA, "the lease lapsed");
			break;
		}
		if (j->cur != last_stage) {
			last_stage = j->cur;
			sender_set_stage(snd, current_stage(j));
		}
		if (wait > 100)
			wait = 100;
		if (*fd < 0) {
			char err[256];

			/* a lost TCP console: try again until it is back or too late */
			if (b->console->open(b, fd, 200, err, sizeof(err)) == 0) {
				judge_note(j, clock_mono_ms(), "console reconnected");
				lost_at = 0;
			} else if (clock_mono_ms() - lost_at > CONSOLE_LOST_MS) {
				judge_end(j, clock_mono_ms(), VERDICT_INFRA, "console lost");
				break;
			}
			judge_tick(j, clock_mono_ms());
			continue;
		}
		if (last_read && now - last_read < RUNNER_READ_EVERY_MS &&
		    !b->console->read_at_once && !console_buffered(b)) {
			long long nap = last_read + RUNNER_READ_EVERY_MS - now;

			usleep((useconds_t)(nap < wait ? nap : wait) * 1000);
			now = clock_mono_ms();
			wait = judge_next_deadline_ms(j, now);
			if (wait > 100)
				wait = 100;
		}
		if (console_buffered(b) || poll(&p, 1, (int)wait) > 0) {
			n = console_read(b, *fd, buf, sizeof(buf));
			if (n > 0) {
				last_read = clock_mono_ms();
				cc->bytes += n;
				cc->reads++;
				feed_batched(j, sink, buf, (size_t)n, last_read);
				answer_prompts(b, *fd, j, pr, buf, (size_t)n, last_read);
				continue;
			}
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			/* the console closed */
			read_errno = errno;
			b->console->close(b, *fd);
			*fd = -1;
			if (b->console->lost &&
			    b->console->lost(b, n, read_errno, lost_why, sizeof(lost_why))) {
				judge_end(j, clock_mono_ms(), VERDICT_INFRA, lost_why);
				break;
			}
			/* a console that belongs to the power (QEMU's socket) closes when
			 * the board stops: give the process a moment to be seen gone */
			if (b->power->alive && b->console->after_power_on) {
				int k;

				for (k = 0; k < 100 && b->power->alive(b); k++)
					usleep(20 * 1000);
			}
			if (b->power->alive && !b->power->alive(b)) {
				char why[160];

				snprintf(why, sizeof(why),
					 "the board stopped (reset or powered off) while waiting "
					 "for stage %s",
					 current_stage(j)[0] ? current_stage(j) : "(none)");
				judge_end(j, clock_mono_ms(), VERDICT_FAIL, why);
				break;
			}
			judge_note(j, clock_mono_ms(), "console closed: %s",
				   n < 0 ? strerror(errno) : "end of stream");
			lost_at = clock_mono_ms();
			continue;
		}
		judge_tick(j, clock_mono_ms());
	}
}

/* After a failure pattern the next console lines say why: keep what comes
 * within JUDGE_FAIL_TAIL_MS (judge.h). */
static void keep_failure_tail(struct judge *j, struct board *b, int fd)
{
	long long end = clock_mono_ms() + JUDGE_FAIL_TAIL_MS;
	char buf[4096];

	while (fd >= 0 && clock_mono_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (!console_buffered(b) && poll(&p, 1, 100) <= 0)
			continue;
		n = console_read(b, fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		judge_feed(j, buf, (size_t)n, clock_mono_ms());
	}
}

/* Opens the board's console into *fd and notes it; -1 with the attempt ended
 * infra. */
static int open_console(struct board *b, struct judge *j, int *fd)
{
	char err[512], why[600];

	if (b->console->open(b, fd, CONSOLE_OPEN_MS, err, sizeof(err)) < 0) {
		snprintf(why, sizeof(why), "console: %s", err);
		judge_end(j, clock_mono_ms(), VERDICT_INFRA, why);
		return -1;
	}
	judge_note(j, clock_mono_ms(), "console open (%s)", b->console->name);
	return 0;
}

static void *runner_main(void *arg)
{
	struct run *r = arg;
	struct agent *ag = r->ag;
	struct board *b = &ag->cfg.boards[r->board];
	long long id = jint(r->attempt, "id", 0);
	struct spool_attempt *sa = NULL;
	struct sender *snd = NULL;
	struct judge j;
	struct sink sink = {.batch = BUF_INIT(SINK_BATCH_MAX)};
	struct console_count cc = {0, 0};
	struct prompts pr;
	char err[512];
	json_t *result, *prompts_list;
	int fd = -1, rc, powered = 0, cycled = 0, staged = 0, cut = 0;

	log_info("attempt %lld: board %s, job %s", id, b->name,
		 jstr(json_object_get(r->attempt, "job"), "name", "?"));
	rc = spool_open(&sa, ag->cfg.spool_dir, id, r->attempt, ag->cfg.limits.log_bytes);
	if (rc < 0) {
		struct http_client h;
		json_t *res = json_pack("{s:s, s:s, s:i}", "verdict", "infra", "reason",
					"the agent cannot spool the attempt", "log_length", 0);

		log_warnx("attempt %lld: cannot spool: %s", id, strerror(-rc));
		agent_sign_result(res, r->attempt, &ag->cfg, NULL);
		client_init(&h, &ag->cfg);
		client_post_result(&h, id, res, err, sizeof(err));
		http_client_release(&h);
		json_decref(res);
		goto done;
	}
	if (sender_start(&snd, &ag->cfg, sa, 0) < 0) {
		spool_close(sa);
		goto done;
	}
	sink.sa = sa;
	sink.snd = snd;
	rc = judge_init(&j, json_object_get(r->attempt, "job"), ag->cfg.limits.line_max,
			ag->cfg.limits.log_bytes, err, sizeof(err));
	j.log = log_sink;
	j.arg = &sink;
	j.t0_ms = r->claimed_ms; /* until power-on, times count from the claim's reply */
	if (rc < 0) {
		judge_end(&j, clock_mono_ms(), VERDICT_INFRA, err);
		goto finish;
	}
	judge_note(&j, clock_mono_ms(), "attempt %lld on board %s (agent %s)", id, b->name,
		   ag->cfg.agent);
	if (runner_stage(ag, b, r->attempt, &j, err, sizeof(err)) < 0) {
		char why[600];

		snprintf(why, sizeof(why), "staging: %s", err);
		judge_end(&j, clock_mono_ms(), VERDICT_INFRA, why);
		goto finish;
	}
	if (!b->console->after_power_on && open_console(b, &j, &fd) < 0)
		goto finish;
	staged = 1;
	judge_start(&j, clock_mono_ms());
	judge_note(&j, clock_mono_ms(), "power on (%s)", b->power->name);
	powered = 1;
	rc = power_start(b, &cycled, err, sizeof(err));
	if (cycled)
		judge_note(&j, clock_mono_ms(), "power cycled (%s)", b->power->name);
	if (rc < 0) {
		char why[600];

		snprintf(why, sizeof(why), "power %s: %s", cycled ? "cycle" : "on", err);
		judge_end(&j, clock_mono_ms(), VERDICT_INFRA, why);
		goto finish;
	}
	if (b->console->after_power_on && open_console(b, &j, &fd) < 0)
		goto finish;
	prompts_list = netboot_prompts(b);
	prompts_init(&pr, prompts_list);
	json_decref(prompts_list);
	watch_console(r, b, &j, &sink, &fd, &cc, &pr);
	prompts_release(&pr);
	if (j.verdict == VERDICT_FAIL)
		keep_failure_tail(&j, b, fd);
	judge_note(&j, clock_mono_ms(), "console: %lld bytes in %lld reads", cc.bytes, cc.reads);
finish:
	if (powered && b->power->cut && b->power->cut(b) == 0) {
		/* off (it waits for the board to go) once the result is delivered */
		judge_note(&j, clock_mono_ms(), "power off");
		cut = 1;
	} else if (powered) {
		if (b->power->off(b, err, sizeof(err)) < 0) {
			judge_note(&j, clock_mono_ms(), "power off failed: %s", err);
			log_warnx("board %s: power off: %s", b->name, err);
		} else {
			judge_note(&j, clock_mono_ms(), "power off");
		}
	}
	if (fd >= 0)
		b->console->close(b, fd);
	if (sink.failed)
		judge_end(&j, clock_mono_ms(), VERDICT_INFRA, "the agent could not spool the log");
	result = judge_result(&j);
	if (netboot_script_sha256()[0])
		json_object_set_new(result, SIGN_BOOT_SCRIPT_MEMBER,
				    json_string(netboot_script_sha256()));
	if (staged)
		json_object_set_new(result, "repro", repro_info(b, r->attempt));
	snprintf(r->verdict, sizeof(r->verdict), "%s", jstr(result, "verdict", "?"));
	log_info("attempt %lld: %s: %s", id, r->verdict, jstr(result, "reason", ""));
	if (spool_set_result(sa, result) < 0)
		log_warnx("attempt %lld: cannot store the result", id);
	json_decref(result);
	judge_release(&j);
	buf_release(&sink.batch);
	sender_finish(snd);
	/* the board is free once the controller has everything (or the agent stops) */
	sender_wait_done(snd, &ag->stopping);
	sender_stop_free(snd, 5000);
	if (cut && b->power->off(b, err, sizeof(err)) < 0)
		log_warnx("board %s: power off: %s", b->name, err);
done:
	pthread_mutex_lock(&ag->mu);
	ag->busy[r->board] = 0;
	pthread_mutex_unlock(&ag->mu);
	r->done = 1;
	return NULL;
}

int runner_start(struct run **out, struct agent *ag, size_t bi, json_t *attempt,
		 long long claimed_ms)
{
	struct run *r = xcalloc(1, sizeof(*r));
	int rc;

	r->claimed_ms = claimed_ms;
	r->ag = ag;
	r->board = bi;
	r->attempt = attempt;
	rc = pthread_create(&r->thread, NULL, runner_main, r);
	if (rc != 0) {
		free(r);
		return -rc;
	}
	*out = r;
	return 0;
}

void runner_join_free(struct run *r)
{
	if (r == NULL)
		return;
	pthread_join(r->thread, NULL);
	json_decref(r->attempt);
	free(r);
}
