/*
 * test_bytecode.c — chunk building, serialisation, loading with
 * verification (every failure message), disassembly, and a robustness loop
 * over truncated and mutated programs (docs/sql-api.md, "The language").
 */
#include <math.h>
#include <stdlib.h>

#include "ecl/bytecode.h"
#include "ecl/vm.h"
#include "test_host.h"
#include "unit.h"

/* ------------------------------------------------ raw bytecode builder */

typedef struct raw
{
	uint8_t		b[8192];
	size_t		n;
} raw;

static void
r_u8(raw *r, uint8_t v)
{
	r->b[r->n++] = v;
}

static void
r_u16(raw *r, uint16_t v)
{
	r_u8(r, (uint8_t) v);
	r_u8(r, (uint8_t) (v >> 8));
}

static void
r_u32(raw *r, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		r_u8(r, (uint8_t) (v >> (8 * i)));
}

static void
r_double(raw *r, double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, 8);
	for (int i = 0; i < 8; i++)
		r_u8(r, (uint8_t) (bits >> (8 * i)));
}

static void
r_bytes(raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void
r_str_const(raw *r, const char *s)
{
	r_u8(r, ECL_CONST_STRING);
	r_u32(r, (uint32_t) strlen(s));
	r_bytes(r, s, strlen(s));
}

/* header up to and including the constant count */
static void
r_header(raw *r, uint32_t max_stack, uint32_t nlocals, const char *name, uint32_t nconst)
{
	r->n = 0;
	r_bytes(r, "ECLB", 4);
	r_u16(r, ECL_BYTECODE_VERSION);
	r_u16(r, 0);
	r_u32(r, max_stack);
	r_u32(r, nlocals);
	r_u32(r, (uint32_t) strlen(name));
	r_bytes(r, name, strlen(name));
	r_u32(r, nconst);
}

/* code and the position table (line = pc + 1, column = 1) */
static void
r_code(raw *r, const ecl_instr *code, uint32_t ncode)
{
	r_u32(r, ncode);
	for (uint32_t i = 0; i < ncode; i++)
		r_u32(r, code[i]);
	for (uint32_t i = 0; i < ncode; i++)
	{
		r_u32(r, i + 1);
		r_u32(r, 1);
	}
}

#define I(op, arg) ECL_INSTR(ECL_OP_##op, arg)

/* load raw bytes, expect failure with the given code and message */
#define ASSERT_LOAD_FAILS(r_, limit_, code_, msg_) do { \
	test_alloc	ta_; \
	ecl_program *p_; \
	ecl_error	e_; \
	ecl_status	st_; \
	test_alloc_init(&ta_); \
	ecl_error_clear(&e_); \
	st_ = ecl_program_load(&ta_.alloc, (r_)->b, (r_)->n, limit_, &p_, &e_); \
	test_alloc_release(&ta_); \
	UNIT_ASSERT_MSG(st_ == ECL_FAIL, "loaded, expected: %s", msg_); \
	UNIT_ASSERT_EQ_INT(e_.code, code_); \
	UNIT_ASSERT_EQ_STR(e_.message, msg_); \
} while (0)

#define ASSERT_LOADS(r_) do { \
	test_alloc	ta_; \
	ecl_program *p_; \
	ecl_error	e_; \
	ecl_status	st_; \
	test_alloc_init(&ta_); \
	ecl_error_clear(&e_); \
	st_ = ecl_program_load(&ta_.alloc, (r_)->b, (r_)->n, 0, &p_, &e_); \
	test_alloc_release(&ta_); \
	UNIT_ASSERT_MSG(st_ == ECL_OK, "load failed: %s", e_.message); \
} while (0)

/* ------------------------------------------------------------ round trip */

