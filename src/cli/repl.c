/*
 * repl.c — `ecl repl`: ECL statements and expressions evaluated as they are
 * typed, on the snapshot host (an empty world, or --state).
 *
 * The session is a script: every statement accepted so far (let, const,
 * require, if, for, emit, calls).  A line that compiles as an expression
 * after the session is evaluated and its value printed; otherwise it is
 * taken as a statement, run with the session, and kept when it compiles and
 * runs.  Each evaluation runs the whole session again from the start: the
 * language has no state outside a run, so this is what "the variables so
 * far" mean, and store writes of earlier lines are seen again through the
 * snapshot host's overlay.  A line with more opening than closing brackets
 * continues on the next.
 *
 * Line editing and history come from libedit (Debian's libedit-dev) on a
 * terminal; reading from a pipe uses plain lines and prints no prompt, so a
 * script can drive it.  Built without libedit, the repl says so and reads
 * plain lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef ECL_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "ecl/compiler.h"

#include "cli.h"

#ifndef ECL_VERSION
#define ECL_VERSION "unknown"
#endif

typedef struct repl
{
	char	   *session;		/* the statements kept, one per line */
	size_t		len;
	uint32_t	session_logs;	/* log() lines the session itself makes */
	uint32_t	last_logs;		/* log() lines of the last run */
	cli_run_setup setup;
	bool		tty;
} repl;

