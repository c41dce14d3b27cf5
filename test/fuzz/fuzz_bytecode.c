/*
 * fuzz_bytecode.c — libFuzzer harness 2: arbitrary bytes as serialised
 * bytecode (docs/sql-api.md, "The language" "a hand-crafted bytea must never crash the backend").
 *
 * ecl_program_load must either reject the bytes with ECL_ERR_BYTECODE (or
 * ECL_ERR_STACK for a program above the stack limit, ECL_ERR_RESOURCE for
 * sizes it cannot allocate) and a message, or return a program that the VM
 * runs to an outcome within its budgets (fuzz_common.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "test_host.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	test_alloc	ta;
	ecl_error	err;
	ecl_program *p;

	/* callers clear the error, as src/pg does: ecl_error_set leaves .policy alone */
	ecl_error_clear(&err);
	test_alloc_init(&ta);
	if (ecl_program_load(&ta.alloc, data, size, FUZZ_STACK_LIMIT, &p, &err) == ECL_OK)
		fuzz_run_program(p, false);
	else
	{
		fuzz_check_error(&err);
		FUZZ_CHECK(err.code == ECL_ERR_BYTECODE || err.code == ECL_ERR_STACK ||
				   err.code == ECL_ERR_RESOURCE,
				   "load failed with %s: %s", ecl_error_code_name(err.code), err.message);
	}
	test_alloc_release(&ta);
	return 0;
}
