/*
 * test_compiler.c — code shapes, folding, dead code, names, errors, and
 * end-to-end runs of compiled programs through the VM with ecl_no_host.
 *
 * Code is checked through its disassembly, "OP operand; OP; ...", so each
 * test states the exact instructions it expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/arena.h"
#include "ecl/bytecode.h"
#include "ecl/compiler.h"
#include "ecl/host.h"
#include "ecl/value.h"
#include "ecl/vm.h"
#include "unit.h"

/* ------------------------------------------------------------ helpers */

typedef struct compiled
{
	ecl_arena	arena;			/* bytecode, program, run memory */
	ecl_status	status;
	ecl_error	err;
	ecl_program *prog;
	char		code[4096];		/* disassembly, or "" */
} compiled;

static void
disassemble(const ecl_program *p, char *buf, size_t bufsize)
{
	size_t		len = 0;

	buf[0] = '\0';
	for (uint32_t pc = 0; pc < p->ncode && len < bufsize; pc++)
	{
		char		operand[128];

		ecl_disasm_operand(p, pc, operand, sizeof(operand));
		len += snprintf(buf + len, bufsize - len, "%s%s%s%s", pc ? "; " : "",
						ecl_opcode_table[ECL_INSTR_OP(p->code[pc])].name,
						operand[0] ? " " : "", operand);
	}
}

/* Compile (policy may be NULL) and load; c->code holds the disassembly. */
static void
compile_load(compiled *c, const char *src, const char *policy)
{
	ecl_compile_options opts = {policy, false};
	uint8_t    *bytes;
	size_t		len;

	memset(c, 0, sizeof(*c));
	ecl_arena_init(&c->arena, &ecl_std_alloc);
	c->status = ecl_compile(ecl_arena_allocator(&c->arena), src, strlen(src), &opts,
							&bytes, &len, &c->err);
	if (c->status != ECL_OK)
		return;
	c->status = ecl_program_load(ecl_arena_allocator(&c->arena), bytes, len, 1u << 20,
								 &c->prog, &c->err);
	if (c->status == ECL_OK)
		disassemble(c->prog, c->code, sizeof(c->code));
}

static void
compiled_free(compiled *c)
{
	ecl_arena_release(&c->arena);
}

static char code_buf[4096];

/* Disassembly of src, or "ERROR l:c message" */
static const char *
code_of(const char *src)
{
	compiled	c;

	compile_load(&c, src, NULL);
	if (c.status == ECL_OK)
		snprintf(code_buf, sizeof(code_buf), "%s", c.code);
	else
		snprintf(code_buf, sizeof(code_buf), "ERROR %u:%u %s", c.err.line,
				 c.err.column, c.err.message);
	compiled_free(&c);
	return code_buf;
}

#define ASSERT_CODE(src, want) UNIT_ASSERT_EQ_STR(code_of(src), want)

/* Outcome of running a source. */
typedef struct ran
{
	ecl_status	status;			/* compile/load failure is ECL_FAIL with stage "compile" */
	const char *stage;			/* "compile", "run" */
	ecl_outcome outcome;
	char		value[512];		/* result value as JSON */
	char		message[256];	/* deny message */
	ecl_error	err;
	int64_t		gas;
} ran;

static ran run_result;
static ecl_trace_fn run_trace;	/* set by the trace tests */
static void *run_trace_ctx;

/*
 * Compile src, load it and run it once with ecl_no_host, no caller or realm,
 * and the input object parsed from input_json (NULL = {}).
 */
static ran *
run_src(const char *src, const char *input_json)
{
	compiled	c;
	ecl_run_ctx ctx;
	ecl_run_result res;
	ecl_value	input;
	const ecl_alloc *a;

	memset(&run_result, 0, sizeof(run_result));
	compile_load(&c, src, NULL);
	run_result.stage = "compile";
	run_result.status = c.status;
	run_result.err = c.err;
	if (c.status != ECL_OK)
	{
		compiled_free(&c);
		return &run_result;
	}
	a = ecl_arena_allocator(&c.arena);
	if (input_json == NULL)
		input_json = "{}";
	if (ecl_json_parse(a, input_json, strlen(input_json), &input, &run_result.err) != ECL_OK)
	{
		run_result.status = ECL_FAIL;
		compiled_free(&c);
		return &run_result;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = a;
	ctx.host = &ecl_no_host;
	ctx.caller = ecl_null();
	ctx.realm = ecl_null();
	ecl_input_from_value(&ctx.input, &input);
	ctx.limits.gas_limit = 1000000;
	ctx.limits.mana_limit = 1000000;
	ctx.limits.max_stack_depth = 4096;
	ctx.trace = run_trace;
	ctx.trace_ctx = run_trace_ctx;
	memset(&res, 0, sizeof(res));
	run_result.stage = "run";
	run_result.status = ecl_vm_run(c.prog, &ctx, &res);
	run_result.outcome = res.outcome;
	run_result.err = res.error;
	run_result.gas = res.gas_used;
	if (res.message)
		snprintf(run_result.message, sizeof(run_result.message), "%s", res.message);
	if (run_result.status == ECL_OK)
	{
		char	   *json;
		size_t		len;
		ecl_error	jerr;

		if (ecl_json_write(a, res.value, &json, &len, &jerr) == ECL_OK)
			snprintf(run_result.value, sizeof(run_result.value), "%s", json);
	}
	compiled_free(&c);
	return &run_result;
}

/* The run passed or was denied with this value (JSON). */
#define ASSERT_RUNS_TO(src, input, outcome_, value_json) do { \
	ran *r_ = run_src(src, input); \
	UNIT_ASSERT_MSG(r_->status == ECL_OK, "%s of %s failed: %u:%u %s", r_->stage, #src, \
					r_->err.line, r_->err.column, r_->err.message); \
	UNIT_ASSERT_EQ_INT(r_->outcome, outcome_); \
	UNIT_ASSERT_EQ_STR(r_->value, value_json); \
} while (0)

#define ASSERT_PASSES(src, input, value_json) \
	ASSERT_RUNS_TO(src, input, ECL_OUTCOME_PASSED, value_json)

/* The run ended in an error of this code at line:col with this message. */
#define ASSERT_RUN_ERROR(src, input, code_, line_, col_, msg) do { \
	ran *r_ = run_src(src, input); \
	UNIT_ASSERT_MSG(r_->status == ECL_FAIL && strcmp(r_->stage, "run") == 0, \
					"%s of %s: status %d, value %s", r_->stage, #src, r_->status, r_->value); \
	UNIT_ASSERT_EQ_INT(r_->err.code, code_); \
	UNIT_ASSERT_EQ_STR(r_->err.message, msg); \
	UNIT_ASSERT_EQ_INT(r_->err.line, line_); \
	UNIT_ASSERT_EQ_INT(r_->err.column, col_); \
} while (0)

