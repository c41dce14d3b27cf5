/*
 * alloc.h — the allocator interface of the ECL core.
 *
 * The core never calls malloc/free directly.  The embedder hands in an
 * allocator: inside PostgreSQL it is palloc in a memory context that is reset
 * after every run, in unit tests and fuzzers it is malloc or an arena.
 *
 * Allocation failure is reported by returning NULL; callers turn that into an
 * error value with ecl_alloc_failed.  An allocator that enforces a budget (a
 * run's memory limit) says through over_budget that the NULL was a refusal,
 * not a failure: the error is then ECL_ERR_MEMORY (EC008) rather than
 * ECL_ERR_RESOURCE, and the VM adds the line of the instruction that asked.
 *
 * free may be a no-op (arena style); the core never relies on free for
 * correctness, only to give memory back early.
 */
#ifndef ECL_ALLOC_H
#define ECL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "ecl/error.h"

typedef struct ecl_alloc
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *(*realloc) (void *ctx, void *ptr, size_t old_size, size_t new_size);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;

	/*
	 * May be NULL.  Asked right after an allocation returned NULL: true when
	 * it was refused because the budget is spent; *limit gets the budget in
	 * bytes.
	 */
	bool		(*over_budget) (void *ctx, size_t *limit);
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

/*
 * The error for an allocation of a that returned NULL (what: "a string"):
 * ECL_ERR_MEMORY naming the limit when a refused it for its budget, else
 * ECL_ERR_RESOURCE.  Returns ECL_FAIL.
 */
ecl_status	ecl_alloc_failed(const ecl_alloc *a, ecl_error *err, const char *what);

/* A plain malloc-backed allocator, for tests, fuzzers and tools. */
extern const ecl_alloc ecl_std_alloc;

/*
 * A budgeted allocator over a parent: refuses any allocation that would take
 * the bytes it has handed out and not yet freed beyond limit.  The core's own
 * counterpart of the backend's per-run budget (src/pg/exec/pg_alloc.c), for tools
 * and tests.  Each allocation carries a small header with its size.
 */
typedef struct ecl_budget
{
	ecl_alloc	as_alloc;		/* this budget as an allocator (ctx = budget) */
	const ecl_alloc *parent;
	size_t		limit;
	size_t		used;			/* bytes handed out, headers included */
	size_t		peak;
	bool		refused;		/* the last allocation was refused */
} ecl_budget;

void		ecl_budget_init(ecl_budget *b, const ecl_alloc *parent, size_t limit);

#endif							/* ECL_ALLOC_H */
