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
/* ecl.run_result = (passed, value, message, gas_used, mana_used, duration_us, logs, events) */
#define ECL_RUN_RESULT_COLUMNS 8

Datum		ecl_run_result_datum(FunctionCallInfo fcinfo, const EclRunOutcome *out);

/* Fill values/nulls[0 .. ECL_RUN_RESULT_COLUMNS-1] (for types that extend it). */
void		ecl_run_result_fill(const EclRunOutcome *out, Datum *values, bool *nulls);

/* A gas_limit / mana_limit argument: 0 (the GUC applies) when absent or NULL. */
int64		ecl_optional_limit(FunctionCallInfo fcinfo, int argno, const char *what);

/* A text argument that must not be NULL (22004 naming what), as a C string. */
char	   *ecl_required_text(FunctionCallInfo fcinfo, int argno, const char *what);

/*
 * The one way a policy gets into ecl.policies (register_policy,
 * rollback_policy, import_bundle): checks kind and realm, compiles source
 * (detoasted; stored as is) and stores it as the next version, or does
 * nothing when kind, realm, source and hash are unchanged.  Returns the hash.
 */
bytea	   *ecl_register_policy_source(const char *name, const char *kind,
									   const char *realm, text *source);

#endif							/* ECL_SQL_POLICY_H */
