/*
 * test_parser.c — program shapes, statements, precedence, newline rules and
 * every parser error (message, line and column).
 *
 * Trees are checked through a compact S-expression rendering, e.g.
 * "(+ 1 (* 2 3))", so each test states the whole shape it expects.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/arena.h"
#include "ecl/compiler.h"
#include "ecl/parser.h"
#include "unit.h"

typedef struct sbuf
{
	char		text[8192];
	size_t		len;
} sbuf;

static void
put(sbuf *b, const char *fmt,...)
{
	va_list		ap;

	if (b->len >= sizeof(b->text) - 1)
		return;
	va_start(ap, fmt);
	b->len += vsnprintf(b->text + b->len, sizeof(b->text) - b->len, fmt, ap);
	va_end(ap);
	if (b->len > sizeof(b->text) - 1)
		b->len = sizeof(b->text) - 1;
}

static const char *
op_text(ecl_opcode op)
{
	switch (op)
	{
		case ECL_OP_ADD: return "+";
		case ECL_OP_SUB: return "-";
		case ECL_OP_MUL: return "*";
		case ECL_OP_DIV: return "/";
		case ECL_OP_MOD: return "%";
		case ECL_OP_EQ: return "==";
		case ECL_OP_NE: return "!=";
		case ECL_OP_LT: return "<";
		case ECL_OP_LE: return "<=";
		case ECL_OP_GT: return ">";
		case ECL_OP_GE: return ">=";
		case ECL_OP_NEG: return "neg";
		case ECL_OP_NOT: return "!";
		default: return "?op";
	}
}

static void dump_block(sbuf *b, const ecl_block *blk);

static void
dump_expr(sbuf *b, const ecl_expr *e)
{
	switch (e->kind)
	{
		case ECL_EXPR_NUMBER:
			put(b, "%g", e->number);
			break;
		case ECL_EXPR_STRING:
			put(b, "\"%.*s\"", (int) e->str_len, e->str);
			break;
		case ECL_EXPR_BOOL:
			put(b, e->boolean ? "true" : "false");
			break;
		case ECL_EXPR_NULL:
			put(b, "null");
			break;
		case ECL_EXPR_NAME:
			put(b, "%.*s", (int) e->name_len, e->name);
			break;
		case ECL_EXPR_UNARY:
			put(b, "(%s ", op_text(e->op));
			dump_expr(b, e->lhs);
			put(b, ")");
			break;
		case ECL_EXPR_BINARY:
		case ECL_EXPR_AND:
		case ECL_EXPR_OR:
			put(b, "(%s ", e->kind == ECL_EXPR_AND ? "&&" :
				e->kind == ECL_EXPR_OR ? "||" : op_text(e->op));
			dump_expr(b, e->lhs);
			put(b, " ");
			dump_expr(b, e->rhs);
			put(b, ")");
			break;
		case ECL_EXPR_TERNARY:
			put(b, "(? ");
			dump_expr(b, e->cond);
			put(b, " ");
			dump_expr(b, e->lhs);
			put(b, " ");
			dump_expr(b, e->rhs);
			put(b, ")");
			break;
		case ECL_EXPR_ARRAY:
			put(b, "[");
			for (uint32_t i = 0; i < e->count; i++)
			{
				put(b, i ? " " : "");
				dump_expr(b, e->items[i]);
			}
			put(b, "]");
			break;
		case ECL_EXPR_OBJECT:
			put(b, "{");
			for (uint32_t i = 0; i < e->count; i++)
			{
				put(b, i ? " " : "");
				dump_expr(b, e->keys[i]);
				put(b, ":");
				dump_expr(b, e->items[i]);
			}
			put(b, "}");
			break;
		case ECL_EXPR_FIELD:
			put(b, "(. ");
			dump_expr(b, e->lhs);
			put(b, " %.*s)", (int) e->name_len, e->name);
			break;
		case ECL_EXPR_INDEX:
			put(b, "([] ");
			dump_expr(b, e->lhs);
			put(b, " ");
			dump_expr(b, e->rhs);
			put(b, ")");
			break;
		case ECL_EXPR_CALL:
		case ECL_EXPR_METHOD:
			if (e->kind == ECL_EXPR_METHOD)
			{
				put(b, "(.%.*s ", (int) e->name_len, e->name);
				dump_expr(b, e->lhs);
			}
			else
				put(b, "(%.*s", (int) e->name_len, e->name);
			for (uint32_t i = 0; i < e->count; i++)
			{
				put(b, " ");
				dump_expr(b, e->items[i]);
			}
			put(b, ")");
			break;
	}
}

static void
dump_stmt(sbuf *b, const ecl_stmt *s)
{
	switch (s->kind)
	{
		case ECL_STMT_LET:
		case ECL_STMT_CONST:
		case ECL_STMT_ASSIGN:
			put(b, "(%s %.*s ", s->kind == ECL_STMT_LET ? "let" :
				s->kind == ECL_STMT_CONST ? "const" : "set",
				(int) s->name_len, s->name);
			dump_expr(b, s->expr);
			put(b, ")");
			break;
		case ECL_STMT_REQUIRE:
		case ECL_STMT_EMIT:
			put(b, "(%s ", s->kind == ECL_STMT_REQUIRE ? "require" : "emit");
			dump_expr(b, s->expr);
			if (s->message)
			{
				put(b, " ");
				dump_expr(b, s->message);
			}
			put(b, ")");
			break;
		case ECL_STMT_IF:
			put(b, "(if ");
			dump_expr(b, s->expr);
			put(b, " ");
			dump_block(b, s->body);
			if (s->else_body)
			{
				put(b, " else ");
				dump_block(b, s->else_body);
			}
			put(b, ")");
			break;
		case ECL_STMT_FOR:
			put(b, "(for %.*s ", (int) s->name_len, s->name);
			dump_expr(b, s->expr);
			put(b, " ");
			dump_block(b, s->body);
			put(b, ")");
			break;
		case ECL_STMT_RETURN:
			put(b, "(return ");
			dump_expr(b, s->expr);
			put(b, ")");
			break;
		case ECL_STMT_EXPR:
			dump_expr(b, s->expr);
			break;
	}
}

static void
dump_block(sbuf *b, const ecl_block *blk)
{
	put(b, "{");
	for (const ecl_stmt *s = blk->first; s; s = s->next)
	{
		put(b, s == blk->first ? "" : " ");
		dump_stmt(b, s);
	}
	put(b, "}");
}

/* Result of parsing: the rendering, or the error. */
typedef struct parsed
{
	ecl_status	status;
	ecl_error	err;
	sbuf		out;
	uint32_t	npolicies;
} parsed;

