/*
 * handler_cache.h — engine handlers (ecl.handlers) by (engine, key), cached
 * per backend.
 *
 * A WHERE clause calling ecl.run_datalogic once per row should not pay an
 * SPI query per row.  The cache is dropped on a relcache invalidation of
 * ecl.handlers, which a statement trigger on that table sends for every
 * change (including the cascaded deletes of ecl.drop_policy), so it follows
 * the table transactionally like the policy catalog (policy_catalog.h)
 * follows ecl.policies.
 */
#ifndef ECL_HANDLER_CACHE_H
#define ECL_HANDLER_CACHE_H

/*
 * The policy name of handler (engine, key), palloc'd in the current memory
 * context; 42704 when there is none.
 */
char	   *ecl_handler_lookup(const char *engine, const char *key);

#endif							/* ECL_HANDLER_CACHE_H */
