/*
 * handler_cache.c — the per-backend cache of engine handlers (see
 * handler_cache.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "catalog_cache.h"
#include "handler_cache.h"
#include "identity.h"
#include "owner_spi.h"

typedef struct HandlerEntry
{
	EclCacheEntry base;			/* must be first; base.cxt owns the names */
	char	   *engine;
	char	   *key;
	char	   *policy_name;
} HandlerEntry;

static EclCatalogCache handlers = ECL_CATALOG_CACHE("handlers", "ecl handlers");
static SPIPlanPtr handler_plan = NULL;

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
	EclCacheEntry *ce;
	HandlerEntry *e;
	uint64		inval_before;
	char	   *policy_name;
	MemoryContext cxt;

	ecl_catalog_cache_open(&handlers);

	for (ce = ecl_catalog_cache_chain(&handlers, hash); ce != NULL; ce = ce->next)
	{
		e = (HandlerEntry *) ce;
		if (ce->hash == hash && strcmp(e->engine, engine) == 0 &&
			strcmp(e->key, key) == 0)
			return pstrdup(e->policy_name);
	}

	inval_before = handlers.inval_count;
	policy_name = read_handler(engine, key);
	if (policy_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s handler \"%s\" does not exist", engine, key),
				 errhint("Register it with ecl.register_handler('%s', '%s', source).",
						 engine, key)));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ecl handler",
								ALLOCSET_SMALL_SIZES);
	e = MemoryContextAllocZero(cxt, sizeof(HandlerEntry));
	e->base.cxt = cxt;
	e->base.hash = hash;
	e->engine = MemoryContextStrdup(cxt, engine);
	e->key = MemoryContextStrdup(cxt, key);
	e->policy_name = MemoryContextStrdup(cxt, policy_name);
	ecl_catalog_cache_keep(&handlers, &e->base, inval_before);
	return policy_name;
}
