/*
 * opcodes.h — THE instruction set of the ECLVM, defined once.
 *
 * Compiler, verifier, VM, disassembler and docs/language.md all derive from
 * ECL_OPCODES below; nothing else lists opcodes.  Columns:
 *
 *   name     opcode name (ECL_OP_<name>, disassembled as upper-case name)
 *   operand  operand kind (ECL_OPK_*), see below
 *   gas      gas charged each time the instruction executes (docs/language.md §8)
 *   layer    gas layer: COMPUTE, NETWORK, STORAGE or REALM; mana is 10 per
 *            run plus the gas of every executed NETWORK/STORAGE instruction
 *   pop      values popped (-1: given by the operand, see MAKE_ARRAY/OBJECT)
 *   push     values pushed when execution falls through
 *   jpush    for branch instructions: values left in place of the popped ones
 *            when the branch is taken (AND/OR keep their operand); else 0
 *   flags    ECL_F_* bits
 *   doc      one line for the documentation
 *
 * Encoding: one 32-bit word per instruction, opcode in the low 8 bits,
 * operand in the high 24 bits (ECL_INSTR_*).  Jump operands are absolute pcs.
 *
 * Stack picture in doc strings: "a b -> c" means b was on top.
 */
#ifndef ECL_OPCODES_H
#define ECL_OPCODES_H

#include <stddef.h>
#include <stdint.h>

typedef enum ecl_operand_kind
{
	ECL_OPK_NONE = 0,
	ECL_OPK_CONST,				/* index into the constant pool, any type */
	ECL_OPK_STRING,				/* index into the pool; the constant is a string */
	ECL_OPK_MSG,				/* string constant index, or ECL_NO_ARG for none */
	ECL_OPK_LOCAL,				/* local slot < nlocals */
	ECL_OPK_ITER,				/* local slot with slot+1 < nlocals (array, index) */
	ECL_OPK_JUMP,				/* absolute target pc < ncode */
	ECL_OPK_COUNT,				/* element count for MAKE_ARRAY / MAKE_OBJECT */
	ECL_OPK_DIM,				/* trust dimension 0..5 (R I C P V Omega) */
	ECL_OPK_DEPTH				/* PICK: 0 = top of stack */
} ecl_operand_kind;

typedef enum ecl_layer
{
	ECL_LAYER_COMPUTE = 0,
	ECL_LAYER_NETWORK,
	ECL_LAYER_STORAGE,
	ECL_LAYER_REALM,
	ECL_LAYER_COUNT
} ecl_layer;

#define ECL_F_HOST		0x01	/* calls the host vtable */
#define ECL_F_WRITE		0x02	/* writes (store or event): refused when read-only */
#define ECL_F_TERM		0x04	/* never falls through (RETURN, DENY, JUMP) */
#define ECL_F_BRANCH	0x08	/* operand is a jump target */

#define ECL_BASE_MANA	10		/* mana charged per run before any host call */

