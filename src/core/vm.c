/*
 * vm.c — the ECLVM dispatch loop (docs/language.md §7, §8).
 *
 * One loop over verified instruction words, dispatched either by computed
 * goto through a label table generated from ECL_OPCODES or by a switch whose
 * cases are the same handlers.  Both are selected by the CASE/NEXT macros
 * below, so the handler code exists once.
 *
 * Which one is faster depends on the compiler, so the choice is measured, not
 * assumed (bench/vm, a compute loop, x86-64, PostgreSQL's CFLAGS): clang
 * keeps one indirect jump per handler and computed goto wins (18.8 vs
 * 20.1 ns per loop iteration); GCC 12 merges the handlers' dispatch jumps
 * into one shared indirect jump, and there the switch wins clearly (21.8 vs
 * 28.3 ns).  So clang gets computed goto and everything else the switch;
 * -DECL_VM_FORCE_COMPUTED_GOTO or -DECL_VM_NO_COMPUTED_GOTO override that.
 *
 * Per instruction the loop charges gas from a table, counts the step and
 * makes one comparison (gas against gas_check); the gas limit, the step
 * limit and the interrupt hook are all looked at behind that one branch, so
 * the common path stays at a few machine instructions.  Numbers, booleans, locals and jumps are handled inline;
 * mixed-type operators go to ecl_value_binary, built-in functions and host
 * calls to builtins.c.  The operand stack and the locals live in the C
 * frame of ecl_vm_run when they are small (else one allocation per run);
 * number and boolean values never allocate.  The loop keeps an instruction
 * pointer, not an index, so the fetch is one load from a register; the
 * index (for the source line of an error or a deny) is computed on those
 * slow paths only.
 *
 * The verifier guarantees that every operand is in range and the stack never
 * under- or overflows, so the handlers do not check that again.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "value_util.h"
#include "vm_internal.h"

#if !defined(ECL_VM_NO_COMPUTED_GOTO) && defined(__GNUC__) && \
	(defined(__clang__) || defined(ECL_VM_FORCE_COMPUTED_GOTO))
#define ECL_VM_COMPUTED_GOTO 1
#endif

/*
 * Gas and steps share one 64-bit counter in the loop: gas above bit
 * COUNT_SHIFT, the steps since the last slow-path visit below it.  Each
 * instruction adds its op_cost (gas << COUNT_SHIFT | 1), so charging gas and
 * counting the step is one addition, and one comparison checks every limit.
 * The slow path runs at least every ECL_INTERRUPT_INTERVAL steps and moves
 * the step bits out, so they never carry into the gas bits.  Gas limits are
 * capped at MAX_GAS_LIMIT (about 8.8e12), far beyond any real budget.
 */
#define COUNT_SHIFT		20
#define STEP_MASK		((UINT64_C(1) << COUNT_SHIFT) - 1)
#define MAX_GAS_LIMIT	((INT64_C(1) << (63 - COUNT_SHIFT)) - 1)

static const uint64_t op_cost[ECL_OP_COUNT] = {
#define ECL_X_COST(name, operand, gas, layer, pop, push, jpush, flags, doc) \
	((uint64_t) (gas) << COUNT_SHIFT) | 1,
	ECL_OPCODES(ECL_X_COST)
#undef ECL_X_COST
};

static const uint16_t op_gas[ECL_OP_COUNT] = {
#define ECL_X_GAS(name, operand, gas, layer, pop, push, jpush, flags, doc) gas,
	ECL_OPCODES(ECL_X_GAS)
#undef ECL_X_GAS
};

/*
 * A run whose stack and locals together fit in this many values keeps them
 * in ecl_vm_run's own frame (1 KiB) instead of allocating them: most
 * policies are that small, and run once per row.
 */
#define SMALL_FRAME_VALUES 64

/* ECL_INTERRUPT_INTERVAL steps must fit below COUNT_SHIFT */
typedef char ecl_vm_interval_fits[(ECL_INTERRUPT_INTERVAL < (1 << COUNT_SHIFT)) ? 1 : -1];

/* Index of a trust dimension named k, or -1 (docs/language.md §5). */
static int
trust_dim_index(const ecl_string *k)
{
	if (k->len == 1)
	{
		switch (k->data[0])
		{
			case 'r':
			case 'R':
				return 0;
			case 'i':
			case 'I':
				return 1;
			case 'c':
			case 'C':
				return 2;
			case 'p':
			case 'P':
				return 3;
			case 'v':
			case 'V':
				return 4;
		}
		return -1;
	}
	if ((k->len == 5 && memcmp(k->data, "omega", 5) == 0) ||
		(k->len == 2 && memcmp(k->data, "\xCE\xA9", 2) == 0))	/* Ω */
		return 5;
	return -1;
}

