/*
 * policy_catalog.c — per-backend cache of registered policies (see
 * policy_catalog.h), and the trigger function that invalidates it.
 *
 * The cache is a catalog cache over ecl.policies (catalog_cache.h: entries
 * in their own contexts, emptied by relcache invalidations, freed at
 * transaction end so a running program is never freed under its run, a
 * miss that races with an invalidation used once and not kept).
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "catalog_cache.h"
#include "ecl_pg.h"
#include "identity.h"
#include "owner_spi.h"
#include "policy_catalog.h"

PG_FUNCTION_INFO_V1(ecl_policies_changed);

typedef struct PolicyEntry
{
	EclCacheEntry base;			/* must be first; base.cxt owns the program */
	uint32		stack_limit;	/* ecl.max_stack_depth it was loaded with */
	EclPolicy	policy;
} PolicyEntry;

static EclCatalogCache policies = ECL_CATALOG_CACHE("policies", "ecl policy catalog");
static SPIPlanPtr read_plan = NULL;
static SPIPlanPtr read_plan_0_1 = NULL;	/* the 0.1 install script */

void
ecl_policy_hash(const uint8 *bytes, size_t len, uint8 out[ECL_POLICY_HASH_BYTES])
{
	ecl_sodium_init();
	if (crypto_generichash(out, ECL_POLICY_HASH_BYTES, bytes, len, NULL, 0) != 0)
		elog(ERROR, "crypto_generichash failed");
}

/*
 * Statement trigger on ecl.policies: every change, including TRUNCATE,
 * invalidates the cached policies of every session, transactionally.
 */
Datum
ecl_policies_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ecl.policies_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------ lookup */

static uint32
name_hash(const char *name)
{
	return hash_bytes((const unsigned char *) name, (int) strlen(name));
}

static PolicyEntry *
cache_find(const char *name, uint32 hash)
{
	EclCacheEntry *e;

	for (e = ecl_catalog_cache_chain(&policies, hash); e != NULL; e = e->next)
		if (e->hash == hash && strcmp(((PolicyEntry *) e)->policy.name, name) == 0)
			return (PolicyEntry *) e;
	return NULL;
}

static void
raise_undefined(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("policy \"%s\" does not exist", name)));
}

typedef struct LoadArgs
{
	const char *name;
	bool		missing_ok;		/* no row: entry NULL instead of 42704 */
	MemoryContext cxt;			/* the entry's */
	PolicyEntry *entry;
} LoadArgs;

/*
 * The candidate is checked like the policy (hash, then the verifier), but
 * a candidate that fails is kept as a failing candidate instead of raised:
 * its errors never reach the callers of the policy.
 */
static void
load_shadow(EclPolicy *policy, const ecl_alloc *alloc, bytea *code,
			bytea *stored_hash)
{
	uint8		hash[ECL_POLICY_HASH_BYTES];
	ecl_program *program;
	ecl_error	err;

	policy->has_shadow = true;
	ecl_policy_hash((const uint8 *) VARDATA_ANY(code),
					VARSIZE_ANY_EXHDR(code), hash);
	if (stored_hash == NULL ||
		VARSIZE_ANY_EXHDR(stored_hash) != ECL_POLICY_HASH_BYTES ||
		memcmp(VARDATA_ANY(stored_hash), hash, ECL_POLICY_HASH_BYTES) != 0)
	{
		policy->shadow_error = "stored bytecode of the shadow candidate does not match its hash";
		return;
	}
	ecl_error_clear(&err);
	if (ecl_program_load(alloc, (const uint8 *) VARDATA_ANY(code),
						 VARSIZE_ANY_EXHDR(code),
						 (uint32_t) ecl_max_stack_depth,
						 &program, &err) != ECL_OK)
	{
		policy->shadow_error = pstrdup(err.message);
		return;
	}
	policy->shadow = program;
}

