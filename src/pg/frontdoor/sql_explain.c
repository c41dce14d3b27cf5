/*
 * sql_explain.c — ecl.explain, "why was this denied?", and ecl.policy_inputs
 * (docs/sql-api.md, "Explaining a run" and "Declared inputs").
 *
 * ecl.explain runs a registered policy read-only through the one runner,
 * with the VM's trace hook set: each require with its value, each branch
 * and short-circuit taken, each host call with its arguments and result,
 * and the return come back as rows, with the gas each step used.  The
 * trace is built in the calling function's memory and returned; nothing is
 * stored, so no other session can see it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "ecl_pg.h"
#include "policy_catalog.h"
#include "runner.h"
#include "sql_policy.h"

PG_FUNCTION_INFO_V1(ecl_explain);
PG_FUNCTION_INFO_V1(ecl_policy_inputs);

typedef struct TraceRow
{
	const char *event;
	int32		line;
	int32		column;
	char	   *detail;			/* JSON text */
	int64		gas;			/* cumulative */
} TraceRow;

typedef struct Tracer
{
	MemoryContext cxt;			/* the rows live here, not in the run's context */
	List	   *rows;
} Tracer;

/*
 * The VM's hook: one row per event, described at once (trace.c, shared
 * with `ecl explain`) into memory that outlives the run.
 */
static void
collect_event(void *tctx, const ecl_trace_event *ev)
{
	Tracer	   *t = tctx;
	MemoryContext old = MemoryContextSwitchTo(t->cxt);
	TraceRow   *row = palloc0(sizeof(TraceRow));
	ecl_alloc	alloc;
	ecl_error	err;
	size_t		len;

	ecl_pg_alloc_init(&alloc, t->cxt);
	if (ecl_trace_event_detail(&alloc, ev, &row->detail, &len, &err) != ECL_OK)
		ecl_raise(&err, NULL);
	row->event = ecl_trace_event_name(ev);
	row->line = (int32) ev->line;
	row->column = (int32) ev->column;
	row->gas = ev->gas;
	t->rows = lappend(t->rows, row);
	MemoryContextSwitchTo(old);
}

/*
 * ecl.explain(policy, caller, realm, input) RETURNS TABLE(step, line, col,
 * event, detail, gas).  A read-only run like ecl.check's, counted in the
 * statistics like one; gas is what each step used since the previous one,
 * so the column sums to the run's gas_used.
 */
Datum
ecl_explain(PG_FUNCTION_ARGS)
{
	char	   *name = ecl_required_text(fcinfo, 0, "policy name");
	const char *caller = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	const char *realm = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Jsonb	   *input = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	const EclPolicy *policy = ecl_policy_lookup(name);
	EclRunRequest req;
	EclRunOutcome out;
	Tracer		tracer;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	ListCell   *lc;
	int64		gas_before = 0;
	int32		step = 0;

	tracer.cxt = CurrentMemoryContext;
	tracer.rows = NIL;
	ecl_run_request_for_policy(&req, policy, caller, realm, input, ECL_RUN_READ_ONLY);
	req.trace = collect_event;
	req.trace_ctx = &tracer;
	ecl_run(&req, &out);

	store = ecl_begin_materialized_srf(fcinfo, &tupdesc);
	foreach(lc, tracer.rows)
	{
		TraceRow   *row = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		int64		gas = row->gas - gas_before;

		/* the last step carries whatever the run used after it */
		if (lnext(tracer.rows, lc) == NULL)
			gas = out.gas_used - gas_before;
		gas_before = row->gas;
		values[0] = Int32GetDatum(++step);
		values[1] = Int32GetDatum(row->line);
		values[2] = Int32GetDatum(row->column);
		values[3] = CStringGetTextDatum(row->event);
		values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(row->detail));
		values[5] = Int64GetDatum(gas);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ecl.policy_inputs(name) RETURNS TABLE(field, type, optional): the
 * declaration of a registered policy, from its verified bytecode; no rows
 * for a policy that declares nothing.
 */
Datum
ecl_policy_inputs(PG_FUNCTION_ARGS)
{
	char	   *name = ecl_required_text(fcinfo, 0, "policy name");
	const EclPolicy *policy = ecl_policy_lookup(name);
	TupleDesc	tupdesc;
	Tuplestorestate *store = ecl_begin_materialized_srf(fcinfo, &tupdesc);

	for (uint32 i = 0; i < policy->program->ninputs; i++)
	{
		const ecl_input_decl *d = &policy->program->inputs[i];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(d->name);
		values[1] = CStringGetTextDatum(ecl_input_type_names[d->type]);
		values[2] = BoolGetDatum(d->optional);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}
