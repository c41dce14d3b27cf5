/*
 * engines.c — the engine entry points of docs/engines.md:
 *
 *   ecl.run_api(key, caller, realm, input)          -> ecl.run_result
 *   ecl.run_ui / run_datalogic / run_governance / run_controller (same)
 *
 * A handler is a registered policy called "<engine>:<key>" with a row in
 * ecl.handlers (ecl.register_handler in 60_engines.sql writes both through
 * ecl.register_policy).  All five functions are one C function,
 * run_engine(), parameterised by a row of the engine table below: it finds
 * the handler, fills the input fields the key implies and the caller left
 * out, checks the input's shape, and runs the handler through the runner
 * (runner.h) on the table host with policy_type = the engine's name, so
 * every run is counted under its engine in ecl.stat_eclvm_by_type.
 *
 * The handler is found through the handler cache (handler_cache.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "ecl_pg.h"
#include "handler_cache.h"
#include "policy_catalog.h"
#include "runner.h"
#include "sql_policy.h"

/* ------------------------------------------------------------ input shapes */

typedef enum FieldType
{
	FIELD_ANY,					/* any JSON value but null */
	FIELD_STRING,
	FIELD_NUMBER,
	FIELD_OBJECT,
	FIELD_ARRAY
} FieldType;

typedef enum FieldRule
{
	FIELD_OPTIONAL,				/* may be absent or null */
	FIELD_REQUIRED,				/* must be present, not null */
	FIELD_ONE_OF				/* exactly one of the ONE_OF fields is present */
} FieldRule;

typedef struct InputField
{
	const char *name;
	FieldType	type;
	FieldRule	rule;
	const struct InputField *fields;	/* FIELD_OBJECT: its own fields, or NULL */
} InputField;

/*
 * Fields are checked for presence and type only; other fields are allowed
 * (a handler may want more context), and a handler that reads a field the
 * input lacks still fails with EC006 naming it.
 */
static const InputField api_fields[] = {
	{"method", FIELD_STRING, FIELD_REQUIRED, NULL},
	{"path", FIELD_STRING, FIELD_REQUIRED, NULL},
	{"params", FIELD_OBJECT, FIELD_OPTIONAL, NULL},
	{"body", FIELD_ANY, FIELD_OPTIONAL, NULL},
	{NULL}
};

static const InputField ui_fields[] = {
	{"component", FIELD_STRING, FIELD_REQUIRED, NULL},
	{"props", FIELD_OBJECT, FIELD_OPTIONAL, NULL},
	{NULL}
};

static const InputField datalogic_fields[] = {
	{"event", FIELD_ANY, FIELD_ONE_OF, NULL},
	{"events", FIELD_ARRAY, FIELD_ONE_OF, NULL},
	{NULL}
};

static const InputField proposal_fields[] = {
	{"yes", FIELD_NUMBER, FIELD_OPTIONAL, NULL},
	{"no", FIELD_NUMBER, FIELD_OPTIONAL, NULL},
	{"total", FIELD_NUMBER, FIELD_OPTIONAL, NULL},
	{"status", FIELD_STRING, FIELD_OPTIONAL, NULL},
	{NULL}
};

static const InputField governance_fields[] = {
	{"proposal", FIELD_OBJECT, FIELD_REQUIRED, proposal_fields},
	{"voter", FIELD_STRING, FIELD_OPTIONAL, NULL},
	{NULL}
};

static const InputField controller_fields[] = {
	{"permission", FIELD_STRING, FIELD_REQUIRED, NULL},
	{"resource", FIELD_ANY, FIELD_OPTIONAL, NULL},
	{NULL}
};

/* What a handler key says about the input (see key_defaults) */
typedef enum KeyRule
{
	KEY_SAYS_NOTHING,
	KEY_IS_ROUTE,				/* "METHOD /path": method and path */
	KEY_IS_FIELD				/* the key is the value of key_field */
} KeyRule;

typedef struct EngineSpec
{
	const char *name;			/* engine = policy type = handler prefix */
	const char *shape;			/* for hints */
	const InputField *fields;
	KeyRule		key_rule;
	const char *key_field;		/* KEY_IS_FIELD */
} EngineSpec;

