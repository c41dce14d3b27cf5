/*
 * vm_bench.c — the ECL core alone, no PostgreSQL: the interpreter loop
 * (docs/performance.md has the whole-system benchmarks).  Three cases:
 *
 *   vm_bench               dispatch comparison and B2 (below)
 *   vm_bench loop          the hand-assembled loop once (for callgrind)
 *   vm_bench b2 N          the B2 policy N times (for callgrind)
 *   vm_bench items N R     the compiled array loop (below) over N items,
 *                          best of R runs, in ns per iteration
 *
 * Dispatch comparison: a compute loop
 *
 *   sum = 0; i = 0; while i < N { sum = sum + i; i = i + 1 }; return sum
 *
 * assembled by hand (no compiler), 13 instructions per iteration, run with
 * both dispatch builds (computed goto and switch).  Prints the median of 5
 * runs in instructions per second.
 *
 * Second case, "B2": the many-short-runs shape of the whole-system benchmark
 * B2 (one small policy run per row, 8 numeric input fields read through the
 * lazy input source).  The policy is compiled from source; its input source
 * returns numbers from a small array, so what is measured is the VM's
 * per-run cost (prologue, dispatch, field loads), not jsonb.  Prints the
 * median of 5 batches in ns per run.
 *
 * For callgrind: `vm_bench loop` runs the compute loop once, `vm_bench b2 N`
 * the B2 policy N times, both with the regular dispatch only.
 *
 * Items: a summing loop compiled from source over an input array, the case
 * bench/vm/run.sh runs natively and under callgrind (instruction counts are
 * what to compare between VM versions on a noisy machine):
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
measure(const char *label, const ecl_program *p, int runs,
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
	for (int r = 0; r < runs; r++)
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
	qsort(rates, runs, sizeof(rates[0]), cmp_double);
	printf("%-22s %llu instructions/run, median %.1f M instructions/s (min %.1f, max %.1f)\n",
		   label, (unsigned long long) steps, rates[runs / 2] / 1e6, rates[0] / 1e6, rates[runs - 1] / 1e6);
}

/* ---------------------------------------------------------------- B2 case */

static const char b2_source[] =
"policy b2 {\n"
"    let total = amount + fee\n"
"    let ratio = total / cap\n"
"    let headroom = balance - total\n"
"    let s = score * 0.6 + (100 - risk) * 0.4\n"
"    return total > 0 && ratio <= 1 && headroom >= 0 && s >= 50 &&\n"
"        age >= 18 && n < 100 && amount * 3 - fee * 2 != 11\n"
"}\n";

#define B2_FIELDS 8
#define B2_RUNS_PER_BATCH 1000000

typedef struct b2_field
{
	const char *name;
	size_t		len;
	double		value;
} b2_field;

/* one row: every condition holds, so the whole expression is evaluated */
static const b2_field b2_row[B2_FIELDS] = {
	{"amount", 6, 120}, {"fee", 3, 2.5}, {"cap", 3, 1000}, {"balance", 7, 5000},
	{"score", 5, 80}, {"risk", 4, 10}, {"age", 3, 42}, {"n", 1, 7}
};

static ecl_status
b2_get_field(void *ictx, const ecl_alloc *a, const char *name, size_t len,
			 ecl_value *out, bool *found, ecl_error *err)
{
	const b2_field *row = ictx;

	*found = false;
	for (int i = 0; i < B2_FIELDS; i++)
	{
		if (row[i].len == len && memcmp(row[i].name, name, len) == 0)
		{
			*out = ecl_number(row[i].value);
			*found = true;
			break;
		}
	}
	return ECL_OK;
}

static ecl_status
b2_interrupt(void *ictx, ecl_error *err)
{
	return ECL_OK;
}

static ecl_program *
build_b2(ecl_error *err)
{
	uint8_t    *bytes;
	size_t		len;
	ecl_program *p;

	if (ecl_compile(&ecl_std_alloc, b2_source, strlen(b2_source), NULL,
					&bytes, &len, err) != ECL_OK ||
		ecl_program_load(&ecl_std_alloc, bytes, len, 1024, &p, err) != ECL_OK)
		return NULL;
	return p;
}

