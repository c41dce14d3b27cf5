--
-- Who may register and run policies (docs/security.md), with real roles: ecl_admin
-- registers and drops, ecl_executor runs any policy for any caller,
-- everybody else only ecl.allowed (as their own DID).  Runs read and write
-- the tables as the owner of schema ecl, so callers need no table
-- privileges; an RLS policy built on ecl.allowed works for a role that
-- cannot read ecl.trust; the caller's search_path cannot redirect lookups.
--
\set VERBOSITY terse

CREATE ROLE regress_eclpriv_admin IN ROLE ecl_admin;
CREATE ROLE regress_eclpriv_exec IN ROLE ecl_executor;
CREATE ROLE regress_eclpriv_reader;
CREATE ROLE regress_eclpriv_guest;

INSERT INTO ecl.identities (did) VALUES ('did:regress:priv-reader'), ('did:regress:priv-guest');
INSERT INTO ecl.realms (realm_id) VALUES ('priv-realm');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:priv-reader', 'priv-realm', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
	('did:regress:priv-guest', 'priv-realm', 0.3, 0.3, 0.3, 0.3, 0.3, 0.3);
SELECT ecl.bind_role('regress_eclpriv_reader', 'did:regress:priv-reader');
SELECT ecl.bind_role('regress_eclpriv_guest', 'did:regress:priv-guest');

-- ---------------------------------------------- the caller's search_path
-- A schema with its own "trust" table and an "=" on text that is always
-- true, first on the search_path when the host prepares its plans: the
-- lookups still read ecl.trust with pg_catalog's operator.
CREATE SCHEMA regress_eclpriv_evil;
CREATE TABLE regress_eclpriv_evil.trust (did text, realm_id text, r float8, i float8,
	c float8, p float8, v float8, omega float8);
INSERT INTO regress_eclpriv_evil.trust VALUES ('did:regress:priv-guest', 'priv-realm', 1, 1, 1, 1, 1, 1);
CREATE FUNCTION regress_eclpriv_evil.always(text, text) RETURNS boolean
	LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR regress_eclpriv_evil.= (LEFTARG = text, RIGHTARG = text,
	FUNCTION = regress_eclpriv_evil.always);
SET search_path = regress_eclpriv_evil, pg_catalog;
SELECT ecl.register_policy('priv_trust', 'policy priv_trust { return trust.r }') IS NOT NULL AS registered;
SELECT value AS guest_r FROM ecl.run_policy('priv_trust', 'did:regress:priv-guest', 'priv-realm');
SELECT value AS unknown_r FROM ecl.run_policy('priv_trust', 'did:regress:priv-nobody', 'priv-realm');
RESET search_path;
DROP SCHEMA regress_eclpriv_evil CASCADE;

-- ------------------------------------------------------------------ admin
SET ROLE regress_eclpriv_admin;
SELECT ecl.register_policy('priv_doc', $ecl$
policy priv_doc {
    require trust.r >= 0.5, "not trusted"
    return owner == caller || public
}
$ecl$) IS NOT NULL AS admin_registers;
SELECT ecl.register_policy('priv_tmp', 'return true') IS NOT NULL AS admin_registers_tmp;
SELECT ecl.drop_policy('priv_tmp') AS admin_drops;
SELECT passed FROM ecl.run_policy('priv_doc', 'did:regress:priv-reader', 'priv-realm',
	'{"owner": "did:regress:priv-reader", "public": false}') AS admin_runs;
SELECT ecl.check('priv_doc', 'did:regress:priv-reader', 'priv-realm',
	'{"owner": "x", "public": true}') AS admin_checks;
