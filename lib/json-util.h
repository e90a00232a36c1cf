/* Small helpers on jansson. */
#ifndef XENCI_JSON_UTIL_H
#define XENCI_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>

/* Decodes exactly one JSON value from data (no trailing garbage, no NUL bytes,
 * duplicate keys refused): a new reference, the caller's. Returns NULL and fills
 * err ("line 1, column 7: ...") when it is not valid JSON. */
json_t *json_parse(const char *data, size_t len, char *err, size_t errlen);

/* Member accessors that tolerate a NULL obj, a missing member or a wrong type:
 * they give def then. jstr's string is borrowed from obj (or is def). */
const char *jstr(const json_t *obj, const char *key, const char *def);
long long jint(const json_t *obj, const char *key, long long def);
int jbool(const json_t *obj, const char *key, int def);

/* Serialises compactly; the caller frees the string. */
char *json_compact(const json_t *v);

#endif
