/*
 * alloc_std.c — the malloc-backed allocator for tests, fuzzers and tools.
 * The backend never uses it (src/pg/exec/pg_alloc.c wraps palloc).
 */
#include <stdlib.h>

#include "ecl/alloc.h"

static void *
std_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size);
}

static void *
std_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void) ctx;
	(void) old_size;
	return realloc(ptr, new_size);
}

static void
std_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

const ecl_alloc ecl_std_alloc = {std_alloc, std_realloc, std_free, NULL, NULL};
