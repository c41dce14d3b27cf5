/*
 * arena.c — bump allocator used by the compiler front end (see arena.h).
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "ecl/arena.h"

#define ARENA_ALIGN			16
#define ARENA_FIRST_BLOCK	(16 * 1024)
#define ARENA_MAX_BLOCK		(1024 * 1024)

struct ecl_arena_block
{
	ecl_arena_block *next;
	size_t		size;			/* usable bytes in data */
	size_t		used;
	size_t		last;			/* offset of the most recent allocation */
	alignas(ARENA_ALIGN) unsigned char data[];
};

static size_t
align_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~((size_t) ARENA_ALIGN - 1);
}

static void *arena_alloc_cb(void *ctx, size_t size);
static void *arena_realloc_cb(void *ctx, void *ptr, size_t old_size, size_t new_size);
static void arena_free_cb(void *ctx, void *ptr);
static bool arena_over_budget_cb(void *ctx, size_t *limit);

void
ecl_arena_init(ecl_arena *arena, const ecl_alloc *parent)
{
	arena->parent = parent;
	arena->head = NULL;
	arena->next_block_size = ARENA_FIRST_BLOCK;
	arena->as_alloc.alloc = arena_alloc_cb;
	arena->as_alloc.realloc = arena_realloc_cb;
	arena->as_alloc.free = arena_free_cb;
	arena->as_alloc.ctx = arena;
	arena->as_alloc.over_budget = arena_over_budget_cb;
}

static ecl_arena_block *
new_block(ecl_arena *arena, size_t size)
{
	ecl_arena_block *b;

	if (size > SIZE_MAX - sizeof(ecl_arena_block))
		return NULL;
	b = ecl_malloc(arena->parent, sizeof(ecl_arena_block) + size);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	b->last = 0;
	return b;
}

void *
ecl_arena_alloc(ecl_arena *arena, size_t size)
{
	ecl_arena_block *b = arena->head;
	size_t		need;

	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	need = align_up(size ? size : 1);
	if (b == NULL || b->size - b->used < need)
	{
		if (need > arena->next_block_size / 4)
		{
			/*
			 * A big request gets a block of its own, linked behind the
			 * current one so that the current block keeps serving small
			 * requests.
			 */
			ecl_arena_block *big = new_block(arena, need);

			if (big == NULL)
				return NULL;
			big->used = need;
			if (b == NULL)
				arena->head = big;
			else
			{
				big->next = b->next;
				b->next = big;
			}
			return big->data;
		}
		b = new_block(arena, arena->next_block_size);
		if (b == NULL)
			return NULL;
		b->next = arena->head;
		arena->head = b;
		if (arena->next_block_size < ARENA_MAX_BLOCK)
			arena->next_block_size *= 2;
	}
	b->last = b->used;
	b->used += need;
	return b->data + b->last;
}

const ecl_alloc *
ecl_arena_allocator(ecl_arena *arena)
{
	return &arena->as_alloc;
}

void
ecl_arena_release(ecl_arena *arena)
{
	ecl_arena_block *b = arena->head;

	while (b != NULL)
	{
		ecl_arena_block *next = b->next;

		ecl_free(arena->parent, b);
		b = next;
	}
	arena->head = NULL;
	arena->next_block_size = ARENA_FIRST_BLOCK;
}

static void *
arena_alloc_cb(void *ctx, size_t size)
{
	return ecl_arena_alloc((ecl_arena *) ctx, size);
}

static void *
arena_realloc_cb(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	ecl_arena  *arena = ctx;
	ecl_arena_block *b = arena->head;
	void	   *fresh;

	if (ptr == NULL)
		return ecl_arena_alloc(arena, new_size);

	/* Growing the most recent allocation of the current block: in place. */
	if (b != NULL && ptr == (void *) (b->data + b->last) &&
		new_size <= b->size - b->last)
	{
		b->used = b->last + align_up(new_size ? new_size : 1);
		return ptr;
	}
	if (new_size <= old_size)
		return ptr;
	fresh = ecl_arena_alloc(arena, new_size);
	if (fresh != NULL && old_size > 0)
		memcpy(fresh, ptr, old_size);
	return fresh;
}

static void
arena_free_cb(void *ctx, void *ptr)
{
	(void) ctx;
	(void) ptr;
}

/* A block refused by the parent's budget is the arena's refusal too. */
static bool
arena_over_budget_cb(void *ctx, size_t *limit)
{
	const ecl_alloc *parent = ((ecl_arena *) ctx)->parent;

	return parent->over_budget != NULL && parent->over_budget(parent->ctx, limit);
}
