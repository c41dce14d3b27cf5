/*
 * stats.h — ECLVM statistics in shared memory (docs/sql-api.md, "Statistics"), pg_stat style,
 * kept per database (a run counts for the database of its session).
 *
 * Requires shared_preload_libraries = 'ecl'.  Without it every record
 * function is a no-op (policies still run) and the views raise an error
 * saying what to set.  Updates are exact under concurrency: a run's counts
 * reach shared memory once, at the latest when its transaction ends.
 */
#ifndef ECL_STATS_H
#define ECL_STATS_H

#include "postgres.h"

typedef enum EclRunStatus
{
	ECL_RUN_PASSED = 0,
	ECL_RUN_DENIED,
	ECL_RUN_ERROR,				/* runtime error other than the two below */
	ECL_RUN_OUT_OF_GAS,
	ECL_RUN_RATE_LIMITED
} EclRunStatus;

typedef struct EclRunReport
{
	const char *policy_name;	/* NULL for ad hoc (ecl.eval) */
	const char *policy_type;	/* kind; NULL counts as "custom" */
	const char *realm_id;		/* NULL or "" = no realm */
	EclRunStatus status;
	int64		gas_used;
	int64		mana_used;
	int64		duration_ns;	/* the statistics add up nanoseconds */
	int64		events_emitted;
	int64		policy_version; /* of a registered policy; 0 = none */
	const uint8 *policy_hash;	/* its bytecode's hash (32 bytes) or NULL */
} EclRunReport;

/* called from _PG_init when loaded via shared_preload_libraries */
void		ecl_stats_init(void);

/* true when the shared statistics exist (the library was preloaded) */
bool		ecl_stats_available(void);

void		ecl_stats_record_run(const EclRunReport *report);

/*
 * One comparison of a policy's shadow candidate with the version that
 * answered (runner.c): counted in the policy's row, next to its runs.
 */
void		ecl_stats_record_shadow(const char *policy_name,
									const char *policy_type,
									const char *realm_id,
									int64 policy_version, bool disagreed);
void		ecl_stats_record_compile(bool ok);
/* a statement execution that evaluated the policy as translated SQL */
void		ecl_stats_record_translated(const char *policy_name,
										const char *policy_type,
										const char *realm_id);
void		ecl_stats_record_crossing(const char *realm_id, bool allowed);

/*
 * The decision log (decision_queue.h): a record this backend could not
 * queue (pending, like a run), and the launcher's outcome of a batch of
 * database dbid (written at once).  Counted whatever ecl.track says: a
 * lost decision is never silent.
 */
void		ecl_stats_record_decision_dropped(void);
void		ecl_stats_add_decisions(Oid dbid, uint64 logged, uint64 dropped);

/*
 * Move this backend's pending counts into shared memory.  Recording only
 * adds to backend-local counters; they are flushed at transaction end,
 * every 1000 events, at backend exit, and by every reader of the
 * statistics (so a session always sees its own runs).  Never raises.
 */
void		ecl_stats_flush_pending(void);

/*
 * get_metric(name): global names (policies_executed, policy_success_rate,
 * crossing_allow_rate, ...) and "realm.<column>" for realm_id, all of the
 * current database (MyDatabaseId).  Returns false for unknown names or when
 * statistics are not available.
 */
bool		ecl_stats_metric(const char *name, const char *realm_id, double *out);

#endif							/* ECL_STATS_H */