/* X(name, operand, gas, layer, pop, push, jpush, flags, doc) */
#define ECL_OPCODES(X) \
	/* constants and stack */ \
	X(PUSH_CONST,      CONST,  1, COMPUTE, 0, 1, 0, 0, "-> k: push constant k") \
	X(PUSH_NULL,       NONE,   1, COMPUTE, 0, 1, 0, 0, "-> null") \
	X(PUSH_TRUE,       NONE,   1, COMPUTE, 0, 1, 0, 0, "-> true") \
	X(PUSH_FALSE,      NONE,   1, COMPUTE, 0, 1, 0, 0, "-> false") \
	X(POP,             NONE,   1, COMPUTE, 1, 0, 0, 0, "a ->") \
	X(DUP,             NONE,   1, COMPUTE, 1, 2, 0, 0, "a -> a a") \
	X(SWAP,            NONE,   1, COMPUTE, 2, 2, 0, 0, "a b -> b a") \
	X(PICK,            DEPTH,  2, COMPUTE, 0, 1, 0, 0, "push a copy of the value n below the top (0 = top)") \
	X(LOAD_LOCAL,      LOCAL,  1, COMPUTE, 0, 1, 0, 0, "-> local[n]") \
	X(STORE_LOCAL,     LOCAL,  1, COMPUTE, 1, 0, 0, 0, "a -> ; local[n] = a") \
	/* run context */ \
	X(LOAD_CALLER,     NONE,   1, COMPUTE, 0, 1, 0, 0, "-> caller did (null when none)") \
	X(LOAD_REALM,      NONE,   1, COMPUTE, 0, 1, 0, 0, "-> realm id (null when none)") \
	X(LOAD_INPUT,      NONE,   2, COMPUTE, 0, 1, 0, 0, "-> the whole input object") \
	X(LOAD_INPUT_FIELD, STRING, 2, COMPUTE, 0, 1, 0, 0, "-> input[k]; a missing field is a type error naming it") \
	X(CALLER_TRUST,    NONE, 100, NETWORK, 0, 1, 0, ECL_F_HOST, "-> load_trust(caller), looked up once per run") \
	/* member access */ \
	X(GET_FIELD,       STRING, 2, COMPUTE, 1, 1, 0, 0, "obj -> obj[k] (null when absent); a trust dimension name on a trust vector") \
	X(GET_INDEX,       NONE,   3, COMPUTE, 2, 1, 0, 0, "arr i -> arr[i] / obj key -> obj[key] (null when absent)") \
	X(TRUST_DIM,       DIM,    3, COMPUTE, 1, 1, 0, 0, "tv -> dimension n of tv") \
	/* arithmetic and logic */ \
	X(ADD,             NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a + b (string concatenation if either is a string)") \
	X(SUB,             NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a - b") \
	X(MUL,             NONE,   3, COMPUTE, 2, 1, 0, 0, "a b -> a * b") \
	X(DIV,             NONE,   5, COMPUTE, 2, 1, 0, 0, "a b -> a / b") \
	X(MOD,             NONE,   5, COMPUTE, 2, 1, 0, 0, "a b -> a % b (fmod)") \
	X(NEG,             NONE,   1, COMPUTE, 1, 1, 0, 0, "a -> -a") \
	X(EQ,              NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a == b") \
	X(NE,              NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a != b") \
	X(LT,              NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a < b (numbers or strings)") \
	X(LE,              NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a <= b") \
	X(GT,              NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a > b") \
	X(GE,              NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> a >= b") \
	X(NOT,             NONE,   1, COMPUTE, 1, 1, 0, 0, "a -> !truthy(a)") \
	X(TO_BOOL,         NONE,   1, COMPUTE, 1, 1, 0, 0, "a -> truthy(a)") \
	/* control flow */ \
	X(JUMP,            JUMP,   1, COMPUTE, 0, 0, 0, ECL_F_TERM | ECL_F_BRANCH, "jump to pc") \
	X(JUMP_IF_FALSE,   JUMP,   2, COMPUTE, 1, 0, 0, ECL_F_BRANCH, "a -> ; jump when !truthy(a)") \
	X(JUMP_IF_TRUE,    JUMP,   2, COMPUTE, 1, 0, 0, ECL_F_BRANCH, "a -> ; jump when truthy(a)") \
	X(AND,             JUMP,   2, COMPUTE, 1, 0, 1, ECL_F_BRANCH, "a -> ; when !truthy(a): leave false and jump (&&)") \
	X(OR,              JUMP,   2, COMPUTE, 1, 0, 1, ECL_F_BRANCH, "a -> ; when truthy(a): leave true and jump (||)") \
	X(REQUIRE,         MSG,    5, COMPUTE, 1, 0, 0, 0, "a -> ; deny with message k when !truthy(a) (the compiler emits ASSERT when there is no message)") \
	X(DENY,            MSG,    5, COMPUTE, 0, 0, 0, ECL_F_TERM, "deny with message k") \
	X(RETURN,          NONE,   5, COMPUTE, 1, 0, 0, ECL_F_TERM, "a -> ; end the run with value a") \
	X(ITER_INIT,       ITER,   2, COMPUTE, 1, 0, 0, 0, "arr -> ; local[n] = arr (must be an array), local[n+1] = 0") \
	X(ITER_HAS,        ITER,   1, COMPUTE, 0, 1, 0, 0, "-> local[n+1] < len(local[n])") \
	X(ITER_GET,        ITER,   1, COMPUTE, 0, 1, 0, 0, "-> local[n][local[n+1]]; local[n+1] += 1") \
	/* collections */ \
	X(MAKE_ARRAY,      COUNT,  5, COMPUTE, -1, 1, 0, 0, "v1 .. vn -> [v1, .., vn]") \
	X(MAKE_OBJECT,     COUNT,  5, COMPUTE, -1, 1, 0, 0, "k1 v1 .. kn vn -> {k1: v1, ..} (keys must be strings)") \
	/* pure built-ins */ \
	X(TRUST_NORM,      NONE,  10, COMPUTE, 1, 1, 0, 0, "tv -> mean of the 6 dimensions") \
	X(TRUST_COMBINE,   NONE,  15, COMPUTE, 2, 1, 0, 0, "a b -> per dimension 1-(1-a)(1-b)") \
	X(TRUST_CREATE,    NONE,   8, COMPUTE, 6, 1, 0, 0, "r i c p v o -> trust vector (each in [0,1])") \
	X(TRUST_ABOVE,     NONE,  10, COMPUTE, 2, 1, 0, 0, "tv t -> every dimension >= t") \
	X(TRUST_WAVG,      NONE,  12, COMPUTE, 2, 1, 0, 0, "tv w -> sum(w*tv)/sum(w), w an array of 6 numbers") \
	X(TRUST_DISTANCE,  NONE,  15, COMPUTE, 2, 1, 0, 0, "a b -> Euclidean distance") \
	X(ABS,             NONE,   2, COMPUTE, 1, 1, 0, 0, "x -> |x|") \
	X(SQRT,            NONE,   5, COMPUTE, 1, 1, 0, 0, "x -> sqrt(x)") \
	X(FLOOR,           NONE,   3, COMPUTE, 1, 1, 0, 0, "x -> floor(x)") \
	X(CEIL,            NONE,   3, COMPUTE, 1, 1, 0, 0, "x -> ceil(x)") \
	X(ROUND,           NONE,   3, COMPUTE, 1, 1, 0, 0, "x -> round half away from zero") \
	X(MIN,             NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> min(a, b)") \
	X(MAX,             NONE,   2, COMPUTE, 2, 1, 0, 0, "a b -> max(a, b)") \
	X(CLAMP,           NONE,   4, COMPUTE, 3, 1, 0, 0, "x lo hi -> min(max(x, lo), hi)") \
	X(LERP,            NONE,   5, COMPUTE, 3, 1, 0, 0, "a b t -> a + (b - a) * t") \
	X(SURPRISAL,       NONE,   8, COMPUTE, 1, 1, 0, 0, "p -> -log2(p), 0 < p <= 1") \
	X(STR_LEN,         NONE,   3, COMPUTE, 1, 1, 0, 0, "s -> length in characters") \
	X(STR_CONTAINS,    NONE,   8, COMPUTE, 2, 1, 0, 0, "s sub -> s contains sub") \
	X(STR_EQ_IGNORE_CASE, NONE, 5, COMPUTE, 2, 1, 0, 0, "a b -> equal ignoring ASCII case") \
	X(ARRAY_LEN,       NONE,   2, COMPUTE, 1, 1, 0, 0, "arr -> number of elements") \
	X(ARRAY_GET,       NONE,   3, COMPUTE, 2, 1, 0, 0, "arr i -> arr[i]; out of range is a type error (unlike GET_INDEX)") \
	X(CONTAINS,        NONE,  10, COMPUTE, 2, 1, 0, 0, "v arr -> some element == v") \
	X(LEN,             NONE,   2, COMPUTE, 1, 1, 0, 0, "x -> length of a string, array or object") \
	X(KEYS,            NONE,   5, COMPUTE, 1, 1, 0, 0, "obj -> array of its keys") \
	X(HAS,             NONE,   3, COMPUTE, 2, 1, 0, 0, "obj key -> obj has key") \
	X(TIME_SINCE,      NONE,   5, COMPUTE, 1, 1, 0, ECL_F_HOST, "ts -> get_timestamp() - ts, 0 when ts is in the future") \
	/* host built-ins (docs/sql-api.md, "The table host") */ \
	X(LOAD_TRUST,      NONE, 100, NETWORK, 1, 1, 0, ECL_F_HOST, "did -> trust vector in the run's realm (global, else zero)") \
	X(HAS_CREDENTIAL,  NONE,  50, NETWORK, 2, 1, 0, ECL_F_HOST, "did schema -> holds a valid credential") \
	X(RESOLVE_DID,     NONE,  50, NETWORK, 1, 1, 0, ECL_F_HOST, "did -> registered and not revoked") \
	X(GET_BALANCE,     NONE,  50, NETWORK, 1, 1, 0, ECL_F_HOST, "did -> balance (0 when none)") \
	X(GET_TIMESTAMP,   NONE,   5, COMPUTE, 0, 1, 0, ECL_F_HOST, "-> transaction time in seconds") \
	X(GET_METRIC,      NONE,  10, REALM,   1, 1, 0, ECL_F_HOST, "name -> statistics value (null when unknown)") \
	X(LOG,             NONE,  20, COMPUTE, 1, 0, 0, ECL_F_HOST, "msg -> ; append to the run's logs") \
	X(EMIT,            STRING, 50, STORAGE, 1, 0, 0, ECL_F_HOST | ECL_F_WRITE, "payload -> ; emit event k") \
	X(STORE_GET,       NONE,  50, STORAGE, 3, 1, 0, ECL_F_HOST, "store key personal -> value (null when absent)") \
	X(STORE_PUT,       NONE, 100, STORAGE, 4, 1, 0, ECL_F_HOST | ECL_F_WRITE, "store key value personal -> true") \
	X(STORE_DELETE,    NONE,  50, STORAGE, 3, 1, 0, ECL_F_HOST | ECL_F_WRITE, "store key personal -> whether it existed") \
	X(STORE_EXISTS,    NONE,  20, STORAGE, 2, 1, 0, ECL_F_HOST, "store personal -> store has any entry") \
	X(STORE_COUNT,     NONE,  20, STORAGE, 2, 1, 0, ECL_F_HOST, "store personal -> number of entries") \
	X(STORE_LIST_KEYS, NONE,  50, STORAGE, 3, 1, 0, ECL_F_HOST, "store prefix limit -> sorted array of keys") \
	X(STORE_GET_NESTED, NONE, 60, STORAGE, 3, 1, 0, ECL_F_HOST, "store key path -> value at path inside the entry (null when absent)") \
	X(STORE_PUT_NESTED, NONE, 120, STORAGE, 4, 1, 0, ECL_F_HOST | ECL_F_WRITE, "store key path value -> true; creates objects along path") \
	X(STORE_APPEND_LIST, NONE, 100, STORAGE, 3, 1, 0, ECL_F_HOST | ECL_F_WRITE, "store key value -> new length; entry becomes an array") \
	/* \
	 * Added after the first release, hence last: stored bytecode keeps its \
	 * opcode numbers.  The reference ECLVM's assert: a require without a \
	 * message costs 3, one with a message (REQUIRE) 5. \
	 */ \
	X(ASSERT,          NONE,   3, COMPUTE, 1, 0, 0, 0, "a -> ; deny with \"require failed at line L\" when !truthy(a)") \
	X(LOAD_INPUT_OPTIONAL, STRING, 2, COMPUTE, 0, 1, 0, 0, "-> input[k], null when absent (a declared optional input)")

