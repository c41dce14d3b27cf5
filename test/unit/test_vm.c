/*
 * test_vm.c — the ECLVM on hand-assembled programs: every instruction's
 * semantics, every error path (code, message, line/column), gas and mana
 * accounting, limits, the interrupt hook, read-only runs, the null-did rules
 * and the nested store functions on the fixture host (docs/language.md §5–§8, §4).
 */
#include <math.h>
#include <stdlib.h>

#include "ecl/vm.h"
#include "test_host.h"
#include "unit.h"

static test_run T;

/* a fresh run context with the given input JSON (NULL = {}) */
static void
fresh(const char *input)
{
	test_run_free(&T);
	test_run_init(&T, input);
}

#define EXEC(consts_, code_, nlocals_) test_run_exec(&T, consts_, code_, nlocals_)

#define ASSERT_VALUE(consts_, code_, nlocals_, want_) do { \
	UNIT_ASSERT_MSG(EXEC(consts_, code_, nlocals_) == ECL_OK, "run failed: %s", T.res.error.message); \
	UNIT_ASSERT_EQ_STR(T.value_json, want_); \
} while (0)

#define ASSERT_ERROR(consts_, code_, nlocals_, ecode_, msg_) do { \
	UNIT_ASSERT_MSG(EXEC(consts_, code_, nlocals_) == ECL_FAIL, "run did not fail: %s", T.value_json); \
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_ERROR); \
	UNIT_ASSERT_EQ_INT(T.res.error.code, ecode_); \
	UNIT_ASSERT_EQ_STR(T.res.error.message, msg_); \
	UNIT_ASSERT_EQ_STR(T.value_json, "null"); \
} while (0)

/* ------------------------------------------------------ stack and locals */

UNIT_TEST(vm_stack_instructions)
{
	fresh(NULL);
	ASSERT_VALUE("[1, \"two\"]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; PUSH_TRUE; PUSH_FALSE; MAKE_ARRAY 5; RETURN",
				 0, "[1,\"two\",null,true,false]");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_PASSED);
	ASSERT_VALUE("[1, 2, 3]", "PUSH_CONST 0; PUSH_CONST 1; SWAP; MAKE_ARRAY 2; RETURN", 0, "[2,1]");
	ASSERT_VALUE("[1, 2, 3]", "PUSH_CONST 0; DUP; MAKE_ARRAY 2; RETURN", 0, "[1,1]");
	ASSERT_VALUE("[1, 2, 3]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PICK 2; PICK 1; MAKE_ARRAY 5; RETURN",
				 0, "[1,2,3,1,3]");
	ASSERT_VALUE("[1, 2]", "PUSH_CONST 0; PUSH_CONST 1; POP; RETURN", 0, "1");
	/* locals start as null */
	ASSERT_VALUE("[5]", "LOAD_LOCAL 1; PUSH_CONST 0; STORE_LOCAL 0; LOAD_LOCAL 0; MAKE_ARRAY 2; RETURN",
				 2, "[null,5]");
	test_run_free(&T);
}

UNIT_TEST(vm_run_context)
{
	fresh("{\"amount\": 12, \"tags\": [\"a\"]}");
	ASSERT_VALUE(NULL, "LOAD_CALLER; LOAD_REALM; MAKE_ARRAY 2; RETURN", 0, "[\"did:test:alice\",\"realm1\"]");
	ASSERT_VALUE(NULL, "LOAD_CALLER; RETURN", 0, "\"did:test:alice\"");
	UNIT_ASSERT_EQ_INT(T.res.value.type, ECL_T_DID);
	ASSERT_VALUE(NULL, "LOAD_INPUT; RETURN", 0, "{\"amount\":12,\"tags\":[\"a\"]}");
	ASSERT_VALUE("[\"amount\", \"tags\"]", "LOAD_INPUT_FIELD 0; LOAD_INPUT_FIELD 1; MAKE_ARRAY 2; RETURN",
				 0, "[12,[\"a\"]]");
	ASSERT_ERROR("[\"amount\", \"limit\"]", "LOAD_INPUT_FIELD 0 @2:5; LOAD_INPUT_FIELD 1 @3:14; ADD; RETURN",
				 0, ECL_ERR_TYPE, "missing input field 'limit'");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 3);
	UNIT_ASSERT_EQ_INT(T.res.error.column, 14);
	UNIT_ASSERT_EQ_STR(T.res.error.policy, "test_policy");
	/* no caller, no realm, no input source */
	T.ctx.caller = ecl_null();
	T.ctx.realm = ecl_null();
	memset(&T.ctx.input, 0, sizeof(T.ctx.input));
	ASSERT_VALUE(NULL, "LOAD_CALLER; LOAD_REALM; LOAD_INPUT; MAKE_ARRAY 3; RETURN", 0, "[null,null,{}]");
	ASSERT_ERROR("[\"x\"]", "LOAD_INPUT_FIELD 0; RETURN", 0, ECL_ERR_TYPE, "missing input field 'x'");
	test_run_free(&T);
}

/* -------------------------------------------------------- member access */

UNIT_TEST(vm_field_and_index_access)
{
	fresh("{\"o\": {\"a\": {\"b\": 7}}, \"arr\": [10, 20, 30]}");
	ASSERT_VALUE("[\"o\", \"a\", \"b\"]", "LOAD_INPUT_FIELD 0; GET_FIELD 1; GET_FIELD 2; RETURN", 0, "7");
	ASSERT_VALUE("[\"o\", \"zz\"]", "LOAD_INPUT_FIELD 0; GET_FIELD 1; RETURN", 0, "null");
	ASSERT_ERROR("[\"o\", \"zz\", \"x\"]", "LOAD_INPUT_FIELD 0; GET_FIELD 1 @1:2; GET_FIELD 2 @1:5; RETURN",
				 0, ECL_ERR_TYPE, "cannot read field 'x' of null");
	UNIT_ASSERT_EQ_INT(T.res.error.column, 5);
	ASSERT_ERROR("[\"arr\", \"x\"]", "LOAD_INPUT_FIELD 0; GET_FIELD 1; RETURN",
				 0, ECL_ERR_TYPE, "cannot read field 'x' of array");
	ASSERT_ERROR("[5, \"x\"]", "PUSH_CONST 0; GET_FIELD 1; RETURN",
				 0, ECL_ERR_TYPE, "cannot read field 'x' of number");
	/* index */
	ASSERT_VALUE("[\"arr\", 1, 3, -1]",
				 "LOAD_INPUT_FIELD 0; PUSH_CONST 1; GET_INDEX; LOAD_INPUT_FIELD 0; PUSH_CONST 2; GET_INDEX;"
				 "LOAD_INPUT_FIELD 0; PUSH_CONST 3; GET_INDEX; MAKE_ARRAY 3; RETURN", 0, "[20,null,null]");
	ASSERT_ERROR("[\"arr\", 1.5]", "LOAD_INPUT_FIELD 0; PUSH_CONST 1; GET_INDEX; RETURN",
				 0, ECL_ERR_TYPE, "array index must be an integer, got 1.5");
	ASSERT_ERROR("[\"arr\", \"0\"]", "LOAD_INPUT_FIELD 0; PUSH_CONST 1; GET_INDEX; RETURN",
				 0, ECL_ERR_TYPE, "cannot index array with string");
	ASSERT_VALUE("[\"o\", \"a\", \"q\"]",
				 "LOAD_INPUT_FIELD 0; PUSH_CONST 1; GET_INDEX; LOAD_INPUT_FIELD 0; PUSH_CONST 2; GET_INDEX;"
				 "MAKE_ARRAY 2; RETURN", 0, "[{\"b\":7},null]");
	ASSERT_ERROR("[\"o\", 1]", "LOAD_INPUT_FIELD 0; PUSH_CONST 1; GET_INDEX; RETURN",
				 0, ECL_ERR_TYPE, "cannot index object with number");
	ASSERT_ERROR("[1]", "PUSH_NULL; PUSH_CONST 0; GET_INDEX; RETURN",
				 0, ECL_ERR_TYPE, "cannot index null with number");
	test_run_free(&T);
}

