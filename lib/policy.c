#include "policy.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"

const char *const policy_kinds[] = {"push", "bisect", "submission", "manual", NULL};

/* A glob holds names' characters and `*` or `?`: no brackets nor backslashes, so
 * that what it matches needs no explaining. */
static int check_glob(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	const json_t *x;
	size_t i;

	json_array_foreach (v, i, x) {
		const char *s = json_string_value(x);
		char ipath[160];

		if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			      "._-/+@*?") != strlen(s)) {
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			vctx_error(ctx, v, NULL, i, ipath,
				   "\"%s\": a glob of letters, digits, '._-/+@' and '*' or '?'", s);
			return -1;
		}
	}
	(void)parent;
	(void)key;
	return 0;
}

const struct vfield policy_fields[] = {
    {.name = "kinds",
     .type = V_ARRAY,
     .items = V_STRING,
     .choices = policy_kinds,
     .max = 8,
     .help = "the flight kinds that may run (default: all)"},
    {.name = "trees",
     .type = V_ARRAY,
     .items = V_STRING,
     .min = 0,
     .max = 64,
     .check = check_glob,
     .help = "globs of the trees whose code may run (default: all)"},
    {.name = "branches",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = 64,
     .check = check_glob,
     .help = "globs of the branches a push flight may come from (default: all)"},
    {.name = "users",
     .type = V_ARRAY,
     .items = V_STRING,
     .max = 256,
     .check = check_glob,
     .help = "globs of the users whose submissions and manual flights may run (default: all)"},
    {.name = "reserve", .type = V_BOOL, .help = "users may reserve the board (default: false)"},
    {.name = NULL},
};

int policy_kind_trusted(const char *kind)
{
	return kind && (!strcmp(kind, "push") || !strcmp(kind, "bisect"));
}

/* 1 when list (an array of globs, or NULL: no restriction) has one matching s. */
static int globs_match(const json_t *list, const char *s)
{
	const json_t *x;
	size_t i;

	if (list == NULL)
		return 1;
	json_array_foreach (list, i, x)
		if (json_is_string(x) && fnmatch(json_string_value(x), s, 0) == 0)
			return 1;
	return 0;
}

static int in_strings(const json_t *list, const char *s)
{
	const json_t *x;
	size_t i;

	json_array_foreach (list, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), s))
			return 1;
	return 0;
}

int policy_allows(const json_t *policy, const struct policy_subject *s, char *why, size_t whylen)
{
	const json_t *kinds = json_object_get(policy, "kinds");
	const char *ref = s->ref, *user = s->user ? s->user : "";
	char tmp[8];

	if (why == NULL) {
		why = tmp;
		whylen = sizeof(tmp);
	}
	why[0] = '\0';
	if (!json_is_object(policy) || s->kind == NULL)
		return 1;
	if (kinds && !in_strings(kinds, s->kind)) {
		snprintf(why, whylen, "the board's policy does not run %s flights", s->kind);
		return 0;
	}
	if (!globs_match(json_object_get(policy, "trees"), s->tree ? s->tree : "")) {
		snprintf(why, whylen, "the board's policy does not run code of tree %s",
			 s->tree ? s->tree : "(none)");
		return 0;
	}
	if (ref && !strncmp(ref, "refs/heads/", 11) &&
	    !globs_match(json_object_get(policy, "branches"), ref + 11)) {
		snprintf(why, whylen, "the board's policy does not run branch %s", ref + 11);
		return 0;
	}
	if ((!strcmp(s->kind, "submission") || !strcmp(s->kind, "manual")) &&
	    !globs_match(json_object_get(policy, "users"), user)) {
		snprintf(why, whylen, "the board's policy does not run %s flights of %s", s->kind,
			 user[0] ? user : "an unnamed user");
		return 0;
	}
	return 1;
}

int policy_reservable(const json_t *policy)
{
	return jbool(policy, "reserve", 0);
}

/* "a, b or c" of the strings of list into out. */
static void words_or(struct buf *out, const json_t *list)
{
	size_t i, n = json_array_size(list);

	for (i = 0; i < n; i++)
		buf_printf(out, "%s%s",
			   i == 0	? ""
			   : i + 1 == n ? " or "
					: ", ",
			   json_string_value(json_array_get(list, i)));
}

void policy_describe(struct buf *out, const json_t *policy)
{
	const json_t *kinds = json_object_get(policy, "kinds"), *l;

	if (!json_is_object(policy) || json_object_size(policy) == 0) {
		buf_puts(out, "Runs anything the controller schedules; no reservations.");
		return;
	}
	if (kinds && json_array_size(kinds) == 0) {
		buf_puts(out, "Runs no flights (health checks only).");
	} else if (kinds) {
		buf_puts(out, "Runs only ");
		words_or(out, kinds);
		buf_puts(out, " flights.");
	} else {
		buf_puts(out, "Runs flights of every kind.");
	}
	if ((l = json_object_get(policy, "trees")) != NULL) {
		buf_puts(out, " Trees: ");
		words_or(out, l);
		buf_puts(out, ".");
	}
	if ((l = json_object_get(policy, "branches")) != NULL) {
		buf_puts(out, " Branches of push flights: ");
		words_or(out, l);
		buf_puts(out, ".");
	}
	if ((l = json_object_get(policy, "users")) != NULL) {
		buf_puts(out, " Submissions and manual flights only of ");
		if (json_array_size(l))
			words_or(out, l);
		else
			buf_puts(out, "nobody");
		buf_puts(out, ".");
	}
	buf_puts(out, policy_reservable(policy) ? " Users with the reserve right may reserve it."
						: " No reservations.");
}
