/*
 * sql_policy.c — registered policies from SQL (docs/sql-api.md, "Registered policies"):
 *
 *   ecl.register_policy(name, source, kind, realm) -> hash
 *   ecl.rollback_policy(name, version) -> hash
 *   ecl.drop_policy(name) -> true
 *   ecl.set_shadow(name, source) -> hash of the candidate
 *   ecl.promote_shadow(name) -> hash (the candidate, registered)
 *   ecl.drop_shadow(name) -> whether there was a candidate
 *   ecl.run_policy(policy, caller, realm, input, gas_limit, mana_limit)
 *   ecl.check(policy, caller, realm, input)       read-only, -> boolean
 *   ecl.allowed(policy, realm, input)             caller = ecl.current_did();
 *                                                 none: denied (unless
 *                                                 ecl.allow_anonymous)
 *   ecl.enforce(policy, caller, realm, input)     denial -> EC001
 *
 * Every run goes through the runner (runner.h) on the table host.
 *
 * Privileges: register_policy and drop_policy write ecl.policies as the
 * owner of schema ecl (the same switch a SECURITY DEFINER function makes),
 * so ecl_admin needs no write grant on the table and nobody can put a row
 * there that was not compiled here: EXECUTE on these two functions (granted
 * to ecl_admin only) is the permission to register.  The statements are
 * schema-qualified and use OPERATOR(pg_catalog.=) like every other lookup.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"


#include "catalog_cache.h"
#include "ecl_pg.h"
#include "statement_memo.h"
#include "identity.h"
#include "owner_spi.h"
#include "policy_catalog.h"
#include "program_cache.h"
#include "runner.h"
#include "sql_policy.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(ecl_register_policy);
PG_FUNCTION_INFO_V1(ecl_rollback_policy);
PG_FUNCTION_INFO_V1(ecl_drop_policy);
PG_FUNCTION_INFO_V1(ecl_set_shadow);
PG_FUNCTION_INFO_V1(ecl_promote_shadow);
PG_FUNCTION_INFO_V1(ecl_drop_shadow);
PG_FUNCTION_INFO_V1(ecl_run_policy);
PG_FUNCTION_INFO_V1(ecl_check);
PG_FUNCTION_INFO_V1(ecl_allowed);
PG_FUNCTION_INFO_V1(ecl_enforce);

static const char *const policy_kinds[] = {
	"crossing", "membership", "transaction", "governance", "privacy",
	"api", "ui", "datalogic", "controller", "custom", NULL
};

/* A text argument that must not be NULL (22004 naming what), as a C string. */
char *
ecl_required_text(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static char *
optional_text(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Registering writes ecl.policies: refuse it up front in a read-only
 * transaction — every transaction on a hot standby — before compiling
 * (which would count in the standby's statistics) and with a message that
 * names the function rather than the INSERT inside it.
 */
static void
refuse_if_read_only(const char *function)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute %s in a read-only transaction", function),
				 RecoveryInProgress() ?
				 errhint("This server is a hot standby: register and drop policies on the primary; the change reaches the standby by replication.") : 0));
}

/* ------------------------------------------------------ register / drop */

typedef struct RegisterArgs
{
	const char *name;
	const char *kind;
	const char *realm;
	text	   *source;
	bytea	   *bytecode;
	bytea	   *hash;
	bool		realm_exists;
} RegisterArgs;

static SPIPlanPtr realm_plan = NULL;
static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr upsert_plan_0_1 = NULL;	/* the 0.1 install script */
static SPIPlanPtr version_plan = NULL;
static SPIPlanPtr history_plan = NULL;
static SPIPlanPtr delete_plan = NULL;

