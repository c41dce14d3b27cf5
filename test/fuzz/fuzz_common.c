/*
 * fuzz_common.c — running programs under the fuzzers (see fuzz_common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/vm.h"
#include "fuzz_common.h"
#include "test_host.h"

/*
 * The input object: the fields that the tests and docs use most, so that
 * seeds taken from them get past their first LOAD_INPUT_FIELD.
 */
static const char fuzz_input_json[] =
"{\"amount\": 50, \"a\": 1, \"b\": 2, \"c\": 3, \"n\": 4, \"x\": 21, \"y\": 0.5,"
" \"fee\": 0.5, \"limit\": 100, \"score\": 0.75, \"count\": 3, \"price\": 9.99,"
" \"s\": \"text\", \"name\": \"Ada\", \"role\": \"admin\", \"method\": \"POST\","
" \"path\": \"/realm/r1/action\", \"did\": \"did:test:bob\", \"user\": \"did:test:bob\","
" \"flag\": true, \"off\": false, \"nothing\": null,"
" \"arr\": [1, 2, 3], \"items\": [{\"v\": 1}, {\"v\": 2}], \"tags\": [\"a\", \"b\"],"
" \"obj\": {\"k\": \"v\", \"n\": 1}, \"params\": {\"id\": \"r1\"}, \"body\": {\"q\": 1},"
" \"props\": {\"visible\": true}, \"event\": {\"kind\": \"x\", \"value\": 2},"
" \"events\": [{\"value\": 1}, {\"value\": 2}],"
" \"proposal\": {\"id\": 1, \"yes\": 6, \"no\": 2, \"total\": 10, \"status\": \"open\"},"
" \"voter\": \"did:test:bob\", \"permission\": \"docs.read\", \"resource\": \"doc1\","
" \"from_realm\": \"realm0\", \"to_realm\": \"realm1\", \"ts\": 1700000000}";

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n    ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void
fuzz_check_error(const ecl_error *err)
{
	FUZZ_CHECK(err->code != ECL_ERR_NONE, "error without a code");
	FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL,
			   "error message not terminated");
	FUZZ_CHECK(err->message[0] != '\0', "empty error message (code %s)",
			   ecl_error_code_name(err->code));
	FUZZ_CHECK(memchr(err->policy, '\0', sizeof(err->policy)) != NULL,
			   "error policy name not terminated");
}

void
fuzz_disassemble(const ecl_program *p)
{
	char		small[12];
	char		big[256];

	for (uint32_t pc = 0; pc < p->ncode; pc++)
	{
		ecl_disasm_operand(p, pc, small, sizeof(small));
		FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL, "operand text not terminated");
		ecl_disasm_operand(p, pc, big, sizeof(big));
		FUZZ_CHECK(memchr(big, '\0', sizeof(big)) != NULL, "operand text not terminated");
	}
}

static void
fill_host(test_host *h)
{
	test_host_add_trust(h, "did:test:alice", "realm1", 0.9, 0.8, 0.7, 0.6, 0.5, 0.4);
	test_host_add_trust(h, "did:test:alice", "", 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
	test_host_add_trust(h, "did:test:bob", "", 0.2, 0.3, 0.4, 0.5, 0.6, 0.7);
	test_host_add_credential(h, "did:test:alice", "kyc");
	test_host_add_credential(h, "did:test:alice", "kyc-level-2");
	test_host_add_identity(h, "did:test:alice", false);
	test_host_add_identity(h, "did:test:bob", false);
	test_host_add_identity(h, "did:test:carol", true);
	test_host_set_balance(h, "did:test:alice", 1000);
	test_host_set_metric(h, "policies_executed", 42);
	test_host_set_metric(h, "policy_success_rate", 0.5);
	test_host_store_set_json(h, "st", "", "key", "{\"a\": {\"b\": 1}}");
	test_host_store_set_json(h, "st", "", "list", "[1, 2]");
	test_host_store_set_json(h, "st", "did:test:alice", "mine", "\"secret\"");
	h->timestamp = 1700000100;
}

/*
 * The run's allocator: the fixture allocator with a budget of bytes.  A
 * mutated program can double a string in a loop until ECL_MAX_STRING; the
 * budget keeps one input's memory small (libFuzzer's RSS limit) and drives
 * the VM through its allocation-failure paths (ECL_ERR_RESOURCE).  Frees
 * give nothing back: the budget counts what a run asked for in total.
 */
#define FUZZ_ALLOC_BUDGET	(8u * 1024u * 1024u)

typedef struct budget_alloc
{
	ecl_alloc	alloc;
	const ecl_alloc *parent;
	size_t		used;
} budget_alloc;

static void *
budget_malloc(void *ctx, size_t size)
{
	budget_alloc *b = ctx;

	if (size > FUZZ_ALLOC_BUDGET - b->used)
		return NULL;
	b->used += size;
	return b->parent->alloc(b->parent->ctx, size);
}

static void *
budget_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	budget_alloc *b = ctx;

	if (new_size > FUZZ_ALLOC_BUDGET - b->used)
		return NULL;
	b->used += new_size;
	return b->parent->realloc(b->parent->ctx, ptr, old_size, new_size);
}

static void
budget_free(void *ctx, void *ptr)
{
	budget_alloc *b = ctx;

	b->parent->free(b->parent->ctx, ptr);
}

/* What one run produced, as plain data for comparing two runs. */
typedef struct run_summary
{
	ecl_status	status;
	ecl_outcome outcome;
	int64_t		gas_used;
	int64_t		mana_used;
	uint64_t	steps;
	ecl_error_code code;
	uint32_t	line;
	uint32_t	column;
	char		error[ECL_ERROR_MSG_MAX];
	char		message[256];
	char		value[512];
} run_summary;

