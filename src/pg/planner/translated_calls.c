/*
 * translated_calls.c — the SQL functions a translated policy calls
 * (planner_support.c builds the calls, docs/planner.md lists them).
 *
 *   ecl.policy_add/sub/mul/div/mod(a, b, site)  ECL arithmetic on numbers:
 *        the VM's results and errors (22012 division by zero, 22003 for a
 *        NaN or infinite result), and unlike float8's operators no error
 *        for an underflow to 0
 *   ecl.policy_error(code, message)     raise what the VM would raise
 *   ecl.policy_trust(caller, realm, dim)          the caller's trust,
 *   ecl.policy_credential(caller, schema)         credential,
 *   ecl.policy_own_trust(realm, dim)              the same for
 *   ecl.policy_own_credential(schema)             ecl.current_did()
 *   ecl.policy_gate(policy, function)   EXECUTE check of a translated call
 *   ecl.policy_caller(policy, function) the same, yielding ecl.current_did()
 *   ecl.policy_past_rows(n)             true from the call site's n+1-th row
 *
 * The facts come from the table host, the very functions the VM calls
 * (same memo, same revocation rule, same realm fallback), so the answers
 * are the VM's.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"

#include "ecl/host.h"

#include "ecl_pg.h"
#include "host_tables.h"
#include "statement_memo.h"
#include "did_index.h"
#include "identity.h"
#include "planner_support.h"
#include "policy_catalog.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ecl_policy_add);
PG_FUNCTION_INFO_V1(ecl_policy_sub);
PG_FUNCTION_INFO_V1(ecl_policy_mul);
PG_FUNCTION_INFO_V1(ecl_policy_div);
PG_FUNCTION_INFO_V1(ecl_policy_mod);
PG_FUNCTION_INFO_V1(ecl_policy_error);
PG_FUNCTION_INFO_V1(ecl_policy_trust);
PG_FUNCTION_INFO_V1(ecl_policy_own_trust);
PG_FUNCTION_INFO_V1(ecl_policy_credential);
PG_FUNCTION_INFO_V1(ecl_policy_own_credential);
PG_FUNCTION_INFO_V1(ecl_policy_gate);
PG_FUNCTION_INFO_V1(ecl_policy_caller);
PG_FUNCTION_INFO_V1(ecl_policy_past_rows);

void
ecl_translation_setting_changed(void)
{
	ResetPlanCache();
}

/* ------------------------------------------------------------ arithmetic */

static void
arith_error(FunctionCallInfo fcinfo, ecl_error_code code, const char *what)
{
	char	   *site = text_to_cstring(PG_GETARG_TEXT_PP(2));

	ereport(ERROR,
			(errcode(ecl_sqlstate_for(code)),
			 errmsg("%s: %s", site, what)));
}

static Datum
arith_result(FunctionCallInfo fcinfo, double r)
{
	if (!isfinite(r))
		arith_error(fcinfo, ECL_ERR_NUMERIC, "numeric overflow");
	PG_RETURN_FLOAT8(r);
}

Datum
ecl_policy_add(PG_FUNCTION_ARGS)
{
	return arith_result(fcinfo, PG_GETARG_FLOAT8(0) + PG_GETARG_FLOAT8(1));
}

Datum
ecl_policy_sub(PG_FUNCTION_ARGS)
{
	return arith_result(fcinfo, PG_GETARG_FLOAT8(0) - PG_GETARG_FLOAT8(1));
}

Datum
ecl_policy_mul(PG_FUNCTION_ARGS)
{
	return arith_result(fcinfo, PG_GETARG_FLOAT8(0) * PG_GETARG_FLOAT8(1));
}

Datum
ecl_policy_div(PG_FUNCTION_ARGS)
{
	if (PG_GETARG_FLOAT8(1) == 0)
		arith_error(fcinfo, ECL_ERR_DIV_ZERO, "division by zero");
	return arith_result(fcinfo, PG_GETARG_FLOAT8(0) / PG_GETARG_FLOAT8(1));
}

Datum
ecl_policy_mod(PG_FUNCTION_ARGS)
{
	if (PG_GETARG_FLOAT8(1) == 0)
		arith_error(fcinfo, ECL_ERR_DIV_ZERO, "division by zero");
	return arith_result(fcinfo, fmod(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1)));
}

/* ecl.policy_error(code int, message text) RETURNS boolean — never returns */
Datum
ecl_policy_error(PG_FUNCTION_ARGS)
{
	int			code = PG_GETARG_INT32(0);

	ereport(ERROR,
			(errcode(ecl_sqlstate_for((ecl_error_code) code)),
			 errmsg("%s", text_to_cstring(PG_GETARG_TEXT_PP(1)))));
	PG_RETURN_BOOL(false);
}