static void
work_realm_exists(void *p)
{
	RegisterArgs *a = (RegisterArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;

	values[0] = CStringGetTextDatum(a->realm);
	rc = SPI_execute_plan(ecl_keep_plan(&realm_plan,
									   "SELECT FROM ecl.realms r"
									   " WHERE r.realm_id OPERATOR(pg_catalog.=) $1",
									   1, argtypes),
						  values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "realm lookup failed: %s", SPI_result_code_string(rc));
	a->realm_exists = SPI_processed > 0;
}

static void
work_upsert(void *p)
{
	RegisterArgs *a = (RegisterArgs *) p;
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, BYTEAOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			rc;

	values[0] = CStringGetTextDatum(a->name);
	values[1] = CStringGetTextDatum(a->kind);
	if (a->realm != NULL)
		values[2] = CStringGetTextDatum(a->realm);
	else
		nulls[2] = 'n';
	values[3] = PointerGetDatum(a->source);
	values[4] = PointerGetDatum(a->bytecode);
	values[5] = PointerGetDatum(a->hash);

	/*
	 * One statement writes the policy and its history row, so the two
	 * cannot disagree.  The WHERE of DO UPDATE makes an identical
	 * registration (same kind, realm, source and hash) a no-op: nothing is
	 * updated, RETURNING yields no row and no history row is written, so a
	 * migration that registers its policies can run again.  The hash is
	 * compared too: the same source compiled by a build whose bytecode
	 * differs is a new version.  The realm comparison is NULL-safe through
	 * COALESCE (both NULL = equal), since a NULL inside the NOT would
	 * silently turn a change into a no-op.  A new name (or one dropped
	 * earlier) continues the numbering of its history, so (name, version)
	 * names one source for good.
	 */
	/*
	 * 0.1 has no ecl.policy_versions: there the policy alone is written,
	 * with the same versioning (the update starts the history with it).
	 */
	if (ecl_catalog_is_0_1())
	{
		rc = SPI_execute_plan(ecl_keep_plan(&upsert_plan_0_1,
										   "INSERT INTO ecl.policies AS p"
										   "        (name, kind, realm_id, source, bytecode, hash)"
										   " VALUES ($1, $2, $3, $4, $5, $6)"
										   " ON CONFLICT (name) DO UPDATE"
										   "   SET kind = EXCLUDED.kind,"
										   "       realm_id = EXCLUDED.realm_id,"
										   "       source = EXCLUDED.source,"
										   "       bytecode = EXCLUDED.bytecode,"
										   "       hash = EXCLUDED.hash,"
										   "       version = p.version OPERATOR(pg_catalog.+) 1,"
										   "       updated_at = pg_catalog.now()"
										   "   WHERE NOT (p.kind OPERATOR(pg_catalog.=) EXCLUDED.kind"
										   "          AND COALESCE(p.realm_id OPERATOR(pg_catalog.=) EXCLUDED.realm_id,"
										   "                       p.realm_id IS NULL AND EXCLUDED.realm_id IS NULL)"
										   "          AND p.source OPERATOR(pg_catalog.=) EXCLUDED.source COLLATE pg_catalog.\"C\""
										   "          AND p.hash OPERATOR(pg_catalog.=) EXCLUDED.hash)",
										   6, argtypes),
							  values, nulls, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "policy insert failed: %s", SPI_result_code_string(rc));
		return;
	}

	rc = SPI_execute_plan(ecl_keep_plan(&upsert_plan,
									   "WITH up AS ("
									   " INSERT INTO ecl.policies AS p"
									   "        (name, kind, realm_id, source, bytecode, hash, version)"
									   " VALUES ($1, $2, $3, $4, $5, $6,"
									   "         (SELECT COALESCE(pg_catalog.max(v.version), 0) OPERATOR(pg_catalog.+) 1"
									   "            FROM ecl.policy_versions v"
									   "           WHERE v.name OPERATOR(pg_catalog.=) $1))"
									   " ON CONFLICT (name) DO UPDATE"
									   "   SET kind = EXCLUDED.kind,"
									   "       realm_id = EXCLUDED.realm_id,"
									   "       source = EXCLUDED.source,"
									   "       bytecode = EXCLUDED.bytecode,"
									   "       hash = EXCLUDED.hash,"
									   "       version = p.version OPERATOR(pg_catalog.+) 1,"
									   "       updated_at = pg_catalog.now()"
									   "   WHERE NOT (p.kind OPERATOR(pg_catalog.=) EXCLUDED.kind"
									   "          AND COALESCE(p.realm_id OPERATOR(pg_catalog.=) EXCLUDED.realm_id,"
									   "                       p.realm_id IS NULL AND EXCLUDED.realm_id IS NULL)"
									   "          AND p.source OPERATOR(pg_catalog.=) EXCLUDED.source COLLATE pg_catalog.\"C\""
									   "          AND p.hash OPERATOR(pg_catalog.=) EXCLUDED.hash)"
									   " RETURNING p.name, p.version, p.kind, p.realm_id, p.source, p.hash)"
									   " INSERT INTO ecl.policy_versions"
									   "        (name, version, kind, realm_id, source, hash, registered_by)"
									   " SELECT up.name, up.version, up.kind, up.realm_id, up.source, up.hash,"
									   "        SESSION_USER"
									   "   FROM up",
									   6, argtypes),
						  values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "policy insert failed: %s", SPI_result_code_string(rc));
}

static bytea *
make_bytea(const void *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

/*
 * The one way a policy gets into ecl.policies (register_policy and
 * rollback_policy): check kind and realm, compile, store; returns the hash.
 * args->name, kind and realm are set by the caller.
 */
static bytea *
register_source(RegisterArgs *args, text *source)
{
	uint8_t    *bytes;
	size_t		nbytes;
	uint8		hash[ECL_POLICY_HASH_BYTES];
	const char *const *k;

	for (k = policy_kinds; *k != NULL; k++)
		if (strcmp(*k, args->kind) == 0)
			break;
	if (*k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown policy kind \"%s\"", args->kind),
				 errhint("Kinds are crossing, membership, transaction, governance, privacy, api, ui, datalogic, controller and custom.")));

	if (args->realm != NULL)
	{
		ecl_as_owner(work_realm_exists, args);
		if (!args->realm_exists)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("realm \"%s\" does not exist", args->realm)));
	}

	/*
	 * The policy called name when the source defines it, else the source's
	 * only policy (or its script-mode body): a policy may be registered
	 * under a name other than the one it is written with.
	 */
	bytes = ecl_pg_compile(VARDATA(source), VARSIZE(source) - VARHDRSZ,
						   args->name, true, &nbytes);
	ecl_policy_hash(bytes, nbytes, hash);

	args->source = source;
	args->bytecode = make_bytea(bytes, nbytes);
	args->hash = make_bytea(hash, sizeof(hash));
	ecl_as_owner(work_upsert, args);
	return args->hash;
}

