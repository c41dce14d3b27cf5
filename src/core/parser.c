/*
 * parser.c — recursive-descent parser for ECL (see parser.h).
 *
 * Error handling: every parse function returns NULL (or ECL_FAIL) after
 * filling p->err; callers just pass the failure up.
 *
 * Newlines end statements.  They are skipped (1) while any ( [ or object
 * literal { is open — advance() does that using bracket_depth — and (2)
 * right after a binary operator, ',', '?' or ':', where the expression
 * cannot be complete.
 *
 * Collecting every error (ecl_parse_all): a statement that fails is
 * recorded and dropped, and parsing goes on after it — at the next newline
 * or ';' outside brackets, or at the '}' that closes the block — so one
 * mistake yields one message, not a cascade.  A `let` or `const` whose name
 * was read stays declared (with the value null), so that later uses of the
 * name do not turn into errors of their own.
 */
#include <stdio.h>
#include <string.h>

#include "ecl/compiler.h"
#include "ecl/lexer.h"
#include "ecl/bytecode.h"
#include "ecl/parser.h"
#include "ecl/suggest.h"

typedef struct parser
{
	ecl_arena  *arena;
	ecl_lexer	lx;
	ecl_token	cur;
	ecl_error  *err;
	int			depth;			/* recursion depth (expressions, blocks) */
	int			bracket_depth;	/* open ( [ and object { */
	const char *policy;			/* policy being parsed, for err->policy */

	/* collecting every error (ecl_parse_all); diags is NULL otherwise */
	ecl_diagnostics *diags;
	bool		lex_failed;		/* the last error came from the lexer */
	bool		stop;			/* no point in looking for more errors */
	ecl_stmt   *pending;		/* let/const whose name is read, not yet done */
} parser;

/* --- tokens ------------------------------------------------------------ */

static ecl_status
advance(parser *p)
{
	do
	{
		if (ecl_lexer_next(&p->lx, &p->cur, p->err) != ECL_OK)
		{
			p->lex_failed = true;
			return ECL_FAIL;
		}
	} while (p->cur.kind == ECL_TOK_NEWLINE && p->bracket_depth > 0);
	return ECL_OK;
}

static ecl_status
skip_newlines(parser *p)
{
	while (p->cur.kind == ECL_TOK_NEWLINE)
		if (advance(p) != ECL_OK)
			return ECL_FAIL;
	return ECL_OK;
}

/* "expected <what>, found <current token>" at the current token */
static ecl_status
fail_expected(parser *p, const char *what)
{
	char		found[96];

	return ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
						 "expected %s, found %s", what,
						 ecl_token_describe(&p->cur, found, sizeof(found)));
}

static ecl_status
expect(parser *p, ecl_token_kind kind, const char *what)
{
	if (p->cur.kind != kind)
		return fail_expected(p, what);
	return ECL_OK;
}

/*
 * The same, where a comparison was likely meant: a '=' found here is a
 * '==' mistyped (if a = 1, require x = 2), and the message says so.
 */
static ecl_status
fail_expected_eq(parser *p, const char *what)
{
	char		found[96];

	if (p->cur.kind != ECL_TOK_ASSIGN)
		return fail_expected(p, what);
	return ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
						 "expected %s, found %s (did you mean '==' to compare?)", what,
						 ecl_token_describe(&p->cur, found, sizeof(found)));
}

static ecl_status
expect_eq(parser *p, ecl_token_kind kind, const char *what)
{
	if (p->cur.kind != kind)
		return fail_expected_eq(p, what);
	return ECL_OK;
}

static ecl_status
out_of_memory(parser *p)
{
	return ecl_error_set(p->err, ECL_ERR_RESOURCE, p->cur.line, p->cur.column,
						 "out of memory while parsing");
}

static ecl_status
enter(parser *p)
{
	if (++p->depth > ECL_MAX_SYNTAX_DEPTH)
		return ecl_error_set(p->err, ECL_ERR_STACK, p->cur.line, p->cur.column,
							 "nesting too deep (more than %d nested expressions or blocks)",
							 ECL_MAX_SYNTAX_DEPTH);
	return ECL_OK;
}

static void
leave(parser *p)
{
	p->depth--;
}

/* A name token: an identifier, or a keyword where any word will do. */
static bool
is_word(const ecl_token *t)
{
	return t->kind == ECL_TOK_IDENT || ecl_token_is_keyword(t->kind);
}

/* --- node construction --------------------------------------------------- */

