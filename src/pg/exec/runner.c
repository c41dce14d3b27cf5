/*
 * runner.c — THE runner (docs/sql-api.md, "Registered policies"): every policy execution, whatever the
 * entry point, goes through ecl_run().  See runner.h for the steps.
 *
 * Memory: everything a run allocates (VM stack, locals, strings, arrays,
 * converted input fields, collected logs) lives in one memory context that
 * is emptied when the run ends (deleted when it ends in an error), so a
 * million calls in one session leave the backend's memory flat.  The
 * outcome is copied into the caller's context first.
 *
 * Errors: a runtime fault comes back from the VM as an ecl_error value; the
 * statistics are told about it and then it is raised with ecl_raise.  Errors
 * that arrive by longjmp instead (query cancel, statement_timeout, a failing
 * SPI call in a host) pass through the PG_CATCH block, which reports them
 * too before re-raising.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "ecl/host.h"
#include "ecl/vm.h"

#include "decision_record.h"
#include "ecl_pg.h"
#include "field_input.h"
#include "statement_memo.h"
#include "host_state.h"
#include "host_tables.h"
#include "policy_catalog.h"
#include "rate_limit.h"
#include "run_clock.h"
#include "runner.h"
#include "stats.h"

/* -------------------------------------------------------------- the host */

/*
 * The host of a run, in run_fully's stack frame: room for any host kind's
 * context (each begins with its EclHostBase).
 */
typedef struct RunHostState
{
	union
	{
		EclHostBase base;
		EclTableHost table;
		EclStateHost state;
	}			host;

	/*
	 * The lazy jsonb input's state, here rather than palloc'd: a short run
	 * that allocates nothing leaves its memory context untouched, and
	 * resetting that costs nothing.
	 */
	union
	{
		char		bytes[Max(ECL_JSONB_INPUT_STATE_SIZE, ECL_FIELD_INPUT_STATE_SIZE)];
		double		align_double;
		void	   *align_pointer;
	}			input_state;
} RunHostState;

/*
 * The one place that picks the host kind of a run.  Everything after reads
 * the record: the runner has no other branch on the kind.
 */
static const EclHostOps *
host_ops_for(const EclRunRequest *req)
{
	switch (req->host_kind)
	{
		case ECL_HOST_TABLES:
			return &ecl_table_host_ops;
		case ECL_HOST_STATE:
			return &ecl_state_host_ops;
	}
	elog(ERROR, "ECL host kind %d does not exist", (int) req->host_kind);
	return NULL;				/* keep the compiler quiet */
}

/* ----------------------------------------------------------- interrupt hook */

typedef struct RunClock
{
	EclRunClock since;			/* run_clock.h */
	int			timeout_ms;		/* 0 = no ECL timeout */
} RunClock;

static int64
elapsed_ns(const RunClock *clock)
{
	return ecl_run_clock_elapsed_ns(&clock->since);
}

/* Called by the VM every few hundred instructions. */
static ecl_status
run_interrupt(void *ictx, ecl_error *err)
{
	RunClock   *clock = (RunClock *) ictx;

	/* query cancel, statement_timeout, termination: does not return */
	CHECK_FOR_INTERRUPTS();

	if (clock->timeout_ms > 0 &&
		elapsed_ns(clock) > (int64) clock->timeout_ms * 1000000)
		return ecl_error_set(err, ECL_ERR_TIMEOUT, 0, 0,
							 "policy exceeded ecl.timeout_ms (%d ms)",
							 clock->timeout_ms);
	return ECL_OK;
}

/* ---------------------------------------------------------------- statistics */

static EclRunStatus
status_for(const ecl_run_result *res, bool failed, bool rate_limited)
{
	if (!failed)
		return res->outcome == ECL_OUTCOME_PASSED ? ECL_RUN_PASSED : ECL_RUN_DENIED;
	if (rate_limited)
		return ECL_RUN_RATE_LIMITED;
	if (res->error.code == ECL_ERR_OUT_OF_GAS)
		return ECL_RUN_OUT_OF_GAS;
	return ECL_RUN_ERROR;
}

/*
 * Called exactly once per run: after a finished run, before a runtime error
 * is raised, and from PG_CATCH for errors that arrived by longjmp.
 */
static void
report_run(const EclRunRequest *req, EclRunStatus status, int64 gas_used,
		   int64 mana_used, int64 duration_ns, int64 events_emitted)
{
	EclRunReport report;

	if (!req->track)
		return;

	report.policy_name = req->policy_name;
	report.policy_type = req->policy_type;
	report.realm_id = req->realm_id;
	report.status = status;
	report.gas_used = gas_used;
	report.mana_used = mana_used;
	report.duration_ns = duration_ns;
	report.events_emitted = events_emitted;
	report.policy_version = req->policy_version;
	report.policy_hash = req->policy_hash;
	ecl_stats_record_run(&report);
}

