/*
 * test_memory.c — a run's memory budget in the core: an allocation refused
 * by a budgeted allocator (ecl_budget) ends the run with ECL_ERR_MEMORY and
 * the line of the instruction that allocated, not with ECL_ERR_RESOURCE;
 * and the size-based write mana (ecl_write_mana), which the VM charges
 * before it asks any host to write.
 */
#include <stdlib.h>

#include "ecl/arena.h"
#include "ecl/compiler.h"
#include "ecl/host.h"
#include "ecl/value.h"
#include "ecl/vm.h"
#include "test_host.h"
#include "unit.h"

typedef struct budget_run
{
	test_alloc	ta;				/* under the budget, released at the end */
	ecl_arena	arena;			/* the program */
	ecl_budget	budget;			/* the run's memory */
	ecl_program *prog;
	ecl_run_result res;
	ecl_status	status;
} budget_run;

/* Compile src and run it with no host under a budget of limit bytes. */
static void
run_with_budget(budget_run *r, const char *src, size_t limit)
{
	ecl_compile_options opts = {NULL, false};
	ecl_run_ctx ctx;
	ecl_error	err;
	uint8_t    *bytes;
	size_t		len;
	char		text[1024];

	/* the policy line comes first: the body's lines count from 2 */
	snprintf(text, sizeof(text), "policy budgeted {\n%s}\n", src);
	memset(r, 0, sizeof(*r));
	ecl_arena_init(&r->arena, &ecl_std_alloc);
	if (ecl_compile(ecl_arena_allocator(&r->arena), text, strlen(text), &opts,
					&bytes, &len, &err) != ECL_OK ||
		ecl_program_load(ecl_arena_allocator(&r->arena), bytes, len, 1u << 20,
						 &r->prog, &err) != ECL_OK)
	{
		fprintf(stderr, "run_with_budget: %s\n", err.message);
		abort();
	}
	test_alloc_init(&r->ta);
	ecl_budget_init(&r->budget, &r->ta.alloc, limit);
	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = &r->budget.as_alloc;
	ctx.host = &ecl_no_host;
	ctx.caller = ecl_null();
	ctx.realm = ecl_null();
	ctx.limits.gas_limit = 10000000;
	ctx.limits.mana_limit = 1000;
	ctx.limits.max_stack_depth = 1024;
	r->status = ecl_vm_run(r->prog, &ctx, &r->res);
}

/* A run frees little: its memory goes back in bulk, as in the backend. */
static void
release(budget_run *r)
{
	test_alloc_release(&r->ta);
	ecl_arena_release(&r->arena);
}

#define STRING_LOOP \
	"let s = \"0123456789abcdef\"\n" \
	"for i in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] {\n" \
	"  s = s + s\n" \
	"}\n" \
	"return str_len(s)\n"

UNIT_TEST(memory_refused_string_is_ecl_err_memory_with_line)
{
	budget_run	r;

	run_with_budget(&r, STRING_LOOP, 256 * 1024);
	UNIT_ASSERT_EQ_INT(r.status, ECL_FAIL);
	UNIT_ASSERT_EQ_INT(r.res.outcome, ECL_OUTCOME_ERROR);
	UNIT_ASSERT_EQ_INT(r.res.error.code, ECL_ERR_MEMORY);
	UNIT_ASSERT_EQ_INT(r.res.error.line, 4);
	UNIT_ASSERT_EQ_STR(r.res.error.policy, "budgeted");
	UNIT_ASSERT_EQ_STR(r.res.error.message,
					   "memory limit of 256 kB exceeded allocating a string");
	UNIT_ASSERT(r.budget.peak <= 256 * 1024);
	release(&r);
}

UNIT_TEST(memory_budget_large_enough_is_unaffected)
{
	budget_run	r;

	/* 16 bytes doubled 20 times: 16 MB for the last string alone */
	run_with_budget(&r, STRING_LOOP, 64u * 1024 * 1024);
	UNIT_ASSERT_EQ_INT(r.status, ECL_OK);
	UNIT_ASSERT_EQ_INT(r.res.outcome, ECL_OUTCOME_PASSED);
	UNIT_ASSERT_EQ_INT(r.res.value.u.num, 16 * (1 << 20));
	UNIT_ASSERT(r.budget.peak > 16u * 1024 * 1024);
	release(&r);
}

