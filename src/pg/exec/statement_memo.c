/*
 * statement_memo.c — per-statement memo of host lookups (see statement_memo.h).
 *
 * A small chained hash table in its own memory context: clearing it is one
 * MemoryContextReset, so a statement boundary costs nothing per entry.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "ecl_pg.h"
#include "statement_memo.h"

typedef struct MemoEntry
{
	struct MemoEntry *next;
	uint32		hash;
	uint8		kind;
	uint32		alen;
	uint32		blen;
	EclMemoValue val;
	char		key[FLEXIBLE_ARRAY_MEMBER];	/* a bytes, then b bytes */
} MemoEntry;

/*
 * Two tables with one stamp: the host's lookups, and the whole runs of the
 * runner (ECL_MEMO_RUN).  A run is looked up on every row while the lookups
 * it made are not needed again; in a table of their own the run entries sit
 * together in memory and the probe of a row touches fewer cache lines.
 */
typedef struct MemoTable
{
	MemoryContext cxt;
	MemoEntry **buckets;
	uint32		nbuckets;
	int64		nentries;
} MemoTable;

static MemoTable lookup_memo;
static MemoTable run_memo;
static EclStatementStamp stamp;
static uint64 generation = 1;	/* moves whenever the statement's memo ends */
static uint64 full_clears = 0;	/* clears of a full table (ecl_memo_clears) */

#define MEMO_INITIAL_BUCKETS 256

static MemoTable *
table_for(EclMemoKind kind)
{
	return kind == ECL_MEMO_RUN ? &run_memo : &lookup_memo;
}

static void
memo_clear(MemoTable *t)
{
	if (t->cxt != NULL)
		MemoryContextReset(t->cxt);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->nentries = 0;
}

/* Clear the memo when the statement (or command) has changed. */
static void
memo_check_stamp(void)
{
	if (!ecl_statement_stamp_current(&stamp))
	{
		if (lookup_memo.nentries > 0)
			memo_clear(&lookup_memo);
		if (run_memo.nentries > 0)
			memo_clear(&run_memo);
		ecl_statement_stamp(&stamp);
		generation++;
	}
}

uint64
ecl_memo_generation(void)
{
	memo_check_stamp();
	return generation;
}

void
ecl_memo_invalidate(void)
{
	/* no valid stamp has this lxid, so the next access clears the tables */
	stamp.lxid = InvalidLocalTransactionId;
}

static uint32
memo_hash(EclMemoKind kind, const char *a, size_t alen,
		  const char *b, size_t blen)
{
	uint32		h = (uint32) kind;

	h = hash_combine(h, hash_bytes((const unsigned char *) a, (int) alen));
	h = hash_combine(h, hash_bytes((const unsigned char *) b, (int) blen));
	return h;
}

static MemoEntry *
memo_find(const MemoTable *t, uint32 hash, EclMemoKind kind,
		  const char *a, size_t alen, const char *b, size_t blen)
{
	MemoEntry  *e;

	if (t->nbuckets == 0)
		return NULL;
	for (e = t->buckets[hash & (t->nbuckets - 1)]; e != NULL; e = e->next)
	{
		if (e->hash == hash && e->kind == kind &&
			e->alen == alen && e->blen == blen &&
			memcmp(e->key, a, alen) == 0 &&
			memcmp(e->key + alen, b, blen) == 0)
			return e;
	}
	return NULL;
}

static void
memo_grow(MemoTable *t)
{
	uint32		newn = t->nbuckets ? t->nbuckets * 2 : MEMO_INITIAL_BUCKETS;
	MemoEntry **newb = MemoryContextAllocZero(t->cxt, sizeof(MemoEntry *) * newn);
	uint32		i;

	for (i = 0; i < t->nbuckets; i++)
	{
		MemoEntry  *e = t->buckets[i];

		while (e != NULL)
		{
			MemoEntry  *next = e->next;
			uint32		slot = e->hash & (newn - 1);

			e->next = newb[slot];
			newb[slot] = e;
			e = next;
		}
	}
	if (t->buckets != NULL)
		pfree(t->buckets);
	t->buckets = newb;
	t->nbuckets = newn;
}