static const char *const dim_names[ECL_TRUST_DIMS] = {"r", "i", "c", "p", "v", "omega"};

/*
 * The gas level above which the loop next looks at its limits: the gas limit,
 * or lower so that the loop stops by the step that is the next multiple of
 * ECL_INTERRUPT_INTERVAL or the first step beyond max_steps, whichever comes
 * first.  Every instruction costs at least 1 gas, so after k more steps gas
 * has grown by at least k.
 */
static int64_t
next_gas_check(int64_t gas, uint64_t steps, int64_t gas_limit, uint64_t max_steps)
{
	uint64_t	target = (steps / ECL_INTERRUPT_INTERVAL + 1) * ECL_INTERRUPT_INTERVAL;
	int64_t		check;

	if (max_steps != 0 && max_steps + 1 > steps && max_steps + 1 < target)
		target = max_steps + 1;
	check = gas + (int64_t) (target - steps) - 1;
	return check < gas_limit ? check : gas_limit;
}

/*
 * Values on the stack and in the locals are written in halves: the type
 * byte by one store, the payload by another (NUMERIC_RESULT writes only the
 * payload; an input source writes whatever its compiler chose).  A 16-byte
 * load of such a value right after those stores cannot be served from the
 * store buffer and stalls (perf showed STORE_LOCAL's load as the hottest
 * instruction of a short policy).  So the handlers that copy a value, and
 * the truthiness test, read it as the same two halves.
 */
#define COPY_VALUE(dst_, src_) do { \
	ecl_value  *d_ = (dst_); \
	const ecl_value *s_ = (src_); \
	d_->type = s_->type; \
	memcpy(&d_->u, &s_->u, sizeof(d_->u)); \
} while (0)

static bool
truthy_slow(const ecl_value *v)
{
	return ecl_truthy(*v);
}

static inline bool
truthy_fast(const ecl_value *v)
{
	return v->type == ECL_T_BOOL ? v->u.b : truthy_slow(v);
}

/* A host call whose result the next instruction's trace step reports. */
typedef struct trace_pending
{
	bool		active;
	ecl_trace_event ev;
	ecl_value	args[ECL_TRACE_MAX_ARGS];
} trace_pending;

/*
 * One traced instruction, before it executes (its gas already counted):
 * report the previous host call's result, then what this instruction
 * decides.  sp is the stack as the instruction finds it.
 */
static void
trace_step(const ecl_program *p, const ecl_run_ctx *ctx, trace_pending *pend,
		   uint32_t pc, uint32_t op, ecl_instr ins, const ecl_value *sp, int64_t gas)
{
	const ecl_opcode_info *info = &ecl_opcode_table[op];
	ecl_trace_event ev;

	if (pend->active)
	{
		const ecl_opcode_info *pinfo = &ecl_opcode_table[pend->ev.op];

		pend->ev.value = pinfo->push ? sp[-1] : ecl_null();
		pend->ev.gas = gas - op_gas[op];
		pend->ev.args = pend->args;
		ctx->trace(ctx->trace_ctx, &pend->ev);
		pend->active = false;
	}
	memset(&ev, 0, sizeof(ev));
	ev.op = (ecl_opcode) op;
	ev.pc = pc;
	ev.line = p->lines[pc];
	ev.column = p->columns[pc];
	ev.gas = gas;
	ev.value = ecl_null();
	switch ((ecl_opcode) op)
	{
		case ECL_OP_REQUIRE:
		case ECL_OP_ASSERT:
			ev.kind = ECL_TRACE_REQUIRE;
			ev.value = sp[-1];
			ev.passed = truthy_fast(&sp[-1]);
			if (op == ECL_OP_REQUIRE && ECL_INSTR_ARG(ins) != ECL_NO_ARG)
				ev.message = p->consts[ECL_INSTR_ARG(ins)].u.str->data;
			break;
		case ECL_OP_JUMP_IF_FALSE:
		case ECL_OP_JUMP_IF_TRUE:
			ev.kind = ECL_TRACE_BRANCH;
			ev.value = ecl_bool(truthy_fast(&sp[-1]));
			ev.jumped = truthy_fast(&sp[-1]) == (op == ECL_OP_JUMP_IF_TRUE);
			break;
		case ECL_OP_AND:
		case ECL_OP_OR:
			ev.kind = ECL_TRACE_SHORT_CIRCUIT;
			ev.value = sp[-1];
			ev.jumped = truthy_fast(&sp[-1]) == (op == ECL_OP_OR);
			break;
		case ECL_OP_RETURN:
			ev.kind = ECL_TRACE_RETURN;
			ev.value = sp[-1];
			ev.passed = truthy_fast(&sp[-1]);
			break;
		case ECL_OP_DENY:
			ev.kind = ECL_TRACE_DENY;
			if (ECL_INSTR_ARG(ins) != ECL_NO_ARG)
				ev.message = p->consts[ECL_INSTR_ARG(ins)].u.str->data;
			break;
		default:
			if (info->flags & ECL_F_HOST)
			{
				ev.kind = ECL_TRACE_HOST_CALL;
				ev.nargs = info->pop > ECL_TRACE_MAX_ARGS ? ECL_TRACE_MAX_ARGS : info->pop;
				for (uint32_t i = 0; i < ev.nargs; i++)
					pend->args[i] = sp[(int) i - (int) info->pop];
				pend->ev = ev;
				pend->active = true;
			}
			return;
	}
	ctx->trace(ctx->trace_ctx, &ev);
}

