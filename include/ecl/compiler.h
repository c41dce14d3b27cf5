/*
 * compiler.h — ECL source to bytecode (docs/language.md; docs/sql-api.md, "The language").
 *
 * Lexer -> parser (AST in an arena from the allocator) -> compiler with
 * constant folding and dead-code removal -> ecl_chunk -> serialised bytes.
 * Errors are ECL_ERR_SYNTAX with the line and column of the offending token
 * and a message saying what was expected, e.g.
 *   "expected ')' after arguments, found 'return'".
 */
#ifndef ECL_COMPILER_H
#define ECL_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/error.h"

/* Nesting limit for expressions and blocks (parser recursion depth). */
#define ECL_MAX_SYNTAX_DEPTH 200

typedef struct ecl_compile_options
{
	/*
	 * Which policy to compile when the source defines several; NULL means
	 * the source must define at most one (or be in script mode).
	 */
	const char *policy_name;

	/*
	 * Registration (ecl.register_policy(name, source)): policy_name is a
	 * preference, not a demand.  A source with at most one policy (or in
	 * script mode) compiles whatever that policy is called; a source with
	 * several must contain one called policy_name (else ECL_ERR_SYNTAX).
	 */
	bool		policy_name_optional;
} ecl_compile_options;

/*
 * Compile src (UTF-8, len bytes, need not be NUL-terminated).  On success
 * *out (allocated from a) holds the serialised bytecode.  opts may be NULL.
 */
ecl_status	ecl_compile(const ecl_alloc *a, const char *src, size_t len,
						const ecl_compile_options *opts,
						uint8_t **out, size_t *out_len, ecl_error *err);

/*
 * Check src reporting every error, not just the first: up to
 * ECL_MAX_DIAGNOSTICS of them, ordered by position, each with its line,
 * column and message (the messages ecl_compile gives).  After a syntax
 * error the parser resumes at the next statement, and after a compile error
 * the compiler does, so one mistake gives one message.  A source of several
 * policies with no policy named in opts has each policy checked.  No
 * bytecode is produced.  ECL_OK when the source compiles cleanly.
 */
ecl_status	ecl_compile_diagnostics(const ecl_alloc *a, const char *src, size_t len,
									const ecl_compile_options *opts,
									ecl_diagnostics *diags);

#endif							/* ECL_COMPILER_H */