static void
measure_b2(const char *label, const ecl_program *p, int batches, int per_batch,
		   ecl_status (*run) (const ecl_program *, const ecl_run_ctx *, ecl_run_result *))
{
	ecl_run_ctx ctx;
	ecl_run_result res;
	double		ns[RUNS];
	uint64_t	steps = 0;
	int64_t		gas = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = &ecl_std_alloc;
	ctx.host = &ecl_no_host;
	ctx.caller = ecl_null();
	ctx.realm = ecl_null();
	ctx.input.get_field = b2_get_field;
	ctx.input.ctx = (void *) b2_row;
	ctx.limits.gas_limit = 100000;
	ctx.limits.mana_limit = 1000;
	ctx.limits.max_stack_depth = 1024;
	ctx.interrupt = b2_interrupt;
	for (int b = 0; b < batches; b++)
	{
		double		t0 = now_seconds();

		for (int r = 0; r < per_batch; r++)
		{
			/* what a caller does per run: a fresh error value */
			ecl_error_clear(&res.error);
			if (run(p, &ctx, &res) != ECL_OK || res.outcome != ECL_OUTCOME_PASSED)
			{
				fprintf(stderr, "B2 run failed: %s\n", res.error.message);
				exit(1);
			}
		}
		ns[b] = (now_seconds() - t0) * 1e9 / per_batch;
		steps = res.steps;
		gas = res.gas_used;
	}
	qsort(ns, batches, sizeof(ns[0]), cmp_double);
	printf("B2 %-19s %u instructions, %llu steps/run, gas %lld: median %.1f ns/run (min %.1f, max %.1f)\n",
		   label, p->ncode, (unsigned long long) steps, (long long) gas,
		   ns[batches / 2], ns[0], ns[batches - 1]);
}

/* -------------------------------------------------------------- items case */

static const char items_source[] =
"let s = 0\n"
"for x in items { s = s + x * 2 - 1 }\n"
"return s\n";

static void
die(const char *what, const ecl_error *err)
{
	fprintf(stderr, "vm_bench items: %s: %s\n", what, err->message);
	exit(1);
}

static int
measure_items(uint32_t n, int runs)
{
	const ecl_alloc *a = &ecl_std_alloc;
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
	if (ecl_compile(a, items_source, strlen(items_source), NULL, &bytes, &nbytes, &err) != ECL_OK)
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
	printf("items: %u iterations, %llu instructions executed per run, best of %d: %.1f ns/iteration\n",
		   n, (unsigned long long) res.steps, runs, best * 1e9 / n);
	return 0;
}

int
main(int argc, char **argv)
{
	ecl_error	err;
	ecl_program *p;
	ecl_program *b2 = build_b2(&err);
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "items") == 0)
		return measure_items(argc > 2 ? (uint32_t) atol(argv[2]) : 100000,
							 argc > 3 ? atoi(argv[3]) : 5);
	if (b2 == NULL)
	{
		fprintf(stderr, "compiling the B2 policy failed: %s\n", err.message);
		return 1;
	}
	if (strcmp(mode, "b2") == 0)
	{
		measure_b2(REGULAR_DISPATCH, b2, 1, argc > 2 ? atoi(argv[2]) : B2_RUNS_PER_BATCH,
				   ecl_vm_run);
		return 0;
	}
	p = build_loop(&err);
	if (p == NULL)
	{
		fprintf(stderr, "building the loop failed: %s\n", err.message);
		return 1;
	}
	if (strcmp(mode, "loop") == 0)
	{
		measure(REGULAR_DISPATCH, p, 1, ecl_vm_run);
		return 0;
	}
	measure(REGULAR_DISPATCH, p, RUNS, ecl_vm_run);
	measure(OTHER_DISPATCH, p, RUNS, ecl_vm_run_other);
	measure_b2(REGULAR_DISPATCH, b2, RUNS, B2_RUNS_PER_BATCH, ecl_vm_run);
	measure_b2(OTHER_DISPATCH, b2, RUNS, B2_RUNS_PER_BATCH, ecl_vm_run_other);
	return 0;
}
