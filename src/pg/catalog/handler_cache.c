/*
 * handler_cache.c — the per-backend cache of engine handlers (see
 * handler_cache.h).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "handler_cache.h"
#include "identity.h"
#include "owner_spi.h"

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

typedef struct HandlerQuery
{
	const char *engine;
	const char *key;
	MemoryContext result_cxt;
	char	   *policy_name;
} HandlerQuery;

static void
work_read_handler(void *arg)
{
	HandlerQuery *q = (HandlerQuery *) arg;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];

	args[0] = CStringGetTextDatum(q->engine);
	args[1] = CStringGetTextDatum(q->key);
	/* the newest snapshot, like the policy catalog (policy_catalog.c) */
	ecl_owner_select(&handler_plan,
					 "SELECT h.policy_name FROM ecl.handlers h"
					 " WHERE h.engine OPERATOR(pg_catalog.=) $1"
					 "   AND h.key OPERATOR(pg_catalog.=) $2",
					 2, argtypes, args, 1, true, "handler lookup");
	q->policy_name = ecl_spi_first_text(q->result_cxt);
}

/*
 * The policy name of handler (engine, key), palloc'd in the current memory
 * context, or NULL when there is none.
 */
static char *
read_handler(const char *engine, const char *key)
{
	HandlerQuery q;

	q.engine = engine;
	q.key = key;
	q.result_cxt = CurrentMemoryContext;
	q.policy_name = NULL;
	ecl_as_owner(work_read_handler, &q);
	return q.policy_name;
}

/* The policy name of handler (engine, key); 42704 when there is none. */
char *
ecl_handler_lookup(const char *engine, const char *key)
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