/*
 * A declaring program's input, checked once before the first instruction:
 * each declared field present (unless optional) and of its type.  One pass
 * over the declarations; the lazy source converts only those fields.
 */
static ecl_status
check_declared_inputs(const ecl_program *p, const ecl_run_ctx *ctx, ecl_error *err)
{
	for (uint32_t i = 0; i < p->ninputs; i++)
	{
		const ecl_input_decl *d = &p->inputs[i];
		ecl_value	v = ecl_null();
		bool		found = false;

		if (ctx->input.get_field != NULL &&
			ctx->input.get_field(ctx->input.ctx, ctx->alloc, d->name, d->len,
								 &v, &found, err) != ECL_OK)
			return ECL_FAIL;
		if (!found || v.type == ECL_T_NULL)
		{
			if (d->optional)
				continue;
			return ecl_error_set(err, ECL_ERR_TYPE, 0, 0,
								 "%s input field '%s' (declared %s)",
								 found ? "null" : "missing", d->name,
								 ecl_input_type_names[d->type]);
		}
		if (!ecl_input_type_matches((ecl_input_type) d->type, &v))
			return ecl_error_set(err, ECL_ERR_TYPE, 0, 0,
								 "input field '%s' must be %s%s, got %s",
								 d->name,
								 d->type == ECL_IN_ARRAY || d->type == ECL_IN_ANY ? "an " : "a ",
								 ecl_input_type_names[d->type],
								 ecl_type_name((ecl_type) v.type));
	}
	return ECL_OK;
}

