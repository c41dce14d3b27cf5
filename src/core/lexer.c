/*
 * lexer.c — ECL source text to tokens (see lexer.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/lexer.h"
#include "utf8.h"

static const char *const token_names[ECL_TOK_COUNT] = {
#define ECL_X_TOKEN_NAME(kind, desc, kw) desc,
	ECL_TOKENS(ECL_X_TOKEN_NAME)
#undef ECL_X_TOKEN_NAME
};

static const char *const token_keywords[ECL_TOK_COUNT] = {
#define ECL_X_TOKEN_KW(kind, desc, kw) kw,
	ECL_TOKENS(ECL_X_TOKEN_KW)
#undef ECL_X_TOKEN_KW
};

/* U+03A9 GREEK CAPITAL LETTER OMEGA: an identifier on its own (trust dimension) */
#define OMEGA_CP 0x03A9

const char *
ecl_token_kind_name(ecl_token_kind kind)
{
	if ((int) kind < 0 || kind >= ECL_TOK_COUNT)
		return "token";
	return token_names[kind];
}

bool
ecl_token_is_keyword(ecl_token_kind kind)
{
	return (int) kind >= 0 && kind < ECL_TOK_COUNT && token_keywords[kind] != NULL;
}

void
ecl_lexer_init(ecl_lexer *lx, ecl_arena *arena, const char *src, size_t len)
{
	lx->arena = arena;
	lx->src = src;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->column = 1;
	lx->keep_comments = false;
}

/*
 * Look at the character at the current position without consuming it.
 * Returns its byte length (0 at the end of input) or fails on invalid UTF-8.
 */
static ecl_status
peek_char(ecl_lexer *lx, uint32_t *cp, size_t *nbytes, ecl_error *err)
{
	size_t		n;

	if (lx->pos >= lx->len)
	{
		*cp = 0;
		*nbytes = 0;
		return ECL_OK;
	}
	n = ecl_utf8_decode((const unsigned char *) lx->src + lx->pos,
					lx->len - lx->pos, cp);
	if (n == 0)
		return ecl_error_set(err, ECL_ERR_SYNTAX, lx->line, lx->column,
							 "invalid UTF-8 in source (byte 0x%02X)",
							 (unsigned char) lx->src[lx->pos]);
	*nbytes = n;
	return ECL_OK;
}

/* Consume a character of n bytes that peek_char returned. */
static void
advance_char(ecl_lexer *lx, uint32_t cp, size_t n)
{
	lx->pos += n;
	if (cp == '\n')
	{
		lx->line++;
		lx->column = 1;
	}
	else
		lx->column++;
}

/* The byte at pos + ahead, or 0 past the end (NUL never starts a token). */
static unsigned char
byte_at(const ecl_lexer *lx, size_t ahead)
{
	if (lx->pos + ahead >= lx->len)
		return 0;
	return (unsigned char) lx->src[lx->pos + ahead];
}

static bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || is_digit(c);
}

/* Text of a character for "unexpected character" messages. */
static void
describe_char(uint32_t cp, const char *bytes, size_t n, char *buf, size_t bufsize)
{
	if (cp >= 0x20 && cp < 0x7F)
		snprintf(buf, bufsize, "'%c'", (char) cp);
	else if (cp >= 0xA0)
		snprintf(buf, bufsize, "'%.*s' (U+%04X)", (int) n, bytes, (unsigned) cp);
	else
		snprintf(buf, bufsize, "U+%04X", (unsigned) cp);
}

/*
 * Skip the comment at the current position (a line or block comment).  *saw_newline is
 * set when a block comment spans a line break: such a comment ends a
 * statement like a newline does.
 */
