/*
 * bytecode.h — compiled programs: building, the serialised format, loading
 * with verification, and disassembly (docs/sql-api.md, "The language").
 *
 * Serialised format (all integers little-endian):
 *
 *   "ECLB"          magic, 4 bytes
 *   u16 version     ECL_BYTECODE_VERSION
 *   u16 flags       0 (reserved; must be 0)
 *   u32 max_stack   maximum operand stack depth, as computed by the verifier
 *   u32 nlocals
 *   u32 name_len, name bytes (UTF-8, no NUL; "" in script mode)
 *   u32 nconst, constants (tagged, see ECL_CONST_*)
 *   u32 ncode, ncode instruction words (u32)
 *   ncode x (u32 line, u32 column)   source position of each instruction
 *   nothing after that (trailing bytes are an error)
 *
 * Constants: u8 tag, then for NUMBER an IEEE double (8 bytes, finite),
 * STRING/DID u32 len + UTF-8 bytes, TRUST 6 doubles, ARRAY u32 n + n
 * constants, OBJECT u32 n + n x (u32 keylen, key bytes, constant).
 * Nesting deeper than ECL_MAX_NESTING is rejected.
 */
#ifndef ECL_BYTECODE_H
#define ECL_BYTECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/error.h"
#include "ecl/opcodes.h"
#include "ecl/value.h"

#define ECL_BYTECODE_MAGIC		"ECLB"
#define ECL_BYTECODE_VERSION	1

enum
{
	ECL_CONST_NULL = 0,
	ECL_CONST_FALSE = 1,
	ECL_CONST_TRUE = 2,
	ECL_CONST_NUMBER = 3,
	ECL_CONST_STRING = 4,
	ECL_CONST_DID = 5,
	ECL_CONST_TRUST = 6,
	ECL_CONST_ARRAY = 7,
	ECL_CONST_OBJECT = 8
};

/*
 * A chunk is the compiler's growing output.  Everything is allocated from
 * chunk->alloc.
 */
typedef struct ecl_chunk
{
	const ecl_alloc *alloc;
	ecl_instr  *code;
	uint32_t   *lines;
	uint32_t   *columns;
	uint32_t	ncode;
	uint32_t	code_cap;
	ecl_value  *consts;
	uint32_t	nconst;
	uint32_t	const_cap;
	uint32_t	nlocals;
	char	   *name;			/* NUL-terminated; "" in script mode */
} ecl_chunk;

ecl_status	ecl_chunk_init(ecl_chunk *chunk, const ecl_alloc *a, ecl_error *err);

/* Append an instruction; *pc (may be NULL) receives its index. */
ecl_status	ecl_chunk_emit(ecl_chunk *chunk, ecl_opcode op, uint32_t arg,
						   uint32_t line, uint32_t column,
						   uint32_t *pc, ecl_error *err);

/* Point the jump at pc to target (backpatching). */
void		ecl_chunk_patch(ecl_chunk *chunk, uint32_t pc, uint32_t target);

/*
 * Add a constant (deduplicated: an equal constant of the same type is reused)
 * and return its index.  The value is referenced, not copied, so it must live
 * as long as the chunk.
 */
ecl_status	ecl_chunk_add_const(ecl_chunk *chunk, ecl_value v,
								uint32_t *index, ecl_error *err);

ecl_status	ecl_chunk_set_name(ecl_chunk *chunk, const char *name, size_t len,
							   ecl_error *err);

/*
 * Verify the chunk (same rules as loading) and serialise it.  A failure here
 * is a compiler bug and is reported as ECL_ERR_BYTECODE.
 */
ecl_status	ecl_chunk_serialize(const ecl_chunk *chunk, uint8_t **out,
								size_t *out_len, ecl_error *err);

/*
 * A loaded, verified program.  All arrays are owned by the allocator that
 * loaded it and are never modified afterwards, so one program may be run by
 * many runs (the per-backend cache keeps them).
 */
typedef struct ecl_program
{
	const ecl_instr *code;
	const uint32_t *lines;
	const uint32_t *columns;
	uint32_t	ncode;
	const ecl_value *consts;
	uint32_t	nconst;
	uint32_t	nlocals;
	uint32_t	max_stack;
	const char *name;			/* "" in script mode */
	bool		uses_host;		/* some instruction has ECL_F_HOST */
	bool		writes;			/* some instruction has ECL_F_WRITE */
	bool		reads_metrics;	/* GET_METRIC: statistics that every run moves */
} ecl_program;

/*
 * Decode and verify serialised bytecode.  Checks: magic, version, flags,
 * lengths against the buffer (no read past len), constants well-formed and
 * UTF-8 valid, every opcode known, every operand in range and of its kind
 * (string constants where ECL_OPK_STRING/MSG), jump targets inside the code,
 * a consistent stack depth at every pc over all paths, never below zero, the
 * computed maximum equal to the declared max_stack, no path falling off the
 * end.  Every failure is ECL_ERR_BYTECODE with a message saying what failed,
 * except a max_stack above stack_limit, which is ECL_ERR_STACK.
 */
ecl_status	ecl_program_load(const ecl_alloc *a, const uint8_t *bytes, size_t len,
							 uint32_t stack_limit, ecl_program **out, ecl_error *err);

/*
 * Disassembly: text of the operand of instruction pc ("" for none; constants
 * as JSON, truncated to fit; jumps as "-> 12"; dimensions as "r", "i", ..).
 */
void		ecl_disasm_operand(const ecl_program *p, uint32_t pc,
							   char *buf, size_t bufsize);

#endif							/* ECL_BYTECODE_H */
