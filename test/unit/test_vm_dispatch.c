/*
 * test_vm_dispatch.c — the VM's two dispatch builds must behave exactly
 * alike.  vm.c is compiled a second time here with the other dispatch than
 * the regular build uses (the switch under clang, computed goto under GCC;
 * see vm.c) and its entry point renamed, and both are run on the same
 * programs (hand-written ones and randomly mutated verified ones); outcome,
 * value, gas, steps, mana and errors must be identical.
 */
#include "ecl/vm.h"

#if defined(__clang__)
#define ECL_VM_NO_COMPUTED_GOTO 1
#else
#define ECL_VM_FORCE_COMPUTED_GOTO 1
#endif
#define ecl_vm_run ecl_vm_run_other
#include "../../src/core/vm.c"
#undef ecl_vm_run
#undef ECL_VM_NO_COMPUTED_GOTO
#undef ECL_VM_FORCE_COMPUTED_GOTO

#include <stdlib.h>

#include "test_host.h"
#include "unit.h"

static const struct
{
	const char *consts;
	const char *code;
	uint32_t	nlocals;
}			programs[] = {
	{"[0, 100, 1]",
	 "PUSH_CONST 0; STORE_LOCAL 0; PUSH_CONST 0; STORE_LOCAL 1; LOAD_LOCAL 1; PUSH_CONST 1; LT;"
	 "JUMP_IF_FALSE 17; LOAD_LOCAL 0; LOAD_LOCAL 1; ADD; STORE_LOCAL 0; LOAD_LOCAL 1; PUSH_CONST 2; ADD;"
	 "STORE_LOCAL 1; JUMP 4; LOAD_LOCAL 0; RETURN", 2},
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
	{"[\"a\", 1, 0, \"b\"]",
	 "PUSH_CONST 0; PUSH_CONST 1; ADD; PUSH_CONST 3; GT; OR 7; PUSH_CONST 2; PUSH_CONST 1; PUSH_CONST 2;"
	 "DIV; PICK 1; EQ; NE; RETURN", 0},
	{NULL, "JUMP 0", 0},
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

typedef struct outcome_summary
{
	ecl_status	st;
	ecl_outcome outcome;
	char		value[256];
	char		message[128];
	int64_t		gas;
	int64_t		mana;
	uint64_t	steps;
	int64_t		layers[ECL_LAYER_COUNT];
	ecl_error_code code;
	char		errmsg[ECL_ERROR_MSG_MAX];
	uint32_t	line;
	uint32_t	column;
} outcome_summary;

static void
run_one(const uint8_t *bytes, size_t len, bool use_other, bool read_only, outcome_summary *out)
{
	test_run	t;
	ecl_program *p;
	char	   *json;
	size_t		jlen;
	ecl_error	err;

	memset(out, 0, sizeof(*out));
	test_run_init(&t, "{\"amount\": 50}");
	if (ecl_program_load(&t.ta.alloc, bytes, len, 0, &p, &t.err) != ECL_OK)
		abort();
	t.ctx.limits.gas_limit = 4000;
	t.ctx.limits.mana_limit = 500;
	t.ctx.limits.max_steps = 3000;
	t.ctx.read_only = read_only;
	out->st = use_other ? ecl_vm_run_other(p, &t.ctx, &t.res) : ecl_vm_run(p, &t.ctx, &t.res);
	out->outcome = t.res.outcome;
	if (ecl_json_write(&t.ta.alloc, t.res.value, &json, &jlen, &err) == ECL_OK)
		snprintf(out->value, sizeof(out->value), "%s", json);
	snprintf(out->message, sizeof(out->message), "%s", t.res.message ? t.res.message : "");
	out->gas = t.res.gas_used;
	out->mana = t.res.mana_used;
	out->steps = t.res.steps;
	memcpy(out->layers, t.res.gas_by_layer, sizeof(out->layers));
	out->code = t.res.error.code;
	snprintf(out->errmsg, sizeof(out->errmsg), "%s", t.res.error.message);
	out->line = t.res.error.line;
	out->column = t.res.error.column;
	test_run_free(&t);
}

UNIT_TEST(vm_both_dispatch_builds_agree)
{
	uint64_t	seed = 0x243F6A8885A308D3ull;
	int			compared = 0;

	for (int m = 0; m < 3000; m++)
	{
		size_t		which = (size_t) m % (sizeof(programs) / sizeof(programs[0]));
		test_alloc	ta;
		ecl_program *p;
		ecl_chunk	chunk;
		ecl_error	err;
		uint8_t    *bytes;
		size_t		len;
		outcome_summary a,
					b;
		bool		ro = (next_rand(&seed) & 3) == 0;

		test_alloc_init(&ta);
		UNIT_ASSERT(test_asm_load(&ta.alloc, programs[which].consts, programs[which].code,
								  programs[which].nlocals, &p, &err) == ECL_OK);
		UNIT_ASSERT(ecl_chunk_init(&chunk, &ta.alloc, &err) == ECL_OK);
		chunk.nlocals = p->nlocals;
		chunk.consts = (ecl_value *) p->consts;
		chunk.nconst = chunk.const_cap = p->nconst;
		for (uint32_t pc = 0; pc < p->ncode; pc++)
		{
			ecl_instr	ins = p->code[pc];

			/* the first round of each program runs unmodified */
			if (m >= (int) (sizeof(programs) / sizeof(programs[0])) && next_rand(&seed) % 5 == 0)
				ins = ECL_INSTR(next_rand(&seed) % ECL_OP_COUNT,
								next_rand(&seed) % 4 == 0 ? ECL_NO_ARG : next_rand(&seed) % 6);
			UNIT_ASSERT(ecl_chunk_emit(&chunk, ECL_INSTR_OP(ins), ECL_INSTR_ARG(ins), pc + 1, pc + 2,
									   NULL, &err) == ECL_OK);
		}
		if (ecl_chunk_serialize(&chunk, &bytes, &len, &err) == ECL_OK)
		{
			run_one(bytes, len, false, ro, &a);
			run_one(bytes, len, true, ro, &b);
			UNIT_ASSERT_EQ_INT(a.st, b.st);
			UNIT_ASSERT_EQ_INT(a.outcome, b.outcome);
			UNIT_ASSERT_EQ_STR(a.value, b.value);
			UNIT_ASSERT_EQ_STR(a.message, b.message);
			UNIT_ASSERT_EQ_INT(a.gas, b.gas);
			UNIT_ASSERT_EQ_INT(a.mana, b.mana);
			UNIT_ASSERT_EQ_INT(a.steps, b.steps);
			for (int l = 0; l < ECL_LAYER_COUNT; l++)
				UNIT_ASSERT_EQ_INT(a.layers[l], b.layers[l]);
			UNIT_ASSERT_EQ_INT(a.code, b.code);
			UNIT_ASSERT_EQ_STR(a.errmsg, b.errmsg);
			UNIT_ASSERT_EQ_INT(a.line, b.line);
			UNIT_ASSERT_EQ_INT(a.column, b.column);
			compared++;
		}
		test_alloc_release(&ta);
	}
	UNIT_ASSERT(compared > 100);
}
