/*
 * unit_main.c — runs every registered unit test.
 * Usage: run_unit_tests [substring]   (only tests whose name contains it)
 */
#include <stdarg.h>
#include <stdlib.h>

#include "unit.h"

#define UNIT_MAX_TESTS 4096

typedef struct unit_case
{
	const char *name;
	const char *file;
	unit_fn		fn;
} unit_case;

static unit_case unit_cases[UNIT_MAX_TESTS];
static int	unit_ncases;
static int	unit_current_failed;

void
unit_register(const char *name, const char *file, unit_fn fn)
{
	if (unit_ncases >= UNIT_MAX_TESTS)
	{
		fprintf(stderr, "too many unit tests\n");
		exit(2);
	}
	unit_cases[unit_ncases].name = name;
	unit_cases[unit_ncases].file = file;
	unit_cases[unit_ncases].fn = fn;
	unit_ncases++;
}

void
unit_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	unit_current_failed = 1;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int
unit_failed_now(void)
{
	return unit_current_failed;
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int			passed = 0;
	int			failed = 0;

	for (int i = 0; i < unit_ncases; i++)
	{
		if (filter && strstr(unit_cases[i].name, filter) == NULL)
			continue;
		unit_current_failed = 0;
		unit_cases[i].fn();
		if (unit_current_failed)
		{
			failed++;
			fprintf(stdout, "not ok %s (%s)\n", unit_cases[i].name, unit_cases[i].file);
		}
		else
			passed++;
	}
	fprintf(stdout, "unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
