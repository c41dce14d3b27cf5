/*
 * rate_limit.c — per-DID mana accounts in shared memory (see rate_limit.h).
 *
 * A bounded shared hash of ECL_RATE_LIMIT_ACCOUNTS accounts under one
 * LWLock: shared mode plus the account's spinlock to charge an existing
 * account, exclusive only to open a new one.  When the table is full, the
 * accounts that have regenerated to full are dropped first — a dropped
 * full account and a new one are the same, so nothing is lost; if none is
 * full, the 5% that were charged longest ago are dropped (they get a full
 * account again on their next run, which only errs on the lenient side).
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "ecl_pg.h"
#include "rate_limit.h"

#define ECL_RATE_LIMIT_TRANCHE "ecl_rate_limit"
#define ECL_DID_LEN 128			/* bytes kept of a DID, with the NUL */
#define ECL_RATE_EVICT_PERCENT 5

typedef struct ManaKey
{
	uint64		did_hash;		/* of the full DID */
	char		did[ECL_DID_LEN];	/* clipped */
} ManaKey;

typedef struct ManaAccount
{
	ManaKey		key;			/* must be first */
	slock_t		mutex;
	double		mana;			/* balance at 'updated' */
	TimestampTz updated;
	double		max_mana;		/* limits of the last charge's reliability */
	double		regen;
} ManaAccount;

typedef struct RateLimitShared
{
	LWLock	   *lock;
} RateLimitShared;

static RateLimitShared *rl_shared = NULL;
static HTAB *rl_accounts = NULL;

PG_FUNCTION_INFO_V1(ecl_rate_limit_reset);
PG_FUNCTION_INFO_V1(ecl_rate_limit_accounts);

static double
clamp_reliability(double r)
{
	if (isnan(r) || r < 0.0)
		return 0.0;
	return r > 1.0 ? 1.0 : r;
}

double
ecl_rate_limit_max_mana(double reliability)
{
	return 10000.0 * (1.0 + 100.0 * clamp_reliability(reliability));
}

double
ecl_rate_limit_regen_per_second(double reliability)
{
	return 100.0 * (1.0 + 10.0 * clamp_reliability(reliability));
}

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
rate_limit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(RateLimitShared)),
									hash_estimate_size(ECL_RATE_LIMIT_ACCOUNTS,
													   sizeof(ManaAccount))));
	RequestNamedLWLockTranche(ECL_RATE_LIMIT_TRANCHE, 1);
}

static void
rate_limit_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rl_shared = ShmemInitStruct("ecl_rate_limit", sizeof(RateLimitShared),
								&found);
	if (!found)
		rl_shared->lock = &(GetNamedLWLockTranche(ECL_RATE_LIMIT_TRANCHE))->lock;

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(ManaKey);
	info.entrysize = sizeof(ManaAccount);
	rl_accounts = ShmemInitHash("ecl_rate_limit accounts",
								ECL_RATE_LIMIT_ACCOUNTS, ECL_RATE_LIMIT_ACCOUNTS,
								&info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

void
ecl_rate_limit_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rate_limit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rate_limit_shmem_startup;
}

bool
ecl_rate_limit_available(void)
{
	return rl_shared != NULL;
}

static void
require_available(void)
{
	if (rl_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ecl rate limiting is not available"),
				 errhint("add ecl to shared_preload_libraries and restart the server")));
}

static void
make_key(ManaKey *key, const char *did)
{
	int			len = strlen(did);

	memset(key, 0, sizeof(*key));
	key->did_hash = hash_bytes_extended((const unsigned char *) did, len, 0);
	if (len >= ECL_DID_LEN)
		len = pg_mbcliplen(did, len, ECL_DID_LEN - 1);
	memcpy(key->did, did, len);
}

/* The balance at 'now': regenerated since the last update, capped at max. */
static double
balance_at(const ManaAccount *a, TimestampTz now)
{
	double		mana = a->mana;

	if (now > a->updated)
		mana += a->regen * (double) (now - a->updated) / 1000000.0;
	return Min(mana, a->max_mana);
}

typedef struct IdleAccount
{
	ManaAccount *account;
	TimestampTz updated;
} IdleAccount;

static int
compare_idle(const void *a, const void *b)
{
	TimestampTz ta = ((const IdleAccount *) a)->updated;
	TimestampTz tb = ((const IdleAccount *) b)->updated;

	return (ta > tb) - (ta < tb);
}

/* Make room for one account; the lock is held exclusively. */
static void
evict_accounts(TimestampTz now)
{
	long		n = hash_get_num_entries(rl_accounts);
	long		i = 0;
	long		removed = 0;
	IdleAccount *idle;
	HASH_SEQ_STATUS seq;
	ManaAccount *a;

	idle = palloc(Max(n, 1) * sizeof(IdleAccount));
	hash_seq_init(&seq, rl_accounts);
	while ((a = hash_seq_search(&seq)) != NULL)
	{
		if (balance_at(a, now) >= a->max_mana)
		{
			hash_search(rl_accounts, &a->key, HASH_REMOVE, NULL);
			removed++;
		}
		else if (i < n)
		{
			idle[i].account = a;
			idle[i].updated = a->updated;
			i++;
		}
	}
	if (removed == 0 && i > 0)
	{
		long		victims = Max(1, i * ECL_RATE_EVICT_PERCENT / 100);

		qsort(idle, i, sizeof(IdleAccount), compare_idle);
		for (long j = 0; j < victims; j++)
			hash_search(rl_accounts, &idle[j].account->key, HASH_REMOVE, NULL);
	}
	pfree(idle);
}