/* ---------------------------------------------------- facts of the caller */

typedef struct FactCall
{
	EclTableHost *host;
	const char *did;
	const char *schema;			/* NULL: trust */
	ecl_trust	trust;
	bool		holds;
	ecl_error	err;
	bool		ok;
} FactCall;

static ecl_string *
make_string(const char *s)
{
	size_t		len = strlen(s);
	ecl_string *str = palloc(offsetof(ecl_string, data) + len + 1);

	str->len = (uint32_t) len;
	memcpy(str->data, s, len + 1);
	return str;
}

static bool
ask_host(void *arg)
{
	FactCall   *c = (FactCall *) arg;
	ecl_string *did = make_string(c->did);

	ecl_error_clear(&c->err);
	if (c->schema == NULL)
		c->ok = ecl_table_host.load_trust(c->host, did, &c->trust, &c->err) == ECL_OK;
	else
		c->ok = ecl_table_host.has_credential(c->host, did, make_string(c->schema),
											  &c->holds, &c->err) == ECL_OK;
	return false;				/* nothing to keep: lookups only */
}

/*
 * The answer the statement memo already holds: the table host's lookups
 * look there first (host_load_trust, host_has_credential) and do nothing
 * else on a hit, so a row whose caller was seen earlier in the statement
 * needs no host.  Anything else (a whole answer set to read, a DID missing
 * from one) is the host's to decide.
 */
static bool
memo_fact(FactCall *c, const char *realm)
{
	EclMemoValue mv;
	size_t		len = strlen(c->did);

	if (c->schema == NULL)
	{
		if (!ecl_memo_get(ECL_MEMO_TRUST, c->did, len, realm, strlen(realm), &mv))
			return false;
		c->trust = mv.u.trust;
	}
	else
	{
		if (!ecl_memo_get(ECL_MEMO_CREDENTIAL, c->did, len,
						  c->schema, strlen(c->schema), &mv))
			return false;
		c->holds = mv.flag;
	}
	return true;
}

static void
host_fact(FactCall *c, const char *realm)
{
	EclTableHost h;

	if (memo_fact(c, realm))
		return;

	ecl_table_host_begin(&h, c->did, realm, NULL, true);
	c->host = &h;
	ecl_table_host_ops.execute(&h, false, ask_host, c);
	if (!c->ok)
		ecl_raise(&c->err, NULL);
}

static void check_execute(Oid funcid);

/*
 * ecl.policy_trust and ecl.policy_credential answer for any caller DID,
 * which is what ecl.check may ask: in a translated plan they stand in for
 * ecl.check, so whoever may execute ecl.check may call them (their own
 * EXECUTE is PUBLIC: a role granted ecl.check directly, not through
 * ecl_executor, must not fail on them) and nobody else.  Checked once per
 * call site, like the executor checks a function once per plan start.
 */
static void
check_execute_as_check(void)
{
	static const Oid check_args[4] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};

	ecl_require_execute("check", 4, check_args);
}

/*
 * Per-call-site answers.  When the caller is a column, a call site asks one
 * question (this realm's trust dimension, this schema) once per row, for
 * DIDs that repeat.  The statement memo answers every host lookup, with
 * entries large enough for any of them; thousands of DIDs spread those over
 * more memory than the CPU caches hold, and the probe of each row then waits
 * on memory.  So each call site keeps a compact index (did_index.h) of the
 * answers it has already had from the memo, valid exactly while the memo's
 * statement is
 * (ecl_memo_generation), and only for the realm/dimension or schema of its
 * first call (another one goes the general way).  It lives in the call
 * site's fn_extra, so it ends with the plan's execution.
 */
#define SITE_MAX_ANSWERS 65536

typedef struct FactSite
{
	bool		keyed;			/* question below set by the first call */
	bool		question_null;	/* realm or schema argument NULL */
	int32		dim;
	text	   *question;		/* realm (trust) or schema (credential) */
	uint64		generation;		/* the memo's statement the answers are of */
	MemoryContext cxt;			/* the call site's */
	MemoryContext answers_cxt;	/* the index and answers, reset per statement */
	EclDidIndex dids;			/* DID -> its place in answers */
	double	   *answers;
	uint32		nanswers;
	uint32		capacity;
} FactSite;

static FactSite *
fact_site(FunctionCallInfo fcinfo)
{
	FactSite   *site = (FactSite *) fcinfo->flinfo->fn_extra;

	if (site == NULL)
	{
		check_execute_as_check();
		site = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FactSite));
		site->cxt = fcinfo->flinfo->fn_mcxt;
		fcinfo->flinfo->fn_extra = site;
	}
	return site;
}