static ecl_expr *
new_expr(parser *p, ecl_expr_kind kind, uint32_t line, uint32_t column)
{
	ecl_expr   *e = ecl_arena_alloc(p->arena, sizeof(ecl_expr));

	if (e == NULL)
	{
		out_of_memory(p);
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->line = line;
	e->column = column;
	e->height = 1;
	return e;
}

static uint32_t
height_of(const ecl_expr *e)
{
	return e ? e->height : 0;
}

/*
 * Compute the height of a finished node and enforce ECL_MAX_EXPR_HEIGHT, so
 * that the compiler's recursive walk stays shallow.
 */
static ecl_expr *
finish(parser *p, ecl_expr *e)
{
	uint32_t	h = 0;

	if (height_of(e->cond) > h)
		h = height_of(e->cond);
	if (height_of(e->lhs) > h)
		h = height_of(e->lhs);
	if (height_of(e->rhs) > h)
		h = height_of(e->rhs);
	for (uint32_t i = 0; i < e->count; i++)
		if (height_of(e->items[i]) > h)
			h = height_of(e->items[i]);
	e->height = h + 1;
	if (e->height > ECL_MAX_EXPR_HEIGHT)
	{
		ecl_error_set(p->err, ECL_ERR_STACK, e->line, e->column,
					  "nesting too deep (an expression may combine at most %d operations in a chain)",
					  ECL_MAX_EXPR_HEIGHT);
		return NULL;
	}
	return e;
}

/* Append to a growing array of expression pointers in the arena. */
static ecl_status
push_item(parser *p, ecl_expr ***items, uint32_t *count, uint32_t *cap, ecl_expr *e)
{
	if (*count == *cap)
	{
		uint32_t	ncap = *cap ? *cap * 2 : 4;
		ecl_expr  **n;

		if (ncap > ECL_ARG_MAX)
			return ecl_error_set(p->err, ECL_ERR_RESOURCE, e->line, e->column,
								 "too many elements in a list");
		n = ecl_arena_alloc(p->arena, ncap * sizeof(ecl_expr *));
		if (n == NULL)
			return out_of_memory(p);
		if (*count)
			memcpy(n, *items, *count * sizeof(ecl_expr *));
		*items = n;
		*cap = ncap;
	}
	(*items)[(*count)++] = e;
	return ECL_OK;
}

/* --- expressions ----------------------------------------------------------- */

static ecl_expr *parse_expr(parser *p);

/*
 * Arguments after '(' (the current token); ends after ')'.  Newlines inside
 * are skipped by advance() through bracket_depth.
 */
static ecl_status
parse_args(parser *p, ecl_expr *call)
{
	uint32_t	cap = 0;

	p->bracket_depth++;
	if (advance(p) != ECL_OK)
		return ECL_FAIL;
	if (p->cur.kind != ECL_TOK_RPAREN)
	{
		for (;;)
		{
			ecl_expr   *arg = parse_expr(p);

			if (arg == NULL || push_item(p, &call->items, &call->count, &cap, arg) != ECL_OK)
				return ECL_FAIL;
			if (p->cur.kind != ECL_TOK_COMMA)
				break;
			if (advance(p) != ECL_OK)
				return ECL_FAIL;
			/* a trailing comma, as in array and object literals */
			if (p->cur.kind == ECL_TOK_RPAREN)
				break;
		}
	}
	if (expect_eq(p, ECL_TOK_RPAREN, "',' or ')' after arguments") != ECL_OK)
		return ECL_FAIL;
	p->bracket_depth--;
	return advance(p);
}

static ecl_expr *
parse_array(parser *p)
{
	ecl_expr   *e = new_expr(p, ECL_EXPR_ARRAY, p->cur.line, p->cur.column);
	uint32_t	cap = 0;
	char		what[96];

	if (e == NULL)
		return NULL;
	p->bracket_depth++;
	if (advance(p) != ECL_OK)
		return NULL;
	while (p->cur.kind != ECL_TOK_RBRACKET)
	{
		ecl_expr   *item = parse_expr(p);

		if (item == NULL || push_item(p, &e->items, &e->count, &cap, item) != ECL_OK)
			return NULL;
		if (p->cur.kind == ECL_TOK_COMMA)
		{
			if (advance(p) != ECL_OK)
				return NULL;
			continue;
		}
		if (p->cur.kind != ECL_TOK_RBRACKET)
		{
			snprintf(what, sizeof(what), "',' or ']' to close the array opened at line %u",
					 e->line);
			fail_expected_eq(p, what);
			return NULL;
		}
	}
	p->bracket_depth--;
	if (advance(p) != ECL_OK)
		return NULL;
	return finish(p, e);
}

static ecl_expr *
parse_object(parser *p)
{
	ecl_expr   *e = new_expr(p, ECL_EXPR_OBJECT, p->cur.line, p->cur.column);
	uint32_t	cap = 0;
	uint32_t	kcap = 0;
	uint32_t	kcount = 0;
	char		what[96];

	if (e == NULL)
		return NULL;
	p->bracket_depth++;
	if (advance(p) != ECL_OK)
		return NULL;
	while (p->cur.kind != ECL_TOK_RBRACE)
	{
		ecl_expr   *key;
		ecl_expr   *val;

		if (p->cur.kind != ECL_TOK_STRING && !is_word(&p->cur))
		{
			fail_expected(p, "a key (name or string) or '}' in object literal");
			return NULL;
		}
		key = new_expr(p, ECL_EXPR_STRING, p->cur.line, p->cur.column);
		if (key == NULL)
			return NULL;
		if (p->cur.kind == ECL_TOK_STRING)
		{
			key->str = p->cur.str;
			key->str_len = p->cur.str_len;
		}
		else
		{
			key->str = p->cur.start;
			key->str_len = p->cur.len;
		}
		if (advance(p) != ECL_OK)
			return NULL;
		if (expect(p, ECL_TOK_COLON, "':' after object key") != ECL_OK ||
			advance(p) != ECL_OK)
			return NULL;
		val = parse_expr(p);
		if (val == NULL ||
			push_item(p, &e->keys, &kcount, &kcap, key) != ECL_OK ||
			push_item(p, &e->items, &e->count, &cap, val) != ECL_OK)
			return NULL;
		if (p->cur.kind == ECL_TOK_COMMA)
		{
			if (advance(p) != ECL_OK)
				return NULL;
			continue;
		}
		if (p->cur.kind != ECL_TOK_RBRACE)
		{
			snprintf(what, sizeof(what), "',' or '}' to close the object opened at line %u",
					 e->line);
			fail_expected(p, what);
			return NULL;
		}
	}
	p->bracket_depth--;
	if (advance(p) != ECL_OK)
		return NULL;
	return finish(p, e);
}

static ecl_expr *
parse_primary(parser *p)
{
	ecl_token	t = p->cur;
	ecl_expr   *e;

	switch (t.kind)
	{
		case ECL_TOK_NUMBER:
			e = new_expr(p, ECL_EXPR_NUMBER, t.line, t.column);
			if (e == NULL)
				return NULL;
			e->number = t.number;
			break;
		case ECL_TOK_STRING:
			e = new_expr(p, ECL_EXPR_STRING, t.line, t.column);
			if (e == NULL)
				return NULL;
			e->str = t.str;
			e->str_len = t.str_len;
			break;
		case ECL_TOK_TRUE:
		case ECL_TOK_FALSE:
			e = new_expr(p, ECL_EXPR_BOOL, t.line, t.column);
			if (e == NULL)
				return NULL;
			e->boolean = t.kind == ECL_TOK_TRUE;
			break;
		case ECL_TOK_NULL:
			e = new_expr(p, ECL_EXPR_NULL, t.line, t.column);
			if (e == NULL)
				return NULL;
			break;
		case ECL_TOK_IDENT:
			e = new_expr(p, ECL_EXPR_NAME, t.line, t.column);
			if (e == NULL)
				return NULL;
			e->name = t.start;
			e->name_len = t.len;
			break;
		case ECL_TOK_LPAREN:
			{
				char		what[96];

				p->bracket_depth++;
				if (advance(p) != ECL_OK)
					return NULL;
				e = parse_expr(p);
				if (e == NULL)
					return NULL;
				snprintf(what, sizeof(what), "')' to close the '(' at line %u, column %u",
						 t.line, t.column);
				if (expect_eq(p, ECL_TOK_RPAREN, what) != ECL_OK)
					return NULL;
				p->bracket_depth--;
				break;
			}
		case ECL_TOK_LBRACKET:
			return parse_array(p);
		case ECL_TOK_LBRACE:
			return parse_object(p);
		default:
			fail_expected(p, "an expression");
			return NULL;
	}
	if (advance(p) != ECL_OK)
		return NULL;
	return e;
}

static ecl_expr *
parse_postfix(parser *p)
{
	ecl_expr   *e = parse_primary(p);

	while (e != NULL)
	{
		if (p->cur.kind == ECL_TOK_DOT)
		{
			ecl_expr   *f;

			if (advance(p) != ECL_OK)
				return NULL;
			if (!is_word(&p->cur))
			{
				fail_expected(p, "a field name after '.'");
				return NULL;
			}
			f = new_expr(p, ECL_EXPR_FIELD, p->cur.line, p->cur.column);
			if (f == NULL)
				return NULL;
			f->lhs = e;
			f->name = p->cur.start;
			f->name_len = p->cur.len;
			if (advance(p) != ECL_OK)
				return NULL;
			if (p->cur.kind == ECL_TOK_LPAREN)
			{
				f->kind = ECL_EXPR_METHOD;
				if (parse_args(p, f) != ECL_OK)
					return NULL;
			}
			e = finish(p, f);
		}
		else if (p->cur.kind == ECL_TOK_LBRACKET)
		{
			ecl_expr   *ix = new_expr(p, ECL_EXPR_INDEX, p->cur.line, p->cur.column);

			if (ix == NULL)
				return NULL;
			p->bracket_depth++;
			if (advance(p) != ECL_OK)
				return NULL;
			ix->lhs = e;
			ix->rhs = parse_expr(p);
			if (ix->rhs == NULL)
				return NULL;
			if (expect_eq(p, ECL_TOK_RBRACKET, "']' after index") != ECL_OK)
				return NULL;
			p->bracket_depth--;
			if (advance(p) != ECL_OK)
				return NULL;
			e = finish(p, ix);
		}
		else if (p->cur.kind == ECL_TOK_LPAREN)
		{
			if (e->kind != ECL_EXPR_NAME)
			{
				ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
							  "only built-in functions can be called: expected a function name before '('");
				return NULL;
			}
			e->kind = ECL_EXPR_CALL;
			if (parse_args(p, e) != ECL_OK)
				return NULL;
			e = finish(p, e);
		}
		else
			break;
	}
	return e;
}

