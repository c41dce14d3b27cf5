/*
 * stats.c — ECLVM statistics in shared memory (SPEC §8).
 *
 * Layout (stats_internal.h): global and per-kind counters are atomics, so
 * recording a run costs a few atomic adds and no lock for them.  Per-realm
 * and per-policy rows live in two bounded shared hash tables of
 * ecl.max_tracked entries each, protected by one LWLock: a run takes it in
 * shared mode, finds its rows and updates them under their spinlocks; only
 * a run that needs a new row takes it exclusively to insert one.
 *
 * Eviction: when a table is full, the least-called 5% of its entries (at
 * least one) are removed before inserting, as pg_stat_statements does with
 * its least-used entries.  Removing a batch keeps inserts cheap while the
 * table is full (one sort per 5% of new rows, not one per row).  The
 * removed rows' runs stay counted in the global and per-kind counters.
 *
 * Everything here needs shared_preload_libraries = 'ecl'.  Without it the
 * record functions return at once and the SQL functions raise an error.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "ecl_pg.h"
#include "rate_limit.h"
#include "stats.h"
#include "stats_internal.h"

EclStatsShared *ecl_stats_shared = NULL;
HTAB	   *ecl_stats_realms = NULL;
HTAB	   *ecl_stats_policies = NULL;

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
 * Kind of SPEC §5 by name; NULL or anything unknown counts as custom.
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
											 sizeof(EclRealmEntry)));
	size = add_size(size, hash_estimate_size(ecl_stats_max_rows(),
											 sizeof(EclPolicyEntry)));
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
	ecl_rate_limit_shmem_request();
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
	ecl_stats_realms = NULL;
	ecl_stats_policies = NULL;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	ecl_stats_shared = ShmemInitStruct("ecl_stats", sizeof(EclStatsShared),
									   &found);
	if (!found)
	{
		ecl_stats_shared->lock = &(GetNamedLWLockTranche(ECL_STATS_TRANCHE))->lock;
		for (int i = 0; i < ECL_GC_COUNT; i++)
			pg_atomic_init_u64(&ecl_stats_shared->global[i], 0);
		for (int k = 0; k < ECL_KIND_COUNT; k++)
			for (int c = 0; c < ECL_KC_COUNT; c++)
				pg_atomic_init_u64(&ecl_stats_shared->by_kind[k][c], 0);
		pg_atomic_init_u64(&ecl_stats_shared->stats_reset,
						   (uint64) GetCurrentTimestamp());
	}

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

	ecl_rate_limit_shmem_startup();

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
make_realm_key(EclRealmKey *key, const char *realm_id)
{
	memset(key, 0, sizeof(*key));	/* HASH_BLOBS compares padding too */
	set_key_name(key->realm, &key->realm_hash, realm_id);
}

static void
make_policy_key(EclPolicyKey *key, const char *name, const char *realm_id,
				EclPolicyKind kind)
{
	memset(key, 0, sizeof(*key));
	set_key_name(key->name, &key->name_hash, name);
	set_key_name(key->realm, &key->realm_hash, realm_id);
	key->kind = (int32) kind;
}

typedef struct EvictCandidate
{
	void	   *entry;			/* its key is at offset 0 */
	int64		calls;
} EvictCandidate;

static int
compare_candidates(const void *a, const void *b)
{
	int64		ca = ((const EvictCandidate *) a)->calls;
	int64		cb = ((const EvictCandidate *) b)->calls;

	return (ca > cb) - (ca < cb);
}

/*
 * Remove the least-called ECL_EVICT_PERCENT of the entries (at least one).
 * calls_offset locates the entry's call counter.  Caller holds the lock
 * exclusively, so no one updates counters meanwhile.
 */
static void
evict_least_called(HTAB *table, Size calls_offset)
{
	long		n = hash_get_num_entries(table);
	long		victims;
	long		i = 0;
	EvictCandidate *cands;
	HASH_SEQ_STATUS seq;
	void	   *entry;

	if (n <= 0)
		return;
	cands = palloc(n * sizeof(EvictCandidate));
	hash_seq_init(&seq, table);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (i >= n)
		{
			hash_seq_term(&seq);
			break;
		}
		cands[i].entry = entry;
		cands[i].calls = *(int64 *) ((char *) entry + calls_offset);
		i++;
	}
	n = i;
	qsort(cands, n, sizeof(EvictCandidate), compare_candidates);
	victims = Max(1, n * ECL_EVICT_PERCENT / 100);
	for (i = 0; i < victims && i < n; i++)
		hash_search(table, cands[i].entry, HASH_REMOVE, NULL);
	pfree(cands);
}

