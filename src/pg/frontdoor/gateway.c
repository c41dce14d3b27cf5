/*
 * gateway.c — the unified crossing gateway (docs/sql-api.md, "The crossing gateway"):
 *
 *   ecl.validate_crossing(did, from_realm, to_realm) -> ecl.crossing_result
 *   ecl.allow_crossing(did, from_realm, to_realm)    -> float8[] or EC001
 *   ecl.join_realm(did, from_realm, to_realm)        -> float8[] or EC001,
 *                                                       records membership
 *
 * One decision, in this order (all violations are collected, so the caller
 * sees every reason at once):
 *   1. the target realm must exist (else 42704); the DID must be registered
 *      and not revoked (violation "identity revoked"; a revoked DID also
 *      has zero trust and no credentials, so those checks fail too),
 *   2. trust_norm(trust in to_realm, else global, else zero) >= min_trust;
 *      every required credential valid (docs/sql-api.md, "The table host"); every required rule
 *      policy passes (run only for a registered, unrevoked DID: policies
 *      are not run on behalf of identities that do not exist),
 *   3. when nothing failed and the realm names an entry policy, that policy
 *      runs with policy type "crossing" and budgets scaled by the caller's
 *      reliability: limit × (0.5 + 0.5·R),
 *   4. dampened trust = per-dimension factors × trust.
 *
 * Lookups: the realm, the identity and which policies exist are read as the
 * owner of schema ecl (like every lookup of the table host), so
 * ecl_executor needs no privileges on the tables.  Trust and credentials are
 * asked of the table host itself (ecl_table_host.load_trust and
 * .has_credential), so the gateway sees exactly what a policy would see,
 * with the same realm -> global -> zero fallback, credential rules and
 * per-statement memo.  Every ECL execution goes through ecl_run.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"

#include "ecl_pg.h"
#include "gateway.h"
#include "host_tables.h"
#include "identity.h"
#include "owner_spi.h"
#include "policy_catalog.h"
#include "runner.h"
#include "sql_policy.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ecl_validate_crossing);
PG_FUNCTION_INFO_V1(ecl_allow_crossing);
PG_FUNCTION_INFO_V1(ecl_join_realm);

/* docs/sql-api.md, "The crossing gateway": 0.7 × (0.8, 0.9, 0.4, 0.3) for R, I, C, P; V and Ω undamped */
#define DEFAULT_DAMPENING_SCALE 0.7
static const double default_dampening_base[ECL_TRUST_DIMS] =
{0.8, 0.9, 0.4, 0.3, 1.0, 1.0};
static const bool default_dampening_scaled[ECL_TRUST_DIMS] =
{true, true, true, true, false, false};

typedef enum IdentityState
{
	IDENTITY_UNREGISTERED,
	IDENTITY_REVOKED,
	IDENTITY_ACTIVE
} IdentityState;

/* What the gateway needs to know about the target realm and the DID. */
typedef struct CrossingFacts
{
	MemoryContext cxt;			/* where the copies below live */
	const char *did;
	const char *realm_id;

	bool		realm_found;
	double		min_trust;
	List	   *credentials;	/* char *: required credential schemas */
	List	   *rules;			/* char *: required rule policies */
	List	   *rule_registered;	/* int (bool), parallel to rules */
	char	   *entry_policy;	/* NULL = none */
	bool		entry_registered;
	bool		has_dampening;
	double		dampening[ECL_TRUST_DIMS];

	IdentityState identity;
} CrossingFacts;

static SPIPlanPtr realm_plan = NULL;
static SPIPlanPtr identity_plan = NULL;
static SPIPlanPtr policy_exists_plan = NULL;
static SPIPlanPtr member_plan = NULL;

