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
	ECL_MEMO_SHADOW_LOGGED		/* (policy, "") -> a disagreement of the
								 * shadow candidate was logged (runner.c) */
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