/* The registration path for other entry points (sql_policy.h). */
bytea *
ecl_register_policy_source(const char *name, const char *kind,
						   const char *realm, text *source)
{
	RegisterArgs args;

	memset(&args, 0, sizeof(args));
	args.name = name;
	args.kind = kind;
	args.realm = realm;
	return register_source(&args, source);
}

/*
 * ecl.register_policy(name text, source text, kind text DEFAULT 'custom',
 *                     realm text DEFAULT NULL) RETURNS bytea
 */
Datum
ecl_register_policy(PG_FUNCTION_ARGS)
{
	RegisterArgs args;
	text	   *source;

	refuse_if_read_only("ecl.register_policy()");
	memset(&args, 0, sizeof(args));
	args.name = ecl_required_text(fcinfo, 0, "policy name");
	if (args.name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy name must not be empty")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy source must not be NULL")));
	source = PG_GETARG_TEXT_P(1);	/* detoasted: stored as is */
	args.kind = PG_ARGISNULL(2) ? "custom" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	args.realm = optional_text(fcinfo, 3);

	PG_RETURN_BYTEA_P(register_source(&args, source));
}

typedef struct VersionArgs
{
	const char *name;
	int32		version;
	MemoryContext cxt;			/* where the row found is copied */
	bool		found;			/* the version exists */
	bool		name_known;		/* the name has some history */
	text	   *source;
	char	   *kind;
	char	   *realm;
} VersionArgs;

