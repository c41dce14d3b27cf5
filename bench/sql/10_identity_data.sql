-- 10_identity_data.sql — the fixed data of B1 and B3 (deterministic shape).
--
-- 10,000 subject identities did:bench:00001..10000 (no keys: they do not
-- issue anything) and 20 issuers with real Ed25519 keys from
-- ecl.generate_identity().  The issuers' keys are random, everything else
-- is a function of the subject number i, so every run has the same answer
-- set (the report checks that all peers agree on it):
--   trust   a global row for every subject, r = (i*7919 mod 1000)/1000;
--           a realm 'bench' row for every 5th subject (takes precedence)
--   kyc     issued to 3 of 4 subjects, signed by issuer (i mod 20)+1;
--           1 in 20 expired, 1 in 40 of those re-issued valid,
--           1 in 20 revoked afterwards, issuer 20 revoked as an identity
--   email   issued to every 3rd subject (a schema the policy does not ask for)
\set ON_ERROR_STOP 1

INSERT INTO ecl.realms (realm_id, name, min_trust) VALUES ('bench', 'benchmark realm', 0);

-- one call per issuer (a LATERAL call without outer reference runs once)
CREATE TABLE bench.issuers (n int PRIMARY KEY, did text, public_key bytea, secret_key bytea);
DO $$
BEGIN
	FOR k IN 1..20 LOOP
		INSERT INTO bench.issuers SELECT k, g.* FROM ecl.generate_identity() g;
	END LOOP;
END
$$;

INSERT INTO ecl.identities (did)
	SELECT bench.did(i) FROM generate_series(1, 10000) i;

INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
	SELECT bench.did(i), '', ((i * 7919) % 1000) / 1000.0, 0.5, 0.5, 0.5, 0.5, 0.5
	  FROM generate_series(1, 10000) i;
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
	SELECT bench.did(i), 'bench', ((i * 104729) % 1000) / 1000.0, 0.6, 0.6, 0.6, 0.6, 0.6
	  FROM generate_series(1, 10000) i
	 WHERE i % 5 = 0;

\echo '   signing kyc credentials (Ed25519) ...'
SELECT count(ecl.issue_credential(bench.did(s.i), 'kyc', iss.did, iss.secret_key,
		CASE WHEN s.i % 20 = 1 THEN now() - interval '1 day'
			 WHEN s.i % 2 = 0 THEN now() + interval '10 years'
			 ELSE NULL END)) AS kyc_issued
  FROM generate_series(1, 10000) s(i)
  JOIN bench.issuers iss ON iss.n = (s.i % 20) + 1
 WHERE s.i % 4 <> 0;

-- a second, valid kyc credential for some holders of an expired one
SELECT count(ecl.issue_credential(bench.did(s.i), 'kyc', iss.did, iss.secret_key,
		now() + interval '10 years')) AS kyc_reissued
  FROM generate_series(1, 10000) s(i)
  JOIN bench.issuers iss ON iss.n = ((s.i + 7) % 20) + 1
 WHERE s.i % 40 = 1;

SELECT count(ecl.issue_credential(bench.did(s.i), 'email', iss.did, iss.secret_key, NULL)) AS email_issued
  FROM generate_series(1, 10000) s(i)
  JOIN bench.issuers iss ON iss.n = (s.i % 20) + 1
 WHERE s.i % 3 = 0;

UPDATE ecl.credentials SET revoked_at = now() - interval '1 hour'
 WHERE schema = 'kyc' AND id % 20 = 7;
UPDATE ecl.identities SET revoked = true
 WHERE did = (SELECT did FROM bench.issuers WHERE n = 20);

-- 200,000 rows, 20 per subject, interleaved (7919 is prime to 10,000)
CREATE TABLE bench.docs (
	id		int PRIMARY KEY,
	owner	text NOT NULL,
	body	text NOT NULL
);
INSERT INTO bench.docs
	SELECT g, bench.did(((g * 7919) % 10000) + 1), md5(g::text)
	  FROM generate_series(1, 200000) g;

VACUUM ANALYZE ecl.identities, ecl.trust, ecl.credentials, bench.docs;