UNIT_TEST(bytecode_round_trip)
{
	test_alloc	ta;
	ecl_chunk	chunk;
	ecl_error	err;
	ecl_value	consts[9];
	uint32_t	idx;
	uint8_t    *bytes;
	size_t		len;
	ecl_program *p;
	double		dims[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};

	test_alloc_init(&ta);
	consts[0] = ecl_null();
	consts[1] = ecl_bool(false);
	consts[2] = ecl_bool(true);
	consts[3] = ecl_number(-2.5e-3);
	UNIT_ASSERT(ecl_string_new(&ta.alloc, "h\xc3\xa9llo", 6, &consts[4], &err) == ECL_OK);
	UNIT_ASSERT(ecl_did_new(&ta.alloc, "did:x", 5, &consts[5], &err) == ECL_OK);
	UNIT_ASSERT(ecl_trust_new(&ta.alloc, dims, &consts[6], &err) == ECL_OK);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "[1,[\"a\",null]]", 14, &consts[7], &err) == ECL_OK);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "{\"z\":1,\"a\":{\"b\":[]}}", 20, &consts[8], &err) == ECL_OK);

	UNIT_ASSERT(ecl_chunk_init(&chunk, &ta.alloc, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_set_name(&chunk, "transfer_guard", 14, &err) == ECL_OK);
	for (int i = 0; i < 9; i++)
	{
		UNIT_ASSERT(ecl_chunk_add_const(&chunk, consts[i], &idx, &err) == ECL_OK);
		UNIT_ASSERT_EQ_INT(idx, i);
	}
	chunk.nlocals = 3;
	/* push all 9 constants, pop 8, store, emit, return */
	for (int i = 0; i < 9; i++)
		UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_PUSH_CONST, (uint32_t) i, 10 + i, 5, NULL, &err) == ECL_OK);
	for (int i = 0; i < 8; i++)
		UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_POP, 0, 20, 1, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_STORE_LOCAL, 2, 21, 2, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_PUSH_NULL, 0, 22, 3, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_EMIT, 4, 22, 4, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_LOAD_LOCAL, 2, 23, 9, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_RETURN, 0, 23, 1, &idx, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(idx, 21);
	UNIT_ASSERT(ecl_chunk_serialize(&chunk, &bytes, &len, &err) == ECL_OK);

	/* header fields at their documented offsets */
	UNIT_ASSERT(memcmp(bytes, "ECLB", 4) == 0);
	UNIT_ASSERT_EQ_INT(bytes[4] | (bytes[5] << 8), ECL_BYTECODE_VERSION);
	UNIT_ASSERT_EQ_INT(bytes[6] | (bytes[7] << 8), 0);
	UNIT_ASSERT_EQ_INT(bytes[8], 9);	/* max_stack */
	UNIT_ASSERT_EQ_INT(bytes[12], 3);	/* nlocals */
	UNIT_ASSERT_EQ_INT(bytes[16], 14);	/* name length */
	UNIT_ASSERT(memcmp(bytes + 20, "transfer_guard", 14) == 0);

	UNIT_ASSERT(ecl_program_load(&ta.alloc, bytes, len, 1024, &p, &err) == ECL_OK);
	UNIT_ASSERT_EQ_STR(p->name, "transfer_guard");
	UNIT_ASSERT_EQ_INT(p->ncode, 22);
	UNIT_ASSERT_EQ_INT(p->nconst, 9);
	UNIT_ASSERT_EQ_INT(p->nlocals, 3);
	UNIT_ASSERT_EQ_INT(p->max_stack, 9);
	UNIT_ASSERT(p->uses_host);
	UNIT_ASSERT(p->writes);
	for (int i = 0; i < 9; i++)
	{
		UNIT_ASSERT_EQ_INT(p->consts[i].type, consts[i].type);
		UNIT_ASSERT_MSG(ecl_equal(p->consts[i], consts[i]), "constant %d differs", i);
	}
	UNIT_ASSERT_EQ_STR(p->consts[8].u.obj->keys[0]->data, "z");	/* order kept */
	for (uint32_t pc = 0; pc < p->ncode; pc++)
	{
		UNIT_ASSERT_EQ_INT(p->code[pc], chunk.code[pc]);
		UNIT_ASSERT_EQ_INT(p->lines[pc], chunk.lines[pc]);
		UNIT_ASSERT_EQ_INT(p->columns[pc], chunk.columns[pc]);
	}
	/* serialising is deterministic */
	{
		uint8_t    *again;
		size_t		len2;

		UNIT_ASSERT(ecl_chunk_serialize(&chunk, &again, &len2, &err) == ECL_OK);
		UNIT_ASSERT(len2 == len && memcmp(again, bytes, len) == 0);
	}
	test_alloc_release(&ta);
}

