/*
 * caller_sets.c — the facts of every caller at once, for a translated
 * ecl.check whose caller comes from the row (planner_support.c, "callers
 * from the row").
 *
 *   ecl.policy_callers(realm text, with_trust boolean, schemas text[])
 *       RETURNS TABLE(did text, r, i, c, p, v, omega float8, held bigint)
 *
 * One row per DID that has a fact other than the default in this
 * statement: a trust row in the realm or globally, or a valid credential of
 * one of the schemas.  r ... omega are the vector load_trust answers (zero,
 * and ecl.trust not read, unless with_trust: the policy reads no trust), bit
 * k of held what has_credential answers for schemas[k].  Every other DID has
 * the default facts: the zero vector and no credential.  (Plain columns,
 * not arrays: the planner's filter reads them for every DID.)
 *
 * The rows come from the scans the table host itself uses to read a whole
 * answer set (ecl_realm_trust_rows, ecl_credential_holders), under the
 * statement's snapshot, so they are the answers the per-row functions
 * (ecl.policy_trust, ecl.policy_credential) give.
 *
 * Only a plan the planner support function built may call it: it lists
 * DIDs, which ecl.check never does.  Such a plan marks the call with a
 * format the SQL grammar cannot give a call of an ecl function
 * (COERCE_SQL_SYNTAX); any other call is refused.  The plan also checks
 * EXECUTE on ecl.check (its gate), and so does this function.
 */
#include "postgres.h"

#include <float.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "nodes/primnodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ecl/host.h"

#include "did_index.h"
#include "host_tables.h"
#include "identity.h"
#include "planner_support.h"

PG_FUNCTION_INFO_V1(ecl_policy_callers);
PG_FUNCTION_INFO_V1(ecl_policy_in_set);

typedef struct CallerFacts
{
	const char *did;
	uint32		len;
	bool		has_trust;
	ecl_trust	trust;
	int64		held;			/* bit k: a valid credential of schemas[k] */
} CallerFacts;

/* The DIDs met so far: their facts in one dense array, found by DID. */
typedef struct CallerTable
{
	EclDidIndex positions;		/* DID -> its place in facts */
	CallerFacts *facts;
	uint32		nfacts;
	uint32		capacity;
	int			schema;			/* the schema being read */
} CallerTable;

static CallerFacts *
facts_of(CallerTable *table, const char *did, size_t len)
{
	bool		added;
	EclDidSlot *slot = ecl_did_index_enter_copy(&table->positions, did,
												 (uint32) len, &added);
	CallerFacts *f;

	if (!added)
		return &table->facts[slot->value];
	if (table->nfacts == table->capacity)
	{
		table->capacity = table->capacity ? table->capacity * 2 : 2048;
		table->facts = table->facts
			? repalloc(table->facts, sizeof(CallerFacts) * table->capacity)
			: palloc(sizeof(CallerFacts) * table->capacity);
	}
	slot->value = table->nfacts;
	f = &table->facts[table->nfacts++];
	memset(f, 0, sizeof(*f));
	f->did = slot->did;			/* the index's copy, a C string */
	f->len = (uint32) len;
	return f;
}

static void
add_trust(const char *did, size_t len, const ecl_trust *trust, void *arg)
{
	CallerFacts *f;

	/* a DID with a NUL is no key a caller can name (text has none) */
	if (memchr(did, '\0', len) != NULL)
		return;
	f = facts_of((CallerTable *) arg, did, len);
	if (!f->has_trust)			/* the first report is the answer */
	{
		f->has_trust = true;
		f->trust = *trust;
	}
}

static void
add_holder(const char *did, size_t len, void *arg)
{
	CallerTable *table = (CallerTable *) arg;

	if (memchr(did, '\0', len) != NULL)
		return;
	facts_of(table, did, len)->held |= INT64CONST(1) << table->schema;
}

static void
refuse_direct_call(FunctionCallInfo fcinfo)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;

	if (expr == NULL || !IsA(expr, FuncExpr) ||
		((FuncExpr *) expr)->funcformat != COERCE_SQL_SYNTAX)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("ecl.policy_callers is called only by plans of ecl.check"),
				 errdetail("The planner uses it when a translated policy's caller comes from the row.")));
}

