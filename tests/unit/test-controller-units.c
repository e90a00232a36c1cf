/* Controller pieces without a server: Range parsing, the route matcher, job and
 * config validation with positions, board matching, names and roles. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../controller/api.h"
#include "../../controller/auth.h"
#include "../../controller/config.h"
#include "../../controller/db.h"
#include "../../controller/http-files.h"
#include "../../controller/flights.h"
#include "../../controller/jobs.h"
#include "../../controller/perf.h"
#include "../../controller/triage.h"
#include "../../controller/watch.h"
#include "json-util.h"
#include "yaml-load.h"

static void test_range(void **state)
{
	long long a = -1, b = -1;

	(void)state;
	assert_int_equal(http_files_range(NULL, 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=0-9", 100, &a, &b), 0);
	assert_true(a == 0 && b == 9);
	assert_int_equal(http_files_range("bytes=90-", 100, &a, &b), 0);
	assert_true(a == 90 && b == 99);
	assert_int_equal(http_files_range("bytes=-10", 100, &a, &b), 0);
	assert_true(a == 90 && b == 99);
	assert_int_equal(http_files_range("bytes=-1000", 100, &a, &b), 0);
	assert_true(a == 0 && b == 99);
	assert_int_equal(http_files_range("bytes=50-5000", 100, &a, &b), 0);
	assert_true(a == 50 && b == 99);
	assert_int_equal(http_files_range("bytes=100-", 100, &a, &b), -1);
	assert_int_equal(http_files_range("bytes=0-", 0, &a, &b), -1);
	assert_int_equal(http_files_range("bytes=-0", 100, &a, &b), -1);
	assert_int_equal(http_files_range("bytes=99999999999999999999-", 100, &a, &b), -1);
	assert_int_equal(http_files_range("bytes=200-100", 100, &a, &b), 1); /* invalid beats 416 */
	/* RFC 9110 14.2: invalid ranges-specifiers are ignored (the whole file), not 416 */
	assert_int_equal(http_files_range("bytes=9-3", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=x-3", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=0-1x", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes= 0-1", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=+0-1", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=5", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=-", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=--5", 100, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=-5", 0, &a, &b), 1);
	assert_int_equal(http_files_range("bytes=0-1,5-6", 100, &a, &b), 1);
	assert_int_equal(http_files_range("items=0-1", 100, &a, &b), 1);
	/* the unit is case-insensitive; a huge last-pos is clamped */
	assert_int_equal(http_files_range("Bytes=3-99999999999999999999", 100, &a, &b), 0);
	assert_true(a == 3 && b == 99);
}

static void test_routes(void **state)
{
	struct req r;
	const struct route *rt;
	int known;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = "/api/v1/attempts/17/heartbeat";
	rt = http_route_find(&r, &known);
	assert_non_null(rt);
	assert_ptr_equal(rt->handler, api_attempt_heartbeat);
	assert_int_equal(r.nparam, 1);
	assert_string_equal(r.param[0], "17");
	r.method = "HEAD";
	r.url = "/api/v1/boards";
	assert_non_null(http_route_find(&r, &known)); /* HEAD is GET without a body */
	r.method = "DELETE";
	assert_null(http_route_find(&r, &known));
	assert_int_equal(known, 1); /* 405, not 404 */
	r.method = "GET";
	r.url = "/api/v1/boards/a/b";
	assert_null(http_route_find(&r, &known));
	assert_int_equal(known, 0);
	r.url = "/api/v1/attempts//log";
	assert_null(http_route_find(&r, &known)); /* an empty segment is no parameter */
	r.url = "/api/v1/boards/";
	assert_null(http_route_find(&r, &known));
}

