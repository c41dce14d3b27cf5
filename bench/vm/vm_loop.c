/*
 * vm_loop.c — the ECL core alone, no PostgreSQL: compile a summing loop
 * from source, run it over an input array, report time per iteration.
 * bench/vm/run.sh runs it natively and under callgrind (instruction counts
 * are what to compare between VM versions on a noisy machine).
 *
 *   let s = 0
 *   for x in items { s = s + x * 2 - 1 }
 *   return s
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecl/bytecode.h"
#include "ecl/compiler.h"
#include "ecl/host.h"
#include "ecl/value.h"
#include "ecl/vm.h"

static const char source[] =
	"let s = 0\n"
	"for x in items { s = s + x * 2 - 1 }\n"
	"return s\n";

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, const ecl_error *err)
{
	fprintf(stderr, "vm_loop: %s: %s\n", what, err->message);
	exit(1);
}

int
main(int argc, char **argv)
{
	const ecl_alloc *a = &ecl_std_alloc;
	uint32_t	n = argc > 1 ? (uint32_t) atol(argv[1]) : 100000;
	int			runs = argc > 2 ? atoi(argv[2]) : 5;
	ecl_error	err;
	uint8_t    *bytes;
	size_t		nbytes;
	ecl_program *p;
	ecl_value	items;
	ecl_value	input;
	ecl_run_ctx ctx;
	ecl_run_result res;
	double		expect = 0;
	double		best = 1e9;

	ecl_error_clear(&err);
	if (ecl_compile(a, source, strlen(source), NULL, &bytes, &nbytes, &err) != ECL_OK)
		die("compile", &err);
	if (ecl_program_load(a, bytes, nbytes, 1024, &p, &err) != ECL_OK)
		die("load", &err);

	if (ecl_array_new(a, n, &items, &err) != ECL_OK ||
		ecl_object_new(a, 1, &input, &err) != ECL_OK)
		die("input", &err);
	for (uint32_t i = 0; i < n; i++)
	{
		items.u.arr->items[i] = ecl_number((double) (i % 100));
		expect += (double) (i % 100) * 2 - 1;
	}
	if (ecl_object_set(a, &input, "items", 5, items, &err) != ECL_OK)
		die("input", &err);

	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = a;
	ctx.host = &ecl_no_host;
	ctx.caller = ecl_null();
	ctx.realm = ecl_null();
	ecl_input_from_value(&ctx.input, &input);
	ctx.limits.gas_limit = INT64_MAX / 4;
	ctx.limits.mana_limit = 1000;
	ctx.limits.max_stack_depth = 1024;

	for (int r = 0; r < runs; r++)
	{
		double		t0 = now_seconds(),
					t;

		if (ecl_vm_run(p, &ctx, &res) != ECL_OK || res.value.type != ECL_T_NUMBER ||
			res.value.u.num != expect)
			die("run", &res.error);
		t = now_seconds() - t0;
		if (t < best)
			best = t;
	}
	printf("vm_loop: %u iterations, %llu instructions executed per run, best of %d: %.1f ns/iteration\n",
		   n, (unsigned long long) res.steps, runs, best * 1e9 / n);
	return 0;
}