static void
work_find_version(void *p)
{
	VersionArgs *a = (VersionArgs *) p;
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	int			rc;

	values[0] = CStringGetTextDatum(a->name);
	values[1] = Int32GetDatum(a->version);
	rc = SPI_execute_plan(ecl_keep_plan(&version_plan,
									   "SELECT v.source, v.kind, v.realm_id"
									   "  FROM ecl.policy_versions v"
									   " WHERE v.name OPERATOR(pg_catalog.=) $1"
									   "   AND v.version OPERATOR(pg_catalog.=) $2",
									   2, argtypes),
						  values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "policy version lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		MemoryContext old = MemoryContextSwitchTo(a->cxt);

		d = SPI_getbinval(row, desc, 1, &isnull);
		a->source = DatumGetTextPCopy(d);
		a->kind = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));
		d = SPI_getbinval(row, desc, 3, &isnull);
		a->realm = isnull ? NULL : TextDatumGetCString(d);
		MemoryContextSwitchTo(old);
		a->found = a->name_known = true;
		return;
	}

	/* only to say which of the two is unknown */
	rc = SPI_execute_plan(ecl_keep_plan(&history_plan,
									   "SELECT FROM ecl.policy_versions v"
									   " WHERE v.name OPERATOR(pg_catalog.=) $1",
									   1, argtypes),
						  values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "policy history lookup failed: %s", SPI_result_code_string(rc));
	a->name_known = SPI_processed > 0;
}

/*
 * ecl.rollback_policy(name text, version integer) RETURNS bytea
 *
 * The old version's source, kind and realm go through register_source like
 * a new registration: recompiled here, so the bytecode is this build's, and
 * stored as the next version, so the history says what happened.  Rolling
 * back to what is already current is therefore the identical-source no-op.
 */
Datum
ecl_rollback_policy(PG_FUNCTION_ARGS)
{
	VersionArgs v;
	RegisterArgs args;

	refuse_if_read_only("ecl.rollback_policy()");
	memset(&v, 0, sizeof(v));
	v.name = ecl_required_text(fcinfo, 0, "policy name");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy version must not be NULL")));
	v.version = PG_GETARG_INT32(1);
	v.cxt = CurrentMemoryContext;
	ecl_as_owner(work_find_version, &v);
	if (!v.name_known)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("policy \"%s\" does not exist", v.name)));
	if (!v.found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("policy \"%s\" has no version %d", v.name, v.version),
				 errhint("Its versions are listed in ecl.policy_versions.")));

	memset(&args, 0, sizeof(args));
	args.name = v.name;
	args.kind = v.kind;
	args.realm = v.realm;
	PG_RETURN_BYTEA_P(register_source(&args, v.source));
}

typedef struct DropArgs
{
	const char *name;
	bool		found;
} DropArgs;

static void
work_delete(void *p)
{
	DropArgs   *a = (DropArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;

	values[0] = CStringGetTextDatum(a->name);
	rc = SPI_execute_plan(ecl_keep_plan(&delete_plan,
									   "DELETE FROM ecl.policies p"
									   " WHERE p.name OPERATOR(pg_catalog.=) $1",
									   1, argtypes),
						  values, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "policy delete failed: %s", SPI_result_code_string(rc));
	a->found = SPI_processed > 0;
}

/* ecl.drop_policy(name text) RETURNS boolean */
Datum
ecl_drop_policy(PG_FUNCTION_ARGS)
{
	DropArgs	args;

	refuse_if_read_only("ecl.drop_policy()");
	args.name = ecl_required_text(fcinfo, 0, "policy name");
	args.found = false;
	ecl_as_owner(work_delete, &args);
	if (!args.found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("policy \"%s\" does not exist", args.name)));
	PG_RETURN_BOOL(true);
}

/* ------------------------------------------------------ shadow candidate */

/*
 * The candidate lives in the policy's own row (ecl.policies.shadow_*), so
 * setting, promoting or dropping it is a change of ecl.policies: the
 * statement trigger invalidates every session's cached policies (the
 * runner then sees the candidate, or no longer does) and every plan that
 * translated the policy to SQL (the planner refuses to translate a policy
 * with a candidate, so that the candidate actually runs), and dropping the
 * policy drops its candidate with it.
 */
typedef struct ShadowArgs
{
	const char *name;
	MemoryContext cxt;			/* where the row read is copied */
	/* read */
	bool		found;
	bool		has_shadow;
	char	   *kind;
	char	   *realm;
	text	   *shadow_source;
	/* written: NULL source clears the candidate */
	text	   *source;
	bytea	   *bytecode;
	bytea	   *hash;
} ShadowArgs;

