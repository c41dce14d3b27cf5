/*
 * lexer.h — ECL source text to tokens (docs/language.md §1, §4).
 *
 * The lexer is pull-based: the parser asks for one token at a time, so a
 * megabyte of source never becomes a megabyte of token structs.  It checks
 * that the whole source is valid UTF-8, tracks 1-based line and column
 * (columns count code points, not bytes) and decodes string escapes into
 * memory from the arena.
 *
 * Newlines are tokens (they end statements); the parser decides where they
 * are insignificant (after a binary operator or ',', inside brackets).
 */
#ifndef ECL_LEXER_H
#define ECL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/arena.h"
#include "ecl/error.h"

/* X(kind, description used in error messages, keyword text or NULL) */
#define ECL_TOKENS(X) \
	X(EOF,        "end of input", NULL) \
	X(NEWLINE,    "newline", NULL) \
	X(SEMICOLON,  "';'", NULL) \
	X(IDENT,      "identifier", NULL) \
	X(NUMBER,     "number", NULL) \
	X(STRING,     "string", NULL) \
	X(POLICY,     "'policy'", "policy") \
	X(CONST,      "'const'", "const") \
	X(LET,        "'let'", "let") \
	X(IF,         "'if'", "if") \
	X(ELSE,       "'else'", "else") \
	X(FOR,        "'for'", "for") \
	X(IN,         "'in'", "in") \
	X(REQUIRE,    "'require'", "require") \
	X(RETURN,     "'return'", "return") \
	X(EMIT,       "'emit'", "emit") \
	X(TRUE,       "'true'", "true") \
	X(FALSE,      "'false'", "false") \
	X(NULL,       "'null'", "null") \
	X(PLUS,       "'+'", NULL) \
	X(MINUS,      "'-'", NULL) \
	X(STAR,       "'*'", NULL) \
	X(SLASH,      "'/'", NULL) \
	X(PERCENT,    "'%'", NULL) \
	X(BANG,       "'!'", NULL) \
	X(EQ_EQ,      "'=='", NULL) \
	X(BANG_EQ,    "'!='", NULL) \
	X(LT,         "'<'", NULL) \
	X(LE,         "'<='", NULL) \
	X(GT,         "'>'", NULL) \
	X(GE,         "'>='", NULL) \
	X(AND_AND,    "'&&'", NULL) \
	X(OR_OR,      "'||'", NULL) \
	X(QUESTION,   "'?'", NULL) \
	X(COLON,      "':'", NULL) \
	X(ASSIGN,     "'='", NULL) \
	X(DOT,        "'.'", NULL) \
	X(COMMA,      "','", NULL) \
	X(LPAREN,     "'('", NULL) \
	X(RPAREN,     "')'", NULL) \
	X(LBRACKET,   "'['", NULL) \
	X(RBRACKET,   "']'", NULL) \
	X(LBRACE,     "'{'", NULL) \
	X(RBRACE,     "'}'", NULL) \
	X(COMMENT,    "comment", NULL)

typedef enum ecl_token_kind
{
#define ECL_X_TOKEN_ENUM(kind, desc, kw) ECL_TOK_##kind,
	ECL_TOKENS(ECL_X_TOKEN_ENUM)
#undef ECL_X_TOKEN_ENUM
	ECL_TOK_COUNT
} ecl_token_kind;

typedef struct ecl_token
{
	ecl_token_kind kind;
	const char *start;			/* the token's text in the source */
	size_t		len;			/* bytes */
	uint32_t	line;			/* 1-based */
	uint32_t	column;			/* 1-based, in code points */
	double		number;			/* ECL_TOK_NUMBER: the value */
	const char *str;			/* ECL_TOK_STRING: decoded text (arena), NUL-terminated */
	size_t		str_len;		/* ECL_TOK_STRING: decoded length in bytes */
} ecl_token;

typedef struct ecl_lexer
{
	ecl_arena  *arena;
	const char *src;
	size_t		len;
	size_t		pos;			/* byte offset of the next character */
	uint32_t	line;			/* position of src[pos] */
	uint32_t	column;

	/*
	 * Tools that rewrite source (ecl fmt) set this to get each comment as
	 * an ECL_TOK_COMMENT token (its text in start/len, "//" up to but not
	 * including the line break, or the whole block comment); a block comment
	 * spanning lines then yields no extra NEWLINE.  The parser never sets it.
	 */
	bool		keep_comments;
} ecl_lexer;

void		ecl_lexer_init(ecl_lexer *lx, ecl_arena *arena, const char *src, size_t len);

/*
 * Read the next token.  At the end it returns ECL_TOK_EOF (again on every
 * further call).  Errors are ECL_ERR_SYNTAX at the offending character:
 * invalid UTF-8, unexpected character, unterminated string or block comment,
 * invalid escape, lone surrogate, number out of range.
 */
ecl_status	ecl_lexer_next(ecl_lexer *lx, ecl_token *tok, ecl_error *err);

/*
 * After an error: skip the rest of the current line (up to, not including,
 * the newline), so that a parser collecting every error can go on from the
 * next line instead of failing on the same character again.
 */
void		ecl_lexer_skip_line(ecl_lexer *lx);

/* "end of input", "'+'", "identifier", ... */
const char *ecl_token_kind_name(ecl_token_kind kind);

/*
 * Describe a token for "found ..." in messages: "end of input", "newline",
 * "'return'", "identifier 'foo'", "number 12", "string \"abc\"" (long texts
 * are shortened).  Returns buf.
 */
const char *ecl_token_describe(const ecl_token *tok, char *buf, size_t bufsize);

/* True for keywords (their text may still serve as a field name or key). */
bool		ecl_token_is_keyword(ecl_token_kind kind);

#endif							/* ECL_LEXER_H */