/* ------------------------------------------------------------ preparing a run */

void
ecl_run_request_for_program(EclRunRequest *req, const ecl_program *program,
							const char *name, const char *kind,
							const char *caller, const char *realm,
							Jsonb *input, int flags)
{
	bool		per_row = (flags & ECL_RUN_PER_ROW) != 0;

	memset(req, 0, sizeof(*req));
	req->program = program;
	req->policy_name = name;
	req->policy_type = kind != NULL ? kind : "custom";
	req->caller_did = caller;
	req->realm_id = realm;
	req->input = input;
	req->read_only = (flags & ECL_RUN_READ_ONLY) != 0;
	req->needs_caller = (flags & ECL_RUN_NEEDS_CALLER) != 0;
	req->host_kind = (flags & ECL_RUN_SIMULATED) ? ECL_HOST_STATE
		: ECL_HOST_TABLES;
	req->track = (flags & ECL_RUN_SIMULATED) == 0;
	req->want_detail = !per_row;
	req->memoize = per_row;
	req->charge_per_statement = per_row;
	req->deny_on_error = per_row && ecl_rls_errors == ECL_RLS_ERRORS_DENY;

	if (req->read_only && program->writes)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("policy \"%s\" writes to a store or emits events and cannot run read-only",
						name ? name : "(ad hoc)"),
				 errhint("Use ecl.run_policy or ecl.enforce for policies that write.")));
}

void
ecl_run_request_for_policy(EclRunRequest *req, const EclPolicy *policy,
						   const char *caller, const char *realm,
						   Jsonb *input, int flags)
{
	ecl_run_request_for_program(req, policy->program, policy->name,
								policy->kind, caller,
								realm != NULL ? realm : policy->realm_id,
								input, flags);
	req->policy_version = policy->version;
	req->policy_hash = policy->hash;
	req->has_shadow = policy->has_shadow;
	req->shadow_program = policy->shadow;
	req->shadow_error = policy->shadow_error;
}

static Jsonb *
copy_jsonb(Jsonb *jb, MemoryContext cxt)
{
	Jsonb	   *copy = MemoryContextAlloc(cxt, VARSIZE(jb));

	memcpy(copy, jb, VARSIZE(jb));
	return copy;
}

/* [] for runs without events: parsed once per backend, then copied */
static Jsonb *
empty_json_array(void)
{
	static Jsonb *empty = NULL;

	if (empty == NULL)
	{
		Jsonb	   *parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																CStringGetDatum("[]")));

		empty = copy_jsonb(parsed, TopMemoryContext);
		pfree(parsed);
	}
	return copy_jsonb(empty, CurrentMemoryContext);
}

static void
check_input_shape(const EclRunRequest *req)
{
	if (req->input != NULL &&
		(!JB_ROOT_IS_OBJECT(req->input) || JB_ROOT_IS_SCALAR(req->input)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("input must be a JSON object")));
}

/* Build the VM's view of the run: allocator, context values, input, limits. */
static void
prepare_context(const EclRunRequest *req, const EclHostOps *ops,
				ecl_run_ctx *ctx, const ecl_alloc *alloc, RunHostState *hs,
				RunClock *clock)
{
	ecl_error	err;

	ecl_error_clear(&err);
	/* every field is set below (no memset: this runs once per row) */
	ctx->alloc = alloc;
	ops->begin(&hs->host, req, alloc);
	ctx->host = ops->vtable;
	ctx->host_ctx = &hs->host;

	/*
	 * A read-only transaction (every transaction on a hot standby, or
	 * transaction_read_only) cannot keep a write of the table host: refuse
	 * it in the VM, at the instruction that writes, with 25006 and the
	 * policy's line, rather than deep in SPI.  Runs that do not write are
	 * unaffected; the state host writes only to its change list.
	 */
	ctx->read_only = req->read_only || (ops->live && XactReadOnly);

	ctx->caller = ecl_null();
	if (req->caller_did != NULL &&
		ecl_did_new(alloc, req->caller_did, strlen(req->caller_did),
					&ctx->caller, &err) != ECL_OK)
		ecl_raise(&err, req->policy_name);
	ctx->realm = ecl_null();
	if (req->realm_id != NULL &&
		ecl_string_new(alloc, req->realm_id, strlen(req->realm_id),
					   &ctx->realm, &err) != ECL_OK)
		ecl_raise(&err, req->policy_name);

	if (req->fields != NULL)
		ecl_input_from_fields(&ctx->input, req->fields, hs->input_state.bytes);
	else if (req->input != NULL)
	{
		check_input_shape(req);
		ecl_input_from_jsonb(&ctx->input, req->input, hs->input_state.bytes);
	}
	else
	{
		ecl_value  *empty = palloc(sizeof(ecl_value));

		if (ecl_object_new(alloc, 0, empty, &err) != ECL_OK)
			ecl_raise(&err, req->policy_name);
		ecl_input_from_value(&ctx->input, empty);
	}

	ctx->limits.gas_limit = req->gas_limit > 0 ? req->gas_limit : ecl_gas_limit;
	ctx->limits.mana_limit = req->mana_limit > 0 ? req->mana_limit : ecl_mana_limit;
	ctx->limits.max_steps = 0;
	ctx->limits.max_stack_depth = (uint32_t) ecl_max_stack_depth;
	ctx->interrupt = run_interrupt;
	ctx->interrupt_ctx = clock;
	ctx->trace = req->trace;
	ctx->trace_ctx = req->trace_ctx;
	ctx->coverage = NULL;
}

