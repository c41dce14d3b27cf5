/*
 * stats.c — ECLVM statistics in shared memory (docs/sql-api.md, "Statistics"), per database.
 *
 * Recording, like PostgreSQL's own pgstat, touches no shared memory: a run
 * adds to pending counters in backend-local memory (global, per kind, and
 * per (policy, realm, kind) next to the cached keys of its rows), which
 * costs a few ns and no lock or atomic.  The pending counts are flushed into
 * shared memory at the end of every transaction (commit, abort, prepare,
 * and a parallel worker's part), every ECL_STATS_FLUSH_EVERY events so a
 * long statement shows progress, at backend exit, and before this backend
 * reads or resets the statistics itself.  So every run is counted exactly
 * once; other sessions see it at the end of its transaction (or sooner),
 * its own session at once.  Statistics are not transactional: the runs of
 * a rolled-back transaction count too.
 *
 * Per database, as pg_stat_statements keys by dbid: a backend is connected
 * to one database for its whole life, so everything it has pending belongs
 * to MyDatabaseId and recording needs no key for it; the database is part
 * of every shared key (stats_internal.h).
 *
 * Layout: three bounded shared hash tables of ecl.max_tracked entries each
 * — databases (global and per-kind counters, atomics), realms and policies
 * (plain counters under a spinlock per row) — shared by all databases and
 * protected by one LWLock.  A flush takes it in shared mode once, finds its
 * database's row and adds to its atomics, finds its realm and policy rows
 * and updates them; only a flush that needs a new row takes it exclusively
 * to insert one.  So keying by database adds one hash lookup per flush and
 * no lock.
 *
 * Eviction: when a table is full, the least-called 5% of its entries (at
 * least one), whichever database they belong to, are removed before
 * inserting, as pg_stat_statements does with its least-used entries.
 * Removing a batch keeps inserts cheap while the table is full (one sort
 * per 5% of new rows, not one per row).  The removed realm and policy rows'
 * runs stay counted in their database's global and per-kind counters; an
 * evicted database row (more databases than ecl.max_tracked ran policies)
 * loses its counts, and the next run there starts a new row.
 *
 * Everything here needs shared_preload_libraries = 'ecl'.  Without it the
 * record functions return at once and the SQL functions raise an error.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "ecl_pg.h"
#include "stats.h"
#include "stats_internal.h"

EclStatsShared *ecl_stats_shared = NULL;
HTAB	   *ecl_stats_databases = NULL;
HTAB	   *ecl_stats_realms = NULL;
HTAB	   *ecl_stats_policies = NULL;
HTAB	   *ecl_stats_versions = NULL;

#define ECL_STATS_TRANCHE "ecl_stats"
#define ECL_EVICT_PERCENT 5

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static const char *const global_counter_names[ECL_GC_COUNT] = {
#define ECL_GC_NAME(id, name) name,
	ECL_GLOBAL_COUNTERS(ECL_GC_NAME)
#undef ECL_GC_NAME
};

static const char *const policy_kind_names[ECL_KIND_COUNT] = {
#define ECL_KIND_NAME(id, name) name,
	ECL_POLICY_KINDS(ECL_KIND_NAME)
#undef ECL_KIND_NAME
};

const char *
ecl_stats_kind_name(int kind)
{
	if (kind < 0 || kind >= ECL_KIND_COUNT)
		return "custom";
	return policy_kind_names[kind];
}

const char *
ecl_stats_counter_name(int counter)
{
	Assert(counter >= 0 && counter < ECL_GC_COUNT);
	return global_counter_names[counter];
}

/*
 * Kind of docs/sql-api.md, "Registered policies" by name; NULL or anything unknown counts as custom.
 * Called for every run: the kind found last is remembered (its text: the
 * callers' strings live in their own memory), so runs of one policy after
 * another cost one comparison instead of up to ten ("custom" is the last).
 */
static EclPolicyKind
kind_from_name(const char *name)
{
	static char last_name[32];
	static EclPolicyKind last_kind = ECL_KIND_CUSTOM;

	if (name == NULL)
		return ECL_KIND_CUSTOM;
	if (last_name[0] != '\0' && strcmp(name, last_name) == 0)
		return last_kind;
	for (int i = 0; i < ECL_KIND_COUNT; i++)
	{
		if (strcmp(name, policy_kind_names[i]) == 0)
		{
			strlcpy(last_name, policy_kind_names[i], sizeof(last_name));
			last_kind = (EclPolicyKind) i;
			return last_kind;
		}
	}
	return ECL_KIND_CUSTOM;
}

long
ecl_stats_max_rows(void)
{
	return Max(ecl_max_tracked, 1);
}

static Size
stats_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(EclStatsShared));

	size = add_size(size, hash_estimate_size(ecl_stats_max_rows(),
											 sizeof(EclDatabaseEntry)));
	size = add_size(size, hash_estimate_size(ecl_stats_max_rows(),
											 sizeof(EclRealmEntry)));
	size = add_size(size, hash_estimate_size(ecl_stats_max_rows(),
											 sizeof(EclPolicyEntry)));
	size = add_size(size, hash_estimate_size(ecl_stats_max_rows(),
											 sizeof(EclVersionEntry)));
	return size;
}

static void
stats_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(stats_shmem_size());
	RequestNamedLWLockTranche(ECL_STATS_TRANCHE, 1);
}

