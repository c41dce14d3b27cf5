/*
 * compiler.c — syntax tree to bytecode (docs/language.md §5; docs/sql-api.md, "The language").
 *
 * One pass over the tree per statement: first fold() annotates every
 * expression node with its constant value when it has one (using the same
 * operator functions as the VM, so folded and run-time results agree), then
 * gen_*() emits code, pushing a constant for every folded node.  An operator
 * whose folding fails (1/0, "a" < 1) is simply left to run time, where it
 * raises the proper error at its own line and column.
 *
 * Names are resolved here: locals and constants (innermost scope first),
 * then the context names, then input fields.  Dead code (after an
 * unconditional return or deny, or in the branch of an if on a constant) is
 * still compiled, so errors in it are reported, and then dropped.
 *
 * Everything — tree, folded constants, the chunk — lives in one arena that
 * ecl_compile releases; only the serialised bytes are copied out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ecl/arena.h"
#include "ecl/ast.h"
#include "ecl/bytecode.h"
#include "ecl/compiler.h"
#include "ecl/opcodes.h"
#include "ecl/parser.h"
#include "ecl/suggest.h"
#include "ecl/value.h"
#include "verify.h"

typedef struct variable
{
	const char *name;
	size_t		len;
	int			scope;			/* scope depth it was declared in */
	uint32_t	line;			/* declaration, for redeclaration errors */
	bool		is_const;
	ecl_value	value;			/* constants: the folded value */
	uint32_t	slot;			/* lets: the local slot */
} variable;

typedef struct compiler
{
	ecl_arena  *arena;
	const ecl_alloc *alloc;		/* the arena as an allocator */
	ecl_chunk	chunk;
	ecl_error  *err;
	variable   *vars;
	uint32_t	nvars;
	uint32_t	vars_cap;
	int			scope;
	uint32_t	next_slot;
	ecl_error	fold_err;		/* why a fold failed; never reported */
	ecl_diagnostics *diags;		/* collecting every error; NULL otherwise */
	const ecl_policy *declaring;	/* the policy, when it declares its inputs */
} compiler;

/* Names the run context provides (docs/language.md §5). */
typedef struct context_name
{
	const char *name;
	ecl_opcode	op;
} context_name;

static const context_name context_names[] = {
	{"caller", ECL_OP_LOAD_CALLER},
	{"sender", ECL_OP_LOAD_CALLER},
	{"requester", ECL_OP_LOAD_CALLER},
	{"realm", ECL_OP_LOAD_REALM},
	{"input", ECL_OP_LOAD_INPUT},
	{"trust", ECL_OP_CALLER_TRUST},
};

/* Trust dimension names; index modulo 6 is the dimension (R I C P V Omega). */
static const char *const dimension_names[] = {
	"r", "i", "c", "p", "v", "omega",
	"R", "I", "C", "P", "V", "\xCE\xA9",
};

static bool
name_is(const char *name, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(name, s, len) == 0;
}

static int
shown_len(size_t len)
{
	return (int) (len > 64 ? 64 : len);
}

/* --- emitting -------------------------------------------------------------- */

static ecl_status
emit(compiler *c, ecl_opcode op, uint32_t arg, uint32_t line, uint32_t column,
	 uint32_t *pc)
{
	return ecl_chunk_emit(&c->chunk, op, arg, line, column, pc, c->err);
}

static uint32_t
here(const compiler *c)
{
	return c->chunk.ncode;
}

static ecl_status
emit_const(compiler *c, ecl_value v, uint32_t line, uint32_t column)
{
	uint32_t	k;

	switch (v.type)
	{
		case ECL_T_NULL:
			return emit(c, ECL_OP_PUSH_NULL, 0, line, column, NULL);
		case ECL_T_BOOL:
			return emit(c, v.u.b ? ECL_OP_PUSH_TRUE : ECL_OP_PUSH_FALSE, 0,
						line, column, NULL);
		default:
			if (ecl_chunk_add_const(&c->chunk, v, &k, c->err) != ECL_OK)
				return ECL_FAIL;
			return emit(c, ECL_OP_PUSH_CONST, k, line, column, NULL);
	}
}

/* Constant-pool index of a string (operands of GET_FIELD etc.). */
static ecl_status
string_const(compiler *c, const char *s, size_t len, uint32_t *k)
{
	ecl_value	v;

	if (ecl_string_new(c->alloc, s, len, &v, c->err) != ECL_OK)
		return ECL_FAIL;
	return ecl_chunk_add_const(&c->chunk, v, k, c->err);
}

static ecl_status
compile_error(compiler *c, uint32_t line, uint32_t column, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 4, 5)))
#endif
			;

