/*
 * direct_lookup.h — read-only lookups on the extension's tables by direct
 * index scans (docs/sql-api.md, "The table host": "prepared plans kept across calls, or direct index
 * scans").
 *
 * A lookup by key through SPI pays for a portal and an executor start and
 * end on every call, several times the cost of the index probe itself; an
 * RLS policy or WHERE clause makes one such lookup per distinct caller.
 * This module probes the index directly: equality on the leading columns,
 * every visible row handed to a callback.
 *
 * Semantics are those of a read-only SPI query: the statement's active
 * snapshot (what SPI_execute_plan with read_only = true uses), no ACL or
 * row-security checks (the host's lookups run as the schema owner, which
 * passes both).  Callers that need a fresh snapshot (read-write runs) keep
 * using SPI.
 *
 * Table, index and column numbers are resolved by name in schema ecl on
 * first use and forgotten on any relcache invalidation of the table or the
 * index (DROP/CREATE EXTENSION, ALTER TABLE).
 */
#ifndef ECL_DIRECT_LOOKUP_H
#define ECL_DIRECT_LOOKUP_H

#include "postgres.h"

#include "access/attnum.h"
#include "executor/tuptable.h"

#define ECL_DIRECT_MAX_KEYS 2
#define ECL_DIRECT_MAX_COLUMNS 12

typedef struct EclDirectTable
{
	const char *table;			/* in schema ecl */
	const char *index;			/* its index whose leading columns are keyed */
	const char *const *columns; /* NULL-terminated names, read by position */
	/* resolved lazily; relid == InvalidOid means "resolve again" */
	Oid			relid;
	Oid			indexid;
	AttrNumber	attnums[ECL_DIRECT_MAX_COLUMNS];
	int			ncolumns;
	RegProcedure eqproc[ECL_DIRECT_MAX_KEYS];	/* InvalidOid: not looked up */
	bool		listed;			/* on the invalidation list */
	struct EclDirectTable *next;
} EclDirectTable;

/* a table to look up: its name, an index, the columns to read */
#define ECL_DIRECT_TABLE(table_, index_, columns_) \
	{ (table_), (index_), (columns_), InvalidOid, InvalidOid, {0}, 0, {0}, false, NULL }

/*
 * Called for each visible row; values/isnull are indexed like t->columns.
 * Return false to stop the scan.
 */
typedef bool (*EclDirectRowFn) (Datum *values, bool *isnull, void *arg);

/*
 * Scan t's index with equality on its first nkeys columns (keys are Datums
 * of the column types).  Returns false when the table or index cannot be
 * found (the caller then falls back to SPI or reports absence).
 */
bool		ecl_direct_scan(EclDirectTable *t, int nkeys, const Datum *keys,
							EclDirectRowFn fn, void *arg);

/*
 * Every visible row of t, by a sequential scan under the same snapshot, for
 * a host that reads a whole answer set at once (statement_memo.h).  Returns
 * false without calling fn when the table cannot be found or its planner
 * estimate exceeds max_rows, and stops (returning false) when it holds more
 * rows than that after all or fn returns false; true when every row was
 * handed to fn.
 */
bool		ecl_direct_scan_all(EclDirectTable *t, double max_rows,
								EclDirectRowFn fn, void *arg);

#endif							/* ECL_DIRECT_LOOKUP_H */