/* Compilation fails with this code, position and message. */
#define ASSERT_COMPILE_ERROR(src, policy, code_, line_, col_, msg) do { \
	compiled c_; \
	compile_load(&c_, src, policy); \
	compiled_free(&c_); \
	UNIT_ASSERT_MSG(c_.status == ECL_FAIL, "compile of %s succeeded: %s", #src, c_.code); \
	UNIT_ASSERT_EQ_INT(c_.err.code, code_); \
	UNIT_ASSERT_EQ_STR(c_.err.message, msg); \
	UNIT_ASSERT_EQ_INT(c_.err.line, line_); \
	UNIT_ASSERT_EQ_INT(c_.err.column, col_); \
} while (0)

/* ------------------------------------------------------------- folding */

UNIT_TEST(compiler_folds_arithmetic)
{
	ASSERT_CODE("return 1 + 2 * 3", "PUSH_CONST 7; RETURN");
	ASSERT_CODE("return (1 + 2) * 3 - 4 / 2 % 5", "PUSH_CONST 7; RETURN");
	ASSERT_CODE("return -(2 - 5)", "PUSH_CONST 3; RETURN");
	ASSERT_CODE("return !0", "PUSH_TRUE; RETURN");
	ASSERT_CODE("return 1 < 2 == (\"b\" >= \"a\")", "PUSH_TRUE; RETURN");
	ASSERT_CODE("return 1 != 1", "PUSH_FALSE; RETURN");
	ASSERT_CODE("return \"n=\" + 1.5", "PUSH_CONST \"n=1.5\"; RETURN");
	ASSERT_CODE("return null", "PUSH_NULL; RETURN");
	/* constants of different types compare unequal, folded like the VM does */
	ASSERT_CODE("return 1 == \"1\"", "PUSH_FALSE; RETURN");
}

UNIT_TEST(compiler_does_not_fold_errors)
{
	/* folding must not hide run-time errors nor fail compilation */
	ASSERT_CODE("return 1 / 0", "PUSH_CONST 1; PUSH_CONST 0; DIV; RETURN");
	ASSERT_CODE("return 5 % 0", "PUSH_CONST 5; PUSH_CONST 0; MOD; RETURN");
	ASSERT_CODE("return \"a\" < 1", "PUSH_CONST \"a\"; PUSH_CONST 1; LT; RETURN");
	ASSERT_CODE("return -\"x\"", "PUSH_CONST \"x\"; NEG; RETURN");
	ASSERT_CODE("return 1e308 * 10", "PUSH_CONST 1e+308; PUSH_CONST 10; MUL; RETURN");
	/* the rest of the expression still folds around it */
	ASSERT_CODE("return (2 + 3) / (1 - 1)", "PUSH_CONST 5; PUSH_CONST 0; DIV; RETURN");

	ASSERT_RUN_ERROR("let x = 1\nreturn x + 1 / 0", NULL, ECL_ERR_DIV_ZERO, 2, 14,
					 "division by zero");
	{
		ran		   *r = run_src("\n  return \"a\" < 1", NULL);

		UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
		UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_TYPE);
		UNIT_ASSERT_EQ_INT(r->err.line, 2);
		UNIT_ASSERT_EQ_INT(r->err.column, 14);
		UNIT_ASSERT(strstr(r->err.message, "'<'") != NULL);
	}
}

UNIT_TEST(compiler_folds_logic_and_ternary)
{
	ASSERT_CODE("return false && x", "PUSH_FALSE; RETURN");
	ASSERT_CODE("return 1 || x", "PUSH_TRUE; RETURN");
	ASSERT_CODE("return true && \"s\"", "PUSH_TRUE; RETURN");
	ASSERT_CODE("return 0 || []", "PUSH_FALSE; RETURN");
	/* a constant that does not decide leaves the other side, as a boolean */
	ASSERT_CODE("return true && x", "LOAD_INPUT_FIELD \"x\"; TO_BOOL; RETURN");
	ASSERT_CODE("return null || x", "LOAD_INPUT_FIELD \"x\"; TO_BOOL; RETURN");
	ASSERT_CODE("return 1 > 0 ? \"yes\" : x", "PUSH_CONST \"yes\"; RETURN");
	ASSERT_CODE("return \"\" ? x : y", "LOAD_INPUT_FIELD \"y\"; RETURN");
	ASSERT_CODE("return true ? x : 1 / 0", "LOAD_INPUT_FIELD \"x\"; RETURN");
}

UNIT_TEST(compiler_folds_collections)
{
	ASSERT_CODE("return [1, \"a\", [true, null], {k: 2}]",
				"PUSH_CONST [1,\"a\",[true,null],{\"k\":2}]; RETURN");
	ASSERT_CODE("return {a: 1, b: 2, a: 3}", "PUSH_CONST {\"a\":3,\"b\":2}; RETURN");
	ASSERT_CODE("return [1, x]", "PUSH_CONST 1; LOAD_INPUT_FIELD \"x\"; MAKE_ARRAY 2; RETURN");
	ASSERT_CODE("return {a: x, \"b c\": 1 + 1}",
				"PUSH_CONST \"a\"; LOAD_INPUT_FIELD \"x\"; PUSH_CONST \"b c\"; PUSH_CONST 2; MAKE_OBJECT 2; RETURN");
	ASSERT_CODE("return []", "PUSH_CONST []; RETURN");
	/* duplicate keys: the last wins at run time too */
	ASSERT_PASSES("return {a: x, b: 2, a: x + 1}", "{\"x\": 5}", "{\"a\":6,\"b\":2}");
}

UNIT_TEST(compiler_constants)
{
	ASSERT_CODE("const MAX = 10 * 10\nconst HALF = MAX / 2\nreturn HALF + 1",
				"PUSH_CONST 51; RETURN");
	ASSERT_CODE("const NAME = \"x\"\nreturn input[NAME]",
				"LOAD_INPUT; PUSH_CONST \"x\"; GET_INDEX; RETURN");
	ASSERT_CODE("const A = [1, 2]\npolicy p { const B = A\n return B }",
				"PUSH_CONST [1,2]; RETURN");
	ASSERT_COMPILE_ERROR("const X = 1 + amount", NULL, ECL_ERR_SYNTAX, 1, 15,
						 "const initializer must be a constant expression ('amount' is not a constant)");
	ASSERT_COMPILE_ERROR("const X = 1\nconst Y = X / 0", NULL, ECL_ERR_SYNTAX, 2, 13,
						 "const initializer must be a constant expression (division by zero)");
	ASSERT_COMPILE_ERROR("const T = abs(1)", NULL, ECL_ERR_SYNTAX, 1, 11,
						 "const initializer must be a constant expression (function calls are evaluated at run time)");
	ASSERT_COMPILE_ERROR("let v = 1\nconst X = [v]", NULL, ECL_ERR_SYNTAX, 2, 12,
						 "const initializer must be a constant expression ('v' is not a constant)");
	ASSERT_COMPILE_ERROR("const X = 1\nX = 2", NULL, ECL_ERR_SYNTAX, 2, 1,
						 "cannot assign to constant 'X' (declared at line 1)");
	ASSERT_COMPILE_ERROR("const X = 1\nconst X = 2", NULL, ECL_ERR_SYNTAX, 2, 7,
						 "'X' is already declared in this block (line 1)");
}

