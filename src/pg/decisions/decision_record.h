/*
 * decision_record.h — what the runner tells the decision log about one
 * run (docs/lifecycle.md, "Decision log").  The runner calls
 * ecl_decision_log_wanted once per run and, when it says yes,
 * ecl_decision_log_run once with the run's outcome; the record is built
 * here, filtered by ecl.decision_log and its sample rate, and queued
 * (decision_queue.h).
 */
#ifndef ECL_DECISION_RECORD_H
#define ECL_DECISION_RECORD_H

#include "postgres.h"

#include "decision_queue.h"
#include "runner.h"

typedef enum EclDecisionOutcome
{
	ECL_DECISION_PASSED,
	ECL_DECISION_DENIED,
	ECL_DECISION_ERROR
} EclDecisionOutcome;

/*
 * Cheap: may a decision of this request be logged at all?  Untracked runs
 * (ecl.simulate, ecl.replay) and traced ones (ecl.explain) are not
 * decisions about a request.
 */
static inline bool
ecl_decision_log_wanted(const EclRunRequest *req)
{
	return ecl_decision_log != ECL_DECISION_LOG_OFF && req->track &&
		req->trace == NULL && ecl_decision_queue_available();
}

/*
 * Log one decision.  message: the deny message or the error's text (NULL
 * for none); sqlerrcode: the error's SQLSTATE (ECL_DECISION_ERROR only).
 */
void		ecl_decision_log_run(const EclRunRequest *req,
								 EclDecisionOutcome outcome,
								 const char *message, int sqlerrcode,
								 int64 gas, int64 mana, int64 duration_us,
								 int8 shadow_result);

#endif							/* ECL_DECISION_RECORD_H */
