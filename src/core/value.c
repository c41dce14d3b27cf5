/*
 * value.c — constructing, comparing, copying and formatting ECL values, and
 * the operators shared by the VM's slow paths and the compiler's constant
 * folding (docs/language.md §3, §4).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/opcodes.h"
#include "ecl/value.h"
#include "value_util.h"

/*
 * Objects carry a hidden header in front of the public struct: the capacity
 * (so ecl_object_set can grow the arrays) and, for objects with many keys, a
 * hash index from key to entry, so that building or reading a large JSON
 * object is not quadratic.  Only objects made by ecl_object_new have it;
 * small objects never look at it.
 */
#define OBJECT_INDEX_MIN 16

typedef struct object_box
{
	const ecl_alloc *alloc;
	uint32_t	cap;
	uint32_t	index_cap;		/* power of two; 0 = no index */
	uint32_t	indexed;		/* entries in the index; == len when in sync */
	uint32_t   *index;			/* slot -> entry + 1, 0 = empty */
	ecl_object	obj;
} object_box;

static inline object_box *
box_of(const ecl_object *obj)
{
	return (object_box *) ((char *) obj - offsetof(object_box, obj));
}

static ecl_status
resource_error(const ecl_alloc *a, ecl_error *err, const char *what)
{
	return ecl_alloc_failed(a, err, what);
}

/* --------------------------------------------------------- constructors */

ecl_status
ecl_stringish_new(const ecl_alloc *a, ecl_type type, const char *data,
				  size_t len, ecl_value *out, ecl_error *err)
{
	ecl_string *s;

	if (len > ECL_MAX_STRING)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "string of %zu bytes exceeds the limit of %u bytes",
							 len, ECL_MAX_STRING);
	s = ecl_malloc(a, offsetof(ecl_string, data) + len + 1);
	if (s == NULL)
		return resource_error(a, err, "a string");
	s->len = (uint32_t) len;
	if (len > 0)
		memcpy(s->data, data, len);
	s->data[len] = '\0';
	out->type = (uint8_t) type;
	out->u.num = 0;
	out->u.str = s;
	return ECL_OK;
}

ecl_status
ecl_string_new(const ecl_alloc *a, const char *data, size_t len,
			   ecl_value *out, ecl_error *err)
{
	return ecl_stringish_new(a, ECL_T_STRING, data, len, out, err);
}

ecl_status
ecl_did_new(const ecl_alloc *a, const char *data, size_t len,
			ecl_value *out, ecl_error *err)
{
	return ecl_stringish_new(a, ECL_T_DID, data, len, out, err);
}

ecl_status
ecl_string_concat(const ecl_alloc *a, const ecl_string *x, const ecl_string *y,
				  ecl_value *out, ecl_error *err)
{
	size_t		len = (size_t) x->len + y->len;
	ecl_string *s;

	if (len > ECL_MAX_STRING)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "string of %zu bytes exceeds the limit of %u bytes",
							 len, ECL_MAX_STRING);
	s = ecl_malloc(a, offsetof(ecl_string, data) + len + 1);
	if (s == NULL)
		return resource_error(a, err, "a string");
	s->len = (uint32_t) len;
	memcpy(s->data, x->data, x->len);
	memcpy(s->data + x->len, y->data, y->len);
	s->data[len] = '\0';
	*out = ecl_string_value(s);
	return ECL_OK;
}

ecl_status
ecl_trust_new(const ecl_alloc *a, const double dims[ECL_TRUST_DIMS],
			  ecl_value *out, ecl_error *err)
{
	ecl_trust  *t = ecl_malloc(a, sizeof(ecl_trust));

	if (t == NULL)
		return resource_error(a, err, "a trust vector");
	memcpy(t->dim, dims, sizeof(t->dim));
	out->type = ECL_T_TRUST;
	out->u.num = 0;
	out->u.trust = t;
	return ECL_OK;
}