static void
stats_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	/* after a crash-restart the postmaster re-runs this: forget old pointers */
	ecl_stats_shared = NULL;
	ecl_stats_databases = NULL;
	ecl_stats_realms = NULL;
	ecl_stats_policies = NULL;
	ecl_stats_versions = NULL;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	ecl_stats_shared = ShmemInitStruct("ecl_stats", sizeof(EclStatsShared),
									   &found);
	if (!found)
		ecl_stats_shared->lock = &(GetNamedLWLockTranche(ECL_STATS_TRANCHE))->lock;

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(EclDatabaseEntry);
	ecl_stats_databases = ShmemInitHash("ecl_stats databases",
										ecl_stats_max_rows(), ecl_stats_max_rows(),
										&info, HASH_ELEM | HASH_BLOBS);

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(EclRealmKey);
	info.entrysize = sizeof(EclRealmEntry);
	ecl_stats_realms = ShmemInitHash("ecl_stats realms",
									 ecl_stats_max_rows(), ecl_stats_max_rows(),
									 &info, HASH_ELEM | HASH_BLOBS);

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(EclPolicyKey);
	info.entrysize = sizeof(EclPolicyEntry);
	ecl_stats_policies = ShmemInitHash("ecl_stats policies",
									   ecl_stats_max_rows(), ecl_stats_max_rows(),
									   &info, HASH_ELEM | HASH_BLOBS);

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(EclVersionKey);
	info.entrysize = sizeof(EclVersionEntry);
	ecl_stats_versions = ShmemInitHash("ecl_stats policy versions",
									   ecl_stats_max_rows(), ecl_stats_max_rows(),
									   &info, HASH_ELEM | HASH_BLOBS);

	LWLockRelease(AddinShmemInitLock);

	/*
	 * The postmaster saves the counters when it shuts down cleanly; a
	 * crashing one does not (the callback checks the exit code).
	 */
	if (!IsUnderPostmaster)
		on_shmem_exit(ecl_stats_save_file, (Datum) 0);

	/* only the process that created the memory loads the saved counters */
	if (!found)
		ecl_stats_load_file();
}

void
ecl_stats_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = stats_shmem_request;
#else
	stats_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = stats_shmem_startup;
}

bool
ecl_stats_available(void)
{
	return ecl_stats_shared != NULL;
}

void
ecl_stats_require_available(void)
{
	if (ecl_stats_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ecl statistics are not available"),
				 errhint("add ecl to shared_preload_libraries and restart the server")));
}

/* ---------------------------------------------------------------------
 * Keys and eviction
 * ---------------------------------------------------------------------
 */

