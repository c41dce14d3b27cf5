/*
 * sql_state.c — ecl.simulate (docs/host-and-state.md): a registered policy run on the
 * state-only host (host_state.h) instead of the tables.
 *
 *   ecl.simulate(policy text, caller text, realm text, input jsonb,
 *                state jsonb, gas_limit bigint DEFAULT NULL,
 *                mana_limit bigint DEFAULT NULL)
 *     RETURNS ecl.simulation_result
 *
 * The run goes through THE runner (runner.h) like every other: the same
 * cached, verified program, the same budgets and interrupt checks, the same
 * outcome; only the host differs, and the request says track = false, so
 * the statistics never hear of it.  The policy's program is the one thing
 * read from the database (ecl.policies, through the per-backend cache).
 *
 * ecl.simulation_result = the columns of ecl.run_result, then
 * writes jsonb: the change records of the run (docs/host-and-state.md),
 * [] unless it passed — what run_policy would have made durable.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "ecl_pg.h"
#include "policy_catalog.h"
#include "runner.h"
#include "sql_policy.h"

PG_FUNCTION_INFO_V1(ecl_simulate);

/* ecl.run_result's columns, then writes */
#define SIMULATION_RESULT_COLUMNS (ECL_RUN_RESULT_COLUMNS + 1)

static Datum
empty_array_jsonb(void)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
}

/* ecl.simulation_result: the ecl.run_result columns plus writes */
static Datum
simulation_result_datum(FunctionCallInfo fcinfo, const EclRunOutcome *out)
{
	TupleDesc	desc;
	Datum		values[SIMULATION_RESULT_COLUMNS];
	bool		nulls[SIMULATION_RESULT_COLUMNS];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (desc->natts != SIMULATION_RESULT_COLUMNS)
		elog(ERROR, "ecl.simulation_result has %d columns, expected %d",
			 desc->natts, SIMULATION_RESULT_COLUMNS);
	desc = BlessTupleDesc(desc);

	ecl_run_result_fill(out, values, nulls);
	values[ECL_RUN_RESULT_COLUMNS] = out->writes ? JsonbPGetDatum(out->writes)
		: empty_array_jsonb();
	nulls[ECL_RUN_RESULT_COLUMNS] = false;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

Datum
ecl_simulate(PG_FUNCTION_ARGS)
{
	EclRunRequest req;
	EclRunOutcome out;
	const EclPolicy *policy;
	char	   *name;
	char	   *realm;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy name must not be NULL")));
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("state must not be NULL"),
				 errhint("Pass ecl.snapshot(realm), or '{}' for an empty world.")));

	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	realm = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	policy = ecl_policy_lookup(name);

	/* the request ecl.run_policy makes, on the other host, untracked */
	ecl_run_request_for_policy(&req, policy,
							   PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
							   realm,
							   PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3),
							   ECL_RUN_SIMULATED);
	req.gas_limit = ecl_optional_limit(fcinfo, 5, "gas_limit");
	req.mana_limit = ecl_optional_limit(fcinfo, 6, "mana_limit");
	req.state = PG_GETARG_JSONB_P(4);

	ecl_run(&req, &out);
	return simulation_result_datum(fcinfo, &out);
}
