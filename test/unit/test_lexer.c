/*
 * test_lexer.c — tokens, positions, literals and every lexer error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/arena.h"
#include "ecl/lexer.h"
#include "unit.h"

#define MAX_TOKS 128

typedef struct lexed
{
	ecl_arena	arena;
	ecl_token	toks[MAX_TOKS];
	int			n;				/* tokens read, EOF included */
	ecl_status	status;
	ecl_error	err;
} lexed;

/* Lex all of src (up to MAX_TOKS); stops at EOF or the first error. */
static void
lex_all(lexed *l, const char *src)
{
	ecl_lexer	lx;

	memset(l, 0, sizeof(*l));
	ecl_arena_init(&l->arena, &ecl_std_alloc);
	ecl_lexer_init(&lx, &l->arena, src, strlen(src));
	l->status = ECL_OK;
	while (l->n < MAX_TOKS)
	{
		l->status = ecl_lexer_next(&lx, &l->toks[l->n], &l->err);
		if (l->status != ECL_OK)
			return;
		if (l->toks[l->n++].kind == ECL_TOK_EOF)
			return;
	}
}

static void
lex_done(lexed *l)
{
	ecl_arena_release(&l->arena);
}

/* Lex src expecting an error; returns it (the arena is released). */
static ecl_error
lex_error(const char *src)
{
	lexed		l;
	ecl_error	e;

	lex_all(&l, src);
	e = l.err;
	if (l.status == ECL_OK)
		e.code = ECL_ERR_NONE;
	lex_done(&l);
	return e;
}

UNIT_TEST(lexer_every_token_kind)
{
	static const ecl_token_kind want[] = {
		ECL_TOK_POLICY, ECL_TOK_CONST, ECL_TOK_LET, ECL_TOK_IF, ECL_TOK_ELSE,
		ECL_TOK_FOR, ECL_TOK_IN, ECL_TOK_REQUIRE, ECL_TOK_RETURN, ECL_TOK_EMIT,
		ECL_TOK_TRUE, ECL_TOK_FALSE, ECL_TOK_NULL,
		ECL_TOK_PLUS, ECL_TOK_MINUS, ECL_TOK_STAR, ECL_TOK_SLASH, ECL_TOK_PERCENT,
		ECL_TOK_BANG, ECL_TOK_EQ_EQ, ECL_TOK_BANG_EQ, ECL_TOK_LT, ECL_TOK_LE,
		ECL_TOK_GT, ECL_TOK_GE, ECL_TOK_AND_AND, ECL_TOK_OR_OR, ECL_TOK_QUESTION,
		ECL_TOK_COLON, ECL_TOK_ASSIGN, ECL_TOK_DOT, ECL_TOK_COMMA, ECL_TOK_LPAREN,
		ECL_TOK_RPAREN, ECL_TOK_LBRACKET, ECL_TOK_RBRACKET, ECL_TOK_LBRACE,
		ECL_TOK_RBRACE, ECL_TOK_SEMICOLON, ECL_TOK_NEWLINE, ECL_TOK_IDENT,
		ECL_TOK_NUMBER, ECL_TOK_STRING, ECL_TOK_EOF
	};
	lexed		l;
	int			n = (int) (sizeof(want) / sizeof(want[0]));

	lex_all(&l, "policy const let if else for in require return emit true false null\t"
			"+ - * / % ! == != < <= > >= && || ? : = . , ( ) [ ] { } ;\n"
			"name_1 42 \"s\"");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(l.n, n);
	for (int i = 0; i < n; i++)
		UNIT_ASSERT_MSG(l.toks[i].kind == want[i], "token %d: kind %s, want %s", i,
						ecl_token_kind_name(l.toks[i].kind), ecl_token_kind_name(want[i]));
	/* every kind has a description */
	for (int k = 0; k < ECL_TOK_COUNT; k++)
		UNIT_ASSERT(strlen(ecl_token_kind_name((ecl_token_kind) k)) > 0);
	lex_done(&l);
}