/* Store name clipped (on a character boundary) with the hash of all of it. */
static void
set_key_name(char *dst, uint64 *hash, const char *src)
{
	int			len;

	if (src == NULL)
		src = "";
	len = strlen(src);
	*hash = hash_bytes_extended((const unsigned char *) src, len, 0);
	if (len >= ECL_STATS_NAME_LEN)
		len = pg_mbcliplen(src, len, ECL_STATS_NAME_LEN - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
make_realm_key(EclRealmKey *key, Oid dbid, const char *realm_id)
{
	memset(key, 0, sizeof(*key));	/* HASH_BLOBS compares padding too */
	key->dbid = dbid;
	set_key_name(key->realm, &key->realm_hash, realm_id);
}

static void
make_policy_key(EclPolicyKey *key, Oid dbid, const char *name,
				const char *realm_id, EclPolicyKind kind)
{
	memset(key, 0, sizeof(*key));
	key->dbid = dbid;
	set_key_name(key->name, &key->name_hash, name);
	set_key_name(key->realm, &key->realm_hash, realm_id);
	key->kind = (int32) kind;
}

static void
make_version_key(EclVersionKey *key, Oid dbid, const char *name, int64 version)
{
	memset(key, 0, sizeof(*key));
	key->dbid = dbid;
	key->version = (int32) version;
	set_key_name(key->name, &key->name_hash, name);
}

typedef struct EvictCandidate
{
	void	   *entry;			/* its key is at offset 0 */
	int64		calls;
} EvictCandidate;

/* how busy an entry is: the fewest calls go first */
typedef int64 (*EntryCalls) (const void *entry);

static int64
database_calls(const void *entry)
{
	const EclDatabaseEntry *e = entry;

	return (int64) pg_atomic_read_u64(unconstify(pg_atomic_uint64 *,
												 &e->global[ECL_GC_POLICIES_EXECUTED]));
}

static int64
realm_calls(const void *entry)
{
	return ((const EclRealmEntry *) entry)->counters.executed;
}

static int64
policy_calls(const void *entry)
{
	return ((const EclPolicyEntry *) entry)->counters.calls;
}

static int64
version_calls(const void *entry)
{
	return ((const EclVersionEntry *) entry)->counters.calls;
}

static int
compare_candidates(const void *a, const void *b)
{
	int64		ca = ((const EvictCandidate *) a)->calls;
	int64		cb = ((const EvictCandidate *) b)->calls;

	return (ca > cb) - (ca < cb);
}

/*
 * Remove the least-called ECL_EVICT_PERCENT of the entries (at least one),
 * of whichever databases.  Caller holds the lock exclusively, so no one
 * updates counters meanwhile.
 */
static void
evict_least_called(HTAB *table, EntryCalls calls_of)
{
	long		n = hash_get_num_entries(table);
	long		victims;
	long		i = 0;
	EvictCandidate *cands;
	HASH_SEQ_STATUS seq;
	void	   *entry;

	if (n <= 0)
		return;
	/*
	 * Called from flushes in transaction callbacks too, where an error must
	 * not be raised: without memory nothing is evicted (the insert then
	 * finds no room and that row's counts are dropped).
	 */
	cands = MemoryContextAllocExtended(TopMemoryContext,
									   n * sizeof(EvictCandidate),
									   MCXT_ALLOC_NO_OOM);
	if (cands == NULL)
		return;
	hash_seq_init(&seq, table);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (i >= n)
		{
			hash_seq_term(&seq);
			break;
		}
		cands[i].entry = entry;
		cands[i].calls = calls_of(entry);
		i++;
	}
	n = i;
	qsort(cands, n, sizeof(EvictCandidate), compare_candidates);
	victims = Max(1, n * ECL_EVICT_PERCENT / 100);
	for (i = 0; i < victims && i < n; i++)
		hash_search(table, cands[i].entry, HASH_REMOVE, NULL);
	pfree(cands);
}

/*
 * A database's row, inserted with zero counters and stats_reset = now if
 * missing.  Caller holds the lock exclusively.
 */
EclDatabaseEntry *
ecl_stats_enter_database(Oid dbid)
{
	EclDatabaseEntry *entry;
	bool		found;

	entry = hash_search(ecl_stats_databases, &dbid, HASH_FIND, NULL);
	if (entry != NULL)
		return entry;
	if (hash_get_num_entries(ecl_stats_databases) >= ecl_stats_max_rows())
		evict_least_called(ecl_stats_databases, database_calls);
	entry = hash_search(ecl_stats_databases, &dbid, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		entry->stats_reset = GetCurrentTimestamp();
		for (int i = 0; i < ECL_GC_COUNT; i++)
			pg_atomic_init_u64(&entry->global[i], 0);
		for (int k = 0; k < ECL_KIND_COUNT; k++)
			for (int c = 0; c < ECL_KC_COUNT; c++)
				pg_atomic_init_u64(&entry->by_kind[k][c], 0);
	}
	return entry;
}

EclRealmEntry *
ecl_stats_enter_realm(const EclRealmKey *key)
{
	EclRealmEntry *entry;
	bool		found;

	if (hash_get_num_entries(ecl_stats_realms) >= ecl_stats_max_rows())
		evict_least_called(ecl_stats_realms, realm_calls);
	entry = hash_search(ecl_stats_realms, key, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		SpinLockInit(&entry->mutex);
		memset(&entry->counters, 0, sizeof(entry->counters));
	}
	return entry;
}

EclPolicyEntry *
ecl_stats_enter_policy(const EclPolicyKey *key)
{
	EclPolicyEntry *entry;
	bool		found;

	if (hash_get_num_entries(ecl_stats_policies) >= ecl_stats_max_rows())
		evict_least_called(ecl_stats_policies, policy_calls);
	entry = hash_search(ecl_stats_policies, key, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		SpinLockInit(&entry->mutex);
		memset(&entry->counters, 0, sizeof(entry->counters));
	}
	return entry;
}

EclVersionEntry *
ecl_stats_enter_version(const EclVersionKey *key)
{
	EclVersionEntry *entry;
	bool		found;

	if (hash_get_num_entries(ecl_stats_versions) >= ecl_stats_max_rows())
		evict_least_called(ecl_stats_versions, version_calls);
	entry = hash_search(ecl_stats_versions, key, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		SpinLockInit(&entry->mutex);
		memset(entry->hash, 0, sizeof(entry->hash));
		memset(&entry->counters, 0, sizeof(entry->counters));
	}
	return entry;
}

/* ---------------------------------------------------------------------
 * Recording: pending counters in backend-local memory
 * ---------------------------------------------------------------------
 */

/*
 * Runs recorded since the last flush, in this backend only, and so in its
 * database (MyDatabaseId).  Recording adds to these plain variables;
 * ecl_stats_flush_pending() moves them into shared memory.  Deltas are unsigned and only ever grow: negative inputs
 * count as 0, as they always have.
 */
static uint64 pending_global[ECL_GC_COUNT];
static uint64 pending_by_kind[ECL_KIND_COUNT][ECL_KC_COUNT];

/* events (runs, compiles, crossings) recorded since the last flush */
static int	pending_events = 0;

/*
 * A statement that runs a policy on every row of a big table would keep
 * its counts to itself until it ends; flushing every this many events
 * lets other sessions watch it progress, at the cost of one flush (a lock
 * and a few atomics) per this many runs.
 */
#define ECL_STATS_FLUSH_EVERY 1000

/* transaction and exit callbacks are registered on the first event */
static bool flush_callbacks_registered = false;

/*
 * Set while a flush runs.  Nothing in a flush raises an error, but if one
 * ever did escape, the exit callback must not wait for the lock this
 * backend still holds; abort releases every LWLock and clears this.
 */
static bool flush_in_progress = false;

/*
 * The keys of the rows a backend updated last, with their hash values and
 * the counts not yet flushed into those rows.  Building a key (names
 * hashed, fixed-size buffers filled) and hashing the whole key for the
 * shared table cost more than updating the counters; a WHERE clause or RLS
 * policy runs the same policy in the same realm row after row, so the last
 * few keys are kept per backend and reused when the (policy, realm, kind)
 * strings match.  Only keys and local counts are kept, never pointers into
 * shared memory (rows may be evicted or reset by others).  A slot that is
 * reused for other keys is flushed first.
 */
#define KEY_CACHE_SLOTS 8

typedef struct CachedRunKeys
{
	bool		used;
	bool		has_realm;		/* realm_id not empty: the run has a realm row */
	char	   *policy_name;	/* "" for NULL */
	char	   *realm_id;		/* "" for NULL */
	EclPolicyKind kind;
	int64		version;		/* 0: ad hoc, no version row */
	EclPolicyKey pkey;
	uint32		phash;
	EclRealmKey rkey;
	uint32		rhash;
	EclVersionKey vkey;
	uint32		vhash;
	uint8		hash[ECL_STATS_HASH_BYTES]; /* of the version */
	bool		has_hash;
	EclRealmCounters realm_pending; /* executed == 0: nothing pending */
	EclPolicyCounters policy_pending;	/* nothing: policy_has_pending */
	EclPolicyCounters version_pending;	/* the same counts, for the version */
} CachedRunKeys;

static CachedRunKeys key_cache[KEY_CACHE_SLOTS];
static int	key_cache_next = 0;
static int	key_cache_last_hit = 0;

static void register_flush_callbacks(void);
static void flush_slots(CachedRunKeys *only, bool with_database);

/* Add pending realm counts to a shared row (caller holds its mutex). */
static void
add_realm_counters(EclRealmCounters *dst, const EclRealmCounters *d)
{
	dst->executed += d->executed;
	dst->passed += d->passed;
	dst->denied += d->denied;
	dst->gas += d->gas;
	dst->mana += d->mana;
	dst->crossing_policies += d->crossing_policies;
}

/*
 * Add pending policy counts to a row, merging min and max (which only runs
 * have: translated executions alone leave them).
 */
static void
add_policy_counters(EclPolicyCounters *dst, const EclPolicyCounters *d)
{
	/* pending shadow comparisons alone carry no times */
	if (d->calls > 0 &&
		(dst->calls == 0 || d->min_time_ns < dst->min_time_ns))
		dst->min_time_ns = d->min_time_ns;
	if (d->calls > 0 &&
		(dst->calls == 0 || d->max_time_ns > dst->max_time_ns))
		dst->max_time_ns = d->max_time_ns;
	dst->translated_executions += d->translated_executions;
	dst->calls += d->calls;
	dst->passed += d->passed;
	dst->denied += d->denied;
	dst->errors += d->errors;
	dst->total_gas += d->total_gas;
	dst->total_mana += d->total_mana;
	dst->total_time_ns += d->total_time_ns;
	dst->shadow_runs += d->shadow_runs;
	dst->shadow_disagreements += d->shadow_disagreements;
}

/* Something to add to the policy's row (runs or shadow comparisons). */
static inline bool
policy_has_pending(const EclPolicyCounters *c)
{
	return c->calls > 0 || c->shadow_runs > 0 || c->translated_executions > 0;
}

static bool
slot_has_pending(const CachedRunKeys *k)
{
	return k->used &&
		(k->realm_pending.executed > 0 ||
		 policy_has_pending(&k->policy_pending) ||
		 policy_has_pending(&k->version_pending));
}

static CachedRunKeys *
run_keys(const char *policy_name, const char *realm_id, EclPolicyKind kind,
		 int64 version, const uint8 *hash)
{
	CachedRunKeys *k;

	if (policy_name == NULL)
		policy_name = "";
	if (realm_id == NULL)
		realm_id = "";

	/* the slot that matched last is the likely one: try it first */
	k = &key_cache[key_cache_last_hit];
	if (k->used && k->kind == kind && k->version == version &&
		strcmp(k->policy_name, policy_name) == 0 &&
		strcmp(k->realm_id, realm_id) == 0)
		return k;
	for (int i = 0; i < KEY_CACHE_SLOTS; i++)
	{
		k = &key_cache[i];
		if (k->used && k->kind == kind && k->version == version &&
			strcmp(k->policy_name, policy_name) == 0 &&
			strcmp(k->realm_id, realm_id) == 0)
		{
			key_cache_last_hit = i;
			return k;
		}
	}

	key_cache_last_hit = key_cache_next;
	k = &key_cache[key_cache_next];
	key_cache_next = (key_cache_next + 1) % KEY_CACHE_SLOTS;
	if (k->used)
	{
		/* its counts belong to its keys: move them to shared memory first */
		if (slot_has_pending(k))
			flush_slots(k, false);
		pfree(k->policy_name);
		pfree(k->realm_id);
	}
	memset(k, 0, sizeof(*k));
	k->policy_name = MemoryContextStrdup(TopMemoryContext, policy_name);
	k->realm_id = MemoryContextStrdup(TopMemoryContext, realm_id);
	k->kind = kind;
	k->has_realm = (realm_id[0] != '\0');
	make_policy_key(&k->pkey, MyDatabaseId, policy_name, realm_id, kind);
	k->phash = get_hash_value(ecl_stats_policies, &k->pkey);
	make_realm_key(&k->rkey, MyDatabaseId, realm_id);
	k->rhash = get_hash_value(ecl_stats_realms, &k->rkey);
	k->version = policy_name[0] != '\0' ? version : 0;
	if (k->version != 0)
	{
		make_version_key(&k->vkey, MyDatabaseId, policy_name, k->version);
		k->vhash = get_hash_value(ecl_stats_versions, &k->vkey);
		if (hash != NULL)
		{
			memcpy(k->hash, hash, ECL_STATS_HASH_BYTES);
			k->has_hash = true;
		}
	}
	k->used = true;
	return k;
}

/* Count one finished event; flush when enough have accumulated. */
static inline void
note_pending_event(void)
{
	if (unlikely(!flush_callbacks_registered))
		register_flush_callbacks();
	if (++pending_events >= ECL_STATS_FLUSH_EVERY)
		ecl_stats_flush_pending();
}

static inline void
count_run(EclPolicyCounters *pc, EclRunStatus status, uint64 gas, uint64 mana,
		  uint64 time_ns)
{
	if (pc->calls == 0 || (int64) time_ns < pc->min_time_ns)
		pc->min_time_ns = time_ns;
	if (pc->calls == 0 || (int64) time_ns > pc->max_time_ns)
		pc->max_time_ns = time_ns;
	pc->calls++;
	if (status == ECL_RUN_PASSED)
		pc->passed++;
	else if (status == ECL_RUN_DENIED)
		pc->denied++;
	else
		pc->errors++;
	pc->total_gas += gas;
	pc->total_mana += mana;
	pc->total_time_ns += time_ns;
}

void
ecl_stats_record_run(const EclRunReport *r)
{
	EclPolicyKind kind;
	CachedRunKeys *keys;
	EclPolicyCounters *pc;
	uint64		gas;
	uint64		mana;
	uint64		time_ns;
	EclKindCounter kind_counter;

	if (!ecl_track || ecl_stats_shared == NULL || r == NULL)
		return;

	kind = kind_from_name(r->policy_type);
	keys = run_keys(r->policy_name, r->realm_id, kind, r->policy_version,
					r->policy_hash);
	gas = (uint64) Max(r->gas_used, 0);
	mana = (uint64) Max(r->mana_used, 0);
	time_ns = (uint64) Max(r->duration_ns, 0);

	pending_global[ECL_GC_POLICIES_EXECUTED]++;
	switch (r->status)
	{
		case ECL_RUN_PASSED:
			pending_global[ECL_GC_POLICIES_PASSED]++;
			kind_counter = ECL_KC_PASSED;
			break;
		case ECL_RUN_DENIED:
			pending_global[ECL_GC_POLICIES_DENIED]++;
			kind_counter = ECL_KC_DENIED;
			break;
		case ECL_RUN_OUT_OF_GAS:
			pending_global[ECL_GC_OUT_OF_GAS_ABORTS]++;
			pending_global[ECL_GC_POLICY_RUNTIME_ERRORS]++;
			kind_counter = ECL_KC_ERRORS;
			break;
		case ECL_RUN_RATE_LIMITED:
			pending_global[ECL_GC_MANA_RATE_LIMITED]++;
			pending_global[ECL_GC_POLICY_RUNTIME_ERRORS]++;
			kind_counter = ECL_KC_ERRORS;
			break;
		case ECL_RUN_ERROR:
		default:
			pending_global[ECL_GC_POLICY_RUNTIME_ERRORS]++;
			kind_counter = ECL_KC_ERRORS;
			break;
	}
	pending_by_kind[kind][ECL_KC_EXECUTIONS]++;
	pending_by_kind[kind][kind_counter]++;
	pending_global[ECL_GC_TOTAL_GAS_CONSUMED] += gas;
	pending_global[ECL_GC_TOTAL_MANA_CONSUMED] += mana;
	pending_global[ECL_GC_TOTAL_TIME_NS] += time_ns;
	pending_global[ECL_GC_EVENTS_EMITTED] += (uint64) Max(r->events_emitted, 0);

	if (keys->has_realm)
	{
		EclRealmCounters *rc = &keys->realm_pending;

		rc->executed++;
		if (r->status == ECL_RUN_PASSED)
			rc->passed++;
		else if (r->status == ECL_RUN_DENIED)
			rc->denied++;
		rc->gas += gas;
		rc->mana += mana;
		if (kind == ECL_KIND_CROSSING)
			rc->crossing_policies++;
	}

	pc = &keys->policy_pending;
	count_run(pc, r->status, gas, mana, time_ns);
	if (keys->version != 0)
		count_run(&keys->version_pending, r->status, gas, mana, time_ns);

	note_pending_event();
}

/*
 * The comparison follows the run it shadows, so the slot is the one the
 * run just used.  Not an event of its own for the flush cadence: it rides
 * with the run's.
 */
void
ecl_stats_record_shadow(const char *policy_name, const char *policy_type,
						const char *realm_id, int64 policy_version,
						bool disagreed)
{
	CachedRunKeys *keys;

	if (!ecl_track || ecl_stats_shared == NULL)
		return;
	/* the run just recorded made the slot, hash included */
	keys = run_keys(policy_name, realm_id, kind_from_name(policy_type),
					policy_version, NULL);
	keys->policy_pending.shadow_runs++;
	if (disagreed)
		keys->policy_pending.shadow_disagreements++;
	if (keys->version != 0)
	{
		keys->version_pending.shadow_runs++;
		if (disagreed)
			keys->version_pending.shadow_disagreements++;
	}
	if (unlikely(!flush_callbacks_registered))
		register_flush_callbacks();
}

/*
 * One statement execution that evaluated the policy as translated SQL
 * (planner: the once-per-execution gate).  Only the policy's row counts it:
 * no run happened, so the global, per-kind and realm counters do not move.
 */
void
ecl_stats_record_translated(const char *policy_name, const char *policy_type,
							const char *realm_id)
{
	CachedRunKeys *keys;

	if (!ecl_track || ecl_stats_shared == NULL || policy_name == NULL)
		return;
	keys = run_keys(policy_name, realm_id, kind_from_name(policy_type), 0, NULL);
	keys->policy_pending.translated_executions++;
	note_pending_event();
}

void
ecl_stats_record_compile(bool ok)
{
	if (!ecl_track || ecl_stats_shared == NULL)
		return;
	pending_global[ok ? ECL_GC_POLICIES_COMPILED : ECL_GC_POLICY_COMPILE_ERRORS]++;
	note_pending_event();
}

/*
 * One crossing decision of the gateway (docs/sql-api.md, "The crossing gateway" step 5).  The realm is not
 * broken down here: the realms view counts the crossing policies that ran.
 */
void
ecl_stats_record_crossing(const char *realm_id, bool allowed)
{
	(void) realm_id;
	if (!ecl_track || ecl_stats_shared == NULL)
		return;
	pending_global[ECL_GC_CROSSING_EVALUATIONS]++;
	pending_global[allowed ? ECL_GC_CROSSINGS_ALLOWED : ECL_GC_CROSSINGS_DENIED]++;
	note_pending_event();
}

void
ecl_stats_record_decision_dropped(void)
{
	if (ecl_stats_shared == NULL)
		return;
	pending_global[ECL_GC_DECISIONS_DROPPED]++;
	note_pending_event();
}

void
ecl_stats_add_decisions(Oid dbid, uint64 logged, uint64 dropped)
{
	EclDatabaseEntry *db;

	if (ecl_stats_shared == NULL || (logged == 0 && dropped == 0))
		return;
	ecl_stats_ensure_database(dbid);
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	db = hash_search(ecl_stats_databases, &dbid, HASH_FIND, NULL);
	if (db != NULL)
	{
		pg_atomic_fetch_add_u64(&db->global[ECL_GC_DECISIONS_LOGGED], logged);
		pg_atomic_fetch_add_u64(&db->global[ECL_GC_DECISIONS_DROPPED], dropped);
	}
	LWLockRelease(ecl_stats_shared->lock);
}

/* ---------------------------------------------------------------------
 * Flushing pending counters into shared memory
 * ---------------------------------------------------------------------
 */

/*
 * Move one slot's pending counts into its shared rows.  Each part is taken
 * (copied and zeroed) just before it is added, so no count can be added
 * twice.  Under the shared lock a missing row cannot be inserted: then that
 * part stays pending and false is returned.  With may_insert (exclusive
 * lock) a missing row is inserted; if the table has no room the part is
 * dropped, as a run that finds no row always was (the global and per-kind
 * counters still have it).
 */
static bool
apply_slot(CachedRunKeys *k, bool may_insert)
{
	bool		complete = true;

	if (k->realm_pending.executed > 0)
	{
		EclRealmEntry *realm;

		realm = hash_search_with_hash_value(ecl_stats_realms, &k->rkey,
											k->rhash, HASH_FIND, NULL);
		if (realm == NULL && may_insert)
			realm = ecl_stats_enter_realm(&k->rkey);
		if (realm != NULL || may_insert)
		{
			EclRealmCounters delta = k->realm_pending;

			memset(&k->realm_pending, 0, sizeof(k->realm_pending));
			if (realm != NULL)
			{
				SpinLockAcquire(&realm->mutex);
				add_realm_counters(&realm->counters, &delta);
				SpinLockRelease(&realm->mutex);
			}
		}
		else
			complete = false;
	}

	if (policy_has_pending(&k->policy_pending))
	{
		EclPolicyEntry *policy;

		policy = hash_search_with_hash_value(ecl_stats_policies, &k->pkey,
											 k->phash, HASH_FIND, NULL);
		if (policy == NULL && may_insert)
			policy = ecl_stats_enter_policy(&k->pkey);
		if (policy != NULL || may_insert)
		{
			EclPolicyCounters delta = k->policy_pending;

			memset(&k->policy_pending, 0, sizeof(k->policy_pending));
			if (policy != NULL)
			{
				SpinLockAcquire(&policy->mutex);
				add_policy_counters(&policy->counters, &delta);
				SpinLockRelease(&policy->mutex);
			}
		}
		else
			complete = false;
	}

	if (k->version != 0 && policy_has_pending(&k->version_pending))
	{
		EclVersionEntry *version;

		version = hash_search_with_hash_value(ecl_stats_versions, &k->vkey,
											  k->vhash, HASH_FIND, NULL);
		if (version == NULL && may_insert)
			version = ecl_stats_enter_version(&k->vkey);
		if (version != NULL || may_insert)
		{
			EclPolicyCounters delta = k->version_pending;

			memset(&k->version_pending, 0, sizeof(k->version_pending));
			if (version != NULL)
			{
				SpinLockAcquire(&version->mutex);
				if (k->has_hash)
					memcpy(version->hash, k->hash, ECL_STATS_HASH_BYTES);
				add_policy_counters(&version->counters, &delta);
				SpinLockRelease(&version->mutex);
			}
		}
		else
			complete = false;
	}
	return complete;
}

static bool
database_has_pending(void)
{
	for (int i = 0; i < ECL_GC_COUNT; i++)
		if (pending_global[i] != 0)
			return true;
	for (int k = 0; k < ECL_KIND_COUNT; k++)
		for (int c = 0; c < ECL_KC_COUNT; c++)
			if (pending_by_kind[k][c] != 0)
				return true;
	return false;
}

/*
 * Move the pending global and per-kind counts into this database's row,
 * as apply_slot does for a slot: under the shared lock only if the row
 * exists (else false: still pending); with may_insert (exclusive lock) the
 * row is inserted, and if there is no room at all the counts are dropped.
 */
static bool
apply_database(bool may_insert)
{
	Oid			dbid = MyDatabaseId;
	EclDatabaseEntry *db;

	db = hash_search(ecl_stats_databases, &dbid, HASH_FIND, NULL);
	if (db == NULL && may_insert)
		db = ecl_stats_enter_database(dbid);
	if (db == NULL && !may_insert)
		return false;

	for (int i = 0; i < ECL_GC_COUNT; i++)
	{
		uint64		delta = pending_global[i];

		if (delta != 0)
		{
			pending_global[i] = 0;
			if (db != NULL)
				pg_atomic_fetch_add_u64(&db->global[i], delta);
		}
	}
	for (int k = 0; k < ECL_KIND_COUNT; k++)
	{
		for (int c = 0; c < ECL_KC_COUNT; c++)
		{
			uint64		delta = pending_by_kind[k][c];

			if (delta != 0)
			{
				pending_by_kind[k][c] = 0;
				if (db != NULL)
					pg_atomic_fetch_add_u64(&db->by_kind[k][c], delta);
			}
		}
	}
	return true;
}

/*
 * Flush this database's pending counts (with_database) and the pending
 * rows of one slot (only) or of all slots (only = NULL): under the shared
 * lock for rows that exist, then, only if some row is new, once more under
 * the exclusive lock to insert it.
 */
static void
flush_slots(CachedRunKeys *only, bool with_database)
{
	bool		need_insert = false;

	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	if (with_database && !apply_database(false))
		need_insert = true;
	for (int i = 0; i < KEY_CACHE_SLOTS; i++)
	{
		CachedRunKeys *k = &key_cache[i];

		if ((only == NULL || k == only) && slot_has_pending(k) &&
			!apply_slot(k, false))
			need_insert = true;
	}
	LWLockRelease(ecl_stats_shared->lock);

	if (!need_insert)
		return;
	LWLockAcquire(ecl_stats_shared->lock, LW_EXCLUSIVE);
	if (with_database && database_has_pending())
		(void) apply_database(true);
	for (int i = 0; i < KEY_CACHE_SLOTS; i++)
	{
		CachedRunKeys *k = &key_cache[i];

		if ((only == NULL || k == only) && slot_has_pending(k))
			(void) apply_slot(k, true);
	}
	LWLockRelease(ecl_stats_shared->lock);
}

/*
 * Move everything this backend recorded into shared memory.  Cheap when
 * nothing is pending (one test), so every reader calls it first: a session
 * always sees its own runs, even inside an open transaction.  Raises no
 * error, so the transaction and exit callbacks may call it.
 */
void
ecl_stats_flush_pending(void)
{
	if (pending_events == 0 || ecl_stats_shared == NULL || flush_in_progress)
		return;
	flush_in_progress = true;
	flush_slots(NULL, true);

	pending_events = 0;
	flush_in_progress = false;
}

/*
 * End of a transaction (its own, or a parallel worker's part of one):
 * statistics are not transactional, so a rolled-back transaction's runs
 * count too.  The runner reports a failing run before its error unwinds,
 * so those runs are pending here as well.  On abort every LWLock of this
 * backend was released before the callbacks run, so taking ours is safe.
 */
static void
stats_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* an error that escaped a flush left no lock behind by now */
			flush_in_progress = false;
			ecl_stats_flush_pending();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			ecl_stats_flush_pending();
			break;
		default:
			break;
	}
}