typedef enum ecl_opcode
{
#define ECL_X_ENUM(name, operand, gas, layer, pop, push, jpush, flags, doc) ECL_OP_##name,
	ECL_OPCODES(ECL_X_ENUM)
#undef ECL_X_ENUM
	ECL_OP_COUNT
} ecl_opcode;

typedef struct ecl_opcode_info
{
	const char *name;
	ecl_operand_kind operand;
	uint16_t	gas;
	uint8_t		layer;			/* ecl_layer */
	int8_t		pop;
	int8_t		push;
	int8_t		jpush;
	uint8_t		flags;
	const char *doc;
} ecl_opcode_info;

/* Indexed by ecl_opcode; defined in opcodes.c from ECL_OPCODES. */
extern const ecl_opcode_info ecl_opcode_table[ECL_OP_COUNT];

extern const char *const ecl_layer_names[ECL_LAYER_COUNT];	/* "compute", ... */
extern const char *const ecl_operand_kind_names[];	/* "none", "const", ... */

/* Instruction word layout */
typedef uint32_t ecl_instr;

#define ECL_INSTR_OP(i)		((ecl_opcode) ((i) & 0xFFu))
#define ECL_INSTR_ARG(i)	((uint32_t) ((i) >> 8))
#define ECL_INSTR(op, arg)	((ecl_instr) (((uint32_t) (op) & 0xFFu) | ((uint32_t) (arg) << 8)))
#define ECL_ARG_MAX			0xFFFFFEu
#define ECL_NO_ARG			0xFFFFFFu	/* ECL_OPK_MSG without a message */

