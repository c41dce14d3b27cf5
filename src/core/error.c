/*
 * error.c — filling error values.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ecl/error.h"

ecl_status
ecl_error_set(ecl_error *err, ecl_error_code code, uint32_t line,
			  uint32_t column, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return ECL_FAIL;
	err->code = code;
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return ECL_FAIL;
}

/*
 * Reset to "no error".  Only the fields and the first byte of each text
 * buffer: the buffers are C strings, so "" is all a reader can see, and
 * clearing all 336 bytes was a measurable part of a short policy run (the VM
 * clears its result's error on every run).
 */
void
ecl_error_clear(ecl_error *err)
{
	err->code = ECL_ERR_NONE;
	err->line = 0;
	err->column = 0;
	err->message[0] = '\0';
	err->policy[0] = '\0';
}

const char *
ecl_error_code_name(ecl_error_code code)
{
	switch (code)
	{
		case ECL_ERR_NONE:
			return "none";
		case ECL_ERR_SYNTAX:
			return "syntax_error";
		case ECL_ERR_UNDEFINED:
			return "undefined_object";
		case ECL_ERR_OUT_OF_GAS:
			return "out_of_gas";
		case ECL_ERR_MANA:
			return "mana_exhausted";
		case ECL_ERR_TIMEOUT:
			return "timeout";
		case ECL_ERR_STACK:
			return "stack_limit";
		case ECL_ERR_TYPE:
			return "type_error";
		case ECL_ERR_BYTECODE:
			return "invalid_bytecode";
		case ECL_ERR_DIV_ZERO:
			return "division_by_zero";
		case ECL_ERR_NUMERIC:
			return "numeric_out_of_range";
		case ECL_ERR_READ_ONLY:
			return "read_only";
		case ECL_ERR_HOST:
			return "host_error";
		case ECL_ERR_RESOURCE:
			return "resource_exhausted";
		case ECL_ERR_INVALID_ARG:
			return "invalid_argument";
		case ECL_ERR_MEMORY:
			return "memory_limit";
	}
	return "unknown";
}

void
ecl_diagnostics_init(ecl_diagnostics *d)
{
	d->count = 0;
	d->truncated = false;
}

bool
ecl_diagnostics_add(ecl_diagnostics *d, const ecl_error *err)
{
	for (uint32_t i = 0; i < d->count; i++)
		if (d->items[i].line == err->line && d->items[i].column == err->column)
			return true;
	if (d->count >= ECL_MAX_DIAGNOSTICS)
	{
		d->truncated = true;
		return false;
	}
	d->items[d->count++] = *err;
	return true;
}

void
ecl_diagnostics_sort(ecl_diagnostics *d)
{
	/* insertion sort: at most ECL_MAX_DIAGNOSTICS items, and stable */
	for (uint32_t i = 1; i < d->count; i++)
	{
		ecl_error	e = d->items[i];
		uint32_t	j = i;

		while (j > 0 && (d->items[j - 1].line > e.line ||
						 (d->items[j - 1].line == e.line &&
						  d->items[j - 1].column > e.column)))
		{
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = e;
	}
}

const char *
ecl_error_sqlstate(ecl_error_code code)
{
	switch (code)
	{
		case ECL_ERR_SYNTAX:
			return "42601";
		case ECL_ERR_UNDEFINED:
			return "42704";
		case ECL_ERR_OUT_OF_GAS:
			return "EC002";
		case ECL_ERR_MANA:
			return "EC003";
		case ECL_ERR_TIMEOUT:
			return "EC004";
		case ECL_ERR_STACK:
			return "EC005";
		case ECL_ERR_TYPE:
			return "EC006";
		case ECL_ERR_BYTECODE:
			return "EC007";
		case ECL_ERR_DIV_ZERO:
			return "22012";
		case ECL_ERR_NUMERIC:
			return "22003";
		case ECL_ERR_READ_ONLY:
			return "25006";
		case ECL_ERR_HOST:
			return "58000";
		case ECL_ERR_RESOURCE:
			return "53200";
		case ECL_ERR_INVALID_ARG:
			return "22023";
		case ECL_ERR_MEMORY:
			return "EC008";
		case ECL_ERR_NONE:
			break;
	}
	/* an error value without a code is a bug in the caller */
	return "XX000";
}
