/*
 * test_host.h — fixtures for the core unit tests:
 *
 *   test_alloc   a malloc-backed allocator that remembers every block and
 *                frees them all at once (so ASan still sees each block's
 *                bounds), with optional failure injection;
 *   test_host    a real ecl_host over in-memory tables: trust rows per
 *                (did, realm) with a global fallback, credentials,
 *                identities, balances, a store table, recorded logs and
 *                events, a fixed timestamp, metrics, and call counters;
 *   test_asm     a tiny assembler: "PUSH_CONST 0; PUSH_CONST 1; ADD; RETURN"
 *                with constants given as a JSON array, built with
 *                ecl_chunk_emit, serialised and loaded like compiler output.
 */
#ifndef ECL_TEST_HOST_H
#define ECL_TEST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/bytecode.h"
#include "ecl/host.h"
#include "ecl/value.h"
#include "ecl/vm.h"

/* ------------------------------------------------------------ allocator */

typedef struct test_block test_block;

typedef struct test_alloc
{
	ecl_alloc	alloc;			/* pass &ta.alloc to the core */
	test_block *blocks;
	size_t		live;			/* blocks currently allocated */
	long		fail_after;		/* < 0: never; else fail once this many more succeeded */
} test_alloc;

void		test_alloc_init(test_alloc *ta);
void		test_alloc_release(test_alloc *ta);	/* frees every block */

/* ----------------------------------------------------------------- host */

#define TEST_MAX_ROWS 64
#define TEST_MAX_STORE 128
#define TEST_MAX_LOG 64

typedef struct test_trust_row
{
	char		did[64];
	char		realm[32];		/* "" = global row */
	double		dim[ECL_TRUST_DIMS];
} test_trust_row;

typedef struct test_store_row
{
	char		realm[32];
	char		store[32];
	char		owner[64];		/* "" = shared */
	char		key[64];
	ecl_value	value;			/* copied into the host's allocator */
} test_store_row;

typedef struct test_host
{
	const ecl_alloc *alloc;		/* where stored values live */
	const char *caller;			/* owner of personal stores (may be NULL) */
	const char *realm;			/* the run's realm ("" when none) */

	test_trust_row trust[TEST_MAX_ROWS];
	int			ntrust;
	struct
	{
		char		did[64];
		char		schema[64];
	}			credentials[TEST_MAX_ROWS];
	int			ncredentials;
	struct
	{
		char		did[64];
		bool		revoked;
	}			identities[TEST_MAX_ROWS];
	int			nidentities;
	struct
	{
		char		did[64];
		double		amount;
	}			balances[TEST_MAX_ROWS];
	int			nbalances;
	struct
	{
		char		name[64];
		double		value;
	}			metrics[TEST_MAX_ROWS];
	int			nmetrics;
	test_store_row store[TEST_MAX_STORE];
	int			nstore;

	double		timestamp;

	char		logs[TEST_MAX_LOG][128];
	int			nlogs;
	struct
	{
		char		name[64];
		char		payload[256];	/* JSON */
	}			events[TEST_MAX_LOG];
	int			nevents;

	/* calls per host entry, for "looked up once" and "no host call" tests */
	int			calls_load_trust;
	int			calls_has_credential;
	int			calls_resolve_did;
	int			calls_get_balance;
	int			calls_store_get;
	int			calls_store_put;

	/* when set, the entry of that name fails with ECL_ERR_HOST */
	const char *fail_entry;
} test_host;

extern const ecl_host test_host_vtable;

void		test_host_init(test_host *h, const ecl_alloc *a, const char *caller,
						   const char *realm);
void		test_host_add_trust(test_host *h, const char *did, const char *realm,
								double r, double i, double c, double p, double v,
								double o);
void		test_host_add_credential(test_host *h, const char *did, const char *schema);
void		test_host_add_identity(test_host *h, const char *did, bool revoked);
void		test_host_set_balance(test_host *h, const char *did, double amount);
void		test_host_set_metric(test_host *h, const char *name, double value);
/* put a JSON value into the store directly; owner "" = shared */
bool		test_host_store_set_json(test_host *h, const char *store, const char *owner,
									 const char *key, const char *json);
/* the stored entry as compact JSON into buf ("<absent>" when absent) */
const char *test_host_store_json(test_host *h, const char *store, const char *owner,
								 const char *key, char *buf, size_t bufsize);

/* ------------------------------------------------------------ assembler */

/*
 * Assemble src ("OP [arg] [@line:col]" separated by ';' or newlines; arg
 * "none" is ECL_NO_ARG) with constants from the JSON array consts_json
 * (may be NULL; must not contain duplicates, since the chunk deduplicates),
 * nlocals locals and the given policy name; serialise it into *bytes.
 * Instructions without @ get line = index + 1, column = 1.
 */
ecl_status	test_asm(const ecl_alloc *a, const char *consts_json, const char *src,
					 uint32_t nlocals, const char *name, uint8_t **bytes,
					 size_t *len, ecl_error *err);

/* test_asm + ecl_program_load with no stack limit */
ecl_status	test_asm_load(const ecl_alloc *a, const char *consts_json, const char *src,
						  uint32_t nlocals, ecl_program **prog, ecl_error *err);

/* ------------------------------------------------------------- run helper */

typedef struct test_run
{
	test_alloc	ta;
	test_host	host;
	ecl_value	input;
	ecl_run_ctx ctx;
	ecl_run_result res;
	ecl_program *prog;
	ecl_error	err;			/* assembly / load errors */
	char		value_json[512];	/* result value as JSON after test_run_exec */
} test_run;

/*
 * Prepare a run: fixture host with caller "did:test:alice" and realm
 * "realm1", input from input_json (NULL = {}), gas 100000, mana 100000.
 */
void		test_run_init(test_run *t, const char *input_json);
void		test_run_free(test_run *t);
/* assemble + load + run; ECL_FAIL if assembly/loading failed (see t->err) or the run failed */
ecl_status	test_run_exec(test_run *t, const char *consts_json, const char *src,
						  uint32_t nlocals);

#endif							/* ECL_TEST_HOST_H */
