/*
 * vm.h — the ECLVM: runs one verified program once (docs/language.md §7, §8; docs/sql-api.md, "Registered policies").
 *
 * The VM is a loop over instruction words with a value stack of
 * program->max_stack entries and program->nlocals locals, kept in the VM's
 * own C frame when they are small, else allocated once per run from
 * ctx->alloc.  Numbers and booleans never allocate.  Every
 * instruction charges its gas before it executes; host instructions in the
 * NETWORK/STORAGE layers also charge that gas as mana.  Every
 * ECL_INTERRUPT_INTERVAL steps (and on every backward jump budget check) the
 * VM calls ctx->interrupt so the embedder can honour cancel and timeouts.
 */
#ifndef ECL_VM_H
#define ECL_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/bytecode.h"
#include "ecl/error.h"
#include "ecl/host.h"
#include "ecl/value.h"

#define ECL_INTERRUPT_INTERVAL 1024

/*
 * Called periodically; return ECL_FAIL with err set (e.g. ECL_ERR_TIMEOUT)
 * to stop the run.  In the backend it may also not return at all
 * (CHECK_FOR_INTERRUPTS): the VM holds nothing that outlives ctx->alloc.
 */
typedef ecl_status (*ecl_interrupt_fn) (void *ictx, ecl_error *err);

/*
 * The input object, possibly lazy: the backend looks single fields up in the
 * jsonb without converting all of it.  get_field sets *found = false when the
 * field is absent.  materialize builds the whole object (for `input`).
 * The VM passes names from the program's constant pool, which do not move
 * or change during a run, so a source may remember fields by name pointer.
 */
typedef struct ecl_input_source
{
	ecl_status	(*get_field) (void *ictx, const ecl_alloc *a,
							  const char *name, size_t len,
							  ecl_value *out, bool *found, ecl_error *err);
	ecl_status	(*materialize) (void *ictx, const ecl_alloc *a,
								ecl_value *out, ecl_error *err);
	void	   *ctx;
} ecl_input_source;

/* An input source over an existing object value (v must outlive the run). */
void		ecl_input_from_value(ecl_input_source *src, const ecl_value *v);

typedef struct ecl_limits
{
	int64_t		gas_limit;		/* > 0 */
	int64_t		mana_limit;		/* > 0 */
	uint64_t	max_steps;		/* 0 = no step limit beyond gas */
	uint32_t	max_stack_depth;	/* programs needing more fail (ECL_ERR_STACK) */
} ecl_limits;

/*
 * Tracing (ecl.explain, `ecl explain`): what a run decided, reported at the
 * instructions that decide, never per instruction.  A traced run takes the
 * VM's slow path at every instruction (the budget check sees a limit of
 * zero), so an untraced run pays nothing for the hook.
 */
typedef enum ecl_trace_kind
{
	ECL_TRACE_REQUIRE,			/* REQUIRE/ASSERT: passed, message */
	ECL_TRACE_BRANCH,			/* JUMP_IF_FALSE/TRUE: value = the condition, jumped */
	ECL_TRACE_SHORT_CIRCUIT,	/* AND/OR: value = the left operand, jumped */
	ECL_TRACE_HOST_CALL,		/* an ECL_F_HOST instruction: args, value = result */
	ECL_TRACE_RETURN,			/* value = the returned value, passed */
	ECL_TRACE_DENY				/* DENY: message */
} ecl_trace_kind;

#define ECL_TRACE_MAX_ARGS 8

typedef struct ecl_trace_event
{
	ecl_trace_kind kind;
	ecl_opcode	op;
	uint32_t	pc;
	uint32_t	line;
	uint32_t	column;
	int64_t		gas;			/* used so far, this instruction included */
	ecl_value	value;
	bool		passed;			/* REQUIRE, RETURN */
	bool		jumped;			/* BRANCH, SHORT_CIRCUIT */
	bool		failed;			/* HOST_CALL: the call raised the run's error */
	const char *message;		/* REQUIRE, DENY: the deny message or NULL */
	const ecl_value *args;		/* HOST_CALL */
	uint32_t	nargs;
} ecl_trace_event;

/* Called for each event; the event and its values live until the run ends. */
typedef void (*ecl_trace_fn) (void *tctx, const ecl_trace_event *ev);

/*
 * What ecl.explain and `ecl explain` show of an event (trace.c): its name
 * ("require", "branch", "and", "or", "host_call", "return", "deny") and
 * its detail as a JSON object, written into memory from a.
 */
const char *ecl_trace_event_name(const ecl_trace_event *ev);
ecl_status	ecl_trace_event_detail(const ecl_alloc *a, const ecl_trace_event *ev,
								   char **json, size_t *len, ecl_error *err);

typedef struct ecl_run_ctx
{
	const ecl_alloc *alloc;		/* run-scoped memory, released by the caller */
	const ecl_host *host;		/* never NULL; &ecl_no_host for none */
	void	   *host_ctx;
	ecl_value	caller;			/* did or null */
	ecl_value	realm;			/* string or null */
	ecl_input_source input;
	bool		read_only;
	ecl_limits	limits;
	ecl_interrupt_fn interrupt;	/* may be NULL */
	void	   *interrupt_ctx;
	ecl_trace_fn trace;			/* NULL: an ordinary run */
	void	   *trace_ctx;

	/*
	 * Coverage (`ecl test --coverage`): when not NULL, one byte per
	 * instruction of the program, set to 1 when the instruction runs.  Like
	 * a trace it takes the slow path at every instruction; NULL costs an
	 * ordinary run nothing.
	 */
	uint8_t    *coverage;
} ecl_run_ctx;

typedef enum ecl_outcome
{
	ECL_OUTCOME_PASSED = 0,		/* returned (or fell off the end) truthy */
	ECL_OUTCOME_DENIED,			/* a require failed, or returned falsy */
	ECL_OUTCOME_ERROR			/* runtime fault: see error */
} ecl_outcome;

typedef struct ecl_run_result
{
	ecl_outcome outcome;
	ecl_value	value;			/* return value; false when a require denied;
								 * null on error */
	const char *message;		/* deny message of a failed require, else NULL */
	int64_t		gas_used;		/* including the instruction that ran out */
	int64_t		mana_used;		/* ECL_BASE_MANA + I/O gas */
	uint64_t	steps;			/* instructions executed */
	int64_t		gas_by_layer[ECL_LAYER_COUNT];
	ecl_error	error;			/* outcome == ERROR: code, line, column, text */
} ecl_run_result;

/*
 * Run p once.  Returns ECL_OK when the run finished (passed or denied) and
 * ECL_FAIL when it ended in an error (res->error, with the line and column of
 * the failing instruction and the program's name in error.policy).
 * A return with a falsy value is DENIED with message NULL.
 */
ecl_status	ecl_vm_run(const ecl_program *p, const ecl_run_ctx *ctx,
					   ecl_run_result *res);

#endif							/* ECL_VM_H */
