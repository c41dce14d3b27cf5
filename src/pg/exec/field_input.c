/*
 * field_input.c — the input of a run as field values (field_input.h).
 *
 * What the jsonb path does to a value, and so what is done here:
 * jsonb_build_object turns smallint, integer, bigint, numeric and double
 * precision into a jsonb number through the type's text output, except a
 * text output with an "n" or "N" in it (NaN, Infinity), which becomes a
 * string; boolean becomes true/false; text and varchar a string; SQL NULL
 * null.  The run then turns a jsonb number into the nearest double
 * (jsonb_bridge.c).  Hence:
 *   - integers: (double) v, which rounds to nearest like the conversion of
 *     their decimal text;
 *   - numeric: the very conversion the jsonb path uses, on the same value;
 *   - double precision: with extra_float_digits > 0 its text is the
 *     shortest that reads back exactly, so the value itself; otherwise the
 *     text float8out would print (%.*g with DBL_DIG + extra_float_digits
 *     digits), read back; -0 becomes 0 (numeric has no negative zero);
 *     NaN and the infinities become the strings "NaN", "Infinity",
 *     "-Infinity".
 * Each field is converted at most once per run, and `input` is built the
 * way the jsonb path builds it for an object of up to 16 keys (the only
 * kind given here), so the run's memory budget sees the same allocations.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/float.h"
#include "utils/numeric.h"

#include "ecl_pg.h"
#include "field_input.h"

typedef struct FieldInputState
{
	const EclInputFields *fields;
	uint32		converted;		/* bit k: values[k] is field k's value */
	ecl_value	values[ECL_FIELD_INPUT_MAX];
	ecl_value  *whole;			/* `input` once materialized, else NULL */
} FieldInputState;

StaticAssertDecl(sizeof(FieldInputState) <= ECL_FIELD_INPUT_STATE_SIZE,
				 "ECL_FIELD_INPUT_STATE_SIZE too small");

bool
ecl_field_type_supported(Oid type)
{
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case BOOLOID:
		case TEXTOID:
		case VARCHAROID:
		case NUMERICOID:
		case FLOAT8OID:
			return true;
		default:
			return false;
	}
}

static ecl_status
float8_value(const ecl_alloc *a, double d, ecl_value *out, ecl_error *err)
{
	if (isnan(d))
		return ecl_string_new(a, "NaN", 3, out, err);
	if (isinf(d))
		return d > 0 ? ecl_string_new(a, "Infinity", 8, out, err)
			: ecl_string_new(a, "-Infinity", 9, out, err);
	if (extra_float_digits <= 0)
	{
		char		buf[64];
		int			ndig = DBL_DIG + extra_float_digits;

		if (ndig < 1)
			ndig = 1;
		snprintf(buf, sizeof(buf), "%.*g", ndig, d);
		d = strtod(buf, NULL);
	}
	*out = ecl_number(d == 0 ? 0.0 : d);
	return ECL_OK;
}

static ecl_status
numeric_value(const ecl_alloc *a, Numeric num, ecl_value *out, ecl_error *err)
{
	if (numeric_is_nan(num) || numeric_is_inf(num))
	{
		char	   *s = numeric_normalize(num);
		ecl_status	st = ecl_string_new(a, s, strlen(s), out, err);

		pfree(s);
		return st;
	}
	return ecl_numeric_to_number(num, out, err);
}

static ecl_status
convert_field(const EclInputFields *f, int k, const ecl_alloc *a,
			  ecl_value *out, ecl_error *err)
{
	Datum		v = f->values[k];

	if (f->nulls[k])
	{
		*out = ecl_null();
		return ECL_OK;
	}
	switch (f->types[k])
	{
		case INT2OID:
			*out = ecl_number((double) DatumGetInt16(v));
			return ECL_OK;
		case INT4OID:
			*out = ecl_number((double) DatumGetInt32(v));
			return ECL_OK;
		case INT8OID:
			*out = ecl_number((double) DatumGetInt64(v));
			return ECL_OK;
		case BOOLOID:
			*out = ecl_bool(DatumGetBool(v));
			return ECL_OK;
		case TEXTOID:
		case VARCHAROID:
			{
				text	   *t = DatumGetTextPP(v);

				return ecl_string_new(a, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
									  out, err);
			}
		case NUMERICOID:
			return numeric_value(a, DatumGetNumeric(v), out, err);
		case FLOAT8OID:
			return float8_value(a, DatumGetFloat8(v), out, err);
	}
	return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
						 "input field of type %u cannot be converted", f->types[k]);
}

static ecl_status
field_value(FieldInputState *st, const ecl_alloc *a, int k, ecl_value *out,
			ecl_error *err)
{
	if (st->converted & (1u << k))
	{
		*out = st->values[k];
		return ECL_OK;
	}
	if (convert_field(st->fields, k, a, out, err) != ECL_OK)
		return ECL_FAIL;
	st->values[k] = *out;
	st->converted |= 1u << k;
	return ECL_OK;
}

