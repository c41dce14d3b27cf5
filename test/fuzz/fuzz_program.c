/*
 * fuzz_program.c — libFuzzer harness 3: compiled programs, mutated as
 * programs rather than as bytes.
 *
 * Random bytes rarely get past the verifier, so most of harness 2's inputs
 * never reach the VM.  Here the custom mutator decodes the input (a
 * serialised program, seeded from compiled sources), changes its
 * instructions and constants — replaces an opcode or operand, inserts,
 * deletes or swaps instructions (keeping jump targets in step), adds
 * constants or locals — and serialises it through ecl_chunk_serialize, which
 * verifies it and computes max_stack.  Whatever it accepts is a verified
 * program with unusual instruction sequences (an ITER_GET before ITER_INIT, a
 * PICK deep into the stack, a GET_INDEX on a trust vector...), which the VM
 * must run to an outcome, deterministically and within its budgets.  One
 * mutation in eight is libFuzzer's own byte mutation, so the loader's error
 * paths stay covered as well.
 */
#include <stdlib.h>
#include <string.h>

#include "ecl/vm.h"
#include "fuzz_common.h"
#include "test_host.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t		LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
									unsigned int seed);
size_t		LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define MAX_MUTATED_CODE	4096
#define MAX_EXTRA_CONSTS	4
#define MAX_FUZZ_LOCALS		32

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
		fuzz_run_program(p, true);
	else
		fuzz_check_error(&err);
	test_alloc_release(&ta);
	return 0;
}

/* ------------------------------------------------------------- mutator */

typedef struct rng
{
	uint64_t	s;
} rng;

static uint32_t
rnd(rng *r, uint32_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return n ? (uint32_t) (r->s % n) : 0;
}

/* The program being mutated, as editable arrays. */
typedef struct work
{
	ecl_instr	code[MAX_MUTATED_CODE];
	uint32_t	lines[MAX_MUTATED_CODE];
	uint32_t	columns[MAX_MUTATED_CODE];
	uint32_t	ncode;
	ecl_value  *consts;
	uint32_t	nconst;
	uint32_t	nlocals;
} work;

/* An operand that fits the kind more often than not. */
static uint32_t
random_operand(rng *r, const work *w, ecl_operand_kind kind)
{
	switch (kind)
	{
		case ECL_OPK_NONE:
			return 0;
		case ECL_OPK_CONST:
		case ECL_OPK_STRING:
			return rnd(r, w->nconst + 1);
		case ECL_OPK_MSG:
			return rnd(r, 4) == 0 ? ECL_NO_ARG : rnd(r, w->nconst + 1);
		case ECL_OPK_LOCAL:
		case ECL_OPK_ITER:
			return rnd(r, w->nlocals + 1);
		case ECL_OPK_JUMP:
			return rnd(r, w->ncode + 1);
		case ECL_OPK_COUNT:
			return rnd(r, 5);
		case ECL_OPK_DIM:
			return rnd(r, 7);
		case ECL_OPK_DEPTH:
			return rnd(r, 6);
	}
	return 0;
}

static ecl_instr
random_instruction(rng *r, const work *w)
{
	ecl_opcode	op = (ecl_opcode) rnd(r, ECL_OP_COUNT);

	return ECL_INSTR(op, random_operand(r, w, ecl_opcode_table[op].operand));
}

static bool
is_jump(ecl_instr ins)
{
	return ecl_opcode_table[ECL_INSTR_OP(ins)].operand == ECL_OPK_JUMP;
}

/* Shift jump targets after inserting (delta 1) or deleting (-1) at pc. */
static void
fix_jumps(work *w, uint32_t pc, int delta)
{
	for (uint32_t i = 0; i < w->ncode; i++)
	{
		uint32_t	t;

		if (!is_jump(w->code[i]))
			continue;
		t = ECL_INSTR_ARG(w->code[i]);
		if (delta > 0 && t >= pc)
			t++;
		else if (delta < 0 && t > pc)
			t--;
		if (t >= w->ncode)
			t = w->ncode - 1;
		w->code[i] = ECL_INSTR(ECL_INSTR_OP(w->code[i]), t);
	}
}

static const char *const interesting_strings[] = {
	"amount", "st", "key", "list", "mine", "a.b", "kyc", "did:test:alice",
	"did:test:bob", "r", "omega", "policies_executed", "", "x"
};

static ecl_status
random_constant(rng *r, const ecl_alloc *a, ecl_value *out, ecl_error *err)
{
	static const double numbers[] = {0, 1, -1, 0.5, 2, 3, 1e308, -1e308, 5e-324,
	9007199254740993.0, 100, 6, 1e3};
	const char *s = interesting_strings[rnd(r, sizeof(interesting_strings) / sizeof(char *))];

	switch (rnd(r, 4))
	{
		case 0:
			*out = ecl_number(numbers[rnd(r, sizeof(numbers) / sizeof(double))]);
			return ECL_OK;
		case 1:
			return ecl_did_new(a, s, strlen(s), out, err);
		case 2:
			{
				double		dims[ECL_TRUST_DIMS] = {0.1, 0.2, 0.3, 0.4, 0.5, 1};

				return ecl_trust_new(a, dims, out, err);
			}
		default:
			return ecl_string_new(a, s, strlen(s), out, err);
	}
}