static ecl_status
compile_error(compiler *c, uint32_t line, uint32_t column, const char *fmt,...)
{
	va_list		ap;
	char		msg[ECL_ERROR_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ecl_error_set(c->err, ECL_ERR_SYNTAX, line, column, "%s", msg);
}

/* --- scopes ---------------------------------------------------------------- */

static variable *
lookup(compiler *c, const char *name, size_t len)
{
	for (uint32_t i = c->nvars; i > 0; i--)
	{
		variable   *v = &c->vars[i - 1];

		if (v->len == len && memcmp(v->name, name, len) == 0)
			return v;
	}
	return NULL;
}

static ecl_status
declare(compiler *c, const ecl_stmt *s, bool is_const, ecl_value value,
		uint32_t slot)
{
	variable   *v;

	for (uint32_t i = c->nvars; i > 0 && c->vars[i - 1].scope == c->scope; i--)
	{
		v = &c->vars[i - 1];
		if (v->len == s->name_len && memcmp(v->name, s->name, v->len) == 0)
			return compile_error(c, s->name_line, s->name_column,
								 "'%.*s' is already declared in this block (line %u)",
								 shown_len(v->len), v->name, v->line);
	}
	if (c->nvars == c->vars_cap)
	{
		uint32_t	ncap = c->vars_cap ? c->vars_cap * 2 : 16;
		variable   *n = ecl_arena_alloc(c->arena, ncap * sizeof(variable));

		if (n == NULL)
			return ecl_error_set(c->err, ECL_ERR_RESOURCE, s->line, s->column,
								 "out of memory while compiling");
		if (c->nvars)
			memcpy(n, c->vars, c->nvars * sizeof(variable));
		c->vars = n;
		c->vars_cap = ncap;
	}
	v = &c->vars[c->nvars++];
	v->name = s->name;
	v->len = s->name_len;
	v->scope = c->scope;
	v->line = s->name_line;
	v->is_const = is_const;
	v->value = value;
	v->slot = slot;
	return ECL_OK;
}

static ecl_status
alloc_slots(compiler *c, uint32_t n, uint32_t line, uint32_t column, uint32_t *slot)
{
	if (c->next_slot + n > ECL_MAX_LOCALS)
		return ecl_error_set(c->err, ECL_ERR_RESOURCE, line, column,
							 "too many local variables (at most %u may be live at once)",
							 (unsigned) ECL_MAX_LOCALS);
	*slot = c->next_slot;
	c->next_slot += n;
	if (c->next_slot > c->chunk.nlocals)
		c->chunk.nlocals = c->next_slot;
	return ECL_OK;
}

typedef struct scope_mark
{
	uint32_t	nvars;
	uint32_t	next_slot;
} scope_mark;

static scope_mark
begin_scope(compiler *c)
{
	scope_mark	m = {c->nvars, c->next_slot};

	c->scope++;
	return m;
}

/* Slots of a finished block are free again for later blocks. */
static void
end_scope(compiler *c, scope_mark m)
{
	c->scope--;
	c->nvars = m.nvars;
	c->next_slot = m.next_slot;
}

/* --- constant folding ------------------------------------------------------ */

/*
 * Annotate e (and its subtree) with its constant value where it has one.
 * Never fails: whatever cannot be folded, for whatever reason, is compiled
 * to run-time code instead.
 */
static void
fold(compiler *c, ecl_expr *e)
{
	ecl_error  *ignored = &c->fold_err;
	ecl_value	v;

	if (e == NULL || e->fold_done)
		return;
	e->fold_done = true;
	if (e->cond)
		fold(c, e->cond);
	if (e->lhs)
		fold(c, e->lhs);
	if (e->rhs)
		fold(c, e->rhs);
	for (uint32_t i = 0; i < e->count; i++)
	{
		fold(c, e->items[i]);
		if (e->keys)
			fold(c, e->keys[i]);
	}

	switch (e->kind)
	{
		case ECL_EXPR_NUMBER:
			e->value = ecl_number(e->number);
			e->folded = true;
			break;
		case ECL_EXPR_STRING:
			e->folded = ecl_string_new(c->alloc, e->str, e->str_len,
									   &e->value, ignored) == ECL_OK;
			break;
		case ECL_EXPR_BOOL:
			e->value = ecl_bool(e->boolean);
			e->folded = true;
			break;
		case ECL_EXPR_NULL:
			e->value = ecl_null();
			e->folded = true;
			break;
		case ECL_EXPR_NAME:
			{
				variable   *var = lookup(c, e->name, e->name_len);

				if (var != NULL && var->is_const)
				{
					e->value = var->value;
					e->folded = true;
				}
				break;
			}
		case ECL_EXPR_UNARY:
			if (e->lhs->folded &&
				ecl_value_unary(c->alloc, e->op, e->lhs->value, &v, ignored) == ECL_OK)
			{
				e->value = v;
				e->folded = true;
			}
			break;
		case ECL_EXPR_BINARY:
			if (e->lhs->folded && e->rhs->folded &&
				ecl_value_binary(c->alloc, e->op, e->lhs->value, e->rhs->value,
								 &v, ignored) == ECL_OK)
			{
				e->value = v;
				e->folded = true;
			}
			break;
		case ECL_EXPR_AND:
		case ECL_EXPR_OR:
			if (e->lhs->folded)
			{
				bool		l = ecl_truthy(e->lhs->value);

				/* && stops at a falsy left side, || at a truthy one */
				if (l == (e->kind == ECL_EXPR_OR))
				{
					e->value = ecl_bool(l);
					e->folded = true;
				}
				else if (e->rhs->folded)
				{
					e->value = ecl_bool(ecl_truthy(e->rhs->value));
					e->folded = true;
				}
			}
			break;
		case ECL_EXPR_TERNARY:
			if (e->cond->folded)
			{
				ecl_expr   *chosen = ecl_truthy(e->cond->value) ? e->lhs : e->rhs;

				if (chosen->folded)
				{
					e->value = chosen->value;
					e->folded = true;
				}
			}
			break;
		case ECL_EXPR_ARRAY:
			for (uint32_t i = 0; i < e->count; i++)
				if (!e->items[i]->folded)
					return;
			if (ecl_array_new(c->alloc, e->count, &v, ignored) != ECL_OK)
				return;
			for (uint32_t i = 0; i < e->count; i++)
				v.u.arr->items[i] = e->items[i]->value;
			e->value = v;
			e->folded = true;
			break;
		case ECL_EXPR_OBJECT:
			for (uint32_t i = 0; i < e->count; i++)
				if (!e->items[i]->folded || !e->keys[i]->folded)
					return;
			if (ecl_object_new(c->alloc, e->count, &v, ignored) != ECL_OK)
				return;
			/* a repeated key replaces the earlier value: last wins */
			for (uint32_t i = 0; i < e->count; i++)
				if (ecl_object_set(c->alloc, &v, e->keys[i]->str, e->keys[i]->str_len,
								   e->items[i]->value, ignored) != ECL_OK)
					return;
			e->value = v;
			e->folded = true;
			break;
		case ECL_EXPR_FIELD:
		case ECL_EXPR_INDEX:
		case ECL_EXPR_CALL:
		case ECL_EXPR_METHOD:
			/* evaluated at run time (host data, or cheap enough not to bother) */
			break;
	}
}

/*
 * For an expression that did not fold: the innermost part responsible (a
 * sub-expression that did not fold either, or else the node itself).
 */
static const ecl_expr *
non_constant_part(const ecl_expr *e)
{
	bool		runtime_member = e->kind == ECL_EXPR_FIELD || e->kind == ECL_EXPR_METHOD ||
		e->kind == ECL_EXPR_INDEX || e->kind == ECL_EXPR_CALL;

	if (runtime_member)
		return e;
	if (e->cond && !e->cond->folded)
		return non_constant_part(e->cond);
	if (e->lhs && !e->lhs->folded)
		return non_constant_part(e->lhs);
	if (e->rhs && !e->rhs->folded)
		return non_constant_part(e->rhs);
	for (uint32_t i = 0; i < e->count; i++)
		if (!e->items[i]->folded)
			return non_constant_part(e->items[i]);
	return e;
}

/* Why e is not constant, for "must be a constant expression" messages. */
static const ecl_expr *
why_not_constant(compiler *c, const ecl_expr *e, char *why, size_t whysize)
{
	ecl_error	reason;
	ecl_value	v;

	e = non_constant_part(e);
	ecl_error_clear(&reason);
	switch (e->kind)
	{
		case ECL_EXPR_NAME:
			snprintf(why, whysize, "'%.*s' is not a constant",
					 shown_len(e->name_len), e->name);
			break;
		case ECL_EXPR_CALL:
		case ECL_EXPR_METHOD:
			snprintf(why, whysize, "function calls are evaluated at run time");
			break;
		case ECL_EXPR_FIELD:
		case ECL_EXPR_INDEX:
			snprintf(why, whysize, "member access is evaluated at run time");
			break;
		case ECL_EXPR_UNARY:
			ecl_value_unary(c->alloc, e->op, e->lhs->value, &v, &reason);
			snprintf(why, whysize, "%s", reason.message);
			break;
		case ECL_EXPR_BINARY:
			ecl_value_binary(c->alloc, e->op, e->lhs->value, e->rhs->value, &v, &reason);
			snprintf(why, whysize, "%s", reason.message);
			break;
		default:
			snprintf(why, whysize, "the value could not be computed");
			break;
	}
	return e;
}

/* --- expressions ----------------------------------------------------------- */

static ecl_status gen_expr(compiler *c, ecl_expr *e);

/* Is e statically known to be a trust vector (so .r is TRUST_DIM)? */
static bool
is_trust_vector(compiler *c, const ecl_expr *e)
{
	switch (e->kind)
	{
		case ECL_EXPR_NAME:
			return name_is(e->name, e->name_len, "trust") &&
				lookup(c, e->name, e->name_len) == NULL;
		case ECL_EXPR_FIELD:
			return name_is(e->name, e->name_len, "trust");
		case ECL_EXPR_CALL:
			return name_is(e->name, e->name_len, "load_trust") ||
				name_is(e->name, e->name_len, "trust_create") ||
				name_is(e->name, e->name_len, "trust_combine");
		default:
			return false;
	}
}

static int
dimension_index(const char *name, size_t len)
{
	for (int i = 0; i < (int) (sizeof(dimension_names) / sizeof(dimension_names[0])); i++)
		if (name_is(name, len, dimension_names[i]))
			return i % ECL_TRUST_DIMS;
	return -1;
}

static const ecl_ast_input *
declared_input(const compiler *c, const char *name, size_t len)
{
	for (uint32_t i = 0; i < c->declaring->ninputs; i++)
		if (c->declaring->inputs[i].name_len == len &&
			memcmp(c->declaring->inputs[i].name, name, len) == 0)
			return &c->declaring->inputs[i];
	return NULL;
}

/*
 * A name the policy's declaration does not have: the error names the
 * closest declared input, local, constant or context name (with_scope) or
 * the closest declared input (for input.x).
 */
static ecl_status
undeclared_input(compiler *c, const char *name, size_t len, uint32_t line,
				 uint32_t column, bool with_scope)
{
	ecl_suggestion sg;
	const char *best;
	size_t		best_len;

	ecl_suggest_init(&sg, name, len);
	for (uint32_t i = 0; i < c->declaring->ninputs; i++)
		ecl_suggest_offer(&sg, c->declaring->inputs[i].name,
						  c->declaring->inputs[i].name_len);
	if (with_scope)
	{
		for (uint32_t i = c->nvars; i > 0; i--)
			ecl_suggest_offer(&sg, c->vars[i - 1].name, c->vars[i - 1].len);
		for (size_t i = 0; i < sizeof(context_names) / sizeof(context_names[0]); i++)
			ecl_suggest_offer(&sg, context_names[i].name, strlen(context_names[i].name));
	}
	best = ecl_suggest_best(&sg, &best_len);
	/* an abbreviation (class for classification) is too many edits away */
	for (uint32_t i = 0; best == NULL && len >= 3 && i < c->declaring->ninputs; i++)
		if (c->declaring->inputs[i].name_len > len &&
			memcmp(c->declaring->inputs[i].name, name, len) == 0)
		{
			best = c->declaring->inputs[i].name;
			best_len = c->declaring->inputs[i].name_len;
		}
	if (best != NULL)
		return compile_error(c, line, column,
							 "%s '%.*s' is not a declared input of policy '%s' (did you mean '%.*s'?)",
							 with_scope ? "name" : "input field",
							 shown_len(len), name, c->declaring->name, (int) best_len, best);
	return compile_error(c, line, column,
						 "%s '%.*s' is not a declared input of policy '%s' (declare it in the parentheses after the policy name)",
						 with_scope ? "name" : "input field",
						 shown_len(len), name, c->declaring->name);
}

/* input.x or input["x"] (x constant) in a declaring policy: x must be declared */
static ecl_status
check_input_member(compiler *c, const ecl_expr *lhs, const char *name,
				   size_t len, uint32_t line, uint32_t column)
{
	if (c->declaring == NULL || lhs->kind != ECL_EXPR_NAME ||
		!name_is(lhs->name, lhs->name_len, "input") ||
		lookup(c, lhs->name, lhs->name_len) != NULL ||
		declared_input(c, name, len) != NULL)
		return ECL_OK;
	return undeclared_input(c, name, len, line, column, false);
}

static ecl_status
gen_name(compiler *c, const ecl_expr *e)
{
	variable   *var = lookup(c, e->name, e->name_len);
	uint32_t	k;

	if (var != NULL)
	{
		if (var->is_const)
			return emit_const(c, var->value, e->line, e->column);
		return emit(c, ECL_OP_LOAD_LOCAL, var->slot, e->line, e->column, NULL);
	}
	for (size_t i = 0; i < sizeof(context_names) / sizeof(context_names[0]); i++)
		if (name_is(e->name, e->name_len, context_names[i].name))
			return emit(c, context_names[i].op, 0, e->line, e->column, NULL);
	if (c->declaring != NULL)
	{
		const ecl_ast_input *in = declared_input(c, e->name, e->name_len);

		if (in == NULL)
			return undeclared_input(c, e->name, e->name_len, e->line, e->column, true);
		if (in->optional)
		{
			if (string_const(c, e->name, e->name_len, &k) != ECL_OK)
				return ECL_FAIL;
			return emit(c, ECL_OP_LOAD_INPUT_OPTIONAL, k, e->line, e->column, NULL);
		}
	}
	if (string_const(c, e->name, e->name_len, &k) != ECL_OK)
		return ECL_FAIL;
	return emit(c, ECL_OP_LOAD_INPUT_FIELD, k, e->line, e->column, NULL);
}

/*
 * A built-in call.  want_value: the caller needs the result on the stack
 * (instructions without a result, like log, then push null).
 */
static ecl_status
gen_call(compiler *c, ecl_expr *e, bool want_value)
{
	const ecl_builtin_info *b;
	const ecl_opcode_info *info;

	if (e->kind == ECL_EXPR_METHOD)
	{
		if (!name_is(e->name, e->name_len, "credential"))
		{
			ecl_suggestion sg;

			ecl_suggest_init(&sg, e->name, e->name_len);
			ecl_suggest_offer(&sg, "credential", strlen("credential"));
			return compile_error(c, e->line, e->column,
								 "unknown method '%.*s' (%savailable: x.credential(schema); x.trust is a field)",
								 shown_len(e->name_len), e->name,
								 ecl_suggest_best(&sg, NULL) ? "did you mean 'credential'? " : "");
		}
		if (e->count != 1)
			return compile_error(c, e->line, e->column,
								 "method 'credential' expects 1 argument, found %u",
								 e->count);
		if (gen_expr(c, e->lhs) != ECL_OK || gen_expr(c, e->items[0]) != ECL_OK)
			return ECL_FAIL;
		if (emit(c, ECL_OP_HAS_CREDENTIAL, 0, e->line, e->column, NULL) != ECL_OK)
			return ECL_FAIL;
		return want_value ? ECL_OK : emit(c, ECL_OP_POP, 0, e->line, e->column, NULL);
	}

	b = ecl_builtin_lookup(e->name, e->name_len);
	if (b == NULL)
	{
		ecl_suggestion sg;
		const char *best;
		size_t		best_len;

		ecl_suggest_init(&sg, e->name, e->name_len);
		for (int i = 0; i < ecl_builtin_count; i++)
			ecl_suggest_offer(&sg, ecl_builtin_table[i].name,
							  strlen(ecl_builtin_table[i].name));
		best = ecl_suggest_best(&sg, &best_len);
		if (best != NULL)
			return compile_error(c, e->line, e->column,
								 "unknown function '%.*s' (did you mean '%.*s'?)",
								 shown_len(e->name_len), e->name, (int) best_len, best);
		return compile_error(c, e->line, e->column, "unknown function '%.*s'",
							 shown_len(e->name_len), e->name);
	}
	if (e->count < b->min_args || e->count > b->max_args)
	{
		char		expected[48];

		if (b->min_args == b->max_args)
			snprintf(expected, sizeof(expected), "%u argument%s", b->max_args,
					 b->max_args == 1 ? "" : "s");
		else
			snprintf(expected, sizeof(expected), "%u to %u arguments",
					 b->min_args, b->max_args);
		return compile_error(c, e->line, e->column,
							 "function '%s' expects %s, found %u",
							 b->name, expected, e->count);
	}
	for (uint32_t i = 0; i < e->count; i++)
		if (gen_expr(c, e->items[i]) != ECL_OK)
			return ECL_FAIL;
	/* omitted optional arguments are null, so every instruction has fixed arity */
	for (uint32_t i = e->count; i < b->max_args; i++)
		if (emit(c, ECL_OP_PUSH_NULL, 0, e->line, e->column, NULL) != ECL_OK)
			return ECL_FAIL;
	if (emit(c, b->op, 0, e->line, e->column, NULL) != ECL_OK)
		return ECL_FAIL;
	info = &ecl_opcode_table[b->op];
	if (want_value && info->push == 0)
		return emit(c, ECL_OP_PUSH_NULL, 0, e->line, e->column, NULL);
	if (!want_value && info->push == 1)
		return emit(c, ECL_OP_POP, 0, e->line, e->column, NULL);
	return ECL_OK;
}

static ecl_status
gen_field(compiler *c, ecl_expr *e)
{
	uint32_t	k;

	if (name_is(e->name, e->name_len, "trust"))
	{
		if (gen_expr(c, e->lhs) != ECL_OK)
			return ECL_FAIL;
		return emit(c, ECL_OP_LOAD_TRUST, 0, e->line, e->column, NULL);
	}
	if (is_trust_vector(c, e->lhs))
	{
		int			dim = dimension_index(e->name, e->name_len);

		if (dim < 0)
		{
			ecl_suggestion sg;
			const char *best;
			size_t		best_len;

			ecl_suggest_init(&sg, e->name, e->name_len);
			for (size_t i = 0; i < sizeof(dimension_names) / sizeof(dimension_names[0]); i++)
				ecl_suggest_offer(&sg, dimension_names[i], strlen(dimension_names[i]));
			best = ecl_suggest_best(&sg, &best_len);
			if (best != NULL)
				return compile_error(c, e->line, e->column,
									 "unknown trust dimension '%.*s' (did you mean '%.*s'? expected r, i, c, p, v or omega)",
									 shown_len(e->name_len), e->name, (int) best_len, best);
			return compile_error(c, e->line, e->column,
								 "unknown trust dimension '%.*s' (expected r, i, c, p, v or omega)",
								 shown_len(e->name_len), e->name);
		}
		if (gen_expr(c, e->lhs) != ECL_OK)
			return ECL_FAIL;
		return emit(c, ECL_OP_TRUST_DIM, (uint32_t) dim, e->line, e->column, NULL);
	}
	if (check_input_member(c, e->lhs, e->name, e->name_len, e->line, e->column) != ECL_OK ||
		gen_expr(c, e->lhs) != ECL_OK || string_const(c, e->name, e->name_len, &k) != ECL_OK)
		return ECL_FAIL;
	return emit(c, ECL_OP_GET_FIELD, k, e->line, e->column, NULL);
}

/*
 * Does e always leave a boolean (or fail)?  Then `a && e` needs no TO_BOOL
 * after e: comparisons, `!`, `&&` and `||` produce booleans whatever their
 * operands (value.c), and so does a folded true or false.
 */
static bool
yields_bool(const ecl_expr *e)
{
	if (e->folded)
		return e->value.type == ECL_T_BOOL;
	switch (e->kind)
	{
		case ECL_EXPR_AND:
		case ECL_EXPR_OR:
			return true;
		case ECL_EXPR_UNARY:
			return e->op == ECL_OP_NOT;
		case ECL_EXPR_BINARY:
			switch (e->op)
			{
				case ECL_OP_EQ:
				case ECL_OP_NE:
				case ECL_OP_LT:
				case ECL_OP_LE:
				case ECL_OP_GT:
				case ECL_OP_GE:
					return true;
				default:
					return false;
			}
		default:
			return false;
	}
}

/* Emit code leaving e's value on the stack.  fold() has run on e. */
static ecl_status
gen_expr(compiler *c, ecl_expr *e)
{
	uint32_t	jump_pc = 0;
	uint32_t	end_pc = 0;

	if (e->folded)
		return emit_const(c, e->value, e->line, e->column);

	switch (e->kind)
	{
		case ECL_EXPR_NUMBER:
		case ECL_EXPR_BOOL:
		case ECL_EXPR_NULL:
		case ECL_EXPR_STRING:
			/* literals always fold, unless allocating the string failed */
			return ecl_error_set(c->err, ECL_ERR_RESOURCE, e->line, e->column,
								 "out of memory while compiling a literal");
		case ECL_EXPR_NAME:
			return gen_name(c, e);
		case ECL_EXPR_UNARY:
			if (gen_expr(c, e->lhs) != ECL_OK)
				return ECL_FAIL;
			return emit(c, e->op, 0, e->line, e->column, NULL);
		case ECL_EXPR_BINARY:
			if (gen_expr(c, e->lhs) != ECL_OK || gen_expr(c, e->rhs) != ECL_OK)
				return ECL_FAIL;
			return emit(c, e->op, 0, e->line, e->column, NULL);
		case ECL_EXPR_AND:
		case ECL_EXPR_OR:
			/*
			 * A constant left side that did not decide the result (true &&,
			 * false ||) leaves just the right side.
			 */
			if (!e->lhs->folded)
			{
				if (gen_expr(c, e->lhs) != ECL_OK ||
					emit(c, e->kind == ECL_EXPR_AND ? ECL_OP_AND : ECL_OP_OR, 0,
						 e->line, e->column, &jump_pc) != ECL_OK)
					return ECL_FAIL;
			}
			if (gen_expr(c, e->rhs) != ECL_OK ||
				(!yields_bool(e->rhs) &&
				 emit(c, ECL_OP_TO_BOOL, 0, e->line, e->column, NULL) != ECL_OK))
				return ECL_FAIL;
			if (!e->lhs->folded)
				ecl_chunk_patch(&c->chunk, jump_pc, here(c));
			return ECL_OK;
		case ECL_EXPR_TERNARY:
			if (e->cond->folded)
				return gen_expr(c, ecl_truthy(e->cond->value) ? e->lhs : e->rhs);
			if (gen_expr(c, e->cond) != ECL_OK ||
				emit(c, ECL_OP_JUMP_IF_FALSE, 0, e->line, e->column, &jump_pc) != ECL_OK ||
				gen_expr(c, e->lhs) != ECL_OK ||
				emit(c, ECL_OP_JUMP, 0, e->line, e->column, &end_pc) != ECL_OK)
				return ECL_FAIL;
			ecl_chunk_patch(&c->chunk, jump_pc, here(c));
			if (gen_expr(c, e->rhs) != ECL_OK)
				return ECL_FAIL;
			ecl_chunk_patch(&c->chunk, end_pc, here(c));
			return ECL_OK;
		case ECL_EXPR_ARRAY:
			for (uint32_t i = 0; i < e->count; i++)
				if (gen_expr(c, e->items[i]) != ECL_OK)
					return ECL_FAIL;
			return emit(c, ECL_OP_MAKE_ARRAY, e->count, e->line, e->column, NULL);
		case ECL_EXPR_OBJECT:
			for (uint32_t i = 0; i < e->count; i++)
				if (gen_expr(c, e->keys[i]) != ECL_OK || gen_expr(c, e->items[i]) != ECL_OK)
					return ECL_FAIL;
			return emit(c, ECL_OP_MAKE_OBJECT, e->count, e->line, e->column, NULL);
		case ECL_EXPR_FIELD:
			return gen_field(c, e);
		case ECL_EXPR_INDEX:
			if (e->rhs->folded && e->rhs->value.type == ECL_T_STRING &&
				check_input_member(c, e->lhs, e->rhs->value.u.str->data,
								   e->rhs->value.u.str->len, e->line, e->column) != ECL_OK)
				return ECL_FAIL;
			if (gen_expr(c, e->lhs) != ECL_OK || gen_expr(c, e->rhs) != ECL_OK)
				return ECL_FAIL;
			return emit(c, ECL_OP_GET_INDEX, 0, e->line, e->column, NULL);
		case ECL_EXPR_CALL:
		case ECL_EXPR_METHOD:
			return gen_call(c, e, true);
	}
	return ecl_error_set(c->err, ECL_ERR_SYNTAX, e->line, e->column,
						 "internal error: unknown expression kind %d", (int) e->kind);
}

/* Fold then generate: the entry point for a statement's expression. */
static ecl_status
compile_expr(compiler *c, ecl_expr *e)
{
	fold(c, e);
	return gen_expr(c, e);
}

/*
 * A constant string operand (require message, emit event name): must fold
 * to a string.  *k receives its pool index.
 */
static ecl_status
constant_string(compiler *c, ecl_expr *e, const char *what, uint32_t *k)
{
	fold(c, e);
	if (!e->folded || e->value.type != ECL_T_STRING)
		return compile_error(c, e->line, e->column,
							 "%s must be a constant string, found %s", what,
							 e->folded ? ecl_type_name((ecl_type) e->value.type) :
							 "an expression evaluated at run time");
	return ecl_chunk_add_const(&c->chunk, e->value, k, c->err);
}

/* --- statements ------------------------------------------------------------ */

static ecl_status gen_block(compiler *c, const ecl_block *b, bool *terminated);

/*
 * Compile a block whose code can never run (it only has to be free of
 * errors) and drop what it emitted.
 */
static ecl_status
check_dead_block(compiler *c, const ecl_block *b)
{
	uint32_t	mark = here(c);
	bool		ignored;

	if (gen_block(c, b, &ignored) != ECL_OK)
		return ECL_FAIL;
	c->chunk.ncode = mark;
	return ECL_OK;
}

static ecl_status
gen_if(compiler *c, const ecl_stmt *s, bool *terminated)
{
	bool		then_done = false;
	bool		else_done = false;
	uint32_t	else_jump = 0;
	uint32_t	end_jump = 0;

	fold(c, s->expr);
	if (s->expr->folded)
	{
		/* only the live branch is kept */
		bool		live_then = ecl_truthy(s->expr->value);
		const ecl_block *live = live_then ? s->body : s->else_body;
		const ecl_block *dead = live_then ? s->else_body : s->body;

		if (dead != NULL && check_dead_block(c, dead) != ECL_OK)
			return ECL_FAIL;
		if (live != NULL)
			return gen_block(c, live, terminated);
		return ECL_OK;
	}

	if (gen_expr(c, s->expr) != ECL_OK ||
		emit(c, ECL_OP_JUMP_IF_FALSE, 0, s->line, s->column, &else_jump) != ECL_OK ||
		gen_block(c, s->body, &then_done) != ECL_OK)
		return ECL_FAIL;
	if (s->else_body == NULL)
	{
		ecl_chunk_patch(&c->chunk, else_jump, here(c));
		return ECL_OK;
	}
	/* no jump over the else branch when the then branch never falls through */
	if (!then_done &&
		emit(c, ECL_OP_JUMP, 0, s->body->end_line, s->body->end_column, &end_jump) != ECL_OK)
		return ECL_FAIL;
	ecl_chunk_patch(&c->chunk, else_jump, here(c));
	if (gen_block(c, s->else_body, &else_done) != ECL_OK)
		return ECL_FAIL;
	if (!then_done)
		ecl_chunk_patch(&c->chunk, end_jump, here(c));
	*terminated = then_done && else_done;
	return ECL_OK;
}

/*
 * for x in e { body }: the array and the index live in two hidden slots.
 *   e; ITER_INIT s; top: ITER_HAS s; JUMP_IF_FALSE end; ITER_GET s;
 *   STORE_LOCAL x; body; JUMP top; end:
 */
static ecl_status
gen_for(compiler *c, const ecl_stmt *s)
{
	scope_mark	m;
	uint32_t	iter = 0;
	uint32_t	var = 0;
	uint32_t	top;
	uint32_t	exit_jump = 0;
	bool		body_done = false;

	if (compile_expr(c, s->expr) != ECL_OK)
		return ECL_FAIL;
	m = begin_scope(c);
	if (alloc_slots(c, 2, s->line, s->column, &iter) != ECL_OK ||
		alloc_slots(c, 1, s->line, s->column, &var) != ECL_OK ||
		emit(c, ECL_OP_ITER_INIT, iter, s->line, s->column, NULL) != ECL_OK)
		return ECL_FAIL;
	top = here(c);
	if (emit(c, ECL_OP_ITER_HAS, iter, s->line, s->column, NULL) != ECL_OK ||
		emit(c, ECL_OP_JUMP_IF_FALSE, 0, s->line, s->column, &exit_jump) != ECL_OK ||
		emit(c, ECL_OP_ITER_GET, iter, s->line, s->column, NULL) != ECL_OK ||
		emit(c, ECL_OP_STORE_LOCAL, var, s->name_line, s->name_column, NULL) != ECL_OK ||
		declare(c, s, false, ecl_null(), var) != ECL_OK ||
		gen_block(c, s->body, &body_done) != ECL_OK)
		return ECL_FAIL;
	if (!body_done &&
		emit(c, ECL_OP_JUMP, top, s->body->end_line, s->body->end_column, NULL) != ECL_OK)
		return ECL_FAIL;
	ecl_chunk_patch(&c->chunk, exit_jump, here(c));
	end_scope(c, m);
	return ECL_OK;
}

static ecl_status
gen_stmt(compiler *c, const ecl_stmt *s, bool *terminated)
{
	uint32_t	k;
	uint32_t	slot = 0;
	variable   *var;

	*terminated = false;
	switch (s->kind)
	{
		case ECL_STMT_LET:
			if (compile_expr(c, s->expr) != ECL_OK ||
				alloc_slots(c, 1, s->name_line, s->name_column, &slot) != ECL_OK ||
				emit(c, ECL_OP_STORE_LOCAL, slot, s->name_line, s->name_column, NULL) != ECL_OK)
				return ECL_FAIL;
			return declare(c, s, false, ecl_null(), slot);

		case ECL_STMT_CONST:
			fold(c, s->expr);
			if (!s->expr->folded)
			{
				char		why[ECL_ERROR_MSG_MAX];
				const ecl_expr *at = why_not_constant(c, s->expr, why, sizeof(why));

				return compile_error(c, at->line, at->column,
									 "const initializer must be a constant expression (%s)",
									 why);
			}
			return declare(c, s, true, s->expr->value, 0);

		case ECL_STMT_ASSIGN:
			var = lookup(c, s->name, s->name_len);
			if (var == NULL)
			{
				ecl_suggestion sg;
				const char *best;
				size_t		best_len;

				/* only variables can be assigned: no constants or context names */
				ecl_suggest_init(&sg, s->name, s->name_len);
				for (uint32_t i = c->nvars; i > 0; i--)
					if (!c->vars[i - 1].is_const)
						ecl_suggest_offer(&sg, c->vars[i - 1].name, c->vars[i - 1].len);
				best = ecl_suggest_best(&sg, &best_len);
				if (best != NULL)
					return compile_error(c, s->name_line, s->name_column,
										 "assignment to undeclared variable '%.*s' (did you mean '%.*s'? otherwise declare it with 'let' first)",
										 shown_len(s->name_len), s->name,
										 shown_len(best_len), best);
				return compile_error(c, s->name_line, s->name_column,
									 "assignment to undeclared variable '%.*s' (declare it with 'let' first)",
									 shown_len(s->name_len), s->name);
			}
			if (var->is_const)
				return compile_error(c, s->name_line, s->name_column,
									 "cannot assign to constant '%.*s' (declared at line %u)",
									 shown_len(s->name_len), s->name, var->line);
			if (compile_expr(c, s->expr) != ECL_OK)
				return ECL_FAIL;
			return emit(c, ECL_OP_STORE_LOCAL, var->slot, s->name_line, s->name_column, NULL);

		case ECL_STMT_REQUIRE:
			k = ECL_NO_ARG;
			if (s->message != NULL &&
				constant_string(c, s->message, "require message", &k) != ECL_OK)
				return ECL_FAIL;
			fold(c, s->expr);
			if (s->expr->folded)
			{
				if (ecl_truthy(s->expr->value))
					return ECL_OK;	/* can never fail */
				*terminated = true;
				return emit(c, ECL_OP_DENY, k, s->line, s->column, NULL);
			}
			if (gen_expr(c, s->expr) != ECL_OK)
				return ECL_FAIL;
			/* without a message the cheaper ASSERT, as the reference ECLVM */
			return emit(c, k == ECL_NO_ARG ? ECL_OP_ASSERT : ECL_OP_REQUIRE, k == ECL_NO_ARG ? 0 : k,
						s->line, s->column, NULL);

		case ECL_STMT_IF:
			return gen_if(c, s, terminated);

		case ECL_STMT_FOR:
			return gen_for(c, s);

		case ECL_STMT_RETURN:
			if (compile_expr(c, s->expr) != ECL_OK)
				return ECL_FAIL;
			*terminated = true;
			return emit(c, ECL_OP_RETURN, 0, s->line, s->column, NULL);

		case ECL_STMT_EMIT:
			if (constant_string(c, s->expr, "event name", &k) != ECL_OK)
				return ECL_FAIL;
			if (s->message != NULL)
			{
				if (compile_expr(c, s->message) != ECL_OK)
					return ECL_FAIL;
			}
			else if (emit(c, ECL_OP_PUSH_NULL, 0, s->line, s->column, NULL) != ECL_OK)
				return ECL_FAIL;
			return emit(c, ECL_OP_EMIT, k, s->line, s->column, NULL);

		case ECL_STMT_EXPR:
			fold(c, s->expr);
			return gen_call(c, s->expr, false);
	}
	return ecl_error_set(c->err, ECL_ERR_SYNTAX, s->line, s->column,
						 "internal error: unknown statement kind %d", (int) s->kind);
}

/*
 * Statements in the current scope.  Once one never falls through, the rest
 * is dead: it is compiled (to report its errors) and dropped.
 */
/*
 * Collecting every error: record the one in c->err and go on with the next
 * statement.  A failed let still declares its name, so that its uses do
 * not become errors of their own.  Returns false when compiling should end
 * (not collecting, list full, or out of memory).
 */
static bool
recover_statement(compiler *c, const ecl_stmt *s)
{
	uint32_t	slot = 0;
	bool		declared = false;

	if (c->diags == NULL || c->err->code == ECL_ERR_RESOURCE ||
		!ecl_diagnostics_add(c->diags, c->err))
		return false;
	if (s->kind != ECL_STMT_LET && s->kind != ECL_STMT_CONST)
		return true;
	for (uint32_t i = c->nvars; i > 0 && c->vars[i - 1].scope == c->scope; i--)
		if (c->vars[i - 1].len == s->name_len &&
			memcmp(c->vars[i - 1].name, s->name, s->name_len) == 0)
			declared = true;
	if (!declared &&
		(alloc_slots(c, 1, s->name_line, s->name_column, &slot) != ECL_OK ||
		 declare(c, s, s->kind == ECL_STMT_CONST, ecl_null(), slot) != ECL_OK))
		return false;
	return true;
}

static ecl_status
gen_statements(compiler *c, const ecl_stmt *s, bool *terminated)
{
	*terminated = false;
	for (; s != NULL; s = s->next)
	{
		bool		done;

		if (*terminated)
		{
			uint32_t	mark = here(c);

			if (gen_stmt(c, s, &done) != ECL_OK && !recover_statement(c, s))
				return ECL_FAIL;
			c->chunk.ncode = mark;
			continue;
		}
		if (gen_stmt(c, s, &done) != ECL_OK)
		{
			if (!recover_statement(c, s))
				return ECL_FAIL;
			continue;
		}
		if (done)
			*terminated = true;
	}
	return ECL_OK;
}

static ecl_status
gen_block(compiler *c, const ecl_block *b, bool *terminated)
{
	scope_mark	m = begin_scope(c);

	if (gen_statements(c, b->first, terminated) != ECL_OK)
		return ECL_FAIL;
	end_scope(c, m);
	return ECL_OK;
}

/* --- program ----------------------------------------------------------------- */

static ecl_status
select_policy(const ecl_ast_program *prog, const ecl_compile_options *opts,
			  const ecl_policy **out, ecl_error *err)
{
	const char *wanted = opts ? opts->policy_name : NULL;

	*out = NULL;
	if (wanted != NULL && wanted[0] != '\0')
	{
		for (const ecl_policy *p = prog->policies; p != NULL; p = p->next)
		{
			if (strcmp(p->name, wanted) == 0)
			{
				*out = p;
				return ECL_OK;
			}
		}
		if (opts->policy_name_optional && prog->npolicies <= 1)
		{
			*out = prog->policies;
			return ECL_OK;
		}
		if (opts->policy_name_optional)
			return ecl_error_set(err, ECL_ERR_SYNTAX, prog->policies->next->line,
								 prog->policies->next->column,
								 "source defines %u policies and none is called \"%s\"",
								 prog->npolicies, wanted);
		if (prog->npolicies == 0)
			return ecl_error_set(err, ECL_ERR_UNDEFINED, 0, 0,
								 "policy \"%s\" is not defined in this source (it defines no policies)",
								 wanted);
		return ecl_error_set(err, ECL_ERR_UNDEFINED, 0, 0,
							 "policy \"%s\" is not defined in this source", wanted);
	}
	if (prog->npolicies > 1)
		return ecl_error_set(err, ECL_ERR_SYNTAX, prog->policies->next->line,
							 prog->policies->next->column,
							 "source defines %u policies; name the one to compile",
							 prog->npolicies);
	*out = prog->policies;
	return ECL_OK;
}

/*
 * `a && b && c` is (a && b) && c: when a is false, its AND jumps to the AND
 * of (a && b), which finds the false it left and jumps again, and so on to
 * the end of the chain.  Each AND that jumps to another AND (an OR to an
 * OR) can jump straight to where that one would: the value it leaves is the
 * one the next would leave.  A failing condition in a long chain then costs
 * one jump instead of one per remaining condition.
 */
static void
thread_short_circuits(ecl_chunk *chunk)
{
	for (uint32_t pc = 0; pc < chunk->ncode; pc++)
	{
		ecl_opcode	op = (ecl_opcode) ECL_INSTR_OP(chunk->code[pc]);
		uint32_t	target;
		uint32_t	hops = 0;

		if (op != ECL_OP_AND && op != ECL_OP_OR)
			continue;
		target = ECL_INSTR_ARG(chunk->code[pc]);
		while (target < chunk->ncode && hops++ < chunk->ncode &&
			   ECL_INSTR_OP(chunk->code[target]) == op)
			target = ECL_INSTR_ARG(chunk->code[target]);
		ecl_chunk_patch(chunk, pc, target);
	}
}

/*
 * Record the policy's declared inputs in the chunk.  A context name cannot
 * be declared: the bare name would still mean the context.
 */
static ecl_status
declare_inputs(compiler *c, const ecl_policy *pol)
{
	ecl_input_decl *d;

	c->declaring = NULL;
	if (!pol->declares_inputs)
		return ECL_OK;
	for (uint32_t i = 0; i < pol->ninputs; i++)
		for (size_t j = 0; j < sizeof(context_names) / sizeof(context_names[0]); j++)
			if (name_is(pol->inputs[i].name, pol->inputs[i].name_len, context_names[j].name))
				return compile_error(c, pol->inputs[i].line, pol->inputs[i].column,
									 "'%s' is a context name and cannot be declared as an input (read it as input.%s in an undeclared policy)",
									 context_names[j].name, context_names[j].name);
	d = pol->ninputs > 0 ?
		ecl_malloc(c->alloc, pol->ninputs * sizeof(ecl_input_decl)) : NULL;
	if (pol->ninputs > 0 && d == NULL)
		return ecl_error_set(c->err, ECL_ERR_RESOURCE, pol->line, pol->column,
							 "out of memory compiling the declared inputs");
	for (uint32_t i = 0; i < pol->ninputs; i++)
	{
		char	   *n = ecl_malloc(c->alloc, pol->inputs[i].name_len + 1);

		if (n == NULL)
			return ecl_error_set(c->err, ECL_ERR_RESOURCE, pol->line, pol->column,
								 "out of memory compiling the declared inputs");
		memcpy(n, pol->inputs[i].name, pol->inputs[i].name_len);
		n[pol->inputs[i].name_len] = '\0';
		d[i].name = n;
		d[i].len = (uint32_t) pol->inputs[i].name_len;
		d[i].type = pol->inputs[i].type;
		d[i].optional = pol->inputs[i].optional;
	}
	c->chunk.declares_inputs = true;
	c->chunk.inputs = d;
	c->chunk.ninputs = pol->ninputs;
	c->declaring = pol;
	return ECL_OK;
}

static ecl_status
compile_program(compiler *c, const ecl_ast_program *prog,
				const ecl_compile_options *opts)
{
	const ecl_policy *pol;
	const ecl_block *body = prog->top;
	bool		terminated = false;

	if (select_policy(prog, opts, &pol, c->err) != ECL_OK)
		return ECL_FAIL;
	if (pol != NULL)
	{
		snprintf(c->err->policy, sizeof(c->err->policy), "%s", pol->name);
		if (ecl_chunk_set_name(&c->chunk, pol->name, pol->name_len, c->err) != ECL_OK ||
			declare_inputs(c, pol) != ECL_OK)
			return ECL_FAIL;
		/* program constants (the only top-level statements beside policies) */
		if (gen_statements(c, prog->top->first, &terminated) != ECL_OK)
			return ECL_FAIL;
		body = pol->body;
		if (gen_block(c, body, &terminated) != ECL_OK)
			return ECL_FAIL;
	}
	else
	{
		if (ecl_chunk_set_name(&c->chunk, "", 0, c->err) != ECL_OK ||
			gen_statements(c, body->first, &terminated) != ECL_OK)
			return ECL_FAIL;
	}
	/* falling off the end passes */
	if (!terminated &&
		(emit(c, ECL_OP_PUSH_TRUE, 0, body->end_line, body->end_column, NULL) != ECL_OK ||
		 emit(c, ECL_OP_RETURN, 0, body->end_line, body->end_column, NULL) != ECL_OK))
		return ECL_FAIL;
	thread_short_circuits(&c->chunk);
	return ECL_OK;
}

ecl_status
ecl_compile(const ecl_alloc *a, const char *src, size_t len,
			const ecl_compile_options *opts,
			uint8_t **out, size_t *out_len, ecl_error *err)
{
	ecl_error	local_err;
	ecl_arena	arena;
	ecl_ast_program *prog;
	compiler	c;
	uint8_t    *bytes = NULL;
	size_t		nbytes = 0;
	ecl_status	st;

	if (err == NULL)
		err = &local_err;
	ecl_error_clear(err);
	*out = NULL;
	*out_len = 0;
	if (src == NULL)
	{
		src = "";
		len = 0;
	}

	ecl_arena_init(&arena, a);
	memset(&c, 0, sizeof(c));
	c.arena = &arena;
	c.alloc = ecl_arena_allocator(&arena);
	c.err = err;

	st = ecl_parse(&arena, src, len, &prog, err);
	if (st == ECL_OK)
		st = ecl_chunk_init(&c.chunk, c.alloc, err);
	if (st == ECL_OK)
		st = compile_program(&c, prog, opts);
	if (st == ECL_OK)
		st = ecl_chunk_serialize(&c.chunk, &bytes, &nbytes, err);
	if (st == ECL_OK)
	{
		*out = ecl_malloc(a, nbytes);
		if (*out == NULL)
			st = ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
							   "out of memory for %zu bytes of bytecode", nbytes);
		else
		{
			memcpy(*out, bytes, nbytes);
			*out_len = nbytes;
			ecl_error_clear(err);
		}
	}
	ecl_arena_release(&arena);
	return st;
}