static ecl_status
skip_one_comment(ecl_lexer *lx, bool *saw_newline, uint32_t *nl_line,
				 uint32_t *nl_col, ecl_error *err)
{
	uint32_t	start_line = lx->line;
	uint32_t	start_col = lx->column;

	if (byte_at(lx, 1) == '/')
	{
		/* line comment: up to (not including) the newline */
		while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
		{
			uint32_t	cp;
			size_t		n;

			if (peek_char(lx, &cp, &n, err) != ECL_OK)
				return ECL_FAIL;
			advance_char(lx, cp, n);
		}
		return ECL_OK;
	}
	advance_char(lx, '/', 1);
	advance_char(lx, '*', 1);
	for (;;)
	{
		uint32_t	cp;
		size_t		n;

		if (lx->pos >= lx->len)
			return ecl_error_set(err, ECL_ERR_SYNTAX, start_line, start_col,
								 "unterminated block comment: expected '*/' before end of input");
		if (byte_at(lx, 0) == '*' && byte_at(lx, 1) == '/')
		{
			advance_char(lx, '*', 1);
			advance_char(lx, '/', 1);
			return ECL_OK;
		}
		if (peek_char(lx, &cp, &n, err) != ECL_OK)
			return ECL_FAIL;
		if (cp == '\n' && !*saw_newline)
		{
			*saw_newline = true;
			*nl_line = start_line;
			*nl_col = start_col;
		}
		advance_char(lx, cp, n);
	}
}

/* Skip spaces and comments (see skip_one_comment for *saw_newline). */
static ecl_status
skip_space_and_comments(ecl_lexer *lx, bool *saw_newline, uint32_t *nl_line,
						uint32_t *nl_col, ecl_error *err)
{
	for (;;)
	{
		unsigned char c = byte_at(lx, 0);

		if (lx->pos >= lx->len)
			return ECL_OK;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
		{
			advance_char(lx, c, 1);
			continue;
		}
		if (c == '/' && (byte_at(lx, 1) == '/' || byte_at(lx, 1) == '*'))
		{
			if (lx->keep_comments)
				return ECL_OK;
			if (skip_one_comment(lx, saw_newline, nl_line, nl_col, err) != ECL_OK)
				return ECL_FAIL;
			continue;
		}
		return ECL_OK;
	}
}

/* Read 4 hex digits after "\u" (pos at the first digit); -1 if malformed. */
static long
read_hex4(const ecl_lexer *lx)
{
	return ecl_hex4(lx->src + lx->pos, lx->len - lx->pos);
}