/* One VM execution, as handed to the table host's transaction wrapper. */
typedef struct VmCall
{
	const EclRunRequest *req;
	const EclHostOps *ops;
	const ecl_run_ctx *ctx;
	ecl_run_result *res;
	RunHostState *hs;
	ecl_status	status;
	bool		rate_limited;
} VmCall;

/*
 * Charge the run's mana to the caller's account (docs/sql-api.md, "Registered policies", ecl.rate_limit).
 * The mana of a run is known only when the VM is done, so the charge comes
 * after it but before the run's writes are kept: a refused charge turns the
 * run into an EC003 error and its writes are rolled back with it.  The
 * account's size follows the caller's reliability in the run's realm.
 *
 * ecl.check and ecl.allowed run once per row, so they pay once per
 * statement per (policy, caller) — "statement" as the host memo counts it
 * (statement_memo.h): the first run pays its mana, and a later run of the same
 * statement that costs more pays the difference, so the statement pays the
 * mana of its costliest run of that policy for that caller.  Paying the
 * first run's mana alone would let the order of the rows decide the price.
 * The record lives in the lookup memo: if that is cleared at its bound
 * mid-statement, the next run pays again (stricter, never more lenient).
 * Several statements of one simple-query message that change nothing share
 * the memo's stamp and so pay once (docs/sql-api.md says so).
 */
static void
charge_rate_limit(VmCall *call)
{
	const EclRunRequest *req = call->req;
	ecl_run_result *res = call->res;
	ecl_trust	trust;
	ecl_error	err;
	double		reliability = 0.0;
	double		retry_after = 0.0;
	const ecl_string *did;
	const char *policy = req->policy_name ? req->policy_name : "";
	int64		cost = res->mana_used;

	/* a shadow candidate's costs are never the caller's */
	if (!ecl_rate_limit || req->caller_did == NULL || !call->ops->live ||
		req->is_shadow || !ecl_rate_limit_available())
		return;

	if (req->charge_per_statement)
	{
		EclMemoValue paid;

		if (ecl_memo_get(ECL_MEMO_CHARGE, policy, strlen(policy),
						 req->caller_did, strlen(req->caller_did), &paid))
		{
			if (res->mana_used <= paid.u.run.mana_used)
				return;
			cost = res->mana_used - paid.u.run.mana_used;
		}
	}

	/* the caller's reliability as the run's host sees it (memoized) */
	did = call->ctx->caller.u.str;
	if (call->ctx->host->load_trust(call->ctx->host_ctx, did, &trust,
									&err) == ECL_OK)
		reliability = trust.dim[0];

	if (ecl_rate_limit_charge(req->caller_did, reliability, cost,
							  &retry_after))
	{
		if (req->charge_per_statement)
		{
			EclMemoValue paid;

			memset(&paid, 0, sizeof(paid));
			paid.u.run.mana_used = res->mana_used;
			ecl_memo_put(ECL_MEMO_CHARGE, policy, strlen(policy),
						 req->caller_did, strlen(req->caller_did), &paid);
		}
		return;
	}

	call->rate_limited = true;
	call->status = ECL_FAIL;
	res->outcome = ECL_OUTCOME_ERROR;
	if (retry_after < 0)
		ecl_error_set(&res->error, ECL_ERR_MANA, 0, 0,
					  "rate limited: the run needs %lld mana, more than the account of %s can ever hold",
					  (long long) cost, req->caller_did);
	else
		ecl_error_set(&res->error, ECL_ERR_MANA, 0, 0,
					  "rate limited: the mana account of %s is exhausted; retry after %.1f seconds",
					  req->caller_did, retry_after);
}

/*
 * ecl.rls_errors = deny: say once per statement and policy which error hid
 * rows, instead of once per row.
 */