/* Backend exit: runs before LWLocks and shared memory go away. */
static void
stats_exit_callback(int code, Datum arg)
{
	ecl_stats_flush_pending();
}

/*
 * Per backend, on its first recorded event (a postmaster child does not
 * inherit the postmaster's exit callbacks, and most backends never run a
 * policy).
 */
static void
register_flush_callbacks(void)
{
	RegisterXactCallback(stats_xact_callback, NULL);
	before_shmem_exit(stats_exit_callback, (Datum) 0);
	flush_callbacks_registered = true;
}

/* ---------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------
 */

/*
 * A global counter as the views and get_metric show it.  Run time is kept
 * in nanoseconds, so that runs shorter than a microsecond add up, and shown
 * in microseconds like the rest of the statistics.
 */
uint64
ecl_stats_shown(const EclDatabaseCounters *c, int counter)
{
	uint64		value = c->global[counter];

	return counter == ECL_GC_TOTAL_TIME_NS ? value / 1000 : value;
}

/* numerator / denominator, or false when the denominator is 0 */
bool
ecl_stats_ratio(uint64 numerator, uint64 denominator, double *out)
{
	if (denominator == 0)
		return false;
	*out = (double) numerator / (double) denominator;
	return true;
}

/* Copy a database's row (caller holds the lock, either mode). */
void
ecl_stats_copy_database(EclDatabaseEntry *e, EclDatabaseCounters *out)
{
	for (int i = 0; i < ECL_GC_COUNT; i++)
		out->global[i] = pg_atomic_read_u64(&e->global[i]);
	for (int k = 0; k < ECL_KIND_COUNT; k++)
		for (int c = 0; c < ECL_KC_COUNT; c++)
			out->by_kind[k][c] = pg_atomic_read_u64(&e->by_kind[k][c]);
	out->stats_reset = e->stats_reset;
}