static void
work_load_entry(void *arg)
{
	LoadArgs   *a = (LoadArgs *) arg;
	const char *name = a->name;
	MemoryContext cxt = a->cxt;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	bytea	   *code;
	bytea	   *stored_hash;
	Datum		d;
	uint8		hash[ECL_POLICY_HASH_BYTES];
	ecl_alloc	alloc;
	ecl_program *program;
	ecl_error	err;
	PolicyEntry *e;
	HeapTuple	tup;
	TupleDesc	desc;

	args[0] = CStringGetTextDatum(name);

	/* 0.1's ecl.policies has no shadow columns, so there is no candidate */
	if (!ecl_catalog_is_0_1()
		? ecl_owner_select(&read_plan,
						   "SELECT p.bytecode, p.hash, p.kind, p.realm_id,"
						   "       p.version::pg_catalog.int8,"
						   "       p.shadow_bytecode, p.shadow_hash"
						   "  FROM ecl.policies p"
						   " WHERE p.name OPERATOR(pg_catalog.=) $1",
						   1, argtypes, args, 1, true, "policy lookup") == 0
		: ecl_owner_select(&read_plan_0_1,
						   "SELECT p.bytecode, p.hash, p.kind, p.realm_id,"
						   "       p.version::pg_catalog.int8,"
						   "       NULL::pg_catalog.bytea, NULL::pg_catalog.bytea"
						   "  FROM ecl.policies p"
						   " WHERE p.name OPERATOR(pg_catalog.=) $1",
						   1, argtypes, args, 1, true, "policy lookup") == 0)
	{
		if (!a->missing_ok)
			raise_undefined(name);
		return;					/* entry stays NULL */
	}

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	MemoryContextSwitchTo(cxt);

	d = SPI_getbinval(tup, desc, 1, &isnull);
	code = isnull ? NULL : DatumGetByteaPP(d);
	d = SPI_getbinval(tup, desc, 2, &isnull);
	stored_hash = isnull ? NULL : DatumGetByteaPP(d);
	if (code == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ECL_BYTECODE),
				 errmsg("policy \"%s\": no bytecode stored", name)));

	ecl_policy_hash((const uint8 *) VARDATA_ANY(code),
					VARSIZE_ANY_EXHDR(code), hash);
	if (stored_hash == NULL ||
		VARSIZE_ANY_EXHDR(stored_hash) != ECL_POLICY_HASH_BYTES ||
		memcmp(VARDATA_ANY(stored_hash), hash, ECL_POLICY_HASH_BYTES) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_ECL_BYTECODE),
				 errmsg("policy \"%s\": stored bytecode does not match its hash",
						name),
				 errhint("Register the policy again with ecl.register_policy.")));

	ecl_pg_alloc_init(&alloc, cxt);
	ecl_error_clear(&err);
	if (ecl_program_load(&alloc, (const uint8 *) VARDATA_ANY(code),
						 VARSIZE_ANY_EXHDR(code),
						 (uint32_t) ecl_max_stack_depth,
						 &program, &err) != ECL_OK)
		ecl_raise(&err, name);

	e = palloc0(sizeof(PolicyEntry));
	e->base.cxt = cxt;
	e->base.hash = name_hash(name);
	e->stack_limit = (uint32) ecl_max_stack_depth;
	e->policy.name = pstrdup(name);
	e->policy.program = program;
	memcpy(e->policy.hash, hash, ECL_POLICY_HASH_BYTES);
	d = SPI_getbinval(tup, desc, 3, &isnull);
	e->policy.kind = isnull ? "custom" : TextDatumGetCString(d);
	d = SPI_getbinval(tup, desc, 4, &isnull);
	e->policy.realm_id = NULL;
	if (!isnull)
	{
		char	   *realm = TextDatumGetCString(d);

		if (realm[0] != '\0')
			e->policy.realm_id = realm;
	}
	d = SPI_getbinval(tup, desc, 5, &isnull);
	e->policy.version = isnull ? 0 : DatumGetInt64(d);

	d = SPI_getbinval(tup, desc, 6, &isnull);
	if (!isnull)
	{
		bytea	   *shadow_code = DatumGetByteaPP(d);
		bytea	   *shadow_hash;

		d = SPI_getbinval(tup, desc, 7, &isnull);
		shadow_hash = isnull ? NULL : DatumGetByteaPP(d);
		load_shadow(&e->policy, &alloc, shadow_code, shadow_hash);
	}

	a->entry = e;
}