static const EngineSpec engine_api = {
	"api", "{\"method\": string, \"path\": string, \"params\": object, \"body\": any};"
	" a key \"METHOD /path\" supplies method and path when they are left out",
	api_fields, KEY_IS_ROUTE, NULL
};
static const EngineSpec engine_ui = {
	"ui", "{\"component\": string, \"props\": object}; component defaults to the key",
	ui_fields, KEY_IS_FIELD, "component"
};
static const EngineSpec engine_datalogic = {
	"datalogic", "{\"event\": any} or {\"events\": array}", datalogic_fields,
	KEY_SAYS_NOTHING, NULL
};
static const EngineSpec engine_governance = {
	"governance",
	"{\"proposal\": {\"id\", \"yes\": number, \"no\": number, \"total\": number, \"status\": string}, \"voter\": string}",
	governance_fields, KEY_SAYS_NOTHING, NULL
};
static const EngineSpec engine_controller = {
	"controller", "{\"permission\": string, \"resource\": any}; permission defaults to the key",
	controller_fields, KEY_IS_FIELD, "permission"
};

static const char *
field_type_name(FieldType type)
{
	switch (type)
	{
		case FIELD_ANY:
			return "a non-null value";
		case FIELD_STRING:
			return "a string";
		case FIELD_NUMBER:
			return "a number";
		case FIELD_OBJECT:
			return "an object";
		case FIELD_ARRAY:
			return "an array";
	}
	return "?";
}

static bool
field_has_type(const JsonbValue *v, FieldType type)
{
	switch (type)
	{
		case FIELD_ANY:
			return v->type != jbvNull;
		case FIELD_STRING:
			return v->type == jbvString;
		case FIELD_NUMBER:
			return v->type == jbvNumeric;
		case FIELD_OBJECT:
			return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
		case FIELD_ARRAY:
			return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
	}
	return false;
}

static pg_noreturn void
raise_bad_input(const EngineSpec *engine, const char *path, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("ecl.run_%s: input%s%s %s", engine->name,
					path[0] ? "." : "", path, problem),
			 errhint("The %s engine takes input %s.", engine->name, engine->shape)));
}

/* Check the fields of one object container against a field list. */
static void
check_fields(const EngineSpec *engine, JsonbContainer *obj,
			 const InputField *fields, const char *prefix)
{
	const InputField *f;
	const char *one_of_present = NULL;
	const char *one_of_names = NULL;

	for (f = fields; f->name != NULL; f++)
	{
		JsonbValue *v = getKeyJsonValueFromContainer(obj, f->name, strlen(f->name),
													 NULL);
		char	   *path = prefix[0] ? psprintf("%s.%s", prefix, f->name)
			: pstrdup(f->name);
		bool		present = v != NULL && v->type != jbvNull;

		if (f->rule == FIELD_ONE_OF)
		{
			one_of_names = one_of_names ? psprintf("%s or \"%s\"", one_of_names, f->name)
				: psprintf("\"%s\"", f->name);
			if (present && one_of_present != NULL)
				raise_bad_input(engine, "",
								psprintf("has both \"%s\" and \"%s\"; give one",
										 one_of_present, f->name));
			if (present)
				one_of_present = f->name;
		}
		if (!present)
		{
			if (f->rule == FIELD_REQUIRED)
				raise_bad_input(engine, path,
								psprintf("is missing (must be %s)",
										 field_type_name(f->type)));
			continue;
		}
		if (!field_has_type(v, f->type))
			raise_bad_input(engine, path,
							psprintf("must be %s", field_type_name(f->type)));
		if (f->type == FIELD_OBJECT && f->fields != NULL)
			check_fields(engine, v->val.binary.data, f->fields, path);
	}
	if (one_of_names != NULL && one_of_present == NULL)
		raise_bad_input(engine, "", psprintf("needs %s", one_of_names));
}

/* 22023 unless input (NULL = {}) has the engine's shape. */
static void
check_input_shape(const EngineSpec *engine, Jsonb *input)
{
	Jsonb	   *empty = NULL;

	if (input == NULL)
		input = empty = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
														   CStringGetDatum("{}")));
	if (JB_ROOT_IS_SCALAR(input) || !JB_ROOT_IS_OBJECT(input))
		raise_bad_input(engine, "", "must be a JSON object");
	check_fields(engine, &input->root, engine->fields, "");
	if (empty)
		pfree(empty);
}

/* ------------------------------------------------------- key defaults */

/*
 * A route key is an HTTP method in upper-case letters, one space, and a path
 * that starts with '/' and holds no white space: "POST /orders/:id".  Any
 * other api key ("health", "post /x") implies nothing, and the caller gives
 * method and path.
 */
