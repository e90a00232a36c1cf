/* The live tail of an attempt page as Server-Sent Events: each event carries the
 * server-rendered HTML of new complete console lines, so the browser never
 * escapes anything itself; its id is the byte offset to resume from. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"

static int parse_offset(long long *out, const char *s)
{
	char *end;
	long long v;

	if (!s || !*s || *s < '0' || *s > '9' || strlen(s) > 18)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int page_tail_start(long long *from, const char *last_event_id, const char *from_param)
{
	*from = 0;
	if (last_event_id && *last_event_id)
		return parse_offset(from, last_event_id);
	if (from_param)
		return parse_offset(from, from_param);
	return 0;
}

int page_tail_event(struct buf *out, const char *log, size_t len, long long from, long long *next)
{
	struct buf html = BUF_INIT(PAGE_MAX);
	size_t avail, used = 0, start = out->len, i;
	const char *p;
	int rc = 0;

	*next = from;
	if (from < 0 || (size_t)from >= len)
		return 0;
	avail = len - (size_t)from;
	if (avail > PAGE_TAIL_CHUNK)
		avail = PAGE_TAIL_CHUNK;
	rc = console_render(&html, log + from, avail, from, 0, &used);
	if (rc < 0 || !used)
		goto out;
	/* One "data:" field per line of HTML: the renderer ends every line with
	 * '\n' and never puts '\r' in its output (console CRs are shown inert). */
	rc = buf_puts(out, "event: line\n");
	for (p = buf_cstr(&html), i = 0; rc == 0 && i < html.len;) {
		const char *nl = memchr(p + i, '\n', html.len - i);
		size_t end = nl ? (size_t)(nl - p) : html.len;

		rc = buf_puts(out, "data: ");
		if (rc == 0)
			rc = buf_append(out, p + i, end - i);
		if (rc == 0)
			rc = buf_putc(out, '\n');
		i = end + 1;
	}
	if (rc == 0)
		rc = buf_printf(out, "id: %lld\n\n", from + (long long)used);
	if (rc < 0) {
		out->len = start; /* never a half event */
		out->data[start] = '\0';
		goto out;
	}
	*next = from + (long long)used;
out:
	buf_release(&html);
	return rc;
}

int page_tail_state_event(struct buf *out, const char *state, const char *verdict)
{
	json_t *j = json_pack("{s:s?,s:s?}", "state", state, "verdict", verdict);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc = s ? buf_printf(out, "event: state\ndata: %s\n\n", s) : -ENOMEM;

	free(s);
	json_decref(j);
	return rc;
}