/* -------------------------------------------------------- code shapes */

UNIT_TEST(compiler_logic_shapes)
{
	ASSERT_CODE("return a && b",
				"LOAD_INPUT_FIELD \"a\"; AND -> 4; LOAD_INPUT_FIELD \"b\"; TO_BOOL; RETURN");
	ASSERT_CODE("return a || b",
				"LOAD_INPUT_FIELD \"a\"; OR -> 4; LOAD_INPUT_FIELD \"b\"; TO_BOOL; RETURN");
	ASSERT_CODE("return a ? 1 : 2",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 4; PUSH_CONST 1; JUMP -> 5; PUSH_CONST 2; RETURN");
	ASSERT_CODE("return !a", "LOAD_INPUT_FIELD \"a\"; NOT; RETURN");
	ASSERT_CODE("return -a * 2", "LOAD_INPUT_FIELD \"a\"; NEG; PUSH_CONST 2; MUL; RETURN");
}

UNIT_TEST(compiler_statement_shapes)
{
	ASSERT_CODE("let x = a\nx = x + 1\nreturn x",
				"LOAD_INPUT_FIELD \"a\"; STORE_LOCAL 0; LOAD_LOCAL 0; PUSH_CONST 1; ADD; STORE_LOCAL 0; LOAD_LOCAL 0; RETURN");
	ASSERT_CODE("require a, \"no a\"",
				"LOAD_INPUT_FIELD \"a\"; REQUIRE \"no a\"; PUSH_TRUE; RETURN");
	/* without a message: ASSERT, the reference's cheaper assert */
	ASSERT_CODE("require a", "LOAD_INPUT_FIELD \"a\"; ASSERT; PUSH_TRUE; RETURN");
	ASSERT_CODE("const LIM = 5\nrequire a, \"limit \" + LIM",
				"LOAD_INPUT_FIELD \"a\"; REQUIRE \"limit 5\"; PUSH_TRUE; RETURN");
	ASSERT_CODE("if a { log(1) }",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 4; PUSH_CONST 1; LOG; PUSH_TRUE; RETURN");
	ASSERT_CODE("if a { log(1) } else { log(2) }",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 5; PUSH_CONST 1; LOG; JUMP -> 7; PUSH_CONST 2; LOG; PUSH_TRUE; RETURN");
	ASSERT_CODE("if a { return 1 } else if b { return 2 }\nreturn 3",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 4; PUSH_CONST 1; RETURN; LOAD_INPUT_FIELD \"b\"; JUMP_IF_FALSE -> 8; PUSH_CONST 2; RETURN; PUSH_CONST 3; RETURN");
	ASSERT_CODE("if a { return 1 } else { return 2 }",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 4; PUSH_CONST 1; RETURN; PUSH_CONST 2; RETURN");
	ASSERT_CODE("emit \"ev\"", "PUSH_NULL; EMIT \"ev\"; PUSH_TRUE; RETURN");
	ASSERT_CODE("emit \"ev\", {n: a}",
				"PUSH_CONST \"n\"; LOAD_INPUT_FIELD \"a\"; MAKE_OBJECT 1; EMIT \"ev\"; PUSH_TRUE; RETURN");
	ASSERT_CODE("for x in xs { log(x) }",
				"LOAD_INPUT_FIELD \"xs\"; ITER_INIT 0; ITER_HAS 0; JUMP_IF_FALSE -> 9; ITER_GET 0; STORE_LOCAL 2; LOAD_LOCAL 2; LOG; JUMP -> 2; PUSH_TRUE; RETURN");
	ASSERT_CODE("", "PUSH_TRUE; RETURN");
}

UNIT_TEST(compiler_calls)
{
	/* results of calls used as statements are dropped; log has none */
	ASSERT_CODE("len(a)", "LOAD_INPUT_FIELD \"a\"; LEN; POP; PUSH_TRUE; RETURN");
	ASSERT_CODE("log(\"m\")", "PUSH_CONST \"m\"; LOG; PUSH_TRUE; RETURN");
	ASSERT_CODE("return log(\"m\")", "PUSH_CONST \"m\"; LOG; PUSH_NULL; RETURN");
	/* omitted optional arguments are null */
	ASSERT_CODE("return store_get(\"s\", \"k\")",
				"PUSH_CONST \"s\"; PUSH_CONST \"k\"; PUSH_NULL; STORE_GET; RETURN");
	ASSERT_CODE("return store_list_keys(\"s\")",
				"PUSH_CONST \"s\"; PUSH_NULL; PUSH_NULL; STORE_LIST_KEYS; RETURN");
	ASSERT_CODE("return get_timestamp()", "GET_TIMESTAMP; RETURN");
	ASSERT_CODE("return min(a, 2)", "LOAD_INPUT_FIELD \"a\"; PUSH_CONST 2; MIN; RETURN");
	ASSERT_CODE("return caller.credential(\"kyc\")",
				"LOAD_CALLER; PUSH_CONST \"kyc\"; HAS_CREDENTIAL; RETURN");
	ASSERT_CODE("sender.credential(\"kyc\")",
				"LOAD_CALLER; PUSH_CONST \"kyc\"; HAS_CREDENTIAL; POP; PUSH_TRUE; RETURN");

	ASSERT_COMPILE_ERROR("return foo(1)", NULL, ECL_ERR_SYNTAX, 1, 8, "unknown function 'foo'");
	ASSERT_COMPILE_ERROR("return min(1)", NULL, ECL_ERR_SYNTAX, 1, 8,
						 "function 'min' expects 2 arguments, found 1");
	ASSERT_COMPILE_ERROR("return abs(1, 2)", NULL, ECL_ERR_SYNTAX, 1, 8,
						 "function 'abs' expects 1 argument, found 2");
	ASSERT_COMPILE_ERROR("return get_timestamp(1)", NULL, ECL_ERR_SYNTAX, 1, 8,
						 "function 'get_timestamp' expects 0 arguments, found 1");
	ASSERT_COMPILE_ERROR("return store_get(\"s\")", NULL, ECL_ERR_SYNTAX, 1, 8,
						 "function 'store_get' expects 2 to 3 arguments, found 1");
	ASSERT_COMPILE_ERROR("return x.frobnicate(1)", NULL, ECL_ERR_SYNTAX, 1, 10,
						 "unknown method 'frobnicate' (available: x.credential(schema); x.trust is a field)");
	ASSERT_COMPILE_ERROR("return x.credential()", NULL, ECL_ERR_SYNTAX, 1, 10,
						 "method 'credential' expects 1 argument, found 0");
}

UNIT_TEST(compiler_context_names_and_trust)
{
	ASSERT_CODE("return [caller, sender, requester, realm, input]",
				"LOAD_CALLER; LOAD_CALLER; LOAD_CALLER; LOAD_REALM; LOAD_INPUT; MAKE_ARRAY 5; RETURN");
	ASSERT_CODE("return amount", "LOAD_INPUT_FIELD \"amount\"; RETURN");
	ASSERT_CODE("return input.amount", "LOAD_INPUT; GET_FIELD \"amount\"; RETURN");
	ASSERT_CODE("return trust.r", "CALLER_TRUST; TRUST_DIM r; RETURN");
	ASSERT_CODE("return trust.Ω + trust.I",
				"CALLER_TRUST; TRUST_DIM omega; CALLER_TRUST; TRUST_DIM i; ADD; RETURN");
	ASSERT_CODE("return caller.trust.omega",
				"LOAD_CALLER; LOAD_TRUST; TRUST_DIM omega; RETURN");
	ASSERT_CODE("return load_trust(peer).P",
				"LOAD_INPUT_FIELD \"peer\"; LOAD_TRUST; TRUST_DIM p; RETURN");
	ASSERT_CODE("return trust_combine(trust, x.trust).v",
				"CALLER_TRUST; LOAD_INPUT_FIELD \"x\"; LOAD_TRUST; TRUST_COMBINE; TRUST_DIM v; RETURN");
	ASSERT_CODE("return trust_create(1, 1, 1, 1, 1, 0).c",
				"PUSH_CONST 1; PUSH_CONST 1; PUSH_CONST 1; PUSH_CONST 1; PUSH_CONST 1; PUSH_CONST 0; TRUST_CREATE; TRUST_DIM c; RETURN");
	/* not statically a trust vector: the VM decides at run time */
	ASSERT_CODE("return x.r", "LOAD_INPUT_FIELD \"x\"; GET_FIELD \"r\"; RETURN");
	ASSERT_CODE("let trust = {r: 1}\nreturn trust.r",
				"PUSH_CONST {\"r\":1}; STORE_LOCAL 0; LOAD_LOCAL 0; GET_FIELD \"r\"; RETURN");
	ASSERT_COMPILE_ERROR("return trust.x", NULL, ECL_ERR_SYNTAX, 1, 14,
						 "unknown trust dimension 'x' (expected r, i, c, p, v or omega)");
}

UNIT_TEST(compiler_locals_and_scopes)
{
	compiled	c;

	/* shadowing in an inner block; slots of finished blocks are reused */
	compile_load(&c, "let x = 1\nif a { let x = 2\n let y = x }\nif b { let z = 3 }\nreturn x", NULL);
	UNIT_ASSERT_MSG(c.status == ECL_OK, "%s", c.err.message);
	UNIT_ASSERT_EQ_STR(c.code,
					   "PUSH_CONST 1; STORE_LOCAL 0; LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 8; PUSH_CONST 2; STORE_LOCAL 1; LOAD_LOCAL 1; STORE_LOCAL 2; "
					   "LOAD_INPUT_FIELD \"b\"; JUMP_IF_FALSE -> 12; PUSH_CONST 3; STORE_LOCAL 1; LOAD_LOCAL 0; RETURN");
	UNIT_ASSERT_EQ_INT(c.prog->nlocals, 3);
	compiled_free(&c);

	/* let x = x reads the outer x (or the input field) before declaring */
	ASSERT_CODE("let x = x + 1\nreturn x",
				"LOAD_INPUT_FIELD \"x\"; PUSH_CONST 1; ADD; STORE_LOCAL 0; LOAD_LOCAL 0; RETURN");
	ASSERT_PASSES("let n = 0\nfor v in [1, 2, 3] { let d = v * 2\n n = n + d }\nreturn n", NULL, "12");

	ASSERT_COMPILE_ERROR("let x = 1\nlet x = 2", NULL, ECL_ERR_SYNTAX, 2, 5,
						 "'x' is already declared in this block (line 1)");
	ASSERT_COMPILE_ERROR("if a { let y = 1 }\ny = 2", NULL, ECL_ERR_SYNTAX, 2, 1,
						 "assignment to undeclared variable 'y' (declare it with 'let' first)");
	ASSERT_COMPILE_ERROR("policy p {\n  caller = 1\n}", NULL, ECL_ERR_SYNTAX, 2, 3,
						 "assignment to undeclared variable 'caller' (declare it with 'let' first)");
}

/* ------------------------------------------------------------ dead code */

UNIT_TEST(compiler_removes_dead_code)
{
	ASSERT_CODE("return 1\nlog(\"never\")\nreturn 2", "PUSH_CONST 1; RETURN");
	ASSERT_CODE("require true, \"fine\"\nreturn 1", "PUSH_CONST 1; RETURN");
	ASSERT_CODE("require 1 > 2, \"impossible\"\nlog(\"x\")", "DENY \"impossible\"");
	ASSERT_CODE("require false", "DENY");
	ASSERT_CODE("if 2 > 1 { log(\"a\") } else { log(\"b\") }",
				"PUSH_CONST \"a\"; LOG; PUSH_TRUE; RETURN");
	ASSERT_CODE("if null { log(\"a\") } else { log(\"b\") }",
				"PUSH_CONST \"b\"; LOG; PUSH_TRUE; RETURN");
	ASSERT_CODE("if false { log(\"a\") }\nreturn 1", "PUSH_CONST 1; RETURN");
	ASSERT_CODE("if true { return 1 }\nlog(\"dead\")", "PUSH_CONST 1; RETURN");
	ASSERT_CODE("if a { return 1 } else { require false, \"no\" }\nlog(\"dead\")",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 4; PUSH_CONST 1; RETURN; DENY \"no\"");
	ASSERT_CODE("for x in xs { return x }",
				"LOAD_INPUT_FIELD \"xs\"; ITER_INIT 0; ITER_HAS 0; JUMP_IF_FALSE -> 8; ITER_GET 0; STORE_LOCAL 2; LOAD_LOCAL 2; RETURN; PUSH_TRUE; RETURN");
	ASSERT_CODE("policy p { if a { return 1 }\n return 2\n log(1) }",
				"LOAD_INPUT_FIELD \"a\"; JUMP_IF_FALSE -> 4; PUSH_CONST 1; RETURN; PUSH_CONST 2; RETURN");
	/* errors in dead code are still errors */
	ASSERT_COMPILE_ERROR("return 1\nreturn nope(2)", NULL, ECL_ERR_SYNTAX, 2, 8,
						 "unknown function 'nope'");
	ASSERT_COMPILE_ERROR("if false { y = 1 }", NULL, ECL_ERR_SYNTAX, 1, 12,
						 "assignment to undeclared variable 'y' (declare it with 'let' first)");
}

UNIT_TEST(compiler_constant_operands)
{
	ASSERT_COMPILE_ERROR("require a, msg", NULL, ECL_ERR_SYNTAX, 1, 12,
						 "require message must be a constant string, found an expression evaluated at run time");
	ASSERT_COMPILE_ERROR("require a, 42", NULL, ECL_ERR_SYNTAX, 1, 12,
						 "require message must be a constant string, found number");
	ASSERT_COMPILE_ERROR("emit name", NULL, ECL_ERR_SYNTAX, 1, 6,
						 "event name must be a constant string, found an expression evaluated at run time");
	ASSERT_CODE("const EV = \"big\"\nemit EV + \"_transfer\", 1",
				"PUSH_CONST 1; EMIT \"big_transfer\"; PUSH_TRUE; RETURN");
}

/* -------------------------------------------------------- program shape */

UNIT_TEST(compiler_policy_selection)
{
	const char *two = "const X = 1\npolicy first { return X }\npolicy \"second one\" { return X + 1 }";
	compiled	c;

	ASSERT_COMPILE_ERROR(two, NULL, ECL_ERR_SYNTAX, 3, 1,
						 "source defines 2 policies; name the one to compile");
	ASSERT_COMPILE_ERROR(two, "third", ECL_ERR_UNDEFINED, 0, 0,
						 "policy \"third\" is not defined in this source");
	ASSERT_COMPILE_ERROR("return 1", "p", ECL_ERR_UNDEFINED, 0, 0,
						 "policy \"p\" is not defined in this source (it defines no policies)");

	compile_load(&c, two, "second one");
	UNIT_ASSERT_MSG(c.status == ECL_OK, "%s", c.err.message);
	UNIT_ASSERT_EQ_STR(c.code, "PUSH_CONST 2; RETURN");
	UNIT_ASSERT_EQ_STR(c.prog->name, "second one");
	compiled_free(&c);

	/* registration: the name is a preference for single-policy sources */
	{
		ecl_compile_options opts = {"registered_as", true};
		uint8_t    *bytes;
		size_t		len;
		ecl_error	err;

		UNIT_ASSERT(ecl_compile(&ecl_std_alloc, "policy written { return 1 }", 27,
								&opts, &bytes, &len, &err) == ECL_OK);
		free(bytes);
		UNIT_ASSERT(ecl_compile(&ecl_std_alloc, "return 1", 8,
								&opts, &bytes, &len, &err) == ECL_OK);
		free(bytes);
		UNIT_ASSERT(ecl_compile(&ecl_std_alloc, two, strlen(two),
								&opts, &bytes, &len, &err) == ECL_FAIL);
		UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_SYNTAX);
		UNIT_ASSERT_EQ_INT(err.line, 3);
		UNIT_ASSERT_EQ_STR(err.message,
						   "source defines 2 policies and none is called \"registered_as\"");
		opts.policy_name = "first";
		UNIT_ASSERT(ecl_compile(&ecl_std_alloc, two, strlen(two),
								&opts, &bytes, &len, &err) == ECL_OK);
		free(bytes);
	}

	compile_load(&c, "policy only { }", NULL);
	UNIT_ASSERT_EQ_INT(c.status, ECL_OK);
	UNIT_ASSERT_EQ_STR(c.prog->name, "only");
	UNIT_ASSERT_EQ_STR(c.code, "PUSH_TRUE; RETURN");
	compiled_free(&c);

	compile_load(&c, "return 1", NULL);
	UNIT_ASSERT_EQ_STR(c.prog->name, "");
	compiled_free(&c);

	/* compile errors name the policy */
	compile_load(&c, "policy guard {\n  require nope(1)\n}", NULL);
	compiled_free(&c);
	UNIT_ASSERT_EQ_INT(c.status, ECL_FAIL);
	UNIT_ASSERT_EQ_STR(c.err.policy, "guard");
	UNIT_ASSERT_EQ_INT(c.err.line, 2);
	UNIT_ASSERT_EQ_INT(c.err.column, 11);
	compile_load(&c, "policy a { }\npolicy b { let x = }", "a");
	compiled_free(&c);
	UNIT_ASSERT_EQ_STR(c.err.policy, "b");
	UNIT_ASSERT_EQ_STR(c.err.message, "expected an expression, found '}'");
}

UNIT_TEST(compiler_positions_in_line_table)
{
	compiled	c;

	compile_load(&c, "policy p {\n  let a = amount\n  require a * 2 > limit, \"m\"\n}", NULL);
	UNIT_ASSERT_MSG(c.status == ECL_OK, "%s", c.err.message);
	UNIT_ASSERT_EQ_STR(c.code,
					   "LOAD_INPUT_FIELD \"amount\"; STORE_LOCAL 0; LOAD_LOCAL 0; PUSH_CONST 2; MUL; LOAD_INPUT_FIELD \"limit\"; GT; REQUIRE \"m\"; PUSH_TRUE; RETURN");
	/* amount at 2:11, the store at the name 2:7, '*' at 3:13, '>' at 3:17, require at 3:3, the end at '}' 4:1 */
	UNIT_ASSERT_EQ_INT(c.prog->lines[0], 2);
	UNIT_ASSERT_EQ_INT(c.prog->columns[0], 11);
	UNIT_ASSERT_EQ_INT(c.prog->columns[1], 7);
	UNIT_ASSERT_EQ_INT(c.prog->lines[4], 3);
	UNIT_ASSERT_EQ_INT(c.prog->columns[4], 13);
	UNIT_ASSERT_EQ_INT(c.prog->columns[5], 19);
	UNIT_ASSERT_EQ_INT(c.prog->columns[6], 17);
	UNIT_ASSERT_EQ_INT(c.prog->columns[7], 3);
	UNIT_ASSERT_EQ_INT(c.prog->lines[8], 4);
	UNIT_ASSERT_EQ_INT(c.prog->columns[8], 1);
	compiled_free(&c);
}

UNIT_TEST(compiler_reports_syntax_errors_and_limits)
{
	char	   *src = malloc(1024 * 1024 + 16);
	compiled	c;

	ASSERT_COMPILE_ERROR("policy p {\n  if x {\n", NULL, ECL_ERR_SYNTAX, 3, 1,
						 "expected '}' to close block opened at line 2, found end of input");
	memcpy(src, "return ", 7);
	memset(src + 7, '(', 1024 * 1024);
	src[7 + 1024 * 1024] = '\0';
	compile_load(&c, src, NULL);
	compiled_free(&c);
	free(src);
	UNIT_ASSERT_EQ_INT(c.status, ECL_FAIL);
	UNIT_ASSERT_EQ_INT(c.err.code, ECL_ERR_STACK);
	UNIT_ASSERT(strncmp(c.err.message, "nesting too deep", 16) == 0);

	/* a non-NUL-terminated source and a NULL error pointer are fine */
	{
		uint8_t    *bytes;
		size_t		len;
		ecl_arena	arena;

		ecl_arena_init(&arena, &ecl_std_alloc);
		UNIT_ASSERT_EQ_INT(ecl_compile(ecl_arena_allocator(&arena), "return 1)))", 8,
									   NULL, &bytes, &len, NULL), ECL_OK);
		UNIT_ASSERT(len > 0);
		UNIT_ASSERT_EQ_INT(ecl_compile(ecl_arena_allocator(&arena), "return )", 8,
									   NULL, &bytes, &len, NULL), ECL_FAIL);
		UNIT_ASSERT(bytes == NULL && len == 0);
		ecl_arena_release(&arena);
	}
}

UNIT_TEST(compiler_output_uses_given_allocator_only)
{
	uint8_t    *bytes;
	size_t		len;
	ecl_error	err;

	/* with the plain malloc allocator the only thing left is the output */
	const char *src = "const A = [1, {b: \"c\"}]\nlet x = A[0] + 1\nreturn x";

	UNIT_ASSERT_EQ_INT(ecl_compile(&ecl_std_alloc, src, strlen(src), NULL,
								   &bytes, &len, &err), ECL_OK);
	UNIT_ASSERT(memcmp(bytes, "ECLB", 4) == 0);
	UNIT_ASSERT_EQ_STR(err.message, "");
	free(bytes);
	/* and nothing on failure (checked by the sanitizer build's leak check) */
	UNIT_ASSERT_EQ_INT(ecl_compile(&ecl_std_alloc, "let x = [1, 2\n", 14, NULL,
								   &bytes, &len, &err), ECL_FAIL);
}

/* ----------------------------------------------------------- end to end */

UNIT_TEST(run_outcomes)
{
	ran		   *r;

	ASSERT_PASSES("return 1 + 2 * 3", NULL, "7");
	ASSERT_PASSES("", NULL, "true");
	ASSERT_PASSES("let x = 1", NULL, "true");
	ASSERT_RUNS_TO("return 0", NULL, ECL_OUTCOME_DENIED, "0");
	ASSERT_RUNS_TO("return amount > 10", "{\"amount\": 5}", ECL_OUTCOME_DENIED, "false");

	r = run_src("policy p {\n  require amount < 100, \"too much\"\n  return true\n}",
				"{\"amount\": 500}");
	UNIT_ASSERT_EQ_INT(r->status, ECL_OK);
	UNIT_ASSERT_EQ_INT(r->outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(r->message, "too much");
	UNIT_ASSERT_EQ_STR(r->value, "false");

	r = run_src("let a = 1\n\n  require a > 2", NULL);
	UNIT_ASSERT_EQ_INT(r->outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(r->message, "require failed at line 3");
	r = run_src("\nrequire 1 > 2", NULL);
	UNIT_ASSERT_EQ_INT(r->outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(r->message, "require failed at line 2");
	r = run_src("require false, \"always\"", NULL);
	UNIT_ASSERT_EQ_STR(r->message, "always");
}

UNIT_TEST(run_operators)
{
	ASSERT_PASSES("return [7 % 3, 2 - 5, 9 / 2, -x, !x, !0]", "{\"x\": 4}", "[1,-3,4.5,-4,false,true]");
	ASSERT_PASSES("return [x < 5, x <= 4, x > 4, x >= 5, x == 4, x != 4]", "{\"x\": 4}",
				  "[true,true,false,false,true,false]");
	ASSERT_PASSES("return [s + 1, 1 + s, s + t, s < t]", "{\"s\": \"a\", \"t\": \"b\"}",
				  "[\"a1\",\"1a\",\"ab\",true]");
	ASSERT_PASSES("return [x && 0, x && \"y\", x || 0, 0 || null, null && 1]", "{\"x\": 4}",
				  "[false,true,true,false,false]");
	ASSERT_PASSES("return [x == \"4\", x != \"4\", [1, 2] == [1, 2], {a: 1} == {a: 1}]",
				  "{\"x\": 4}", "[false,true,true,true]");
	ASSERT_PASSES("return x > 3 ? \"big\" : \"small\"", "{\"x\": 4}", "\"big\"");
	/* behaviours docs/language.md promises */
	ASSERT_PASSES("return [\"x\" + n, -7 % x, round(-2.5), round(2.5), keys({b: 1, a: 2}), \"B\" < \"a\"]",
				  "{\"x\": 3, \"n\": null}", "[\"xnull\",-1,-3,3,[\"b\",\"a\"],true]");
	ASSERT_PASSES("return x > 5 ? \"big\" : x > 3 ? \"mid\" : \"small\"", "{\"x\": 4}", "\"mid\"");
	ASSERT_PASSES("return o.a.b + o[\"a\"][\"b\"] + arr[1] + len(o.missing == null ? \"xy\" : \"\")",
				  "{\"o\": {\"a\": {\"b\": 10}}, \"arr\": [1, 2]}", "24");
}

UNIT_TEST(run_short_circuit_skips_errors)
{
	/* the right side is not evaluated: no division by zero, no missing field */
	ASSERT_RUNS_TO("return x > 10 && 1 / zero > 0", "{\"x\": 1, \"zero\": 0}",
				   ECL_OUTCOME_DENIED, "false");
	ASSERT_PASSES("return x < 10 || missing", "{\"x\": 1}", "true");
	ASSERT_PASSES("return x < 10 ? 1 : missing", "{\"x\": 1}", "1");
}

UNIT_TEST(run_statements)
{
	ASSERT_PASSES("let total = 0\nfor v in values { if v > 1 { total = total + v } else { total = total - 1 } }\nreturn total",
				  "{\"values\": [1, 2, 3]}", "4");
	ASSERT_RUNS_TO("let n = 0\nfor v in [] { n = n + 1 }\nreturn n", NULL, ECL_OUTCOME_DENIED, "0");
	ASSERT_PASSES("for v in values { if v == 2 { return \"found\" } }\nreturn \"none\"",
				  "{\"values\": [1, 2, 3]}", "\"found\"");
	ASSERT_PASSES("let c = 0\nfor a in [1, 2] { for b in [1, 2, 3] { c = c + a * b } }\nreturn c", NULL, "18");
	ASSERT_PASSES("const K = 3\npolicy p {\n  let x = K\n  if x > 2 { x = x * 10 } else if x > 1 { x = 0 }\n  return x\n}",
				  NULL, "30");
	ASSERT_PASSES("let x = 1; let y = 2; return x + y", NULL, "3");
	ASSERT_PASSES("return {sum: a + b, list: [a, b], nested: {k: a}}", "{\"a\": 1, \"b\": 2}",
				  "{\"sum\":3,\"list\":[1,2],\"nested\":{\"k\":1}}");
	ASSERT_PASSES("return [abs(-2), min(1, 2), max(1, 2), clamp(5, 0, 3), floor(1.5), len(\"abc\"), str_len(\"é\")]",
				  NULL, "[2,1,2,3,1,3,1]");
	ASSERT_PASSES("return [contains(2, [1, 2]), has({a: 1}, \"a\"), keys({a: 1, b: 2}), array_get([5, 6], 1)]",
				  NULL, "[true,true,[\"a\",\"b\"],6]");
	ASSERT_PASSES("return trust_create(1, 0.5, 0.5, 0.5, 0.5, 0).r + trust_create(0, 0, 0, 0, 0, 1).Ω",
				  NULL, "2");
	ASSERT_PASSES("return input", "{\"a\": 1}", "{\"a\":1}");
	ASSERT_PASSES("return [caller, realm]", NULL, "[null,null]");
}

UNIT_TEST(run_errors_point_at_source)
{
	ASSERT_RUN_ERROR("policy p {\n  let a = 1\n  return a + amount\n}", NULL, ECL_ERR_TYPE, 3, 14,
					 "missing input field 'amount'");
	ASSERT_RUN_ERROR("let x = 0\nreturn 10 /\n x", NULL, ECL_ERR_DIV_ZERO, 2, 11,
					 "division by zero");
	ASSERT_RUN_ERROR("for v in 5 { }", NULL, ECL_ERR_TYPE, 1, 1,
					 "for loop needs an array, got number");
	{
		ran		   *r = run_src("let s = \"a\"\nreturn s * 2", NULL);

		UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
		UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_TYPE);
		UNIT_ASSERT_EQ_INT(r->err.line, 2);
		UNIT_ASSERT_EQ_INT(r->err.column, 10);
		r = run_src("return abs(\"x\")", NULL);
		UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
		UNIT_ASSERT_EQ_INT(r->err.line, 1);
		UNIT_ASSERT_EQ_INT(r->err.column, 8);
	}
}

/* "prefix" + n copies of unit + "suffix", on the heap */
static char *
repeat_text(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t		pl = strlen(prefix);
	size_t		ul = strlen(unit);
	size_t		sl = strlen(suffix);
	char	   *s = malloc(pl + ul * n + sl + 1);

	memcpy(s, prefix, pl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + pl + i * ul, unit, ul);
	memcpy(s + pl + ul * n, suffix, sl + 1);
	return s;
}

UNIT_TEST(compiler_handles_the_nesting_limits)
{
	char	   *src;
	char	   *full;
	ran		   *r;

	/* the longest chain the parser accepts compiles and runs */
	src = repeat_text("return x", " + x", 999, "");
	r = run_src(src, "{\"x\": 1}");
	free(src);
	UNIT_ASSERT_MSG(r->status == ECL_OK, "%s: %s", r->stage, r->err.message);
	UNIT_ASSERT_EQ_STR(r->value, "1000");

	/* a constant chain folds to one constant */
	src = repeat_text("return 1", " + 1", 999, "");
	UNIT_ASSERT_EQ_STR(code_of(src), "PUSH_CONST 1000; RETURN");
	free(src);

	/* blocks nested almost to the limit, with a deep expression inside */
	src = repeat_text("", "if x {\n", 150, "return (((((x + 1) * 2))))\n");
	full = repeat_text(src, "}\n", 150, "");
	free(src);
	r = run_src(full, "{\"x\": 1}");
	free(full);
	UNIT_ASSERT_MSG(r->status == ECL_OK, "%s: %s", r->stage, r->err.message);
	UNIT_ASSERT_EQ_STR(r->value, "4");
}

/* ------------------------------------------------------ declared inputs */

#define DOC_READ "policy doc_read(owner: did, classification: string, level?: number) {\n"

UNIT_TEST(declared_inputs_parse_and_compile)
{
	compiled	c;

	compile_load(&c, DOC_READ "  require classification != \"secret\" || level >= 3, \"too secret\"\n"
				 "  return input.owner == caller || input[\"level\"] != null\n}", NULL);
	UNIT_ASSERT_MSG(c.status == ECL_OK, "%s", c.err.message);
	UNIT_ASSERT(c.prog->declares_inputs);
	UNIT_ASSERT_EQ_INT(c.prog->ninputs, 3);
	UNIT_ASSERT_EQ_STR(c.prog->inputs[0].name, "owner");
	UNIT_ASSERT_EQ_INT(c.prog->inputs[0].type, ECL_IN_DID);
	UNIT_ASSERT(!c.prog->inputs[0].optional);
	UNIT_ASSERT_EQ_STR(c.prog->inputs[2].name, "level");
	UNIT_ASSERT_EQ_INT(c.prog->inputs[2].type, ECL_IN_NUMBER);
	UNIT_ASSERT(c.prog->inputs[2].optional);
	compiled_free(&c);
	/* empty parentheses declare "no inputs"; no parentheses declare nothing */
	compile_load(&c, "policy p() { return caller == null }", NULL);
	UNIT_ASSERT(c.status == ECL_OK && c.prog->declares_inputs && c.prog->ninputs == 0);
	compiled_free(&c);
	compile_load(&c, "policy p { return anything }", NULL);
	UNIT_ASSERT(c.status == ECL_OK && !c.prog->declares_inputs);
	compiled_free(&c);
	/* every type name, a trailing comma, newlines inside */
	compile_load(&c, "policy p(a: any, b: bool, c: number, d: string,\n e: did, f: array, g: object, h?: trust_vector,\n) { return true }", NULL);
	UNIT_ASSERT_MSG(c.status == ECL_OK, "%s", c.err.message);
	UNIT_ASSERT_EQ_INT(c.prog->ninputs, 8);
	UNIT_ASSERT_EQ_INT(c.prog->inputs[7].type, ECL_IN_TRUST_VECTOR);
	compiled_free(&c);
}

UNIT_TEST(declared_inputs_compile_errors)
{
	/* the silent hole: a misspelt field now fails at compile time */
	ASSERT_COMPILE_ERROR(DOC_READ "  return class == \"public\"\n}", NULL, ECL_ERR_SYNTAX, 2, 10,
						 "name 'class' is not a declared input of policy 'doc_read' (did you mean 'classification'?)");
	ASSERT_COMPILE_ERROR(DOC_READ "  return input.class == \"public\"\n}", NULL, ECL_ERR_SYNTAX, 2, 16,
						 "input field 'class' is not a declared input of policy 'doc_read' (did you mean 'classification'?)");
	ASSERT_COMPILE_ERROR(DOC_READ "  return input[\"lvel\"] > 1\n}", NULL, ECL_ERR_SYNTAX, 2, 15,
						 "input field 'lvel' is not a declared input of policy 'doc_read' (did you mean 'level'?)");
	ASSERT_COMPILE_ERROR(DOC_READ "  return ownr == caller\n}", NULL, ECL_ERR_SYNTAX, 2, 10,
						 "name 'ownr' is not a declared input of policy 'doc_read' (did you mean 'owner'?)");
	ASSERT_COMPILE_ERROR(DOC_READ "  return frobnicate\n}", NULL, ECL_ERR_SYNTAX, 2, 10,
						 "name 'frobnicate' is not a declared input of policy 'doc_read' (declare it in the parentheses after the policy name)");
	/* locals, constants and context names are still fine; a misspelt local is suggested */
	ASSERT_PASSES("const LIMIT = 3\n" DOC_READ "  let lv = level\n  return lv == null || lv <= LIMIT && realm == null\n}",
				  "{\"owner\": \"did:key:z6Mk\", \"classification\": \"x\"}", "true");
	ASSERT_COMPILE_ERROR(DOC_READ "  let limit = 1\n  return limt\n}", NULL, ECL_ERR_SYNTAX, 3, 10,
						 "name 'limt' is not a declared input of policy 'doc_read' (did you mean 'limit'?)");
	/* syntax of the declaration */
	ASSERT_COMPILE_ERROR("policy p(a: strng) { return true }", NULL, ECL_ERR_SYNTAX, 1, 13,
						 "unknown input type 'strng' (did you mean 'string'?)");
	ASSERT_COMPILE_ERROR("policy p(a string) { return true }", NULL, ECL_ERR_SYNTAX, 1, 12,
						 "expected ':' and a type after the input name, found identifier 'string'");
	ASSERT_COMPILE_ERROR("policy p(a: string, a?: number) { return true }", NULL, ECL_ERR_SYNTAX, 1, 21,
						 "input 'a' is already declared at line 1");
	ASSERT_COMPILE_ERROR("policy p(caller: did) { return true }", NULL, ECL_ERR_SYNTAX, 1, 10,
						 "'caller' is a context name and cannot be declared as an input (read it as input.caller in an undeclared policy)");
	/* undeclared policies keep reading any field */
	ASSERT_PASSES("policy p { return input.class == class }", "{\"class\": 1}", "true");
}

UNIT_TEST(declared_inputs_checked_before_the_first_instruction)
{
	const char *src = DOC_READ "  return level == null || level > 1\n}";

	ASSERT_PASSES(src, "{\"owner\": \"did:key:z6Mkabc\", \"classification\": \"public\"}", "true");
	ASSERT_PASSES(src, "{\"owner\": \"did:key:z6Mkabc\", \"classification\": \"public\", \"level\": null}", "true");
	ASSERT_PASSES(src, "{\"owner\": \"did:key:z6Mkabc\", \"classification\": \"public\", \"level\": 2, \"extra\": []}", "true");
	ASSERT_RUN_ERROR(src, "{\"owner\": \"did:key:z6Mkabc\"}", ECL_ERR_TYPE, 0, 0,
					 "missing input field 'classification' (declared string)");
	ASSERT_RUN_ERROR(src, "{\"owner\": \"did:key:z6Mkabc\", \"classification\": null}", ECL_ERR_TYPE, 0, 0,
					 "null input field 'classification' (declared string)");
	ASSERT_RUN_ERROR(src, "{\"owner\": \"did:key:z6Mkabc\", \"classification\": 3}", ECL_ERR_TYPE, 0, 0,
					 "input field 'classification' must be a string, got number");
	ASSERT_RUN_ERROR(src, "{\"owner\": \"alice\", \"classification\": \"x\"}", ECL_ERR_TYPE, 0, 0,
					 "input field 'owner' must be a did, got string");
	ASSERT_RUN_ERROR(src, "{\"owner\": \"did:key:z6Mkabc\", \"classification\": \"x\", \"level\": \"3\"}", ECL_ERR_TYPE, 0, 0,
					 "input field 'level' must be a number, got string");
	/* the check runs before any instruction: no gas is used */
	{
		ran		   *r = run_src(src, "{}");

		UNIT_ASSERT_EQ_INT(r->gas, 0);
	}
	ASSERT_PASSES("policy p(t: trust_vector, a: array, o: object, b: bool, x: any) { return true }",
				  "{\"t\": {\"r\":1,\"i\":1,\"c\":1,\"p\":1,\"v\":1,\"omega\":1}, \"a\": [], \"o\": {}, \"b\": false, \"x\": 0}", "true");
	ASSERT_RUN_ERROR("policy p(t: trust_vector) { return true }", "{\"t\": {\"r\": 1}}", ECL_ERR_TYPE, 0, 0,
					 "input field 't' must be a trust_vector, got object");
	ASSERT_RUN_ERROR("policy p(x: any) { return true }", "{}", ECL_ERR_TYPE, 0, 0,
					 "missing input field 'x' (declared any)");
}

/* ---------------------------------------------------------------- tracing */

typedef struct trace_log
{
	char		text[2048];
	int64_t		last_gas;
	int			n;
} trace_log;

static void
log_event(void *tctx, const ecl_trace_event *ev)
{
	trace_log  *t = tctx;
	size_t		at = strlen(t->text);
	static const char *const kinds[] = {"require", "branch", "short", "host", "return", "deny"};

	snprintf(t->text + at, sizeof(t->text) - at, "%s@%u:%u%s%s%s;", kinds[ev->kind],
			 ev->line, ev->column,
			 ev->kind == ECL_TRACE_REQUIRE || ev->kind == ECL_TRACE_RETURN ?
			 (ev->passed ? " passed" : " failed") :
			 ev->kind == ECL_TRACE_BRANCH || ev->kind == ECL_TRACE_SHORT_CIRCUIT ?
			 (ev->jumped ? " jumped" : " fell") : "",
			 ev->message ? " " : "", ev->message ? ev->message : "");
	/* gas never goes back */
	UNIT_ASSERT(ev->gas >= t->last_gas);
	t->last_gas = ev->gas;
	t->n++;
}

UNIT_TEST(trace_reports_decisions_at_their_lines)
{
	trace_log	t;
	const char *src = "policy p {\n"
		"  if amount > 10 {\n"
		"    require amount < 100 && ok, \"too much\"\n"
		"  }\n"
		"  return true\n"
		"}";
	ran		   *r;

	memset(&t, 0, sizeof(t));
	run_trace = log_event;
	run_trace_ctx = &t;
	r = run_src(src, "{\"amount\": 500, \"ok\": true}");
	UNIT_ASSERT_EQ_INT(r->outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(t.text, "branch@2:3 fell;short@3:26 jumped;require@3:5 failed too much;");
	/* the last event of a denied run carries all of its gas */
	UNIT_ASSERT_EQ_INT(t.last_gas, r->gas);

	memset(&t, 0, sizeof(t));
	r = run_src(src, "{\"amount\": 5}");
	UNIT_ASSERT_EQ_INT(r->outcome, ECL_OUTCOME_PASSED);
	UNIT_ASSERT_EQ_STR(t.text, "branch@2:3 jumped;return@5:3 passed;");
	UNIT_ASSERT_EQ_INT(t.last_gas, r->gas);
	{
		int64_t		traced_gas = r->gas;

		run_trace = NULL;
		r = run_src(src, "{\"amount\": 5}");
		/* tracing changes nothing of the run */
		UNIT_ASSERT_EQ_INT(r->gas, traced_gas);
		UNIT_ASSERT_EQ_INT(t.n, 2);
	}
	/* a run stopped by the input check, before any instruction, reports nothing */
	memset(&t, 0, sizeof(t));
	run_trace = log_event;
	r = run_src("policy p(a: number) { return a }", "{}");
	UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
	UNIT_ASSERT_EQ_INT(t.n, 0);
	/* a host call that fails is reported as failed, then the run's error */
	memset(&t, 0, sizeof(t));
	r = run_src("policy p { log(\"x\")\n return true }", "{}");
	UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
	UNIT_ASSERT_EQ_STR(t.text, "host@1:12;");
	run_trace = NULL;
	run_trace_ctx = NULL;
}