UNIT_TEST(vm_trust_dimensions)
{
	fresh(NULL);
	test_host_add_trust(&T.host, "did:test:alice", "realm1", 0.9, 0.8, 0.7, 0.6, 0.5, 0.4);
	ASSERT_VALUE("[\"r\", \"i\", \"c\", \"p\", \"v\", \"omega\", \"R\", \"\xce\xa9\"]",
				 "CALLER_TRUST; GET_FIELD 0; CALLER_TRUST; GET_FIELD 1; CALLER_TRUST; GET_FIELD 2;"
				 "CALLER_TRUST; GET_FIELD 3; CALLER_TRUST; GET_FIELD 4; CALLER_TRUST; GET_FIELD 5;"
				 "CALLER_TRUST; GET_FIELD 6; CALLER_TRUST; GET_FIELD 7; MAKE_ARRAY 8; RETURN",
				 0, "[0.9,0.8,0.7,0.6,0.5,0.4,0.9,0.4]");
	/* looked up once per run */
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 1);
	ASSERT_VALUE(NULL, "CALLER_TRUST; TRUST_DIM 0; CALLER_TRUST; TRUST_DIM 5; MAKE_ARRAY 2; RETURN",
				 0, "[0.9,0.4]");
	ASSERT_ERROR("[\"x\"]", "CALLER_TRUST; GET_FIELD 0; RETURN", 0, ECL_ERR_TYPE,
				 "cannot read field 'x' of trust_vector");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; TRUST_DIM 2; RETURN", 0, ECL_ERR_TYPE,
				 "cannot read trust dimension 'c' of number");
	ASSERT_VALUE(NULL, "CALLER_TRUST; RETURN", 0,
				 "{\"r\":0.9,\"i\":0.8,\"c\":0.7,\"p\":0.6,\"v\":0.5,\"omega\":0.4}");
	test_run_free(&T);
}

/* --------------------------------------------------- arithmetic and logic */

UNIT_TEST(vm_arithmetic)
{
	fresh(NULL);
	ASSERT_VALUE("[7, 2, 0.5]",
				 "PUSH_CONST 0; PUSH_CONST 1; ADD; PUSH_CONST 0; PUSH_CONST 1; SUB; PUSH_CONST 0; PUSH_CONST 1; MUL;"
				 "PUSH_CONST 0; PUSH_CONST 1; DIV; PUSH_CONST 0; PUSH_CONST 1; MOD; PUSH_CONST 2; NEG;"
				 "MAKE_ARRAY 6; RETURN", 0, "[9,5,14,3.5,1,-0.5]");
	ASSERT_VALUE("[\"n=\", 2, true]", "PUSH_CONST 0; PUSH_CONST 1; ADD; PUSH_CONST 2; ADD; RETURN", 0, "\"n=2true\"");
	ASSERT_ERROR("[1, 0]", "PUSH_CONST 0; PUSH_CONST 1; DIV @4:9; RETURN", 0, ECL_ERR_DIV_ZERO, "division by zero");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 4);
	UNIT_ASSERT_EQ_INT(T.res.error.column, 9);
	ASSERT_ERROR("[1, 0]", "PUSH_CONST 0; PUSH_CONST 1; MOD; RETURN", 0, ECL_ERR_DIV_ZERO, "division by zero");
	ASSERT_ERROR("[1e308, 10]", "PUSH_CONST 0; PUSH_CONST 1; MUL; RETURN", 0, ECL_ERR_NUMERIC, "numeric overflow");
	ASSERT_ERROR("[1e308]", "PUSH_CONST 0; DUP; ADD; RETURN", 0, ECL_ERR_NUMERIC, "numeric overflow");
	ASSERT_ERROR("[-1e308]", "PUSH_CONST 0; DUP; NEG; SUB; RETURN", 0, ECL_ERR_NUMERIC, "numeric overflow");
	ASSERT_ERROR("[1e308, 0.1]", "PUSH_CONST 0; PUSH_CONST 1; DIV; RETURN", 0, ECL_ERR_NUMERIC, "numeric overflow");
	ASSERT_ERROR("[\"a\", 1]", "PUSH_CONST 0; PUSH_CONST 1; SUB; RETURN", 0, ECL_ERR_TYPE,
				 "cannot apply '-' to string and number");
	ASSERT_ERROR("[1]", "PUSH_TRUE; PUSH_CONST 0; MUL; RETURN", 0, ECL_ERR_TYPE,
				 "cannot apply '*' to bool and number");
	ASSERT_ERROR(NULL, "PUSH_NULL; NEG; RETURN", 0, ECL_ERR_TYPE, "cannot apply unary '-' to null");
	test_run_free(&T);
}

UNIT_TEST(vm_comparisons_and_logic)
{
	fresh(NULL);
	ASSERT_VALUE("[1, 2]",
				 "PUSH_CONST 0; PUSH_CONST 1; LT; PUSH_CONST 0; PUSH_CONST 1; LE; PUSH_CONST 0; PUSH_CONST 1; GT;"
				 "PUSH_CONST 0; PUSH_CONST 1; GE; PUSH_CONST 0; PUSH_CONST 0; EQ; PUSH_CONST 0; PUSH_CONST 1; NE;"
				 "MAKE_ARRAY 6; RETURN", 0, "[true,true,false,false,true,true]");
	ASSERT_VALUE("[\"abc\", \"abd\", 1, \"1\"]",
				 "PUSH_CONST 0; PUSH_CONST 1; LT; PUSH_CONST 2; PUSH_CONST 3; EQ; PUSH_CONST 2; PUSH_CONST 3; NE;"
				 "PUSH_NULL; PUSH_FALSE; EQ; MAKE_ARRAY 4; RETURN", 0, "[true,false,true,false]");
	ASSERT_ERROR("[\"a\", 1]", "PUSH_CONST 0; PUSH_CONST 1; LT @2:3; RETURN", 0, ECL_ERR_TYPE,
				 "cannot apply '<' to string and number");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 2);
	UNIT_ASSERT_EQ_INT(T.res.error.column, 3);
	ASSERT_VALUE("[0, \"\", \"x\"]",
				 "PUSH_CONST 0; NOT; PUSH_CONST 1; TO_BOOL; PUSH_CONST 2; TO_BOOL; PUSH_NULL; NOT; PUSH_TRUE; NOT;"
				 "MAKE_ARRAY 5; RETURN", 0, "[true,false,true,true,false]");
	/* AND leaves false and jumps when falsy, else pops and continues */
	ASSERT_VALUE("[0, 5]", "PUSH_CONST 0; AND 3; PUSH_CONST 1; RETURN", 0, "false");
	ASSERT_VALUE("[0, 5]", "PUSH_CONST 1; AND 3; PUSH_CONST 0; RETURN", 0, "0");
	/* OR leaves true and jumps when truthy */
	ASSERT_VALUE("[0, 5]", "PUSH_CONST 1; OR 3; PUSH_CONST 0; RETURN", 0, "true");
	ASSERT_VALUE("[0, 5]", "PUSH_CONST 0; OR 3; PUSH_CONST 1; RETURN", 0, "5");
	/* conditional jumps */
	ASSERT_VALUE("[1, 2]", "PUSH_NULL; JUMP_IF_FALSE 4; PUSH_CONST 0; RETURN; PUSH_CONST 1; RETURN", 0, "2");
	ASSERT_VALUE("[1, 2]", "PUSH_TRUE; JUMP_IF_FALSE 4; PUSH_CONST 0; RETURN; PUSH_CONST 1; RETURN", 0, "1");
	ASSERT_VALUE("[1, 2]", "PUSH_CONST 0; JUMP_IF_TRUE 4; PUSH_CONST 0; RETURN; PUSH_CONST 1; RETURN", 0, "2");
	ASSERT_VALUE("[1, 2]", "JUMP 3; PUSH_CONST 0; RETURN; PUSH_CONST 1; RETURN", 0, "2");
	test_run_free(&T);
}

/* ------------------------------------------------------------- outcomes */

UNIT_TEST(vm_outcomes_require_deny_return)
{
	fresh(NULL);
	ASSERT_VALUE("[\"amount exceeds limit\"]", "PUSH_FALSE @7:3; REQUIRE 0 @7:3; PUSH_TRUE; RETURN", 0, "false");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(T.res.message, "amount exceeds limit");
	ASSERT_VALUE(NULL, "PUSH_NULL; REQUIRE none @12:1; PUSH_TRUE; RETURN", 0, "false");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(T.res.message, "require failed at line 12");
	ASSERT_VALUE("[\"KYC required\"]", "PUSH_TRUE; REQUIRE 0; DENY 0; ", 0, "false");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(T.res.message, "KYC required");
	ASSERT_VALUE(NULL, "DENY none @5:2", 0, "false");
	UNIT_ASSERT_EQ_STR(T.res.message, "require failed at line 5");
	/* ASSERT has no message operand: constant 0 is not its message */
	ASSERT_VALUE("[\"not the message\"]", "PUSH_CONST 0; POP; PUSH_FALSE @3:1; ASSERT @3:1; PUSH_TRUE; RETURN",
				 0, "false");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(T.res.message, "require failed at line 3");
	ASSERT_VALUE(NULL, "PUSH_TRUE; ASSERT; PUSH_NULL; RETURN", 0, "null");
	/* return: passed iff truthy, a falsy return denies without message */
	ASSERT_VALUE("[{\"ok\":1}]", "PUSH_CONST 0; RETURN", 0, "{\"ok\":1}");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_PASSED);
	UNIT_ASSERT(T.res.message == NULL);
	ASSERT_VALUE("[0]", "PUSH_CONST 0; RETURN", 0, "0");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT(T.res.message == NULL);
	ASSERT_VALUE(NULL, "PUSH_NULL; RETURN", 0, "null");
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	test_run_free(&T);
}