UNIT_TEST(memory_refused_array_and_object)
{
	budget_run	r;

	run_with_budget(&r,
					"let a = [0]\n"
					"for i in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] {\n"
					"  a = [a, a, a, a]\n"
					"  a = [a, a, a, a]\n"
					"}\n"
					"return len(a)\n", 1024);
	UNIT_ASSERT_EQ_INT(r.res.error.code, ECL_ERR_MEMORY);
	UNIT_ASSERT(r.res.error.line == 4 || r.res.error.line == 5);
	UNIT_ASSERT(strstr(r.res.error.message, "allocating an array") != NULL);
	release(&r);

	run_with_budget(&r,
					"let o = {k: 0}\n"
					"for i in [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20] {\n"
					"  o = {a: o, b: o, c: o, d: o, e: o}\n"
					"}\n"
					"return 1\n", 1024);
	UNIT_ASSERT_EQ_INT(r.res.error.code, ECL_ERR_MEMORY);
	UNIT_ASSERT_EQ_INT(r.res.error.line, 4);
	UNIT_ASSERT(strstr(r.res.error.message, "allocating a") != NULL);
	release(&r);
}

/* An allocator without a budget still reports ECL_ERR_RESOURCE. */
UNIT_TEST(memory_plain_failure_stays_resource)
{
	test_alloc	ta;
	ecl_value	v;
	ecl_error	err;

	test_alloc_init(&ta);
	ta.fail_after = 0;
	UNIT_ASSERT_EQ_INT(ecl_string_new(&ta.alloc, "abc", 3, &v, &err), ECL_FAIL);
	UNIT_ASSERT_EQ_INT(err.code, ECL_ERR_RESOURCE);
	UNIT_ASSERT_EQ_STR(err.message, "out of memory allocating a string");
	test_alloc_release(&ta);
}

/* The budget counts frees, so memory given back can be used again. */
UNIT_TEST(memory_budget_counts_frees)
{
	ecl_budget	b;
	void	   *p;

	ecl_budget_init(&b, &ecl_std_alloc, 1000);
	p = ecl_malloc(&b.as_alloc, 900);
	UNIT_ASSERT(p != NULL);
	UNIT_ASSERT(ecl_malloc(&b.as_alloc, 200) == NULL);
	UNIT_ASSERT(b.refused);
	ecl_free(&b.as_alloc, p);
	UNIT_ASSERT_EQ_INT(b.used, 0);
	p = ecl_malloc(&b.as_alloc, 900);
	UNIT_ASSERT(p != NULL);
	UNIT_ASSERT(!b.refused);
	ecl_free(&b.as_alloc, p);
}

/* ------------------------------------------------------------ write mana */

static ecl_value
json_value(test_alloc *ta, const char *json)
{
	ecl_value	v;
	ecl_error	err;

	if (ecl_json_parse(&ta->alloc, json, strlen(json), &v, &err) != ECL_OK)
		abort();
	return v;
}

static ecl_value
string_of(test_alloc *ta, size_t n)
{
	char	   *s = malloc(n);
	ecl_value	v;
	ecl_error	err;

	memset(s, 'x', n);
	if (ecl_string_new(&ta->alloc, s, n, &v, &err) != ECL_OK)
		abort();
	free(s);
	return v;
}

UNIT_TEST(memory_write_mana_per_started_kb_beyond_the_first)
{
	test_alloc	ta;
	size_t		size;

	test_alloc_init(&ta);
	/* a string of n bytes is n + 2 bytes of JSON */
	UNIT_ASSERT_EQ_INT(ecl_write_mana(json_value(&ta, "{\"a\":1}"), 1000), 0);
	UNIT_ASSERT_EQ_INT(ecl_write_mana(string_of(&ta, 1022), 1000), 0);
	UNIT_ASSERT_EQ_INT(ecl_write_mana(string_of(&ta, 1023), 1000), 1);
	UNIT_ASSERT_EQ_INT(ecl_write_mana(string_of(&ta, 2046), 1000), 1);
	UNIT_ASSERT_EQ_INT(ecl_write_mana(string_of(&ta, 2047), 1000), 2);
	UNIT_ASSERT_EQ_INT(ecl_write_mana(string_of(&ta, 1024 * 1024), 100000), 1024);
	/* escapes count as written: 600 quotes are 1200 bytes */
	{
		char		buf[700];
		ecl_value	v;
		ecl_error	err;

		memset(buf, '"', 600);
		UNIT_ASSERT_EQ_INT(ecl_string_new(&ta.alloc, buf, 600, &v, &err), ECL_OK);
		UNIT_ASSERT(ecl_json_size(v, 10000, &size));
		UNIT_ASSERT_EQ_INT(size, 1202);
		UNIT_ASSERT_EQ_INT(ecl_write_mana(v, 1000), 1);
	}
	/* past at_most the walk stops and says so */
	UNIT_ASSERT_EQ_INT(ecl_write_mana(string_of(&ta, 1024 * 1024), 10), 11);
	test_alloc_release(&ta);
}

