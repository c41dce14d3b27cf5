/*
 * value.h — ECL runtime values (docs/language.md §3).
 *
 * A value is 16 bytes: a type tag and an unboxed payload.  null, bool and
 * number live entirely inside the value, so arithmetic and comparisons never
 * allocate.  Strings, trust vectors, arrays and objects point to immutable heap
 * objects: ECL has no operation that mutates an existing array or object, so
 * they may be shared freely (constants of a cached program are shared by all
 * runs).  Heap objects come from an ecl_alloc and are released in bulk by the
 * embedder (the run's memory context); there is no reference counting.
 */
#ifndef ECL_VALUE_H
#define ECL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/error.h"

typedef enum ecl_type
{
	ECL_T_NULL = 0,
	ECL_T_BOOL,
	ECL_T_NUMBER,
	ECL_T_STRING,
	ECL_T_DID,					/* a string naming an identity; payload is .str */
	ECL_T_TRUST,
	ECL_T_ARRAY,
	ECL_T_OBJECT
} ecl_type;

#define ECL_TRUST_DIMS 6		/* R, I, C, P, V, Omega in this order */

typedef struct ecl_string
{
	uint32_t	len;			/* bytes, not counting the trailing NUL */
	char		data[];			/* UTF-8, NUL-terminated for convenience */
} ecl_string;

typedef struct ecl_trust
{
	double		dim[ECL_TRUST_DIMS];
} ecl_trust;

typedef struct ecl_value ecl_value;

typedef struct ecl_array
{
	uint32_t	len;
	ecl_value  *items;
} ecl_array;

typedef struct ecl_object
{
	uint32_t	len;			/* keys are unique; insertion order is kept */
	ecl_string **keys;
	ecl_value  *vals;
} ecl_object;

struct ecl_value
{
	uint8_t		type;			/* ecl_type */
	union
	{
		bool		b;
		double		num;
		ecl_string *str;		/* ECL_T_STRING and ECL_T_DID */
		ecl_trust  *trust;
		ecl_array  *arr;
		ecl_object *obj;
	}			u;
};

/* Constructors for unboxed values (no allocation). */
static inline ecl_value
ecl_null(void)
{
	ecl_value	v;

	v.type = ECL_T_NULL;
	v.u.num = 0;
	return v;
}

static inline ecl_value
ecl_bool(bool b)
{
	ecl_value	v;

	v.type = ECL_T_BOOL;
	v.u.num = 0;
	v.u.b = b;
	return v;
}

static inline ecl_value
ecl_number(double d)
{
	ecl_value	v;

	v.type = ECL_T_NUMBER;
	v.u.num = d;
	return v;
}

static inline bool
ecl_is_stringish(ecl_value v)
{
	return v.type == ECL_T_STRING || v.type == ECL_T_DID;
}

/*
 * Boxed constructors.  Return ECL_FAIL with ECL_ERR_RESOURCE on allocation
 * failure or when a length exceeds ECL_MAX_COLLECTION / ECL_MAX_STRING.
 * Arrays and objects are built by the caller filling items/keys/vals after
 * ecl_array_new / ecl_object_new (objects: use ecl_object_set while building).
 */
#define ECL_MAX_STRING		(64u * 1024u * 1024u)
#define ECL_MAX_COLLECTION	(16u * 1024u * 1024u)

ecl_status	ecl_string_new(const ecl_alloc *a, const char *data, size_t len,
						   ecl_value *out, ecl_error *err);
ecl_status	ecl_did_new(const ecl_alloc *a, const char *data, size_t len,
						ecl_value *out, ecl_error *err);
ecl_status	ecl_trust_new(const ecl_alloc *a, const double dims[ECL_TRUST_DIMS],
						  ecl_value *out, ecl_error *err);
ecl_status	ecl_array_new(const ecl_alloc *a, uint32_t len,
						  ecl_value *out, ecl_error *err);	/* items set to null */
ecl_status	ecl_object_new(const ecl_alloc *a, uint32_t capacity,
						   ecl_value *out, ecl_error *err);	/* len = 0 */

/*
 * Insert or replace key in an object under construction (capacity given at
 * ecl_object_new must suffice; replacing an existing key does not grow len).
 */
ecl_status	ecl_object_set(const ecl_alloc *a, ecl_value *obj,
						   const char *key, size_t keylen, ecl_value val,
						   ecl_error *err);

/* Lookup; returns NULL when absent. */
const ecl_value *ecl_object_get(const ecl_object *obj, const char *key, size_t keylen);