static int check_job(const char *yaml, struct buf *out)
{
	struct yaml_doc doc;
	struct vctx ctx;
	char err[256];
	int rc;

	memset(&doc, 0, sizeof(doc));
	if (yaml_doc_load_buf(&doc, "j.yaml", yaml, strlen(yaml), err, sizeof(err)) < 0) {
		buf_puts(out, err);
		yaml_doc_release(&doc);
		return -1;
	}
	vctx_init(&ctx, "j.yaml", &doc);
	rc = job_validate(&ctx, doc.root);
	buf_puts(out, buf_cstr(&ctx.text));
	vctx_release(&ctx);
	yaml_doc_release(&doc);
	return rc;
}

static void test_jobs(void **state)
{
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_int_equal(
	    check_job("name: ok\nrequires: {arch: x86_64}\nartifacts: [xen]\n"
		      "stages:\n  - {name: a, pattern: 'x+', timeout: 5,"
		      " on_timeout: infra}\nboot:\n  arch:\n    arm64: {xen_args: q}\n",
		      &out),
	    0);
	buf_reset(&out);
	assert_int_equal(check_job("name: Bad_Name\nrequires: {arch: [x86_64]}\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:1:7: name: must match [a-z0-9-]+"));
	buf_reset(&out);
	assert_int_equal(check_job("name: x\nrequires: {arch: [1]}\n", &out), -1);
	buf_reset(&out);
	assert_int_equal(check_job("name: x\nrequires: {}\nstages:\n  - {name: a, pattern: '[',"
				   " timeout: 5}\n",
				   &out),
			 -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:4:"));
	assert_non_null(strstr(buf_cstr(&out), "not a valid pattern (PCRE2): missing terminating ] "
					       "for character class at offset 1"));
	buf_reset(&out);
	/* PCRE2, as LAVA and labgrid users write them: \d, \s, (?i), lazy, lookahead */
	assert_int_equal(check_job("name: x\nrequires: {}\nfailures:\n"
				   "  - {name: a, pattern: '(?i)panic on cpu \\d+\\s*$'}\n"
				   "  - {name: b, pattern: 'a.*?b(?=c)'}\n",
				   &out),
			 0);
	assert_int_equal(
	    check_job("name: x\nrequires: {}\nfailures:\n"
		      "  - {name: a, pattern: 'ok'}\n  - {name: b, pattern: 'x(?<n'}\n",
		      &out),
	    -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:5:"));
	assert_non_null(
	    strstr(buf_cstr(&out), "failures[1].pattern: not a valid pattern (PCRE2): "));
	assert_non_null(strstr(buf_cstr(&out), "at offset 5"));
	/* expected test cases (LAVA's expected:): a list of names */
	assert_int_equal(check_job("name: x\nrequires: {}\nexpected: [a, b-1]\n", &out), 0);
	buf_reset(&out);
	assert_int_equal(check_job("name: x\nrequires: {}\nexpected: [a, [b]]\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:3:15: expected[1]"));
	buf_reset(&out);
	assert_int_equal(
	    check_job("name: x\nrequires: {}\nboot: {arch: {x86_64: {colour: 1}}}\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "colour"));
	buf_reset(&out);
	assert_int_equal(check_job("name: x\nrequires: {}\nextra: 1\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:3:1: extra: unknown field"));
	buf_reset(&out);
	/* artifacts are what a build makes; boot.initrd names one of the job's */
	assert_int_equal(check_job("name: x\nrequires: {}\nartifacts: [xen, dom0-rootfs, tools]\n"
				   "boot: {initrd: dom0-rootfs}\n",
				   &out),
			 0);
	assert_int_equal(check_job("name: x\nrequires: {}\nartifacts: [xen, toolz]\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:3:18: artifacts[1]: unknown"));
	assert_non_null(strstr(buf_cstr(&out), "tools, dom0-rootfs"));
	buf_reset(&out);
	assert_int_equal(check_job("name: x\nrequires: {}\nartifacts: [xen, dom0-initrd]\n"
				   "boot: {initrd: dom0-rootfs}\n",
				   &out),
			 -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:4:16: boot.initrd: is not one of the "
					       "job's artifacts"));
	buf_reset(&out);
	assert_int_equal(check_job("name: x\nrequires: {}\nboot: {initrd: xen}\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "boot.initrd: unknown"));
	buf_release(&out);
}

/* Variants: validated (names, no name twice, file:line:col) and expanded into
 * one job per variant named JOB/VARIANT whose boot arguments end with the
 * variant's; a job without variants is itself. */
static void test_job_variants(void **state)
{
	static const char job[] =
	    "name: s\nrequires: {class: c1}\n"
	    "boot: {xen_args: \"a=1\", arch: {x86_64: {xen_args: c}}}\n"
	    "variants:\n"
	    "  - {name: rtds, xen_args: sched=rtds, dom0_args: xenci.sched=rtds}\n"
	    "  - {name: \"null\", xen_args: sched=null}\n"
	    "  - {name: gran, requires: {tags: [smt], class: c2}, xen_args: sched-gran=core}\n";
	struct buf out = BUF_INIT(0);
	struct yaml_doc doc;
	json_t *all, *one;
	char err[256];

	(void)state;
	assert_int_equal(check_job(job, &out), 0);
	assert_int_equal(check_job("name: s\nrequires: {}\nvariants:\n  - {name: a}\n"
				   "  - {name: Bad}\n",
				   &out),
			 -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:5:12: variants[1].name: must match"));
	buf_reset(&out);
	assert_int_equal(check_job("name: s\nrequires: {}\nvariants:\n  - {name: a}\n"
				   "  - {name: a, xen_args: x}\n",
				   &out),
			 -1);
	assert_non_null(
	    strstr(buf_cstr(&out), "j.yaml:5:12: variants[1].name: variant \"a\" twice"));
	buf_reset(&out);
	assert_int_equal(
	    check_job("name: s\nrequires: {}\nvariants:\n  - {name: a, requires: {Bad: 1}}\n",
		      &out),
	    -1);
	assert_non_null(
	    strstr(buf_cstr(&out), "j.yaml:4:31: variants[0].requires.Bad: unknown requirement"));
	buf_reset(&out);
	assert_int_equal(check_job("name: s\nrequires: {}\nvariants: []\n", &out), -1);
	assert_non_null(strstr(buf_cstr(&out), "j.yaml:3:11: variants: must list at least one"));
	buf_release(&out);

	memset(&doc, 0, sizeof(doc));
	assert_int_equal(yaml_doc_load_buf(&doc, "j.yaml", job, strlen(job), err, sizeof(err)), 0);
	all = job_expand(doc.root);
	assert_int_equal(json_array_size(all), 3);
	one = json_array_get(all, 0);
	assert_string_equal(jstr(one, "name", ""), "s/rtds");
	assert_string_equal(jstr(one, "job", ""), "s");
	assert_string_equal(jstr(one, "variant", ""), "rtds");
	assert_null(json_object_get(one, "variants"));
	assert_string_equal(jstr(json_object_get(one, "boot"), "xen_args", ""), "a=1 sched=rtds");
	assert_string_equal(jstr(json_object_get(one, "boot"), "dom0_args", ""),
			    "xenci.sched=rtds");
	one = json_array_get(all, 1);
	assert_string_equal(jstr(one, "name", ""), "s/null");
	assert_string_equal(jstr(json_object_get(one, "boot"), "xen_args", ""), "a=1 sched=null");
	assert_null(json_object_get(json_object_get(one, "boot"), "dom0_args"));
	/* a variant's requires are added to the job's, its keys replacing them */
	assert_null(json_object_get(json_object_get(one, "requires"), "tags"));
	assert_string_equal(jstr(json_object_get(one, "requires"), "class", ""), "c1");
	one = json_array_get(all, 2);
	assert_string_equal(jstr(one, "name", ""), "s/gran");
	assert_string_equal(jstr(json_object_get(one, "requires"), "class", ""), "c2");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(json_object_get(one, "requires"), "tags"), 0)),
			    "smt");
	json_decref(all);
	/* the document itself is left as it was */
	assert_non_null(json_object_get(doc.root, "variants"));
	json_object_del(doc.root, "variants");
	all = job_expand(doc.root);
	assert_int_equal(json_array_size(all), 1);
	assert_string_equal(jstr(json_array_get(all, 0), "name", ""), "s");
	json_decref(all);
	yaml_doc_release(&doc);
}

/* A variant's own dom0less domUs, initrd, stages and expected replace the job's
 * (xen-dom0less/nodom0); boot.dom0less is checked with file:line:col. */
static void test_job_variant_overrides(void **state)
{
	static const char job[] =
	    "name: d\nrequires: {}\ntestcases: [tap]\n"
	    "boot: {initrd: dom0-rootfs, dom0less: {domus: 2}}\n"
	    "artifacts: [xen, dom0-rootfs, domu-initrd]\n"
	    "stages: [{name: up, pattern: UP, timeout: 9}]\nexpected: [a, b]\n"
	    "variants:\n"
	    "  - {name: dom0}\n"
	    "  - {name: nodom0, initrd: dom0-initrd, dom0less: {domus: 1, dom0: false},\n"
	    "     stages: [{name: d1, pattern: 'DOM1: ', timeout: 5}], expected: []}\n";
	struct buf out = BUF_INIT(0);
	struct yaml_doc doc;
	json_t *all, *one, *dl;
	char err[256];

	(void)state;
	assert_int_equal(check_job(job, &out), 0);
	assert_int_equal(check_job("name: d\nrequires: {}\nboot: {dom0less: {domus: 9}}\n", &out),
			 -1);
	assert_non_null(
	    strstr(buf_cstr(&out), "j.yaml:3:26: boot.dom0less.domus: 9 is out of range"));
	buf_reset(&out);
	assert_int_equal(check_job("name: d\nrequires: {}\nvariants:\n"
				   "  - {name: a, dom0less: {dom0: false}}\n",
				   &out),
			 -1);
	assert_non_null(strstr(
	    buf_cstr(&out), "j.yaml:4:25: variants[0].dom0less: missing required field \"domus\""));
	buf_release(&out);

	memset(&doc, 0, sizeof(doc));
	assert_int_equal(yaml_doc_load_buf(&doc, "j.yaml", job, strlen(job), err, sizeof(err)), 0);
	all = job_expand(doc.root);
	assert_int_equal(json_array_size(all), 2);
	one = json_array_get(all, 0);
	assert_string_equal(jstr(one, "name", ""), "d/dom0");
	assert_string_equal(jstr(json_object_get(one, "boot"), "initrd", ""), "dom0-rootfs");
	dl = json_object_get(json_object_get(one, "boot"), "dom0less");
	assert_int_equal(json_integer_value(json_object_get(dl, "domus")), 2);
	assert_int_equal(json_array_size(json_object_get(one, "expected")), 2);
	assert_string_equal(jstr(json_array_get(json_object_get(one, "stages"), 0), "name", ""),
			    "up");
	one = json_array_get(all, 1);
	assert_string_equal(jstr(one, "name", ""), "d/nodom0");
	assert_string_equal(jstr(json_object_get(one, "boot"), "initrd", ""), "dom0-initrd");
	dl = json_object_get(json_object_get(one, "boot"), "dom0less");
	assert_int_equal(json_integer_value(json_object_get(dl, "domus")), 1);
	assert_true(json_is_false(json_object_get(dl, "dom0")));
	assert_int_equal(json_array_size(json_object_get(one, "expected")), 0);
	assert_string_equal(jstr(json_array_get(json_object_get(one, "stages"), 0), "name", ""),
			    "d1");
	json_decref(all);
	yaml_doc_release(&doc);
}

static void test_config(void **state)
{
	struct ctl_config c;
	struct buf err = BUF_INIT(0);
	char path[] = "/tmp/xenci-config-XXXXXX";
	int fd = mkstemp(path);
	const char *good =
	    "listen: 0.0.0.0:9000\nlease_seconds: 5\ntls: {cert: c.pem, key: k.pem}\n"
	    "trees: {xen: {source: /x}}\nrecords: {require_signed: true}\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (int)strlen(good));
	close(fd);
	config_init(&c);
	assert_int_equal(c.require_signed, 0); /* a file that does not name it */
	assert_int_equal(config_load(&c, path, &err), 0);
	assert_int_equal(c.require_signed, 1);
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_int_equal(c.lease_seconds, 5);
	assert_int_equal(c.max_attempts, 3);
	assert_string_equal(c.tls_key, "k.pem");
	assert_non_null(trees_conf_find(c.trees, "xen"));
	config_release(&c);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "max_attempts: 0\ntls: {cert: x}\nlisten: [1]\n", 43), 43);
	close(fd);
	config_init(&c);
	assert_int_equal(config_load(&c, path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), ":1:15: max_attempts: 0 is out of range"));
	assert_non_null(strstr(buf_cstr(&err), "missing required field \"key\""));
	assert_non_null(strstr(buf_cstr(&err), ":3:9: listen: must be a string"));
	config_release(&c);
	/* The trees are checked by the same table, at their file:line:col. */
	buf_reset(&err);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "trees:\n  xen: {source: /x, colour: 1}\n  arm: 3\n", 47), 47);
	close(fd);
	config_init(&c);
	assert_int_equal(config_load(&c, path, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), ":2:21: trees.xen.colour: unknown field"));
	assert_non_null(strstr(buf_cstr(&err), ":3:8: trees.arm: must be a mapping"));
	config_release(&c);
	unlink(path);
	buf_release(&err);
}