static void
mutate_once(rng *r, work *w, const ecl_alloc *a)
{
	uint32_t	pc = rnd(r, w->ncode);
	ecl_error	err;

	switch (rnd(r, 8))
	{
		case 0:					/* new operand */
			w->code[pc] = ECL_INSTR(ECL_INSTR_OP(w->code[pc]),
									random_operand(r, w, ecl_opcode_table[ECL_INSTR_OP(w->code[pc])].operand));
			break;
		case 1:					/* new instruction in place */
			w->code[pc] = random_instruction(r, w);
			break;
		case 2:					/* insert */
		case 3:
			if (w->ncode < MAX_MUTATED_CODE)
			{
				memmove(&w->code[pc + 1], &w->code[pc], (w->ncode - pc) * sizeof(ecl_instr));
				memmove(&w->lines[pc + 1], &w->lines[pc], (w->ncode - pc) * sizeof(uint32_t));
				memmove(&w->columns[pc + 1], &w->columns[pc], (w->ncode - pc) * sizeof(uint32_t));
				w->ncode++;
				fix_jumps(w, pc, 1);
				w->code[pc] = random_instruction(r, w);
			}
			break;
		case 4:					/* delete */
			if (w->ncode > 1)
			{
				memmove(&w->code[pc], &w->code[pc + 1], (w->ncode - pc - 1) * sizeof(ecl_instr));
				memmove(&w->lines[pc], &w->lines[pc + 1], (w->ncode - pc - 1) * sizeof(uint32_t));
				memmove(&w->columns[pc], &w->columns[pc + 1], (w->ncode - pc - 1) * sizeof(uint32_t));
				w->ncode--;
				fix_jumps(w, pc, -1);
			}
			break;
		case 5:					/* swap neighbours */
			if (pc + 1 < w->ncode)
			{
				ecl_instr	t = w->code[pc];

				w->code[pc] = w->code[pc + 1];
				w->code[pc + 1] = t;
			}
			break;
		case 6:					/* a new constant, used by an instruction */
			if (random_constant(r, a, &w->consts[w->nconst], &err) == ECL_OK)
			{
				ecl_opcode	op = rnd(r, 2) ? ECL_OP_PUSH_CONST : ECL_OP_LOAD_INPUT_FIELD;

				w->nconst++;
				w->code[pc] = ECL_INSTR(op, w->nconst - 1);
			}
			break;
		default:				/* another local */
			if (w->nlocals < MAX_FUZZ_LOCALS)
				w->nlocals++;
			break;
	}
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	rng			r = {((uint64_t) seed << 1) | 1};
	test_alloc	ta;
	ecl_error	err;
	ecl_program *p;
	static work w;
	size_t		result = 0;

	if (rnd(&r, 8) == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	test_alloc_init(&ta);
	if (ecl_program_load(&ta.alloc, data, size, 0, &p, &err) != ECL_OK ||
		p->ncode >= MAX_MUTATED_CODE)
	{
		test_alloc_release(&ta);
		return LLVMFuzzerMutate(data, size, max_size);
	}

	for (int attempt = 0; attempt < 8 && result == 0; attempt++)
	{
		ecl_chunk	chunk;
		uint8_t    *bytes;
		size_t		len;
		int			n = 1 + (int) rnd(&r, 3);

		w.ncode = p->ncode;
		memcpy(w.code, p->code, p->ncode * sizeof(ecl_instr));
		memcpy(w.lines, p->lines, p->ncode * sizeof(uint32_t));
		memcpy(w.columns, p->columns, p->ncode * sizeof(uint32_t));
		w.consts = ecl_malloc(&ta.alloc, (p->nconst + MAX_EXTRA_CONSTS) * sizeof(ecl_value));
		if (p->nconst)
			memcpy(w.consts, p->consts, p->nconst * sizeof(ecl_value));
		w.nconst = p->nconst;
		w.nlocals = p->nlocals;
		for (int i = 0; i < n && w.nconst < p->nconst + MAX_EXTRA_CONSTS; i++)
			mutate_once(&r, &w, &ta.alloc);

		if (ecl_chunk_init(&chunk, &ta.alloc, &err) != ECL_OK ||
			ecl_chunk_set_name(&chunk, p->name, strlen(p->name), &err) != ECL_OK)
			break;
		/* the constant pool as is: add_const would merge duplicates */
		chunk.consts = w.consts;
		chunk.nconst = w.nconst;
		chunk.const_cap = w.nconst;
		chunk.nlocals = w.nlocals;
		for (uint32_t pc = 0; pc < w.ncode; pc++)
			if (ecl_chunk_emit(&chunk, ECL_INSTR_OP(w.code[pc]), ECL_INSTR_ARG(w.code[pc]),
							   w.lines[pc], w.columns[pc], NULL, &err) != ECL_OK)
				break;
		if (chunk.ncode == w.ncode &&
			ecl_chunk_serialize(&chunk, &bytes, &len, &err) == ECL_OK &&
			len <= max_size)
		{
			memcpy(data, bytes, len);
			result = len;
		}
	}
	test_alloc_release(&ta);
	return result ? result : LLVMFuzzerMutate(data, size, max_size);
}