ecl_status
ecl_vm_run(const ecl_program *p, const ecl_run_ctx *ctx, ecl_run_result *res)
{
	const ecl_alloc *A = ctx->alloc;
	const ecl_instr *code = p->code;
	const ecl_value *consts = p->consts;
	ecl_error  *err = &res->error;
	ecl_vm_state vm;
	ecl_value	small_frame[SMALL_FRAME_VALUES];
	ecl_value  *frame = NULL;	/* the stack, then the locals */
	ecl_value  *locals;
	ecl_value  *sp;
	const ecl_instr *ip = NULL; /* NULL until the loop starts */
	ecl_instr	ins = 0;
	uint32_t	op = 0;
	int64_t		gas = 0;
	const int64_t gas_limit = ctx->limits.gas_limit < 0 ? 0 :
		ctx->limits.gas_limit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : ctx->limits.gas_limit;
	const uint64_t max_steps = ctx->limits.max_steps;
	uint64_t	steps = 0;
	uint64_t	count = 0;		/* gas << COUNT_SHIFT | steps since steps */
	uint64_t	count_check;	/* slow path when count exceeds this */
	int64_t		layer_gas[ECL_LAYER_COUNT] = {0};
	ecl_status	status = ECL_OK;
	ecl_value	tmp;
	trace_pending pend;

#ifdef ECL_VM_COMPUTED_GOTO
	static const void *const dispatch_table[ECL_OP_COUNT] = {
#define ECL_X_LABEL(name, operand, gas, layer, pop, push, jpush, flags, doc) &&L_##name,
		ECL_OPCODES(ECL_X_LABEL)
#undef ECL_X_LABEL
	};
#define CASE(name) L_##name:
#define NEXT() do { FETCH_AND_CHARGE(); goto *dispatch_table[op]; } while (0)
#else
#define CASE(name) case ECL_OP_##name:
#define NEXT() continue
#endif

#define FETCH_AND_CHARGE() \
	ins = *ip; \
	op = ECL_INSTR_OP(ins); \
	count += op_cost[op]; \
	if (ecl_unlikely(count > count_check)) \
		goto periodic

#define ARG ECL_INSTR_ARG(ins)
#define FAIL(code_, ...) do { ecl_error_set(err, code_, 0, 0, __VA_ARGS__); goto fail; } while (0)
#define CHECK(call_) do { if (ecl_unlikely((call_) != ECL_OK)) goto fail; } while (0)
#define BOTH_NUMBERS() (sp[-2].type == ECL_T_NUMBER && sp[-1].type == ECL_T_NUMBER)
#define SLOW_BINARY(op_) do { \
	CHECK(ecl_value_binary(A, op_, sp[-2], sp[-1], &sp[-2], err)); \
	sp--; \
} while (0)
#define NUMERIC_RESULT(expr_) do { \
	double		r_ = (expr_); \
	if (ecl_unlikely(!isfinite(r_))) \
		FAIL(ECL_ERR_NUMERIC, "numeric overflow"); \
	sp[-2].u.num = r_; \
	sp--; \
} while (0)
#define COMPARE(op_, cop_) do { \
	if (ecl_likely(BOTH_NUMBERS())) \
	{ \
		sp[-2] = ecl_bool(sp[-2].u.num cop_ sp[-1].u.num); \
		sp--; \
	} \
	else \
		SLOW_BINARY(op_); \
} while (0)

	/*
	 * Every field of *res is set below or at finish; the error gets what
	 * ecl_error_clear resets (not its 320 bytes of text buffers, which
	 * nobody reads while code is ECL_ERR_NONE and which start with a NUL).
	 */
	res->outcome = ECL_OUTCOME_PASSED;
	res->value = ecl_null();
	res->message = NULL;
	ecl_error_clear(err);
	pend.active = false;		/* read at fail:, which the checks below may reach */
	vm.program = p;
	vm.ctx = ctx;
	vm.alloc = A;
	vm.have_caller_trust = false;
	vm.caller_trust = ecl_null();
	vm.have_input = false;
	vm.input = ecl_null();
	vm.mana = ECL_BASE_MANA;

	if (vm.mana > ctx->limits.mana_limit)
	{
		ecl_error_set(err, ECL_ERR_MANA, 0, 0, "mana limit %lld exceeded",
					  (long long) ctx->limits.mana_limit);
		goto fail;
	}
	/* a cached program may have been loaded under a larger limit */
	if (ctx->limits.max_stack_depth > 0 && p->max_stack > ctx->limits.max_stack_depth)
	{
		ecl_error_set(err, ECL_ERR_STACK, 0, 0, "program needs a stack of %u values, the limit is %u",
					  p->max_stack, ctx->limits.max_stack_depth);
		goto fail;
	}
	if ((size_t) p->max_stack + p->nlocals <= SMALL_FRAME_VALUES)
		frame = small_frame;
	else
	{
		frame = ecl_malloc(A, ((size_t) p->max_stack + p->nlocals) * sizeof(ecl_value));
		if (frame == NULL)
		{
			ecl_alloc_failed(A, err, "the stack of a run");
			goto fail;
		}
	}
	/* a load before any store (tampered bytecode) must read null, not junk */
	locals = frame + p->max_stack;
	for (uint32_t i = 0; i < p->nlocals; i++)
		locals[i] = ecl_null();
	if (ecl_unlikely(p->declares_inputs) &&
		check_declared_inputs(p, ctx, err) != ECL_OK)
		goto fail;
	sp = frame;
	ip = code;
	count_check = ((uint64_t) next_gas_check(0, 0, gas_limit, max_steps) << COUNT_SHIFT) | STEP_MASK;
	if (ctx->trace != NULL || ctx->coverage != NULL)
		count_check = 0;		/* every instruction through periodic */

#ifdef ECL_VM_COMPUTED_GOTO
	NEXT();
resume:
	goto *dispatch_table[op];
