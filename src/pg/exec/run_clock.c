/*
 * run_clock.c — see run_clock.h.
 *
 * Calibration: the first run of a backend notes a (counter, clock_gettime)
 * pair; the first run at least CALIBRATION_NS later notes a second pair and
 * derives the counter's rate from the two.  Each pair is read with the
 * counter on both sides of the clock, so an interruption between the two
 * readings cannot skew the rate.  A rate outside 100 MHz..20 GHz
 * means something is off (a counter that is not what it claims to be), and
 * the backend keeps clock_gettime.  Each run ends on the clock it started
 * on, so the switch never mixes the two within a run.
 */
#include "postgres.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <x86intrin.h>
#define ECL_HAVE_TSC 1
#endif

#include "run_clock.h"

#define CALIBRATION_NS	(50 * 1000 * 1000)	/* 50 ms */

typedef enum TscState
{
	TSC_UNKNOWN = 0,			/* not looked at yet */
	TSC_UNUSABLE,				/* no invariant counter: clock_gettime */
	TSC_INVARIANT,				/* invariant; first pair not noted yet */
	TSC_CALIBRATING,			/* first pair noted */
	TSC_READY
} TscState;

static TscState tsc_state = TSC_UNKNOWN;

#ifdef ECL_HAVE_TSC
static uint64 calibration_tsc;
static instr_time calibration_time;
static double ns_per_tick;

/* CPUID leaf 0x80000007, EDX bit 8: the counter runs at a constant rate */
static bool
tsc_is_invariant(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (__get_cpuid_max(0x80000000, NULL) < 0x80000007 ||
		!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx))
		return false;
	return (edx & (1u << 8)) != 0;
}

/*
 * A (counter, clock) pair read as close together as possible: the counter
 * on both sides of the clock, retried when the process was interrupted in
 * between (a gap of more than PAIR_MAX_TICKS would put that delay into the
 * calibration).
 */
#define PAIR_MAX_TICKS	20000		/* ~10 us at 2 GHz */

static bool
read_pair(uint64 *tsc, instr_time *time)
{
	for (int attempt = 0; attempt < 3; attempt++)
	{
		uint64		before = __rdtsc();
		uint64		after;

		INSTR_TIME_SET_CURRENT(*time);
		after = __rdtsc();
		if (after >= before && after - before <= PAIR_MAX_TICKS)
		{
			*tsc = before + (after - before) / 2;
			return true;
		}
	}
	return false;
}

/* now: the clock_gettime reading the calling run just took */
static void
calibrate(const instr_time *now)
{
	uint64		tsc;
	instr_time	time;

	if (tsc_state == TSC_UNKNOWN)
		tsc_state = tsc_is_invariant() ? TSC_INVARIANT : TSC_UNUSABLE;
	if (tsc_state == TSC_UNUSABLE)
		return;
	if (tsc_state == TSC_INVARIANT)
	{
		if (read_pair(&calibration_tsc, &calibration_time))
			tsc_state = TSC_CALIBRATING;
	}
	else
	{
		instr_time	elapsed = *now;
		double		ns;
		double		ghz;

		INSTR_TIME_SUBTRACT(elapsed, calibration_time);
		if (INSTR_TIME_GET_DOUBLE(elapsed) * 1e9 < CALIBRATION_NS ||
			!read_pair(&tsc, &time))
			return;
		INSTR_TIME_SUBTRACT(time, calibration_time);
		ns = INSTR_TIME_GET_DOUBLE(time) * 1e9;
		ghz = (double) (tsc - calibration_tsc) / ns;
		if (ghz < 0.1 || ghz > 20.0)
		{
			tsc_state = TSC_UNUSABLE;
			return;
		}
		ns_per_tick = 1.0 / ghz;
		tsc_state = TSC_READY;
	}
}
#endif

void
ecl_run_clock_start(EclRunClock *clock)
{
#ifdef ECL_HAVE_TSC
	if (tsc_state == TSC_READY)
	{
		clock->tsc = true;
		clock->tsc_start = __rdtsc();
		return;
	}
#endif
	clock->tsc = false;
	INSTR_TIME_SET_CURRENT(clock->start);
#ifdef ECL_HAVE_TSC
	if (tsc_state != TSC_UNUSABLE)
		calibrate(&clock->start);
#endif
}

int64
ecl_run_clock_elapsed_ns(const EclRunClock *clock)
{
	instr_time	now;

#ifdef ECL_HAVE_TSC
	if (clock->tsc)
	{
		uint64		now_tsc = __rdtsc();

		/* a move to a CPU whose counter is behind must not wrap around */
		if (now_tsc <= clock->tsc_start)
			return 0;
		return (int64) ((double) (now_tsc - clock->tsc_start) * ns_per_tick);
	}
#endif
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, clock->start);
	return (int64) (INSTR_TIME_GET_DOUBLE(now) * 1e9);
}
