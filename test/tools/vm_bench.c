/*
 * vm_bench.c — VM dispatch throughput on a compute loop (SPEC §12 is about
 * whole-system benchmarks; this one isolates the interpreter loop).
 *
 *   sum = 0; i = 0; while i < N { sum = sum + i; i = i + 1 }; return sum
 *
 * assembled by hand (no compiler), 13 instructions per iteration, run with
 * both dispatch builds (computed goto and switch).  Prints the median of 5
 * runs in instructions per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecl/bytecode.h"
#include "ecl/vm.h"

/* the other dispatch build than the regular one (see vm.c) */
#if defined(__clang__)
#define ECL_VM_NO_COMPUTED_GOTO 1
#define OTHER_DISPATCH "switch:"
#define REGULAR_DISPATCH "computed goto:"
#else
#define ECL_VM_FORCE_COMPUTED_GOTO 1
#define OTHER_DISPATCH "computed goto:"
#define REGULAR_DISPATCH "switch:"
#endif
#define ecl_vm_run ecl_vm_run_other
#include "../../src/core/vm.c"
#undef ecl_vm_run

#define ITERATIONS 1000000
#define RUNS 5

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static ecl_program *
build_loop(ecl_error *err)
{
	ecl_chunk	chunk;
	uint32_t	c0,
				cn,
				c1,
				exit_jump;
	uint8_t    *bytes;
	size_t		len;
	ecl_program *p;
	const ecl_alloc *a = &ecl_std_alloc;

#define EMIT(op, arg) if (ecl_chunk_emit(&chunk, ECL_OP_##op, arg, 1, 1, NULL, err) != ECL_OK) return NULL
	if (ecl_chunk_init(&chunk, a, err) != ECL_OK ||
		ecl_chunk_add_const(&chunk, ecl_number(0), &c0, err) != ECL_OK ||
		ecl_chunk_add_const(&chunk, ecl_number(ITERATIONS), &cn, err) != ECL_OK ||
		ecl_chunk_add_const(&chunk, ecl_number(1), &c1, err) != ECL_OK)
		return NULL;
	chunk.nlocals = 2;
	EMIT(PUSH_CONST, c0);
	EMIT(STORE_LOCAL, 0);
	EMIT(PUSH_CONST, c0);
	EMIT(STORE_LOCAL, 1);
	/* pc 4: loop head */
	EMIT(LOAD_LOCAL, 1);
	EMIT(PUSH_CONST, cn);
	EMIT(LT, 0);
	if (ecl_chunk_emit(&chunk, ECL_OP_JUMP_IF_FALSE, 0, 1, 1, &exit_jump, err) != ECL_OK)
		return NULL;
	EMIT(LOAD_LOCAL, 0);
	EMIT(LOAD_LOCAL, 1);
	EMIT(ADD, 0);
	EMIT(STORE_LOCAL, 0);
	EMIT(LOAD_LOCAL, 1);
	EMIT(PUSH_CONST, c1);
	EMIT(ADD, 0);
	EMIT(STORE_LOCAL, 1);
	EMIT(JUMP, 4);
	ecl_chunk_patch(&chunk, exit_jump, chunk.ncode);
	EMIT(LOAD_LOCAL, 0);
	EMIT(RETURN, 0);
#undef EMIT
	if (ecl_chunk_serialize(&chunk, &bytes, &len, err) != ECL_OK ||
		ecl_program_load(a, bytes, len, 1024, &p, err) != ECL_OK)
		return NULL;
	return p;
}

static void
measure(const char *label, const ecl_program *p,
		ecl_status (*run) (const ecl_program *, const ecl_run_ctx *, ecl_run_result *))
{
	ecl_run_ctx ctx;
	ecl_run_result res;
	double		rates[RUNS];
	uint64_t	steps = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = &ecl_std_alloc;
	ctx.host = &ecl_no_host;
	ctx.limits.gas_limit = INT64_MAX / 2;
	ctx.limits.mana_limit = 1000;
	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = now_seconds(),
					t;

		if (run(p, &ctx, &res) != ECL_OK || res.value.u.num != (double) ITERATIONS * (ITERATIONS - 1) / 2)
		{
			fprintf(stderr, "bench run failed: %s\n", res.error.message);
			exit(1);
		}
		t = now_seconds() - t0;
		steps = res.steps;
		rates[r] = res.steps / t;
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	printf("%-22s %llu instructions/run, median %.1f M instructions/s (min %.1f, max %.1f)\n",
		   label, (unsigned long long) steps, rates[RUNS / 2] / 1e6, rates[0] / 1e6, rates[RUNS - 1] / 1e6);
}

int
main(void)
{
	ecl_error	err;
	ecl_program *p = build_loop(&err);

	if (p == NULL)
	{
		fprintf(stderr, "building the loop failed: %s\n", err.message);
		return 1;
	}
	measure(REGULAR_DISPATCH, p, ecl_vm_run);
	measure(OTHER_DISPATCH, p, ecl_vm_run_other);
	return 0;
}
