/*
 * identity.h — identities, role bindings and credentials (docs/sql-api.md, "The table host"; docs/security.md).
 *
 * The SQL functions live in identity.c (generate_identity, current_did,
 * did:key helpers) and credential.c (issue_credential, verify_credential).
 * This header is what the table host, the gateway and the snapshot use.
 *
 * Every lookup here runs as the owner of schema ecl (the superuser that
 * installed the extension), after the caller's role has been captured, so a
 * caller needs no privileges on ecl.* tables: the functions that call these
 * decide who may ask.  Queries qualify every table and operator, so the
 * caller's search_path cannot redirect them.
 */
#ifndef ECL_IDENTITY_H
#define ECL_IDENTITY_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* sodium_init() once per backend; raises an error if libsodium cannot start */
void		ecl_sodium_init(void);

/*
 * The DID bound to a role in ecl.role_dids, palloc'd in CurrentMemoryContext,
 * or NULL when the role has none.  Not filtered for revocation: callers that
 * need an identity use ecl_current_did().
 */
char	   *ecl_did_for_role(Oid roleid);

/*
 * The caller's identity: the DID authenticated in this transaction
 * (token.h), else the trusted claim, else the DID bound to the current user
 * (GetUserId(): inside RLS checks and views this is the role whose
 * privileges apply); NULL when there is none or when that DID is revoked.
 * The role binding is memoized for the statement (an RLS policy asks once
 * per row); palloc'd in CurrentMemoryContext.  ecl.current_did() and
 * ecl.allowed both use it.
 */
char	   *ecl_current_did(void);

/*
 * A DID's row of ecl.identities.  Memoized for the statement (RLS and WHERE
 * clauses meet the same few DIDs on every row), read by a direct index probe
 * under the statement's snapshot.  A revoked identity loses everything: its
 * trust, credentials (as subject and as issuer), balance, resolution, role
 * binding and crossings; every host lookup asks ecl_did_revoked first.
 */
typedef struct EclIdentityFacts
{
	bool		registered;
	bool		revoked;
	bool		has_key;
	uint8		public_key[32]; /* Ed25519, when has_key */
} EclIdentityFacts;

void		ecl_identity_facts(const char *did, size_t len, EclIdentityFacts *out);
bool		ecl_did_revoked(const char *did, size_t len);
/*
 * This statement is about to ask ecl_did_revoked for many DIDs (a scan of a
 * whole table): read the set of revoked identities on the next question
 * instead of after REVOKED_SET_AFTER probes.
 */
void		ecl_did_revoked_many_ahead(void);

/*
 * Credential validity (docs/sql-api.md, "The table host"): the credential exists, neither its subject
 * nor its issuer is a revoked identity (signed or not), it is not revoked
 * (revoked_at is NULL or later than now), is not expired (expires_at is NULL
 * or later than now), and if it carries a signature, that signature verifies
 * with the issuer's Ed25519 key (identities.public_key, or for a did:key
 * issuer without a stored key, the key the DID encodes) and the issuer is
 * not revoked.  A bad signature makes the credential count as absent.
 *
 * Pass the transaction start time (GetCurrentTransactionStartTimestamp()) as
 * now so that one transaction sees one time.
 *
 * ecl_credential_valid_for: true when any credential of subject with that
 * schema is valid.  Uses a prepared plan kept for the backend's lifetime.
 */
bool		ecl_credential_valid_for(const char *subject, const char *schema,
									 TimestampTz now);
bool		ecl_credential_valid(int64 credential_id, TimestampTz now);

/*
 * Every subject that ecl_credential_valid_for(subject, schema, now) would
 * answer true for, each reported at least once, read in one scan of
 * ecl.credentials under the statement's snapshot (statement_memo.h, "whole
 * answer sets").  False when the table holds more than max_rows rows (then
 * fn may have seen some subjects, not all).
 */
typedef void (*EclCredentialHolderFn) (const char *subject, size_t len, void *arg);

bool		ecl_credential_holders(const char *schema, TimestampTz now,
								   double max_rows, EclCredentialHolderFn fn,
								   void *arg);

#endif							/* ECL_IDENTITY_H */