ecl_status
ecl_array_new(const ecl_alloc *a, uint32_t len, ecl_value *out, ecl_error *err)
{
	ecl_array  *arr;

	if (len > ECL_MAX_COLLECTION)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "array of %u elements exceeds the limit of %u",
							 len, ECL_MAX_COLLECTION);
	arr = ecl_malloc(a, sizeof(ecl_array) + (size_t) len * sizeof(ecl_value));
	if (arr == NULL)
		return resource_error(a, err, "an array");
	arr->len = len;
	arr->items = (ecl_value *) (arr + 1);
	for (uint32_t i = 0; i < len; i++)
		arr->items[i] = ecl_null();
	out->type = ECL_T_ARRAY;
	out->u.num = 0;
	out->u.arr = arr;
	return ECL_OK;
}

ecl_status
ecl_object_new(const ecl_alloc *a, uint32_t capacity, ecl_value *out, ecl_error *err)
{
	object_box *box;

	if (capacity > ECL_MAX_COLLECTION)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							 "object of %u keys exceeds the limit of %u",
							 capacity, ECL_MAX_COLLECTION);
	box = ecl_malloc(a, sizeof(object_box));
	if (box == NULL)
		return resource_error(a, err, "an object");
	box->alloc = a;
	box->cap = capacity;
	box->index_cap = 0;
	box->indexed = 0;
	box->index = NULL;
	box->obj.len = 0;
	box->obj.keys = NULL;
	box->obj.vals = NULL;
	if (capacity > 0)
	{
		box->obj.keys = ecl_malloc(a, (size_t) capacity * sizeof(ecl_string *));
		box->obj.vals = ecl_malloc(a, (size_t) capacity * sizeof(ecl_value));
		if (box->obj.keys == NULL || box->obj.vals == NULL)
			return resource_error(a, err, "an object");
	}
	out->type = ECL_T_OBJECT;
	out->u.num = 0;
	out->u.obj = &box->obj;
	return ECL_OK;
}

static uint32_t
hash_key(const char *key, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) key[i];
		h *= 16777619u;
	}
	return h;
}

static void
index_insert(object_box *box, uint32_t entry)
{
	const ecl_string *k = box->obj.keys[entry];
	uint32_t	mask = box->index_cap - 1;
	uint32_t	slot = hash_key(k->data, k->len) & mask;

	while (box->index[slot] != 0)
		slot = (slot + 1) & mask;
	box->index[slot] = entry + 1;
	box->indexed++;
}

/* (Re)build the hash index for at least want entries; false on no memory. */
static bool
index_rebuild(object_box *box, uint32_t want)
{
	uint32_t	cap = 64;
	uint32_t   *idx;

	while (cap < want * 2)
		cap *= 2;
	idx = ecl_malloc(box->alloc, (size_t) cap * sizeof(uint32_t));
	if (idx == NULL)
		return false;
	memset(idx, 0, (size_t) cap * sizeof(uint32_t));
	ecl_free(box->alloc, box->index);
	box->index = idx;
	box->index_cap = cap;
	box->indexed = 0;
	for (uint32_t i = 0; i < box->obj.len; i++)
		index_insert(box, i);
	return true;
}

int64_t
ecl_object_find(const ecl_object *obj, const char *key, size_t keylen)
{
	if (obj->len >= OBJECT_INDEX_MIN)
	{
		object_box *box = box_of(obj);

		if (box->index != NULL && box->indexed == obj->len)
		{
			uint32_t	mask = box->index_cap - 1;
			uint32_t	slot = hash_key(key, keylen) & mask;

			while (box->index[slot] != 0)
			{
				uint32_t	e = box->index[slot] - 1;
				const ecl_string *k = obj->keys[e];

				if (k->len == keylen && memcmp(k->data, key, keylen) == 0)
					return e;
				slot = (slot + 1) & mask;
			}
			return -1;
		}
	}
	for (uint32_t i = 0; i < obj->len; i++)
	{
		const ecl_string *k = obj->keys[i];

		if (k->len == keylen && memcmp(k->data, key, keylen) == 0)
			return i;
	}
	return -1;
}

