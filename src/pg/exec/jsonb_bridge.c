/*
 * jsonb_bridge.c — jsonb <-> ECL values (docs/language.md §3).
 *
 * jsonb -> ECL: numbers become doubles (a numeric outside the double range is
 * an ECL_ERR_NUMERIC error, 22003), strings stay UTF-8, containers are
 * converted recursively.  The input of a run is converted LAZILY: a policy
 * that reads `amount` converts only that field, found with one binary search
 * in the jsonb object (getKeyJsonValueFromContainer), not the whole document,
 * and reading it again in the same run finds it in a small cache.
 *
 * ECL -> jsonb: a did becomes a JSON string, a trust vector the object
 * {"r","i","c","p","v","omega"}.  Numbers go through the core's
 * ecl_format_number (shortest round-trip text) into numeric, so 0.1 + 0.2
 * shows as 0.30000000000000004, exactly what the VM computed.
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "ecl_pg.h"

static const char *const trust_keys[ECL_TRUST_DIMS] = {"r", "i", "c", "p", "v", "omega"};

/* ---------------------------------------------------------------- jsonb -> ECL */

static ecl_status container_to_value(const ecl_alloc *a, JsonbContainer *jc,
									 int depth, ecl_value *out, ecl_error *err);

/*
 * Exact fast path for the numbers policies usually get (integers, amounts
 * with a few decimals): read the numeric's digits directly instead of
 * printing it with numeric_out and parsing the text with strtod, which
 * together cost more than the rest of a small policy run.
 *
 * The layout read here is numeric's on-disk format (numeric.c): a uint16
 * header, for the long form followed by an int16 weight, then base-10000
 * digits (int16).  Being on disk, it cannot change without breaking
 * pg_upgrade.  Header bits: 0x8000 short form (0x2000 sign, 0x0040 weight
 * sign, 0x003F weight), 0x4000 negative long form, 0xC000 NaN/infinities.
 *
 * The value is m * 10^e with an integer m of at most four digits (16
 * decimal digits).  When m <= 2^53 and |e| <= 22, both m and 10^|e| are
 * exact doubles, so one multiplication or division rounds correctly and
 * the result is the double strtod would give (Clinger's fast path).
 * Anything else returns false and takes the text route.
 */
static bool
numeric_to_double_fast(Numeric num, double *out)
{
	static const double exact_pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};
	const char *p = VARDATA_ANY(num);
	Size		len = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			weight;
	bool		negative;
	const char *digits;
	int			ndigits;
	uint64		m = 0;
	int			e10;
	double		d;

	if (len < sizeof(uint16))
		return false;
	memcpy(&header, p, sizeof(uint16));

	/* the commonest case first: a short-form integer below 10000 */
	if (len == 2 * sizeof(uint16) && (header & 0xC07F) == 0x8000)
	{
		int16		digit;

		memcpy(&digit, p + sizeof(uint16), sizeof(int16));
		if (digit >= 0 && digit < 10000)
		{
			*out = (header & 0x2000) ? -(double) digit : (double) digit;
			return true;
		}
	}

	switch (header & 0xC000)
	{
		case 0x8000:			/* short form */
			negative = (header & 0x2000) != 0;
			weight = (header & 0x003F) - ((header & 0x0040) ? 64 : 0);
			digits = p + sizeof(uint16);
			ndigits = (int) ((len - sizeof(uint16)) / sizeof(int16));
			break;
		case 0x0000:			/* long form, positive */
		case 0x4000:			/* long form, negative */
			{
				int16		w;

				if (len < 2 * sizeof(uint16))
					return false;
				negative = (header & 0xC000) == 0x4000;
				memcpy(&w, p + sizeof(uint16), sizeof(int16));
				weight = w;
				digits = p + 2 * sizeof(uint16);
				ndigits = (int) ((len - 2 * sizeof(uint16)) / sizeof(int16));
				break;
			}
		default:				/* NaN, infinities: never in jsonb */
			return false;
	}
	if (ndigits > 4)
		return false;
	for (int i = 0; i < ndigits; i++)
	{
		int16		digit;

		memcpy(&digit, digits + i * sizeof(int16), sizeof(int16));
		if (digit < 0 || digit >= 10000)
			return false;
		m = m * 10000 + (uint64) digit;
	}
	if (m > (UINT64CONST(1) << 53))
		return false;

	/* value = m * 10000^(weight - ndigits + 1) */
	e10 = 4 * (weight - ndigits + 1);
	if (m == 0)
		e10 = 0;
	if (e10 < -22 || e10 > 22)
		return false;
	d = (double) m;
	if (e10 > 0)
		d *= exact_pow10[e10];
	else if (e10 < 0)
		d /= exact_pow10[-e10];
	*out = (negative && m != 0) ? -d : d;
	return true;
}

