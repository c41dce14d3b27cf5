/*
 * error_map.c — turn a core error value into an SQL error (docs/sql-api.md, "Errors").
 *
 * The core reports errors as ecl_error values; this is the one place that
 * decides their SQLSTATE and the shape of the message:
 *   policy "NAME", line L:C: <message>     (named policy)
 *   line L:C: <message>                    (script mode, ecl.eval)
 * and adds a hint naming the setting that controls the limit that was hit.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"

#include "ecl_pg.h"

int
ecl_sqlstate_for(ecl_error_code code)
{
	const char *s = ecl_error_sqlstate(code);

	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/* The hint for limits that a setting controls; NULL when none applies. */
static const char *
hint_for(const ecl_error *err)
{
	switch (err->code)
	{
		case ECL_ERR_OUT_OF_GAS:
			return "The gas budget comes from ecl.gas_limit unless the call passes its own limit.";
		case ECL_ERR_MANA:
			return "The mana budget comes from ecl.mana_limit unless the call passes its own limit.";
		case ECL_ERR_TIMEOUT:
			return "Raise ecl.timeout_ms, or make the policy do less work.";
		case ECL_ERR_MEMORY:
			return "The memory budget of a run is ecl.memory_limit; only a superuser can change it (ALTER ROLE or ALTER DATABASE ... SET ecl.memory_limit).";
		case ECL_ERR_STACK:
			/* only the operand stack has a setting; nesting limits are fixed */
			if (strncmp(err->message, "program needs a stack", 21) == 0)
				return "The operand stack limit is ecl.max_stack_depth; deeply nested expressions need more.";
			if (strncmp(err->message, "nesting too deep", 16) == 0)
				return "Nesting and operator chains have fixed limits in the compiler; split the expression with let variables.";
			if (strncmp(err->message, "value nested deeper", 19) == 0)
				return "Arrays and objects have a fixed nesting limit; no setting raises it.";
			return NULL;
		case ECL_ERR_BYTECODE:
			return "Bytecode must come from ecl.compile() of the same extension version and must not be modified.";
		case ECL_ERR_READ_ONLY:
			/* say why the run was read-only: the node, the transaction, or the call */
			if (RecoveryInProgress())
				return "This server is a hot standby: run policies that write or emit on the primary.";
			if (XactReadOnly)
				return "The transaction is read-only: run policies that write or emit in a read-write transaction.";
			return "ecl.check and ecl.allowed are read-only: use ecl.run_policy or ecl.enforce for policies that write or emit.";
		default:
			return NULL;
	}
}

char *
ecl_error_text(const ecl_error *err, const char *policy_name)
{
	const char *policy = policy_name;
	StringInfoData text;

	if (policy == NULL || policy[0] == '\0')
		policy = err->policy;

	/* "policy "x", line 3:7: " — the parts we know */
	initStringInfo(&text);
	if (policy != NULL && policy[0] != '\0')
		appendStringInfo(&text, "policy \"%s\"", policy);
	if (err->line > 0)
	{
		if (text.len > 0)
			appendStringInfoString(&text, ", ");
		appendStringInfo(&text, "line %u:%u", err->line, err->column);
	}
	if (text.len > 0)
		appendStringInfoString(&text, ": ");
	appendStringInfoString(&text, err->message[0] ? err->message
						   : ecl_error_code_name(err->code));
	return text.data;
}

void
ecl_raise(const ecl_error *err, const char *policy_name)
{
	const char *hint = hint_for(err);

	ereport(ERROR,
			(errcode(ecl_sqlstate_for(err->code)),
			 errmsg("%s", ecl_error_text(err, policy_name)),
			 hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}
