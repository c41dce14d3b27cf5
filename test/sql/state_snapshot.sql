--
-- ecl.snapshot (docs/host-and-state.md): the documented shape (format version 1), what
-- each section holds, the dids filter, exact numbers, credential validity
-- decided with the rules of docs/sql-api.md, "The table host", metrics = the get_metric names, and
-- who may call it.  Random DIDs are bound with \gset and never printed.
--
\set VERBOSITY terse

SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT did AS alice FROM ecl.generate_identity() \gset
INSERT INTO ecl.identities (did) VALUES ('did:regress:sn-bob'), ('did:regress:sn-carol');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:regress:sn-carol';
INSERT INTO ecl.realms (realm_id) VALUES ('sn-realm');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	(:'alice', 'sn-realm', 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 1),
	(:'alice', '', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
	('did:regress:sn-bob', '', 0.123456789012345678, 0, 0, 0, 0, 0),
	('did:regress:sn-bob', 'elsewhere', 1, 1, 1, 1, 1, 1);
INSERT INTO ecl.balances (did, amount) VALUES
	(:'alice', 1e-300), ('did:regress:sn-bob', 12345678901234567);
SELECT ecl.issue_credential(:'alice', 'kyc', :'issuer', :'issuer_sk') IS NOT NULL AS kyc;
SELECT ecl.issue_credential(:'alice', 'old', :'issuer', :'issuer_sk',
							now() - interval '1 minute') IS NOT NULL AS old;
SELECT ecl.issue_credential(:'alice', 'gone', :'issuer', :'issuer_sk') AS gone \gset
UPDATE ecl.credentials SET revoked_at = now() WHERE id = :gone;
SELECT ecl.issue_credential(:'alice', 'forged', :'issuer', :'issuer_sk') AS forged \gset
UPDATE ecl.credentials SET signature = set_byte(signature, 0, get_byte(signature, 0) # 128)
 WHERE id = :forged;
-- a second, valid credential of an otherwise expired schema makes it valid
SELECT ecl.issue_credential('did:regress:sn-bob', 'kyc', :'issuer', :'issuer_sk',
							now() - interval '1 minute') IS NOT NULL AS bob_old_kyc;
INSERT INTO ecl.credentials (subject_did, schema) VALUES ('did:regress:sn-bob', 'kyc');
INSERT INTO ecl.store (realm_id, store_name, owner_did, key, value) VALUES
	('sn-realm', 'cfg', '', 'limit', '100'),
	('sn-realm', 'cfg', '', 'doc', '{"a": [1, 2.5, null]}'),
	('sn-realm', 'other', '', 'x', '"y"'),
	('sn-realm', 'prefs', :'alice', 'theme', '"dark"'),
	('sn-realm', 'prefs', 'did:regress:sn-bob', 'theme', '"light"'),
	('sn-realm', 'notes', 'did:regress:sn-unregistered', 'n', '1'),
	('elsewhere', 'cfg', '', 'limit', '999');

-- ------------------------------------------------------------- the shape
SELECT ecl.snapshot('sn-realm') AS snap \gset
SELECT array(SELECT jsonb_object_keys(:'snap'::jsonb) ORDER BY 1) AS top_level_keys;
SELECT s -> 'version' AS version, s -> 'realm' AS realm,
	   jsonb_typeof(s -> 'taken_at') AS taken_at,
	   jsonb_typeof(s -> 'timestamp') AS "timestamp"
  FROM (SELECT :'snap'::jsonb AS s) x;
-- one transaction, one time: the same value get_timestamp gives its runs
BEGIN;
SELECT (ecl.snapshot('sn-realm') -> 'timestamp')::float8
	   = extract(epoch FROM transaction_timestamp())::float8 AS same_in_transaction,
	   ecl.snapshot('sn-realm') -> 'timestamp' = ecl.snapshot(NULL) -> 'timestamp' AS stable;
COMMIT;

-- identities: every registered DID (the revoked one too)
SELECT s -> 'identities' -> :'alice' AS alice,
	   s -> 'identities' -> 'did:regress:sn-bob' AS bob,
	   s -> 'identities' -> 'did:regress:sn-carol' AS carol,
	   s -> 'identities' ? 'did:regress:sn-unregistered' AS unregistered_listed
  FROM (SELECT :'snap'::jsonb AS s) x;

-- trust: the realm's vector and the global one; another realm's row is not
-- there; numbers are exact (0.30000000000000004, 0.12345678901234568)
SELECT s -> 'trust' -> :'alice' AS alice,
	   s -> 'trust' -> 'did:regress:sn-bob' AS bob,
	   s -> 'trust' ? 'did:regress:sn-carol' AS carol_has_trust
  FROM (SELECT :'snap'::jsonb AS s) x;
SELECT (s #>> ARRAY['trust', 'did:regress:sn-bob', 'global', '0'])::float8
	   = (SELECT r FROM ecl.trust WHERE did = 'did:regress:sn-bob' AND realm_id = '') AS bob_r_exact,
	   (s #>> ARRAY['balances', :'alice'])::float8 = 1e-300 AS tiny_balance_exact,
	   s -> 'balances' -> 'did:regress:sn-bob' AS big_balance
  FROM (SELECT :'snap'::jsonb AS s) x;

-- credentials: validity decided as the table host decides it
SELECT s -> 'credentials' -> :'alice' AS alice,
	   s -> 'credentials' -> 'did:regress:sn-bob' AS bob
  FROM (SELECT :'snap'::jsonb AS s) x;
SELECT bool_and((:'snap'::jsonb -> 'credentials' -> c.subject_did -> c.schema)::boolean
				= ecl.has_credential(c.subject_did, c.schema)) AS agrees_with_has_credential
  FROM (SELECT DISTINCT subject_did, schema FROM ecl.credentials) c;

-- store: the realm's shared stores and everyone's personal entries
SELECT jsonb_pretty(s -> 'store' -> 'shared') AS shared
  FROM (SELECT :'snap'::jsonb AS s) x;
SELECT s -> 'store' -> 'personal' -> :'alice' AS alice,
	   s -> 'store' -> 'personal' -> 'did:regress:sn-bob' AS bob,
	   s -> 'store' -> 'personal' -> 'did:regress:sn-unregistered' AS unregistered
  FROM (SELECT :'snap'::jsonb AS s) x;

-- metrics: exactly the get_metric names (the view columns but datname,
-- stats_reset and realm_id, realm.*, and total_time_us), each equal to what a policy reads
SELECT array(SELECT jsonb_object_keys(:'snap'::jsonb -> 'metrics') ORDER BY 1) AS metric_names;
SELECT (SELECT count(*) FROM jsonb_object_keys(:'snap'::jsonb -> 'metrics'))
	 = (SELECT count(*) FROM pg_attribute
		 WHERE attrelid IN ('ecl.stat_eclvm'::regclass, 'ecl.stat_eclvm_realms'::regclass)
		   AND attnum > 0 AND attname NOT IN ('datname', 'stats_reset', 'realm_id')) + 1
	   AS one_per_view_column;
SELECT ecl.register_policy('sn_metric', 'policy sn_metric { return get_metric(name) }') IS NOT NULL AS registered;
SELECT bool_and(ecl.snapshot('sn-realm') -> 'metrics' -> m
				= (ecl.run_policy('sn_metric', NULL, 'sn-realm', jsonb_build_object('name', m))).value)
	   AS every_metric_agrees, count(*) AS metrics
  FROM (SELECT m FROM jsonb_object_keys(:'snap'::jsonb -> 'metrics') m ORDER BY m) x;

-- ------------------------------------------------------- other realms, dids
-- without a realm: no realm vectors, no realm.* metrics, the '' stores
SELECT s -> 'realm' AS realm, s -> 'trust' -> :'alice' -> 'realm' AS alice_realm_vector,
	   s -> 'store' -> 'shared' AS shared,
	   (SELECT count(*) FROM jsonb_object_keys(s -> 'metrics') k WHERE k LIKE 'realm.%') AS realm_metrics
  FROM (SELECT ecl.snapshot(NULL) AS s) x;
SELECT s -> 'trust' -> 'did:regress:sn-bob' AS bob_in_elsewhere,
	   s -> 'store' -> 'shared' AS shared
  FROM (SELECT ecl.snapshot('elsewhere') AS s) x;

-- dids: only those DIDs' identities, trust, credentials, balances and
-- personal entries; shared stores and metrics stay
SELECT array(SELECT jsonb_object_keys(s -> 'identities')) AS identities,
	   array(SELECT jsonb_object_keys(s -> 'trust')) AS trust,
	   array(SELECT jsonb_object_keys(s -> 'credentials')) AS credentials,
	   array(SELECT jsonb_object_keys(s -> 'balances')) AS balances,
	   array(SELECT jsonb_object_keys(s -> 'store' -> 'personal')) AS personal,
	   s -> 'store' -> 'shared' ? 'cfg' AS shared_kept,
	   s -> 'metrics' <> '{}' AS metrics_kept
  FROM (SELECT ecl.snapshot('sn-realm', ARRAY['did:regress:sn-bob', 'did:regress:nobody']) AS s) x;
SELECT ecl.snapshot('sn-realm', ARRAY[]::text[]) -> 'identities' AS no_dids;

-- an empty database part gives empty objects, never nulls
SELECT s -> 'identities' AS identities, s -> 'store' AS store
  FROM (SELECT ecl.snapshot('sn-realm', ARRAY['did:regress:nobody']) AS s) x;

-- ------------------------------------------------------------ privileges
CREATE ROLE regress_sn_exec IN ROLE ecl_executor;
CREATE ROLE regress_sn_admin IN ROLE ecl_admin;
CREATE ROLE regress_sn_nobody;
SET ROLE regress_sn_exec;
SELECT ecl.snapshot('sn-realm') -> 'version' AS executor_may;
RESET ROLE;
SET ROLE regress_sn_admin;
SELECT ecl.snapshot('sn-realm') -> 'version' AS admin_may;
RESET ROLE;
SET ROLE regress_sn_nobody;
SELECT ecl.snapshot('sn-realm');
RESET ROLE;
DROP ROLE regress_sn_exec, regress_sn_admin, regress_sn_nobody;

-- ------------------------------------------------------------------ cleanup
SELECT ecl.drop_policy('sn_metric');
DELETE FROM ecl.store WHERE realm_id IN ('sn-realm', 'elsewhere');
DELETE FROM ecl.identities WHERE did IN (:'alice', :'issuer', 'did:regress:sn-bob',
										 'did:regress:sn-carol');
DELETE FROM ecl.realms WHERE realm_id = 'sn-realm';