static ecl_expr *
parse_unary(parser *p)
{
	ecl_token	t = p->cur;
	ecl_expr   *e;

	if (t.kind != ECL_TOK_BANG && t.kind != ECL_TOK_MINUS)
		return parse_postfix(p);
	if (enter(p) != ECL_OK)
		return NULL;
	e = new_expr(p, ECL_EXPR_UNARY, t.line, t.column);
	if (e == NULL || advance(p) != ECL_OK)
		return NULL;
	e->op = t.kind == ECL_TOK_BANG ? ECL_OP_NOT : ECL_OP_NEG;
	e->lhs = parse_unary(p);
	if (e->lhs == NULL)
		return NULL;
	leave(p);
	return finish(p, e);
}

/* Binary operator levels, loosest first; each is left-associative. */
typedef struct binop
{
	ecl_token_kind tok;
	ecl_expr_kind kind;
	ecl_opcode	op;
} binop;

static const binop level_or[] = {{ECL_TOK_OR_OR, ECL_EXPR_OR, 0}, {ECL_TOK_EOF, 0, 0}};
static const binop level_and[] = {{ECL_TOK_AND_AND, ECL_EXPR_AND, 0}, {ECL_TOK_EOF, 0, 0}};
static const binop level_eq[] = {
	{ECL_TOK_EQ_EQ, ECL_EXPR_BINARY, ECL_OP_EQ},
	{ECL_TOK_BANG_EQ, ECL_EXPR_BINARY, ECL_OP_NE},
	{ECL_TOK_EOF, 0, 0}
};
static const binop level_cmp[] = {
	{ECL_TOK_LT, ECL_EXPR_BINARY, ECL_OP_LT},
	{ECL_TOK_LE, ECL_EXPR_BINARY, ECL_OP_LE},
	{ECL_TOK_GT, ECL_EXPR_BINARY, ECL_OP_GT},
	{ECL_TOK_GE, ECL_EXPR_BINARY, ECL_OP_GE},
	{ECL_TOK_EOF, 0, 0}
};
static const binop level_add[] = {
	{ECL_TOK_PLUS, ECL_EXPR_BINARY, ECL_OP_ADD},
	{ECL_TOK_MINUS, ECL_EXPR_BINARY, ECL_OP_SUB},
	{ECL_TOK_EOF, 0, 0}
};
static const binop level_mul[] = {
	{ECL_TOK_STAR, ECL_EXPR_BINARY, ECL_OP_MUL},
	{ECL_TOK_SLASH, ECL_EXPR_BINARY, ECL_OP_DIV},
	{ECL_TOK_PERCENT, ECL_EXPR_BINARY, ECL_OP_MOD},
	{ECL_TOK_EOF, 0, 0}
};