UNIT_TEST(bytecode_pure_program_flags)
{
	test_alloc	ta;
	ecl_program *p;
	ecl_error	err;

	test_alloc_init(&ta);
	UNIT_ASSERT(test_asm_load(&ta.alloc, "[1]", "PUSH_CONST 0; RETURN", 0, &p, &err) == ECL_OK);
	UNIT_ASSERT(!p->uses_host);
	UNIT_ASSERT(!p->writes);
	UNIT_ASSERT(test_asm_load(&ta.alloc, NULL, "CALLER_TRUST; RETURN", 0, &p, &err) == ECL_OK);
	UNIT_ASSERT(p->uses_host);
	UNIT_ASSERT(!p->writes);
	test_alloc_release(&ta);
}

UNIT_TEST(bytecode_chunk_constants_dedup)
{
	test_alloc	ta;
	ecl_chunk	chunk;
	ecl_error	err;
	ecl_value	a,
				b,
				s,
				d;
	uint32_t	i1,
				i2;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_chunk_init(&chunk, &ta.alloc, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, ecl_number(0), &i1, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, ecl_number(-0.0), &i2, &err) == ECL_OK);
	UNIT_ASSERT(i1 != i2);		/* 0 and -0 are different constants */
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, ecl_number(0), &i2, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(i1, i2);
	UNIT_ASSERT(ecl_string_new(&ta.alloc, "did:a", 5, &s, &err) == ECL_OK);
	UNIT_ASSERT(ecl_did_new(&ta.alloc, "did:a", 5, &d, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, s, &i1, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, d, &i2, &err) == ECL_OK);
	UNIT_ASSERT(i1 != i2);		/* string and did are different constants */
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "[1,{\"a\":2}]", 11, &a, &err) == ECL_OK);
	UNIT_ASSERT(ecl_json_parse(&ta.alloc, "[1,{\"a\":2}]", 11, &b, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, a, &i1, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_add_const(&chunk, b, &i2, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(i1, i2);
	UNIT_ASSERT_EQ_INT(chunk.nconst, 5);
	/* operands must fit 24 bits */
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_JUMP, 0x1000000, 1, 1, NULL, &err) == ECL_FAIL);
	test_alloc_release(&ta);
}

UNIT_TEST(bytecode_patch_and_serialize_refuses_bad_chunks)
{
	test_alloc	ta;
	ecl_chunk	chunk;
	ecl_error	err;
	uint32_t	jump;
	uint8_t    *bytes;
	size_t		len;

	test_alloc_init(&ta);
	UNIT_ASSERT(ecl_chunk_init(&chunk, &ta.alloc, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_PUSH_TRUE, 0, 1, 1, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_JUMP_IF_FALSE, 0, 1, 1, &jump, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_PUSH_TRUE, 0, 2, 1, NULL, &err) == ECL_OK);
	/* no RETURN yet: falls off the end */
	UNIT_ASSERT(ecl_chunk_serialize(&chunk, &bytes, &len, &err) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_BYTECODE);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_RETURN, 0, 2, 1, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_PUSH_FALSE, 0, 3, 1, NULL, &err) == ECL_OK);
	UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_OP_RETURN, 0, 3, 1, NULL, &err) == ECL_OK);
	ecl_chunk_patch(&chunk, jump, 4);
	UNIT_ASSERT_EQ_INT(ECL_INSTR_ARG(chunk.code[jump]), 4);
	UNIT_ASSERT_EQ_INT(ECL_INSTR_OP(chunk.code[jump]), ECL_OP_JUMP_IF_FALSE);
	UNIT_ASSERT(ecl_chunk_serialize(&chunk, &bytes, &len, &err) == ECL_OK);
	test_alloc_release(&ta);
}