/* ----------------------------------------------------------- iteration */

UNIT_TEST(vm_iteration_and_collections)
{
	fresh("{\"values\": [1, 2, 3, 4]}");
	/* total = 0; for v in values { total = total + v }; return total */
	ASSERT_VALUE("[\"values\", 0]",
				 "PUSH_CONST 1; STORE_LOCAL 2; LOAD_INPUT_FIELD 0; ITER_INIT 0;"
				 "ITER_HAS 0; JUMP_IF_FALSE 11; ITER_GET 0; LOAD_LOCAL 2; ADD; STORE_LOCAL 2; JUMP 4;"
				 "LOAD_LOCAL 2; RETURN", 3, "10");
	ASSERT_ERROR("[5]", "PUSH_CONST 0; ITER_INIT 0 @3:1; PUSH_TRUE; RETURN", 2, ECL_ERR_TYPE,
				 "for loop needs an array, got number");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 3);
	/* verified but ill-formed use of an iterator slot fails cleanly */
	ASSERT_ERROR(NULL, "ITER_HAS 0; RETURN", 2, ECL_ERR_TYPE, "iterator in slot 0 is not initialised");
	ASSERT_ERROR("[[]]", "PUSH_CONST 0; ITER_INIT 0; ITER_GET 0; RETURN", 2, ECL_ERR_TYPE,
				 "iterator in slot 0 is exhausted");
	/* collections */
	ASSERT_VALUE("[\"a\", \"b\", 1, 2]",
				 "PUSH_CONST 0; PUSH_CONST 2; PUSH_CONST 1; PUSH_CONST 3; PUSH_CONST 0; PUSH_CONST 3;"
				 "MAKE_OBJECT 3; RETURN", 0, "{\"a\":2,\"b\":2}");
	ASSERT_VALUE(NULL, "MAKE_ARRAY 0; MAKE_OBJECT 0; MAKE_ARRAY 2; RETURN", 0, "[[],{}]");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; PUSH_CONST 0; MAKE_OBJECT 1; RETURN", 0, ECL_ERR_TYPE,
				 "object key must be a string, got number");
	test_run_free(&T);
}

/* ------------------------------------------------------ pure built-ins */

UNIT_TEST(vm_trust_builtins)
{
	fresh(NULL);
	ASSERT_VALUE("[0.5, 0, 1, 0.25]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "RETURN", 0, "{\"r\":0.5,\"i\":0,\"c\":1,\"p\":0.25,\"v\":0.5,\"omega\":0.5}");
	ASSERT_VALUE("[0.5, 0, 1, 0.25]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "TRUST_NORM; RETURN", 0, "0.4583333333333333");
	ASSERT_ERROR("[0.5, 1.5]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "RETURN", 0, ECL_ERR_INVALID_ARG, "trust_create: argument 3 must be a number in [0, 1]");
	ASSERT_ERROR("[0.5, \"x\"]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 1; TRUST_CREATE;"
				 "RETURN", 0, ECL_ERR_INVALID_ARG, "trust_create: argument 6 must be a number in [0, 1]");
	/* combine: 1 - (1-a)(1-b) with a = b = 0.5 -> 0.75 */
	ASSERT_VALUE("[0.5]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "DUP; TRUST_COMBINE; TRUST_DIM 5; RETURN", 0, "0.75");
	/* above threshold, distance */
	ASSERT_VALUE("[0.5, 0.4, 0.6, 0]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "STORE_LOCAL 0; LOAD_LOCAL 0; PUSH_CONST 1; TRUST_ABOVE; LOAD_LOCAL 0; PUSH_CONST 0; TRUST_ABOVE;"
				 "LOAD_LOCAL 0; PUSH_CONST 2; TRUST_ABOVE; LOAD_LOCAL 0;"
				 "PUSH_CONST 3; PUSH_CONST 3; PUSH_CONST 3; PUSH_CONST 3; PUSH_CONST 3; PUSH_CONST 3; TRUST_CREATE;"
				 "TRUST_DISTANCE; MAKE_ARRAY 4; RETURN", 1, "[true,true,false,1.224744871391589]");
	/* weighted average */
	ASSERT_VALUE("[0.5, 1, 0, [1, 1, 0, 0, 0, 2]]",
				 "PUSH_CONST 1; PUSH_CONST 0; PUSH_CONST 2; PUSH_CONST 2; PUSH_CONST 2; PUSH_CONST 1; TRUST_CREATE;"
				 "PUSH_CONST 3; TRUST_WAVG; RETURN", 0, "0.875");
	ASSERT_ERROR("[0.5, [0, 0, 0, 0, 0, 0]]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "PUSH_CONST 1; TRUST_WAVG; RETURN", 0, ECL_ERR_DIV_ZERO,
				 "division by zero: trust_weighted_avg weights sum to 0");
	ASSERT_ERROR("[0.5, [1, 1]]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "PUSH_CONST 1; TRUST_WAVG; RETURN", 0, ECL_ERR_INVALID_ARG,
				 "trust_weighted_avg: weights must be an array of 6 numbers");
	ASSERT_ERROR("[0.5, [1, 1, 1, 1, 1, \"x\"]]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; PUSH_CONST 0; TRUST_CREATE;"
				 "PUSH_CONST 1; TRUST_WAVG; RETURN", 0, ECL_ERR_INVALID_ARG,
				 "trust_weighted_avg: weights must be an array of 6 numbers");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; TRUST_NORM; RETURN", 0, ECL_ERR_TYPE,
				 "trust_norm: argument 1 must be a trust_vector, got number");
	ASSERT_ERROR("[1]", "CALLER_TRUST; PUSH_CONST 0; TRUST_COMBINE; RETURN", 0, ECL_ERR_TYPE,
				 "trust_combine: argument 2 must be a trust_vector, got number");
	ASSERT_ERROR("[\"x\"]", "CALLER_TRUST; PUSH_CONST 0; TRUST_ABOVE; RETURN", 0, ECL_ERR_TYPE,
				 "trust_above_threshold: argument 2 must be a number, got string");
	test_run_free(&T);
}

UNIT_TEST(vm_math_builtins)
{
	fresh(NULL);
	ASSERT_VALUE("[-2.5, 16, 2.5, 0.49999999999999994, 1.5]",
				 "PUSH_CONST 0; ABS; PUSH_CONST 1; SQRT; PUSH_CONST 0; FLOOR; PUSH_CONST 0; CEIL;"
				 "PUSH_CONST 2; ROUND; PUSH_CONST 0; ROUND; PUSH_CONST 3; ROUND; PUSH_CONST 4; ROUND;"
				 "MAKE_ARRAY 8; RETURN", 0, "[2.5,4,-3,-2,3,-3,0,2]");
	ASSERT_VALUE("[3, 8, 0, 10]",
				 "PUSH_CONST 0; PUSH_CONST 1; MIN; PUSH_CONST 0; PUSH_CONST 1; MAX;"
				 "PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 0; CLAMP; PUSH_CONST 2; PUSH_CONST 2; PUSH_CONST 0; CLAMP;"
				 "PUSH_CONST 2; PUSH_CONST 3; PUSH_CONST 0; LERP; MAKE_ARRAY 5; RETURN", 0, "[3,8,3,0,30]");
	ASSERT_VALUE("[1, 0.25, 0.5]",
				 "PUSH_CONST 0; SURPRISAL; PUSH_CONST 1; SURPRISAL; PUSH_CONST 2; SURPRISAL; MAKE_ARRAY 3; RETURN",
				 0, "[0,2,1]");
	ASSERT_ERROR("[0]", "PUSH_CONST 0; SURPRISAL; RETURN", 0, ECL_ERR_INVALID_ARG,
				 "surprisal: probability must be in (0, 1]");
	ASSERT_ERROR("[1.5]", "PUSH_CONST 0; SURPRISAL; RETURN", 0, ECL_ERR_INVALID_ARG,
				 "surprisal: probability must be in (0, 1]");
	ASSERT_ERROR("[-1]", "PUSH_CONST 0; SQRT @9:1; RETURN", 0, ECL_ERR_NUMERIC, "sqrt of a negative number");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 9);
	ASSERT_ERROR("[\"x\"]", "PUSH_CONST 0; ABS; RETURN", 0, ECL_ERR_TYPE,
				 "abs: argument 1 must be a number, got string");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; PUSH_NULL; MAX; RETURN", 0, ECL_ERR_TYPE,
				 "max: argument 2 must be a number, got null");
	ASSERT_ERROR("[1e308, -1e308]", "PUSH_CONST 1; PUSH_CONST 0; PUSH_CONST 0; LERP; RETURN", 0,
				 ECL_ERR_NUMERIC, "numeric overflow");
	test_run_free(&T);
}

UNIT_TEST(vm_string_and_collection_builtins)
{
	fresh(NULL);
	ASSERT_VALUE("[\"h\xc3\xa9llo\", \"ll\", \"HeLLo\", \"hello\", \"\"]",
				 "PUSH_CONST 0; STR_LEN; PUSH_CONST 0; PUSH_CONST 1; STR_CONTAINS; PUSH_CONST 3; PUSH_CONST 2;"
				 "STR_EQ_IGNORE_CASE; PUSH_CONST 0; PUSH_CONST 2; STR_EQ_IGNORE_CASE; PUSH_CONST 3; PUSH_CONST 4;"
				 "STR_CONTAINS; PUSH_CONST 4; PUSH_CONST 3; STR_CONTAINS; MAKE_ARRAY 6; RETURN",
				 0, "[5,true,true,false,true,false]");
	ASSERT_VALUE("[[5, 6, \"x\"], 1, 2, \"x\", 7]",
				 "PUSH_CONST 0; ARRAY_LEN; PUSH_CONST 0; PUSH_CONST 1; ARRAY_GET; PUSH_CONST 0; PUSH_CONST 2;"
				 "ARRAY_GET; PUSH_CONST 3; PUSH_CONST 0; CONTAINS; PUSH_CONST 4; PUSH_CONST 0; CONTAINS;"
				 "MAKE_ARRAY 5; RETURN", 0, "[3,6,\"x\",true,false]");
	/* array_get out of range is a type error, as in the reference ECLVM */
	ASSERT_ERROR("[[5, 6, \"x\"], 3]", "PUSH_CONST 0; PUSH_CONST 1; ARRAY_GET; RETURN", 0, ECL_ERR_TYPE,
				 "array_get: index 3 out of range for an array of 3 elements");
	ASSERT_ERROR("[[5], -1]", "PUSH_CONST 0; PUSH_CONST 1; ARRAY_GET; RETURN", 0, ECL_ERR_TYPE,
				 "array_get: index -1 out of range for an array of 1 element");
	ASSERT_ERROR("[[], 0]", "PUSH_CONST 0; PUSH_CONST 1; ARRAY_GET; RETURN", 0, ECL_ERR_TYPE,
				 "array_get: index 0 out of range for an array of 0 elements");
	/* GET_INDEX (arr[i]) stays null out of range */
	ASSERT_VALUE("[[5], 3]", "PUSH_CONST 0; PUSH_CONST 1; GET_INDEX; RETURN", 0, "null");
	ASSERT_VALUE("[\"\xe2\x82\xac\xe2\x82\xac\", [1, 2], {\"z\": 1, \"a\": 2, \"m\": 3}, \"a\", \"q\"]",
				 "PUSH_CONST 0; LEN; PUSH_CONST 1; LEN; PUSH_CONST 2; LEN; PUSH_CONST 2; KEYS;"
				 "PUSH_CONST 2; PUSH_CONST 3; HAS; PUSH_CONST 2; PUSH_CONST 4; HAS; MAKE_ARRAY 6; RETURN",
				 0, "[2,2,3,[\"z\",\"a\",\"m\"],true,false]");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; LEN; RETURN", 0, ECL_ERR_TYPE,
				 "len: argument 1 must be a string, array or object, got number");
	ASSERT_ERROR("[1, \"abc\"]", "PUSH_CONST 0; PUSH_CONST 1; CONTAINS; RETURN", 0, ECL_ERR_TYPE,
				 "contains: argument 2 must be an array, got string");
	ASSERT_ERROR("[[1], 0.5]", "PUSH_CONST 0; PUSH_CONST 1; ARRAY_GET; RETURN", 0, ECL_ERR_TYPE,
				 "array_get: index must be an integer, got 0.5");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; STR_LEN; RETURN", 0, ECL_ERR_TYPE,
				 "str_len: argument 1 must be a string, got number");
	ASSERT_ERROR("[[1]]", "PUSH_CONST 0; KEYS; RETURN", 0, ECL_ERR_TYPE,
				 "keys: argument 1 must be an object, got array");
	test_run_free(&T);
}

