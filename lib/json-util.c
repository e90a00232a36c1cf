#include "json-util.h"

#include <stdio.h>

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