static char *
read_line(repl *r, const char *prompt)
{
#ifdef ECL_HAVE_LIBEDIT
	if (r->tty)
	{
		char	   *line = readline(prompt);

		if (line != NULL && line[0] != '\0')
			add_history(line);
		return line;
	}
#endif
	{
		char	   *line = NULL;
		size_t		cap = 0;
		ssize_t		n;

		if (r->tty)
		{
			fputs(prompt, stdout);
			fflush(stdout);
		}
		n = getline(&line, &cap, stdin);
		if (n < 0)
		{
			free(line);
			return NULL;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		return line;
	}
}

/* More (, [ or { opened than closed, outside strings and comments? */
static bool
unbalanced(const char *s)
{
	int			depth = 0;

	for (; *s; s++)
	{
		if (*s == '"')
		{
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				break;
		}
		else if (s[0] == '/' && s[1] == '/')
			break;
		else if (*s == '(' || *s == '[' || *s == '{')
			depth++;
		else if (*s == ')' || *s == ']' || *s == '}')
			depth--;
	}
	return depth > 0;
}

/* session + "\n" + prefix + text, malloc'd */
static char *
with_session(const repl *r, const char *prefix, const char *text)
{
	size_t		n = r->len + strlen(prefix) + strlen(text) + 2;
	char	   *s = malloc(n);

	snprintf(s, n, "%s%s%s\n", r->session ? r->session : "", prefix, text);
	return s;
}

/* Compile src as a script; its program in a, or NULL with err. */
static ecl_program *
compile(const ecl_alloc *a, const char *src, ecl_error *err)
{
	ecl_program *prog;

	ecl_error_clear(err);
	if (cli_compile(a, src, strlen(src), NULL, &prog, err) != ECL_OK)
		return NULL;
	return prog;
}

/*
 * Run prog and print what it gave: the value (print_value), "denied:
 * message" or "error SQLSTATE: message".  True when it passed or was
 * denied only by a falsy value being printed.
 */
static bool
run_and_report(repl *r, const ecl_program *prog, bool print_value)
{
	cli_run		run;
	ecl_error	err;
	bool		ok = false;

	ecl_error_clear(&err);
	if (cli_run_program(&run, prog, &r->setup, &err) != ECL_OK)
		printf("error: %s\n", err.message);
	else if (run.res.outcome == ECL_OUTCOME_ERROR)
		printf("error %s: %s\n", ecl_error_sqlstate(run.res.error.code),
			   run.res.error.message);
	else if (run.res.outcome == ECL_OUTCOME_DENIED && run.res.message != NULL)
		printf("denied: %s\n", run.res.message);
	else
	{
		ok = true;
		/* the session's own logs were shown when its lines were typed */
		for (uint32_t i = r->session_logs; i < run.host.nlogs; i++)
			printf("log: %s\n", run.host.logs[i].u.str->data);
		r->last_logs = run.host.nlogs;
		if (print_value)
		{
			char	   *json;
			size_t		len;

			if (ecl_json_write(run.alloc, run.res.value, &json, &len, &err) == ECL_OK)
				printf("%s\n", json);
			else
				printf("error: %s\n", err.message);
		}
	}
	cli_run_release(&run);
	fflush(stdout);
	return ok;
}

static void
keep(repl *r, const char *text)
{
	size_t		n = strlen(text);

	r->session = realloc(r->session, r->len + n + 2);
	memcpy(r->session + r->len, text, n);
	r->len += n;
	r->session[r->len++] = '\n';
	r->session[r->len] = '\0';
}

static void
eval(repl *r, const char *text)
{
	ecl_arena	arena;
	const ecl_alloc *a;
	ecl_program *prog;
	ecl_error	err;
	char	   *src;

	ecl_arena_init(&arena, &ecl_std_alloc);
	a = ecl_arena_allocator(&arena);

	/* an expression: its value */
	src = with_session(r, "return ", text);
	prog = compile(a, src, &err);
	free(src);
	if (prog != NULL)
	{
		/*
		 * A call is both: its value is shown, and it stays in the session
		 * so that what it did (store_put, log) holds for the next lines.
		 */
		if (run_and_report(r, prog, true))
		{
			src = with_session(r, "", text);
			if (compile(a, src, &err) != NULL)
			{
				keep(r, text);
				r->session_logs = r->last_logs;
			}
			free(src);
		}
		ecl_arena_release(&arena);
		return;
	}

	/* a statement: kept when it compiles and runs */
	src = with_session(r, "", text);
	prog = compile(a, src, &err);
	free(src);
	if (prog == NULL)
		printf("error %s: %s\n", ecl_error_sqlstate(err.code), err.message);
	else if (run_and_report(r, prog, false))
	{
		keep(r, text);
		r->session_logs = r->last_logs;
	}
	ecl_arena_release(&arena);
}

static const char repl_help[] =
"Type a statement (let, const, require, if, for, emit, a call) to add it to\n"
"the session, or an expression to see its value.  Commands:\n"
"  :session   print the statements kept so far\n"
"  :reset     forget them\n"
"  :help      this text\n"
"  :quit      leave (also end of input)\n";

int
cli_cmd_repl(int argc, char **argv)
{
	repl		r;
	ecl_arena	arena;
	ecl_snapshot_state state;
	const char *state_arg = NULL;
	char	   *input = NULL;
	char	   *line;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < argc; i++)
	{
		const char **opt = NULL;
		const char *input_arg = NULL;

		if (strcmp(argv[i], "--state") == 0)
			opt = &state_arg;
		else if (strcmp(argv[i], "--caller") == 0)
			opt = &r.setup.caller;
		else if (strcmp(argv[i], "--realm") == 0)
			opt = &r.setup.realm;
		else if (strcmp(argv[i], "--input") == 0)
			opt = &input_arg;
		else
			return cli_usage_error("repl: unknown argument %s", argv[i]);
		if (++i == argc)
			return cli_usage_error("%s needs a value", argv[i - 1]);
		*opt = argv[i];
		if (input_arg != NULL)
		{
			free(input);
			if ((input = cli_json_arg(input_arg)) == NULL)
				return EXIT_USAGE;
			r.setup.input = input;
		}
	}
	ecl_arena_init(&arena, &ecl_std_alloc);
	if (state_arg != NULL)
	{
		if (!cli_load_state(ecl_arena_allocator(&arena), state_arg, &state))
		{
			ecl_arena_release(&arena);
			return EXIT_USAGE;
		}
		r.setup.state = &state;
	}
	r.tty = isatty(STDIN_FILENO);
	if (r.tty)
	{
		printf("ecl %s repl: :help for help, :quit to leave\n", ECL_VERSION);
#ifndef ECL_HAVE_LIBEDIT
		printf("(built without libedit: no line editing or history; install libedit-dev and rebuild)\n");
#endif
	}

	while ((line = read_line(&r, "ecl> ")) != NULL)
	{
		char	   *text = line;

		/* continue while brackets are open */
		while (unbalanced(text))
		{
			char	   *more = read_line(&r, "...> ");
			char	   *joined;

			if (more == NULL)
				break;
			joined = malloc(strlen(text) + strlen(more) + 2);
			sprintf(joined, "%s\n%s", text, more);
			free(text);
			free(more);
			text = joined;
		}
		if (strspn(text, " \t") == strlen(text))
			;
		else if (strcmp(text, ":quit") == 0 || strcmp(text, ":q") == 0)
		{
			free(text);
			break;
		}
		else if (strcmp(text, ":help") == 0)
			fputs(repl_help, stdout);
		else if (strcmp(text, ":session") == 0)
			fputs(r.session ? r.session : "", stdout);
		else if (strcmp(text, ":reset") == 0)
		{
			free(r.session);
			r.session = NULL;
			r.len = 0;
			r.session_logs = 0;
		}
		else if (text[0] == ':')
			printf("unknown command %s (:help lists them)\n", text);
		else
			eval(&r, text);
		fflush(stdout);
		free(text);
	}
	free(r.session);
	free(input);
	ecl_arena_release(&arena);
	return EXIT_CLEAN;
}