/* One compile of prog collecting errors into diags (see ecl_compile_diagnostics). */
static void
compile_collecting(ecl_arena *arena, const ecl_ast_program *prog,
				   const ecl_compile_options *opts, ecl_diagnostics *diags)
{
	compiler	c;
	ecl_error	err;
	uint8_t    *bytes;
	size_t		nbytes;
	uint32_t	before = diags->count;

	ecl_error_clear(&err);
	memset(&c, 0, sizeof(c));
	c.arena = arena;
	c.alloc = ecl_arena_allocator(arena);
	c.err = &err;
	c.diags = diags;
	if (ecl_chunk_init(&c.chunk, c.alloc, &err) != ECL_OK ||
		compile_program(&c, prog, opts) != ECL_OK)
	{
		ecl_diagnostics_add(diags, &err);
		return;
	}
	/* clean so far: serialising verifies, as ecl_compile does */
	if (diags->count == before &&
		ecl_chunk_serialize(&c.chunk, &bytes, &nbytes, &err) != ECL_OK)
		ecl_diagnostics_add(diags, &err);
}

ecl_status
ecl_compile_diagnostics(const ecl_alloc *a, const char *src, size_t len,
						const ecl_compile_options *opts, ecl_diagnostics *diags)
{
	ecl_arena	arena;
	ecl_ast_program *prog = NULL;

	ecl_diagnostics_init(diags);
	if (src == NULL)
	{
		src = "";
		len = 0;
	}
	ecl_arena_init(&arena, a);
	ecl_parse_all(&arena, src, len, &prog, diags);
	if (prog != NULL && !diags->truncated)
	{
		bool		named = opts != NULL && opts->policy_name != NULL &&
			opts->policy_name[0] != '\0';

		if (!named && prog->npolicies > 1)
		{
			/* a file of several policies: check each of them */
			for (const ecl_policy *p = prog->policies; p != NULL; p = p->next)
			{
				ecl_compile_options one = {p->name, false};

				compile_collecting(&arena, prog, &one, diags);
			}
		}
		else
			compile_collecting(&arena, prog, opts, diags);
	}
	ecl_arena_release(&arena);
	ecl_diagnostics_sort(diags);
	return diags->count > 0 ? ECL_FAIL : ECL_OK;
}