/* Execute a one-text-argument lookup; returns the number of rows. */
static uint64
lookup_by_text(SPIPlanPtr *slot, const char *sql, const char *arg)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;

	values[0] = CStringGetTextDatum(arg);
	rc = SPI_execute_plan(ecl_keep_plan(slot, sql, 1, argtypes), values, NULL,
						  false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "ECL gateway lookup failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* The non-NULL, non-empty elements of a text[] as a List of char *. */
static List *
text_array_list(Datum array)
{
	ArrayType  *arr = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *s;

		if (nulls[i])
			continue;
		s = TextDatumGetCString(elems[i]);
		if (s[0] != '\0')
			result = lappend(result, s);
	}
	return result;
}

static bool
policy_exists(const char *name)
{
	return lookup_by_text(&policy_exists_plan,
						  "SELECT FROM ecl.policies p"
						  " WHERE p.name OPERATOR(pg_catalog.=) $1",
						  name) > 0;
}

static void
read_realm_row(CrossingFacts *f)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	MemoryContext spi_cxt;

	if (lookup_by_text(&realm_plan,
					   "SELECT r.min_trust, r.required_credentials,"
					   "       r.required_rules, r.entry_policy, r.dampening"
					   "  FROM ecl.realms r"
					   " WHERE r.realm_id OPERATOR(pg_catalog.=) $1",
					   f->realm_id) == 0)
		return;

	f->realm_found = true;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	spi_cxt = MemoryContextSwitchTo(f->cxt);

	d = SPI_getbinval(row, desc, 1, &isnull);
	f->min_trust = isnull ? 0.0 : DatumGetFloat8(d);
	d = SPI_getbinval(row, desc, 2, &isnull);
	f->credentials = isnull ? NIL : text_array_list(d);
	d = SPI_getbinval(row, desc, 3, &isnull);
	f->rules = isnull ? NIL : text_array_list(d);
	d = SPI_getbinval(row, desc, 4, &isnull);
	f->entry_policy = isnull ? NULL : TextDatumGetCString(d);
	d = SPI_getbinval(row, desc, 5, &isnull);
	if (!isnull)
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, &nulls, &n);
		/* the table's CHECK guarantees 6 non-NULL factors; be safe anyway */
		if (n == ECL_TRUST_DIMS)
		{
			f->has_dampening = true;
			for (int i = 0; i < n; i++)
				f->dampening[i] = nulls[i] ? 0.0 : DatumGetFloat8(elems[i]);
		}
	}
	MemoryContextSwitchTo(spi_cxt);
}

static void
work_read_facts(void *arg)
{
	CrossingFacts *f = (CrossingFacts *) arg;
	ListCell   *lc;

	read_realm_row(f);
	if (!f->realm_found)
		return;

	f->identity = IDENTITY_UNREGISTERED;
	if (lookup_by_text(&identity_plan,
					   "SELECT i.revoked FROM ecl.identities i"
					   " WHERE i.did OPERATOR(pg_catalog.=) $1",
					   f->did) > 0)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull);

		f->identity = (!isnull && DatumGetBool(d)) ? IDENTITY_REVOKED
			: IDENTITY_ACTIVE;
	}

	/* ecl.realms has no foreign key to ecl.policies: check each name */
	foreach(lc, f->rules)
	{
		bool		exists = policy_exists((char *) lfirst(lc));
		MemoryContext spi_cxt = MemoryContextSwitchTo(f->cxt);

		f->rule_registered = lappend_int(f->rule_registered, exists);
		MemoryContextSwitchTo(spi_cxt);
	}
	if (f->entry_policy != NULL)
		f->entry_registered = policy_exists(f->entry_policy);
}

static void
read_facts(CrossingFacts *f, const char *did, const char *realm_id)
{
	memset(f, 0, sizeof(*f));
	f->cxt = CurrentMemoryContext;
	f->did = did;
	f->realm_id = realm_id;
	ecl_as_owner(work_read_facts, f);
	if (!f->realm_found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("realm \"%s\" does not exist", realm_id)));
}

/* ------------------------------------------------- trust, credentials */

static ecl_string *
make_ecl_string(const char *s)
{
	size_t		len = strlen(s);
	ecl_string *str = palloc(sizeof(ecl_string) + len + 1);

	str->len = (uint32_t) len;
	memcpy(str->data, s, len + 1);
	return str;
}

