/*
 * did_index.c — an open-addressing index from DID bytes to a number (see
 * did_index.h).
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "did_index.h"

#define KEY_BLOCK_SIZE 32768

void
ecl_did_index_init(EclDidIndex *ix, MemoryContext cxt, uint32 expected)
{
	memset(ix, 0, sizeof(*ix));
	ix->cxt = cxt;
	ix->nslots = 16;
	while (ix->nslots < 2 * expected)
		ix->nslots *= 2;
	ix->slots = MemoryContextAllocZero(cxt, sizeof(EclDidSlot) * ix->nslots);
}

static EclDidSlot *
slot_for(EclDidSlot *slots, uint32 nslots, const char *did, uint32 len, uint32 hash)
{
	uint32		mask = nslots - 1;

	for (uint32 i = hash & mask;; i = (i + 1) & mask)
	{
		EclDidSlot *slot = &slots[i];

		if (slot->did == NULL ||
			(slot->hash == hash && slot->len == len && memcmp(slot->did, did, len) == 0))
			return slot;
	}
}

static uint32
did_hash(const char *did, uint32 len)
{
	return hash_bytes((const unsigned char *) did, (int) len);
}

EclDidSlot *
ecl_did_index_find(const EclDidIndex *ix, const char *did, uint32 len)
{
	EclDidSlot *slot;

	if (ix->count == 0)
		return NULL;
	slot = slot_for(ix->slots, ix->nslots, did, len, did_hash(did, len));
	return slot->did != NULL ? slot : NULL;
}

static void
grow(EclDidIndex *ix)
{
	uint32		n = ix->nslots * 2;
	EclDidSlot *slots = MemoryContextAllocZero(ix->cxt, sizeof(EclDidSlot) * n);

	for (uint32 i = 0; i < ix->nslots; i++)
		if (ix->slots[i].did != NULL)
		{
			EclDidSlot *old = &ix->slots[i];

			*slot_for(slots, n, old->did, old->len, old->hash) = *old;
		}
	pfree(ix->slots);
	ix->slots = slots;
	ix->nslots = n;
}

static EclDidSlot *
enter(EclDidIndex *ix, const char *did, uint32 len, bool copy, bool *added)
{
	uint32		hash = did_hash(did, len);
	EclDidSlot *slot;

	if ((ix->count + 1) * 2 > ix->nslots)
		grow(ix);
	slot = slot_for(ix->slots, ix->nslots, did, len, hash);
	*added = slot->did == NULL;
	if (*added)
	{
		if (copy)
		{
			char	   *to;

			if (ix->block_free < len + 1)
			{
				size_t		size = Max(KEY_BLOCK_SIZE, len + 1);

				ix->block = MemoryContextAlloc(ix->cxt, size);
				ix->block_free = size;
			}
			to = ix->block;
			memcpy(to, did, len);
			to[len] = '\0';		/* a copy is also a C string */
			ix->block += len + 1;
			ix->block_free -= len + 1;
			did = to;
		}
		slot->did = did;
		slot->len = len;
		slot->hash = hash;
		slot->value = 0;
		ix->count++;
	}
	return slot;
}

EclDidSlot *
ecl_did_index_enter(EclDidIndex *ix, const char *did, uint32 len, bool *added)
{
	return enter(ix, did, len, false, added);
}

EclDidSlot *
ecl_did_index_enter_copy(EclDidIndex *ix, const char *did, uint32 len, bool *added)
{
	return enter(ix, did, len, true, added);
}