ecl_status
ecl_numeric_to_number(Numeric num, ecl_value *out, ecl_error *err)
{
	char	   *text;
	double		d;
	char	   *end;

	if (numeric_to_double_fast(num, &d))
	{
		*out = ecl_number(d);
		return ECL_OK;
	}

	text = DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(num)));

	/*
	 * jsonb never holds NaN or infinities, so only range can fail, and only
	 * upwards: strtod also reports ERANGE for a subnormal result (5e-324)
	 * and for an underflow to zero (1e-400), and both are the nearest double.
	 */
	d = strtod(text, &end);
	if (isinf(d))
	{
		/* name the number in scientific notation: it has 300+ digits */
		char	   *sci = numeric_out_sci(num, 3);

		ecl_error_set(err, ECL_ERR_NUMERIC, 0, 0,
					  "number %s is out of range for an ECL number (double precision)",
					  sci);
		pfree(sci);
		pfree(text);
		return ECL_FAIL;
	}
	pfree(text);
	*out = ecl_number(d);
	return ECL_OK;
}

static ecl_status
jsonb_value_to_value(const ecl_alloc *a, JsonbValue *jv, int depth,
					 ecl_value *out, ecl_error *err)
{
	switch (jv->type)
	{
		case jbvNull:
			*out = ecl_null();
			return ECL_OK;
		case jbvBool:
			*out = ecl_bool(jv->val.boolean);
			return ECL_OK;
		case jbvNumeric:
			return ecl_numeric_to_number(jv->val.numeric, out, err);
		case jbvString:
			return ecl_string_new(a, jv->val.string.val, jv->val.string.len,
								  out, err);
		case jbvBinary:
			return container_to_value(a, jv->val.binary.data, depth, out, err);
		default:
			/* jbvArray/jbvObject/jbvDatetime never come out of a stored jsonb */
			return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
								 "unexpected jsonb value kind %d", (int) jv->type);
	}
}

static ecl_status
container_to_value(const ecl_alloc *a, JsonbContainer *jc, int depth,
				   ecl_value *out, ecl_error *err)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	uint32		n = JsonContainerSize(jc);
	uint32		i = 0;

	check_stack_depth();
	if (depth >= ECL_MAX_NESTING)
		return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
							 "JSON value nested deeper than %d levels",
							 ECL_MAX_NESTING);

	if (JsonContainerIsScalar(jc))
	{
		JsonbValue	scalar;

		if (!JsonbExtractScalar(jc, &scalar))
			return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
								 "malformed scalar jsonb");
		return jsonb_value_to_value(a, &scalar, depth, out, err);
	}

	if (JsonContainerIsArray(jc))
	{
		if (ecl_array_new(a, n, out, err) != ECL_OK)
			return ECL_FAIL;
	}
	else if (ecl_object_new(a, n, out, err) != ECL_OK)
		return ECL_FAIL;

	/* skipNested: nested containers come back as jbvBinary; we recurse */
	it = JsonbIteratorInit(jc);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			if (i >= n)
				return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
									 "malformed jsonb array");
			if (jsonb_value_to_value(a, &v, depth + 1,
									 &out->u.arr->items[i], err) != ECL_OK)
				return ECL_FAIL;
			i++;
		}
		else if (tok == WJB_KEY)
		{
			char	   *key = v.val.string.val;
			int			keylen = v.val.string.len;
			ecl_value	item;

			tok = JsonbIteratorNext(&it, &v, true);
			if (tok != WJB_VALUE)
				return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
									 "malformed jsonb object");
			if (jsonb_value_to_value(a, &v, depth + 1, &item, err) != ECL_OK ||
				ecl_object_set(a, out, key, keylen, item, err) != ECL_OK)
				return ECL_FAIL;
		}
	}
	return ECL_OK;
}