UNIT_TEST(lexer_operators_without_spaces)
{
	lexed		l;

	lex_all(&l, "a<=b>=c!=d==e&&f||!g");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(l.n, 15);
	UNIT_ASSERT_EQ_INT(l.toks[1].kind, ECL_TOK_LE);
	UNIT_ASSERT_EQ_INT(l.toks[3].kind, ECL_TOK_GE);
	UNIT_ASSERT_EQ_INT(l.toks[5].kind, ECL_TOK_BANG_EQ);
	UNIT_ASSERT_EQ_INT(l.toks[7].kind, ECL_TOK_EQ_EQ);
	UNIT_ASSERT_EQ_INT(l.toks[9].kind, ECL_TOK_AND_AND);
	UNIT_ASSERT_EQ_INT(l.toks[11].kind, ECL_TOK_OR_OR);
	UNIT_ASSERT_EQ_INT(l.toks[12].kind, ECL_TOK_BANG);
	lex_done(&l);
}

UNIT_TEST(lexer_identifiers_and_keywords)
{
	lexed		l;

	lex_all(&l, "_x policyx letter iff Ω");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	for (int i = 0; i < 5; i++)
		UNIT_ASSERT_EQ_INT(l.toks[i].kind, ECL_TOK_IDENT);
	UNIT_ASSERT_EQ_INT(l.toks[1].len, 7);
	UNIT_ASSERT_EQ_INT(l.toks[4].len, 2);	/* two bytes of UTF-8 */
	UNIT_ASSERT(memcmp(l.toks[4].start, "\xCE\xA9", 2) == 0);
	UNIT_ASSERT_EQ_INT(l.toks[4].column, 23);
	UNIT_ASSERT(ecl_token_is_keyword(ECL_TOK_IN));
	UNIT_ASSERT(!ecl_token_is_keyword(ECL_TOK_IDENT));
	lex_done(&l);
}

UNIT_TEST(lexer_numbers)
{
	lexed		l;

	lex_all(&l, "1 0.5 1e3 2.5E-3 7e+2 007 1.x 1e-400");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(l.toks[0].kind, ECL_TOK_NUMBER);
	UNIT_ASSERT_NEAR(l.toks[0].number, 1, 0);
	UNIT_ASSERT_NEAR(l.toks[1].number, 0.5, 0);
	UNIT_ASSERT_NEAR(l.toks[2].number, 1000, 0);
	UNIT_ASSERT_NEAR(l.toks[3].number, 0.0025, 1e-18);
	UNIT_ASSERT_NEAR(l.toks[4].number, 700, 0);
	UNIT_ASSERT_NEAR(l.toks[5].number, 7, 0);
	/* "1." followed by a name is a number and a member access */
	UNIT_ASSERT_EQ_INT(l.toks[6].kind, ECL_TOK_NUMBER);
	UNIT_ASSERT_EQ_INT(l.toks[7].kind, ECL_TOK_DOT);
	UNIT_ASSERT_EQ_INT(l.toks[8].kind, ECL_TOK_IDENT);
	/* underflow to zero is accepted */
	UNIT_ASSERT_EQ_INT(l.toks[9].kind, ECL_TOK_NUMBER);
	UNIT_ASSERT(l.toks[9].number < 1e-300);
	lex_done(&l);
}

UNIT_TEST(lexer_number_errors)
{
	ecl_error	e = lex_error("let x = 1e999");

	UNIT_ASSERT_EQ_INT(e.code, ECL_ERR_SYNTAX);
	UNIT_ASSERT_EQ_STR(e.message, "number 1e999 is out of range (must fit a double)");
	UNIT_ASSERT_EQ_INT(e.line, 1);
	UNIT_ASSERT_EQ_INT(e.column, 9);

	e = lex_error("x = 2e+");
	UNIT_ASSERT_EQ_INT(e.code, ECL_ERR_SYNTAX);
	UNIT_ASSERT_EQ_STR(e.message, "invalid number: expected digits after the exponent 'e'");
	UNIT_ASSERT_EQ_INT(e.column, 6);

	e = lex_error("12abc");
	UNIT_ASSERT_EQ_STR(e.message, "invalid number: unexpected 'a' after '12'");
	UNIT_ASSERT_EQ_INT(e.column, 3);
}

UNIT_TEST(lexer_string_escapes)
{
	lexed		l;

	lex_all(&l, "\"q\\\" b\\\\ s\\/ n\\n t\\t r\\r \\u00e9 \\u20AC \\uD83D\\uDE00 raw é\"");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(l.toks[0].kind, ECL_TOK_STRING);
	UNIT_ASSERT_EQ_STR(l.toks[0].str,
					   "q\" b\\ s/ n\n t\t r\r \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 raw \xC3\xA9");
	UNIT_ASSERT_EQ_INT(l.toks[0].str_len, strlen(l.toks[0].str));
	UNIT_ASSERT_EQ_INT(l.toks[1].kind, ECL_TOK_EOF);
	lex_done(&l);

	lex_all(&l, "\"\"");
	UNIT_ASSERT_EQ_INT(l.toks[0].kind, ECL_TOK_STRING);
	UNIT_ASSERT_EQ_INT(l.toks[0].str_len, 0);
	lex_done(&l);
}

