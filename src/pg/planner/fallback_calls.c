/*
 * fallback_calls.c — calls that stay in the VM, without a jsonb per row.
 *
 *   ecl.policy_check_fields(policy, caller, realm, keys, VARIADIC "any")
 *   ecl.policy_allowed_fields(policy, realm, keys, VARIADIC "any")
 *
 * When the planner cannot translate ecl.check(..., jsonb_build_object('k',
 * v, ...)) or ecl.allowed(...) with constant keys (ecl.translate off, a
 * policy outside the subset, ecl.rate_limit, ecl.rls_errors = deny), the
 * support function rewrites the call into one of these (ecl_fallback_call):
 * the keys become one constant array, the values stay arguments.  Each row
 * then hands the values to the one runner (field_input.h), which converts
 * the fields the policy reads exactly as it would convert them from the
 * jsonb; nothing else changes: the same request builder, the same flags
 * (read-only, per row, no identity no access), so the declared-inputs check,
 * the memory budget, the statement memo, the memo of runs, ecl.rate_limit
 * and ecl.rls_errors behave as for the jsonb call.
 *
 * Rewritten only when every value has a type field_input.c converts exactly
 * (smallint, integer, bigint, boolean, text, varchar, numeric, double
 * precision; an untyped literal is text, as jsonb_build_object takes it)
 * and there are at most 16 distinct keys; otherwise the call keeps its
 * jsonb.
 *
 * Privileges: each function has the grants of the function the user called
 * and also checks EXECUTE on that function, once per call site, so revoking
 * EXECUTE on ecl.check still stops a rewritten call.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "access/detoast.h"

#include "ecl_pg.h"
#include "field_input.h"
#include "identity.h"
#include "planner_support.h"
#include "policy_catalog.h"
#include "runner.h"

PG_FUNCTION_INFO_V1(ecl_policy_check_fields);
PG_FUNCTION_INFO_V1(ecl_policy_allowed_fields);

/* ------------------------------------------------------- the rewrite */

static Node *
strip_relabels(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

static char *
constant_key(Node *key)
{
	Const	   *kc;

	key = strip_relabels(key);
	if (!IsA(key, Const))
		return NULL;
	kc = (Const *) key;
	if (kc->constisnull)
		return NULL;
	if (kc->consttype == UNKNOWNOID)
		return pstrdup(DatumGetCString(kc->constvalue));
	if (kc->consttype == TEXTOID || kc->consttype == VARCHAROID)
		return TextDatumGetCString(kc->constvalue);
	return NULL;
}

/*
 * The value argument as the rewritten call passes it, or NULL when its type
 * is not converted exactly (the call keeps its jsonb).
 */
static Node *
value_argument(Node *val)
{
	Oid			type = exprType(val);
	Node	   *base = strip_relabels(val);

	if (IsA(base, Const) && ((Const *) base)->constisnull)
		return (Node *) makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID);
	if (type == UNKNOWNOID && IsA(base, Const))
		/* jsonb_build_object reads an untyped literal as text */
		return (Node *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
								  CStringGetTextDatum(DatumGetCString(((Const *) base)->constvalue)),
								  false, false);
	return ecl_field_type_supported(type) ? val : NULL;
}

Node *
ecl_fallback_call(FuncExpr *fcall)
{
	int			nargs = list_length(fcall->args);
	bool		is_allowed = nargs == 3;
	FuncExpr   *input;
	List	   *keys = NIL;
	List	   *values = NIL;
	List	   *distinct = NIL;
	Datum	   *key_datums;
	int			nkeys;
	List	   *args;
	Oid			types[5];
	Oid			funcid;
	ListCell   *lc;
	int			i = 0;

	if (nargs != 3 && nargs != 4)
		return NULL;
	input = (FuncExpr *) llast(fcall->args);
	if (!IsA(input, FuncExpr) || input->funcid != F_JSONB_BUILD_OBJECT_ANY ||
		input->funcvariadic || list_length(input->args) == 0 ||
		list_length(input->args) % 2 != 0)
		return NULL;

	foreach(lc, input->args)
	{
		if (i++ % 2 == 0)
		{
			char	   *key = constant_key(lfirst(lc));

			if (key == NULL)
				return NULL;
			keys = lappend(keys, key);
			if (!list_member(distinct, makeString(key)))
				distinct = lappend(distinct, makeString(key));
		}
		else
		{
			Node	   *v = value_argument(lfirst(lc));

			if (v == NULL)
				return NULL;
			values = lappend(values, v);
		}
	}
	if (list_length(distinct) > ECL_FIELD_INPUT_MAX)
		return NULL;

	nkeys = list_length(keys);
	key_datums = palloc(sizeof(Datum) * nkeys);
	i = 0;
	foreach(lc, keys)
		key_datums[i++] = CStringGetTextDatum((char *) lfirst(lc));

	args = list_copy_head(fcall->args, nargs - 1);
	args = lappend(args, makeConst(TEXTARRAYOID, -1, DEFAULT_COLLATION_OID, -1,
								   PointerGetDatum(construct_array(key_datums, nkeys, TEXTOID, -1,
																   false, TYPALIGN_INT)),
								   false, false));
	args = list_concat(args, values);

	for (int k = 0; k < nargs - 1; k++)
		types[k] = TEXTOID;
	types[nargs - 1] = TEXTARRAYOID;
	types[nargs] = ANYOID;
	funcid = LookupFuncName(list_make2(makeString("ecl"),
									   makeString(is_allowed ? "policy_allowed_fields"
												  : "policy_check_fields")),
							nargs + 1, types, true);
	if (!OidIsValid(funcid))
		return NULL;			/* an install without them: keep the jsonb */
	return (Node *) makeFuncExpr(funcid, BOOLOID, args, InvalidOid,
								 fcall->inputcollid, COERCE_EXPLICIT_CALL);
}