/* --------------------------------------------------------- host built-ins */

UNIT_TEST(vm_host_identity_builtins)
{
	fresh(NULL);
	test_host_add_trust(&T.host, "did:bob", "", 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
	test_host_add_trust(&T.host, "did:bob", "realm1", 0.2, 0.2, 0.2, 0.2, 0.2, 0.2);
	test_host_add_trust(&T.host, "did:carol", "", 0.3, 0.3, 0.3, 0.3, 0.3, 0.3);
	test_host_add_trust(&T.host, "did:carol", "other", 0.9, 0.9, 0.9, 0.9, 0.9, 0.9);
	test_host_add_credential(&T.host, "did:bob", "kyc");
	test_host_add_identity(&T.host, "did:bob", false);
	test_host_add_identity(&T.host, "did:carol", true);
	test_host_set_balance(&T.host, "did:bob", 250.5);
	test_host_set_metric(&T.host, "policies_executed", 42);
	T.host.timestamp = 1000;
	/* realm row first, then the global row, else the zero vector */
	ASSERT_VALUE("[\"did:bob\", \"did:carol\", \"did:nobody\"]",
				 "PUSH_CONST 0; LOAD_TRUST; TRUST_DIM 0; PUSH_CONST 1; LOAD_TRUST; TRUST_DIM 0;"
				 "PUSH_CONST 2; LOAD_TRUST; TRUST_NORM; MAKE_ARRAY 3; RETURN", 0, "[0.2,0.3,0]");
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 3);
	ASSERT_VALUE("[\"did:bob\", \"did:carol\", \"kyc\", \"aml\"]",
				 "PUSH_CONST 0; PUSH_CONST 2; HAS_CREDENTIAL; PUSH_CONST 0; PUSH_CONST 3; HAS_CREDENTIAL;"
				 "PUSH_CONST 0; RESOLVE_DID; PUSH_CONST 1; RESOLVE_DID; PUSH_CONST 0; GET_BALANCE;"
				 "PUSH_CONST 1; GET_BALANCE; MAKE_ARRAY 6; RETURN", 0, "[true,false,true,false,250.5,0]");
	ASSERT_VALUE("[\"policies_executed\", \"nope\", 400]",
				 "GET_TIMESTAMP; PUSH_CONST 2; TIME_SINCE; PUSH_CONST 0; GET_METRIC; PUSH_CONST 1; GET_METRIC;"
				 "MAKE_ARRAY 4; RETURN", 0, "[1000,600,42,null]");
	/* time_since is never negative: a timestamp in the future is 0 */
	ASSERT_VALUE("[1500, 1000, 999.5]",
				 "PUSH_CONST 0; TIME_SINCE; PUSH_CONST 1; TIME_SINCE; PUSH_CONST 2; TIME_SINCE; MAKE_ARRAY 3; RETURN",
				 0, "[0,0,0.5]");
	ASSERT_ERROR("[5]", "PUSH_CONST 0; LOAD_TRUST; RETURN", 0, ECL_ERR_TYPE,
				 "load_trust: argument 1 must be a did, got number");
	ASSERT_ERROR("[\"did:bob\", 5]", "PUSH_CONST 0; PUSH_CONST 1; HAS_CREDENTIAL; RETURN", 0, ECL_ERR_TYPE,
				 "has_credential: argument 2 must be a string, got number");
	ASSERT_ERROR("[\"x\"]", "PUSH_CONST 0; TIME_SINCE; RETURN", 0, ECL_ERR_TYPE,
				 "time_since: argument 1 must be a number, got string");
	test_run_free(&T);
}

UNIT_TEST(vm_null_did_rules_make_no_host_call)
{
	fresh(NULL);
	ASSERT_VALUE("[\"kyc\"]",
				 "PUSH_NULL; LOAD_TRUST; TRUST_NORM; PUSH_NULL; PUSH_CONST 0; HAS_CREDENTIAL; PUSH_NULL; RESOLVE_DID;"
				 "PUSH_NULL; GET_BALANCE; MAKE_ARRAY 4; RETURN", 0, "[0,false,false,0]");
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_has_credential, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_resolve_did, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_get_balance, 0);
	/* also with no host at all */
	T.ctx.host = &ecl_no_host;
	ASSERT_VALUE("[\"kyc\"]", "PUSH_NULL; LOAD_TRUST; TRUST_NORM; PUSH_NULL; PUSH_CONST 0; HAS_CREDENTIAL;"
				 "MAKE_ARRAY 2; RETURN", 0, "[0,false]");
	/* a null caller: `trust` is the zero vector */
	T.ctx.host = &test_host_vtable;
	T.ctx.caller = ecl_null();
	ASSERT_VALUE(NULL, "CALLER_TRUST; TRUST_NORM; RETURN", 0, "0");
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 0);
	test_run_free(&T);
}