UNIT_TEST(lexer_string_errors)
{
	ecl_error	e = lex_error("let s = \"ab\\qc\"");

	UNIT_ASSERT_EQ_INT(e.code, ECL_ERR_SYNTAX);
	UNIT_ASSERT_EQ_INT(e.line, 1);
	UNIT_ASSERT_EQ_INT(e.column, 12);
	UNIT_ASSERT(strstr(e.message, "invalid escape '\\q' in string") != NULL);

	e = lex_error("x = \"abc\ndef\"");
	UNIT_ASSERT_EQ_INT(e.code, ECL_ERR_SYNTAX);
	UNIT_ASSERT_EQ_STR(e.message,
					   "unterminated string literal: a string cannot contain a line break (write \\n)");
	UNIT_ASSERT_EQ_INT(e.line, 1);
	UNIT_ASSERT_EQ_INT(e.column, 9);

	e = lex_error("\n  \"never closed");
	UNIT_ASSERT_EQ_STR(e.message, "unterminated string literal: expected '\"' before end of input");
	UNIT_ASSERT_EQ_INT(e.line, 2);
	UNIT_ASSERT_EQ_INT(e.column, 3);

	e = lex_error("\"ends in backslash\\");
	UNIT_ASSERT_EQ_STR(e.message, "unterminated string literal: expected '\"' before end of input");

	e = lex_error("\"\\uD800\"");
	UNIT_ASSERT_EQ_STR(e.message,
					   "invalid escape in string: high surrogate \\uD800 is not followed by a low surrogate");
	UNIT_ASSERT_EQ_INT(e.column, 2);

	e = lex_error("\"a\\uDC00\"");
	UNIT_ASSERT_EQ_STR(e.message, "invalid escape in string: lone low surrogate \\uDC00");
	UNIT_ASSERT_EQ_INT(e.column, 3);

	e = lex_error("\"\\u12G4\"");
	UNIT_ASSERT_EQ_STR(e.message, "invalid escape in string: expected 4 hex digits after \\u");

	e = lex_error("\"\\u0000\"");
	UNIT_ASSERT_EQ_STR(e.message, "invalid escape in string: \\u0000 is not allowed");

	e = lex_error("\"a\x01\"");
	UNIT_ASSERT_EQ_STR(e.message, "control character U+0001 in string literal: use an escape");
	UNIT_ASSERT_EQ_INT(e.column, 3);
}

UNIT_TEST(lexer_comments_and_newlines)
{
	lexed		l;

	lex_all(&l, "a // line comment ü\nb /* block */ c /* two\nlines */ d /**/e");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(l.n, 8);
	UNIT_ASSERT_EQ_INT(l.toks[0].kind, ECL_TOK_IDENT);
	UNIT_ASSERT_EQ_INT(l.toks[1].kind, ECL_TOK_NEWLINE);
	UNIT_ASSERT_EQ_INT(l.toks[2].kind, ECL_TOK_IDENT);	/* b */
	UNIT_ASSERT_EQ_INT(l.toks[3].kind, ECL_TOK_IDENT);	/* c */
	/* a block comment spanning lines ends the statement like a newline */
	UNIT_ASSERT_EQ_INT(l.toks[4].kind, ECL_TOK_NEWLINE);
	UNIT_ASSERT_EQ_INT(l.toks[4].line, 2);
	UNIT_ASSERT_EQ_INT(l.toks[4].column, 17);
	UNIT_ASSERT_EQ_INT(l.toks[5].kind, ECL_TOK_IDENT);	/* d */
	UNIT_ASSERT_EQ_INT(l.toks[5].line, 3);
	UNIT_ASSERT_EQ_INT(l.toks[5].column, 10);
	UNIT_ASSERT_EQ_INT(l.toks[6].kind, ECL_TOK_IDENT);	/* e */
	UNIT_ASSERT_EQ_INT(l.toks[6].column, 16);
	UNIT_ASSERT_EQ_INT(l.toks[7].kind, ECL_TOK_EOF);
	lex_done(&l);
}

