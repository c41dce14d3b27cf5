/*
 * policy_catalog.h — registered policies (ecl.policies) as loaded, verified
 * programs, cached per backend (docs/sql-api.md, "The language"; docs/sql-api.md, "Registered policies").
 *
 * A miss reads the row (as the owner of schema ecl, with the newest
 * snapshot, like a catalog lookup), recomputes the BLAKE2b hash of the
 * bytecode and compares it with the stored hash, then loads and verifies
 * the bytecode with the stack limit ecl.max_stack_depth.
 *
 * Invalidation is transactional and reaches every session: a statement
 * trigger on ecl.policies (ecl.policies_changed(), below) sends a relcache
 * invalidation for the table; this module's relcache callback drops the
 * cache when it sees it.  The writing session sees the change from its next
 * command, other sessions once the change commits (from their next
 * statement), standbys when they replay it.
 */
#ifndef ECL_POLICY_CATALOG_H
#define ECL_POLICY_CATALOG_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "ecl/bytecode.h"

#include "ecl_pg.h"

#define ECL_POLICY_HASH_BYTES 32	/* crypto_generichash, BLAKE2b-256 */

typedef struct EclPolicy
{
	const char *name;
	const ecl_program *program;
	const char *kind;			/* crossing, membership, ..., custom */
	const char *realm_id;		/* NULL when the policy has no realm */
	int64		version;
	uint8		hash[ECL_POLICY_HASH_BYTES];

	/*
	 * The shadow candidate (ecl.set_shadow), run beside the policy by the
	 * runner.  has_shadow with shadow NULL: the stored candidate does not
	 * match its hash or fails verification; it then counts as a candidate
	 * that fails on every call (shadow_error says why), never as an error of
	 * the policy.
	 */
	bool		has_shadow;
	const ecl_program *shadow;
	const char *shadow_error;
} EclPolicy;

/*
 * The policy called name.  Raises 42704 when there is none, EC007 when the
 * stored bytecode does not match its hash or fails verification (EC005 when
 * it needs a deeper stack than ecl.max_stack_depth).  The result stays
 * valid until the end of the current transaction, even if the cache is
 * invalidated meanwhile (e.g. while the policy runs).
 */
const EclPolicy *ecl_policy_lookup(const char *name);

/* The same, NULL when there is no such policy (the planner's question). */
const EclPolicy *ecl_policy_lookup_optional(const char *name);

/*
 * The OID of ecl.policies: a plan that embeds a policy depends on it, so
 * the invalidation a registration sends replans it.
 */
Oid			ecl_policies_relation(void);

/*
 * What one SQL call site (fn_extra) remembers of its last lookup: a WHERE
 * clause names the same policy on every row.  Zeroed memory is an empty
 * cache.
 */
typedef struct EclPolicyCallCache
{
	char	   *name;			/* in the call site's memory context */
	int			name_len;
	const EclPolicy *policy;
	uint64		inval_count;	/* the catalog's invalidations at the time */
	EclStatementStamp stamp;	/* the statement of the last call */
	uint32		stack_limit;	/* ecl.max_stack_depth at the time */
} EclPolicyCallCache;

/*
 * ecl_policy_lookup for a call site: within the same statement and command
 * the remembered policy as it is; later, the remembered policy while no
 * invalidation has arrived since, in the same transaction (an entry that
 * raced an invalidation lives only until its end) and under the same stack
 * limit; else a lookup, remembered in cxt.  name need not be NUL-terminated.
 */
const EclPolicy *ecl_policy_lookup_cached(EclPolicyCallCache *cache,
										  MemoryContext cxt,
										  const char *name, int name_len);

/* BLAKE2b-256 of bytes, as stored in ecl.policies.hash. */
void		ecl_policy_hash(const uint8 *bytes, size_t len,
							uint8 out[ECL_POLICY_HASH_BYTES]);

#endif							/* ECL_POLICY_CATALOG_H */
