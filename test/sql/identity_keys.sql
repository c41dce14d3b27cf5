--
-- did:key encoding and Ed25519 identity generation (docs/sql-api.md, "The table host").
-- Generated keys are random: the checks assert properties, not values.
--
\set VERBOSITY terse

-- A published did:key test vector: the Ed25519 key pair of the all-zero seed.
SELECT encode(ecl.did_key_public_key(
		'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp'), 'hex') AS public_key;
SELECT ecl.did_key_from_public_key(
		'\x3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29') AS did;

-- edge keys encode and decode back
SELECT k, ecl.did_key_from_public_key(k) AS did,
	   ecl.did_key_public_key(ecl.did_key_from_public_key(k)) = k AS round_trip
  FROM (VALUES ('\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
			   ('\xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'::bytea)) AS v(k);

-- what decoding rejects
SELECT ecl.did_key_public_key('did:web:example.com');
SELECT ecl.did_key_public_key('did:key:');
SELECT ecl.did_key_public_key('did:key:f6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp');
SELECT ecl.did_key_public_key('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0');
SELECT ecl.did_key_public_key('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpp');
SELECT ecl.did_key_public_key('did:key:z16MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp');
SELECT ecl.did_key_public_key('did:key:z6Mk');
-- a secp256k1 did:key (multicodec 0xe7, 33-byte key) is not an Ed25519 key
SELECT ecl.did_key_public_key('did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme');
-- one character less decodes to 34 bytes with the wrong multicodec header
SELECT ecl.did_key_public_key('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW');
SELECT ecl.did_key_from_public_key('\x0102');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.did_key_public_key(NULL) IS NULL AS strict_null;

-- generate_identity: one row, a did:key that encodes the returned public key
CREATE TEMP TABLE gen AS SELECT * FROM ecl.generate_identity();
SELECT count(*) AS rows,
	   bool_and(length(did) = 56) AS did_length_56,
	   bool_and(did LIKE 'did:key:z6Mk%') AS did_key_prefix,
	   bool_and(octet_length(public_key) = 32) AS public_key_32_bytes,
	   bool_and(octet_length(secret_key) = 64) AS secret_key_64_bytes,
	   bool_and(ecl.did_key_public_key(did) = public_key) AS did_encodes_key,
	   bool_and(ecl.did_key_from_public_key(public_key) = did) AS key_encodes_did,
	   -- libsodium secret keys are seed || public key
	   bool_and(substring(secret_key FROM 33) = public_key) AS secret_key_holds_public_key
  FROM gen;

-- it is registered with its public key, not revoked; the secret is not stored
SELECT i.public_key = g.public_key AS registered_key, i.revoked
  FROM gen g JOIN ecl.identities i USING (did);
SELECT count(*) AS rows_holding_the_seed
  FROM ecl.identities i, gen g
 WHERE position(encode(substring(g.secret_key FOR 32), 'hex') IN row_to_json(i)::text) > 0;

-- every call makes a new key pair
INSERT INTO gen SELECT * FROM ecl.generate_identity();
SELECT count(DISTINCT did) AS distinct_dids, count(DISTINCT secret_key) AS distinct_secrets
  FROM gen;

-- a did:key row must carry the key its DID encodes (or none)
INSERT INTO ecl.identities (did, public_key)
	SELECT 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp', public_key
	  FROM gen LIMIT 1;
INSERT INTO ecl.identities (did, public_key)
	VALUES ('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp',
			'\x3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29'),
		   ('did:web:keyless.example', NULL);
INSERT INTO ecl.identities (did, public_key) VALUES ('did:web:short-key.example', '\x01');
INSERT INTO ecl.identities (did) VALUES ('');
SELECT did, revoked FROM ecl.identities
 WHERE did IN ('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp',
			   'did:web:keyless.example')
 ORDER BY did;

-- clean up
DELETE FROM ecl.identities WHERE did IN (SELECT did FROM gen)
	OR did IN ('did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp',
			   'did:web:keyless.example');
DROP TABLE gen;