EclRealmEntry *
ecl_stats_enter_realm(const EclRealmKey *key)
{
	EclRealmEntry *entry;
	bool		found;

	if (hash_get_num_entries(ecl_stats_realms) >= ecl_stats_max_rows())
		evict_least_called(ecl_stats_realms,
						   offsetof(EclRealmEntry, counters.executed));
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
		evict_least_called(ecl_stats_policies,
						   offsetof(EclPolicyEntry, counters.calls));
	entry = hash_search(ecl_stats_policies, key, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		SpinLockInit(&entry->mutex);
		memset(&entry->counters, 0, sizeof(entry->counters));
	}
	return entry;
}

/* ---------------------------------------------------------------------
 * Recording
 * ---------------------------------------------------------------------
 */

static inline void
count(EclGlobalCounter c, int64 amount)
{
	if (amount > 0)
		pg_atomic_fetch_add_u64(&ecl_stats_shared->global[c], (uint64) amount);
}

static inline void
count_kind(EclPolicyKind k, EclKindCounter c)
{
	pg_atomic_fetch_add_u64(&ecl_stats_shared->by_kind[k][c], 1);
}

/*
 * The keys of the rows a backend updated last, with their hash values.
 * Building a key (names hashed, fixed-size buffers filled) and hashing the
 * whole key for the shared table cost more than updating the counters; a
 * WHERE clause or RLS policy runs the same policy in the same realm row
 * after row, so the last few keys are kept per backend and reused when
 * the (policy, realm, kind) strings match.  Only keys are cached, never
 * pointers into shared memory (rows may be evicted or reset by others).
 */
#define KEY_CACHE_SLOTS 4

typedef struct CachedRunKeys
{
	bool		used;
	char	   *policy_name;	/* "" for NULL */
	char	   *realm_id;		/* "" for NULL */
	EclPolicyKind kind;
	EclPolicyKey pkey;
	uint32		phash;
	EclRealmKey rkey;
	uint32		rhash;
} CachedRunKeys;

static CachedRunKeys key_cache[KEY_CACHE_SLOTS];
static int	key_cache_next = 0;

static const CachedRunKeys *
run_keys(const char *policy_name, const char *realm_id, EclPolicyKind kind)
{
	CachedRunKeys *k;

	if (policy_name == NULL)
		policy_name = "";
	if (realm_id == NULL)
		realm_id = "";
	for (int i = 0; i < KEY_CACHE_SLOTS; i++)
	{
		k = &key_cache[i];
		if (k->used && k->kind == kind &&
			strcmp(k->policy_name, policy_name) == 0 &&
			strcmp(k->realm_id, realm_id) == 0)
			return k;
	}

	k = &key_cache[key_cache_next];
	key_cache_next = (key_cache_next + 1) % KEY_CACHE_SLOTS;
	if (k->used)
	{
		pfree(k->policy_name);
		pfree(k->realm_id);
	}
	k->used = false;
	k->policy_name = MemoryContextStrdup(TopMemoryContext, policy_name);
	k->realm_id = MemoryContextStrdup(TopMemoryContext, realm_id);
	k->kind = kind;
	make_policy_key(&k->pkey, policy_name, realm_id, kind);
	k->phash = get_hash_value(ecl_stats_policies, &k->pkey);
	make_realm_key(&k->rkey, realm_id);
	k->rhash = get_hash_value(ecl_stats_realms, &k->rkey);
	k->used = true;
	return k;
}