ecl_status
ecl_value_from_jsonb(const ecl_alloc *a, Jsonb *jb, ecl_value *out,
					 ecl_error *err)
{
	return container_to_value(a, &jb->root, 0, out, err);
}

/* ------------------------------------------------------- lazy input source */

/*
 * Finding a field.  A jsonb object stores its keys sorted (shorter first,
 * then bytewise) followed by its values, with the children's offsets kept
 * as lengths that have to be summed.  PostgreSQL's own lookup does a binary
 * search that recomputes offsets at every probe.  A run reads several
 * fields of one small object, so the state sums the offsets of all children
 * once (objects of up to INPUT_INDEXED_KEYS keys) and then reads a key or a
 * value at a known index directly.
 *
 * Documents of one column usually share their keys, so a key tends to sit
 * at the same index in every row.  field_hints remembers, per field name,
 * the index it was found at, and a lookup first checks that one key before
 * it searches.  The check can even be skipped: the backend remembers the
 * key layout (offsets and key bytes) of the last indexed document under a
 * generation number, and a hint verified under that generation is right
 * for every document whose layout is byte-for-byte the same, which one
 * comparison per document establishes.  Hints are keyed by the name's
 * pointer, which comes from a program's constant pool and stays put for the
 * run (vm.h).  Within one transaction it also stays put for every later
 * run: a program that ran is freed only at the end of a transaction
 * (policy_catalog.c's graveyard, program_cache.c's retired entries under
 * TopTransactionContext), so no other string can take its address before
 * then.  A hint is therefore trusted without a compare only in the
 * transaction that verified it; otherwise it is a guess that is checked.
 *
 * A field is converted at most once per run, however often it is read
 * (`amount` in a condition and again in a computation, a 32 MB string read
 * in a loop): the state keeps every converted value, by key index for an
 * indexed object, else in a short list by name in the run's memory.  Values
 * are immutable, so handing the same one out again is safe.  Once `input`
 * has been built whole (materialize), fields are read from that object, and
 * building it reuses the fields already converted.
 */
#define INPUT_INDEXED_KEYS	16
#define FIELD_HINT_SLOTS	64		/* power of two */
#define LAYOUT_KEY_BYTES	256		/* key bytes of a layout that is kept */

typedef struct JsonbInputState
{
	Jsonb	   *jb;
	int			nkeys;			/* -1: not indexed yet; 0: not indexed (not
								 * an object, or too many keys) */
	uint32		layout;			/* the layout generation this document has,
								 * 0 when it has none */
	LocalTransactionId lxid;	/* the run's transaction */
	const char *data;			/* where the children's data starts */
	uint32		offsets[2 * INPUT_INDEXED_KEYS + 1];	/* child i spans
														 * [offsets[i],
														 * offsets[i+1]) */
	uint32		converted;		/* bit k: values[k] is key k's value */
	ecl_value	values[INPUT_INDEXED_KEYS];
	struct ConvertedField *others;	/* not indexed: fields converted so far */
	ecl_value  *whole;			/* `input` once materialized, else NULL */
} JsonbInputState;

/* A converted field of an input that is not indexed (run memory). */
typedef struct ConvertedField
{
	struct ConvertedField *next;
	uint32		len;
	const char *name;			/* the jsonb's key bytes, valid for the run */
	ecl_value	value;
} ConvertedField;

StaticAssertDecl(sizeof(JsonbInputState) <= ECL_JSONB_INPUT_STATE_SIZE,
				 "ECL_JSONB_INPUT_STATE_SIZE too small");

typedef struct FieldHint
{
	const char *name;
	uint32		index;
	uint32		layout;			/* verified under this generation, or 0 */
	LocalTransactionId lxid;	/* in this transaction */
} FieldHint;

static FieldHint field_hints[FIELD_HINT_SLOTS];

/* the key layout of the last indexed document */
static struct
{
	uint32		generation;		/* 0: none yet */
	uint32		nkeys;
	uint32		offsets[INPUT_INDEXED_KEYS + 1];
	char		keys[LAYOUT_KEY_BYTES];
}			last_layout;