static SPIPlanPtr shadow_read_plan = NULL;
static SPIPlanPtr shadow_set_plan = NULL;
static SPIPlanPtr shadow_clear_plan = NULL;

/* The policy's row, locked: a concurrent set/promote/drop waits. */
static void
work_shadow_read(void *p)
{
	ShadowArgs *a = (ShadowArgs *) p;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;

	values[0] = CStringGetTextDatum(a->name);
	rc = SPI_execute_plan(ecl_keep_plan(&shadow_read_plan,
									   "SELECT p.kind, p.realm_id, p.shadow_source"
									   "  FROM ecl.policies p"
									   " WHERE p.name OPERATOR(pg_catalog.=) $1"
									   "   FOR UPDATE",
									   1, argtypes),
						  values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "policy shadow lookup failed: %s", SPI_result_code_string(rc));
	a->found = SPI_processed > 0;
	if (a->found)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		MemoryContext old = MemoryContextSwitchTo(a->cxt);

		a->kind = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
		d = SPI_getbinval(row, desc, 2, &isnull);
		a->realm = isnull ? NULL : TextDatumGetCString(d);
		d = SPI_getbinval(row, desc, 3, &isnull);
		a->has_shadow = !isnull;
		a->shadow_source = isnull ? NULL : DatumGetTextPCopy(d);
		MemoryContextSwitchTo(old);
	}
}

static void
work_shadow_write(void *p)
{
	ShadowArgs *a = (ShadowArgs *) p;
	int			rc;

	if (a->source != NULL)
	{
		Oid			argtypes[4] = {TEXTOID, TEXTOID, BYTEAOID, BYTEAOID};
		Datum		values[4];

		values[0] = CStringGetTextDatum(a->name);
		values[1] = PointerGetDatum(a->source);
		values[2] = PointerGetDatum(a->bytecode);
		values[3] = PointerGetDatum(a->hash);
		rc = SPI_execute_plan(ecl_keep_plan(&shadow_set_plan,
										   "UPDATE ecl.policies p"
										   "   SET shadow_source = $2, shadow_bytecode = $3,"
										   "       shadow_hash = $4, shadow_set_by = SESSION_USER,"
										   "       shadow_set_at = pg_catalog.now()"
										   " WHERE p.name OPERATOR(pg_catalog.=) $1",
										   4, argtypes),
							  values, NULL, false, 0);
	}
	else
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		values[1];

		values[0] = CStringGetTextDatum(a->name);
		rc = SPI_execute_plan(ecl_keep_plan(&shadow_clear_plan,
										   "UPDATE ecl.policies p"
										   "   SET shadow_source = NULL, shadow_bytecode = NULL,"
										   "       shadow_hash = NULL, shadow_set_by = NULL,"
										   "       shadow_set_at = NULL"
										   " WHERE p.name OPERATOR(pg_catalog.=) $1",
										   1, argtypes),
							  values, NULL, false, 0);
	}
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "policy shadow update failed: %s", SPI_result_code_string(rc));
}

/* Read and lock the policy's row; 42704 when there is no such policy. */
static void
read_shadow_row(ShadowArgs *a)
{
	a->cxt = CurrentMemoryContext;
	ecl_as_owner(work_shadow_read, a);
	if (!a->found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("policy \"%s\" does not exist", a->name),
				 errhint("A shadow candidate is set for a registered policy; register it first with ecl.register_policy.")));
}

/*
 * ecl.set_shadow(name text, source text) RETURNS bytea
 *
 * Compiled like a registration (a syntax error is 42601 and stores
 * nothing); the candidate runs with the policy's kind and realm, so it has
 * none of its own.  Setting a candidate replaces the previous one.
 */
