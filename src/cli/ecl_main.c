/*
 * ecl_main.c — the ecl command: ECL policy files outside the database.
 *
 *   ecl check [-p NAME] FILE...      every compile error as file:line:col: message
 *   ecl fmt [--check] [FILE...]      canonical layout, in place (stdin to stdout)
 *   ecl disasm [-p NAME] FILE        the disassembly, as ecl.disassemble
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
#include "ecl/opcodes.h"
#include "fmt.h"

#ifndef ECL_VERSION
#define ECL_VERSION "unknown"
#endif

#define EXIT_CLEAN 0
#define EXIT_FOUND 1
#define EXIT_USAGE 2

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
"  version                     print the version\n"
"  help, --help                print this help\n"
"\n"
"-p NAME picks the policy of a file that defines several (check checks\n"
"them all when none is named).  A FILE of - is standard input.\n"
"\n"
"Exit status: 0 clean, 1 errors found or files would change, 2 usage error\n"
"or unreadable file.\n";

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ecl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ecl --help'.\n");
	return EXIT_USAGE;
}

/* Read a whole file ("-" is stdin) into a malloc'd buffer. */
static char *
read_file(const char *path, size_t *len)
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

static const char *
display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static void
print_error(const char *path, const ecl_error *e)
{
	if (e->line > 0)
		printf("%s:%u:%u: %s\n", display_name(path), e->line, e->column, e->message);
	else
		printf("%s: %s\n", display_name(path), e->message);
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
				return usage_error("%s needs a policy name", argv[i - 1]);
			policy = argv[i];
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("check: unknown option %s", argv[i]);
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
		src = read_file(argv[i], &len);
		if (src == NULL)
		{
			status = EXIT_USAGE;
			continue;
		}
		if (ecl_compile_diagnostics(&ecl_std_alloc, src, len, &opts, &d) != ECL_OK)
		{
			for (uint32_t k = 0; k < d.count; k++)
				print_error(argv[i], &d.items[k]);
			if (d.truncated)
				printf("%s: too many errors; only the first %d are shown\n",
					   display_name(argv[i]), ECL_MAX_DIAGNOSTICS);
			if (status == EXIT_CLEAN)
				status = EXIT_FOUND;
		}
		free(src);
	}
	if (nfiles == 0)
		return usage_error("%s", "check: no FILE given");
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
			return usage_error("fmt: unknown option %s", argv[i]);
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
		src = read_file(argv[i], &len);
		if (src == NULL)
		{
			status = EXIT_USAGE;
			continue;
		}
		if (ecl_format(src, len, &out, &out_len, &err) != ECL_OK)
		{
			/* only valid code is rewritten: report and leave the file alone */
			print_error(argv[i], &err);
			if (status == EXIT_CLEAN)
				status = EXIT_FOUND;
			free(src);
			continue;
		}
		if (check)
		{
			if (out_len != len || memcmp(out, src, len) != 0)
			{
				printf("%s\n", display_name(argv[i]));
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
				return usage_error("%s needs a policy name", argv[i - 1]);
			policy = argv[i];
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("disasm: unknown option %s", argv[i]);
		else if (path != NULL)
			return usage_error("%s", "disasm: give one FILE");
		else
			path = argv[i];
	}
	if (path == NULL)
		return usage_error("%s", "disasm: no FILE given");
	src = read_file(path, &len);
	if (src == NULL)
		return EXIT_USAGE;
	opts.policy_name = policy;
	if (ecl_compile(&ecl_std_alloc, src, len, &opts, &bytes, &nbytes, &err) != ECL_OK)
	{
		print_error(path, &err);
		free(src);
		return EXIT_FOUND;
	}
	free(src);
	if (ecl_program_load(&ecl_std_alloc, bytes, nbytes, UINT32_MAX, &prog, &err) != ECL_OK)
	{
		/* the compiler verified it already: this would be a bug */
		print_error(path, &err);
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
	return usage_error("unknown command '%s'", cmd);
}
