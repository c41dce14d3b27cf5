/*
 * program_cache.c — compile/load helpers and the per-backend cache of
 * programs compiled from source text (see program_cache.h).
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "ecl/compiler.h"

#include "ecl_pg.h"
#include "program_cache.h"
#include "stats.h"

/* ------------------------------------------------------- compile and load */

uint8 *
ecl_pg_compile(const char *src, size_t len, const char *policy_name,
			   bool track, size_t *out_len)
{
	MemoryContext work = AllocSetContextCreate(CurrentMemoryContext,
											   "ecl compile",
											   ALLOCSET_DEFAULT_SIZES);
	ecl_alloc	alloc;
	ecl_compile_options opts;
	ecl_error	err;
	uint8_t    *bytes;
	size_t		nbytes;
	uint8	   *result;

	ecl_pg_alloc_init(&alloc, work);
	ecl_error_clear(&err);
	memset(&opts, 0, sizeof(opts));
	opts.policy_name = policy_name;
	opts.policy_name_optional = true;

	if (ecl_compile(&alloc, src, len, &opts, &bytes, &nbytes, &err) != ECL_OK)
	{
		/* err is a local copy: the work context can go before raising */
		MemoryContextDelete(work);
		if (track)
			ecl_stats_record_compile(false);
		ecl_raise(&err, policy_name);
	}
	if (track)
		ecl_stats_record_compile(true);

	result = palloc(nbytes);
	memcpy(result, bytes, nbytes);
	*out_len = nbytes;
	MemoryContextDelete(work);
	return result;
}

ecl_program *
ecl_pg_load_program(MemoryContext cxt, const uint8 *bytes, size_t len)
{
	ecl_alloc	alloc;
	ecl_error	err;
	ecl_program *program = NULL;

	ecl_pg_alloc_init(&alloc, cxt);
	ecl_error_clear(&err);
	if (ecl_program_load(&alloc, bytes, len, (uint32_t) ecl_max_stack_depth,
						 &program, &err) != ECL_OK)
		ecl_raise(&err, NULL);
	return program;
}

/* ------------------------------------------------------------------ cache */

typedef struct SourceCacheEntry
{
	uint64		hash;			/* key: hash of the source text */
	MemoryContext cxt;			/* owns source and program */
	char	   *source;
	size_t		source_len;
	ecl_program *program;
	uint64		last_used;
} SourceCacheEntry;

static MemoryContext cache_cxt = NULL;
static HTAB *source_cache = NULL;
static uint64 use_clock = 0;

static void
cache_init(void)
{
	HASHCTL		ctl;

	if (source_cache != NULL)
		return;
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "ecl program cache",
										  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(SourceCacheEntry);
	ctl.hcxt = cache_cxt;
	source_cache = hash_create("ecl source cache", ECL_PROGRAM_CACHE_SIZE,
							   &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * Retire an entry's memory.  A caller further up the stack may still be
 * running this program (a policy whose host ran SQL that called ecl.eval),
 * so the memory is handed to the transaction instead of freed at once.
 */
/*
 * A retired program may still be running (or be named by a hint of the
 * jsonb input, jsonb_bridge.c): it is freed only with the transaction.
 */
static void
retire_entry(SourceCacheEntry *entry)
{
	MemoryContextSetParent(entry->cxt, TopTransactionContext);
	hash_search(source_cache, &entry->hash, HASH_REMOVE, NULL);
}

static void
evict_least_recent(void)
{
	HASH_SEQ_STATUS seq;
	SourceCacheEntry *entry;
	SourceCacheEntry *oldest = NULL;

	hash_seq_init(&seq, source_cache);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (oldest == NULL || entry->last_used < oldest->last_used)
			oldest = entry;
	}
	if (oldest != NULL)
		retire_entry(oldest);
}

const ecl_program *
ecl_program_cache_source(const char *src, size_t len)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) src, (int) len, 0);
	SourceCacheEntry *entry;
	MemoryContext cxt;
	uint8	   *bytes;
	size_t		nbytes;
	ecl_program *program;
	bool		found;

	cache_init();
	entry = hash_search(source_cache, &hash, HASH_FIND, NULL);
	if (entry != NULL)
	{
		if (entry->source_len == len && memcmp(entry->source, src, len) == 0)
		{
			entry->last_used = ++use_clock;
			return entry->program;
		}
		/* a 64-bit hash collision: the newer source takes the slot */
		retire_entry(entry);
	}

	/*
	 * Compile and load under the caller's context first: if either raises,
	 * nothing has touched the cache, and the memory goes with the statement.
	 * Only a fully loaded program is moved into the cache.
	 */
	bytes = ecl_pg_compile(src, len, NULL, true, &nbytes);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "ecl cached program",
								ALLOCSET_SMALL_SIZES);
	program = ecl_pg_load_program(cxt, bytes, nbytes);
	pfree(bytes);

	if (hash_get_num_entries(source_cache) >= ECL_PROGRAM_CACHE_SIZE)
		evict_least_recent();

	MemoryContextSetParent(cxt, cache_cxt);
	entry = hash_search(source_cache, &hash, HASH_ENTER, &found);
	entry->cxt = cxt;
	entry->source = MemoryContextAlloc(cxt, len + 1);
	memcpy(entry->source, src, len);
	entry->source[len] = '\0';
	entry->source_len = len;
	entry->program = program;
	entry->last_used = ++use_clock;
	return program;
}

void
ecl_program_cache_reset(void)
{
	HASH_SEQ_STATUS seq;
	SourceCacheEntry *entry;

	if (source_cache == NULL)
		return;
	hash_seq_init(&seq, source_cache);
	while ((entry = hash_seq_search(&seq)) != NULL)
		retire_entry(entry);
}