/* Is this call's question the site's (set by the first call)? */
static bool
site_asks(FactSite *site, FunctionCallInfo fcinfo, int question_arg, int32 dim)
{
	bool		isnull = PG_ARGISNULL(question_arg);
	text	   *q = isnull ? NULL : PG_GETARG_TEXT_PP(question_arg);

	if (!site->keyed)
	{
		site->keyed = true;
		site->question_null = isnull;
		site->dim = dim;
		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(site->cxt);

			site->question = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(q));
			MemoryContextSwitchTo(old);
		}
		return true;
	}
	if (isnull != site->question_null || dim != site->dim)
		return false;
	return isnull ||
		(VARSIZE_ANY_EXHDR(q) == VARSIZE_ANY_EXHDR(site->question) &&
		 memcmp(VARDATA_ANY(q), VARDATA_ANY(site->question), VARSIZE_ANY_EXHDR(q)) == 0);
}

static bool
site_get(FactSite *site, text *did, double *answer)
{
	EclDidSlot *slot;

	if (site->nanswers == 0 || site->generation != ecl_memo_generation())
		return false;
	slot = ecl_did_index_find(&site->dids, VARDATA_ANY(did), VARSIZE_ANY_EXHDR(did));
	if (slot == NULL)
		return false;
	*answer = site->answers[slot->value];
	return true;
}

static void
site_put(FactSite *site, text *did, double answer)
{
	uint64		generation = ecl_memo_generation();
	EclDidSlot *slot;
	bool		added;

	if (site->generation != generation || site->answers_cxt == NULL)
	{
		if (site->answers_cxt == NULL)
			site->answers_cxt = AllocSetContextCreate(site->cxt, "ecl fact site",
													  ALLOCSET_DEFAULT_SIZES);
		MemoryContextReset(site->answers_cxt);
		ecl_did_index_init(&site->dids, site->answers_cxt, 512);
		site->capacity = 1024;
		site->answers = MemoryContextAlloc(site->answers_cxt,
										   sizeof(double) * site->capacity);
		site->nanswers = 0;
		site->generation = generation;
	}
	if (site->nanswers >= SITE_MAX_ANSWERS)
		return;
	slot = ecl_did_index_enter_copy(&site->dids, VARDATA_ANY(did),
									VARSIZE_ANY_EXHDR(did), &added);
	if (!added)
		return;
	if (site->nanswers == site->capacity)
	{
		site->capacity *= 2;
		site->answers = repalloc(site->answers, sizeof(double) * site->capacity);
	}
	slot->value = site->nanswers;
	site->answers[site->nanswers++] = answer;
}

static Datum
trust_dim(FunctionCallInfo fcinfo, const char *did, int realm_arg, int dim_arg)
{
	FactCall	c;
	int			dim = PG_GETARG_INT32(dim_arg);
	double		v;

	if (dim < 0 || dim >= ECL_TRUST_DIMS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("trust dimension %d does not exist", dim)));
	if (did == NULL)
		PG_RETURN_FLOAT8(0.0);	/* no caller: the zero vector */
	memset(&c, 0, sizeof(c));
	c.did = did;
	host_fact(&c, PG_ARGISNULL(realm_arg) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(realm_arg)));
	v = c.trust.dim[dim];
	for (int i = 0; i < ECL_TRUST_DIMS; i++)
		if (!isfinite(c.trust.dim[i]))
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("host function load_trust returned a non-finite number")));
	PG_RETURN_FLOAT8(v);
}

static Datum
credential(FunctionCallInfo fcinfo, const char *did, int schema_arg)
{
	FactCall	c;

	if (did == NULL)
		PG_RETURN_BOOL(false);
	memset(&c, 0, sizeof(c));
	c.did = did;
	c.schema = text_to_cstring(PG_GETARG_TEXT_PP(schema_arg));
	host_fact(&c, "");
	PG_RETURN_BOOL(c.holds);
}

/*
 * ecl.policy_trust(caller text, realm text, dim int) RETURNS float8
 *
 * Called once per row when the caller is a column: a DID this call site
 * met before in the statement is answered from the site's index, one the
 * statement met elsewhere from the memo, as the host would answer it.
 */
