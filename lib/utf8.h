/* Strict UTF-8 decoding for text that came from outside (console bytes, test case
 * names): every malformed sequence must come out as U+FFFD. The page, the judge and
 * the XML writers share it. */
#ifndef XENCI_UTF8_H
#define XENCI_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from s[0..n) (n >= 1) into *cp and returns the bytes
 * used (1..4). Overlong forms, surrogates, values past U+10FFFF and truncated
 * sequences give U+FFFD and use one byte, so decoding always advances. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong form, surrogate,
 * value past U+10FFFF or cut sequence), else 0; what jansson's json_stringn
 * accepts. */
int utf8_valid(const char *s, size_t n);
/* Writes cp as UTF-8 into out (4 bytes room) and returns the length. */
size_t utf8_encode(char *out, uint32_t cp);
/* 1 for code points shown inert rather than as themselves: C0 controls but tab
 * and newline, DEL, C1 controls, bidirectional embeddings, overrides and isolates,
 * line/paragraph separators and the BOM. */
int utf8_is_inert(uint32_t cp);
/* 1 for code points XML 1.0 allows in a document (Char: tab, newline, carriage
 * return, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF); every XML writer
 * replaces the others. */
int utf8_is_xml_char(uint32_t cp);

#endif
