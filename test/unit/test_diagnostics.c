/*
 * test_diagnostics.c — every error of a source at once (ecl_compile_
 * diagnostics), parser recovery without cascades, "did you mean" and the
 * '==' hint; and that ecl_compile still reports exactly the first error.
 */
#include <string.h>

#include "ecl/arena.h"
#include "ecl/compiler.h"
#include "ecl/suggest.h"
#include "unit.h"

static ecl_status
diagnose(const char *src, ecl_diagnostics *d)
{
	return ecl_compile_diagnostics(&ecl_std_alloc, src, strlen(src), NULL, d);
}

/* The first error of ecl_compile, for comparison with the list. */
static ecl_error
first_error(const char *src)
{
	ecl_arena	arena;
	ecl_error	err;
	uint8_t    *bytes;
	size_t		len;

	ecl_arena_init(&arena, &ecl_std_alloc);
	ecl_compile(ecl_arena_allocator(&arena), src, strlen(src), NULL, &bytes, &len, &err);
	ecl_arena_release(&arena);
	return err;
}

#define ASSERT_DIAG(d, i, line_, col_, msg) do { \
	UNIT_ASSERT_MSG((d).count > (i), "only %u errors", (d).count); \
	UNIT_ASSERT_EQ_INT((d).items[i].line, line_); \
	UNIT_ASSERT_EQ_INT((d).items[i].column, col_); \
	UNIT_ASSERT_EQ_STR((d).items[i].message, msg); \
} while (0)

UNIT_TEST(edit_distance)
{
	UNIT_ASSERT_EQ_INT(ecl_edit_distance("kitten", 6, "sitting", 7, 10), 3);
	UNIT_ASSERT_EQ_INT(ecl_edit_distance("abc", 3, "abc", 3, 10), 0);
	/* a transposition is one edit */
	UNIT_ASSERT_EQ_INT(ecl_edit_distance("has_credentail", 14, "has_credential", 14, 10), 1);
	UNIT_ASSERT_EQ_INT(ecl_edit_distance("", 0, "abc", 3, 10), 3);
	/* past the cut-off: any value above it */
	UNIT_ASSERT(ecl_edit_distance("abcdef", 6, "uvwxyz", 6, 2) > 2);
	UNIT_ASSERT(ecl_edit_distance("a", 1, "abcdef", 6, 2) > 2);
}

UNIT_TEST(suggest_picks_closest_within_cutoff)
{
	ecl_suggestion s;
	size_t		len;

	ecl_suggest_init(&s, "lenght", 6);
	ecl_suggest_offer(&s, "len", 3);
	ecl_suggest_offer(&s, "length", 6);
	ecl_suggest_offer(&s, "height", 6);
	UNIT_ASSERT(ecl_suggest_best(&s, &len) != NULL);
	UNIT_ASSERT_EQ_INT(len, 6);
	UNIT_ASSERT(memcmp(ecl_suggest_best(&s, NULL), "length", 6) == 0);

	/* one letter is no typo of another one-letter name */
	ecl_suggest_init(&s, "x", 1);
	ecl_suggest_offer(&s, "r", 1);
	UNIT_ASSERT(ecl_suggest_best(&s, NULL) == NULL);

	/* too far */
	ecl_suggest_init(&s, "foo", 3);
	ecl_suggest_offer(&s, "log", 3);
	UNIT_ASSERT(ecl_suggest_best(&s, NULL) == NULL);
}