Datum
ecl_policy_trust(PG_FUNCTION_ARGS)
{
	FactSite   *site = fact_site(fcinfo);
	int32		dim = PG_GETARG_INT32(2);
	text	   *did;
	bool		cacheable;
	double		answer;

	if (PG_ARGISNULL(0) || dim < 0 || dim >= ECL_TRUST_DIMS)
		return trust_dim(fcinfo, NULL, 1, 2);
	did = PG_GETARG_TEXT_PP(0);
	cacheable = site_asks(site, fcinfo, 1, dim);
	if (cacheable && site_get(site, did, &answer))
		PG_RETURN_FLOAT8(answer);
	answer = DatumGetFloat8(trust_dim(fcinfo, text_to_cstring(did), 1, 2));
	if (cacheable)
		site_put(site, did, answer);
	PG_RETURN_FLOAT8(answer);
}

/* ecl.policy_own_trust(realm text, dim int) RETURNS float8 */
Datum
ecl_policy_own_trust(PG_FUNCTION_ARGS)
{
	return trust_dim(fcinfo, ecl_current_did(), 0, 1);
}

/* ecl.policy_credential(caller text, schema text) RETURNS boolean, as above */
Datum
ecl_policy_credential(PG_FUNCTION_ARGS)
{
	FactSite   *site = fact_site(fcinfo);
	text	   *did;
	bool		cacheable;
	double		answer;
	bool		holds;

	if (PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	if (PG_ARGISNULL(0))
		return credential(fcinfo, NULL, 1);
	did = PG_GETARG_TEXT_PP(0);
	cacheable = site_asks(site, fcinfo, 1, 0);
	if (cacheable && site_get(site, did, &answer))
		PG_RETURN_BOOL(answer != 0);
	holds = DatumGetBool(credential(fcinfo, text_to_cstring(did), 1));
	if (cacheable)
		site_put(site, did, holds ? 1 : 0);
	PG_RETURN_BOOL(holds);
}

/* ecl.policy_own_credential(schema text) RETURNS boolean */
Datum
ecl_policy_own_credential(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	return credential(fcinfo, ecl_current_did(), 0);
}

/* ------------------------------------------------------------------ gates */

/*
 * The executor checks EXECUTE on every function a plan calls when the plan
 * starts; a translated ecl.check or ecl.allowed is no longer called, so
 * the gate makes the same check, with the same error.
 */
static void
check_execute(Oid funcid)
{
	AclResult	aclresult = pg_proc_aclcheck(funcid, GetUserId(), ACL_EXECUTE);

	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(funcid));
}

/* The same check on ecl.<function>(argtypes) (planner_support.h) */
void
ecl_require_execute(const char *function, int nargs, const Oid *argtypes)
{
	check_execute(LookupFuncName(list_make2(makeString("ecl"),
											makeString(pstrdup(function))),
								 nargs, argtypes, false));
}

/*
 * The gate runs once per execution of a plan that evaluates the translated
 * policy (an InitPlan, evaluated on first use): it counts that execution in
 * the policy's row of ecl.stat_eclvm_policies (translated_executions),
 * under the call's realm when the plan knows it (a constant, or the
 * policy's own realm), else under none.  Not a VM run: nothing else moves.
 */
static void
count_translated_execution(FunctionCallInfo fcinfo)
{
	char	   *name;
	const EclPolicy *policy;

	if (PG_ARGISNULL(0))
		return;
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	policy = ecl_policy_lookup_optional(name);
	if (policy == NULL)
		return;
	ecl_stats_record_translated(policy->name, policy->kind,
								PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));
}

/* ecl.policy_gate(policy text, function oid, realm text) RETURNS boolean */
Datum
ecl_policy_gate(PG_FUNCTION_ARGS)
{
	check_execute(PG_GETARG_OID(1));
	count_translated_execution(fcinfo);
	PG_RETURN_BOOL(true);
}

/* ecl.policy_caller(policy text, function oid, realm text) RETURNS text */
Datum
ecl_policy_caller(PG_FUNCTION_ARGS)
{
	char	   *did;

	check_execute(PG_GETARG_OID(1));
	count_translated_execution(fcinfo);
	did = ecl_current_did();
	if (did == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(did));
}

/*
 * ecl.policy_past_rows(n int) RETURNS boolean
 *
 * False for the first n calls of this call site in a plan's execution,
 * true after: the switch of a translated ecl.check from per-row lookups to
 * the set of callers (planner_support.c, "callers from the row").  Both
 * branches it chooses between give the same answer, so its state (the
 * count, in fn_extra, which lives as long as the plan's execution) decides
 * only how fast.
 */
Datum
ecl_policy_past_rows(PG_FUNCTION_ARGS)
{
	int64	   *calls = (int64 *) fcinfo->flinfo->fn_extra;

	if (calls == NULL)
	{
		calls = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(int64));
		fcinfo->flinfo->fn_extra = calls;
	}
	PG_RETURN_BOOL(++*calls > (int64) PG_GETARG_INT32(0));
}
