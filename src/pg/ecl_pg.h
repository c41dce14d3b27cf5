/*
 * ecl_pg.h — shared declarations of the PostgreSQL glue (src/pg).
 *
 * Only src/pg includes PostgreSQL headers.  This header is the seam between
 * the glue modules: GUCs, the palloc allocator, mapping core errors to
 * ereport, and the jsonb <-> ECL value bridge.
 */
#ifndef ECL_PG_H
#define ECL_PG_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "access/xact.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "storage/proc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "ecl/alloc.h"
#include "ecl/error.h"
#include "ecl/value.h"
#include "ecl/vm.h"

/*
 * PostgreSQL 18 spells the no-return marker pg_noreturn (a prefix); older
 * releases only have the postfix pg_attribute_noreturn().  C11 _Noreturn
 * works as a prefix everywhere we build (gnu11).
 */
#ifndef pg_noreturn
#define pg_noreturn _Noreturn
#endif

/* The extension's own SQLSTATEs (docs/sql-api.md, "Errors"), class EC. */
#define ERRCODE_ECL_DENIED			MAKE_SQLSTATE('E','C','0','0','1')
#define ERRCODE_ECL_OUT_OF_GAS		MAKE_SQLSTATE('E','C','0','0','2')
#define ERRCODE_ECL_MANA			MAKE_SQLSTATE('E','C','0','0','3')
#define ERRCODE_ECL_TIMEOUT			MAKE_SQLSTATE('E','C','0','0','4')
#define ERRCODE_ECL_STACK			MAKE_SQLSTATE('E','C','0','0','5')
#define ERRCODE_ECL_TYPE			MAKE_SQLSTATE('E','C','0','0','6')
#define ERRCODE_ECL_BYTECODE		MAKE_SQLSTATE('E','C','0','0','7')
#define ERRCODE_ECL_MEMORY			MAKE_SQLSTATE('E','C','0','0','8')

/* GUCs, defined in ecl.c (docs/sql-api.md, "Registered policies"; docs/sql-api.md, "Statistics") */
extern int	ecl_gas_limit;			/* ecl.gas_limit, default 50000 */
extern int	ecl_mana_limit;			/* ecl.mana_limit, default 10000 */
extern int	ecl_timeout_ms;			/* ecl.timeout_ms, default 5000 */
extern int	ecl_max_stack_depth;	/* ecl.max_stack_depth, default 1024 */
extern bool ecl_rate_limit;			/* ecl.rate_limit, default off */
extern int	ecl_rls_errors;			/* ecl.rls_errors, default raise */

/* values of ecl.rls_errors: what ecl.check / ecl.allowed do with a failing run */
typedef enum EclRlsErrors
{
	ECL_RLS_ERRORS_RAISE,		/* raise the run's error */
	ECL_RLS_ERRORS_DENY			/* hide the row: false, counted as an error */
} EclRlsErrors;
extern bool ecl_track;				/* ecl.track, default on */
extern int	ecl_max_tracked;		/* ecl.max_tracked, default 1000 (postmaster) */
extern bool ecl_allow_anonymous;	/* ecl.allow_anonymous, default off */
extern int	ecl_memory_limit_kb;	/* ecl.memory_limit, default 64MB (superuser) */

/* pg_alloc.c: an ecl_alloc over a memory context (free is pfree). */
void		ecl_pg_alloc_init(ecl_alloc *a, MemoryContext cxt);

/*
 * pg_alloc.c: the memory budget of a run (ecl.memory_limit): what the run's
 * context and its children hold.  begin makes it the current run's budget
 * and *a an allocator that refuses (ECL_ERR_MEMORY) beyond it; end restores
 * the outer run's (nested runs), also on the error path.
 * ecl_run_memory_exceeded(more): would more bytes take the current run
 * beyond its budget (false outside runs); ecl_run_memory_check: an
 * ECL_ERR_MEMORY error value when the current run is beyond it (what: "in
 * log()"), for pallocs of the glue that do not go through the allocator.
 */
typedef struct EclRunMemory
{
	MemoryContext cxt;
	Size		limit;			/* bytes */
	bool		refused;		/* the last allocation was refused */
	struct EclRunMemory *outer;
} EclRunMemory;

void		ecl_run_memory_begin(EclRunMemory *m, MemoryContext cxt, Size limit,
								 ecl_alloc *a);
void		ecl_run_memory_end(EclRunMemory *m);
bool		ecl_run_memory_exceeded(Size more);
ecl_status	ecl_run_memory_error(ecl_error *err, const char *what);
ecl_status	ecl_run_memory_check(ecl_error *err, const char *what);

