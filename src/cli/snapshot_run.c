/*
 * snapshot_run.c — running a policy on a snapshot from the command line:
 * the core's snapshot host (host_snapshot.h), the same code behind
 * ecl.simulate, with the database's default limits, and the result in the
 * shape ecl.simulate returns.  Also `ecl run`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecl/compiler.h"
#include "ecl/host_snapshot.h"

#include "cli.h"

char *
cli_json_arg(const char *arg)
{
	size_t		len;

	if (arg[0] == '@')
		return cli_read_file(arg + 1, &len);
	return strdup(arg);
}

ecl_status
cli_compile(const ecl_alloc *a, const char *src, size_t len,
			const char *policy, ecl_program **out, ecl_error *err)
{
	ecl_compile_options opts = {NULL, false};
	uint8_t    *bytes;
	size_t		nbytes;
	ecl_status	st;

	opts.policy_name = policy;
	if (ecl_compile(&ecl_std_alloc, src, len, &opts, &bytes, &nbytes, err) != ECL_OK)
		return ECL_FAIL;
	st = ecl_program_load(a, bytes, nbytes, UINT32_MAX, out, err);
	ecl_free(&ecl_std_alloc, bytes);
	return st;
}

bool
cli_load_state(const ecl_alloc *a, const char *arg, ecl_snapshot_state *out)
{
	char	   *text = cli_json_arg(arg);
	ecl_error	err;
	ecl_value	root;
	bool		ok;

	if (text == NULL)
		return false;
	ecl_error_clear(&err);
	ok = ecl_json_parse_keep_huge(a, text, strlen(text), &root, &err) == ECL_OK &&
		ecl_snapshot_stored_form(a, root, &root, &err) == ECL_OK &&
		ecl_snapshot_from_value(root, out, &err) == ECL_OK;
	if (!ok)
		fprintf(stderr, "ecl: --state: %s\n%s\n", err.message, ECL_SNAPSHOT_HINT);
	free(text);
	return ok;
}

/* Seconds since the epoch, as the database's transaction start gives them. */
static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double) ts.tv_sec + (double) (ts.tv_nsec / 1000) / 1e6;
}

ecl_status
cli_run_program(cli_run *run, const ecl_program *prog,
				const cli_run_setup *setup, ecl_error *err)
{
	ecl_run_ctx ctx;
	ecl_value  *input;
	const ecl_alloc *a;

	memset(run, 0, sizeof(*run));
	ecl_budget_init(&run->budget, &ecl_std_alloc, CLI_MEMORY_LIMIT);
	ecl_arena_init(&run->arena, &run->budget.as_alloc);
	a = run->alloc = ecl_arena_allocator(&run->arena);
	run->policy = prog->name;
	ecl_snapshot_empty(&run->empty);

	input = ecl_malloc(a, sizeof(ecl_value));
	if (input == NULL)
		return ecl_alloc_failed(a, err, "the input");
	if (setup->input == NULL)
	{
		if (ecl_object_new(a, 0, input, err) != ECL_OK)
			return ECL_FAIL;
	}
	else if (ecl_json_parse(a, setup->input, strlen(setup->input), input, err) != ECL_OK ||
			 ecl_snapshot_stored_form(a, *input, input, err) != ECL_OK)
		return ECL_FAIL;
	else if (input->type != ECL_T_OBJECT)
		return ecl_error_set(err, ECL_ERR_INVALID_ARG, 0, 0,
							 "input must be a JSON object");

	if (ecl_snapshot_host_begin(&run->host,
								setup->state ? setup->state : &run->empty,
								setup->caller, setup->realm, a, now_seconds(),
								err) != ECL_OK)
		return ECL_FAIL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = a;
	ctx.host = &ecl_snapshot_host_vtable;
	ctx.host_ctx = &run->host;
	ctx.caller = ecl_null();
	ctx.realm = ecl_null();
	if ((setup->caller != NULL &&
		 ecl_did_new(a, setup->caller, strlen(setup->caller), &ctx.caller, err) != ECL_OK) ||
		(setup->realm != NULL &&
		 ecl_string_new(a, setup->realm, strlen(setup->realm), &ctx.realm, err) != ECL_OK))
		return ECL_FAIL;
	ecl_input_from_value(&ctx.input, input);
	ctx.read_only = false;		/* as ecl.simulate: writes go to the change list */
	ctx.limits.gas_limit = setup->gas_limit > 0 ? setup->gas_limit : CLI_GAS_LIMIT;
	ctx.limits.mana_limit = setup->mana_limit > 0 ? setup->mana_limit : CLI_MANA_LIMIT;
	ctx.limits.max_stack_depth = CLI_STACK_DEPTH;
	ctx.coverage = setup->coverage;
	ecl_vm_run(prog, &ctx, &run->res);
	return ECL_OK;
}