UNIT_TEST(vm_host_rules_apply_before_any_host)
{
	/*
	 * The rules the table host and the state host once each copied: the VM
	 * applies them, so no host can answer them differently.
	 */
	fresh(NULL);
	/* a DID or schema with NUL names nobody: nothing, and no host call */
	ASSERT_VALUE("[\"did:a\\u0000b\", \"kyc\", \"did:ok\", \"k\\u0000yc\"]",
				 "PUSH_CONST 0; LOAD_TRUST; TRUST_NORM; PUSH_CONST 0; PUSH_CONST 1; HAS_CREDENTIAL;"
				 "PUSH_CONST 0; RESOLVE_DID; PUSH_CONST 0; GET_BALANCE;"
				 "PUSH_CONST 2; PUSH_CONST 3; HAS_CREDENTIAL; MAKE_ARRAY 5; RETURN",
				 0, "[0,false,false,0,false]");
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_has_credential, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_resolve_did, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_get_balance, 0);
	/* a metric name with NUL is unknown; a realm metric needs a realm */
	test_host_set_metric(&T.host, "realm.passed", 3);
	ASSERT_VALUE("[\"realm.passed\", \"realm.passed\\u0000\"]",
				 "PUSH_CONST 0; GET_METRIC; PUSH_CONST 1; GET_METRIC; MAKE_ARRAY 2; RETURN", 0, "[3,null]");
	T.ctx.realm = ecl_null();
	ASSERT_VALUE("[\"realm.passed\"]", "PUSH_CONST 0; GET_METRIC; RETURN", 0, "null");
	/* store names and keys with NUL, event names with NUL: errors */
	ASSERT_ERROR("[\"s\\u0000\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_GET; RETURN", 0,
				 ECL_ERR_INVALID_ARG, "store names and keys must not contain NUL");
	ASSERT_ERROR("[\"s\", \"k\\u0000\", 1]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_NULL; STORE_PUT; RETURN",
				 0, ECL_ERR_INVALID_ARG, "store names and keys must not contain NUL");
	ASSERT_ERROR("[\"s\", \"k\\u0000\", \"a\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; STORE_GET_NESTED; RETURN",
				 0, ECL_ERR_INVALID_ARG, "store names and keys must not contain NUL");
	UNIT_ASSERT_EQ_INT(T.host.calls_store_get, 0);
	UNIT_ASSERT_EQ_INT(T.host.calls_store_put, 0);
	ASSERT_ERROR("[\"e\\u0000\"]", "PUSH_NULL; EMIT 0; PUSH_TRUE; RETURN", 0, ECL_ERR_INVALID_ARG,
				 "event name must not contain NUL");
	UNIT_ASSERT_EQ_INT(T.host.nevents, 0);
	/* a personal store needs a caller */
	T.ctx.caller = ecl_null();
	ASSERT_ERROR("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_TRUE; STORE_GET; RETURN", 0, ECL_ERR_HOST,
				 "personal store \"s\" needs a caller");
	ASSERT_ERROR("[\"s\"]", "PUSH_CONST 0; PUSH_TRUE; STORE_COUNT; RETURN", 0, ECL_ERR_HOST,
				 "personal store \"s\" needs a caller");
	UNIT_ASSERT_EQ_INT(T.host.calls_store_get, 0);
	test_run_free(&T);
}

UNIT_TEST(vm_missing_host_and_host_failure)
{
	fresh(NULL);
	T.ctx.host = &ecl_no_host;
	ASSERT_ERROR(NULL, "CALLER_TRUST @2:8; RETURN", 0, ECL_ERR_HOST, "no host data available for load_trust");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 2);
	UNIT_ASSERT_EQ_INT(T.res.error.column, 8);
	ASSERT_ERROR("[\"did:x\", \"s\"]", "PUSH_CONST 0; PUSH_CONST 1; HAS_CREDENTIAL; RETURN", 0, ECL_ERR_HOST,
				 "no host data available for has_credential");
	ASSERT_ERROR(NULL, "GET_TIMESTAMP; RETURN", 0, ECL_ERR_HOST, "no host data available for get_timestamp");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; TIME_SINCE; RETURN", 0, ECL_ERR_HOST,
				 "no host data available for get_timestamp");
	ASSERT_ERROR("[1]", "PUSH_CONST 0; LOG; PUSH_TRUE; RETURN", 0, ECL_ERR_HOST, "no host data available for log");
	ASSERT_ERROR("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_GET; RETURN", 0, ECL_ERR_HOST,
				 "no host data available for store_get");
	ASSERT_ERROR("[\"s\", \"k\", \"a\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; STORE_GET_NESTED; RETURN", 0,
				 ECL_ERR_HOST, "no host data available for store_get");
	/* a failing host entry: its code and message, the instruction's position */
	T.ctx.host = &test_host_vtable;
	T.host.fail_entry = "get_balance";
	ASSERT_ERROR("[\"did:x\"]", "PUSH_CONST 0; GET_BALANCE @6:4; RETURN", 0, ECL_ERR_HOST,
				 "fixture failure in get_balance");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 6);
	UNIT_ASSERT_EQ_INT(T.res.error.column, 4);
	UNIT_ASSERT_EQ_STR(T.res.error.policy, "test_policy");
	test_run_free(&T);
}

UNIT_TEST(vm_log_and_emit)
{
	fresh(NULL);
	ASSERT_VALUE("[\"medium transfer\", 1.5, {\"a\": [1]}, \"small_transfer\"]",
				 "PUSH_CONST 0; LOG; PUSH_CONST 1; LOG; PUSH_CONST 2; LOG; PUSH_NULL; LOG;"
				 "PUSH_CONST 2; EMIT 3; PUSH_NULL; EMIT 0; PUSH_TRUE; RETURN", 0, "true");
	UNIT_ASSERT_EQ_INT(T.host.nlogs, 4);
	UNIT_ASSERT_EQ_STR(T.host.logs[0], "medium transfer");
	UNIT_ASSERT_EQ_STR(T.host.logs[1], "1.5");
	UNIT_ASSERT_EQ_STR(T.host.logs[2], "{\"a\":[1]}");
	UNIT_ASSERT_EQ_STR(T.host.logs[3], "null");
	UNIT_ASSERT_EQ_INT(T.host.nevents, 2);
	UNIT_ASSERT_EQ_STR(T.host.events[0].name, "small_transfer");
	UNIT_ASSERT_EQ_STR(T.host.events[0].payload, "{\"a\":[1]}");
	UNIT_ASSERT_EQ_STR(T.host.events[1].name, "medium transfer");
	UNIT_ASSERT_EQ_STR(T.host.events[1].payload, "null");
	test_run_free(&T);
}

/* ---------------------------------------------------------------- store */

UNIT_TEST(vm_store_basic)
{
	char		buf[256];

	fresh(NULL);
	/* put shared and personal, read them back */
	ASSERT_VALUE("[\"s\", \"k\", {\"n\": 1}, \"mine\"]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_NULL; STORE_PUT;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 3; PUSH_TRUE; STORE_PUT;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_GET; PUSH_CONST 0; PUSH_CONST 1; PUSH_TRUE; STORE_GET;"
				 "PUSH_CONST 0; PUSH_CONST 3; PUSH_FALSE; STORE_GET; MAKE_ARRAY 5; RETURN",
				 0, "[true,true,{\"n\":1},\"mine\",null]");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "s", "", "k", buf, sizeof(buf)), "{\"n\":1}");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "s", "did:test:alice", "k", buf, sizeof(buf)), "\"mine\"");
	/* exists / count / delete */
	ASSERT_VALUE("[\"s\", \"k\", \"t\"]",
				 "PUSH_CONST 0; PUSH_NULL; STORE_EXISTS; PUSH_CONST 2; PUSH_NULL; STORE_EXISTS;"
				 "PUSH_CONST 0; PUSH_TRUE; STORE_COUNT; PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_DELETE;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_DELETE; PUSH_CONST 0; PUSH_NULL; STORE_COUNT;"
				 "MAKE_ARRAY 6; RETURN", 0, "[true,false,1,true,false,0]");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "s", "", "k", buf, sizeof(buf)), "<absent>");
	ASSERT_ERROR("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 0; STORE_GET; RETURN", 0, ECL_ERR_TYPE,
				 "store_get: argument 3 must be a bool, got string");
	ASSERT_ERROR("[\"s\", 1]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_GET; RETURN", 0, ECL_ERR_TYPE,
				 "store_get: argument 2 must be a string, got number");
	test_run_free(&T);
}