const ecl_value *
ecl_object_get(const ecl_object *obj, const char *key, size_t keylen)
{
	int64_t		i = ecl_object_find(obj, key, keylen);

	return i < 0 ? NULL : &obj->vals[i];
}

ecl_status
ecl_object_set(const ecl_alloc *a, ecl_value *objv, const char *key,
			   size_t keylen, ecl_value val, ecl_error *err)
{
	ecl_object *obj = objv->u.obj;
	object_box *box = box_of(obj);
	int64_t		found = ecl_object_find(obj, key, keylen);
	ecl_value	keyv;

	if (found >= 0)
	{
		obj->vals[found] = val;
		return ECL_OK;
	}
	if (obj->len >= box->cap)
	{
		/* grow: the capacity given at creation was only a hint */
		uint32_t	ncap = box->cap < 4 ? 4 : box->cap * 2;
		ecl_string **nkeys;
		ecl_value  *nvals;

		if (box->cap >= ECL_MAX_COLLECTION)
			return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
								 "object exceeds the limit of %u keys",
								 ECL_MAX_COLLECTION);
		if (ncap > ECL_MAX_COLLECTION)
			ncap = ECL_MAX_COLLECTION;
		nkeys = ecl_malloc(a, (size_t) ncap * sizeof(ecl_string *));
		nvals = ecl_malloc(a, (size_t) ncap * sizeof(ecl_value));
		if (nkeys == NULL || nvals == NULL)
			return resource_error(a, err, "an object");
		if (obj->len > 0)
		{
			memcpy(nkeys, obj->keys, (size_t) obj->len * sizeof(ecl_string *));
			memcpy(nvals, obj->vals, (size_t) obj->len * sizeof(ecl_value));
		}
		ecl_free(a, obj->keys);
		ecl_free(a, obj->vals);
		obj->keys = nkeys;
		obj->vals = nvals;
		box->cap = ncap;
	}
	if (ecl_string_new(a, key, keylen, &keyv, err) != ECL_OK)
		return ECL_FAIL;
	obj->keys[obj->len] = keyv.u.str;
	obj->vals[obj->len] = val;
	obj->len++;
	if (obj->len >= OBJECT_INDEX_MIN)
	{
		if (box->index != NULL && box->indexed == obj->len - 1 &&
			obj->len * 2 <= box->index_cap)
			index_insert(box, obj->len - 1);
		else if (!index_rebuild(box, obj->len))
			return resource_error(box->alloc, err, "an object index");
	}
	return ECL_OK;
}

/* ---------------------------------------------------- truth and equality */

bool
ecl_truthy(ecl_value v)
{
	switch ((ecl_type) v.type)
	{
		case ECL_T_NULL:
			return false;
		case ECL_T_BOOL:
			return v.u.b;
		case ECL_T_NUMBER:
			return v.u.num != 0;
		case ECL_T_STRING:
		case ECL_T_DID:
			return v.u.str->len != 0;
		case ECL_T_ARRAY:
			return v.u.arr->len != 0;
		case ECL_T_TRUST:
		case ECL_T_OBJECT:
			return true;
	}
	return false;
}

