/*
 * test_files.c — `ecl test`: the cases of policy test files, run on the
 * snapshot host as `ecl run` runs them, with line coverage from the VM.
 *
 * A test file is NAME.test.json next to NAME.ecl (docs/authoring.md,
 * "Testing policies"):
 *
 *   {"policy": "NAME.ecl",            optional: the file beside it
 *    "name": "p",                     optional: which policy of several
 *    "realm": "r", "caller": "did:..", "state": {...} | "file.json",
 *                                     defaults for every case
 *    "cases": [{"name": "...", "caller": .., "realm": .., "input": {..},
 *               "state": .., "gas": N,
 *               "expect": {"passed": b, "value": v, "message": m,
 *                          "error": "SQLSTATE", "logs": [..],
 *                          "events": [..], "writes": [..], "gas_used": N}}]}
 *
 * The expectations are those of ecl.test_policy: only the keys given are
 * checked.  Coverage counts a line as run when any instruction compiled
 * from it ran in any case.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ecl/compiler.h"

#include "cli.h"

/* A policy under test: compiled once, its coverage merged over all cases. */
typedef struct tested_policy
{
	char	   *path;			/* the .ecl file */
	char	   *name;			/* -p, or NULL */
	ecl_program *prog;
	uint8_t    *covered;		/* a byte per instruction */
	struct tested_policy *next;
} tested_policy;

typedef struct test_state
{
	ecl_arena	arena;			/* programs, test files: lives to the end */
	const ecl_alloc *a;
	tested_policy *policies;
	int			passed;
	int			failed;
	bool		coverage;
} test_state;

static const ecl_value *
field(ecl_value obj, const char *name)
{
	if (obj.type != ECL_T_OBJECT)
		return NULL;
	return ecl_object_get(obj.u.obj, name, strlen(name));
}

static const char *
text_field(ecl_value obj, const char *name)
{
	const ecl_value *v = field(obj, name);

	return v != NULL && v->type == ECL_T_STRING ? v->u.str->data : NULL;
}

/* dir of path joined with name, malloc'd; name as is when absolute */
static char *
beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	size_t		dlen = slash ? (size_t) (slash - path + 1) : 0;
	char	   *out = malloc(dlen + strlen(name) + 1);

	if (name[0] == '/')
		dlen = 0;
	memcpy(out, path, dlen);
	strcpy(out + dlen, name);
	return out;
}

static tested_policy *
policy_for(test_state *t, const char *path, const char *name)
{
	tested_policy *tp;
	char	   *src;
	size_t		len;
	ecl_error	err;

	for (tp = t->policies; tp != NULL; tp = tp->next)
		if (strcmp(tp->path, path) == 0 &&
			((tp->name == NULL && name == NULL) ||
			 (tp->name != NULL && name != NULL && strcmp(tp->name, name) == 0)))
			return tp;
	src = cli_read_file(path, &len);
	if (src == NULL)
		return NULL;
	ecl_error_clear(&err);
	tp = calloc(1, sizeof(*tp));
	if (cli_compile(t->a, src, len, name, &tp->prog, &err) != ECL_OK)
	{
		cli_print_error(path, &err);
		free(src);
		free(tp);
		return NULL;
	}
	free(src);
	tp->path = strdup(path);
	tp->name = name ? strdup(name) : NULL;
	tp->covered = calloc(tp->prog->ncode ? tp->prog->ncode : 1, 1);
	/* kept in the order first tested: coverage is printed in that order */
	{
		tested_policy **tail = &t->policies;

		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = tp;
	}
	return tp;
}

static void
print_json(const ecl_alloc *a, ecl_value v)
{
	char	   *json;
	size_t		len;
	ecl_error	err;

	if (ecl_json_write(a, v, &json, &len, &err) == ECL_OK)
		printf("%s", json);
	else
		printf("(unprintable)");
}

/*
 * A value as JSON keeps it (a did is a string): expected values come from
 * JSON, so compare what the result would be as JSON.
 */
static bool
json_equal(const ecl_alloc *a, ecl_value x, ecl_value y)
{
	char	   *tx;
	char	   *ty;
	size_t		lx;
	size_t		ly;
	ecl_value	px;
	ecl_value	py;
	ecl_error	err;

	if (ecl_json_write(a, x, &tx, &lx, &err) != ECL_OK ||
		ecl_json_write(a, y, &ty, &ly, &err) != ECL_OK ||
		ecl_json_parse(a, tx, lx, &px, &err) != ECL_OK ||
		ecl_json_parse(a, ty, ly, &py, &err) != ECL_OK)
		return false;
	return ecl_equal(px, py);
}

