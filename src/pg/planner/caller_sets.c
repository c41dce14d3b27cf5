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
#include "common/hashfn.h"
#include "funcapi.h"
#include "nodes/primnodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ecl/host.h"

#include "host_tables.h"
#include "identity.h"
#include "planner_support.h"

PG_FUNCTION_INFO_V1(ecl_policy_callers);
PG_FUNCTION_INFO_V1(ecl_policy_in_set);

typedef struct CallerFacts
{
	char	   *did;
	uint32		len;
	bool		has_trust;
	ecl_trust	trust;
	int64		held;			/* bit k: a valid credential of schemas[k] */
} CallerFacts;

/*
 * The DIDs met so far: facts in one dense array, found through a small
 * open-addressing index (hash, position + 1; at most half full) — a scan
 * meets every DID once or twice, and the index stays small enough to be
 * zeroed and grown cheaply.
 */
typedef struct CallerSlot
{
	uint32		hash;
	uint32		position;		/* in facts, plus one; 0: empty */
} CallerSlot;

typedef struct CallerTable
{
	CallerSlot *slots;
	uint32		nslots;			/* a power of 2 */
	CallerFacts *facts;
	uint32		nfacts;
	uint32		capacity;
	int			schema;			/* the schema being read */
} CallerTable;

static CallerSlot *
find_slot(CallerTable *table, const char *did, uint32 len, uint32 hash)
{
	uint32		mask = table->nslots - 1;

	for (uint32 i = hash & mask;; i = (i + 1) & mask)
	{
		CallerSlot *slot = &table->slots[i];
		CallerFacts *f;

		if (slot->position == 0)
			return slot;
		f = &table->facts[slot->position - 1];
		if (slot->hash == hash && f->len == len && memcmp(f->did, did, len) == 0)
			return slot;
	}
}

static CallerFacts *
facts_of(CallerTable *table, const char *did, size_t len)
{
	uint32		hash = hash_bytes((const unsigned char *) did, (int) len);
	CallerSlot *slot;
	CallerFacts *f;

	if ((table->nfacts + 1) * 2 > table->nslots)
	{
		CallerSlot *old = table->slots;
		uint32		oldn = table->nslots;

		table->nslots = oldn ? oldn * 2 : 4096;
		table->slots = palloc0(sizeof(CallerSlot) * table->nslots);
		for (uint32 i = 0; i < oldn; i++)
			if (old[i].position != 0)
			{
				CallerFacts *g = &table->facts[old[i].position - 1];

				*find_slot(table, g->did, g->len, old[i].hash) = old[i];
			}
		if (old != NULL)
			pfree(old);
	}
	slot = find_slot(table, did, (uint32) len, hash);
	if (slot->position != 0)
		return &table->facts[slot->position - 1];

	if (table->nfacts == table->capacity)
	{
		table->capacity = table->capacity ? table->capacity * 2 : 2048;
		table->facts = table->facts
			? repalloc(table->facts, sizeof(CallerFacts) * table->capacity)
			: palloc(sizeof(CallerFacts) * table->capacity);
	}
	f = &table->facts[table->nfacts++];
	memset(f, 0, sizeof(*f));
	f->did = pnstrdup(did, len);
	f->len = (uint32) len;
	slot->hash = hash;
	slot->position = table->nfacts;
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
 * did = ANY(dids), answered from a hash of dids built on the first call:
 * the array is the set of callers a plan computed once (an InitPlan, which
 * a parallel plan hands to its workers), probed once per row.  The array
 * keeps its address for the whole execution, so the hash is rebuilt only
 * when another array arrives.
 */
typedef struct DidSet
{
	const void *array;			/* the array the slots were built from */
	uint32		nslots;			/* a power of 2, at most half full */
	struct DidSlot
	{
		uint32		hash;
		uint32		len;		/* 0: empty */
		const char *did;
	}		   *slots;
} DidSet;

static struct DidSlot *
did_slot(DidSet *set, const char *did, uint32 len, uint32 hash)
{
	uint32		mask = set->nslots - 1;

	for (uint32 i = hash & mask;; i = (i + 1) & mask)
	{
		struct DidSlot *slot = &set->slots[i];

		if (slot->len == 0 ||
			(slot->hash == hash && slot->len == len && memcmp(slot->did, did, len) == 0))
			return slot;
	}
}

static void
build_did_set(DidSet *set, ArrayType *dids, MemoryContext cxt)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(dids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (set->slots != NULL)
		pfree(set->slots);
	set->nslots = 16;
	while (set->nslots < 2 * (uint32) n)
		set->nslots *= 2;
	set->slots = MemoryContextAllocZero(cxt, sizeof(struct DidSlot) * set->nslots);
	for (int i = 0; i < n; i++)
	{
		text	   *t;
		uint32		len;
		uint32		hash;
		struct DidSlot *slot;

		if (nulls[i])
			continue;
		/* the elements point into the array, which outlives the set */
		t = DatumGetTextPP(elems[i]);
		len = VARSIZE_ANY_EXHDR(t);
		if (len == 0)
			continue;			/* no caller is '' with facts; see below */
		hash = hash_bytes((const unsigned char *) VARDATA_ANY(t), (int) len);
		slot = did_slot(set, VARDATA_ANY(t), len, hash);
		slot->hash = hash;
		slot->len = len;
		slot->did = VARDATA_ANY(t);
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
	uint32		len = VARSIZE_ANY_EXHDR(did);

	if (set == NULL)
	{
		set = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(DidSet));
		fcinfo->flinfo->fn_extra = set;
	}
	if (set->array != (const void *) dids)
		build_did_set(set, dids, fcinfo->flinfo->fn_mcxt);
	if (len == 0)
	{
		/* not in the hash: ask the array itself */
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(dids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
			if (!nulls[i] && VARSIZE_ANY_EXHDR(DatumGetTextPP(elems[i])) == 0)
				PG_RETURN_BOOL(true);
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(did_slot(set, VARDATA_ANY(did), len,
							hash_bytes((const unsigned char *) VARDATA_ANY(did), (int) len))->len != 0);
}