UNIT_TEST(lexer_unterminated_block_comment)
{
	ecl_error	e = lex_error("x\n  /* open\n\n");

	UNIT_ASSERT_EQ_INT(e.code, ECL_ERR_SYNTAX);
	UNIT_ASSERT_EQ_STR(e.message, "unterminated block comment: expected '*/' before end of input");
	UNIT_ASSERT_EQ_INT(e.line, 2);
	UNIT_ASSERT_EQ_INT(e.column, 3);
}

UNIT_TEST(lexer_positions_count_code_points)
{
	lexed		l;

	/* "é€😀" is 2+3+4 bytes but three columns */
	lex_all(&l, "\"é€😀\" x\r\n\ty");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(l.toks[0].column, 1);
	UNIT_ASSERT_EQ_INT(l.toks[1].kind, ECL_TOK_IDENT);
	UNIT_ASSERT_EQ_INT(l.toks[1].line, 1);
	UNIT_ASSERT_EQ_INT(l.toks[1].column, 7);
	UNIT_ASSERT_EQ_INT(l.toks[2].kind, ECL_TOK_NEWLINE);
	UNIT_ASSERT_EQ_INT(l.toks[2].column, 9);	/* \r is whitespace */
	UNIT_ASSERT_EQ_INT(l.toks[3].line, 2);
	UNIT_ASSERT_EQ_INT(l.toks[3].column, 2);	/* a tab is one column */
	lex_done(&l);
}

UNIT_TEST(lexer_invalid_utf8_and_characters)
{
	ecl_error	e = lex_error("let a = 1\nlet \xFF = 2");

	UNIT_ASSERT_EQ_INT(e.code, ECL_ERR_SYNTAX);
	UNIT_ASSERT_EQ_STR(e.message, "invalid UTF-8 in source (byte 0xFF)");
	UNIT_ASSERT_EQ_INT(e.line, 2);
	UNIT_ASSERT_EQ_INT(e.column, 5);

	/* also inside strings and comments; overlong and surrogate encodings */
	e = lex_error("\"ab\xC3\"");
	UNIT_ASSERT_EQ_STR(e.message, "invalid UTF-8 in source (byte 0xC3)");
	UNIT_ASSERT_EQ_INT(e.column, 4);
	e = lex_error("// \xC0\xAF");
	UNIT_ASSERT_EQ_STR(e.message, "invalid UTF-8 in source (byte 0xC0)");
	e = lex_error("/* \xED\xA0\x80 */");
	UNIT_ASSERT_EQ_STR(e.message, "invalid UTF-8 in source (byte 0xED)");

	e = lex_error("a # b");
	UNIT_ASSERT_EQ_STR(e.message, "unexpected character '#'");
	UNIT_ASSERT_EQ_INT(e.column, 3);
	e = lex_error("a & b");
	UNIT_ASSERT_EQ_STR(e.message, "unexpected character '&' (did you mean '&&'?)");
	e = lex_error("a | b");
	UNIT_ASSERT_EQ_STR(e.message, "unexpected character '|' (did you mean '||'?)");
	e = lex_error("x = é");
	UNIT_ASSERT_EQ_STR(e.message, "unexpected character 'é' (U+00E9)");
	UNIT_ASSERT_EQ_INT(e.column, 5);
	e = lex_error("x\x01");
	UNIT_ASSERT_EQ_STR(e.message, "unexpected character U+0001");
}

UNIT_TEST(lexer_describe_tokens)
{
	lexed		l;
	char		buf[96];

	lex_all(&l, "return foo 12.5 \"hi\" } \"a very long string literal that goes on and on\"\n");
	UNIT_ASSERT_EQ_INT(l.status, ECL_OK);
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[0], buf, sizeof(buf)), "'return'");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[1], buf, sizeof(buf)), "identifier 'foo'");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[2], buf, sizeof(buf)), "number 12.5");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[3], buf, sizeof(buf)), "string \"hi\"");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[4], buf, sizeof(buf)), "'}'");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[5], buf, sizeof(buf)),
					   "string \"a very long string literal that goes on...\"");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[6], buf, sizeof(buf)), "newline");
	UNIT_ASSERT_EQ_STR(ecl_token_describe(&l.toks[7], buf, sizeof(buf)), "end of input");
	lex_done(&l);
}

