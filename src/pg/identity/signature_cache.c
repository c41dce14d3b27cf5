/*
 * signature_cache.c — verified Ed25519 signatures shared by every backend
 * (see signature_cache.h).
 *
 * A fixed table in shared memory, direct-mapped by the digest: an entry is
 * the digest of (public key, signature, message) and whether those bytes
 * verified.  It is a cache of a pure function, so losing an entry (another
 * digest took its slot) only costs a verification; an entry is written only
 * after crypto_sign_verify_detached ran on exactly those bytes, so no entry
 * can say more than the verification did.  Sixteen locks, each over an
 * interleaved sixteenth of the slots, keep readers of different slots apart.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "signature_cache.h"

#define SHARED_SLOTS 65536		/* a power of 2: 2.5 MB */
#define SHARED_PARTITIONS 16
#define TRANCHE "ecl_signatures"

typedef struct SharedSlot
{
	uint8		digest[ECL_SIGNATURE_DIGEST_BYTES];
	bool		used;
	bool		valid;
} SharedSlot;

typedef struct SharedSignatures
{
	LWLock	   *locks[SHARED_PARTITIONS];
	SharedSlot	slots[SHARED_SLOTS];
} SharedSignatures;

static SharedSignatures *shared = NULL;
static int64 shared_hits = 0;
static int64 verified = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
signatures_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SharedSignatures)));
	RequestNamedLWLockTranche(TRANCHE, SHARED_PARTITIONS);
}

static void
signatures_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("ecl verified signatures", sizeof(SharedSignatures), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche(TRANCHE);

		memset(shared->slots, 0, sizeof(shared->slots));
		for (int i = 0; i < SHARED_PARTITIONS; i++)
			shared->locks[i] = &locks[i].lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
ecl_signature_cache_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = signatures_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = signatures_shmem_startup;
}

static uint32
slot_of(const uint8 *digest)
{
	uint32		h;

	memcpy(&h, digest, sizeof(h));	/* the digest is uniformly distributed */
	return h & (SHARED_SLOTS - 1);
}

bool
ecl_signature_cache_get(const uint8 *digest, bool *valid)
{
	uint32		i;
	bool		found;

	if (shared == NULL)
		return false;
	i = slot_of(digest);
	LWLockAcquire(shared->locks[i % SHARED_PARTITIONS], LW_SHARED);
	found = shared->slots[i].used &&
		memcmp(shared->slots[i].digest, digest, ECL_SIGNATURE_DIGEST_BYTES) == 0;
	if (found)
		*valid = shared->slots[i].valid;
	LWLockRelease(shared->locks[i % SHARED_PARTITIONS]);
	if (found)
		shared_hits++;
	return found;
}

void
ecl_signature_cache_put(const uint8 *digest, bool valid)
{
	uint32		i;

	verified++;
	if (shared == NULL)
		return;
	i = slot_of(digest);
	LWLockAcquire(shared->locks[i % SHARED_PARTITIONS], LW_EXCLUSIVE);
	memcpy(shared->slots[i].digest, digest, ECL_SIGNATURE_DIGEST_BYTES);
	shared->slots[i].valid = valid;
	shared->slots[i].used = true;
	LWLockRelease(shared->locks[i % SHARED_PARTITIONS]);
}

void
ecl_signature_cache_counters(int64 *hits, int64 *verifications)
{
	*hits = shared_hits;
	*verifications = verified;
}