UNIT_TEST(vm_store_list_keys)
{
	fresh(NULL);
	UNIT_ASSERT(test_host_store_set_json(&T.host, "cfg", "", "b.x", "1"));
	UNIT_ASSERT(test_host_store_set_json(&T.host, "cfg", "", "a.y", "2"));
	UNIT_ASSERT(test_host_store_set_json(&T.host, "cfg", "", "a.x", "3"));
	UNIT_ASSERT(test_host_store_set_json(&T.host, "cfg", "did:test:alice", "a.z", "4"));
	ASSERT_VALUE("[\"cfg\", \"a.\", 1]",
				 "PUSH_CONST 0; PUSH_NULL; PUSH_NULL; STORE_LIST_KEYS; PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL;"
				 "STORE_LIST_KEYS; PUSH_CONST 0; PUSH_NULL; PUSH_CONST 2; STORE_LIST_KEYS; MAKE_ARRAY 3; RETURN",
				 0, "[[\"a.x\",\"a.y\",\"b.x\"],[\"a.x\",\"a.y\"],[\"a.x\"]]");
	ASSERT_ERROR("[\"cfg\", -1]", "PUSH_CONST 0; PUSH_NULL; PUSH_CONST 1; STORE_LIST_KEYS; RETURN", 0,
				 ECL_ERR_INVALID_ARG, "store_list_keys: limit must be a non-negative integer");
	test_run_free(&T);
}

UNIT_TEST(vm_store_nested)
{
	char		buf[256];

	fresh(NULL);
	UNIT_ASSERT(test_host_store_set_json(&T.host, "st", "", "doc", "{\"a\": {\"b\": [10, {\"c\": 5}]}, \"keep\": 1}"));
	/* get: dotted path, array path with integers, missing -> null */
	ASSERT_VALUE("[\"st\", \"doc\", \"a.b.1.c\", [\"a\", \"b\", 0], \"a.zz.q\", \"keep.x\"]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; STORE_GET_NESTED;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 3; STORE_GET_NESTED;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 4; STORE_GET_NESTED;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 5; STORE_GET_NESTED; MAKE_ARRAY 4; RETURN",
				 0, "[5,10,null,null]");
	/* put: replaces inside arrays, creates objects along the path, keeps siblings */
	ASSERT_VALUE("[\"st\", \"doc\", \"a.b.1.c\", 6, \"a.new.deep\", \"x\"]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 4; PUSH_CONST 5; STORE_PUT_NESTED; MAKE_ARRAY 2; RETURN",
				 0, "[true,true]");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "st", "", "doc", buf, sizeof(buf)),
					   "{\"a\":{\"b\":[10,{\"c\":6}],\"new\":{\"deep\":\"x\"}},\"keep\":1}");
	/* an absent entry becomes an object */
	ASSERT_VALUE("[\"st\", \"fresh\", [\"p\", \"q\"], 1]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED; RETURN", 0, "true");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "st", "", "fresh", buf, sizeof(buf)), "{\"p\":{\"q\":1}}");
	/* errors */
	ASSERT_ERROR("[\"st\", \"doc\", \"keep.x\", 1]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED; RETURN", 0,
				 ECL_ERR_TYPE, "store_put_nested: cannot set 'x' inside a number");
	ASSERT_ERROR("[\"st\", \"doc\", \"a.b.7\", 1]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED; RETURN", 0,
				 ECL_ERR_INVALID_ARG, "store_put_nested: '7' is not an index of an array of 2 elements");
	ASSERT_ERROR("[\"st\", \"doc\", \"a..b\", 1]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED; RETURN", 0,
				 ECL_ERR_INVALID_ARG, "store_put_nested: empty segment in path 'a..b'");
	ASSERT_ERROR("[\"st\", \"doc\", [true], 1]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED; RETURN", 0,
				 ECL_ERR_INVALID_ARG,
				 "store_put_nested: path elements must be strings or non-negative integers, got bool");
	ASSERT_ERROR("[\"st\", \"doc\", 5]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; STORE_GET_NESTED; RETURN", 0,
				 ECL_ERR_TYPE, "store_get_nested: argument 3 must be a string or an array, got number");
	UNIT_ASSERT(test_host_store_set_json(&T.host, "st", "", "num", "5"));
	ASSERT_ERROR("[\"st\", \"num\", \"a\", 1]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_CONST 3; STORE_PUT_NESTED; RETURN", 0,
				 ECL_ERR_TYPE, "store_put_nested: entry 'num' holds a number, not an object");
	test_run_free(&T);
}

UNIT_TEST(vm_store_append_list)
{
	char		buf[256];

	fresh(NULL);
	ASSERT_VALUE("[\"st\", \"log\", \"a\", {\"b\": 2}]",
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; STORE_APPEND_LIST;"
				 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 3; STORE_APPEND_LIST; MAKE_ARRAY 2; RETURN", 0, "[1,2]");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "st", "", "log", buf, sizeof(buf)), "[\"a\",{\"b\":2}]");
	UNIT_ASSERT(test_host_store_set_json(&T.host, "st", "", "obj", "{}"));
	ASSERT_ERROR("[\"st\", \"obj\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_APPEND_LIST; RETURN", 0,
				 ECL_ERR_TYPE, "store_append_list: entry 'obj' holds a object, not an array");
	test_run_free(&T);
}

UNIT_TEST(vm_read_only_refuses_writes_before_the_host)
{
	fresh(NULL);
	T.ctx.read_only = true;
	ASSERT_ERROR("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_TRUE; PUSH_NULL; STORE_PUT @3:2; RETURN", 0,
				 ECL_ERR_READ_ONLY, "store_put is not allowed in a read-only evaluation");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 3);
	UNIT_ASSERT_EQ_INT(T.host.calls_store_put, 0);
	ASSERT_ERROR("[\"ev\"]", "PUSH_NULL; EMIT 0; PUSH_TRUE; RETURN", 0, ECL_ERR_READ_ONLY,
				 "emit is not allowed in a read-only evaluation");
	UNIT_ASSERT_EQ_INT(T.host.nevents, 0);
	ASSERT_ERROR("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_DELETE; RETURN", 0,
				 ECL_ERR_READ_ONLY, "store_delete is not allowed in a read-only evaluation");
	ASSERT_ERROR("[\"s\", \"k\", \"p\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_NULL; STORE_PUT_NESTED; RETURN",
				 0, ECL_ERR_READ_ONLY, "store_put_nested is not allowed in a read-only evaluation");
	ASSERT_ERROR("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_APPEND_LIST; RETURN", 0,
				 ECL_ERR_READ_ONLY, "store_append_list is not allowed in a read-only evaluation");
	UNIT_ASSERT_EQ_INT(T.host.calls_store_get, 0);
	/* reads are fine */
	ASSERT_VALUE("[\"s\", \"k\"]", "PUSH_CONST 0; PUSH_CONST 1; PUSH_NULL; STORE_GET; RETURN", 0, "null");
	test_run_free(&T);
}

/* ------------------------------------------------------- gas and limits */

UNIT_TEST(vm_gas_and_mana_accounting)
{
	fresh(NULL);
	/* 1 + 1 + 2 + 5 */
	ASSERT_VALUE("[1, 2]", "PUSH_CONST 0; PUSH_CONST 1; ADD; RETURN", 0, "3");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 9);
	UNIT_ASSERT_EQ_INT(T.res.steps, 4);
	UNIT_ASSERT_EQ_INT(T.res.mana_used, ECL_BASE_MANA);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_COMPUTE], 9);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_NETWORK], 0);
	/* LOAD_CALLER 1, LOAD_TRUST 100 (network), TRUST_NORM 10, RETURN 5 */
	ASSERT_VALUE(NULL, "LOAD_CALLER; LOAD_TRUST; TRUST_NORM; RETURN", 0, "0");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 116);
	UNIT_ASSERT_EQ_INT(T.res.mana_used, ECL_BASE_MANA + 100);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_NETWORK], 100);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_COMPUTE], 16);
	/* storage and realm layers: STORE_GET 50 is mana, GET_METRIC 10 is not */
	ASSERT_VALUE("[\"s\", \"m\"]",
				 "PUSH_CONST 0; PUSH_CONST 0; PUSH_NULL; STORE_GET; POP; PUSH_CONST 1; GET_METRIC; RETURN", 0, "null");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 1 + 1 + 1 + 50 + 1 + 1 + 10 + 5);
	UNIT_ASSERT_EQ_INT(T.res.mana_used, ECL_BASE_MANA + 50);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_STORAGE], 50);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_REALM], 10);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_COMPUTE], 10);
	/* a denial still reports its gas */
	ASSERT_VALUE(NULL, "PUSH_FALSE; REQUIRE none; PUSH_TRUE; RETURN", 0, "false");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 6);
	UNIT_ASSERT_EQ_INT(T.res.steps, 2);
	/* require without a message (ASSERT) 3, with one (REQUIRE) 5 */
	ASSERT_VALUE(NULL, "PUSH_FALSE; ASSERT; PUSH_TRUE; RETURN", 0, "false");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 1 + 3);
	ASSERT_VALUE("[\"m\"]", "PUSH_TRUE; ASSERT; PUSH_TRUE; REQUIRE 0; PUSH_TRUE; RETURN", 0, "true");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 1 + 3 + 1 + 5 + 1 + 5);
	/*
	 * The loop's single limit check relies on every instruction costing at
	 * least 1 gas, and on only host instructions being charged to I/O layers.
	 */
	for (int i = 0; i < ECL_OP_COUNT; i++)
		UNIT_ASSERT_MSG(ecl_opcode_table[i].gas >= 1, "%s costs no gas", ecl_opcode_table[i].name);
	for (int i = 0; i < ECL_OP_COUNT; i++)
		if (ecl_opcode_table[i].layer != ECL_LAYER_COMPUTE)
			UNIT_ASSERT_MSG(ecl_opcode_table[i].flags & ECL_F_HOST,
							"%s is charged to an I/O layer but is not a host instruction",
							ecl_opcode_table[i].name);
	test_run_free(&T);
}