/*
 * Read, verify and load the row of name into a new entry context (a child
 * of CurrentMemoryContext, so an error frees it).
 */
static PolicyEntry *
load_entry(const char *name, bool missing_ok)
{
	LoadArgs	a;

	a.name = name;
	a.missing_ok = missing_ok;
	a.cxt = AllocSetContextCreate(CurrentMemoryContext, "ecl policy",
								  ALLOCSET_SMALL_SIZES);
	MemoryContextSetIdentifier(a.cxt, MemoryContextStrdup(a.cxt, name));
	a.entry = NULL;
	ecl_as_owner(work_load_entry, &a);
	if (a.entry == NULL)
		MemoryContextDelete(a.cxt);
	return a.entry;
}

static const EclPolicy *
policy_lookup(const char *name, bool missing_ok)
{
	uint32		hash = name_hash(name);
	PolicyEntry *e;
	uint64		inval_before;

	ecl_catalog_cache_open(&policies);

	e = cache_find(name, hash);
	if (e != NULL)
	{
		if (e->stack_limit == (uint32) ecl_max_stack_depth)
			return &e->policy;
		/* loaded under another stack limit */
		ecl_catalog_cache_bury(&policies, &e->base);
	}

	inval_before = policies.inval_count;
	e = load_entry(name, missing_ok);
	if (e == NULL)
		return NULL;
	ecl_catalog_cache_keep(&policies, &e->base, inval_before);
	return &e->policy;
}

const EclPolicy *
ecl_policy_lookup(const char *name)
{
	return policy_lookup(name, false);
}

const EclPolicy *
ecl_policy_lookup_optional(const char *name)
{
	return policy_lookup(name, true);
}

Oid
ecl_policies_relation(void)
{
	return ecl_catalog_cache_relation(&policies);
}

/* Does the call site remember name, loaded under the present state? */
static bool
call_cache_holds(const EclPolicyCallCache *cache, const char *name,
				 int name_len)
{
	return cache->policy != NULL &&
		cache->inval_count == policies.inval_count &&
		cache->stamp.lxid == ecl_current_lxid() &&
		cache->stack_limit == (uint32) ecl_max_stack_depth &&
		cache->name_len == name_len &&
		memcmp(cache->name, name, name_len) == 0;
}

const EclPolicy *
ecl_policy_lookup_cached(EclPolicyCallCache *cache, MemoryContext cxt,
						 const char *name, int name_len)
{
	/*
	 * Within one command of one statement the call site keeps its policy
	 * without looking at other sessions' invalidations: the statement sees
	 * one version of it, as it sees one snapshot of the tables.  Changes of
	 * the own transaction arrive at the command boundary anyway (and move
	 * inval_count).
	 */
	if (ecl_statement_stamp_current(&cache->stamp) &&
		call_cache_holds(cache, name, name_len))
		return cache->policy;

	ecl_catalog_cache_open(&policies);
	if (!call_cache_holds(cache, name, name_len))
	{
		char	   *cname = pnstrdup(name, name_len);
		const EclPolicy *policy = ecl_policy_lookup(cname);

		pfree(cname);
		if (cache->name != NULL)
			pfree(cache->name);
		cache->name = MemoryContextAlloc(cxt, name_len + 1);
		memcpy(cache->name, name, name_len);
		cache->name[name_len] = '\0';
		cache->name_len = name_len;
		cache->policy = policy;
		cache->inval_count = policies.inval_count;
		cache->stack_limit = (uint32) ecl_max_stack_depth;
	}
	/* a policy kept over a transaction boundary was confirmed just now */
	ecl_statement_stamp(&cache->stamp);
	return cache->policy;
}
