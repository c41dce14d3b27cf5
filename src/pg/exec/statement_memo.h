/*
 * statement_memo.h — the per-statement memo of the table host's lookups
 * (docs/sql-api.md, "The table host": "within one SQL statement repeated identical lookups are
 * answered from a per-statement cache").
 *
 * An RLS policy or a WHERE clause calling ecl.check evaluates one policy per
 * row; the callers and schemas repeat.  The memo answers a repeated
 * load_trust / has_credential / resolve_did / get_balance, an identity's
 * row (revoked or not) and the caller's DID (ecl.current_did, ecl.allowed)
 * without SPI.
 *
 * Validity: one statement.  Every access compares a stamp of
 * (local transaction id, statement start time, command id) with the stamp
 * the entries were made under and clears the memo when it differs; the
 * command id makes a later command of the same statement (a volatile
 * function that changed the tables and then called a policy) see fresh data.
 * The runner keeps whole read-only runs here too (ECL_MEMO_RUN, in a table
 * of its own; see runner.c for when a run may be memoized).
 * Size is bounded: each table is cleared when it reaches ECL_MEMO_MAX
 * entries.
 * It lives in a backend-lifetime memory context.  Store reads are never
 * memoized (a run may write the store and read it back).
 */
#ifndef ECL_STATEMENT_MEMO_H
#define ECL_STATEMENT_MEMO_H

#include "postgres.h"

#include "ecl/value.h"

#define ECL_MEMO_MAX 100000

typedef enum EclMemoKind
{
	ECL_MEMO_TRUST = 1,			/* (did, realm) -> trust */
	ECL_MEMO_CREDENTIAL,		/* (did, schema) -> flag */
	ECL_MEMO_BALANCE,			/* (did, "") -> number */
	ECL_MEMO_ROLE_DID,			/* (role oid as text, "") or ("claims",
								 * claims text) -> the caller's DID or NULL
								 * (identity.c, token.c) */
	ECL_MEMO_IDENTITY,			/* (did, "") -> flag = registered, identity */
	ECL_MEMO_RUN,				/* (run key, input bytes) -> flag = passed,
								 * gas, mana: a whole read-only run (runner.c) */
	ECL_MEMO_CHARGE,			/* (policy, caller) -> run.mana_used = mana the
								 * rate limiter charged in this statement;
								 * grows (a put replaces it) */
	ECL_MEMO_WARNED,			/* (policy, "") -> a run's error was hidden
								 * and warned about (ecl.rls_errors = deny) */
	ECL_MEMO_SHADOW_LOGGED,		/* (policy, "") -> a disagreement of the
								 * shadow candidate was logged (runner.c) */
	ECL_MEMO_BULK				/* (kind byte, b) -> a whole answer set of
								 * (kind, b): misses counted, loaded or not
								 * (ecl_memo_bulk_*) */
} EclMemoKind;

typedef struct EclMemoValue
{
	bool		flag;			/* CREDENTIAL; IDENTITY: registered; RUN: passed */
	union
	{
		ecl_trust	trust;		/* TRUST */
		double		number;		/* BALANCE */
		char	   *text;		/* ROLE_DID: copied into the memo; NULL = none */
		struct
		{
			int64		gas_used;
			int64		mana_used;
		}			run;		/* RUN; CHARGE: mana_used */
		struct
		{
			bool		revoked;
			bool		has_key;
			uint8		public_key[32];
		}			identity;	/* IDENTITY: its ecl.identities row */
	}			u;
} EclMemoValue;

/* true and *out filled when (kind, a, b) is memoized for this statement */
bool		ecl_memo_get(EclMemoKind kind, const char *a, size_t alen,
						 const char *b, size_t blen, EclMemoValue *out);
/* a key already held keeps its value, except ECL_MEMO_CHARGE (replaced) */
void		ecl_memo_put(EclMemoKind kind, const char *a, size_t alen,
						 const char *b, size_t blen, const EclMemoValue *val);

/*
 * Whole answer sets.  A statement that asks one question (the trust of a
 * realm, a credential schema) for many distinct DIDs — ecl.check over a
 * table whose rows name their callers — pays one index probe per DID; past
 * a point, reading every answer at once in one scan is cheaper.  A host
 * reports each miss of (kind, b) to ecl_memo_bulk_miss:
 *   ECL_MEMO_BULK_NOT_YET   look the key up as usual;
 *   ECL_MEMO_BULK_DUE       (once per statement and (kind, b), at the
 *                           ECL_MEMO_BULK_AFTER-th miss) read the whole set
 *                           now if it can: put an entry for every key whose
 *                           answer is not the default, then call
 *                           ecl_memo_bulk_loaded;
 *   ECL_MEMO_BULK_COMPLETE  the set was loaded: the key's answer is the
 *                           default.
 * The marker lives in the memo itself, so it ends with the statement, and a
 * memo that had to be cleared while the set was being put (it was full)
 * gets no marker: the loaded entries are gone, so a miss proves nothing.
 */
#define ECL_MEMO_BULK_AFTER 128

typedef enum EclMemoBulk
{
	ECL_MEMO_BULK_NOT_YET,
	ECL_MEMO_BULK_DUE,
	ECL_MEMO_BULK_COMPLETE
} EclMemoBulk;

EclMemoBulk ecl_memo_bulk_miss(EclMemoKind kind, const char *b, size_t blen);
/* clears_before: ecl_memo_clears() read before the first entry was put */
void		ecl_memo_bulk_loaded(EclMemoKind kind, const char *b, size_t blen,
								 uint64 clears_before);
/* how often the memo was cleared because it was full, ever */
uint64		ecl_memo_clears(void);
/* room for n more entries before the memo is full */
bool		ecl_memo_has_room(int64 n);

/*
 * Forget everything memoized in this statement (the next access starts
 * afresh): ecl.authenticate changes the caller within a statement.
 */
void		ecl_memo_invalidate(void);

/*
 * A number that stays the same exactly while the memo's statement does (a
 * new statement stamp or ecl_memo_invalidate moves it): what is derived
 * for a statement beside the memo is valid while it is unchanged.
 */
uint64		ecl_memo_generation(void);

/* entries currently held (for tests and debugging) */
int64		ecl_memo_size(void);


#endif							/* ECL_STATEMENT_MEMO_H */