static bool
split_route(const char *key, char **method, char **path)
{
	const char *p = key;
	const char *q;

	while (*p >= 'A' && *p <= 'Z')
		p++;
	if (p == key || p[0] != ' ' || p[1] != '/')
		return false;
	for (q = p + 1; *q != '\0'; q++)
		if (isspace((unsigned char) *q))
			return false;
	*method = pnstrdup(key, p - key);
	*path = pstrdup(p + 1);
	return true;
}

static void
push_string(JsonbParseState **state, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(state, token, &v);
}

/*
 * The input with the fields the handler key implies filled in where the
 * caller left them out (absent or JSON null, as the shape check treats
 * them): api method and path from a route key, ui component, controller
 * permission.  A field the caller gave is kept, also when it differs from
 * the key's: the key already chose the handler, so the field cannot route
 * the call elsewhere, and differing is often right — an api caller passes
 * the concrete path "/orders/o-7" to the handler of "POST /orders/:id", and
 * a router may send HEAD to a GET handler.  A handler that cares compares
 * the field with its own constant.  A NULL input is {}; an input that is
 * not an object is returned as it is, for the shape check to refuse.
 */
static Jsonb *
fill_from_key(const EngineSpec *engine, const char *key, Jsonb *input)
{
	const char *names[2];
	char	   *values[2];
	int			n = 0;
	int			nfilled = 0;
	JsonbParseState *state = NULL;
	JsonbValue *filled;
	Jsonb	   *defaults;

	if (input != NULL && (JB_ROOT_IS_SCALAR(input) || !JB_ROOT_IS_OBJECT(input)))
		return input;
	switch (engine->key_rule)
	{
		case KEY_SAYS_NOTHING:
			return input;
		case KEY_IS_ROUTE:
			if (!split_route(key, &values[0], &values[1]))
				return input;
			names[0] = "method";
			names[1] = "path";
			n = 2;
			break;
		case KEY_IS_FIELD:
			names[0] = engine->key_field;
			values[0] = (char *) key;
			n = 1;
			break;
	}

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		if (input != NULL)
		{
			JsonbValue *given = getKeyJsonValueFromContainer(&input->root, names[i],
															 strlen(names[i]), NULL);

			if (given != NULL && given->type != jbvNull)
				continue;
		}
		push_string(&state, WJB_KEY, names[i]);
		push_string(&state, WJB_VALUE, values[i]);
		nfilled++;
	}
	filled = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	if (nfilled == 0)
		return input;
	defaults = JsonbValueToJsonb(filled);
	if (input == NULL)
		return defaults;
	/* the right operand wins, so a JSON null the caller gave is replaced */
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(input),
											  JsonbPGetDatum(defaults)));
}

/* ------------------------------------------------------------------ runs */

static char *
text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * ecl.run_<engine>(key text, caller text, realm text, input jsonb DEFAULT
 * '{}') RETURNS ecl.run_result.  Without a realm the handler runs in the
 * realm it was registered for (as ecl.run_policy does).
 */
static Datum
run_engine(FunctionCallInfo fcinfo, const EngineSpec *engine)
{
	EclRunRequest req;
	EclRunOutcome out;
	const EclPolicy *policy;
	char	   *policy_name;
	const char *key;
	const char *realm;
	Jsonb	   *input;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ecl.run_%s: handler key must not be NULL", engine->name)));
	key = text_arg(fcinfo, 0);
	realm = text_arg(fcinfo, 2);
	input = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);

	/*
	 * The handler first: an unknown handler is 42704 whatever the input, and
	 * the key it was found under fills the input before the shape check.
	 */
	policy_name = ecl_handler_lookup(engine->name, key);
	input = fill_from_key(engine, key, input);
	check_input_shape(engine, input);
	policy = ecl_policy_lookup(policy_name);

	/* handlers may write stores and emit */
	ecl_run_request_for_policy(&req, policy, text_arg(fcinfo, 1), realm,
							   input, 0);
	req.policy_type = engine->name;
	ecl_run(&req, &out);
	return ecl_run_result_datum(fcinfo, &out);
}

/* One SQL-callable symbol per engine, each a call of run_engine. */
#define ENGINE_ENTRY_POINT(engine) \
	PG_FUNCTION_INFO_V1(ecl_run_##engine); \
	Datum \
	ecl_run_##engine(PG_FUNCTION_ARGS) \
	{ \
		return run_engine(fcinfo, &engine_##engine); \
	}

ENGINE_ENTRY_POINT(api)
ENGINE_ENTRY_POINT(ui)
ENGINE_ENTRY_POINT(datalogic)
ENGINE_ENTRY_POINT(governance)
ENGINE_ENTRY_POINT(controller)