static void
case_failed(test_state *t, const char *file, const char *cname, int index)
{
	if (cname != NULL)
		printf("FAIL %s: case \"%s\": ", file, cname);
	else
		printf("FAIL %s: case %d: ", file, index + 1);
	t->failed++;
}

/* Run one case and count it: passed, or failed with what differed. */
static void
run_case(test_state *t, const char *file, ecl_value spec, ecl_value c,
		 int index, tested_policy *tp, const ecl_snapshot_state *file_state)
{
	const char *cname = text_field(c, "name");
	const ecl_value *expect = field(c, "expect");
	const ecl_value *input = field(c, "input");
	const ecl_value *state = field(c, "state");
	const ecl_value *gas = field(c, "gas");
	cli_run_setup setup;
	cli_run		run;
	ecl_snapshot_state case_state;
	ecl_value	ordered;
	ecl_value	result;
	ecl_error	err;
	char	   *input_text = NULL;
	size_t		len;
	static const char *const keys[] = {
		"passed", "value", "message", "logs", "events", "writes", "gas_used", "mana_used"
	};

	memset(&setup, 0, sizeof(setup));
	setup.caller = field(c, "caller") ? text_field(c, "caller") : text_field(spec, "caller");
	setup.realm = field(c, "realm") ? text_field(c, "realm") : text_field(spec, "realm");
	setup.state = file_state;
	setup.gas_limit = gas != NULL && gas->type == ECL_T_NUMBER ? (int64_t) gas->u.num : 0;
	setup.coverage = t->coverage ? tp->covered : NULL;
	ecl_error_clear(&err);
	if (state != NULL)
	{
		bool		ok;

		if (state->type == ECL_T_STRING)
		{
			char	   *p = beside(file, state->u.str->data);
			char	   *arg = malloc(strlen(p) + 2);

			sprintf(arg, "@%s", p);
			ok = cli_load_state(t->a, arg, &case_state);
			free(arg);
			free(p);
		}
		else if (!(ok = ecl_snapshot_stored_form(t->a, *state, &ordered, &err) == ECL_OK &&
				   ecl_snapshot_from_value(ordered, &case_state, &err) == ECL_OK))
			fprintf(stderr, "ecl: %s: state: %s\n", file, err.message);
		if (!ok)
		{
			case_failed(t, file, cname, index);
			printf("its state cannot be read\n");
			return;
		}
		setup.state = &case_state;
	}
	if (input != NULL)
	{
		if (ecl_json_write(t->a, *input, &input_text, &len, &err) != ECL_OK)
		{
			case_failed(t, file, cname, index);
			printf("%s\n", err.message);
			return;
		}
		setup.input = input_text;
	}

	if (cli_run_program(&run, tp->prog, &setup, &err) != ECL_OK)
	{
		case_failed(t, file, cname, index);
		printf("the run could not start: %s\n", err.message);
		cli_run_release(&run);
		return;
	}
	if (cli_run_result(&run, &result, &err) != ECL_OK)
	{
		case_failed(t, file, cname, index);
		printf("%s\n", err.message);
		cli_run_release(&run);
		return;
	}

	if (expect != NULL && expect->type == ECL_T_OBJECT)
	{
		const ecl_value *want_error = field(*expect, "error");
		const ecl_value *got_error = field(result, "error");

		if (want_error != NULL || got_error != NULL)
		{
			const char *want = want_error && want_error->type == ECL_T_STRING
				? want_error->u.str->data : NULL;
			const char *got = got_error ? text_field(*got_error, "sqlstate") : NULL;

			if (want == NULL || got == NULL || strcmp(want, got) != 0)
			{
				case_failed(t, file, cname, index);
				printf("expected %s%s, got ", want ? "error " : "no error", want ? want : "");
				if (got_error != NULL)
					printf("error %s: %s\n", got, text_field(*got_error, "message"));
				else
				{
					printf("passed %s, value ", field(result, "passed")->u.b ? "true" : "false");
					print_json(run.alloc, *field(result, "value"));
					printf("\n");
				}
				cli_run_release(&run);
				return;
			}
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		{
			const ecl_value *want = field(*expect, keys[k]);
			const ecl_value *got = field(result, keys[k]);

			if (want == NULL)
				continue;
			if (!json_equal(run.alloc, *want, *got))
			{
				case_failed(t, file, cname, index);
				printf("expected %s ", keys[k]);
				print_json(run.alloc, *want);
				printf(", got ");
				print_json(run.alloc, *got);
				if (strcmp(keys[k], "message") != 0 && field(result, "message")->type != ECL_T_NULL)
					printf(" (message \"%s\")", text_field(result, "message"));
				printf("\n");
				cli_run_release(&run);
				return;
			}
		}
	}
	t->passed++;
	cli_run_release(&run);
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Run every case of one test file. */
static void
run_file(test_state *t, const char *file)
{
	char	   *text;
	size_t		len;
	ecl_value	spec;
	ecl_error	err;
	const ecl_value *cases;
	const char *policy_file = NULL;
	char	   *policy_path;
	tested_policy *tp;
	ecl_snapshot_state file_state;
	const ecl_snapshot_state *fstate = NULL;
	const ecl_value *state;
	ecl_value	ordered;

	text = cli_read_file(file, &len);
	ecl_error_clear(&err);
	if (text == NULL ||
		ecl_json_parse(t->a, text, len, &spec, &err) != ECL_OK ||
		spec.type != ECL_T_OBJECT ||
		(cases = field(spec, "cases")) == NULL || cases->type != ECL_T_ARRAY)
	{
		printf("FAIL %s: not a test file: %s\n", file,
			   err.code != ECL_ERR_NONE ? err.message
			   : "a JSON object with an array \"cases\" expected");
		t->failed++;
		free(text);
		return;
	}
	free(text);

	/* NAME.test.json tests NAME.ecl unless it names its policy file */
	policy_file = text_field(spec, "policy");
	if (policy_file != NULL)
		policy_path = beside(file, policy_file);
	else
	{
		policy_path = malloc(strlen(file) + 1);
		strcpy(policy_path, file);
		strcpy(policy_path + strlen(file) - strlen(".test.json"), ".ecl");
	}
	tp = policy_for(t, policy_path, text_field(spec, "name"));
	if (tp == NULL)
	{
		printf("FAIL %s: policy %s does not compile or cannot be read\n", file, policy_path);
		t->failed += cases->u.arr->len ? (int) cases->u.arr->len : 1;
		free(policy_path);
		return;
	}
	free(policy_path);

	state = field(spec, "state");
	if (state != NULL)
	{
		bool		ok;

		if (state->type == ECL_T_STRING)
		{
			char	   *p = beside(file, state->u.str->data);
			char	   *arg = malloc(strlen(p) + 2);

			sprintf(arg, "@%s", p);
			ok = cli_load_state(t->a, arg, &file_state);
			free(arg);
			free(p);
		}
		else if (!(ok = ecl_snapshot_stored_form(t->a, *state, &ordered, &err) == ECL_OK &&
				   ecl_snapshot_from_value(ordered, &file_state, &err) == ECL_OK))
			fprintf(stderr, "ecl: %s: state: %s\n", file, err.message);
		if (!ok)
		{
			printf("FAIL %s: its state cannot be read\n", file);
			t->failed += cases->u.arr->len ? (int) cases->u.arr->len : 1;
			return;
		}
		fstate = &file_state;
	}
	for (uint32_t i = 0; i < cases->u.arr->len; i++)
		run_case(t, file, spec, cases->u.arr->items[i], (int) i, tp, fstate);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A test file, or every *.test.json under a directory (in name order). */
static bool
run_path(test_state *t, const char *path)
{
	struct stat st;
	DIR		   *d;
	struct dirent *e;
	char	  **names = NULL;
	size_t		n = 0;
	size_t		cap = 0;

	if (stat(path, &st) != 0)
	{
		fprintf(stderr, "ecl: cannot open %s: %s\n", path, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode))
	{
		run_file(t, path);
		return true;
	}
	d = opendir(path);
	if (d == NULL)
	{
		fprintf(stderr, "ecl: cannot open %s: %s\n", path, strerror(errno));
		return false;
	}
	while ((e = readdir(d)) != NULL)
	{
		char	   *full;
		struct stat est;

		if (e->d_name[0] == '.')
			continue;
		full = malloc(strlen(path) + strlen(e->d_name) + 2);
		sprintf(full, "%s/%s", path, e->d_name);
		if (stat(full, &est) != 0 ||
			(!S_ISDIR(est.st_mode) && !has_suffix(e->d_name, ".test.json")))
		{
			free(full);
			continue;
		}
		if (n == cap)
		{
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = full;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++)
	{
		run_path(t, names[i]);
		free(names[i]);
	}
	free(names);
	return true;
}

/*
 * Line coverage of each policy: lines with code, lines whose code ran,
 * and the lines that never ran.  Returns the lowest percentage.
 */
static double
print_coverage(test_state *t)
{
	double		lowest = 100.0;
	int			all_lines = 0;
	int			all_run = 0;

	for (tested_policy *tp = t->policies; tp != NULL; tp = tp->next)
	{
		const ecl_program *p = tp->prog;
		uint32_t	maxline = 0;
		uint8_t    *has;
		uint8_t    *ran;
		int			lines = 0;
		int			run = 0;
		double		pct;
		bool		first = true;

		for (uint32_t pc = 0; pc < p->ncode; pc++)
			if (p->lines[pc] > maxline)
				maxline = p->lines[pc];
		has = calloc(maxline + 1, 1);
		ran = calloc(maxline + 1, 1);
		for (uint32_t pc = 0; pc < p->ncode; pc++)
		{
			has[p->lines[pc]] = 1;
			if (tp->covered[pc])
				ran[p->lines[pc]] = 1;
		}
		/* line 0: code the compiler made up, not a line of the file */
		for (uint32_t l = 1; l <= maxline; l++)
		{
			lines += has[l];
			run += ran[l];
		}
		pct = lines ? 100.0 * run / lines : 100.0;
		if (pct < lowest)
			lowest = pct;
		all_lines += lines;
		all_run += run;
		printf("coverage %s%s%s%s: %.1f%% of lines (%d of %d)", tp->path,
			   tp->name ? " (" : "", tp->name ? tp->name : "", tp->name ? ")" : "",
			   pct, run, lines);
		for (uint32_t l = 1; l <= maxline; l++)
			if (has[l] && !ran[l])
			{
				printf("%s%u", first ? "; not run: lines " : ", ", l);
				first = false;
			}
		printf("\n");
		free(has);
		free(ran);
	}
	printf("coverage total: %.1f%% of lines (%d of %d)\n",
		   all_lines ? 100.0 * all_run / all_lines : 100.0, all_run, all_lines);
	return lowest;
}

int
cli_cmd_test(int argc, char **argv)
{
	test_state	t;
	double		threshold = -1;
	int			npaths = 0;
	bool		ok = true;
	int			rc;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "--coverage") == 0)
			t.coverage = true;
		else if (strcmp(argv[i], "--threshold") == 0)
		{
			char	   *end;

			if (++i == argc)
				return cli_usage_error("%s needs a percentage", argv[i - 1]);
			threshold = strtod(argv[i], &end);
			if (*end != '\0' || end == argv[i] || threshold < 0 || threshold > 100)
				return cli_usage_error("--threshold must be a percentage from 0 to 100, not %s", argv[i]);
			t.coverage = true;
		}
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error("test: unknown option %s", argv[i]);
		else
			npaths++;
	}
	ecl_arena_init(&t.arena, &ecl_std_alloc);
	t.a = ecl_arena_allocator(&t.arena);
	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "--threshold") == 0)
			i++;
		else if (argv[i][0] != '-' || argv[i][1] == '\0')
			ok = run_path(&t, argv[i]) && ok;
	}
	if (npaths == 0)
		ok = run_path(&t, ".") && ok;

	rc = t.failed > 0 ? EXIT_FOUND : EXIT_CLEAN;
	if (t.coverage && t.policies != NULL)
	{
		double		lowest = print_coverage(&t);

		if (threshold >= 0 && lowest < threshold)
		{
			printf("coverage below the threshold of %g%%\n", threshold);
			rc = EXIT_FOUND;
		}
	}
	printf("%d passed, %d failed\n", t.passed, t.failed);
	if (!ok)
		rc = EXIT_USAGE;
	else if (t.passed + t.failed == 0)
	{
		fprintf(stderr, "ecl: no test cases found\n");
		rc = EXIT_USAGE;
	}
	for (tested_policy *tp = t.policies, *next; tp != NULL; tp = next)
	{
		next = tp->next;
		free(tp->path);
		free(tp->name);
		free(tp->covered);
		free(tp);
	}
	ecl_arena_release(&t.arena);
	fflush(stdout);
	return rc;
}