static parsed parse_result;

/* Parse src; render "top-level block" then "policy NAME {..}" for each. */
static parsed *
parse(const char *src)
{
	ecl_arena	arena;
	ecl_ast_program *prog;

	memset(&parse_result, 0, sizeof(parse_result));
	ecl_arena_init(&arena, &ecl_std_alloc);
	parse_result.status = ecl_parse(&arena, src, strlen(src), &prog, &parse_result.err);
	if (parse_result.status == ECL_OK)
	{
		dump_block(&parse_result.out, prog->top);
		for (const ecl_policy *p = prog->policies; p; p = p->next)
		{
			put(&parse_result.out, " policy %s ", p->name);
			dump_block(&parse_result.out, p->body);
		}
		parse_result.npolicies = prog->npolicies;
	}
	else
		parse_result.out.text[0] = '\0';
	ecl_arena_release(&arena);
	return &parse_result;
}

/* The rendering of a script-mode source (asserting it parsed). */
#define ASSERT_PARSES_TO(src, want) do { \
	parsed *r_ = parse(src); \
	UNIT_ASSERT_MSG(r_->status == ECL_OK, "parse of %s failed: %u:%u %s", #src, \
					r_->err.line, r_->err.column, r_->err.message); \
	UNIT_ASSERT_EQ_STR(r_->out.text, want); \
} while (0)

#define ASSERT_PARSE_ERROR(src, code_, line_, col_, msg) do { \
	parsed *r_ = parse(src); \
	UNIT_ASSERT_MSG(r_->status == ECL_FAIL, "parse of %s succeeded: %s", #src, r_->out.text); \
	UNIT_ASSERT_EQ_INT(r_->err.code, code_); \
	UNIT_ASSERT_EQ_STR(r_->err.message, msg); \
	UNIT_ASSERT_EQ_INT(r_->err.line, line_); \
	UNIT_ASSERT_EQ_INT(r_->err.column, col_); \
} while (0)