/*
 * Built-in functions as the language names them (docs/language.md §6), mapped to the
 * instruction that implements them.  X(name, opcode, min_args, max_args).
 * The compiler pushes null for omitted optional arguments, so each
 * instruction has a fixed arity equal to max_args.
 */
#define ECL_BUILTINS(X) \
	X("trust_norm", TRUST_NORM, 1, 1) \
	X("trust_combine", TRUST_COMBINE, 2, 2) \
	X("trust_create", TRUST_CREATE, 6, 6) \
	X("trust_above_threshold", TRUST_ABOVE, 2, 2) \
	X("trust_weighted_avg", TRUST_WAVG, 2, 2) \
	X("trust_distance", TRUST_DISTANCE, 2, 2) \
	X("abs", ABS, 1, 1) \
	X("sqrt", SQRT, 1, 1) \
	X("floor", FLOOR, 1, 1) \
	X("ceil", CEIL, 1, 1) \
	X("round", ROUND, 1, 1) \
	X("min", MIN, 2, 2) \
	X("max", MAX, 2, 2) \
	X("clamp", CLAMP, 3, 3) \
	X("lerp", LERP, 3, 3) \
	X("surprisal", SURPRISAL, 1, 1) \
	X("str_len", STR_LEN, 1, 1) \
	X("str_contains", STR_CONTAINS, 2, 2) \
	X("str_eq_ignore_case", STR_EQ_IGNORE_CASE, 2, 2) \
	X("array_len", ARRAY_LEN, 1, 1) \
	X("array_get", ARRAY_GET, 2, 2) \
	X("contains", CONTAINS, 2, 2) \
	X("len", LEN, 1, 1) \
	X("keys", KEYS, 1, 1) \
	X("has", HAS, 2, 2) \
	X("time_since", TIME_SINCE, 1, 1) \
	X("load_trust", LOAD_TRUST, 1, 1) \
	X("has_credential", HAS_CREDENTIAL, 2, 2) \
	X("resolve_did", RESOLVE_DID, 1, 1) \
	X("get_balance", GET_BALANCE, 1, 1) \
	X("get_timestamp", GET_TIMESTAMP, 0, 0) \
	X("get_metric", GET_METRIC, 1, 1) \
	X("log", LOG, 1, 1) \
	X("store_get", STORE_GET, 2, 3) \
	X("store_put", STORE_PUT, 3, 4) \
	X("store_delete", STORE_DELETE, 2, 3) \
	X("store_exists", STORE_EXISTS, 1, 2) \
	X("store_count", STORE_COUNT, 1, 2) \
	X("store_list_keys", STORE_LIST_KEYS, 1, 3) \
	X("store_get_nested", STORE_GET_NESTED, 3, 3) \
	X("store_put_nested", STORE_PUT_NESTED, 4, 4) \
	X("store_append_list", STORE_APPEND_LIST, 3, 3)

typedef struct ecl_builtin_info
{
	const char *name;
	ecl_opcode	op;
	uint8_t		min_args;
	uint8_t		max_args;
} ecl_builtin_info;

extern const ecl_builtin_info ecl_builtin_table[];
extern const int ecl_builtin_count;

/* NULL when name is not a built-in. */
const ecl_builtin_info *ecl_builtin_lookup(const char *name, size_t len);

#endif							/* ECL_OPCODES_H */
