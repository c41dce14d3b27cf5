/*
 * fmt.c — ecl fmt: one canonical layout, working on the token stream.
 *
 * The layout is decided by the tokens alone, never by the old whitespace,
 * which is what makes formatting idempotent:
 *   - four spaces per open block or bracket (brackets opened on one line
 *     count once); a line continuing a statement (after an operator, '=',
 *     '?', ':' or a statement-level ',') one level more;
 *   - one space around binary operators, after ',' and object ':', none
 *     inside brackets, around '.', after unary '!' and '-', or before a
 *     call's '(' or an index's '[';
 *   - one statement per line: ';' becomes a line break, a block's '{' ends
 *     its line and its '}' stands on its own line, "} else {" is joined;
 *   - the author's line breaks are kept, blank lines at most one, none at
 *     the start or end of a block or of the file;
 *   - comments stay where they are, their text untouched (a trailing line
 *     comment is separated by one space).
 * Only whitespace, ';' and line breaks between tokens change, so the
 * bytecode stays the same (test/shell/cli_tools.sh checks this for every
 * example in the docs).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/arena.h"
#include "ecl/lexer.h"
#include "ecl/parser.h"
#include "ecl/textbuf.h"
#include "fmt.h"

#define INDENT "    "
#define MAX_NEST 512

typedef struct open_bracket
{
	ecl_token_kind kind;		/* LPAREN, LBRACKET, LBRACE */
	bool		block;			/* LBRACE of a block, not an object literal */
	unsigned	line;			/* output line it was opened on */
	unsigned	questions;		/* '?' waiting for their ':' */
} open_bracket;

static bool
is_binary_operator(ecl_token_kind k)
{
	switch (k)
	{
		case ECL_TOK_PLUS:
		case ECL_TOK_MINUS:
		case ECL_TOK_STAR:
		case ECL_TOK_SLASH:
		case ECL_TOK_PERCENT:
		case ECL_TOK_EQ_EQ:
		case ECL_TOK_BANG_EQ:
		case ECL_TOK_LT:
		case ECL_TOK_LE:
		case ECL_TOK_GT:
		case ECL_TOK_GE:
		case ECL_TOK_AND_AND:
		case ECL_TOK_OR_OR:
			return true;
		default:
			return false;
	}
}

/* Does a value end with this token (so '{' after it opens a block, '-' is binary)? */
static bool
ends_value(ecl_token_kind k)
{
	switch (k)
	{
		case ECL_TOK_IDENT:
		case ECL_TOK_NUMBER:
		case ECL_TOK_STRING:
		case ECL_TOK_RPAREN:
		case ECL_TOK_RBRACKET:
		case ECL_TOK_RBRACE:
		case ECL_TOK_TRUE:
		case ECL_TOK_FALSE:
		case ECL_TOK_NULL:
			return true;
		default:
			return false;
	}
}

typedef struct formatter
{
	ecl_textbuf out;
	open_bracket stack[MAX_NEST];
	int			depth;
	open_bracket base;			/* outside every bracket: its '?' count */
	unsigned	line;			/* output line number */
	bool		at_start;		/* nothing written yet */
	bool		line_empty;		/* nothing written on the current line */
	ecl_token_kind prev;		/* last significant token (not a comment) */
	bool		prev_unary;		/* prev is a unary '-' or '!' */
	bool		prev_comment;	/* the last token written was a comment */
	bool		prev_block_open;	/* last significant token opened a block */
	bool		prev_block_close;	/* ... closed one */
	bool		continues;		/* the current line continues a statement */

	/*
	 * Declared inputs, `policy p(a?: number)`: decl_phase 1 after 'policy',
	 * 2 after its name; decl_depth is the depth inside the declaration's
	 * parentheses (0 outside), where '?' marks an optional field, written
	 * against its name, not a ternary.
	 */
	int			decl_phase;
	int			decl_depth;
} formatter;

static open_bracket *
innermost(formatter *f)
{
	return f->depth > 0 ? &f->stack[f->depth - 1] : &f->base;
}