#else
	for (;;)
	{
		FETCH_AND_CHARGE();
resume:
		switch ((ecl_opcode) op)
		{
#endif

	/* ------------------------------------------------ constants and stack */
	CASE(PUSH_CONST)
	{
		*sp++ = consts[ARG];
		ip++;
		NEXT();
	}
	CASE(PUSH_NULL)
	{
		*sp++ = ecl_null();
		ip++;
		NEXT();
	}
	CASE(PUSH_TRUE)
	{
		*sp++ = ecl_bool(true);
		ip++;
		NEXT();
	}
	CASE(PUSH_FALSE)
	{
		*sp++ = ecl_bool(false);
		ip++;
		NEXT();
	}
	CASE(POP)
	{
		sp--;
		ip++;
		NEXT();
	}
	CASE(DUP)
	{
		COPY_VALUE(&sp[0], &sp[-1]);
		sp++;
		ip++;
		NEXT();
	}
	CASE(SWAP)
	{
		COPY_VALUE(&tmp, &sp[-1]);
		COPY_VALUE(&sp[-1], &sp[-2]);
		COPY_VALUE(&sp[-2], &tmp);
		ip++;
		NEXT();
	}
	CASE(PICK)
	{
		COPY_VALUE(&sp[0], &sp[-1 - (int64_t) ARG]);
		sp++;
		ip++;
		NEXT();
	}
	CASE(LOAD_LOCAL)
	{
		COPY_VALUE(sp, &locals[ARG]);
		sp++;
		ip++;
		NEXT();
	}
	CASE(STORE_LOCAL)
	{
		sp--;
		COPY_VALUE(&locals[ARG], sp);
		ip++;
		NEXT();
	}

	/* -------------------------------------------------------- run context */
	CASE(LOAD_CALLER)
	{
		*sp++ = ctx->caller;
		ip++;
		NEXT();
	}
	CASE(LOAD_REALM)
	{
		*sp++ = ctx->realm;
		ip++;
		NEXT();
	}
	CASE(LOAD_INPUT)
	{
		if (!vm.have_input)
		{
			if (ctx->input.materialize == NULL)
				CHECK(ecl_object_new(A, 0, &vm.input, err));
			else
				CHECK(ctx->input.materialize(ctx->input.ctx, A, &vm.input, err));
			vm.have_input = true;
		}
		*sp++ = vm.input;
		ip++;
		NEXT();
	}
	CASE(LOAD_INPUT_FIELD)
	{
		const ecl_string *name = consts[ARG].u.str;
		bool		found = false;

		/*
		 * The field goes straight into its stack slot (free above sp): the
		 * next instructions read it from there, so nothing is copied from
		 * a temporary the callee has just written.
		 */
		if (ecl_likely(ctx->input.get_field != NULL))
			CHECK(ctx->input.get_field(ctx->input.ctx, A, name->data, name->len,
									   sp, &found, err));
		if (ecl_unlikely(!found))
			FAIL(ECL_ERR_TYPE, "missing input field '%s'", name->data);
		sp++;
		ip++;
		NEXT();
	}

	/* ------------------------------------------------------ member access */
	CASE(LOAD_INPUT_OPTIONAL)
	{
		const ecl_string *name = consts[ARG].u.str;
		bool		found = false;

		if (ecl_likely(ctx->input.get_field != NULL))
			CHECK(ctx->input.get_field(ctx->input.ctx, A, name->data, name->len,
									   sp, &found, err));
		if (!found)
			*sp = ecl_null();
		sp++;
		ip++;
		NEXT();
	}
	CASE(GET_FIELD)
	{
		const ecl_string *k = consts[ARG].u.str;
		int			d;

		if (sp[-1].type == ECL_T_OBJECT)
		{
			const ecl_value *f = ecl_object_get(sp[-1].u.obj, k->data, k->len);

			sp[-1] = f ? *f : ecl_null();
		}
		else if (sp[-1].type == ECL_T_TRUST && (d = trust_dim_index(k)) >= 0)
			sp[-1] = ecl_number(sp[-1].u.trust->dim[d]);
		else
			FAIL(ECL_ERR_TYPE, "cannot read field '%s' of %s", k->data,
				 ecl_type_name((ecl_type) sp[-1].type));
		ip++;
		NEXT();
	}
	CASE(GET_INDEX)
	{
		ecl_value	c = sp[-2];
		ecl_value	i = sp[-1];

		if (c.type == ECL_T_ARRAY && i.type == ECL_T_NUMBER)
		{
			if (i.u.num != floor(i.u.num))
				FAIL(ECL_ERR_TYPE, "array index must be an integer, got %g", i.u.num);
			tmp = i.u.num >= 0 && i.u.num < c.u.arr->len
				? c.u.arr->items[(uint32_t) i.u.num] : ecl_null();
		}
		else if (c.type == ECL_T_OBJECT && ecl_is_stringish(i))
		{
			const ecl_value *f = ecl_object_get(c.u.obj, i.u.str->data, i.u.str->len);

			tmp = f ? *f : ecl_null();
		}
		else
			FAIL(ECL_ERR_TYPE, "cannot index %s with %s",
				 ecl_type_name((ecl_type) c.type), ecl_type_name((ecl_type) i.type));
		sp--;
		sp[-1] = tmp;
		ip++;
		NEXT();
	}
	CASE(TRUST_DIM)
	{
		if (sp[-1].type != ECL_T_TRUST)
			FAIL(ECL_ERR_TYPE, "cannot read trust dimension '%s' of %s",
				 dim_names[ARG], ecl_type_name((ecl_type) sp[-1].type));
		sp[-1] = ecl_number(sp[-1].u.trust->dim[ARG]);
		ip++;
		NEXT();
	}

	/* ---------------------------------------------- arithmetic and logic */
	CASE(ADD)
	{
		if (ecl_likely(BOTH_NUMBERS()))
			NUMERIC_RESULT(sp[-2].u.num + sp[-1].u.num);
		else
			SLOW_BINARY(ECL_OP_ADD);
		ip++;
		NEXT();
	}
	CASE(SUB)
	{
		if (ecl_likely(BOTH_NUMBERS()))
			NUMERIC_RESULT(sp[-2].u.num - sp[-1].u.num);
		else
			SLOW_BINARY(ECL_OP_SUB);
		ip++;
		NEXT();
	}
	CASE(MUL)
	{
		if (ecl_likely(BOTH_NUMBERS()))
			NUMERIC_RESULT(sp[-2].u.num * sp[-1].u.num);
		else
			SLOW_BINARY(ECL_OP_MUL);
		ip++;
		NEXT();
	}
	CASE(DIV)
	{
		if (ecl_likely(BOTH_NUMBERS() && sp[-1].u.num != 0))
			NUMERIC_RESULT(sp[-2].u.num / sp[-1].u.num);
		else
			SLOW_BINARY(ECL_OP_DIV);
		ip++;
		NEXT();
	}
	CASE(MOD)
	{
		if (ecl_likely(BOTH_NUMBERS() && sp[-1].u.num != 0))
			NUMERIC_RESULT(fmod(sp[-2].u.num, sp[-1].u.num));
		else
			SLOW_BINARY(ECL_OP_MOD);
		ip++;
		NEXT();
	}
	CASE(NEG)
	{
		if (ecl_likely(sp[-1].type == ECL_T_NUMBER))
			sp[-1].u.num = -sp[-1].u.num;
		else
			CHECK(ecl_value_unary(A, ECL_OP_NEG, sp[-1], &sp[-1], err));
		ip++;
		NEXT();
	}
	CASE(EQ)
	{
		if (ecl_likely(BOTH_NUMBERS()))
			sp[-2] = ecl_bool(sp[-2].u.num == sp[-1].u.num);
		else
			sp[-2] = ecl_bool(ecl_equal(sp[-2], sp[-1]));
		sp--;
		ip++;
		NEXT();
	}
	CASE(NE)
	{
		if (ecl_likely(BOTH_NUMBERS()))
			sp[-2] = ecl_bool(sp[-2].u.num != sp[-1].u.num);
		else
			sp[-2] = ecl_bool(!ecl_equal(sp[-2], sp[-1]));
		sp--;
		ip++;
		NEXT();
	}
	CASE(LT)
	{
		COMPARE(ECL_OP_LT, <);
		ip++;
		NEXT();
	}
	CASE(LE)
	{
		COMPARE(ECL_OP_LE, <=);
		ip++;
		NEXT();
	}
	CASE(GT)
	{
		COMPARE(ECL_OP_GT, >);
		ip++;
		NEXT();
	}
	CASE(GE)
	{
		COMPARE(ECL_OP_GE, >=);
		ip++;
		NEXT();
	}
	CASE(NOT)
	{
		sp[-1] = ecl_bool(!truthy_fast(&sp[-1]));
		ip++;
		NEXT();
	}
	CASE(TO_BOOL)
	{
		sp[-1] = ecl_bool(truthy_fast(&sp[-1]));
		ip++;
		NEXT();
	}

	/* ------------------------------------------------------- control flow */
	CASE(JUMP)
	{
		ip = code + ARG;
		NEXT();
	}
	CASE(JUMP_IF_FALSE)
	{
		sp--;
		ip = truthy_fast(sp) ? ip + 1 : code + ARG;
		NEXT();
	}
	CASE(JUMP_IF_TRUE)
	{
		sp--;
		ip = truthy_fast(sp) ? code + ARG : ip + 1;
		NEXT();
	}
	CASE(AND)
	{
		if (!truthy_fast(&sp[-1]))
		{
			sp[-1] = ecl_bool(false);
			ip = code + ARG;
		}
		else
		{
			sp--;
			ip++;
		}
		NEXT();
	}
	CASE(OR)
	{
		if (truthy_fast(&sp[-1]))
		{
			sp[-1] = ecl_bool(true);
			ip = code + ARG;
		}
		else
		{
			sp--;
			ip++;
		}
		NEXT();
	}
	CASE(REQUIRE)
	{
		sp--;
		if (ecl_unlikely(!truthy_fast(sp)))
			goto deny;
		ip++;
		NEXT();
	}
	CASE(ASSERT)
	{
		sp--;
		if (ecl_unlikely(!truthy_fast(sp)))
			goto deny;
		ip++;
		NEXT();
	}
	CASE(DENY)
	{
		goto deny;
	}
	CASE(RETURN)
	{
		sp--;
		COPY_VALUE(&res->value, sp);
		res->outcome = truthy_fast(sp) ? ECL_OUTCOME_PASSED : ECL_OUTCOME_DENIED;
		goto finish;
	}
	CASE(ITER_INIT)
	{
		sp--;
		if (sp->type != ECL_T_ARRAY)
			FAIL(ECL_ERR_TYPE, "for loop needs an array, got %s",
				 ecl_type_name((ecl_type) sp->type));
		locals[ARG] = *sp;
		locals[ARG + 1] = ecl_number(0);
		ip++;
		NEXT();
	}
	CASE(ITER_HAS)
	{
		const ecl_value *it = &locals[ARG];

		if (it[0].type != ECL_T_ARRAY || it[1].type != ECL_T_NUMBER)
			FAIL(ECL_ERR_TYPE, "iterator in slot %u is not initialised", ARG);
		*sp++ = ecl_bool(it[1].u.num < it[0].u.arr->len);
		ip++;
		NEXT();
	}
	CASE(ITER_GET)
	{
		ecl_value  *it = &locals[ARG];
		double		i;

		if (it[0].type != ECL_T_ARRAY || it[1].type != ECL_T_NUMBER)
			FAIL(ECL_ERR_TYPE, "iterator in slot %u is not initialised", ARG);
		i = it[1].u.num;
		if (!(i >= 0 && i < it[0].u.arr->len))
			FAIL(ECL_ERR_TYPE, "iterator in slot %u is exhausted", ARG);
		*sp++ = it[0].u.arr->items[(uint32_t) i];
		it[1].u.num = i + 1;
		ip++;
		NEXT();
	}

	/* -------------------------------------------------------- collections */
	CASE(MAKE_ARRAY)
	{
		uint32_t	n = ARG;

		CHECK(ecl_array_new(A, n, &tmp, err));
		sp -= n;
		if (n > 0)
			memcpy(tmp.u.arr->items, sp, (size_t) n * sizeof(ecl_value));
		*sp++ = tmp;
		ip++;
		NEXT();
	}
	CASE(MAKE_OBJECT)
	{
		uint32_t	n = ARG;
		ecl_value  *base = sp - 2 * (size_t) n;

		CHECK(ecl_object_new(A, n, &tmp, err));
		for (uint32_t i = 0; i < n; i++)
		{
			ecl_value	key = base[2 * (size_t) i];

			if (!ecl_is_stringish(key))
				FAIL(ECL_ERR_TYPE, "object key must be a string, got %s",
					 ecl_type_name((ecl_type) key.type));
			CHECK(ecl_object_set(A, &tmp, key.u.str->data, key.u.str->len,
								 base[2 * (size_t) i + 1], err));
		}
		sp = base;
		*sp++ = tmp;
		ip++;
		NEXT();
	}

	/* ------------------------------------ built-in functions, host calls */
	CASE(CALLER_TRUST)
	CASE(TRUST_NORM)
	CASE(TRUST_COMBINE)
	CASE(TRUST_CREATE)
	CASE(TRUST_ABOVE)
	CASE(TRUST_WAVG)
	CASE(TRUST_DISTANCE)
	CASE(ABS)
	CASE(SQRT)
	CASE(FLOOR)
	CASE(CEIL)
	CASE(ROUND)
	CASE(MIN)
	CASE(MAX)
	CASE(CLAMP)
	CASE(LERP)
	CASE(SURPRISAL)
	CASE(STR_LEN)
	CASE(STR_CONTAINS)
	CASE(STR_EQ_IGNORE_CASE)
	CASE(ARRAY_LEN)
	CASE(ARRAY_GET)
	CASE(CONTAINS)
	CASE(LEN)
	CASE(KEYS)
	CASE(HAS)
	CASE(TIME_SINCE)
	CASE(LOAD_TRUST)
	CASE(HAS_CREDENTIAL)
	CASE(RESOLVE_DID)
	CASE(GET_BALANCE)
	CASE(GET_TIMESTAMP)
	CASE(GET_METRIC)
	CASE(LOG)
	CASE(EMIT)
	CASE(STORE_GET)
	CASE(STORE_PUT)
	CASE(STORE_DELETE)
	CASE(STORE_EXISTS)
	CASE(STORE_COUNT)
	CASE(STORE_LIST_KEYS)
	CASE(STORE_GET_NESTED)
	CASE(STORE_PUT_NESTED)
	CASE(STORE_APPEND_LIST)
	{
		const ecl_opcode_info *info = &ecl_opcode_table[op];
		ecl_value  *args = sp - info->pop;

		if (info->layer != ECL_LAYER_COMPUTE)
			layer_gas[info->layer] += info->gas;
		if ((info->flags & ECL_F_WRITE) && ctx->read_only)
			FAIL(ECL_ERR_READ_ONLY, "%s is not allowed in a read-only evaluation",
				 ecl_vm_function_name((ecl_opcode) op));
		tmp = ecl_null();
		CHECK(ecl_vm_builtin(&vm, (ecl_opcode) op, ARG, args, &tmp, err));
		sp = args;
		if (info->push)
			*sp++ = tmp;
		ip++;
		NEXT();
	}

#ifndef ECL_VM_COMPUTED_GOTO
			default:
				/*
				 * Only verified programs are run, and the verifier accepts
				 * only known opcodes (the computed goto build relies on that
				 * too); saying so lets GCC drop the range check in front of
				 * the jump table, two instructions per dispatch.
				 */
#if defined(__GNUC__)
				__builtin_unreachable();
#else
				FAIL(ECL_ERR_BYTECODE, "unknown opcode %u at pc %u", op,
					 (uint32_t) (ip - code));
#endif
		}						/* switch */
	}							/* for */
