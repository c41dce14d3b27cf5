/*
 * parser.h — tokens to syntax tree (docs/language.md §1, §4).
 *
 * Recursive descent with one token of lookahead.  Recursion is bounded by
 * ECL_MAX_SYNTAX_DEPTH (nested parentheses, brackets, unary operators,
 * conditionals and blocks) and expression trees by ECL_MAX_EXPR_HEIGHT, so
 * no input can exhaust the C stack: exceeding either is ECL_ERR_STACK
 * "nesting too deep" at the offending token.  Every other error is
 * ECL_ERR_SYNTAX saying what was expected and what was found.
 *
 * Program shape: program constants (`const NAME = e`), then either one or
 * more `policy NAME { ... }` or bare statements (script mode), never both.
 * Names are not resolved here; the compiler does that.
 */
#ifndef ECL_PARSER_H
#define ECL_PARSER_H

#include <stddef.h>

#include "ecl/arena.h"
#include "ecl/ast.h"
#include "ecl/error.h"

/*
 * Parse src into *out (all memory from arena).  On failure err is set; when
 * the error lies inside a policy, err->policy names it.
 */
ecl_status	ecl_parse(ecl_arena *arena, const char *src, size_t len,
					  ecl_ast_program **out, ecl_error *err);

/*
 * Parse src collecting every error (up to ECL_MAX_DIAGNOSTICS) into diags,
 * which the caller initialised.  Statements with errors are left out of
 * *out, which is set whenever memory allows, so the compiler can still
 * report the errors of the rest.  ECL_FAIL when any error was recorded.
 * The first recorded error is the one ecl_parse reports.
 */
ecl_status	ecl_parse_all(ecl_arena *arena, const char *src, size_t len,
						  ecl_ast_program **out, ecl_diagnostics *diags);

#endif							/* ECL_PARSER_H */