bool
ecl_memo_get(EclMemoKind kind, const char *a, size_t alen,
			 const char *b, size_t blen, EclMemoValue *out)
{
	MemoTable  *t = table_for(kind);
	MemoEntry  *e;

	memo_check_stamp();
	if (t->nentries == 0)
		return false;
	e = memo_find(t, memo_hash(kind, a, alen, b, blen), kind, a, alen, b, blen);
	if (e == NULL)
		return false;
	*out = e->val;
	return true;
}

void
ecl_memo_put(EclMemoKind kind, const char *a, size_t alen,
			 const char *b, size_t blen, const EclMemoValue *val)
{
	MemoTable  *t = table_for(kind);
	uint32		hash = memo_hash(kind, a, alen, b, blen);
	MemoEntry  *e;
	uint32		slot;

	if (t->cxt == NULL)
		t->cxt = t == &run_memo
			? AllocSetContextCreate(TopMemoryContext, "ecl run memo",
									ALLOCSET_DEFAULT_SIZES)
			: AllocSetContextCreate(TopMemoryContext, "ecl host memo",
									ALLOCSET_DEFAULT_SIZES);
	memo_check_stamp();
	if (t->nentries >= ECL_MEMO_MAX)
	{
		memo_clear(t);
		full_clears++;
	}
	e = memo_find(t, hash, kind, a, alen, b, blen);
	if (e != NULL)
	{
		/*
		 * The other kinds put what the entry already holds; a statement's
		 * charge grows when a costlier run tops it up.
		 */
		if (kind == ECL_MEMO_CHARGE)
			e->val = *val;
		return;
	}
	if (t->nentries >= (int64) t->nbuckets)
		memo_grow(t);

	e = MemoryContextAlloc(t->cxt, offsetof(MemoEntry, key) + alen + blen);
	e->hash = hash;
	e->kind = (uint8) kind;
	e->alen = (uint32) alen;
	e->blen = (uint32) blen;
	e->val = *val;
	if (kind == ECL_MEMO_ROLE_DID && val->u.text != NULL)
		e->val.u.text = MemoryContextStrdup(t->cxt, val->u.text);
	memcpy(e->key, a, alen);
	memcpy(e->key + alen, b, blen);

	slot = hash & (t->nbuckets - 1);
	e->next = t->buckets[slot];
	t->buckets[slot] = e;
	t->nentries++;
}

/* ------------------------------------------------------------ answer sets */

/* The marker of (kind, b): its flag says loaded, gas_used counts misses. */
static MemoEntry *
bulk_marker(EclMemoKind kind, const char *b, size_t blen, bool create)
{
	char		k = (char) kind;
	uint32		hash;
	MemoEntry  *e;

	memo_check_stamp();
	hash = memo_hash(ECL_MEMO_BULK, &k, 1, b, blen);
	e = memo_find(&lookup_memo, hash, ECL_MEMO_BULK, &k, 1, b, blen);
	if (e == NULL && create)
	{
		EclMemoValue zero;

		memset(&zero, 0, sizeof(zero));
		ecl_memo_put(ECL_MEMO_BULK, &k, 1, b, blen, &zero);
		e = memo_find(&lookup_memo, hash, ECL_MEMO_BULK, &k, 1, b, blen);
	}
	return e;
}

EclMemoBulk
ecl_memo_bulk_miss(EclMemoKind kind, const char *b, size_t blen)
{
	MemoEntry  *e = bulk_marker(kind, b, blen, true);

	if (e == NULL)
		return ECL_MEMO_BULK_NOT_YET;
	if (e->val.flag)
		return ECL_MEMO_BULK_COMPLETE;
	return ++e->val.u.run.gas_used == ECL_MEMO_BULK_AFTER
		? ECL_MEMO_BULK_DUE : ECL_MEMO_BULK_NOT_YET;
}

void
ecl_memo_bulk_loaded(EclMemoKind kind, const char *b, size_t blen,
					 uint64 clears_before)
{
	MemoEntry  *e;

	if (full_clears != clears_before)
		return;
	e = bulk_marker(kind, b, blen, true);
	/* creating the marker may itself have cleared a full memo */
	if (e != NULL && full_clears == clears_before)
		e->val.flag = true;
}

uint64
ecl_memo_clears(void)
{
	return full_clears;
}

bool
ecl_memo_has_room(int64 n)
{
	memo_check_stamp();
	return lookup_memo.nentries + n < ECL_MEMO_MAX;
}

int64
ecl_memo_size(void)
{
	memo_check_stamp();
	return lookup_memo.nentries + run_memo.nentries;
}
