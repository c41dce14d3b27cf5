/*
 * cli.h — what the commands of the ecl command share (ecl_main.c): reading
 * files, reporting errors, and running a policy on a snapshot
 * (snapshot_run.c), which `ecl run`, `ecl test` and `ecl repl` all do the
 * same way as ecl.simulate.
 */
#ifndef ECL_CLI_H
#define ECL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecl/alloc.h"
#include "ecl/arena.h"
#include "ecl/bytecode.h"
#include "ecl/error.h"
#include "ecl/host_snapshot.h"
#include "ecl/value.h"
#include "ecl/vm.h"

#define EXIT_CLEAN 0
#define EXIT_FOUND 1
#define EXIT_USAGE 2

/* The defaults of ecl.gas_limit, ecl.mana_limit, ecl.max_stack_depth, ecl.memory_limit. */
#define CLI_GAS_LIMIT 50000
#define CLI_MANA_LIMIT 10000
#define CLI_STACK_DEPTH 1024
#define CLI_MEMORY_LIMIT ((size_t) 64 * 1024 * 1024)

int			cli_usage_error(const char *fmt, const char *arg);
/* A whole file ("-" is stdin) in a malloc'd, NUL-terminated buffer. */
char	   *cli_read_file(const char *path, size_t *len);
const char *cli_display_name(const char *path);
/* file:line:col: message (or file: message) on stderr */
void		cli_print_error(const char *path, const ecl_error *e);

/*
 * A command-line JSON argument: the text itself, or @FILE for a file's
 * contents.  malloc'd; NULL after printing why.
 */
char	   *cli_json_arg(const char *arg);

/*
 * Compile a policy file (policy: which one of several, or NULL) and load
 * its program into a.  On a compile error *err has its line and column.
 */
ecl_status	cli_compile(const ecl_alloc *a, const char *src, size_t len,
						const char *policy, ecl_program **out, ecl_error *err);

/* One run on a snapshot: what it needs ... */
typedef struct cli_run_setup
{
	const char *input;			/* JSON object text; NULL = {} */
	const ecl_snapshot_state *state;	/* NULL = the empty world */
	const char *caller;			/* DID or NULL */
	const char *realm;			/* NULL = none */
	int64_t		gas_limit;		/* 0 = the default */
	int64_t		mana_limit;		/* 0 = the default */
	uint8_t    *coverage;		/* NULL, or a byte per instruction */
} cli_run_setup;

/* ... and what it gives: the VM's result and the host's collections. */
typedef struct cli_run
{
	ecl_budget	budget;			/* ecl.memory_limit's default */
	ecl_arena	arena;			/* everything of the run */
	const ecl_alloc *alloc;
	ecl_snapshot_state empty;
	ecl_snapshot_host host;
	ecl_run_result res;
	const char *policy;			/* the program's name; "" for a script */
} cli_run;

/*
 * Run prog once as ecl.simulate would on the same snapshot.  ECL_FAIL only
 * when the run could not start (bad input, state of another realm): *err
 * says why.  A run that ends in an error is ECL_OK with res.outcome ERROR.
 * Release with cli_run_release.
 */
ecl_status	cli_run_program(cli_run *run, const ecl_program *prog,
							const cli_run_setup *setup, ecl_error *err);
void		cli_run_release(cli_run *run);

/*
 * The run as ecl.simulate reports it, as a JSON object: passed, value,
 * message, gas_used, mana_used, logs, events, writes; a run that ended in
 * an error has passed false, value null and "error": {"sqlstate",
 * "message"} with the message ecl.simulate would raise.  Written from the
 * run's memory.
 */
ecl_status	cli_run_result(cli_run *run, ecl_value *out, ecl_error *err);

/*
 * Load a snapshot (JSON text or @FILE, in the format of ecl.snapshot) into
 * a; prints why and returns false when it cannot.
 */
bool		cli_load_state(const ecl_alloc *a, const char *arg,
						   ecl_snapshot_state *out);

/* The commands in their own files. */
int			cli_cmd_run(int argc, char **argv);
int			cli_cmd_test(int argc, char **argv);
int			cli_cmd_repl(int argc, char **argv);

#endif							/* ECL_CLI_H */