bool
ecl_rate_limit_charge(const char *did, double reliability, int64 mana,
					  double *retry_after_seconds)
{
	ManaKey		key;
	ManaAccount *a;
	TimestampTz now;
	double		max_mana = ecl_rate_limit_max_mana(reliability);
	double		regen = ecl_rate_limit_regen_per_second(reliability);
	double		cost = (double) Max(mana, 0);
	double		balance;
	bool		paid;

	if (retry_after_seconds)
		*retry_after_seconds = 0.0;
	if (rl_shared == NULL || did == NULL)
		return true;

	make_key(&key, did);
	now = GetCurrentTimestamp();

	LWLockAcquire(rl_shared->lock, LW_SHARED);
	a = hash_search(rl_accounts, &key, HASH_FIND, NULL);
	if (a == NULL)
	{
		bool		found;

		LWLockRelease(rl_shared->lock);
		LWLockAcquire(rl_shared->lock, LW_EXCLUSIVE);
		a = hash_search(rl_accounts, &key, HASH_FIND, NULL);
		if (a == NULL)
		{
			if (hash_get_num_entries(rl_accounts) >= ECL_RATE_LIMIT_ACCOUNTS)
				evict_accounts(now);
			a = hash_search(rl_accounts, &key, HASH_ENTER_NULL, &found);
			if (a == NULL)
			{
				/* no room even after eviction: do not block the run */
				LWLockRelease(rl_shared->lock);
				return true;
			}
			SpinLockInit(&a->mutex);
			a->mana = max_mana;	/* a new account starts full */
			a->updated = now;
			a->max_mana = max_mana;
			a->regen = regen;
		}
	}

	SpinLockAcquire(&a->mutex);
	/* regenerate at the rate of the reliability the DID had until now */
	balance = balance_at(a, now);
	if (now > a->updated)
		a->updated = now;
	/* then apply the current reliability's limits */
	a->max_mana = max_mana;
	a->regen = regen;
	balance = Min(balance, max_mana);

	paid = (cost <= balance);
	if (paid)
		balance -= cost;
	a->mana = balance;
	SpinLockRelease(&a->mutex);
	LWLockRelease(rl_shared->lock);

	if (!paid && retry_after_seconds)
		*retry_after_seconds = (cost > max_mana) ? -1.0 : (cost - balance) / regen;
	return paid;
}

/*
 * ecl.rate_limit_reset(did text DEFAULT NULL) RETURNS bigint
 * Forget one DID's account (it starts full again) or, for NULL, all of them.
 * Returns the number of accounts removed.
 */
Datum
ecl_rate_limit_reset(PG_FUNCTION_ARGS)
{
	int64		removed = 0;

	require_available();
	LWLockAcquire(rl_shared->lock, LW_EXCLUSIVE);
	if (PG_ARGISNULL(0))
	{
		HASH_SEQ_STATUS seq;
		ManaAccount *a;

		hash_seq_init(&seq, rl_accounts);
		while ((a = hash_seq_search(&seq)) != NULL)
		{
			hash_search(rl_accounts, &a->key, HASH_REMOVE, NULL);
			removed++;
		}
	}
	else
	{
		char	   *did = text_to_cstring(PG_GETARG_TEXT_PP(0));
		ManaKey		key;
		bool		found;

		make_key(&key, did);
		hash_search(rl_accounts, &key, HASH_REMOVE, &found);
		removed = found ? 1 : 0;
	}
	LWLockRelease(rl_shared->lock);
	PG_RETURN_INT64(removed);
}

/*
 * ecl.rate_limit_accounts() RETURNS SETOF (did, mana, max_mana,
 * regen_per_second, updated_at): the balances as of now.
 */
Datum
ecl_rate_limit_accounts(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	HASH_SEQ_STATUS seq;
	ManaAccount *a;
	TimestampTz now = GetCurrentTimestamp();

	require_available();
	store = ecl_begin_materialized_srf(fcinfo, &tupdesc);

	LWLockAcquire(rl_shared->lock, LW_SHARED);
	hash_seq_init(&seq, rl_accounts);
	while ((a = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		ManaAccount copy;

		SpinLockAcquire(&a->mutex);
		copy = *a;
		SpinLockRelease(&a->mutex);

		values[0] = CStringGetTextDatum(copy.key.did);
		values[1] = Float8GetDatum(balance_at(&copy, now));
		values[2] = Float8GetDatum(copy.max_mana);
		values[3] = Float8GetDatum(copy.regen);
		values[4] = TimestampTzGetDatum(copy.updated);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	LWLockRelease(rl_shared->lock);
	return (Datum) 0;
}
