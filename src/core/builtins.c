/*
 * builtins.c — the built-in functions of docs/language.md §6 and the host calls of
 * docs/sql-api.md, "The table host" as the VM executes them.  The dispatch loop (vm.c) charges gas and
 * mana and refuses writes in read-only runs; everything here checks argument
 * types, applies the null-did rules and calls the host vtable.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "value_util.h"
#include "vm_internal.h"

typedef struct builtin_call
{
	ecl_vm_state *vm;
	ecl_opcode	op;
	const ecl_value *args;
	ecl_error  *err;
	bool		mana_charged;	/* this instruction has paid its I/O cost */
} builtin_call;

const char *
ecl_vm_function_name(ecl_opcode op)
{
	switch (op)
	{
		case ECL_OP_CALLER_TRUST:
			return "load_trust";
		case ECL_OP_EMIT:
			return "emit";
		default:
			break;
	}
	for (int i = 0; i < ecl_builtin_count; i++)
		if (ecl_builtin_table[i].op == op)
			return ecl_builtin_table[i].name;
	return (unsigned) op < ECL_OP_COUNT ? ecl_opcode_table[op].name : "?";
}

static const char *
fname(builtin_call *c)
{
	return ecl_vm_function_name(c->op);
}

static ecl_status
arg_type_error(builtin_call *c, int i, const char *want)
{
	return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0, "%s: argument %d must be %s, got %s",
						 fname(c), i + 1, want,
						 ecl_type_name((ecl_type) c->args[i].type));
}

static ecl_status
need_number(builtin_call *c, int i, double *out)
{
	if (c->args[i].type != ECL_T_NUMBER)
		return arg_type_error(c, i, "a number");
	*out = c->args[i].u.num;
	return ECL_OK;
}

static ecl_status
need_trust(builtin_call *c, int i, const ecl_trust **out)
{
	if (c->args[i].type != ECL_T_TRUST)
		return arg_type_error(c, i, "a trust_vector");
	*out = c->args[i].u.trust;
	return ECL_OK;
}

static ecl_status
need_string(builtin_call *c, int i, const ecl_string **out)
{
	if (!ecl_is_stringish(c->args[i]))
		return arg_type_error(c, i, "a string");
	*out = c->args[i].u.str;
	return ECL_OK;
}

/* string, or NULL when the argument is null */
static ecl_status
opt_string(builtin_call *c, int i, const ecl_string **out)
{
	if (c->args[i].type == ECL_T_NULL)
	{
		*out = NULL;
		return ECL_OK;
	}
	return need_string(c, i, out);
}

static ecl_status
need_array(builtin_call *c, int i, const ecl_array **out)
{
	if (c->args[i].type != ECL_T_ARRAY)
		return arg_type_error(c, i, "an array");
	*out = c->args[i].u.arr;
	return ECL_OK;
}

static ecl_status
need_object(builtin_call *c, int i, const ecl_object **out)
{
	if (c->args[i].type != ECL_T_OBJECT)
		return arg_type_error(c, i, "an object");
	*out = c->args[i].u.obj;
	return ECL_OK;
}

/* A did argument: *out = NULL for null (the null-did rules apply). */
static ecl_status
need_did(builtin_call *c, int i, const ecl_string **out)
{
	if (c->args[i].type == ECL_T_NULL)
	{
		*out = NULL;
		return ECL_OK;
	}
	if (!ecl_is_stringish(c->args[i]))
		return arg_type_error(c, i, "a did");
	*out = c->args[i].u.str;
	return ECL_OK;
}

/* The personal flag of store functions: null means false. */
static ecl_status
need_personal(builtin_call *c, int i, bool *out)
{
	if (c->args[i].type == ECL_T_NULL)
	{
		*out = false;
		return ECL_OK;
	}
	if (c->args[i].type != ECL_T_BOOL)
		return arg_type_error(c, i, "a bool");
	*out = c->args[i].u.b;
	return ECL_OK;
}

static ecl_status
number_out(builtin_call *c, double r, ecl_value *out)
{
	if (!isfinite(r))
		return ecl_error_set(c->err, ECL_ERR_NUMERIC, 0, 0, "numeric overflow");
	*out = ecl_number(r);
	return ECL_OK;
}

static ecl_status
no_host(builtin_call *c, const char *entry)
{
	return ecl_error_set(c->err, ECL_ERR_HOST, 0, 0, "no host data available for %s", entry);
}

/* A host call failed: make sure the error says something. */
static ecl_status
host_failed(builtin_call *c, const char *entry)
{
	if (c->err->code == ECL_ERR_NONE)
		return ecl_error_set(c->err, ECL_ERR_HOST, 0, 0, "host function %s failed", entry);
	return ECL_FAIL;
}

static ecl_status
host_number(builtin_call *c, const char *entry, double d)
{
	if (!isfinite(d))
		return ecl_error_set(c->err, ECL_ERR_HOST, 0, 0,
							 "host function %s returned a non-finite number", entry);
	return ECL_OK;
}

