--
-- Signed credentials: issue, verify, expiry, revocation, tampering, wrong
-- keys (docs/sql-api.md, "The table host").  Keys are random, so DIDs and keys go into psql variables
-- and the checks print booleans.
--
\set VERBOSITY terse

SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT did AS subject, secret_key AS subject_sk FROM ecl.generate_identity() \gset
-- a fixed issuer for messages that name it: the published key pair of the
-- all-zero seed (libsodium secret key = seed || public key)
SELECT 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp' AS fixed,
	   ('\x' || repeat('00', 32) ||
		'3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29')::bytea AS fixed_sk
\gset
INSERT INTO ecl.identities (did, public_key) VALUES (:'fixed', ecl.did_key_public_key(:'fixed'));
INSERT INTO ecl.identities (did) VALUES ('did:web:alice.example');

-- known answers: signatures made outside the database with libsodium over the
-- documented message (docs/sql-api.md), e.g. for the first one
--   "ecl-credential-v1\n21:did:web:alice.example\n3:kyc\n56:<fixed>\n"
--   "1704067200000000\n-\n"
INSERT INTO ecl.credentials (subject_did, schema, issuer_did, issued_at, expires_at, signature)
VALUES ('did:web:alice.example', 'kyc', :'fixed', '2024-01-01 00:00:00+00', NULL,
		'\x1a5ba4f3c802a6406f14e807e76ee38074dba5427a5d5d3b0187af832b775ed920fb36d2a836bdd98db0be77d7a67aa6397e3debb04c1171de51ab1320322f0a'),
	   ('did:web:alice.example', 'member', :'fixed', '2024-01-01 00:00:00+00', '2100-01-01 00:00:00+00',
		'\xfca285a5bee3af8f848515117be4a5e3c8b43c82b95968bb4cbf02ecf6cf3f4cb4f304f6d8d42c64aecd214d55875d2b788365bffbbc96c5c2502680f4dade04'),
	   -- the first signature under the second credential's fields
	   ('did:web:alice.example', 'member', :'fixed', '2024-01-01 00:00:00+00', '2100-01-01 00:00:00+00',
		'\x1a5ba4f3c802a6406f14e807e76ee38074dba5427a5d5d3b0187af832b775ed920fb36d2a836bdd98db0be77d7a67aa6397e3debb04c1171de51ab1320322f0a');
SELECT schema, expires_at IS NOT NULL AS expires, ecl.verify_credential(id) AS valid
  FROM ecl.credentials WHERE subject_did = 'did:web:alice.example' ORDER BY id;

-- issue and verify
SELECT ecl.issue_credential(:'subject', 'kyc', :'issuer', :'issuer_sk') AS kyc \gset
SELECT ecl.verify_credential(:kyc) AS valid,
	   ecl.has_credential(:'subject', 'kyc') AS has_kyc,
	   ecl.has_credential(:'subject', 'kyc-level-2') AS has_other_schema,
	   ecl.has_credential(:'issuer', 'kyc') AS issuer_has_it;
SELECT subject_did = :'subject' AS subject, schema, issuer_did = :'issuer' AS issuer,
	   octet_length(signature) AS signature_bytes, expires_at, revoked_at
  FROM ecl.credentials WHERE id = :kyc;

-- issued_at is the transaction time
BEGIN;
SELECT ecl.issue_credential(:'subject', 'same-time', :'issuer', :'issuer_sk') AS same_time \gset
SELECT issued_at = now() AS issued_at_is_now FROM ecl.credentials WHERE id = :same_time;
COMMIT;

-- expiry is checked against the transaction time
SELECT ecl.issue_credential(:'subject', 'expired', :'issuer', :'issuer_sk',
							now() - interval '1 day') AS expired \gset
SELECT ecl.issue_credential(:'subject', 'expiring', :'issuer', :'issuer_sk',
							now() + interval '1 day') AS expiring \gset
SELECT ecl.verify_credential(:expired) AS expired_valid,
	   ecl.has_credential(:'subject', 'expired') AS has_expired,
	   ecl.verify_credential(:expiring) AS expiring_valid,
	   ecl.has_credential(:'subject', 'expiring') AS has_expiring;

-- revocation: now or earlier revokes; a future revoked_at is a scheduled one
UPDATE ecl.credentials SET revoked_at = now() + interval '1 hour' WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS valid_until_scheduled_revocation;
UPDATE ecl.credentials SET revoked_at = now() WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS revoked_valid,
	   ecl.has_credential(:'subject', 'kyc') AS has_revoked;
UPDATE ecl.credentials SET revoked_at = NULL WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS valid_again;

