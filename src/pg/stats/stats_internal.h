/*
 * stats_internal.h — the shared-memory layout of the ECLVM statistics,
 * shared by stats.c (recording, SQL functions) and stats_file.c (saving at
 * shutdown, loading at startup).  Not for other modules: they use stats.h.
 */
#ifndef ECL_STATS_INTERNAL_H
#define ECL_STATS_INTERNAL_H

#include "postgres.h"

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

/*
 * Global counters, defined once: the enum, the view columns, the
 * get_metric names and the file format all derive from this list.
 * Order matters for the file format: append new counters at the end and
 * bump ECL_STATS_FILE_VERSION.
 */
#define ECL_GLOBAL_COUNTERS(X) \
	X(POLICIES_COMPILED, "policies_compiled") \
	X(POLICY_COMPILE_ERRORS, "policy_compile_errors") \
	X(POLICIES_EXECUTED, "policies_executed") \
	X(POLICIES_PASSED, "policies_passed") \
	X(POLICIES_DENIED, "policies_denied") \
	X(POLICY_RUNTIME_ERRORS, "policy_runtime_errors") \
	X(OUT_OF_GAS_ABORTS, "out_of_gas_aborts") \
	X(MANA_RATE_LIMITED, "mana_rate_limited") \
	X(TOTAL_GAS_CONSUMED, "total_gas_consumed") \
	X(TOTAL_MANA_CONSUMED, "total_mana_consumed") \
	X(TOTAL_TIME_NS, "total_time_us") /* kept in ns, shown in us */ \
	X(CROSSING_EVALUATIONS, "crossing_evaluations") \
	X(CROSSINGS_ALLOWED, "crossings_allowed") \
	X(CROSSINGS_DENIED, "crossings_denied") \
	X(EVENTS_EMITTED, "events_emitted") \
	X(DECISIONS_LOGGED, "decisions_logged") \
	X(DECISIONS_DROPPED, "decisions_dropped")

typedef enum EclGlobalCounter
{
#define ECL_GC_ENUM(id, name) ECL_GC_##id,
	ECL_GLOBAL_COUNTERS(ECL_GC_ENUM)
#undef ECL_GC_ENUM
	ECL_GC_COUNT
} EclGlobalCounter;

/* Policy kinds of docs/sql-api.md, "Registered policies"; anything else is counted as custom. */
#define ECL_POLICY_KINDS(X) \
	X(CROSSING, "crossing") \
	X(MEMBERSHIP, "membership") \
	X(TRANSACTION, "transaction") \
	X(GOVERNANCE, "governance") \
	X(PRIVACY, "privacy") \
	X(API, "api") \
	X(UI, "ui") \
	X(DATALOGIC, "datalogic") \
	X(CONTROLLER, "controller") \
	X(CUSTOM, "custom")

typedef enum EclPolicyKind
{
#define ECL_KIND_ENUM(id, name) ECL_KIND_##id,
	ECL_POLICY_KINDS(ECL_KIND_ENUM)
#undef ECL_KIND_ENUM
	ECL_KIND_COUNT
} EclPolicyKind;

/* Per-kind counters (atomics, like the global ones). */
typedef enum EclKindCounter
{
	ECL_KC_EXECUTIONS = 0,
	ECL_KC_PASSED,
	ECL_KC_DENIED,
	ECL_KC_ERRORS,
	ECL_KC_COUNT
} EclKindCounter;

/*
 * Names in hash keys are stored clipped to this many bytes (including the
 * terminating NUL); the key also carries a hash of the full name, so two
 * long names that share a prefix still get separate entries.
 */
#define ECL_STATS_NAME_LEN 96

/*
 * Every key starts with the database: statistics are per database, as
 * pg_stat_statements keys by dbid, and the bounded tables below are shared
 * by all databases of the cluster.
 */
typedef struct EclRealmKey
{
	Oid			dbid;
	uint64		realm_hash;		/* of the full realm id */
	char		realm[ECL_STATS_NAME_LEN];
} EclRealmKey;

typedef struct EclRealmCounters
{
	int64		executed;
	int64		passed;
	int64		denied;
	int64		gas;
	int64		mana;
	int64		crossing_policies;
} EclRealmCounters;

typedef struct EclRealmEntry
{
	EclRealmKey key;			/* must be first (hash key) */
	slock_t		mutex;			/* protects counters */
	EclRealmCounters counters;
} EclRealmEntry;

typedef struct EclPolicyKey
{
	Oid			dbid;
	uint64		name_hash;		/* of the full policy name ("" = ad hoc) */
	uint64		realm_hash;		/* of the full realm id ("" = none) */
	char		name[ECL_STATS_NAME_LEN];
	char		realm[ECL_STATS_NAME_LEN];
	int32		kind;			/* EclPolicyKind */
} EclPolicyKey;