/* Indent level of a new line whose first token is t. */
static unsigned
indent_level(formatter *f, ecl_token_kind t)
{
	int			top = f->depth;
	unsigned	levels = 0;
	unsigned	last_line = ~0u;

	/* a line starting with a closer sits with the line that opened it */
	if ((t == ECL_TOK_RBRACE || t == ECL_TOK_RPAREN || t == ECL_TOK_RBRACKET) && top > 0)
	{
		unsigned	opened = f->stack[top - 1].line;

		while (top > 0 && f->stack[top - 1].line == opened)
			top--;
	}
	for (int i = 0; i < top; i++)
	{
		if (f->stack[i].line != last_line)
			levels++;
		last_line = f->stack[i].line;
	}
	return levels;
}

static void
new_line(formatter *f, bool blank)
{
	ecl_textbuf_puts(&f->out, blank ? "\n\n" : "\n");
	f->line += blank ? 2 : 1;
	f->line_empty = true;
}

/* Space between the previous token and t, on the same line. */
static bool
space_before(formatter *f, const ecl_token *t, bool t_unary)
{
	ecl_token_kind p = f->prev;

	if (t->kind == ECL_TOK_COMMENT || f->prev_comment)
		return true;
	switch (t->kind)
	{
		case ECL_TOK_RPAREN:
		case ECL_TOK_RBRACKET:
		case ECL_TOK_COMMA:
		case ECL_TOK_DOT:
			return false;
		case ECL_TOK_RBRACE:
			return false;		/* object literal: {a: 1} */
		case ECL_TOK_COLON:
			return innermost(f)->questions > 0;	/* ternary, not object */
		case ECL_TOK_QUESTION:
			if (f->decl_depth > 0 && f->depth == f->decl_depth)
				return false;	/* level?: number */
			break;
		case ECL_TOK_LPAREN:
			if (p == ECL_TOK_IDENT)
				return false;	/* a call */
			break;
		case ECL_TOK_LBRACKET:
			if (ends_value(p))
				return false;	/* indexing */
			break;
		default:
			break;
	}
	(void) t_unary;
	if (p == ECL_TOK_LPAREN || p == ECL_TOK_LBRACKET || p == ECL_TOK_DOT)
		return false;
	if (p == ECL_TOK_LBRACE && !f->prev_block_open)
		return false;
	if (f->prev_unary)
		return false;
	return true;
}

