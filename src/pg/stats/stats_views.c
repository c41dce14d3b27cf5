/*
 * stats_views.c — the SQL functions behind the ecl.stat_* views (docs/sql-api.md, "Statistics")
 * and ecl.stat_reset().  Each returns a materialized set whose first column
 * is the database's oid; the views in sql/install/30_stats.sql join
 * pg_database for its name and pick and name the columns.
 *
 * Who sees which databases: members of pg_read_all_stats (and superusers)
 * see the rows of every database, like pg_stat_statements' figures; any
 * other reader (ecl_admin) sees the current database's rows only, since
 * policy and realm names of other databases are not theirs to read.
 *
 * Rates and means whose denominator is 0 are NULL here (SQL's "no data");
 * get_metric returns 0 for them so that policies always get a number.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_authid_d.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "ecl_pg.h"
#include "stats.h"
#include "stats_internal.h"

PG_FUNCTION_INFO_V1(ecl_stat_eclvm_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_kind_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_realm_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_policy_counters);
PG_FUNCTION_INFO_V1(ecl_stat_eclvm_policy_version_counters);
PG_FUNCTION_INFO_V1(ecl_stat_reset);

/* Whether the calling role may see the statistics of other databases. */
static bool
sees_all_databases(void)
{
	return has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
}

/* Is a row of database dbid shown to this caller? */
static inline bool
visible(Oid dbid, bool all)
{
	return all || dbid == MyDatabaseId;
}

/*
 * A result being built: the rows' values start with the dbid.  The library
 * serves the 0.1 install script until ALTER EXTENSION ecl UPDATE runs
 * (docs/operations.md, "Upgrading from 0.1"), whose functions have no dbid
 * column and fewer columns: 0.1's are the ones after the dbid, in order,
 * so such a row is the values from the second on, cut after 0.1's last
 * (columns added later go at the end).  A 0.1 declaration shows the
 * current database's rows only, since it cannot say whose they are.
 */
typedef struct StatRows
{
	Tuplestorestate *store;
	TupleDesc	tupdesc;
	bool		with_dbid;
	bool		all;			/* show every database's rows */
} StatRows;

/*
 * Set up a materialized result for a function declared with OUT columns;
 * natts counts the dbid, natts_0_1 is the number of columns 0.1 declared.
 */
static void
begin_rows(FunctionCallInfo fcinfo, StatRows *rows, int natts, int natts_0_1)
{
	ecl_stats_require_available();
	ecl_stats_flush_pending();	/* this session sees its own runs */
	rows->store = ecl_begin_materialized_srf(fcinfo, &rows->tupdesc);
	rows->with_dbid = (rows->tupdesc->natts == natts);
	if (!rows->with_dbid && rows->tupdesc->natts != natts_0_1)
		elog(ERROR, "ecl statistics function declared with %d columns, expected %d "
			 "(install script and library do not match)", rows->tupdesc->natts, natts);
	rows->all = rows->with_dbid && sees_all_databases();
}

/*
 * Add a row whose values (and nulls) start with the dbid; the tuple store
 * takes as many as the declaration has columns.
 */
static void
put_row(StatRows *rows, Datum *values, bool *nulls)
{
	int			skip = rows->with_dbid ? 0 : 1;

	tuplestore_putvalues(rows->store, rows->tupdesc, values + skip, nulls + skip);
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
 * The rows of the databases this caller may see: a copy of each, taken
 * under the shared lock, so that no datum is built while it is held.  The
 * current database is given a row first, so that it always shows.
 */
static EclDatabaseCounters *
visible_databases(bool all, Oid **dbids_out, int *n_out)
{
	HASH_SEQ_STATUS seq;
	EclDatabaseEntry *entry;
	EclDatabaseCounters *rows;
	Oid		   *dbids;
	long		max;
	int			n = 0;

	ecl_stats_ensure_database(MyDatabaseId);
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	max = Max(hash_get_num_entries(ecl_stats_databases), 1);
	rows = palloc(max * sizeof(EclDatabaseCounters));
	dbids = palloc(max * sizeof(Oid));
	hash_seq_init(&seq, ecl_stats_databases);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (n >= max)
		{
			hash_seq_term(&seq);
			break;
		}
		if (!visible(entry->dbid, all))
			continue;
		dbids[n] = entry->dbid;
		ecl_stats_copy_database(entry, &rows[n]);
		n++;
	}
	LWLockRelease(ecl_stats_shared->lock);
	*dbids_out = dbids;
	*n_out = n;
	return rows;
}

/*
 * One row per database: dbid, every global counter in ECL_GLOBAL_COUNTERS
 * order, then avg_evaluation_time_us, policy_success_rate,
 * crossing_allow_rate, stats_reset.  0.1's declaration has the counters up
 * to events_emitted (later ones are added to the list after it), then the
 * same four.
 */
