--
-- The table host's lookups against real rows (docs/sql-api.md, "The table host"): load_trust with its
-- realm -> global -> zero fallback, has_credential (expiry, revocation, bad
-- signature, unsigned), resolve_did (revoked), get_balance, get_timestamp,
-- get_metric, and the per-statement memo.  Every run goes through
-- ecl.run_policy / ecl.check.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES
	('did:regress:hl-alice'), ('did:regress:hl-bob'), ('did:regress:hl-carol'),
	('did:regress:hl-revoked');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:regress:hl-revoked';
INSERT INTO ecl.realms (realm_id) VALUES ('hl-realm'), ('hl-other');

-- ------------------------------------------------------------------ trust
-- alice: a row in hl-realm and a global row; bob: only a global row;
-- carol: none.
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:hl-alice', 'hl-realm', 0.9, 0.8, 0.7, 0.6, 0.5, 0.4),
	('did:regress:hl-alice', '',         0.1, 0.1, 0.1, 0.1, 0.1, 0.1),
	('did:regress:hl-bob',   '',         0.25, 0.5, 0.75, 1, 0, 0.5);

SELECT ecl.register_policy('hl_trust',
	'policy hl_trust { return [trust.r, trust.i, trust.c, trust.p, trust.v, trust.omega] }') IS NOT NULL AS registered;
SELECT ecl.register_policy('hl_trust_of',
	'policy hl_trust_of { return trust_norm(load_trust(who)) }') IS NOT NULL AS registered;

-- realm row, global row in a realm without a row, global row without a realm
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-alice', 'hl-realm')).value AS alice_in_realm;
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-alice', 'hl-other')).value AS alice_elsewhere;
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-alice', NULL)).value AS alice_no_realm;
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-bob', 'hl-realm')).value AS bob_global;
-- no row at all, an unknown DID, no caller: the zero vector
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-carol', 'hl-realm')).value AS carol_zero;
SELECT (ecl.run_policy('hl_trust', 'did:regress:nobody', 'hl-realm')).value AS unknown_zero;
SELECT (ecl.run_policy('hl_trust', NULL, 'hl-realm')).value AS no_caller_zero;
-- load_trust of another DID uses the run's realm too
SELECT (ecl.run_policy('hl_trust_of', NULL, 'hl-realm', '{"who": "did:regress:hl-alice"}')).value AS alice_norm_in_realm,
	   (ecl.run_policy('hl_trust_of', NULL, 'hl-other', '{"who": "did:regress:hl-alice"}')).value AS alice_norm_global;

-- a change is seen by the next statement
UPDATE ecl.trust SET r = 0.95 WHERE did = 'did:regress:hl-alice' AND realm_id = 'hl-realm';
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-alice', 'hl-realm')).value->0 AS alice_r_updated;
DELETE FROM ecl.trust WHERE did = 'did:regress:hl-alice' AND realm_id = 'hl-realm';
SELECT (ecl.run_policy('hl_trust', 'did:regress:hl-alice', 'hl-realm')).value->0 AS alice_r_falls_back;

-- ------------------------------------------------------------ credentials
SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT ecl.register_policy('hl_cred',
	'policy hl_cred { return has_credential(caller, schema) }') IS NOT NULL AS registered;

SELECT ecl.issue_credential('did:regress:hl-alice', 'kyc', :'issuer', :'issuer_sk') AS kyc \gset
SELECT ecl.issue_credential('did:regress:hl-alice', 'expired', :'issuer', :'issuer_sk',
							now() - interval '1 hour') AS expired \gset
SELECT ecl.issue_credential('did:regress:hl-alice', 'expiring', :'issuer', :'issuer_sk',
							now() + interval '1 day') AS expiring \gset
SELECT ecl.issue_credential('did:regress:hl-alice', 'revoked', :'issuer', :'issuer_sk') AS revoked \gset
UPDATE ecl.credentials SET revoked_at = now() - interval '1 minute' WHERE id = :revoked;
SELECT ecl.issue_credential('did:regress:hl-alice', 'tampered', :'issuer', :'issuer_sk') AS tampered \gset
-- flip one byte of the signature: it no longer verifies
UPDATE ecl.credentials
   SET signature = set_byte(signature, 0, (get_byte(signature, 0) + 1) % 256)
 WHERE id = :tampered;
-- an unsigned credential entered by an administrator counts when valid
INSERT INTO ecl.credentials (subject_did, schema) VALUES ('did:regress:hl-alice', 'manual');

SELECT s AS schema,
	   (ecl.run_policy('hl_cred', 'did:regress:hl-alice', 'hl-realm', jsonb_build_object('schema', s))).value AS has_it
  FROM unnest(ARRAY['kyc', 'expired', 'expiring', 'revoked', 'tampered', 'manual', 'never-issued']) AS s;
-- another subject does not have alice's credential
SELECT (ecl.run_policy('hl_cred', 'did:regress:hl-bob', 'hl-realm', '{"schema": "kyc"}')).value AS bob_kyc;
-- revoking it takes effect from the next statement
UPDATE ecl.credentials SET revoked_at = now() WHERE id = :kyc;
SELECT (ecl.run_policy('hl_cred', 'did:regress:hl-alice', 'hl-realm', '{"schema": "kyc"}')).value AS kyc_after_revocation;

