--
-- Policy history (docs/sql-api.md, "Registered policies"): every version in
-- ecl.policy_versions, the current one included; identical re-registration
-- is a no-op; ecl.rollback_policy makes an old version current again as a
-- new version, recompiled; unknown name or version (42704); the history
-- survives drop_policy and a new registration continues its numbering;
-- only ecl_admin may roll back or read the history (42501).
--
\set VERBOSITY terse

INSERT INTO ecl.realms (realm_id) VALUES ('pv-realm');

-- ------------------------------------------------------------ first version
SELECT ecl.register_policy('pv_limit', $ecl$
policy pv_limit {
    require amount <= 100, "amount above 100"
    return amount * 2
}
$ecl$, 'transaction', 'pv-realm') AS h1 \gset
SELECT name, version, kind, realm_id, hash = :'h1'::bytea AS hash_returned,
	   registered_by = session_user AS by_session_user,
	   registered_at <= now() AS registered_before_now
  FROM ecl.policy_versions WHERE name = 'pv_limit' ORDER BY version;

-- ------------------------------------------ identical source: nothing at all
SELECT ecl.register_policy('pv_limit', $ecl$
policy pv_limit {
    require amount <= 100, "amount above 100"
    return amount * 2
}
$ecl$, 'transaction', 'pv-realm') = :'h1'::bytea AS same_hash;
SELECT version, updated_at = created_at AS never_updated FROM ecl.policies WHERE name = 'pv_limit';
SELECT count(*) AS history_rows FROM ecl.policy_versions WHERE name = 'pv_limit';
-- a NULL realm compared with a NULL realm is identical too
SELECT ecl.register_policy('pv_norealm', 'policy p { return 1 }') = ecl.register_policy('pv_norealm', 'policy p { return 1 }') AS same_hash_no_realm;
SELECT version FROM ecl.policies WHERE name = 'pv_norealm';

-- the same source under another kind or realm is a new version
SELECT ecl.register_policy('pv_norealm', 'policy p { return 1 }', 'custom', 'pv-realm') IS NOT NULL AS realm_changed;
SELECT ecl.register_policy('pv_norealm', 'policy p { return 1 }', 'privacy', 'pv-realm') IS NOT NULL AS kind_changed;
SELECT ecl.register_policy('pv_norealm', 'policy p { return 1 }', 'privacy', NULL) IS NOT NULL AS realm_removed;
SELECT version, kind, realm_id FROM ecl.policy_versions WHERE name = 'pv_norealm' ORDER BY version;

-- ------------------------------------- changed source: bumps, keeps the old
SELECT ecl.register_policy('pv_limit', $ecl$
policy pv_limit {
    require amount <= 1000, "amount above 1000"
    return amount * 3
}
$ecl$, 'transaction', 'pv-realm') AS h2 \gset
SELECT :'h1' <> :'h2' AS new_hash;
SELECT version, hash = :'h2'::bytea AS current_hash FROM ecl.policies WHERE name = 'pv_limit';
SELECT version, hash = :'h1'::bytea AS is_h1, hash = :'h2'::bytea AS is_h2,
	   source LIKE '%above 100"%' AS old_source, source LIKE '%above 1000%' AS new_source
  FROM ecl.policy_versions WHERE name = 'pv_limit' ORDER BY version;
SELECT passed, value, message FROM ecl.run_policy('pv_limit', NULL, NULL, '{"amount": 500}');

