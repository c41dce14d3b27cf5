/*
 * host_snapshot.h — the state-only host (docs/host-and-state.md): ECL's host
 * functions answered from a snapshot in the format of ecl.snapshot
 * (snapshot format version 1), with writes collected in a change list
 * instead of tables.
 *
 * This is the one implementation.  The database's state host
 * (src/pg/host/host_state.c, behind ecl.simulate, ecl.test_policy) wraps it
 * and the ecl command (`ecl run`, `ecl test`, `ecl repl`) uses it directly,
 * so a policy run by the command on a snapshot answers as ecl.simulate does
 * on that snapshot by construction.  It must answer every call exactly as
 * the table host would on the database the snapshot was taken from:
 *
 *   load_trust      state.trust[did].realm, else .global, else zeros
 *                   (the realm vector only when the run has a realm)
 *   has_credential  state.credentials[did][schema] is true (the snapshot
 *                   already decided validity)
 *   resolve_did     state.identities[did]: registered and not revoked
 *   get_balance     state.balances[did], else 0
 *   (a DID with state.identities[did].revoked = true has zero trust, no
 *   credentials and a balance of 0, as on the table host)
 *   get_timestamp   state.timestamp, else the embedder's clock
 *   get_metric      state.metrics[name], else null
 *   store_*         state.store.shared[store][key] for the shared store,
 *                   state.store.personal[caller][store][key] for personal
 *                   entries, overlaid with this run's own writes, so a run
 *                   reads what it wrote (get, count, exists, list_keys)
 *   emit, log       collected
 *
 * A value written is kept as the table host keeps it, as JSON: reading it
 * back gives what a jsonb column would give (a did reads back as a string).
 *
 * Everything the host allocates comes from the allocator given at begin
 * (the run's, so it counts against the run's memory budget); the snapshot
 * itself may live longer and is only read.
 */
#ifndef ECL_HOST_SNAPSHOT_H
#define ECL_HOST_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/error.h"
#include "ecl/host.h"
#include "ecl/value.h"

/* The snapshot format this build writes and reads (state.version). */
#define ECL_SNAPSHOT_VERSION 1

/* A loaded, validated snapshot; sections are NULL when absent (= empty). */
typedef struct ecl_snapshot_state
{
	ecl_value	root;			/* the state object */
	const ecl_object *identities;
	const ecl_object *trust;
	const ecl_object *credentials;
	const ecl_object *balances;
	const ecl_object *shared;	/* store.shared */
	const ecl_object *personal; /* store.personal */
	const ecl_object *metrics;
	bool		has_timestamp;
	double		timestamp;		/* state.timestamp */
	bool		has_realm;		/* state.realm is present */
	const ecl_string *realm;	/* its value; NULL for null */
} ecl_snapshot_state;

/* The empty world: no identities, no stores, nothing. */
void		ecl_snapshot_empty(ecl_snapshot_state *out);

/*
 * Parse text (JSON) and validate it: ECL_ERR_INVALID_ARG naming the JSON
 * path of the first bad part ("state.trust[\"did:x\"].realm[3] must be a
 * number in [0,1]"), or the JSON syntax error.  Values live in a.
 */
ecl_status	ecl_snapshot_load(const ecl_alloc *a, const char *text, size_t len,
							  ecl_snapshot_state *out, ecl_error *err);

/* Validate an already parsed state (the same checks and messages). */
ecl_status	ecl_snapshot_from_value(ecl_value root, ecl_snapshot_state *out,
									ecl_error *err);

/*
 * A snapshot of one realm says nothing about the stores of another: a
 * state whose "realm" is present must name the run's realm ("" = none).
 */
ecl_status	ecl_snapshot_check_realm(const ecl_snapshot_state *s, const char *realm,
									 ecl_error *err);

/*
 * A value as the database keeps it in a jsonb column, which is how the
 * table host stores what a policy writes and how ecl.simulate receives its
 * input and state: JSON (a did becomes a string, a trust vector an object)
 * with every object's keys shorter first, then bytewise (so keys() lists
 * them in that order).  The snapshot host stores writes in this form; the
 * ecl command puts its input and state in it.
 */
ecl_status	ecl_snapshot_stored_form(const ecl_alloc *a, ecl_value v,
									 ecl_value *out, ecl_error *err);

/* The hint that goes with a load error. */
#define ECL_SNAPSHOT_HINT \
	"The state has the shape ecl.snapshot returns (snapshot format version 1); see docs/host-and-state.md."

typedef struct ecl_snapshot_overlay_entry
{
	bool		present;		/* an entry: written (true) or deleted */
	ecl_value	value;			/* present: the value as it reads back */
	int64_t		delta;			/* a store: entries added minus removed */
} ecl_snapshot_overlay_entry;

typedef struct ecl_snapshot_host
{
	const ecl_snapshot_state *snap;
	const char *caller;			/* DID or NULL */
	const char *realm;			/* "" when the run has none */
	const ecl_alloc *alloc;		/* the run's */
	double		now;			/* get_timestamp without state.timestamp */

	/* collected: arrays of n values (objects, strings) */
	ecl_value  *changes;		/* {op: put|delete|emit, ...}, in order made */
	uint32_t	nchanges;
	uint32_t	capchanges;
	ecl_value  *events;			/* {event, payload} */
	uint32_t	nevents;
	uint32_t	capevents;
	ecl_value  *logs;			/* strings */
	uint32_t	nlogs;
	uint32_t	caplogs;

	/* private: this run's store writes by entry and by store */
	ecl_value	overlay;		/* object: key bytes -> index into entries */
	ecl_snapshot_overlay_entry *entries;
	uint32_t	nentries;
	uint32_t	capentries;
} ecl_snapshot_host;

/* The vtable; its host context is an ecl_snapshot_host. */
extern const ecl_host ecl_snapshot_host_vtable;

/*
 * Bind h to one run over snap (which must outlive the run).  caller may be
 * NULL, realm NULL or "" for none; strings must live as long as the run.
 * Checks the realm (ecl_snapshot_check_realm).
 */
ecl_status	ecl_snapshot_host_begin(ecl_snapshot_host *h, const ecl_snapshot_state *snap,
									const char *caller, const char *realm,
									const ecl_alloc *alloc, double now,
									ecl_error *err);

/*
 * An array value of n items (the collected changes, events or logs); kept =
 * false gives [] — like the table host, a run that did not pass keeps
 * nothing.
 */
ecl_status	ecl_snapshot_host_list(const ecl_snapshot_host *h, const ecl_value *items,
								   uint32_t n, bool kept, ecl_value *out,
								   ecl_error *err);

/*
 * The host's parts one by one, for an embedder that wraps some of them
 * (the database keeps logs and events its own way).
 */
ecl_status	ecl_snapshot_host_emit(void *hctx, const ecl_string *event,
								   ecl_value payload, ecl_error *err);
ecl_status	ecl_snapshot_host_log(void *hctx, const ecl_string *msg,
								  ecl_error *err);

#endif							/* ECL_HOST_SNAPSHOT_H */