/*
 * The counters of one database (this session's runs included).  A
 * database without a row reads as zeros with stats_reset 0, and false.
 */
bool
ecl_stats_read_database(Oid dbid, EclDatabaseCounters *out)
{
	EclDatabaseEntry *entry;

	memset(out, 0, sizeof(*out));
	if (ecl_stats_shared == NULL)
		return false;
	ecl_stats_flush_pending();
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	entry = hash_search(ecl_stats_databases, &dbid, HASH_FIND, NULL);
	if (entry != NULL)
		ecl_stats_copy_database(entry, out);
	LWLockRelease(ecl_stats_shared->lock);
	return entry != NULL;
}

/*
 * Give a database its row before a reader looks, so that its views always
 * show it (zeros, and stats_reset = when its counting began) even before
 * its first run.  Only the first look takes the lock exclusively.
 */
void
ecl_stats_ensure_database(Oid dbid)
{
	bool		exists;

	Assert(ecl_stats_shared != NULL);
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	exists = hash_search(ecl_stats_databases, &dbid, HASH_FIND, NULL) != NULL;
	LWLockRelease(ecl_stats_shared->lock);
	if (exists)
		return;
	LWLockAcquire(ecl_stats_shared->lock, LW_EXCLUSIVE);
	(void) ecl_stats_enter_database(dbid);
	LWLockRelease(ecl_stats_shared->lock);
}

