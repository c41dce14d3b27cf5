/*
 * stats_views.c — the SQL functions behind the ecl.stat_* views (SPEC §8)
 * and ecl.stat_reset().  Each returns a materialized set; the views in
 * sql/install/30_stats.sql pick and name the columns.
 *
 * Rates and means whose denominator is 0 are NULL here (SQL's "no data");
 * get_metric returns 0 for them so that policies always get a number.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "stats.h"
#include "stats_internal.h"

PG_FUNCTION_INFO_V1(ecl_stat_eclvm_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_kind_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_realm_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_policy_counters);
PG_FUNCTION_INFO_V1(ecl_stat_reset);

/* Set up a materialized result for a function declared with OUT columns. */
static Tuplestorestate *
begin_rows(FunctionCallInfo fcinfo, TupleDesc *tupdesc_out, int natts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext oldcxt;

	ecl_stats_require_available();
	ecl_stats_flush_pending();	/* this session sees its own runs */
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != natts)
		elog(ERROR, "ecl statistics function declared with %d columns, expected %d "
			 "(install script and library do not match)", tupdesc->natts, natts);

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	*tupdesc_out = tupdesc;
	return store;
}

static void
set_ratio(Datum *value, bool *isnull, uint64 num, uint64 den)
{
	double		r;

	*isnull = !ecl_stats_ratio(num, den, &r);
	*value = *isnull ? (Datum) 0 : Float8GetDatum(r);
}

/* NULL for "" (no realm / ad hoc run), else the text */
static void
set_name(Datum *value, bool *isnull, const char *name)
{
	*isnull = (name[0] == '\0');
	*value = *isnull ? (Datum) 0 : CStringGetTextDatum(name);
}

/*
 * One row: every global counter in ECL_GLOBAL_COUNTERS order, then
 * avg_evaluation_time_us, policy_success_rate, crossing_allow_rate,
 * stats_reset.
 */
Datum
ecl_stat_eclvm_counters(PG_FUNCTION_ARGS)
{
#define NCOLS (ECL_GC_COUNT + 4)
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_rows(fcinfo, &tupdesc, NCOLS);
	Datum		values[NCOLS];
	bool		nulls[NCOLS];
	uint64		g[ECL_GC_COUNT];
	int			col = 0;

	memset(nulls, 0, sizeof(nulls));
	for (int i = 0; i < ECL_GC_COUNT; i++)
	{
		g[i] = ecl_stats_global(i);
		values[col++] = Int64GetDatum((int64) g[i]);
	}
	/* from the nanoseconds, so that sub-microsecond runs show */
	set_ratio(&values[col], &nulls[col], ecl_stats_total_time_ns(),
			  g[ECL_GC_POLICIES_EXECUTED] * 1000);
	col++;
	set_ratio(&values[col], &nulls[col], g[ECL_GC_POLICIES_PASSED],
			  g[ECL_GC_POLICIES_EXECUTED]);
	col++;
	set_ratio(&values[col], &nulls[col], g[ECL_GC_CROSSINGS_ALLOWED],
			  g[ECL_GC_CROSSING_EVALUATIONS]);
	col++;
	values[col++] = TimestampTzGetDatum((TimestampTz)
										pg_atomic_read_u64(&ecl_stats_shared->stats_reset));
	Assert(col == NCOLS);
	tuplestore_putvalues(store, tupdesc, values, nulls);
	return (Datum) 0;
#undef NCOLS
}

/* One row per policy kind of SPEC §5, zeros included. */
Datum
ecl_stat_eclvm_kind_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_rows(fcinfo, &tupdesc, 1 + ECL_KC_COUNT);

	for (int k = 0; k < ECL_KIND_COUNT; k++)
	{
		Datum		values[1 + ECL_KC_COUNT];
		bool		nulls[1 + ECL_KC_COUNT] = {false};

		values[0] = CStringGetTextDatum(ecl_stats_kind_name(k));
		for (int c = 0; c < ECL_KC_COUNT; c++)
			values[1 + c] = Int64GetDatum((int64)
										  pg_atomic_read_u64(&ecl_stats_shared->by_kind[k][c]));
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/* realm_id, policies_executed, passed, denied, success_rate, gas, mana, crossing_policies */
Datum
ecl_stat_eclvm_realm_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_rows(fcinfo, &tupdesc, 8);
	HASH_SEQ_STATUS seq;
	EclRealmEntry *entry;

	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	hash_seq_init(&seq, ecl_stats_realms);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[8];
		bool		nulls[8] = {false};
		EclRealmCounters c;

		SpinLockAcquire(&entry->mutex);
		c = entry->counters;
		SpinLockRelease(&entry->mutex);

		set_name(&values[0], &nulls[0], entry->key.realm);
		values[1] = Int64GetDatum(c.executed);
		values[2] = Int64GetDatum(c.passed);
		values[3] = Int64GetDatum(c.denied);
		set_ratio(&values[4], &nulls[4], c.passed, c.executed);
		values[5] = Int64GetDatum(c.gas);
		values[6] = Int64GetDatum(c.mana);
		values[7] = Int64GetDatum(c.crossing_policies);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	LWLockRelease(ecl_stats_shared->lock);
	return (Datum) 0;
}

/*
 * policy, kind, realm_id, calls, passed, denied, errors, total_gas,
 * total_mana, total_time_us, mean_time_us, min_time_us, max_time_us
 */
Datum
ecl_stat_eclvm_policy_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = begin_rows(fcinfo, &tupdesc, 13);
	HASH_SEQ_STATUS seq;
	EclPolicyEntry *entry;

	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	hash_seq_init(&seq, ecl_stats_policies);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[13];
		bool		nulls[13] = {false};
		EclPolicyCounters c;

		SpinLockAcquire(&entry->mutex);
		c = entry->counters;
		SpinLockRelease(&entry->mutex);

		set_name(&values[0], &nulls[0], entry->key.name);
		values[1] = CStringGetTextDatum(ecl_stats_kind_name(entry->key.kind));
		set_name(&values[2], &nulls[2], entry->key.realm);
		values[3] = Int64GetDatum(c.calls);
		values[4] = Int64GetDatum(c.passed);
		values[5] = Int64GetDatum(c.denied);
		values[6] = Int64GetDatum(c.errors);
		values[7] = Int64GetDatum(c.total_gas);
		values[8] = Int64GetDatum(c.total_mana);
		/* kept in nanoseconds, shown in microseconds */
		values[9] = Int64GetDatum(c.total_time_ns / 1000);
		if (c.calls > 0)
			values[10] = Float8GetDatum((double) c.total_time_ns / 1000.0 / (double) c.calls);
		else
			nulls[10] = true;
		values[11] = Int64GetDatum(c.min_time_ns / 1000);
		values[12] = Int64GetDatum(c.max_time_ns / 1000);
		nulls[11] = nulls[12] = (c.calls == 0);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	LWLockRelease(ecl_stats_shared->lock);
	return (Datum) 0;
}

/* ecl.stat_reset(): zero all ECLVM statistics */
Datum
ecl_stat_reset(PG_FUNCTION_ARGS)
{
	ecl_stats_require_available();
	ecl_stats_reset_all();
	PG_RETURN_VOID();
}
