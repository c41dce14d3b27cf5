/*
 * fuzz_common.h — shared by the libFuzzer harnesses in test/fuzz.
 *
 * Every harness ends up running a verified program: fuzz_run_program runs it
 * on the unit tests' fixture host (test/unit/test_host.c) with small budgets
 * and checks the VM's contract, aborting (so libFuzzer reports a crash) when
 * it is broken:
 *   - ecl_vm_run returns ECL_OK exactly when the outcome is not ERROR, and an
 *     error always carries a code and a NUL-terminated message;
 *   - a finished run stayed within its gas and step budgets;
 *   - a read-only run never reached a write of the host;
 *   - the result value serialises as JSON;
 *   - running the same program again on a fresh host gives the same outcome,
 *     value, gas, steps and error (the VM is deterministic).
 * It also disassembles every instruction into a small buffer.
 */
#ifndef ECL_FUZZ_COMMON_H
#define ECL_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/bytecode.h"

/* Budgets small enough that one input runs in well under a millisecond. */
#define FUZZ_GAS_LIMIT		20000
#define FUZZ_MANA_LIMIT		3000
#define FUZZ_MAX_STEPS		4000
#define FUZZ_STACK_LIMIT	256

/* abort() with a message when cond is false (libFuzzer records the input) */
#define FUZZ_CHECK(cond, ...) \
	do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); } while (0)

void		fuzz_fail(const char *file, int line, const char *cond, const char *fmt,...)
			__attribute__((noreturn, format(printf, 4, 5)));

/* Run p as described above; twice when check_determinism. */
void		fuzz_run_program(const ecl_program *p, bool check_determinism);

/* The error is well-formed: a code, NUL-terminated message and policy. */
void		fuzz_check_error(const ecl_error *err);

/* Disassemble every instruction (small buffer: truncation paths too). */
void		fuzz_disassemble(const ecl_program *p);

/*
 * When the environment variable FUZZ_SAVE_BYTECODE names a directory, save
 * bytes there (name = FNV-1a hash of the content).  fuzz_compile uses it to
 * turn the source seed corpus into a bytecode seed corpus.
 */
void		fuzz_maybe_save_bytecode(const uint8_t *bytes, size_t len);

#endif							/* ECL_FUZZ_COMMON_H */
