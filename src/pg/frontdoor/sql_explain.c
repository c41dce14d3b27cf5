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

static void
append_value(StringInfo buf, ecl_value v)
{
	Jsonb	   *jb = ecl_value_to_jsonb(v);

	appendStringInfoString(buf, JsonbToCString(NULL, &jb->root, VARSIZE(jb)));
}

/* The ECL name of a host instruction (load_trust, has_credential, ...). */
static const char *
function_name(ecl_opcode op)
{
	for (int i = 0; i < ecl_builtin_count; i++)
		if (ecl_builtin_table[i].op == op)
			return ecl_builtin_table[i].name;
	return ecl_opcode_table[op].name;
}

static const char *
trace_event_name(const ecl_trace_event *ev)
{
	switch (ev->kind)
	{
		case ECL_TRACE_REQUIRE:
			return "require";
		case ECL_TRACE_BRANCH:
			return "branch";
		case ECL_TRACE_SHORT_CIRCUIT:
			return ev->op == ECL_OP_AND ? "and" : "or";
		case ECL_TRACE_HOST_CALL:
			return "host_call";
		case ECL_TRACE_RETURN:
			return "return";
		case ECL_TRACE_DENY:
			return "deny";
	}
	return "?";
}

/* The VM's hook: one row per event, its values turned into JSON at once. */
static void
collect_event(void *tctx, const ecl_trace_event *ev)
{
	Tracer	   *t = tctx;
	MemoryContext old = MemoryContextSwitchTo(t->cxt);
	TraceRow   *row = palloc0(sizeof(TraceRow));
	StringInfoData buf;

	initStringInfo(&buf);
	switch (ev->kind)
	{
		case ECL_TRACE_REQUIRE:
			appendStringInfo(&buf, "{\"passed\": %s, \"value\": ",
							 ev->passed ? "true" : "false");
			append_value(&buf, ev->value);
			appendStringInfoString(&buf, ", \"message\": ");
			if (ev->message != NULL)
				escape_json(&buf, ev->message);
			else
				appendStringInfoString(&buf, "null");
			appendStringInfoChar(&buf, '}');
			break;
		case ECL_TRACE_BRANCH:
			/* a jump on false skips the then-branch */
			appendStringInfo(&buf, "{\"condition\": %s, \"taken\": \"%s\"}",
							 ev->value.u.b ? "true" : "false",
							 ev->jumped == (ev->op == ECL_OP_JUMP_IF_FALSE) ? "else" : "then");
			break;
		case ECL_TRACE_SHORT_CIRCUIT:
			appendStringInfoString(&buf, "{\"left\": ");
			append_value(&buf, ev->value);
			appendStringInfo(&buf, ", \"short_circuit\": %s}", ev->jumped ? "true" : "false");
			break;
		case ECL_TRACE_HOST_CALL:
			appendStringInfoString(&buf, "{\"function\": ");
			escape_json(&buf, function_name(ev->op));
			appendStringInfoString(&buf, ", \"args\": [");
			for (uint32 i = 0; i < ev->nargs; i++)
			{
				if (i > 0)
					appendStringInfoString(&buf, ", ");
				append_value(&buf, ev->args[i]);
			}
			appendStringInfoString(&buf, "], \"result\": ");
			append_value(&buf, ev->value);
			if (ev->failed)
				appendStringInfoString(&buf, ", \"failed\": true");
			appendStringInfoChar(&buf, '}');
			break;
		case ECL_TRACE_RETURN:
			appendStringInfo(&buf, "{\"passed\": %s, \"value\": ",
							 ev->passed ? "true" : "false");
			append_value(&buf, ev->value);
			appendStringInfoChar(&buf, '}');
			break;
		case ECL_TRACE_DENY:
			appendStringInfoString(&buf, "{\"message\": ");
			if (ev->message != NULL)
				escape_json(&buf, ev->message);
			else
				appendStringInfoString(&buf, "null");
			appendStringInfoChar(&buf, '}');
			break;
	}
	row->event = trace_event_name(ev);
	row->line = (int32) ev->line;
	row->column = (int32) ev->column;
	row->detail = buf.data;
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
