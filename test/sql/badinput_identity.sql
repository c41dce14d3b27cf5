--
-- Bad input to the identity functions (docs/sql-api.md, "The table host"; docs/sql-api.md, "Errors"): did:key helpers,
-- generate_identity, issue_credential, verify_credential, has_credential,
-- current_did, bind_role and unbind_role with NULLs, empty strings, huge and
-- malformed DIDs and keys, unknown names.  The backend stays up.
--
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(left(r, 60), 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || left(SQLERRM, 140);
END
$$;

-- --------------------------------------------------------- did:key helpers
SELECT ecl.did_key_public_key(NULL) IS NULL AS null_did_gives_null,
	   ecl.did_key_from_public_key(NULL) IS NULL AS null_key_gives_null;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('')$$) AS empty_did;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:key:')$$) AS no_multibase;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:key:z')$$) AS no_bytes;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:key:m' || repeat('A', 46))$$) AS base64_multibase;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:key:z0OIl')$$) AS not_base58;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:key:z' || repeat('1', 100))$$) AS leading_zeros;
SELECT pg_temp.try($$SELECT left(ecl.did_key_public_key('did:key:z' || repeat('2', 1000000))::text, 60)$$)
	AS one_mb_did;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:web:example.com')$$) AS other_method;
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('DID:KEY:z6Mk')$$) AS upper_case_prefix;
-- a did:key with another multicodec (secp256k1, 0xe7 0x01) is not Ed25519
SELECT pg_temp.try($$SELECT ecl.did_key_public_key('did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme')$$)
	AS secp256k1_did;
SELECT pg_temp.try($$SELECT ecl.did_key_from_public_key('')$$) AS empty_key;
SELECT pg_temp.try($$SELECT ecl.did_key_from_public_key('\x00')$$) AS one_byte_key;
SELECT pg_temp.try($$SELECT ecl.did_key_from_public_key(decode(repeat('00', 33), 'hex'))$$) AS key_33_bytes;
SELECT pg_temp.try($$SELECT ecl.did_key_from_public_key(decode(repeat('ff', 1000000), 'hex'))$$) AS key_one_mb;
-- round trip of the all-zero and all-ff keys
SELECT ecl.did_key_public_key(ecl.did_key_from_public_key(decode(repeat('00', 32), 'hex')))
		= decode(repeat('00', 32), 'hex') AS zero_key_round_trip,
	   ecl.did_key_public_key(ecl.did_key_from_public_key(decode(repeat('ff', 32), 'hex')))
		= decode(repeat('ff', 32), 'hex') AS ff_key_round_trip;

-- --------------------------------------------------------- credentials
CREATE TEMP TABLE ids_before AS SELECT did FROM ecl.identities;
SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT did AS subject FROM ecl.generate_identity() \gset
SELECT pg_temp.try($$SELECT ecl.issue_credential(NULL, 's', 'did:x', '\x00')$$) AS null_subject;
SELECT pg_temp.try($$SELECT ecl.issue_credential('did:x', NULL, 'did:x', '\x00')$$) AS null_schema;
SELECT pg_temp.try($$SELECT ecl.issue_credential('did:x', 's', NULL, '\x00')$$) AS null_issuer;
SELECT pg_temp.try($$SELECT ecl.issue_credential('did:x', 's', 'did:x', NULL)$$) AS null_secret_key;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, 's', %L, '\x00')$$, :'subject', :'issuer'))
	AS short_secret_key;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, 's', %L, %L::bytea || '\x00')$$,
		:'subject', :'issuer', :'issuer_sk')) AS long_secret_key;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, '', %L, %L)$$, :'subject', :'issuer', :'issuer_sk'))
	AS empty_schema;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential('did:regress:nobody', 's', %L, %L)$$, :'issuer', :'issuer_sk'))
	AS unknown_subject;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, 's', 'did:regress:nobody', %L)$$, :'subject', :'issuer_sk'))
	AS unknown_issuer;
-- the secret key of another identity than the issuer's
SELECT regexp_replace(pg_temp.try(format(
		$$SELECT ecl.issue_credential(%L, 's', %L, secret_key) FROM ecl.generate_identity()$$,
		:'subject', :'issuer')), 'did:key:z\w+', 'did:key:(issuer)') AS foreign_secret_key;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, 's', %L, %L, '-infinity') > 0$$,
		:'subject', :'issuer', :'issuer_sk')) AS expires_minus_infinity;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, 's', %L, %L, 'infinity') > 0$$,
		:'subject', :'issuer', :'issuer_sk')) AS expires_infinity;
SELECT pg_temp.try(format($$SELECT ecl.issue_credential(%L, repeat('s', 100000), %L, %L) > 0$$,
		:'subject', :'issuer', :'issuer_sk')) AS schema_100k_chars;
SELECT ecl.verify_credential(NULL) IS NULL AS verify_null;
SELECT pg_temp.try($$SELECT ecl.verify_credential(-1)$$) AS verify_negative_id;
SELECT pg_temp.try($$SELECT ecl.verify_credential(9223372036854775807)$$) AS verify_huge_id;
SELECT ecl.has_credential(NULL, 's') IS NULL AS has_null_did;
SELECT pg_temp.try($$SELECT ecl.has_credential('', '')$$) AS has_empty;
SELECT pg_temp.try(format($$SELECT ecl.has_credential(%L, repeat('s', 100000))$$, :'subject')) AS has_long_schema;
SELECT pg_temp.try($$SELECT ecl.has_credential(repeat('d', 1000000), 's')$$) AS has_one_mb_did;

-- ---------------------------------------------------- roles and their DIDs
SELECT pg_temp.try($$SELECT ecl.bind_role(NULL, 'did:x')$$) AS bind_null_role;
SELECT pg_temp.try($$SELECT ecl.bind_role('', 'did:x')$$) AS bind_empty_role;
SELECT pg_temp.try(format($$SELECT ecl.bind_role(repeat('r', 1000), %L)$$, :'subject')) AS bind_long_role;
SELECT pg_temp.try($$SELECT ecl.bind_role(current_user, '')$$) AS bind_empty_did;
SELECT pg_temp.try($$SELECT ecl.unbind_role(NULL)$$) AS unbind_null;
SELECT pg_temp.try($$SELECT ecl.unbind_role('regress_no_such_role')$$) AS unbind_unknown;
SELECT pg_temp.try($$SELECT ecl.current_did()$$) AS current_did_unbound;

-- identities with odd DIDs are refused by the table's checks
SELECT pg_temp.try($$INSERT INTO ecl.identities (did) VALUES ('') RETURNING did$$) AS empty_identity;
SELECT pg_temp.try($$INSERT INTO ecl.identities (did, public_key) VALUES ('did:regress:k', '\x00') RETURNING did$$)
	AS short_public_key;
SELECT pg_temp.try(format($$INSERT INTO ecl.identities (did, public_key) VALUES (%L, decode(repeat('00', 32), 'hex'))
	RETURNING did$$, :'subject')) AS did_key_with_other_key;

-- clean up (credentials go with their subject and issuer)
DELETE FROM ecl.identities WHERE did NOT IN (SELECT did FROM ids_before);
DROP TABLE ids_before;

SELECT 1 AS backend_alive;
