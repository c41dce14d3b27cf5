/*
 * decision_sql.c — the decision log's SQL functions (docs/lifecycle.md,
 * "Decision log"): ecl.recent_decisions (over ecl.decision_queue()), what
 * the queue holds now; ecl.replay, a logged decision run again on today's
 * data; ecl.trim_decision_log.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "decision_queue.h"
#include "decision_worker.h"
#include "ecl_pg.h"
#include "owner_spi.h"
#include "policy_catalog.h"
#include "runner.h"

PG_FUNCTION_INFO_V1(ecl_decision_queue_rows);
PG_FUNCTION_INFO_V1(ecl_replay);
PG_FUNCTION_INFO_V1(ecl_trim_decision_log);

static void
require_queue(void)
{
	if (!ecl_decision_queue_available())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the ecl decision log is not available"),
				 errhint("Add ecl to shared_preload_libraries and restart the server.")));
}

/*
 * Who sees which queued decisions: members of ecl_admin and of
 * pg_read_all_stats every decision of the current database, any other
 * role only the decisions made under that role.
 */
static bool
sees_all_decisions(void)
{
	Oid			user = GetUserId();
	Oid			admin = get_role_oid("ecl_admin", true);

	return has_privs_of_role(user, ROLE_PG_READ_ALL_STATS) ||
		(OidIsValid(admin) && has_privs_of_role(user, admin));
}

Datum
ecl_decision_queue_rows(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	EclDecision *records;
	int			n;
	bool		all;
	Oid			user = GetUserId();
	char	   *datname = get_database_name(MyDatabaseId);

	require_queue();
	store = ecl_begin_materialized_srf(fcinfo, &tupdesc);
	if (tupdesc->natts != EclDecisionRowColumns)
		elog(ERROR, "ecl.decision_queue declared with %d columns, expected %d "
			 "(install script and library do not match)",
			 tupdesc->natts, EclDecisionRowColumns);
	all = sees_all_decisions();

	records = palloc((Size) ecl_decision_log_queue_size * sizeof(EclDecision));
	n = ecl_decision_queue_peek(records, ecl_decision_log_queue_size);
	for (int i = 0; i < n; i++)
	{
		Datum		values[EclDecisionRowColumns];
		bool		nulls[EclDecisionRowColumns];

		if (records[i].dbid != MyDatabaseId ||
			(!all && records[i].roleid != user))
			continue;
		ecl_decision_row(&records[i], datname, values, nulls);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	pfree(records);
	return (Datum) 0;
}

/* ------------------------------------------------------------------ replay */

typedef struct LoggedDecision
{
	int64		id;
	bool		found;
	char	   *policy;
	char	   *caller;
	char	   *realm;
	Jsonb	   *input;
	bool		has_version;
	int32		version;
	bool		passed;
	char	   *message;
	char	   *sqlstate;
} LoggedDecision;

static char *
text_column(HeapTuple tup, TupleDesc desc, int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	if (isnull)
		return NULL;
	return MemoryContextStrdup(cxt, TextDatumGetCString(d));
}

static void
read_decision(LoggedDecision *ld, MemoryContext cxt)
{
	Oid			argtype = INT8OID;
	Datum		arg = Int64GetDatum(ld->id);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT policy, caller, realm, input, version, passed, message, sqlstate "
							  "FROM ecl.decision_log WHERE id OPERATOR(pg_catalog.=) $1",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading ecl.decision_log failed");
	ld->found = SPI_processed == 1;
	if (ld->found)
	{
		tup = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		ld->policy = text_column(tup, desc, 1, cxt);
		ld->caller = text_column(tup, desc, 2, cxt);
		ld->realm = text_column(tup, desc, 3, cxt);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull)
		{
			Jsonb	   *jb = DatumGetJsonbP(d);
			Jsonb	   *copy = MemoryContextAlloc(cxt, VARSIZE(jb));

			memcpy(copy, jb, VARSIZE(jb));
			ld->input = copy;
		}
		d = SPI_getbinval(tup, desc, 5, &isnull);
		ld->has_version = !isnull;
		ld->version = isnull ? 0 : DatumGetInt32(d);
		d = SPI_getbinval(tup, desc, 6, &isnull);
		ld->passed = !isnull && DatumGetBool(d);
		ld->message = text_column(tup, desc, 7, cxt);
		ld->sqlstate = text_column(tup, desc, 8, cxt);
	}
	SPI_finish();
}

/*
 * ecl.replay(decision_id): the logged run of a registered policy, again:
 * the policy's current version, the logged caller, realm and input, and
 * today's data.  Nothing it does is kept (a subtransaction rolled back),
 * it is not counted in the statistics and not logged again.
 */
