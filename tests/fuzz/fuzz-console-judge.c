/* The console judge over arbitrary console bytes: the first two bytes choose
 * the line bound and where the input is split into reads, so partial lines,
 * cuts and timeouts are all exercised. Invariants: the log stays within its
 * bound and every log line starts with a timestamp. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lab-agent/judge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char job_text[] =
    "{\"timeout\": 30, \"stages\": [{\"name\": \"a\", \"pattern\": \"^iPXE\", \"timeout\": 5},"
    "{\"name\": \"b\", \"pattern\": \"Xen version [0-9]+\", \"timeout\": 5, \"on_timeout\": "
    "\"infra\"}],"
    " \"failures\": [{\"name\": \"p\", \"pattern\": \"Panic on CPU\"}],"
    " \"infra\": [{\"name\": \"i\", \"pattern\": \"No bootable\"}],"
    " \"testcases\": [\"tap\", \"lava\"]}";

struct sink {
	size_t len;
	int at_line_start;
};

static void sink(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;
	const char *c = p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s->at_line_start)
			assert(c[i] == ' ' || (c[i] >= '0' && c[i] <= '9') || c[i] == '-');
		s->at_line_start = c[i] == '\n';
	}
	s->len += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *job;
	struct judge j;
	struct sink s = {0, 1};
	char err[256];
	size_t line_max, step, off;
	long long t = 0;
	json_t *res;

	if (job == NULL)
		job = json_loads(job_text, 0, NULL);
	if (size < 2)
		return 0;
	line_max = 80 + data[0] * 4;
	step = 1 + data[1];
	data += 2;
	size -= 2;
	if (judge_init(&j, job, line_max, 16384, err, sizeof(err)) != 0)
		return 0;
	j.log = sink;
	j.arg = &s;
	judge_start(&j, 0);
	for (off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;

		t += data[off] * 10;
		judge_feed(&j, data + off, n, t);
	}
	judge_end(&j, t, VERDICT_INFRA, "end of input");
	assert(s.len <= 16384);
	res = judge_result(&j);
	assert(res != NULL);
	json_decref(res);
	judge_release(&j);
	return 0;
}
