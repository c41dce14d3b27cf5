/*
 * engines.c — the engine entry points of SPEC §6:
 *
 *   ecl.run_api(key, caller, realm, input)          -> ecl.run_result
 *   ecl.run_ui / run_datalogic / run_governance / run_controller (same)
 *
 * A handler is a registered policy called "<engine>:<key>" with a row in
 * ecl.handlers (ecl.register_handler in 60_engines.sql writes both through
 * ecl.register_policy).  All five functions are one C function,
 * run_engine(), parameterised by a row of the engine table below: it checks
 * the input's shape, finds the handler, and runs it through the runner
 * (runner.h) on the table host with policy_type = the engine's name, so
 * every run is counted under its engine in ecl.stat_eclvm_by_type.
 *
 * Handler lookups are cached per backend: a WHERE clause calling
 * ecl.run_datalogic once per row should not pay an SPI query per row.  The
 * cache is dropped on a relcache invalidation of ecl.handlers, which a
 * statement trigger on that table sends for every change (including the
 * cascaded deletes of ecl.drop_policy), so it follows the table
 * transactionally like the policy catalog follows ecl.policies.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "ecl_pg.h"
#include "identity.h"
#include "owner_spi.h"
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

typedef struct EngineSpec
{
	const char *name;			/* engine = policy type = handler prefix */
	const char *shape;			/* for hints */
	const InputField *fields;
} EngineSpec;

static const EngineSpec engine_api = {
	"api", "{\"method\": string, \"path\": string, \"params\": object, \"body\": any}",
	api_fields
};
static const EngineSpec engine_ui = {
	"ui", "{\"component\": string, \"props\": object}", ui_fields
};
static const EngineSpec engine_datalogic = {
	"datalogic", "{\"event\": any} or {\"events\": array}", datalogic_fields
};
static const EngineSpec engine_governance = {
	"governance",
	"{\"proposal\": {\"id\", \"yes\": number, \"no\": number, \"total\": number, \"status\": string}, \"voter\": string}",
	governance_fields
};
static const EngineSpec engine_controller = {
	"controller", "{\"permission\": string, \"resource\": any}", controller_fields
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

/* ---------------------------------------------------------- handler cache */

typedef struct HandlerEntry
{
	struct HandlerEntry *next;
	uint32		hash;
	char	   *engine;
	char	   *key;
	char	   *policy_name;
} HandlerEntry;

#define HANDLER_BUCKETS 64

static MemoryContext handler_cxt = NULL;
static HandlerEntry *handler_buckets[HANDLER_BUCKETS];
static uint64 handler_inval_count = 0;
static Oid	handlers_relid = InvalidOid;
static bool handler_callback_registered = false;
static SPIPlanPtr handler_plan = NULL;

/*
 * Entries hold only names, and callers copy what they use before running
 * anything, so an invalidation may free the entries on the spot.
 */
static void
handlers_relcache_callback(Datum arg, Oid relid)
{
	if (relid != InvalidOid && relid != handlers_relid)
		return;
	if (handler_cxt != NULL)
		MemoryContextReset(handler_cxt);
	memset(handler_buckets, 0, sizeof(handler_buckets));
	handler_inval_count++;
	/* a dropped and re-created extension has a new table */
	if (relid != InvalidOid)
		handlers_relid = InvalidOid;
}

static uint32
handler_hash(const char *engine, const char *key)
{
	return hash_combine(string_hash(engine, 0), string_hash(key, 0));
}

/*
 * The policy name of handler (engine, key), palloc'd in the current memory
 * context, or NULL when there is none.
 */
static char *
read_handler(const char *engine, const char *key)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *volatile policy_name = NULL;
	EclSavedUser saved;

	ecl_begin_owner_lookup(&saved);
	PG_TRY();
	{
		Datum		args[2];
		bool		isnull;
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		{
			Oid			argtypes[2] = {TEXTOID, TEXTOID};

			ecl_keep_plan(&handler_plan, "SELECT h.policy_name FROM ecl.handlers h"
						  " WHERE h.engine OPERATOR(pg_catalog.=) $1"
						  "   AND h.key OPERATOR(pg_catalog.=) $2",
						  2, argtypes);
		}
		args[0] = CStringGetTextDatum(engine);
		args[1] = CStringGetTextDatum(key);

		/* the newest snapshot, like the policy catalog (policy_catalog.c) */
		rc = SPI_execute_snapshot(handler_plan, args, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, true, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "handler lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				MemoryContextSwitchTo(callercxt);
				policy_name = TextDatumGetCString(d);
			}
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		ecl_end_owner_lookup(&saved);
		MemoryContextSwitchTo(callercxt);
	}
	PG_END_TRY();

	return policy_name;
}

/* The policy name of handler (engine, key); 42704 when there is none. */
static char *
lookup_handler(const char *engine, const char *key)
{
	uint32		hash = handler_hash(engine, key);
	HandlerEntry *e;
	uint64		inval_before;
	char	   *policy_name;

	if (!handler_callback_registered)
	{
		CacheRegisterRelcacheCallback(handlers_relcache_callback, (Datum) 0);
		handler_callback_registered = true;
	}
	if (handler_cxt == NULL)
		handler_cxt = AllocSetContextCreate(TopMemoryContext, "ecl handlers",
											ALLOCSET_SMALL_SIZES);

	/* pending invalidations first, so a hit is never stale */
	AcceptInvalidationMessages();

	for (e = handler_buckets[hash % HANDLER_BUCKETS]; e != NULL; e = e->next)
		if (e->hash == hash && strcmp(e->engine, engine) == 0 &&
			strcmp(e->key, key) == 0)
			return pstrdup(e->policy_name);

	if (!OidIsValid(handlers_relid))
	{
		Oid			nsp = get_namespace_oid("ecl", true);

		handlers_relid = OidIsValid(nsp) ? get_relname_relid("handlers", nsp)
			: InvalidOid;
	}

	inval_before = handler_inval_count;
	policy_name = read_handler(engine, key);
	if (policy_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s handler \"%s\" does not exist", engine, key),
				 errhint("Register it with ecl.register_handler('%s', '%s', source).",
						 engine, key)));

	/* a lookup that raced with an invalidation is used but not kept */
	if (handler_inval_count == inval_before && OidIsValid(handlers_relid))
	{
		e = MemoryContextAlloc(handler_cxt, sizeof(HandlerEntry));
		e->hash = hash;
		e->engine = MemoryContextStrdup(handler_cxt, engine);
		e->key = MemoryContextStrdup(handler_cxt, key);
		e->policy_name = MemoryContextStrdup(handler_cxt, policy_name);
		e->next = handler_buckets[hash % HANDLER_BUCKETS];
		handler_buckets[hash % HANDLER_BUCKETS] = e;
	}
	return policy_name;
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

	check_input_shape(engine, input);
	policy = ecl_policy_lookup(lookup_handler(engine->name, key));

	ecl_run_request_init(&req);
	req.program = policy->program;
	req.policy_name = policy->name;
	req.policy_type = engine->name;
	req.caller_did = text_arg(fcinfo, 1);
	req.realm_id = realm != NULL ? realm : policy->realm_id;
	req.input = input;
	req.read_only = false;		/* handlers may write stores and emit */
	req.host_kind = ECL_HOST_TABLES;
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
