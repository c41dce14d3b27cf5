/*
 * did_index.h — an open-addressing index from DID bytes to a number, for
 * the places that meet thousands of DIDs in one statement and must find
 * each again cheaply: the set of revoked identities (identity.c), the facts
 * of every caller and the probe of that set (caller_sets.c), and a
 * translated fact's answers at its call site (translated_calls.c).
 *
 * The slots are small and at most half full, and the keys either stay
 * where the caller keeps them (ecl_did_index_enter) or are copied into the
 * index's own blocks, one after another (ecl_did_index_enter_copy), so a
 * probe touches little memory.  A DID is any byte string, '' included.
 * Everything lives in the memory context given to ecl_did_index_init.
 */
#ifndef ECL_DID_INDEX_H
#define ECL_DID_INDEX_H

#include "postgres.h"

typedef struct EclDidSlot
{
	const char *did;			/* NULL: an empty slot */
	uint32		len;
	uint32		hash;
	uint32		value;
} EclDidSlot;

typedef struct EclDidIndex
{
	MemoryContext cxt;
	EclDidSlot *slots;			/* nslots a power of 2 */
	uint32		nslots;
	uint32		count;
	char	   *block;			/* where ecl_did_index_enter_copy copies to */
	size_t		block_free;
} EclDidIndex;

/* an empty index, room for about expected DIDs before it grows */
void		ecl_did_index_init(EclDidIndex *ix, MemoryContext cxt, uint32 expected);

/* did's slot (its number in ->value), or NULL */
EclDidSlot *ecl_did_index_find(const EclDidIndex *ix, const char *did, uint32 len);

/*
 * did's slot; when absent it is added with value 0 and *added set.
 * ecl_did_index_enter keeps the pointer (the bytes must outlive the index),
 * ecl_did_index_enter_copy copies the bytes (and ends the copy with a NUL,
 * so slot->did is a C string).  A slot stays valid until the next enter.
 */
EclDidSlot *ecl_did_index_enter(EclDidIndex *ix, const char *did, uint32 len, bool *added);
EclDidSlot *ecl_did_index_enter_copy(EclDidIndex *ix, const char *did, uint32 len,
									 bool *added);

#endif							/* ECL_DID_INDEX_H */
