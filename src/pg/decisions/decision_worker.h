/*
 * decision_worker.h — the launcher and writers of the decision log
 * (decision_worker.c), and the one mapping of a queued record to a row of
 * ecl.decision_log (also what ecl.recent_decisions shows).
 */
#ifndef ECL_DECISION_WORKER_H
#define ECL_DECISION_WORKER_H

#include "postgres.h"

#include "decision_queue.h"

/* _PG_init, when preloaded */
void		ecl_decision_worker_register(void);

/*
 * The columns of ecl.decision_log after id, in order: at, datname, role,
 * caller, policy, version, hash, realm, input, input_digest, passed,
 * message, sqlstate, gas, mana, duration_us, query_id, shadow_disagreement.
 */
#define EclDecisionRowColumns 18

void		ecl_decision_row(const EclDecision *d, const char *datname,
							 Datum *values, bool *nulls);

#endif							/* ECL_DECISION_WORKER_H */
