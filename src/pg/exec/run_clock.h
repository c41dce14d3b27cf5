/*
 * run_clock.h — the clock that times policy runs (duration_us, the
 * statistics' time columns, ecl.timeout_ms).
 *
 * A run is timed twice (start, end), and a short read-only run takes a few
 * hundred nanoseconds, so the clock itself is a measurable part of it:
 * clock_gettime costs ~17 ns per read on this kind of machine, the CPU's
 * time-stamp counter ~7 ns.  Where the counter is invariant (x86-64 with
 * the invariant-TSC flag: constant rate, never stops) the clock uses it,
 * converted with a rate calibrated in each backend against clock_gettime
 * over its first runs; until then, and everywhere else, it uses
 * clock_gettime (INSTR_TIME_SET_CURRENT) as before.
 */
#ifndef ECL_RUN_CLOCK_H
#define ECL_RUN_CLOCK_H

#include "postgres.h"

#include "portability/instr_time.h"

typedef struct EclRunClock
{
	bool		tsc;			/* started on the time-stamp counter */
	uint64		tsc_start;
	instr_time	start;			/* when !tsc */
} EclRunClock;

void		ecl_run_clock_start(EclRunClock *clock);

/* Nanoseconds since ecl_run_clock_start. */
int64		ecl_run_clock_elapsed_ns(const EclRunClock *clock);

#endif							/* ECL_RUN_CLOCK_H */