/* Too deep to write is not "too big": the write fails on its own terms. */
UNIT_TEST(memory_write_mana_of_a_value_too_deep)
{
	test_alloc	ta;
	ecl_value	v = ecl_number(1);
	ecl_error	err;
	size_t		size;

	test_alloc_init(&ta);
	for (int i = 0; i < 2 * ECL_MAX_NESTING + 1000; i++)
	{
		ecl_value	a;

		UNIT_ASSERT_EQ_INT(ecl_array_new(&ta.alloc, 1, &a, &err), ECL_OK);
		a.u.arr->items[0] = v;
		v = a;
	}
	UNIT_ASSERT(!ecl_json_size(v, 1 << 20, &size));
	UNIT_ASSERT(size <= 1 << 20);
	UNIT_ASSERT(ecl_write_mana(v, 1000) <= 1000);
	test_alloc_release(&ta);
}

/* The size is the length of ecl_json_write's text, whatever the value. */
UNIT_TEST(memory_json_size_matches_json_write)
{
	static const char *const docs[] = {
		"null", "true", "-0.5", "1e+300", "\"a\\u0001\\n\\\"b\"",
		"[1,[2,{\"x\":[]}],{}]", "{\"k\":\"v\",\"n\":{\"m\":[true,false,null]}}",
	};
	test_alloc	ta;

	test_alloc_init(&ta);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
	{
		ecl_value	v = json_value(&ta, docs[i]);
		char	   *text;
		size_t		len;
		size_t		size;
		ecl_error	err;

		UNIT_ASSERT_EQ_INT(ecl_json_write(&ta.alloc, v, &text, &len, &err), ECL_OK);
		UNIT_ASSERT(ecl_json_size(v, 1 << 20, &size));
		UNIT_ASSERT_EQ_INT(size, len);
		UNIT_ASSERT(!ecl_json_size(v, len - 1, &size));
	}
	test_alloc_release(&ta);
}

/* store_put pays its size in mana on the fixture host, before writing. */
UNIT_TEST(memory_store_put_pays_write_mana)
{
	test_run	t;
	char		big[3000];
	char		consts[3100];
	char		buf[64];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(consts, sizeof(consts), "[\"s\", \"k\", \"%s\"]", big);

	test_run_init(&t, NULL);
	/* 2999 bytes of text, 3001 of JSON: 2 KB beyond the first */
	UNIT_ASSERT_EQ_INT(test_run_exec(&t, consts,
									 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_NULL; STORE_PUT; RETURN",
									 0), ECL_OK);
	UNIT_ASSERT_EQ_INT(t.res.mana_used,
					   ECL_BASE_MANA + ecl_opcode_table[ECL_OP_STORE_PUT].gas + 2);
	test_run_free(&t);

	/* one mana short: refused, and nothing written */
	test_run_init(&t, NULL);
	t.ctx.limits.mana_limit = ECL_BASE_MANA + ecl_opcode_table[ECL_OP_STORE_PUT].gas + 1;
	UNIT_ASSERT_EQ_INT(test_run_exec(&t, consts,
									 "PUSH_CONST 0; PUSH_CONST 1; PUSH_CONST 2; PUSH_NULL; STORE_PUT; RETURN",
									 0), ECL_FAIL);
	UNIT_ASSERT_EQ_INT(t.res.error.code, ECL_ERR_MANA);
	UNIT_ASSERT_EQ_INT(t.host.calls_store_put, 0);
	UNIT_ASSERT_EQ_STR(test_host_store_json(&t.host, "s", "", "k", buf, sizeof(buf)), "<absent>");
	test_run_free(&t);
}
