/*
 * error.h — errors as values.
 *
 * Every fallible core function returns ecl_status and fills an ecl_error.
 * There is no longjmp in the core: src/pg maps ecl_error_code to a SQLSTATE
 * (docs/sql-api.md, "Errors") and raises it with ereport.
 */
#ifndef ECL_ERROR_H
#define ECL_ERROR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ecl_status
{
	ECL_OK = 0,
	ECL_FAIL = 1
} ecl_status;

/*
 * Error kinds.  The comment names the SQLSTATE src/pg raises for each
 * (docs/sql-api.md, "Errors").  Keep ecl_error_code_name() in error.c in step.
 */
typedef enum ecl_error_code
{
	ECL_ERR_NONE = 0,
	ECL_ERR_SYNTAX,				/* 42601 syntax or compile error */
	ECL_ERR_UNDEFINED,			/* 42704 unknown policy/handler/realm */
	ECL_ERR_OUT_OF_GAS,			/* EC002 */
	ECL_ERR_MANA,				/* EC003 mana exhausted / rate limited */
	ECL_ERR_TIMEOUT,			/* EC004 */
	ECL_ERR_STACK,				/* EC005 stack / step / nesting limit */
	ECL_ERR_TYPE,				/* EC006 type error, missing input field */
	ECL_ERR_BYTECODE,			/* EC007 invalid or tampered bytecode */
	ECL_ERR_DIV_ZERO,			/* 22012 */
	ECL_ERR_NUMERIC,			/* 22003 NaN/Inf produced, number out of range */
	ECL_ERR_READ_ONLY,			/* 25006 write or emit in read-only run */
	ECL_ERR_HOST,				/* 58000 host failure / no host data */
	ECL_ERR_RESOURCE,			/* 53200 allocation failed, value too large
								 * (not a budget: see ECL_ERR_MEMORY) */
	ECL_ERR_INVALID_ARG,		/* 22023 bad argument to a built-in */
	ECL_ERR_MEMORY				/* EC008 the run's memory budget is spent */
} ecl_error_code;

#define ECL_ERROR_MSG_MAX 256

typedef struct ecl_error
{
	ecl_error_code code;
	uint32_t	line;			/* 1-based source line, 0 = unknown */
	uint32_t	column;			/* 1-based source column, 0 = unknown */
	char		message[ECL_ERROR_MSG_MAX];
	/*
	 * Name of the policy the error belongs to, when known: the compiler sets
	 * it once it has parsed "policy <name>", the VM from the program name.
	 * "" otherwise.  src/pg puts it into the SQL error message.
	 */
	char		policy[64];
} ecl_error;

/* Fill *err (message printf-style, truncated) and return ECL_FAIL. */
ecl_status	ecl_error_set(ecl_error *err, ecl_error_code code,
						  uint32_t line, uint32_t column,
						  const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 5, 6)))
#endif
			;

void		ecl_error_clear(ecl_error *err);

/*
 * Up to ECL_MAX_DIAGNOSTICS errors of one source, for tools that show every
 * mistake at once (ecl check) rather than the first (the database).
 */
#define ECL_MAX_DIAGNOSTICS 20

typedef struct ecl_diagnostics
{
	uint32_t	count;
	bool		truncated;		/* there were more than ECL_MAX_DIAGNOSTICS */
	ecl_error	items[ECL_MAX_DIAGNOSTICS];
} ecl_diagnostics;

void		ecl_diagnostics_init(ecl_diagnostics *d);

/*
 * Record a copy of err.  An error at the same line and column as one already
 * recorded is dropped (one mistake, one message).  Returns false when the
 * list was already full (truncated is then set), so the caller stops looking
 * for more.
 */
bool		ecl_diagnostics_add(ecl_diagnostics *d, const ecl_error *err);

/* Order by line, then column (stable). */
void		ecl_diagnostics_sort(ecl_diagnostics *d);

/* Stable lowercase name of a code, e.g. "type_error". */
const char *ecl_error_code_name(ecl_error_code code);

/*
 * The SQLSTATE of a code (docs/sql-api.md, "Errors"), five characters, e.g.
 * "EC006": the one table that the database (error_map.c) and the ecl
 * command (`ecl run`, `ecl test`) both report.  "XX000" for ECL_ERR_NONE.
 */
const char *ecl_error_sqlstate(ecl_error_code code);

#endif							/* ECL_ERROR_H */