static ecl_status
lex_string(ecl_lexer *lx, ecl_token *tok, ecl_error *err)
{
	char	   *out;
	size_t		olen = 0;
	size_t		raw = 1;

	/*
	 * Find where the literal ends (the closing quote, a line break or the
	 * end of input; errors are diagnosed by the decoding loop below).  The
	 * decoded text is never longer than the raw text, since every escape
	 * shrinks or keeps its length, so one allocation of that size suffices.
	 */
	while (lx->pos + raw < lx->len)
	{
		char		ch = lx->src[lx->pos + raw];

		if (ch == '"' || ch == '\n')
			break;
		raw += (ch == '\\' && lx->pos + raw + 1 < lx->len) ? 2 : 1;
	}
	out = ecl_arena_alloc(lx->arena, raw + 1);
	if (out == NULL)
		return ecl_error_set(err, ECL_ERR_RESOURCE, tok->line, tok->column,
							 "out of memory while reading a string literal");
	advance_char(lx, '"', 1);
	for (;;)
	{
		uint32_t	cp;
		size_t		n;
		uint32_t	esc_line = lx->line;
		uint32_t	esc_col = lx->column;

		if (lx->pos >= lx->len)
			return ecl_error_set(err, ECL_ERR_SYNTAX, tok->line, tok->column,
								 "unterminated string literal: expected '\"' before end of input");
		if (peek_char(lx, &cp, &n, err) != ECL_OK)
			return ECL_FAIL;
		if (cp == '"')
		{
			advance_char(lx, cp, n);
			break;
		}
		if (cp == '\n' || cp == '\r')
			return ecl_error_set(err, ECL_ERR_SYNTAX, lx->line, lx->column,
								 "unterminated string literal: a string cannot contain a line break (write \\n)");
		if (cp < 0x20 && cp != '\t')
			return ecl_error_set(err, ECL_ERR_SYNTAX, lx->line, lx->column,
								 "control character U+%04X in string literal: use an escape",
								 (unsigned) cp);
		if (cp != '\\')
		{
			memcpy(out + olen, lx->src + lx->pos, n);
			olen += n;
			advance_char(lx, cp, n);
			continue;
		}
		/* an escape */
		advance_char(lx, '\\', 1);
		if (lx->pos >= lx->len)
			return ecl_error_set(err, ECL_ERR_SYNTAX, tok->line, tok->column,
								 "unterminated string literal: expected '\"' before end of input");
		if (peek_char(lx, &cp, &n, err) != ECL_OK)
			return ECL_FAIL;
		switch (cp)
		{
			case '"':
			case '\\':
			case '/':
				out[olen++] = (char) cp;
				break;
			case 'n':
				out[olen++] = '\n';
				break;
			case 't':
				out[olen++] = '\t';
				break;
			case 'r':
				out[olen++] = '\r';
				break;
			case 'b':
				out[olen++] = '\b';
				break;
			case 'f':
				out[olen++] = '\f';
				break;
			case 'u':
				{
					long		u;

					advance_char(lx, 'u', 1);
					u = read_hex4(lx);
					if (u < 0)
						return ecl_error_set(err, ECL_ERR_SYNTAX, esc_line, esc_col,
											 "invalid escape in string: expected 4 hex digits after \\u");
					lx->pos += 4;
					lx->column += 4;
					if (u >= 0xDC00 && u <= 0xDFFF)
						return ecl_error_set(err, ECL_ERR_SYNTAX, esc_line, esc_col,
											 "invalid escape in string: lone low surrogate \\u%04lX",
											 u);
					if (u >= 0xD800 && u <= 0xDBFF)
					{
						long		lo = -1;

						if (byte_at(lx, 0) == '\\' && byte_at(lx, 1) == 'u')
						{
							lx->pos += 2;
							lo = read_hex4(lx);
							lx->pos -= 2;
						}
						if (lo < 0xDC00 || lo > 0xDFFF)
							return ecl_error_set(err, ECL_ERR_SYNTAX, esc_line, esc_col,
												 "invalid escape in string: high surrogate \\u%04lX is not followed by a low surrogate",
												 u);
						lx->pos += 6;
						lx->column += 6;
						u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					}
					if (u == 0)
						return ecl_error_set(err, ECL_ERR_SYNTAX, esc_line, esc_col,
											 "invalid escape in string: \\u0000 is not allowed");
					olen += ecl_utf8_encode((uint32_t) u, out + olen);
					continue;	/* position already advanced */
				}
			default:
				{
					char		what[32];

					if (cp >= 0x20 && cp < 0x7F)
						snprintf(what, sizeof(what), "'\\%c'", (char) cp);
					else
						snprintf(what, sizeof(what), "'\\' followed by U+%04X", (unsigned) cp);
					return ecl_error_set(err, ECL_ERR_SYNTAX, esc_line, esc_col,
										 "invalid escape %s in string (valid: \\\" \\\\ \\/ \\n \\t \\r \\b \\f \\uXXXX)",
										 what);
				}
		}
		advance_char(lx, cp, n);
	}
	out[olen] = '\0';
	tok->kind = ECL_TOK_STRING;
	tok->str = out;
	tok->str_len = olen;
	return ECL_OK;
}

static ecl_status
lex_number(ecl_lexer *lx, ecl_token *tok, ecl_error *err)
{
	size_t		start = lx->pos;
	char		small[64];
	char	   *text;
	size_t		n;
	double		d;
	char	   *end;

	while (is_digit(byte_at(lx, 0)))
		advance_char(lx, byte_at(lx, 0), 1);
	if (byte_at(lx, 0) == '.' && is_digit(byte_at(lx, 1)))
	{
		advance_char(lx, '.', 1);
		while (is_digit(byte_at(lx, 0)))
			advance_char(lx, byte_at(lx, 0), 1);
	}
	if (byte_at(lx, 0) == 'e' || byte_at(lx, 0) == 'E')
	{
		size_t		k = 1;

		if (byte_at(lx, 1) == '+' || byte_at(lx, 1) == '-')
			k = 2;
		if (!is_digit(byte_at(lx, k)))
			return ecl_error_set(err, ECL_ERR_SYNTAX, lx->line, lx->column,
								 "invalid number: expected digits after the exponent '%c'",
								 (char) byte_at(lx, 0));
		while (k-- > 0)
			advance_char(lx, byte_at(lx, 0), 1);
		while (is_digit(byte_at(lx, 0)))
			advance_char(lx, byte_at(lx, 0), 1);
	}
	if (is_ident_char(byte_at(lx, 0)))
		return ecl_error_set(err, ECL_ERR_SYNTAX, lx->line, lx->column,
							 "invalid number: unexpected '%c' after '%.*s'",
							 (char) byte_at(lx, 0), (int) (lx->pos - start > 40 ? 40 : lx->pos - start),
							 lx->src + start);

	n = lx->pos - start;
	if (n < sizeof(small))
		text = small;
	else
	{
		text = ecl_arena_alloc(lx->arena, n + 1);
		if (text == NULL)
			return ecl_error_set(err, ECL_ERR_RESOURCE, tok->line, tok->column,
								 "out of memory while reading a number");
	}
	memcpy(text, lx->src + start, n);
	text[n] = '\0';
	errno = 0;
	d = strtod(text, &end);
	/* ERANGE with a tiny result is underflow to (sub)normal: accepted. */
	if (end != text + n || (errno == ERANGE && (d > 1.0 || d < -1.0)) ||
		d - d != 0.0)
		return ecl_error_set(err, ECL_ERR_SYNTAX, tok->line, tok->column,
							 "number %.*s is out of range (must fit a double)",
							 (int) (n > 40 ? 40 : n), text);
	tok->kind = ECL_TOK_NUMBER;
	tok->number = d;
	return ECL_OK;
}

