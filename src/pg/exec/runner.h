/*
 * runner.h — THE runner: the one code path that executes every policy
 * (docs/sql-api.md, "Registered policies").  ecl.eval, ecl.run_policy, ecl.check, ecl.allowed, ecl.enforce,
 * the engine entry points, the gateway and ecl.simulate all fill an
 * EclRunRequest and call ecl_run(); none has a private copy of this path.
 *
 * ecl_run:
 *   0. a request that needs a caller and has none is denied without running
 *      (reason "no caller identity"), reported as a denied run,
 *      for a request with memoize, answers a run that repeats one of the
 *      same statement from the memo of runs (reported like any run),
 *   1. takes a memory context for the run (one emptied context is kept
 *      between runs),
 *   2. binds the host chosen by host_kind to the caller and realm,
 *   3. runs the VM with budgets (request values, else the GUCs), an interrupt
 *      hook doing CHECK_FOR_INTERRUPTS and the ecl.timeout_ms check,
 *   4. copies value, message, logs and events out into the caller's context
 *      (unless want_detail is false),
 *   5. reports the run to the statistics (docs/sql-api.md, "Statistics") — also when it ends in an
 *      error, before re-raising it (or, with deny_on_error, before turning
 *      it into a denial),
 *   6. empties the run's memory context (deletes it after an error).
 * Runtime errors are raised with ecl_raise (SQLSTATE of docs/sql-api.md, "Errors").  A denial
 * is not an error: out->passed = false.
 */
#ifndef ECL_RUNNER_H
#define ECL_RUNNER_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include "ecl/bytecode.h"
#include "ecl/vm.h"

typedef enum EclHostKind
{
	ECL_HOST_TABLES = 0,		/* the production host on ecl.* tables (SPI) */
	ECL_HOST_STATE				/* the state-only host over a JSON snapshot */
} EclHostKind;

typedef struct EclRunRequest
{
	const ecl_program *program; /* verified; owned by the caller (cache) */
	const char *policy_name;	/* for messages and statistics; NULL = ad hoc */
	const char *policy_type;	/* docs/sql-api.md, "Registered policies" kind: custom, crossing, api, ... */
	int64		policy_version; /* a registered policy's version, else 0 */
	const uint8 *policy_hash;	/* its 32-byte hash, NULL = not registered */
	const char *caller_did;		/* NULL = no caller */
	const char *realm_id;		/* NULL = no realm */
	Jsonb	   *input;			/* NULL = {} (or the fields below) */

	/*
	 * The input as field values (field_input.h) instead of a jsonb: the
	 * planner's rewrite of a call with jsonb_build_object(...) that stays in
	 * the VM.  Set after the request builder, with input NULL.
	 */
	const struct EclInputFields *fields;
	int64		gas_limit;		/* <= 0: ecl.gas_limit */
	int64		mana_limit;		/* <= 0: ecl.mana_limit */
	int			timeout_ms;		/* <= 0: ecl.timeout_ms */
	bool		read_only;		/* writes and emits raise 25006 */

	/*
	 * true: without a caller_did the run is denied without running the
	 * policy, message "no caller identity" (ecl.allowed: no identity, no
	 * access).
	 */
	bool		needs_caller;
	EclHostKind host_kind;
	Jsonb	   *state;			/* ECL_HOST_STATE: the snapshot */
	bool		track;			/* report to the statistics */

	/*
	 * false: the caller reads only passed, gas_used, mana_used and
	 * duration_us (ecl.check, ecl.allowed), so the value, message, logs and
	 * events are not built.
	 */
	bool		want_detail;

	/*
	 * true: a read-only table-host run may be answered from the statement's
	 * memo of runs when an identical one ran before (see runner.c).  Only
	 * for callers that do not want the detail.
	 */
	bool		memoize;

	/*
	 * ecl.check / ecl.allowed, evaluated once per row: under ecl.rate_limit
	 * the caller's account pays once per statement per (policy, caller) —
	 * the mana of the statement's costliest such run (see runner.c) —
	 * instead of once per run.
	 */
	bool		charge_per_statement;

	/*
	 * ecl.rls_errors = deny: a runtime error of the policy (an error value
	 * of the VM: type, missing field, division by zero, gas, mana budget,
	 * ecl.timeout_ms, stack, ...) ends the run as a denial that counts as an
	 * error, with one WARNING per statement and policy.  A refused rate-limit
	 * charge and errors arriving by longjmp (cancel, statement_timeout, SPI)
	 * still raise.  Only for callers that do not want the detail.
	 */
	bool		deny_on_error;

	/*
	 * ecl.explain: the VM's trace hook (vm.h), called at each require,
	 * branch, host call and return.  Only for callers that want the detail
	 * (no memo of runs answers a traced run).
	 */
	ecl_trace_fn trace;
	void	   *trace_ctx;

	/*
	 * The policy's shadow candidate (ecl.set_shadow), set by
	 * ecl_run_request_for_policy: after a tracked run that returns, the
	 * candidate runs with the same input, caller, realm and budgets, and its
	 * outcome is compared (runner.c, run_shadow).  shadow_program NULL with
	 * has_shadow: a candidate that could not be loaded (shadow_error), which
	 * counts as failing.  is_shadow marks the candidate's own request.
	 */
	bool		has_shadow;
	const ecl_program *shadow_program;
	const char *shadow_error;
	bool		is_shadow;
} EclRunRequest;

/* EclRunOutcome.shadow_result */
#define ECL_SHADOW_NONE			0	/* no candidate ran */
#define ECL_SHADOW_AGREED		1
#define ECL_SHADOW_DISAGREED	2

typedef struct EclRunOutcome
{
	bool		passed;
	Jsonb	   *value;			/* the value (false when denied) */
	char	   *message;		/* deny message or NULL */
	int64		gas_used;
	int64		mana_used;
	int64		duration_us;
	List	   *logs;			/* of char * */
	Jsonb	   *events;			/* JSON array of {event, payload} */
	Jsonb	   *writes;			/* ECL_HOST_STATE: JSON array of writes */
	bool		error_denied;	/* deny_on_error turned an error into !passed */
	int8		shadow_result;	/* ECL_SHADOW_*: the candidate's comparison */
} EclRunOutcome;

void		ecl_run(const EclRunRequest *req, EclRunOutcome *out);

/*
 * The one request builder: every entry point fills its request here and
 * then sets only what is its own (budgets, the snapshot of a simulation).
 * Flags say how the run is used:
 */
#define ECL_RUN_READ_ONLY	0x01	/* refuse a policy that writes (25006);
									 * writes and emits raise 25006 */
#define ECL_RUN_PER_ROW		0x02	/* ecl.check, ecl.allowed: only passed is
									 * read; memo of runs, rate limit charged
									 * per statement, ecl.rls_errors */
#define ECL_RUN_NEEDS_CALLER 0x04	/* no caller: denied without running */
#define ECL_RUN_SIMULATED	0x08	/* the state host, untracked */

/*
 * A run of program on the table host (the state host with
 * ECL_RUN_SIMULATED); name NULL = ad hoc.
 */
void		ecl_run_request_for_program(EclRunRequest *req,
										const ecl_program *program,
										const char *name, const char *kind,
										const char *caller, const char *realm,
										Jsonb *input, int flags);

/*
 * A run of a registered policy: its program, name and kind; realm NULL is
 * the realm the policy was registered for.
 */
struct EclPolicy;
void		ecl_run_request_for_policy(EclRunRequest *req,
									   const struct EclPolicy *policy,
									   const char *caller, const char *realm,
									   Jsonb *input, int flags);

#endif							/* ECL_RUNNER_H */
