/*
 * rate_limit.h — per-DID mana accounts in shared memory (docs/sql-api.md, "Registered policies", the
 * reference ManaManager), used by the runner when ecl.rate_limit is on.
 *
 * Each DID has an account with
 *     max           = 10000 × (1 + 100·R)   mana
 *     regeneration  =   100 × (1 +  10·R)   mana per second
 * where R is the DID's reliability in [0, 1].  A new account starts full;
 * it regenerates by wall-clock time elapsed since its last charge, up to
 * max.  Needs shared_preload_libraries = 'ecl' (the memory is requested by
 * ecl_rate_limit_init); without it ecl.rate_limit cannot be turned on (its check
 * hook in ecl.c).  What a charge is — per run, or once per statement for
 * ecl.check / ecl.allowed — is the runner's business (charge_rate_limit).
 */
#ifndef ECL_RATE_LIMIT_H
#define ECL_RATE_LIMIT_H

#include "postgres.h"

/* accounts kept in shared memory; when full, idle accounts are dropped */
#define ECL_RATE_LIMIT_ACCOUNTS 10000

/*
 * Deduct mana from did's account.  Returns true when paid (or when rate
 * limiting is not available: no preload).  Returns false, deducting
 * nothing, when the account holds less than mana; *retry_after_seconds
 * (if not NULL) is then the time until it will hold enough, or -1 when
 * mana exceeds the account's maximum and can never be paid.
 */
bool		ecl_rate_limit_charge(const char *did, double reliability,
								  int64 mana, double *retry_after_seconds);

/* true when the accounts exist (the library was preloaded) */
bool		ecl_rate_limit_available(void);

/* account limits for reliability R (clamped to [0, 1]) */
double		ecl_rate_limit_max_mana(double reliability);
double		ecl_rate_limit_regen_per_second(double reliability);

/*
 * _PG_init: install the accounts' shared-memory hooks (does nothing unless
 * ecl is being loaded through shared_preload_libraries)
 */
void		ecl_rate_limit_init(void);

#endif							/* ECL_RATE_LIMIT_H */
