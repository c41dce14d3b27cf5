/*
 * owner_spi.c — the extension's own queries, run as the owner of schema ecl
 * with plans kept per backend.  See owner_spi.h for why.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "owner_spi.h"

/*
 * The owner of schema ecl.  CREATE EXTENSION makes the installing superuser
 * own it; the syscache makes this lookup cheap enough for every call.
 */
static Oid
schema_owner(void)
{
	Oid			nspid = get_namespace_oid("ecl", true);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"ecl\" does not exist"),
				 errhint("Run CREATE EXTENSION ecl.")));
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

void
ecl_begin_owner_lookup(EclSavedUser *saved)
{
	Oid			owner = schema_owner();

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);

	/*
	 * The same switch a SECURITY DEFINER function makes; restricted so that
	 * nothing run by the lookup can change session state.
	 */
	SetUserIdAndSecContext(owner,
						   saved->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

void
ecl_end_owner_lookup(const EclSavedUser *saved)
{
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

void
ecl_as_owner(EclOwnerWork work, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	EclSavedUser saved;

	ecl_begin_owner_lookup(&saved);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		work(arg);
		SPI_finish();
	}
	PG_FINALLY();
	{
		ecl_end_owner_lookup(&saved);
		MemoryContextSwitchTo(cxt);
	}
	PG_END_TRY();
}

SPIPlanPtr
ecl_keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);

		if (plan == NULL)
			elog(ERROR, "ECL: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "ECL: SPI_keepplan failed");
		*slot = plan;
	}
	return *slot;
}

uint64
ecl_owner_select(SPIPlanPtr *slot, const char *sql, int nargs,
				 const Oid *argtypes, Datum *args, long tcount,
				 bool latest_snapshot, const char *what)
{
	SPIPlanPtr	plan = ecl_keep_plan(slot, sql, nargs, argtypes);
	int			rc;

	if (latest_snapshot)
		rc = SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, true, false, tcount);
	else
		rc = SPI_execute_plan(plan, args, NULL, true, tcount);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
	return SPI_processed;
}

char *
ecl_spi_first_text(MemoryContext cxt)
{
	bool		isnull;
	Datum		d;
	MemoryContext old;
	char	   *result;

	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	result = TextDatumGetCString(d);
	MemoryContextSwitchTo(old);
	return result;
}
