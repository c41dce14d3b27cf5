/*
 * bytecode.h — compiled programs: building, the serialised format, loading
 * with verification, and disassembly (docs/sql-api.md, "The language").
 *
 * Serialised format (all integers little-endian):
 *
 *   "ECLB"          magic, 4 bytes
 *   u16 version     ECL_BYTECODE_VERSION
 *   u16 flags       ECL_BYTECODE_F_INPUTS or 0 (other bits must be 0)
 *   u32 max_stack   maximum operand stack depth, as computed by the verifier
 *   u32 nlocals
 *   u32 name_len, name bytes (UTF-8, no NUL; "" in script mode)
 *   only with ECL_BYTECODE_F_INPUTS, the declared inputs:
 *     u32 ninputs, ninputs x (u32 len, name bytes, u8 type, u8 optional)
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

/*
 * The policy declares its inputs.  A flag rather than a new version: every
 * program without a declaration serialises exactly as before (same bytes,
 * same hash), old bytecode keeps loading, and a loader that predates the
 * flag refuses a declaring program instead of running it unchecked.
 */
#define ECL_BYTECODE_F_INPUTS	0x0001

/* At most this many declared inputs (the compiler and the loader agree). */
#define ECL_MAX_INPUTS			256

/* Types of declared inputs (docs/language.md, "Declared inputs"). */
typedef enum ecl_input_type
{
	ECL_IN_ANY = 0,
	ECL_IN_BOOL,
	ECL_IN_NUMBER,
	ECL_IN_STRING,
	ECL_IN_DID,
	ECL_IN_ARRAY,
	ECL_IN_OBJECT,
	ECL_IN_TRUST_VECTOR,
	ECL_IN_TYPE_COUNT
} ecl_input_type;

/* "any", "bool", ... "trust_vector" */
extern const char *const ecl_input_type_names[ECL_IN_TYPE_COUNT];

/* The type called name, or -1. */
int			ecl_input_type_lookup(const char *name, size_t len);

/* A declared input of a loaded program or a chunk. */
typedef struct ecl_input_decl
{
	const char *name;			/* NUL-terminated */
	uint32_t	len;
	uint8_t		type;			/* ecl_input_type */
	bool		optional;		/* may be absent or null */
} ecl_input_decl;

/*
 * Does v (not null) have the declared type?  did: a DID, or a string of the
 * form did:method:id; trust_vector: a trust value, or an object with a
 * number for each of r, i, c, p, v and omega.
 */
bool		ecl_input_type_matches(ecl_input_type t, const ecl_value *v);

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
	bool		declares_inputs;
	ecl_input_decl *inputs;
	uint32_t	ninputs;
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
	bool		declares_inputs;	/* the VM checks the input first */
	const ecl_input_decl *inputs;
	uint32_t	ninputs;
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
