/*
 * gateway.h — the unified crossing gateway (docs/sql-api.md, "The crossing gateway", plan phase 1.2).
 *
 * One function decides whether an identity may cross from one realm into
 * another: the static rule checks of the target realm (identity, minimum
 * trust, required credentials, required rule policies), then the realm's
 * optional ECL entry policy, run through THE runner (runner.h) with a budget
 * scaled by the caller's reliability.  ecl.validate_crossing,
 * ecl.allow_crossing and ecl.join_realm are thin SQL wrappers around it.
 *
 * Statistics: every evaluation reports exactly one crossing decision
 * (ecl_stats_record_crossing); the policy runs it makes are reported by the
 * runner itself.  An evaluation that ends in an SQL error after the realm
 * was found (a rule or entry policy failing at run time) is counted as a
 * denied crossing before the error propagates.
 */
#ifndef ECL_GATEWAY_H
#define ECL_GATEWAY_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "ecl/value.h"

typedef struct EclCrossing
{
	bool		allowed;		/* no violation */
	List	   *violations;		/* char *, in the order they were found */
	ecl_trust	original;		/* trust in the target realm (else global) */
	ecl_trust	dampened;		/* original × the realm's dampening factors */
	const char *policy;			/* the entry policy when it ran, else NULL */
	int64		gas_used;		/* summed over every ECL run of the decision */
	int64		mana_used;
	int64		duration_us;
} EclCrossing;

/*
 * Evaluate a crossing of did from from_realm into to_realm.  Raises 42704
 * when to_realm does not exist; everything else wrong with the crossing is
 * a violation in out->violations.  Runtime errors of the policies it runs
 * are raised as SQL errors (docs/sql-api.md, "Errors").  Results live in
 * CurrentMemoryContext.
 */
void		ecl_evaluate_crossing(const char *did, const char *from_realm,
								  const char *to_realm, EclCrossing *out);

#endif							/* ECL_GATEWAY_H */
