#include "json-util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

json_t *json_parse(const char *data, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v;

	v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (v == NULL && err)
		snprintf(err, errlen, "line %d, column %d: %s", je.line, je.column, je.text);
	return v;
}

const char *jstr(const json_t *obj, const char *key, const char *def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

long long jint(const json_t *obj, const char *key, long long def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

int jbool(const json_t *obj, const char *key, int def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : def;
}

char *json_compact(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int json_text_string(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef", from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start;

	/* most text: nothing to escape, nothing to check */
	for (i = 0; i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\'; i++)
		;
	if (i == n) {
		buf_append(out, "\"", 1);
		buf_append(out, s, n);
		buf_append(out, "\"", 1);
		return 0;
	}
	if (!utf8_valid(s, n))
		return -1;
	buf_append(out, "\"", 1);
	for (start = i = 0; i < n; i++) {
		char esc[7] = {'\\', 0};
		const char *e;

		if (p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
			continue;
		buf_append(out, s + start, i - start);
		if (p[i] && (e = strchr(from, p[i])) != NULL) {
			esc[1] = to[e - from];
		} else {
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
		}
		buf_append(out, esc, strlen(esc));
		start = i + 1;
	}
	buf_append(out, s + start, n - start);
	buf_append(out, "\"", 1);
	return 0;
}

void json_text_int(struct buf *out, long long v)
{
	buf_decimal(out, v);
}

void json_text_real(struct buf *out, double d)
{
	char num[40], *e;
	size_t len;

	if (!isfinite(d)) {
		buf_append(out, "null", 4);
		return;
	}
	len = (size_t)snprintf(num, sizeof(num), "%.17g", d);
	/* a real stays one when read back (jansson adds ".0" too) */
	if (!strpbrk(num, ".e")) {
		buf_append(out, num, len);
		buf_append(out, ".0", 2);
		return;
	}
	/* the exponent as jansson writes it: no '+', no leading zeros (1e20, 1e-8) */
	e = strchr(num, 'e');
	if (e) {
		char *start = e + 1, *end;

		if (*start == '-')
			start++;
		for (end = start; *end == '+' || *end == '0'; end++)
			;
		if (end != start) {
			memmove(start, end, (size_t)(num + len + 1 - end));
			len -= (size_t)(end - start);
		}
	}
	buf_append(out, num, len);
}