UNIT_TEST(vm_out_of_gas)
{
	fresh(NULL);
	T.ctx.limits.gas_limit = 8;
	ASSERT_ERROR("[1, 2]", "PUSH_CONST 0; PUSH_CONST 1; ADD; RETURN @4:2", 0, ECL_ERR_OUT_OF_GAS,
				 "out of gas: limit 8 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 9);	/* including the instruction that ran out */
	UNIT_ASSERT_EQ_INT(T.res.steps, 3);
	UNIT_ASSERT_EQ_INT(T.res.error.line, 4);
	UNIT_ASSERT_EQ_INT(T.res.error.column, 2);
	UNIT_ASSERT_EQ_STR(T.res.error.policy, "test_policy");
	T.ctx.limits.gas_limit = 9;
	ASSERT_VALUE("[1, 2]", "PUSH_CONST 0; PUSH_CONST 1; ADD; RETURN", 0, "3");
	/* an endless loop ends by gas: JUMP costs 1 */
	T.ctx.limits.gas_limit = 5000;
	ASSERT_ERROR(NULL, "JUMP 0", 0, ECL_ERR_OUT_OF_GAS, "out of gas: limit 5000 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 5001);
	UNIT_ASSERT_EQ_INT(T.res.steps, 5000);
	/* out of gas on a host instruction: charged to its layer, host not called */
	T.ctx.limits.gas_limit = 100;
	ASSERT_ERROR(NULL, "LOAD_CALLER; LOAD_TRUST; RETURN", 0, ECL_ERR_OUT_OF_GAS, "out of gas: limit 100 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_NETWORK], 100);
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 0);
	test_run_free(&T);
}

UNIT_TEST(vm_mana_limit)
{
	fresh(NULL);
	T.ctx.limits.mana_limit = 109;
	ASSERT_ERROR(NULL, "LOAD_CALLER; LOAD_TRUST @2:3; RETURN", 0, ECL_ERR_MANA, "mana limit 109 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.mana_used, 110);
	UNIT_ASSERT_EQ_INT(T.res.error.line, 2);
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 0);
	T.ctx.limits.mana_limit = 110;
	ASSERT_VALUE(NULL, "LOAD_CALLER; LOAD_TRUST; TRUST_NORM; RETURN", 0, "0");
	/* mana is paid per host call: the cached caller trust costs gas only */
	T.ctx.limits.mana_limit = 1000;
	ASSERT_VALUE(NULL, "CALLER_TRUST; POP; CALLER_TRUST; TRUST_NORM; RETURN", 0, "0");
	UNIT_ASSERT_EQ_INT(T.res.mana_used, 110);
	UNIT_ASSERT_EQ_INT(T.res.gas_by_layer[ECL_LAYER_NETWORK], 200);
	/* a null did is answered without the host: no mana */
	ASSERT_VALUE(NULL, "PUSH_NULL; LOAD_TRUST; TRUST_NORM; RETURN", 0, "0");
	UNIT_ASSERT_EQ_INT(T.res.mana_used, ECL_BASE_MANA);
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 2);	/* one per run */
	/* the base mana alone can exceed a tiny limit */
	T.ctx.limits.mana_limit = 5;
	ASSERT_ERROR(NULL, "PUSH_TRUE; RETURN", 0, ECL_ERR_MANA, "mana limit 5 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 0);
	test_run_free(&T);
}

UNIT_TEST(vm_step_limit)
{
	fresh(NULL);
	T.ctx.limits.max_steps = 100;
	ASSERT_ERROR(NULL, "JUMP 0 @3:1", 0, ECL_ERR_STACK, "step limit 100 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 3);
	/* exactly max_steps instructions is fine */
	T.ctx.limits.max_steps = 4;
	ASSERT_VALUE("[1, 2]", "PUSH_CONST 0; PUSH_CONST 1; ADD; RETURN", 0, "3");
	T.ctx.limits.max_steps = 3;
	ASSERT_ERROR("[1, 2]", "PUSH_CONST 0; PUSH_CONST 1; ADD; RETURN", 0, ECL_ERR_STACK, "step limit 3 exceeded");
	/* a large limit across several interrupt intervals */
	T.ctx.limits.max_steps = 5000;
	ASSERT_ERROR(NULL, "JUMP 0", 0, ECL_ERR_STACK, "step limit 5000 exceeded");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 5001);
	test_run_free(&T);
}

typedef struct interrupt_probe
{
	int			calls;
	int			fail_on;
	bool		set_error;
} interrupt_probe;

static ecl_status
probe_interrupt(void *ictx, ecl_error *err)
{
	interrupt_probe *p = ictx;

	p->calls++;
	if (p->calls == p->fail_on)
	{
		if (p->set_error)
			return ecl_error_set(err, ECL_ERR_TIMEOUT, 0, 0, "canceling statement due to statement timeout");
		return ECL_FAIL;
	}
	return ECL_OK;
}

UNIT_TEST(vm_interrupt_hook_stops_a_run)
{
	interrupt_probe probe = {0, 3, true};

	fresh(NULL);
	T.ctx.limits.gas_limit = 1000000;
	T.ctx.interrupt = probe_interrupt;
	T.ctx.interrupt_ctx = &probe;
	ASSERT_ERROR(NULL, "PUSH_TRUE; JUMP_IF_TRUE 0 @8:1; PUSH_TRUE; RETURN", 0, ECL_ERR_TIMEOUT,
				 "canceling statement due to statement timeout");
	UNIT_ASSERT_EQ_INT(probe.calls, 3);
	UNIT_ASSERT_EQ_INT(T.res.steps, 3 * ECL_INTERRUPT_INTERVAL);
	UNIT_ASSERT(T.res.error.line == 1 || T.res.error.line == 8);
	/* a hook that fails without saying why */
	probe.calls = 0;
	probe.fail_on = 1;
	probe.set_error = false;
	ASSERT_ERROR(NULL, "JUMP 0", 0, ECL_ERR_TIMEOUT, "run interrupted");
	/* a short run never calls it */
	probe.calls = 0;
	ASSERT_VALUE(NULL, "PUSH_TRUE; RETURN", 0, "true");
	UNIT_ASSERT_EQ_INT(probe.calls, 0);
	test_run_free(&T);
}

UNIT_TEST(vm_numbers_do_not_allocate)
{
	fresh(NULL);
	/* sum = 0; i = 0; while i < 10000 { sum = sum + i; i = i + 1 }; return sum */
	T.ctx.limits.gas_limit = 10000000;
	/*
	 * assemble and load first, then allow no allocation at all: a program
	 * this small keeps its stack and locals in the VM's own frame
	 */
	UNIT_ASSERT(test_asm_load(&T.ta.alloc, "[0, 10000, 1]",
							  "PUSH_CONST 0; STORE_LOCAL 0; PUSH_CONST 0; STORE_LOCAL 1;"
							  "LOAD_LOCAL 1; PUSH_CONST 1; LT; JUMP_IF_FALSE 17;"
							  "LOAD_LOCAL 0; LOAD_LOCAL 1; ADD; STORE_LOCAL 0;"
							  "LOAD_LOCAL 1; PUSH_CONST 2; ADD; STORE_LOCAL 1; JUMP 4;"
							  "LOAD_LOCAL 0; RETURN", 2, &T.prog, &T.err) == ECL_OK);
	T.ta.fail_after = 0;
	UNIT_ASSERT_MSG(ecl_vm_run(T.prog, &T.ctx, &T.res) == ECL_OK, "%s", T.res.error.message);
	UNIT_ASSERT(T.res.value.type == ECL_T_NUMBER && T.res.value.u.num == 49995000);
	T.ta.fail_after = -1;

	/* with 200 locals the frame is allocated: exactly once per run */
	UNIT_ASSERT(test_asm_load(&T.ta.alloc, "[7]",
							  "PUSH_CONST 0; STORE_LOCAL 199; LOAD_LOCAL 199; LOAD_LOCAL 0;"
							  "POP; RETURN", 200, &T.prog, &T.err) == ECL_OK);
	T.ta.fail_after = 1;
	UNIT_ASSERT_MSG(ecl_vm_run(T.prog, &T.ctx, &T.res) == ECL_OK, "%s", T.res.error.message);
	UNIT_ASSERT(T.res.value.type == ECL_T_NUMBER && T.res.value.u.num == 7);
	UNIT_ASSERT_EQ_INT(T.ta.fail_after, 0);
	/* allocation failure is an error, not a crash */
	T.ta.fail_after = 0;
	UNIT_ASSERT(ecl_vm_run(T.prog, &T.ctx, &T.res) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(T.res.error.code, ECL_ERR_RESOURCE);
	T.ta.fail_after = -1;
	test_run_free(&T);
}

UNIT_TEST(vm_stack_limit_at_run_time)
{
	fresh(NULL);
	T.ctx.limits.max_stack_depth = 2;
	ASSERT_ERROR(NULL, "PUSH_TRUE; PUSH_TRUE; PUSH_TRUE; MAKE_ARRAY 3; RETURN", 0, ECL_ERR_STACK,
				 "program needs a stack of 3 values, the limit is 2");
	UNIT_ASSERT_EQ_INT(T.res.gas_used, 0);
	T.ctx.limits.max_stack_depth = 3;
	ASSERT_VALUE(NULL, "PUSH_TRUE; PUSH_TRUE; PUSH_TRUE; MAKE_ARRAY 3; RETURN", 0, "[true,true,true]");
	test_run_free(&T);
}

UNIT_TEST(vm_result_outlives_the_stack)
{
	/* the result value of a run stays valid after ecl_vm_run returns */
	fresh(NULL);
	ASSERT_VALUE("[\"a\", \"b\"]", "PUSH_CONST 0; PUSH_CONST 1; ADD; PUSH_CONST 1; MAKE_OBJECT 1; RETURN",
				 0, "{\"ab\":\"b\"}");
	test_run_free(&T);
}

/* ------------------------------------------- source level (with the compiler) */

#include "ecl/compiler.h"

/* compile + load + run src on the fixture host of T */
static ecl_status
run_source(const char *src)
{
	uint8_t    *bytes;
	size_t		len;
	char	   *json;
	size_t		jlen;
	ecl_error	err;

	T.value_json[0] = '\0';
	if (ecl_compile(&T.ta.alloc, src, strlen(src), NULL, &bytes, &len, &T.err) != ECL_OK ||
		ecl_program_load(&T.ta.alloc, bytes, len, 1024, &T.prog, &T.err) != ECL_OK)
	{
		T.res.error = T.err;
		T.res.outcome = ECL_OUTCOME_ERROR;
		return ECL_FAIL;
	}
	if (ecl_vm_run(T.prog, &T.ctx, &T.res) != ECL_OK)
		return ECL_FAIL;
	if (ecl_json_write(&T.ta.alloc, T.res.value, &json, &jlen, &err) == ECL_OK)
		snprintf(T.value_json, sizeof(T.value_json), "%s", json);
	return ECL_OK;
}

static const char *transfer_guard =
"const MAX = 10000\n"
"policy transfer_guard {\n"
"    const MIN = 0.5\n"
"    require trust.r >= MIN, \"reliability too low\"\n"
"    let limit = trust.r * MAX\n"
"    require amount <= limit, \"amount exceeds trust-based limit\"\n"
"    if amount > 5000 {\n"
"        require has_credential(caller, \"kyc-level-2\"), \"KYC required\"\n"
"    } else if amount > 1000 {\n"
"        log(\"medium transfer\")\n"
"    } else {\n"
"        emit \"small_transfer\"\n"
"    }\n"
"    return true\n"
"}\n";

UNIT_TEST(vm_source_transfer_guard)
{
	/* the example of docs/language.md §1 on the fixture host */
	fresh("{\"amount\": 500}");
	test_host_add_trust(&T.host, "did:test:alice", "", 0.9, 0.5, 0.5, 0.5, 0.5, 0.5);
	UNIT_ASSERT_MSG(run_source(transfer_guard) == ECL_OK, "%s", T.res.error.message);
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_PASSED);
	UNIT_ASSERT_EQ_INT(T.host.nevents, 1);
	UNIT_ASSERT_EQ_STR(T.host.events[0].name, "small_transfer");
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 1);	/* `trust` twice, one lookup */

	fresh("{\"amount\": 2000}");
	test_host_add_trust(&T.host, "did:test:alice", "", 0.9, 0.5, 0.5, 0.5, 0.5, 0.5);
	UNIT_ASSERT(run_source(transfer_guard) == ECL_OK);
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_PASSED);
	UNIT_ASSERT_EQ_INT(T.host.nlogs, 1);
	UNIT_ASSERT_EQ_STR(T.host.logs[0], "medium transfer");

	fresh("{\"amount\": 6000}");
	test_host_add_trust(&T.host, "did:test:alice", "", 0.9, 0.5, 0.5, 0.5, 0.5, 0.5);
	UNIT_ASSERT(run_source(transfer_guard) == ECL_OK);
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_DENIED);
	UNIT_ASSERT_EQ_STR(T.res.message, "KYC required");
	test_host_add_credential(&T.host, "did:test:alice", "kyc-level-2");
	UNIT_ASSERT(run_source(transfer_guard) == ECL_OK);
	UNIT_ASSERT_EQ_INT(T.res.outcome, ECL_OUTCOME_PASSED);

	/* the realm row beats the global row: 0.55 * 10000 = 5500 < 6000 */
	test_host_add_trust(&T.host, "did:test:alice", "realm1", 0.55, 0.5, 0.5, 0.5, 0.5, 0.5);
	UNIT_ASSERT(run_source(transfer_guard) == ECL_OK);
	UNIT_ASSERT_EQ_STR(T.res.message, "amount exceeds trust-based limit");

	/* unknown caller: zero trust, denied by the first require */
	fresh("{\"amount\": 1}");
	UNIT_ASSERT(run_source(transfer_guard) == ECL_OK);
	UNIT_ASSERT_EQ_STR(T.res.message, "reliability too low");
	UNIT_ASSERT_EQ_STR(T.value_json, "false");

	/* a missing input field is an error naming it, with its position */
	fresh("{}");
	test_host_add_trust(&T.host, "did:test:alice", "", 0.9, 0.5, 0.5, 0.5, 0.5, 0.5);
	UNIT_ASSERT(run_source(transfer_guard) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(T.res.error.code, ECL_ERR_TYPE);
	UNIT_ASSERT_EQ_STR(T.res.error.message, "missing input field 'amount'");
	UNIT_ASSERT_EQ_INT(T.res.error.line, 6);
	UNIT_ASSERT_EQ_STR(T.res.error.policy, "transfer_guard");
	test_run_free(&T);
}