void
cli_run_release(cli_run *run)
{
	ecl_arena_release(&run->arena);
}

static ecl_status
set(cli_run *run, ecl_value *obj, const char *key, ecl_value v, ecl_error *err)
{
	return ecl_object_set(run->alloc, obj, key, strlen(key), v, err);
}

static ecl_status
set_text(cli_run *run, ecl_value *obj, const char *key, const char *text,
		 ecl_error *err)
{
	ecl_value	v = ecl_null();

	if (text != NULL && ecl_string_new(run->alloc, text, strlen(text), &v, err) != ECL_OK)
		return ECL_FAIL;
	return set(run, obj, key, v, err);
}

/* The message ecl.simulate raises: policy "NAME", line L:C: text. */
static void
error_text(const cli_run *run, char *buf, size_t size)
{
	const ecl_error *e = &run->res.error;
	const char *policy = e->policy[0] ? e->policy : run->policy;
	size_t		n = 0;

	buf[0] = '\0';
	if (policy != NULL && policy[0])
		n += snprintf(buf + n, size - n, "policy \"%s\"", policy);
	if (e->line > 0 && n < size)
		n += snprintf(buf + n, size - n, "%sline %u:%u", n ? ", " : "",
					  e->line, e->column);
	if (n < size)
		snprintf(buf + n, size - n, "%s%s", n ? ": " : "",
				 e->message[0] ? e->message : ecl_error_code_name(e->code));
}

ecl_status
cli_run_result(cli_run *run, ecl_value *out, ecl_error *err)
{
	const ecl_run_result *res = &run->res;
	bool		passed = res->outcome == ECL_OUTCOME_PASSED;
	ecl_value	list;

	if (ecl_object_new(run->alloc, 10, out, err) != ECL_OK ||
		set(run, out, "passed", ecl_bool(passed), err) != ECL_OK ||
		set(run, out, "value", res->value, err) != ECL_OK ||
		set_text(run, out, "message", res->message, err) != ECL_OK ||
		set(run, out, "gas_used", ecl_number((double) res->gas_used), err) != ECL_OK ||
		set(run, out, "mana_used", ecl_number((double) res->mana_used), err) != ECL_OK)
		return ECL_FAIL;
	/* logs are kept whatever the outcome; events and writes only if it passed */
	if (ecl_snapshot_host_list(&run->host, run->host.logs, run->host.nlogs,
							   true, &list, err) != ECL_OK ||
		set(run, out, "logs", list, err) != ECL_OK ||
		ecl_snapshot_host_list(&run->host, run->host.events, run->host.nevents,
							   passed, &list, err) != ECL_OK ||
		set(run, out, "events", list, err) != ECL_OK ||
		ecl_snapshot_host_list(&run->host, run->host.changes, run->host.nchanges,
							   passed, &list, err) != ECL_OK ||
		set(run, out, "writes", list, err) != ECL_OK)
		return ECL_FAIL;
	if (res->outcome == ECL_OUTCOME_ERROR)
	{
		ecl_value	e;
		char		text[ECL_ERROR_MSG_MAX + 256];

		error_text(run, text, sizeof(text));
		if (ecl_object_new(run->alloc, 2, &e, err) != ECL_OK ||
			set_text(run, &e, "sqlstate", ecl_error_sqlstate(res->error.code), err) != ECL_OK ||
			set_text(run, &e, "message", text, err) != ECL_OK ||
			set(run, out, "error", e, err) != ECL_OK)
			return ECL_FAIL;
	}
	return ECL_OK;
}

