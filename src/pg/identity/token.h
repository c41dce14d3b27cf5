/*
 * token.h — the caller's identity per request: signed tokens (compact JWS,
 * EdDSA over Ed25519) verified by ecl.authenticate, made by ecl.sign_token,
 * and trusted claims set by an authenticator in front of the database.
 *
 * ecl.authenticate(token) is the only way to set the authenticated DID; it
 * lives in this backend's memory, tagged with the local transaction id, and
 * is forgotten at commit, abort, PREPARE TRANSACTION, and when the
 * subtransaction that set it rolls back.
 *
 * Tokens with a jti are recorded in shared memory (needs
 * shared_preload_libraries = 'ecl'): a jti is accepted once per cluster and
 * DID until the token expires.  When the table is full (after dropping the
 * expired entries) a token with a jti is refused, never let through.
 */
#ifndef ECL_TOKEN_H
#define ECL_TOKEN_H

#include "postgres.h"

extern char *ecl_token_audience;		/* ecl.token_audience, default '' */
extern int	ecl_token_max_lifetime;		/* ecl.token_max_lifetime, seconds */
extern int	ecl_token_leeway;			/* ecl.token_leeway, seconds */
extern int	ecl_token_replay_capacity;	/* ecl.token_replay_capacity (postmaster) */
extern char *ecl_claims_setting;		/* ecl.claims_setting, default '' (off) */
extern char *ecl_claims_did_field;		/* ecl.claims_did_field, default 'sub' */

/*
 * Called from _PG_init after the GUCs are defined: transaction callbacks in
 * every backend, and the replay table's shared memory when preloaded.
 */
void		ecl_token_init(void);

/*
 * The first two steps of the caller's identity: the DID authenticated in
 * this transaction, else the trusted claim (when ecl.claims_setting is set
 * and the claim is present).  Returns true when one of them decided; *did is
 * then the DID (palloc'd) or NULL when the decision is "no identity" (a
 * trusted claim naming a revoked DID).  Returns false when neither applies
 * and the role binding is next.
 */
bool		ecl_token_identity(char **did);

#endif							/* ECL_TOKEN_H */