/* Update the run's per-realm and per-policy rows. */
static void
record_rows(const EclRunReport *r, EclPolicyKind kind)
{
	bool		has_realm = (r->realm_id != NULL && r->realm_id[0] != '\0');
	const CachedRunKeys *keys = run_keys(r->policy_name, r->realm_id, kind);
	const EclRealmKey *rkey = &keys->rkey;
	const EclPolicyKey *pkey = &keys->pkey;
	EclRealmEntry *realm = NULL;
	EclPolicyEntry *policy;
	int64		gas = Max(r->gas_used, 0);
	int64		mana = Max(r->mana_used, 0);
	int64		time_us = Max(r->duration_us, 0);

	LWLockAcquire(ecl_stats_shared->lock, LW_SHARED);
	if (has_realm)
		realm = hash_search_with_hash_value(ecl_stats_realms, rkey,
											keys->rhash, HASH_FIND, NULL);
	policy = hash_search_with_hash_value(ecl_stats_policies, pkey,
										 keys->phash, HASH_FIND, NULL);

	if ((has_realm && realm == NULL) || policy == NULL)
	{
		/* a new row: re-find under the exclusive lock, insert if still new */
		LWLockRelease(ecl_stats_shared->lock);
		LWLockAcquire(ecl_stats_shared->lock, LW_EXCLUSIVE);
		if (has_realm)
		{
			realm = hash_search(ecl_stats_realms, rkey, HASH_FIND, NULL);
			if (realm == NULL)
				realm = ecl_stats_enter_realm(rkey);
		}
		policy = hash_search(ecl_stats_policies, pkey, HASH_FIND, NULL);
		if (policy == NULL)
			policy = ecl_stats_enter_policy(pkey);
	}

	if (realm != NULL)
	{
		SpinLockAcquire(&realm->mutex);
		realm->counters.executed++;
		if (r->status == ECL_RUN_PASSED)
			realm->counters.passed++;
		else if (r->status == ECL_RUN_DENIED)
			realm->counters.denied++;
		realm->counters.gas += gas;
		realm->counters.mana += mana;
		if (kind == ECL_KIND_CROSSING)
			realm->counters.crossing_policies++;
		SpinLockRelease(&realm->mutex);
	}

	if (policy != NULL)
	{
		EclPolicyCounters *c = &policy->counters;

		SpinLockAcquire(&policy->mutex);
		if (c->calls == 0 || time_us < c->min_time_us)
			c->min_time_us = time_us;
		if (c->calls == 0 || time_us > c->max_time_us)
			c->max_time_us = time_us;
		c->calls++;
		if (r->status == ECL_RUN_PASSED)
			c->passed++;
		else if (r->status == ECL_RUN_DENIED)
			c->denied++;
		else
			c->errors++;
		c->total_gas += gas;
		c->total_mana += mana;
		c->total_time_us += time_us;
		SpinLockRelease(&policy->mutex);
	}

	LWLockRelease(ecl_stats_shared->lock);
}

void
ecl_stats_record_run(const EclRunReport *r)
{
	EclPolicyKind kind;

	if (!ecl_track || ecl_stats_shared == NULL || r == NULL)
		return;

	kind = kind_from_name(r->policy_type);
	count(ECL_GC_POLICIES_EXECUTED, 1);
	count_kind(kind, ECL_KC_EXECUTIONS);
	switch (r->status)
	{
		case ECL_RUN_PASSED:
			count(ECL_GC_POLICIES_PASSED, 1);
			count_kind(kind, ECL_KC_PASSED);
			break;
		case ECL_RUN_DENIED:
			count(ECL_GC_POLICIES_DENIED, 1);
			count_kind(kind, ECL_KC_DENIED);
			break;
		case ECL_RUN_OUT_OF_GAS:
			count(ECL_GC_OUT_OF_GAS_ABORTS, 1);
			count(ECL_GC_POLICY_RUNTIME_ERRORS, 1);
			count_kind(kind, ECL_KC_ERRORS);
			break;
		case ECL_RUN_RATE_LIMITED:
			count(ECL_GC_MANA_RATE_LIMITED, 1);
			count(ECL_GC_POLICY_RUNTIME_ERRORS, 1);
			count_kind(kind, ECL_KC_ERRORS);
			break;
		case ECL_RUN_ERROR:
		default:
			count(ECL_GC_POLICY_RUNTIME_ERRORS, 1);
			count_kind(kind, ECL_KC_ERRORS);
			break;
	}
	count(ECL_GC_TOTAL_GAS_CONSUMED, r->gas_used);
	count(ECL_GC_TOTAL_MANA_CONSUMED, r->mana_used);
	count(ECL_GC_TOTAL_TIME_US, r->duration_us);
	count(ECL_GC_EVENTS_EMITTED, r->events_emitted);

	record_rows(r, kind);
}