-- admins still cannot write ecl.policies directly
UPDATE ecl.policies SET source = '' WHERE name = 'priv_doc';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- --------------------------------------------------------------- executor
SET ROLE regress_eclpriv_exec;
SELECT ecl.register_policy('priv_exec', 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_policy('priv_doc');
\echo :LAST_ERROR_SQLSTATE
SELECT passed, message FROM ecl.run_policy('priv_doc', 'did:regress:priv-guest', 'priv-realm',
	'{"owner": "did:regress:priv-guest", "public": false}');
SELECT passed FROM ecl.enforce('priv_doc', 'did:regress:priv-reader', 'priv-realm',
	'{"owner": "did:regress:priv-reader", "public": false}');
SELECT ecl.check('priv_doc', 'did:regress:priv-reader', 'priv-realm',
	'{"owner": "x", "public": false}') AS executor_checks;
-- the executor cannot read the tables the policy reads ...
SELECT count(*) FROM ecl.trust;
\echo :LAST_ERROR_SQLSTATE
-- ... nor write the store directly, but a policy it runs may
INSERT INTO ecl.store (realm_id, store_name, key, value) VALUES ('priv-realm', 's', 'direct', '1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT ecl.register_policy('priv_writer', 'policy priv_writer { store_put("s", "via_policy", caller); store_put("s", "mine", 1, true); emit "written"; return true }') IS NOT NULL AS registered;
SET ROLE regress_eclpriv_exec;
SELECT passed, events FROM ecl.run_policy('priv_writer', 'did:regress:priv-reader', 'priv-realm');
RESET ROLE;
SELECT owner_did, key, value FROM ecl.store WHERE realm_id = 'priv-realm' ORDER BY owner_did, key;

-- ------------------------------------------------------------ everybody else
SET ROLE regress_eclpriv_guest;
SELECT ecl.register_policy('priv_guest', 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_policy('priv_doc');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_policy('priv_doc', 'did:regress:priv-reader', 'priv-realm', '{"owner": "x", "public": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.enforce('priv_doc', 'did:regress:priv-reader', 'priv-realm', '{"owner": "x", "public": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('priv_doc', 'did:regress:priv-reader', 'priv-realm', '{"owner": "x", "public": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ecl.trust;
\echo :LAST_ERROR_SQLSTATE
-- allowed runs as the guest's own DID (trust 0.3: denied)
SELECT ecl.allowed('priv_doc', 'priv-realm', '{"owner": "x", "public": true}') AS guest_allowed;
RESET ROLE;

-- ---------------------------------------------------- row-level security
CREATE TABLE regress_eclpriv_docs (id int PRIMARY KEY, owner text, public boolean);
INSERT INTO regress_eclpriv_docs VALUES
	(1, 'did:regress:priv-reader', false),
	(2, 'did:regress:priv-guest', false),
	(3, 'did:regress:someone', true),
	(4, 'did:regress:someone', false);
ALTER TABLE regress_eclpriv_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_read ON regress_eclpriv_docs FOR SELECT
	USING (ecl.allowed('priv_doc', 'priv-realm', jsonb_build_object('owner', owner, 'public', public)));
GRANT SELECT ON regress_eclpriv_docs TO regress_eclpriv_reader, regress_eclpriv_guest;

SET ROLE regress_eclpriv_reader;
SELECT id FROM regress_eclpriv_docs ORDER BY id;
RESET ROLE;
SET ROLE regress_eclpriv_guest;
SELECT id FROM regress_eclpriv_docs ORDER BY id;
RESET ROLE;
-- trust changes are seen from the next statement
UPDATE ecl.trust SET r = 0.6 WHERE did = 'did:regress:priv-guest';
SET ROLE regress_eclpriv_guest;
SELECT id FROM regress_eclpriv_docs ORDER BY id;
RESET ROLE;
-- a re-registered policy changes what RLS lets through, from the next statement
SELECT ecl.register_policy('priv_doc', 'policy priv_doc { return public }') IS NOT NULL AS reregistered;
SET ROLE regress_eclpriv_reader;
SELECT id FROM regress_eclpriv_docs ORDER BY id;
RESET ROLE;

-- ------------------------------------------------------------------ clean up
DROP TABLE regress_eclpriv_docs;
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['priv_trust', 'priv_doc', 'priv_writer']) AS p;
DELETE FROM ecl.events WHERE policy = 'priv_writer';
DELETE FROM ecl.store WHERE realm_id = 'priv-realm';
SELECT ecl.unbind_role('regress_eclpriv_reader'), ecl.unbind_role('regress_eclpriv_guest');
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:priv-%';
DELETE FROM ecl.realms WHERE realm_id = 'priv-realm';
DROP ROLE regress_eclpriv_admin, regress_eclpriv_exec, regress_eclpriv_reader, regress_eclpriv_guest;
