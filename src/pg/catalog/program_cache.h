/*
 * program_cache.h — compiling and loading programs in the backend, and the
 * per-backend cache of loaded programs.
 *
 * ecl.eval compiles its source on first use and keeps the verified program,
 * keyed by a hash of the source text, so repeated calls never recompile
 * (docs/performance.md B4).  The cache is bounded (ECL_PROGRAM_CACHE_SIZE entries,
 * least recently used evicted first) and lives in a long-lived memory
 * context; each entry has its own small context, so eviction frees exactly
 * that program.
 */
#ifndef ECL_PROGRAM_CACHE_H
#define ECL_PROGRAM_CACHE_H

#include "postgres.h"

#include "ecl/bytecode.h"

#define ECL_PROGRAM_CACHE_SIZE 256

/*
 * The one compile path of the backend.  Compile src; on success return the
 * serialised bytecode (palloc'd in CurrentMemoryContext) and its length.
 * Errors are raised (42601, ...), naming policy_name.  policy_name is
 * registration's name for the program (a preference when the source has
 * one policy, a choice among several: compiler.h), or NULL.  track counts
 * the compile, or its failure, in ecl.stat_eclvm (policies_compiled,
 * policy_compile_errors): ecl.register_policy and ecl.eval's cache misses
 * do; ecl.compile, IMMUTABLE and PARALLEL SAFE, has no side effects.
 */
uint8	   *ecl_pg_compile(const char *src, size_t len, const char *policy_name,
						   bool track, size_t *out_len);

/*
 * Load and verify bytecode into memory context cxt with the stack limit
 * ecl.max_stack_depth.  Errors are raised (EC007, EC005).
 */
ecl_program *ecl_pg_load_program(MemoryContext cxt, const uint8 *bytes,
								 size_t len);

/*
 * The program compiled from src, from the cache or compiled and cached now.
 * The program stays valid at least until the end of the current transaction,
 * even if a nested call evicts it.
 */
const ecl_program *ecl_program_cache_source(const char *src, size_t len);

/* Drop every cached program (e.g. after an extension upgrade). */
void		ecl_program_cache_reset(void);

#endif							/* ECL_PROGRAM_CACHE_H */
