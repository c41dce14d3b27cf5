/*
 * catalog_cache.c — the invalidation mechanism shared by the policy and
 * handler caches (see catalog_cache.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "catalog_cache.h"
#include "ecl_pg.h"

/* every cache that has been opened in this backend */
static EclCatalogCache *registered_caches = NULL;
static bool callbacks_registered = false;

static void
bury_all(EclCatalogCache *cache)
{
	int			i;

	for (i = 0; i < ECL_CATALOG_CACHE_BUCKETS; i++)
	{
		while (cache->buckets[i] != NULL)
		{
			EclCacheEntry *e = cache->buckets[i];

			cache->buckets[i] = e->next;
			e->next = cache->graveyard;
			cache->graveyard = e;
		}
	}
}

/* relid InvalidOid: every relation (a cache reset); else one relation */
static void
relcache_callback(Datum arg, Oid relid)
{
	EclCatalogCache *cache;

	for (cache = registered_caches; cache != NULL; cache = cache->next_cache)
	{
		if (relid != InvalidOid && relid != cache->relid)
			continue;
		bury_all(cache);
		cache->inval_count++;
		/* a dropped and re-created extension has new tables */
		if (relid != InvalidOid)
			cache->relid = InvalidOid;
	}
}

/* At transaction end no run holds an entry any more. */
static void
xact_callback(XactEvent event, void *arg)
{
	EclCatalogCache *cache;

	if (!ecl_xact_event_ends(event))
		return;
	for (cache = registered_caches; cache != NULL; cache = cache->next_cache)
	{
		while (cache->graveyard != NULL)
		{
			EclCacheEntry *e = cache->graveyard;

			cache->graveyard = e->next;
			MemoryContextDelete(e->cxt);
		}
	}
}

static Oid
lookup_relid(const char *table)
{
	Oid			nsp = get_namespace_oid("ecl", true);

	return OidIsValid(nsp) ? get_relname_relid(table, nsp) : InvalidOid;
}

/*
 * The library serves the 0.1 install script until ALTER EXTENSION ecl
 * UPDATE runs (docs/operations.md, "Upgrading from 0.1").  Everything the
 * update adds to 0.1's tables arrives with ecl.policy_versions, so its
 * absence is the one test.
 */
bool
ecl_catalog_is_0_1(void)
{
	return !OidIsValid(lookup_relid("policy_versions"));
}

Oid
ecl_catalog_cache_relation(EclCatalogCache *cache)
{
	/* only a registered cache hears that the table was dropped */
	if (!cache->registered)
		return lookup_relid(cache->table);
	if (!OidIsValid(cache->relid))
		cache->relid = lookup_relid(cache->table);
	return cache->relid;
}

void
ecl_catalog_cache_open(EclCatalogCache *cache)
{
	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		RegisterXactCallback(xact_callback, NULL);
		callbacks_registered = true;
	}
	if (!cache->registered)
	{
		cache->cxt = AllocSetContextCreate(TopMemoryContext, "ecl catalog cache",
										   ALLOCSET_DEFAULT_SIZES);
		/* a string constant of the cache's definition: lives for ever */
		MemoryContextSetIdentifier(cache->cxt, cache->name);
		cache->next_cache = registered_caches;
		registered_caches = cache;
		cache->registered = true;
	}

	/* pending invalidations first, so a hit is never stale */
	AcceptInvalidationMessages();
	if (!OidIsValid(cache->relid))
		cache->relid = lookup_relid(cache->table);
}

void
ecl_catalog_cache_keep(EclCatalogCache *cache, EclCacheEntry *entry,
					   uint64 inval_before)
{
	MemoryContextSetParent(entry->cxt, cache->cxt);
	if (cache->inval_count == inval_before && OidIsValid(cache->relid))
	{
		EclCacheEntry **chain =
			&cache->buckets[entry->hash % ECL_CATALOG_CACHE_BUCKETS];

		entry->next = *chain;
		*chain = entry;
	}
	else
	{
		entry->next = cache->graveyard;
		cache->graveyard = entry;
	}
}

void
ecl_catalog_cache_bury(EclCatalogCache *cache, EclCacheEntry *entry)
{
	EclCacheEntry **link = &cache->buckets[entry->hash % ECL_CATALOG_CACHE_BUCKETS];

	while (*link != NULL)
	{
		if (*link == entry)
		{
			*link = entry->next;
			entry->next = cache->graveyard;
			cache->graveyard = entry;
			return;
		}
		link = &(*link)->next;
	}
}
