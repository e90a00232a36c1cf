#include "tuple.h"

#include <string.h>

#include "json-util.h"

int tuple_text(struct buf *out, const json_t *tuple, int pinned_only)
{
	const json_t *m;
	const char *name;
	int n = 0;

	if (!json_is_object(tuple) || json_object_size(tuple) < 2)
		return 0;
	json_object_foreach ((json_t *)tuple, name, m) {
		int moves = json_is_true(json_object_get(m, "moves"));
		const char *ref = jstr(m, "ref", NULL);

		if (pinned_only && moves)
			continue;
		if (ref && !strncmp(ref, "refs/heads/", 11))
			ref += 11;
		buf_printf(out, "%s%s=%.12s (%s%s%s)", n ? ", " : "", name, jstr(m, "commit", "?"),
			   moves ? "moves" : "pinned", !moves && ref ? " at " : "",
			   !moves && ref ? ref : "");
		n++;
	}
	return n;
}

int tuple_moved_lines(struct buf *out, const json_t *moved, const char *prefix)
{
	const json_t *m;
	const char *name;
	int n = 0;

	if (json_object_size(moved) < 2)
		return 0;
	json_object_foreach ((json_t *)moved, name, m) {
		buf_printf(out, "%s%s %.12s..%.12s\n", prefix, name, jstr(m, "good", ""),
			   jstr(m, "bad", ""));
		n++;
	}
	return n;
}

int tuple_has_kind(const json_t *tuple, const char *kind)
{
	const char *name;
	json_t *m;

	json_object_foreach ((json_t *)tuple, name, m)
		if (!strcmp(jstr(m, "kind", "xen"), kind))
			return 1;
	return 0;
}