static void
note_layout(JsonbInputState *st)
{
	uint32		n = (uint32) st->nkeys;
	uint32		key_bytes = st->offsets[n];

	if (last_layout.generation != 0 && last_layout.nkeys == n &&
		memcmp(last_layout.offsets, st->offsets, (n + 1) * sizeof(uint32)) == 0 &&
		memcmp(last_layout.keys, st->data, key_bytes) == 0)
	{
		st->layout = last_layout.generation;
		return;
	}
	if (key_bytes > LAYOUT_KEY_BYTES)
	{
		st->layout = 0;
		return;
	}
	last_layout.generation++;
	if (last_layout.generation == 0)	/* wrapped: 0 means none */
		last_layout.generation = 1;
	last_layout.nkeys = n;
	memcpy(last_layout.offsets, st->offsets, (n + 1) * sizeof(uint32));
	memcpy(last_layout.keys, st->data, key_bytes);
	st->layout = last_layout.generation;
}

static void
index_children(JsonbInputState *st)
{
	JsonbContainer *jc = &st->jb->root;
	uint32		n = JsonContainerSize(jc);
	uint32		offset = 0;

	st->nkeys = 0;
	if (!JsonContainerIsObject(jc) || n == 0 || n > INPUT_INDEXED_KEYS)
		return;
	for (uint32 i = 0; i < 2 * n; i++)
	{
		st->offsets[i] = offset;
		JBE_ADVANCE_OFFSET(offset, jc->children[i]);
	}
	st->offsets[2 * n] = offset;
	st->data = (const char *) &jc->children[2 * n];
	st->nkeys = (int) n;
	st->lxid = ecl_current_lxid();
	note_layout(st);
}

/* jsonb's key order: length first, then the bytes */
static int
compare_key(const JsonbInputState *st, uint32 i, const char *name, uint32 len)
{
	uint32		klen = st->offsets[i + 1] - st->offsets[i];

	if (klen != len)
		return klen < len ? -1 : 1;
	return memcmp(st->data + st->offsets[i], name, len);
}

/* Is key i name?  Field names are short: a loop beats a call of memcmp. */
static inline bool
key_is(const JsonbInputState *st, uint32 i, const char *name, uint32 len)
{
	const char *key = st->data + st->offsets[i];
	uint32		j = 0;

	if (st->offsets[i + 1] - st->offsets[i] != len)
		return false;
	while (j < len && key[j] == name[j])
		j++;
	return j == len;
}

