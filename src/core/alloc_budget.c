/*
 * alloc_budget.c — telling a refused allocation from a failed one, and a
 * budgeted allocator for tools and tests (alloc.h).
 */
#include <stdint.h>
#include <string.h>

#include "ecl/alloc.h"

ecl_status
ecl_alloc_failed(const ecl_alloc *a, ecl_error *err, const char *what)
{
	size_t		limit = 0;

	if (a != NULL && a->over_budget != NULL && a->over_budget(a->ctx, &limit))
		return ecl_error_set(err, ECL_ERR_MEMORY, 0, 0,
							 "memory limit of %zu kB exceeded allocating %s",
							 limit / 1024, what);
	return ecl_error_set(err, ECL_ERR_RESOURCE, 0, 0,
						 "out of memory allocating %s", what);
}

/* the size in front of each block; 16 bytes keep the block max-aligned */
#define BUDGET_HEADER 16

static bool
budget_admit(ecl_budget *b, size_t more)
{
	if (more > b->limit || b->used > b->limit - more)
	{
		b->refused = true;
		return false;
	}
	return true;
}

static void *
budget_alloc(void *ctx, size_t size)
{
	ecl_budget *b = (ecl_budget *) ctx;
	unsigned char *p;

	if (size > SIZE_MAX - BUDGET_HEADER || !budget_admit(b, size + BUDGET_HEADER))
		return NULL;
	p = ecl_malloc(b->parent, size + BUDGET_HEADER);
	if (p == NULL)
	{
		b->refused = false;
		return NULL;
	}
	memcpy(p, &size, sizeof(size));
	b->used += size + BUDGET_HEADER;
	if (b->used > b->peak)
		b->peak = b->used;
	b->refused = false;
	return p + BUDGET_HEADER;
}

static void
budget_free(void *ctx, void *ptr)
{
	ecl_budget *b = (ecl_budget *) ctx;
	unsigned char *p = (unsigned char *) ptr - BUDGET_HEADER;
	size_t		size;

	memcpy(&size, p, sizeof(size));
	b->used -= size + BUDGET_HEADER;
	ecl_free(b->parent, p);
}

static void *
budget_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	void	   *n;
	size_t		have;

	if (ptr == NULL)
		return budget_alloc(ctx, new_size);
	memcpy(&have, (unsigned char *) ptr - BUDGET_HEADER, sizeof(have));
	/* copy rather than grow in place: the old block counts until freed */
	n = budget_alloc(ctx, new_size);
	if (n == NULL)
		return NULL;
	memcpy(n, ptr, have < new_size ? have : new_size);
	budget_free(ctx, ptr);
	return n;
}

static bool
budget_over(void *ctx, size_t *limit)
{
	ecl_budget *b = (ecl_budget *) ctx;

	*limit = b->limit;
	return b->refused;
}

void
ecl_budget_init(ecl_budget *b, const ecl_alloc *parent, size_t limit)
{
	b->as_alloc.alloc = budget_alloc;
	b->as_alloc.realloc = budget_realloc;
	b->as_alloc.free = budget_free;
	b->as_alloc.ctx = b;
	b->as_alloc.over_budget = budget_over;
	b->parent = parent;
	b->limit = limit;
	b->used = 0;
	b->peak = 0;
	b->refused = false;
}
