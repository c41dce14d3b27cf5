--
-- Who may call the crossing gateway (docs/security.md): ecl_executor and ecl_admin,
-- with any DID; nobody else.  The gateway reads the realm, identity, trust
-- and credential tables and writes ecl.realm_members as the owner of schema
-- ecl, so its callers need no table privileges, and a hostile search_path
-- cannot redirect its lookups.
--
\set VERBOSITY terse

CREATE ROLE regress_gw_exec LOGIN IN ROLE ecl_executor;
CREATE ROLE regress_gw_admin LOGIN IN ROLE ecl_admin;
CREATE ROLE regress_gw_plain LOGIN;

INSERT INTO ecl.identities (did) VALUES ('did:regress:gp-member');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
	VALUES ('did:regress:gp-member', '', 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
INSERT INTO ecl.realms (realm_id, min_trust) VALUES ('gp-realm', 0.4);

-- EXECUTE grants, as the catalog has them
SELECT r.rolname, f.fn, has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS may_execute
  FROM (VALUES ('ecl_admin'), ('ecl_executor'), ('regress_gw_plain')) AS r(rolname),
	   (VALUES ('ecl.validate_crossing(text, text, text)'),
			   ('ecl.allow_crossing(text, text, text)'),
			   ('ecl.join_realm(text, text, text)')) AS f(fn)
 ORDER BY 1, 2;

-- none of them is SECURITY DEFINER (the library switches to the owner for
-- its lookups itself) and none is STRICT (NULL raises 22004)
SELECT p.proname, p.prosecdef, p.proisstrict
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'ecl'::regnamespace
   AND p.proname IN ('validate_crossing', 'allow_crossing', 'join_realm')
 ORDER BY 1;

-- a role without the grants: 42501 for all three
SET ROLE regress_gw_plain;
SELECT allowed FROM ecl.validate_crossing('did:regress:gp-member', 'gp-home', 'gp-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.allow_crossing('did:regress:gp-member', 'gp-home', 'gp-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.join_realm('did:regress:gp-member', 'gp-home', 'gp-realm');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- an executor: decides for any DID and records memberships without any
-- privilege on the tables themselves
SET ROLE regress_gw_exec;
SELECT allowed, violations, original_trust
  FROM ecl.validate_crossing('did:regress:gp-member', 'gp-home', 'gp-realm');
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gp-stranger', 'gp-home', 'gp-realm');
SELECT ecl.allow_crossing('did:regress:gp-member', 'gp-home', 'gp-realm') IS NOT NULL AS allowed;
SELECT ecl.join_realm('did:regress:gp-member', 'gp-home', 'gp-realm') IS NOT NULL AS joined;
SELECT count(*) FROM ecl.realm_members;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ecl.realm_members (did, realm_id) VALUES ('did:regress:gp-member', 'gp-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ecl.realms;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT did, realm_id, from_realm FROM ecl.realm_members WHERE realm_id = 'gp-realm';

-- an admin may call them too
SET ROLE regress_gw_admin;
SELECT allowed FROM ecl.validate_crossing('did:regress:gp-member', 'gp-home', 'gp-realm');
RESET ROLE;

-- a hostile search_path (an "=" on text that is always true) changes
-- nothing: every lookup is schema-qualified with OPERATOR(pg_catalog.=)
CREATE SCHEMA regress_gw_evil;
CREATE FUNCTION regress_gw_evil.always(text, text) RETURNS boolean
	LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_gw_evil.= (LEFTARG = text, RIGHTARG = text,
								   FUNCTION = regress_gw_evil.always);
GRANT USAGE ON SCHEMA regress_gw_evil TO PUBLIC;
SET ROLE regress_gw_exec;
SET search_path = regress_gw_evil, pg_catalog;
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gp-stranger', 'gp-home', 'gp-realm');
SELECT allowed FROM ecl.validate_crossing('did:regress:gp-member', 'gp-home', 'gp-nowhere');
\echo :LAST_ERROR_SQLSTATE
RESET search_path;
RESET ROLE;
DROP SCHEMA regress_gw_evil CASCADE;

-- clean up
DELETE FROM ecl.realm_members WHERE realm_id = 'gp-realm';
DELETE FROM ecl.realms WHERE realm_id = 'gp-realm';
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:gp-%';
DROP ROLE regress_gw_exec;
DROP ROLE regress_gw_admin;
DROP ROLE regress_gw_plain;