/*
 * Mana meters I/O (docs/language.md §8): a network or storage instruction costs its gas
 * in mana when it actually calls the host, once however many host calls it
 * needs (store_put_nested reads and writes).  `trust` served from the run's
 * cache and a null did answered without the host cost no mana.
 */
static ecl_status
charge_mana(builtin_call *c)
{
	const ecl_opcode_info *info = &ecl_opcode_table[c->op];
	ecl_vm_state *vm = c->vm;

	if (c->mana_charged ||
		(info->layer != ECL_LAYER_NETWORK && info->layer != ECL_LAYER_STORAGE))
		return ECL_OK;
	c->mana_charged = true;
	vm->mana += info->gas;
	if (vm->mana > vm->ctx->limits.mana_limit)
		return ecl_error_set(c->err, ECL_ERR_MANA, 0, 0, "mana limit %lld exceeded",
							 (long long) vm->ctx->limits.mana_limit);
	return ECL_OK;
}

/*
 * Writes pay for their size as well (value.h, ecl_write_mana), before the
 * host is asked, so an over-budget write is refused without being made.
 */
static ecl_status
charge_write_mana(builtin_call *c, ecl_value written)
{
	ecl_vm_state *vm = c->vm;
	int64_t		limit = vm->ctx->limits.mana_limit;

	vm->mana += ecl_write_mana(written, limit - vm->mana);
	if (vm->mana > limit)
		return ecl_error_set(c->err, ECL_ERR_MANA, 0, 0,
							 "mana limit %lld exceeded by the size of the value %s writes",
							 (long long) limit, fname(c));
	return ECL_OK;
}

/*
 * The host rules that do not depend on where the data lives, applied here
 * before a host is asked, so that every host (the table host, the state
 * host, a test host) answers them alike by construction.  No stored DID,
 * schema, metric name, store name, key or event name contains NUL: a DID
 * or schema with NUL has nothing (zero trust, no credential, unresolved,
 * balance 0) and a metric name with NUL is unknown (null), after the mana
 * of the call is paid as for any other miss; a store name, key or event
 * name with NUL is an error.  A personal store needs a caller, and a realm
 * metric ("realm.*") is null in a run without a realm.
 */
static bool
has_nul(const ecl_string *s)
{
	return memchr(s->data, '\0', s->len) != NULL;
}

static ecl_status
store_args(builtin_call *c, const ecl_string *store, const ecl_string *key,
		   bool personal)
{
	if (personal && c->vm->ctx->caller.type == ECL_T_NULL)
		return ecl_error_set(c->err, ECL_ERR_HOST, 0, 0,
							 "personal store \"%s\" needs a caller", store->data);
	if (has_nul(store) || (key != NULL && has_nul(key)))
		return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
							 "store names and keys must not contain NUL");
	return ECL_OK;
}

static bool
realm_metric_without_realm(builtin_call *c, const ecl_string *name)
{
	ecl_value	realm = c->vm->ctx->realm;

	return name->len >= 6 && memcmp(name->data, "realm.", 6) == 0 &&
		(!ecl_is_stringish(realm) || realm.u.str->len == 0);
}

/* ------------------------------------------------------------------ trust */

static ecl_status
load_trust(builtin_call *c, const ecl_string *did, ecl_value *out)
{
	ecl_vm_state *vm = c->vm;
	ecl_trust	t;

	memset(&t, 0, sizeof(t));
	if (did != NULL)
	{
		if (vm->ctx->host->load_trust == NULL)
			return no_host(c, "load_trust");
		if (charge_mana(c) != ECL_OK)
			return ECL_FAIL;
		if (!has_nul(did) &&
			vm->ctx->host->load_trust(vm->ctx->host_ctx, did, &t, c->err) != ECL_OK)
			return host_failed(c, "load_trust");
		for (int i = 0; i < ECL_TRUST_DIMS; i++)
			if (host_number(c, "load_trust", t.dim[i]) != ECL_OK)
				return ECL_FAIL;
	}
	return ecl_trust_new(vm->alloc, t.dim, out, c->err);
}

static ecl_status
caller_trust(builtin_call *c, ecl_value *out)
{
	ecl_vm_state *vm = c->vm;
	ecl_value	caller = vm->ctx->caller;

	if (!vm->have_caller_trust)
	{
		if (caller.type != ECL_T_NULL && !ecl_is_stringish(caller))
			return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0,
								 "load_trust: the caller must be a did, got %s",
								 ecl_type_name((ecl_type) caller.type));
		if (load_trust(c, caller.type == ECL_T_NULL ? NULL : caller.u.str,
					   &vm->caller_trust) != ECL_OK)
			return ECL_FAIL;
		vm->have_caller_trust = true;
	}
	*out = vm->caller_trust;
	return ECL_OK;
}

