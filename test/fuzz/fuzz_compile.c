/*
 * fuzz_compile.c — libFuzzer harness 1: ECL source through the lexer,
 * parser and compiler; what compiles is loaded (it must verify), run on the
 * fixture host with small budgets, and checked (fuzz_common.h).
 *
 * Contract checked here: the compiler either fails with a well-formed error
 * that is not ECL_ERR_BYTECODE (that would mean it produced code its own
 * verifier rejects), or returns bytes that ecl_program_load accepts;
 * compiling the same source twice gives the same bytes.
 *
 * And ecl_compile_diagnostics (ecl check) agrees: it finds no error exactly
 * when ecl_compile succeeds (apart from a source of several policies, which
 * it checks one by one), every error it lists is well-formed and in order,
 * and the error ecl_compile reports is among them.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/compiler.h"
#include "fuzz_common.h"
#include "test_host.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_diagnostics(const char *src, size_t size, ecl_status st, const ecl_error *first)
{
	test_alloc	ta;
	ecl_diagnostics d;
	ecl_status	dst;
	bool		found = false;

	test_alloc_init(&ta);
	dst = ecl_compile_diagnostics(&ta.alloc, src, size, NULL, &d);
	test_alloc_release(&ta);
	FUZZ_CHECK((dst == ECL_OK) == (d.count == 0), "diagnostics status and count disagree");
	FUZZ_CHECK(d.count <= ECL_MAX_DIAGNOSTICS, "more than %d diagnostics", ECL_MAX_DIAGNOSTICS);
	for (uint32_t i = 0; i < d.count; i++)
	{
		fuzz_check_error(&d.items[i]);
		FUZZ_CHECK(i == 0 || d.items[i - 1].line < d.items[i].line ||
				   (d.items[i - 1].line == d.items[i].line &&
					d.items[i - 1].column <= d.items[i].column),
				   "diagnostics out of order");
		if (st != ECL_OK && d.items[i].line == first->line &&
			d.items[i].column == first->column &&
			strcmp(d.items[i].message, first->message) == 0)
			found = true;
	}
	if (st == ECL_OK)
		FUZZ_CHECK(dst == ECL_OK, "ecl_compile succeeds but diagnostics report %s",
				   d.items[0].message);
	else if (strncmp(first->message, "source defines", 14) != 0 &&
			 first->code != ECL_ERR_RESOURCE && !d.truncated)
		FUZZ_CHECK(found, "ecl_compile's error %u:%u %s is not among the diagnostics",
				   first->line, first->column, first->message);
}

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
		check_diagnostics(src, size, ECL_FAIL, &err);
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
	check_diagnostics(src, size, ECL_OK, &err);
	fuzz_maybe_save_bytecode(bytes, len);
	fuzz_run_program(p, true);
	test_alloc_release(&ta);
	free(src);
	return 0;
}
