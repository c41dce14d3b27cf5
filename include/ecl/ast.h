/*
 * ast.h — the syntax tree the parser builds and the compiler walks.
 *
 * Every node lives in the compile's arena and carries the source position of
 * the construct it stands for: the operator token for unary and binary
 * operators, the function name for calls, the field name for member access,
 * the opening bracket for arrays, objects and indexing, the keyword for
 * statements.  Runtime errors point there.
 *
 * Expression nodes also carry the constant-folding result the compiler
 * computes (folded / value), so each node is folded once.
 */
#ifndef ECL_AST_H
#define ECL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/opcodes.h"
#include "ecl/value.h"

/*
 * Limit on the height of an expression tree.  Parenthesised nesting is
 * limited by ECL_MAX_SYNTAX_DEPTH (compiler.h) while parsing; this bounds
 * long flat chains such as a + b + c + ..., which the parser reads in a loop
 * but the compiler walks recursively.
 */
#define ECL_MAX_EXPR_HEIGHT 1000

typedef enum ecl_expr_kind
{
	ECL_EXPR_NUMBER,			/* number */
	ECL_EXPR_STRING,			/* str, str_len */
	ECL_EXPR_BOOL,				/* boolean */
	ECL_EXPR_NULL,
	ECL_EXPR_NAME,				/* name, name_len */
	ECL_EXPR_UNARY,				/* op (NEG, NOT), lhs */
	ECL_EXPR_BINARY,			/* op (ADD .. GE), lhs, rhs */
	ECL_EXPR_AND,				/* lhs && rhs */
	ECL_EXPR_OR,				/* lhs || rhs */
	ECL_EXPR_TERNARY,			/* cond ? lhs : rhs */
	ECL_EXPR_ARRAY,				/* items[count] */
	ECL_EXPR_OBJECT,			/* keys[count] (string nodes), items[count] */
	ECL_EXPR_FIELD,				/* lhs . name */
	ECL_EXPR_INDEX,				/* lhs [ rhs ] */
	ECL_EXPR_CALL,				/* name ( items[count] ) */
	ECL_EXPR_METHOD				/* lhs . name ( items[count] ) */
} ecl_expr_kind;

typedef struct ecl_expr ecl_expr;

struct ecl_expr
{
	ecl_expr_kind kind;
	uint32_t	line;
	uint32_t	column;
	uint32_t	height;			/* 1 for leaves */

	double		number;
	bool		boolean;
	const char *str;			/* STRING: decoded text */
	size_t		str_len;
	const char *name;			/* NAME, FIELD, CALL, METHOD: points into the source */
	size_t		name_len;
	ecl_opcode	op;				/* UNARY, BINARY */

	ecl_expr   *cond;
	ecl_expr   *lhs;
	ecl_expr   *rhs;
	ecl_expr  **items;			/* ARRAY elements, OBJECT values, call arguments */
	ecl_expr  **keys;			/* OBJECT keys (ECL_EXPR_STRING nodes) */
	uint32_t	count;

	/* filled by the compiler's folding pass */
	bool		fold_done;
	bool		folded;			/* value holds the constant result */
	ecl_value	value;
};

typedef enum ecl_stmt_kind
{
	ECL_STMT_LET,				/* let name = expr */
	ECL_STMT_CONST,				/* const name = expr */
	ECL_STMT_ASSIGN,			/* name = expr */
	ECL_STMT_REQUIRE,			/* require expr [, message] */
	ECL_STMT_IF,				/* if expr body [else else_body] */
	ECL_STMT_FOR,				/* for name in expr body */
	ECL_STMT_RETURN,			/* return expr */
	ECL_STMT_EMIT,				/* emit expr(event) [, message(payload)] */
	ECL_STMT_EXPR				/* expr (a call) */
} ecl_stmt_kind;

typedef struct ecl_stmt ecl_stmt;

typedef struct ecl_block
{
	ecl_stmt   *first;
	uint32_t	line;			/* the opening '{' (or 1:1 for a script) */
	uint32_t	column;
	uint32_t	end_line;		/* the closing '}' (or the end of input) */
	uint32_t	end_column;
} ecl_block;

struct ecl_stmt
{
	ecl_stmt_kind kind;
	uint32_t	line;			/* the keyword, or the name for assignments */
	uint32_t	column;
	const char *name;			/* LET, CONST, ASSIGN, FOR: the variable */
	size_t		name_len;
	uint32_t	name_line;
	uint32_t	name_column;
	ecl_expr   *expr;
	ecl_expr   *message;		/* REQUIRE message, EMIT payload; may be NULL */
	ecl_block  *body;			/* IF then-branch, FOR body */
	ecl_block  *else_body;		/* IF; NULL when absent ("else if" is a block
								 * holding one IF) */
	ecl_stmt   *next;
};

/* One declared input field: `owner: did`, `level?: number`. */
typedef struct ecl_ast_input
{
	const char *name;			/* points into the source */
	size_t		name_len;
	uint8_t		type;			/* ecl_input_type (bytecode.h) */
	bool		optional;
	uint32_t	line;			/* the field name */
	uint32_t	column;
} ecl_ast_input;

typedef struct ecl_policy
{
	const char *name;			/* NUL-terminated copy (arena) */
	size_t		name_len;
	uint32_t	line;			/* the 'policy' keyword */
	uint32_t	column;
	ecl_block  *body;

	/*
	 * `policy p(a: string, b?: number) {`: declares_inputs is set by the
	 * parentheses (even empty ones); then every bare name must be declared,
	 * local, constant or context.
	 */
	bool		declares_inputs;
	ecl_ast_input *inputs;
	uint32_t	ninputs;
	struct ecl_policy *next;
} ecl_policy;

typedef struct ecl_ast_program
{
	/*
	 * Top-level statements in order.  With policies these are only program
	 * constants (ECL_STMT_CONST); in script mode they are the whole program.
	 */
	ecl_block  *top;
	ecl_policy *policies;		/* in source order */
	uint32_t	npolicies;
} ecl_ast_program;

#endif							/* ECL_AST_H */
