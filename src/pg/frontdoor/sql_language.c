/*
 * sql_language.c — the language's own SQL functions:
 *   ecl.compile(source text) -> bytea
 *   ecl.disassemble(bytecode bytea) -> TABLE(pc, line, opcode, operand, gas)
 *   ecl.eval(source text, input jsonb, caller text, realm text) -> jsonb
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "ecl/bytecode.h"
#include "ecl/opcodes.h"

#include "ecl_pg.h"
#include "program_cache.h"
#include "runner.h"

PG_FUNCTION_INFO_V1(ecl_sql_compile);
PG_FUNCTION_INFO_V1(ecl_sql_disassemble);
PG_FUNCTION_INFO_V1(ecl_sql_eval);

/* ecl.compile(source text) RETURNS bytea */
Datum
ecl_sql_compile(PG_FUNCTION_ARGS)
{
	text	   *src = PG_GETARG_TEXT_PP(0);
	size_t		nbytes;
	uint8	   *bytes = ecl_pg_compile(VARDATA_ANY(src), VARSIZE_ANY_EXHDR(src),
									   NULL, false, &nbytes);
	bytea	   *result = palloc(VARHDRSZ + nbytes);

	SET_VARSIZE(result, VARHDRSZ + nbytes);
	memcpy(VARDATA(result), bytes, nbytes);
	PG_RETURN_BYTEA_P(result);
}

/*
 * Set up a materialised result set (written out here rather than using
 * InitMaterializedSRF, which only exists from PostgreSQL 15 on).
 */
Tuplestorestate *
ecl_begin_materialized_srf(FunctionCallInfo fcinfo, TupleDesc *tupdesc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	Tuplestorestate *store;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(oldcxt);

	*tupdesc = desc;
	return store;
}

/* ecl.disassemble(bytecode bytea) RETURNS TABLE(pc, line, opcode, operand, gas) */
Datum
ecl_sql_disassemble(PG_FUNCTION_ARGS)
{
	bytea	   *bc = PG_GETARG_BYTEA_PP(0);
	TupleDesc	tupdesc;
	Tuplestorestate *store = ecl_begin_materialized_srf(fcinfo, &tupdesc);
	MemoryContext work = AllocSetContextCreate(CurrentMemoryContext,
											   "ecl disassemble",
											   ALLOCSET_DEFAULT_SIZES);
	ecl_program *p = ecl_pg_load_program(work,
										 (const uint8 *) VARDATA_ANY(bc),
										 VARSIZE_ANY_EXHDR(bc));

	for (uint32 pc = 0; pc < p->ncode; pc++)
	{
		const ecl_opcode_info *info = &ecl_opcode_table[ECL_INSTR_OP(p->code[pc])];
		char		operand[128];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		ecl_disasm_operand(p, pc, operand, sizeof(operand));
		values[0] = Int32GetDatum((int32) pc);
		values[1] = Int32GetDatum((int32) p->lines[pc]);
		values[2] = CStringGetTextDatum(info->name);
		values[3] = CStringGetTextDatum(operand);
		values[4] = Int32GetDatum((int32) info->gas);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}

	MemoryContextDelete(work);
	return (Datum) 0;
}

/*
 * Does the program touch data through the host?  Host instructions outside
 * the compute layer (trust, credentials, identities, balances, metrics,
 * stores, events) do; log and get_timestamp do not.
 */
static bool
program_uses_data(const ecl_program *p)
{
	for (uint32 pc = 0; pc < p->ncode; pc++)
	{
		const ecl_opcode_info *info = &ecl_opcode_table[ECL_INSTR_OP(p->code[pc])];

		if ((info->flags & ECL_F_HOST) && info->layer != ECL_LAYER_COMPUTE)
			return true;
	}
	return false;
}

/* docs/security.md: data access from ad hoc code is for ecl_executor and ecl_admin. */
static void
check_eval_data_access(void)
{
	Oid			user = GetUserId();
	Oid			executor = get_role_oid("ecl_executor", true);
	Oid			admin = get_role_oid("ecl_admin", true);

	if ((OidIsValid(executor) && has_privs_of_role(user, executor)) ||
		(OidIsValid(admin) && has_privs_of_role(user, admin)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to evaluate ECL code that reads or writes data"),
			 errdetail("The code calls host functions (trust, credentials, identities, balances, metrics, stores or events)."),
			 errhint("Grant the role ecl_executor, or evaluate code that uses only pure built-ins.")));
}

/*
 * ecl.eval(source text, input jsonb DEFAULT '{}', caller text DEFAULT NULL,
 *          realm text DEFAULT NULL) RETURNS jsonb
 *
 * Not strict, because its defaults are NULLs: a NULL caller or realm means
 * none, and a NULL input means {} as in every other entry point.  A NULL
 * source is NULL, as STRICT would make it: there is no program to run, and
 * NULL (not true) is what a WHERE clause should see then.
 */
Datum
ecl_sql_eval(PG_FUNCTION_ARGS)
{
	text	   *src;
	const ecl_program *program;
	EclRunRequest req;
	EclRunOutcome out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	src = PG_GETARG_TEXT_PP(0);
	program = ecl_program_cache_source(VARDATA_ANY(src), VARSIZE_ANY_EXHDR(src));

	ecl_run_request_for_program(&req, program,
								program->name[0] != '\0' ? program->name : NULL,
								"custom",
								PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
								PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
								PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), 0);
	if (program_uses_data(program))
		check_eval_data_access();

	ecl_run(&req, &out);
	PG_RETURN_JSONB_P(out.value);
}
