-- identity_signature_cache — an Ed25519 signature verified by one backend
-- is not verified again by another: a new connection (behind a pool, or a
-- parallel worker) reads the verification from shared memory.  A changed
-- signature is new bytes, so it is verified afresh.
\set VERBOSITY terse

SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
INSERT INTO ecl.identities (did) SELECT 'did:web:sc' || g FROM generate_series(1, 5) g;
CREATE TABLE sc_creds AS
	SELECT ecl.issue_credential('did:web:sc' || g, 'sc-kyc', :'issuer', :'issuer_sk') AS id
	  FROM generate_series(1, 5) g;

-- the first backend to ask verifies each signature itself
\c
CREATE FUNCTION pg_temp.counters(OUT shared_hits int8, OUT verified int8)
	AS '$libdir/ecl_test_hooks', 'ecl_test_signature_counters' LANGUAGE C;
SELECT count(*) FILTER (WHERE ecl.verify_credential(id)) AS valid FROM sc_creds;
SELECT * FROM pg_temp.counters();
-- asked again, this backend answers from its own memory
SELECT count(*) FILTER (WHERE ecl.verify_credential(id)) AS valid FROM sc_creds;
SELECT * FROM pg_temp.counters();

-- the next backend verifies nothing: the answers come from shared memory
\c
CREATE FUNCTION pg_temp.counters(OUT shared_hits int8, OUT verified int8)
	AS '$libdir/ecl_test_hooks', 'ecl_test_signature_counters' LANGUAGE C;
SELECT count(*) FILTER (WHERE ecl.verify_credential(id)) AS valid FROM sc_creds;
SELECT * FROM pg_temp.counters();

-- one signature swapped for another credential's: new bytes, verified
-- again, and found wrong
UPDATE ecl.credentials SET signature = (SELECT signature FROM ecl.credentials
										 WHERE id = (SELECT max(id) FROM sc_creds))
 WHERE id = (SELECT min(id) FROM sc_creds);
\c
CREATE FUNCTION pg_temp.counters(OUT shared_hits int8, OUT verified int8)
	AS '$libdir/ecl_test_hooks', 'ecl_test_signature_counters' LANGUAGE C;
SELECT count(*) FILTER (WHERE ecl.verify_credential(id)) AS valid FROM sc_creds;
SELECT * FROM pg_temp.counters();

DELETE FROM ecl.credentials WHERE id IN (SELECT id FROM sc_creds);
DROP TABLE sc_creds;
DELETE FROM ecl.identities WHERE did LIKE 'did:web:sc_' OR did = :'issuer';