/* ------------------------------------------------- verification failures */

UNIT_TEST(bytecode_header_failures)
{
	raw			r;
	ecl_instr	code[] = {I(PUSH_TRUE, 0), I(RETURN, 0)};

	r.n = 0;
	r_bytes(&r, "ECLX", 4);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "bad magic: not ECL bytecode");
	r.n = 2;
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "bad magic: not ECL bytecode");

	r_header(&r, 1, 0, "p", 0);
	r_code(&r, code, 2);
	ASSERT_LOADS(&r);
	r.b[4] = 2;
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "unsupported bytecode version 2 (expected 1)");
	r.b[4] = 1;
	r.b[6] = 2;
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "reserved flags 0x2 are not zero");
	r.b[6] = 0;
	/* trailing byte */
	r_u8(&r, 0);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "2 instructions need 24 bytes of code and positions, 25 remain");
	/* truncated header */
	r.n = 10;
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "bytecode truncated at offset 8 reading max_stack");
	/* declared max_stack wrong */
	r_header(&r, 2, 0, "p", 0);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "declared max_stack 2 does not match the computed 1");
	/* name: length past the end, invalid UTF-8, NUL byte */
	r_header(&r, 1, 0, "p", 0);
	r.b[16] = 200;
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE,
					  "policy name length 200 at offset 16 exceeds the remaining 5 bytes");
	r_header(&r, 1, 0, "\xff", 0);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "policy name at offset 20 is not valid UTF-8");
	r_header(&r, 1, 0, "a", 0);
	r.b[20] = 0;
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "policy name contains a NUL byte");
	/* too many locals */
	r_header(&r, 1, 70000, "", 0);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "program declares 70000 locals, the limit is 65536");
	/* no instructions */
	r_header(&r, 0, 0, "", 0);
	r_code(&r, code, 0);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "program has no instructions");
	/* a huge instruction count does not allocate */
	r_header(&r, 1, 0, "", 0);
	r_u32(&r, 0xFFFFFFFFu);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE,
					  "4294967295 instructions need 51539607540 bytes of code and positions, 0 remain");
}

UNIT_TEST(bytecode_constant_failures)
{
	raw			r;
	ecl_instr	code[] = {I(PUSH_CONST, 0), I(RETURN, 0)};

	r_header(&r, 1, 0, "", 1);
	r_u8(&r, ECL_CONST_NUMBER);
	r_double(&r, INFINITY);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "non-finite number in number constant at offset 25");

	r_header(&r, 1, 0, "", 1);
	r_u8(&r, ECL_CONST_TRUST);
	for (int i = 0; i < 5; i++)
		r_double(&r, 0.5);
	r_double(&r, NAN);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "non-finite number in trust constant at offset 65");

	r_header(&r, 1, 0, "", 1);
	r_u8(&r, 42);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "unknown constant tag 42 at offset 24");

	r_header(&r, 1, 0, "", 1);
	r_u8(&r, ECL_CONST_STRING);
	r_u32(&r, 2);
	r_bytes(&r, "\xc3\x28", 2);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "string constant at offset 29 is not valid UTF-8");

	r_header(&r, 1, 0, "", 1);
	r_u8(&r, ECL_CONST_ARRAY);
	r_u32(&r, 1000000);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE,
					  "array constant of 1000000 elements at offset 25 exceeds the remaining 28 bytes");

	r_header(&r, 1, 0, "", 1);
	r_u8(&r, ECL_CONST_OBJECT);
	r_u32(&r, 2);
	r_u32(&r, 1);
	r_bytes(&r, "k", 1);
	r_u8(&r, ECL_CONST_NULL);
	r_u32(&r, 1);
	r_bytes(&r, "k", 1);
	r_u8(&r, ECL_CONST_TRUE);
	r_code(&r, code, 2);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "duplicate key in object constant at offset 35");

	/* nesting: 256 levels load, 257 do not */
	for (int depth = 256; depth <= 257; depth++)
	{
		r_header(&r, 1, 0, "", 1);
		for (int i = 0; i < depth; i++)
		{
			r_u8(&r, ECL_CONST_ARRAY);
			r_u32(&r, 1);
		}
		r_u8(&r, ECL_CONST_NULL);
		r_code(&r, code, 2);
		if (depth == 256)
			ASSERT_LOADS(&r);
		else
			ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE,
							  "constant nested deeper than 256 levels at offset 1309");
	}

	/* truncated inside a constant */
	r_header(&r, 1, 0, "", 1);
	r_u8(&r, ECL_CONST_NUMBER);
	r_u8(&r, 0);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "bytecode truncated at offset 25 reading number constant");
	/* constant count larger than the buffer */
	r_header(&r, 1, 0, "", 100);
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "constant count 100 exceeds the remaining 0 bytes");
}