#endif

	/* --------------------------------------------------------- slow paths */
periodic:
	/* move the step bits out of the counter */
	steps += count & STEP_MASK;
	count &= ~STEP_MASK;
	gas = (int64_t) (count >> COUNT_SHIFT);
	if (gas > gas_limit)
	{
		steps--;				/* the instruction did not run */
		goto out_of_gas;
	}
	if (max_steps != 0 && steps > max_steps)
		FAIL(ECL_ERR_STACK, "step limit %llu exceeded", (unsigned long long) max_steps);
	if (ctx->interrupt != NULL && steps % ECL_INTERRUPT_INTERVAL == 0)
	{
		if (ctx->interrupt(ctx->interrupt_ctx, err) != ECL_OK)
		{
			if (err->code == ECL_ERR_NONE)
				ecl_error_set(err, ECL_ERR_TIMEOUT, 0, 0, "run interrupted");
			goto fail;
		}
	}
	if (ecl_unlikely(ctx->trace != NULL || ctx->coverage != NULL))
	{
		if (ctx->coverage != NULL)
			ctx->coverage[ip - code] = 1;
		if (ctx->trace != NULL)
			trace_step(p, ctx, &pend, (uint32_t) (ip - code), op, ins, sp, gas);
		goto resume;
	}
	count_check = ((uint64_t) next_gas_check(gas, steps, gas_limit, max_steps) << COUNT_SHIFT) | STEP_MASK;
	goto resume;