/*
 * Ask the table host, bound to the target realm, for the DID's trust and
 * for each required credential.  Returns the violations for the missing
 * credentials.
 */
static List *
check_trust_and_credentials(const CrossingFacts *f, ecl_trust *trust)
{
	List	   *missing = NIL;
	EclTableHost th;
	ecl_string *did = make_ecl_string(f->did);
	ecl_error	err;
	ListCell   *lc;

	ecl_error_clear(&err);
	ecl_table_host_begin(&th, f->did, f->realm_id, NULL, true);
	ecl_table_host_connect(&th);

	if (ecl_table_host.load_trust(&th, did, trust, &err) != ECL_OK)
		ecl_raise(&err, NULL);

	foreach(lc, f->credentials)
	{
		const char *schema = (const char *) lfirst(lc);
		bool		present = false;

		if (ecl_table_host.has_credential(&th, did, make_ecl_string(schema),
										  &present, &err) != ECL_OK)
			ecl_raise(&err, NULL);
		if (!present)
			missing = lappend(missing, psprintf("missing credential %s", schema));
	}
	ecl_table_host_disconnect(&th);
	return missing;
}

static double
trust_norm(const ecl_trust *t)
{
	double		sum = 0;

	/* the same order of additions as ECL's trust_norm */
	for (int i = 0; i < ECL_TRUST_DIMS; i++)
		sum += t->dim[i];
	return sum / ECL_TRUST_DIMS;
}

/* ------------------------------------------------------------ policy runs */

static void
push_string_pair(JsonbParseState **ps, const char *key, const char *val)
{
	JsonbValue	k;
	JsonbValue	v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(ps, WJB_KEY, &k);
	v.type = jbvString;
	v.val.string.val = (char *) val;
	v.val.string.len = strlen(val);
	pushJsonbValue(ps, WJB_VALUE, &v);
}

/* {"from_realm": .., "to_realm": ..}: the input of rule and entry runs */
static Jsonb *
crossing_input(const char *from_realm, const char *to_realm)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	push_string_pair(&ps, "from_realm", from_realm);
	push_string_pair(&ps, "to_realm", to_realm);
	res = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/*
 * Why a run denied: the require message, or for a policy that returned a
 * falsy value without a require, "returned <value as JSON>".
 */
static const char *
denial_reason(const EclRunOutcome *run)
{
	if (run->message != NULL)
		return run->message;
	if (run->value != NULL)
		return psprintf("returned %s",
						JsonbToCString(NULL, &run->value->root,
									   VARSIZE(run->value)));
	return "returned false";
}

/*
 * One policy run on the table host, through the runner.  Budgets <= 0 mean
 * the GUC defaults.  Runtime errors propagate as SQL errors.  The run's
 * costs are added to the decision's totals.
 */
static void
run_gateway_policy(const char *name, const char *policy_type,
				   const char *did, const char *to_realm, Jsonb *input,
				   int64 gas_limit, int64 mana_limit,
				   EclCrossing *out, EclRunOutcome *run)
{
	const EclPolicy *policy = ecl_policy_lookup(name);
	EclRunRequest req;

	ecl_run_request_for_policy(&req, policy, did, to_realm, input, 0);
	if (policy_type != NULL)
		req.policy_type = policy_type;
	req.gas_limit = gas_limit;
	req.mana_limit = mana_limit;
	ecl_run(&req, run);

	out->gas_used += run->gas_used;
	out->mana_used += run->mana_used;
	out->duration_us += run->duration_us;
}

/* limit × (0.5 + 0.5·R), at least 1 (0 would mean "the default") */
static int64
scaled_budget(int limit, double reliability)
{
	double		r = reliability < 0 ? 0 : (reliability > 1 ? 1 : reliability);
	double		scaled = floor((double) limit * (0.5 + 0.5 * r));

	return scaled < 1 ? 1 : (int64) scaled;
}

/* --------------------------------------------------------- the decision */

static void
add_violation(EclCrossing *out, char *text)
{
	out->violations = lappend(out->violations, text);
}