static void test_matching(void **state)
{
	json_t *job = json_loads("{\"requires\": {\"arch\": [\"x86_64\", \"arm64\"],"
				 " \"tags\": [\"qemu\"]}}",
				 0, NULL);
	json_t *b1 = json_loads("{\"name\": \"a\", \"arch\": \"arm64\", \"class\": \"virt\","
				" \"tags\": [\"qemu\", \"fast\"]}",
				0, NULL);
	json_t *b2 = json_loads("{\"name\": \"b\", \"arch\": \"arm64\", \"class\": \"virt\","
				" \"tags\": [\"fast\"]}",
				0, NULL);
	json_t *b3 = json_loads("{\"name\": \"c\", \"arch\": \"riscv64\", \"class\": \"virt\","
				" \"tags\": [\"qemu\"]}",
				0, NULL);
	json_t *pinned = json_loads("{\"requires\": {\"board\": \"b\"}}", 0, NULL);

	(void)state;
	assert_true(job_matches_board(job, b1));
	assert_false(job_matches_board(job, b2)); /* lacks a tag */
	assert_false(job_matches_board(job, b3)); /* another arch */
	assert_true(job_matches_board(pinned, b2));
	assert_false(job_matches_board(pinned, b1));
	assert_int_equal(priority_parse("gate"), 0);
	assert_int_equal(priority_parse("background"), 3);
	assert_int_equal(priority_parse("urgent"), -1);
	json_decref(job);
	json_decref(b1);
	json_decref(b2);
	json_decref(b3);
	json_decref(pinned);
}