static ecl_token_kind
keyword_kind(const char *s, size_t len)
{
	for (int k = 0; k < ECL_TOK_COUNT; k++)
	{
		const char *kw = token_keywords[k];

		if (kw != NULL && strlen(kw) == len && memcmp(kw, s, len) == 0)
			return (ecl_token_kind) k;
	}
	return ECL_TOK_IDENT;
}

/* one- or two-character operators */
static bool
lex_operator(ecl_lexer *lx, ecl_token *tok)
{
	unsigned char c = byte_at(lx, 0);
	unsigned char c2 = byte_at(lx, 1);
	ecl_token_kind kind;
	size_t		n = 1;

	switch (c)
	{
		case ';':
			kind = ECL_TOK_SEMICOLON;
			break;
		case '+':
			kind = ECL_TOK_PLUS;
			break;
		case '-':
			kind = ECL_TOK_MINUS;
			break;
		case '*':
			kind = ECL_TOK_STAR;
			break;
		case '/':
			kind = ECL_TOK_SLASH;
			break;
		case '%':
			kind = ECL_TOK_PERCENT;
			break;
		case '!':
			kind = c2 == '=' ? ECL_TOK_BANG_EQ : ECL_TOK_BANG;
			n = c2 == '=' ? 2 : 1;
			break;
		case '=':
			kind = c2 == '=' ? ECL_TOK_EQ_EQ : ECL_TOK_ASSIGN;
			n = c2 == '=' ? 2 : 1;
			break;
		case '<':
			kind = c2 == '=' ? ECL_TOK_LE : ECL_TOK_LT;
			n = c2 == '=' ? 2 : 1;
			break;
		case '>':
			kind = c2 == '=' ? ECL_TOK_GE : ECL_TOK_GT;
			n = c2 == '=' ? 2 : 1;
			break;
		case '&':
			if (c2 != '&')
				return false;
			kind = ECL_TOK_AND_AND;
			n = 2;
			break;
		case '|':
			if (c2 != '|')
				return false;
			kind = ECL_TOK_OR_OR;
			n = 2;
			break;
		case '?':
			kind = ECL_TOK_QUESTION;
			break;
		case ':':
			kind = ECL_TOK_COLON;
			break;
		case '.':
			kind = ECL_TOK_DOT;
			break;
		case ',':
			kind = ECL_TOK_COMMA;
			break;
		case '(':
			kind = ECL_TOK_LPAREN;
			break;
		case ')':
			kind = ECL_TOK_RPAREN;
			break;
		case '[':
			kind = ECL_TOK_LBRACKET;
			break;
		case ']':
			kind = ECL_TOK_RBRACKET;
			break;
		case '{':
			kind = ECL_TOK_LBRACE;
			break;
		case '}':
			kind = ECL_TOK_RBRACE;
			break;
		default:
			return false;
	}
	tok->kind = kind;
	for (size_t i = 0; i < n; i++)
		advance_char(lx, byte_at(lx, 0), 1);
	return true;
}