static void
evaluate(const CrossingFacts *f, const char *from_realm, EclCrossing *out)
{
	Jsonb	   *input = crossing_input(from_realm, f->realm_id);
	double		norm;
	List	   *missing;
	ListCell   *lc;
	ListCell   *lr;

	/* 1. identity */
	if (f->identity == IDENTITY_UNREGISTERED)
		add_violation(out, psprintf("identity %s is not registered", f->did));
	else if (f->identity == IDENTITY_REVOKED)
		add_violation(out, pstrdup("identity revoked"));

	/* 2. minimum trust, then the required credentials */
	missing = check_trust_and_credentials(f, &out->original);
	norm = trust_norm(&out->original);
	if (norm < f->min_trust)
		add_violation(out,
					  psprintf("trust %s is below the minimum %s of realm %s",
							   float8out_internal(norm),
							   float8out_internal(f->min_trust),
							   f->realm_id));
	out->violations = list_concat(out->violations, missing);

	/* required rules: only on behalf of an identity that exists */
	if (f->identity == IDENTITY_ACTIVE)
	{
		forboth(lc, f->rules, lr, f->rule_registered)
		{
			const char *rule = (const char *) lfirst(lc);
			EclRunOutcome run;

			if (!lfirst_int(lr))
			{
				add_violation(out, psprintf("rule %s is not registered", rule));
				continue;
			}
			run_gateway_policy(rule, NULL, f->did, f->realm_id, input, 0, 0,
							   out, &run);
			if (!run.passed)
				add_violation(out, psprintf("rule %s denied: %s", rule,
											denial_reason(&run)));
		}
	}

	/* 3. the entry policy, only when every check passed */
	if (out->violations == NIL && f->entry_policy != NULL)
	{
		if (!f->entry_registered)
			add_violation(out, psprintf("entry policy %s is not registered",
										f->entry_policy));
		else
		{
			double		reliability = out->original.dim[0];
			EclRunOutcome run;

			out->policy = f->entry_policy;
			run_gateway_policy(f->entry_policy, "crossing", f->did,
							   f->realm_id, input,
							   scaled_budget(ecl_gas_limit, reliability),
							   scaled_budget(ecl_mana_limit, reliability),
							   out, &run);
			if (!run.passed)
				add_violation(out, psprintf("ECL policy denied: %s",
											denial_reason(&run)));
		}
	}

	/* 4. dampening */
	for (int i = 0; i < ECL_TRUST_DIMS; i++)
	{
		double		factor;

		if (f->has_dampening)
			factor = f->dampening[i];
		else if (default_dampening_scaled[i])
			factor = DEFAULT_DAMPENING_SCALE * default_dampening_base[i];
		else
			factor = default_dampening_base[i];
		out->dampened.dim[i] = factor * out->original.dim[i];
	}

	out->allowed = out->violations == NIL;
}

