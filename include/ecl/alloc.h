/*
 * alloc.h — the allocator interface of the ECL core.
 *
 * The core never calls malloc/free directly.  The embedder hands in an
 * allocator: inside PostgreSQL it is palloc in a memory context that is reset
 * after every run, in unit tests and fuzzers it is malloc or an arena.
 *
 * Allocation failure is reported by returning NULL; callers turn that into an
 * ECL_ERR_RESOURCE error value.  (palloc never returns NULL — it ereports — so
 * in the backend this path is never taken; it exists for the portable core.)
 *
 * free may be a no-op (arena style); the core never relies on free for
 * correctness, only to give memory back early.
 */
#ifndef ECL_ALLOC_H
#define ECL_ALLOC_H

#include <stddef.h>

typedef struct ecl_alloc
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *(*realloc) (void *ctx, void *ptr, size_t old_size, size_t new_size);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} ecl_alloc;

static inline void *
ecl_malloc(const ecl_alloc *a, size_t size)
{
	return a->alloc(a->ctx, size ? size : 1);
}

static inline void *
ecl_realloc(const ecl_alloc *a, void *ptr, size_t old_size, size_t new_size)
{
	return a->realloc(a->ctx, ptr, old_size, new_size ? new_size : 1);
}

static inline void
ecl_free(const ecl_alloc *a, void *ptr)
{
	if (ptr && a->free)
		a->free(a->ctx, ptr);
}

/* A plain malloc-backed allocator, for tests, fuzzers and tools. */
extern const ecl_alloc ecl_std_alloc;

#endif							/* ECL_ALLOC_H */
