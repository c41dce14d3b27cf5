/*
 * catalog_cache.h — the one invalidation mechanism of the per-backend
 * caches over the extension's own tables: registered policies
 * (policy_catalog.c, table ecl.policies) and engine handlers
 * (handler_cache.c, table ecl.handlers).
 *
 * A cache is a small hash of entries, each in its own memory context.  A
 * relcache invalidation of the cache's table (sent by a statement trigger,
 * so it is transactional and reaches every session, standbys and
 * logical-replication subscribers) empties the cache and bumps its
 * inval_count.  An emptied entry is not freed on the spot but moved to a
 * graveyard freed at transaction end: an invalidation may be processed in
 * the middle of a run of that very policy (a host lookup takes a lock,
 * which accepts pending invalidations), and jsonb_bridge.c relies on a
 * program that ran staying alive until its transaction ends.
 *
 * A lookup:
 *     ecl_catalog_cache_open(&cache);            accepts invalidations
 *     for (e = ecl_catalog_cache_chain(&cache, hash); e; e = e->next) ...
 *     miss: before = cache.inval_count; load into a context that is a child
 *           of CurrentMemoryContext (an error frees it);
 *           ecl_catalog_cache_keep(&cache, entry, before);
 * keep() caches the entry, or buries it when an invalidation arrived while
 * it was being read (the row may predate a change that committed
 * meanwhile): it serves this use and is freed at transaction end.
 */
#ifndef ECL_CATALOG_CACHE_H
#define ECL_CATALOG_CACHE_H

#include "postgres.h"

#define ECL_CATALOG_CACHE_BUCKETS 128	/* power of two; chains absorb the rest */

typedef struct EclCacheEntry
{
	struct EclCacheEntry *next; /* hash chain, or the graveyard */
	uint32		hash;
	MemoryContext cxt;			/* owns the entry and all it holds */
} EclCacheEntry;

typedef struct EclCatalogCache
{
	const char *table;			/* in schema ecl */
	const char *name;			/* of the cache's memory context */

	/* private */
	Oid			relid;			/* the table's OID; InvalidOid until known */
	uint64		inval_count;	/* bumped by each invalidation of table */
	MemoryContext cxt;			/* parent of the cached entries' contexts */
	EclCacheEntry *buckets[ECL_CATALOG_CACHE_BUCKETS];
	EclCacheEntry *graveyard;	/* freed at transaction end */
	struct EclCatalogCache *next_cache; /* the registered caches */
	bool		registered;
} EclCatalogCache;

#define ECL_CATALOG_CACHE(table_, name_) { .table = (table_), .name = (name_) }

/*
 * Make the cache usable (registered with the shared callbacks, its context
 * created), accept pending invalidations so a hit is never stale, and look
 * up the table's OID when it is not known.
 */
void		ecl_catalog_cache_open(EclCatalogCache *cache);

/* The hash chain that holds entries of this hash. */
static inline EclCacheEntry *
ecl_catalog_cache_chain(EclCatalogCache *cache, uint32 hash)
{
	return cache->buckets[hash % ECL_CATALOG_CACHE_BUCKETS];
}

/*
 * Keep an entry read by a miss that began when inval_count was
 * inval_before: cached, or buried when an invalidation came in between
 * (or the table is not known).  The entry's context moves under the cache.
 */
void		ecl_catalog_cache_keep(EclCatalogCache *cache, EclCacheEntry *entry,
								   uint64 inval_before);

/* Take one cached entry out (to the graveyard). */
void		ecl_catalog_cache_bury(EclCatalogCache *cache, EclCacheEntry *entry);

/* The table's OID (InvalidOid when the extension's schema is gone). */
Oid			ecl_catalog_cache_relation(EclCatalogCache *cache);

/* The extension's tables are still 0.1's: ALTER EXTENSION ecl UPDATE is to come */
bool		ecl_catalog_is_0_1(void);

#endif							/* ECL_CATALOG_CACHE_H */