-- a compile error stores nothing, in neither table
SELECT ecl.register_policy('pv_limit', 'policy pv_limit { return }', 'transaction', 'pv-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows FROM ecl.policy_versions WHERE name = 'pv_limit';

-- --------------------------------------------------------------- rollback
SELECT ecl.rollback_policy('pv_limit', 1) AS h3 \gset
-- a new version (3) with version 1's source, hash and behaviour
SELECT :'h3' = :'h1' AS same_hash_as_v1;
SELECT version, hash = :'h1'::bytea AS v1_hash, source LIKE '%above 100"%' AS v1_source,
	   bytecode = ecl.compile(source) AS recompiled
  FROM ecl.policies WHERE name = 'pv_limit';
SELECT passed, value, message FROM ecl.run_policy('pv_limit', NULL, NULL, '{"amount": 500}');
SELECT passed, value FROM ecl.run_policy('pv_limit', NULL, NULL, '{"amount": 21}');
SELECT version, hash = :'h1'::bytea AS v1_hash, kind, realm_id
  FROM ecl.policy_versions WHERE name = 'pv_limit' ORDER BY version;
-- rolling back to what is current is the identical-source no-op
SELECT ecl.rollback_policy('pv_limit', 3) = :'h1'::bytea AS same_hash;
SELECT ecl.rollback_policy('pv_limit', 1) = :'h1'::bytea AS same_hash;
SELECT max(version) AS latest FROM ecl.policy_versions WHERE name = 'pv_limit';
-- and back to version 2 inside a transaction that rolls back: nothing stays
BEGIN;
SELECT ecl.rollback_policy('pv_limit', 2) = :'h2'::bytea AS v2_hash;
SELECT value FROM ecl.run_policy('pv_limit', NULL, NULL, '{"amount": 500}');
ROLLBACK;
SELECT version FROM ecl.policies WHERE name = 'pv_limit';
SELECT count(*) AS history_rows FROM ecl.policy_versions WHERE name = 'pv_limit';

-- unknown name, unknown version, NULLs
SELECT ecl.rollback_policy('pv_nonesuch', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.rollback_policy('pv_limit', 99);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.rollback_policy('pv_limit', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.rollback_policy(NULL, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.rollback_policy('pv_limit', NULL);
\echo :LAST_ERROR_SQLSTATE
-- a read-only transaction is refused up front
BEGIN READ ONLY;
SELECT ecl.rollback_policy('pv_limit', 2);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- ---------------------------------------------------- drop keeps history
SELECT ecl.drop_policy('pv_limit');
SELECT count(*) AS history_rows FROM ecl.policy_versions WHERE name = 'pv_limit';
SELECT ecl.run_policy('pv_limit', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- a new registration continues the numbering
SELECT ecl.register_policy('pv_limit', 'policy pv_limit { return "new" }') IS NOT NULL AS registered;
SELECT version FROM ecl.policies WHERE name = 'pv_limit';
SELECT ecl.drop_policy('pv_limit');
-- rollback brings a dropped policy back, with its kind and realm
SELECT ecl.rollback_policy('pv_limit', 2) = :'h2'::bytea AS v2_hash;
SELECT version, kind, realm_id FROM ecl.policies WHERE name = 'pv_limit';
SELECT passed, value FROM ecl.run_policy('pv_limit', NULL, NULL, '{"amount": 500}');

-- ------------------------------------------------------------- privileges
CREATE ROLE regress_pv_admin IN ROLE ecl_admin;
CREATE ROLE regress_pv_exec IN ROLE ecl_executor;
CREATE ROLE regress_pv_nobody;
SET ROLE regress_pv_exec;
SELECT ecl.rollback_policy('pv_limit', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ecl.policy_versions;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_pv_nobody;
SELECT ecl.rollback_policy('pv_limit', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ecl.policy_versions;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- an admin may read the history and roll back; the row names the session
-- user (the login), not the role set with SET ROLE
SET ROLE regress_pv_admin;
SELECT ecl.rollback_policy('pv_limit', 1) = :'h1'::bytea AS v1_hash;
SELECT version, registered_by = session_user AS by_session_user,
	   registered_by <> current_user AS not_current_user
  FROM ecl.policy_versions WHERE name = 'pv_limit' ORDER BY version DESC LIMIT 1;
-- but cannot write it
INSERT INTO ecl.policy_versions (name, version, kind, source, hash) VALUES ('x', 1, 'custom', '', '\x00');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM ecl.policy_versions;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_pv_admin, regress_pv_exec, regress_pv_nobody;

-- pg_dump keeps the history
SELECT 'ecl.policy_versions'::regclass = ANY (extconfig) AS dumped
  FROM pg_extension WHERE extname = 'ecl';

-- ------------------------------------------------------------------ clean
SELECT ecl.drop_policy('pv_limit'), ecl.drop_policy('pv_norealm');
DELETE FROM ecl.policy_versions WHERE name IN ('pv_limit', 'pv_norealm');
DELETE FROM ecl.realms WHERE realm_id = 'pv-realm';
