/* Small helpers on jansson. */
#ifndef XENCI_JSON_UTIL_H
#define XENCI_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

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

/* JSON text written straight into a buf, as jansson's json_dumps(JSON_COMPACT)
 * writes the same values (for replies made without jansson's objects; the unit
 * test-controller-units checks them against jansson's dump):
 * json_text_string appends s[0..n) as a JSON string (RFC 8259 §7: '"', '\\' and
 * controls escaped, UTF-8 kept as it is); -1 and nothing written when s is not
 * UTF-8 (json_stringn refuses it too). json_text_int appends v in decimal;
 * json_text_real appends d as "%.17g", with ".0" when that looks like an integer
 * and its exponent without '+' or leading zeros (1e20, 1e-8: jansson's
 * jsonp_dtostr), and null for a non-finite d (jansson cannot hold one). */
int json_text_string(struct buf *out, const char *s, size_t n);
void json_text_int(struct buf *out, long long v);
void json_text_real(struct buf *out, double d);

#endif