static void test_names_roles(void **state)
{
	(void)state;
	assert_true(auth_name_valid("lab-acme.1_x"));
	assert_false(auth_name_valid(""));
	assert_false(auth_name_valid("-lab"));
	assert_false(auth_name_valid("a/b"));
	assert_false(auth_name_valid("a b"));
	assert_false(auth_name_valid("0123456789012345678901234567890123456789012345678901234567890"
				     "12345"));
	assert_int_equal(role_parse("agent"), ROLE_AGENT);
	assert_int_equal(role_parse("root"), ROLE_NONE);
	assert_int_equal(role_parse(NULL), ROLE_NONE);
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
}

/* Each verdict class has one name, read back, and OSSTest's words. */
static void test_triage_words(void **state)
{
	struct triage_row r = {.job = "smoke", .board_class = "q35"};
	enum triage_class c;
	char text[64];
	json_t *j;

	(void)state;
	for (int i = 0; i < TRIAGE_CLASS_N; i++) {
		assert_true(triage_class_name((enum triage_class)i)[0]);
		assert_int_equal(triage_class_of(&c, triage_class_name((enum triage_class)i)), 0);
		assert_int_equal(c, i);
	}
	assert_string_equal(triage_class_name(TRIAGE_CLASS_N), "");
	assert_int_equal(triage_class_of(&c, "flaky"), -EINVAL);
	r.cls = TRIAGE_REGRESSION, r.baseline = 12;
	assert_string_equal(triage_row_text(text, sizeof(text), &r), "REGR. vs. 12");
	r.cls = TRIAGE_STILL_FAILING;
	assert_string_equal(triage_row_text(text, sizeof(text), &r), "like 12");
	r.cls = TRIAGE_NEVER_PASSED;
	assert_string_equal(triage_row_text(text, sizeof(text), &r), "never pass");
	r.cls = TRIAGE_HEISENBUG, r.retest = 14;
	assert_string_equal(triage_row_text(text, sizeof(text), &r), "pass in 14-retest");
	r.cls = TRIAGE_BLOCKED;
	assert_string_equal(triage_row_text(text, sizeof(text), &r), "blocked");
	r.cls = TRIAGE_REGRESSION, r.blocking = 1;
	j = triage_row_json(&r);
	assert_string_equal(jstr(j, "verdict_class", ""), "regression");
	assert_string_equal(jstr(j, "class", ""), "q35");
	assert_int_equal(jint(j, "baseline", 0), 12);
	assert_true(json_is_true(json_object_get(j, "blocking")));
	json_decref(j);
}