static ecl_status
trust_pure(builtin_call *c, ecl_value *out)
{
	const ecl_trust *a = NULL,
			   *b = NULL;
	double		dims[ECL_TRUST_DIMS];
	double		sum = 0,
				wsum = 0,
				t = 0;
	const ecl_array *w;

	switch (c->op)
	{
		case ECL_OP_TRUST_NORM:
			if (need_trust(c, 0, &a) != ECL_OK)
				return ECL_FAIL;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				sum += a->dim[i];
			return number_out(c, sum / ECL_TRUST_DIMS, out);
		case ECL_OP_TRUST_COMBINE:
			if (need_trust(c, 0, &a) != ECL_OK || need_trust(c, 1, &b) != ECL_OK)
				return ECL_FAIL;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				dims[i] = 1 - (1 - a->dim[i]) * (1 - b->dim[i]);
			return ecl_trust_new(c->vm->alloc, dims, out, c->err);
		case ECL_OP_TRUST_CREATE:
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
			{
				if (c->args[i].type != ECL_T_NUMBER ||
					!(c->args[i].u.num >= 0 && c->args[i].u.num <= 1))
					return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
										 "trust_create: argument %d must be a number in [0, 1]",
										 i + 1);
				dims[i] = c->args[i].u.num;
			}
			return ecl_trust_new(c->vm->alloc, dims, out, c->err);
		case ECL_OP_TRUST_ABOVE:
			if (need_trust(c, 0, &a) != ECL_OK || need_number(c, 1, &t) != ECL_OK)
				return ECL_FAIL;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				if (!(a->dim[i] >= t))
				{
					*out = ecl_bool(false);
					return ECL_OK;
				}
			*out = ecl_bool(true);
			return ECL_OK;
		case ECL_OP_TRUST_WAVG:
			if (need_trust(c, 0, &a) != ECL_OK)
				return ECL_FAIL;
			if (c->args[1].type != ECL_T_ARRAY || c->args[1].u.arr->len != ECL_TRUST_DIMS)
				return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "trust_weighted_avg: weights must be an array of 6 numbers");
			w = c->args[1].u.arr;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
			{
				if (w->items[i].type != ECL_T_NUMBER)
					return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
										 "trust_weighted_avg: weights must be an array of 6 numbers");
				sum += w->items[i].u.num * a->dim[i];
				wsum += w->items[i].u.num;
			}
			if (wsum == 0)
				return ecl_error_set(c->err, ECL_ERR_DIV_ZERO, 0, 0,
									 "division by zero: trust_weighted_avg weights sum to 0");
			return number_out(c, sum / wsum, out);
		case ECL_OP_TRUST_DISTANCE:
			if (need_trust(c, 0, &a) != ECL_OK || need_trust(c, 1, &b) != ECL_OK)
				return ECL_FAIL;
			for (int i = 0; i < ECL_TRUST_DIMS; i++)
				sum += (a->dim[i] - b->dim[i]) * (a->dim[i] - b->dim[i]);
			return number_out(c, sqrt(sum), out);
		default:
			return ecl_error_set(c->err, ECL_ERR_BYTECODE, 0, 0, "not a trust function");
	}
}

/* ---------------------------------------------------------------- numbers */

static ecl_status
math_pure(builtin_call *c, ecl_value *out)
{
	double		x = 0,
				y = 0,
				z = 0;

	if (need_number(c, 0, &x) != ECL_OK)
		return ECL_FAIL;
	switch (c->op)
	{
		case ECL_OP_ABS:
			return number_out(c, fabs(x), out);
		case ECL_OP_SQRT:
			if (x < 0)
				return ecl_error_set(c->err, ECL_ERR_NUMERIC, 0, 0,
									 "sqrt of a negative number");
			return number_out(c, sqrt(x), out);
		case ECL_OP_FLOOR:
			return number_out(c, floor(x), out);
		case ECL_OP_CEIL:
			return number_out(c, ceil(x), out);
		case ECL_OP_ROUND:
			return number_out(c, round(x), out);	/* half away from zero */
		case ECL_OP_MIN:
		case ECL_OP_MAX:
			if (need_number(c, 1, &y) != ECL_OK)
				return ECL_FAIL;
			return number_out(c, c->op == ECL_OP_MIN ? (x < y ? x : y) : (x > y ? x : y), out);
		case ECL_OP_CLAMP:
			if (need_number(c, 1, &y) != ECL_OK || need_number(c, 2, &z) != ECL_OK)
				return ECL_FAIL;
			x = x < y ? y : x;
			return number_out(c, x > z ? z : x, out);
		case ECL_OP_LERP:
			if (need_number(c, 1, &y) != ECL_OK || need_number(c, 2, &z) != ECL_OK)
				return ECL_FAIL;
			return number_out(c, x + (y - x) * z, out);
		case ECL_OP_SURPRISAL:
			if (!(x > 0 && x <= 1))
				return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "surprisal: probability must be in (0, 1]");
			return number_out(c, x == 1 ? 0 : -log2(x), out);
		default:
			return ecl_error_set(c->err, ECL_ERR_BYTECODE, 0, 0, "not a math function");
	}
}

/* --------------------------------------------------- strings, collections */

