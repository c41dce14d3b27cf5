/*
 * host.h — the host interface: what a policy may ask of the world (docs/sql-api.md, "The table host").
 *
 * The VM calls the host through this vtable only; it does not know whether it
 * runs on the table host (src/pg/host/host_tables.c, SPI), the state-only host
 * (snapshot JSON, docs/host-and-state.md) or the unit-test fixture host.  A NULL entry means
 * "not available here": the VM then fails the instruction with ECL_ERR_HOST
 * "no host data available for <function>".
 *
 * The host context (void *hctx) carries the run's caller and realm: personal
 * stores belong to the caller, the shared store and trust lookups use the
 * realm.  Strings passed in are valid only during the call.  Boxed results are
 * allocated from the allocator passed in (the run's).
 *
 * The VM handles before calling the host:
 *   - read-only runs: instructions with ECL_F_WRITE fail with ECL_ERR_READ_ONLY;
 *   - a null did: load_trust gives the zero vector, has_credential and
 *     resolve_did false, get_balance 0, without a host call;
 *   - store_get_nested / store_put_nested / store_append_list are built from
 *     store_get and store_put, so every host has the same nested semantics.
 */
#ifndef ECL_HOST_H
#define ECL_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/error.h"
#include "ecl/value.h"

typedef struct ecl_host
{
	ecl_status	(*load_trust) (void *hctx, const ecl_string *did,
							   ecl_trust *out, ecl_error *err);
	ecl_status	(*has_credential) (void *hctx, const ecl_string *did,
								   const ecl_string *schema, bool *out,
								   ecl_error *err);
	ecl_status	(*resolve_did) (void *hctx, const ecl_string *did, bool *out,
								ecl_error *err);
	ecl_status	(*get_balance) (void *hctx, const ecl_string *did, double *out,
								ecl_error *err);
	/* seconds since the epoch; constant within a transaction */
	ecl_status	(*get_timestamp) (void *hctx, double *out, ecl_error *err);
	ecl_status	(*log) (void *hctx, const ecl_string *msg, ecl_error *err);
	ecl_status	(*emit) (void *hctx, const ecl_string *event, ecl_value payload,
						 ecl_error *err);
	/* *out = null for unknown names */
	ecl_status	(*get_metric) (void *hctx, const ecl_alloc *a,
							   const ecl_string *name, ecl_value *out,
							   ecl_error *err);
	/* *out = null when absent */
	ecl_status	(*store_get) (void *hctx, const ecl_alloc *a,
							  const ecl_string *store, const ecl_string *key,
							  bool personal, ecl_value *out, ecl_error *err);
	ecl_status	(*store_put) (void *hctx, const ecl_string *store,
							  const ecl_string *key, ecl_value value,
							  bool personal, ecl_error *err);
	ecl_status	(*store_delete) (void *hctx, const ecl_string *store,
								 const ecl_string *key, bool personal,
								 bool *existed, ecl_error *err);
	ecl_status	(*store_exists) (void *hctx, const ecl_string *store,
								 bool personal, bool *out, ecl_error *err);
	ecl_status	(*store_count) (void *hctx, const ecl_string *store,
								bool personal, double *out, ecl_error *err);
	/*
	 * Keys of the shared store in the run's realm, sorted bytewise;
	 * prefix may be NULL; limit < 0 means no limit.  *out is an array.
	 */
	ecl_status	(*store_list_keys) (void *hctx, const ecl_alloc *a,
									const ecl_string *store,
									const ecl_string *prefix, int64_t limit,
									ecl_value *out, ecl_error *err);
} ecl_host;

/* A host with every entry NULL: pure computation only. */
extern const ecl_host ecl_no_host;

#endif							/* ECL_HOST_H */