/* get_metric's derived names, from one copy of the counters */
static bool
derived_metric(const char *name, const EclDatabaseCounters *c, double *out)
{
	uint64		num;
	uint64		den;

	if (strcmp(name, "avg_evaluation_time_us") == 0)
	{
		num = c->global[ECL_GC_TOTAL_TIME_NS];
		den = c->global[ECL_GC_POLICIES_EXECUTED] * 1000;
	}
	else if (strcmp(name, "policy_success_rate") == 0)
	{
		num = c->global[ECL_GC_POLICIES_PASSED];
		den = c->global[ECL_GC_POLICIES_EXECUTED];
	}
	else if (strcmp(name, "crossing_allow_rate") == 0)
	{
		num = c->global[ECL_GC_CROSSINGS_ALLOWED];
		den = c->global[ECL_GC_CROSSING_EVALUATIONS];
	}
	else
		return false;

	/* a ratio without data is 0 here; the views show NULL instead */
	if (!ecl_stats_ratio(num, den, out))
		*out = 0.0;
	return true;
}

/* The current database's row of realm_id. */
bool
ecl_stats_read_realm(const char *realm_id, EclRealmCounters *out)
{
	EclRealmKey key;
	EclRealmEntry *entry;

	memset(out, 0, sizeof(*out));
	if (ecl_stats_shared == NULL || realm_id == NULL || realm_id[0] == '\0')
		return false;
	ecl_stats_flush_pending();
	make_realm_key(&key, MyDatabaseId, realm_id);
	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	entry = hash_search(ecl_stats_realms, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		SpinLockAcquire(&entry->mutex);
		*out = entry->counters;
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(ecl_stats_shared->lock);
	return entry != NULL;
}

static bool
realm_metric(const char *column, const char *realm_id, double *out)
{
	EclRealmCounters c;

	/* a realm that has not run anything yet reads as zeros */
	(void) ecl_stats_read_realm(realm_id, &c);

	if (strcmp(column, "policies_executed") == 0)
		*out = (double) c.executed;
	else if (strcmp(column, "passed") == 0)
		*out = (double) c.passed;
	else if (strcmp(column, "denied") == 0)
		*out = (double) c.denied;
	else if (strcmp(column, "success_rate") == 0)
	{
		if (!ecl_stats_ratio(c.passed, c.executed, out))
			*out = 0.0;
	}
	else if (strcmp(column, "gas_consumed") == 0)
		*out = (double) c.gas;
	else if (strcmp(column, "mana_consumed") == 0)
		*out = (double) c.mana;
	else if (strcmp(column, "crossing_policies") == 0)
		*out = (double) c.crossing_policies;
	else
		return false;
	return true;
}

/* get_metric(name): the current database's numbers only */
bool
ecl_stats_metric(const char *name, const char *realm_id, double *out)
{
	EclDatabaseCounters c;

	if (ecl_stats_shared == NULL || name == NULL)
		return false;

	if (strncmp(name, "realm.", 6) == 0)
	{
		if (realm_id == NULL || realm_id[0] == '\0')
			return false;
		return realm_metric(name + 6, realm_id, out);
	}

	(void) ecl_stats_read_database(MyDatabaseId, &c);
	for (int i = 0; i < ECL_GC_COUNT; i++)
	{
		if (strcmp(name, global_counter_names[i]) == 0)
		{
			*out = (double) ecl_stats_shown(&c, i);
			return true;
		}
	}
	return derived_metric(name, &c, out);
}

/* ---------------------------------------------------------------------
 * Reset
 * ---------------------------------------------------------------------
 */

static void
zero_database(EclDatabaseEntry *e, TimestampTz now)
{
	for (int i = 0; i < ECL_GC_COUNT; i++)
		pg_atomic_write_u64(&e->global[i], 0);
	for (int k = 0; k < ECL_KIND_COUNT; k++)
		for (int c = 0; c < ECL_KC_COUNT; c++)
			pg_atomic_write_u64(&e->by_kind[k][c], 0);
	e->stats_reset = now;
}

/*
 * Remove the realm and policy rows of dbid (InvalidOid: of every database).
 * Every key starts with its dbid.  Caller holds the lock exclusively.
 */
static void
remove_rows(HTAB *table, Oid dbid)
{
	HASH_SEQ_STATUS seq;
	void	   *entry;

	hash_seq_init(&seq, table);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (!OidIsValid(dbid) || *(const Oid *) entry == dbid)
			hash_search(table, entry, HASH_REMOVE, NULL);
	}
}