UNIT_TEST(parser_precedence_levels)
{
	ASSERT_PARSES_TO("return 1 + 2 * 3", "{(return (+ 1 (* 2 3)))}");
	ASSERT_PARSES_TO("return (1 + 2) * 3", "{(return (* (+ 1 2) 3))}");
	ASSERT_PARSES_TO("return 1 - 2 - 3", "{(return (- (- 1 2) 3))}");
	ASSERT_PARSES_TO("return 8 / 4 % 3 * 2", "{(return (* (% (/ 8 4) 3) 2))}");
	ASSERT_PARSES_TO("return -a.b * !c[0]", "{(return (* (neg (. a b)) (! ([] c 0))))}");
	ASSERT_PARSES_TO("return a < b == c >= d", "{(return (== (< a b) (>= c d)))}");
	ASSERT_PARSES_TO("return a <= b != c > d", "{(return (!= (<= a b) (> c d)))}");
	ASSERT_PARSES_TO("return a || b && c == d", "{(return (|| a (&& b (== c d))))}");
	ASSERT_PARSES_TO("return a && b || c && d", "{(return (|| (&& a b) (&& c d)))}");
	ASSERT_PARSES_TO("return a + 1 < b * 2 && !c",
					 "{(return (&& (< (+ a 1) (* b 2)) (! c)))}");
	/* ?: is loosest and right-associative */
	ASSERT_PARSES_TO("return a || b ? c : d ? e : f",
					 "{(return (? (|| a b) c (? d e f)))}");
	ASSERT_PARSES_TO("return a ? b ? 1 : 2 : 3", "{(return (? a (? b 1 2) 3))}");
	ASSERT_PARSES_TO("return --!!x", "{(return (neg (neg (! (! x)))))}");
}

UNIT_TEST(parser_postfix_and_literals)
{
	ASSERT_PARSES_TO("return a.b.c[1][\"k\"].d", "{(return (. ([] ([] (. (. a b) c) 1) \"k\") d))}");
	ASSERT_PARSES_TO("return caller.trust.Ω + x.omega", "{(return (+ (. (. caller trust) Ω) (. x omega)))}");
	ASSERT_PARSES_TO("return x.credential(\"kyc\")", "{(return (.credential x \"kyc\"))}");
	ASSERT_PARSES_TO("return min(1, max(2, 3)).x", "{(return (. (min 1 (max 2 3)) x))}");
	ASSERT_PARSES_TO("return get_timestamp()", "{(return (get_timestamp))}");
	/* a trailing comma after call arguments, as in array and object literals */
	ASSERT_PARSES_TO("return max(1, 2,)", "{(return (max 1 2))}");
	ASSERT_PARSES_TO("return min(\n  a,\n  b,\n)", "{(return (min a b))}");
	ASSERT_PARSES_TO("return x.credential(\"kyc\",)", "{(return (.credential x \"kyc\"))}");
	ASSERT_PARSES_TO("return [1, \"two\", [true, false, null], ]",
					 "{(return [1 \"two\" [true false null]])}");
	ASSERT_PARSES_TO("return []", "{(return [])}");
	ASSERT_PARSES_TO("return {}", "{(return {})}");
	ASSERT_PARSES_TO("return {key: 1, \"other key\": {n: [2]}, if: 3,}",
					 "{(return {\"key\":1 \"other key\":{\"n\":[2]} \"if\":3})}");
	/* keywords are fine as field names */
	ASSERT_PARSES_TO("return input.in.for", "{(return (. (. input in) for))}");
	ASSERT_PARSES_TO("return 2.5e3", "{(return 2500)}");
}

UNIT_TEST(parser_every_statement)
{
	ASSERT_PARSES_TO(
		"const MAX = 10\n"
		"let x = 1; x = x + 1\n"
		"require x > 0\n"
		"require x > 1, \"too small\"\n"
		"if x { log(\"a\") } else if y { log(\"b\") } else { emit \"ev\" }\n"
		"for item in items { emit \"seen\", item }\n"
		"caller.credential(\"s\")\n"
		"return x\n",
		"{(const MAX 10) (let x 1) (set x (+ x 1)) (require (> x 0)) "
		"(require (> x 1) \"too small\") "
		"(if x {(log \"a\")} else {(if y {(log \"b\")} else {(emit \"ev\")})}) "
		"(for item items {(emit \"seen\" item)}) (.credential caller \"s\") (return x)}");
	ASSERT_PARSES_TO("if (a) { }", "{(if a {})}");
	ASSERT_PARSES_TO("", "{}");
	ASSERT_PARSES_TO("\n\n;;\n", "{}");
}

