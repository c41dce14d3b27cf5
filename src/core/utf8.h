/*
 * utf8.h — UTF-8 decoding, encoding and validation for the core (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF).  The lexer, the
 * JSON reader/writer and the value constructors all use these, so source
 * text, JSON text and bytecode strings obey the same rules.
 * Internal to src/core.
 */
#ifndef ECL_UTF8_H
#define ECL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest encoding of one code point */
#define ECL_UTF8_MAX 4

/*
 * Decode one sequence at s (avail > 0 bytes).  Returns its length and sets
 * *cp, or returns 0 when the bytes are not well-formed UTF-8.
 */
size_t		ecl_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);

/* Encode cp (a Unicode scalar value) into out; returns the length (1..4). */
size_t		ecl_utf8_encode(uint32_t cp, char *out);

/* true when s[0..len) is well-formed UTF-8 */
bool		ecl_utf8_valid(const char *s, size_t len);

/*
 * Value of the 4 hex digits at s (the XXXX of a \uXXXX escape, as in ECL
 * strings and JSON), or -1 when fewer than 4 bytes remain or one is not a
 * hex digit.
 */
int32_t		ecl_hex4(const char *s, size_t avail);

/* number of code points in well-formed UTF-8 */
size_t		ecl_utf8_count(const char *s, size_t len);

#endif							/* ECL_UTF8_H */
