/*
 * pg_alloc.c — the core's allocator interface over a PostgreSQL memory
 * context.
 *
 * palloc never returns NULL (it raises "out of memory"), so the core's NULL
 * checks are never reached in the backend.  Huge allocations are allowed:
 * the core enforces its own limits (ECL_MAX_STRING, ECL_MAX_COLLECTION)
 * before asking, and a run's memory is bounded by its gas anyway.
 */
#include "postgres.h"

#include "ecl_pg.h"

static void *
pg_alloc_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

static void *
pg_alloc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	if (ptr == NULL)
		return MemoryContextAllocHuge((MemoryContext) ctx, new_size);
	return repalloc_huge(ptr, new_size);
}

static void
pg_alloc_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

void
ecl_pg_alloc_init(ecl_alloc *a, MemoryContext cxt)
{
	a->alloc = pg_alloc_alloc;
	a->realloc = pg_alloc_realloc;
	a->free = pg_alloc_free;
	a->ctx = cxt;
}