/* perf.h's judgement: a quiet board's spread is its floor (5 % of the median), so
 * 30 % later is slower and 4 % is not; a noisy board's own spread hides 30 %; too
 * few earlier times judge nothing. */
static void test_perf_judge(void **state)
{
	double quiet[] = {2.0, 2.02, 1.98, 2.04, 1.96}, noisy[] = {2.0, 2.5, 1.5, 2.4, 1.6};
	double median, spread;
	int slower;

	(void)state;
	assert_int_equal(perf_judge(quiet, 5, 2.6, &median, &spread, &slower), 0);
	assert_true(slower);
	assert_true(median > 1.999 && median < 2.001);
	assert_true(spread > 0.099 && spread < 0.101);
	assert_int_equal(perf_judge(quiet, 5, 2.08, &median, &spread, &slower), 0);
	assert_false(slower);
	assert_int_equal(perf_judge(noisy, 5, 2.6, &median, &spread, &slower), 0);
	assert_false(slower);
	assert_true(spread > 1.7); /* 3 x 1.4826 x 0.4 */
	assert_int_equal(perf_judge(quiet, PERF_MIN_POINTS - 1, 9.0, &median, &spread, &slower),
			 -1);
	assert_false(slower);
}

/* db_rows_json writes what json_dumps of db_rows_array gives, read back equal,
 * for every kind of column: escapes, controls, NUL, text that is not UTF-8 (null,
 * as jansson refuses it), reals whole or not, JSON columns (j_) and text in them
 * that cannot begin JSON, NULLs, no rows. Where they differ by design: a
 * non-finite real is null (jansson leaves the member out). */