static void
warn_denied_error(const EclRunRequest *req, const ecl_error *error)
{
	const char *policy = req->policy_name ? req->policy_name : "";
	EclMemoValue warned;

	if (ecl_memo_get(ECL_MEMO_WARNED, policy, strlen(policy), "", 0, &warned))
		return;
	ereport(WARNING,
			(errcode(ecl_sqlstate_for(error->code)),
			 errmsg("rows hidden where the policy fails (ecl.rls_errors = deny): %s",
					ecl_error_text(error, req->policy_name)),
			 errdetail("The failing runs count as errors in the statistics; this warning names the first error of the statement for this policy.")));
	memset(&warned, 0, sizeof(warned));
	warned.flag = true;
	ecl_memo_put(ECL_MEMO_WARNED, policy, strlen(policy), "", 0, &warned);
}

/* Returns true when the run's writes are to be kept (it passed). */
static bool
run_vm(void *arg)
{
	VmCall	   *call = (VmCall *) arg;
	const ecl_program *p = call->req->program;

	/*
	 * A cached program was verified against the stack limit in force when
	 * it was loaded; the limit may have been lowered since.
	 */
	if (p->max_stack > call->ctx->limits.max_stack_depth)
	{
		call->status = ecl_error_set(&call->res->error, ECL_ERR_STACK, 0, 0,
									 "program needs a stack of %u values, the limit is %u",
									 p->max_stack,
									 call->ctx->limits.max_stack_depth);
		call->res->outcome = ECL_OUTCOME_ERROR;
		return false;
	}

	call->status = ecl_vm_run(p, call->ctx, call->res);
	charge_rate_limit(call);
	/* a shadow candidate's writes and events are never kept */
	return call->status == ECL_OK && call->res->outcome == ECL_OUTCOME_PASSED &&
		!call->req->is_shadow;
}

/* ------------------------------------------------------------- run memory */

/*
 * The memory context of a run.  Creating and deleting an AllocSet per run is
 * a measurable part of a short run, so one emptied context is kept between
 * runs and reused; a nested run (a policy whose lookup fires an RLS policy
 * that calls ecl.allowed) finds none spare and creates its own.
 */
static MemoryContext spare_run_cxt = NULL;

static MemoryContext
take_run_context(MemoryContext parent)
{
	MemoryContext cxt = spare_run_cxt;

	if (cxt == NULL)
		return AllocSetContextCreate(parent, "ecl run", ALLOCSET_DEFAULT_SIZES);
	spare_run_cxt = NULL;
	return cxt;
}

/*
 * After a finished run: empty it and keep it, or delete it.  The kept one
 * stays where it is (under the caller's context of the run that created
 * it, or under TopMemoryContext): an error in a later run deletes the
 * context in use explicitly, so nothing depends on the parent.
 */
static void
give_back_run_context(MemoryContext cxt)
{
	if (spare_run_cxt != NULL)
	{
		MemoryContextDelete(cxt);
		return;
	}
	MemoryContextReset(cxt);
	if (cxt->parent != TopMemoryContext)
		MemoryContextSetParent(cxt, TopMemoryContext);
	spare_run_cxt = cxt;
}

/* ---------------------------------------------------------- memo of runs */

/*
 * A read-only run on the table host is a function of its program, caller,
 * realm, input and limits, and of what its lookups read, which the host
 * memo (statement_memo.h) already holds fixed for the statement.  An identical
 * run later in the same statement therefore ends the same way with the same
 * gas and mana, so ecl.check in a WHERE clause over many rows of a few
 * callers (docs/performance.md B1) answers repeats from a memo of runs, as PostgreSQL's
 * Memoize node answers a repeated inner scan.  A memoized answer is still
 * counted as a run, with the gas and mana of the run it repeats; only its
 * DEBUG1 log lines are not repeated.
 *
 * Not memoized: programs that never call the host (redoing them is as cheap
 * as the lookup), programs that read a metric (the statistics move with
 * every run, this one included), runs under ecl.rate_limit that pay per run
 * (every run draws mana from the caller's account) and runs whose error
 * ecl.rls_errors = deny hid (each counts as an error).  Under ecl.rate_limit
 * a run paid per statement (ecl.check, ecl.allowed) is memoized: the run it
 * repeats was paid for in this statement with at least its mana (a refused
 * charge raised and stored nothing), so the answer owes nothing more.  The
 * memo of runs has the host memo's bound (ECL_MEMO_MAX entries per
 * statement).
 */
#define RUN_MEMO_KEY_INLINE 256

typedef struct RunMemoKey
{
	char	   *bytes;			/* fixed header, caller, NUL, realm */
	size_t		len;
	const char *input;			/* the input's bytes, or "" */
	size_t		input_len;
	char		inline_bytes[RUN_MEMO_KEY_INLINE];
} RunMemoKey;