typedef struct EclPolicyCounters
{
	int64		calls;
	int64		passed;
	int64		denied;
	int64		errors;
	int64		total_gas;
	int64		total_mana;
	int64		total_time_ns;
	int64		min_time_ns;
	int64		max_time_ns;
	/* the shadow candidate's comparisons (ecl.set_shadow) */
	int64		shadow_runs;
	int64		shadow_disagreements;

	/*
	 * Statement executions that evaluated the policy as translated SQL
	 * (docs/planner.md): no VM run, so none of the counters above moves.
	 */
	int64		translated_executions;
} EclPolicyCounters;

typedef struct EclPolicyEntry
{
	EclPolicyKey key;			/* must be first (hash key) */
	slock_t		mutex;			/* protects counters */
	EclPolicyCounters counters;
} EclPolicyEntry;

/*
 * One version of a registered policy: its runs under that version, over
 * all realms and kinds (the policy's row above sums all its versions).
 * Ad hoc code has no version and no row here.
 */
#define ECL_STATS_HASH_BYTES 32	/* BLAKE2b-256 of the bytecode */

typedef struct EclVersionKey
{
	Oid			dbid;
	int32		version;
	uint64		name_hash;		/* of the full policy name */
	char		name[ECL_STATS_NAME_LEN];
} EclVersionKey;

typedef struct EclVersionEntry
{
	EclVersionKey key;			/* must be first (hash key) */
	slock_t		mutex;			/* protects hash and counters */
	uint8		hash[ECL_STATS_HASH_BYTES]; /* of the version's bytecode */
	EclPolicyCounters counters;
} EclVersionEntry;

/*
 * One database's global and per-kind counters.  They are atomics, so that
 * the flushes of many backends add to them under the shared lock at once;
 * stats_reset changes only under the exclusive lock.
 */
typedef struct EclDatabaseEntry
{
	Oid			dbid;			/* hash key; must be first */
	TimestampTz stats_reset;	/* last reset, or when the row was created */
	pg_atomic_uint64 global[ECL_GC_COUNT];
	pg_atomic_uint64 by_kind[ECL_KIND_COUNT][ECL_KC_COUNT];
} EclDatabaseEntry;

/* A copy of one database's counters, as the readers use them. */
typedef struct EclDatabaseCounters
{
	uint64		global[ECL_GC_COUNT];	/* run time in ns, as kept */
	uint64		by_kind[ECL_KIND_COUNT][ECL_KC_COUNT];
	TimestampTz stats_reset;
} EclDatabaseCounters;

/*
 * The shared state.  lock protects the four hash tables (databases,
 * realms, policies, versions): shared to find an entry and add to it (atomics, or
 * the row's spinlock), exclusive to insert, evict or reset.
 */
typedef struct EclStatsShared
{
	LWLock	   *lock;
} EclStatsShared;

/* attached in every process after shmem startup; NULL without the preload */
extern EclStatsShared *ecl_stats_shared;
extern HTAB *ecl_stats_databases;
extern HTAB *ecl_stats_realms;
extern HTAB *ecl_stats_policies;
extern HTAB *ecl_stats_versions;

/*
 * Insert an entry, evicting the least-called ones when the table is full.
 * Caller holds the lock exclusively.  Returns NULL if no room could be made.
 */
EclDatabaseEntry *ecl_stats_enter_database(Oid dbid);
EclRealmEntry *ecl_stats_enter_realm(const EclRealmKey *key);
EclPolicyEntry *ecl_stats_enter_policy(const EclPolicyKey *key);
EclVersionEntry *ecl_stats_enter_version(const EclVersionKey *key);

/* stats.c: helpers for the SQL functions and the file */
long		ecl_stats_max_rows(void);	/* rows per table (ecl.max_tracked) */
const char *ecl_stats_kind_name(int kind);
const char *ecl_stats_counter_name(int counter);
void		ecl_stats_require_available(void);	/* ERROR 55000 if not */
uint64		ecl_stats_shown(const EclDatabaseCounters *c, int counter); /* run time in us */
bool		ecl_stats_ratio(uint64 numerator, uint64 denominator, double *out);
bool		ecl_stats_read_database(Oid dbid, EclDatabaseCounters *out);
void		ecl_stats_copy_database(EclDatabaseEntry *e, EclDatabaseCounters *out);
bool		ecl_stats_read_realm(const char *realm_id, EclRealmCounters *out);
void		ecl_stats_ensure_database(Oid dbid);
void		ecl_stats_reset(bool all_databases);

/* stats_file.c: run in the postmaster */
void		ecl_stats_load_file(void);
void		ecl_stats_save_file(int code, Datum arg);

#endif							/* ECL_STATS_INTERNAL_H */