-- tampering: every signed field counts, and a flipped signature bit too
UPDATE ecl.credentials SET signature = set_byte(signature, 10, get_byte(signature, 10) # 1)
 WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS bit_flipped_valid,
	   ecl.has_credential(:'subject', 'kyc') AS has_with_bad_signature;
UPDATE ecl.credentials SET signature = set_byte(signature, 10, get_byte(signature, 10) # 1)
 WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS flipped_back_valid;

UPDATE ecl.credentials SET schema = 'kyc-level-2' WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS schema_changed_valid,
	   ecl.has_credential(:'subject', 'kyc-level-2') AS has_forged_schema;
UPDATE ecl.credentials SET schema = 'kyc' WHERE id = :kyc;

UPDATE ecl.credentials SET expires_at = expires_at + interval '1 year' WHERE id = :expiring;
SELECT ecl.verify_credential(:expiring) AS expiry_extended_valid;
UPDATE ecl.credentials SET expires_at = NULL WHERE id = :expired;
SELECT ecl.verify_credential(:expired) AS expiry_removed_valid;

UPDATE ecl.credentials SET issued_at = issued_at - interval '1 microsecond' WHERE id = :same_time;
SELECT ecl.verify_credential(:same_time) AS issued_at_moved_valid;

UPDATE ecl.credentials SET subject_did = :'issuer' WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS subject_changed_valid,
	   ecl.has_credential(:'issuer', 'kyc') AS issuer_has_stolen_kyc;
UPDATE ecl.credentials SET subject_did = :'subject' WHERE id = :kyc;

-- a signature claimed by another issuer does not verify
UPDATE ecl.credentials SET issuer_did = :'subject' WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS other_issuer_valid;
UPDATE ecl.credentials SET issuer_did = NULL WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS signed_without_issuer_valid;
UPDATE ecl.credentials SET issuer_did = :'issuer' WHERE id = :kyc;
SELECT ecl.verify_credential(:kyc) AS restored_valid;

-- the issuer's key: the stored one, else the one its did:key encodes
UPDATE ecl.identities SET public_key = NULL WHERE did = :'issuer';
SELECT ecl.verify_credential(:kyc) AS valid_with_key_from_did;
-- a revoked issuer vouches for nothing
UPDATE ecl.identities SET revoked = true WHERE did = :'issuer';
SELECT ecl.verify_credential(:kyc) AS revoked_issuer_valid,
	   ecl.has_credential(:'subject', 'kyc') AS has_from_revoked_issuer;
UPDATE ecl.identities SET revoked = false WHERE did = :'issuer';
UPDATE ecl.identities SET revoked = true WHERE did = :'fixed';
SELECT ecl.issue_credential(:'subject', 'kyc', :'fixed', :'fixed_sk');
\echo :LAST_ERROR_SQLSTATE
UPDATE ecl.identities SET revoked = false WHERE did = :'fixed';

-- an issuer that is not a did:key verifies with its registered key
SELECT did AS web_key_source, public_key AS web_pk, secret_key AS web_sk
  FROM ecl.generate_identity() \gset
INSERT INTO ecl.identities (did, public_key) VALUES ('did:web:issuer.example', :'web_pk');
SELECT ecl.issue_credential(:'subject', 'member', 'did:web:issuer.example', :'web_sk') AS web \gset
SELECT ecl.verify_credential(:web) AS web_issuer_valid;
UPDATE ecl.identities SET public_key = NULL WHERE did = 'did:web:issuer.example';
SELECT ecl.verify_credential(:web) AS web_issuer_without_key_valid;
SELECT ecl.issue_credential(:'subject', 'member', 'did:web:issuer.example', :'web_sk');
\echo :LAST_ERROR_SQLSTATE

-- unsigned credentials (no issuer, no signature) are trusted as stored
INSERT INTO ecl.credentials (subject_did, schema) VALUES (:'subject', 'unsigned')
	RETURNING id AS unsigned \gset
SELECT ecl.verify_credential(:unsigned) AS unsigned_valid,
	   ecl.has_credential(:'subject', 'unsigned') AS has_unsigned;

-- several credentials of one schema: one valid one is enough
SELECT ecl.issue_credential(:'subject', 'multi', :'issuer', :'issuer_sk',
							now() - interval '1 minute') IS NOT NULL AS issued_expired;
SELECT ecl.has_credential(:'subject', 'multi') AS has_only_expired;
SELECT ecl.issue_credential(:'subject', 'multi', :'issuer', :'issuer_sk') IS NOT NULL AS issued_valid;
SELECT ecl.has_credential(:'subject', 'multi') AS has_one_valid;

-- an expiry of 'infinity' never expires
SELECT ecl.issue_credential(:'subject', 'forever', :'issuer', :'issuer_sk', 'infinity')
	AS forever \gset
SELECT ecl.verify_credential(:forever) AS infinite_expiry_valid;
-- (in one statement a STABLE function does not see the row just inserted)
SELECT ecl.verify_credential(ecl.issue_credential(:'subject', 'forever', :'issuer',
		:'issuer_sk')) AS same_statement_sees_row;

-- unknown ids and NULL
SELECT ecl.verify_credential(-1) AS unknown_id_valid,
	   ecl.verify_credential(NULL) IS NULL AS null_id,
	   ecl.has_credential('did:key:unknown', 'kyc') AS unknown_did_has;

-- errors of issue_credential
-- the subject's own key is not the issuer's
SELECT ecl.issue_credential(:'subject', 'kyc', :'fixed', :'subject_sk');
\echo :LAST_ERROR_SQLSTATE
-- a secret key whose public half was replaced: the seed still decides
SELECT ecl.issue_credential(:'subject', 'kyc', :'fixed',
		substring(:'subject_sk'::bytea FOR 32) || substring(:'fixed_sk'::bytea FROM 33));
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(:'subject', 'kyc', :'issuer', '\x0102'::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(:'subject', 'kyc', 'did:key:nobody', :'issuer_sk');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential('did:key:nobody', 'kyc', :'issuer', :'issuer_sk');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(:'subject', '', :'issuer', :'issuer_sk');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(NULL, 'kyc', :'issuer', :'issuer_sk');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(:'subject', NULL, :'issuer', :'issuer_sk');
SELECT ecl.issue_credential(:'subject', 'kyc', NULL, :'issuer_sk');
SELECT ecl.issue_credential(:'subject', 'kyc', :'issuer', NULL);
-- the last years PostgreSQL can store lie beyond signed Unix microseconds
SELECT ecl.issue_credential(:'subject', 'kyc', :'issuer', :'issuer_sk', '294270-01-01 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
-- a failed issue leaves no row
SELECT count(*) AS credentials_of_subject FROM ecl.credentials WHERE subject_did = :'subject';

-- deleting the issuer leaves its signatures unverifiable; deleting the
-- subject removes its credentials
DELETE FROM ecl.identities WHERE did = :'issuer';
SELECT ecl.verify_credential(:expiring) AS valid_after_issuer_deleted,
	   (SELECT issuer_did IS NULL FROM ecl.credentials WHERE id = :expiring) AS issuer_cleared;
DELETE FROM ecl.identities WHERE did IN (:'subject', 'did:web:issuer.example', :'web_key_source',
										 :'fixed', 'did:web:alice.example');
SELECT count(*) AS credentials_left FROM ecl.credentials
 WHERE id IN (:kyc, :expired, :expiring, :same_time, :web, :unsigned);

-- One statement over many subjects meets the same few issuers again and
-- again; each issuer's row is read once (memoized for the statement) and
-- every subject must still get its own issuer's answer: three issuers, one
-- of them revoked, one with some signatures tampered with (subjects 10-19).
CREATE TEMP TABLE ic_issuers (n int, did text, secret_key bytea);
INSERT INTO ic_issuers SELECT 1, did, secret_key FROM ecl.generate_identity();
INSERT INTO ic_issuers SELECT 2, did, secret_key FROM ecl.generate_identity();
INSERT INTO ic_issuers SELECT 3, did, secret_key FROM ecl.generate_identity();
SELECT count(DISTINCT did) AS distinct_issuers FROM ic_issuers;
INSERT INTO ecl.identities (did)
	SELECT 'did:regress:ic-subject-' || s FROM generate_series(1, 30) s;
SELECT count(ecl.issue_credential('did:regress:ic-subject-' || s, 'member', i.did, i.secret_key)) AS issued
  FROM generate_series(1, 30) s JOIN ic_issuers i ON i.n = s % 3 + 1;
UPDATE ecl.identities SET revoked = true WHERE did = (SELECT did FROM ic_issuers WHERE n = 2);
UPDATE ecl.credentials SET signature = set_byte(signature, 0, (get_byte(signature, 0) + 1) % 256)
 WHERE issuer_did = (SELECT did FROM ic_issuers WHERE n = 3) AND subject_did LIKE '%-1_';
SELECT ecl.register_policy('ic_member', 'policy ic_member { return has_credential(caller, "member") }') IS NOT NULL AS registered;
SELECT s % 3 + 1 AS issuer, count(*) FILTER (WHERE ecl.check('ic_member', 'did:regress:ic-subject-' || s, NULL)) AS valid,
	   count(*) AS subjects
  FROM generate_series(1, 30) s, generate_series(1, 2) rep
 GROUP BY 1 ORDER BY 1;
SELECT ecl.drop_policy('ic_member');
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:ic-subject-%' OR did IN (SELECT did FROM ic_issuers);
