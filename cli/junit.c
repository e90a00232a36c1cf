#include "junit.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json-util.h"
#include "utf8.h"

/* Escapes s for an attribute or text. Only XML 1.0 characters come out: every
 * code point outside Char (C0 controls but tab, newline and carriage return,
 * U+FFFE, U+FFFF) and every byte that is not valid UTF-8 becomes U+FFFD. Tab,
 * newline and carriage return are character references, so that a parser keeps
 * them in attributes too (it would normalise them to spaces). */
static void xml_text(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);
		char enc[4];

		switch (cp) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&apos;");
			break;
		case '\t':
		case '\n':
		case '\r':
			buf_printf(b, "&#%u;", (unsigned)cp);
			break;
		default:
			if (!utf8_is_xml_char(cp))
				cp = 0xfffd;
			buf_append(b, enc, utf8_encode(enc, cp));
		}
		i += len;
	}
}

struct counts {
	int tests, failures, errors, skipped;
};

static const char *job_outcome(const json_t *j)
{
	const char *v = jstr(j, "verdict", NULL);

	return v ? v : jstr(j, "state", "queued");
}

static void count_job(struct counts *c, const json_t *job)
{
	const char *v = job_outcome(job);
	const json_t *tc;
	size_t i;

	json_array_foreach (json_object_get(job, "testcases"), i, tc) {
		const char *r = jstr(tc, "result", "");

		c->tests++;
		c->failures += !strcmp(r, "fail");
		c->skipped += !strcmp(r, "skip");
	}
	c->tests++;
	if (!strcmp(v, "fail") || !strcmp(v, "timeout"))
		c->failures++;
	else if (!strcmp(v, "infra") || !strcmp(v, "cancelled"))
		c->errors++;
	else if (strcmp(v, "pass"))
		c->skipped++;
}

static void counts_attrs(struct buf *b, const struct counts *c)
{
	buf_printf(b, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\"", c->tests,
		   c->failures, c->errors, c->skipped);
}

static void testcase(struct buf *b, const char *job, const char *name, const char *result,
		     const char *reason, const char *log)
{
	buf_puts(b, "    <testcase classname=\"");
	xml_text(b, job);
	buf_puts(b, "\" name=\"");
	xml_text(b, name);
	buf_puts(b, "\"");
	if (!strcmp(result, "pass") && log == NULL) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	if (!strcmp(result, "fail") || !strcmp(result, "timeout") || !strcmp(result, "infra") ||
	    !strcmp(result, "cancelled")) {
		const char *el =
		    !strcmp(result, "fail") || !strcmp(result, "timeout") ? "failure" : "error";

		buf_printf(b, "      <%s type=\"%s\" message=\"", el, result);
		xml_text(b, reason ? reason : result);
		buf_printf(b, "\"/>\n");
	} else if (strcmp(result, "pass")) {
		buf_puts(b, "      <skipped message=\"");
		xml_text(b, !strcmp(result, "skip") ? "skipped" : result);
		buf_puts(b, "\"/>\n");
	}
	if (log) {
		buf_puts(b, "      <system-out>log: ");
		xml_text(b, log);
		buf_puts(b, "</system-out>\n");
	}
	buf_puts(b, "    </testcase>\n");
}

/* The known issue (docs/flights.md "Known issues") that the flight's triage
 * row of job's attempt matched: {id, label, link, blocks} borrowed from flight,
 * or NULL. */
static const json_t *known_issue_of(const json_t *flight, const json_t *job)
{
	const json_t *row;
	size_t i;

	if (jint(job, "attempt", 0) <= 0)
		return NULL;
	json_array_foreach (json_object_get(flight, "triage"), i, row)
		if (jint(row, "attempt", 0) == jint(job, "attempt", 0) &&
		    json_is_object(json_object_get(row, "known_issue")))
			return json_object_get(row, "known_issue");
	return NULL;
}

/* One property per tree of a tuple of several: name "tree.NAME", value the
 * commit, and "tree.NAME.pinned" the ref a pinned tree was taken at. */
static void tuple_properties(struct buf *out, const json_t *tuple)
{
	const json_t *m;
	const char *name;

	if (!json_is_object(tuple) || json_object_size(tuple) < 2)
		return;
	json_object_foreach ((json_t *)tuple, name, m) {
		buf_puts(out, "      <property name=\"tree.");
		xml_text(out, name);
		buf_puts(out, "\" value=\"");
		xml_text(out, jstr(m, "commit", ""));
		buf_puts(out, "\"/>\n");
		if (json_is_true(json_object_get(m, "moves")))
			continue;
		buf_puts(out, "      <property name=\"tree.");
		xml_text(out, name);
		buf_puts(out, ".pinned\" value=\"");
		xml_text(out, jstr(m, "ref", ""));
		buf_puts(out, "\"/>\n");
	}
}

/* The flight's jobs: "jobs" (docs/api.md Flight), or its test "attempts" (the
 * controller's flight read), keeping the newest attempt of each (job, board):
 * an infra failure that a retry fixed is not reported. New reference. */