static ecl_status
fields_get_field(void *ictx, const ecl_alloc *a, const char *name, size_t len,
				 ecl_value *out, bool *found, ecl_error *err)
{
	FieldInputState *st = (FieldInputState *) ictx;
	const EclInputFields *f = st->fields;

	*found = false;
	if (st->whole != NULL)
	{
		const ecl_value *v = ecl_object_get(st->whole->u.obj, name, len);

		if (v == NULL)
			return ECL_OK;
		*found = true;
		*out = *v;
		return ECL_OK;
	}
	for (int k = 0; k < f->nfields; k++)
	{
		if (f->name_lens[k] == len && memcmp(f->names[k], name, len) == 0)
		{
			*found = true;
			return field_value(st, a, k, out, err);
		}
	}
	return ECL_OK;
}

/* `input` whole, built as the jsonb path builds an indexed object */
static ecl_status
fields_materialize(void *ictx, const ecl_alloc *a, ecl_value *out,
				   ecl_error *err)
{
	FieldInputState *st = (FieldInputState *) ictx;
	const EclInputFields *f = st->fields;
	ecl_value  *whole;

	if (st->whole != NULL)
	{
		*out = *st->whole;
		return ECL_OK;
	}
	if (ecl_object_new(a, (uint32_t) f->nfields, out, err) != ECL_OK)
		return ECL_FAIL;
	for (int k = 0; k < f->nfields; k++)
	{
		ecl_value	v;

		if (field_value(st, a, k, &v, err) != ECL_OK ||
			ecl_object_set(a, out, f->names[k], f->name_lens[k], v, err) != ECL_OK)
			return ECL_FAIL;
	}
	whole = ecl_malloc(a, sizeof(ecl_value));
	if (whole == NULL)
		return ecl_alloc_failed(a, err, "the input object");
	*whole = *out;
	st->whole = whole;
	return ECL_OK;
}

void
ecl_input_from_fields(ecl_input_source *src, const EclInputFields *fields,
					  void *state)
{
	FieldInputState *st = (FieldInputState *) state;

	Assert(fields->nfields <= ECL_FIELD_INPUT_MAX);
	st->fields = fields;
	st->converted = 0;
	st->whole = NULL;
	src->get_field = fields_get_field;
	src->materialize = fields_materialize;
	src->ctx = st;
}

void
ecl_input_fields_memo_key(const EclInputFields *f, StringInfo key)
{
	appendStringInfoChar(key, (char) 0xFF);
	for (int k = 0; k < f->nfields; k++)
	{
		uint32		len = f->name_lens[k];
		char		tag = f->nulls[k] ? 'n' : (char) (f->types[k] & 0x7F);

		appendBinaryStringInfo(key, (const char *) &len, sizeof(len));
		appendBinaryStringInfo(key, f->names[k], len);
		appendStringInfoChar(key, tag);
		if (f->nulls[k])
			continue;
		switch (f->types[k])
		{
			case INT2OID:
			case INT4OID:
			case INT8OID:
				{
					int64		i = f->types[k] == INT2OID ? DatumGetInt16(f->values[k]) :
						f->types[k] == INT4OID ? DatumGetInt32(f->values[k]) :
						DatumGetInt64(f->values[k]);

					appendBinaryStringInfo(key, (const char *) &i, sizeof(i));
					break;
				}
			case FLOAT8OID:
				{
					float8		d = DatumGetFloat8(f->values[k]);

					appendBinaryStringInfo(key, (const char *) &d, sizeof(d));
					break;
				}
			case BOOLOID:
				appendStringInfoChar(key, DatumGetBool(f->values[k]) ? 't' : 'f');
				break;
			default:
				{
					/* text, varchar, numeric: the bytes, after their length */
					struct varlena *v = PG_DETOAST_DATUM_PACKED(f->values[k]);
					uint32		vlen = VARSIZE_ANY_EXHDR(v);

					appendBinaryStringInfo(key, (const char *) &vlen, sizeof(vlen));
					appendBinaryStringInfo(key, VARDATA_ANY(v), vlen);
					break;
				}
		}
	}
}

/*
 * The jsonb the call would have built (jsonb_build_object's conversion of
 * each value), for what must show the input as data: the decision log.
 * Not on the run's path.
 */
Jsonb *
ecl_input_fields_jsonb(const EclInputFields *f)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int k = 0; k < f->nfields; k++)
	{
		JsonbValue	key;
		JsonbValue	val;

		key.type = jbvString;
		key.val.string.val = (char *) f->names[k];
		key.val.string.len = (int) f->name_lens[k];
		pushJsonbValue(&state, WJB_KEY, &key);

		if (f->nulls[k])
			val.type = jbvNull;
		else if (f->types[k] == BOOLOID)
		{
			val.type = jbvBool;
			val.val.boolean = DatumGetBool(f->values[k]);
		}
		else
		{
			Oid			output;
			bool		varlena;
			char	   *text;

			getTypeOutputInfo(f->types[k], &output, &varlena);
			text = OidOutputFunctionCall(output, f->values[k]);
			if (f->types[k] == TEXTOID || f->types[k] == VARCHAROID ||
				strpbrk(text, "nN") != NULL)
			{
				/* strings, and NaN/Infinity as jsonb_build_object has them */
				val.type = jbvString;
				val.val.string.val = text;
				val.val.string.len = (int) strlen(text);
			}
			else
			{
				val.type = jbvNumeric;
				val.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																	  CStringGetDatum(text),
																	  ObjectIdGetDatum(InvalidOid),
																	  Int32GetDatum(-1)));
			}
		}
		pushJsonbValue(&state, WJB_VALUE, &val);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}