/*
 * Zero the current database's counters, drop its realm and policy rows and
 * stamp its reset time; with all_databases, every database's.  A database
 * that no longer exists loses its row altogether then.
 */
void
ecl_stats_reset(bool all_databases)
{
	Oid		   *gone = NULL;
	int			ngone = 0;
	TimestampTz now = GetCurrentTimestamp();

	Assert(ecl_stats_shared != NULL);
	/* this session's runs so far happened before the reset: zero them too */
	ecl_stats_flush_pending();

	if (all_databases)
	{
		HASH_SEQ_STATUS seq;
		EclDatabaseEntry *e;
		Oid		   *dbids;
		int			n = 0;

		/*
		 * Which rows belong to dropped databases: looked up in the catalog
		 * before the exclusive lock is taken, since a catalog lookup may
		 * block or fail.
		 */
		LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
		dbids = palloc(Max(hash_get_num_entries(ecl_stats_databases), 1) * sizeof(Oid));
		hash_seq_init(&seq, ecl_stats_databases);
		while ((e = hash_seq_search(&seq)) != NULL)
			dbids[n++] = e->dbid;
		LWLockRelease(ecl_stats_shared->lock);
		gone = palloc(Max(n, 1) * sizeof(Oid));
		for (int i = 0; i < n; i++)
			if (!SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(dbids[i])))
				gone[ngone++] = dbids[i];
		pfree(dbids);
	}

	LWLockAcquire(ecl_stats_shared->lock, LW_EXCLUSIVE);
	if (all_databases)
	{
		HASH_SEQ_STATUS seq;
		EclDatabaseEntry *e;

		for (int i = 0; i < ngone; i++)
			hash_search(ecl_stats_databases, &gone[i], HASH_REMOVE, NULL);
		hash_seq_init(&seq, ecl_stats_databases);
		while ((e = hash_seq_search(&seq)) != NULL)
			zero_database(e, now);
		remove_rows(ecl_stats_realms, InvalidOid);
		remove_rows(ecl_stats_policies, InvalidOid);
		remove_rows(ecl_stats_versions, InvalidOid);
	}
	else
	{
		EclDatabaseEntry *e = ecl_stats_enter_database(MyDatabaseId);

		if (e != NULL)
			zero_database(e, now);
		remove_rows(ecl_stats_realms, MyDatabaseId);
		remove_rows(ecl_stats_policies, MyDatabaseId);
		remove_rows(ecl_stats_versions, MyDatabaseId);
	}
	LWLockRelease(ecl_stats_shared->lock);
	if (gone != NULL)
		pfree(gone);
}