Datum
ecl_replay(PG_FUNCTION_ARGS)
{
	LoggedDecision ld;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	const EclPolicy *policy;
	EclRunRequest req;
	EclRunOutcome out;
	char	   *new_message = NULL;
	char	   *new_sqlstate = NULL;
	bool		new_passed = false;
	Jsonb	   *new_value = NULL;
	TupleDesc	tupdesc;
	Datum		values[12];
	bool		nulls[12];
	int			c = 0;

	memset(&ld, 0, sizeof(ld));
	ld.id = PG_GETARG_INT64(0);
	read_decision(&ld, cxt);
	if (!ld.found)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("decision %lld is not in ecl.decision_log", (long long) ld.id)));
	if (ld.policy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("decision %lld is an ad hoc run, not of a registered policy, and cannot be replayed",
						(long long) ld.id)));
	if (ld.input == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("decision %lld was logged without its input and cannot be replayed",
						(long long) ld.id),
				 errdetail("Only the input's SHA-256 digest was logged."),
				 errhint("Set ecl.decision_log_inputs = on to log inputs of up to 512 bytes of JSON.")));

	policy = ecl_policy_lookup(ld.policy);
	ecl_run_request_for_policy(&req, policy, ld.caller, ld.realm, ld.input,
							   policy->program->writes ? 0 : ECL_RUN_READ_ONLY);
	req.track = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ecl_run(&req, &out);
		new_passed = out.passed;
		new_message = out.message;
		new_value = out.value;
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		new_passed = false;
		new_message = edata->message;
		new_sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
	}
	PG_END_TRY();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ecl.replay must return a row");
	tupdesc = BlessTupleDesc(tupdesc);
	memset(nulls, 0, sizeof(nulls));
#define SET_TEXT(s) do { nulls[c] = (s) == NULL; \
	values[c] = (s) != NULL ? CStringGetTextDatum(s) : (Datum) 0; c++; } while (0)
	values[c++] = Int64GetDatum(ld.id);
	SET_TEXT(ld.policy);
	values[c] = Int32GetDatum(ld.version);
	nulls[c++] = !ld.has_version;
	values[c++] = Int32GetDatum((int32) policy->version);
	values[c++] = BoolGetDatum(ld.passed);
	values[c++] = BoolGetDatum(new_passed);
	SET_TEXT(ld.message);
	SET_TEXT(new_message);
	SET_TEXT(ld.sqlstate);
	SET_TEXT(new_sqlstate);
	values[c] = new_value != NULL ? JsonbPGetDatum(new_value) : (Datum) 0;
	nulls[c++] = new_value == NULL;
	/* the outcome: passed, the reason, the error */
	values[c++] = BoolGetDatum(ld.passed != new_passed ||
							   (ld.message == NULL) != (new_message == NULL) ||
							   (ld.message != NULL && strcmp(ld.message, new_message) != 0) ||
							   (ld.sqlstate == NULL) != (new_sqlstate == NULL) ||
							   (ld.sqlstate != NULL && strcmp(ld.sqlstate, new_sqlstate) != 0));
#undef SET_TEXT
	Assert(c == 12);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* -------------------------------------------------------------- retention */

typedef struct TrimWork
{
	Datum		cutoff;
	uint64		deleted;
} TrimWork;

static void
trim_as_owner(void *arg)
{
	TrimWork   *w = (TrimWork *) arg;
	Oid			argtype = TIMESTAMPTZOID;

	if (SPI_execute_with_args("DELETE FROM ecl.decision_log WHERE at OPERATOR(pg_catalog.<) $1",
							  1, &argtype, &w->cutoff, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "trimming ecl.decision_log failed");
	w->deleted = SPI_processed;
}

/*
 * ecl.trim_decision_log(older_than interval): delete the decisions logged
 * before now() - older_than; returns how many.  EXECUTE is ecl_admin's;
 * the table itself is written as its owner, since nobody else may.
 */
Datum
ecl_trim_decision_log(PG_FUNCTION_ARGS)
{
	Interval   *older_than;
	TrimWork	w;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("older_than must not be NULL")));
	older_than = PG_GETARG_INTERVAL_P(0);

	w.cutoff = DirectFunctionCall2(timestamptz_mi_interval,
								   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
								   IntervalPGetDatum(older_than));
	w.deleted = 0;
	ecl_as_owner(trim_as_owner, &w);
	PG_RETURN_INT64((int64) w.deleted);
}