typedef struct RunMemoHeader
{
	const ecl_program *program; /* stable within a statement (policy_catalog.h) */
	int64		gas_limit;
	int64		mana_limit;
} RunMemoHeader;

static bool
run_memo_usable(const EclRunRequest *req, const EclHostOps *ops)
{
	if (!req->memoize || !req->read_only || !ops->live ||
		!req->program->uses_host || req->program->reads_metrics ||
		(ecl_rate_limit && !req->charge_per_statement))
		return false;
	Assert(!req->want_detail);
	return true;
}

static void
run_memo_key(const EclRunRequest *req, RunMemoKey *key)
{
	RunMemoHeader header;
	const char *caller = req->caller_did ? req->caller_did : "";
	const char *realm = req->realm_id ? req->realm_id : "";
	size_t		caller_len = strlen(caller);
	size_t		realm_len = strlen(realm);
	char	   *p;

	memset(&header, 0, sizeof(header));
	header.program = req->program;
	header.gas_limit = req->gas_limit > 0 ? req->gas_limit : ecl_gas_limit;
	header.mana_limit = req->mana_limit > 0 ? req->mana_limit : ecl_mana_limit;

	key->len = sizeof(header) + caller_len + 1 + realm_len;
	key->bytes = key->len <= RUN_MEMO_KEY_INLINE ? key->inline_bytes
		: palloc(key->len);
	p = key->bytes;
	memcpy(p, &header, sizeof(header));
	p += sizeof(header);
	memcpy(p, caller, caller_len);
	p += caller_len;
	*p++ = '\0';
	memcpy(p, realm, realm_len);

	if (req->fields != NULL)
	{
		StringInfoData fields_key;

		initStringInfo(&fields_key);
		ecl_input_fields_memo_key(req->fields, &fields_key);
		key->input = fields_key.data;
		key->input_len = fields_key.len;
		return;
	}
	key->input = req->input ? (const char *) req->input : "";
	key->input_len = req->input ? VARSIZE(req->input) : 0;
}

/* Answer the run from the memo: true when it was there. */
static bool
run_memo_answer(const EclRunRequest *req, const RunMemoKey *key,
				EclRunOutcome *out)
{
	EclMemoValue mv;

	if (!ecl_memo_get(ECL_MEMO_RUN, key->bytes, key->len,
					  key->input, key->input_len, &mv))
		return false;

	memset(out, 0, sizeof(*out));
	out->passed = mv.flag;
	out->gas_used = mv.u.run.gas_used;
	out->mana_used = mv.u.run.mana_used;

	/*
	 * An answer from the memo is not timed: it takes about 100 ns, and two
	 * clock reads would add 15 ns to each.  Its duration counts as 0.
	 */
	out->duration_us = 0;

	report_run(req, out->passed ? ECL_RUN_PASSED : ECL_RUN_DENIED,
			   out->gas_used, out->mana_used, 0, 0);
	return true;
}

static void
run_memo_store(const RunMemoKey *key, const EclRunOutcome *out)
{
	EclMemoValue mv;

	memset(&mv, 0, sizeof(mv));
	mv.flag = out->passed;
	mv.u.run.gas_used = out->gas_used;
	mv.u.run.mana_used = out->mana_used;
	ecl_memo_put(ECL_MEMO_RUN, key->bytes, key->len, key->input,
				 key->input_len, &mv);
}

/* ------------------------------------------------------------------- the run */

/*
 * What run_fully tells ecl_run for the decision log (decision_record.h):
 * a run that ends normally (passed, denied, or an error hidden by
 * ecl.rls_errors = deny) is logged by ecl_run once the shadow's verdict is
 * known; a run that raises is logged by run_fully before the error leaves.
 */
typedef struct DecisionNote
{
	bool		wanted;			/* ecl_decision_log_wanted */
	bool		error;			/* an error became a denial */
	int			sqlerrcode;
	char		message[ECL_DECISION_MESSAGE_LEN];
	bool		has_message;
} DecisionNote;

static void
note_message(DecisionNote *note, const char *message)
{
	if (!note->wanted || message == NULL)
		return;
	strlcpy(note->message, message, sizeof(note->message));
	note->has_message = true;
}

/* a run that raises: log it now, with the error's text and SQLSTATE */
static void
log_raised(const EclRunRequest *req, const DecisionNote *note, int sqlerrcode,
		   const char *message, int64 gas, int64 mana, int64 duration_ns)
{
	if (note->wanted)
		ecl_decision_log_run(req, ECL_DECISION_ERROR, message, sqlerrcode,
							 gas, mana, duration_ns / 1000, 0);
}