Datum
ecl_set_shadow(PG_FUNCTION_ARGS)
{
	ShadowArgs	a;
	text	   *source;
	uint8_t    *bytes;
	size_t		nbytes;
	uint8		hash[ECL_POLICY_HASH_BYTES];

	refuse_if_read_only("ecl.set_shadow()");
	memset(&a, 0, sizeof(a));
	a.name = ecl_required_text(fcinfo, 0, "policy name");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("shadow source must not be NULL"),
				 errhint("ecl.drop_shadow removes a candidate.")));
	source = PG_GETARG_TEXT_P(1);	/* detoasted: stored as is */
	read_shadow_row(&a);

	bytes = ecl_pg_compile(VARDATA(source), VARSIZE(source) - VARHDRSZ,
						   a.name, true, &nbytes);
	ecl_policy_hash(bytes, nbytes, hash);
	a.source = source;
	a.bytecode = make_bytea(bytes, nbytes);
	a.hash = make_bytea(hash, sizeof(hash));
	ecl_as_owner(work_shadow_write, &a);
	PG_RETURN_BYTEA_P(a.hash);
}

/*
 * ecl.promote_shadow(name text) RETURNS bytea
 *
 * The candidate's source goes through register_source like any
 * registration (recompiled, stored as the next version, recorded in
 * ecl.policy_versions; identical to the current source: the no-op), with
 * the policy's kind and realm; the candidate is then removed.
 */
Datum
ecl_promote_shadow(PG_FUNCTION_ARGS)
{
	ShadowArgs	a;
	RegisterArgs args;
	bytea	   *hash;

	refuse_if_read_only("ecl.promote_shadow()");
	memset(&a, 0, sizeof(a));
	a.name = ecl_required_text(fcinfo, 0, "policy name");
	read_shadow_row(&a);
	if (!a.has_shadow)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("policy \"%s\" has no shadow candidate", a.name),
				 errhint("Set one with ecl.set_shadow.")));

	memset(&args, 0, sizeof(args));
	args.name = a.name;
	args.kind = a.kind;
	args.realm = a.realm;
	hash = register_source(&args, a.shadow_source);
	a.source = NULL;
	ecl_as_owner(work_shadow_write, &a);
	PG_RETURN_BYTEA_P(hash);
}

/*
 * ecl.drop_shadow(name text) RETURNS boolean: whether there was a
 * candidate (false changes nothing, so it invalidates nothing either).
 */
Datum
ecl_drop_shadow(PG_FUNCTION_ARGS)
{
	ShadowArgs	a;

	refuse_if_read_only("ecl.drop_shadow()");
	memset(&a, 0, sizeof(a));
	a.name = ecl_required_text(fcinfo, 0, "policy name");
	read_shadow_row(&a);
	if (!a.has_shadow)
		PG_RETURN_BOOL(false);
	a.source = NULL;
	ecl_as_owner(work_shadow_write, &a);
	PG_RETURN_BOOL(true);
}

/* ------------------------------------------------------------------ runs */

/*
 * The policy named by argument 0, remembered by the call site between rows
 * (policy_catalog.h).
 */
static const EclPolicy *
policy_of_call(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	text	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy name must not be NULL")));
	name = PG_GETARG_TEXT_PP(0);
	if (flinfo->fn_extra == NULL)
		flinfo->fn_extra = MemoryContextAllocZero(flinfo->fn_mcxt,
												  sizeof(EclPolicyCallCache));
	return ecl_policy_lookup_cached((EclPolicyCallCache *) flinfo->fn_extra,
									flinfo->fn_mcxt, VARDATA_ANY(name),
									VARSIZE_ANY_EXHDR(name));
}

/*
 * Fill a request for the registered policy of argument 0.  Without a realm
 * argument the run takes the realm the policy was registered for.
 */
static void
prepare_run(EclRunRequest *req, FunctionCallInfo fcinfo, const char *caller,
			const char *realm, Jsonb *input, int flags)
{
	ecl_run_request_for_policy(req, policy_of_call(fcinfo), caller, realm,
							   input, flags);
}