/*
 * error_map.c: raise a core error as an SQL error with the SQLSTATE of
 * docs/sql-api.md, "Errors".  policy_name overrides err->policy when not NULL.  The message
 * names the policy and line:column when known, e.g.
 *   policy "transfer_guard", line 4:13: type error: cannot compare string and number
 */
int			ecl_sqlstate_for(ecl_error_code code);
pg_noreturn void ecl_raise(const ecl_error *err, const char *policy_name);
/* the message ecl_raise gives, palloc'd (also for warnings about an error) */
char	   *ecl_error_text(const ecl_error *err, const char *policy_name);

/*
 * jsonb_bridge.c: conversions between jsonb and ECL values (docs/language.md §3).
 * ecl_value_from_jsonb converts a whole document into values allocated from a.
 * ecl_input_from_jsonb makes a lazy input source: single fields are looked up
 * in the jsonb and converted on demand (jsonb_bridge.c); state
 * must point to storage of ECL_JSONB_INPUT_STATE_SIZE bytes living as long as
 * the run (it also caches the fields read: one state per run).
 * ecl_value_to_jsonb builds a Jsonb in CurrentMemoryContext.
 */
ecl_status	ecl_value_from_jsonb(const ecl_alloc *a, Jsonb *jb, ecl_value *out,
								 ecl_error *err);
/* a jsonb number (a finite numeric) as the nearest double, or 22003 */
ecl_status	ecl_numeric_to_number(Numeric num, ecl_value *out, ecl_error *err);
#define ECL_JSONB_INPUT_STATE_SIZE 512
void		ecl_input_from_jsonb(ecl_input_source *src, Jsonb *jb, void *state);
Jsonb	   *ecl_value_to_jsonb(ecl_value v);

/*
 * The same within the current run's memory budget: NULL with an
 * ECL_ERR_MEMORY error when the document would not fit (checked as it is
 * built, so a value that shares one big part many times is refused before
 * its copies are made).  what names the use ("writing the value of
 * store_put").
 */
Jsonb	   *ecl_value_to_jsonb_budget(ecl_value v, const char *what, ecl_error *err);

/*
 * Unix seconds of a timestamptz: the exact integer microseconds since the
 * Unix epoch divided once, so the value equals extract(epoch from ts)::float8.
 * get_timestamp() of every host and ecl.snapshot's "timestamp" use this, so
 * simulate(snapshot) and run_policy see the very same number.
 */
static inline double
ecl_unix_seconds(TimestampTz ts)
{
	int64		unix_us = ts + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
		SECS_PER_DAY * USECS_PER_SEC;

	return (double) unix_us / USECS_PER_SEC;
}

/*
 * The backend's local transaction id: what the per-statement and
 * per-transaction caches (statement_memo.c, policy_catalog.c, jsonb_bridge.c)
 * compare to know they are still in the transaction that filled them.
 */
static inline LocalTransactionId
ecl_current_lxid(void)
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

/*
 * A set-returning SQL function's result: check that the caller accepts a
 * materialised set, and return the tuple store (and row type) it reads.
 */
Tuplestorestate *ecl_begin_materialized_srf(FunctionCallInfo fcinfo,
											 TupleDesc *tupdesc);

/*
 * Does the transaction callback's event end the top-level transaction
 * (commit, abort or prepare, also of a parallel one)?  Per-transaction
 * state (token.c's identity, policy_catalog.c's retired entries) goes then.
 */
static inline bool
ecl_xact_event_ends(XactEvent event)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			return true;
		default:
			return false;
	}
}

/*
 * "The same statement", as every per-statement cache (the host memo, a call
 * site's policy) decides it: the same transaction, statement start and
 * command.  The statement start alone repeats across transactions that
 * start in one clock tick, the command id alone across statements; an own
 * change in the middle of a statement (a trigger, a volatile function)
 * moves the command id.  Statements of one simple-query message share a
 * start and, while they change nothing, a command id: they count as one.
 */
typedef struct EclStatementStamp
{
	LocalTransactionId lxid;
	TimestampTz stmt_start;
	CommandId	cid;
} EclStatementStamp;

static inline void
ecl_statement_stamp(EclStatementStamp *stamp)
{
	stamp->lxid = ecl_current_lxid();
	stamp->stmt_start = GetCurrentStatementStartTimestamp();
	stamp->cid = GetCurrentCommandId(false);
}

/* Is stamp the current statement's?  (A zeroed stamp never is.) */
static inline bool
ecl_statement_stamp_current(const EclStatementStamp *stamp)
{
	return stamp->lxid == ecl_current_lxid() &&
		stamp->stmt_start == GetCurrentStatementStartTimestamp() &&
		stamp->cid == GetCurrentCommandId(false);
}

#endif							/* ECL_PG_H */
