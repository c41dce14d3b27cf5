/*
 * host_state.h — the database's state-only host (docs/host-and-state.md):
 * ecl.simulate and ecl.test_policy run a policy on a JSON snapshot
 * (ecl.snapshot, snapshot format version 1), with writes collected in a
 * change list instead of tables.
 *
 * The answers are not computed here: this is a thin wrapper over the
 * PostgreSQL-free snapshot host of the core (include/ecl/host_snapshot.h),
 * the same code the ecl command runs for `ecl run` and `ecl test`, so the
 * command and ecl.simulate agree on a snapshot by construction.  What the
 * wrapper adds is the database's side: the snapshot comes as jsonb and
 * errors as ereport (22023 naming the JSON path of the bad part), log()
 * and emit keep what the runner reports (host_base.h) within the run's
 * memory budget, and the writes come back as jsonb.
 *
 * It reads no table, writes nothing, sends no notification and never
 * touches the statistics (the runner's request carries track = false).
 *
 * Speed: the last snapshot loaded is kept, parsed, for the backend's
 * lifetime (compared byte for byte), so simulating many runs on one
 * snapshot (ecl.test_policy, a what-if over many callers) parses and
 * validates it once; each lookup is then a hash probe.  The kept snapshot
 * is not part of a run's memory budget; what a run writes is.
 *
 * The runner uses it through ecl_state_host_ops (host_base.h).
 */
#ifndef ECL_HOST_STATE_H
#define ECL_HOST_STATE_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "ecl/host.h"
#include "ecl/host_snapshot.h"

#include "host_base.h"

typedef struct EclStateHost
{
	EclHostBase base;			/* must be first: caller, realm, logs, events */
	ecl_snapshot_host core;		/* the answers (host_snapshot.h) */
} EclStateHost;

extern const ecl_host ecl_state_host;
extern const EclHostOps ecl_state_host_ops;

/*
 * Load state (ERROR 22023 naming the JSON path of the first bad part) and
 * bind a host context to one run; alloc is the run's.  state NULL is the
 * empty world.  A state whose "realm" is present must name the run's realm
 * ("" = null).  Strings must live as long as the run.
 */
void		ecl_state_host_begin(EclStateHost *h, Jsonb *state,
								 const char *caller, const char *realm,
								 const char *policy, const ecl_alloc *alloc);

/*
 * Only the validation (the same checks and messages); realm NULL skips the
 * realm comparison.
 */
void		ecl_state_validate(Jsonb *state, const char *realm);

/*
 * The run's writes as a jsonb array of change records
 * (docs/host-and-state.md), in CurrentMemoryContext.  Like the table host, a
 * run that did not pass keeps nothing: kept = false gives [].  (Its events:
 * ecl_host_events, host_base.h.)
 */
Jsonb	   *ecl_state_host_writes(const EclStateHost *h, bool kept);

#endif							/* ECL_HOST_STATE_H */