UNIT_TEST(lexer_eof_repeats_and_empty_source)
{
	ecl_arena	arena;
	ecl_lexer	lx;
	ecl_token	t;
	ecl_error	err;

	ecl_arena_init(&arena, &ecl_std_alloc);
	ecl_lexer_init(&lx, &arena, "", 0);
	UNIT_ASSERT_EQ_INT(ecl_lexer_next(&lx, &t, &err), ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_EOF);
	UNIT_ASSERT_EQ_INT(t.line, 1);
	UNIT_ASSERT_EQ_INT(t.column, 1);
	UNIT_ASSERT_EQ_INT(ecl_lexer_next(&lx, &t, &err), ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_EOF);

	/* the source need not be NUL-terminated: only len bytes are read */
	ecl_lexer_init(&lx, &arena, "ab!", 2);
	UNIT_ASSERT_EQ_INT(ecl_lexer_next(&lx, &t, &err), ECL_OK);
	UNIT_ASSERT_EQ_INT(t.len, 2);
	UNIT_ASSERT_EQ_INT(ecl_lexer_next(&lx, &t, &err), ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_EOF);
	ecl_arena_release(&arena);
}

UNIT_TEST(lexer_string_memory_is_proportional)
{
	/*
	 * 50,000 string literals in a 300 kB source: each literal's buffer must
	 * be sized by the literal, not by the rest of the source (which would
	 * need gigabytes).
	 */
	size_t		n = 50000;
	char	   *src = malloc(n * 6 + 1);
	ecl_arena	arena;
	ecl_lexer	lx;
	ecl_token	t;
	ecl_error	err;
	size_t		strings = 0;

	for (size_t i = 0; i < n; i++)
		memcpy(src + i * 6, "\"a\\n\" ", 6);
	src[n * 6] = '\0';
	ecl_arena_init(&arena, &ecl_std_alloc);
	ecl_lexer_init(&lx, &arena, src, n * 6);
	while (ecl_lexer_next(&lx, &t, &err) == ECL_OK && t.kind != ECL_TOK_EOF)
	{
		if (t.kind == ECL_TOK_STRING && t.str_len == 2 && t.str[1] == '\n')
			strings++;
	}
	ecl_arena_release(&arena);
	free(src);
	UNIT_ASSERT_EQ_INT(strings, n);
}

/* ecl fmt's mode: comments come back as tokens, with their exact text */
UNIT_TEST(lexer_keeps_comments_when_asked)
{
	const char *src = "a // one\n/* two\n three */ b /**/";
	ecl_arena	arena;
	ecl_lexer	lx;
	ecl_token	t;
	ecl_error	err;
	const char *want[] = {"a", "// one", "\n", "/* two\n three */", "b", "/**/"};
	ecl_token_kind kinds[] = {ECL_TOK_IDENT, ECL_TOK_COMMENT, ECL_TOK_NEWLINE,
	ECL_TOK_COMMENT, ECL_TOK_IDENT, ECL_TOK_COMMENT};

	ecl_arena_init(&arena, &ecl_std_alloc);
	ecl_lexer_init(&lx, &arena, src, strlen(src));
	lx.keep_comments = true;
	for (int i = 0; i < 6; i++)
	{
		UNIT_ASSERT(ecl_lexer_next(&lx, &t, &err) == ECL_OK);
		UNIT_ASSERT_EQ_INT(t.kind, kinds[i]);
		UNIT_ASSERT_EQ_INT(t.len, strlen(want[i]));
		UNIT_ASSERT(memcmp(t.start, want[i], t.len) == 0);
	}
	UNIT_ASSERT(ecl_lexer_next(&lx, &t, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_EOF);

	/* without the flag the block comment over two lines is a line break */
	ecl_lexer_init(&lx, &arena, src, strlen(src));
	UNIT_ASSERT(ecl_lexer_next(&lx, &t, &err) == ECL_OK);
	UNIT_ASSERT(ecl_lexer_next(&lx, &t, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_NEWLINE);
	UNIT_ASSERT(ecl_lexer_next(&lx, &t, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_NEWLINE);
	UNIT_ASSERT(ecl_lexer_next(&lx, &t, &err) == ECL_OK);
	UNIT_ASSERT_EQ_INT(t.kind, ECL_TOK_IDENT);
	ecl_arena_release(&arena);
}
