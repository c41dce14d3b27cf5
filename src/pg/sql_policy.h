/*
 * sql_policy.h — what sql_policy.c shares with the other SQL entry points
 * that return ecl.run_result (the engine entry points in engines.c).
 */
#ifndef ECL_SQL_POLICY_H
#define ECL_SQL_POLICY_H

#include "postgres.h"

#include "fmgr.h"

#include "runner.h"

/*
 * The ecl.run_result row for an outcome, shaped by the calling function's
 * declared result type (events [] when the run collected none).
 */
Datum		ecl_run_result_datum(FunctionCallInfo fcinfo, const EclRunOutcome *out);

#endif							/* ECL_SQL_POLICY_H */