UNIT_TEST(parser_policies)
{
	parsed	   *r;

	ASSERT_PARSES_TO("const A = 1\npolicy p { return A }",
					 "{(const A 1)} policy p {(return A)}");
	ASSERT_PARSES_TO("policy \"my policy\" {\n}\n policy q { require true }",
					 "{} policy my policy {} policy q {(require true)}");
	r = parse("policy a {} policy b {} policy c {}");
	UNIT_ASSERT_EQ_INT(r->status, ECL_OK);
	UNIT_ASSERT_EQ_INT(r->npolicies, 3);
	/* program constants may stand between policies */
	ASSERT_PARSES_TO("policy a {}\nconst B = 2\npolicy b {}",
					 "{(const B 2)} policy a {} policy b {}");
}

UNIT_TEST(parser_newline_rules)
{
	/* continuation after a binary operator, ',', '?', ':' and '=' */
	ASSERT_PARSES_TO("let x = a +\n  b *\n\n c", "{(let x (+ a (* b c)))}");
	ASSERT_PARSES_TO("let x = a &&\n b ||\n c", "{(let x (|| (&& a b) c))}");
	ASSERT_PARSES_TO("let x = a ?\n b\n : c", "{(let x (? a b c))}");
	ASSERT_PARSES_TO("let x =\n 1", "{(let x 1)}");
	ASSERT_PARSES_TO("require a,\n \"m\"", "{(require a \"m\")}");
	/* inside ( ) [ ] and object literals newlines do not count */
	ASSERT_PARSES_TO("log(\n  min(\n 1\n ,\n 2\n )\n)", "{(log (min 1 2))}");
	ASSERT_PARSES_TO("let a = [\n 1,\n 2\n]\nlet o = {\n k:\n 1\n ,\n}",
					 "{(let a [1 2]) (let o {\"k\":1})}");
	ASSERT_PARSES_TO("let x = (a\n + b)", "{(let x (+ a b))}");
	ASSERT_PARSES_TO("let x = a[\n1\n]", "{(let x ([] a 1))}");
	/* '{' and 'else' may start a later line */
	ASSERT_PARSES_TO("if a\n{\n}\nelse\n{\n}\nreturn 1",
					 "{(if a {} else {}) (return 1)}");
	ASSERT_PARSES_TO("for x in y\n{ }", "{(for x y {})}");
	/* a newline ends a statement even where an operator could follow */
	ASSERT_PARSES_TO("let x = a\nlog(x)", "{(let x a) (log x)}");
	ASSERT_PARSES_TO("if a { } log(b)", "{(if a {}) (log b)}");
}

UNIT_TEST(parser_block_errors)
{
	ASSERT_PARSE_ERROR("policy p {\n  require x\n\n  if y {\n", ECL_ERR_SYNTAX, 5, 1,
					   "expected '}' to close block opened at line 4, found end of input");
	ASSERT_PARSE_ERROR("policy p {\n  let x = 1\n", ECL_ERR_SYNTAX, 3, 1,
					   "expected '}' to close block opened at line 1, found end of input");
	ASSERT_PARSE_ERROR("if x\nreturn 1", ECL_ERR_SYNTAX, 2, 1,
					   "expected '{' after the if condition, found 'return'");
	ASSERT_PARSE_ERROR("if x { } else return", ECL_ERR_SYNTAX, 1, 15,
					   "expected '{' or 'if' after 'else', found 'return'");
	ASSERT_PARSE_ERROR("for x in y log(x)", ECL_ERR_SYNTAX, 1, 12,
					   "expected '{' to start the loop body, found identifier 'log'");
	ASSERT_PARSE_ERROR("for 1 in y {}", ECL_ERR_SYNTAX, 1, 5,
					   "expected a loop variable name after 'for', found number 1");
	ASSERT_PARSE_ERROR("for x of y {}", ECL_ERR_SYNTAX, 1, 7,
					   "expected 'in' after 'for x', found identifier 'of'");
	ASSERT_PARSE_ERROR("else { }", ECL_ERR_SYNTAX, 1, 1, "'else' without a matching 'if'");
	ASSERT_PARSE_ERROR("log(1)\n}", ECL_ERR_SYNTAX, 2, 1,
					   "expected a statement, found '}' (no block is open)");
	ASSERT_PARSE_ERROR("policy p { policy q { } }", ECL_ERR_SYNTAX, 1, 12,
					   "a policy can only be defined at the top level, not inside a block");
}