static bool
equal_depth(ecl_value a, ecl_value b, int depth)
{
	if (a.type != b.type)
		return ecl_is_stringish(a) && ecl_is_stringish(b) &&
			a.u.str->len == b.u.str->len &&
			memcmp(a.u.str->data, b.u.str->data, a.u.str->len) == 0;
	switch ((ecl_type) a.type)
	{
		case ECL_T_NULL:
			return true;
		case ECL_T_BOOL:
			return a.u.b == b.u.b;
		case ECL_T_NUMBER:
			return a.u.num == b.u.num;
		case ECL_T_STRING:
		case ECL_T_DID:
			return a.u.str->len == b.u.str->len &&
				memcmp(a.u.str->data, b.u.str->data, a.u.str->len) == 0;
		case ECL_T_TRUST:
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				if (a.u.trust->dim[i] != b.u.trust->dim[i])
					return false;
			return true;
		case ECL_T_ARRAY:
			if (a.u.arr == b.u.arr)
				return true;
			if (a.u.arr->len != b.u.arr->len || depth >= ECL_MAX_WALK_DEPTH)
				return false;
			for (uint32_t i = 0; i < a.u.arr->len; i++)
				if (!equal_depth(a.u.arr->items[i], b.u.arr->items[i], depth + 1))
					return false;
			return true;
		case ECL_T_OBJECT:
			if (a.u.obj == b.u.obj)
				return true;
			if (a.u.obj->len != b.u.obj->len || depth >= ECL_MAX_WALK_DEPTH)
				return false;
			for (uint32_t i = 0; i < a.u.obj->len; i++)
			{
				const ecl_string *k = a.u.obj->keys[i];
				const ecl_value *other = ecl_object_get(b.u.obj, k->data, k->len);

				if (other == NULL || !equal_depth(a.u.obj->vals[i], *other, depth + 1))
					return false;
			}
			return true;
	}
	return false;
}

/*
 * Values nested deeper than ECL_MAX_WALK_DEPTH (only a program building them
 * in a loop can make such) compare equal only when they are the same object.
 */
bool
ecl_equal(ecl_value a, ecl_value b)
{
	return equal_depth(a, b, 0);
}