UNIT_TEST(vm_source_store_and_short_circuit)
{
	char		buf[256];

	fresh("{\"x\": \"did:nobody\"}");
	UNIT_ASSERT_MSG(run_source("store_put_nested(\"prefs\", \"ui\", \"theme.color\", \"dark\")\n"
							   "let n = store_append_list(\"prefs\", \"seen\", 1)\n"
							   "n = store_append_list(\"prefs\", \"seen\", 2)\n"
							   "return [n, store_get_nested(\"prefs\", \"ui\", [\"theme\", \"color\"]), store_get(\"prefs\", \"nope\")]")
					== ECL_OK, "%s", T.res.error.message);
	UNIT_ASSERT_EQ_STR(T.value_json, "[2,\"dark\",null]");
	UNIT_ASSERT_EQ_STR(test_host_store_json(&T.host, "prefs", "", "ui", buf, sizeof(buf)),
					   "{\"theme\":{\"color\":\"dark\"}}");
	/* && short-circuits: an unknown did makes one host call */
	UNIT_ASSERT(run_source("return resolve_did(x) && x.trust.r > 0.5") == ECL_OK);
	UNIT_ASSERT_EQ_STR(T.value_json, "false");
	UNIT_ASSERT_EQ_INT(T.host.calls_resolve_did, 1);
	UNIT_ASSERT_EQ_INT(T.host.calls_load_trust, 0);
	test_run_free(&T);
}