UNIT_TEST(parser_statement_errors)
{
	ASSERT_PARSE_ERROR("let = 1", ECL_ERR_SYNTAX, 1, 5,
					   "expected a name after 'let', found '='");
	ASSERT_PARSE_ERROR("const X 1", ECL_ERR_SYNTAX, 1, 9,
					   "expected '=' after 'const X', found number 1");
	ASSERT_PARSE_ERROR("let x = 1 2", ECL_ERR_SYNTAX, 1, 11,
					   "expected newline or ';' after the statement, found number 2");
	ASSERT_PARSE_ERROR("x + 1", ECL_ERR_SYNTAX, 1, 1,
					   "expression statement must be a call (a value computed here would be unused)");
	ASSERT_PARSE_ERROR("\n  a.b = 2", ECL_ERR_SYNTAX, 2, 7,
					   "only a variable declared with 'let' can be assigned; found an expression before '='");
	ASSERT_PARSE_ERROR("return\n", ECL_ERR_SYNTAX, 1, 7,
					   "expected a value after 'return', found newline");
	ASSERT_PARSE_ERROR("require ;", ECL_ERR_SYNTAX, 1, 9,
					   "expected a condition after 'require', found ';'");
	ASSERT_PARSE_ERROR("emit }", ECL_ERR_SYNTAX, 1, 6,
					   "expected an event name after 'emit', found '}'");
	ASSERT_PARSE_ERROR("require x, ", ECL_ERR_SYNTAX, 1, 12,
					   "expected an expression, found end of input");
}

UNIT_TEST(parser_expression_errors)
{
	ASSERT_PARSE_ERROR("return min(1, 2 return", ECL_ERR_SYNTAX, 1, 17,
					   "expected ',' or ')' after arguments, found 'return'");
	/* one trailing comma, not an empty argument */
	ASSERT_PARSE_ERROR("return max(,)", ECL_ERR_SYNTAX, 1, 12, "expected an expression, found ','");
	ASSERT_PARSE_ERROR("return max(1,,)", ECL_ERR_SYNTAX, 1, 14, "expected an expression, found ','");
	ASSERT_PARSE_ERROR("return (1 + 2", ECL_ERR_SYNTAX, 1, 14,
					   "expected ')' to close the '(' at line 1, column 8, found end of input");
	ASSERT_PARSE_ERROR("return [1, 2\nlog(1)", ECL_ERR_SYNTAX, 2, 1,
					   "expected ',' or ']' to close the array opened at line 1, found identifier 'log'");
	ASSERT_PARSE_ERROR("return {a: 1 b: 2}", ECL_ERR_SYNTAX, 1, 14,
					   "expected ',' or '}' to close the object opened at line 1, found identifier 'b'");
	ASSERT_PARSE_ERROR("return {1: 2}", ECL_ERR_SYNTAX, 1, 9,
					   "expected a key (name or string) or '}' in object literal, found number 1");
	ASSERT_PARSE_ERROR("return {a 2}", ECL_ERR_SYNTAX, 1, 11,
					   "expected ':' after object key, found number 2");
	ASSERT_PARSE_ERROR("return a ? b", ECL_ERR_SYNTAX, 1, 13,
					   "expected ':' in conditional expression (c ? a : b), found end of input");
	ASSERT_PARSE_ERROR("return a.1", ECL_ERR_SYNTAX, 1, 10,
					   "expected a field name after '.', found number 1");
	ASSERT_PARSE_ERROR("return a[1", ECL_ERR_SYNTAX, 1, 11,
					   "expected ']' after index, found end of input");
	ASSERT_PARSE_ERROR("return a.b[0](1)", ECL_ERR_SYNTAX, 1, 14,
					   "only built-in functions can be called: expected a function name before '('");
	ASSERT_PARSE_ERROR("return * 2", ECL_ERR_SYNTAX, 1, 8,
					   "expected an expression, found '*'");
	ASSERT_PARSE_ERROR("return 1 +\n\n", ECL_ERR_SYNTAX, 3, 1,
					   "expected an expression, found end of input");
	/* lexer errors come through with their position */
	ASSERT_PARSE_ERROR("let s = \"\\x\"", ECL_ERR_SYNTAX, 1, 10,
					   "invalid escape '\\x' in string (valid: \\\" \\\\ \\/ \\n \\t \\r \\b \\f \\uXXXX)");
}