void
ecl_evaluate_crossing(const char *did, const char *from_realm,
					  const char *to_realm, EclCrossing *out)
{
	CrossingFacts facts;

	memset(out, 0, sizeof(*out));
	read_facts(&facts, did, to_realm);	/* 42704: not an evaluation */

	/*
	 * From here on this is one crossing evaluation: it is counted exactly
	 * once, as denied when a policy run raises an error.
	 */
	PG_TRY();
	{
		evaluate(&facts, from_realm, out);
	}
	PG_CATCH();
	{
		ecl_stats_record_crossing(to_realm, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ecl_stats_record_crossing(to_realm, out->allowed);
}

/* ------------------------------------------------------------ SQL glue */

static Datum
trust_array(const ecl_trust *t)
{
	Datum		elems[ECL_TRUST_DIMS];

	for (int i = 0; i < ECL_TRUST_DIMS; i++)
		elems[i] = Float8GetDatum(t->dim[i]);
	return PointerGetDatum(construct_array(elems, ECL_TRUST_DIMS, FLOAT8OID,
										   sizeof(float8), FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

static Datum
violations_array(List *violations)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(violations) + 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, violations)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

typedef struct CrossingArgs
{
	char	   *did;
	char	   *from_realm;
	char	   *to_realm;
} CrossingArgs;

static void
crossing_args(FunctionCallInfo fcinfo, CrossingArgs *a)
{
	a->did = ecl_required_text(fcinfo, 0, "did");
	a->from_realm = ecl_required_text(fcinfo, 1, "from_realm");
	a->to_realm = ecl_required_text(fcinfo, 2, "to_realm");
}

/*
 * ecl.validate_crossing(did text, from_realm text, to_realm text)
 * RETURNS ecl.crossing_result
 */
Datum
ecl_validate_crossing(PG_FUNCTION_ARGS)
{
	CrossingArgs a;
	EclCrossing c;
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8];

	crossing_args(fcinfo, &a);
	ecl_evaluate_crossing(a.did, a.from_realm, a.to_realm, &c);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	memset(nulls, 0, sizeof(nulls));
	values[0] = BoolGetDatum(c.allowed);
	values[1] = violations_array(c.violations);
	values[2] = trust_array(&c.original);
	values[3] = trust_array(&c.dampened);
	if (c.policy != NULL)
		values[4] = CStringGetTextDatum(c.policy);
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(c.gas_used);
	values[6] = Int64GetDatum(c.mana_used);
	values[7] = Int64GetDatum(c.duration_us);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* EC001 with the first violation; the others in the detail */
static void
raise_denied(const CrossingArgs *a, const EclCrossing *c)
{
	StringInfoData detail;
	ListCell   *lc;

	initStringInfo(&detail);
	for_each_from(lc, c->violations, 1)
	{
		if (detail.len > 0)
			appendStringInfoString(&detail, "; ");
		appendStringInfoString(&detail, (const char *) lfirst(lc));
	}
	ereport(ERROR,
			(errcode(ERRCODE_ECL_DENIED),
			 errmsg("%s", (const char *) linitial(c->violations)),
			 detail.len > 0 ? errdetail("Also: %s.", detail.data) : 0,
			 errcontext("crossing from realm %s into realm %s",
						a->from_realm, a->to_realm)));
}

/* The crossing the arguments ask for, decided; a denial is raised. */
static void
decide_crossing(FunctionCallInfo fcinfo, CrossingArgs *a, EclCrossing *c)
{
	crossing_args(fcinfo, a);
	ecl_evaluate_crossing(a->did, a->from_realm, a->to_realm, c);
	if (!c->allowed)
		raise_denied(a, c);
}

/* ecl.allow_crossing(did, from_realm, to_realm) RETURNS float8[] */
Datum
ecl_allow_crossing(PG_FUNCTION_ARGS)
{
	CrossingArgs a;
	EclCrossing c;

	decide_crossing(fcinfo, &a, &c);
	PG_RETURN_DATUM(trust_array(&c.dampened));
}

static void
work_record_member(void *arg)
{
	CrossingArgs *a = (CrossingArgs *) arg;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	int			rc;

	values[0] = CStringGetTextDatum(a->did);
	values[1] = CStringGetTextDatum(a->to_realm);
	values[2] = CStringGetTextDatum(a->from_realm);
	rc = SPI_execute_plan(ecl_keep_plan(&member_plan,
									"INSERT INTO ecl.realm_members AS m"
									"       (did, realm_id, from_realm)"
									" VALUES ($1, $2, $3)"
									" ON CONFLICT (did, realm_id) DO UPDATE"
									"   SET from_realm = EXCLUDED.from_realm,"
									"       joined_at = pg_catalog.now()",
									3, argtypes),
						  values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "ECL gateway: membership insert failed: %s",
			 SPI_result_code_string(rc));
}

/* ecl.join_realm(did, from_realm, to_realm) RETURNS float8[] */
Datum
ecl_join_realm(PG_FUNCTION_ARGS)
{
	CrossingArgs a;
	EclCrossing c;

	decide_crossing(fcinfo, &a, &c);
	ecl_as_owner(work_record_member, &a);
	PG_RETURN_DATUM(trust_array(&c.dampened));
}
