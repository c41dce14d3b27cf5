/*
 * value_util.h — helpers shared by value.c, json.c, verify.c and vm.c.
 * Internal to src/core; not part of the public headers.
 */
#ifndef ECL_VALUE_UTIL_H
#define ECL_VALUE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/value.h"
#include "utf8.h"

#if defined(__GNUC__)
#define ecl_likely(x)	__builtin_expect(!!(x), 1)
#define ecl_unlikely(x) __builtin_expect(!!(x), 0)
#else
#define ecl_likely(x)	(x)
#define ecl_unlikely(x) (x)
#endif

/*
 * Recursion bound for walking values (equality, copy, JSON output).  Values
 * read from JSON or bytecode are at most ECL_MAX_NESTING deep; a program can
 * build deeper ones in a loop, and walking those must not exhaust the C stack.
 */
#define ECL_MAX_WALK_DEPTH	(4 * ECL_MAX_NESTING)


/* A string value of the given type (STRING or DID). */
ecl_status	ecl_stringish_new(const ecl_alloc *a, ecl_type type, const char *data,
							  size_t len, ecl_value *out, ecl_error *err);

/* The two strings concatenated, as a new string value. */
ecl_status	ecl_string_concat(const ecl_alloc *a, const ecl_string *x,
							  const ecl_string *y, ecl_value *out, ecl_error *err);

/* A string value sharing an existing ecl_string (strings are immutable). */
static inline ecl_value
ecl_string_value(ecl_string *s)
{
	ecl_value	v;

	v.type = ECL_T_STRING;
	v.u.num = 0;
	v.u.str = s;
	return v;
}

/* Index of key in obj, or -1. */
int64_t		ecl_object_find(const ecl_object *obj, const char *key, size_t keylen);

/* Little-endian reads/writes */
static inline uint32_t
ecl_read_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline uint16_t
ecl_read_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

/*
 * The source symbol of an operator opcode ("+", "==", "!", ...), as the
 * VM's type errors name it; the translator's errors use it too, so their
 * messages are the VM's by construction.
 */
const char *ecl_op_symbol(int op);

#endif							/* ECL_VALUE_UTIL_H */