/* --- ecl run ---------------------------------------------------------------- */

int
cli_cmd_run(int argc, char **argv)
{
	const char *policy = NULL;
	const char *path = NULL;
	const char *input_arg = NULL;
	const char *state_arg = NULL;
	const char *gas_arg = NULL;
	const char *mana_arg = NULL;
	cli_run_setup setup;
	cli_run		run;
	ecl_arena	arena;
	const ecl_alloc *a;
	ecl_snapshot_state state;
	ecl_program *prog;
	ecl_error	err;
	ecl_value	result;
	char	   *src;
	char	   *input = NULL;
	char	   *json;
	size_t		len;
	int			rc;

	memset(&setup, 0, sizeof(setup));
	for (int i = 0; i < argc; i++)
	{
		const char **opt = NULL;

		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--policy") == 0)
			opt = &policy;
		else if (strcmp(argv[i], "--input") == 0)
			opt = &input_arg;
		else if (strcmp(argv[i], "--state") == 0)
			opt = &state_arg;
		else if (strcmp(argv[i], "--caller") == 0)
			opt = &setup.caller;
		else if (strcmp(argv[i], "--realm") == 0)
			opt = &setup.realm;
		else if (strcmp(argv[i], "--gas") == 0)
			opt = &gas_arg;
		else if (strcmp(argv[i], "--mana") == 0)
			opt = &mana_arg;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error("run: unknown option %s", argv[i]);
		else if (path != NULL)
			return cli_usage_error("%s", "run: give one FILE");
		else
			path = argv[i];
		if (opt != NULL)
		{
			if (++i == argc)
				return cli_usage_error("%s needs a value", argv[i - 1]);
			*opt = argv[i];
		}
	}
	if (path == NULL)
		return cli_usage_error("%s", "run: no FILE given");
	if (gas_arg != NULL && (setup.gas_limit = strtoll(gas_arg, NULL, 10)) <= 0)
		return cli_usage_error("--gas must be a positive number, not %s", gas_arg);
	if (mana_arg != NULL && (setup.mana_limit = strtoll(mana_arg, NULL, 10)) <= 0)
		return cli_usage_error("--mana must be a positive number, not %s", mana_arg);

	src = cli_read_file(path, &len);
	if (src == NULL)
		return EXIT_USAGE;
	ecl_arena_init(&arena, &ecl_std_alloc);
	a = ecl_arena_allocator(&arena);
	ecl_error_clear(&err);
	if (cli_compile(a, src, len, policy, &prog, &err) != ECL_OK)
	{
		cli_print_error(path, &err);
		free(src);
		ecl_arena_release(&arena);
		return EXIT_FOUND;
	}
	free(src);
	if (state_arg != NULL)
	{
		if (!cli_load_state(a, state_arg, &state))
		{
			ecl_arena_release(&arena);
			return EXIT_USAGE;
		}
		setup.state = &state;
	}
	if (input_arg != NULL && (input = cli_json_arg(input_arg)) == NULL)
	{
		ecl_arena_release(&arena);
		return EXIT_USAGE;
	}
	setup.input = input;

	if (cli_run_program(&run, prog, &setup, &err) != ECL_OK)
	{
		fprintf(stderr, "ecl: %s\n", err.message);
		rc = EXIT_USAGE;
	}
	else if (cli_run_result(&run, &result, &err) != ECL_OK ||
			 ecl_json_write(run.alloc, result, &json, &len, &err) != ECL_OK)
	{
		fprintf(stderr, "ecl: %s\n", err.message);
		rc = EXIT_FOUND;
	}
	else
	{
		printf("%s\n", json);
		rc = run.res.outcome == ECL_OUTCOME_PASSED ? EXIT_CLEAN : EXIT_FOUND;
	}
	cli_run_release(&run);
	free(input);
	ecl_arena_release(&arena);
	fflush(stdout);
	return rc;
}