-- ------------------------------------------------------ resolve_did, balance
SELECT ecl.register_policy('hl_resolve',
	'policy hl_resolve { return resolve_did(who) }') IS NOT NULL AS registered;
SELECT w AS who, (ecl.run_policy('hl_resolve', NULL, NULL, jsonb_build_object('who', w))).value AS resolves
  FROM unnest(ARRAY['did:regress:hl-alice', 'did:regress:hl-revoked', 'did:regress:unregistered']) AS w;
-- short-circuit: an unknown DID makes one host call, not two
SELECT ecl.register_policy('hl_resolve_trust',
	'policy hl_resolve_trust { return resolve_did(who) && who.trust.r > 0.05 }') IS NOT NULL AS registered;
SELECT w AS who, (ecl.run_policy('hl_resolve_trust', NULL, 'hl-realm', jsonb_build_object('who', w))).value AS trusted
  FROM unnest(ARRAY['did:regress:hl-alice', 'did:regress:unregistered']) AS w;

INSERT INTO ecl.balances (did, amount) VALUES ('did:regress:hl-alice', 1250.5), ('did:regress:hl-bob', -3);
SELECT ecl.register_policy('hl_balance',
	'policy hl_balance { return get_balance(caller) }') IS NOT NULL AS registered;
SELECT c AS caller, (ecl.run_policy('hl_balance', c, NULL)).value AS balance
  FROM unnest(ARRAY['did:regress:hl-alice', 'did:regress:hl-bob', 'did:regress:hl-carol']) AS c;

-- -------------------------------------------------- timestamp and metrics
SELECT ecl.register_policy('hl_time',
	'policy hl_time { return get_timestamp() }') IS NOT NULL AS registered;
BEGIN;
SELECT (ecl.run_policy('hl_time', NULL, NULL)).value::float8
	   = extract(epoch FROM transaction_timestamp())::float8 AS is_transaction_start;
SELECT pg_sleep(0.01);
SELECT (ecl.run_policy('hl_time', NULL, NULL)).value::float8
	   = extract(epoch FROM transaction_timestamp())::float8 AS same_in_transaction;
COMMIT;

SELECT ecl.register_policy('hl_metric',
	'policy hl_metric { return [get_metric("no_such_metric"), get_metric("policies_executed") > 0] }') IS NOT NULL AS registered;
SELECT (ecl.run_policy('hl_metric', NULL, 'hl-realm')).value AS metrics;

-- ------------------------------------------------------ per-statement memo
-- 60 evaluations with 3 distinct callers read ecl.trust 3 times; the next
-- statement reads it afresh (pg_stat_xact_* counts this transaction's scans).
SELECT ecl.register_policy('hl_memo',
	'policy hl_memo { require trust.r > 0.2, "low"; return has_credential(caller, "kyc") || true }') IS NOT NULL AS registered;
BEGIN;
SELECT seq_scan + coalesce(idx_scan, 0) AS trust_scans_before
  FROM pg_stat_xact_user_tables WHERE relid = 'ecl.trust'::regclass \gset
SELECT count(*) FILTER (WHERE ecl.check('hl_memo', c, 'hl-realm')) AS passed,
	   count(*) AS evaluations
  FROM generate_series(1, 20) AS n,
	   unnest(ARRAY['did:regress:hl-alice', 'did:regress:hl-bob', 'did:regress:hl-carol']) AS c;
SELECT seq_scan + coalesce(idx_scan, 0) - :trust_scans_before AS trust_scans_one_statement
  FROM pg_stat_xact_user_tables WHERE relid = 'ecl.trust'::regclass;
SELECT count(*) FILTER (WHERE ecl.check('hl_memo', 'did:regress:hl-bob', 'hl-realm')) AS passed
  FROM generate_series(1, 20);
SELECT seq_scan + coalesce(idx_scan, 0) - :trust_scans_before AS trust_scans_two_statements
  FROM pg_stat_xact_user_tables WHERE relid = 'ecl.trust'::regclass;
COMMIT;

-- a change made by an earlier command of the same transaction is seen
BEGIN;
SELECT ecl.check('hl_memo', 'did:regress:hl-bob', 'hl-realm') AS bob_before;
UPDATE ecl.trust SET r = 0.1 WHERE did = 'did:regress:hl-bob';
SELECT ecl.check('hl_memo', 'did:regress:hl-bob', 'hl-realm') AS bob_after;
ROLLBACK;

-- ------------------------------------------------------------------ clean up
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['hl_trust', 'hl_trust_of', 'hl_cred',
	'hl_resolve', 'hl_resolve_trust', 'hl_balance', 'hl_time', 'hl_metric', 'hl_memo']) AS p;
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:hl-%' OR did = :'issuer';
DELETE FROM ecl.realms WHERE realm_id IN ('hl-realm', 'hl-other');
