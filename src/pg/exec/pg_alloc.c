/*
 * pg_alloc.c — the core's allocator interface over a PostgreSQL memory
 * context, and the memory budget of a run (ecl.memory_limit).
 *
 * palloc never returns NULL (it raises "out of memory"); the core's NULL
 * checks are reached in the backend only through the budget.  The core
 * enforces its own size limits (ECL_MAX_STRING, ECL_MAX_COLLECTION) before
 * asking.
 *
 * The budget is measured, not counted: what a run's memory context and its
 * children hold (MemoryContextMemAllocated), so it covers every palloc in
 * the run's context, not only the core's allocations through ecl_alloc —
 * the jsonb bridge, the hosts' logs, events, written values and the state
 * host's change list all live there.  The core's allocations are checked
 * before they are made; the glue's own pallocs are checked right after
 * (ecl_run_memory_check), at the few places that can allocate much.
 */
#include "postgres.h"

#include "ecl_pg.h"

/* The budget of the run in progress; NULL outside runs. */
static EclRunMemory *current_run_memory = NULL;

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
	a->over_budget = NULL;
}

/* ------------------------------------------------------------ the budget */

static inline Size
run_memory_used(const EclRunMemory *m)
{
	return MemoryContextMemAllocated(m->cxt, true);
}

/*
 * Would size more bytes take the run beyond its budget?  A request is
 * counted whole even when palloc would serve it from a free chunk: the
 * check stays one comparison, and errs towards refusing.
 */
static inline bool
run_memory_admits(EclRunMemory *m, Size size)
{
	Size		used = run_memory_used(m);

	if (size > m->limit || used > m->limit - size)
	{
		m->refused = true;
		return false;
	}
	m->refused = false;
	return true;
}

static void *
budget_alloc(void *ctx, size_t size)
{
	EclRunMemory *m = (EclRunMemory *) ctx;

	if (!run_memory_admits(m, size))
		return NULL;
	return MemoryContextAllocHuge(m->cxt, size);
}

static void *
budget_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	EclRunMemory *m = (EclRunMemory *) ctx;

	if (!run_memory_admits(m, new_size > old_size ? new_size - old_size : 0))
		return NULL;
	if (ptr == NULL)
		return MemoryContextAllocHuge(m->cxt, new_size);
	return repalloc_huge(ptr, new_size);
}

static bool
budget_over(void *ctx, size_t *limit)
{
	EclRunMemory *m = (EclRunMemory *) ctx;

	*limit = m->limit;
	return m->refused;
}

void
ecl_run_memory_begin(EclRunMemory *m, MemoryContext cxt, Size limit,
					 ecl_alloc *a)
{
	m->cxt = cxt;
	m->limit = limit;
	m->refused = false;
	m->outer = current_run_memory;
	current_run_memory = m;

	a->alloc = budget_alloc;
	a->realloc = budget_realloc;
	a->free = pg_alloc_free;
	a->ctx = m;
	a->over_budget = budget_over;
}

/* Also on the error path: a nested run gives the outer run its budget back. */
void
ecl_run_memory_end(EclRunMemory *m)
{
	current_run_memory = m->outer;
}

bool
ecl_run_memory_exceeded(Size more)
{
	EclRunMemory *m = current_run_memory;

	if (m == NULL)
		return false;
	return more > m->limit || run_memory_used(m) > m->limit - more;
}

ecl_status
ecl_run_memory_error(ecl_error *err, const char *what)
{
	EclRunMemory *m = current_run_memory;

	return ecl_error_set(err, ECL_ERR_MEMORY, 0, 0,
						 "memory limit of %zu kB exceeded %s",
						 m ? (size_t) (m->limit / 1024) : (size_t) 0, what);
}

ecl_status
ecl_run_memory_check(ecl_error *err, const char *what)
{
	if (!ecl_run_memory_exceeded(0))
		return ECL_OK;
	return ecl_run_memory_error(err, what);
}