/* Index of key name among the indexed keys, or -1. */
static int
find_key(JsonbInputState *st, const char *name, uint32 len)
{
	FieldHint  *hint = &field_hints[((uintptr_t) name >> 3) & (FIELD_HINT_SLOTS - 1)];
	uint32		lo = 0;
	uint32		hi = (uint32) st->nkeys;

	if (hint->name == name && hint->index < hi)
	{
		if (hint->layout != 0 && hint->layout == st->layout &&
			hint->lxid == st->lxid)
			return (int) hint->index;
		if (key_is(st, hint->index, name, len))
		{
			hint->layout = st->layout;
			hint->lxid = st->lxid;
			return (int) hint->index;
		}
	}

	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;
		int			c = compare_key(st, mid, name, len);

		if (c == 0)
		{
			hint->name = name;
			hint->index = mid;
			hint->layout = st->layout;
			hint->lxid = st->lxid;
			return (int) mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The JsonbValue of child i, as PostgreSQL's iterator would produce it. */
static void
child_value(const JsonbInputState *st, uint32 i, JsonbValue *out)
{
	JEntry		entry = st->jb->root.children[i];
	uint32		offset = st->offsets[i];
	uint32		len = st->offsets[i + 1] - offset;

	if (JBE_ISNULL(entry))
		out->type = jbvNull;
	else if (JBE_ISSTRING(entry))
	{
		out->type = jbvString;
		out->val.string.val = (char *) st->data + offset;
		out->val.string.len = (int) len;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		out->type = jbvNumeric;
		out->val.numeric = (Numeric) (st->data + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(entry) || JBE_ISBOOL_FALSE(entry))
	{
		out->type = jbvBool;
		out->val.boolean = JBE_ISBOOL_TRUE(entry);
	}
	else
	{
		out->type = jbvBinary;
		out->val.binary.data = (JsonbContainer *) (st->data + INTALIGN(offset));
		out->val.binary.len = (int) (len - (INTALIGN(offset) - offset));
	}
}

static ConvertedField *
find_converted(const JsonbInputState *st, const char *name, size_t len)
{
	for (ConvertedField *f = st->others; f != NULL; f = f->next)
		if (f->len == len && memcmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

/* Convert jv and remember it under key (bytes of the jsonb, or a name). */
static ecl_status
convert_and_keep(JsonbInputState *st, const ecl_alloc *a, const char *key,
				 size_t keylen, JsonbValue *jv, ecl_value *out, ecl_error *err)
{
	ConvertedField *f;

	if (jsonb_value_to_value(a, jv, 1, out, err) != ECL_OK)
		return ECL_FAIL;
	f = ecl_malloc(a, sizeof(ConvertedField));
	if (f == NULL)
		return ecl_alloc_failed(a, err, "an input field");
	f->len = (uint32) keylen;
	f->name = key;
	f->value = *out;
	f->next = st->others;
	st->others = f;
	return ECL_OK;
}

/* Key k of an indexed object, converted once. */
static ecl_status
indexed_value(JsonbInputState *st, const ecl_alloc *a, int k, ecl_value *out,
			  ecl_error *err)
{
	JsonbValue	res;

	if (st->converted & (1u << k))
	{
		/* in halves: a 16-byte copy right after the halves were written stalls */
		out->type = st->values[k].type;
		memcpy(&out->u, &st->values[k].u, sizeof(out->u));
		return ECL_OK;
	}
	child_value(st, (uint32) (k + st->nkeys), &res);
	if (jsonb_value_to_value(a, &res, 1, out, err) != ECL_OK)
		return ECL_FAIL;
	st->values[k].type = out->type;
	memcpy(&st->values[k].u, &out->u, sizeof(out->u));
	st->converted |= 1u << k;
	return ECL_OK;
}

static ecl_status
jsonb_input_get_field(void *ictx, const ecl_alloc *a, const char *name,
					  size_t len, ecl_value *out, bool *found, ecl_error *err)
{
	JsonbInputState *st = (JsonbInputState *) ictx;
	JsonbValue	res;
	int			k;

	*found = false;
	if (!JsonContainerIsObject(&st->jb->root) || len > INT_MAX)
		return ECL_OK;
	if (st->whole != NULL)
	{
		const ecl_value *v = ecl_object_get(st->whole->u.obj, name, len);

		if (v == NULL)
			return ECL_OK;
		*found = true;
		*out = *v;
		return ECL_OK;
	}
	if (st->nkeys < 0)
		index_children(st);
	if (st->nkeys == 0)
	{
		/* not indexed: PostgreSQL's search, and a list of what was converted */
		ConvertedField *f = find_converted(st, name, len);

		if (f != NULL)
		{
			*found = true;
			*out = f->value;
			return ECL_OK;
		}
		if (getKeyJsonValueFromContainer(&st->jb->root, name, (int) len, &res) == NULL)
			return ECL_OK;
		*found = true;
		/* the name is the program's constant, which outlives the run */
		return convert_and_keep(st, a, name, len, &res, out, err);
	}

	k = find_key(st, name, (uint32) len);
	if (k < 0)
		return ECL_OK;
	*found = true;
	return indexed_value(st, a, k, out, err);
}

/*
 * `input` as a whole object, built once, with the fields read so far as
 * they were converted then.
 */
static ecl_status
jsonb_input_materialize(void *ictx, const ecl_alloc *a, ecl_value *out,
						ecl_error *err)
{
	JsonbInputState *st = (JsonbInputState *) ictx;
	JsonbContainer *jc = &st->jb->root;
	ecl_value  *whole;

	if (st->whole != NULL)
	{
		*out = *st->whole;
		return ECL_OK;
	}
	if (!JsonContainerIsObject(jc))
		return ecl_value_from_jsonb(a, st->jb, out, err);
	if (st->nkeys < 0)
		index_children(st);
	if (ecl_object_new(a, JsonContainerSize(jc), out, err) != ECL_OK)
		return ECL_FAIL;

	if (st->nkeys > 0)
	{
		for (int k = 0; k < st->nkeys; k++)
		{
			ecl_value	v;

			if (indexed_value(st, a, k, &v, err) != ECL_OK ||
				ecl_object_set(a, out, st->data + st->offsets[k],
							   st->offsets[k + 1] - st->offsets[k], v,
							   err) != ECL_OK)
				return ECL_FAIL;
		}
	}
	else
	{
		JsonbIterator *it = JsonbIteratorInit(jc);
		JsonbIteratorToken tok;
		JsonbValue	v;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			const char *key;
			int			keylen;
			ConvertedField *f;
			ecl_value	item;

			if (tok != WJB_KEY)
				continue;
			key = v.val.string.val;
			keylen = v.val.string.len;
			if (JsonbIteratorNext(&it, &v, true) != WJB_VALUE)
				return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
									 "malformed jsonb object");
			f = find_converted(st, key, keylen);
			if (f != NULL)
				item = f->value;
			else if (jsonb_value_to_value(a, &v, 1, &item, err) != ECL_OK)
				return ECL_FAIL;
			if (ecl_object_set(a, out, key, keylen, item, err) != ECL_OK)
				return ECL_FAIL;
		}
	}

	whole = ecl_malloc(a, sizeof(ecl_value));
	if (whole == NULL)
		return ecl_alloc_failed(a, err, "the input object");
	*whole = *out;
	st->whole = whole;
	return ECL_OK;
}

void
ecl_input_from_jsonb(ecl_input_source *src, Jsonb *jb, void *state)
{
	JsonbInputState *st = (JsonbInputState *) state;

	st->jb = jb;
	st->nkeys = -1;
	st->layout = 0;
	st->converted = 0;
	st->others = NULL;
	st->whole = NULL;
	src->get_field = jsonb_input_get_field;
	src->materialize = jsonb_input_materialize;
	src->ctx = st;
}

/* ---------------------------------------------------------------- ECL -> jsonb */

static void
number_to_jsonb(double d, JsonbValue *jv)
{
	char		buf[32];

	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ECL number %g cannot be represented in JSON", d)));
	ecl_format_number(d, buf);
	jv->type = jbvNumeric;
	jv->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														  CStringGetDatum(buf),
														  ObjectIdGetDatum(InvalidOid),
														  Int32GetDatum(-1)));
}

static void
string_to_jsonb(const char *data, uint32 len, JsonbValue *jv)
{
	/* jsonb (like text) cannot hold NUL; "\u0000" in ECL can make one */
	if (memchr(data, '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("ECL string containing \\u0000 cannot be converted to jsonb")));
	jv->type = jbvString;
	jv->val.string.val = (char *) data;
	jv->val.string.len = (int) len;
}

/*
 * Building a document within the run's memory budget.  The parse state's
 * JsonbValues are allocated as they are pushed, so the budget's measurement
 * sees them; what it cannot see yet is the final document, whose size is
 * about the strings' bytes plus a few words per value.  That estimate is
 * checked every BUDGET_CHECK_NODES values and before every long string, so
 * a value that shares one big part many times ([s, s, s, ...] built by
 * doubling) is refused before its copies are made.
 */
#define BUDGET_CHECK_NODES 1024

typedef struct ToJsonb
{
	Size		pending;		/* estimated bytes of the final document */
	uint32		unchecked;		/* values pushed since the last check */
	bool		over;			/* the budget is spent: stop */
} ToJsonb;

static bool
to_jsonb_admits(ToJsonb *tj, Size string_len)
{
	tj->pending += 2 * sizeof(JEntry) + string_len;
	if (++tj->unchecked < BUDGET_CHECK_NODES && string_len < 64 * 1024)
		return true;
	tj->unchecked = 0;
	if (ecl_run_memory_exceeded(tj->pending))
		tj->over = true;
	return !tj->over;
}

/*
 * Push v onto the parse state; tok is WJB_ELEM, WJB_VALUE, or 0 at the root.
 * NULL with tj->over set when the budget is spent.
 */
static JsonbValue *
push_value(JsonbParseState **ps, ecl_value v, JsonbIteratorToken tok,
		   ToJsonb *tj)
{
	JsonbValue	jv;
	JsonbValue *res = NULL;

	check_stack_depth();
	if (!to_jsonb_admits(tj, ecl_is_stringish(v) ? v.u.str->len : 0))
		return NULL;
	switch ((ecl_type) v.type)
	{
		case ECL_T_NULL:
			jv.type = jbvNull;
			break;
		case ECL_T_BOOL:
			jv.type = jbvBool;
			jv.val.boolean = v.u.b;
			break;
		case ECL_T_NUMBER:
			number_to_jsonb(v.u.num, &jv);
			break;
		case ECL_T_STRING:
		case ECL_T_DID:
			string_to_jsonb(v.u.str->data, v.u.str->len, &jv);
			break;
		case ECL_T_TRUST:
			pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
			for (int d = 0; d < ECL_TRUST_DIMS; d++)
			{
				JsonbValue	key;

				string_to_jsonb(trust_keys[d], strlen(trust_keys[d]), &key);
				pushJsonbValue(ps, WJB_KEY, &key);
				push_value(ps, ecl_number(v.u.trust->dim[d]), WJB_VALUE, tj);
			}
			return pushJsonbValue(ps, WJB_END_OBJECT, NULL);
		case ECL_T_ARRAY:
			pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
			for (uint32 i = 0; i < v.u.arr->len; i++)
			{
				push_value(ps, v.u.arr->items[i], WJB_ELEM, tj);
				if (tj->over)
					return NULL;
			}
			return pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		case ECL_T_OBJECT:
			pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
			for (uint32 i = 0; i < v.u.obj->len; i++)
			{
				JsonbValue	key;

				if (!to_jsonb_admits(tj, v.u.obj->keys[i]->len))
					return NULL;
				string_to_jsonb(v.u.obj->keys[i]->data, v.u.obj->keys[i]->len, &key);
				pushJsonbValue(ps, WJB_KEY, &key);
				push_value(ps, v.u.obj->vals[i], WJB_VALUE, tj);
				if (tj->over)
					return NULL;
			}
			return pushJsonbValue(ps, WJB_END_OBJECT, NULL);
		default:
			elog(ERROR, "unknown ECL value type %d", (int) v.type);
	}

	/* a scalar */
	if (tok == 0)
	{
		res = palloc(sizeof(JsonbValue));
		*res = jv;
		return res;
	}
	return pushJsonbValue(ps, tok, &jv);
}

/*
 * true, false and null as jsonb, built once per backend: most runs (every
 * ecl.check) end in a boolean, and building a one-scalar document costs
 * more than copying one.
 */
static Jsonb *
scalar_template(ecl_value v)
{
	static Jsonb *templates[3];
	int			slot = v.type == ECL_T_NULL ? 2 : (v.u.b ? 1 : 0);

	if (templates[slot] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		JsonbValue	jv;

		if (v.type == ECL_T_NULL)
			jv.type = jbvNull;
		else
		{
			jv.type = jbvBool;
			jv.val.boolean = v.u.b;
		}
		templates[slot] = JsonbValueToJsonb(&jv);
		MemoryContextSwitchTo(old);
	}
	return templates[slot];
}

Jsonb *
ecl_value_to_jsonb_budget(ecl_value v, const char *what, ecl_error *err)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;
	ToJsonb		tj = {0, 0, false};

	if (v.type == ECL_T_NULL || v.type == ECL_T_BOOL)
	{
		Jsonb	   *t = scalar_template(v);
		Jsonb	   *copy = palloc(VARSIZE(t));

		memcpy(copy, t, VARSIZE(t));
		return copy;
	}

	res = push_value(&ps, v, 0, &tj);
	if (tj.over || ecl_run_memory_exceeded(tj.pending))
	{
		ecl_run_memory_error(err, what);
		return NULL;
	}

	/* JsonbValueToJsonb wraps a scalar into a raw-scalar document itself */
	return JsonbValueToJsonb(res);
}

Jsonb *
ecl_value_to_jsonb(ecl_value v)
{
	ecl_error	err;
	Jsonb	   *jb;

	ecl_error_clear(&err);
	jb = ecl_value_to_jsonb_budget(v, "converting a value to jsonb", &err);
	if (jb == NULL)
		ecl_raise(&err, NULL);
	return jb;
}