/* --------------------------------------------------------- the functions */

/* What a call site keeps between rows (fn_extra) */
typedef struct FieldsCall
{
	EclPolicyCallCache policy;
	bool		acl_checked;
	ArrayType  *keys;			/* the keys array they were derived from */
	int			first_value;	/* argument number of the first value */
	int			nvalues;
	Oid		   *value_types;	/* of every value argument */
	int			nfields;		/* distinct keys, in jsonb's order */
	char	   *names[ECL_FIELD_INPUT_MAX];
	uint32		name_lens[ECL_FIELD_INPUT_MAX];
	int			argno[ECL_FIELD_INPUT_MAX]; /* the value a key keeps */
	Oid			types[ECL_FIELD_INPUT_MAX];
	Datum		values[ECL_FIELD_INPUT_MAX];
	bool		nulls[ECL_FIELD_INPUT_MAX];
	EclInputFields fields;
} FieldsCall;

/* jsonb's key order: the shorter key first, then the bytes */
static int
jsonb_key_cmp(const char *a, uint32 alen, const char *b, uint32 blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static void
derive_fields(FunctionCallInfo fcinfo, FieldsCall *c, ArrayType *keys)
{
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n != c->nvalues)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d keys for %d values", n, c->nvalues)));
	c->nfields = 0;
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		uint32		len;
		int			slot;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d: key must not be null", 2 * i + 1)));
		name = TextDatumGetCString(elems[i]);
		len = strlen(name);
		/* a repeated key keeps its last value, as in jsonb */
		for (slot = 0; slot < c->nfields; slot++)
			if (c->name_lens[slot] == len && memcmp(c->names[slot], name, len) == 0)
				break;
		if (slot == c->nfields)
		{
			if (c->nfields == ECL_FIELD_INPUT_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("at most %d distinct keys", ECL_FIELD_INPUT_MAX)));
			c->nfields++;
		}
		c->names[slot] = name;
		c->name_lens[slot] = len;
		c->argno[slot] = c->first_value + i;
		c->types[slot] = c->value_types[i];
	}
	/* jsonb's order (insertion sort: at most 16) */
	for (int i = 1; i < c->nfields; i++)
		for (int j = i; j > 0 &&
			 jsonb_key_cmp(c->names[j - 1], c->name_lens[j - 1],
						   c->names[j], c->name_lens[j]) > 0; j--)
		{
			char	   *tn = c->names[j];
			uint32		tl = c->name_lens[j];
			int			ta = c->argno[j];
			Oid			tt = c->types[j];

			c->names[j] = c->names[j - 1];
			c->name_lens[j] = c->name_lens[j - 1];
			c->argno[j] = c->argno[j - 1];
			c->types[j] = c->types[j - 1];
			c->names[j - 1] = tn;
			c->name_lens[j - 1] = tl;
			c->argno[j - 1] = ta;
			c->types[j - 1] = tt;
		}
	c->keys = (ArrayType *) pg_detoast_datum_copy((struct varlena *) keys);
	c->fields.nfields = c->nfields;
	c->fields.names = (const char *const *) c->names;
	c->fields.name_lens = c->name_lens;
	c->fields.types = c->types;
	c->fields.values = c->values;
	c->fields.nulls = c->nulls;
	MemoryContextSwitchTo(old);
}

