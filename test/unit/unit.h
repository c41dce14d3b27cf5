/*
 * unit.h — a minimal unit-test harness for the ECL core (no PostgreSQL).
 *
 *   UNIT_TEST(lexer_handles_escapes) { ... UNIT_ASSERT(x == 1); ... }
 *
 * Tests register themselves at load time; unit_main.c runs them all and ends
 * with "unit: N passed, N failed".  A failed assertion records file:line and
 * the expression and ends that test; the others still run.
 */
#ifndef ECL_UNIT_H
#define ECL_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*unit_fn) (void);

void		unit_register(const char *name, const char *file, unit_fn fn);
void		unit_fail(const char *file, int line, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 3, 4)))
#endif
			;
int			unit_failed_now(void);

#define UNIT_TEST(name) \
	static void unit_test_##name(void); \
	__attribute__((constructor)) static void unit_reg_##name(void) \
	{ unit_register(#name, __FILE__, unit_test_##name); } \
	static void unit_test_##name(void)

#define UNIT_ASSERT(cond) do { \
	if (!(cond)) { unit_fail(__FILE__, __LINE__, "assertion failed: %s", #cond); return; } \
} while (0)

#define UNIT_ASSERT_MSG(cond, ...) do { \
	if (!(cond)) { unit_fail(__FILE__, __LINE__, __VA_ARGS__); return; } \
} while (0)

#define UNIT_ASSERT_EQ_INT(a, b) do { \
	long long unit_a_ = (long long) (a), unit_b_ = (long long) (b); \
	if (unit_a_ != unit_b_) { unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, unit_a_, unit_b_); return; } \
} while (0)

#define UNIT_ASSERT_EQ_STR(a, b) do { \
	const char *unit_a_ = (a), *unit_b_ = (b); \
	if (unit_a_ == NULL || unit_b_ == NULL || strcmp(unit_a_, unit_b_) != 0) { \
		unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, unit_a_ ? unit_a_ : "(null)", unit_b_ ? unit_b_ : "(null)"); return; } \
} while (0)

#define UNIT_ASSERT_NEAR(a, b, eps) do { \
	double unit_a_ = (a), unit_b_ = (b); \
	if (!(unit_a_ - unit_b_ <= (eps) && unit_b_ - unit_a_ <= (eps))) { \
		unit_fail(__FILE__, __LINE__, "%s ~= %s: %.17g != %.17g", #a, #b, unit_a_, unit_b_); return; } \
} while (0)

#endif							/* ECL_UNIT_H */