static bool
ascii_equal_ignore_case(const ecl_string *a, const ecl_string *b)
{
	if (a->len != b->len)
		return false;
	for (uint32_t i = 0; i < a->len; i++)
	{
		unsigned char x = (unsigned char) a->data[i];
		unsigned char y = (unsigned char) b->data[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char) (x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char) (y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool
string_contains(const ecl_string *s, const ecl_string *sub)
{
	if (sub->len == 0)
		return true;
	if (sub->len > s->len)
		return false;
	for (uint32_t i = 0; i + sub->len <= s->len; i++)
		if (s->data[i] == sub->data[0] &&
			memcmp(s->data + i, sub->data, sub->len) == 0)
			return true;
	return false;
}

/* An array index: an integral number; *ok = false otherwise. */
static ecl_status
need_index(builtin_call *c, int i, double *out)
{
	if (need_number(c, i, out) != ECL_OK)
		return ECL_FAIL;
	if (*out != floor(*out))
		return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0,
							 "%s: index must be an integer, got %g", fname(c), *out);
	return ECL_OK;
}

static ecl_status
collection_pure(builtin_call *c, ecl_value *out)
{
	const ecl_string *s = NULL,
			   *t = NULL;
	const ecl_array *arr = NULL;
	const ecl_object *obj = NULL;
	double		idx = 0;

	switch (c->op)
	{
		case ECL_OP_STR_LEN:
			if (need_string(c, 0, &s) != ECL_OK)
				return ECL_FAIL;
			*out = ecl_number((double) ecl_utf8_count(s->data, s->len));
			return ECL_OK;
		case ECL_OP_STR_CONTAINS:
			if (need_string(c, 0, &s) != ECL_OK || need_string(c, 1, &t) != ECL_OK)
				return ECL_FAIL;
			*out = ecl_bool(string_contains(s, t));
			return ECL_OK;
		case ECL_OP_STR_EQ_IGNORE_CASE:
			if (need_string(c, 0, &s) != ECL_OK || need_string(c, 1, &t) != ECL_OK)
				return ECL_FAIL;
			*out = ecl_bool(ascii_equal_ignore_case(s, t));
			return ECL_OK;
		case ECL_OP_ARRAY_LEN:
			if (need_array(c, 0, &arr) != ECL_OK)
				return ECL_FAIL;
			*out = ecl_number(arr->len);
			return ECL_OK;
		case ECL_OP_ARRAY_GET:
			if (need_array(c, 0, &arr) != ECL_OK || need_index(c, 1, &idx) != ECL_OK)
				return ECL_FAIL;
			/* as the reference ECLVM: unlike arr[i], which is null there */
			if (idx < 0 || idx >= arr->len)
				return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0,
									 "%s: index %g out of range for an array of %u element%s",
									 fname(c), idx, arr->len, arr->len == 1 ? "" : "s");
			*out = arr->items[(uint32_t) idx];
			return ECL_OK;
		case ECL_OP_CONTAINS:
			if (need_array(c, 1, &arr) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < arr->len; i++)
				if (ecl_equal(arr->items[i], c->args[0]))
				{
					*out = ecl_bool(true);
					return ECL_OK;
				}
			*out = ecl_bool(false);
			return ECL_OK;
		case ECL_OP_LEN:
			if (ecl_is_stringish(c->args[0]))
				*out = ecl_number((double) ecl_utf8_count(c->args[0].u.str->data,
														  c->args[0].u.str->len));
			else if (c->args[0].type == ECL_T_ARRAY)
				*out = ecl_number(c->args[0].u.arr->len);
			else if (c->args[0].type == ECL_T_OBJECT)
				*out = ecl_number(c->args[0].u.obj->len);
			else
				return arg_type_error(c, 0, "a string, array or object");
			return ECL_OK;
		case ECL_OP_KEYS:
			if (need_object(c, 0, &obj) != ECL_OK ||
				ecl_array_new(c->vm->alloc, obj->len, out, c->err) != ECL_OK)
				return ECL_FAIL;
			for (uint32_t i = 0; i < obj->len; i++)
				out->u.arr->items[i] = ecl_string_value(obj->keys[i]);
			return ECL_OK;
		case ECL_OP_HAS:
			if (need_object(c, 0, &obj) != ECL_OK || need_string(c, 1, &s) != ECL_OK)
				return ECL_FAIL;
			*out = ecl_bool(ecl_object_find(obj, s->data, s->len) >= 0);
			return ECL_OK;
		default:
			return ecl_error_set(c->err, ECL_ERR_BYTECODE, 0, 0, "not a collection function");
	}
}

/* ------------------------------------------------------------ nested store */

typedef struct path_seg
{
	const char *key;			/* segment text (for objects) */
	size_t		keylen;
	bool		has_index;		/* usable as an array index */
	uint32_t	index;
	char		digits[16];		/* text of an integer segment */
} path_seg;

static void
seg_index_from_text(path_seg *seg)
{
	uint64_t	v = 0;

	seg->has_index = false;
	if (seg->keylen == 0 || seg->keylen > 9)
		return;
	for (size_t i = 0; i < seg->keylen; i++)
	{
		if (seg->key[i] < '0' || seg->key[i] > '9')
			return;
		v = v * 10 + (uint64_t) (seg->key[i] - '0');
	}
	seg->has_index = true;
	seg->index = (uint32_t) v;
}

/*
 * A path is a dotted string "a.b.0" or an array of strings and non-negative
 * integers.  segs must hold ECL_MAX_NESTING entries.
 */
static ecl_status
parse_path(builtin_call *c, int i, path_seg *segs, int *nsegs)
{
	ecl_value	path = c->args[i];
	int			n = 0;

	if (ecl_is_stringish(path))
	{
		const char *s = path.u.str->data;
		size_t		len = path.u.str->len;
		size_t		start = 0;

		for (size_t j = 0; j <= len; j++)
		{
			if (j < len && s[j] != '.')
				continue;
			if (j == start)
				return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "%s: empty segment in path '%s'", fname(c), s);
			if (n >= ECL_MAX_NESTING)
				return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "%s: path has more than %d segments", fname(c), ECL_MAX_NESTING);
			segs[n].key = s + start;
			segs[n].keylen = j - start;
			seg_index_from_text(&segs[n]);
			n++;
			start = j + 1;
		}
	}
	else if (path.type == ECL_T_ARRAY)
	{
		const ecl_array *arr = path.u.arr;

		if (arr->len == 0)
			return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0, "%s: path must not be empty", fname(c));
		if (arr->len > ECL_MAX_NESTING)
			return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
								 "%s: path has more than %d segments", fname(c), ECL_MAX_NESTING);
		for (uint32_t j = 0; j < arr->len; j++, n++)
		{
			ecl_value	e = arr->items[j];

			if (ecl_is_stringish(e))
			{
				segs[n].key = e.u.str->data;
				segs[n].keylen = e.u.str->len;
				seg_index_from_text(&segs[n]);
			}
			else if (e.type == ECL_T_NUMBER && e.u.num >= 0 && e.u.num < 1e9 &&
					 e.u.num == floor(e.u.num))
			{
				segs[n].index = (uint32_t) e.u.num;
				segs[n].has_index = true;
				segs[n].keylen = (size_t) snprintf(segs[n].digits, sizeof(segs[n].digits),
												   "%u", segs[n].index);
				segs[n].key = segs[n].digits;
			}
			else
				return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "%s: path elements must be strings or non-negative integers, got %s",
									 fname(c), ecl_type_name((ecl_type) e.type));
		}
	}
	else
		return arg_type_error(c, i, "a string or an array");
	if (n == 0)
		return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0, "%s: path must not be empty", fname(c));
	*nsegs = n;
	return ECL_OK;
}