static FieldsCall *
fields_call(FunctionCallInfo fcinfo, int first_value, const char *original,
			int original_nargs)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	FieldsCall *c = (FieldsCall *) flinfo->fn_extra;
	ArrayType  *keys;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(FieldsCall));
		c->first_value = first_value;
		c->nvalues = PG_NARGS() - first_value;
		c->value_types = MemoryContextAlloc(flinfo->fn_mcxt,
											sizeof(Oid) * (c->nvalues + 1));
		for (int i = 0; i < c->nvalues; i++)
		{
			c->value_types[i] = get_fn_expr_argtype(flinfo, first_value + i);
			if (!ecl_field_type_supported(c->value_types[i]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("input field values of type %s are not passed this way",
								format_type_be(c->value_types[i])),
						 errhint("Call ecl.check or ecl.allowed with jsonb_build_object(...).")));
		}
		flinfo->fn_extra = c;
	}

	if (!c->acl_checked)
	{
		Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};

		if (original_nargs == 3)
			types[2] = JSONBOID;
		ecl_require_execute(original, original_nargs, types);
		c->acl_checked = true;
	}

	if (PG_ARGISNULL(first_value - 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the keys must not be NULL")));
	keys = DatumGetArrayTypeP(PG_GETARG_DATUM(first_value - 1));
	if (c->keys == NULL || VARSIZE(c->keys) != VARSIZE(keys) ||
		memcmp(c->keys, keys, VARSIZE(keys)) != 0)
		derive_fields(fcinfo, c, keys);

	/* jsonb_build_object's limits, before anything runs */
	for (int i = 0; i < c->nvalues; i++)
	{
		Oid			t = c->value_types[i];

		if ((t == TEXTOID || t == VARCHAROID) && !PG_ARGISNULL(first_value + i) &&
			toast_raw_datum_size(PG_GETARG_DATUM(first_value + i)) - VARHDRSZ > JENTRY_OFFLENMASK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("string too long to represent as jsonb string"),
					 errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
							   JENTRY_OFFLENMASK)));
	}
	/*
	 * Detoasted here, in the row's context, as jsonb_build_object would:
	 * the run's memory budget then sees only what the jsonb path's run sees
	 */
	for (int k = 0; k < c->nfields; k++)
	{
		Oid			t = c->types[k];

		c->nulls[k] = PG_ARGISNULL(c->argno[k]);
		c->values[k] = c->nulls[k] ? (Datum) 0 : PG_GETARG_DATUM(c->argno[k]);
		if (c->nulls[k])
			continue;
		if (t == TEXTOID || t == VARCHAROID)
			c->values[k] = PointerGetDatum(PG_DETOAST_DATUM_PACKED(c->values[k]));
		else if (t == NUMERICOID)
			c->values[k] = PointerGetDatum(DatumGetNumeric(c->values[k]));
	}
	return c;
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static const EclPolicy *
policy_arg(FunctionCallInfo fcinfo, FieldsCall *c)
{
	text	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy name must not be NULL")));
	name = PG_GETARG_TEXT_PP(0);
	return ecl_policy_lookup_cached(&c->policy, fcinfo->flinfo->fn_mcxt,
									VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
}

/* ecl.policy_check_fields(policy, caller, realm, keys, VARIADIC "any") */
Datum
ecl_policy_check_fields(PG_FUNCTION_ARGS)
{
	FieldsCall *c = fields_call(fcinfo, 4, "check", 4);
	EclRunRequest req;
	EclRunOutcome out;

	ecl_run_request_for_policy(&req, policy_arg(fcinfo, c),
							   text_arg(fcinfo, 1), text_arg(fcinfo, 2), NULL,
							   ECL_RUN_READ_ONLY | ECL_RUN_PER_ROW);
	req.fields = &c->fields;
	ecl_run(&req, &out);
	PG_RETURN_BOOL(out.passed);
}

/* ecl.policy_allowed_fields(policy, realm, keys, VARIADIC "any") */
Datum
ecl_policy_allowed_fields(PG_FUNCTION_ARGS)
{
	FieldsCall *c = fields_call(fcinfo, 3, "allowed", 3);
	EclRunRequest req;
	EclRunOutcome out;

	ecl_run_request_for_policy(&req, policy_arg(fcinfo, c),
							   ecl_current_did(), text_arg(fcinfo, 1), NULL,
							   ECL_RUN_READ_ONLY | ECL_RUN_PER_ROW |
							   (ecl_allow_anonymous ? 0 : ECL_RUN_NEEDS_CALLER));
	req.fields = &c->fields;
	ecl_run(&req, &out);
	PG_RETURN_BOOL(out.passed);
}
