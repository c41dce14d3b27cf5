/*
 * direct_lookup.c — read-only index probes on ecl.* tables (see
 * direct_lookup.h).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_am.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "direct_lookup.h"

/* every table resolved so far, for the invalidation callback */
static EclDirectTable *registered = NULL;
static bool callback_registered = false;

static void
forget(EclDirectTable *t)
{
	t->relid = InvalidOid;
	t->indexid = InvalidOid;
	for (int i = 0; i < ECL_DIRECT_MAX_KEYS; i++)
		t->eqproc[i] = InvalidOid;
}

/* Forget resolved OIDs when the table or its index changes or goes away. */
static void
direct_relcache_callback(Datum arg, Oid relid)
{
	for (EclDirectTable *t = registered; t != NULL; t = t->next)
	{
		if (relid == InvalidOid || relid == t->relid || relid == t->indexid)
			forget(t);
	}
}

/* Resolve names to OIDs and attribute numbers; false when missing. */
static bool
resolve(EclDirectTable *t)
{
	Oid			nsp;
	Oid			relid;
	Oid			indexid;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(direct_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (!t->listed)
	{
		t->next = registered;
		registered = t;
		t->listed = true;
	}
	forget(t);

	nsp = get_namespace_oid("ecl", true);
	if (!OidIsValid(nsp))
		return false;
	relid = get_relname_relid(t->table, nsp);
	indexid = get_relname_relid(t->index, nsp);
	if (!OidIsValid(relid) || !OidIsValid(indexid))
		return false;

	t->ncolumns = 0;
	for (const char *const *c = t->columns; *c != NULL; c++)
	{
		AttrNumber	attnum = get_attnum(relid, *c);

		if (attnum == InvalidAttrNumber || t->ncolumns >= ECL_DIRECT_MAX_COLUMNS)
			return false;
		t->attnums[t->ncolumns++] = attnum;
	}
	t->indexid = indexid;
	t->relid = relid;			/* last: marks the entry as resolved */
	return true;
}

/*
 * Open t and its index as a query would.  Locking accepts invalidations, so
 * a concurrent DROP or re-creation may show up only now: then resolve once
 * more.  False when they cannot be found.
 */
static bool
open_table(EclDirectTable *t, int nkeys, Relation *relp, Relation *idxp)
{
	Relation	rel;
	Relation	idx;

	for (int attempt = 0;; attempt++)
	{
		if (!OidIsValid(t->relid) && !resolve(t))
			return false;
		rel = try_relation_open(t->relid, AccessShareLock);
		idx = rel ? try_relation_open(t->indexid, AccessShareLock) : NULL;
		if (rel != NULL && idx != NULL && OidIsValid(t->relid) &&
			rel->rd_rel->relkind == RELKIND_RELATION &&
			idx->rd_rel->relkind == RELKIND_INDEX &&
			idx->rd_rel->relam == BTREE_AM_OID &&
			idx->rd_index->indrelid == RelationGetRelid(rel) &&
			idx->rd_index->indnkeyatts >= nkeys)
		{
			*relp = rel;
			*idxp = idx;
			return true;
		}
		if (idx != NULL)
			relation_close(idx, AccessShareLock);
		if (rel != NULL)
			relation_close(rel, AccessShareLock);
		forget(t);
		if (attempt > 0)
			return false;
	}
}

/* keep the locks to the end of the transaction, as a query does */
static void
close_table(Relation rel, Relation idx)
{
	relation_close(idx, NoLock);
	relation_close(rel, NoLock);
}

/* Hand the slot's columns of t to fn. */
static bool
call_row_fn(EclDirectTable *t, TupleTableSlot *slot, EclDirectRowFn fn,
			void *arg)
{
	Datum		values[ECL_DIRECT_MAX_COLUMNS];
	bool		isnull[ECL_DIRECT_MAX_COLUMNS];

	slot_getallattrs(slot);
	for (int c = 0; c < t->ncolumns; c++)
	{
		values[c] = slot->tts_values[t->attnums[c] - 1];
		isnull[c] = slot->tts_isnull[t->attnums[c] - 1];
	}
	return fn(values, isnull, arg);
}

bool
ecl_direct_scan(EclDirectTable *t, int nkeys, const Datum *keys,
				EclDirectRowFn fn, void *arg)
{
	Relation	rel;
	Relation	idx;
	ScanKeyData skey[ECL_DIRECT_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;

	Assert(nkeys > 0 && nkeys <= ECL_DIRECT_MAX_KEYS);

	if (!open_table(t, nkeys, &rel, &idx))
		return false;

	/* equality in the index's own operator family and collation */
	for (int i = 0; i < nkeys; i++)
	{
		Oid			opcintype = idx->rd_opcintype[i];

		if (!OidIsValid(t->eqproc[i]))
		{
			Oid			eqop = get_opfamily_member(idx->rd_opfamily[i], opcintype,
												   opcintype, BTEqualStrategyNumber);

			if (!OidIsValid(eqop))
				elog(ERROR, "no equality operator for index \"%s\" column %d",
					 RelationGetRelationName(idx), i + 1);
			t->eqproc[i] = get_opcode(eqop);
		}
		ScanKeyEntryInitialize(&skey[i], 0, i + 1, BTEqualStrategyNumber,
							   opcintype, idx->rd_indcollation[i],
							   t->eqproc[i], keys[i]);
	}

	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, idx, GetActiveSnapshot(), nkeys, 0);
	index_rescan(scan, skey, nkeys, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		if (!call_row_fn(t, slot, fn, arg))
			break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	close_table(rel, idx);
	return true;
}

bool
ecl_direct_scan_all(EclDirectTable *t, double max_rows,
					EclDirectRowFn fn, void *arg)
{
	Relation	rel;
	Relation	idx;
	TableScanDesc scan;
	TupleTableSlot *slot;
	double		rows = 0;
	bool		complete = true;

	if (!open_table(t, 1, &rel, &idx))
		return false;
	/* never analyzed (-1): judge by its size alone */
	if (rel->rd_rel->reltuples > max_rows ||
		(rel->rd_rel->reltuples < 0 &&
		 RelationGetNumberOfBlocks(rel) > max_rows / 8))
	{
		close_table(rel, idx);
		return false;
	}

	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		if (++rows > max_rows || !call_row_fn(t, slot, fn, arg))
		{
			complete = false;
			break;
		}
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	close_table(rel, idx);
	return complete;
}