ecl_status
ecl_lexer_next(ecl_lexer *lx, ecl_token *tok, ecl_error *err)
{
	bool		comment_newline = false;
	uint32_t	nl_line = 0;
	uint32_t	nl_col = 0;
	uint32_t	cp;
	size_t		n;
	unsigned char c;

	memset(tok, 0, sizeof(*tok));
	if (skip_space_and_comments(lx, &comment_newline, &nl_line, &nl_col, err) != ECL_OK)
		return ECL_FAIL;
	if (comment_newline)
	{
		tok->kind = ECL_TOK_NEWLINE;
		tok->start = lx->src + lx->pos;
		tok->len = 0;
		tok->line = nl_line;
		tok->column = nl_col;
		return ECL_OK;
	}

	tok->start = lx->src + lx->pos;
	tok->line = lx->line;
	tok->column = lx->column;
	if (lx->pos >= lx->len)
	{
		tok->kind = ECL_TOK_EOF;
		return ECL_OK;
	}

	c = byte_at(lx, 0);
	if (lx->keep_comments && c == '/' &&
		(byte_at(lx, 1) == '/' || byte_at(lx, 1) == '*'))
	{
		if (skip_one_comment(lx, &comment_newline, &nl_line, &nl_col, err) != ECL_OK)
			return ECL_FAIL;
		tok->kind = ECL_TOK_COMMENT;
		tok->len = (size_t) (lx->src + lx->pos - tok->start);
		return ECL_OK;
	}
	if (c == '\n')
	{
		advance_char(lx, '\n', 1);
		tok->kind = ECL_TOK_NEWLINE;
	}
	else if (is_ident_start(c))
	{
		while (is_ident_char(byte_at(lx, 0)))
			advance_char(lx, byte_at(lx, 0), 1);
		tok->kind = keyword_kind(tok->start, lx->src + lx->pos - tok->start);
	}
	else if (is_digit(c))
	{
		if (lex_number(lx, tok, err) != ECL_OK)
			return ECL_FAIL;
	}
	else if (c == '"')
	{
		if (lex_string(lx, tok, err) != ECL_OK)
			return ECL_FAIL;
	}
	else if (!lex_operator(lx, tok))
	{
		char		what[48];

		if (peek_char(lx, &cp, &n, err) != ECL_OK)
			return ECL_FAIL;
		if (cp == OMEGA_CP)
		{
			advance_char(lx, cp, n);
			tok->kind = ECL_TOK_IDENT;
		}
		else
		{
			describe_char(cp, lx->src + lx->pos, n, what, sizeof(what));
			if (c == '&' || c == '|')
				return ecl_error_set(err, ECL_ERR_SYNTAX, tok->line, tok->column,
									 "unexpected character %s (did you mean '%c%c'?)",
									 what, c, c);
			return ecl_error_set(err, ECL_ERR_SYNTAX, tok->line, tok->column,
								 "unexpected character %s", what);
		}
	}
	tok->len = (size_t) (lx->src + lx->pos - tok->start);
	return ECL_OK;
}

void
ecl_lexer_skip_line(ecl_lexer *lx)
{
	while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
	{
		/* columns count code points: skip continuation bytes */
		if (((unsigned char) lx->src[lx->pos] & 0xC0) != 0x80)
			lx->column++;
		lx->pos++;
	}
}

/*
 * Copy at most max bytes of s into buf, not splitting a UTF-8 sequence, and
 * add "..." when shortened.
 */
static void
shorten(const char *s, size_t len, size_t max, char *buf, size_t bufsize)
{
	size_t		n = len;
	bool		cut = false;

	if (n > max)
	{
		n = max;
		while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	snprintf(buf, bufsize, "%.*s%s", (int) n, s, cut ? "..." : "");
}

const char *
ecl_token_describe(const ecl_token *tok, char *buf, size_t bufsize)
{
	char		text[64];

	switch (tok->kind)
	{
		case ECL_TOK_IDENT:
			shorten(tok->start, tok->len, 40, text, sizeof(text));
			snprintf(buf, bufsize, "identifier '%s'", text);
			break;
		case ECL_TOK_NUMBER:
			shorten(tok->start, tok->len, 40, text, sizeof(text));
			snprintf(buf, bufsize, "number %s", text);
			break;
		case ECL_TOK_STRING:
			/* the source text includes the quotes */
			shorten(tok->start, tok->len, 40, text, sizeof(text));
			snprintf(buf, bufsize, "string %s%s", text,
					 tok->len > 40 ? "\"" : "");
			break;
		default:
			snprintf(buf, bufsize, "%s", ecl_token_kind_name(tok->kind));
			break;
	}
	return buf;
}
