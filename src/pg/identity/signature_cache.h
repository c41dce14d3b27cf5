/*
 * signature_cache.h — Ed25519 verifications shared by all backends
 * (signature_cache.c).
 *
 * credential.c remembers verified signatures per backend under the
 * BLAKE2b-256 digest of (public key, signature, message).  A new backend
 * behind a connection pool, or a parallel worker (a new process for every
 * parallel query), starts with an empty memory and would verify every
 * signature it meets again (tens of microseconds each; a statement over
 * 10,000 credentials spends about 0.4 s).  This table in shared memory
 * answers for digests any backend has verified.  Without
 * shared_preload_libraries it is absent: get finds nothing, put does
 * nothing.
 */
#ifndef ECL_SIGNATURE_CACHE_H
#define ECL_SIGNATURE_CACHE_H

#include "postgres.h"

#define ECL_SIGNATURE_DIGEST_BYTES 32

/* shared memory when loaded through shared_preload_libraries (_PG_init) */
void		ecl_signature_cache_init(void);

/* true and *valid filled when a backend verified the digest's bytes */
bool		ecl_signature_cache_get(const uint8 *digest, bool *valid);
void		ecl_signature_cache_put(const uint8 *digest, bool valid);

/*
 * This backend's answers from the shared table, and the verifications it
 * made and shared (tests: test/modules/ecl_test_hooks).
 */
void		ecl_signature_cache_counters(int64 *shared_hits, int64 *verified);

#endif							/* ECL_SIGNATURE_CACHE_H */
