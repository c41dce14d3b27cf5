/*
 * host_base.h — what every host kind shares, so that the table host
 * (host_tables.h) and the state host (host_state.h) hold only their data.
 *
 * The rules a host function follows whatever answers it — a null or
 * NUL-containing DID, store names and keys with NUL, a personal store
 * without a caller, an event name with NUL, a metric name with NUL or a
 * realm metric in a run without a realm — are the VM's (builtins.c), applied
 * before the host is called, so both hosts answer them alike by
 * construction.  What is the PostgreSQL side's but not a data source's is
 * here, once: the run's caller, realm and policy, log() (kept for the result
 * and logged at DEBUG1), get_timestamp() (the transaction start, or a
 * snapshot's time) and the events a run keeps.  Each host embeds an
 * EclHostBase as its first member, so the host context is also the base and
 * log and get_timestamp point straight at the functions below.
 *
 * A host kind is one EclHostOps record: its vtable and how the runner binds,
 * executes and collects a run on it.  The runner picks the record once per
 * run (runner.c, host_ops_for) and otherwise reads only its properties.
 */
#ifndef ECL_HOST_BASE_H
#define ECL_HOST_BASE_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/palloc.h"

#include "ecl/host.h"

typedef struct EclHostBase
{
	/* the run */
	const char *caller;			/* DID or NULL */
	const char *realm;			/* realm id; "" when the run has none */
	const char *policy;			/* policy name or NULL (ad hoc) */
	bool		simulated;		/* the state host: logged as "simulated" */
	bool		has_timestamp;	/* get_timestamp answers timestamp */
	double		timestamp;

	/* collected, in cxt */
	MemoryContext cxt;			/* current at begin: the run's */
	List	   *logs;			/* char * */
	List	   *events;			/* Jsonb * objects {event, payload} */
	int64		events_emitted; /* events written to ecl.events */
} EclHostBase;

/*
 * Bind a zeroed base to one run; strings must live as long as the run.
 * (Inline: every row of ecl.check or ecl.allowed binds a host.)
 */
static inline void
ecl_host_base_begin(EclHostBase *base, const char *caller, const char *realm,
					const char *policy)
{
	base->caller = caller;
	base->realm = realm ? realm : "";
	base->policy = policy;
	base->cxt = CurrentMemoryContext;
}

/* The vtable entries every host shares (hctx is the host, so its base). */
ecl_status	ecl_host_log(void *hctx, const ecl_string *msg, ecl_error *err);
ecl_status	ecl_host_get_timestamp(void *hctx, double *out, ecl_error *err);

/* The kept events as a jsonb array; kept = false gives []. */
Jsonb	   *ecl_host_events(const EclHostBase *base, bool kept);

/* A jsonb array of the Jsonb * in items (in CurrentMemoryContext). */
Jsonb	   *ecl_jsonb_array_of(List *items);

/* Push an object key (NUL-terminated) while building a jsonb. */
void		ecl_jsonb_push_key(JsonbParseState **ps, const char *key);

/* ------------------------------------------------------------ host kinds */

struct EclRunRequest;

typedef bool (*EclHostRunFn) (void *arg);

typedef struct EclHostOps
{
	const ecl_host *vtable;

	/*
	 * bind the host context (the runner's storage) to the request's run;
	 * alloc is the run's allocator
	 */
	void		(*begin) (void *hctx, const struct EclRunRequest *req,
						  const ecl_alloc *alloc);

	/*
	 * Call fn(arg) with the host ready; writes: the program may write.  fn
	 * returns whether the run's writes are kept.
	 */
	void		(*execute) (void *hctx, bool writes, EclHostRunFn fn, void *arg);

	/* the run's writes as a JSON change list; NULL: writes go to tables */
	Jsonb	   *(*writes) (void *hctx, bool kept);

	/*
	 * Acts on the live database: a read-only transaction refuses its
	 * writes, ecl.rate_limit charges its runs, and a read-only run may be
	 * answered from the statement's memo of runs.
	 */
	bool		live;
} EclHostOps;

#endif							/* ECL_HOST_BASE_H */
