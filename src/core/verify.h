/*
 * verify.h — the bytecode verifier shared by ecl_chunk_serialize (which
 * computes max_stack with it) and ecl_program_load (which checks the declared
 * max_stack against it).  Internal to src/core.
 */
#ifndef ECL_VERIFY_H
#define ECL_VERIFY_H

#include "ecl/bytecode.h"

/*
 * Locals are allocated per run, so a hand-made program must not be able to
 * ask for an absurd number of them.
 */
#define ECL_MAX_LOCALS 65536

/*
 * Check every instruction's opcode and operand, then follow every path from
 * pc 0: the stack depth at each pc must be the same on all paths, never
 * negative, and no path may fall off the end.  On success *max_stack is the
 * deepest the stack gets.  Failures are ECL_ERR_BYTECODE.
 */
ecl_status	ecl_verify_code(const ecl_alloc *a, const ecl_instr *code, uint32_t ncode,
							const ecl_value *consts, uint32_t nconst,
							uint32_t nlocals, uint32_t *max_stack, ecl_error *err);

#endif							/* ECL_VERIFY_H */