UNIT_TEST(did_you_mean_function)
{
	ecl_diagnostics d;
	ecl_error	e;

	UNIT_ASSERT(diagnose("require has_credentail(caller, \"kyc\")", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 1);
	ASSERT_DIAG(d, 0, 1, 9, "unknown function 'has_credentail' (did you mean 'has_credential'?)");
	/* the database's single error says the same */
	e = first_error("require has_credentail(caller, \"kyc\")");
	UNIT_ASSERT_EQ_STR(e.message, "unknown function 'has_credentail' (did you mean 'has_credential'?)");
	e = first_error("return trust_nrom(trust)");
	UNIT_ASSERT_EQ_STR(e.message, "unknown function 'trust_nrom' (did you mean 'trust_norm'?)");
	/* nothing close: the message is unchanged */
	e = first_error("return frobnicate(1)");
	UNIT_ASSERT_EQ_STR(e.message, "unknown function 'frobnicate'");
}

UNIT_TEST(did_you_mean_variable_dimension_method)
{
	ecl_error	e;

	e = first_error("let limit = 1\nlimt = 2");
	UNIT_ASSERT_EQ_INT(e.line, 2);
	UNIT_ASSERT_EQ_STR(e.message, "assignment to undeclared variable 'limt' (did you mean 'limit'? otherwise declare it with 'let' first)");
	/* constants cannot be assigned, so they are not offered */
	e = first_error("const LIMIT = 1\nLIMT = 2");
	UNIT_ASSERT_EQ_STR(e.message, "assignment to undeclared variable 'LIMT' (declare it with 'let' first)");
	/* a local of an enclosing block is offered, one of a closed block is not */
	e = first_error("let total = 0\nif amount > 1 {\n  totl = 1\n}");
	UNIT_ASSERT_EQ_STR(e.message, "assignment to undeclared variable 'totl' (did you mean 'total'? otherwise declare it with 'let' first)");
	e = first_error("if amount > 1 {\n  let total = 0\n}\ntotl = 1");
	UNIT_ASSERT_EQ_STR(e.message, "assignment to undeclared variable 'totl' (declare it with 'let' first)");

	e = first_error("return trust.omgea");
	UNIT_ASSERT_EQ_STR(e.message, "unknown trust dimension 'omgea' (did you mean 'omega'? expected r, i, c, p, v or omega)");
	e = first_error("return caller.credentials(\"kyc\")");
	UNIT_ASSERT_EQ_STR(e.message, "unknown method 'credentials' (did you mean 'credential'? available: x.credential(schema); x.trust is a field)");
}

UNIT_TEST(assign_in_condition_suggests_eq)
{
	ecl_error	e;

	e = first_error("if amount = 1 {\n  return false\n}");
	UNIT_ASSERT_EQ_INT(e.line, 1);
	UNIT_ASSERT_EQ_INT(e.column, 11);
	UNIT_ASSERT_EQ_STR(e.message, "expected '{' after the if condition, found '=' (did you mean '==' to compare?)");
	e = first_error("if a > 1 {\n} else if b = 2 {\n}");
	UNIT_ASSERT_EQ_STR(e.message, "expected '{' after the if condition, found '=' (did you mean '==' to compare?)");
	e = first_error("require x = 2, \"no\"");
	UNIT_ASSERT_EQ_INT(e.column, 11);
	UNIT_ASSERT_EQ_STR(e.message, "expected newline or ';' after the statement, found '=' (did you mean '==' to compare?)");
	e = first_error("return (a = 1)");
	UNIT_ASSERT_EQ_STR(e.message, "expected ')' to close the '(' at line 1, column 8, found '=' (did you mean '==' to compare?)");
	/* where '=' cannot be a comparison, no hint */
	e = first_error("let = 1");
	UNIT_ASSERT_EQ_STR(e.message, "expected a name after 'let', found '='");
}

UNIT_TEST(diagnostics_report_every_error)
{
	const char *src =
		"policy p {\n"						/* 1 */
		"    let limit = trust.r * 100\n"	/* 2 */
		"    require has_credentail(caller, \"kyc\")\n"	/* 3 */
		"    if amount = 1 {\n"				/* 4 */
		"        return false\n"			/* 5 */
		"    }\n"							/* 6 */
		"    let x = (1 +\n"				/* 7 */
		"    limt = 5\n"					/* 8 */
		"    require amount <= limit\n"		/* 9 */
		"    let y = 1 $ 2\n"				/* 10 */
		"    return y + limit\n"			/* 11 */
		"}\n";
	ecl_diagnostics d;
	ecl_error	first;

	UNIT_ASSERT(diagnose(src, &d) == ECL_FAIL);
	ASSERT_DIAG(d, 0, 3, 13, "unknown function 'has_credentail' (did you mean 'has_credential'?)");
	ASSERT_DIAG(d, 1, 4, 15, "expected '{' after the if condition, found '=' (did you mean '==' to compare?)");
	/* the unclosed '(' swallows line 8 (newlines are insignificant inside it) */
	UNIT_ASSERT_EQ_INT(d.items[2].line, 8);
	ASSERT_DIAG(d, 3, 10, 15, "unexpected character '$'");
	UNIT_ASSERT_EQ_INT(d.count, 4);
	UNIT_ASSERT(d.items[0].policy[0] == 'p');

	/* ecl_compile reports the first parse error, as before */
	first = first_error(src);
	UNIT_ASSERT_EQ_INT(first.line, 4);
	UNIT_ASSERT_EQ_STR(first.message, d.items[1].message);
}

UNIT_TEST(diagnostics_no_cascade)
{
	ecl_diagnostics d;

	/* a let that fails stays declared: its later assignment is no error */
	UNIT_ASSERT(diagnose("let total = nope(1)\ntotal = total + 1\nreturn total", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 1);
	ASSERT_DIAG(d, 0, 1, 13, "unknown function 'nope'");
	/* the same where the let's expression does not even parse */
	UNIT_ASSERT(diagnose("let total = 1 +* 2\ntotal = 3\nreturn total", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 1);
	/* an unclosed block is one error, not one per enclosing block */
	UNIT_ASSERT(diagnose("policy p {\n  if a {\n    for x in b {\n", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 1);
	/* an error inside a nested block resumes inside that block */
	UNIT_ASSERT(diagnose("if a {\n  let = 1\n  foo(1)\n}\nbar(2)", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 3);
	ASSERT_DIAG(d, 0, 2, 7, "expected a name after 'let', found '='");
	ASSERT_DIAG(d, 1, 3, 3, "unknown function 'foo'");
	ASSERT_DIAG(d, 2, 5, 1, "unknown function 'bar'");
	/* a stray '}' at the top level is skipped */
	UNIT_ASSERT(diagnose("}\nfoo(1)", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 2);
}

UNIT_TEST(diagnostics_clean_and_limits)
{
	ecl_diagnostics d;
	char		src[4096];
	size_t		n = 0;

	UNIT_ASSERT(diagnose("policy p {\n  require trust.r > 0.5\n}", &d) == ECL_OK);
	UNIT_ASSERT_EQ_INT(d.count, 0);

	/* 30 mistakes: the first 20 are reported, and the list says it is cut */
	for (int i = 1; i <= 30; i++)
		n += snprintf(src + n, sizeof(src) - n, "nope%d(1)\n", i);
	UNIT_ASSERT(diagnose(src, &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, ECL_MAX_DIAGNOSTICS);
	UNIT_ASSERT(d.truncated);
	UNIT_ASSERT_EQ_INT(d.items[19].line, 20);

	/* several policies with no name given: each is checked */
	UNIT_ASSERT(diagnose("policy a {\n  foo(1)\n}\npolicy b {\n  bar(1)\n}", &d) == ECL_FAIL);
	UNIT_ASSERT_EQ_INT(d.count, 2);
	UNIT_ASSERT_EQ_STR(d.items[1].policy, "b");
}
