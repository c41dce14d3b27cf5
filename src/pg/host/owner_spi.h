/*
 * owner_spi.h — running the extension's own queries as the owner of schema
 * ecl, with plans prepared once per backend.
 *
 * Who may decide, register or read is settled by EXECUTE grants on the SQL
 * functions (docs/security.md); the tables behind them are read and written with the
 * owner's rights, so that a caller of ecl.check in an RLS policy needs no
 * table privilege.  Every query text passed here qualifies its names and
 * operators (OPERATOR(pg_catalog.=)), so the caller's search_path cannot
 * redirect it.
 */
#ifndef ECL_OWNER_SPI_H
#define ECL_OWNER_SPI_H

#include "postgres.h"

#include "executor/spi.h"

/*
 * Switch to the schema owner (restricted, as a SECURITY DEFINER function
 * would); pair every call with ecl_end_owner_lookup, also on error
 * (PG_FINALLY): the caller's user id and security context come back from
 * saved.
 */
typedef struct EclSavedUser
{
	Oid			userid;
	int			sec_context;
} EclSavedUser;

void		ecl_begin_owner_lookup(EclSavedUser *saved);
void		ecl_end_owner_lookup(const EclSavedUser *saved);

/* Run work(arg) as the schema owner, connected to SPI. */
typedef void (*EclOwnerWork) (void *arg);
void		ecl_as_owner(EclOwnerWork work, void *arg);

/*
 * Inside work: run the plan kept in *slot (prepared from sql on first use)
 * read-only and return the number of rows (SPI_tuptable holds them).
 * latest_snapshot reads with the newest snapshot, as a catalog lookup does:
 * a cached entry must not be older than the invalidations already
 * processed, which a transaction snapshot (REPEATABLE READ) could be.  An
 * error names the lookup ("<what> failed").
 */
uint64		ecl_owner_select(SPIPlanPtr *slot, const char *sql, int nargs,
							 const Oid *argtypes, Datum *args, long tcount,
							 bool latest_snapshot, const char *what);

/*
 * The first column of the first row of the last select, as text copied into
 * cxt; NULL when there is no row or the value is NULL.
 */
char	   *ecl_spi_first_text(MemoryContext cxt);

/*
 * The plan in *slot, prepared from sql and kept for the backend's lifetime
 * on first use.  Call while connected to SPI.
 */
SPIPlanPtr	ecl_keep_plan(SPIPlanPtr *slot, const char *sql, int nargs,
						  const Oid *argtypes);

#endif							/* ECL_OWNER_SPI_H */