/* db_column_dup: a column's text as the page reads it, NULL where db_row_object
 * makes null (NULL, text that is not UTF-8: a subject cut inside a character, a
 * Latin-1 commit); U+FFFD's own bytes are text. */
static void test_column_dup(void **state)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *t;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT 'Ok é€😀', CAST(x'4f6b20c3' AS TEXT), NULL,"
					    " CAST(x'e9' AS TEXT), CAST(x'efbfbd' AS TEXT),"
					    " CAST(x'eda080' AS TEXT), ''",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	t = db_column_dup(st, 0);
	assert_string_equal(t, "Ok é€😀");
	free(t);
	assert_null(db_column_dup(st, 1));
	assert_null(db_column_dup(st, 2));
	assert_null(db_column_dup(st, 3));
	t = db_column_dup(st, 4);
	assert_string_equal(t, "\xef\xbf\xbd");
	free(t);
	assert_null(db_column_dup(st, 5)); /* a surrogate */
	t = db_column_dup(st, 6);
	assert_string_equal(t, "");
	free(t);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_rows_json(void **state)
{
	static const char *const queries[] = {
	    "SELECT 1 AS i, -9223372036854775807 AS big, 2.5 AS r, 3.0 AS whole, NULL AS n, "
	    "'plain' AS t, 'q\"b\\s/' AS esc, char(1, 8, 9, 10, 12, 13, 31, 127)"
	    " AS ctl, 'a' || char(0) || 'b' AS nul, 'é€😀' AS utf, CAST(x'c3' AS TEXT) AS"
	    " cut, CAST(x'eda080' AS TEXT) AS surrogate, CAST(x'efbfbd' AS TEXT) AS fffd,"
	    " '{\"a\":[1,2.5,\"x\"]}' AS j_obj, '[]' AS j_arr, '{}' AS j_map, '[ ]' AS j_arr2,"
	    " ' true' AS j_sp, 'x' AS j_bad,"
	    " NULL AS j_none, '' AS j_empty, 7 AS j_int, x'00ff' AS blob",
	    "SELECT value AS v, 'row ' || value AS \"na\"\"me\" FROM json_each('[1,2,3]')",
	    "SELECT 1 WHERE 0",
	    "SELECT 1.1574074074074074e-8 AS a, 1e20 AS b, -2.5e+100 AS c, 1e-300 AS d,"
	    " 5e-324 AS e, 0.1 AS f, 1e16 AS g, 1e17 AS h, 123.0 AS i, -0.0 AS j",
	};
	/* the queries whose text must be jansson's dump byte for byte (no j_ column
	 * kept as written, no non-finite real) */
	static const int exact[] = {0, 1, 1, 1};
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		sqlite3_stmt *st;
		struct buf b = BUF_INIT(0);
		json_t *want, *got;
		char *w, *g;

		assert_int_equal(sqlite3_prepare_v2(db, queries[q], -1, &st, NULL), SQLITE_OK);
		want = db_rows_array(st);
		assert_int_equal(db_rows_json(st, &b), 0);
		got = json_loadb(buf_cstr(&b), b.len, JSON_ALLOW_NUL, NULL);
		w = json_dumps(want, JSON_SORT_KEYS);
		g = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;
		if (!got || !json_equal(want, got))
			fail_msg("query %zu\n want %s\n got  %s\n text %s", q, w,
				 g ? g : "(not JSON)", buf_cstr(&b));
		/* the same members in the same order as the objects would dump */
		free(w);
		w = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
		free(g);
		g = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);
		assert_string_equal(w, g);
		if (exact[q])
			assert_string_equal(buf_cstr(&b), w);
		free(w);
		free(g);
		json_decref(want);
		json_decref(got);
		buf_release(&b);
		sqlite3_finalize(st);
	}
	{
		sqlite3_stmt *st;
		struct buf b = BUF_INIT(0);

		assert_int_equal(
		    sqlite3_prepare_v2(db, "SELECT 1e300 * 1e300 AS inf, 0.1 AS r", -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(db_rows_json(st, &b), 0);
		assert_string_equal(buf_cstr(&b), "[{\"inf\":null,\"r\":0.10000000000000001}]");
		buf_release(&b);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_jobs),
	    cmocka_unit_test(test_job_variants),
	    cmocka_unit_test(test_job_variant_overrides),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_matching),
	    cmocka_unit_test(test_names_roles),
	    cmocka_unit_test(test_triage_words),
	    cmocka_unit_test(test_perf_judge),
	    cmocka_unit_test(test_rows_json),
	    cmocka_unit_test(test_column_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