UNIT_TEST(bytecode_operand_failures)
{
	raw			r;

#define ONE_PROGRAM(nlocals_, maxstack_, ...) do { \
	ecl_instr	c_[] = {__VA_ARGS__}; \
	r_header(&r, maxstack_, nlocals_, "", 2); \
	r_str_const(&r, "name"); \
	r_u8(&r, ECL_CONST_NUMBER); \
	r_double(&r, 7); \
	r_code(&r, c_, sizeof(c_) / sizeof(c_[0])); \
} while (0)

	ONE_PROGRAM(0, 1, I(PUSH_CONST, 1), I(RETURN, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 1, ECL_INSTR(200, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "unknown opcode 200 at pc 0");
	ONE_PROGRAM(0, 1, ECL_INSTR(ECL_OP_COUNT, 0), I(RETURN, 0));
	{
		char		want[64];

		snprintf(want, sizeof(want), "unknown opcode %d at pc 0", (int) ECL_OP_COUNT);
		ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, want);
	}
	ONE_PROGRAM(0, 1, I(PUSH_CONST, 2), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "constant index 2 out of range at pc 0");
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 5), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "unexpected operand 5 for PUSH_TRUE at pc 0");
	ONE_PROGRAM(0, 1, I(LOAD_INPUT_FIELD, 1), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "operand 1 of LOAD_INPUT_FIELD at pc 0 is not a string constant");
	ONE_PROGRAM(0, 1, I(LOAD_INPUT_FIELD, 0), I(RETURN, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 0, I(DENY, ECL_NO_ARG));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 0, I(DENY, 1));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "operand 1 of DENY at pc 0 is not a string constant");
	ONE_PROGRAM(0, 0, I(DENY, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(2, 1, I(LOAD_LOCAL, 2), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "local slot 2 out of range at pc 0");
	ONE_PROGRAM(2, 1, I(PUSH_NULL, 0), I(ITER_INIT, 1), I(PUSH_NULL, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "iterator slot 1 out of range at pc 1");
	ONE_PROGRAM(2, 1, I(PUSH_NULL, 0), I(ITER_INIT, 0), I(PUSH_NULL, 0), I(RETURN, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 1, I(JUMP, 99), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "jump target 99 out of range at pc 0");
	ONE_PROGRAM(0, 1, I(PUSH_NULL, 0), I(TRUST_DIM, 6), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "trust dimension 6 out of range at pc 1");
	ONE_PROGRAM(0, 2, I(PUSH_NULL, 0), I(PICK, 1), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "stack underflow at pc 1: PICK 1 with stack depth 1");
	ONE_PROGRAM(0, 2, I(PUSH_NULL, 0), I(PICK, 0), I(RETURN, 0));
	ASSERT_LOADS(&r);			/* values left below a RETURN are fine */
	ONE_PROGRAM(0, 1, I(ADD, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "stack underflow at pc 0: ADD needs 2 values, stack has 0");
	ONE_PROGRAM(0, 1, I(PUSH_NULL, 0), I(MAKE_ARRAY, 3), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "stack underflow at pc 1: MAKE_ARRAY needs 3 values, stack has 1");
	ONE_PROGRAM(0, 1, I(PUSH_NULL, 0), I(MAKE_OBJECT, 1), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "stack underflow at pc 1: MAKE_OBJECT needs 2 values, stack has 1");
	ONE_PROGRAM(0, 2, I(PUSH_CONST, 0), I(PUSH_NULL, 0), I(MAKE_OBJECT, 1), I(RETURN, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 1, I(MAKE_OBJECT, ECL_ARG_MAX), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "stack underflow at pc 0: MAKE_OBJECT needs 33554428 values, stack has 0");
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(JUMP_IF_FALSE, 3), I(PUSH_NULL, 0), I(PUSH_TRUE, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "inconsistent stack depth at pc 3: 1 from pc 2, 0 before");
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(POP, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "execution falls off the end after pc 1 (POP)");
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(JUMP_IF_TRUE, 0), I(PUSH_TRUE, 0), I(RETURN, 0));
	ASSERT_LOADS(&r);			/* a loop back to pc 0 with depth 0 */
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(JUMP_IF_TRUE, 1), I(PUSH_TRUE, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "inconsistent stack depth at pc 1: 0 from pc 1, 1 before");
	/* AND/OR leave their operand when the branch is taken */
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(AND, 3), I(PUSH_FALSE, 0), I(RETURN, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(OR, 2), I(PUSH_FALSE, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "inconsistent stack depth at pc 2: 0 from pc 1, 1 before");
	/* unreachable code is checked for operands, not for depth */
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(RETURN, 0), I(ADD, 0));
	ASSERT_LOADS(&r);
	ONE_PROGRAM(0, 1, I(PUSH_TRUE, 0), I(RETURN, 0), I(JUMP, 77));
	ASSERT_LOAD_FAILS(&r, 0, ECL_ERR_BYTECODE, "jump target 77 out of range at pc 2");
	/* the stack limit of the embedder */
	ONE_PROGRAM(0, 3, I(PUSH_TRUE, 0), I(PUSH_TRUE, 0), I(PUSH_TRUE, 0), I(RETURN, 0));
	ASSERT_LOAD_FAILS(&r, 2, ECL_ERR_STACK, "program needs a stack of 3 values, the limit is 2");
	{
		test_alloc	ta;
		ecl_program *p;
		ecl_error	e;

		test_alloc_init(&ta);
		UNIT_ASSERT(ecl_program_load(&ta.alloc, r.b, r.n, 3, &p, &e) == ECL_OK);
		UNIT_ASSERT_EQ_INT(p->max_stack, 3);
		test_alloc_release(&ta);
	}
#undef ONE_PROGRAM
}

/* ------------------------------------------------------------ disassembly */

UNIT_TEST(bytecode_disassembly_operands)
{
	test_alloc	ta;
	ecl_program *p;
	ecl_error	err;
	char		buf[64];
	char		tiny[8];

	test_alloc_init(&ta);
	UNIT_ASSERT(test_asm_load(&ta.alloc,
							  "[\"amount\", 1.5, [1,\"x\"], \"a very long string constant that will not fit\"]",
							  "LOAD_INPUT_FIELD 0; PUSH_CONST 1; PUSH_CONST 2; POP; ADD; CALLER_TRUST;"
							  "TRUST_DIM 5; POP; STORE_LOCAL 1; LOAD_LOCAL 1; JUMP_IF_FALSE 12; DENY none;"
							  "PUSH_CONST 3; PICK 0; MAKE_ARRAY 2; RETURN",
							  2, &p, &err) == ECL_OK);
	ecl_disasm_operand(p, 0, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "\"amount\"");
	ecl_disasm_operand(p, 1, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "1.5");
	ecl_disasm_operand(p, 2, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "[1,\"x\"]");
	ecl_disasm_operand(p, 4, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "");
	ecl_disasm_operand(p, 6, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "omega");
	ecl_disasm_operand(p, 8, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "1");
	ecl_disasm_operand(p, 10, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "-> 12");
	ecl_disasm_operand(p, 11, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "");
	ecl_disasm_operand(p, 13, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "0");
	ecl_disasm_operand(p, 14, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "2");
	ecl_disasm_operand(p, 12, tiny, sizeof(tiny));
	UNIT_ASSERT_EQ_STR(tiny, "\"a v...");
	ecl_disasm_operand(p, 99, buf, sizeof(buf));
	UNIT_ASSERT_EQ_STR(buf, "");
	test_alloc_release(&ta);
}

/* ------------------------------------------------------------- robustness */

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Programs that between them use most instructions and every constant type. */
static const struct
{
	const char *consts;
	const char *code;
	uint32_t	nlocals;
}			fuzz_seeds[] = {
	{"[\"amount\", 100, \"too much\", [1, 2, 3], {\"k\": [true, null]}, \"kyc\"]",
	 "LOAD_INPUT_FIELD 0; PUSH_CONST 1; LT; REQUIRE 2; PUSH_CONST 3; ITER_INIT 0;"
	 "ITER_HAS 0; JUMP_IF_FALSE 14; ITER_GET 0; STORE_LOCAL 2; LOAD_LOCAL 2; LOG; JUMP 6; PUSH_NULL;"
	 "LOAD_CALLER; PUSH_CONST 5; HAS_CREDENTIAL; AND 20; CALLER_TRUST; TRUST_NORM; POP;"
	 "PUSH_CONST 4; GET_FIELD 0; PUSH_CONST 4; PUSH_CONST 5; GET_INDEX; MAKE_ARRAY 2; RETURN", 3},
	{"[\"s\", \"k\", 2, 0.5]",
	 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_NULL; STORE_PUT; POP;"
	 "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_GET; PUSH_CONST 3; PUSH_CONST 3; PUSH_CONST 3;"
	 "PUSH_CONST 3; PUSH_CONST 3; PUSH_CONST 3; TRUST_CREATE; DUP; TRUST_COMBINE; TRUST_DIM 2;"
	 "ADD; PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 3; STORE_APPEND_LIST; SWAP; POP; EMIT 0;"
	 "PUSH_CONST 2; SQRT; PUSH_CONST 2; DIV; PUSH_CONST 3; MOD; NEG; NOT; RETURN", 0},
	{"[\"a.b\", \"st\", \"key\", {\"x\": 1}]",
	 "PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 0; PUSH_CONST 3; STORE_PUT_NESTED; POP;"
	 "PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 0; STORE_GET_NESTED; PUSH_CONST 1; PUSH_CONST 3;"
	 "MAKE_OBJECT 1; KEYS; LEN; OR 15; PUSH_NULL; RETURN", 0},
};

static void
run_loaded(const uint8_t *bytes, size_t len, uint64_t *seed, int *loaded, int *ran_ok)
{
	test_run	t;
	ecl_program *p;
	ecl_status	st;

	test_run_init(&t, "{\"amount\": 50}");
	if (ecl_program_load(&t.ta.alloc, bytes, len, 64, &p, &t.err) == ECL_OK)
	{
		(*loaded)++;
		t.ctx.limits.gas_limit = 3000;
		t.ctx.limits.mana_limit = 400;
		t.ctx.limits.max_steps = 400;
		t.ctx.read_only = (xorshift(seed) & 1) != 0;
		st = ecl_vm_run(p, &t.ctx, &t.res);
		if (st == ECL_OK)
		{
			(*ran_ok)++;
			if (t.res.outcome == ECL_OUTCOME_ERROR)
				abort();
		}
		else if (t.res.outcome != ECL_OUTCOME_ERROR || t.res.error.code == ECL_ERR_NONE)
			abort();
	}
	else if (t.err.code != ECL_ERR_BYTECODE && t.err.code != ECL_ERR_STACK)
		abort();
	test_run_free(&t);
}

UNIT_TEST(bytecode_robustness_truncation_and_mutation)
{
	uint64_t	seed = 0x9E3779B97F4A7C15ull;
	int			loaded = 0,
				ran_ok = 0,
				tried = 0;

	for (size_t s = 0; s < sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]); s++)
	{
		test_alloc	ta;
		uint8_t    *bytes;
		size_t		len;
		ecl_error	err;
		uint8_t    *copy;
		int			before = loaded;

		test_alloc_init(&ta);
		UNIT_ASSERT_MSG(test_asm(&ta.alloc, fuzz_seeds[s].consts, fuzz_seeds[s].code,
								 fuzz_seeds[s].nlocals, "fuzz", &bytes, &len, &err) == ECL_OK,
						"seed %zu: %s", s, err.message);
		copy = malloc(len);

		/* the intact program loads and runs */
		run_loaded(bytes, len, &seed, &loaded, &ran_ok);
		UNIT_ASSERT_EQ_INT(loaded, before + 1);

		/* every truncation fails cleanly (exact copies so ASan sees the end) */
		for (size_t cut = 0; cut < len; cut++)
		{
			test_alloc	t2;
			ecl_program *p;
			uint8_t    *part = malloc(cut ? cut : 1);

			memcpy(part, bytes, cut);
			test_alloc_init(&t2);
			UNIT_ASSERT_MSG(ecl_program_load(&t2.alloc, part, cut, 0, &p, &err) == ECL_FAIL,
							"seed %zu truncated to %zu loaded", s, cut);
			UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_BYTECODE);
			test_alloc_release(&t2);
			free(part);
			tried++;
		}

		/* random byte mutations: fail cleanly or load and run within limits */
		for (int m = 0; m < 5000; m++)
		{
			int			flips = 1 + (int) (xorshift(&seed) % 3);

			memcpy(copy, bytes, len);
			for (int f = 0; f < flips; f++)
			{
				size_t		at = xorshift(&seed) % len;

				copy[at] = (uint8_t) (m % 4 == 0 ? xorshift(&seed) : copy[at] ^ (1u << (xorshift(&seed) % 8)));
			}
			run_loaded(copy, len, &seed, &loaded, &ran_ok);
			tried++;
		}
		free(copy);
		test_alloc_release(&ta);
	}

	/*
	 * Mutate instruction words before serialising: the serialiser verifies
	 * and computes max_stack, so whatever it accepts is a verified program
	 * with random operations, which then must run without crashing.
	 */
	for (int m = 0; m < 10000; m++)
	{
		test_alloc	ta;
		ecl_chunk	chunk;
		ecl_error	err;
		uint8_t    *bytes;
		size_t		len;
		size_t		s = (size_t) m % (sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]));
		ecl_program *p;

		test_alloc_init(&ta);
		UNIT_ASSERT(test_asm(&ta.alloc, fuzz_seeds[s].consts, fuzz_seeds[s].code,
							 fuzz_seeds[s].nlocals, "fuzz", &bytes, &len, &err) == ECL_OK);
		UNIT_ASSERT(ecl_program_load(&ta.alloc, bytes, len, 0, &p, &err) == ECL_OK);
		UNIT_ASSERT(ecl_chunk_init(&chunk, &ta.alloc, &err) == ECL_OK);
		chunk.nlocals = p->nlocals;
		for (uint32_t i = 0; i < p->nconst; i++)
			chunk.consts = (ecl_value *) p->consts, chunk.nconst = p->nconst, chunk.const_cap = p->nconst;
		for (uint32_t pc = 0; pc < p->ncode; pc++)
		{
			ecl_instr	ins = p->code[pc];

			if (xorshift(&seed) % 6 == 0)
				ins = ECL_INSTR(xorshift(&seed) % ECL_OP_COUNT,
								xorshift(&seed) % 3 == 0 ? ECL_NO_ARG : xorshift(&seed) % 8);
			UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_INSTR_OP(ins), ECL_INSTR_ARG(ins), pc + 1, 1, NULL, &err) == ECL_OK);
		}
		if (ecl_chunk_serialize(&chunk, &bytes, &len, &err) == ECL_OK)
			run_loaded(bytes, len, &seed, &loaded, &ran_ok);
		else
			UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_BYTECODE);
		tried++;
		test_alloc_release(&ta);
	}
	/* the loop must have exercised both outcomes */
	UNIT_ASSERT(loaded > 20);
	UNIT_ASSERT(ran_ok > 5);
	if (getenv("ECL_UNIT_VERBOSE"))
		printf("    robustness: %d inputs, %d loaded, %d ran to an outcome\n", tried, loaded, ran_ok);
}