static void
run_fully(const EclRunRequest *req, const EclHostOps *ops, EclRunOutcome *out,
		  DecisionNote *note)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	MemoryContext run_cxt;
	ecl_alloc	alloc;
	EclRunMemory memory;
	RunHostState hs;
	RunClock	clock;
	ecl_run_ctx ctx;
	ecl_run_result res;
	VmCall		call;
	volatile bool reported = false;

	Assert(req->program != NULL);
	memset(out, 0, sizeof(*out));
	/* what an error before the VM starts reports; the VM sets all of res */
	res.outcome = ECL_OUTCOME_ERROR;
	res.gas_used = 0;
	res.mana_used = 0;
	res.error.code = ECL_ERR_NONE;
	res.error.message[0] = '\0';
	res.error.policy[0] = '\0';
	/* the host is set up by prepare_context */

	run_cxt = take_run_context(caller_cxt);
	/* ecl.memory_limit: everything in run_cxt counts (pg_alloc.c) */
	ecl_run_memory_begin(&memory, run_cxt, (Size) ecl_memory_limit_kb * 1024,
						 &alloc);

	ecl_run_clock_start(&clock.since);
	clock.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : ecl_timeout_ms;

	PG_TRY();
	{
		int64		duration_ns;
		int64		events_emitted;
		List	   *logs;

		MemoryContextSwitchTo(run_cxt);
		prepare_context(req, ops, &ctx, &alloc, &hs, &clock);

		memset(&call, 0, sizeof(call));
		call.req = req;
		call.ops = ops;
		call.ctx = &ctx;
		call.res = &res;
		call.hs = &hs;
		ops->execute(&hs.host, req->program->writes && !ctx.read_only,
					 run_vm, &call);

		duration_ns = elapsed_ns(&clock);
		logs = hs.host.base.logs;
		events_emitted = hs.host.base.events_emitted;
		MemoryContextSwitchTo(caller_cxt);

		if (call.status != ECL_OK)
		{
			reported = true;
			report_run(req, status_for(&res, true, call.rate_limited),
					   res.gas_used, res.mana_used, duration_ns, 0);
			if (note->wanted && (call.rate_limited || !req->deny_on_error))
			{
				char	   *text = ecl_error_text(&res.error, req->policy_name);

				log_raised(req, note, ecl_sqlstate_for(res.error.code),
						   call.rate_limited ? res.error.message : text,
						   res.gas_used, res.mana_used, duration_ns);
				pfree(text);
			}
			if (call.rate_limited)
				ereport(ERROR,
						(errcode(ecl_sqlstate_for(ECL_ERR_MANA)),
						 errmsg("%s", res.error.message),
						 errhint("Raise the caller's reliability, wait, or turn ecl.rate_limit off.")));
			if (!req->deny_on_error)
				ecl_raise(&res.error, req->policy_name);
			/* counted as an error above; the row is hidden */
			Assert(!req->want_detail);
			res.outcome = ECL_OUTCOME_ERROR;
			if (!req->is_shadow)
				warn_denied_error(req, &res.error);
			out->error_denied = true;
			if (note->wanted)
			{
				char	   *text = ecl_error_text(&res.error, req->policy_name);

				note->error = true;
				note->sqlerrcode = ecl_sqlstate_for(res.error.code);
				note_message(note, text);
				pfree(text);
			}
		}
		else
			note_message(note, res.message);

		/* Build the outcome in the run's context, then copy it out. */
		out->passed = res.outcome == ECL_OUTCOME_PASSED;
		out->gas_used = res.gas_used;
		out->mana_used = res.mana_used;
		out->duration_us = duration_ns / 1000;
		if (req->want_detail)
		{
			Jsonb	   *value;
			ListCell   *lc;

			MemoryContextSwitchTo(run_cxt);
			value = ecl_value_to_jsonb_budget(res.value, "converting the result",
											  &res.error);
			MemoryContextSwitchTo(caller_cxt);
			if (value == NULL)
			{
				reported = true;
				report_run(req, ECL_RUN_ERROR, res.gas_used, res.mana_used,
						   duration_ns, 0);
				if (note->wanted)
				{
					char	   *text = ecl_error_text(&res.error, req->policy_name);

					log_raised(req, note, ecl_sqlstate_for(res.error.code),
							   text, res.gas_used, res.mana_used, duration_ns);
					pfree(text);
				}
				ecl_raise(&res.error, req->policy_name);
			}
			out->value = copy_jsonb(value, caller_cxt);
			out->message = res.message ? pstrdup(res.message) : NULL;
			foreach(lc, logs)
				out->logs = lappend(out->logs, pstrdup((char *) lfirst(lc)));
			/* a run that did not pass keeps no events and no writes */
			out->events = hs.host.base.events != NIL
				? ecl_host_events(&hs.host.base, out->passed)
				: empty_json_array();
			out->writes = ops->writes != NULL
				? ops->writes(&hs.host, out->passed) : NULL;
		}

		if (!reported)
		{
			reported = true;
			report_run(req, status_for(&res, false, false), res.gas_used,
					   res.mana_used, duration_ns, events_emitted);
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_cxt);
		ecl_run_memory_end(&memory);
		if (!reported)
		{
			report_run(req, ECL_RUN_ERROR, res.gas_used, res.mana_used,
					   elapsed_ns(&clock), 0);
			if (note->wanted)
			{
				ErrorData  *edata = CopyErrorData();

				log_raised(req, note, edata->sqlerrcode, edata->message,
						   res.gas_used, res.mana_used, elapsed_ns(&clock));
				FreeErrorData(edata);
			}
		}
		/* the error data lives in ErrorContext, not here */
		MemoryContextDelete(run_cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	ecl_run_memory_end(&memory);
	give_back_run_context(run_cxt);
}

/*
 * No identity, no access: a request that needs a caller and has none is
 * denied before anything runs, and counted like any other denial.
 */
#define NO_CALLER_MESSAGE "no caller identity"

static void
deny_without_caller(const EclRunRequest *req, EclRunOutcome *out)
{
	bool		log_it = ecl_decision_log_wanted(req);

	/* bad input is still an error, whoever asks */
	check_input_shape(req);

	memset(out, 0, sizeof(*out));
	out->passed = false;
	if (req->want_detail)
	{
		out->value = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
														CStringGetDatum("false")));
		out->message = pstrdup(NO_CALLER_MESSAGE);
		out->events = empty_json_array();
	}
	elog(DEBUG1, "ecl policy \"%s\" denied: " NO_CALLER_MESSAGE,
		 req->policy_name ? req->policy_name : "(ad hoc)");
	report_run(req, ECL_RUN_DENIED, 0, 0, 0, 0);
	if (log_it)
		ecl_decision_log_run(req, ECL_DECISION_DENIED, NO_CALLER_MESSAGE, 0,
							 0, 0, 0, 0);
}