static ecl_value
get_path(ecl_value cur, const path_seg *segs, int nsegs)
{
	for (int i = 0; i < nsegs; i++)
	{
		if (cur.type == ECL_T_OBJECT)
		{
			const ecl_value *v = ecl_object_get(cur.u.obj, segs[i].key, segs[i].keylen);

			if (v == NULL)
				return ecl_null();
			cur = *v;
		}
		else if (cur.type == ECL_T_ARRAY && segs[i].has_index &&
				 segs[i].index < cur.u.arr->len)
			cur = cur.u.arr->items[segs[i].index];
		else
			return ecl_null();
	}
	return cur;
}

/* A new value equal to cur with the value at segs replaced (copy on write). */
static ecl_status
set_path(builtin_call *c, ecl_value cur, const path_seg *segs, int nsegs,
		 ecl_value value, ecl_value *out)
{
	const ecl_alloc *a = c->vm->alloc;
	ecl_value	child,
				newchild;

	if (nsegs == 0)
	{
		*out = value;
		return ECL_OK;
	}
	if (cur.type == ECL_T_NULL)
	{
		if (set_path(c, ecl_null(), segs + 1, nsegs - 1, value, &newchild) != ECL_OK ||
			ecl_object_new(a, 1, out, c->err) != ECL_OK)
			return ECL_FAIL;
		return ecl_object_set(a, out, segs[0].key, segs[0].keylen, newchild, c->err);
	}
	if (cur.type == ECL_T_OBJECT)
	{
		const ecl_object *obj = cur.u.obj;
		const ecl_value *v = ecl_object_get(obj, segs[0].key, segs[0].keylen);

		child = v ? *v : ecl_null();
		if (set_path(c, child, segs + 1, nsegs - 1, value, &newchild) != ECL_OK ||
			ecl_object_new(a, obj->len + 1, out, c->err) != ECL_OK)
			return ECL_FAIL;
		for (uint32_t i = 0; i < obj->len; i++)
			if (ecl_object_set(a, out, obj->keys[i]->data, obj->keys[i]->len,
							   obj->vals[i], c->err) != ECL_OK)
				return ECL_FAIL;
		return ecl_object_set(a, out, segs[0].key, segs[0].keylen, newchild, c->err);
	}
	if (cur.type == ECL_T_ARRAY)
	{
		const ecl_array *arr = cur.u.arr;

		if (!segs[0].has_index || segs[0].index >= arr->len)
			return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
								 "%s: '%.*s' is not an index of an array of %u elements",
								 fname(c), (int) segs[0].keylen, segs[0].key, arr->len);
		if (set_path(c, arr->items[segs[0].index], segs + 1, nsegs - 1, value,
					 &newchild) != ECL_OK ||
			ecl_array_new(a, arr->len, out, c->err) != ECL_OK)
			return ECL_FAIL;
		memcpy(out->u.arr->items, arr->items, (size_t) arr->len * sizeof(ecl_value));
		out->u.arr->items[segs[0].index] = newchild;
		return ECL_OK;
	}
	return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0, "%s: cannot set '%.*s' inside a %s",
						 fname(c), (int) segs[0].keylen, segs[0].key,
						 ecl_type_name((ecl_type) cur.type));
}

