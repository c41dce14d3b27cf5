/*
 * vm_internal.h — what the dispatch loop (vm.c) shares with the built-in
 * functions (builtins.c).  Internal to src/core.
 */
#ifndef ECL_VM_INTERNAL_H
#define ECL_VM_INTERNAL_H

#include "ecl/vm.h"

typedef struct ecl_vm_state
{
	const ecl_program *program;
	const ecl_run_ctx *ctx;
	const ecl_alloc *alloc;
	/* `trust` / CALLER_TRUST: loaded at most once per run */
	bool		have_caller_trust;
	ecl_value	caller_trust;
	/* `input`: materialised at most once per run */
	bool		have_input;
	ecl_value	input;
	/* ECL_BASE_MANA plus the I/O cost of every host call made so far */
	int64_t		mana;
} ecl_vm_state;

/*
 * Execute one built-in or host instruction (TRUST_NORM .. STORE_APPEND_LIST,
 * CALLER_TRUST).  args points at its ecl_opcode_table[op].pop arguments
 * (first argument first); *out receives the result when the instruction
 * pushes one.  Gas and the read-only check are done by the caller; mana is
 * charged here, where the host is actually called.
 * Errors leave line/column 0: the loop fills in the instruction's position.
 */
ecl_status	ecl_vm_builtin(ecl_vm_state *vm, ecl_opcode op, uint32_t arg,
						   const ecl_value *args, ecl_value *out, ecl_error *err);

/* Language name of the function an instruction implements ("store_put"). */
const char *ecl_vm_function_name(ecl_opcode op);

#endif							/* ECL_VM_INTERNAL_H */
