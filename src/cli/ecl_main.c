/*
 * ecl_main.c — the ecl command: ECL policy files outside the database.
 *
 *   ecl check [-p NAME] FILE...      every compile error as file:line:col: message
 *   ecl fmt [--check] [FILE...]      canonical layout, in place (stdin to stdout)
 *   ecl disasm [-p NAME] FILE        the disassembly, as ecl.disassemble
 *   ecl explain [-p NAME] FILE [--input JSON|@FILE] [--caller DID] [--realm R]
 *               [--state JSON|@FILE]
 *                                    the trace of one run of a pure policy,
 *                                    as ecl.explain
 *   ecl run [-p NAME] FILE [--input JSON|@FILE] [--state JSON|@FILE]
 *           [--caller DID] [--realm R] [--gas N] [--mana N]
 *                                    one run on a snapshot, as ecl.simulate
 *                                    (snapshot_run.c)
 *   ecl test [--coverage] [--threshold P] [PATH...]
 *                                    the cases of .test.json files (test_files.c)
 *   ecl repl [--state JSON|@FILE] [--caller DID] [--realm R]
 *                                    statements and expressions as typed (repl.c)
 *   ecl version | ecl --help
 *
 * Built from src/core alone (no PostgreSQL library), so it runs wherever a
 * policy is written: an editor, a pre-commit hook, CI.  Exit status: 0 clean,
 * 1 errors found (or files that fmt --check would change), 2 usage errors or
 * unreadable files.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecl/alloc.h"
#include "ecl/bytecode.h"
#include "ecl/compiler.h"
#include "ecl/arena.h"
#include "ecl/host.h"
#include "ecl/opcodes.h"
#include "ecl/value.h"
#include "ecl/vm.h"
#include "cli.h"
#include "fmt.h"

#ifndef ECL_VERSION
#define ECL_VERSION "unknown"
#endif


static const char usage_text[] =
"Usage: ecl COMMAND [OPTIONS] [FILE...]\n"
"\n"
"Commands:\n"
"  check [-p NAME] FILE...     report every compile error (up to 20 per file)\n"
"                              as FILE:LINE:COL: MESSAGE\n"
"  fmt [--check] [FILE...]     rewrite files in the canonical layout; with no\n"
"                              FILE or with -, read stdin and write stdout;\n"
"                              --check only lists the files that would change\n"
"  disasm [-p NAME] FILE       print the bytecode: pc, line, opcode, operand, gas\n"
"                              (tab-separated, as ecl.disassemble)\n"
"  explain [-p NAME] FILE [--input JSON|@FILE] [--caller DID] [--realm R]\n"
"      [--state JSON|@FILE]\n"
"                              run a policy without a database and print its\n"
"                              trace (step, line, col, event, detail, gas; as\n"
"                              ecl.explain); exit 0 passed, 1 denied or error;\n"
"                              host functions answer from --state (as ecl run),\n"
"                              without it they are not available\n"
"  run [-p NAME] FILE [--input JSON|@FILE] [--state JSON|@FILE]\n"
"      [--caller DID] [--realm R] [--gas N] [--mana N]\n"
"                              run a policy once on a snapshot (the format of\n"
"                              ecl.snapshot; default: an empty world) and print\n"
"                              the result as JSON, as ecl.simulate returns it;\n"
"                              exit 0 passed, 1 denied or error\n"
"  test [--coverage] [--threshold P] [PATH...]\n"
"                              run the cases of every *.test.json file (in the\n"
"                              directories given, default .); print failures and\n"
"                              N passed, N failed; --coverage prints the lines of\n"
"                              each policy that ran, --threshold fails below P%\n"
"  repl [--state JSON|@FILE] [--caller DID] [--realm R]\n"
"                              read statements and expressions, print each\n"
"                              value (line editing with libedit on a terminal)\n"
"  version                     print the version\n"
"  help, --help                print this help\n"
"\n"
"-p NAME picks the policy of a file that defines several (check checks\n"
"them all when none is named).  A FILE of - is standard input.\n"
"\n"
"Exit status: 0 clean, 1 errors found or files would change, 2 usage error\n"
"or unreadable file.\n";

int
cli_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ecl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ecl --help'.\n");
	return EXIT_USAGE;
}

/* Read a whole file ("-" is stdin) into a malloc'd buffer. */
char *
cli_read_file(const char *path, size_t *len)
{
	FILE	   *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char	   *data = NULL;
	size_t		cap = 0;
	size_t		n = 0;

	if (fp == NULL)
	{
		fprintf(stderr, "ecl: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;)
	{
		size_t		got;

		if (n + 4096 + 1 > cap)
		{
			char	   *nd;

			cap = cap ? cap * 2 : 8192;
			nd = realloc(data, cap);
			if (nd == NULL)
			{
				fprintf(stderr, "ecl: out of memory reading %s\n", path);
				free(data);
				if (fp != stdin)
					fclose(fp);
				return NULL;
			}
			data = nd;
		}
		got = fread(data + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp))
	{
		fprintf(stderr, "ecl: cannot read %s: %s\n", path, strerror(errno));
		free(data);
		if (fp != stdin)
			fclose(fp);
		return NULL;
	}
	if (fp != stdin)
		fclose(fp);
	data[n] = '\0';
	*len = n;
	return data;
}

const char *
cli_display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

void
cli_print_error(const char *path, const ecl_error *e)
{
	if (e->line > 0)
		printf("%s:%u:%u: %s\n", cli_display_name(path), e->line, e->column, e->message);
	else
		printf("%s: %s\n", cli_display_name(path), e->message);
}

/* --- check ------------------------------------------------------------------ */

static int
cmd_check(int argc, char **argv)
{
	const char *policy = NULL;
	int			status = EXIT_CLEAN;
	int			nfiles = 0;

	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--policy") == 0)
		{
			if (++i == argc)
				return cli_usage_error("%s needs a policy name", argv[i - 1]);
			policy = argv[i];
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error("check: unknown option %s", argv[i]);
	}
	for (int i = 0; i < argc; i++)
	{
		ecl_compile_options opts = {policy, false};
		ecl_diagnostics d;
		size_t		len;
		char	   *src;

		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--policy") == 0)
		{
			i++;
			continue;
		}
		nfiles++;
		src = cli_read_file(argv[i], &len);
		if (src == NULL)
		{
			status = EXIT_USAGE;
			continue;
		}
		if (ecl_compile_diagnostics(&ecl_std_alloc, src, len, &opts, &d) != ECL_OK)
		{
			for (uint32_t k = 0; k < d.count; k++)
				cli_print_error(argv[i], &d.items[k]);
			if (d.truncated)
				printf("%s: too many errors; only the first %d are shown\n",
					   cli_display_name(argv[i]), ECL_MAX_DIAGNOSTICS);
			if (status == EXIT_CLEAN)
				status = EXIT_FOUND;
		}
		free(src);
	}
	if (nfiles == 0)
		return cli_usage_error("%s", "check: no FILE given");
	fflush(stdout);
	return status;
}

/* --- fmt -------------------------------------------------------------------- */

/* Replace path's content atomically (a temporary file renamed over it). */
static bool
write_in_place(const char *path, const char *data, size_t len)
{
	size_t		n = strlen(path) + 16;
	char	   *tmp = malloc(n);
	struct stat st;
	FILE	   *fp;
	bool		ok;

	if (tmp == NULL)
		return false;
	snprintf(tmp, n, "%s.ecl-fmt~", path);
	fp = fopen(tmp, "wb");
	if (fp == NULL)
	{
		fprintf(stderr, "ecl: cannot write %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return false;
	}
	ok = fwrite(data, 1, len, fp) == len;
	ok = (fclose(fp) == 0) && ok;
	if (ok && stat(path, &st) == 0)
		(void) chmod(tmp, st.st_mode & 07777);
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok)
	{
		fprintf(stderr, "ecl: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

static int
cmd_fmt(int argc, char **argv)
{
	bool		check = false;
	int			status = EXIT_CLEAN;
	int			nfiles = 0;
	char	   *stdin_only[] = {"-"};

	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error("fmt: unknown option %s", argv[i]);
		else
			nfiles++;
	}
	if (nfiles == 0)
	{
		argv = stdin_only;
		argc = 1;
	}
	for (int i = 0; i < argc; i++)
	{
		ecl_error	err;
		size_t		len;
		size_t		out_len;
		char	   *src;
		char	   *out;
		bool		is_stdin = strcmp(argv[i], "-") == 0;

		if (strcmp(argv[i], "--check") == 0)
			continue;
		src = cli_read_file(argv[i], &len);
		if (src == NULL)
		{
			status = EXIT_USAGE;
			continue;
		}
		if (ecl_format(src, len, &out, &out_len, &err) != ECL_OK)
		{
			/* only valid code is rewritten: report and leave the file alone */
			cli_print_error(argv[i], &err);
			if (status == EXIT_CLEAN)
				status = EXIT_FOUND;
			free(src);
			continue;
		}
		if (check)
		{
			if (out_len != len || memcmp(out, src, len) != 0)
			{
				printf("%s\n", cli_display_name(argv[i]));
				if (status == EXIT_CLEAN)
					status = EXIT_FOUND;
			}
		}
		else if (is_stdin)
			fwrite(out, 1, out_len, stdout);
		else if ((out_len != len || memcmp(out, src, len) != 0) &&
				 !write_in_place(argv[i], out, out_len))
			status = EXIT_USAGE;
		free(out);
		free(src);
	}
	fflush(stdout);
	return status;
}

/* --- disasm ----------------------------------------------------------------- */

static int
cmd_disasm(int argc, char **argv)
{
	const char *policy = NULL;
	const char *path = NULL;
	ecl_compile_options opts = {NULL, false};
	ecl_error	err;
	ecl_program *prog;
	uint8_t    *bytes;
	size_t		nbytes;
	size_t		len;
	char	   *src;

	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--policy") == 0)
		{
			if (++i == argc)
				return cli_usage_error("%s needs a policy name", argv[i - 1]);
			policy = argv[i];
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error("disasm: unknown option %s", argv[i]);
		else if (path != NULL)
			return cli_usage_error("%s", "disasm: give one FILE");
		else
			path = argv[i];
	}
	if (path == NULL)
		return cli_usage_error("%s", "disasm: no FILE given");
	src = cli_read_file(path, &len);
	if (src == NULL)
		return EXIT_USAGE;
	opts.policy_name = policy;
	if (ecl_compile(&ecl_std_alloc, src, len, &opts, &bytes, &nbytes, &err) != ECL_OK)
	{
		cli_print_error(path, &err);
		free(src);
		return EXIT_FOUND;
	}
	free(src);
	if (ecl_program_load(&ecl_std_alloc, bytes, nbytes, UINT32_MAX, &prog, &err) != ECL_OK)
	{
		/* the compiler verified it already: this would be a bug */
		cli_print_error(path, &err);
		return EXIT_FOUND;
	}
	printf("pc\tline\topcode\toperand\tgas\n");
	for (uint32_t pc = 0; pc < prog->ncode; pc++)
	{
		const ecl_opcode_info *info = &ecl_opcode_table[ECL_INSTR_OP(prog->code[pc])];
		char		operand[128];	/* the width ecl.disassemble shows */

		ecl_disasm_operand(prog, pc, operand, sizeof(operand));
		printf("%u\t%u\t%s\t%s\t%u\n", pc, prog->lines[pc], info->name, operand,
			   (unsigned) info->gas);
	}
	fflush(stdout);
	return EXIT_CLEAN;
}

/* --- explain ---------------------------------------------------------------- */

typedef struct cli_tracer
{
	const ecl_alloc *alloc;
	int			step;
	int64_t		gas_before;
	/* the previous event, printed when the next one (or the end) says its gas */
	bool		held;
	char		line[4096];
	int64_t		held_gas;
} cli_tracer;

/* Print the held row with the gas used from the row before it up to gas_after. */
static void
flush_held(cli_tracer *t, int64_t gas_after)
{
	if (!t->held)
		return;
	printf("%s\t%lld\n", t->line, (long long) (gas_after - t->gas_before));
	t->gas_before = gas_after;
	t->held = false;
}

/* The same events and detail as ecl.explain: both describe them with trace.c. */
static void
cli_trace(void *tctx, const ecl_trace_event *ev)
{
	cli_tracer *t = tctx;
	char	   *detail;
	size_t		len;
	ecl_error	err;

	flush_held(t, t->held_gas);
	if (ecl_trace_event_detail(t->alloc, ev, &detail, &len, &err) != ECL_OK)
	{
		detail = NULL;
		len = 4;
	}
	snprintf(t->line, sizeof(t->line), "%d\t%u\t%u\t%s\t%.*s", ++t->step,
			 ev->line, ev->column, ecl_trace_event_name(ev), (int) len,
			 detail ? detail : "null");
	ecl_free(t->alloc, detail);
	t->held = true;
	t->held_gas = ev->gas;
}

/*
 * A policy run once, read-only as ecl.explain runs it, with the defaults of
 * ecl.gas_limit, ecl.mana_limit and ecl.max_stack_depth: on the snapshot
 * host of `ecl run` with --state, else on no host (host functions fail).
 */
static int
cmd_explain(int argc, char **argv)
{
	const char *policy = NULL;
	const char *path = NULL;
	const char *input_text = "{}";
	const char *caller = NULL;
	const char *realm = NULL;
	const char *state_arg = NULL;
	ecl_snapshot_state state;
	ecl_snapshot_host host;
	char	   *input_file = NULL;
	ecl_compile_options opts = {NULL, false};
	ecl_error	err;
	ecl_program *prog;
	uint8_t    *bytes;
	size_t		nbytes;
	size_t		len;
	char	   *src;
	ecl_arena	arena;
	const ecl_alloc *a;
	ecl_value	input;
	ecl_run_ctx ctx;
	ecl_run_result res;
	cli_tracer	tracer;
	int			rc;

	for (int i = 0; i < argc; i++)
	{
		const char **opt = NULL;

		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--policy") == 0)
			opt = &policy;
		else if (strcmp(argv[i], "--input") == 0)
			opt = &input_text;
		else if (strcmp(argv[i], "--caller") == 0)
			opt = &caller;
		else if (strcmp(argv[i], "--realm") == 0)
			opt = &realm;
		else if (strcmp(argv[i], "--state") == 0)
			opt = &state_arg;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error("explain: unknown option %s", argv[i]);
		else if (path != NULL)
			return cli_usage_error("%s", "explain: give one FILE");
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
		return cli_usage_error("%s", "explain: no FILE given");
	if (input_text[0] == '@')
	{
		input_file = cli_read_file(input_text + 1, &len);
		if (input_file == NULL)
			return EXIT_USAGE;
		input_text = input_file;
	}
	src = cli_read_file(path, &len);
	if (src == NULL)
	{
		free(input_file);
		return EXIT_USAGE;
	}
	opts.policy_name = policy;
	if (ecl_compile(&ecl_std_alloc, src, len, &opts, &bytes, &nbytes, &err) != ECL_OK)
	{
		cli_print_error(path, &err);
		free(src);
		free(input_file);
		return EXIT_FOUND;
	}
	free(src);
	ecl_arena_init(&arena, &ecl_std_alloc);
	a = ecl_arena_allocator(&arena);
	if (ecl_program_load(a, bytes, nbytes, UINT32_MAX, &prog, &err) != ECL_OK)
	{
		/* the compiler verified it already: this would be a bug */
		cli_print_error(path, &err);
		ecl_free(&ecl_std_alloc, bytes);
		free(input_file);
		ecl_arena_release(&arena);
		return EXIT_FOUND;
	}
	ecl_free(&ecl_std_alloc, bytes);
	ecl_error_clear(&err);
	if (ecl_json_parse(a, input_text, strlen(input_text), &input, &err) != ECL_OK ||
		input.type != ECL_T_OBJECT ||
		ecl_snapshot_stored_form(a, input, &input, &err) != ECL_OK)
	{
		fprintf(stderr, "ecl: --input must be a JSON object%s%s\n",
				err.code != ECL_ERR_NONE ? ": " : "", err.code != ECL_ERR_NONE ? err.message : "");
		free(input_file);
		ecl_arena_release(&arena);
		return EXIT_USAGE;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.alloc = a;
	ctx.host = &ecl_no_host;
	if (state_arg != NULL)
	{
		if (!cli_load_state(a, state_arg, &state) ||
			ecl_snapshot_host_begin(&host, &state, caller, realm, a, 0, &err) != ECL_OK)
		{
			if (err.code != ECL_ERR_NONE)
				fprintf(stderr, "ecl: %s\n", err.message);
			free(input_file);
			ecl_arena_release(&arena);
			return EXIT_USAGE;
		}
		ctx.host = &ecl_snapshot_host_vtable;
		ctx.host_ctx = &host;
	}
	ctx.caller = ecl_null();
	ctx.realm = ecl_null();
	if ((caller != NULL && ecl_did_new(a, caller, strlen(caller), &ctx.caller, &err) != ECL_OK) ||
		(realm != NULL && ecl_string_new(a, realm, strlen(realm), &ctx.realm, &err) != ECL_OK))
	{
		fprintf(stderr, "ecl: %s\n", err.message);
		free(input_file);
		ecl_arena_release(&arena);
		return EXIT_USAGE;
	}
	ecl_input_from_value(&ctx.input, &input);
	ctx.read_only = true;
	ctx.limits.gas_limit = 50000;
	ctx.limits.mana_limit = 10000;
	ctx.limits.max_stack_depth = 1024;
	memset(&tracer, 0, sizeof(tracer));
	tracer.alloc = a;
	ctx.trace = cli_trace;
	ctx.trace_ctx = &tracer;
	printf("step\tline\tcol\tevent\tdetail\tgas\n");
	ecl_vm_run(prog, &ctx, &res);
	/* the last step carries whatever the run used after it */
	flush_held(&tracer, res.gas_used);
	fflush(stdout);
	if (res.outcome == ECL_OUTCOME_ERROR)
	{
		cli_print_error(path, &res.error);
		rc = EXIT_FOUND;
	}
	else
		rc = res.outcome == ECL_OUTCOME_PASSED ? EXIT_CLEAN : EXIT_FOUND;
	fflush(stdout);
	free(input_file);
	ecl_arena_release(&arena);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL)
	{
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
	{
		fputs(usage_text, stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
	{
		printf("ecl %s (bytecode format %d)\n", ECL_VERSION, ECL_BYTECODE_VERSION);
		return EXIT_CLEAN;
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(cmd, "fmt") == 0)
		return cmd_fmt(argc - 2, argv + 2);
	if (strcmp(cmd, "disasm") == 0)
		return cmd_disasm(argc - 2, argv + 2);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc - 2, argv + 2);
	if (strcmp(cmd, "run") == 0)
		return cli_cmd_run(argc - 2, argv + 2);
	if (strcmp(cmd, "test") == 0)
		return cli_cmd_test(argc - 2, argv + 2);
	if (strcmp(cmd, "repl") == 0)
		return cli_cmd_repl(argc - 2, argv + 2);
	return cli_usage_error("unknown command '%s'", cmd);
}
