/*
 * host_memo.c — per-statement memo of host lookups (see host_memo.h).
 *
 * A small chained hash table in its own memory context: clearing it is one
 * MemoryContextReset, so a statement boundary costs nothing per entry.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "host_memo.h"

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

typedef struct MemoStamp
{
	LocalTransactionId lxid;
	TimestampTz stmt_start;
	CommandId	cid;
} MemoStamp;

static MemoryContext memo_cxt = NULL;
static MemoEntry **buckets = NULL;
static uint32 nbuckets = 0;
static int64 nentries = 0;
static MemoStamp stamp;

#define MEMO_INITIAL_BUCKETS 256

static LocalTransactionId
current_lxid(void)
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

static void
memo_clear(void)
{
	if (memo_cxt != NULL)
		MemoryContextReset(memo_cxt);
	buckets = NULL;
	nbuckets = 0;
	nentries = 0;
}

/* Clear the memo when the statement (or command) has changed. */
static void
memo_check_stamp(void)
{
	MemoStamp	now;

	now.lxid = current_lxid();
	now.stmt_start = GetCurrentStatementStartTimestamp();
	now.cid = GetCurrentCommandId(false);

	if (now.lxid != stamp.lxid || now.stmt_start != stamp.stmt_start ||
		now.cid != stamp.cid)
	{
		if (nentries > 0)
			memo_clear();
		stamp = now;
	}
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
memo_find(uint32 hash, EclMemoKind kind, const char *a, size_t alen,
		  const char *b, size_t blen)
{
	MemoEntry  *e;

	if (nbuckets == 0)
		return NULL;
	for (e = buckets[hash & (nbuckets - 1)]; e != NULL; e = e->next)
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
memo_grow(void)
{
	uint32		newn = nbuckets ? nbuckets * 2 : MEMO_INITIAL_BUCKETS;
	MemoEntry **newb = MemoryContextAllocZero(memo_cxt, sizeof(MemoEntry *) * newn);
	uint32		i;

	for (i = 0; i < nbuckets; i++)
	{
		MemoEntry  *e = buckets[i];

		while (e != NULL)
		{
			MemoEntry  *next = e->next;
			uint32		slot = e->hash & (newn - 1);

			e->next = newb[slot];
			newb[slot] = e;
			e = next;
		}
	}
	if (buckets != NULL)
		pfree(buckets);
	buckets = newb;
	nbuckets = newn;
}

bool
ecl_memo_get(EclMemoKind kind, const char *a, size_t alen,
			 const char *b, size_t blen, EclMemoValue *out)
{
	MemoEntry  *e;

	memo_check_stamp();
	if (nentries == 0)
		return false;
	e = memo_find(memo_hash(kind, a, alen, b, blen), kind, a, alen, b, blen);
	if (e == NULL)
		return false;
	*out = e->val;
	return true;
}

void
ecl_memo_put(EclMemoKind kind, const char *a, size_t alen,
			 const char *b, size_t blen, const EclMemoValue *val)
{
	uint32		hash = memo_hash(kind, a, alen, b, blen);
	MemoEntry  *e;
	uint32		slot;

	if (memo_cxt == NULL)
		memo_cxt = AllocSetContextCreate(TopMemoryContext, "ecl host memo",
										 ALLOCSET_DEFAULT_SIZES);
	memo_check_stamp();
	if (nentries >= ECL_MEMO_MAX)
		memo_clear();
	if (memo_find(hash, kind, a, alen, b, blen) != NULL)
		return;
	if (nentries >= (int64) nbuckets)
		memo_grow();

	e = MemoryContextAlloc(memo_cxt, offsetof(MemoEntry, key) + alen + blen);
	e->hash = hash;
	e->kind = (uint8) kind;
	e->alen = (uint32) alen;
	e->blen = (uint32) blen;
	e->val = *val;
	if (val->text != NULL)
		e->val.text = MemoryContextStrdup(memo_cxt, val->text);
	memcpy(e->key, a, alen);
	memcpy(e->key + alen, b, blen);

	slot = hash & (nbuckets - 1);
	e->next = buckets[slot];
	buckets[slot] = e;
	nentries++;
}

int64
ecl_memo_size(void)
{
	memo_check_stamp();
	return nentries;
}