static const binop *const levels[] = {
	level_or, level_and, level_eq, level_cmp, level_add, level_mul
};

#define NLEVELS ((int) (sizeof(levels) / sizeof(levels[0])))

/*
 * One precedence level: operands of the next tighter level joined by this
 * level's operators.  Recursion here is bounded by NLEVELS, not by input.
 */
static ecl_expr *
parse_level(parser *p, int level)
{
	ecl_expr   *lhs;

	if (level == NLEVELS)
		return parse_unary(p);
	lhs = parse_level(p, level + 1);
	while (lhs != NULL)
	{
		const binop *b = levels[level];
		ecl_expr   *e;

		while (b->tok != ECL_TOK_EOF && b->tok != p->cur.kind)
			b++;
		if (b->tok == ECL_TOK_EOF)
			break;
		e = new_expr(p, b->kind, p->cur.line, p->cur.column);
		if (e == NULL || advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
			return NULL;
		e->op = b->op;
		e->lhs = lhs;
		e->rhs = parse_level(p, level + 1);
		if (e->rhs == NULL)
			return NULL;
		lhs = finish(p, e);
	}
	return lhs;
}

/* c ? a : b, right-associative, the loosest operator */
static ecl_expr *
parse_expr(parser *p)
{
	ecl_expr   *cond;
	ecl_expr   *e;

	if (enter(p) != ECL_OK)
		return NULL;
	cond = parse_level(p, 0);
	if (cond == NULL)
		return NULL;
	if (p->cur.kind != ECL_TOK_QUESTION)
	{
		leave(p);
		return cond;
	}
	e = new_expr(p, ECL_EXPR_TERNARY, p->cur.line, p->cur.column);
	if (e == NULL || advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
		return NULL;
	e->cond = cond;
	e->lhs = parse_expr(p);
	if (e->lhs == NULL || skip_newlines(p) != ECL_OK)
		return NULL;
	if (expect_eq(p, ECL_TOK_COLON, "':' in conditional expression (c ? a : b)") != ECL_OK ||
		advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
		return NULL;
	e->rhs = parse_expr(p);
	if (e->rhs == NULL)
		return NULL;
	leave(p);
	return finish(p, e);
}

/* --- statements ------------------------------------------------------------ */

static ecl_stmt *parse_statement(parser *p);

static ecl_stmt *
new_stmt(parser *p, ecl_stmt_kind kind, const ecl_token *at)
{
	ecl_stmt   *s = ecl_arena_alloc(p->arena, sizeof(ecl_stmt));

	if (s == NULL)
	{
		out_of_memory(p);
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = at->line;
	s->column = at->column;
	return s;
}

static ecl_block *
new_block(parser *p, uint32_t line, uint32_t column)
{
	ecl_block  *b = ecl_arena_alloc(p->arena, sizeof(ecl_block));

	if (b == NULL)
	{
		out_of_memory(p);
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	b->line = line;
	b->column = column;
	return b;
}

/* Statements ending in a block need no newline or ';' after them. */
static bool
ends_with_block(const ecl_stmt *s)
{
	return s->kind == ECL_STMT_IF || s->kind == ECL_STMT_FOR;
}

static ecl_status
expect_statement_end(parser *p, const ecl_stmt *s)
{
	switch (p->cur.kind)
	{
		case ECL_TOK_NEWLINE:
		case ECL_TOK_SEMICOLON:
		case ECL_TOK_RBRACE:
		case ECL_TOK_EOF:
			return ECL_OK;
		default:
			if (ends_with_block(s))
				return ECL_OK;
			return fail_expected_eq(p, "newline or ';' after the statement");
	}
}

static ecl_status
skip_separators(parser *p)
{
	while (p->cur.kind == ECL_TOK_NEWLINE || p->cur.kind == ECL_TOK_SEMICOLON)
		if (advance(p) != ECL_OK)
			return ECL_FAIL;
	return ECL_OK;
}

/* Add the error in p->err to the list, with the policy it lies in. */
static bool
record(parser *p)
{
	if (p->policy != NULL)
		snprintf(p->err->policy, sizeof(p->err->policy), "%s", p->policy);
	return ecl_diagnostics_add(p->diags, p->err);
}

/*
 * Collecting every error: record the one in p->err and move past the
 * statement that caused it.  Returns false when parsing should end (not
 * collecting, list full, out of memory, or at the end of input, where an
 * unclosed block would only repeat itself for each enclosing one).
 *
 * failed is the statement when only its end was wrong (it is kept); a
 * let/const that failed after its name is kept with the value null.  Kept
 * statements are appended at *tail.
 */
static bool
recover(parser *p, ecl_stmt *failed, ecl_stmt ***tail, bool top_level)
{
	int			nest = 0;

	if (p->diags == NULL || p->stop)
		return false;
	if (!record(p) ||
		p->err->code == ECL_ERR_RESOURCE ||
		(p->cur.kind == ECL_TOK_EOF && !p->lex_failed))
	{
		p->stop = true;
		return false;
	}
	if (failed == NULL && p->pending != NULL)
	{
		failed = p->pending;
		failed->expr = new_expr(p, ECL_EXPR_NULL, failed->name_line, failed->name_column);
		if (failed->expr == NULL)
		{
			p->stop = true;
			return false;
		}
	}
	p->pending = NULL;
	if (failed != NULL)
	{
		failed->next = NULL;
		**tail = failed;
		*tail = &failed->next;
	}
	p->bracket_depth = 0;

	for (;;)
	{
		if (p->lex_failed)
		{
			p->lex_failed = false;
			ecl_lexer_skip_line(&p->lx);
			if (advance(p) != ECL_OK)
			{
				if (!record(p))
				{
					p->stop = true;
					return false;
				}
				continue;
			}
		}
		switch (p->cur.kind)
		{
			case ECL_TOK_EOF:
				return true;
			case ECL_TOK_NEWLINE:
			case ECL_TOK_SEMICOLON:
				if (nest == 0)
					return true;
				break;
			case ECL_TOK_LBRACE:
			case ECL_TOK_LPAREN:
			case ECL_TOK_LBRACKET:
				nest++;
				break;
			case ECL_TOK_RBRACE:
				/* the '}' of the enclosing block ends the statement */
				if (nest == 0 && !top_level)
					return true;
				if (nest > 0)
					nest--;
				break;
			case ECL_TOK_RPAREN:
			case ECL_TOK_RBRACKET:
				if (nest > 0)
					nest--;
				break;
			default:
				break;
		}
		(void) advance(p);
	}
}

/*
 * '{' statements '}'.  what_expected describes the '{' for the error when
 * it is missing ("'{' after the if condition").
 */
static ecl_block *
parse_block(parser *p, const char *what_expected)
{
	ecl_block  *b;
	ecl_stmt  **tail;

	if (skip_newlines(p) != ECL_OK || expect(p, ECL_TOK_LBRACE, what_expected) != ECL_OK)
		return NULL;
	if (enter(p) != ECL_OK)
		return NULL;
	b = new_block(p, p->cur.line, p->cur.column);
	if (b == NULL || advance(p) != ECL_OK)
		return NULL;
	tail = &b->first;
	for (;;)
	{
		ecl_stmt   *s;
		int			depth;

		if (skip_separators(p) != ECL_OK)
		{
			if (!recover(p, NULL, &tail, false))
				return NULL;
			continue;
		}
		if (p->cur.kind == ECL_TOK_RBRACE)
			break;
		if (p->cur.kind == ECL_TOK_EOF)
		{
			char		what[96];

			snprintf(what, sizeof(what), "'}' to close block opened at line %u", b->line);
			fail_expected(p, what);
			return NULL;
		}
		depth = p->depth;
		s = parse_statement(p);
		if (s == NULL || expect_statement_end(p, s) != ECL_OK)
		{
			if (!recover(p, s, &tail, false))
				return NULL;
			p->depth = depth;
			continue;
		}
		*tail = s;
		tail = &s->next;
	}
	b->end_line = p->cur.line;
	b->end_column = p->cur.column;
	leave(p);
	if (advance(p) != ECL_OK)
		return NULL;
	return b;
}

/* let/const NAME = expr */
static ecl_stmt *
parse_binding(parser *p, ecl_stmt_kind kind)
{
	ecl_stmt   *s = new_stmt(p, kind, &p->cur);
	const char *kw = kind == ECL_STMT_LET ? "let" : "const";
	char		what[64];

	if (s == NULL || advance(p) != ECL_OK)
		return NULL;
	snprintf(what, sizeof(what), "a name after '%s'", kw);
	if (p->cur.kind != ECL_TOK_IDENT)
	{
		fail_expected(p, what);
		return NULL;
	}
	s->name = p->cur.start;
	s->name_len = p->cur.len;
	s->name_line = p->cur.line;
	s->name_column = p->cur.column;
	p->pending = s;
	if (advance(p) != ECL_OK)
		return NULL;
	snprintf(what, sizeof(what), "'=' after '%s %.*s'", kw,
			 (int) (s->name_len > 32 ? 32 : s->name_len), s->name);
	if (expect(p, ECL_TOK_ASSIGN, what) != ECL_OK ||
		advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
		return NULL;
	s->expr = parse_expr(p);
	if (s->expr == NULL)
		return NULL;
	p->pending = NULL;
	return s;
}

static ecl_stmt *
parse_if(parser *p)
{
	ecl_stmt   *s = new_stmt(p, ECL_STMT_IF, &p->cur);

	if (s == NULL || advance(p) != ECL_OK)
		return NULL;
	s->expr = parse_expr(p);
	if (s->expr == NULL)
		return NULL;
	if (p->cur.kind == ECL_TOK_ASSIGN)
	{
		fail_expected_eq(p, "'{' after the if condition");
		return NULL;
	}
	s->body = parse_block(p, "'{' after the if condition");
	if (s->body == NULL)
		return NULL;

	/*
	 * "else" may follow on a later line; the newlines skipped looking for it
	 * are not needed, since an if statement needs no terminator.
	 */
	if (skip_newlines(p) != ECL_OK)
		return NULL;
	if (p->cur.kind != ECL_TOK_ELSE)
		return s;
	if (advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
		return NULL;
	if (p->cur.kind == ECL_TOK_IF)
	{
		ecl_stmt   *inner;

		s->else_body = new_block(p, p->cur.line, p->cur.column);
		if (s->else_body == NULL || enter(p) != ECL_OK)
			return NULL;
		inner = parse_if(p);
		if (inner == NULL)
			return NULL;
		leave(p);
		s->else_body->first = inner;
		s->else_body->end_line = inner->line;
		s->else_body->end_column = inner->column;
		return s;
	}
	s->else_body = parse_block(p, "'{' or 'if' after 'else'");
	return s->else_body ? s : NULL;
}

static ecl_stmt *
parse_for(parser *p)
{
	ecl_stmt   *s = new_stmt(p, ECL_STMT_FOR, &p->cur);
	char		what[64];

	if (s == NULL || advance(p) != ECL_OK)
		return NULL;
	if (p->cur.kind != ECL_TOK_IDENT)
	{
		fail_expected(p, "a loop variable name after 'for'");
		return NULL;
	}
	s->name = p->cur.start;
	s->name_len = p->cur.len;
	s->name_line = p->cur.line;
	s->name_column = p->cur.column;
	if (advance(p) != ECL_OK)
		return NULL;
	snprintf(what, sizeof(what), "'in' after 'for %.*s'",
			 (int) (s->name_len > 32 ? 32 : s->name_len), s->name);
	if (expect(p, ECL_TOK_IN, what) != ECL_OK || advance(p) != ECL_OK)
		return NULL;
	s->expr = parse_expr(p);
	if (s->expr == NULL)
		return NULL;
	s->body = parse_block(p, "'{' to start the loop body");
	return s->body ? s : NULL;
}

static bool
at_statement_end(const parser *p)
{
	return p->cur.kind == ECL_TOK_NEWLINE || p->cur.kind == ECL_TOK_SEMICOLON ||
		p->cur.kind == ECL_TOK_RBRACE || p->cur.kind == ECL_TOK_EOF;
}

static ecl_stmt *
parse_statement(parser *p)
{
	ecl_token	start = p->cur;
	ecl_stmt   *s;
	ecl_expr   *e;

	p->pending = NULL;
	switch (start.kind)
	{
		case ECL_TOK_LET:
			return parse_binding(p, ECL_STMT_LET);
		case ECL_TOK_CONST:
			return parse_binding(p, ECL_STMT_CONST);
		case ECL_TOK_IF:
			return parse_if(p);
		case ECL_TOK_FOR:
			return parse_for(p);
		case ECL_TOK_REQUIRE:
		case ECL_TOK_EMIT:
			s = new_stmt(p, start.kind == ECL_TOK_REQUIRE ? ECL_STMT_REQUIRE : ECL_STMT_EMIT,
						 &start);
			if (s == NULL || advance(p) != ECL_OK)
				return NULL;
			if (at_statement_end(p))
			{
				fail_expected(p, start.kind == ECL_TOK_REQUIRE ?
							  "a condition after 'require'" :
							  "an event name after 'emit'");
				return NULL;
			}
			s->expr = parse_expr(p);
			if (s->expr == NULL)
				return NULL;
			if (p->cur.kind == ECL_TOK_COMMA)
			{
				if (advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
					return NULL;
				s->message = parse_expr(p);
				if (s->message == NULL)
					return NULL;
			}
			return s;
		case ECL_TOK_RETURN:
			s = new_stmt(p, ECL_STMT_RETURN, &start);
			if (s == NULL || advance(p) != ECL_OK)
				return NULL;
			if (at_statement_end(p))
			{
				fail_expected(p, "a value after 'return'");
				return NULL;
			}
			s->expr = parse_expr(p);
			return s->expr ? s : NULL;
		case ECL_TOK_POLICY:
			ecl_error_set(p->err, ECL_ERR_SYNTAX, start.line, start.column,
						  "a policy can only be defined at the top level, not inside a block");
			return NULL;
		case ECL_TOK_ELSE:
			ecl_error_set(p->err, ECL_ERR_SYNTAX, start.line, start.column,
						  "'else' without a matching 'if'");
			return NULL;
		case ECL_TOK_RBRACE:
			ecl_error_set(p->err, ECL_ERR_SYNTAX, start.line, start.column,
						  "expected a statement, found '}' (no block is open)");
			return NULL;
		default:
			break;
	}

	e = parse_expr(p);
	if (e == NULL)
		return NULL;
	if (p->cur.kind == ECL_TOK_ASSIGN)
	{
		if (e->kind != ECL_EXPR_NAME)
		{
			ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
						  "only a variable declared with 'let' can be assigned; found an expression before '='");
			return NULL;
		}
		s = new_stmt(p, ECL_STMT_ASSIGN, &start);
		if (s == NULL)
			return NULL;
		s->name = e->name;
		s->name_len = e->name_len;
		s->name_line = e->line;
		s->name_column = e->column;
		if (advance(p) != ECL_OK || skip_newlines(p) != ECL_OK)
			return NULL;
		s->expr = parse_expr(p);
		return s->expr ? s : NULL;
	}
	if (e->kind != ECL_EXPR_CALL && e->kind != ECL_EXPR_METHOD)
	{
		ecl_error_set(p->err, ECL_ERR_SYNTAX, start.line, start.column,
					  "expression statement must be a call (a value computed here would be unused)");
		return NULL;
	}
	s = new_stmt(p, ECL_STMT_EXPR, &start);
	if (s == NULL)
		return NULL;
	s->expr = e;
	return s;
}

/* --- program ----------------------------------------------------------------- */

/*
 * Declared inputs after '(' (the current token): `name[?]: type`, separated
 * by commas (a trailing one allowed); ends after ')'.
 */
static ecl_status
parse_inputs(parser *p, ecl_policy *pol)
{
	uint32_t	cap = 0;

	pol->declares_inputs = true;
	p->bracket_depth++;
	if (advance(p) != ECL_OK)
		return ECL_FAIL;
	while (p->cur.kind != ECL_TOK_RPAREN)
	{
		ecl_ast_input in;
		int			type;

		memset(&in, 0, sizeof(in));
		if (p->cur.kind != ECL_TOK_IDENT)
			return fail_expected(p, "an input name or ')' in the declared inputs");
		in.name = p->cur.start;
		in.name_len = p->cur.len;
		in.line = p->cur.line;
		in.column = p->cur.column;
		for (uint32_t i = 0; i < pol->ninputs; i++)
			if (pol->inputs[i].name_len == in.name_len &&
				memcmp(pol->inputs[i].name, in.name, in.name_len) == 0)
				return ecl_error_set(p->err, ECL_ERR_SYNTAX, in.line, in.column,
									 "input '%.*s' is already declared at line %u",
									 (int) (in.name_len > 64 ? 64 : in.name_len),
									 in.name, pol->inputs[i].line);
		if (pol->ninputs >= ECL_MAX_INPUTS)
			return ecl_error_set(p->err, ECL_ERR_SYNTAX, in.line, in.column,
								 "more than %d declared inputs", ECL_MAX_INPUTS);
		if (advance(p) != ECL_OK)
			return ECL_FAIL;
		if (p->cur.kind == ECL_TOK_QUESTION)
		{
			in.optional = true;
			if (advance(p) != ECL_OK)
				return ECL_FAIL;
		}
		if (expect(p, ECL_TOK_COLON, "':' and a type after the input name") != ECL_OK ||
			advance(p) != ECL_OK)
			return ECL_FAIL;
		type = p->cur.kind == ECL_TOK_IDENT ?
			ecl_input_type_lookup(p->cur.start, p->cur.len) : -1;
		if (type < 0)
		{
			char		found[96];
			ecl_suggestion sg;
			const char *best = NULL;
			size_t		best_len = 0;

			if (p->cur.kind == ECL_TOK_IDENT)
			{
				ecl_suggest_init(&sg, p->cur.start, p->cur.len);
				for (int i = 0; i < ECL_IN_TYPE_COUNT; i++)
					ecl_suggest_offer(&sg, ecl_input_type_names[i],
									  strlen(ecl_input_type_names[i]));
				best = ecl_suggest_best(&sg, &best_len);
			}
			if (best != NULL)
				return ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
									 "unknown input type '%.*s' (did you mean '%.*s'?)",
									 (int) (p->cur.len > 64 ? 64 : p->cur.len), p->cur.start,
									 (int) best_len, best);
			return ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
								 "expected an input type (any, bool, number, string, did, array, object or trust_vector), found %s",
								 ecl_token_describe(&p->cur, found, sizeof(found)));
		}
		in.type = (uint8_t) type;
		if (pol->ninputs == cap)
		{
			uint32_t	ncap = cap ? cap * 2 : 8;
			ecl_ast_input *n = ecl_arena_alloc(p->arena, ncap * sizeof(ecl_ast_input));

			if (n == NULL)
				return out_of_memory(p);
			if (pol->ninputs > 0)
				memcpy(n, pol->inputs, pol->ninputs * sizeof(ecl_ast_input));
			pol->inputs = n;
			cap = ncap;
		}
		pol->inputs[pol->ninputs++] = in;
		if (advance(p) != ECL_OK)
			return ECL_FAIL;
		if (p->cur.kind != ECL_TOK_COMMA)
			break;
		if (advance(p) != ECL_OK)
			return ECL_FAIL;
	}
	if (expect(p, ECL_TOK_RPAREN, "',' or ')' after a declared input") != ECL_OK)
		return ECL_FAIL;
	p->bracket_depth--;
	return advance(p);
}

static ecl_policy *
parse_policy(parser *p, ecl_ast_program *prog)
{
	ecl_policy *pol = ecl_arena_alloc(p->arena, sizeof(ecl_policy));
	char	   *name;
	const char *text;
	size_t		len;

	if (pol == NULL)
	{
		out_of_memory(p);
		return NULL;
	}
	memset(pol, 0, sizeof(*pol));
	pol->line = p->cur.line;
	pol->column = p->cur.column;
	if (advance(p) != ECL_OK)
		return NULL;
	if (p->cur.kind == ECL_TOK_IDENT)
	{
		text = p->cur.start;
		len = p->cur.len;
	}
	else if (p->cur.kind == ECL_TOK_STRING)
	{
		text = p->cur.str;
		len = p->cur.str_len;
		if (len == 0)
		{
			ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
						  "policy name must not be empty");
			return NULL;
		}
	}
	else
	{
		fail_expected(p, "a policy name (identifier or string) after 'policy'");
		return NULL;
	}
	name = ecl_arena_alloc(p->arena, len + 1);
	if (name == NULL)
	{
		out_of_memory(p);
		return NULL;
	}
	memcpy(name, text, len);
	name[len] = '\0';
	pol->name = name;
	pol->name_len = len;
	for (ecl_policy *q = prog->policies; q != NULL; q = q->next)
	{
		if (q->name_len == len && memcmp(q->name, name, len) == 0)
		{
			ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
						  "policy '%s' is already defined at line %u", name, q->line);
			return NULL;
		}
	}
	p->policy = name;
	if (advance(p) != ECL_OK)
		return NULL;
	if (p->cur.kind == ECL_TOK_LPAREN && parse_inputs(p, pol) != ECL_OK)
		return NULL;
	pol->body = parse_block(p, pol->declares_inputs ?
							"'{' after the declared inputs" :
							"'{' after the policy name");
	if (pol->body == NULL)
		return NULL;
	p->policy = NULL;
	return pol;
}

/* Record the error in p->err, if collecting, and end the parse. */
static ecl_status
give_up(parser *p)
{
	if (p->diags != NULL && !p->stop)
		record(p);
	p->stop = true;
	return ECL_FAIL;
}

static ecl_status
parse_program(parser *p, ecl_ast_program *prog)
{
	ecl_stmt  **tail = &prog->top->first;
	ecl_policy **ptail = &prog->policies;
	uint32_t	first_stmt_line = 0;

	if (advance(p) != ECL_OK && !recover(p, NULL, &tail, true))
		return ECL_FAIL;
	for (;;)
	{
		ecl_stmt   *s;

		if (skip_separators(p) != ECL_OK)
		{
			if (!recover(p, NULL, &tail, true))
				return ECL_FAIL;
			continue;
		}
		if (p->cur.kind == ECL_TOK_EOF)
			break;
		if (p->cur.kind == ECL_TOK_POLICY)
		{
			ecl_policy *pol;

			/* structural mistakes: later errors would only follow from them */
			if (first_stmt_line != 0)
			{
				ecl_error_set(p->err, ECL_ERR_SYNTAX, p->cur.line, p->cur.column,
							  "a source with top-level statements (line %u) cannot also define policies; put the statements inside a policy",
							  first_stmt_line);
				return give_up(p);
			}
			pol = parse_policy(p, prog);
			if (pol == NULL)
				return give_up(p);
			*ptail = pol;
			ptail = &pol->next;
			prog->npolicies++;
			continue;
		}
		if (p->cur.kind != ECL_TOK_CONST)
		{
			if (prog->npolicies > 0)
			{
				fail_expected(p, "'policy' or 'const' (statements outside a policy are not allowed when the source defines policies)");
				return give_up(p);
			}
			if (first_stmt_line == 0)
				first_stmt_line = p->cur.line;
		}
		s = parse_statement(p);
		if (s == NULL || expect_statement_end(p, s) != ECL_OK)
		{
			if (!recover(p, s, &tail, true))
				return ECL_FAIL;
			p->depth = 0;
			continue;
		}
		*tail = s;
		tail = &s->next;
	}
	prog->top->end_line = p->cur.line;
	prog->top->end_column = p->cur.column;
	return ECL_OK;
}

static ecl_status
parse_source(ecl_arena *arena, const char *src, size_t len,
			 ecl_ast_program **out, ecl_error *err, ecl_diagnostics *diags)
{
	parser		p;
	ecl_ast_program *prog;

	memset(&p, 0, sizeof(p));
	p.arena = arena;
	p.err = err;
	p.diags = diags;
	ecl_lexer_init(&p.lx, arena, src, len);
	*out = NULL;

	prog = ecl_arena_alloc(arena, sizeof(ecl_ast_program));
	if (prog == NULL)
		return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory while parsing");
	memset(prog, 0, sizeof(*prog));
	prog->top = new_block(&p, 1, 1);
	if (prog->top == NULL)
		return ECL_FAIL;

	if (parse_program(&p, prog) != ECL_OK)
	{
		if (p.policy != NULL && err != NULL)
			snprintf(err->policy, sizeof(err->policy), "%s", p.policy);
		if (diags == NULL)
			return ECL_FAIL;
	}
	*out = prog;
	return diags != NULL && diags->count > 0 ? ECL_FAIL : ECL_OK;
}

ecl_status
ecl_parse(ecl_arena *arena, const char *src, size_t len,
		  ecl_ast_program **out, ecl_error *err)
{
	return parse_source(arena, src, len, out, err, NULL);
}

ecl_status
ecl_parse_all(ecl_arena *arena, const char *src, size_t len,
			  ecl_ast_program **out, ecl_diagnostics *diags)
{
	ecl_error	err;

	ecl_error_clear(&err);
	return parse_source(arena, src, len, out, &err, diags);
}
