/*
 * arena.h — bump allocation for the compiler front end.
 *
 * The lexer, parser and compiler allocate many small objects (tokens' decoded
 * strings, AST nodes, folded constants, the growing chunk) that all die
 * together when ecl_compile returns.  An arena takes blocks from the
 * embedder's allocator and gives them all back in ecl_arena_release, so the
 * front end never has to free anything individually and cannot leak.
 *
 * ecl_arena_allocator() exposes the arena as an ecl_alloc, so code that takes
 * an allocator (ecl_chunk_*, ecl_value_binary) can allocate from it too.
 */
#ifndef ECL_ARENA_H
#define ECL_ARENA_H

#include <stddef.h>

#include "ecl/alloc.h"

typedef struct ecl_arena_block ecl_arena_block;

typedef struct ecl_arena
{
	const ecl_alloc *parent;
	ecl_arena_block *head;		/* block new small allocations come from */
	ecl_alloc	as_alloc;		/* this arena as an allocator (ctx = arena) */
	size_t		next_block_size;
} ecl_arena;

void		ecl_arena_init(ecl_arena *arena, const ecl_alloc *parent);

/* size bytes aligned for any type; NULL when the parent allocator fails. */
void	   *ecl_arena_alloc(ecl_arena *arena, size_t size);

/* The arena as an allocator; free is a no-op, realloc copies when needed. */
const ecl_alloc *ecl_arena_allocator(ecl_arena *arena);

/* Give every block back to the parent allocator. */
void		ecl_arena_release(ecl_arena *arena);

#endif							/* ECL_ARENA_H */