/* A gas or mana limit argument: 0 (use the GUC) when absent or NULL. */
int64
ecl_optional_limit(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int64		v;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return 0;
	v = PG_GETARG_INT64(argno);
	if (v <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive", what)));
	return v;
}

/* The ECL_RUN_RESULT_COLUMNS columns of ecl.run_result (sql_policy.h). */
void
ecl_run_result_fill(const EclRunOutcome *out, Datum *values, bool *nulls)
{
	ListCell   *lc;
	Datum	   *logs;
	int			nlogs = 0;

	memset(nulls, 0, sizeof(bool) * ECL_RUN_RESULT_COLUMNS);
	values[0] = BoolGetDatum(out->passed);
	if (out->value != NULL)
		values[1] = JsonbPGetDatum(out->value);
	else
		nulls[1] = true;
	if (out->message != NULL)
		values[2] = CStringGetTextDatum(out->message);
	else
		nulls[2] = true;
	values[3] = Int64GetDatum(out->gas_used);
	values[4] = Int64GetDatum(out->mana_used);
	values[5] = Int64GetDatum(out->duration_us);

	logs = palloc(sizeof(Datum) * (list_length(out->logs) + 1));
	foreach(lc, out->logs)
		logs[nlogs++] = CStringGetTextDatum((char *) lfirst(lc));
	values[6] = PointerGetDatum(construct_array(logs, nlogs, TEXTOID, -1,
												false, TYPALIGN_INT));
	values[7] = out->events != NULL ? JsonbPGetDatum(out->events)
		: DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
}

/* ecl.run_result from an outcome (sql_policy.h) */
Datum
ecl_run_result_datum(FunctionCallInfo fcinfo, const EclRunOutcome *out)
{
	TupleDesc	desc;
	Datum		values[ECL_RUN_RESULT_COLUMNS];
	bool		nulls[ECL_RUN_RESULT_COLUMNS];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	ecl_run_result_fill(out, values, nulls);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * ecl.run_policy(policy text, caller text, realm text, input jsonb DEFAULT
 * '{}', gas_limit bigint DEFAULT NULL, mana_limit bigint DEFAULT NULL)
 * RETURNS ecl.run_result
 */
Datum
ecl_run_policy(PG_FUNCTION_ARGS)
{
	EclRunRequest req;
	EclRunOutcome out;

	prepare_run(&req, fcinfo,
				optional_text(fcinfo, 1), optional_text(fcinfo, 2),
				PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), 0);
	req.gas_limit = ecl_optional_limit(fcinfo, 4, "gas_limit");
	req.mana_limit = ecl_optional_limit(fcinfo, 5, "mana_limit");
	ecl_run(&req, &out);
	return ecl_run_result_datum(fcinfo, &out);
}

/* ecl.check(policy, caller, realm, input) RETURNS boolean — read-only */
Datum
ecl_check(PG_FUNCTION_ARGS)
{
	EclRunRequest req;
	EclRunOutcome out;

	prepare_run(&req, fcinfo,
				optional_text(fcinfo, 1), optional_text(fcinfo, 2),
				PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3),
				ECL_RUN_READ_ONLY | ECL_RUN_PER_ROW);
	ecl_run(&req, &out);
	PG_RETURN_BOOL(out.passed);
}

/* ecl.allowed(policy, realm, input) RETURNS boolean — caller = own DID */
Datum
ecl_allowed(PG_FUNCTION_ARGS)
{
	EclRunRequest req;
	EclRunOutcome out;

	prepare_run(&req, fcinfo,
				ecl_current_did(), optional_text(fcinfo, 1),
				PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2),
				ECL_RUN_READ_ONLY | ECL_RUN_PER_ROW |
				(ecl_allow_anonymous ? 0 : ECL_RUN_NEEDS_CALLER));
	ecl_run(&req, &out);
	PG_RETURN_BOOL(out.passed);
}

/* ecl.enforce(policy, caller, realm, input) RETURNS ecl.run_result */
Datum
ecl_enforce(PG_FUNCTION_ARGS)
{
	EclRunRequest req;
	EclRunOutcome out;

	prepare_run(&req, fcinfo,
				optional_text(fcinfo, 1), optional_text(fcinfo, 2),
				PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), 0);
	ecl_run(&req, &out);
	if (!out.passed)
		ereport(ERROR,
				(errcode(ERRCODE_ECL_DENIED),
				 errmsg("policy \"%s\" denied: %s", req.policy_name,
						out.message ? out.message : "the policy returned a false value")));
	return ecl_run_result_datum(fcinfo, &out);
}
