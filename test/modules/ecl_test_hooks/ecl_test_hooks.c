/*
 * ecl_test_hooks.c — C entry points that let tests drive the statistics
 * and the rate limiter directly, without a policy run.  They live in their
 * own library, ecl_test_hooks.so, so the shipped ecl.so carries no test
 * code.  The install script does NOT declare them: a test (as superuser)
 * declares the ones it needs, e.g.
 *   CREATE FUNCTION pg_temp.record_run(text, text, text, text, int8, int8,
 *       int8, int8) RETURNS void
 *       AS '$libdir/ecl_test_hooks', 'ecl_test_stats_record_run' LANGUAGE C;
 * They exist so that persistence, concurrency and the view shapes can be
 * tested exactly (known inputs, known totals), independently of the VM.
 *
 * The functions of ecl.so it calls (ecl_stats_record_run, ...) are looked
 * up when this library is loaded (load_external_function), not linked:
 * PostgreSQL loads libraries with RTLD_NOW, so a plain reference would make
 * loading this library fail in a backend that has not loaded ecl yet (a
 * server without the preload, where a test checks that recording is a
 * harmless no-op).  The lookup loads ecl first when needed.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "rate_limit.h"
#include "signature_cache.h"
#include "stats.h"

PG_MODULE_MAGIC;

static void (*record_run) (const EclRunReport *report);
static void (*record_compile) (bool ok);
static void (*record_crossing) (const char *realm_id, bool allowed);
static bool (*stats_metric) (const char *name, const char *realm_id, double *out);
static bool (*rate_limit_charge) (const char *did, double reliability,
								  int64 mana, double *retry_after_seconds);
static void (*signature_counters) (int64 *shared_hits, int64 *verified);

/* the pointers' types follow the headers (checked without referencing) */
#define SAME_TYPE(fn, ptr) \
	StaticAssertDecl(__builtin_types_compatible_p(__typeof__(&fn), __typeof__(ptr)), \
					 #ptr " does not match " #fn)
SAME_TYPE(ecl_stats_record_run, record_run);
SAME_TYPE(ecl_stats_record_compile, record_compile);
SAME_TYPE(ecl_stats_record_crossing, record_crossing);
SAME_TYPE(ecl_stats_metric, stats_metric);
SAME_TYPE(ecl_rate_limit_charge, rate_limit_charge);
SAME_TYPE(ecl_signature_cache_counters, signature_counters);

void		_PG_init(void);

void
_PG_init(void)
{
	const char *ecl = "$libdir/ecl";

	record_run = (void *) load_external_function(ecl, "ecl_stats_record_run", true, NULL);
	record_compile = (void *) load_external_function(ecl, "ecl_stats_record_compile", true, NULL);
	record_crossing = (void *) load_external_function(ecl, "ecl_stats_record_crossing", true, NULL);
	stats_metric = (void *) load_external_function(ecl, "ecl_stats_metric", true, NULL);
	rate_limit_charge = (void *) load_external_function(ecl, "ecl_rate_limit_charge", true, NULL);
	signature_counters = (void *) load_external_function(ecl, "ecl_signature_cache_counters", true, NULL);
}

PG_FUNCTION_INFO_V1(ecl_test_stats_record_run);
PG_FUNCTION_INFO_V1(ecl_test_stats_record_compile);
PG_FUNCTION_INFO_V1(ecl_test_stats_record_crossing);
PG_FUNCTION_INFO_V1(ecl_test_stats_metric);
PG_FUNCTION_INFO_V1(ecl_test_rate_limit_charge);
PG_FUNCTION_INFO_V1(ecl_test_signature_counters);

static char *
text_arg_or_null(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static EclRunStatus
status_from_name(const char *s)
{
	if (strcmp(s, "passed") == 0)
		return ECL_RUN_PASSED;
	if (strcmp(s, "denied") == 0)
		return ECL_RUN_DENIED;
	if (strcmp(s, "error") == 0)
		return ECL_RUN_ERROR;
	if (strcmp(s, "out_of_gas") == 0)
		return ECL_RUN_OUT_OF_GAS;
	if (strcmp(s, "rate_limited") == 0)
		return ECL_RUN_RATE_LIMITED;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown run status \"%s\"", s),
			 errhint("use passed, denied, error, out_of_gas or rate_limited")));
	return ECL_RUN_ERROR;		/* keep the compiler quiet */
}

/*
 * (policy text, kind text, realm text, status text, gas int8, mana int8,
 *  duration_us int8, events int8) RETURNS void
 */
Datum
ecl_test_stats_record_run(PG_FUNCTION_ARGS)
{
	EclRunReport r;
	char	   *status = text_arg_or_null(fcinfo, 3);

	if (status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("run status must not be null")));
	memset(&r, 0, sizeof(r));
	r.policy_name = text_arg_or_null(fcinfo, 0);
	r.policy_type = text_arg_or_null(fcinfo, 1);
	r.realm_id = text_arg_or_null(fcinfo, 2);
	r.status = status_from_name(status);
	r.gas_used = PG_ARGISNULL(4) ? 0 : PG_GETARG_INT64(4);
	r.mana_used = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT64(5);
	r.duration_ns = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT64(6) * 1000;
	r.events_emitted = PG_ARGISNULL(7) ? 0 : PG_GETARG_INT64(7);
	record_run(&r);
	PG_RETURN_VOID();
}

/* (ok bool) RETURNS void */
Datum
ecl_test_stats_record_compile(PG_FUNCTION_ARGS)
{
	record_compile(PG_GETARG_BOOL(0));
	PG_RETURN_VOID();
}

/* (realm text, allowed bool) RETURNS void */
Datum
ecl_test_stats_record_crossing(PG_FUNCTION_ARGS)
{
	record_crossing(text_arg_or_null(fcinfo, 0), PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/* (name text, realm text) RETURNS float8: what get_metric(name) would see */
Datum
ecl_test_stats_metric(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg_or_null(fcinfo, 0);
	double		v;

	if (name == NULL ||
		!stats_metric(name, text_arg_or_null(fcinfo, 1), &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/*
 * (did text, reliability float8, mana int8, OUT paid bool,
 *  OUT retry_after float8): one ecl_rate_limit_charge; retry_after is NULL
 * when paid.
 */
Datum
ecl_test_rate_limit_charge(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	double		retry;
	bool		paid;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	paid = rate_limit_charge(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							  PG_GETARG_FLOAT8(1), PG_GETARG_INT64(2),
							  &retry);
	values[0] = BoolGetDatum(paid);
	values[1] = Float8GetDatum(retry);
	nulls[1] = paid;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * () RETURNS TABLE(shared_hits int8, verified int8): this backend's
 * signature checks answered by the shared table, and made by itself
 */
Datum
ecl_test_signature_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int64		hits;
	int64		verified;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	signature_counters(&hits, &verified);
	values[0] = Int64GetDatum(hits);
	values[1] = Int64GetDatum(verified);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
