/*
 * host_state.h — the state-only host (docs/host-and-state.md): the host functions of ECL
 * answered from a JSON snapshot (ecl.snapshot, snapshot format version 1),
 * with writes collected in an in-memory change list instead of tables.
 *
 * It is a second implementation of the same vtable as the table host
 * (host_tables.h) and must answer every call exactly as the table host
 * would on the database the snapshot was taken from:
 *
 *   load_trust      state.trust[did].realm, else .global, else zeros
 *                   (the realm vector only when the run has a realm)
 *   has_credential  state.credentials[did][schema] is true (the snapshot
 *                   already decided validity with the rules of identity.h)
 *   resolve_did     state.identities[did]: registered and not revoked
 *   get_balance     state.balances[did], else 0
 *   (a DID with state.identities[did].revoked = true has zero trust, no
 *   credentials and a balance of 0, as on the table host)
 *   get_timestamp   state.timestamp, else the transaction start
 *   get_metric      state.metrics[name], else null ("realm.*" null without
 *                   a realm)
 *   store_*         state.store.shared[store][key] for the shared store,
 *                   state.store.personal[caller][store][key] for personal
 *                   entries, overlaid with this run's own writes, so a run
 *                   reads what it wrote (get, count, exists, list_keys)
 *   emit, log       collected; nothing is inserted, notified or counted
 *
 * It reads no table, writes nothing, sends no notification and never
 * touches the statistics (the runner's request carries track = false).
 *
 * Speed: the snapshot is validated when the host is bound (one pass over
 * the jsonb without string work, so a malformed state fails before the
 * policy runs, with the JSON path of the bad part; the last few validated
 * states are remembered by hash, so simulating many runs on one snapshot
 * validates it once), then every lookup is a binary search in the jsonb
 * (getKeyJsonValueFromContainer): nothing is converted up front, a run
 * pays only for what it reads.
 *
 * The runner uses it through ecl_state_host_ops (host_base.h).
 *
 * Everything the host keeps lives in the memory context that was current at
 * begin (the run's).
 */
#ifndef ECL_HOST_STATE_H
#define ECL_HOST_STATE_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "ecl/host.h"

#include "host_base.h"

/* The snapshot format this build writes and reads (state.version). */
#define ECL_SNAPSHOT_VERSION 1

typedef struct EclStateHost
{
	EclHostBase base;			/* must be first: caller, realm, logs, events,
								 * and state.timestamp */

	/* the snapshot's sections; NULL when absent (= empty) */
	JsonbContainer *identities;
	JsonbContainer *trust;
	JsonbContainer *credentials;
	JsonbContainer *balances;
	JsonbContainer *shared;		/* store.shared */
	JsonbContainer *personal;	/* store.personal */
	JsonbContainer *metrics;

	/* collected, in base.cxt */
	List	   *changes;		/* Jsonb * objects, in the order made */

	/* private */
	HTAB	   *overlay;		/* this run's store writes, by entry and store */
} EclStateHost;

extern const ecl_host ecl_state_host;
extern const EclHostOps ecl_state_host_ops;

/*
 * Validate state (ERROR 22023 naming the JSON path of the first bad part)
 * and bind a host context to one run.  state NULL is the empty world.  A
 * state whose "realm" is present must name the run's realm ("" = null).
 * Strings must live as long as the run.
 */
void		ecl_state_host_begin(EclStateHost *h, Jsonb *state,
								 const char *caller, const char *realm,
								 const char *policy);

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