#define ECL_GC_COUNT_0_1 (ECL_GC_EVENTS_EMITTED + 1)

Datum
ecl_stat_eclvm_counters(PG_FUNCTION_ARGS)
{
#define NCOLS (1 + ECL_GC_COUNT + 4)
	StatRows	out;
	Oid		   *dbids;
	int			n;
	int			n_global;
	EclDatabaseCounters *rows;

	begin_rows(fcinfo, &out, NCOLS, ECL_GC_COUNT_0_1 + 4);
	n_global = out.with_dbid ? ECL_GC_COUNT : ECL_GC_COUNT_0_1;
	rows = visible_databases(out.all, &dbids, &n);

	for (int r = 0; r < n; r++)
	{
		const EclDatabaseCounters *c = &rows[r];
		const uint64 *g = c->global;
		Datum		values[NCOLS];
		bool		nulls[NCOLS];
		int			col = 0;

		memset(nulls, 0, sizeof(nulls));
		values[col++] = ObjectIdGetDatum(dbids[r]);
		for (int i = 0; i < n_global; i++)
			values[col++] = Int64GetDatum((int64) ecl_stats_shown(c, i));
		/* from the nanoseconds, so that sub-microsecond runs show */
		set_ratio(&values[col], &nulls[col], g[ECL_GC_TOTAL_TIME_NS],
				  g[ECL_GC_POLICIES_EXECUTED] * 1000);
		col++;
		set_ratio(&values[col], &nulls[col], g[ECL_GC_POLICIES_PASSED],
				  g[ECL_GC_POLICIES_EXECUTED]);
		col++;
		set_ratio(&values[col], &nulls[col], g[ECL_GC_CROSSINGS_ALLOWED],
				  g[ECL_GC_CROSSING_EVALUATIONS]);
		col++;
		values[col++] = TimestampTzGetDatum(c->stats_reset);
		Assert(col == 1 + n_global + 4);
		put_row(&out, values, nulls);
	}
	return (Datum) 0;
#undef NCOLS
}