void
ecl_stats_record_compile(bool ok)
{
	if (!ecl_track || ecl_stats_shared == NULL)
		return;
	count(ok ? ECL_GC_POLICIES_COMPILED : ECL_GC_POLICY_COMPILE_ERRORS, 1);
}

/*
 * One crossing decision of the gateway (SPEC §7 step 5).  The realm is not
 * broken down here: the realms view counts the crossing policies that ran.
 */
void
ecl_stats_record_crossing(const char *realm_id, bool allowed)
{
	(void) realm_id;
	if (!ecl_track || ecl_stats_shared == NULL)
		return;
	count(ECL_GC_CROSSING_EVALUATIONS, 1);
	count(allowed ? ECL_GC_CROSSINGS_ALLOWED : ECL_GC_CROSSINGS_DENIED, 1);
}

/* ---------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------
 */

uint64
ecl_stats_global(int counter)
{
	Assert(ecl_stats_shared != NULL);
	return pg_atomic_read_u64(&ecl_stats_shared->global[counter]);
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

bool
ecl_stats_derived(const char *name, double *out)
{
	uint64		num;
	uint64		den;

	if (strcmp(name, "avg_evaluation_time_us") == 0)
	{
		num = ecl_stats_global(ECL_GC_TOTAL_TIME_US);
		den = ecl_stats_global(ECL_GC_POLICIES_EXECUTED);
	}
	else if (strcmp(name, "policy_success_rate") == 0)
	{
		num = ecl_stats_global(ECL_GC_POLICIES_PASSED);
		den = ecl_stats_global(ECL_GC_POLICIES_EXECUTED);
	}
	else if (strcmp(name, "crossing_allow_rate") == 0)
	{
		num = ecl_stats_global(ECL_GC_CROSSINGS_ALLOWED);
		den = ecl_stats_global(ECL_GC_CROSSING_EVALUATIONS);
	}
	else
		return false;

	/* a ratio without data is 0 here; the views show NULL instead */
	if (!ecl_stats_ratio(num, den, out))
		*out = 0.0;
	return true;
}

bool
ecl_stats_read_realm(const char *realm_id, EclRealmCounters *out)
{
	EclRealmKey key;
	EclRealmEntry *entry;

	memset(out, 0, sizeof(*out));
	if (ecl_stats_shared == NULL || realm_id == NULL || realm_id[0] == '\0')
		return false;
	make_realm_key(&key, realm_id);
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

bool
ecl_stats_metric(const char *name, const char *realm_id, double *out)
{
	if (ecl_stats_shared == NULL || name == NULL)
		return false;

	if (strncmp(name, "realm.", 6) == 0)
	{
		if (realm_id == NULL || realm_id[0] == '\0')
			return false;
		return realm_metric(name + 6, realm_id, out);
	}

	for (int i = 0; i < ECL_GC_COUNT; i++)
	{
		if (strcmp(name, global_counter_names[i]) == 0)
		{
			*out = (double) ecl_stats_global(i);
			return true;
		}
	}
	return ecl_stats_derived(name, out);
}

/* Zero every counter, drop every row, and stamp the reset time. */
void
ecl_stats_reset_all(void)
{
	HASH_SEQ_STATUS seq;
	void	   *entry;

	Assert(ecl_stats_shared != NULL);
	LWLockAcquire(ecl_stats_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ECL_GC_COUNT; i++)
		pg_atomic_write_u64(&ecl_stats_shared->global[i], 0);
	for (int k = 0; k < ECL_KIND_COUNT; k++)
		for (int c = 0; c < ECL_KC_COUNT; c++)
			pg_atomic_write_u64(&ecl_stats_shared->by_kind[k][c], 0);

	hash_seq_init(&seq, ecl_stats_realms);
	while ((entry = hash_seq_search(&seq)) != NULL)
		hash_search(ecl_stats_realms, entry, HASH_REMOVE, NULL);
	hash_seq_init(&seq, ecl_stats_policies);
	while ((entry = hash_seq_search(&seq)) != NULL)
		hash_search(ecl_stats_policies, entry, HASH_REMOVE, NULL);

	pg_atomic_write_u64(&ecl_stats_shared->stats_reset,
						(uint64) GetCurrentTimestamp());
	LWLockRelease(ecl_stats_shared->lock);
}