const char *
ecl_type_name(ecl_type t)
{
	switch (t)
	{
		case ECL_T_NULL:
			return "null";
		case ECL_T_BOOL:
			return "bool";
		case ECL_T_NUMBER:
			return "number";
		case ECL_T_STRING:
			return "string";
		case ECL_T_DID:
			return "did";
		case ECL_T_TRUST:
			return "trust_vector";
		case ECL_T_ARRAY:
			return "array";
		case ECL_T_OBJECT:
			return "object";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ copy */

static ecl_status
copy_depth(const ecl_alloc *a, ecl_value v, ecl_value *out, int depth, ecl_error *err)
{
	if (depth > ECL_MAX_WALK_DEPTH)
		return ecl_error_set(err, ECL_ERR_STACK, 0, 0,
							 "value nested deeper than %d levels", ECL_MAX_WALK_DEPTH);
	switch ((ecl_type) v.type)
	{
		case ECL_T_NULL:
		case ECL_T_BOOL:
		case ECL_T_NUMBER:
			*out = v;
			return ECL_OK;
		case ECL_T_STRING:
		case ECL_T_DID:
			return ecl_stringish_new(a, (ecl_type) v.type, v.u.str->data,
									 v.u.str->len, out, err);
		case ECL_T_TRUST:
			return ecl_trust_new(a, v.u.trust->dim, out, err);
		case ECL_T_ARRAY:
			if (ecl_array_new(a, v.u.arr->len, out, err) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < v.u.arr->len; i++)
				if (copy_depth(a, v.u.arr->items[i], &out->u.arr->items[i],
							   depth + 1, err) != ECL_OK)
					return ECL_FAIL;
			return ECL_OK;
		case ECL_T_OBJECT:
			if (ecl_object_new(a, v.u.obj->len, out, err) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < v.u.obj->len; i++)
			{
				ecl_value	item;
				const ecl_string *k = v.u.obj->keys[i];

				if (copy_depth(a, v.u.obj->vals[i], &item, depth + 1, err) != ECL_OK ||
					ecl_object_set(a, out, k->data, k->len, item, err) != ECL_OK)
					return ECL_FAIL;
			}
			return ECL_OK;
	}
	return ecl_error_set(err, ECL_ERR_TYPE, 0, 0, "cannot copy a value of unknown type %d", v.type);
}

ecl_status
ecl_value_copy(const ecl_alloc *a, ecl_value v, ecl_value *out, ecl_error *err)
{
	return copy_depth(a, v, out, 0, err);
}

/* ------------------------------------------------------------ formatting */

int
ecl_format_number(double d, char *buf)
{
	if (!isfinite(d))
	{
		/* never produced by the VM; keep any output valid JSON */
		memcpy(buf, "null", 5);
		return 4;
	}
	if (d == 0)
	{
		buf[0] = '0';
		buf[1] = '\0';
		return 1;
	}
	if (fabs(d) < 9007199254740992.0 && d == trunc(d))
		return snprintf(buf, 32, "%.0f", d);

	/*
	 * A normal double has at least 15 significant digits, so when a text of
	 * 15 digits or fewer reads back, %.15g (which drops trailing zeros) is
	 * already the shortest.  A subnormal has fewer: 5e-324 would come out as
	 * 4.94065645841247e-324, a different jsonb numeric than the input it was
	 * read from, so search those from one digit up.
	 */
	for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++)
	{
		int			n = snprintf(buf, 32, "%.*g", prec, d);

		if (prec == 17 || strtod(buf, NULL) == d)
			return n;
	}
	return (int) strlen(buf);	/* not reached */
}

ecl_status
ecl_value_to_text(const ecl_alloc *a, ecl_value v, ecl_value *out, ecl_error *err)
{
	char		buf[32];
	int			n;
	char	   *json;
	size_t		jlen;

	switch ((ecl_type) v.type)
	{
		case ECL_T_STRING:
			*out = v;
			return ECL_OK;
		case ECL_T_DID:
			*out = ecl_string_value(v.u.str);
			return ECL_OK;
		case ECL_T_NULL:
			return ecl_string_new(a, "null", 4, out, err);
		case ECL_T_BOOL:
			return v.u.b ? ecl_string_new(a, "true", 4, out, err)
				: ecl_string_new(a, "false", 5, out, err);
		case ECL_T_NUMBER:
			n = ecl_format_number(v.u.num, buf);
			return ecl_string_new(a, buf, (size_t) n, out, err);
		default:
			if (ecl_json_write(a, v, &json, &jlen, err) != ECL_OK)
				return ECL_FAIL;
			if (ecl_string_new(a, json, jlen, out, err) != ECL_OK)
				return ECL_FAIL;
			ecl_free(a, json);
			return ECL_OK;
	}
}

/* ------------------------------------------------------------- operators */

const char *
ecl_op_symbol(int op)
{
	switch (op)
	{
		case ECL_OP_ADD:
			return "+";
		case ECL_OP_SUB:
			return "-";
		case ECL_OP_MUL:
			return "*";
		case ECL_OP_DIV:
			return "/";
		case ECL_OP_MOD:
			return "%";
		case ECL_OP_EQ:
			return "==";
		case ECL_OP_NE:
			return "!=";
		case ECL_OP_LT:
			return "<";
		case ECL_OP_LE:
			return "<=";
		case ECL_OP_GT:
			return ">";
		case ECL_OP_GE:
			return ">=";
		case ECL_OP_NEG:
			return "-";
		case ECL_OP_NOT:
			return "!";
		default:
			return "?";
	}
}

static ecl_status
binary_type_error(int op, ecl_value x, ecl_value y, ecl_error *err)
{
	return ecl_error_set(err, ECL_ERR_TYPE, 0, 0, "cannot apply '%s' to %s and %s",
						 ecl_op_symbol(op), ecl_type_name((ecl_type) x.type),
						 ecl_type_name((ecl_type) y.type));
}

static ecl_status
numeric_result(double r, ecl_value *out, ecl_error *err)
{
	if (!isfinite(r))
		return ecl_error_set(err, ECL_ERR_NUMERIC, 0, 0, "numeric overflow");
	*out = ecl_number(r);
	return ECL_OK;
}

static int
compare_strings(const ecl_string *x, const ecl_string *y)
{
	uint32_t	n = x->len < y->len ? x->len : y->len;
	int			c = memcmp(x->data, y->data, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

ecl_status
ecl_value_binary(const ecl_alloc *a, int op, ecl_value x, ecl_value y,
				 ecl_value *out, ecl_error *err)
{
	bool		nums = x.type == ECL_T_NUMBER && y.type == ECL_T_NUMBER;

	switch (op)
	{
		case ECL_OP_EQ:
			*out = ecl_bool(ecl_equal(x, y));
			return ECL_OK;
		case ECL_OP_NE:
			*out = ecl_bool(!ecl_equal(x, y));
			return ECL_OK;
		case ECL_OP_ADD:
			if (nums)
				return numeric_result(x.u.num + y.u.num, out, err);
			if (ecl_is_stringish(x) || ecl_is_stringish(y))
			{
				ecl_value	tx,
							ty;

				if (ecl_value_to_text(a, x, &tx, err) != ECL_OK ||
					ecl_value_to_text(a, y, &ty, err) != ECL_OK)
					return ECL_FAIL;
				return ecl_string_concat(a, tx.u.str, ty.u.str, out, err);
			}
			return binary_type_error(op, x, y, err);
		case ECL_OP_SUB:
		case ECL_OP_MUL:
		case ECL_OP_DIV:
		case ECL_OP_MOD:
			if (!nums)
				return binary_type_error(op, x, y, err);
			if (op == ECL_OP_SUB)
				return numeric_result(x.u.num - y.u.num, out, err);
			if (op == ECL_OP_MUL)
				return numeric_result(x.u.num * y.u.num, out, err);
			if (y.u.num == 0)
				return ecl_error_set(err, ECL_ERR_DIV_ZERO, 0, 0, "division by zero");
			if (op == ECL_OP_DIV)
				return numeric_result(x.u.num / y.u.num, out, err);
			return numeric_result(fmod(x.u.num, y.u.num), out, err);
		case ECL_OP_LT:
		case ECL_OP_LE:
		case ECL_OP_GT:
		case ECL_OP_GE:
			{
				int			c;

				if (nums)
					c = x.u.num < y.u.num ? -1 : (x.u.num > y.u.num ? 1 : 0);
				else if (ecl_is_stringish(x) && ecl_is_stringish(y))
					c = compare_strings(x.u.str, y.u.str);
				else
					return binary_type_error(op, x, y, err);
				*out = ecl_bool(op == ECL_OP_LT ? c < 0 :
								op == ECL_OP_LE ? c <= 0 :
								op == ECL_OP_GT ? c > 0 : c >= 0);
				return ECL_OK;
			}
		default:
			return ecl_error_set(err, ECL_ERR_TYPE, 0, 0,
								 "opcode %d is not a binary operator", op);
	}
}

ecl_status
ecl_value_unary(const ecl_alloc *a, int op, ecl_value x, ecl_value *out, ecl_error *err)
{
	(void) a;
	switch (op)
	{
		case ECL_OP_NEG:
			if (x.type != ECL_T_NUMBER)
				return ecl_error_set(err, ECL_ERR_TYPE, 0, 0,
									 "cannot apply unary '-' to %s",
									 ecl_type_name((ecl_type) x.type));
			*out = ecl_number(-x.u.num);
			return ECL_OK;
		case ECL_OP_NOT:
			*out = ecl_bool(!ecl_truthy(x));
			return ECL_OK;
		case ECL_OP_TO_BOOL:
			*out = ecl_bool(ecl_truthy(x));
			return ECL_OK;
		default:
			return ecl_error_set(err, ECL_ERR_TYPE, 0, 0,
								 "opcode %d is not a unary operator", op);
	}
}