static json_t *junit_jobs(const json_t *flight)
{
	const json_t *src = json_object_get(flight, "jobs"), *a;
	json_t *out = json_array(), *o;
	size_t i, k;

	if (src) {
		json_decref(out);
		return json_deep_copy(src);
	}
	json_array_foreach (json_object_get(flight, "attempts"), i, a) {
		json_t *j;
		int replaced = 0;

		if (strcmp(jstr(a, "kind", "test"), "test"))
			continue;
		j = json_deep_copy(a);
		json_object_set_new(j, "attempt", json_integer(jint(a, "id", 0)));
		if (!json_object_get(j, "verdict") && cli_state_final(jstr(a, "state", "")))
			json_object_set_new(j, "verdict", json_string(jstr(a, "state", "")));
		json_array_foreach (out, k, o) {
			if (!strcmp(jstr(o, "job", ""), jstr(j, "job", "")) &&
			    !strcmp(jstr(o, "board", ""), jstr(j, "board", ""))) {
				if (jint(j, "number", 1) > jint(o, "number", 1))
					json_array_set(out, k, j);
				replaced = 1;
				break;
			}
		}
		if (!replaced)
			json_array_append(out, j);
		json_decref(j);
	}
	return out;
}

int junit_render(struct buf *out, const json_t *flight, const char *base_url)
{
	json_t *jobs = junit_jobs(flight);
	const json_t *rev =
	    json_object_get(flight, "revision") ? json_object_get(flight, "revision") : flight;
	json_t *boards = json_object(); /* board -> array of its jobs, first-seen order kept */
	json_t *order = json_array();
	struct counts all = {0};
	const json_t *j;
	size_t i;

	assert(out->max == 0);
	json_array_foreach (jobs, i, j) {
		const char *board = jstr(j, "board", "(no board)");
		json_t *list = json_object_get(boards, board);

		if (list == NULL) {
			list = json_array();
			json_object_set_new(boards, board, list);
			json_array_append_new(order, json_string(board));
		}
		json_array_append(list, (json_t *)j);
		count_job(&all, j);
	}
	buf_puts(out,
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"xenci flight ");
	buf_printf(out, "%lld\"", jint(flight, "id", 0));
	counts_attrs(out, &all);
	buf_puts(out, ">\n");
	json_array_foreach (order, i, j) {
		const char *board = json_string_value(j);
		const json_t *list = json_object_get(boards, board), *job;
		struct counts c = {0};
		size_t k;

		json_array_foreach (list, k, job)
			count_job(&c, job);
		buf_printf(out, "  <testsuite id=\"%zu\" name=\"", i);
		xml_text(out, board);
		buf_puts(out, "\"");
		counts_attrs(out, &c);
		buf_puts(out, ">\n    <properties>\n      <property name=\"commit\" value=\"");
		xml_text(out, jstr(rev, "commit", ""));
		buf_puts(out, "\"/>\n      <property name=\"branch\" value=\"");
		xml_text(out, jstr(flight, "branch", ""));
		buf_puts(out, "\"/>\n");
		tuple_properties(out, json_object_get(flight, "tuple"));
		/* a failure matching a known issue: "known_issue.JOB" = "ID: LABEL LINK" */
		json_array_foreach (list, k, job) {
			const json_t *ki = known_issue_of(flight, job);

			if (ki == NULL)
				continue;
			buf_puts(out, "      <property name=\"known_issue.");
			xml_text(out, jstr(job, "job", "job"));
			buf_puts(out, "\" value=\"");
			xml_text(out, jstr(ki, "id", ""));
			buf_puts(out, ": ");
			xml_text(out, jstr(ki, "label", ""));
			if (*jstr(ki, "link", "")) {
				buf_puts(out, " ");
				xml_text(out, jstr(ki, "link", ""));
			}
			buf_puts(out, "\"/>\n");
		}
		buf_puts(out, "    </properties>\n");
		json_array_foreach (list, k, job) {
			const char *name = jstr(job, "job", "job");
			const json_t *tc;
			size_t t;
			char *log = NULL;

			json_array_foreach (json_object_get(job, "testcases"), t, tc)
				testcase(out, name, jstr(tc, "name", "?"), jstr(tc, "result", "?"),
					 NULL, NULL);
			if (base_url && jint(job, "attempt", 0) > 0) {
				struct buf l = BUF_INIT(0);

				buf_printf(&l, "%s/attempts/%lld", base_url,
					   jint(job, "attempt", 0));
				log = buf_detach(&l, NULL);
			}
			{
				const json_t *ki = known_issue_of(flight, job);
				const char *reason = jstr(job, "reason", NULL);
				struct buf msg = BUF_INIT(0);

				/* the failure's message names the known issue it matched */
				if (ki)
					buf_printf(&msg, "%s [known issue %s: %s]",
						   reason ? reason : job_outcome(job),
						   jstr(ki, "id", ""), jstr(ki, "label", ""));
				testcase(out, name, "verdict", job_outcome(job),
					 ki ? buf_cstr(&msg) : reason, log);
				buf_release(&msg);
			}
			free(log);
		}
		buf_puts(out, "  </testsuite>\n");
	}
	buf_puts(out, "</testsuites>\n");
	json_decref(jobs);
	json_decref(boards);
	json_decref(order);
	return 0;
}