/* ------------------------------------------------------- shadow candidate */

typedef enum ShadowOutcome
{
	SHADOW_PASSED,
	SHADOW_DENIED,
	SHADOW_FAILED
} ShadowOutcome;

static const char *
shadow_outcome_name(ShadowOutcome o)
{
	return o == SHADOW_PASSED ? "passed" : o == SHADOW_DENIED ? "denied" : "failed";
}

/*
 * Errors that must reach the caller even from the candidate: the user or
 * the server wants the statement to end.
 */
static bool
error_ends_statement(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_QUERY_CANCELED ||
		sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

/*
 * Run the candidate of sreq's policy; *why gets the error of a failing
 * candidate.  A candidate that calls the host runs inside a subtransaction
 * that is always rolled back: an error arriving by longjmp (SPI, a lookup)
 * is caught and becomes its outcome, and whatever it wrote or emitted is
 * undone with it (the table host keeps nothing of a shadow run anyway, see
 * run_vm).  PostgreSQL allows no subtransaction while a parallel plan runs,
 * so there such a candidate does not run: false, nothing counted.  A
 * candidate that never calls the host needs no subtransaction: the VM
 * returns its errors as values, and only a cancel can arrive by longjmp.
 */
static bool
run_candidate(const EclRunRequest *sreq, ShadowOutcome *outcome, char **why)
{
	const EclHostOps *ops = host_ops_for(sreq);
	EclRunOutcome sout;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	DecisionNote no_decision;

	no_decision.wanted = false;	/* the candidate's runs are no decisions */
	no_decision.error = false;
	no_decision.has_message = false;
	*why = NULL;
	if (!sreq->program->uses_host && !sreq->program->writes)
	{
		run_fully(sreq, ops, &sout, &no_decision);
		*outcome = sout.error_denied ? SHADOW_FAILED
			: sout.passed ? SHADOW_PASSED : SHADOW_DENIED;
		return true;
	}
	if (IsInParallelMode())
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		run_fully(sreq, ops, &sout, &no_decision);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		*outcome = sout.error_denied ? SHADOW_FAILED
			: sout.passed ? SHADOW_PASSED : SHADOW_DENIED;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (error_ends_statement(edata->sqlerrcode))
			ReThrowError(edata);
		*outcome = SHADOW_FAILED;
		*why = edata->message ? pstrdup(edata->message) : NULL;
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return true;
}

/*
 * One LOG line per statement and policy at most: a candidate that disagrees
 * on every row of a big scan must not flood the log.  The counts are exact
 * in ecl.stat_eclvm_policies.
 */
static void
log_disagreement(const EclRunRequest *req, ShadowOutcome current,
				 ShadowOutcome candidate, const char *why)
{
	const char *policy = req->policy_name ? req->policy_name : "";
	EclMemoValue logged;

	if (ecl_memo_get(ECL_MEMO_SHADOW_LOGGED, policy, strlen(policy), "", 0,
					 &logged))
		return;
	ereport(LOG,
			(errmsg("ecl policy \"%s\": the shadow candidate %s where the current version %s",
					policy, shadow_outcome_name(candidate),
					shadow_outcome_name(current)),
			 why != NULL ? errdetail("The candidate failed: %s", why) : 0,
			 errhint("Further disagreements of this statement are counted in ecl.stat_eclvm_policies.shadow_disagreements, not logged.")));
	memset(&logged, 0, sizeof(logged));
	logged.flag = true;
	ecl_memo_put(ECL_MEMO_SHADOW_LOGGED, policy, strlen(policy), "", 0, &logged);
}

/*
 * After a tracked run of a policy with a candidate returned out: run the
 * candidate on the same request, compare, count, log.  The candidate is
 * never answered from the memo of runs and never memoized, so every call of
 * the policy that returns (a memoized answer included) is one shadow run.
 * Its gas and mana are not added to out, its run is not counted as a call,
 * the rate limiter does not charge it, and nothing it wrote is kept.
 * Compared is the outcome only: passed, denied, or failed (an error, which
 * for the current version means one ecl.rls_errors = deny hid); the value
 * and the message are not.
 */
static void
run_shadow(const EclRunRequest *req, EclRunOutcome *out)
{
	EclRunRequest sreq = *req;
	ShadowOutcome current;
	ShadowOutcome candidate;
	char	   *why = NULL;
	bool		disagreed;

	current = out->error_denied ? SHADOW_FAILED
		: out->passed ? SHADOW_PASSED : SHADOW_DENIED;

	if (req->needs_caller && req->caller_did == NULL)
		candidate = SHADOW_DENIED;	/* denied without running, like the policy */
	else if (req->shadow_program == NULL)
	{
		candidate = SHADOW_FAILED;
		why = (char *) req->shadow_error;
	}
	else
	{
		sreq.program = req->shadow_program;
		sreq.has_shadow = false;
		sreq.shadow_program = NULL;
		sreq.is_shadow = true;
		sreq.track = false;
		sreq.want_detail = false;
		sreq.memoize = false;
		sreq.charge_per_statement = false;
		sreq.deny_on_error = true;	/* its errors are its outcome */
		sreq.trace = NULL;
		sreq.trace_ctx = NULL;
		if (!run_candidate(&sreq, &candidate, &why))
			return;
	}

	disagreed = candidate != current;
	out->shadow_result = disagreed ? ECL_SHADOW_DISAGREED : ECL_SHADOW_AGREED;
	ecl_stats_record_shadow(req->policy_name, req->policy_type, req->realm_id,
							req->policy_version, disagreed);
	if (disagreed)
		log_disagreement(req, current, candidate, why);
}

void
ecl_run(const EclRunRequest *req, EclRunOutcome *out)
{
	const EclHostOps *ops = host_ops_for(req);
	RunMemoKey	key;
	bool		memo = false;
	DecisionNote note;

	/* not zeroed whole: its message buffer is written only when wanted */
	note.wanted = false;
	note.error = false;
	note.sqlerrcode = 0;
	note.has_message = false;

	if (req->needs_caller && req->caller_did == NULL)
		deny_without_caller(req, out);
	else
	{
		memo = run_memo_usable(req, ops);
		if (memo)
			run_memo_key(req, &key);
		if (!memo || !run_memo_answer(req, &key, out))
		{
			note.wanted = ecl_decision_log_wanted(req);
			run_fully(req, ops, out, &note);
			/* a hidden error is not a denial: its repeats run, and count, again */
			if (memo && !out->error_denied)
				run_memo_store(&key, out);
		}
	}
	/* before the decision is logged: the record carries its verdict */
	if (unlikely(req->has_shadow) && req->track)
		run_shadow(req, out);

	/*
	 * One record per run of the VM: an answer from the memo of runs
	 * repeats a decision of this statement and is not logged again.
	 */
	if (note.wanted)
		ecl_decision_log_run(req,
							 note.error ? ECL_DECISION_ERROR
							 : out->passed ? ECL_DECISION_PASSED
							 : ECL_DECISION_DENIED,
							 note.has_message ? note.message : NULL,
							 note.sqlerrcode,
							 out->gas_used, out->mana_used, out->duration_us,
							 out->shadow_result);
}