/* Truthiness (docs/language.md §3): null, false, 0, "" and [] are false. */
bool		ecl_truthy(ecl_value v);

/*
 * Equality as ==: values of different types are unequal (string and did
 * compare by text), arrays/objects/trust compare structurally.  NaN never
 * occurs (operations producing it fail).
 */
bool		ecl_equal(ecl_value a, ecl_value b);

/* "null", "bool", "number", "string", "did", "trust_vector", "array", "object" */
const char *ecl_type_name(ecl_type t);

/*
 * Operators, shared by the VM (slow paths) and the compiler's constant
 * folding so that both give identical results.  op is an ecl_opcode:
 * binary ADD SUB MUL DIV MOD EQ NE LT LE GT GE, unary NEG NOT TO_BOOL.
 * Errors (line/column left 0 for the caller to fill in): ECL_ERR_TYPE naming
 * the operation and both types ("cannot apply '<' to string and number"),
 * ECL_ERR_DIV_ZERO, ECL_ERR_NUMERIC when the result is NaN or infinite.
 * ADD concatenates when either side is a string or did: the other side is
 * converted as by ecl_value_to_text.
 */
ecl_status	ecl_value_binary(const ecl_alloc *a, int op, ecl_value x, ecl_value y,
							 ecl_value *out, ecl_error *err);
ecl_status	ecl_value_unary(const ecl_alloc *a, int op, ecl_value x,
							ecl_value *out, ecl_error *err);

/*
 * Text of a value for concatenation and log(): strings as-is (no quotes),
 * numbers via ecl_format_number, true/false/null, everything else as JSON.
 */
ecl_status	ecl_value_to_text(const ecl_alloc *a, ecl_value v, ecl_value *out_string,
							  ecl_error *err);

/*
 * Deep copy into allocator a (used to move a result out of a run's memory
 * before that memory is released).
 */
ecl_status	ecl_value_copy(const ecl_alloc *a, ecl_value v, ecl_value *out, ecl_error *err);

/*
 * Number formatting: the shortest decimal text that reads back as the same
 * double ("1", "0.5", "0.30000000000000004", "1e+300").  Integral values with
 * magnitude below 2^53 print without exponent or fraction.  buf needs 32 bytes.
 * Returns the length written.
 */
int			ecl_format_number(double d, char *buf);

/*
 * JSON text bridge (value.c).  Mapping (docs/language.md §3): null, true/false, numbers
 * (doubles), strings, arrays, objects.  A did serialises as a JSON string, a
 * trust vector as {"r":..,"i":..,"c":..,"p":..,"v":..,"omega":..}.
 * ecl_json_parse rejects invalid UTF-8, nesting deeper than ECL_MAX_NESTING,
 * and numbers outside the double range, with ECL_ERR_INVALID_ARG.
 */
#define ECL_MAX_NESTING 256

ecl_status	ecl_json_parse(const ecl_alloc *a, const char *text, size_t len,
						   ecl_value *out, ecl_error *err);

/*
 * The same, except that a number outside the double range reads as an
 * infinity instead of failing the parse: for a reader that rejects it
 * itself, naming where it is (the snapshot host: state.balances["did"]).
 */
ecl_status	ecl_json_parse_keep_huge(const ecl_alloc *a, const char *text,
									 size_t len, ecl_value *out, ecl_error *err);

/*
 * Serialise v as compact JSON into a growing buffer allocated from a.
 * *out_len excludes the trailing NUL that is always written.
 */
ecl_status	ecl_json_write(const ecl_alloc *a, ecl_value v,
						   char **out, size_t *out_len, ecl_error *err);

/*
 * The length of ecl_json_write's text for v, counted without building it.
 * Stops early and returns false when it exceeds cap (*out is then > cap),
 * so a value that shares one big part many times costs at most cap steps;
 * a value nested too deep also returns false, with *out <= cap (the bytes
 * counted before the walk gave up).
 */
bool		ecl_json_size(ecl_value v, size_t cap, size_t *out);

/*
 * Writes pay mana by size (docs/security.md, "Fails closed", docs/language.md "Gas and mana"): a
 * written value (store_put, store_put_nested and store_append_list: the
 * entry as written; emit: the payload) costs one extra mana for every
 * started ECL_WRITE_MANA_BYTES of its JSON text beyond the first.  The VM
 * charges it, so every host charges the same.  The result is exact up to
 * at_most; a larger charge returns at_most + 1 (its walk stops there).
 */
#define ECL_WRITE_MANA_BYTES 1024
int64_t		ecl_write_mana(ecl_value v, int64_t at_most);

#endif							/* ECL_VALUE_H */