/* Per database, one row per policy kind of docs/sql-api.md, "Registered policies", zeros included. */
Datum
ecl_stat_eclvm_kind_counters(PG_FUNCTION_ARGS)
{
	StatRows	out;
	Oid		   *dbids;
	int			n;
	EclDatabaseCounters *rows;

	begin_rows(fcinfo, &out, 2 + ECL_KC_COUNT, 5);
	rows = visible_databases(out.all, &dbids, &n);

	for (int r = 0; r < n; r++)
	{
		for (int k = 0; k < ECL_KIND_COUNT; k++)
		{
			Datum		values[2 + ECL_KC_COUNT];
			bool		nulls[2 + ECL_KC_COUNT] = {false};

			values[0] = ObjectIdGetDatum(dbids[r]);
			values[1] = CStringGetTextDatum(ecl_stats_kind_name(k));
			for (int c = 0; c < ECL_KC_COUNT; c++)
				values[2 + c] = Int64GetDatum((int64) rows[r].by_kind[k][c]);
			put_row(&out, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * dbid, realm_id, policies_executed, passed, denied, success_rate, gas,
 * mana, crossing_policies
 */
Datum
ecl_stat_eclvm_realm_counters(PG_FUNCTION_ARGS)
{
	StatRows	out;
	HASH_SEQ_STATUS seq;
	EclRealmEntry *entry;

	begin_rows(fcinfo, &out, 9, 8);
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	hash_seq_init(&seq, ecl_stats_realms);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[9];
		bool		nulls[9] = {false};
		EclRealmCounters c;

		if (!visible(entry->key.dbid, out.all))
			continue;
		SpinLockAcquire(&entry->mutex);
		c = entry->counters;
		SpinLockRelease(&entry->mutex);

		values[0] = ObjectIdGetDatum(entry->key.dbid);
		set_name(&values[1], &nulls[1], entry->key.realm);
		values[2] = Int64GetDatum(c.executed);
		values[3] = Int64GetDatum(c.passed);
		values[4] = Int64GetDatum(c.denied);
		set_ratio(&values[5], &nulls[5], c.passed, c.executed);
		values[6] = Int64GetDatum(c.gas);
		values[7] = Int64GetDatum(c.mana);
		values[8] = Int64GetDatum(c.crossing_policies);
		put_row(&out, values, nulls);
	}
	LWLockRelease(ecl_stats_shared->lock);
	return (Datum) 0;
}

/*
 * dbid, policy, kind, realm_id, calls, passed, denied, errors, total_gas,
 * total_mana, total_time_us, mean_time_us, min_time_us, max_time_us,
 * shadow_runs, shadow_disagreements
 */
Datum
ecl_stat_eclvm_policy_counters(PG_FUNCTION_ARGS)
{
	StatRows	out;
	HASH_SEQ_STATUS seq;
	EclPolicyEntry *entry;

	begin_rows(fcinfo, &out, 16, 13);
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	hash_seq_init(&seq, ecl_stats_policies);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[16];
		bool		nulls[16] = {false};
		EclPolicyCounters c;

		if (!visible(entry->key.dbid, out.all))
			continue;
		SpinLockAcquire(&entry->mutex);
		c = entry->counters;
		SpinLockRelease(&entry->mutex);

		values[0] = ObjectIdGetDatum(entry->key.dbid);
		set_name(&values[1], &nulls[1], entry->key.name);
		values[2] = CStringGetTextDatum(ecl_stats_kind_name(entry->key.kind));
		set_name(&values[3], &nulls[3], entry->key.realm);
		values[4] = Int64GetDatum(c.calls);
		values[5] = Int64GetDatum(c.passed);
		values[6] = Int64GetDatum(c.denied);
		values[7] = Int64GetDatum(c.errors);
		values[8] = Int64GetDatum(c.total_gas);
		values[9] = Int64GetDatum(c.total_mana);
		/* kept in nanoseconds, shown in microseconds */
		values[10] = Int64GetDatum(c.total_time_ns / 1000);
		if (c.calls > 0)
			values[11] = Float8GetDatum((double) c.total_time_ns / 1000.0 / (double) c.calls);
		else
			nulls[11] = true;
		values[12] = Int64GetDatum(c.min_time_ns / 1000);
		values[13] = Int64GetDatum(c.max_time_ns / 1000);
		nulls[12] = nulls[13] = (c.calls == 0);
		values[14] = Int64GetDatum(c.shadow_runs);
		values[15] = Int64GetDatum(c.shadow_disagreements);
		put_row(&out, values, nulls);
	}
	LWLockRelease(ecl_stats_shared->lock);
	return (Datum) 0;
}

/*
 * dbid, policy, version, hash, calls, passed, denied, errors, total_gas,
 * total_mana, total_time_us, mean_time_us, shadow_runs, shadow_disagreements
 */
Datum
ecl_stat_eclvm_policy_version_counters(PG_FUNCTION_ARGS)
{
	StatRows	out;
	HASH_SEQ_STATUS seq;
	EclVersionEntry *entry;

	/* new in 0.2: no 0.1 declaration to serve */
	begin_rows(fcinfo, &out, 14, 14);

	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	hash_seq_init(&seq, ecl_stats_versions);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[14];
		bool		nulls[14] = {false};
		EclPolicyCounters c;
		bytea	   *hash = palloc(VARHDRSZ + ECL_STATS_HASH_BYTES);

		if (!visible(entry->key.dbid, out.all))
			continue;
		SET_VARSIZE(hash, VARHDRSZ + ECL_STATS_HASH_BYTES);
		SpinLockAcquire(&entry->mutex);
		c = entry->counters;
		memcpy(VARDATA(hash), entry->hash, ECL_STATS_HASH_BYTES);
		SpinLockRelease(&entry->mutex);

		values[0] = ObjectIdGetDatum(entry->key.dbid);
		set_name(&values[1], &nulls[1], entry->key.name);
		values[2] = Int32GetDatum(entry->key.version);
		values[3] = PointerGetDatum(hash);
		values[4] = Int64GetDatum(c.calls);
		values[5] = Int64GetDatum(c.passed);
		values[6] = Int64GetDatum(c.denied);
		values[7] = Int64GetDatum(c.errors);
		values[8] = Int64GetDatum(c.total_gas);
		values[9] = Int64GetDatum(c.total_mana);
		values[10] = Int64GetDatum(c.total_time_ns / 1000);
		if (c.calls > 0)
			values[11] = Float8GetDatum((double) c.total_time_ns / 1000.0 / (double) c.calls);
		else
			nulls[11] = true;
		values[12] = Int64GetDatum(c.shadow_runs);
		values[13] = Int64GetDatum(c.shadow_disagreements);
		put_row(&out, values, nulls);
	}
	LWLockRelease(ecl_stats_shared->lock);
	return (Datum) 0;
}

/*
 * ecl.stat_reset(all_databases boolean DEFAULT false): zero the current
 * database's statistics, or every database's (superusers only: the
 * statistics of databases the caller may not even connect to).
 */
Datum
ecl_stat_reset(PG_FUNCTION_ARGS)
{
	/* 0.1 declared stat_reset() (docs/operations.md, "Upgrading from 0.1") */
	bool		all_databases = PG_NARGS() > 0 && !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);

	ecl_stats_require_available();
	if (all_databases && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to reset the ecl statistics of all databases"),
				 errdetail("Only superusers may reset the statistics of other databases."),
				 errhint("Call ecl.stat_reset() to reset the current database's statistics.")));
	ecl_stats_reset(all_databases);
	PG_RETURN_VOID();
}
