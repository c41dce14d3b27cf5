--
-- Roles and privileges (docs/security.md) with real roles: what ecl_admin,
-- ecl_executor and everybody else may do with identities, credentials and
-- the tables, and the role -> DID binding behind ecl.current_did().
--
\set VERBOSITY terse

SELECT rolname, rolcanlogin FROM pg_catalog.pg_roles
 WHERE rolname IN ('ecl_admin', 'ecl_executor') ORDER BY rolname;

CREATE ROLE regress_ecl_admin LOGIN IN ROLE ecl_admin;
CREATE ROLE regress_ecl_exec LOGIN IN ROLE ecl_executor;
CREATE ROLE regress_ecl_user LOGIN;

-- ---------------------------------------------------------------- admin
SET ROLE regress_ecl_admin;
SELECT did AS admin_made, secret_key AS admin_made_sk FROM ecl.generate_identity() \gset
SELECT did AS user_did FROM ecl.generate_identity() \gset
INSERT INTO ecl.trust (did, r, i, c, p, v, omega) VALUES (:'user_did', 0.9, 0.8, 0.7, 0.6, 0.5, 0.4);
UPDATE ecl.trust SET r = 0.95 WHERE did = :'user_did';
INSERT INTO ecl.balances (did, amount) VALUES (:'user_did', 10);
INSERT INTO ecl.realms (realm_id, name) VALUES ('regress-priv-realm', 'Privileges');
SELECT ecl.issue_credential(:'user_did', 'member', :'admin_made', :'admin_made_sk') AS cred \gset
SELECT ecl.verify_credential(:cred) AS admin_verifies,
	   ecl.has_credential(:'user_did', 'member') AS admin_has_credential;
INSERT INTO ecl.credentials (subject_did, schema) VALUES (:'user_did', 'manual');
SELECT ecl.bind_role('regress_ecl_user', :'user_did');
-- admins read policies, handlers, events and the store ...
SELECT count(*) >= 0 AS reads_policies FROM ecl.policies;
SELECT count(*) >= 0 AS reads_handlers FROM ecl.handlers;
SELECT count(*) >= 0 AS reads_events FROM ecl.events;
SELECT count(*) >= 0 AS reads_store FROM ecl.store;
-- ... but write them only through functions, and never the store or events
INSERT INTO ecl.store (realm_id, store_name, key, value) VALUES ('r', 's', 'k', '1');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ecl.events (event) VALUES ('forged');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM ecl.events;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ecl.policies (name, source, bytecode, hash) VALUES ('p', '', '\x00', '\x00');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ecl.handlers (engine, key, policy_name) VALUES ('api', 'k', 'p');
\echo :LAST_ERROR_SQLSTATE
-- an admin has no DID unless bound
SELECT ecl.current_did() IS NULL AS admin_unbound;
RESET ROLE;

-- ---------------------------------------------------------------- executor
SET ROLE regress_ecl_exec;
SELECT ecl.verify_credential(:cred) AS executor_verifies,
	   ecl.has_credential(:'user_did', 'member') AS executor_has_credential;
SELECT * FROM ecl.identities;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.credentials;
\echo :LAST_ERROR_SQLSTATE
UPDATE ecl.trust SET r = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.generate_identity();
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(:'user_did', 'member', :'admin_made', :'admin_made_sk');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.bind_role('regress_ecl_exec', :'user_did');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ecl.store (realm_id, store_name, key, value) VALUES ('r', 's', 'k', '1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ---------------------------------------------------------------- anybody
SET ROLE regress_ecl_user;
-- the caller's own DID, and the pure did:key helpers
SELECT ecl.current_did() = :'user_did' AS user_sees_own_did;
SELECT ecl.did_key_public_key(ecl.current_did()) IS NOT NULL AS user_decodes_did;
-- nothing else
SELECT ecl.verify_credential(:cred);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.has_credential(:'user_did', 'member');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.generate_identity();
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.issue_credential(:'user_did', 'member', :'admin_made', :'admin_made_sk');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.bind_role('regress_ecl_user', :'admin_made');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.unbind_role('regress_ecl_user');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.role_dids;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.trust;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ecl.identities (did) VALUES ('did:web:self-registered.example');
\echo :LAST_ERROR_SQLSTATE
UPDATE ecl.credentials SET revoked_at = NULL;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.store;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- current_did follows SET ROLE, also inside a SECURITY DEFINER caller's view
-- of the world: it reports the role that calls it
SET ROLE regress_ecl_exec;
SELECT ecl.current_did() IS NULL AS executor_unbound;
RESET ROLE;
SET SESSION AUTHORIZATION regress_ecl_user;
SELECT ecl.current_did() = :'user_did' AS user_sees_own_did_as_session_user;
RESET SESSION AUTHORIZATION;

-- bind_role checks and rebinding
SET ROLE regress_ecl_admin;
SELECT ecl.bind_role('regress_no_such_role', :'user_did');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.bind_role('regress_ecl_user', 'did:web:no-such-identity.example');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.bind_role('regress_ecl_user', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.bind_role('regress_ecl_user', :'admin_made');
RESET ROLE;
SET ROLE regress_ecl_user;
SELECT ecl.current_did() = :'admin_made' AS user_rebound;
RESET ROLE;
SET ROLE regress_ecl_admin;
SELECT ecl.unbind_role('regress_ecl_user') AS unbound,
	   ecl.unbind_role('regress_ecl_user') AS unbound_twice;
RESET ROLE;
SET ROLE regress_ecl_user;
SELECT ecl.current_did() IS NULL AS user_unbound;
RESET ROLE;

-- a hostile search_path cannot redirect ecl.current_did's lookup (with an
-- "=" that is always true, an unqualified lookup would find another binding)
SELECT ecl.bind_role('regress_ecl_exec', :'admin_made');
CREATE SCHEMA regress_evil;
CREATE FUNCTION regress_evil.texteqname(name, name) RETURNS boolean
	LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = name, RIGHTARG = name,
								FUNCTION = regress_evil.texteqname);
GRANT USAGE ON SCHEMA regress_evil TO PUBLIC;
SET ROLE regress_ecl_user;
SET search_path = regress_evil, pg_catalog;
SELECT ecl.current_did() IS NULL AS still_unbound_with_hostile_path;
RESET search_path;
RESET ROLE;
DROP SCHEMA regress_evil CASCADE;

-- every SECURITY DEFINER function of the extension pins its search_path
SELECT p.proname
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'ecl'::regnamespace
   AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c(setting)
					WHERE c.setting LIKE 'search_path=%');

-- table privileges in one view: nobody may write the store or events
SELECT r.rolname, t.tab,
	   has_table_privilege(r.rolname, t.tab, 'SELECT') AS sel,
	   has_table_privilege(r.rolname, t.tab, 'INSERT') AS ins,
	   has_table_privilege(r.rolname, t.tab, 'UPDATE') AS upd,
	   has_table_privilege(r.rolname, t.tab, 'DELETE') AS del
  FROM (VALUES ('ecl_admin'), ('ecl_executor'), ('regress_ecl_user')) AS r(rolname),
	   (VALUES ('ecl.identities'), ('ecl.credentials'), ('ecl.role_dids'),
			   ('ecl.policies'), ('ecl.store'), ('ecl.events')) AS t(tab)
 ORDER BY 1, 2;

-- clean up
DELETE FROM ecl.realms WHERE realm_id = 'regress-priv-realm';
DELETE FROM ecl.identities WHERE did IN (:'admin_made', :'user_did');
DROP ROLE regress_ecl_admin;
DROP ROLE regress_ecl_exec;
DROP ROLE regress_ecl_user;