Datum
ecl_policy_callers(PG_FUNCTION_ARGS)
{
	static const Oid check_args[4] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *realm;
	Datum	   *schema_datums;
	bool	   *schema_nulls;
	int			nschemas;
	CallerTable table;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	refuse_direct_call(fcinfo);
	ecl_require_execute("check", 4, check_args);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		elog(ERROR, "ecl.policy_callers: with_trust and schemas must not be NULL");
	realm = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT,
					  &schema_datums, &schema_nulls, &nschemas);
	if (nschemas > ECL_CALLER_SET_MAX_SCHEMAS)
		elog(ERROR, "ecl.policy_callers: at most %d schemas", ECL_CALLER_SET_MAX_SCHEMAS);

	InitMaterializedSRF(fcinfo, 0);

	memset(&table, 0, sizeof(table));
	ecl_did_index_init(&table.positions, CurrentMemoryContext, 4096);

	if (PG_GETARG_BOOL(1) && !ecl_realm_trust_rows(realm, DBL_MAX, add_trust, &table))
		elog(ERROR, "ecl.policy_callers: table ecl.trust cannot be read");
	for (table.schema = 0; table.schema < nschemas; table.schema++)
	{
		char	   *schema;

		if (schema_nulls[table.schema])
			continue;			/* has_credential of NULL: false */
		schema = TextDatumGetCString(schema_datums[table.schema]);
		if (!ecl_credential_holders(schema, now, DBL_MAX, add_holder, &table))
			elog(ERROR, "ecl.policy_callers: table ecl.credentials cannot be read");
	}

	for (uint32 i = 0; i < table.nfacts; i++)
	{
		CallerFacts *f = &table.facts[i];
		Datum		values[2 + ECL_TRUST_DIMS];
		bool		nulls[2 + ECL_TRUST_DIMS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(f->did);
		for (int d = 0; d < ECL_TRUST_DIMS; d++)
			values[1 + d] = Float8GetDatum(f->has_trust ? f->trust.dim[d] : 0.0);
		values[1 + ECL_TRUST_DIMS] = Int64GetDatum(f->held);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ecl.policy_in_set(did text, dids text[]) RETURNS boolean
 *
 * did = ANY(dids), answered from an index of dids built on the first call:
 * the array is the set of callers a plan computed once (an InitPlan, which
 * a parallel plan hands to its workers), probed once per row.  The array
 * keeps its address for the whole execution, so the index is rebuilt only
 * when another array arrives; its keys point into the array.
 */
typedef struct DidSet
{
	const void *array;			/* the array the index was built from */
	MemoryContext cxt;			/* the index's, reset for another array */
	EclDidIndex dids;
} DidSet;

static void
build_did_set(DidSet *set, ArrayType *dids, MemoryContext fn_cxt)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (set->cxt == NULL)
		set->cxt = AllocSetContextCreate(fn_cxt, "ecl caller set", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(set->cxt);
	deconstruct_array(dids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	ecl_did_index_init(&set->dids, set->cxt, (uint32) n);
	for (int i = 0; i < n; i++)
	{
		text	   *t;
		bool		added;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(elems[i]);
		ecl_did_index_enter(&set->dids, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &added);
	}
	pfree(elems);
	pfree(nulls);
	set->array = dids;
}

Datum
ecl_policy_in_set(PG_FUNCTION_ARGS)
{
	text	   *did = PG_GETARG_TEXT_PP(0);
	ArrayType  *dids = PG_GETARG_ARRAYTYPE_P(1);
	DidSet	   *set = (DidSet *) fcinfo->flinfo->fn_extra;

	if (set == NULL)
	{
		set = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(DidSet));
		fcinfo->flinfo->fn_extra = set;
	}
	if (set->array != (const void *) dids)
		build_did_set(set, dids, fcinfo->flinfo->fn_mcxt);
	PG_RETURN_BOOL(ecl_did_index_find(&set->dids, VARDATA_ANY(did),
									  VARSIZE_ANY_EXHDR(did)) != NULL);
}