out_of_gas:
	/* the instruction that ran out counts, in its own layer */
	if (ecl_opcode_table[op].layer != ECL_LAYER_COMPUTE)
		layer_gas[ecl_opcode_table[op].layer] += op_gas[op];
	ecl_error_set(err, ECL_ERR_OUT_OF_GAS, 0, 0, "out of gas: limit %lld exceeded",
				  (long long) ctx->limits.gas_limit);
	goto fail;

deny:
	res->outcome = ECL_OUTCOME_DENIED;
	res->value = ecl_bool(false);
	/* REQUIRE and DENY carry a message unless ECL_NO_ARG; ASSERT never */
	if (op != ECL_OP_ASSERT && ARG != ECL_NO_ARG)
		res->message = consts[ARG].u.str->data;
	else
	{
		char	   *m = ecl_malloc(A, 48);

		if (m != NULL)
		{
			snprintf(m, 48, "require failed at line %u", p->lines[ip - code]);
			res->message = m;
		}
		else
			res->message = "require failed";
	}
	goto finish;

fail:
	if (ctx->trace != NULL && pend.active)
	{
		pend.ev.failed = true;
		pend.ev.value = ecl_null();
		pend.ev.args = pend.args;
		ctx->trace(ctx->trace_ctx, &pend.ev);
	}
	status = ECL_FAIL;
	res->outcome = ECL_OUTCOME_ERROR;
	res->value = ecl_null();
	res->message = NULL;
	/* the failing instruction's position; none before the loop started */
	if (ip != NULL)
	{
		err->line = p->lines[ip - code];
		err->column = p->columns[ip - code];
	}
	snprintf(err->policy, sizeof(err->policy), "%s", p->name ? p->name : "");

finish:
	steps += count & STEP_MASK;
	count &= ~STEP_MASK;
	gas = (int64_t) (count >> COUNT_SHIFT);
	layer_gas[ECL_LAYER_COMPUTE] = gas - layer_gas[ECL_LAYER_NETWORK] -
		layer_gas[ECL_LAYER_STORAGE] - layer_gas[ECL_LAYER_REALM];
	memcpy(res->gas_by_layer, layer_gas, sizeof(layer_gas));
	res->gas_used = gas;
	res->mana_used = vm.mana;
	res->steps = steps;
	if (frame != small_frame)
		ecl_free(A, frame);
	return status;

#undef CASE
#undef NEXT
#undef FETCH_AND_CHARGE
#undef ARG
#undef FAIL
#undef CHECK
#undef BOTH_NUMBERS
#undef SLOW_BINARY
#undef NUMERIC_RESULT
#undef COMPARE
}