UNIT_TEST(parser_program_shape_errors)
{
	parsed	   *r;

	ASSERT_PARSE_ERROR("log(1)\npolicy p { }", ECL_ERR_SYNTAX, 2, 1,
					   "a source with top-level statements (line 1) cannot also define policies; put the statements inside a policy");
	ASSERT_PARSE_ERROR("policy p { }\nlog(1)", ECL_ERR_SYNTAX, 2, 1,
					   "expected 'policy' or 'const' (statements outside a policy are not allowed when the source defines policies), found identifier 'log'");
	ASSERT_PARSE_ERROR("policy p { }\npolicy p { }", ECL_ERR_SYNTAX, 2, 8,
					   "policy 'p' is already defined at line 1");
	ASSERT_PARSE_ERROR("policy \"\" { }", ECL_ERR_SYNTAX, 1, 8, "policy name must not be empty");
	ASSERT_PARSE_ERROR("policy 12 { }", ECL_ERR_SYNTAX, 1, 8,
					   "expected a policy name (identifier or string) after 'policy', found number 12");
	ASSERT_PARSE_ERROR("policy p require", ECL_ERR_SYNTAX, 1, 10,
					   "expected '{' after the policy name, found 'require'");

	/* the error names the policy it is in */
	r = parse("policy first { }\npolicy second {\n  let = 2\n}");
	UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
	UNIT_ASSERT_EQ_STR(r->err.policy, "second");
	UNIT_ASSERT_EQ_INT(r->err.line, 3);
	r = parse("const X = \nlet");
	UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
	UNIT_ASSERT_EQ_STR(r->err.policy, "");
}

/* Build "prefix" + n copies of unit + "suffix" on the heap. */
static char *
repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
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

UNIT_TEST(parser_nesting_limits)
{
	char	   *src;
	parsed	   *r;

	/* a megabyte of '(' must fail cleanly, not exhaust the C stack */
	src = repeat("return ", "(", 1024 * 1024, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->status, ECL_FAIL);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);
	UNIT_ASSERT_EQ_STR(r->err.message, "nesting too deep (more than 200 nested expressions or blocks)");
	UNIT_ASSERT_EQ_INT(r->err.line, 1);
	UNIT_ASSERT_EQ_INT(r->err.column, 8 + ECL_MAX_SYNTAX_DEPTH);

	/* the same for unary operators, arrays and blocks */
	src = repeat("return ", "!", 1024 * 1024, "x");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);
	src = repeat("return ", "[", 100000, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);
	src = repeat("", "if x {", 100000, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);
	src = repeat("return ", "a ? b : ", 100000, "c");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);
	src = repeat("if a {} ", "else if a {} ", 100000, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);

	/* long flat chains are bounded too (the compiler walks them recursively) */
	src = repeat("return 1", " + 1", 100000, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);
	UNIT_ASSERT_EQ_STR(r->err.message,
					   "nesting too deep (an expression may combine at most 1000 operations in a chain)");
	src = repeat("return x", ".f", 100000, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_EQ_INT(r->err.code, ECL_ERR_STACK);

	/* just under the limits is fine */
	src = repeat("return ", "(", ECL_MAX_SYNTAX_DEPTH - 1, "1");
	{
		char	   *full = repeat(src, ")", ECL_MAX_SYNTAX_DEPTH - 1, "");

		r = parse(full);
		free(full);
	}
	free(src);
	UNIT_ASSERT_MSG(r->status == ECL_OK, "%s", r->err.message);
	src = repeat("return 1", " + 1", ECL_MAX_EXPR_HEIGHT - 1, "");
	r = parse(src);
	free(src);
	UNIT_ASSERT_MSG(r->status == ECL_OK, "%s", r->err.message);
}