static void
run_once(const ecl_program *p, bool read_only, run_summary *sum)
{
	test_run	t;
	budget_alloc budget;
	int			puts_before,
				events_before;
	char	   *json;
	size_t		len;
	ecl_error	err;

	test_run_init(&t, fuzz_input_json);
	fill_host(&t.host);
	budget.alloc.alloc = budget_malloc;
	budget.alloc.realloc = budget_realloc;
	budget.alloc.free = budget_free;
	budget.alloc.ctx = &budget;
	budget.alloc.over_budget = NULL;
	budget.parent = &t.ta.alloc;
	budget.used = 0;
	t.ctx.alloc = &budget.alloc;
	t.ctx.limits.gas_limit = FUZZ_GAS_LIMIT;
	t.ctx.limits.mana_limit = FUZZ_MANA_LIMIT;
	t.ctx.limits.max_steps = FUZZ_MAX_STEPS;
	t.ctx.limits.max_stack_depth = FUZZ_STACK_LIMIT;
	t.ctx.read_only = read_only;
	puts_before = t.host.calls_store_put;
	events_before = t.host.nevents;

	memset(sum, 0, sizeof(*sum));
	sum->status = ecl_vm_run(p, &t.ctx, &t.res);
	sum->outcome = t.res.outcome;
	sum->gas_used = t.res.gas_used;
	sum->mana_used = t.res.mana_used;
	sum->steps = t.res.steps;

	if (sum->status == ECL_OK)
	{
		FUZZ_CHECK(t.res.outcome != ECL_OUTCOME_ERROR, "ECL_OK with an error outcome");
		FUZZ_CHECK(t.res.gas_used <= FUZZ_GAS_LIMIT, "finished run used %lld gas",
				   (long long) t.res.gas_used);
		FUZZ_CHECK(t.res.mana_used <= FUZZ_MANA_LIMIT, "finished run used %lld mana",
				   (long long) t.res.mana_used);
		FUZZ_CHECK(t.res.steps <= FUZZ_MAX_STEPS, "finished run took %llu steps",
				   (unsigned long long) t.res.steps);
		FUZZ_CHECK(ecl_json_write(&t.ta.alloc, t.res.value, &json, &len, &err) == ECL_OK,
				   "result value does not serialise: %s", err.message);
		/* (the unlimited allocator: the value may be close to the budget) */
		snprintf(sum->value, sizeof(sum->value), "%s", json);
		if (t.res.message)
			snprintf(sum->message, sizeof(sum->message), "%s", t.res.message);
		if (t.res.outcome == ECL_OUTCOME_PASSED)
			FUZZ_CHECK(ecl_truthy(t.res.value), "passed with a falsy value %s", sum->value);
	}
	else
	{
		FUZZ_CHECK(sum->status == ECL_FAIL, "status %d", (int) sum->status);
		FUZZ_CHECK(t.res.outcome == ECL_OUTCOME_ERROR, "ECL_FAIL without an error outcome");
		fuzz_check_error(&t.res.error);
		FUZZ_CHECK(t.res.error.code != ECL_ERR_SYNTAX && t.res.error.code != ECL_ERR_BYTECODE,
				   "run of a verified program failed with %s: %s",
				   ecl_error_code_name(t.res.error.code), t.res.error.message);
		sum->code = t.res.error.code;
		sum->line = t.res.error.line;
		sum->column = t.res.error.column;
		snprintf(sum->error, sizeof(sum->error), "%s", t.res.error.message);
	}
	if (read_only)
		FUZZ_CHECK(t.host.calls_store_put == puts_before && t.host.nevents == events_before,
				   "a read-only run wrote to the host");
	test_run_free(&t);
}

static void
same_runs(const run_summary *a, const run_summary *b)
{
	FUZZ_CHECK(a->status == b->status && a->outcome == b->outcome &&
			   a->gas_used == b->gas_used && a->mana_used == b->mana_used &&
			   a->steps == b->steps && a->code == b->code &&
			   a->line == b->line && a->column == b->column &&
			   strcmp(a->error, b->error) == 0 &&
			   strcmp(a->message, b->message) == 0 &&
			   strcmp(a->value, b->value) == 0,
			   "two runs differ: outcome %d/%d gas %lld/%lld value %s/%s error %s/%s",
			   (int) a->outcome, (int) b->outcome,
			   (long long) a->gas_used, (long long) b->gas_used,
			   a->value, b->value, a->error, b->error);
}

void
fuzz_run_program(const ecl_program *p, bool check_determinism)
{
	run_summary first,
				again;

	fuzz_disassemble(p);
	run_once(p, false, &first);
	if (check_determinism)
	{
		run_once(p, false, &again);
		same_runs(&first, &again);
	}
	if (p->writes)
		run_once(p, true, &again);
}

void
fuzz_maybe_save_bytecode(const uint8_t *bytes, size_t len)
{
	const char *dir = getenv("FUZZ_SAVE_BYTECODE");
	uint64_t	h = 1469598103934665603ull;
	char		path[4096];
	FILE	   *f;

	if (dir == NULL || *dir == '\0')
		return;
	for (size_t i = 0; i < len; i++)
		h = (h ^ bytes[i]) * 1099511628211ull;
	snprintf(path, sizeof(path), "%s/bc-%016llx", dir, (unsigned long long) h);
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(bytes, 1, len, f);
	fclose(f);
}