ecl_status
ecl_format(const char *src, size_t len, char **out, size_t *out_len, ecl_error *err)
{
	ecl_arena	arena;
	ecl_ast_program *prog;
	ecl_lexer	lx;
	formatter	f;
	ecl_token	t;
	unsigned	newlines = 0;	/* line breaks in the source before t */
	bool		force_break = false;	/* a '{' or '}' of a block wants one */
	ecl_status	st = ECL_OK;

	*out = NULL;
	*out_len = 0;
	ecl_arena_init(&arena, &ecl_std_alloc);
	if (ecl_parse(&arena, src, len, &prog, err) != ECL_OK)
	{
		ecl_arena_release(&arena);
		return ECL_FAIL;
	}

	memset(&f, 0, sizeof(f));
	ecl_textbuf_init(&f.out, &ecl_std_alloc);
	f.at_start = true;
	f.line_empty = true;
	f.line = 1;
	f.prev = ECL_TOK_NEWLINE;
	ecl_lexer_init(&lx, &arena, src, len);
	lx.keep_comments = true;

	for (;;)
	{
		bool		unary = false;
		bool		block_open = false;
		bool		block_close = false;

		if (ecl_lexer_next(&lx, &t, err) != ECL_OK)
		{
			st = ECL_FAIL;
			break;
		}
		if (t.kind == ECL_TOK_EOF)
			break;
		if (t.kind == ECL_TOK_NEWLINE)
		{
			newlines++;
			continue;
		}
		if (t.kind == ECL_TOK_SEMICOLON)
		{
			/* a statement separator: a line break of its own */
			if (newlines == 0)
				newlines = 1;
			continue;
		}

		/* classify t */
		if (t.kind == ECL_TOK_LBRACE)
			block_open = ends_value(f.prev) || f.prev == ECL_TOK_ELSE;
		if (t.kind == ECL_TOK_RBRACE && f.depth > 0)
			block_close = f.stack[f.depth - 1].block;
		if (t.kind == ECL_TOK_MINUS || t.kind == ECL_TOK_BANG)
			unary = t.kind == ECL_TOK_BANG || !ends_value(f.prev);

		/* where the line breaks */
		if (t.kind == ECL_TOK_ELSE && f.prev_block_close && !f.prev_comment)
		{
			newlines = 0;
			force_break = false;
		}
		if (block_close && !f.line_empty)
			force_break = true;
		if (!f.at_start)
		{
			bool		brk = newlines > 0 || force_break;

			/* a comment after '{' on its line stays there */
			if (t.kind == ECL_TOK_COMMENT && newlines == 0)
				brk = false;
			if (brk)
			{
				bool		blank = newlines >= 2 && !f.prev_block_open && !block_close;
				/* comments between do not matter: f.prev skips them */
				bool		cont = is_binary_operator(f.prev) ||
					f.prev == ECL_TOK_ASSIGN || f.prev == ECL_TOK_QUESTION ||
					f.prev == ECL_TOK_COLON ||
					(f.prev == ECL_TOK_COMMA &&
					 (f.depth == 0 || f.stack[f.depth - 1].block));

				new_line(&f, blank);
				f.continues = cont;
				force_break = false;
			}
		}
		newlines = 0;

		if (f.line_empty)
		{
			unsigned	level = indent_level(&f, t.kind) + (f.continues ? 1 : 0);

			for (unsigned i = 0; i < level; i++)
				ecl_textbuf_puts(&f.out, INDENT);
		}
		else if (space_before(&f, &t, unary))
			ecl_textbuf_puts(&f.out, " ");

		if (t.kind == ECL_TOK_COMMENT)
		{
			size_t		n = t.len;

			/* a line comment's trailing blanks go (the text stays) */
			if (t.len >= 2 && t.start[1] == '/')
				while (n > 2 && (t.start[n - 1] == ' ' || t.start[n - 1] == '\t' ||
								 t.start[n - 1] == '\r'))
					n--;
			ecl_textbuf_put(&f.out, t.start, n);
			/* count the lines a block comment spans */
			for (size_t i = 0; i < n; i++)
				if (t.start[i] == '\n')
					f.line++;
			f.prev_comment = true;
			f.at_start = false;
			f.line_empty = false;
			continue;
		}
		ecl_textbuf_put(&f.out, t.start, t.len);

		/* brackets */
		switch (t.kind)
		{
			case ECL_TOK_LBRACE:
			case ECL_TOK_LPAREN:
			case ECL_TOK_LBRACKET:
				if (f.depth == MAX_NEST)
				{
					st = ecl_error_set(err, ECL_ERR_STACK, t.line, t.column,
									   "nesting too deep to format");
					goto done;
				}
				f.stack[f.depth].kind = t.kind;
				f.stack[f.depth].block = block_open;
				f.stack[f.depth].line = f.line;
				f.stack[f.depth].questions = 0;
				f.depth++;
				break;
			case ECL_TOK_RBRACE:
			case ECL_TOK_RPAREN:
			case ECL_TOK_RBRACKET:
				if (f.depth > 0)
					f.depth--;
				break;
			case ECL_TOK_QUESTION:
				if (!(f.decl_depth > 0 && f.depth == f.decl_depth))
					innermost(&f)->questions++;
				break;
			case ECL_TOK_COLON:
				if (innermost(&f)->questions > 0)
					innermost(&f)->questions--;
				break;
			default:
				break;
		}
		if (t.kind == ECL_TOK_LPAREN && f.decl_phase == 2)
			f.decl_depth = f.depth;
		else if (t.kind == ECL_TOK_RPAREN && f.decl_depth > 0 && f.depth < f.decl_depth)
			f.decl_depth = 0;
		f.decl_phase = t.kind == ECL_TOK_POLICY ? 1 :
			f.decl_phase == 1 && (t.kind == ECL_TOK_IDENT || t.kind == ECL_TOK_STRING) ? 2 : 0;
		if (block_open || block_close)
			force_break = true;
		f.prev = t.kind;
		f.prev_unary = unary;
		f.prev_comment = false;
		f.prev_block_open = block_open;
		f.prev_block_close = block_close;
		f.at_start = false;
		f.line_empty = false;
	}
	if (!f.at_start)
		ecl_textbuf_puts(&f.out, "\n");
done:
	ecl_arena_release(&arena);
	if (st != ECL_OK || f.out.failed)
	{
		free(f.out.data);
		if (st == ECL_OK)
			st = ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory while formatting");
		return st;
	}
	if (f.out.data == NULL)
	{
		f.out.data = malloc(1);
		if (f.out.data == NULL)
			return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0, "out of memory while formatting");
		f.out.data[0] = '\0';
	}
	*out = f.out.data;
	*out_len = f.out.len;
	return ECL_OK;
}