/* ------------------------------------------------------------------- host */

static ecl_status
host_call(builtin_call *c, uint32_t arg, ecl_value *out)
{
	ecl_vm_state *vm = c->vm;
	const ecl_host *h = vm->ctx->host;
	void	   *hctx = vm->ctx->host_ctx;
	const ecl_alloc *a = vm->alloc;
	const ecl_string *did = NULL,
			   *s1 = NULL,
			   *s2 = NULL;
	bool		b,
				personal = false;
	double		d;
	ecl_value	v;

	switch (c->op)
	{
		case ECL_OP_CALLER_TRUST:
			return caller_trust(c, out);
		case ECL_OP_LOAD_TRUST:
			if (need_did(c, 0, &did) != ECL_OK)
				return ECL_FAIL;
			return load_trust(c, did, out);
		case ECL_OP_HAS_CREDENTIAL:
			if (need_did(c, 0, &did) != ECL_OK || need_string(c, 1, &s1) != ECL_OK)
				return ECL_FAIL;
			b = false;
			if (did != NULL)
			{
				if (h->has_credential == NULL)
					return no_host(c, "has_credential");
				if (charge_mana(c) != ECL_OK)
					return ECL_FAIL;
				if (!has_nul(did) && !has_nul(s1) &&
					h->has_credential(hctx, did, s1, &b, c->err) != ECL_OK)
					return host_failed(c, "has_credential");
			}
			*out = ecl_bool(b);
			return ECL_OK;
		case ECL_OP_RESOLVE_DID:
			if (need_did(c, 0, &did) != ECL_OK)
				return ECL_FAIL;
			b = false;
			if (did != NULL)
			{
				if (h->resolve_did == NULL)
					return no_host(c, "resolve_did");
				if (charge_mana(c) != ECL_OK)
					return ECL_FAIL;
				if (!has_nul(did) &&
					h->resolve_did(hctx, did, &b, c->err) != ECL_OK)
					return host_failed(c, "resolve_did");
			}
			*out = ecl_bool(b);
			return ECL_OK;
		case ECL_OP_GET_BALANCE:
			if (need_did(c, 0, &did) != ECL_OK)
				return ECL_FAIL;
			d = 0;
			if (did != NULL)
			{
				if (h->get_balance == NULL)
					return no_host(c, "get_balance");
				if (charge_mana(c) != ECL_OK)
					return ECL_FAIL;
				if (!has_nul(did) &&
					h->get_balance(hctx, did, &d, c->err) != ECL_OK)
					return host_failed(c, "get_balance");
				if (host_number(c, "get_balance", d) != ECL_OK)
					return ECL_FAIL;
			}
			*out = ecl_number(d);
			return ECL_OK;
		case ECL_OP_GET_TIMESTAMP:
		case ECL_OP_TIME_SINCE:
			{
				double		ts = 0;

				if (c->op == ECL_OP_TIME_SINCE && need_number(c, 0, &ts) != ECL_OK)
					return ECL_FAIL;
				if (h->get_timestamp == NULL)
					return no_host(c, "get_timestamp");
				if (h->get_timestamp(hctx, &d, c->err) != ECL_OK)
					return host_failed(c, "get_timestamp");
				if (host_number(c, "get_timestamp", d) != ECL_OK)
					return ECL_FAIL;
				if (c->op == ECL_OP_GET_TIMESTAMP)
					return number_out(c, d, out);
				/* never negative: a timestamp in the future is 0 seconds ago */
				return number_out(c, d > ts ? d - ts : 0, out);
			}
		case ECL_OP_GET_METRIC:
			if (need_string(c, 0, &s1) != ECL_OK)
				return ECL_FAIL;
			if (h->get_metric == NULL)
				return no_host(c, "get_metric");
			*out = ecl_null();
			if (has_nul(s1) || realm_metric_without_realm(c, s1))
				return ECL_OK;
			if (h->get_metric(hctx, a, s1, out, c->err) != ECL_OK)
				return host_failed(c, "get_metric");
			return ECL_OK;
		case ECL_OP_LOG:
			if (h->log == NULL)
				return no_host(c, "log");
			if (ecl_value_to_text(a, c->args[0], &v, c->err) != ECL_OK)
				return ECL_FAIL;
			if (h->log(hctx, v.u.str, c->err) != ECL_OK)
				return host_failed(c, "log");
			return ECL_OK;
		case ECL_OP_EMIT:
			if (h->emit == NULL)
				return no_host(c, "emit");
			if (charge_mana(c) != ECL_OK ||
				charge_write_mana(c, c->args[0]) != ECL_OK)
				return ECL_FAIL;
			if (has_nul(vm->program->consts[arg].u.str))
				return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
									 "event name must not contain NUL");
			if (h->emit(hctx, vm->program->consts[arg].u.str, c->args[0], c->err) != ECL_OK)
				return host_failed(c, "emit");
			return ECL_OK;
		case ECL_OP_STORE_GET:
			if (need_string(c, 0, &s1) != ECL_OK || need_string(c, 1, &s2) != ECL_OK ||
				need_personal(c, 2, &personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_get == NULL)
				return no_host(c, "store_get");
			*out = ecl_null();
			if (charge_mana(c) != ECL_OK)
				return ECL_FAIL;
			if (store_args(c, s1, s2, personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_get(hctx, a, s1, s2, personal, out, c->err) != ECL_OK)
				return host_failed(c, "store_get");
			return ECL_OK;
		case ECL_OP_STORE_PUT:
			if (need_string(c, 0, &s1) != ECL_OK || need_string(c, 1, &s2) != ECL_OK ||
				need_personal(c, 3, &personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_put == NULL)
				return no_host(c, "store_put");
			if (charge_mana(c) != ECL_OK ||
				charge_write_mana(c, c->args[2]) != ECL_OK)
				return ECL_FAIL;
			if (store_args(c, s1, s2, personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_put(hctx, s1, s2, c->args[2], personal, c->err) != ECL_OK)
				return host_failed(c, "store_put");
			*out = ecl_bool(true);
			return ECL_OK;
		case ECL_OP_STORE_DELETE:
			if (need_string(c, 0, &s1) != ECL_OK || need_string(c, 1, &s2) != ECL_OK ||
				need_personal(c, 2, &personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_delete == NULL)
				return no_host(c, "store_delete");
			b = false;
			if (charge_mana(c) != ECL_OK)
				return ECL_FAIL;
			if (store_args(c, s1, s2, personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_delete(hctx, s1, s2, personal, &b, c->err) != ECL_OK)
				return host_failed(c, "store_delete");
			*out = ecl_bool(b);
			return ECL_OK;
		case ECL_OP_STORE_EXISTS:
			if (need_string(c, 0, &s1) != ECL_OK || need_personal(c, 1, &personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_exists == NULL)
				return no_host(c, "store_exists");
			b = false;
			if (charge_mana(c) != ECL_OK)
				return ECL_FAIL;
			if (store_args(c, s1, NULL, personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_exists(hctx, s1, personal, &b, c->err) != ECL_OK)
				return host_failed(c, "store_exists");
			*out = ecl_bool(b);
			return ECL_OK;
		case ECL_OP_STORE_COUNT:
			if (need_string(c, 0, &s1) != ECL_OK || need_personal(c, 1, &personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_count == NULL)
				return no_host(c, "store_count");
			d = 0;
			if (charge_mana(c) != ECL_OK)
				return ECL_FAIL;
			if (store_args(c, s1, NULL, personal) != ECL_OK)
				return ECL_FAIL;
			if (h->store_count(hctx, s1, personal, &d, c->err) != ECL_OK)
				return host_failed(c, "store_count");
			if (host_number(c, "store_count", d) != ECL_OK)
				return ECL_FAIL;
			*out = ecl_number(d);
			return ECL_OK;
		case ECL_OP_STORE_LIST_KEYS:
			{
				int64_t		limit = -1;

				if (need_string(c, 0, &s1) != ECL_OK || opt_string(c, 1, &s2) != ECL_OK)
					return ECL_FAIL;
				if (c->args[2].type != ECL_T_NULL)
				{
					double		l = c->args[2].u.num;

					if (c->args[2].type != ECL_T_NUMBER || !(l >= 0 && l <= 1e15) || l != floor(l))
						return ecl_error_set(c->err, ECL_ERR_INVALID_ARG, 0, 0,
											 "store_list_keys: limit must be a non-negative integer");
					limit = (int64_t) l;
				}
				if (h->store_list_keys == NULL)
					return no_host(c, "store_list_keys");
				if (charge_mana(c) != ECL_OK)
					return ECL_FAIL;
				if (store_args(c, s1, s2, false) != ECL_OK)
					return ECL_FAIL;
				if (h->store_list_keys(hctx, a, s1, s2, limit, out, c->err) != ECL_OK)
					return host_failed(c, "store_list_keys");
				return ECL_OK;
			}
		case ECL_OP_STORE_GET_NESTED:
		case ECL_OP_STORE_PUT_NESTED:
			{
				path_seg	segs[ECL_MAX_NESTING];
				int			nsegs = 0;
				ecl_value	entry = ecl_null();

				if (need_string(c, 0, &s1) != ECL_OK || need_string(c, 1, &s2) != ECL_OK ||
					parse_path(c, 2, segs, &nsegs) != ECL_OK)
					return ECL_FAIL;
				if (h->store_get == NULL)
					return no_host(c, "store_get");
				if (c->op == ECL_OP_STORE_PUT_NESTED && h->store_put == NULL)
					return no_host(c, "store_put");
				if (charge_mana(c) != ECL_OK)
					return ECL_FAIL;
				if (store_args(c, s1, s2, false) != ECL_OK)
					return ECL_FAIL;
				if (h->store_get(hctx, a, s1, s2, false, &entry, c->err) != ECL_OK)
					return host_failed(c, "store_get");
				if (c->op == ECL_OP_STORE_GET_NESTED)
				{
					*out = get_path(entry, segs, nsegs);
					return ECL_OK;
				}
				if (entry.type != ECL_T_NULL && entry.type != ECL_T_OBJECT &&
					entry.type != ECL_T_ARRAY)
					return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0,
										 "store_put_nested: entry '%s' holds a %s, not an object",
										 s2->data, ecl_type_name((ecl_type) entry.type));
				if (set_path(c, entry, segs, nsegs, c->args[3], &v) != ECL_OK)
					return ECL_FAIL;
				if (charge_mana(c) != ECL_OK ||
					charge_write_mana(c, v) != ECL_OK)
					return ECL_FAIL;
				if (h->store_put(hctx, s1, s2, v, false, c->err) != ECL_OK)
					return host_failed(c, "store_put");
				*out = ecl_bool(true);
				return ECL_OK;
			}
		case ECL_OP_STORE_APPEND_LIST:
			{
				ecl_value	entry = ecl_null();
				uint32_t	n = 0;

				if (need_string(c, 0, &s1) != ECL_OK || need_string(c, 1, &s2) != ECL_OK)
					return ECL_FAIL;
				if (h->store_get == NULL)
					return no_host(c, "store_get");
				if (h->store_put == NULL)
					return no_host(c, "store_put");
				if (charge_mana(c) != ECL_OK)
					return ECL_FAIL;
				if (store_args(c, s1, s2, false) != ECL_OK)
					return ECL_FAIL;
				if (h->store_get(hctx, a, s1, s2, false, &entry, c->err) != ECL_OK)
					return host_failed(c, "store_get");
				if (entry.type == ECL_T_ARRAY)
					n = entry.u.arr->len;
				else if (entry.type != ECL_T_NULL)
					return ecl_error_set(c->err, ECL_ERR_TYPE, 0, 0,
										 "store_append_list: entry '%s' holds a %s, not an array",
										 s2->data, ecl_type_name((ecl_type) entry.type));
				if (n >= ECL_MAX_COLLECTION)
					return ecl_error_set(c->err, ECL_ERR_RESOURCE, 0, 0,
										 "store_append_list: list exceeds %u elements", ECL_MAX_COLLECTION);
				if (ecl_array_new(a, n + 1, &v, c->err) != ECL_OK)
					return ECL_FAIL;
				if (n > 0)
					memcpy(v.u.arr->items, entry.u.arr->items, (size_t) n * sizeof(ecl_value));
				v.u.arr->items[n] = c->args[2];
				if (charge_mana(c) != ECL_OK ||
					charge_write_mana(c, v) != ECL_OK)
					return ECL_FAIL;
				if (h->store_put(hctx, s1, s2, v, false, c->err) != ECL_OK)
					return host_failed(c, "store_put");
				*out = ecl_number(n + 1);
				return ECL_OK;
			}
		default:
			return ecl_error_set(c->err, ECL_ERR_BYTECODE, 0, 0, "not a host function");
	}
}

ecl_status
ecl_vm_builtin(ecl_vm_state *vm, ecl_opcode op, uint32_t arg,
			   const ecl_value *args, ecl_value *out, ecl_error *err)
{
	builtin_call c = {vm, op, args, err, false};

	switch (op)
	{
		case ECL_OP_TRUST_NORM:
		case ECL_OP_TRUST_COMBINE:
		case ECL_OP_TRUST_CREATE:
		case ECL_OP_TRUST_ABOVE:
		case ECL_OP_TRUST_WAVG:
		case ECL_OP_TRUST_DISTANCE:
			return trust_pure(&c, out);
		case ECL_OP_ABS:
		case ECL_OP_SQRT:
		case ECL_OP_FLOOR:
		case ECL_OP_CEIL:
		case ECL_OP_ROUND:
		case ECL_OP_MIN:
		case ECL_OP_MAX:
		case ECL_OP_CLAMP:
		case ECL_OP_LERP:
		case ECL_OP_SURPRISAL:
			return math_pure(&c, out);
		case ECL_OP_STR_LEN:
		case ECL_OP_STR_CONTAINS:
		case ECL_OP_STR_EQ_IGNORE_CASE:
		case ECL_OP_ARRAY_LEN:
		case ECL_OP_ARRAY_GET:
		case ECL_OP_CONTAINS:
		case ECL_OP_LEN:
		case ECL_OP_KEYS:
		case ECL_OP_HAS:
			return collection_pure(&c, out);
		default:
			return host_call(&c, arg, out);
	}
}
