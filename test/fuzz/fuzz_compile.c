/*
 * fuzz_compile.c — libFuzzer harness 1: ECL source through the lexer,
 * parser and compiler; what compiles is loaded (it must verify), run on the
 * fixture host with small budgets, and checked (fuzz_common.h).
 *
 * Contract checked here: the compiler either fails with a well-formed error
 * that is not ECL_ERR_BYTECODE (that would mean it produced code its own
 * verifier rejects), or returns bytes that ecl_program_load accepts;
 * compiling the same source twice gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "ecl/compiler.h"
#include "fuzz_common.h"
#include "test_host.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	test_alloc	ta;
	uint8_t    *bytes,
			   *again;
	size_t		len,
				again_len;
	ecl_error	err;
	ecl_program *p;
	/* an exact copy, so ASan catches any read past the end of the source */
	char	   *src = malloc(size ? size : 1);

	memcpy(src, data, size);
	/* callers clear the error, as src/pg does: ecl_error_set leaves .policy alone */
	ecl_error_clear(&err);
	test_alloc_init(&ta);
	if (ecl_compile(&ta.alloc, src, size, NULL, &bytes, &len, &err) != ECL_OK)
	{
		fuzz_check_error(&err);
		FUZZ_CHECK(err.code != ECL_ERR_BYTECODE,
				   "the compiler produced code its verifier rejects: %s", err.message);
		test_alloc_release(&ta);
		free(src);
		return 0;
	}
	FUZZ_CHECK(ecl_compile(&ta.alloc, src, size, NULL, &again, &again_len, &err) == ECL_OK,
			   "second compile failed: %s", err.message);
	FUZZ_CHECK(again_len == len && memcmp(again, bytes, len) == 0,
			   "compiling twice gave different bytecode");
	FUZZ_CHECK(ecl_program_load(&ta.alloc, bytes, len, 0, &p, &err) == ECL_OK,
			   "compiled bytecode does not load: %s", err.message);
	fuzz_maybe_save_bytecode(bytes, len);
	fuzz_run_program(p, true);
	test_alloc_release(&ta);
	free(src);
	return 0;
}
